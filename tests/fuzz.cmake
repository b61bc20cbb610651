# Fuzz targets (tests/fuzz/): the trace text front end, the .kmt loader, the --topology
# argument and the command line's value parsers.
#  - Always: each target runs over its corpus (seeds and every crash input ever found) as
#    a regression test, label "fuzz" (regress-<target>, a plain main, no libFuzzer).
#  - With clang and -DKMB_FUZZ=ON (the "fuzz" preset): libFuzzer executables fuzz-<target>;
#    .ci/run runs each for a bounded time under ASan+UBSan.
option(KMB_FUZZ "Build libFuzzer targets (clang)" OFF)
set(KMB_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)

function(kmb_fuzz_target name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(regress-${name} ${KMB_FUZZ_DIR}/fuzz_${name}.c ${KMB_FUZZ_DIR}/regress_main.c ${F_SOURCES})
  target_link_libraries(regress-${name} PRIVATE kmb_options ${F_LIBS})
  target_compile_definitions(regress-${name} PRIVATE KMB_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_test(NAME fuzz-regress/${name} COMMAND regress-${name} ${KMB_FUZZ_DIR}/corpus/${name})
  set_tests_properties(fuzz-regress/${name} PROPERTIES TIMEOUT 120 LABELS "fuzz")
  if(KMB_FUZZ)
    add_executable(fuzz-${name} ${KMB_FUZZ_DIR}/fuzz_${name}.c ${F_SOURCES})
    target_link_libraries(fuzz-${name} PRIVATE kmb_options ${F_LIBS})
    target_compile_definitions(fuzz-${name} PRIVATE KMB_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
    target_compile_options(fuzz-${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(fuzz-${name} PRIVATE -fsanitize=fuzzer)
  endif()
endfunction()

kmb_fuzz_target(ftrace LIBS kmb_workloads)
kmb_fuzz_target(kmt LIBS kmb_workloads)
kmb_fuzz_target(topology LIBS kmb_engine)
kmb_fuzz_target(cli LIBS kmb_cli)
