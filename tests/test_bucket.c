/*
 * tests/test_bucket.c - the 4.4BSD bucket backend, white box: geometry, page carving,
 * kmemusage, large blocks, per-bucket statistics, drain, the KMEMSTATS and DIAGNOSTIC
 * panics, multi-thread stress, and the "Done when": replaying the bundled boot
 * trace, the peak live allocated bytes equal what the bucket geometry gives.  Expected
 * numbers are worked out by hand in the comments.
 */
#include "kmb_stress.h"
#include "kmb_test.h"

#include <errno.h>

#include "backends/bucket/bucket.h"
#include "core/internal.h"
#include "bench/engine/engine.h"
#include "workloads/trace.h"

#define PAGE    KMB_PAGE_SIZE
#define MIB     ((size_t)1 << 20)
#define BUNDLED KMB_SOURCE_DIR "/workloads/traces/linux-3.6-i386-boot/kmem_SLUB.log"

/* The geometry of the issue, written independently of the backend. */
static size_t geometry(size_t size)
{
	size_t u = 16;

	if (size > 8192)
		return (size + PAGE - 1) / PAGE * PAGE;
	while (u < size)
		u *= 2;
	return u;
}

static void boot(size_t mem, int invariants, unsigned ncpus)
{
	struct kmb_config cfg = {.backend = "bucket",
	                         .mem_bytes = mem,
	                         .nodes = 1,
	                         .ncpus = ncpus,
	                         .invariants = invariants};

	ASSERT_EQ_I(kmb_boot(&cfg), 0);
}

static struct kmb_backend *be(void)
{
	return &kmb__sys.be;
}

static struct kmb_physmem *pm(void)
{
	return &kmb__sys.pm;
}

/* Direct backend calls (no core in between: no redzone, no type). */
static void *balloc(size_t size)
{
	return be()->ops->alloc(be(), size, M_NOWAIT, &(size_t){0});
}

/* Free as the core does with INVARIANTS: poison the block first. */
static void bfree(void *p)
{
	kmb_poison(pm(), p, be()->ops->usable_size(be(), p));
	be()->ops->free(be(), p);
}

static struct kmb__bucket_kbstat kb(unsigned indx)
{
	struct kmb__bucket_kbstat s;

	ASSERT_EQ_I(kmb__bucket_kmembuckets(be(), indx, &s), 0);
	return s;
}

static struct kmb__bucket_ku ku(const void *p)
{
	struct kmb__bucket_ku u;

	ASSERT_EQ_I(kmb__bucket_kmemusage(be(), p, &u), 0);
	return u;
}

static struct kmb__bucket_ctr ctr(void)
{
	struct kmb__bucket_ctr c;

	kmb__bucket_counters(be(), &c);
	return c;
}

static uint64_t stat_value(const char *name)
{
	struct kmb_stat st[64];
	size_t n = be()->ops->stats(be(), st, 64);

	for (size_t i = 0; i < n; i++)
		if (strcmp(st[i].name, name) == 0)
			return st[i].value;
	kmb_test_fail(__FILE__, __LINE__, "no statistic %s", name);
}

static bool has_stat(const char *name)
{
	struct kmb_stat st[64];
	size_t n = be()->ops->stats(be(), st, 64);

	for (size_t i = 0; i < n; i++)
		if (strcmp(st[i].name, name) == 0)
			return true;
	return false;
}

/* ---- geometry ---------------------------------------------------------------------------- */

/* Every size 1..20000: usable = max(16, 2^ceil(log2)) up to 8192, roundup(size, 4096) above;
 * blocks aligned to their bucket size (to the page above 8192). */
KMB_TEST(geometry_every_size_to_20000)
{
	boot(64 * MIB, KMB_INVARIANTS_OFF, 1);
	ASSERT_EQ_U(be()->ops->freelist_bytes, 16);
	ASSERT_TRUE(be()->ops->natural_pow2);
	ASSERT_EQ_U(be()->ops->max_size(be()), 4 * MIB); /* buddy: 2^10 pages */
	for (size_t size = 1; size <= 20000; size++) {
		char *p = kmalloc(size, M_TEMP, M_WAITOK);
		size_t u = kmalloc_usable_size(p), align = u <= 8192 ? u : PAGE;

		if (u != geometry(size))
			kmb_test_fail(__FILE__, __LINE__, "size %zu: usable %zu, geometry %zu",
			              size, u, geometry(size));
		ASSERT_EQ_U((uintptr_t)(p - pm()->base) % align, 0);
		ASSERT_EQ_U(ku(p).indx, kmb__bucket_indx(size));
		kfree(p, M_TEMP);
	}
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

KMB_TEST(bucket_index_and_constants)
{
	/* BUCKETINDX: 1..16 -> 4, 17..32 -> 5, ..., 8193..16384 -> 14, above 256 KiB -> 19 */
	ASSERT_EQ_U(kmb__bucket_indx(1), 4);
	ASSERT_EQ_U(kmb__bucket_indx(16), 4);
	ASSERT_EQ_U(kmb__bucket_indx(17), 5);
	ASSERT_EQ_U(kmb__bucket_indx(8192), 13);
	ASSERT_EQ_U(kmb__bucket_indx(8193), 14);
	ASSERT_EQ_U(kmb__bucket_indx(256 * 1024), 18);
	ASSERT_EQ_U(kmb__bucket_indx(256 * 1024 + 1), 19);
	ASSERT_EQ_U(kmb__bucket_indx(4 * MIB), 19);
	/* kmeminit(): elmpercl = CLBYTES / size below a page, else 1; highwat = 5 * elmpercl */
	ASSERT_EQ_U(kmb__bucket_elmpercl(4), 256);
	ASSERT_EQ_U(kmb__bucket_elmpercl(10), 4);
	ASSERT_EQ_U(kmb__bucket_elmpercl(12), 1);
	ASSERT_EQ_U(kmb__bucket_elmpercl(13), 1);
	boot(4 * MIB, KMB_INVARIANTS_OFF, 1);
	for (unsigned i = 4; i < KMB_BUCKET_NBUCKETS; i++) {
		ASSERT_EQ_U(kb(i).elmpercl, i < 12 ? (4096u >> i) : 1);
		ASSERT_EQ_U(kb(i).highwat, 5 * kb(i).elmpercl);
	}
	ASSERT_EQ_I(
	        kmb__bucket_kmembuckets(be(), KMB_BUCKET_NBUCKETS, &(struct kmb__bucket_kbstat){0}),
	        -EINVAL);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- page carving and kmemusage -------------------------------------------------------- */

/*
 * Each bucket from 16 to 8192: the first allocation carves one page (two for 8192) into
 * elmpercl blocks, handing out the highest first (4.4BSD carves from the top down); the
 * elmpercl + 1st takes a second page.  ku_freecnt counts the page's free blocks.
 */
KMB_TEST(page_carving_blocks_per_page)
{
	static void *v[257];

	for (unsigned indx = 4; indx <= 13; indx++) {
		size_t size = (size_t)1 << indx, npg = size > PAGE ? 2 : 1;
		uint64_t per = kmb__bucket_elmpercl(indx);
		char *va;

		boot(4 * MIB, KMB_INVARIANTS_OFF, 1);
		for (uint64_t i = 0; i < per; i++) {
			ASSERT_NOT_NULL(v[i] = balloc(size));
			ASSERT_EQ_U(ku(v[i]).count, per - 1 - i);
			ASSERT_FALSE(ku(v[i]).large);
		}
		va = (char *)v[per - 1];
		ASSERT_EQ_U((uintptr_t)(va - pm()->base) % (npg * PAGE), 0);
		for (uint64_t i = 0; i < per;
		     i++) /* top down: block i at va + (per - 1 - i) * size */
			ASSERT_EQ_PTR(v[i], va + (per - 1 - i) * size);
		ASSERT_EQ_U(pm()->data_pages, npg);
		ASSERT_EQ_U(pm()->meta_pages, 0); /* kmemusage lives in struct kmb_page */
		ASSERT_EQ_U(kb(indx).total, per);
		ASSERT_EQ_U(kb(indx).totalfree, 0);
		ASSERT_NOT_NULL(v[per] = balloc(size));
		ASSERT_EQ_U(pm()->data_pages, 2 * npg);
		ASSERT_EQ_U(kb(indx).total, 2 * per);
		ASSERT_EQ_U(kb(indx).totalfree, per - 1);
		ASSERT_EQ_U(ctr().small_pages, 2 * npg);
		for (uint64_t i = 0; i <= per; i++)
			bfree(v[i]);
		ASSERT_EQ_U(ku(va).count, per); /* wholly free, still held (4.4BSD) */
		ASSERT_EQ_U(pm()->data_pages, 2 * npg);
		ASSERT_EQ_I(kmb_shutdown(), 0); /* fini gives the bucket pages back */
	}
}

/* Frees set ku_freecnt from the address alone; a free appends (FIFO reuse). */
KMB_TEST(kmemusage_on_free_and_fifo_reuse)
{
	char *a, *b, *c, *d[29];

	boot(4 * MIB, KMB_INVARIANTS_OFF, 1);
	a = balloc(100); /* 128-byte bucket: 32 blocks per page */
	b = balloc(128);
	c = balloc(65);
	ASSERT_EQ_U(ku(a).indx, 7);
	ASSERT_EQ_U(ku(a).count, 29);
	ASSERT_EQ_U(be()->ops->usable_size(be(), c), 128);
	bfree(b);
	ASSERT_EQ_U(ku(a).count, 30);
	bfree(a);
	ASSERT_EQ_U(ku(c).count, 31);
	/* the list now holds the 29 carved blocks, then b, then a */
	for (int i = 0; i < 29; i++) {
		d[i] = balloc(128);
		ASSERT_TRUE(d[i] != a && d[i] != b);
	}
	ASSERT_EQ_PTR(balloc(128), b);
	ASSERT_EQ_PTR(balloc(128), a);
	ASSERT_EQ_U(ku(c).count, 0);
	ASSERT_EQ_U(pm()->data_pages, 1);
	ASSERT_EQ_I(kmb__bucket_kmemusage(be(), pm()->base + pm()->npages * PAGE - 1,
	                                  &(struct kmb__bucket_ku){0}),
	            -EINVAL);
	for (int i = 0; i < 29; i++)
		bfree(d[i]);
	bfree(a);
	bfree(b);
	bfree(c);
	ASSERT_EQ_U(ku(c).count, 32);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- large blocks ---------------------------------------------------------------------- */

/*
 * Above 8192: ku_pagecnt = roundup(size, page) / page pages usable, 2^ceil(log2 pagecnt)
 * pages taken from the buddy page source; the difference is large_waste.
 */
KMB_TEST(large_allocations_page_counts)
{
	static const struct {
		size_t size, pagecnt, taken;
		unsigned indx;
	} c[] = {
	        {8193, 3, 4, 14},    {12288, 3, 4, 14},     {16384, 4, 4, 14},
	        {16385, 5, 8, 15},   {20000, 5, 8, 15},     {65536, 16, 16, 16},
	        {65537, 17, 32, 17}, {300000, 74, 128, 19}, {4 * MIB, 1024, 1024, 19},
	};
	struct kmb_memstat ms;
	void *p;

	boot(16 * MIB, KMB_INVARIANTS_OFF, 1);
	ASSERT_NULL(balloc(4 * MIB + 1));
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		ASSERT_NOT_NULL(p = balloc(c[i].size));
		ASSERT_EQ_U((uintptr_t)p % PAGE, 0);
		ASSERT_EQ_U(be()->ops->usable_size(be(), p), c[i].pagecnt * PAGE);
		ASSERT_TRUE(ku(p).large);
		ASSERT_EQ_U(ku(p).count, c[i].pagecnt);
		ASSERT_EQ_U(ku(p).indx, c[i].indx);
		ASSERT_EQ_U(pm()->data_pages, c[i].taken);
		ASSERT_EQ_U(ctr().large_pages, c[i].taken);
		ASSERT_EQ_U(ctr().large_waste, c[i].taken - c[i].pagecnt);
		ASSERT_EQ_U(kb(c[i].indx).total, 1);
		memset(p, 0xab, c[i].pagecnt * PAGE);
		bfree(p);
		ASSERT_EQ_U(pm()->data_pages, 0); /* straight back to the page source */
		ASSERT_EQ_U(kb(c[i].indx).total, 0);
	}
	ASSERT_EQ_U(kb(14).calls, 3);
	ASSERT_EQ_U(kb(19).calls, 2);
	ASSERT_EQ_U(stat_value("large_calls"), 9);
	ASSERT_EQ_U(stat_value("large_live"), 0);
	ASSERT_EQ_U(ctr().large_pages, 0);
	be()->ops->drain(be());
	be()->pages->drain(be()->pages);
	kmb_memstat(&ms);
	ASSERT_EQ_U(ms.free_pages, 4096);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- per-bucket statistics --------------------------------------------------------------- */

/*
 * 1024-byte bucket (index 10): elmpercl 4, highwat 20.  28 blocks = 7 pages, freed in
 * allocation order: page k (1..7) becomes wholly free at its 4th free, when kb_totalfree
 * (before the increment) is 4k - 1; that exceeds 20 for k = 6, 7: couldfree 2.
 * 4096-byte bucket (index 12): elmpercl 1, highwat 5.  8 blocks freed: the i-th free (i =
 * 1..8) empties its page with totalfree i - 1, above 5 for i = 7, 8: couldfree 2.
 */
KMB_TEST(per_bucket_statistics_after_a_script)
{
	static void *v[28];
	struct kmb__bucket_kbstat s;

	boot(4 * MIB, KMB_INVARIANTS_OFF, 1);
	for (int i = 0; i < 28; i++)
		ASSERT_NOT_NULL(v[i] = balloc(1000));
	s = kb(10);
	ASSERT_EQ_U(s.calls, 28);
	ASSERT_EQ_U(s.total, 28);
	ASSERT_EQ_U(s.totalfree, 0);
	ASSERT_EQ_U(s.couldfree, 0);
	for (int i = 0; i < 28; i++)
		bfree(v[i]);
	s = kb(10);
	ASSERT_EQ_U(s.calls, 28);
	ASSERT_EQ_U(s.total, 28);
	ASSERT_EQ_U(s.totalfree, 28);
	ASSERT_EQ_U(s.elmpercl, 4);
	ASSERT_EQ_U(s.highwat, 20);
	ASSERT_EQ_U(s.couldfree, 2);
	for (int i = 0; i < 8; i++)
		ASSERT_NOT_NULL(v[i] = balloc(4096));
	for (int i = 0; i < 8; i++)
		bfree(v[i]);
	s = kb(12);
	ASSERT_EQ_U(s.calls, 8);
	ASSERT_EQ_U(s.total, 8);
	ASSERT_EQ_U(s.totalfree, 8);
	ASSERT_EQ_U(s.highwat, 5);
	ASSERT_EQ_U(s.couldfree, 2);
	/* the declared table: rows of used buckets only */
	ASSERT_EQ_U(stat_value("b1024_calls"), 28);
	ASSERT_EQ_U(stat_value("b1024_total"), 28);
	ASSERT_EQ_U(stat_value("b1024_totalfree"), 28);
	ASSERT_EQ_U(stat_value("b1024_couldfree"), 2);
	ASSERT_EQ_U(stat_value("b4096_couldfree"), 2);
	ASSERT_EQ_U(stat_value("small_pages"), 15);
	ASSERT_FALSE(has_stat("b16_calls"));
	/* drain: 7 + 8 wholly free pages back; calls and couldfree stay */
	be()->ops->drain(be());
	s = kb(10);
	ASSERT_EQ_U(s.total, 0);
	ASSERT_EQ_U(s.totalfree, 0);
	ASSERT_EQ_U(s.calls, 28);
	ASSERT_EQ_U(s.couldfree, 2);
	ASSERT_EQ_U(stat_value("drained_pages"), 15);
	ASSERT_EQ_U(stat_value("drains"), 1);
	ASSERT_EQ_U(stat_value("small_pages"), 0);
	ASSERT_EQ_U(pm()->data_pages, 0);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- drain -------------------------------------------------------------------------------- */

/*
 * 2048-byte bucket (2 blocks per page, the top one first): pages A (a1 = A + 2048, a2 = A),
 * B, C.  Free a1, b1, b2, c1: B is wholly free; drain returns B alone and keeps the list
 * order a1, c1 with kb_last = c1, so that the next free (a2) appends after c1.
 */
KMB_TEST(drain_returns_only_wholly_free_pages)
{
	char *a1, *a2, *b1, *b2, *c1, *c2;

	boot(4 * MIB, KMB_INVARIANTS_OFF, 1);
	a1 = balloc(2048);
	a2 = balloc(2048);
	b1 = balloc(2048);
	b2 = balloc(2048);
	c1 = balloc(2048);
	c2 = balloc(2048);
	ASSERT_EQ_PTR(a2, a1 - 2048);
	bfree(a1);
	bfree(b1);
	bfree(b2);
	bfree(c1);
	ASSERT_EQ_U(pm()->data_pages, 3);
	be()->ops->drain(be());
	ASSERT_EQ_U(pm()->data_pages, 2);
	ASSERT_EQ_U(kb(11).total, 4);
	ASSERT_EQ_U(kb(11).totalfree, 2);
	ASSERT_EQ_I(kmb__bucket_kmemusage(be(), b1, &(struct kmb__bucket_ku){0}), -EINVAL);
	bfree(a2);
	ASSERT_EQ_PTR(balloc(2048), a1);
	ASSERT_EQ_PTR(balloc(2048), c1);
	ASSERT_EQ_PTR(balloc(2048), a2);
	ASSERT_EQ_U(kb(11).totalfree, 0);
	ASSERT_EQ_U(pm()->data_pages, 2);
	bfree(a1);
	bfree(a2);
	bfree(c1);
	bfree(c2);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/*
 * Memory full of 64-byte blocks, all freed: 4.4BSD would keep every page on the 64-byte
 * list and an 8192-byte M_WAITOK request would wait forever (here: a deadlock report).
 * M_NOWAIT still fails (no drain on that path); M_WAITOK drains and succeeds at once.
 */
MALLOC_DEFINE(M_BUCKETTEST, "buckettest", "test_bucket blocks")

KMB_TEST(drain_lets_waitok_reuse_bucket_pages)
{
	static void *v[80000];
	struct kmb_memstat ms;
	size_t n = 0;
	void *p;

	boot(4 * MIB, KMB_INVARIANTS_OFF, 1);
	while (n < 80000 && (v[n] = kmalloc(64, M_BUCKETTEST, M_NOWAIT)) != NULL)
		n++;
	ASSERT_CMP_U(n, >, 64 * 100);
	for (size_t i = 0; i < n; i++)
		kfree(v[i], M_BUCKETTEST);
	ASSERT_NULL(kmalloc(8192, M_BUCKETTEST, M_NOWAIT));
	ASSERT_NOT_NULL(p = kmalloc(8192, M_BUCKETTEST, M_WAITOK));
	ASSERT_EQ_U(stat_value("drained_pages"), (n + 63) / 64);
	kmb_memstat(&ms);
	ASSERT_EQ_U(ms.sleeps, 0);
	kfree(p, M_BUCKETTEST);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- KMEMSTATS and DIAGNOSTIC panics --------------------------------------------------------- */

KMB_TEST(unaligned_and_foreign_frees_panic)
{
	char *p, *q, *r, *other, local;

	boot(4 * MIB, KMB_INVARIANTS_ON, 1);
	p = balloc(64);
	q = balloc(20000);
	r = balloc(8192);
	other = be()->pages->alloc_pages(be()->pages, 0, 0);
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, be()->ops->free(be(), p + 8));
	ASSERT_CONTAINS(kmb_test_panic_msg, "free: unaligned addr");
	ASSERT_CONTAINS(kmb_test_panic_msg, "size 64, mask 0x3f");
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, be()->ops->free(be(), q + 16));
	ASSERT_CONTAINS(kmb_test_panic_msg, "mask 0xfff");
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, be()->ops->free(be(), q + PAGE)); /* a tail page */
	ASSERT_CONTAINS(kmb_test_panic_msg, "not the first page of its block");
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, be()->ops->free(be(), q + 7 * PAGE)); /* waste tail */
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, be()->ops->free(be(), r + PAGE));     /* 8192's 2nd page */
	ASSERT_CONTAINS(kmb_test_panic_msg, "not the first page of its block");
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, be()->ops->free(be(), other)); /* someone else's page */
	ASSERT_CONTAINS(kmb_test_panic_msg, "not a block of the bucket allocator");
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, be()->ops->free(be(), &local));
	ASSERT_CONTAINS(kmb_test_panic_msg, "not in physical memory");
	bfree(q);
	EXPECT_PANIC(KMB_PANIC_DOUBLE_FREE, be()->ops->free(be(), q)); /* its pages went back */
	ASSERT_CONTAINS(kmb_test_panic_msg, "the page is free");
	bfree(p); /* the lock was dropped by every panic */
	bfree(r);
	be()->pages->free_pages(be()->pages, other, 0);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* DIAGNOSTIC: a block that looks free (marker in word 0) is found on the list. */
KMB_TEST(diagnostic_duplicated_free)
{
	char *p, *q;
	char want[96];

	boot(4 * MIB, KMB_INVARIANTS_ON, 1);
	p = balloc(200);
	q = balloc(200);
	bfree(p);
	EXPECT_PANIC(KMB_PANIC_DOUBLE_FREE, be()->ops->free(be(), p));
	snprintf(want, sizeof(want), "free: duplicated free (multiply freed item %p, size 256)",
	         (void *)p);
	ASSERT_CONTAINS(kmb_test_panic_msg, want);
	ASSERT_EQ_U(kb(8).totalfree, 15); /* unchanged by the panic */
	bfree(q);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* KMEMSTATS, always: more free blocks than the page holds is "free: multiple frees". */
KMB_TEST(kmemstats_multiple_frees)
{
	char *p;

	boot(4 * MIB, KMB_INVARIANTS_OFF, 1);
	p = balloc(4096); /* elmpercl 1: ku_freecnt 0 */
	bfree(p);
	EXPECT_PANIC(KMB_PANIC_DOUBLE_FREE, be()->ops->free(be(), p));
	ASSERT_CONTAINS(kmb_test_panic_msg, "free: multiple frees (ku_freecnt 1 of 1)");
	ASSERT_EQ_U(kb(12).totalfree, 1);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/*
 * DIAGNOSTIC on malloc: the head of the 64-byte list after one allocation is the block
 * below it (carved top down).  Each damage panics, leaves the list as it was, and once
 * repaired the block is handed out.
 */
KMB_TEST(diagnostic_modified_free_list)
{
	char *p, *head;
	uint64_t saved;

	boot(4 * MIB, KMB_INVARIANTS_ON, 1);
	p = balloc(64);
	head = p - 64;
	/* word 0: the free marker */
	memcpy(&saved, head, 8);
	ASSERT_EQ_U(saved, KMB__BUCKET_WEIRD_ADDR);
	head[3] = 0x41;
	EXPECT_PANIC(KMB_PANIC_MODIFIED, balloc(64));
	ASSERT_CONTAINS(kmb_test_panic_msg, "Data modified on freelist: word 0 of object");
	ASSERT_CONTAINS(kmb_test_panic_msg, "size 64");
	memcpy(head, &saved, 8);
	/* word 1: the link, to something that is not a 64-byte block */
	memcpy(&saved, head + 8, 8);
	{
		char *bogus = p + 8;

		memcpy(head + 8, &bogus, 8);
	}
	EXPECT_PANIC(KMB_PANIC_MODIFIED, balloc(64));
	ASSERT_CONTAINS(kmb_test_panic_msg, "word 1 of object");
	ASSERT_CONTAINS(kmb_test_panic_msg, "(invalid addr");
	memcpy(head + 8, &saved, 8);
	/* words 2..3: the known text up to MAX_COPY (32 bytes) */
	head[20] = 0;
	EXPECT_PANIC(KMB_PANIC_MODIFIED, balloc(64));
	ASSERT_CONTAINS(kmb_test_panic_msg, "word 2 of object");
	ASSERT_CONTAINS(kmb_test_panic_msg, "!= 0xdededededededede");
	head[20] = (char)KMB_POISON_BYTE;
	ASSERT_EQ_U(kb(6).totalfree, 63);
	ASSERT_EQ_PTR(balloc(64), head);
	ASSERT_NULL(kmb_poison_check(head, 64)); /* marker and link gone: all poison */
	bfree(head);
	bfree(p);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* Through the core: a use after free inside MAX_COPY is caught by the bucket's check. */
KMB_TEST(diagnostic_use_after_free_through_kmalloc)
{
	char *p, *q = NULL;

	boot(4 * MIB, KMB_INVARIANTS_ON, 1);
	p = kmalloc(40, M_BUCKETTEST, M_WAITOK); /* 40 + 16 redzone: the 64-byte bucket */
	kfree(p, M_BUCKETTEST);
	p[24] = 'x';
	EXPECT_PANIC(
	        KMB_PANIC_MODIFIED, for (int i = 0; i < 64; i++) {
		        q = kmalloc(40, M_BUCKETTEST, M_WAITOK);
		        if (q == p)
			        break;
	        });
	ASSERT_CONTAINS(kmb_test_panic_msg, "Data modified on freelist: word 3 of object");
	kmb_shutdown_abandon();
}

/* ---- concurrency --------------------------------------------------------------------------- */

#define STRESS_ITERS 20000

/* CPU 3's hook: drain, and read the statistics, as the others allocate and free. */
static void stress_hook(void)
{
	struct kmb_stat st[64];

	be()->ops->drain(be());
	(void)kmb_backend_stats(st, 64);
}

static void stress(int invariants)
{
	static struct kmb_stress st = {
	        .type = M_BUCKETTEST, .iters = STRESS_ITERS, .hook = stress_hook};
	struct kmb_memstat ms;

	kmb_stress_boot("bucket", invariants);
	kmb_stress_start(&st, 4);
	for (int i = 0; i < 200; i++)
		kmb_memstat(&ms);
	kmb_stress_join(&st);
	for (unsigned i = 4; i <= 13; i++) /* every block is free */
		ASSERT_EQ_U(kb(i).total, kb(i).totalfree);
	ASSERT_EQ_U(stat_value("large_live"), 0);
	be()->ops->drain(be());
	be()->pages->drain(be()->pages);
	for (unsigned i = 4; i <= 13; i++)
		ASSERT_EQ_U(kb(i).total, 0);
	kmb_memstat(&ms);
	ASSERT_EQ_U(ms.held_pages, 0);
	ASSERT_EQ_U(ms.meta_pages, 0);
	ASSERT_EQ_U(ms.free_pages, ms.mem_pages);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

KMB_TEST(stress_four_cpus_cross_frees)
{
	stress(KMB_INVARIANTS_OFF);
}

KMB_TEST(stress_four_cpus_cross_frees_invariants)
{
	stress(KMB_INVARIANTS_ON);
}

/* ---- Done when: the bundled trace's peak live allocated bytes ------------------------------ */

/*
 * The peak of sum(geometry(size)) over live objects, walking the plan as the replay engine
 * does (bench/engine/replay.c): kmalloc ops allocate op->size bytes; cache ops allocate the
 * cache's object size (the generic kmem_cache asks the backend for exactly that with
 * alignment 0); frees end their slot's object; page ops are not replayed.
 */
static uint64_t geometry_peak(const struct kmb_plan *plan, uint64_t *slot_bytes)
{
	uint64_t live = 0, peak = 0;

	for (size_t i = 0; i < plan->nop; i++) {
		const struct kmb_op *op = &plan->op[i];

		if (op->kind == KMB_OP_KMALLOC || op->kind == KMB_OP_CACHE_ALLOC) {
			uint64_t size =
			        op->kind == KMB_OP_KMALLOC ? op->size : plan->cache_size[op->type];

			slot_bytes[op->slot] = geometry(size);
			live += slot_bytes[op->slot];
			peak = live > peak ? live : peak;
		} else if (op->kind == KMB_OP_KFREE || op->kind == KMB_OP_CACHE_FREE) {
			live -= slot_bytes[op->slot];
			slot_bytes[op->slot] = 0;
		}
	}
	return peak;
}

/*
 * The figure of the "Done when": 983,360 bytes, computed by geometry_peak() from
 * the plan alone (no allocator involved), and again by a script straight from the raw
 * trace (live pointers, implicit frees, geometry(bytes_req)).  The replay engine's peak
 * of live usable bytes (kmalloc_usable's usable sizes) must reach it exactly, with no
 * failed allocation.  (The trace's peak live requested bytes are 673,929.)
 */
#define BUNDLED_GEOMETRY_PEAK 983360

KMB_TEST(bundled_trace_peak_equals_the_geometry)
{
	struct kmb_replay_opts o = {.backend = "bucket", .invariants = KMB_INVARIANTS_OFF};
	struct kmb_replay_result *r = calloc(1, sizeof(*r));
	struct kmb_trace t;
	struct kmb_trace_facts f;
	struct kmb_plan plan;
	uint64_t *slot_bytes, expected;
	char err[2600];

	ASSERT_NOT_NULL(r);
	ASSERT_EQ_I(kmb_workload_load(BUNDLED, false, &t, &f, &plan), 0);
	ASSERT_NOT_NULL(slot_bytes = calloc(plan.nslots + 1, sizeof(*slot_bytes)));
	expected = geometry_peak(&plan, slot_bytes);
	printf("bucket geometry peak of the bundled trace: %" PRIu64 " bytes\n", expected);
	/* the replay engine itself (bench/engine), one thread: its figures are exact */
	ASSERT_EQ_I(kmb_replay(&plan, &f, BUNDLED, &o, r, err, sizeof(err)), 0);
	printf("replayed on bucket: peak live usable bytes %" PRIu64 ", failed %" PRIu64 "\n",
	       r->peak_live_bytes_alloc, r->failed_allocs);
	ASSERT_EQ_U(r->failed_allocs, 0);
	ASSERT_EQ_U(r->peak_live_error_bytes, 0);
	ASSERT_EQ_U(r->peak_live_bytes_alloc, expected);
	ASSERT_EQ_U(expected, BUNDLED_GEOMETRY_PEAK);
	kmb_replay_result_free(r);
	free(r);
	free(slot_bytes);
	kmb_plan_free(&plan);
	kmb_trace_free(&t);
}

KMB_TEST_MAIN()

/* The bucket's free-list counts (bucket.c): a listed block is counted free (always
 * checked); with INVARIANTS a drain first counts the list against kb_totalfree. */
KMB_TEST(freelist_counts_panic_with_the_call)
{
	boot(16 * MIB, KMB_INVARIANTS_OFF, 1);
	bfree(balloc(64));
	kmb__bucket_of(be())->kb[6].kb_totalfree = 0; /* 64 blocks listed, none counted */
	EXPECT_PANIC(KMB_PANIC_CORRUPT, balloc(64));
	ASSERT_CONTAINS(kmb_test_panic_msg, "kmb_bucket_alloc(64): bucket 6 lists block ");
	ASSERT_CONTAINS(kmb_test_panic_msg, " but counts no free block");
}

KMB_TEST(freelist_walk_with_invariants)
{
	boot(16 * MIB, KMB_INVARIANTS_ON, 1);
	ASSERT_TRUE(kmb_invariants_on);
	bfree(balloc(64));
	kmb__bucket_of(be())->kb[6].kb_totalfree++; /* one block more than the list holds */
	EXPECT_PANIC(KMB_PANIC_CORRUPT, be()->ops->drain(be()));
	ASSERT_CONTAINS(kmb_test_panic_msg, "kmb_bucket_drain: bucket 6 (64 bytes): 64 blocks");
	ASSERT_CONTAINS(kmb_test_panic_msg, "kb_totalfree 65");
}
