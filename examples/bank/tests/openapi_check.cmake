# The bank's OpenAPI document, as `keel_bank --openapi` prints it, must equal the reviewed copy
# in examples/bank/openapi.json: a change of the API's documented shape is a change of that file.
#   cmake -DBANK=<keel_bank> -DGOLDEN=<openapi.json> -DOUT=<file> -P openapi_check.cmake
execute_process(COMMAND ${BANK} --openapi OUTPUT_FILE ${OUT} RESULT_VARIABLE status)
if(NOT status EQUAL 0)
    message(FATAL_ERROR "keel_bank --openapi failed (${status})")
endif()
file(READ ${OUT} printed)
file(READ ${GOLDEN} golden)
if(NOT printed STREQUAL golden)
    message(FATAL_ERROR "keel_bank --openapi differs from ${GOLDEN}: compare the two with\n"
                        "  diff ${GOLDEN} ${OUT}\n"
                        "and when the change is meant, copy ${OUT} over ${GOLDEN}.")
endif()
