# FindArb: Arb::Arb, the ball-arithmetic library. Debian ships it separately from FLINT 2.x as
# libflint-arb (headers arb.h…, library libflint-arb.so) in libflint-arb-dev, on top of
# libflint-dev. FLINT >= 3 merged Arb into libflint itself; both layouts are accepted.
set(ATTNCERT_Arb_DEBIAN_PACKAGE "libflint-arb-dev libflint-dev")
find_path(Arb_INCLUDE_DIR arb.h PATH_SUFFIXES flint)
find_path(FLINT_INCLUDE_DIR flint/flint.h)
find_library(FLINT_LIBRARY flint)
find_library(Arb_LIBRARY NAMES flint-arb arb)
if(NOT Arb_LIBRARY AND FLINT_LIBRARY AND Arb_INCLUDE_DIR MATCHES "flint$")
  set(Arb_LIBRARY "${FLINT_LIBRARY}")  # FLINT 3 layout
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Arb REQUIRED_VARS Arb_LIBRARY Arb_INCLUDE_DIR FLINT_LIBRARY FLINT_INCLUDE_DIR)
if(Arb_FOUND AND NOT TARGET Arb::Arb)
  add_library(Arb::Arb INTERFACE IMPORTED)
  set(_arb_libs "${Arb_LIBRARY}")
  if(NOT Arb_LIBRARY STREQUAL FLINT_LIBRARY)
    list(APPEND _arb_libs "${FLINT_LIBRARY}")
  endif()
  set_target_properties(Arb::Arb PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${Arb_INCLUDE_DIR};${FLINT_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${_arb_libs};MPFR::MPFR;GMP::GMP")
endif()
mark_as_advanced(Arb_INCLUDE_DIR Arb_LIBRARY FLINT_INCLUDE_DIR FLINT_LIBRARY)
