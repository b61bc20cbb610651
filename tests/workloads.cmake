# The trace front end: ftrace parser, gfp mapping, facts, replay plans (data in tests/data/).
kmb_add_test_program(test_workloads SOURCES test_workloads.c LIBS kmb_workloads LABELS unit)
# .kmt: round trips to the same facts and plans, corrupt and fuzzed files.
kmb_add_test_program(test_kmt SOURCES test_kmt.c LIBS kmb_workloads LABELS "unit;fuzz" TIMEOUT 120)
