# Installs the libraries, the public headers and a relocatable CMake package:
#   find_package(keel CONFIG REQUIRED)  ->  keel::keel, keel::testing
include(CMakePackageConfigHelpers)

install(TARGETS keel keel_testing EXPORT keel-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/keel DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(keel_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/keel)
install(EXPORT keel-targets NAMESPACE keel:: DESTINATION ${keel_cmake_dir} FILE keel-targets.cmake)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/keel-config.cmake.in
                              ${PROJECT_BINARY_DIR}/keel-config.cmake
                              INSTALL_DESTINATION ${keel_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/keel-config-version.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/keel-config.cmake ${PROJECT_BINARY_DIR}/keel-config-version.cmake
        DESTINATION ${keel_cmake_dir})
