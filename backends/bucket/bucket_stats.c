/*
 * backends/bucket/bucket_stats.c - what the bucket allocator shows: one declared
 * statistics table (illumos kstat style) and consistent copies of its records for tests.
 *
 * 1. The table names every figure once, with its unit and meaning:
 *      - the allocator's gauges and events (struct kmb__bucket_ctr: pages carved, pages of
 *        large blocks and their power-of-two waste, drains);
 *      - the large allocations summed over buckets 14..19 (kb_calls, kb_total);
 *      - per small bucket (16 .. 8192 bytes) the counters of its struct kmembuckets that
 *        move: kb_calls, kb_total, kb_totalfree, kb_couldfree, as 4.4BSD's `vmstat -m`
 *        printed them by bucket size.  kb_elmpercl and kb_highwat are constants
 *        (max(1, 4096 / size) and 5 times that: bucket.h); kmb__bucket_kmembuckets()
 *        gives them with the rest.
 * 2. A bucket's rows are written only once it has been used (kb_calls > 0), so a run
 *    shows the buckets its workload touched and the page source's rows still fit behind
 *    them in a report of 64 statistics.
 * 3. The values come from one copy of all the records taken under the allocator's lock,
 *    so they are consistent with each other (kb_total - kb_totalfree = blocks in use).
 */
#include "bucket.h"

#include <errno.h>
#include <string.h>

enum stat_src {
	SRC_CTR,   /* a field of struct kmb__bucket_ctr */
	SRC_LARGE, /* a field of struct kmb__bucket_kbstat summed over buckets 14..19 */
	SRC_KB,    /* a field of one bucket's struct kmb__bucket_kbstat */
};

struct stat_decl {
	const char *name, *unit, *desc;
	enum stat_src src;
	unsigned indx; /* SRC_KB */
	size_t off;
};

#define CTR(f, unit, desc)                                                                         \
	{                                                                                          \
#f, unit, desc, SRC_CTR, 0, offsetof(struct kmb__bucket_ctr, f)                    \
	}
#define LARGE(name, f, unit, desc)                                                                 \
	{                                                                                          \
		name, unit, desc, SRC_LARGE, 0, offsetof(struct kmb__bucket_kbstat, f)             \
	}
#define KB(sz, ix, f, unit, desc)                                                                  \
	{                                                                                          \
		"b" #sz "_" #f, unit, desc, SRC_KB, ix, offsetof(struct kmb__bucket_kbstat, f)     \
	}
#define BUCKET(sz, ix)                                                                             \
	KB(sz, ix, calls, "events", #sz "-byte bucket: allocations (kb_calls)"),                   \
	        KB(sz, ix, total, "blocks",                                                        \
	           #sz "-byte bucket: blocks carved, not drained (kb_total)"),                     \
	        KB(sz, ix, totalfree, "blocks",                                                    \
	           #sz "-byte bucket: blocks on its free list (kb_totalfree)"),                    \
	        KB(sz, ix, couldfree, "events",                                                    \
	           #sz "-byte bucket: frees emptying a page over high water (kb_couldfree)")

static const struct stat_decl bucket_stats_table[] = {
        CTR(small_pages, "pages", "pages carved into bucket blocks now"),
        CTR(large_pages, "pages", "pages held for large blocks now (2^order each)"),
        CTR(large_waste, "pages", "of which beyond ku_pagecnt: power-of-two page-source tails"),
        CTR(drains, "events", "drain calls (before an M_WAITOK request sleeps)"),
        CTR(drained_pages, "pages", "wholly free bucket pages given back by drains"),
        LARGE("large_calls", calls, "events", "allocations above 8192 bytes (kb_calls, 14..19)"),
        LARGE("large_live", total, "blocks", "large blocks allocated now (kb_total, 14..19)"),
        BUCKET(16, 4),
        BUCKET(32, 5),
        BUCKET(64, 6),
        BUCKET(128, 7),
        BUCKET(256, 8),
        BUCKET(512, 9),
        BUCKET(1024, 10),
        BUCKET(2048, 11),
        BUCKET(4096, 12),
        BUCKET(8192, 13),
};

#define NSTATS (sizeof(bucket_stats_table) / sizeof(bucket_stats_table[0]))

/* The lock's counters (kmbench/lock.h), read without it. */
struct lock_ctr {
	struct kmb_lock_stats lock;
};
static const struct kmb_stat_decl lock_stats_table[] = {
        KMB_LOCK_STAT_DECLS(struct lock_ctr, lock, "bucket", "the allocator's one mutex"),
};

static void kbstat_copy(const struct kmb__bucket_kb *kbp, struct kmb__bucket_kbstat *out)
{
	*out = (struct kmb__bucket_kbstat){kbp->kb_calls,    kbp->kb_total,   kbp->kb_totalfree,
	                                   kbp->kb_elmpercl, kbp->kb_highwat, kbp->kb_couldfree};
}

/* Every bucket's record and the counters, under the lock. */
static void snapshot(struct kmb__bucket *b, struct kmb__bucket_kbstat kb[KMB_BUCKET_NBUCKETS],
                     struct kmb__bucket_ctr *ctr)
{
	kmb_mutex_enter(&b->lock);
	for (unsigned i = 0; i < KMB_BUCKET_NBUCKETS; i++)
		kbstat_copy(&b->kb[i], &kb[i]);
	*ctr = b->ctr;
	kmb_mutex_exit(&b->lock);
}

static uint64_t field(const void *base, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

static uint64_t large_sum(const struct kmb__bucket_kbstat kb[KMB_BUCKET_NBUCKETS], size_t off)
{
	uint64_t v = 0;

	for (unsigned i = KMB_BUCKET_MAXSMALL + 1; i < KMB_BUCKET_NBUCKETS; i++)
		v += field(&kb[i], off);
	return v;
}

size_t kmb__bucket_stats(struct kmb_backend *be, struct kmb_stat *out, size_t max)
{
	struct kmb__bucket_kbstat kb[KMB_BUCKET_NBUCKETS];
	struct kmb__bucket_ctr ctr;
	struct lock_ctr lc = {{0}};
	size_t n = 0;

	snapshot(kmb__bucket_of(be), kb, &ctr);
	for (size_t k = 0; k < NSTATS && n < max; k++) {
		const struct stat_decl *d = &bucket_stats_table[k];
		uint64_t v;

		if (d->src == SRC_KB && kb[d->indx].calls == 0)
			continue;
		if (d->src == SRC_CTR)
			v = field(&ctr, d->off);
		else if (d->src == SRC_LARGE)
			v = large_sum(kb, d->off);
		else
			v = field(&kb[d->indx], d->off);
		out[n++] = (struct kmb_stat){d->name, d->unit, d->desc, v};
	}
	kmb_lock_stats_add(&kmb__bucket_of(be)->lock, &lc.lock);
	return n + kmb_stats_fill(lock_stats_table,
	                          sizeof(lock_stats_table) / sizeof(lock_stats_table[0]), &lc,
	                          out + n, max - n);
}

int kmb__bucket_kmembuckets(struct kmb_backend *be, unsigned indx, struct kmb__bucket_kbstat *out)
{
	struct kmb__bucket *b = kmb__bucket_of(be);

	if (indx >= KMB_BUCKET_NBUCKETS)
		return -EINVAL;
	kmb_mutex_enter(&b->lock);
	kbstat_copy(&b->kb[indx], out);
	kmb_mutex_exit(&b->lock);
	return 0;
}

void kmb__bucket_counters(struct kmb_backend *be, struct kmb__bucket_ctr *out)
{
	struct kmb__bucket *b = kmb__bucket_of(be);

	kmb_mutex_enter(&b->lock);
	*out = b->ctr;
	kmb_mutex_exit(&b->lock);
}

int kmb__bucket_kmemusage(struct kmb_backend *be, const void *addr, struct kmb__bucket_ku *out)
{
	struct kmb__bucket *b = kmb__bucket_of(be);
	const struct kmb_page *pg;
	int rc = 0;

	if (!kmb_physmem_contains(b->pm, addr))
		return -EINVAL;
	pg = kmb_page_of(b->pm, addr);
	kmb_mutex_enter(&b->lock);
	if (pg->flags & (KMB__PG_BUCKET_SMALL | KMB__PG_BUCKET_LARGE))
		*out = (struct kmb__bucket_ku){(unsigned)pg->priv[KMB__KU_INDX],
		                               pg->priv[KMB__KU_COUNT],
		                               (pg->flags & KMB__PG_BUCKET_LARGE) != 0};
	else
		rc = -EINVAL;
	kmb_mutex_exit(&b->lock);
	return rc;
}
