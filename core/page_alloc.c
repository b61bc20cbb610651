/*
 * core/page_alloc.c - the default page source: a binary buddy page allocator in the manner
 * of Linux's mm/page_alloc.c: zones, per-order free lists, watermarks and per-CPU page lists.
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
 *                          free_area[order]: a doubly linked list of free blocks (O(1)
 *                          removal of any block) and its length nr_free, as
 *                          /proc/buddyinfo prints it; nonempty, bit k set while
 *                          free_area[k] has a block, so that the smallest usable order is
 *                          one count-trailing-zeros instead of a walk over empty lists.
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
 *                          page_type; a TSan-clean build cannot).  It is padded with
 *                          zeros to a whole number of order-10 blocks, so that the buddy
 *                          index (idx ^ 2^k) of any block in the zone has a byte: a buddy
 *                          reaching past the zone's end is never marked free, and the merge
 *                          test needs no bounds check.
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
 *                   halves while halving down to order (expand).  The lists of the orders
 *                   in between are empty - that is why the block came from above - so
 *                   each half becomes its list's only entry: a level of expand is a
 *                   handful of stores and no loads.  The head frame gets the
 *                   order and the usage, and the pages are accounted (kmb_physmem_account).
 *    free(order):   the block's frames are blanked (Linux free_pages_prepare), poisoned
 *                   with INVARIANTS (page_poisoning), unaccounted; order 0 with per-CPU
 *                   lists goes to the head of this CPU's list of the page's zone, and when
 *                   the list reaches `high`, `batch` pages go back from its tail
 *                   (free_pcppages_bulk).  Otherwise, and for those drained pages,
 *                   __free_one_page merges with the buddy while it is a free block of the
 *                   same order inside the zone, then links the result at its list head.
 *                   A level of the merge is one byte compare, an unlink and three stores.
 *    Counters:      free_pages, split and merge are updated once per request (by the
 *                   whole count), not at each level of a split or merge chain.
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
 *    lowers the mark as GFP_ATOMIC does (kmb_wmark_reserve): Linux 6.x __zone_watermark_ok
 *    takes min -= min / 2 for ALLOC_MIN_RESERVE (5.x: ALLOC_HIGH), then min -= min / 4 for
 *    ALLOC_NON_BLOCK (5.x: ALLOC_HARDER), so the floor is min - min/2 - min/8 = 3/8 of min
 *    (512 -> 256 -> 192).  vmem's page source and the baselines' budgets use the same
 *    floor.  As in Linux, pages on per-CPU lists are not in free_pages, and a refill may
 *    take its batch below the mark.
 *
 *    Per-CPU list sizes follow zone_batchsize() and zone_highsize() (5.14+):
 *        batch = min(managed >> 10, 1 MiB / PAGE_SIZE) / 4, at least 1, then
 *                rounddown_pow_of_two(batch + batch / 2) - 1, at least 1
 *        high  = max(low / (CPUs of the zone's node), 4 * batch)
 *    256 MiB: batch = min(64, 256) / 4 = 16 -> rounddown_pow_of_two(24) - 1 = 15;
 *    high = 640 with one CPU, 160 with four.  The tunables pcp_high and pcp_batch
 *    ("slab@buddy(pcp_high=64,pcp_batch=8)", "buddy(pcp_batch=4)") replace either figure
 *    for every list (kmb_buddy_set_pcp); 0, their default, keeps the rule above.
 *
 * 5. Locking.
 *
 *    Each zone has a spinlock (Linux's zone->lock) over its free lists, pstate, nonempty
 *    and counters; each per-CPU list has one too (Linux 6.0+ pcp->lock), taken with
 *    trylock on the allocation and free paths, as pcp_spin_trylock: when busy (another
 *    thread on the same CPU index, or a drain), the request goes to the zone instead.
 *    Both are kmbench spinlocks (kmbench/lock.h): one atomic exchange to take and a
 *    release store to drop; a waiter never sleeps, but because benchmark threads may
 *    outnumber cores and a holder can be preempted by the OS, it yields its core after
 *    spinning for a bound derived in core/lock.c, then spins again.  Each lock counts its
 *    acquisitions, contended acquisitions, spins and yields ("zone.lock_*" and
 *    "pcp.lock_*" statistics, summed over zones and CPUs).  Order: pcp lock, then zone
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
 *    kmb_buddy_largest_free, the fragmentation indices of page_frag.c, and the event
 *    counters of struct kmb__buddy_ctr (kmb__buddy_counters), declared as the page
 *    source's statistics (kmb_buddy_stats; the buddy backend puts its heap's after them).
 */
#include "internal.h"
#include "page_alloc.h"

#include <kmbench/lock.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ORDER_PAGES(o) ((size_t)1 << (o))

/* Fields written under a lock and read without it (see 5.). */
#define LOAD(p)   KMB_LOAD(p)
#define ADD(p, n) KMB_ADD(p, n) /* the writer holds the lock */
#define SUB(p, n) KMB_SUB(p, n)
#define COUNT(p)  KMB_COUNT(p) /* no lock */

#define KMB__PS_FREE  0x80u /* pstate: head of a free block; the low bits are its order */
#define KMB__PS_ORDER 0x0fu

#define WATERMARK_SCALE_FACTOR 10 /* vm.watermark_scale_factor default */

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
	_Alignas(64) struct kmb_lock lock; /* spinlock (see 5.); one cache line per CPU */
	unsigned batch, high;              /* constant after creation */
	size_t count;
	struct kmb_page list; /* sentinel: hot at the head, cold at the tail */
	uint64_t nhit, nrefill, nfree, ndrained;
};

struct kmb__zone {
	_Alignas(64) struct kmb_lock lock; /* spinlock (see 5.) */
	unsigned node;
	size_t start_pfn, npages; /* no holes: spanned = present = managed */
	struct kmb_page *map;     /* &pm->map[start_pfn] */
	uint8_t *pstate;          /* [npages rounded up to a MAX_ORDER block], see 2. */
	size_t free_pages;        /* on the free lists (pcp pages excluded) */
	unsigned nonempty;        /* bit o: area[o] has a block (see 2.) */
	size_t wmark[3];
	size_t wmark_reserve; /* the min mark lowered for M_USE_RESERVE (see 4.) */
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

/* Reductions by a compare first: a division costs more than the rest of the fast path. */
static inline unsigned this_cpu(const struct kmb_buddy *b)
{
	unsigned cpu = kmb_thread_cpu();

	return kmb__likely(cpu < b->ncpus) ? cpu : cpu % b->ncpus;
}

/* The replay's topology says which node a CPU index is on (kmb_cpu_node). */
static inline unsigned cpu_to_node(const struct kmb_buddy *b, unsigned cpu)
{
	unsigned node;

	if (b->nzones == 1)
		return 0;
	node = kmb_cpu_node(cpu);

	return kmb__likely(node < b->nzones) ? node : node % b->nzones;
}

static unsigned node_ncpus(const struct kmb_buddy *b, unsigned node)
{
	unsigned n = 0;

	for (unsigned cpu = 0; cpu < b->ncpus; cpu++)
		n += cpu_to_node(b, cpu) == node;
	return n;
}

/*
 * ---- free lists (zone lock held) -------------------------------------------------------
 *
 * As in Linux, the zone's free_pages and the split and merge counters are updated once
 * per request, not at every level of a split or merge chain.  Loop-invariant fields are
 * copied to locals first: a store through pstate (bytes) may alias anything, and would
 * make the compiler reload them at every level.
 */

/* Link a block at the head (tail) of its free list; its frames other than pg are blank. */
static inline void add_to_free_list(struct kmb__zone *z, struct kmb_page *pg, size_t idx,
                                    unsigned order, bool tail)
{
	struct kmb__free_area *fa = &z->area[order];

	pg->flags = KMB__PG_BUDDY;
	pg->order = (uint8_t)order;
	z->pstate[idx] = (uint8_t)(KMB__PS_FREE | order);
	if (tail)
		kmb_list_insert(pg, fa->list.prev, &fa->list);
	else
		kmb_list_insert(pg, &fa->list, fa->list.next);
	ADD(&fa->nr_free, 1);
	z->nonempty |= 1u << order;
}

/*
 * Give back the upper halves of a block of order high until one of order low is left
 * (expand).  The lists of orders low .. high - 1 are empty (the block came from the
 * smallest non-empty order >= low), so each half becomes its list's only entry: a level
 * is stores only.
 */
static inline void expand(struct kmb__zone *z, struct kmb_page *pg, size_t idx, unsigned low,
                          unsigned high)
{
	uint8_t *pstate = z->pstate;
	struct kmb__free_area *area = z->area;
	size_t size = ORDER_PAGES(high);

	z->nonempty |= (1u << high) - (1u << low);
	while (high > low) {
		struct kmb__free_area *fa = &area[--high];
		struct kmb_page *half = pg + (size >>= 1);

		half->flags = KMB__PG_BUDDY;
		half->order = (uint8_t)high;
		half->next = half->prev = &fa->list;
		fa->list.next = fa->list.prev = half;
		KMB_STORE(&fa->nr_free, 1);
		pstate[idx + size] = (uint8_t)(KMB__PS_FREE | high);
	}
}

/*
 * INVARIANTS (zone lock held): free_pages is the sum of the free lists' blocks and a bit of
 * nonempty is set exactly for a non-empty list (eleven orders: no walk of a list).
 */
static void zone_check_counts(const struct kmb__zone *z, const char *call, unsigned order)
{
	size_t pages = 0;

	for (unsigned o = 0; o <= KMB_BUDDY_MAX_ORDER; o++) {
		size_t nr = z->area[o].nr_free;

		kmb_check(((z->nonempty >> o) & 1) == (nr != 0), NULL,
		          "%s(%u): zone %u: order %u has %zu free blocks, nonempty bit %u", call,
		          order, z->node, o, nr, (z->nonempty >> o) & 1);
		pages += nr << o;
	}
	kmb_check(pages == z->free_pages, NULL,
	          "%s(%u): zone %u: %zu pages on the free lists, free_pages %zu", call, order,
	          z->node, pages, z->free_pages);
}

/* The first block of the smallest order >= order, split down to order (free_pages too). */
static inline struct kmb_page *rmqueue_smallest(struct kmb__zone *z, unsigned order)
{
	unsigned avail = z->nonempty >> order, o;
	struct kmb__free_area *fa;
	struct kmb_page *pg;
	size_t idx, nr;

	if (avail == 0)
		return NULL;
	o = order + (unsigned)__builtin_ctz(avail);
	fa = &z->area[o];
	pg = fa->list.next;
	idx = (size_t)(pg - z->map);
	/* the list's head is a free block of its order, aligned to its size */
	kmb_check(z->pstate[idx] == (uint8_t)(KMB__PS_FREE | o) &&
	                  (idx & (ORDER_PAGES(o) - 1)) == 0,
	          NULL,
	          "kmb_buddy_alloc_pages(%u): zone %u: pfn %zu heads the order-%u list, state %#x",
	          order, z->node, z->start_pfn + idx, o, z->pstate[idx]);
	pg->prev->next = pg->next;
	pg->next->prev = pg->prev;
	pg->flags = 0;
	z->pstate[idx] = 0;
	nr = fa->nr_free - 1;
	KMB_STORE(&fa->nr_free, nr);
	if (nr == 0)
		z->nonempty &= ~(1u << o);
	expand(z, pg, idx, order, o);
	SUB(&z->free_pages, ORDER_PAGES(order));
	if (o > order)
		ADD(&z->nsplit, o - order);
	if (kmb_unlikely(kmb_invariants_on))
		zone_check_counts(z, "kmb_buddy_alloc_pages", order);
	return pg;
}

/*
 * Merge a block with its buddy while the buddy is a whole free block of the same order
 * (__free_one_page), then link the result.  pstate is padded to a multiple of the largest
 * block with zeros (2.), so the buddy of a block inside the zone always has a pstate byte,
 * and a buddy reaching past the zone's end is never marked free: no bounds test.
 */
static void free_one_page_locked(struct kmb__zone *z, struct kmb_page *pg, unsigned order)
{
	uint8_t *pstate = z->pstate;
	struct kmb_page *map = z->map;
	struct kmb__free_area *area = z->area;
	unsigned nonempty = z->nonempty, start = order;
	size_t idx = (size_t)(pg - map);

	/* a block of its order's alignment that is not already free (merge needs both) */
	kmb_check((idx & (ORDER_PAGES(order) - 1)) == 0 && pstate[idx] == 0, NULL,
	          "kmb_buddy_free_pages(pfn %zu, %u): zone %u: misaligned or free (state %#x)",
	          z->start_pfn + idx, order, z->node, pstate[idx]);
	while (order < KMB_BUDDY_MAX_ORDER) {
		size_t bit = ORDER_PAGES(order), bidx = idx ^ bit, nr;
		struct kmb_page *buddy;

		if (pstate[bidx] != (uint8_t)(KMB__PS_FREE | order))
			break;
		buddy = map + bidx;
		buddy->prev->next = buddy->next;
		buddy->next->prev = buddy->prev;
		buddy->flags = 0;
		buddy->order = 0;
		pstate[bidx] = 0;
		nr = area[order].nr_free - 1;
		KMB_STORE(&area[order].nr_free, nr);
		if (nr == 0)
			nonempty &= ~(1u << order);
		idx &= ~bit;
		order++;
	}
	z->nonempty = nonempty;
	add_to_free_list(z, map + idx, idx, order, false);
	ADD(&z->free_pages, ORDER_PAGES(start));
	if (order > start)
		ADD(&z->nmerge, order - start);
	if (kmb_unlikely(kmb_invariants_on))
		zone_check_counts(z, "kmb_buddy_free_pages", start);
}

static __attribute__((noinline)) void free_one_page(struct kmb__zone *z, struct kmb_page *pg,
                                                    unsigned order)
{
	kmb_spin_lock(&z->lock);
	free_one_page_locked(z, pg, order);
	ADD(&z->nfree, 1);
	kmb_spin_unlock(&z->lock);
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

unsigned long kmb_min_free_kbytes(uint64_t lowmem_kbytes)
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

void kmb_zone_wmarks(size_t managed, size_t lowmem_pages, unsigned long min_free_kbytes,
                     size_t wm[3])
{
	uint64_t pages_min = min_free_kbytes >> (KMB_PAGE_SHIFT - 10);
	size_t min = lowmem_pages ? (size_t)(pages_min * managed / lowmem_pages) : 0;
	size_t tmp = mult_frac(managed, WATERMARK_SCALE_FACTOR, 10000);

	if (min / 4 > tmp)
		tmp = min / 4;
	wm[KMB_WMARK_MIN] = min;
	wm[KMB_WMARK_LOW] = min + tmp;
	wm[KMB_WMARK_HIGH] = min + 2 * tmp;
}

/* mark -= mark / 2 (ALLOC_MIN_RESERVE), then mark -= mark / 4 (ALLOC_NON_BLOCK): see 4. */
size_t kmb_wmark_reserve(size_t min)
{
	size_t mark = min;

	mark -= mark / 2;
	mark -= mark / 4;
	return mark;
}

static inline enum wm_verdict zone_watermark_ok(const struct kmb__zone *z, unsigned order,
                                                int flags)
{
	long free = (long)LOAD(&z->free_pages) - ((long)ORDER_PAGES(order) - 1);
	long min = (long)z->wmark[KMB_WMARK_MIN];
	long mark = (flags & M_USE_RESERVE) ? (long)z->wmark_reserve : min;

	if (free <= mark)
		return WM_FAIL;
	if (order > 0 && (z->nonempty >> order) == 0) /* order > 0: the zone lock is held */
		return WM_FAIL;
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
static __attribute__((noinline)) size_t rmqueue_bulk(struct kmb__zone *z, unsigned count,
                                                     struct kmb_page *list)
{
	size_t n = 0;

	kmb_spin_lock(&z->lock);
	for (; n < count; n++) {
		struct kmb_page *pg = rmqueue_smallest(z, 0);

		if (pg == NULL)
			break;
		pg->flags = KMB__PG_PCP;
		pg->order = 0;
		kmb_list_add_tail(list, pg);
	}
	kmb_spin_unlock(&z->lock);
	return n;
}

/* Give count pages from the cold end of a per-CPU list back to the zone (pcp lock held). */
static __attribute__((noinline)) void free_pcppages_bulk(struct kmb__zone *z, struct kmb__pcp *pcp,
                                                         size_t count)
{
	size_t n = 0;

	kmb_spin_lock(&z->lock);
	for (; n < count && !kmb_list_empty(&pcp->list); n++) {
		struct kmb_page *pg = pcp->list.prev;

		kmb_list_del(pg);
		pg->flags = 0;
		free_one_page_locked(z, pg, 0);
	}
	kmb_spin_unlock(&z->lock);
	SUB(&pcp->count, n);
	ADD(&pcp->ndrained, n);
}

/* An order-0 page from this CPU's list; *busy when its lock was taken. */
static inline struct kmb_page *rmqueue_pcplist(struct kmb_buddy *b, struct kmb__zone *z,
                                               unsigned cpu, bool *busy)
{
	struct kmb__pcp *pcp = &z->pcp[cpu];
	struct kmb_page *pg;
	uint64_t *ctr = &pcp->nhit;

	*busy = !kmb_spin_trylock(&pcp->lock);
	if (kmb__unlikely(*busy)) {
		COUNT(&b->pcp_busy);
		return NULL;
	}
	pg = pcp->list.next;
	if (kmb__unlikely(pg == &pcp->list)) {
		ADD(&pcp->count, rmqueue_bulk(z, pcp->batch, &pcp->list));
		ctr = &pcp->nrefill;
		pg = pcp->list.next;
	}
	if (kmb__likely(pg != &pcp->list)) {
		pg->prev->next = pg->next;
		pg->next->prev = pg->prev;
		SUB(&pcp->count, 1);
		ADD(ctr, 1);
	} else {
		pg = NULL;
	}
	kmb_spin_unlock(&pcp->lock);
	return pg;
}

static inline void free_unref_page(struct kmb_buddy *b, struct kmb__zone *z, struct kmb_page *pg)
{
	struct kmb__pcp *pcp = &z->pcp[this_cpu(b)];
	size_t count;

	if (kmb__unlikely(!kmb_spin_trylock(&pcp->lock))) {
		COUNT(&b->pcp_busy);
		free_one_page(z, pg, 0);
		return;
	}
	pg->flags = KMB__PG_PCP;
	kmb_list_insert(pg, &pcp->list, pcp->list.next);
	count = pcp->count + 1;
	KMB_STORE(&pcp->count, count);
	ADD(&pcp->nfree, 1);
	if (kmb__unlikely(count >= pcp->high))
		free_pcppages_bulk(z, pcp, pcp->batch);
	kmb_spin_unlock(&pcp->lock);
}

void kmb_buddy_set_pcp(struct kmb_buddy *b, const long *tun)
{
	long high = tun[KMB_BUDDY_TUN_PCP_HIGH], batch = tun[KMB_BUDDY_TUN_PCP_BATCH];

	for (unsigned n = 0; b->pcp && n < b->nzones; n++) {
		for (unsigned cpu = 0; cpu < b->ncpus; cpu++) {
			struct kmb__pcp *pcp = &b->zone[n].pcp[cpu];

			kmb_assert(pcp->count == 0);
			pcp->batch = batch ? (unsigned)batch : pcp->batch;
			pcp->high = high ? (unsigned)high : pcp->high;
		}
	}
}

static int pcp_init(struct kmb_buddy *b, struct kmb__zone *z)
{
	unsigned batch = kmb__buddy_batchsize(z->npages);
	unsigned high = kmb__buddy_highsize(z->wmark[KMB_WMARK_LOW], node_ncpus(b, z->node), batch);
	size_t bytes = sizeof(struct kmb__pcp) * b->ncpus;

	z->pcp = aligned_alloc(_Alignof(struct kmb__pcp), bytes);
	if (z->pcp == NULL)
		return -ENOMEM;
	memset(z->pcp, 0, bytes);
	for (unsigned cpu = 0; cpu < b->ncpus; cpu++) {
		struct kmb__pcp *pcp = &z->pcp[cpu];

		pcp->batch = batch;
		pcp->high = high;
		kmb_list_init(&pcp->list);
	}
	return 0;
}

/* ---- allocation ------------------------------------------------------------------------ */

static __attribute__((noinline)) struct kmb_page *rmqueue_buddy(struct kmb__zone *z, unsigned order,
                                                                int flags, enum wm_verdict *v)
{
	struct kmb_page *pg = NULL;

	kmb_spin_lock(&z->lock);
	*v = zone_watermark_ok(z, order, flags);
	if (*v != WM_FAIL)
		pg = rmqueue_smallest(z, order);
	if (pg != NULL)
		ADD(&z->nalloc, 1);
	kmb_spin_unlock(&z->lock);
	return pg;
}

static inline struct kmb_page *zone_alloc(struct kmb_buddy *b, struct kmb__zone *z, unsigned cpu,
                                          unsigned order, int flags, enum wm_verdict *v)
{
	if (order == 0 && b->pcp) {
		struct kmb_page *pg;
		bool busy;

		*v = zone_watermark_ok(z, 0, flags); /* lockless, like zone_watermark_fast */
		if (*v == WM_FAIL)
			return NULL;
		pg = rmqueue_pcplist(b, z, cpu, &busy);
		if (kmb__likely(pg != NULL || !busy))
			return pg;
	}
	return rmqueue_buddy(z, order, flags, v);
}

static inline void *prep_new_page(struct kmb_buddy *b, struct kmb_page *pg, unsigned order,
                                  int flags)
{
	enum kmb_page_usage usage = (flags & KMB_GFP_META) ? KMB_USE_META : KMB_USE_DATA;

	pg->flags = 0;
	pg->order = (uint8_t)order;
	pg->usage = (uint8_t)usage;
	kmb_physmem_account(b->pm, (long)ORDER_PAGES(order), usage);
	return kmb_page_addr(b->pm, pg);
}

/* The zones after the home one (zonelist fallback), and the failure counters. */
static __attribute__((noinline)) void *alloc_pages_fallback(struct kmb_buddy *b, unsigned cpu,
                                                            unsigned home, unsigned order,
                                                            int flags, enum wm_verdict v)
{
	struct kmb_page *pg = NULL;
	unsigned n = home;

	if (v == WM_FAIL)
		COUNT(&b->wmark_fail);
	for (unsigned i = 1; i < b->nzones; i++) {
		if (++n == b->nzones)
			n = 0;
		pg = zone_alloc(b, &b->zone[n], cpu, order, flags, &v);
		if (pg != NULL)
			break;
		if (v == WM_FAIL)
			COUNT(&b->wmark_fail);
	}
	if (pg == NULL) {
		COUNT(&b->alloc_fail);
		return NULL;
	}
	COUNT(&b->remote_alloc);
	if (v == WM_RESERVE)
		COUNT(&b->reserve_alloc);
	return prep_new_page(b, pg, order, flags);
}

void *kmb_buddy_alloc_pages(struct kmb_buddy *b, unsigned order, int flags)
{
	unsigned cpu, home;
	struct kmb_page *pg;
	enum wm_verdict v;

	if (kmb_fault_inject())
		return NULL;
	if (kmb__unlikely(order > KMB_BUDDY_MAX_ORDER)) {
		COUNT(&b->alloc_fail);
		return NULL;
	}
	cpu = this_cpu(b);
	home = cpu_to_node(b, cpu);
	pg = zone_alloc(b, &b->zone[home], cpu, order, flags, &v);
	if (kmb__unlikely(pg == NULL))
		return alloc_pages_fallback(b, cpu, home, order, flags, v);
	if (kmb__unlikely(v == WM_RESERVE))
		COUNT(&b->reserve_alloc);
	return prep_new_page(b, pg, order, flags);
}

/* ---- free ------------------------------------------------------------------------------ */

static __attribute__((noinline, noreturn)) void bad_free(const struct kmb_buddy *b, void *addr,
                                                         unsigned order)
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
	kmb_panic(KMB_PANIC_BAD_FREE, addr, "kmb_buddy_free_pages(%p, %u): the block has order %u",
	          addr, order, pg->order);
}

/* Blank every frame of the block and poison its memory (free_pages_prepare). */
static inline void free_pages_prepare(struct kmb_buddy *b, struct kmb_page *pg, unsigned order)
{
	pg->flags = 0;
	pg->order = 0;
	pg->usage = KMB_USE_FREE;
	for (size_t i = 1; i < ORDER_PAGES(order); i++) {
		pg[i].flags = 0;
		pg[i].order = 0;
		pg[i].usage = KMB_USE_FREE;
	}
	if (b->pm->poison)
		kmb_poison(b->pm, kmb_page_addr(b->pm, pg), ORDER_PAGES(order) << KMB_PAGE_SHIFT);
}

void kmb_buddy_free_pages(struct kmb_buddy *b, void *addr, unsigned order)
{
	const struct kmb_physmem *pm = b->pm;
	size_t off = (size_t)((char *)addr - pm->base);
	struct kmb_page *pg;
	enum kmb_page_usage usage;

	/* in memory (an address below base wraps above), page aligned, an allocated head */
	if (kmb__unlikely(off >= (pm->npages << KMB_PAGE_SHIFT) || off % KMB_PAGE_SIZE != 0))
		bad_free(b, addr, order);
	pg = &pm->map[off >> KMB_PAGE_SHIFT];
	usage = (enum kmb_page_usage)pg->usage;
	if (kmb__unlikely(usage == KMB_USE_FREE || pg->order != order))
		bad_free(b, addr, order);
	free_pages_prepare(b, pg, order);
	kmb_physmem_account(b->pm, -(long)ORDER_PAGES(order), usage);
	if (order == 0 && b->pcp)
		free_unref_page(b, &b->zone[pg->node], pg);
	else
		free_one_page(&b->zone[pg->node], pg, order);
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

			kmb_spin_lock(&pcp->lock);
			if (pcp->count > 0)
				free_pcppages_bulk(z, pcp, pcp->count);
			kmb_spin_unlock(&pcp->lock);
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
		add_to_free_list(z, z->map + idx, idx, order, true); /* ascending addresses */
		idx += ORDER_PAGES(order);
	}
	z->free_pages = z->npages;
}

static int zone_init(struct kmb_buddy *b, struct kmb__zone *z, unsigned node)
{
	struct kmb_physmem *pm = b->pm;

	z->node = node;
	z->start_pfn = pm->node_start[node];
	z->npages = pm->node_start[node + 1] - z->start_pfn;
	z->map = pm->map + z->start_pfn;
	/* padded with zeros to a whole largest block: the merge test needs no bounds (2.) */
	z->pstate = calloc((z->npages | (ORDER_PAGES(KMB_BUDDY_MAX_ORDER) - 1)) + 1, 1);
	if (z->pstate == NULL)
		return -ENOMEM;
	for (unsigned o = 0; o <= KMB_BUDDY_MAX_ORDER; o++)
		kmb_list_init(&z->area[o].list);
	zone_free_all(z);
	return 0;
}

static void setup_wmarks(struct kmb_buddy *b)
{
	b->min_free_kbytes = kmb_min_free_kbytes((uint64_t)b->pm->npages << (KMB_PAGE_SHIFT - 10));
	for (unsigned n = 0; n < b->nzones; n++) {
		struct kmb__zone *z = &b->zone[n];

		kmb_zone_wmarks(z->npages, b->pm->npages, b->min_free_kbytes, z->wmark);
		z->wmark_reserve = kmb_wmark_reserve(z->wmark[KMB_WMARK_MIN]);
	}
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
	b = aligned_alloc(_Alignof(struct kmb_buddy), (sizeof(*b) + _Alignof(struct kmb_buddy) -
	                                               1) & ~(_Alignof(struct kmb_buddy) - 1));
	if (b == NULL)
		return -ENOMEM;
	memset(b, 0, sizeof(*b));
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

		free(z->pcp);
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

static int pagesrc_create(struct kmb_physmem *pm, unsigned ncpus, const long *tun,
                          struct kmb_pagesrc **out)
{
	struct kmb_buddy *b;
	int rc = kmb_buddy_create(pm, ncpus, true, &b);

	if (rc != 0)
		return rc;
	kmb_buddy_set_pcp(b, tun);
	*out = &b->src;
	return 0;
}

/*
 * The per-CPU lists' sizes (4.), 0 keeping Linux's rule.  Bounds: a batch moves at most
 * 1024 pages under the zone lock (Linux's largest computed batch is 63; its
 * percpu_pagelist_high_fraction sysctl sizes high, never batch, which only a boot-time
 * change of zone_batchsize sets); high at most 2^20 pages (4 GiB: more than the largest
 * simulated memory holds, i.e. "never drain on free").  A high below batch drains on
 * every free beyond it, as Linux does when high is lowered below batch.
 */
const struct kmb_tunable kmb_buddy_tunables[KMB_BUDDY_NTUNABLES] = {
        [KMB_BUDDY_TUN_PCP_HIGH] = {"pcp_high",
                                    "pages on a per-CPU list before a free drains a batch "
                                    "(0: max(low / CPUs of the node, 4 * batch))",
                                    0, 0, 1L << 20},
        [KMB_BUDDY_TUN_PCP_BATCH] = {"pcp_batch",
                                     "pages a per-CPU list refill or drain moves "
                                     "(0: zone_batchsize, 15 for 256 MiB)",
                                     0, 0, 1024},
};

const struct kmb_pagesrc_ops kmb_buddy_pagesrc_ops = {
        .name = "buddy",
        .summary = "pages from the Linux-style binary buddy allocator (watermarks, per-CPU lists)",
        .create = pagesrc_create,
        .tunables = kmb_buddy_tunables,
        .ntunables = KMB_BUDDY_NTUNABLES,
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
        KMB_LOCK_STAT_DECLS(struct kmb__buddy_ctr, zone_lock, "zone", "the zone spinlocks"),
        KMB_LOCK_STAT_DECLS(struct kmb__buddy_ctr, pcp_lock, "pcp", "the per-CPU list spinlocks"),
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
		*min = sum[KMB_WMARK_MIN];
	if (low)
		*low = sum[KMB_WMARK_LOW];
	if (high)
		*high = sum[KMB_WMARK_HIGH];
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
		kmb_lock_stats_add(&z->lock, &c->zone_lock);
		for (unsigned cpu = 0; b->pcp && cpu < b->ncpus; cpu++) {
			const struct kmb__pcp *pcp = &z->pcp[cpu];

			c->pcp_hit += LOAD(&pcp->nhit);
			c->pcp_refill += LOAD(&pcp->nrefill);
			c->pcp_free += LOAD(&pcp->nfree);
			c->pcp_drained += LOAD(&pcp->ndrained);
			kmb_lock_stats_add(&pcp->lock, &c->pcp_lock);
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
