# FindBLIS: BLIS::BLIS, the single-threaded ("serial") BLIS build (Debian package
# libblis-serial-dev). Found by its own directory, not through the libblas.so.3 alternative, so
# the system's BLAS choice cannot swap another library in. Why BLIS: docs/design-decisions.md.
set(ATTNCERT_BLIS_DEBIAN_PACKAGE libblis-serial-dev)
find_path(BLIS_INCLUDE_DIR blis.h
          PATHS /usr/include/${CMAKE_LIBRARY_ARCHITECTURE}/blis-serial NO_DEFAULT_PATH)
find_path(BLIS_INCLUDE_DIR blis.h PATH_SUFFIXES blis)
find_library(BLIS_LIBRARY blis PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/blis-serial
             NO_DEFAULT_PATH)
find_library(BLIS_LIBRARY blis)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(BLIS REQUIRED_VARS BLIS_LIBRARY BLIS_INCLUDE_DIR)
if(BLIS_FOUND AND NOT TARGET BLIS::BLIS)
  add_library(BLIS::BLIS UNKNOWN IMPORTED)
  set_target_properties(BLIS::BLIS PROPERTIES IMPORTED_LOCATION "${BLIS_LIBRARY}"
                                              INTERFACE_INCLUDE_DIRECTORIES "${BLIS_INCLUDE_DIR}")
endif()
mark_as_advanced(BLIS_INCLUDE_DIR BLIS_LIBRARY)
