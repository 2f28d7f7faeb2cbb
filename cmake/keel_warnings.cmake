# Warnings for keel's own targets only: users compiling keel as a subproject never inherit them.
function(keel_set_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                             -Wold-style-cast -Wcast-align -Woverloaded-virtual
                                             -Wimplicit-fallthrough)
    # The sanitizer and fuzz presets build in unity mode (a dozen sources per compilation, for CI's
    # time): there GCC takes each test's fixture, in its file's anonymous namespace, for one from a
    # header. The normal builds keep the check.
    if(CMAKE_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
    endif()
    if(KEEL_WARNINGS_AS_ERRORS)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()
