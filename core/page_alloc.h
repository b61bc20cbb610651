/*
 * core/page_alloc.h - the default page source's internals (core/page_alloc.c,
 * core/page_frag.c), shared with their unit tests; the public face is
 * include/kmbench/page_alloc.h.
 */
#ifndef KMB_CORE_PAGE_ALLOC_H
#define KMB_CORE_PAGE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include <kmbench/page_alloc.h>
#include <kmbench/lock.h>

/*
 * struct kmb_page flag bits.  The page allocator owns a frame's flags while it is free
 * and clears them (head and tail frames) when a block comes back; the owner of an
 * allocated block may use any other bit (backends keep theirs at 0x100 and above).
 */
#define KMB__PG_BUDDY 0x1u /* head of a block on a zone free list (PageBuddy) */
#define KMB__PG_PCP   0x2u /* order-0 page on a per-CPU list */

/* Event counters and gauges of the page allocator (kmb_buddy_stats names them). */
struct kmb__buddy_ctr {
	uint64_t pcp_hit;       /* order-0 allocations from a non-empty per-CPU list */
	uint64_t pcp_refill;    /* order-0 allocations that refilled the list first */
	uint64_t zone_alloc;    /* allocations from the zone free lists */
	uint64_t pcp_free;      /* order-0 frees to a per-CPU list */
	uint64_t zone_free;     /* frees to the zone free lists */
	uint64_t pcp_drained;   /* pages moved from per-CPU lists back to zones */
	uint64_t pcp_busy;      /* per-CPU list lock busy: zone path taken instead */
	uint64_t split;         /* blocks halved by expand() */
	uint64_t merge;         /* buddies coalesced on free */
	uint64_t wmark_fail;    /* zone refused a request at its watermark */
	uint64_t reserve_alloc; /* allocations that went below the min watermark */
	uint64_t remote_alloc;  /* allocations served by another node's zone */
	uint64_t alloc_fail;    /* kmb_buddy_alloc_pages returned NULL */
	uint64_t drain_all;     /* kmb_buddy_drain calls */
	uint64_t pcp_pages;     /* gauge: pages on per-CPU lists */
	struct kmb_lock_stats zone_lock, pcp_lock; /* summed over zones and CPUs */
};
void kmb__buddy_counters(const struct kmb_buddy *b, struct kmb__buddy_ctr *c);

/* Watermark and per-CPU list sizing, exposed so tests can check them by hand. */
uint64_t kmb__int_sqrt(uint64_t x);
unsigned kmb__buddy_batchsize(size_t managed);
unsigned kmb__buddy_highsize(size_t low_wmark, unsigned local_cpus, unsigned batch);
void kmb__buddy_pcp_params(const struct kmb_buddy *b, unsigned node, unsigned *batch,
                           unsigned *high);
size_t kmb__buddy_pcp_count(const struct kmb_buddy *b); /* pages on all per-CPU lists */

#endif /* KMB_CORE_PAGE_ALLOC_H */
