# kmbench's kernel locks (core/lock.c): counters, held list, blocking, stresses (TSan runs them).
kmb_add_test_program(test_lock SOURCES test_lock.c LABELS "unit;stress")
