# End-to-end tests of the kmbench command (tests/cli.sh), one CTest test per case.
foreach(case help bad_usage missing_file trace_stat_facts replay_buddy
    replay_deadlock_is_reported replay_threads replay_targets_script scaling_check_script plugin run_quick run_without_gnuplot
    gen_usage gen_deterministic gen_replay gen_fdtable gen_exhaust gen_replay_threads)
  add_test(NAME cli/${case}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli.sh $<TARGET_FILE:kmbench> ${PROJECT_SOURCE_DIR} ${case})
  set_tests_properties(cli/${case} PROPERTIES TIMEOUT 120 LABELS "cli" SKIP_RETURN_CODE 77)
endforeach()
# every spec twice per repetition (untimed, timed): minutes under ASan+UBSan
set_tests_properties(cli/run_quick PROPERTIES TIMEOUT 300)
# trace formats, .kmt, trace stat's statistics, bad input, capture from a fake tracefs
foreach(case trace_convert trace_stat_perf trace_formats trace_bad_input trace_record_fake
    replay_contexts)
  add_test(NAME cli/${case}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli.sh $<TARGET_FILE:kmbench> ${PROJECT_SOURCE_DIR} ${case})
  set_tests_properties(cli/${case} PROPERTIES TIMEOUT 120 LABELS "cli" SKIP_RETURN_CODE 77)
endforeach()
# kmbench run's results directory (interrupted, usage), kmbench plot, kmbench compare
foreach(case run_interrupted run_usage run_records run_full_disk plot_rerender plot_without_gnuplot plot_refuses_scripts
    compare_runs
    compare_gbench compare_holm compare_regression)
  add_test(NAME cli/${case}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli.sh $<TARGET_FILE:kmbench> ${PROJECT_SOURCE_DIR} ${case})
  set_tests_properties(cli/${case} PROPERTIES TIMEOUT 180 LABELS "cli" SKIP_RETURN_CODE 77)
endforeach()
