/*
 * backends/bucket/bucket.h - the 4.4BSD bucket allocator (McKusick & Karels 1988):
 * the allocator (bucket.c, which holds the Big Theory Statement), its DIAGNOSTIC and
 * KMEMSTATS checks (bucket_diag.c) and its declared statistics (bucket_stats.c).
 *
 * kmb_bucket_ops is the backend's public face.  The kmb__bucket_* names are internal:
 * shared between the three files and the white-box tests (tests/test_bucket.c).
 */
#ifndef KMB_BACKENDS_BUCKET_H
#define KMB_BACKENDS_BUCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmbench/backend.h>
#include <kmbench/lock.h>

extern const struct kmb_backend_ops kmb_bucket_ops;

/* ---- geometry (4.4BSD sys/malloc.h) ------------------------------------------------------ */

/* The smallest bucket is 2^4 = 16 bytes: KMB_MIN_ALIGN, and room for the free-list entry. */
#define KMB_BUCKET_MINBUCKET 4
#define KMB_BUCKET_MINALLOC  ((size_t)1 << KMB_BUCKET_MINBUCKET) /* MINALLOCSIZE, 16 */
/* bucket[MINBUCKET + 16]: indices 4..19, 16 bytes to 512 KiB (the last one: anything larger) */
#define KMB_BUCKET_NBUCKETS (KMB_BUCKET_MINBUCKET + 16)
/* MAXALLOCSAVE = 2 pages: the largest size kept on a bucket free list (index 13) */
#define KMB_BUCKET_MAXALLOCSAVE (2 * KMB_PAGE_SIZE)
#define KMB_BUCKET_MAXSMALL     (KMB_PAGE_SHIFT + 1) /* log2(8192) = 13 */

/* BUCKETINDX(size): ceil(log2(size)) clamped to [MINBUCKET, MINBUCKET + 15]. */
static inline unsigned kmb__bucket_indx(size_t size)
{
	unsigned indx = KMB_BUCKET_MINBUCKET;

	if (size > KMB_BUCKET_MINALLOC)
		indx = (unsigned)(64 - __builtin_clzll((unsigned long long)size - 1));
	return indx < KMB_BUCKET_NBUCKETS - 1 ? indx : KMB_BUCKET_NBUCKETS - 1;
}

/* kb_elmpercl: blocks per allocation of pages (CLBYTES = one page: CLSIZE is 1 here). */
static inline uint64_t kmb__bucket_elmpercl(unsigned indx)
{
	size_t size = (size_t)1 << indx;

	return size >= KMB_PAGE_SIZE ? 1 : KMB_PAGE_SIZE / size;
}

/* kb_highwat: 4.4BSD's kmeminit() sets it to 5 allocations' worth of blocks. */
#define KMB_BUCKET_HIGHWAT_ALLOCS 5

/* ---- page flags and the kmemusage record ------------------------------------------------- */

/*
 * Bits of struct kmb_page flags on the frames of the page blocks we hold (owner-defined:
 * backend.h), cleared before the pages go back.  Tail frames are marked (as Linux marks
 * the tails of compound pages) so that a free inside a block is told from a free of a
 * page the page source holds.
 */
#define KMB__PG_BUCKET_SMALL 0x1000u /* page (two for 8192) carved into one bucket's blocks */
#define KMB__PG_BUCKET_LARGE 0x2000u /* head of a large (> MAXALLOCSAVE) block */
#define KMB__PG_BUCKET_DRAIN 0x4000u /* drain: the page's blocks are leaving the free list */
#define KMB__PG_BUCKET_TAIL  0x8000u /* a frame after the head of a block of pages */
#define KMB__PG_BUCKET_ALL                                                                         \
	(KMB__PG_BUCKET_SMALL | KMB__PG_BUCKET_LARGE | KMB__PG_BUCKET_DRAIN | KMB__PG_BUCKET_TAIL)

/*
 * kmemusage (4.4BSD sys/malloc.h), one per page, kept in the page's struct kmb_page:
 *   priv[0]  ku_indx     bucket index; written before the page's first block is handed
 *                        out, read without the lock by usable_size (constant while any
 *                        block of the page lives)
 *   priv[1]  ku_freecnt  small pages: free blocks of the page (under the lock)
 *            ku_pagecnt  large blocks: pages of the allocation (constant while it lives)
 */
#define KMB__KU_INDX  0
#define KMB__KU_COUNT 1

/* ---- the allocator's state --------------------------------------------------------------- */

/*
 * A free block.  4.4BSD's non-DIAGNOSTIC free list is linked through the first word; its
 * DIAGNOSTIC one keeps the link further in and a free marker in the first word.  Here one
 * layout serves both (freelist_bytes = 16, a 16-byte block's whole size):
 *   spare0  DIAGNOSTIC: KMB__BUCKET_WEIRD_ADDR while the block is on a free list
 *   next    the next free block of the bucket, NULL at the end
 */
struct kmb__bucket_free {
	uint64_t spare0;
	struct kmb__bucket_free *next;
};
_Static_assert(sizeof(struct kmb__bucket_free) == KMB_BUCKET_MINALLOC,
               "a free-list entry fills the smallest block");

/* struct kmembuckets.  Counters are written under the lock and read with KMB__BK_LOAD. */
struct kmb__bucket_kb {
	struct kmb__bucket_free *kb_next; /* list of free blocks */
	struct kmb__bucket_free *kb_last; /* last free block (frees append: FIFO) */
	uint64_t kb_calls;                /* total calls to allocate this size */
	uint64_t kb_total;                /* blocks allocated from pages (large: blocks live) */
	uint64_t kb_totalfree;            /* blocks on the free list */
	uint64_t kb_elmpercl;             /* blocks per allocation of pages */
	uint64_t kb_highwat;              /* free blocks kept before a free "could free" */
	uint64_t kb_couldfree;            /* frees that emptied a page above the high water */
};

/* Gauges and events of the whole allocator (departures and observation: bucket.c 5., 6.). */
struct kmb__bucket_ctr {
	uint64_t small_pages;   /* pages carved into bucket blocks now */
	uint64_t large_pages;   /* pages held for large blocks now (2^order per block) */
	uint64_t large_waste;   /* of which beyond ku_pagecnt: the power-of-two tail */
	uint64_t drains;        /* drain calls */
	uint64_t drained_pages; /* pages of wholly free small-bucket pages given back */
};

struct kmb__bucket {
	/* splimp(): the whole allocator, held across page-source calls.  Its own cache line:
	 * a CPU spinning on it must not steal the lines the holder works on. */
	_Alignas(64) struct kmb_lock lock;
	_Alignas(64) struct kmb_physmem *pm;
	struct kmb_pagesrc *ps;
	bool diag; /* DIAGNOSTIC: INVARIANTS were on at boot */
	struct kmb__bucket_kb kb[KMB_BUCKET_NBUCKETS];
	struct kmb__bucket_ctr ctr;
};

/* Statistics are written under the lock and read without it (Linux READ_ONCE/WRITE_ONCE). */
#define KMB__BK_LOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define KMB__BK_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define KMB__BK_ADD(p, n)   KMB__BK_STORE((p), KMB__BK_LOAD(p) + (n))
#define KMB__BK_SUB(p, n)   KMB__BK_STORE((p), KMB__BK_LOAD(p) - (n))

static inline struct kmb__bucket *kmb__bucket_of(const struct kmb_backend *be)
{
	return be->priv;
}

/* ---- checks (bucket_diag.c) ---------------------------------------------------------------- */

/* A broken check, as a value: the caller drops the lock, then panics with it. */
struct kmb__bucket_fault {
	enum kmb_panic_kind kind;
	const void *addr;
	char msg[256];
};

/* 4.4BSD's DIAGNOSTIC known text: WEIRD_ADDR 0xdeadbeef (4.4BSD-Lite2), in both halves. */
#define KMB__BUCKET_WEIRD_ADDR 0xdeadbeefdeadbeefull
/* MAX_COPY: the DIAGNOSTIC checks cover a free block's first 32 bytes (4.4BSD-Lite2). */
#define KMB__BUCKET_MAX_COPY 32

/* free(addr): the page is ours, addr starts a block, the block is not free (0 or -EINVAL). */
int kmb__bucket_check_free(struct kmb__bucket *b, const void *addr, struct kmb__bucket_fault *f);
/* malloc: the kmemusage of the block taken from bucket indx is sane (KMEMSTATS). */
int kmb__bucket_check_alloc(struct kmb__bucket *b, unsigned indx,
                            const struct kmb__bucket_free *blk, struct kmb__bucket_fault *f);
/* DIAGNOSTIC, on malloc: the block at the head of bucket indx was not modified while free. */
int kmb__bucket_diag_alloc(struct kmb__bucket *b, unsigned indx, const struct kmb__bucket_free *blk,
                           struct kmb__bucket_fault *f);
/* Drop the lock and panic with the fault. */
__attribute__((noreturn)) void kmb__bucket_fault_panic(struct kmb__bucket *b,
                                                       const struct kmb__bucket_fault *f);

/* ---- observation (bucket_stats.c) --------------------------------------------------------- */

size_t kmb__bucket_stats(struct kmb_backend *be, struct kmb_stat *out, size_t max);

/* A consistent copy of one bucket's struct kmembuckets (the lists left out); -EINVAL. */
struct kmb__bucket_kbstat {
	uint64_t calls, total, totalfree, elmpercl, highwat, couldfree;
};
int kmb__bucket_kmembuckets(struct kmb_backend *be, unsigned indx, struct kmb__bucket_kbstat *out);
void kmb__bucket_counters(struct kmb_backend *be, struct kmb__bucket_ctr *out);

/* The kmemusage of the page holding addr (a live block): index and free or page count. */
struct kmb__bucket_ku {
	unsigned indx;
	uint64_t count; /* ku_freecnt (small) or ku_pagecnt (large) */
	bool large;
};
int kmb__bucket_kmemusage(struct kmb_backend *be, const void *addr, struct kmb__bucket_ku *out);

#endif /* KMB_BACKENDS_BUCKET_H */
