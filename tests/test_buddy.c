/*
 * tests/test_buddy.c - the buddy backend: page allocator (split, coalesce, XOR buddy,
 * watermarks, reserve, per-CPU lists, NUMA fallback), fragmentation indices, and the
 * sub-page heap behind kmb_buddy_ops.  Expected numbers are worked out by hand in the
 * comments.
 */
#include "kmb_stress.h"
#include "kmb_test.h"

#include <errno.h>
#include <pthread.h>

#include "backends/buddy/buddy.h"
#include "core/internal.h"
#include "core/page_alloc.h"

#define MIB          ((size_t)1 << 20)
#define NORD         KMB_BUDDY_NR_ORDERS
#define PAGE_ADDR(i) (pm.base + ((size_t)(i) << KMB_PAGE_SHIFT))

static struct kmb_physmem pm;

static struct kmb_buddy *mkbuddy(size_t bytes, unsigned nodes, unsigned ncpus, bool pcp)
{
	struct kmb_buddy *b = NULL;

	ASSERT_EQ_I(kmb__physmem_init(&pm, bytes, nodes, false), 0);
	ASSERT_EQ_I(kmb_buddy_create(&pm, ncpus, pcp, &b), 0);
	return b;
}

static void rmbuddy(struct kmb_buddy *b)
{
	kmb_buddy_destroy(b);
	kmb__physmem_fini(&pm);
}

/* nr_free per order equals want[] (orders not listed are 0). */
static void check_buddyinfo(const struct kmb_buddy *b, const size_t want[NORD])
{
	for (unsigned o = 0; o < NORD; o++) {
		if (kmb_buddy_nr_free(b, o) != want[o])
			fprintf(stderr, "order %u:\n", o);
		ASSERT_EQ_U(kmb_buddy_nr_free(b, o), want[o]);
	}
}

static size_t pfn_of(const void *p)
{
	return kmb_pfn(&pm, p);
}

/* ---- page allocator --------------------------------------------------------------------- */

KMB_TEST(create_rejects_bad_arguments)
{
	struct kmb_buddy *b = (struct kmb_buddy *)1;

	ASSERT_EQ_I(kmb__physmem_init(&pm, 4 * MIB, 1, false), 0);
	ASSERT_EQ_I(kmb_buddy_create(&pm, 0, true, &b), -EINVAL);
	ASSERT_NULL(b);
	ASSERT_EQ_I(kmb_buddy_create(&pm, KMB_MAX_CPUS + 1, true, &b), -EINVAL);
	ASSERT_EQ_I(kmb_buddy_create(NULL, 1, true, &b), -EINVAL);
	kmb__physmem_fini(&pm);
}

/* 8 MiB = 2048 frames = two order-10 blocks; one order-0 page splits the first one. */
KMB_TEST(split)
{
	struct kmb_buddy *b = mkbuddy(8 * MIB, 1, 1, false);
	const size_t fresh[NORD] = {[10] = 2};
	const size_t split[NORD] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
	void *p;

	check_buddyinfo(b, fresh);
	ASSERT_EQ_U(kmb_buddy_free_pages_count(b), 2048);
	ASSERT_EQ_U(kmb_buddy_largest_free(b), 4 * MIB);
	p = kmb_buddy_alloc_pages(b, 0, M_NOWAIT);
	ASSERT_EQ_PTR(p, pm.base); /* lowest block first, lower half kept */
	/* 1024 = 1 + 1 + 2 + 4 + ... + 512: one free block of each order 0..9 remains */
	check_buddyinfo(b, split);
	ASSERT_EQ_U(kmb_buddy_free_pages_count(b), 2047);
	ASSERT_EQ_U(pm.data_pages, 1);
	ASSERT_EQ_U(pm.map[0].usage, KMB_USE_DATA);
	ASSERT_TRUE(pm.map[1].flags & KMB__PG_BUDDY);
	ASSERT_EQ_U(pm.map[512].order, 9);
	kmb_buddy_free_pages(b, p, 0);
	check_buddyinfo(b, fresh);
	rmbuddy(b);
}

/* Mixed orders freed in another order than allocated come back to two order-10 blocks. */
KMB_TEST(coalesce)
{
	struct kmb_buddy *b = mkbuddy(8 * MIB, 1, 1, false);
	const size_t fresh[NORD] = {[10] = 2};
	static const unsigned orders[] = {3, 0, 5, 1, 0, 10, 2, 7, 0, 4};
	static const int free_order[] = {5, 0, 9, 2, 7, 1, 4, 8, 3, 6};
	void *p[10];
	struct kmb__buddy_ctr c;

	for (int i = 0; i < 10; i++) {
		p[i] = kmb_buddy_alloc_pages(b, orders[i], M_NOWAIT);
		ASSERT_NOT_NULL(p[i]);
		ASSERT_EQ_U(pfn_of(p[i]) % ((size_t)1 << orders[i]), 0);
	}
	ASSERT_EQ_U(pm.data_pages, 8 + 1 + 32 + 2 + 1 + 1024 + 4 + 128 + 1 + 16);
	for (int i = 0; i < 10; i++)
		kmb_buddy_free_pages(b, p[free_order[i]], orders[free_order[i]]);
	check_buddyinfo(b, fresh);
	ASSERT_EQ_U(pm.data_pages, 0);
	kmb__buddy_counters(b, &c);
	ASSERT_EQ_U(c.split, c.merge); /* back to the initial blocks: every split undone */
	rmbuddy(b);
}

/*
 * From a fresh 8 MiB zone: order 0 -> pfn 0, order 0 -> pfn 1 = 0 ^ 1, order 2 -> pfn 4.
 * Freeing pfn 0 cannot merge (its buddy pfn 1 is held); freeing pfn 1 merges 0+1 -> [0,2)
 * and with the free [2,4) -> [0,4), whose buddy [4,8) is held.  Freeing pfn 4 (order 2)
 * merges all the way up to order 10.
 */
KMB_TEST(xor_buddy)
{
	struct kmb_buddy *b = mkbuddy(8 * MIB, 1, 1, false);
	const size_t after_p1[NORD] = {0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1};
	const size_t fresh[NORD] = {[10] = 2};
	void *p0 = kmb_buddy_alloc_pages(b, 0, M_NOWAIT);
	void *p1 = kmb_buddy_alloc_pages(b, 0, M_NOWAIT);
	void *p2 = kmb_buddy_alloc_pages(b, 2, M_NOWAIT);

	ASSERT_EQ_U(pfn_of(p0), 0);
	ASSERT_EQ_U(pfn_of(p1), pfn_of(p0) ^ 1);
	ASSERT_EQ_U(pfn_of(p2), 4);
	ASSERT_EQ_U(kmb_buddy_nr_free(b, 0), 0);
	ASSERT_EQ_U(kmb_buddy_nr_free(b, 1), 1); /* [2,4) */
	ASSERT_EQ_U(kmb_buddy_nr_free(b, 2), 0);
	kmb_buddy_free_pages(b, p0, 0);
	ASSERT_EQ_U(kmb_buddy_nr_free(b, 0), 1);
	kmb_buddy_free_pages(b, p1, 0);
	check_buddyinfo(b, after_p1);
	ASSERT_EQ_U(pm.map[0].order, 2);
	kmb_buddy_free_pages(b, p2, 2);
	check_buddyinfo(b, fresh);
	rmbuddy(b);
}

KMB_TEST(free_checks)
{
	struct kmb_buddy *b = mkbuddy(4 * MIB, 1, 1, false);
	void *p = kmb_buddy_alloc_pages(b, 1, M_NOWAIT);
	void *q = kmb_buddy_alloc_pages(b, 0, M_NOWAIT);

	EXPECT_PANIC(KMB_PANIC_BAD_FREE, kmb_buddy_free_pages(b, p, 0));
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, kmb_buddy_free_pages(b, (char *)p + 1, 1));
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, kmb_buddy_free_pages(b, (char *)p + KMB_PAGE_SIZE, 0));
	kmb_buddy_free_pages(b, p, 1);
	EXPECT_PANIC(KMB_PANIC_DOUBLE_FREE, kmb_buddy_free_pages(b, p, 1));
	ASSERT_NULL(kmb_buddy_alloc_pages(b, KMB_BUDDY_MAX_ORDER + 1, M_NOWAIT));
	kmb_buddy_free_pages(b, q, 0);
	rmbuddy(b);
}

/* A block that reaches the merge misaligned for its order panics with the call (the zone
 * lists could not hold it: its buddy index would be wrong). */
KMB_TEST(misaligned_block_reaching_the_free_lists_panics)
{
	struct kmb_buddy *b = mkbuddy(4 * MIB, 1, 1, false);
	char *p = kmb_buddy_alloc_pages(b, 0, M_NOWAIT);

	while (kmb_pfn(&pm, p) % 2 == 0) /* an odd frame: misaligned for order 1 */
		p = kmb_buddy_alloc_pages(b, 0, M_NOWAIT);
	kmb_page_of(&pm, p)->order = 1; /* as if it headed an order-1 block */
	EXPECT_PANIC(KMB_PANIC_CORRUPT, kmb_buddy_free_pages(b, p, 1));
	ASSERT_CONTAINS(kmb_test_panic_msg, "kmb_buddy_free_pages(pfn ");
	ASSERT_CONTAINS(kmb_test_panic_msg, ", 1): zone 0: misaligned or free (state 0)");
}

/*
 * 256 MiB = 65536 pages, lowmem_kbytes = 262144:
 *   min_free_kbytes = int_sqrt(262144 * 16 = 4194304) = 2048 -> pages_min = 512
 *   one zone:  min 512, tmp = max(512 / 4 = 128, 65536 * 10 / 10000 = 65) = 128,
 *              low 640, high 768
 *   two zones: each 256, tmp = max(64, 32768 * 10 / 10000 = 32) = 64 -> 320, 384;
 *              the sums are the same.
 *   pcp:       batch = min(65536 >> 10, 256) / 4 = 16 -> rounddown_pow_of_two(24) - 1 = 15
 *              high = max(640 / 4 CPUs, 4 * 15) = 160
 */
KMB_TEST(watermarks_256mib)
{
	struct kmb_buddy *b = mkbuddy(256 * MIB, 1, 4, true);
	size_t min, low, high;
	unsigned batch, phigh;

	kmb_buddy_watermarks(b, &min, &low, &high);
	ASSERT_EQ_U(min, 512);
	ASSERT_EQ_U(low, 640);
	ASSERT_EQ_U(high, 768);
	kmb__buddy_pcp_params(b, 0, &batch, &phigh);
	ASSERT_EQ_U(batch, 15);
	ASSERT_EQ_U(phigh, 160);
	rmbuddy(b);

	b = mkbuddy(256 * MIB, 2, 4, true);
	kmb_buddy_watermarks(b, &min, &low, &high);
	ASSERT_EQ_U(min, 512);
	ASSERT_EQ_U(low, 640);
	ASSERT_EQ_U(high, 768);
	/* a 32768-page zone: batch = 32 / 4 = 8 -> rounddown_pow_of_two(12) - 1 = 7;
	 * CPUs 0 and 2 are node 0's: high = max(320 / 2, 28) = 160 */
	kmb__buddy_pcp_params(b, 0, &batch, &phigh);
	ASSERT_EQ_U(batch, 7);
	ASSERT_EQ_U(phigh, 160);
	rmbuddy(b);
}

/*
 * The formulas alone:
 *   int_sqrt: exact floors.
 *   64 KiB: int_sqrt(65536 * 16 = 1048576) = 1024; 64 pages: int_sqrt(1024) = 32 -> 128.
 *   16 TiB = 2^34 KiB: int_sqrt(2^38) = 2^19 = 524288 -> clamped to 262144.
 *   4 GiB = 1048576 pages: min_free_kbytes = int_sqrt(4194304 * 16 = 67108864) = 8192,
 *     pages_min 2048; tmp = max(512, mult_frac(1048576, 10, 10000) = 104 * 10 +
 *     8576 * 10 / 10000 = 1048) = 1048: low 3096, high 4144 (the scale factor wins).
 *   8 MiB: int_sqrt(8192 * 16 = 131072) = 362 -> 90 pages; tmp = max(22, 2) = 22:
 *     90 / 112 / 134.
 *   batch: 1024 pages -> 1 >> 2 = 0 -> 1 -> rounddown_pow_of_two(1) - 1 = 0 -> 1;
 *     1 GiB and beyond: min(>=256, 256) / 4 = 64 -> rounddown_pow_of_two(96) - 1 = 63.
 */
KMB_TEST(watermark_formulas)
{
	size_t wm[3];

	ASSERT_EQ_U(kmb__int_sqrt(0), 0);
	ASSERT_EQ_U(kmb__int_sqrt(1), 1);
	ASSERT_EQ_U(kmb__int_sqrt(3), 1);
	ASSERT_EQ_U(kmb__int_sqrt(4), 2);
	ASSERT_EQ_U(kmb__int_sqrt(131072), 362);
	ASSERT_EQ_U(kmb__int_sqrt(UINT64_MAX), 4294967295u);
	ASSERT_EQ_U(kmb_min_free_kbytes(65536), 1024);
	ASSERT_EQ_U(kmb_min_free_kbytes(256), 128);
	ASSERT_EQ_U(kmb_min_free_kbytes((uint64_t)1 << 34), 262144);
	kmb_zone_wmarks(1048576, 1048576, kmb_min_free_kbytes(4194304), wm);
	ASSERT_EQ_U(wm[0], 2048);
	ASSERT_EQ_U(wm[1], 3096);
	ASSERT_EQ_U(wm[2], 4144);
	kmb_zone_wmarks(2048, 2048, kmb_min_free_kbytes(8192), wm);
	ASSERT_EQ_U(wm[0], 90);
	ASSERT_EQ_U(wm[1], 112);
	ASSERT_EQ_U(wm[2], 134);
	ASSERT_EQ_U(kmb__buddy_batchsize(1024), 1);
	ASSERT_EQ_U(kmb__buddy_batchsize(16384), 3);
	ASSERT_EQ_U(kmb__buddy_batchsize(262144), 63);
	ASSERT_EQ_U(kmb__buddy_batchsize(1048576), 63);
	ASSERT_EQ_U(kmb__buddy_highsize(640, 1, 15), 640);
	ASSERT_EQ_U(kmb__buddy_highsize(112, 64, 1), 4);
}

/*
 * 8 MiB, no pcp: min 90.  A normal order-0 request needs free - 1 >= 90: 2048 - 90 = 1958
 * succeed.  M_USE_RESERVE lowers the mark to 90 - 45 = 45, then 45 - 45 / 4 = 34: 56 more
 * succeed (free 90 -> 34), each below min.
 */
KMB_TEST(reserve_below_min)
{
	struct kmb_buddy *b = mkbuddy(8 * MIB, 1, 1, false);
	static void *p[2048];
	size_t n = 0, nres;
	struct kmb__buddy_ctr c;

	while ((p[n] = kmb_buddy_alloc_pages(b, 0, M_NOWAIT)) != NULL)
		n++;
	ASSERT_EQ_U(n, 1958);
	ASSERT_EQ_U(kmb_buddy_free_pages_count(b), 90);
	while ((p[n] = kmb_buddy_alloc_pages(b, 0, M_NOWAIT | M_USE_RESERVE)) != NULL)
		n++;
	nres = n - 1958;
	ASSERT_EQ_U(nres, 56);
	ASSERT_EQ_U(kmb_buddy_free_pages_count(b), 34);
	ASSERT_NULL(kmb_buddy_alloc_pages(b, 0, M_NOWAIT));
	kmb__buddy_counters(b, &c);
	ASSERT_EQ_U(c.reserve_alloc, 56);
	ASSERT_EQ_U(c.alloc_fail, 3);
	ASSERT_EQ_U(c.wmark_fail, 3);
	while (n > 0)
		kmb_buddy_free_pages(b, p[--n], 0);
	ASSERT_EQ_U(kmb_buddy_nr_free(b, 10), 2);
	rmbuddy(b);
}

/*
 * 64 MiB = 16384 pages, one CPU: batch = 16 / 4 = 4 -> rounddown_pow_of_two(6) - 1 = 3;
 * low = 256 + max(64, 16) = 320 -> high = 320.  400 order-0 allocations refill at the
 * 1st, 4th, ..., 400th: 134 refills of 3 = 402 pages, 266 hits, 2 left on the list.
 * 317 frees bring the list to 319; the 318th reaches 320 = high and sends 3 back: 317.
 */
KMB_TEST(pcp_refill_and_drain)
{
	struct kmb_buddy *b = mkbuddy(64 * MIB, 1, 1, true);
	const size_t after_first[NORD] = {1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 15};
	const size_t fresh[NORD] = {[10] = 16};
	static void *p[400];
	struct kmb__buddy_ctr c;
	unsigned batch, high;

	kmb__buddy_pcp_params(b, 0, &batch, &high);
	ASSERT_EQ_U(batch, 3);
	ASSERT_EQ_U(high, 320);
	p[0] = kmb_buddy_alloc_pages(b, 0, M_NOWAIT);
	ASSERT_EQ_U(pfn_of(p[0]), 0);
	/* the refill took pfns 0, 1, 2: pfn 3 is the order-0 leftover of splitting [2,4) */
	check_buddyinfo(b, after_first);
	ASSERT_EQ_U(kmb__buddy_pcp_count(b), 2);
	ASSERT_EQ_U(kmb_buddy_free_pages_count(b), 16383); /* pcp pages count as free */
	for (int i = 1; i < 400; i++)
		ASSERT_NOT_NULL(p[i] = kmb_buddy_alloc_pages(b, 0, M_NOWAIT));
	kmb__buddy_counters(b, &c);
	ASSERT_EQ_U(c.pcp_refill, 134);
	ASSERT_EQ_U(c.pcp_hit, 266);
	ASSERT_EQ_U(kmb__buddy_pcp_count(b), 2);
	for (int i = 0; i < 317; i++)
		kmb_buddy_free_pages(b, p[i], 0);
	ASSERT_EQ_U(kmb__buddy_pcp_count(b), 319);
	kmb_buddy_free_pages(b, p[317], 0);
	ASSERT_EQ_U(kmb__buddy_pcp_count(b), 317);
	kmb__buddy_counters(b, &c);
	ASSERT_EQ_U(c.pcp_free, 318);
	ASSERT_EQ_U(c.pcp_drained, 3);
	ASSERT_EQ_U(kmb_buddy_free_pages_count(b), 16384 - 82);
	kmb_buddy_drain(b);
	ASSERT_EQ_U(kmb__buddy_pcp_count(b), 0);
	ASSERT_EQ_U(kmb_buddy_free_pages_count(b), 16384 - 82);
	for (int i = 318; i < 400; i++)
		kmb_buddy_free_pages(b, p[i], 0);
	ASSERT_EQ_U(kmb__buddy_pcp_count(b), 82);
	kmb_buddy_drain(b);
	check_buddyinfo(b, fresh);
	kmb__buddy_counters(b, &c);
	ASSERT_EQ_U(c.pcp_drained, 402);
	ASSERT_EQ_U(c.drain_all, 2);
	rmbuddy(b);
}

/*
 * 16 MiB over 2 nodes of 2048 pages: min_free_kbytes = int_sqrt(16384 * 16) = 512 -> 128
 * pages, 64 per zone.  CPU 0 is node 0's: 2048 - 64 = 1984 pages come from node 0, then
 * node 1 serves.
 */
KMB_TEST(numa_fallback)
{
	struct kmb_buddy *b = mkbuddy(16 * MIB, 2, 1, false);
	static void *p[1985];
	struct kmb__buddy_ctr c;

	for (int i = 0; i < 1984; i++) {
		ASSERT_NOT_NULL(p[i] = kmb_buddy_alloc_pages(b, 0, M_NOWAIT));
		ASSERT_EQ_U(kmb_page_of(&pm, p[i])->node, 0);
	}
	ASSERT_NOT_NULL(p[1984] = kmb_buddy_alloc_pages(b, 0, M_NOWAIT));
	ASSERT_EQ_U(kmb_page_of(&pm, p[1984])->node, 1);
	kmb__buddy_counters(b, &c);
	ASSERT_EQ_U(c.remote_alloc, 1);
	for (int i = 0; i < 1985; i++)
		kmb_buddy_free_pages(b, p[i], 0);
	ASSERT_EQ_U(kmb_buddy_nr_free(b, 10), 4);
	rmbuddy(b);
}

/* ---- fragmentation indices --------------------------------------------------------------- */

/*
 * nr_free = {4, 2, 1}: free_pages = 4 + 2*2 + 1*4 = 12, free_blocks_total = 7.
 *   order 0: suitable = 4 + 4 + 4 = 12 -> unusable (12 - 12) * 1000 / 12 = 0; index -1000
 *   order 2: suitable = 1 -> unusable (12 - 4) * 1000 / 12 = 8000 / 12 = 666; index -1000
 *   order 3: suitable = 0 -> unusable 1000;
 *            index 1000 - (1000 + 12000 / 8) / 7 = 1000 - 2500 / 7 = 1000 - 357 = 643
 *   order 5: 12000 / 32 = 375 -> 1000 - 1375 / 7 = 1000 - 196 = 804
 * nr_free = {1000}: order 1: 1000 - (1000 + 1000000 / 2) / 1000 = 1000 - 501 = 499
 * nothing free: unusable 1000, index 0; order beyond the largest: index 0.
 */
KMB_TEST(frag_formulas)
{
	const size_t a[NORD] = {4, 2, 1};
	const size_t only0[NORD] = {1000};
	const size_t none[NORD] = {0};

	ASSERT_EQ_I(kmb_frag_unusable_index(a, NORD, 0), 0);
	ASSERT_EQ_I(kmb_frag_index(a, NORD, 0), -1000);
	ASSERT_EQ_I(kmb_frag_unusable_index(a, NORD, 2), 666);
	ASSERT_EQ_I(kmb_frag_index(a, NORD, 2), -1000);
	ASSERT_EQ_I(kmb_frag_unusable_index(a, NORD, 3), 1000);
	ASSERT_EQ_I(kmb_frag_index(a, NORD, 3), 643);
	ASSERT_EQ_I(kmb_frag_index(a, NORD, 5), 804);
	ASSERT_EQ_I(kmb_frag_index(only0, NORD, 1), 499);
	ASSERT_EQ_I(kmb_frag_unusable_index(none, NORD, 0), 1000);
	ASSERT_EQ_I(kmb_frag_index(none, NORD, 0), 0);
	ASSERT_EQ_I(kmb_frag_index(a, NORD, NORD), 0);
	ASSERT_EQ_I(kmb_frag_unusable_index(a, NORD, NORD), 1000);
}

/*
 * 8 MiB, no pcp: 1958 order-0 pages are pfns 0..1957 in order; freeing the even ones
 * leaves 979 single pages (each buddy is held) and the tail [1958, 2048) as blocks of
 * order 1, 3, 4 and 6: free_pages = 979 + 2 + 8 + 16 + 64 = 1069, blocks = 983.
 *   unusable(1) = (1069 - (1 + 4 + 8 + 32) * 2) * 1000 / 1069 = 979000 / 1069 = 915
 *   index(7)    = 1000 - (1000 + 1069000 / 128) / 983 = 1000 - 9351 / 983 = 1000 - 9 = 991
 *   index(10)   = 1000 - (1000 + 1069000 / 1024) / 983 = 1000 - 2043 / 983 = 998
 * An order-7 request fails though 1069 - 127 > 90 pages stay: no block of order >= 7.
 */
KMB_TEST(frag_of_allocator)
{
	struct kmb_buddy *b = mkbuddy(8 * MIB, 1, 1, false);
	const size_t want[NORD] = {979, 1, 0, 1, 1, 0, 1};
	static void *p[1958];
	void *q;

	ASSERT_EQ_I(kmb_buddy_unusable_index(b, 10), 0);
	ASSERT_EQ_I(kmb_buddy_fragmentation_index(b, 10), -1000);
	for (int i = 0; i < 1958; i++) {
		ASSERT_NOT_NULL(p[i] = kmb_buddy_alloc_pages(b, 0, M_NOWAIT));
		ASSERT_EQ_PTR(p[i], PAGE_ADDR(i));
	}
	for (int i = 0; i < 1958; i += 2)
		kmb_buddy_free_pages(b, p[i], 0);
	check_buddyinfo(b, want);
	ASSERT_EQ_U(kmb_buddy_free_pages_count(b), 1069);
	ASSERT_EQ_I(kmb_buddy_unusable_index(b, 0), 0);
	ASSERT_EQ_I(kmb_buddy_unusable_index(b, 1), 915);
	ASSERT_EQ_I(kmb_buddy_fragmentation_index(b, 1), -1000);
	ASSERT_EQ_I(kmb_buddy_unusable_index(b, 7), 1000);
	ASSERT_EQ_I(kmb_buddy_fragmentation_index(b, 7), 991);
	ASSERT_EQ_I(kmb_buddy_fragmentation_index(b, 10), 998);
	ASSERT_EQ_U(kmb_buddy_largest_free(b), 64 * KMB_PAGE_SIZE);
	ASSERT_NULL(kmb_buddy_alloc_pages(b, 7, M_NOWAIT));
	ASSERT_NOT_NULL(q = kmb_buddy_alloc_pages(b, 6, M_NOWAIT));
	ASSERT_EQ_U(pfn_of(q), 1984);
	kmb_buddy_free_pages(b, q, 6);
	for (int i = 1; i < 1958; i += 2)
		kmb_buddy_free_pages(b, p[i], 0);
	ASSERT_EQ_U(kmb_buddy_nr_free(b, 10), 2);
	rmbuddy(b);
}

/* ---- the kmalloc backend ----------------------------------------------------------------- */

static struct kmb_backend be;

static void mkheap(size_t bytes, bool poison)
{
	ASSERT_EQ_I(kmb__physmem_init(&pm, bytes, 1, poison), 0);
	be = (struct kmb_backend){.ops = &kmb_buddy_ops, .pm = &pm, .ncpus = 1};
	ASSERT_EQ_I(be.ops->init(&be), 0);
}

static void rmheap(void)
{
	be.ops->fini(&be);
	kmb__physmem_fini(&pm);
}

static void *hmalloc(size_t size)
{
	return be.ops->alloc(&be, size, M_NOWAIT, &(size_t){0});
}

/* Free as the core does with INVARIANTS: poison the block first. */
static void hfree(void *p)
{
	kmb_poison(&pm, p, be.ops->usable_size(&be, p));
	be.ops->free(&be, p);
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 16;

	while (p < n)
		p *= 2;
	return p;
}

static uint64_t stat_value(const char *name)
{
	struct kmb_stat st[64];
	size_t n = be.ops->stats(&be, st, 64);

	for (size_t i = 0; i < n; i++)
		if (strcmp(st[i].name, name) == 0)
			return st[i].value;
	kmb_test_fail(__FILE__, __LINE__, "no statistic %s", name);
}

static int cmp_ptr(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;

	return (x > y) - (x < y);
}

/* Every size 1..2048 live at once: power-of-two usable sizes, aligned, no overlap. */
KMB_TEST(heap_sizes_no_overlap)
{
	static char *p[2049], *sorted[2048];

	mkheap(16 * MIB, false);
	ASSERT_EQ_U(be.ops->freelist_bytes, 16);
	for (size_t s = 1; s <= 2048; s++) {
		size_t u;

		ASSERT_NOT_NULL(p[s] = hmalloc(s));
		u = be.ops->usable_size(&be, p[s]);
		ASSERT_EQ_U(u, pow2_at_least(s));
		ASSERT_EQ_U((uintptr_t)p[s] % u, 0);
		memset(p[s], (int)(s * 7 & 0xff), u);
	}
	for (size_t s = 1; s <= 2048; s++) {
		size_t u = be.ops->usable_size(&be, p[s]);

		for (size_t i = 0; i < u; i++)
			if ((unsigned char)p[s][i] != (s * 7 & 0xff))
				kmb_test_fail(__FILE__, __LINE__, "size %zu: byte %zu overwritten",
				              s, i);
		sorted[s - 1] = p[s];
	}
	qsort(sorted, 2048, sizeof(sorted[0]), cmp_ptr);
	for (size_t i = 0; i + 1 < 2048; i++)
		ASSERT_CMP_U((uintptr_t)sorted[i] + be.ops->usable_size(&be, sorted[i]), <=,
		             (uintptr_t)sorted[i + 1]);
	for (size_t s = 2048; s >= 1; s--)
		hfree(p[s]);
	ASSERT_EQ_U(pm.data_pages, 0);
	ASSERT_EQ_U(pm.meta_pages, 0);
	rmheap();
}

KMB_TEST(heap_large_sizes)
{
	struct kmb_memstat ms;
	void *p;

	mkheap(16 * MIB, false);
	ASSERT_EQ_U(be.ops->max_size(&be), 4 * MIB);
	ASSERT_NULL(hmalloc(4 * MIB + 1));
	ASSERT_NOT_NULL(p = hmalloc(4 * MIB));
	ASSERT_EQ_U(be.ops->usable_size(&be, p), 4 * MIB);
	ASSERT_EQ_U(pm.data_pages, 1024);
	ASSERT_EQ_U(pm.meta_pages, 0);
	hfree(p);
	static const size_t sizes[][2] = {
	        {2049, 4096}, {4096, 4096}, {4097, 8192}, {3 * 4096 + 1, 16384}, {65536, 65536}};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ASSERT_NOT_NULL(p = hmalloc(sizes[i][0]));
		ASSERT_EQ_U((uintptr_t)p % KMB_PAGE_SIZE, 0);
		ASSERT_EQ_U(be.ops->usable_size(&be, p), sizes[i][1]);
		ASSERT_EQ_U(pm.data_pages, sizes[i][1] / KMB_PAGE_SIZE);
		memset(p, 0xab, sizes[i][1]);
		hfree(p);
	}
	ASSERT_EQ_U(stat_value("large_alloc"), 6);
	ASSERT_EQ_U(stat_value("large_free"), 6);
	be.ops->drain(&be);
	be.ops->memstat(&be, &ms);
	ASSERT_EQ_U(ms.free_pages, 4096);
	ASSERT_EQ_U(ms.largest_free, 4 * MIB);
	rmheap();
}

/* 256 blocks of 16 bytes fill one page; the 257th takes a second; all freed, both return. */
KMB_TEST(heap_page_returns)
{
	static void *p[257];

	mkheap(4 * MIB, false);
	for (int i = 0; i < 256; i++)
		ASSERT_NOT_NULL(p[i] = hmalloc(16));
	ASSERT_EQ_U(pm.data_pages, 1);
	ASSERT_EQ_U(pm.meta_pages, 1);
	ASSERT_EQ_U(stat_value("heap_pages"), 1);
	ASSERT_NOT_NULL(p[256] = hmalloc(1));
	ASSERT_EQ_U(pm.data_pages, 2);
	ASSERT_EQ_U(pm.meta_pages, 1);
	hfree(p[256]);
	ASSERT_EQ_U(pm.data_pages, 1);
	for (int i = 0; i < 255; i++)
		hfree(p[i]);
	ASSERT_EQ_U(pm.data_pages, 1);
	hfree(p[255]);
	ASSERT_EQ_U(pm.data_pages, 0);
	ASSERT_EQ_U(pm.meta_pages, 0);
	ASSERT_EQ_U(stat_value("heap_pages"), 0);
	ASSERT_EQ_U(stat_value("heap_split"), stat_value("heap_merge"));
	ASSERT_EQ_U(kmb_buddy_free_pages_count(kmb__buddy_of_backend(&be)), 1024);
	rmheap();
}

/* 64 side-table entries per metadata page: 2 blocks of 2048 per heap page. */
KMB_TEST(heap_meta_accounted)
{
	static void *p[130];

	mkheap(16 * MIB, false);
	for (int i = 0; i < 128; i++)
		ASSERT_NOT_NULL(p[i] = hmalloc(2048));
	ASSERT_EQ_U(pm.data_pages, 64);
	ASSERT_EQ_U(pm.meta_pages, 1);
	ASSERT_EQ_U(stat_value("meta_pages"), 1);
	ASSERT_NOT_NULL(p[128] = hmalloc(2048));
	ASSERT_NOT_NULL(p[129] = hmalloc(2048));
	ASSERT_EQ_U(pm.data_pages, 65);
	ASSERT_EQ_U(pm.meta_pages, 2);
	ASSERT_EQ_U(kmb_page_of(&pm, p[0])->usage, KMB_USE_DATA);
	for (int i = 0; i < 130; i++)
		hfree(p[i]);
	ASSERT_EQ_U(pm.data_pages, 0);
	ASSERT_EQ_U(pm.meta_pages, 0);
	ASSERT_EQ_U(stat_value("meta_pages"), 0);
	rmheap();
}

KMB_TEST(heap_double_free_panics)
{
	void *a, *b, *c;

	mkheap(4 * MIB, false);
	a = hmalloc(16);
	b = hmalloc(16);
	c = hmalloc(100);
	hfree(a);
	EXPECT_PANIC(KMB_PANIC_DOUBLE_FREE, be.ops->free(&be, a));
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, be.ops->free(&be, (char *)c + 8));
	EXPECT_PANIC(KMB_PANIC_DOUBLE_FREE, be.ops->free(&be, (char *)c + 16)); /* inside c */
	hfree(b);
	hfree(c);
	/* the page went back: a stale pointer into it is still a double free */
	EXPECT_PANIC(KMB_PANIC_DOUBLE_FREE, be.ops->free(&be, c));
	/* the heap still works after the panics (the lock was released) */
	ASSERT_NOT_NULL(a = hmalloc(16));
	hfree(a);
	ASSERT_EQ_U(pm.data_pages, 0);
	rmheap();
}

/*
 * With poison: a (16 @ 0), b (16 @ 16), c (2048 @ 2048).  Freeing a then b merges b into
 * a, then with the free 32, 64, ..., 1024 buddies into one 2048-byte block at 0: every
 * byte after its 16 link bytes must be poison again.
 */
KMB_TEST(heap_coalesce_restores_poison)
{
	char *a, *b, *c;
	const unsigned char *bad;

	mkheap(4 * MIB, true);
	a = hmalloc(16);
	b = hmalloc(16);
	c = hmalloc(2048);
	ASSERT_EQ_PTR(b, a + 16);
	ASSERT_EQ_PTR(c, a + 2048);
	ASSERT_NULL(kmb_poison_check(a + 48, 16)); /* inside the free 32-byte block at 32 */
	memset(a, 1, 16);
	memset(b, 2, 16);
	hfree(a);
	hfree(b);
	bad = kmb_poison_check(a + 16, 2048 - 16);
	if (bad != NULL)
		kmb_test_fail(__FILE__, __LINE__, "offset %td not poison", (const char *)bad - a);
	ASSERT_EQ_U(stat_value("heap_merge"), 7); /* 16+16 up to 1024+1024 */
	hfree(c);
	ASSERT_NULL(kmb_poison_check(a, KMB_PAGE_SIZE)); /* the page allocator poisoned it */
	rmheap();
}

/* ---- concurrency ------------------------------------------------------------------------- */

#define STRESS_LIVE  200
#define STRESS_ITERS 20000

struct live {
	unsigned char *p;
	size_t len; /* bytes filled */
	int order;  /* page block order, or -1 for a kmalloc block */
	unsigned char tag;
};

struct stress_arg {
	struct kmb_buddy *b;
	unsigned seed;
	unsigned long fails;
};

static void stress_alloc(struct stress_arg *a, struct live *l, uint32_t *rng)
{
	if (kmb_stress_rand(rng) % 2) {
		l->order = (int)(kmb_stress_rand(rng) % 5);
		l->p = kmb_buddy_alloc_pages(a->b, (unsigned)l->order, M_NOWAIT);
		l->len = KMB_PAGE_SIZE << l->order;
	} else {
		size_t size = 1 + kmb_stress_rand(rng) % (kmb_stress_rand(rng) % 4 ? 2048 : 20000);

		l->order = -1;
		l->p = be.ops->alloc(&be, size, M_NOWAIT, &(size_t){0});
		l->len = size;
		if (l->p != NULL && be.ops->usable_size(&be, l->p) < size)
			kmb_test_fail(__FILE__, __LINE__, "usable size below request");
	}
	if (l->p == NULL) {
		a->fails++;
		return;
	}
	l->tag = (unsigned char)kmb_stress_rand(rng);
	memset(l->p, l->tag, l->len);
}

static void stress_free(struct live *l)
{
	for (size_t i = 0; i < l->len; i += 61)
		if (l->p[i] != l->tag)
			kmb_test_fail(__FILE__, __LINE__, "block %p byte %zu overwritten", l->p, i);
	if (l->order >= 0)
		kmb_buddy_free_pages(kmb__buddy_of_backend(&be), l->p, (unsigned)l->order);
	else
		be.ops->free(&be, l->p);
	l->p = NULL;
}

static void *stress_thread(void *arg)
{
	struct stress_arg *a = arg;
	struct live live[STRESS_LIVE] = {{0}};
	uint32_t rng = a->seed;

	for (int it = 0; it < STRESS_ITERS; it++) {
		struct live *l = &live[kmb_stress_rand(&rng) % STRESS_LIVE];

		if (l->p != NULL)
			stress_free(l);
		else
			stress_alloc(a, l, &rng);
		if (it % 5000 == 0)
			kmb_buddy_drain(a->b);
	}
	for (int i = 0; i < STRESS_LIVE; i++)
		if (live[i].p != NULL)
			stress_free(&live[i]);
	return NULL;
}

/* Two threads (same CPU index: the per-CPU lock is contended) on a 2-node backend. */
KMB_TEST(stress_two_threads)
{
	pthread_t t[2];
	struct stress_arg arg[2];
	struct kmb_buddy *b;
	struct kmb_memstat ms;

	ASSERT_EQ_I(kmb__physmem_init(&pm, 32 * MIB, 2, false), 0);
	be = (struct kmb_backend){.ops = &kmb_buddy_ops, .pm = &pm, .ncpus = 2};
	ASSERT_EQ_I(be.ops->init(&be), 0);
	b = kmb__buddy_of_backend(&be);
	for (int i = 0; i < 2; i++) {
		arg[i] = (struct stress_arg){.b = b, .seed = 0x9e3779b9u * (unsigned)(i + 1)};
		ASSERT_EQ_I(pthread_create(&t[i], NULL, stress_thread, &arg[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ASSERT_EQ_I(pm.data_pages, 0);
	ASSERT_EQ_I(pm.meta_pages, 0);
	ASSERT_CMP_I(pm.peak_pages, >, 0);
	be.ops->memstat(&be, &ms);
	ASSERT_EQ_U(ms.free_pages, pm.npages);
	kmb_buddy_drain(b);
	ASSERT_EQ_U(kmb_buddy_nr_free(b, 10), 8);
	ASSERT_EQ_U(stat_value("heap_alloc"), stat_value("heap_free"));
	ASSERT_EQ_U(stat_value("large_alloc"), stat_value("large_free"));
	rmheap();
}

/*
 * Booted: 4 threads attached to CPUs 0..3 of 2 nodes (per-CPU lists of both zones), each
 * also freeing blocks the others allocated (a page of node 1 freed by CPU 0 goes to CPU
 * 0's list of zone 1), while kmb_memstat and drains run beside them.  Every page must be
 * back at shutdown.
 */
MALLOC_DEFINE(M_BUDDYTEST, "buddytest", "test_buddy stress blocks")

static void stress_booted(int invariants)
{
	static struct kmb_stress st = {
	        .type = M_BUDDYTEST, .iters = STRESS_ITERS, .hook = kmb_stress_drain};
	struct kmb_memstat ms;

	kmb_stress_boot("buddy", invariants);
	kmb_stress_start(&st, 4);
	for (int i = 0; i < 200; i++)
		kmb_memstat(&ms);
	kmb_stress_join(&st);
	kmb_memstat(&ms);
	{
		struct kmb_stat st[64];
		size_t n = kmb_backend_stats(st, 64);

		for (size_t i = 0; i < n; i++)
			if (getenv("KMB_TEST_VERBOSE"))
				printf("%-14s %10" PRIu64 " %s\n", st[i].name, st[i].value,
				       st[i].unit);
		ASSERT_EQ_U(n, 23 + 3 * 5); /* 23 counters; zone, pcp and heap locks, 5 each */
		ASSERT_EQ_STR(st[15].name, "zone.lock_acquisitions");
		ASSERT_CMP_U(st[15].value, >, 0);
		ASSERT_CMP_U(st[16].value, <=, st[15].value); /* zone.lock_contended */
		ASSERT_EQ_STR(st[20].name, "pcp.lock_acquisitions");
		ASSERT_CMP_U(st[20].value, >, 0);
		ASSERT_EQ_STR(st[33].name, "heap.lock_acquisitions");
		ASSERT_CMP_U(st[33].value, >, 0);
	}
	ASSERT_EQ_U(ms.held_pages, 0);
	ASSERT_EQ_U(ms.meta_pages, 0);
	ASSERT_EQ_U(ms.free_pages, ms.mem_pages);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

KMB_TEST(stress_booted_four_cpus)
{
	stress_booted(KMB_INVARIANTS_OFF);
}

/* The same with poison, redzones and free checks: the heap's poison restores are checked. */
KMB_TEST(stress_booted_invariants)
{
	stress_booted(KMB_INVARIANTS_ON);
}

KMB_TEST_MAIN()
