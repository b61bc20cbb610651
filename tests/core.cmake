# The kmalloc interface's semantics, run once per backend (the conformance suite).
# every spec the backends registered (backends/CMakeLists.txt)
get_property(KMB_CONFORMANCE_BACKENDS GLOBAL PROPERTY KMB_BACKEND_SPECS)
add_executable(test_kmalloc test_kmalloc.c)
target_link_libraries(test_kmalloc PRIVATE kmb_test kmb_backends)
file(STRINGS test_kmalloc.c kmalloc_tests REGEX "^KMB_TEST\\([a-z0-9_]+\\)")
foreach(be ${KMB_CONFORMANCE_BACKENDS})
  foreach(l ${kmalloc_tests})
    string(REGEX REPLACE "^KMB_TEST\\(([a-z0-9_]+)\\).*" "\\1" t "${l}")
    add_test(NAME conformance/${be}/${t} COMMAND test_kmalloc ${t})
    set_tests_properties(conformance/${be}/${t} PROPERTIES TIMEOUT 60
      LABELS "conformance" ENVIRONMENT "KMB_TEST_BACKEND=${be}")
  endforeach()
endforeach()
