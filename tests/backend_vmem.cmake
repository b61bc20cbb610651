# The vmem backend: arena policies and constraints, hash, imports, quantum caches, the
# page-source face, the kmalloc backend; the booted stress tests need kmb_boot.
kmb_add_test_program(test_vmem SOURCES test_vmem.c LIBS kmb_vmem kmb_backends LABELS unit)
