/*
 * bench/topology.c - the machine's topology, through hwloc (the only file that calls it).
 */
#include "bench.h"

#include <hwloc.h>

int kmb_topology_summary(char *buf, size_t len)
{
	hwloc_topology_t topo;
	int pk, co, pu, nn;

	if (hwloc_topology_init(&topo) != 0)
		return -1;
	if (hwloc_topology_load(topo) != 0) {
		hwloc_topology_destroy(topo);
		return -1;
	}
	pk = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
	co = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
	pu = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
	nn = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
	snprintf(buf, len, "package:%d numa:%d core:%d pu:%d", pk, nn, co, pu);
	hwloc_topology_destroy(topo);
	return 0;
}
