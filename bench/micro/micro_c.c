/*
 * bench/micro/micro_c.c - the C side of the micro suite (micro.h).
 */
#include "micro.h"

#include "core/internal.h"

MALLOC_DEFINE(M_MICRO, "micro", "the micro benchmarks' allocations");

int kmb_micro_physmem_init(struct kmb_physmem *pm, size_t bytes)
{
	return kmb__physmem_init(pm, bytes, 1, false);
}

void kmb_micro_physmem_fini(struct kmb_physmem *pm)
{
	kmb__physmem_fini(pm);
}
