# Synthetic workloads (workloads/gen*.c): determinism by seed, write-then-parse round trips,
# and the property each workload exists to show.
kmb_add_test_program(test_gen SOURCES test_gen.c LIBS kmb_workloads LABELS unit)
