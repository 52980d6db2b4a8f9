# The Python interpreter for the module (python/), its tests and the CLI tests that write their
# inputs with numpy. The module hands its results to Python as numpy arrays, so an interpreter
# without numpy would get a module it cannot use and tests that cannot run. The first python3 on
# PATH is often a pyenv or venv interpreter without numpy (CI's is); then Debian's
# /usr/bin/python3, for which scripts/test installs python3-dev and python3-numpy, is taken.
# -DPython3_EXECUTABLE=... overrides the choice.
if(NOT DEFINED Python3_EXECUTABLE)
  find_program(_attncert_path_python3 NAMES python3 NO_CACHE)
  set(_attncert_python_candidates ${_attncert_path_python3} /usr/bin/python3)
  list(REMOVE_DUPLICATES _attncert_python_candidates)
  foreach(candidate IN LISTS _attncert_python_candidates)
    if(NOT EXISTS "${candidate}")
      continue()
    endif()
    execute_process(COMMAND "${candidate}" -c "import numpy"
                    RESULT_VARIABLE _attncert_numpy_rc OUTPUT_QUIET ERROR_QUIET)
    if(_attncert_numpy_rc EQUAL 0)
      set(Python3_EXECUTABLE "${candidate}" CACHE FILEPATH "Python interpreter (the first that imports numpy)")
      break()
    endif()
    message(STATUS "Python: ${candidate} cannot import numpy, not used")
  endforeach()
  if(NOT DEFINED Python3_EXECUTABLE)
    message(STATUS "Python: no python3 imports numpy (Debian package python3-numpy); "
                   "the Python module's tests and cli_attention will fail")
  endif()
endif()
