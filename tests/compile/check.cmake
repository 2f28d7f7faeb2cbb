# Compiles one source file with -fsyntax-only, as a user's build would (-Wall -Wextra -Wpedantic
# -Werror, C++20, keel's include directory).
#   EXPECT unset: it must compile cleanly (a public header standing alone).
#   EXPECT set:   it must fail, and the compiler's output must contain EXPECT (the static_assert
#                 a user meets, saying what they did wrong).
execute_process(
    COMMAND ${COMPILER} -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror -I${INCLUDE_DIR} ${SOURCE}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT DEFINED EXPECT OR EXPECT STREQUAL "")
    if(rc)
        message(FATAL_ERROR "${SOURCE} does not compile on its own:\n${err}")
    endif()
    return()
endif()
if(NOT rc)
    message(FATAL_ERROR "${SOURCE} compiled, but it must fail with: ${EXPECT}")
endif()
string(FIND "${err}" "${EXPECT}" at)
if(at EQUAL -1)
    message(FATAL_ERROR "${SOURCE} failed, but without the message '${EXPECT}':\n${err}")
endif()
