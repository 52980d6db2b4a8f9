# scripts/gpu-check counts check-kernel's device rows by the notes device_twin_note() writes
# (proofs_checks/kernel_check.hpp). Both strings must appear, verbatim, in gpu-check's greps, or
# a GPU run would count every case as "not equal" (or none as differing).
#   -DHEADER=proofs_checks/kernel_check.hpp -DSCRIPT=scripts/gpu-check
file(READ "${HEADER}" header)
file(READ "${SCRIPT}" script)
if(NOT header MATCHES "return equal \\? \"; ([^\"]+)\" : \"; ([^\":]+):")
  message(FATAL_ERROR "${HEADER}: device_twin_note's two notes not found")
endif()
set(equal_note "${CMAKE_MATCH_1}")
set(differs_note "${CMAKE_MATCH_2}")
foreach(note IN ITEMS "${equal_note}" "${differs_note}")
  string(FIND "${script}" "grep -c '${note}'" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${SCRIPT} does not count rows by \"${note}\" (device_twin_note's note)")
  endif()
endforeach()
message(STATUS "gpu-check counts \"${equal_note}\" and \"${differs_note}\"")
