/*
 * tests/fuzz/fuzz_topology.c - libFuzzer target: the --topology argument (an hwloc
 * synthetic description; strings ending in .xml are file names and are left out: the
 * fuzzer must not open files) and thread placement on what it describes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char spec[256], err[512];
	struct kmb_topo tp;
	unsigned pu[KMB_MAX_CPUS];
	size_t n = size < sizeof(spec) - 1 ? size : sizeof(spec) - 1;

	memcpy(spec, data, n);
	spec[n] = '\0';
	if (n == 0 || strstr(spec, ".xml") != NULL)
		return 0;
	if (kmb_topo_load(&tp, spec, err, sizeof(err)) != 0)
		return 0;
	for (unsigned threads = 1; threads <= KMB_MAX_CPUS; threads *= 4) {
		kmb_topo_place(&tp, threads, false, pu);
		kmb_topo_place(&tp, threads, true, pu);
		for (unsigned i = 0; i < threads; i++)
			if (pu[i] >= tp.npus || tp.pu_node[pu[i]] >= tp.nnodes)
				abort();
	}
	kmb_topo_free(&tp);
	return 0;
}
