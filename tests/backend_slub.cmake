# The slub and slub-sheaves backends: geometry (by hand and against /sys/kernel/slab),
# the traced kernel's geometry, min_partial, remote frees, sheaves and barns, drain and the
# INVARIANTS freelist check (tests/test_slub.c).
kmb_add_test_program(test_slub SOURCES test_slub.c LIBS kmb_slub kmb_backends LABELS unit)
