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

# MPI (optional): `mpirun -np N attncert …` spreads units over ranks (cli/mpi_world.cpp). Only
# the executable links it, so the installed libraries do not depend on it.
set(ATTNCERT_MPI "AUTO" CACHE STRING "MPI ranks: AUTO (when Open MPI / MPICH is found), ON, OFF")
set_property(CACHE ATTNCERT_MPI PROPERTY STRINGS AUTO ON OFF)
set(ATTNCERT_MPI_FOUND FALSE)
set(MPI_CXX_SKIP_MPICXX ON)  # the C API only; the deprecated C++ bindings are not used
if(ATTNCERT_MPI STREQUAL "ON")
  find_package(MPI COMPONENTS CXX REQUIRED)
  set(ATTNCERT_MPI_FOUND TRUE)
elseif(ATTNCERT_MPI STREQUAL "AUTO")
  find_package(MPI COMPONENTS CXX QUIET)
  set(ATTNCERT_MPI_FOUND ${MPI_CXX_FOUND})
endif()
if(ATTNCERT_MPI_FOUND)
  find_program(ATTNCERT_MPIEXEC NAMES mpirun mpiexec HINTS ${MPIEXEC_EXECUTABLE})
  message(STATUS "  MPI             : ON (MPI ${MPI_CXX_VERSION}; ${ATTNCERT_MPIEXEC})")
else()
  message(STATUS "  MPI             : OFF (ATTNCERT_MPI=${ATTNCERT_MPI}; Debian libopenmpi-dev openmpi-bin)")
endif()
