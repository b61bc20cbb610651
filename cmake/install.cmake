# Installing kmbench (README "Installing"): cmake --install build --prefix P puts
#   P/bin/kmbench, P/bin/kmbench-micro                  the commands
#   P/lib/libkmbench.a                                  the library: the kmalloc interface,
#                                                       core, every backend built, workloads,
#                                                       results and the replay engine
#   P/lib/libkmb_jemalloc.a                             jemalloc, its symbols renamed (the
#                                                       jemalloc baseline links it)
#   P/include/kmbench/*.h                               the public headers
#   P/lib/pkgconfig/kmbench.pc                          pkg-config --cflags --libs kmbench
#   P/lib/cmake/kmbench/kmbenchConfig.cmake             find_package(kmbench): kmbench::kmbench
#   P/share/kmbench/workloads/traces/                   the bundled traces
# Nothing installed names the build machine's directories: the commands find their data
# from their own place (bench/engine/paths.c), assertions name files relative to the source
# root (-ffile-prefix-map, CMakeLists.txt), CMake drops the build tree's RPATH at install,
# and kmbench.pc and the package config locate the prefix from where they are.
include(GNUInstallDirs)

set(kmb_lib_parts kmb_core kmb_backends kmb_workloads kmb_results kmb_engine)
get_property(kmb_folders GLOBAL PROPERTY KMB_BACKEND_FOLDERS)
foreach(d ${kmb_folders})
  if(TARGET kmb_${d})
    get_target_property(kmb_type kmb_${d} TYPE)
    if(kmb_type STREQUAL "STATIC_LIBRARY")
      list(APPEND kmb_lib_parts kmb_${d})
    endif()
  endif()
endforeach()
set(kmb_objects "")
foreach(t ${kmb_lib_parts})
  list(APPEND kmb_objects $<TARGET_OBJECTS:${t}>)
endforeach()

# One archive of the objects the separate build libraries hold.
add_library(kmbench_lib STATIC ${kmb_objects})
set_target_properties(kmbench_lib PROPERTIES OUTPUT_NAME kmbench LINKER_LANGUAGE C
  ARCHIVE_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib)
set(kmb_pc_libs "-lkmbench")
set(kmb_link_iface "")
if(TARGET kmb_jemalloc)
  get_target_property(kmb_je kmb_jemalloc IMPORTED_LOCATION)
  install(FILES ${kmb_je} DESTINATION ${CMAKE_INSTALL_LIBDIR})
  string(APPEND kmb_pc_libs " -lkmb_jemalloc")
  list(APPEND kmb_link_iface "$<INSTALL_PREFIX>/${CMAKE_INSTALL_LIBDIR}/libkmb_jemalloc.a")
endif()
string(APPEND kmb_pc_libs " -lhwloc -lm -ldl -pthread")
list(APPEND kmb_link_iface hwloc m ${CMAKE_DL_LIBS} -pthread)
# a sanitizer build's library needs the sanitizer's runtime wherever it is linked
string(REGEX MATCHALL "-fsanitize=[^ ]+" kmb_sanitize "${CMAKE_C_FLAGS}")
foreach(f ${kmb_sanitize})
  string(APPEND kmb_pc_libs " ${f}")
  list(APPEND kmb_link_iface ${f})
endforeach()
target_link_libraries(kmbench_lib INTERFACE "$<INSTALL_INTERFACE:${kmb_link_iface}>")
target_include_directories(kmbench_lib INTERFACE
  "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
target_compile_definitions(kmbench_lib INTERFACE "$<INSTALL_INTERFACE:_GNU_SOURCE>")
set_target_properties(kmbench_lib PROPERTIES EXPORT_NAME kmbench)

install(TARGETS kmbench kmbench-micro RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS kmbench_lib EXPORT kmbenchTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/kmbench
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/workloads/traces
  DESTINATION ${CMAKE_INSTALL_DATADIR}/kmbench/workloads)
install(EXPORT kmbenchTargets NAMESPACE kmbench::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/kmbench)

include(CMakePackageConfigHelpers)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kmbenchConfig.cmake.in
  ${PROJECT_BINARY_DIR}/kmbenchConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/kmbench)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/kmbenchConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/kmbenchConfig.cmake
  ${PROJECT_BINARY_DIR}/kmbenchConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/kmbench)

# kmbench.pc finds its prefix from its own directory (pkg-config's ${pcfiledir}), so that
# --prefix at install time is all it takes.
file(RELATIVE_PATH kmb_pc_up ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig
  ${CMAKE_INSTALL_PREFIX})
configure_file(${PROJECT_SOURCE_DIR}/cmake/kmbench.pc.in ${PROJECT_BINARY_DIR}/kmbench.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/kmbench.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
