# Warnings for keel's own targets only: users compiling keel as a subproject never inherit them.
function(keel_set_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                             -Wold-style-cast -Wcast-align -Woverloaded-virtual
                                             -Wimplicit-fallthrough)
    # A target built in unity mode (a dozen sources per compilation, for CI's time) has GCC take
    # each test's fixture, in its file's anonymous namespace, for one from a header. Targets built
    # one source at a time keep the check.
    target_compile_options(${target} PRIVATE
        $<$<AND:$<CXX_COMPILER_ID:GNU>,$<BOOL:$<TARGET_PROPERTY:UNITY_BUILD>>>:-Wno-subobject-linkage>)
    if(KEEL_WARNINGS_AS_ERRORS)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()
