# run(EXPECTED_CODE ARG…): runs ${EXE} ARG… and fails the test unless it exits EXPECTED_CODE;
# its stdout is left in `last_out`. Shared by the cmake scripts of the CLI tests.
function(run expected)
  execute_process(COMMAND "${EXE}" ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code STREQUAL "${expected}")
    string(REPLACE ";" " " shown "${ARGN}")
    message(FATAL_ERROR "attncert ${shown}: exit ${code}, expected ${expected}\n${out}\n${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
endfunction()
