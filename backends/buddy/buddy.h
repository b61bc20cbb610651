/*
 * backends/buddy/buddy.h - the binary buddy backend: a Linux-style page allocator
 * (buddy_pages.c), its fragmentation indices (buddy_frag.c) and a kmalloc served by whole
 * page blocks and a sub-page binary buddy heap (buddy_heap.c).
 *
 * The kmb_buddy_* functions are the page allocator's public face: other backends take
 * their pages through kmb_buddy_pagesrc().  The kmb__buddy_* functions are internal
 * (shared between the three files and the unit tests).
 */
#ifndef KMB_BACKENDS_BUDDY_H
#define KMB_BACKENDS_BUDDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmbench/backend.h>
#include <kmbench/lock.h>

#define KMB_BUDDY_MAX_ORDER 10 /* largest block 2^10 pages = 4 MiB (Linux MAX_ORDER 11) */
#define KMB_BUDDY_NR_ORDERS (KMB_BUDDY_MAX_ORDER + 1)

/*
 * struct kmb_page flag bits.  The page allocator owns a frame's flags while it is free
 * and clears them (head and tail frames) when a block comes back; the owner of an
 * allocated block may use any bit.  buddy_heap.c uses the KMB__PG_HEAP_* bits.
 */
#define KMB__PG_BUDDY      0x1u   /* head of a block on a zone free list (PageBuddy) */
#define KMB__PG_PCP        0x2u   /* order-0 page on a per-CPU list */
#define KMB__PG_HEAP_SMALL 0x100u /* sub-page heap page; priv[0] = its side-table entry */
#define KMB__PG_HEAP_LARGE 0x200u /* head of a kmalloc block of whole pages */
#define KMB__PG_HEAP_META  0x400u /* side-table page; priv[1] = bitmap of free entries */

/* ---- the page allocator (buddy_pages.c) ----------------------------------------------- */

struct kmb_buddy;

/* 0 or -EINVAL/-ENOMEM; every frame of pm becomes free.  pcp: per-CPU order-0 lists. */
int kmb_buddy_create(struct kmb_physmem *pm, unsigned ncpus, bool pcp, struct kmb_buddy **out);
void kmb_buddy_destroy(struct kmb_buddy *b);

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

/* ---- fragmentation (buddy_frag.c), thousandths as /sys/kernel/debug/extfrag prints ---- */

/* The page allocator's declared counters; returns how many were written. */
size_t kmb_buddy_stats(const struct kmb_buddy *b, struct kmb_stat *out, size_t max);
int kmb_buddy_unusable_index(const struct kmb_buddy *b, unsigned order);
int kmb_buddy_fragmentation_index(const struct kmb_buddy *b, unsigned order);
int kmb_frag_unusable_index(const size_t nr_free[], unsigned norders, unsigned order);
int kmb_frag_index(const size_t nr_free[], unsigned norders, unsigned order);

/* ---- the kmalloc backend (buddy_heap.c) ----------------------------------------------- */

extern const struct kmb_backend_ops kmb_buddy_ops;
struct kmb_buddy *kmb__buddy_of_backend(const struct kmb_backend *be); /* after init */

/* ---- internals ------------------------------------------------------------------------- */

/*
 * Fields written under a lock but read without it (statistics, lockless checks): one
 * writer at a time, relaxed atomic loads and stores (Linux's READ_ONCE/WRITE_ONCE; plain
 * moves on x86).  KMB__COUNT is for counters with no lock.
 */
#define KMB__LOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define KMB__STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define KMB__ADD(p, n)   KMB__STORE((p), KMB__LOAD(p) + (n))
#define KMB__SUB(p, n)   KMB__STORE((p), KMB__LOAD(p) - (n))
#define KMB__COUNT(p)    ((void)__atomic_add_fetch((p), 1, __ATOMIC_RELAXED))

/* Circular lists of struct kmb_page through next/prev, with a sentinel (list_head). */
static inline void kmb__list_init(struct kmb_page *head)
{
	head->next = head->prev = head;
}

static inline bool kmb__list_empty(const struct kmb_page *head)
{
	return head->next == head;
}

static inline void kmb__list_insert(struct kmb_page *pg, struct kmb_page *prev,
                                    struct kmb_page *next)
{
	pg->prev = prev;
	pg->next = next;
	prev->next = pg;
	next->prev = pg;
}

static inline void kmb__list_add(struct kmb_page *head, struct kmb_page *pg)
{
	kmb__list_insert(pg, head, head->next);
}

static inline void kmb__list_add_tail(struct kmb_page *head, struct kmb_page *pg)
{
	kmb__list_insert(pg, head->prev, head);
}

static inline void kmb__list_del(struct kmb_page *pg)
{
	pg->prev->next = pg->next;
	pg->next->prev = pg->prev;
	pg->next = pg->prev = NULL;
}

/*
 * Event counters and gauges of the whole backend.  buddy_pages.c fills the first group
 * (kmb__buddy_counters), buddy_heap.c the second; buddy_heap.c's stats table names them.
 */
struct kmb__buddy_ctr {
	/* page allocator */
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
	struct kmb_lock_stats zone_lock, pcp_lock; /* summed over zones and CPUs (see 5.) */
	/* kmalloc heap */
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
void kmb__buddy_counters(const struct kmb_buddy *b, struct kmb__buddy_ctr *c);

/* Watermark and per-CPU list sizing, exposed so tests can check them by hand. */
uint64_t kmb__int_sqrt(uint64_t x);
unsigned long kmb__buddy_min_free_kbytes(uint64_t lowmem_kbytes);
void kmb__buddy_zone_wmarks(size_t managed, size_t lowmem_pages, unsigned long min_free_kbytes,
                            size_t wm[3]);
unsigned kmb__buddy_batchsize(size_t managed);
unsigned kmb__buddy_highsize(size_t low_wmark, unsigned local_cpus, unsigned batch);
void kmb__buddy_pcp_params(const struct kmb_buddy *b, unsigned node, unsigned *batch,
                           unsigned *high);
size_t kmb__buddy_pcp_count(const struct kmb_buddy *b); /* pages on all per-CPU lists */

#endif /* KMB_BACKENDS_BUDDY_H */
