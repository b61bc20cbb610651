# Result writing: histogram, .hgrm, JSON, atomic files, run directories, plots, clock.
kmb_add_test_program(test_results SOURCES test_results.c LIBS kmb_results LABELS unit)
