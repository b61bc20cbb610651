/*
 * backends/buddy/buddy.h - the buddy backend: kmalloc served by the default page source
 * (the buddy page allocator, include/kmbench/page_alloc.h) in whole page blocks and by a
 * sub-page binary buddy heap (buddy_heap.c).  The kmb__buddy_* names are the backend's
 * internals, shared with its unit tests.
 */
#ifndef KMB_BACKENDS_BUDDY_H
#define KMB_BACKENDS_BUDDY_H

#include <stdint.h>

#include <kmbench/backend.h>
#include <kmbench/page_alloc.h>
#include <kmbench/lock.h>

/* struct kmb_page flag bits of the heap's pages (the page allocator's are below 0x100). */
#define KMB__PG_HEAP_SMALL 0x100u /* sub-page heap page; priv[0] = its side-table entry */
#define KMB__PG_HEAP_LARGE 0x200u /* head of a kmalloc block of whole pages */
#define KMB__PG_HEAP_META  0x400u /* side-table page; priv[1] = bitmap of free entries */

extern const struct kmb_backend_ops kmb_buddy_ops;
struct kmb_buddy *kmb__buddy_of_backend(const struct kmb_backend *be); /* after init */

/* The heap's event counters and gauges; the page allocator's come first in its stats. */
struct kmb__heap_ctr {
	uint64_t heap_alloc;  /* sub-page blocks allocated */
	uint64_t heap_free;   /* sub-page blocks freed */
	uint64_t heap_split;  /* sub-page blocks halved */
	uint64_t heap_merge;  /* sub-page buddies coalesced */
	uint64_t heap_pages;  /* gauge: pages split into sub-page blocks */
	uint64_t meta_pages;  /* gauge: side-table pages */
	uint64_t large_alloc; /* kmalloc requests served with whole pages */
	uint64_t large_free;
	struct kmb_lock_stats heap_lock;
};

#endif /* KMB_BACKENDS_BUDDY_H */
