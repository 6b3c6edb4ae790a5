# cmake --install: the headers, the libraries, the CMake package (concert::concert; when GoogleTest
# was found, concert::gtest_main; when built, the Tango bridge concert::tango) and pkg-config files.
# Components: Runtime (the shared library) and Development (everything else).
include(CMakePackageConfigHelpers)

set(CONCERT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/concert)

install(DIRECTORY include/concert ${CONCERT_GENERATED_INCLUDE_DIR}/concert
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT Development)

# Debian wants the licence as copyright in the package's documentation folder.
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright COMPONENT Development)

# concert_install_library(target export-set): a library (static or shared) and its export set.
function(concert_install_library target export_set)
  install(
    TARGETS ${target}
    EXPORT ${export_set}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT Runtime
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Runtime NAMELINK_COMPONENT Development
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Development)
  install(EXPORT ${export_set} NAMESPACE concert:: DESTINATION ${CONCERT_CMAKE_DIR}
          COMPONENT Development)
endfunction()

concert_install_library(concert concertTargets)

# gtest_main is a separate export set: concertConfig.cmake loads it only where GoogleTest is found,
# so a consumer without GoogleTest still gets concert::concert.
if(TARGET concert_gtest_main)
  concert_install_library(concert_gtest_main concertGTestTargets)
endif()

# The Tango bridge, when built, is a third export set: concertConfig.cmake loads it where Tango is
# found through pkg-config, as component `tango`.
if(TARGET concert_tango)
  concert_install_library(concert_tango concertTangoTargets)
endif()

configure_package_config_file(cmake/concertConfig.cmake.in ${PROJECT_BINARY_DIR}/concertConfig.cmake
                              INSTALL_DESTINATION ${CONCERT_CMAKE_DIR})
# While the major version is 0 a minor version may break the API, so 0.2 does not satisfy 0.1.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(concert_compatibility SameMinorVersion)
else()
  set(concert_compatibility SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/concertConfigVersion.cmake
                                 COMPATIBILITY ${concert_compatibility})
install(FILES ${PROJECT_BINARY_DIR}/concertConfig.cmake
              ${PROJECT_BINARY_DIR}/concertConfigVersion.cmake
        DESTINATION ${CONCERT_CMAKE_DIR} COMPONENT Development)

# pkg-config files relative to their own folder (${pcfiledir}), so that an install with
# `cmake --install --prefix` elsewhere, or a relocated package, still points at itself.
set(CONCERT_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH CONCERT_PC_PREFIX ${CMAKE_INSTALL_PREFIX}/${CONCERT_PKGCONFIG_DIR}
     ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" CONCERT_PC_PREFIX "${CONCERT_PC_PREFIX}")
if(CONCERT_DISABLE_ASYNC)
  set(CONCERT_PC_CFLAGS " -DCONCERT_DISABLE_ASYNC")
endif()
configure_file(cmake/concert.pc.in ${PROJECT_BINARY_DIR}/concert.pc @ONLY)
set(concert_pc_files ${PROJECT_BINARY_DIR}/concert.pc)
if(TARGET concert_gtest_main)
  configure_file(cmake/concert-gtest-main.pc.in ${PROJECT_BINARY_DIR}/concert-gtest-main.pc @ONLY)
  list(APPEND concert_pc_files ${PROJECT_BINARY_DIR}/concert-gtest-main.pc)
endif()
if(TARGET concert_tango)
  configure_file(cmake/concert-tango.pc.in ${PROJECT_BINARY_DIR}/concert-tango.pc @ONLY)
  list(APPEND concert_pc_files ${PROJECT_BINARY_DIR}/concert-tango.pc)
endif()
install(FILES ${concert_pc_files} DESTINATION ${CONCERT_PKGCONFIG_DIR} COMPONENT Development)
