# End-to-end tests of the kmbench command (tests/cli.sh), one CTest test per case.
foreach(case help bad_usage spec_tunables replay_geometry replay_fidelity missing_file trace_stat_facts replay_buddy
    replay_deadlock_is_reported replay_threads replay_targets_script scaling_check_script plugin run_quick run_without_gnuplot
    gen_usage gen_deterministic gen_replay gen_fdtable gen_exhaust gen_replay_threads)
  add_test(NAME cli/${case}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli.sh $<TARGET_FILE:kmbench> ${PROJECT_SOURCE_DIR} ${case})
  set_tests_properties(cli/${case} PROPERTIES TIMEOUT 120 LABELS "cli" SKIP_RETURN_CODE 77)
endforeach()
# kmbench run --shard under GNU parallel and kmbench merge (skipped without parallel)
add_test(NAME cli/shard_merge
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli.sh $<TARGET_FILE:kmbench> ${PROJECT_SOURCE_DIR} shard_merge)
set_tests_properties(cli/shard_merge PROPERTIES TIMEOUT 180 LABELS "cli" SKIP_RETURN_CODE 77)
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
# issue 16's remainder: hostile .kmt values and files, LOST sums, control characters, OOM,
# thread limits, XML topology files, 100k call sites
foreach(case kmt_bad_values kmt_shrinks_while_read trace_hostile_strings oom_reported
    thread_limit_reported topology_xml_files sites_100k)
  add_test(NAME cli/${case}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli.sh $<TARGET_FILE:kmbench> ${PROJECT_SOURCE_DIR} ${case})
  set_tests_properties(cli/${case} PROPERTIES TIMEOUT 180 LABELS "cli" SKIP_RETURN_CODE 77)
endforeach()
# issue 15 part 1: real traces without tuning (memory from the trace, trace record, CLI)
foreach(case mem_from_trace trace_stat_batched_free trace_symbols help_true)
  add_test(NAME cli/${case}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli.sh $<TARGET_FILE:kmbench> ${PROJECT_SOURCE_DIR} ${case})
  set_tests_properties(cli/${case} PROPERTIES TIMEOUT 180 LABELS "cli" SKIP_RETURN_CODE 77)
endforeach()
# installed into a temporary prefix and used from there alone (tests/install.sh)
add_test(NAME cli/install
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(cli/install PROPERTIES TIMEOUT 300 LABELS "cli" SKIP_RETURN_CODE 77)
