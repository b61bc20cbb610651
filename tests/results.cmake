# Result writing: histogram, .hgrm, JSON, atomic files, run directories, plots, clock.
kmb_add_test_program(test_results SOURCES test_results.c LIBS kmb_results LABELS unit)
# kmbench run's results: Mann-Whitney U (compare), JSON/CSV readers, the report, figures,
# the picture of memory on every backend, and a real run directory read back.
kmb_add_test_program(test_report SOURCES test_report.c LIBS kmb_results kmb_backends
  LABELS unit TIMEOUT 180)
target_compile_definitions(test_report PRIVATE KMB_BINARY="$<TARGET_FILE:kmbench>")
add_dependencies(test_report kmbench)
# The declared result schema: its table, and replay JSON written and read back by it.
kmb_add_test_program(test_schema SOURCES test_schema.c LIBS kmb_engine LABELS unit)
# The two report tests that run `kmbench run` name buddy, slab and bucket: a build that
# leaves one out (-DKMB_BACKENDS) cannot run them.
get_property(kmb_report_built GLOBAL PROPERTY KMB_BACKEND_FOLDERS)
foreach(b buddy slab bucket)
  if(NOT b IN_LIST kmb_report_built)
    set_tests_properties(test_report/run_directory_reads_back
      test_report/run_reports_the_median_of_repetitions PROPERTIES DISABLED TRUE)
  endif()
endforeach()
