/*
 * backends/buddy/buddy_pages.c - a binary buddy page allocator in the manner of Linux's
 * mm/page_alloc.c: zones, per-order free lists, watermarks and per-CPU page lists.
 *
 * BIG THEORY STATEMENT
 *
 * 1. Concepts.
 *
 *    Memory is handed out in blocks of 2^order contiguous page frames, order 0 to
 *    KMB_BUDDY_MAX_ORDER (10: one page to 4 MiB; Linux's MAX_ORDER 11 before 6.4).  A
 *    block of order k starts at a frame index that is a multiple of 2^k, counted from the
 *    start of its zone.  Its buddy is the other half of the order k+1 block containing it:
 *    index ^ (1 << k).  Allocation splits a larger free block in halves until one of the
 *    wanted order remains; free merges a block with its buddy for as long as the buddy is
 *    free and whole, so free memory stays in the largest blocks alignment allows
 *    (Knowlton 1965; Knuth TAOCP 2.5).
 *
 *    There is one zone per NUMA node of the simulated physical memory (the node's frames
 *    pm->node_start[n] .. pm->node_start[n + 1]).  An allocation tries the calling
 *    thread's node first and then the others in turn (Linux's zonelist fallback).
 *
 * 2. Data structures.
 *
 *    struct kmb__zone      a lock, the frames it spans, free_pages (pages on its free
 *                          lists: Linux's NR_FREE_PAGES), the three watermarks, and
 *                          free_area[order]: a list of free blocks and its length
 *                          nr_free, as /proc/buddyinfo prints it.
 *    struct kmb_page       the head frame of a free block is linked into its free list
 *                          through next/prev, carries its order and the KMB__PG_BUDDY flag
 *                          (PageBuddy); the other frames of a free block are blank (flags 0,
 *                          order 0, usage KMB_USE_FREE).  An allocated block's head has its
 *                          order and its usage (data or metadata).
 *    pstate[pfn]           the allocator's private copy of "head of a free block of order
 *                          k" (KMB__PS_FREE | k), read and written only under the zone lock.
 *                          The merge test reads it instead of the buddy's struct kmb_page,
 *                          whose flags belong to whoever holds that block and may be
 *                          written without our locks (Linux tolerates that race with
 *                          page_type; a TSan-clean build cannot).
 *    struct kmb__pcp       per zone and CPU (Linux's per_cpu_pages): a list of free order-0
 *                          pages, its count, high and batch.  Hot pages at the head (freed
 *                          last, reused first), cold pages drained from the tail.
 *
 *    The zone and per-CPU structures and pstate (one byte per frame) come from the C heap
 *    (calloc): they model the kernel's statically allocated struct zone, per-CPU areas
 *    and struct page bits, which are not part of any allocator's footprint either.
 *
 * 3. Algorithm.
 *
 *    alloc(order):  for each zone in fallback order: check the watermark (4.); for order 0
 *                   with per-CPU lists, take the head of this CPU's list, refilling it
 *                   first with `batch` pages taken one by one from the zone under its lock
 *                   (rmqueue_bulk); otherwise take the first block of the smallest
 *                   non-empty order >= order (__rmqueue_smallest) and give back the upper
 *                   halves while halving down to order (expand).  The head frame gets the
 *                   order and the usage, and the pages are accounted (kmb_physmem_account).
 *    free(order):   the block's frames are blanked (Linux free_pages_prepare), poisoned
 *                   with INVARIANTS (page_poisoning), unaccounted; order 0 with per-CPU
 *                   lists goes to the head of this CPU's list of the page's zone, and when
 *                   the list reaches `high`, `batch` pages go back from its tail
 *                   (free_pcppages_bulk).  Otherwise, and for those drained pages,
 *                   __free_one_page merges with the buddy while it is a free block of the
 *                   same order inside the zone, then links the result at its list head.
 *    drain:         every per-CPU list back to its zone (drain_all_pages).  The core calls
 *                   it before putting an M_WAITOK request to sleep, as Linux drains after
 *                   a failed direct reclaim.
 *
 * 4. Watermarks (mm/page_alloc.c, 5.x/6.x).
 *
 *    min_free_kbytes = int_sqrt(lowmem_kbytes * 16), clamped to [128, 262144]
 *                      (calculate_min_free_kbytes; lowmem is all memory here)
 *    per zone        pages_min = min_free_kbytes >> (PAGE_SHIFT - 10)
 *                    min  = pages_min * managed / lowmem_pages      (its share by size)
 *                    tmp  = max(min / 4, managed * watermark_scale_factor / 10000)
 *                    low  = min + tmp,  high = min + 2 * tmp        (__setup_per_zone_wmarks)
 *                    watermark_scale_factor = 10; the division is mult_frac().
 *
 *    For the default 256 MiB (65536 pages, one node):
 *        lowmem_kbytes   = 65536 * 4 = 262144
 *        min_free_kbytes = int_sqrt(262144 * 16) = int_sqrt(4194304) = 2048
 *        pages_min       = 2048 / 4 = 512;  min = 512 * 65536 / 65536 = 512
 *        tmp             = max(512 / 4 = 128, 65536 * 10 / 10000 = 65) = 128
 *        low             = 640,  high = 768 pages;  M_USE_RESERVE floor 192 (below)
 *    Split over two nodes each zone has 256 / 320 / 384 (the sums are the same).
 *
 *    The check (__zone_watermark_ok): with free = the zone's free_pages,
 *        free - (2^order - 1) > mark        i.e. at least mark pages stay free after it
 *    and, for order > 0, some free list of order >= order is non-empty.  A normal request
 *    checks mark = min: Linux's fast path checks low and wakes kswapd, its slow path then
 *    allocates down to min; with no kswapd here we check min directly.  M_USE_RESERVE
 *    lowers the mark as GFP_ATOMIC (ALLOC_HIGH | ALLOC_HARDER) did: mark -= mark / 2, then
 *    mark -= mark / 4 (512 -> 256 -> 192).  As in Linux, pages on per-CPU lists are not in
 *    free_pages, and a refill may take its batch below the mark.
 *
 *    Per-CPU list sizes follow zone_batchsize() and zone_highsize() (5.14+):
 *        batch = min(managed >> 10, 1 MiB / PAGE_SIZE) / 4, at least 1, then
 *                rounddown_pow_of_two(batch + batch / 2) - 1, at least 1
 *        high  = max(low / (CPUs of the zone's node), 4 * batch)
 *    256 MiB: batch = min(64, 256) / 4 = 16 -> rounddown_pow_of_two(24) - 1 = 15;
 *    high = 640 with one CPU, 160 with four.
 *
 * 5. Locking.
 *
 *    Each zone has a mutex (Linux: zone->lock, a spinlock; a mutex here because benchmark
 *    threads may outnumber cores) over its free lists, pstate and counters.  Each per-CPU
 *    list has a spinlock (Linux 6.0+ pcp->lock), taken with trylock on the allocation and
 *    free paths, as pcp_spin_trylock: when busy (another thread attached to the same CPU
 *    index, or a drain), the request goes to the zone instead.  Order: pcp lock, then zone
 *    lock.  Fields read without their lock - nr_free, free_pages, count and the
 *    statistics - are written with relaxed atomic stores and read with relaxed loads
 *    (Linux's READ_ONCE/WRITE_ONCE and data_race()).  Rare events are counted with atomic
 *    adds.  Nothing here sleeps or calls back into a caller.
 *
 * 6. Departures from Linux.
 *
 *    - No migrate types, pageblocks, compaction, kswapd, reclaim or OOM: a request the
 *      watermark refuses fails, and the core decides whether to drain and sleep.
 *    - The watermark checked is min, not low (see 4.), and there is no lowmem_reserve.
 *    - The node of a CPU comes from the replay's topology (kmb_cpu_node); the per-CPU lists have a
 *      fixed high (no adaptive high_min/high_max of 6.7+).
 *    - Order-0 only on the per-CPU lists (Linux 5.15+ also keeps orders up to 3 and THP).
 *    - Blocks are not checked for poison on allocation (Linux's check_poison_mem): the core
 *      checks every object it hands out.
 *
 * 7. What it exposes for observation.
 *
 *    kmb_buddy_nr_free (buddyinfo), kmb_buddy_free_pages_count, kmb_buddy_watermarks,
 *    kmb_buddy_largest_free, the fragmentation indices of buddy_frag.c, and the event
 *    counters of struct kmb__buddy_ctr (kmb__buddy_counters), which buddy_heap.c declares
 *    as the backend's statistics.
 */
#include "buddy.h"

#include "core/internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define ORDER_PAGES(o) ((size_t)1 << (o))

/* Fields written under a lock and read without it (see 5.). */
#define LOAD(p)   KMB__LOAD(p)
#define ADD(p, n) KMB__ADD(p, n) /* the writer holds the lock */
#define SUB(p, n) KMB__SUB(p, n)
#define COUNT(p)  KMB__COUNT(p) /* no lock */

#define KMB__PS_FREE  0x80u /* pstate: head of a free block; the low bits are its order */
#define KMB__PS_ORDER 0x0fu

#define WATERMARK_SCALE_FACTOR 10 /* vm.watermark_scale_factor default */

enum { WMARK_MIN, WMARK_LOW, WMARK_HIGH };

enum wm_verdict {
	WM_FAIL,    /* the zone refuses the request */
	WM_OK,      /* above min after it */
	WM_RESERVE, /* only M_USE_RESERVE lets it through */
};

struct kmb__free_area {
	struct kmb_page list; /* sentinel */
	size_t nr_free;
};

struct kmb__pcp {
	_Alignas(64) pthread_spinlock_t lock; /* one cache line per CPU */
	unsigned batch, high;                 /* constant after creation */
	size_t count;
	struct kmb_page list; /* sentinel: hot at the head, cold at the tail */
	uint64_t nhit, nrefill, nfree, ndrained;
};

struct kmb__zone {
	pthread_mutex_t lock;
	unsigned node;
	size_t start_pfn, npages; /* no holes: spanned = present = managed */
	struct kmb_page *map;     /* &pm->map[start_pfn] */
	uint8_t *pstate;          /* [npages] */
	size_t free_pages;        /* on the free lists (pcp pages excluded) */
	size_t wmark[3];
	struct kmb__free_area area[KMB_BUDDY_NR_ORDERS];
	struct kmb__pcp *pcp; /* [ncpus] or NULL */
	uint64_t nalloc, nfree, nsplit, nmerge;
};

struct kmb_buddy {
	struct kmb_physmem *pm;
	unsigned ncpus, nzones;
	bool pcp;
	unsigned long min_free_kbytes;
	struct kmb_pagesrc src;
	struct kmb__zone zone[KMB_MAX_NODES];
	uint64_t pcp_busy, wmark_fail, reserve_alloc, remote_alloc, alloc_fail, drain_all;
};

/* ---- CPUs and nodes -------------------------------------------------------------------- */

static unsigned this_cpu(const struct kmb_buddy *b)
{
	return kmb_thread_cpu() % b->ncpus;
}

/* The replay's topology says which node a CPU index is on (kmb_cpu_node). */
static unsigned cpu_to_node(const struct kmb_buddy *b, unsigned cpu)
{
	return kmb_cpu_node(cpu) % b->nzones;
}

static unsigned node_ncpus(const struct kmb_buddy *b, unsigned node)
{
	unsigned n = 0;

	for (unsigned cpu = 0; cpu < b->ncpus; cpu++)
		n += cpu_to_node(b, cpu) == node;
	return n;
}

/* ---- free lists (zone lock held) ------------------------------------------------------- */

static void add_to_free_list(struct kmb__zone *z, struct kmb_page *pg, unsigned order, bool tail)
{
	struct kmb__free_area *fa = &z->area[order];

	pg->flags = KMB__PG_BUDDY;
	pg->order = (uint8_t)order;
	pg->usage = KMB_USE_FREE;
	z->pstate[pg - z->map] = (uint8_t)(KMB__PS_FREE | order);
	if (tail)
		kmb__list_add_tail(&fa->list, pg);
	else
		kmb__list_add(&fa->list, pg);
	ADD(&fa->nr_free, 1);
	ADD(&z->free_pages, ORDER_PAGES(order));
}

static void del_from_free_list(struct kmb__zone *z, struct kmb_page *pg, unsigned order)
{
	kmb__list_del(pg);
	pg->flags &= ~KMB__PG_BUDDY;
	z->pstate[pg - z->map] = 0;
	SUB(&z->area[order].nr_free, 1);
	SUB(&z->free_pages, ORDER_PAGES(order));
}

/* Give back the upper halves of a block of order high until one of order low is left. */
static void expand(struct kmb__zone *z, struct kmb_page *pg, unsigned low, unsigned high)
{
	while (high > low) {
		high--;
		add_to_free_list(z, pg + ORDER_PAGES(high), high, false);
		ADD(&z->nsplit, 1);
	}
}

static struct kmb_page *rmqueue_smallest(struct kmb__zone *z, unsigned order)
{
	for (unsigned o = order; o <= KMB_BUDDY_MAX_ORDER; o++) {
		struct kmb__free_area *fa = &z->area[o];
		struct kmb_page *pg;

		if (kmb__list_empty(&fa->list))
			continue;
		pg = fa->list.next;
		del_from_free_list(z, pg, o);
		expand(z, pg, order, o);
		return pg;
	}
	return NULL;
}

/* The buddy at index bidx is a whole free block of this order inside the zone. */
static bool page_is_buddy(const struct kmb__zone *z, size_t bidx, unsigned order)
{
	return bidx + ORDER_PAGES(order) <= z->npages &&
	       z->pstate[bidx] == (uint8_t)(KMB__PS_FREE | order);
}

static void free_one_page_locked(struct kmb__zone *z, struct kmb_page *pg, unsigned order)
{
	size_t idx = (size_t)(pg - z->map);

	while (order < KMB_BUDDY_MAX_ORDER) {
		size_t bidx = idx ^ ORDER_PAGES(order);
		struct kmb_page *buddy;

		if (!page_is_buddy(z, bidx, order))
			break;
		buddy = z->map + bidx;
		del_from_free_list(z, buddy, order);
		buddy->order = 0;
		ADD(&z->nmerge, 1);
		idx &= bidx;
		order++;
	}
	add_to_free_list(z, z->map + idx, order, false);
}

static void free_one_page(struct kmb__zone *z, struct kmb_page *pg, unsigned order)
{
	pthread_mutex_lock(&z->lock);
	free_one_page_locked(z, pg, order);
	ADD(&z->nfree, 1);
	pthread_mutex_unlock(&z->lock);
}

/* ---- watermarks ------------------------------------------------------------------------ */

/* floor(sqrt(x)), digit by digit in base 4 (lib/math/int_sqrt.c). */
uint64_t kmb__int_sqrt(uint64_t x)
{
	uint64_t m, y = 0;

	if (x <= 1)
		return x;
	m = (uint64_t)1 << ((63 - __builtin_clzll(x)) & ~1);
	for (; m != 0; m >>= 2) {
		uint64_t b = y + m;

		y >>= 1;
		if (x >= b) {
			x -= b;
			y += m;
		}
	}
	return y;
}

unsigned long kmb__buddy_min_free_kbytes(uint64_t lowmem_kbytes)
{
	uint64_t v = kmb__int_sqrt(lowmem_kbytes * 16);

	if (v < 128)
		v = 128;
	if (v > 262144)
		v = 262144;
	return (unsigned long)v;
}

/* x * n / d without overflowing x * n (include/linux/math.h mult_frac). */
static size_t mult_frac(size_t x, size_t n, size_t d)
{
	return x / d * n + x % d * n / d;
}

void kmb__buddy_zone_wmarks(size_t managed, size_t lowmem_pages, unsigned long min_free_kbytes,
                            size_t wm[3])
{
	uint64_t pages_min = min_free_kbytes >> (KMB_PAGE_SHIFT - 10);
	size_t min = lowmem_pages ? (size_t)(pages_min * managed / lowmem_pages) : 0;
	size_t tmp = mult_frac(managed, WATERMARK_SCALE_FACTOR, 10000);

	if (min / 4 > tmp)
		tmp = min / 4;
	wm[WMARK_MIN] = min;
	wm[WMARK_LOW] = min + tmp;
	wm[WMARK_HIGH] = min + 2 * tmp;
}

static enum wm_verdict zone_watermark_ok(const struct kmb__zone *z, unsigned order, int flags)
{
	long free = (long)LOAD(&z->free_pages) - ((long)ORDER_PAGES(order) - 1);
	long min = (long)z->wmark[WMARK_MIN], mark = min;

	if (flags & M_USE_RESERVE) {
		mark -= mark / 2; /* ALLOC_HIGH */
		mark -= mark / 4; /* ALLOC_HARDER */
	}
	if (free <= mark)
		return WM_FAIL;
	if (order > 0) {
		unsigned o = order;

		while (o <= KMB_BUDDY_MAX_ORDER && LOAD(&z->area[o].nr_free) == 0)
			o++;
		if (o > KMB_BUDDY_MAX_ORDER)
			return WM_FAIL;
	}
	return free <= min ? WM_RESERVE : WM_OK;
}

/* ---- per-CPU lists --------------------------------------------------------------------- */

unsigned kmb__buddy_batchsize(size_t managed)
{
	size_t batch = managed >> 10, pow2 = 1;

	if (batch > ((size_t)1 << 20) / KMB_PAGE_SIZE)
		batch = ((size_t)1 << 20) / KMB_PAGE_SIZE;
	batch /= 4;
	if (batch < 1)
		batch = 1;
	while (pow2 * 2 <= batch + batch / 2)
		pow2 *= 2;
	return pow2 > 1 ? (unsigned)(pow2 - 1) : 1;
}

unsigned kmb__buddy_highsize(size_t low_wmark, unsigned local_cpus, unsigned batch)
{
	size_t high = low_wmark / (local_cpus ? local_cpus : 1);

	return high > (size_t)batch * 4 ? (unsigned)high : batch * 4;
}

/* Take up to count order-0 pages from the zone onto a per-CPU list (rmqueue_bulk). */
static size_t rmqueue_bulk(struct kmb__zone *z, unsigned count, struct kmb_page *list)
{
	size_t n = 0;

	pthread_mutex_lock(&z->lock);
	for (; n < count; n++) {
		struct kmb_page *pg = rmqueue_smallest(z, 0);

		if (pg == NULL)
			break;
		pg->flags = KMB__PG_PCP;
		kmb__list_add_tail(list, pg);
	}
	pthread_mutex_unlock(&z->lock);
	return n;
}

/* Give count pages from the cold end of a per-CPU list back to the zone (pcp lock held). */
static void free_pcppages_bulk(struct kmb__zone *z, struct kmb__pcp *pcp, size_t count)
{
	size_t n = 0;

	pthread_mutex_lock(&z->lock);
	for (; n < count && !kmb__list_empty(&pcp->list); n++) {
		struct kmb_page *pg = pcp->list.prev;

		kmb__list_del(pg);
		pg->flags = 0;
		free_one_page_locked(z, pg, 0);
	}
	pthread_mutex_unlock(&z->lock);
	SUB(&pcp->count, n);
	ADD(&pcp->ndrained, n);
}

/* An order-0 page from this CPU's list; *busy when its lock was taken. */
static struct kmb_page *rmqueue_pcplist(struct kmb_buddy *b, struct kmb__zone *z, unsigned cpu,
                                        bool *busy)
{
	struct kmb__pcp *pcp = &z->pcp[cpu];
	struct kmb_page *pg = NULL;
	bool refilled = false;

	*busy = pthread_spin_trylock(&pcp->lock) != 0;
	if (*busy) {
		COUNT(&b->pcp_busy);
		return NULL;
	}
	if (kmb__list_empty(&pcp->list)) {
		ADD(&pcp->count, rmqueue_bulk(z, pcp->batch, &pcp->list));
		refilled = true;
	}
	if (!kmb__list_empty(&pcp->list)) {
		pg = pcp->list.next;
		kmb__list_del(pg);
		pg->flags = 0;
		SUB(&pcp->count, 1);
		ADD(refilled ? &pcp->nrefill : &pcp->nhit, 1);
	}
	pthread_spin_unlock(&pcp->lock);
	return pg;
}

static void free_unref_page(struct kmb_buddy *b, struct kmb__zone *z, struct kmb_page *pg)
{
	struct kmb__pcp *pcp = &z->pcp[this_cpu(b)];

	if (pthread_spin_trylock(&pcp->lock) != 0) {
		COUNT(&b->pcp_busy);
		free_one_page(z, pg, 0);
		return;
	}
	pg->flags = KMB__PG_PCP;
	kmb__list_add(&pcp->list, pg);
	ADD(&pcp->count, 1);
	ADD(&pcp->nfree, 1);
	if (pcp->count >= pcp->high)
		free_pcppages_bulk(z, pcp, pcp->batch);
	pthread_spin_unlock(&pcp->lock);
}

static int pcp_init(struct kmb_buddy *b, struct kmb__zone *z)
{
	unsigned batch = kmb__buddy_batchsize(z->npages);
	unsigned high = kmb__buddy_highsize(z->wmark[WMARK_LOW], node_ncpus(b, z->node), batch);
	size_t bytes = sizeof(struct kmb__pcp) * b->ncpus;

	z->pcp = aligned_alloc(_Alignof(struct kmb__pcp), bytes);
	if (z->pcp == NULL)
		return -ENOMEM;
	memset(z->pcp, 0, bytes);
	for (unsigned cpu = 0; cpu < b->ncpus; cpu++) {
		struct kmb__pcp *pcp = &z->pcp[cpu];

		pthread_spin_init(&pcp->lock, PTHREAD_PROCESS_PRIVATE);
		pcp->batch = batch;
		pcp->high = high;
		kmb__list_init(&pcp->list);
	}
	return 0;
}

/* ---- allocation ------------------------------------------------------------------------ */

static struct kmb_page *rmqueue_buddy(struct kmb__zone *z, unsigned order, int flags,
                                      enum wm_verdict *v)
{
	struct kmb_page *pg = NULL;

	pthread_mutex_lock(&z->lock);
	*v = zone_watermark_ok(z, order, flags);
	if (*v != WM_FAIL)
		pg = rmqueue_smallest(z, order);
	if (pg != NULL)
		ADD(&z->nalloc, 1);
	pthread_mutex_unlock(&z->lock);
	return pg;
}

static struct kmb_page *zone_alloc(struct kmb_buddy *b, struct kmb__zone *z, unsigned cpu,
                                   unsigned order, int flags, enum wm_verdict *v)
{
	if (order == 0 && b->pcp) {
		struct kmb_page *pg;
		bool busy;

		*v = zone_watermark_ok(z, 0, flags); /* lockless, like zone_watermark_fast */
		if (*v == WM_FAIL)
			return NULL;
		pg = rmqueue_pcplist(b, z, cpu, &busy);
		if (pg != NULL || !busy)
			return pg;
	}
	return rmqueue_buddy(z, order, flags, v);
}

static void *prep_new_page(struct kmb_buddy *b, struct kmb_page *pg, unsigned order, int flags)
{
	enum kmb_page_usage usage = (flags & KMB_GFP_META) ? KMB_USE_META : KMB_USE_DATA;

	pg->flags = 0;
	pg->order = (uint8_t)order;
	pg->usage = (uint8_t)usage;
	kmb_physmem_account(b->pm, (long)ORDER_PAGES(order), usage);
	return kmb_page_addr(b->pm, pg);
}

void *kmb_buddy_alloc_pages(struct kmb_buddy *b, unsigned order, int flags)
{
	unsigned cpu = this_cpu(b), home = cpu_to_node(b, cpu), i;
	struct kmb_page *pg = NULL;
	enum wm_verdict v = WM_FAIL;

	if (kmb_fault_inject())
		return NULL;
	for (i = 0; order <= KMB_BUDDY_MAX_ORDER && i < b->nzones && pg == NULL; i++) {
		pg = zone_alloc(b, &b->zone[(home + i) % b->nzones], cpu, order, flags, &v);
		if (pg == NULL && v == WM_FAIL)
			COUNT(&b->wmark_fail);
	}
	if (pg == NULL) {
		COUNT(&b->alloc_fail);
		return NULL;
	}
	if (i > 1)
		COUNT(&b->remote_alloc);
	if (v == WM_RESERVE)
		COUNT(&b->reserve_alloc);
	return prep_new_page(b, pg, order, flags);
}

/* ---- free ------------------------------------------------------------------------------ */

static void check_free(const struct kmb_buddy *b, void *addr, unsigned order)
{
	const struct kmb_physmem *pm = b->pm;
	const struct kmb_page *pg;

	if (!kmb_physmem_contains(pm, addr) || ((char *)addr - pm->base) % KMB_PAGE_SIZE != 0)
		kmb_panic(KMB_PANIC_BAD_FREE, addr,
		          "kmb_buddy_free_pages(%p, %u): not a page of physical memory", addr,
		          order);
	pg = kmb_page_of(pm, addr);
	if (pg->usage == KMB_USE_FREE && (pg->flags & (KMB__PG_BUDDY | KMB__PG_PCP)))
		kmb_panic(KMB_PANIC_DOUBLE_FREE, addr, "kmb_buddy_free_pages(%p, %u): double free",
		          addr, order);
	if (pg->usage == KMB_USE_FREE)
		kmb_panic(KMB_PANIC_BAD_FREE, addr,
		          "kmb_buddy_free_pages(%p, %u): not the head of an allocated block", addr,
		          order);
	if (pg->order != order)
		kmb_panic(KMB_PANIC_BAD_FREE, addr,
		          "kmb_buddy_free_pages(%p, %u): the block has order %u", addr, order,
		          pg->order);
}

/* Blank every frame of the block and poison its memory (free_pages_prepare). */
static void free_pages_prepare(struct kmb_buddy *b, struct kmb_page *pg, unsigned order)
{
	for (size_t i = 0; i < ORDER_PAGES(order); i++) {
		pg[i].flags = 0;
		pg[i].order = 0;
		pg[i].usage = KMB_USE_FREE;
	}
	kmb_poison(b->pm, kmb_page_addr(b->pm, pg), ORDER_PAGES(order) << KMB_PAGE_SHIFT);
}

void kmb_buddy_free_pages(struct kmb_buddy *b, void *addr, unsigned order)
{
	struct kmb_page *pg;
	struct kmb__zone *z;
	enum kmb_page_usage usage;

	check_free(b, addr, order);
	pg = kmb_page_of(b->pm, addr);
	usage = (enum kmb_page_usage)pg->usage;
	z = &b->zone[pg->node];
	free_pages_prepare(b, pg, order);
	kmb_physmem_account(b->pm, -(long)ORDER_PAGES(order), usage);
	if (order == 0 && b->pcp)
		free_unref_page(b, z, pg);
	else
		free_one_page(z, pg, order);
}

void kmb_buddy_drain(struct kmb_buddy *b)
{
	COUNT(&b->drain_all);
	if (!b->pcp)
		return;
	for (unsigned n = 0; n < b->nzones; n++) {
		struct kmb__zone *z = &b->zone[n];

		for (unsigned cpu = 0; cpu < b->ncpus; cpu++) {
			struct kmb__pcp *pcp = &z->pcp[cpu];

			pthread_spin_lock(&pcp->lock);
			if (pcp->count > 0)
				free_pcppages_bulk(z, pcp, pcp->count);
			pthread_spin_unlock(&pcp->lock);
		}
	}
}

/* ---- creation -------------------------------------------------------------------------- */

/* Every frame free, in the largest aligned blocks (memblock_free_all's order choice). */
static void zone_free_all(struct kmb__zone *z)
{
	size_t idx = 0;

	while (idx < z->npages) {
		unsigned order = KMB_BUDDY_MAX_ORDER;

		while (order > 0 && ((idx & (ORDER_PAGES(order) - 1)) != 0 ||
		                     idx + ORDER_PAGES(order) > z->npages))
			order--;
		add_to_free_list(z, z->map + idx, order, true); /* ascending addresses */
		idx += ORDER_PAGES(order);
	}
}

static int zone_init(struct kmb_buddy *b, struct kmb__zone *z, unsigned node)
{
	struct kmb_physmem *pm = b->pm;
	int err;

	z->node = node;
	z->start_pfn = pm->node_start[node];
	z->npages = pm->node_start[node + 1] - z->start_pfn;
	z->map = pm->map + z->start_pfn;
	z->pstate = calloc(z->npages ? z->npages : 1, 1);
	if (z->pstate == NULL)
		return -ENOMEM;
	err = pthread_mutex_init(&z->lock, NULL);
	if (err != 0) {
		free(z->pstate);
		return -err;
	}
	for (unsigned o = 0; o <= KMB_BUDDY_MAX_ORDER; o++)
		kmb__list_init(&z->area[o].list);
	zone_free_all(z);
	return 0;
}

static void setup_wmarks(struct kmb_buddy *b)
{
	b->min_free_kbytes =
	        kmb__buddy_min_free_kbytes((uint64_t)b->pm->npages << (KMB_PAGE_SHIFT - 10));
	for (unsigned n = 0; n < b->nzones; n++)
		kmb__buddy_zone_wmarks(b->zone[n].npages, b->pm->npages, b->min_free_kbytes,
		                       b->zone[n].wmark);
}

static void *pagesrc_alloc(struct kmb_pagesrc *ps, unsigned order, int flags)
{
	return kmb_buddy_alloc_pages(ps->priv, order, flags);
}

static void pagesrc_free(struct kmb_pagesrc *ps, void *addr, unsigned order)
{
	kmb_buddy_free_pages(ps->priv, addr, order);
}

static int buddy_setup(struct kmb_buddy *b)
{
	struct kmb_physmem *pm = b->pm;
	int err;

	kmb_physmem_reset_map(pm);
	for (unsigned n = 0; n < pm->nnodes; n++) {
		err = zone_init(b, &b->zone[n], n);
		if (err != 0)
			return err;
		b->nzones++;
	}
	setup_wmarks(b);
	for (unsigned n = 0; b->pcp && n < b->nzones; n++) {
		err = pcp_init(b, &b->zone[n]);
		if (err != 0)
			return err;
	}
	return 0;
}

static void pagesrc_memstat(struct kmb_pagesrc *ps, struct kmb_memstat *ms);
static void pagesrc_drain(struct kmb_pagesrc *ps);
static int pagesrc_extfrag(struct kmb_pagesrc *ps, unsigned order, int *unusable, int *fragindex);
static size_t pagesrc_stats(struct kmb_pagesrc *ps, struct kmb_stat *out, size_t max);
static void pagesrc_destroy(struct kmb_pagesrc *ps);

int kmb_buddy_create(struct kmb_physmem *pm, unsigned ncpus, bool pcp, struct kmb_buddy **out)
{
	struct kmb_buddy *b;
	int err;

	*out = NULL;
	if (pm == NULL || pm->map == NULL || pm->nnodes == 0 || pm->nnodes > KMB_MAX_NODES ||
	    ncpus == 0 || ncpus > KMB_MAX_CPUS)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	b->pm = pm;
	b->ncpus = ncpus;
	b->pcp = pcp;
	b->src = (struct kmb_pagesrc){.name = "buddy",
	                              .alloc_pages = pagesrc_alloc,
	                              .free_pages = pagesrc_free,
	                              .max_order = KMB_BUDDY_MAX_ORDER,
	                              .memstat = pagesrc_memstat,
	                              .drain = pagesrc_drain,
	                              .extfrag = pagesrc_extfrag,
	                              .stats = pagesrc_stats,
	                              .destroy = pagesrc_destroy,
	                              .priv = b};
	err = buddy_setup(b);
	if (err != 0) {
		kmb_buddy_destroy(b);
		return err;
	}
	*out = b;
	return 0;
}

void kmb_buddy_destroy(struct kmb_buddy *b)
{
	if (b == NULL)
		return;
	for (unsigned n = 0; n < b->nzones; n++) {
		struct kmb__zone *z = &b->zone[n];

		for (unsigned cpu = 0; z->pcp != NULL && cpu < b->ncpus; cpu++)
			pthread_spin_destroy(&z->pcp[cpu].lock);
		free(z->pcp);
		pthread_mutex_destroy(&z->lock);
		free(z->pstate);
	}
	free(b);
}

struct kmb_pagesrc *kmb_buddy_pagesrc(struct kmb_buddy *b)
{
	return &b->src;
}

/* ---- the page-source face: `slab@buddy` and friends --------------------------------- */

static void pagesrc_memstat(struct kmb_pagesrc *ps, struct kmb_memstat *ms)
{
	ms->free_pages = kmb_buddy_free_pages_count(ps->priv);
	ms->largest_free = kmb_buddy_largest_free(ps->priv);
}

static void pagesrc_drain(struct kmb_pagesrc *ps)
{
	kmb_buddy_drain(ps->priv);
}

static int pagesrc_extfrag(struct kmb_pagesrc *ps, unsigned order, int *unusable, int *fragindex)
{
	*unusable = kmb_buddy_unusable_index(ps->priv, order);
	*fragindex = kmb_buddy_fragmentation_index(ps->priv, order);
	return 0;
}

static size_t pagesrc_stats(struct kmb_pagesrc *ps, struct kmb_stat *out, size_t max)
{
	return kmb_buddy_stats(ps->priv, out, max);
}

static void pagesrc_destroy(struct kmb_pagesrc *ps)
{
	kmb_buddy_destroy(ps->priv);
}

static int pagesrc_create(struct kmb_physmem *pm, unsigned ncpus, struct kmb_pagesrc **out)
{
	struct kmb_buddy *b;
	int rc = kmb_buddy_create(pm, ncpus, true, &b);

	if (rc != 0)
		return rc;
	*out = &b->src;
	return 0;
}

const struct kmb_pagesrc_ops kmb_buddy_pagesrc_ops = {
        .name = "buddy",
        .summary = "pages from the Linux-style binary buddy allocator (watermarks, per-CPU lists)",
        .create = pagesrc_create,
};

/* ---- declared statistics (illumos kstat style): one table feeds every report ---------- */

#define PSTAT(f, unit, desc) KMB_STAT_DECL(struct kmb__buddy_ctr, f, unit, desc)

static const struct kmb_stat_decl page_stats_table[] = {
        PSTAT(pcp_hit, "events", "order-0 page allocations from a non-empty per-CPU list"),
        PSTAT(pcp_refill, "events", "order-0 page allocations that refilled the per-CPU list"),
        PSTAT(zone_alloc, "events", "page allocations from the zone free lists"),
        PSTAT(pcp_free, "events", "order-0 page frees to a per-CPU list"),
        PSTAT(zone_free, "events", "page frees to the zone free lists"),
        PSTAT(pcp_drained, "pages", "pages moved from per-CPU lists back to the zones"),
        PSTAT(pcp_busy, "events", "per-CPU list lock busy: the zone served instead"),
        PSTAT(split, "events", "page blocks halved on allocation"),
        PSTAT(merge, "events", "page buddies coalesced on free"),
        PSTAT(wmark_fail, "events", "page requests a zone refused at its watermark"),
        PSTAT(reserve_alloc, "events", "page allocations below the min watermark (M_USE_RESERVE)"),
        PSTAT(remote_alloc, "events", "page allocations served by another node"),
        PSTAT(alloc_fail, "events", "page allocations that failed"),
        PSTAT(drain_all, "events", "drains of all per-CPU lists"),
        PSTAT(pcp_pages, "pages", "pages on per-CPU lists now"),
};

size_t kmb_buddy_stats(const struct kmb_buddy *b, struct kmb_stat *out, size_t max)
{
	const size_t n = sizeof(page_stats_table) / sizeof(page_stats_table[0]);
	struct kmb__buddy_ctr c;

	kmb__buddy_counters(b, &c);
	return kmb_stats_fill(page_stats_table, n, &c, out, max);
}

/* ---- observation ----------------------------------------------------------------------- */

size_t kmb__buddy_pcp_count(const struct kmb_buddy *b)
{
	size_t n = 0;

	for (unsigned z = 0; b->pcp && z < b->nzones; z++)
		for (unsigned cpu = 0; cpu < b->ncpus; cpu++)
			n += LOAD(&b->zone[z].pcp[cpu].count);
	return n;
}

size_t kmb_buddy_free_pages_count(const struct kmb_buddy *b)
{
	size_t n = kmb__buddy_pcp_count(b);

	for (unsigned z = 0; z < b->nzones; z++)
		n += LOAD(&b->zone[z].free_pages);
	return n;
}

size_t kmb_buddy_nr_free(const struct kmb_buddy *b, unsigned order)
{
	size_t n = 0;

	for (unsigned z = 0; order <= KMB_BUDDY_MAX_ORDER && z < b->nzones; z++)
		n += LOAD(&b->zone[z].area[order].nr_free);
	return n;
}

void kmb_buddy_watermarks(const struct kmb_buddy *b, size_t *min, size_t *low, size_t *high)
{
	size_t sum[3] = {0, 0, 0};

	for (unsigned z = 0; z < b->nzones; z++)
		for (int i = 0; i < 3; i++)
			sum[i] += b->zone[z].wmark[i];
	if (min)
		*min = sum[WMARK_MIN];
	if (low)
		*low = sum[WMARK_LOW];
	if (high)
		*high = sum[WMARK_HIGH];
}

size_t kmb_buddy_largest_free(const struct kmb_buddy *b)
{
	for (int o = KMB_BUDDY_MAX_ORDER; o >= 0; o--)
		if (kmb_buddy_nr_free(b, (unsigned)o) > 0)
			return KMB_PAGE_SIZE << o;
	return kmb__buddy_pcp_count(b) > 0 ? KMB_PAGE_SIZE : 0;
}

void kmb__buddy_pcp_params(const struct kmb_buddy *b, unsigned node, unsigned *batch,
                           unsigned *high)
{
	bool ok = b->pcp && node < b->nzones;

	*batch = ok ? b->zone[node].pcp[0].batch : 0;
	*high = ok ? b->zone[node].pcp[0].high : 0;
}

void kmb__buddy_counters(const struct kmb_buddy *b, struct kmb__buddy_ctr *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned n = 0; n < b->nzones; n++) {
		const struct kmb__zone *z = &b->zone[n];

		c->zone_alloc += LOAD(&z->nalloc);
		c->zone_free += LOAD(&z->nfree);
		c->split += LOAD(&z->nsplit);
		c->merge += LOAD(&z->nmerge);
		for (unsigned cpu = 0; b->pcp && cpu < b->ncpus; cpu++) {
			const struct kmb__pcp *pcp = &z->pcp[cpu];

			c->pcp_hit += LOAD(&pcp->nhit);
			c->pcp_refill += LOAD(&pcp->nrefill);
			c->pcp_free += LOAD(&pcp->nfree);
			c->pcp_drained += LOAD(&pcp->ndrained);
		}
	}
	c->pcp_busy = LOAD(&b->pcp_busy);
	c->wmark_fail = LOAD(&b->wmark_fail);
	c->reserve_alloc = LOAD(&b->reserve_alloc);
	c->remote_alloc = LOAD(&b->remote_alloc);
	c->alloc_fail = LOAD(&b->alloc_fail);
	c->drain_all = LOAD(&b->drain_all);
	c->pcp_pages = kmb__buddy_pcp_count(b);
}
