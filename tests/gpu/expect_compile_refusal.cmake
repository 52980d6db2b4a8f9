# Compiles SOURCE (-fsyntax-only) without extra flags, which must succeed, then with each of
# REFUSED_FLAGS (";"-separated sets, "|" between flags of one set), which must fail with a
# message matching EXPECT. The first compile shows the refusal comes from the flags.
function(compile flags out_rc out_text)
  execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only ${flags} -I${SOURCE_DIR} ${SOURCE}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(${out_rc} ${rc} PARENT_SCOPE)
  set(${out_text} "${out}${err}" PARENT_SCOPE)
endfunction()

compile("" rc text)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${SOURCE} does not compile even without the refused flags:\n${text}")
endif()
foreach(set IN LISTS REFUSED_FLAGS)
  string(REPLACE "|" ";" flags "${set}")
  compile("${flags}" rc text)
  if(rc EQUAL 0)
    message(FATAL_ERROR "${flags}: the compile succeeded; it must be refused")
  endif()
  if(NOT text MATCHES "${EXPECT}")
    message(FATAL_ERROR "${flags}: the compile failed, but not with the expected line (${EXPECT}):\n${text}")
  endif()
  message("${flags}: refused as expected")
endforeach()
