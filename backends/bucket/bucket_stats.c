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
 * 2. A bucket's rows are written only once it has been used (kb_calls > 0), so a report
 *    shows the buckets its workload touched, not rows of zeros: 7 rows, then 4 per bucket
 *    used (47 at most), before the page source's.
 * 3. The values come from one copy of all the records taken under the allocator's lock,
 *    so they are consistent with each other (kb_total - kb_totalfree = blocks in use); the
 *    table (struct kmb_stat_decl, as every backend's) gives each row's offset in that copy
 *    and kmb_stats_fill turns it into rows.
 */
#include "bucket.h"

#include <errno.h>

/* One copy of everything the table reads (3.); the counters first, at offset 0. */
struct stats_snap {
	struct kmb__bucket_ctr ctr;
	struct kmb__bucket_kbstat large; /* buckets 14..19 summed */
	struct kmb__bucket_kbstat kb[KMB_BUCKET_NBUCKETS];
};
_Static_assert(offsetof(struct stats_snap, ctr) == 0,
               "CTR rows use struct kmb__bucket_ctr offsets");

#define CTR(f, unit, desc) KMB_STAT_DECL(struct kmb__bucket_ctr, f, unit, desc)
#define LARGE(name, f, unit, desc)                                                                 \
	{                                                                                          \
		name, unit, desc, offsetof(struct stats_snap, large.f)                             \
	}
#define KB(sz, ix, f, unit, desc)                                                                  \
	{                                                                                          \
		"b" #sz "_" #f, unit, desc, offsetof(struct stats_snap, kb[ix].f)                  \
	}
/* A bucket's rows: KB_ROWS of them, in the order of the buckets (2.). */
#define KB_ROWS 4
#define BUCKET(sz, ix)                                                                             \
	KB(sz, ix, calls, "events", #sz "-byte bucket: allocations (kb_calls)"),                   \
	        KB(sz, ix, total, "blocks",                                                        \
	           #sz "-byte bucket: blocks carved, not drained (kb_total)"),                     \
	        KB(sz, ix, totalfree, "blocks",                                                    \
	           #sz "-byte bucket: blocks on its free list (kb_totalfree)"),                    \
	        KB(sz, ix, couldfree, "events",                                                    \
	           #sz "-byte bucket: frees emptying a page over high water (kb_couldfree)")

static const struct kmb_stat_decl bucket_stats_table[] = {
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
#define NFIXED (NSTATS - KB_ROWS * (KMB_BUCKET_MAXSMALL + 1 - KMB_BUCKET_MINBUCKET))
_Static_assert(NFIXED == 7, "the counters and the large sums precede the buckets' rows");

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

static void large_sum(struct stats_snap *sn)
{
	for (unsigned i = KMB_BUCKET_MAXSMALL + 1; i < KMB_BUCKET_NBUCKETS; i++) {
		sn->large.calls += sn->kb[i].calls;
		sn->large.total += sn->kb[i].total;
	}
}

/* The counters and large sums, then the rows of each bucket that has been used (2.). */
size_t kmb__bucket_stats(struct kmb_backend *be, struct kmb_stat *out, size_t max)
{
	struct stats_snap sn = {0};
	struct lock_ctr lc = {{0}};
	size_t n;

	snapshot(kmb__bucket_of(be), sn.kb, &sn.ctr);
	large_sum(&sn);
	n = kmb_stats_fill(bucket_stats_table, NFIXED, &sn, out, max);
	for (unsigned i = KMB_BUCKET_MINBUCKET; i <= KMB_BUCKET_MAXSMALL && n < max; i++) {
		const struct kmb_stat_decl *rows =
		        &bucket_stats_table[NFIXED + KB_ROWS * (i - KMB_BUCKET_MINBUCKET)];

		if (sn.kb[i].calls > 0)
			n += kmb_stats_fill(rows, KB_ROWS, &sn, out + n, max - n);
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
