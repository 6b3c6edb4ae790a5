# cmake -DPROGRAM=<program> -DEXPECTED=<file> -P compare_output.cmake: runs the program and fails
# unless it exits with 0 and prints exactly the file's contents on stdout.
execute_process(COMMAND ${PROGRAM} OUTPUT_VARIABLE output RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${status}; it printed:\n${output}")
endif()
file(READ ${EXPECTED} expected)
if(NOT output STREQUAL expected)
  message(FATAL_ERROR "${PROGRAM} printed:\n${output}\nwhere ${EXPECTED} expects:\n${expected}")
endif()
