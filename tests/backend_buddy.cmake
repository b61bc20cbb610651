# The buddy backend: page allocator, fragmentation indices, sub-page heap; the booted
# stress test needs kmb_boot (kmb_backends).
kmb_add_test_program(test_buddy SOURCES test_buddy.c LIBS kmb_buddy kmb_backends LABELS unit)
