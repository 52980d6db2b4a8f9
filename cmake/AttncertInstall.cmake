# install() + an exported package so another project can find_package(attncert).
include(CMakePackageConfigHelpers)
install(TARGETS attncert_numerics attncert_models attncert_theory attncert_gpu attncert_proofs_checks attncert_reports
  EXPORT attncertTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Public headers keep their layer directory: #include "numerics/ball.hpp" works installed too.
# Only host headers (.hpp); a layer without any yet gets no empty directory.
foreach(layer IN ITEMS numerics models theory gpu proofs_checks reports)
  file(GLOB_RECURSE _attncert_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${layer}/*.hpp)
  if(_attncert_headers)
    install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/attncert/${layer}
            FILES_MATCHING PATTERN "*.hpp"
            PATTERN "tokenizer_json.hpp" EXCLUDE)  # internal: includes nlohmann
  endif()
endforeach()
install(EXPORT attncertTargets NAMESPACE attncert:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/attncert)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/attncertConfig.cmake.in
  ${PROJECT_BINARY_DIR}/attncertConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/attncert)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/attncertConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/attncertConfig.cmake ${PROJECT_BINARY_DIR}/attncertConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FindGMP.cmake ${PROJECT_SOURCE_DIR}/cmake/FindMPFR.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FindMPFI.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FindArb.cmake ${PROJECT_SOURCE_DIR}/cmake/FindBLIS.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/attncert)
