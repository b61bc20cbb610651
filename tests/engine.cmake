# The replay engine as a library (bench/engine): exact figures with one thread, the copies
# and streams mappings, warm-up, CPU time, at_op; core/physmem.c's per-CPU accounting.
kmb_add_test_program(test_engine SOURCES test_engine.c LIBS kmb_engine LABELS unit TIMEOUT 120)
