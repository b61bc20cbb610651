# The bucket backend: geometry, page carving, kmemusage, large blocks, per-bucket
# statistics, DIAGNOSTIC panics, drain, stress; and the "Done when" check that the
# bundled trace's peak live allocated bytes, replayed by the engine (kmb_engine), equal the
# bucket geometry's.
kmb_add_test_program(test_bucket SOURCES test_bucket.c
  LIBS kmb_bucket kmb_backends kmb_engine LABELS unit TIMEOUT 120)
