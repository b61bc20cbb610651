/*
 * tests/plugin_abi3.c - the example K&R plugin declaring the previous backend ABI, 3 (before
 * free_sized was appended to the ops): kmb_boot still loads it, copying its table up to
 * free_sized and leaving that NULL (core/registry.c), and the conformance suite runs on it
 * (kmem_free then takes its free).
 */
#define kmb_backend_plugin_abi kr_abi_as_built /* kr.c's own declaration, renamed */
#include "../backends/kr-plugin/kr.c"
#undef kmb_backend_plugin_abi

const unsigned kmb_backend_plugin_abi = 3;
