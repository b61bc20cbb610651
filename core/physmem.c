/*
 * core/physmem.c - simulated physical memory.
 *
 * 1. One anonymous mapping of npages 4 KiB page frames, and beside it (separately mapped,
 *    like Linux's mem_map) one 64-byte struct kmb_page per frame.  The memmap is the same
 *    overhead for every backend (64/4096 = 1.56%, as struct page on LP64) and is not part
 *    of any backend's footprint.
 * 2. Frames are split into nnodes equal, contiguous NUMA nodes (node_start[]); each
 *    frame's descriptor carries its node id.
 * 3. Accounting: backends' page sources report every page they hand out as data or
 *    metadata with kmb_physmem_account(); the core reads data_pages, meta_pages and their
 *    peak.  Counters are updated with atomic builtins: page sources run on many threads.
 * 4. The frames are faulted in at boot (os.c): a first-touch page fault is not a cost
 *    of the allocator that happens to touch the page first.
 * 5. With INVARIANTS, all memory starts poisoned (KMB_POISON_BYTE), so the core can check
 *    on every allocation that free memory was not modified.
 */
#include "internal.h"

#include <errno.h>
#include <string.h>

int kmb__physmem_init(struct kmb_physmem *pm, size_t bytes, unsigned nnodes, bool poison)
{
	size_t npages = bytes >> KMB_PAGE_SHIFT;

	memset(pm, 0, sizeof(*pm));
	if (npages < 16 || nnodes == 0 || nnodes > KMB_MAX_NODES || npages / nnodes < 16)
		return -EINVAL;
	pm->base = kmb__os_map_resident(npages << KMB_PAGE_SHIFT);
	if (pm->base == NULL)
		return -ENOMEM;
	pm->map = kmb__os_map(npages * sizeof(struct kmb_page));
	if (pm->map == NULL) {
		kmb__os_unmap(pm->base, npages << KMB_PAGE_SHIFT);
		return -ENOMEM;
	}
	pm->npages = npages;
	pm->nnodes = nnodes;
	for (unsigned n = 0; n <= nnodes; n++)
		pm->node_start[n] = npages * n / nnodes;
	for (unsigned n = 0; n < nnodes; n++)
		for (size_t pfn = pm->node_start[n]; pfn < pm->node_start[n + 1]; pfn++)
			pm->map[pfn].node = (uint16_t)n;
	pm->poison = poison;
	if (poison)
		memset(pm->base, KMB_POISON_BYTE, npages << KMB_PAGE_SHIFT);
	return 0;
}

void kmb__physmem_fini(struct kmb_physmem *pm)
{
	kmb__os_unmap(pm->base, pm->npages << KMB_PAGE_SHIFT);
	kmb__os_unmap(pm->map, pm->npages * sizeof(struct kmb_page));
	memset(pm, 0, sizeof(*pm));
}

void kmb_physmem_reset_map(struct kmb_physmem *pm)
{
	for (size_t pfn = 0; pfn < pm->npages; pfn++) {
		struct kmb_page *pg = &pm->map[pfn];

		pg->next = pg->prev = NULL;
		pg->flags = 0;
		pg->order = 0;
		pg->usage = KMB_USE_FREE;
		memset(pg->priv, 0, sizeof(pg->priv));
	}
}

void kmb_physmem_account(struct kmb_physmem *pm, long npages, enum kmb_page_usage usage)
{
	int64_t *ctr = usage == KMB_USE_META ? &pm->meta_pages : &pm->data_pages;

	__atomic_add_fetch(ctr, npages, __ATOMIC_RELAXED);
	if (npages <= 0)
		return;
	kmb__atomic_max_i64(&pm->peak_pages,
	                    __atomic_load_n(&pm->data_pages, __ATOMIC_RELAXED) +
	                            __atomic_load_n(&pm->meta_pages, __ATOMIC_RELAXED));
}

void kmb_poison(struct kmb_physmem *pm, void *addr, size_t len)
{
	if (pm->poison)
		memset(addr, KMB_POISON_BYTE, len);
}

const unsigned char *kmb_poison_check(const void *addr, size_t len)
{
	const unsigned char *p = addr, *end = p + len;
	const uint64_t pat = 0x0101010101010101ull * KMB_POISON_BYTE;

	while (p < end && ((uintptr_t)p & 7))
		if (*p++ != KMB_POISON_BYTE)
			return p - 1;
	for (; p + 8 <= end; p += 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		if (w != pat)
			break;
	}
	for (; p < end; p++)
		if (*p != KMB_POISON_BYTE)
			return p;
	return NULL;
}
