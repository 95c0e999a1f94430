# `cpack -G DEB` in the build directory: a .deb of what `cmake --install` installs. Its dependencies
# are the Debian development packages cvtkConfig.cmake finds (the libraries are static, so a consumer
# links their dependencies itself).
set(CPACK_PACKAGE_NAME cvtk)
set(CPACK_PACKAGE_VENDOR cvtk)
set(CPACK_PACKAGE_CONTACT "cvtk maintainers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Computer-vision toolkit: ThunderNet detectors, datasets, mAP (C++ library and cvtk program)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libtorch-dev, libopencv-dev, libtbb-dev, libsimdjson-dev, libpugixml-dev, libjpeg-dev, libblas-dev | libopenblas-dev, cmake")
include(CPack)
