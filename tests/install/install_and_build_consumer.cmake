# cmake -P script run by the install_consumer test (see CMakeLists.txt for the -D inputs).
# Each step runs in a fresh process and stops the test with the step's own output on failure.
foreach(var IN ITEMS ATTNCERT_BUILD_DIR ATTNCERT_CONFIG PREFIX CONSUMER_SOURCE_DIR
                     CONSUMER_BINARY_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_and_build_consumer.cmake: -D${var}=… is required")
  endif()
endforeach()

function(step what)
  message(STATUS "install_consumer: ${what}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "install_consumer: ${what} failed (${status})")
  endif()
endfunction()

# Start clean so that nothing from an earlier install or consumer build can hide a problem.
file(REMOVE_RECURSE "${PREFIX}" "${CONSUMER_BINARY_DIR}")

step("cmake --install into ${PREFIX}"
  ${CMAKE_COMMAND} --install "${ATTNCERT_BUILD_DIR}" --prefix "${PREFIX}" --config "${ATTNCERT_CONFIG}")
# Only the installed package may be visible: the consumer gets PREFIX and nothing of the
# build tree (CMAKE_FIND_USE_PACKAGE_REGISTRY=OFF keeps ~/.cmake/packages out of it).
step("configuring the consumer"
  ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${CONSUMER_BINARY_DIR}" -G "${GENERATOR}"
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=${ATTNCERT_CONFIG}
    -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    -DEXPECTED_ATTNCERT_DIR=${PREFIX})
step("building the consumer"
  ${CMAKE_COMMAND} --build "${CONSUMER_BINARY_DIR}" --config "${ATTNCERT_CONFIG}")
find_program(consumer attncert_consumer PATHS "${CONSUMER_BINARY_DIR}"
  PATH_SUFFIXES ${ATTNCERT_CONFIG} NO_DEFAULT_PATH REQUIRED)
step("running the consumer" "${consumer}")

# The Python module (when it was built): the installed package imports from PREFIX alone and
# computes (PYTHON and PYTHON_INSTALL_DIR are empty when ATTNCERT_PYTHON is off). No ';' in the
# code: step() passes its arguments on as a CMake list.
if(PYTHON AND PYTHON_INSTALL_DIR)
  if(IS_ABSOLUTE "${PYTHON_INSTALL_DIR}")
    set(site "${PYTHON_INSTALL_DIR}")
  else()
    set(site "${PREFIX}/${PYTHON_INSTALL_DIR}")
  endif()
  step("importing the installed Python module from ${site}"
    ${CMAKE_COMMAND} -E env "PYTHONPATH=${site}" PYTHONDONTWRITEBYTECODE=1 "${PYTHON}" -c
      "import attncert, sys\np = attncert.__file__\nassert p.startswith(sys.argv[1]), p\nassert attncert.softmax([0.0, 0.0]).contains([0.5, 0.5])\nprint('installed attncert', p)"
      "${site}")
endif()
