# The kmalloc interface's semantics, run once per backend (the conformance suite).
# every spec the backends registered (backends/CMakeLists.txt)
# (a spec NAME@SOURCE only when the folder of its page source is built too)
get_property(kmb_all_specs GLOBAL PROPERTY KMB_BACKEND_SPECS)
get_property(kmb_built GLOBAL PROPERTY KMB_BACKEND_FOLDERS)
set(KMB_CONFORMANCE_BACKENDS "")
foreach(spec ${kmb_all_specs})
  string(REGEX MATCH "@(.*)$" has_src "${spec}")
  if(NOT has_src OR "${CMAKE_MATCH_1}" IN_LIST kmb_built)
    list(APPEND KMB_CONFORMANCE_BACKENDS ${spec})
  endif()
endforeach()
# and designs at settings other than their defaults (tunables, backend.h 5.): no quantum
# caches; one-round magazines on per-CPU page lists that drain at every other free
if("vmem" IN_LIST kmb_built)
  list(APPEND KMB_CONFORMANCE_BACKENDS "vmem(qcache_max=0)")
endif()
if("slab" IN_LIST kmb_built)
  list(APPEND KMB_CONFORMANCE_BACKENDS "slab(magsize=1)@buddy(pcp_high=2,pcp_batch=1)")
endif()
add_executable(test_kmalloc test_kmalloc.c)
target_link_libraries(test_kmalloc PRIVATE kmb_test kmb_backends)
set_target_properties(test_kmalloc PROPERTIES ENABLE_EXPORTS ON) # plugins use its symbols
file(STRINGS test_kmalloc.c kmalloc_tests REGEX "^KMB_TEST\\([a-z0-9_]+\\)")
foreach(be ${KMB_CONFORMANCE_BACKENDS})
  foreach(l ${kmalloc_tests})
    string(REGEX REPLACE "^KMB_TEST\\(([a-z0-9_]+)\\).*" "\\1" t "${l}")
    add_test(NAME conformance/${be}/${t} COMMAND test_kmalloc ${t} ${be})
    set(labels conformance)
    if(t MATCHES "^stress_")
      set(labels "conformance;stress")
    endif()
    set_tests_properties(conformance/${be}/${t} PROPERTIES TIMEOUT 120 LABELS "${labels}")
  endforeach()
endforeach()

# ... and on every example plugin, loaded as --backend plugin:PATH.so would be; the K&R
# plugin also as built for the previous ABI (3), which kmb_boot still loads (backend.h).
if(TARGET kmb_kr_plugin)
  add_library(kmb_kr_abi3_plugin MODULE plugin_abi3.c)
  target_include_directories(kmb_kr_abi3_plugin PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(kmb_kr_abi3_plugin PRIVATE -Wall -Wextra $<$<BOOL:${KMB_WERROR}>:-Werror>)
  set_target_properties(kmb_kr_abi3_plugin PROPERTIES PREFIX "" OUTPUT_NAME kr-abi3-plugin)
  kmb_register_plugin(NAME kr-abi3 TARGET kmb_kr_abi3_plugin)
endif()
get_property(kmb_plugins GLOBAL PROPERTY KMB_PLUGINS)
foreach(p ${kmb_plugins})
  string(REGEX REPLACE "=.*" "" pname "${p}")
  string(REGEX REPLACE ".*=" "" ptarget "${p}")
  foreach(l ${kmalloc_tests})
    string(REGEX REPLACE "^KMB_TEST\\(([a-z0-9_]+)\\).*" "\\1" t "${l}")
    add_test(NAME conformance/plugin-${pname}/${t}
      COMMAND test_kmalloc ${t} "plugin:$<TARGET_FILE:${ptarget}>")
    set_tests_properties(conformance/plugin-${pname}/${t} PROPERTIES TIMEOUT 120 LABELS "conformance")
  endforeach()
endforeach()

# The soak test, once per spec (label stress): KMB_SOAK_SECONDS / KMB_SOAK_THREADS for
# the long version.
add_executable(test_soak test_soak.c)
target_link_libraries(test_soak PRIVATE kmb_test kmb_backends)
set_target_properties(test_soak PROPERTIES ENABLE_EXPORTS ON)
foreach(be ${KMB_CONFORMANCE_BACKENDS})
  add_test(NAME soak/${be} COMMAND test_soak soak ${be})
  set_tests_properties(soak/${be} PROPERTIES TIMEOUT 120 LABELS "stress")
endforeach()

# The backend contract (tests/contract.sh): no backend uses the core's internals, the
# example plugin builds out of tree with the one line backends/README.md gives, and (in the
# release build, the one the README's test command makes) vmem builds and passes its
# conformance suite with no other backend folder.
set(kmb_contract_cases backends_use_the_contract plugin_builds_with_one_line)
if(CMAKE_BUILD_TYPE STREQUAL "Release" AND NOT KMB_BACKENDS)
  list(APPEND kmb_contract_cases backend_subset_builds)
endif()
foreach(case ${kmb_contract_cases})
  add_test(NAME contract/${case}
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/contract.sh ${PROJECT_SOURCE_DIR} ${case}
            ${CMAKE_C_COMPILER} ${CMAKE_COMMAND})
  set_tests_properties(contract/${case} PROPERTIES TIMEOUT 60 LABELS "unit")
endforeach()
if("backend_subset_builds" IN_LIST kmb_contract_cases)
  set_tests_properties(contract/backend_subset_builds PROPERTIES TIMEOUT 600 LABELS "unit;build")
endif()

# Specs with tunables (core/spec.c): parsing, bounds, the values init receives.  It names
# slab, vmem, buddy and libc, so it is built when their folders are.
set(kmb_spec_test_folders slab vmem buddy baseline)
set(kmb_spec_test_ok TRUE)
foreach(d ${kmb_spec_test_folders})
  if(NOT d IN_LIST kmb_built)
    set(kmb_spec_test_ok FALSE)
  endif()
endforeach()
if(kmb_spec_test_ok)
  kmb_add_test_program(test_spec SOURCES test_spec.c LIBS kmb_backends LABELS unit)
endif()
# The calling thread's context (core/context.c): interrupt nesting, lock annotations, policies.
if("buddy" IN_LIST kmb_built)
  kmb_add_test_program(test_context SOURCES test_context.c LIBS kmb_backends LABELS "unit")
endif()
