/*
 * kmbench/page_alloc.h - the default page source: a Linux-style binary buddy page
 * allocator with zones per node, watermarks and per-CPU page lists (core/page_alloc.c,
 * its fragmentation indices in core/page_frag.c).
 *
 * Every backend that takes pages gets them from its page source (be->pages, kmbench/
 * backend.h); this one is "buddy", the default.  A backend that is a page allocator over
 * it (the buddy backend's kmalloc) or that must refuse requests at the same marks as it
 * (vmem's page source, the user-space baselines' budgets) uses the functions below.
 */
#ifndef KMBENCH_PAGE_ALLOC_H
#define KMBENCH_PAGE_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KMB_BUDDY_MAX_ORDER 10 /* largest block 2^10 pages = 4 MiB (Linux MAX_ORDER 11) */
#define KMB_BUDDY_NR_ORDERS (KMB_BUDDY_MAX_ORDER + 1)

struct kmb_buddy;

/* 0 or -EINVAL/-ENOMEM; every frame of pm becomes free.  pcp: per-CPU order-0 lists. */
int kmb_buddy_create(struct kmb_physmem *pm, unsigned ncpus, bool pcp, struct kmb_buddy **out);
void kmb_buddy_destroy(struct kmb_buddy *b);

/* The page allocator's tunables (kmbench/backend.h 5.), the page source's and the buddy
 * backend's: the per-CPU lists' high and batch, 0 keeping Linux's rule (page_alloc.c 4.). */
enum { KMB_BUDDY_TUN_PCP_HIGH, KMB_BUDDY_TUN_PCP_BATCH, KMB_BUDDY_NTUNABLES };
extern const struct kmb_tunable kmb_buddy_tunables[KMB_BUDDY_NTUNABLES];
/* Set the per-CPU lists' sizes from tun[KMB_BUDDY_NTUNABLES], before any allocation. */
void kmb_buddy_set_pcp(struct kmb_buddy *b, const long *tun);

/* 2^order pages or NULL.  flags: M_USE_RESERVE, KMB_GFP_META (other bits ignored). */
void *kmb_buddy_alloc_pages(struct kmb_buddy *b, unsigned order, int flags);
void kmb_buddy_free_pages(struct kmb_buddy *b, void *addr, unsigned order);
struct kmb_pagesrc *kmb_buddy_pagesrc(struct kmb_buddy *b);
/* The buddy allocator as a page source kind ("slab@buddy"), for the registry. */
extern const struct kmb_pagesrc_ops kmb_buddy_pagesrc_ops;
/* drain_all_pages(): every per-CPU list back to its zone. */
void kmb_buddy_drain(struct kmb_buddy *b);

size_t kmb_buddy_free_pages_count(const struct kmb_buddy *b);        /* zone free + pcp */
size_t kmb_buddy_nr_free(const struct kmb_buddy *b, unsigned order); /* /proc/buddyinfo */
void kmb_buddy_watermarks(const struct kmb_buddy *b, size_t *min, size_t *low, size_t *high);
size_t kmb_buddy_largest_free(const struct kmb_buddy *b); /* bytes */

/* The page allocator's declared counters; returns how many were written. */
size_t kmb_buddy_stats(const struct kmb_buddy *b, struct kmb_stat *out, size_t max);

/* Fragmentation (page_frag.c), thousandths as /sys/kernel/debug/extfrag prints them. */
int kmb_buddy_unusable_index(const struct kmb_buddy *b, unsigned order);
int kmb_buddy_fragmentation_index(const struct kmb_buddy *b, unsigned order);
int kmb_frag_unusable_index(const size_t nr_free[], unsigned norders, unsigned order);
int kmb_frag_index(const size_t nr_free[], unsigned norders, unsigned order);

/*
 * Watermarks (mm/page_alloc.c; the derivation is in core/page_alloc.c, 4.).
 * kmb_min_free_kbytes: calculate_min_free_kbytes for lowmem_kbytes of memory.
 * kmb_zone_wmarks: a zone of `managed` pages out of lowmem_pages, wm[KMB_WMARK_*].
 * kmb_wmark_reserve: the floor an M_USE_RESERVE request may take a zone down to from its
 *   min mark, as GFP_ATOMIC may in Linux 6.x (ALLOC_MIN_RESERVE takes min / 2, then
 *   ALLOC_NON_BLOCK a quarter of that: min - min / 2 - min / 8, 3/8 of min).
 */
enum { KMB_WMARK_MIN, KMB_WMARK_LOW, KMB_WMARK_HIGH, KMB_NR_WMARK };
unsigned long kmb_min_free_kbytes(uint64_t lowmem_kbytes);
void kmb_zone_wmarks(size_t managed, size_t lowmem_pages, unsigned long min_free_kbytes,
                     size_t wm[KMB_NR_WMARK]);
size_t kmb_wmark_reserve(size_t min);

#ifdef __cplusplus
}
#endif
#endif /* KMBENCH_PAGE_ALLOC_H */
