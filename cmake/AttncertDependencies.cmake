# Locates every dependency from its Debian package and names the package when one is missing.
include(FindPackageHandleStandardArgs)

macro(attncert_require_config name debian_pkg)
  find_package(${name} ${ARGN} CONFIG QUIET)
  if(NOT ${name}_FOUND)
    message(FATAL_ERROR "attncert: ${name} not found; install the Debian package '${debian_pkg}' "
                        "(apt-get install ${debian_pkg}, or run scripts/test which does it for you)")
  endif()
endmacro()

attncert_require_config(Eigen3 libeigen3-dev 3.4)
attncert_require_config(Boost libboost-dev 1.74)
attncert_require_config(fmt libfmt-dev)
attncert_require_config(nlohmann_json nlohmann-json3-dev)
attncert_require_config(CLI11 libcli11-dev)
attncert_require_config(spectra libspectra-dev)

# GMP, MPFR, MPFI, Arb and BLIS ship no CMake config in Debian: small Find modules (cmake/Find*.cmake).
foreach(dep IN ITEMS GMP MPFR MPFI Arb BLIS)
  find_package(${dep} QUIET)
  if(NOT ${dep}_FOUND)
    message(FATAL_ERROR "attncert: ${dep} not found; install the Debian package "
                        "'${ATTNCERT_${dep}_DEBIAN_PACKAGE}'")
  endif()
endforeach()

if(ATTNCERT_BUILD_TESTS)
  attncert_require_config(GTest libgtest-dev)
  attncert_require_config(rapidcheck librapidcheck-dev)
endif()
if(ATTNCERT_BUILD_BENCH)
  attncert_require_config(benchmark libbenchmark-dev)
endif()
