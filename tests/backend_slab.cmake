# The slab backend: geometry, colouring, bufctl hash, magazines and depot, resizing,
# reaping, size classes, native caches, multi-thread stress (tests/test_slab.c).
kmb_add_test_program(test_slab SOURCES test_slab.c LIBS kmb_slab kmb_backends LABELS unit)
