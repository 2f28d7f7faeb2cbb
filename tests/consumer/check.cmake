# Builds and runs tests/consumer against keel: MODE=installed installs this build into a fresh
# prefix first; MODE=subdirectory uses the source tree directly.
set(work ${KEEL_BINARY_DIR}/consumer-${MODE})
file(REMOVE_RECURSE ${work})
set(configure_args -S ${KEEL_SOURCE_DIR}/tests/consumer -B ${work}/build -G Ninja -DKEEL_CONSUMER_MODE=${MODE})
if(MODE STREQUAL "installed")
    # Optimised: GCC warns of some things (-Wmaybe-uninitialized) only then.
    list(APPEND configure_args -DCMAKE_BUILD_TYPE=Release)
    execute_process(COMMAND ${CMAKE_COMMAND} --install ${KEEL_BINARY_DIR} --prefix ${work}/prefix
                    RESULT_VARIABLE rc)
    if(rc)
        message(FATAL_ERROR "cmake --install failed")
    endif()
    list(APPEND configure_args -DCMAKE_PREFIX_PATH=${work}/prefix)
else()
    # keel's sources are compiled with the calling build's type and flags (optimised in the ci
    # preset), so that their compiler commands are the same and ccache answers them.
    string(TOUPPER "${BUILD_TYPE}" build_type_upper)
    list(APPEND configure_args -DKEEL_SOURCE_DIR=${KEEL_SOURCE_DIR} -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
         "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_CXX_FLAGS_${build_type_upper}=${CONFIG_CXX_FLAGS}"
         -DKEEL_WARNINGS_AS_ERRORS=${WARNINGS_AS_ERRORS})
    # The build directory differs; with debug information ccache would otherwise hash it.
    set(ENV{CCACHE_NOHASHDIR} 1)
endif()
find_program(ccache ccache)
if(ccache)
    list(APPEND configure_args -DCMAKE_CXX_COMPILER_LAUNCHER=${ccache})
endif()
foreach(step IN ITEMS configure build run)
    if(step STREQUAL "configure")
        execute_process(COMMAND ${CMAKE_COMMAND} ${configure_args} RESULT_VARIABLE rc)
    elseif(step STREQUAL "build")
        execute_process(COMMAND ${CMAKE_COMMAND} --build ${work}/build RESULT_VARIABLE rc)
    else()
        execute_process(COMMAND ${work}/build/consumer RESULT_VARIABLE rc)
    endif()
    if(rc)
        message(FATAL_ERROR "consumer (${MODE}): ${step} failed")
    endif()
endforeach()
