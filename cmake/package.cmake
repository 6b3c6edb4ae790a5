# cpack -G DEB: one development package (headers, library, CMake and pkg-config files), made from
# the install rules of cmake/install.cmake. Top-level builds only: CPack is the consumer's business.
set(CPACK_PACKAGE_NAME libconcert-cpp-dev)
set(CPACK_PACKAGE_VENDOR "concert-cpp")
set(CPACK_PACKAGE_CONTACT "concert-cpp developers <concert-cpp@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL OFF)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libfmt-dev, libstdc++-12-dev | libstdc++-dev")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libgtest-dev")
# The Tango bridge, when built, is in the package; consumers of it need Tango's headers.
if(TARGET concert_tango)
  string(APPEND CPACK_DEBIAN_PACKAGE_SUGGESTS ", libtango-dev")
endif()
# A shared build also gets the run-time dependencies of libconcert.so from dpkg-shlibdeps.
if(BUILD_SHARED_LIBS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
include(CPack)
