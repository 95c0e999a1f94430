# `cmake --install`: the cvtk program (and cvtk-models, which it starts for the model commands), the
# static libraries, their headers under include/cvtk in the repository's layout (includes are written
# from the repository root: #include "detection/detector.h"), cvtk_version.h, and a CMake package:
# find_package(cvtk) gives cvtk::vision_data, cvtk::vision, cvtk::metrics, cvtk::augment and
# cvtk::detection. The same names work inside this build (aliases).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(CVTK_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/cvtk)
set(CVTK_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/cvtk)
set(CVTK_LIBRARY_PARTS vision_data vision metrics augment detection)

foreach(part IN LISTS CVTK_LIBRARY_PARTS)
  add_library(cvtk::${part} ALIAS cvtk_${part})
  set_target_properties(cvtk_${part} PROPERTIES EXPORT_NAME ${part})
  target_include_directories(cvtk_${part} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>
    $<INSTALL_INTERFACE:${CVTK_INSTALL_INCLUDEDIR}>)
  # The headers are C++17; a consumer compiling them must be too.
  target_compile_features(cvtk_${part} PUBLIC cxx_std_17)
  if(CVTK_SANITIZE)
    # Instrumented static libraries need the sanitizers' runtimes wherever they are linked (this build
    # links everything with them already).
    target_link_options(cvtk_${part} INTERFACE $<INSTALL_INTERFACE:-fsanitize=address,undefined>)
  endif()
  install(TARGETS cvtk_${part} EXPORT cvtkTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endforeach()
install(TARGETS cvtk RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The program cvtk hands the model commands to (apps/models_program.h); apps/CMakeLists.txt builds the
# path from bin to here into cvtk.
install(TARGETS cvtk_models RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/cvtk)

foreach(dir vision metrics augment detection)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir} DESTINATION ${CVTK_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
endforeach()
install(FILES ${PROJECT_BINARY_DIR}/generated/cvtk_version.h DESTINATION ${CVTK_INSTALL_INCLUDEDIR})

install(EXPORT cvtkTargets NAMESPACE cvtk:: DESTINATION ${CVTK_INSTALL_CMAKEDIR})
# Recorded for the package's config: which optional dependency this build linked, and where its
# LibTorch was (a hint only; the consumer's Torch_DIR wins).
if(JPEG_FOUND)
  set(CVTK_WITH_JPEG ON)
else()
  set(CVTK_WITH_JPEG OFF)
endif()
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/cvtkConfig.cmake.in ${PROJECT_BINARY_DIR}/cvtkConfig.cmake
  INSTALL_DESTINATION ${CVTK_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cvtkConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cvtkConfig.cmake ${PROJECT_BINARY_DIR}/cvtkConfigVersion.cmake
  DESTINATION ${CVTK_INSTALL_CMAKEDIR})
