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
 *    metadata with kmb_physmem_account(); the core reads data_pages, meta_pages,
 *    held_pages (their sum, in one counter, so that its peak is the footprint's: two
 *    counters read with two loads could pair values of different moments) and the peak.
 *    With one CPU every call folds into them at once (atomic builtins: unattached threads
 *    may account too): exact.  With several CPUs an attached thread adds to its CPU's
 *    difference (struct kmb_physmem_pcpu, its own cache line, plain load and store) and
 *    folds it when data or metadata passes the threshold - Linux's per-CPU vm_stat_diff
 *    and calculate_normal_threshold() (mm/vmstat.c), with the whole memory as one zone:
 *    2 * fls(ncpus) * (1 + fls(memory / 128 MiB)) pages, at most 125 (12 for 2 CPUs and
 *    256 MiB).  The totals and their peak are then within ncpus * 2 * threshold pages of
 *    the truth (kmb_physmem_error_pages()), and exact again once every thread detached
 *    (detaching folds the CPU's difference).
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

static unsigned fls_u64(uint64_t x)
{
	return x ? 64 - (unsigned)__builtin_clzll(x) : 0;
}

void kmb_physmem_set_cpus(struct kmb_physmem *pm, unsigned ncpus)
{
	uint64_t t = 2ull * fls_u64(ncpus) *
	             (1 + fls_u64((uint64_t)(pm->npages << KMB_PAGE_SHIFT) >> 27));

	pm->drift = ncpus > 1 ? (int64_t)(t < 125 ? t : 125) : 0;
	pm->drift_cpus = ncpus > 1 ? ncpus : 0;
}

/* Into the totals: one add each, the peak from the held total's new value. */
static void physmem_add(struct kmb_physmem *pm, int64_t data, int64_t meta)
{
	int64_t held;

	if (data)
		__atomic_add_fetch(&pm->data_pages, data, __ATOMIC_RELAXED);
	if (meta)
		__atomic_add_fetch(&pm->meta_pages, meta, __ATOMIC_RELAXED);
	held = __atomic_add_fetch(&pm->held_pages, data + meta, __ATOMIC_RELAXED);
	if (data + meta > 0)
		kmb__atomic_max_i64(&pm->peak_pages, held);
}

void kmb_physmem_fold(struct kmb_physmem *pm, unsigned cpu)
{
	struct kmb_physmem_pcpu *pc = &pm->pcpu[cpu];
	int64_t d = KMB__LD(&pc->data), m = KMB__LD(&pc->meta);

	KMB__ST(&pc->data, 0);
	KMB__ST(&pc->meta, 0);
	if (d || m)
		physmem_add(pm, d, m);
}

void kmb_physmem_account(struct kmb_physmem *pm, long npages, enum kmb_page_usage usage)
{
	bool meta = usage == KMB_USE_META;

	if (pm->drift && kmb_curthread.attached) {
		struct kmb_physmem_pcpu *pc = &pm->pcpu[kmb_curthread.cpu];
		int64_t *ctr = meta ? &pc->meta : &pc->data;
		int64_t v = KMB__LD(ctr) + npages;

		KMB__ST(ctr, v);
		if (kmb__unlikely(v > pm->drift || v < -pm->drift))
			kmb_physmem_fold(pm, kmb_curthread.cpu);
		return;
	}
	physmem_add(pm, meta ? 0 : npages, meta ? npages : 0);
}

size_t kmb_physmem_error_pages(const struct kmb_physmem *pm)
{
	return (size_t)pm->drift_cpus * 2 * (size_t)pm->drift;
}

void kmb_physmem_reset_peak(struct kmb_physmem *pm)
{
	__atomic_store_n(&pm->peak_pages, __atomic_load_n(&pm->held_pages, __ATOMIC_RELAXED),
	                 __ATOMIC_RELAXED);
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
