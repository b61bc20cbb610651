/*
 * tests/test_slab.c - the slab backend: geometry and colouring, small (embedded) and
 * large (hashed) slabs and the hash's rescaling, the magazine and depot algorithm with
 * exact counts, magazine growth under depot contention, reaping, size classes, native
 * caches, CPU flushes (detach, drain, destroyed caches) and a multi-thread stress.
 * Expected numbers are worked out in the comments (the 48-byte slab header, 4 KiB pages).
 */
#include "kmb_test.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "backends/slab/slab.h"
#include "core/internal.h"

#define MIB  ((size_t)1 << 20)
#define PAGE KMB_PAGE_SIZE

MALLOC_DEFINE(M_SLABTEST, "slabtest", "test_slab blocks");

static struct kmb_slab *boot_slab(size_t mem, unsigned ncpus, int invariants)
{
	struct kmb_config cfg = {.backend = "slab",
	                         .mem_bytes = mem,
	                         .nodes = 1,
	                         .ncpus = ncpus,
	                         .invariants = invariants};

	ASSERT_EQ_I(kmb_boot(&cfg), 0);
	return kmb__slab_of_backend(&kmb__sys.be);
}

static struct kmb__slab_cstat cstat(struct kmb__slab_cache *cp)
{
	struct kmb__slab_cstat s;

	kmb__slab_cache_stats(cp, &s);
	return s;
}

static uint64_t stat_value(const char *name)
{
	struct kmb_stat st[64];
	size_t n = kmb_backend_stats(st, 64);

	for (size_t i = 0; i < n; i++)
		if (strcmp(st[i].name, name) == 0)
			return st[i].value;
	kmb_test_fail(__FILE__, __LINE__, "no statistic %s", name);
}

static size_t page_off(const void *p)
{
	return (size_t)((const char *)p - kmb__sys.pm.base) & (PAGE - 1);
}

static void drain(void)
{
	kmb__sys.be.ops->drain(&kmb__sys.be);
}

static struct kmb__slab_cache *find_cache(struct kmb_slab *sl, const char *name)
{
	struct kmb__slab_cache *cp;

	kmb_mutex_enter(&sl->caches_lock);
	for (cp = sl->caches; cp != NULL && strcmp(cp->name, name) != 0; cp = cp->next)
		;
	kmb_mutex_exit(&sl->caches_lock);
	return cp;
}

/* ---- geometry ---------------------------------------------------------------------------- */

/* (4096 - 48) = 4048 bytes for buffers in a small slab; the rest by the best-fit rule. */
KMB_TEST(geometry_of_the_kmalloc_caches)
{
	static const struct {
		size_t size, align, chunks, maxcolor;
		unsigned order;
		bool small;
	} want[KMB__SLAB_NCLASSES] = {
	        {8, 8, 506, 0, 0, true},      {16, 16, 253, 0, 0, true},
	        {32, 32, 126, 16, 0, true},   {64, 64, 63, 16, 0, true},
	        {96, 32, 42, 16, 0, true},    {128, 128, 31, 80, 0, true},
	        {192, 64, 21, 16, 0, true},   {256, 256, 15, 208, 0, true},
	        {512, 512, 8, 0, 0, false},   {1024, 1024, 4, 0, 0, false},
	        {2048, 2048, 2, 0, 0, false}, {4096, 4096, 1, 0, 0, false},
	        {8192, 4096, 1, 0, 1, false},
	};
	struct kmb_slab *sl = boot_slab(16 * MIB, 1, KMB_INVARIANTS_OFF);

	for (int c = 0; c < KMB__SLAB_NCLASSES; c++) {
		struct kmb__slab_cache *cp = sl->kmalloc[c];

		ASSERT_EQ_U(cp->chunksize, want[c].size);
		ASSERT_EQ_U(cp->align, want[c].align);
		ASSERT_EQ_U(cp->maxchunks, want[c].chunks);
		ASSERT_EQ_U(cp->maxcolor, want[c].maxcolor);
		ASSERT_EQ_U(cp->slab_order, want[c].order);
		ASSERT_EQ_U(cp->small, want[c].small);
	}
	/* magazines by chunk (kmem_magtype minbuf): <= 64 -> 15, <= 256 -> 7, else 3 or 1 */
	ASSERT_EQ_I(sl->kmalloc[3]->magsize, 15);
	ASSERT_EQ_I(sl->kmalloc[4]->magsize, 7);
	ASSERT_EQ_I(sl->kmalloc[7]->magsize, 7);
	ASSERT_EQ_I(sl->kmalloc[8]->magsize, 3);
	ASSERT_EQ_I(sl->kmalloc[11]->magsize, 1);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* 200 B, align 8: 20 chunks and a 48-byte slack: colours 8, 16, ..., 48, then 0, 8. */
/* free_sized (kmem_free's size, slab_kmalloc.c 4.): the cache comes from the size, the
 * object goes back to it (an attached CPU's magazine hands it out again at once), the
 * chunk size is reported; whole-page blocks as kfree frees them; every page back. */
KMB_TEST(free_sized_takes_the_cache_from_the_size)
{
	static const size_t sizes[] = {1, 8, 9, 72, 96, 100, 200, 256, 1000, 4096, 8000, 8192};
	struct kmb_slab *sl = boot_slab(16 * MIB, 1, KMB_INVARIANTS_OFF);
	struct kmb_backend *be = &kmb__sys.be;
	size_t usable;
	char *p;

	ASSERT_EQ_I(kmb_thread_attach("sized", 0), 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t s = sizes[i];
		struct kmb__slab_cache *cp = sl->kmalloc[kmb__slab_size_class(sl, s)];

		ASSERT_NOT_NULL(p = be->ops->alloc(be, s, M_NOWAIT, &usable));
		ASSERT_EQ_U(usable, cp->chunksize);
		ASSERT_EQ_U(be->ops->free_sized(be, p, s), cp->chunksize);
		ASSERT_EQ_PTR(be->ops->alloc(be, s, M_NOWAIT, &usable), p); /* the magazine's */
		ASSERT_EQ_U(be->ops->free_sized(be, p, s), cp->chunksize);
	}
	ASSERT_NOT_NULL(p = be->ops->alloc(be, 20000, M_NOWAIT, &usable));
	ASSERT_EQ_U(usable, 8 * PAGE);
	ASSERT_EQ_U(be->ops->free_sized(be, p, 20000), 8 * PAGE);
	kmb_thread_detach();
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

KMB_TEST(colour_offsets_of_a_small_cache)
{
	static const size_t colours[8] = {8, 16, 24, 32, 40, 48, 0, 8};
	struct kmb_slab *sl = boot_slab(16 * MIB, 1, KMB_INVARIANTS_OFF);
	struct kmb__slab_cache *cp = kmb__slab_cache_create(sl, "c200", 200, 8, false);
	void *v[8 * 20];

	ASSERT_NOT_NULL(cp);
	ASSERT_TRUE(cp->small);
	ASSERT_EQ_U(cp->maxchunks, 20);
	ASSERT_EQ_U(cp->maxcolor, 48);
	for (int i = 0; i < 8 * 20; i++)
		v[i] = kmb__slab_alloc(cp, M_NOWAIT);
	for (int s = 0; s < 8; s++) {
		ASSERT_EQ_U(page_off(v[s * 20]), colours[s]);
		for (int k = 1; k < 20; k++) /* ascending, one chunk apart, same page */
			ASSERT_EQ_PTR(v[s * 20 + k], (char *)v[s * 20] + 200 * k);
	}
	ASSERT_EQ_U(cstat(cp).slab_create, 8);
	for (int i = 0; i < 8 * 20; i++)
		kmb__slab_free(cp, v[i]);
	kmb__slab_cache_retire(sl, cp);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* 600 B: 1 page holds 6 (82 B wasted each), 2 pages hold 13 (30 B each): 2-page slabs,
 * slack 8192 - 7800 = 392, colours 8, 16, 24, ... */
KMB_TEST(colour_offsets_of_a_large_cache)
{
	struct kmb_slab *sl = boot_slab(16 * MIB, 1, KMB_INVARIANTS_OFF);
	struct kmb__slab_cache *cp = kmb__slab_cache_create(sl, "c600", 600, 8, false);
	void *v[3 * 13];

	ASSERT_NOT_NULL(cp);
	ASSERT_FALSE(cp->small);
	ASSERT_EQ_U(cp->slab_order, 1);
	ASSERT_EQ_U(cp->maxchunks, 13);
	ASSERT_EQ_U(cp->maxcolor, 392);
	for (int i = 0; i < 3 * 13; i++)
		v[i] = kmb__slab_alloc(cp, M_NOWAIT);
	for (int s = 0; s < 3; s++) {
		ASSERT_EQ_U(page_off(v[s * 13]), (size_t)8 * (s + 1));
		ASSERT_EQ_PTR(v[s * 13 + 12], (char *)v[s * 13] + 600 * 12);
	}
	for (int i = 0; i < 3 * 13; i++)
		kmb__slab_free(cp, v[i]);
	kmb__slab_cache_retire(sl, cp);
	/* 70000 B: 7 per 512 KiB (waste 34288 / 7 = 4898 each; 14 per MiB is no better); the
	 * 34288-byte slack is capped at a page less one, as kmem caps it at its quantum */
	cp = kmb__slab_cache_create(sl, "c70k", 70000, 8, false);
	ASSERT_EQ_U(cp->slab_order, 7);
	ASSERT_EQ_U(cp->maxchunks, 7);
	ASSERT_EQ_U(cp->maxcolor, PAGE - 1);
	kmb__slab_cache_retire(sl, cp);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- small and large slabs ------------------------------------------------------------------ */

KMB_TEST(small_slab_header_in_page_and_links_in_buffers)
{
	struct kmb_slab *sl = boot_slab(16 * MIB, 1, KMB_INVARIANTS_OFF);
	struct kmb__slab_cache *cp = kmb__slab_cache_create(sl, "c64", 64, 64, false);
	char *a = kmb__slab_alloc(cp, M_NOWAIT), *b = kmb__slab_alloc(cp, M_NOWAIT);
	char *page = a - page_off(a);
	struct kmb__slab *sp = (struct kmb__slab *)(page + PAGE - sizeof(struct kmb__slab));
	struct kmb_page *pg = kmb_page_of(&kmb__sys.pm, a);

	ASSERT_EQ_PTR(sp->cache, cp);
	ASSERT_EQ_U(sp->refcnt, 2);
	ASSERT_EQ_U(sp->chunks, 63);
	ASSERT_TRUE(pg->flags & KMB__SLAB_PG_SLAB);
	ASSERT_EQ_PTR((void *)pg->priv[0], cp);
	ASSERT_EQ_U(pg->usage, KMB_USE_DATA);
	ASSERT_NULL(cp->hash);
	kmb__slab_free(cp, a); /* a's first word now links to the next free buffer */
	ASSERT_EQ_PTR(sp->head, a);
	ASSERT_EQ_PTR(*(void **)a, b + 64);
	kmb__slab_free(cp, b);
	ASSERT_EQ_PTR(*(void **)b, a);
	ASSERT_EQ_U(sp->refcnt, 0);
	ASSERT_EQ_U(cstat(cp).empty_slabs, 1); /* kept until reaped */
	kmb__slab_cache_retire(sl, cp);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

static size_t hash_entries(struct kmb__slab_cache *cp)
{
	size_t n = 0;

	for (size_t h = 0; h <= cp->hash_mask; h++)
		for (struct kmb__slab_bufctl *b = cp->hash[h]; b != NULL; b = b->next)
			n++;
	return n;
}

/*
 * 1024-byte buffers, 4 per page.  The hash (one page, 512 buckets) grows when buftotal
 * passes 2 * 511 = 1022 and 2^(highbit(3 * buftotal + 4) - 2) is beyond twice the table:
 * at buftotal 1364, slab 341 (3 * 1364 + 4 = 4096, highbit 13, 2^11 = 2048 buckets = 4
 * pages); at 1360 it is 3 * 1360 + 4 = 4084, highbit 12, 1024: within twice 512.
 * After the slabs are reaped (buftotal 0) it shrinks back to 512.
 */
KMB_TEST(large_slab_bufctls_in_a_hash_that_rescales)
{
	enum { N = 1400 };
	static char *v[N];
	struct kmb_slab *sl = boot_slab(16 * MIB, 1, KMB_INVARIANTS_OFF);
	struct kmb__slab_cache *cp = kmb__slab_cache_create(sl, "c1k", 1024, 8, false);
	int64_t meta0 = kmb__sys.pm.meta_pages;

	ASSERT_FALSE(cp->small);
	ASSERT_NULL(cp->hash); /* taken at the first slab */
	for (int i = 0; i < N; i++) {
		v[i] = kmb__slab_alloc(cp, M_NOWAIT);
		memset(v[i], 0x5a, 1024);
		if (i == 0)
			ASSERT_EQ_U(cp->hash_mask + 1, 512);
		if (i == 1359) /* 340 slabs, 1360 buffers: not yet */
			ASSERT_EQ_U(cp->hash_mask + 1, 512);
		if (i == 1360) /* the 341st slab */
			ASSERT_EQ_U(cp->hash_mask + 1, 2048);
	}
	ASSERT_EQ_U(cstat(cp).buftotal, 1400);
	ASSERT_EQ_U(cstat(cp).hash_size, 2048);
	ASSERT_EQ_U(cstat(cp).hash_rescale, 1);
	ASSERT_EQ_U(hash_entries(cp), N);
	/* metadata: 4 hash pages, 350 headers (84 per page: 5 pages), 1400 bufctls (168 per
	 * page: 9 pages) */
	ASSERT_EQ_I(kmb__sys.pm.meta_pages - meta0, 4 + 5 + 9);
	kmb__slab_free(cp, v[7]);
	ASSERT_EQ_U(hash_entries(cp), N - 1);
	for (int k = 0; k < 1024; k++) /* no link written into a large buffer */
		ASSERT_EQ_U((unsigned char)v[7][k], 0x5a);
	for (int i = 0; i < N; i++)
		if (i != 7)
			kmb__slab_free(cp, v[i]);
	ASSERT_EQ_U(cstat(cp).empty_slabs, 350);
	ASSERT_EQ_U(kmb__slab_reap_empty(cp), 350);
	ASSERT_EQ_U(cstat(cp).hash_size, 512);
	ASSERT_EQ_U(cstat(cp).hash_rescale, 2);
	ASSERT_EQ_U(cstat(cp).slab_destroy, 350);
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, kmb__slab_free(cp, v[3]));
	kmb__slab_cache_retire(sl, cp);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- magazines and depot ------------------------------------------------------------------- */

/*
 * An attached CPU, 64-byte objects (15-round magazines), 40 allocations, 40 frees, 40
 * allocations.  Worked through kmem_cache_alloc/free:
 *   alloc 40   no magazine, empty depot: all 40 from the slab layer.
 *   free 1     no magazine: a new empty one into the depot, loaded from it.
 *   free 16    loaded full, no previous: another new magazine; the full one becomes the
 *              previous, the new one is loaded.
 *   free 31    both full: a third new magazine; the previous (full) goes to the depot.
 *              End: loaded 10 rounds, previous 15, depot 1 full.
 *   alloc 11   loaded empty, previous full: swap.  alloc 26: both empty: a full one from
 *              the depot, the previous (empty) back to it.  All 40 from magazines.
 */
KMB_TEST(magazine_load_swap_and_depot_exact_counts)
{
	struct kmb_slab *sl = boot_slab(16 * MIB, 2, KMB_INVARIANTS_OFF);
	struct kmb__slab_cache *cp = kmb__slab_cache_create(sl, "c64", 64, 8, false);
	struct kmb__slab_cc *cc = &cp->cpu[0];
	struct kmb__slab_cstat s;
	void *v[40];

	ASSERT_EQ_I(kmb_thread_attach("t0", 0), 0);
	for (int i = 0; i < 40; i++)
		v[i] = kmb__slab_cache_alloc(cp, M_NOWAIT);
	s = cstat(cp);
	ASSERT_EQ_U(s.alloc_slab, 40);
	ASSERT_EQ_U(s.alloc_mag, 0);
	ASSERT_EQ_U(s.depot_full_get, 0);
	for (int i = 0; i < 40; i++)
		kmb__slab_cache_free(cp, v[i]);
	s = cstat(cp);
	ASSERT_EQ_U(s.free_mag, 40);
	ASSERT_EQ_U(s.free_slab, 0);
	ASSERT_EQ_U(s.mag_created, 3);
	ASSERT_EQ_U(s.depot_empty_put, 3);
	ASSERT_EQ_U(s.depot_empty_get, 3);
	ASSERT_EQ_U(s.depot_full_put, 1);
	ASSERT_EQ_I(s.full_mags, 1);
	ASSERT_EQ_I(s.empty_mags, 0);
	ASSERT_EQ_I(cc->rounds, 10);
	ASSERT_EQ_I(cc->prounds, 15);
	for (int i = 0; i < 40; i++) /* LIFO: the last freed comes back first */
		ASSERT_EQ_PTR(kmb__slab_cache_alloc(cp, M_NOWAIT), v[39 - i]);
	s = cstat(cp);
	ASSERT_EQ_U(s.alloc_mag, 40);
	ASSERT_EQ_U(s.alloc_slab, 40);
	ASSERT_EQ_U(s.depot_full_get, 1);
	ASSERT_EQ_U(s.depot_empty_put, 4);
	ASSERT_EQ_I(s.full_mags, 0);
	ASSERT_EQ_I(s.empty_mags, 1);
	ASSERT_EQ_I(cc->rounds, 0);
	ASSERT_EQ_I(cc->prounds, 0);
	ASSERT_EQ_U(s.slab_alloc, 40);
	ASSERT_EQ_U(s.slab_free, 0);
	/* detach: both (empty) magazines to the depot */
	kmb_thread_detach();
	s = cstat(cp);
	ASSERT_EQ_I(s.empty_mags, 3);
	ASSERT_NULL(cc->loaded);
	ASSERT_EQ_I(cc->rounds, -1);
	for (int i = 0; i < 40; i++) /* not attached: the shared CPU cache */
		kmb__slab_cache_free(cp, v[i]);
	s = cstat(cp);
	ASSERT_EQ_U(s.free_mag, 80);
	drain(); /* every magazine destroyed, the slab reaped */
	s = cstat(cp);
	ASSERT_EQ_I(s.full_mags + s.empty_mags, 0);
	ASSERT_EQ_U(s.mag_destroyed, s.mag_created);
	ASSERT_EQ_U(s.slab_destroy, 1);
	ASSERT_EQ_U(s.buftotal, 0);
	kmb__slab_cache_retire(sl, cp);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* thread_detach: a full magazine goes to the depot, a partial one back to the slab layer. */
KMB_TEST(thread_detach_flushes_its_cpu)
{
	struct kmb_slab *sl = boot_slab(16 * MIB, 2, KMB_INVARIANTS_OFF);
	struct kmb__slab_cache *cp = kmb__slab_cache_create(sl, "c64", 64, 8, false);
	struct kmb__slab_cc *cc = &cp->cpu[1];
	struct kmb__slab_cstat s;
	void *v[20];

	ASSERT_EQ_I(kmb_thread_attach("t1", 1), 0);
	for (int i = 0; i < 20; i++)
		v[i] = kmb__slab_cache_alloc(cp, M_NOWAIT);
	for (int i = 0; i < 20; i++)
		kmb__slab_cache_free(cp, v[i]);
	ASSERT_EQ_I(cc->rounds, 5); /* free 16 loaded a new magazine, the full one is previous */
	ASSERT_EQ_I(cc->prounds, 15);
	ASSERT_EQ_U(cstat(cp).bufslab, 63 - 20);
	kmb_thread_detach();
	s = cstat(cp);
	ASSERT_EQ_I(s.full_mags, 1);
	ASSERT_EQ_U(s.mag_destroyed, 1);
	ASSERT_EQ_U(s.bufslab, 63 - 15); /* the 5 rounds back in the slab */
	ASSERT_EQ_U(s.flushes, 1);
	ASSERT_FALSE(__atomic_load_n(&cc->has_mags, __ATOMIC_ACQUIRE));
	drain();
	kmb__slab_cache_retire(sl, cp);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- magazine resizing under depot contention --------------------------------------------- */

struct contender {
	struct kmb__slab_cache *cp;
	int go, done, stop; /* atomics */
	void *objs[2048];
	int nobjs;
};

/* One allocation per request from main: the CPU is empty and the depot has no full
 * magazine, so each is one depot get, made while main holds the depot lock. */
static void *contender_main(void *arg)
{
	struct contender *c = arg;

	ASSERT_EQ_I(kmb_thread_attach("contender", 1), 0);
	for (;;) {
		int go;

		while ((go = __atomic_load_n(&c->go, __ATOMIC_ACQUIRE)) == c->done &&
		       !__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE))
			usleep(100);
		if (go == c->done)
			break;
		c->objs[c->nobjs++] = kmb__slab_cache_alloc(c->cp, M_NOWAIT);
		__atomic_store_n(&c->done, c->done + 1, __ATOMIC_RELEASE);
	}
	for (int i = 0; i < c->nobjs; i++)
		kmb__slab_cache_free(c->cp, c->objs[i]);
	kmb_thread_detach();
	return NULL;
}

static void wait_done(struct contender *c, int want)
{
	while (__atomic_load_n(&c->done, __ATOMIC_ACQUIRE) != want)
		usleep(50);
}

/* Hold the depot lock while the contender makes its get; kmem counts the contention once
 * the contender has the lock, so look after letting it go, and try again if the contender
 * came too late to find the lock busy. */
static void contended_get(struct contender *c)
{
	uint64_t before = KMB__SLAB_LOAD(&c->cp->contention);

	for (int attempt = 1; attempt <= 50; attempt++) {
		int want = __atomic_load_n(&c->done, __ATOMIC_ACQUIRE) + 1;

		kmb_mutex_enter(&c->cp->depot_lock);
		__atomic_store_n(&c->go, want, __ATOMIC_RELEASE);
		usleep(2000 * attempt);
		kmb_mutex_exit(&c->cp->depot_lock);
		wait_done(c, want);
		if (KMB__SLAB_LOAD(&c->cp->contention) != before)
			break;
	}
	ASSERT_EQ_U(KMB__SLAB_LOAD(&c->cp->contention), before + 1);
}

static void plain_get(struct contender *c)
{
	int want = __atomic_load_n(&c->done, __ATOMIC_ACQUIRE) + 1;

	__atomic_store_n(&c->go, want, __ATOMIC_RELEASE);
	wait_done(c, want);
}

KMB_TEST(magazine_grows_when_the_depot_is_contended)
{
	struct kmb_slab *sl = boot_slab(16 * MIB, 2, KMB_INVARIANTS_OFF);
	static struct contender c;
	struct kmb__slab_cstat s;
	pthread_t th;
	int gets;

	c.cp = kmb__slab_cache_create(sl, "c64", 64, 8, false);
	ASSERT_EQ_I(c.cp->magsize, 15);
	ASSERT_EQ_I(pthread_create(&th, NULL, contender_main, &c), 0);
	/* 3 contended gets in an interval: not enough (more than 3 are needed) */
	for (int i = 0; i < 3; i++)
		contended_get(&c);
	kmb__slab_cache_update(c.cp);
	ASSERT_EQ_I(c.cp->magsize, 15);
	/* 4: the magazine grows one step, 15 -> 31 */
	for (int i = 0; i < 4; i++)
		contended_get(&c);
	kmb__slab_cache_update(c.cp);
	s = cstat(c.cp);
	ASSERT_EQ_U(s.resizes, 1);
	ASSERT_EQ_I(s.magsize, 31);
	ASSERT_EQ_U(s.contention, 7);
	/* 4 more, then the interval ends by itself after 1024 depot gets: 31 -> 47 */
	for (int i = 0; i < 4; i++)
		contended_get(&c);
	for (gets = 0; gets < 2000 && cstat(c.cp).resizes < 2; gets++)
		plain_get(&c);
	ASSERT_CMP_I(gets, <=, KMB__SLAB_UPDATE_TICKS);
	ASSERT_EQ_I(cstat(c.cp).magsize, 47);
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ_I(pthread_join(th, NULL), 0);
	/* the contender's CPU took the new size at its next slow path */
	ASSERT_EQ_I(c.cp->cpu[1].magsize, 47);
	ASSERT_EQ_I(c.cp->cpu[1].mt, 5);
	drain();
	s = cstat(c.cp);
	ASSERT_EQ_U(s.buftotal, 0);
	ASSERT_EQ_U(s.mag_created, s.mag_destroyed);
	kmb__slab_cache_retire(sl, c.cp);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- reaping -------------------------------------------------------------------------------- */

KMB_TEST(drain_returns_empty_slabs_and_magazines_to_the_page_source)
{
	enum { N = 3000 };
	static void *v[N];
	struct kmb_memstat ms0, ms1, ms2;

	boot_slab(64 * MIB, 2, KMB_INVARIANTS_OFF);
	ASSERT_EQ_I(kmb_thread_attach("t0", 0), 0);
	kmb_memstat(&ms0);
	for (int i = 0; i < N; i++)
		v[i] = kmalloc(200 + (size_t)(i % 3) * 1000, M_SLABTEST, M_WAITOK);
	for (int i = 0; i < N; i++)
		kfree(v[i], M_SLABTEST);
	kmb_memstat(&ms1); /* everything freed, but kept in the CPU's magazines and the depot */
	ASSERT_CMP_U(ms1.held_pages, >, 500);
	ASSERT_CMP_U(stat_value("full_magazines"), >, 100);
	ASSERT_EQ_U(stat_value("free_to_slab"), 0);
	drain();
	kmb_memstat(&ms2);
	ASSERT_EQ_U(ms2.held_pages, 0);
	/* what stays: the hash tables of kmalloc-2048 and kmalloc-4096, one page each */
	ASSERT_EQ_U(ms2.meta_pages, ms0.meta_pages + 2);
	ASSERT_EQ_U(stat_value("empty_slabs"), 0);
	ASSERT_EQ_U(stat_value("full_magazines"), 0);
	ASSERT_EQ_U(stat_value("slab_create"), stat_value("slab_destroy"));
	ASSERT_EQ_U(stat_value("mag_created"), stat_value("mag_destroyed"));
	kmb_thread_detach();
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* A slab that cannot be had reaps every cache: pages held by empty slabs of one size serve
 * another. */
KMB_TEST(page_shortage_reaps_other_caches_empty_slabs)
{
	static void *v[4096];
	size_t n1 = 0, n2 = 0;

	boot_slab(4 * MIB, 2, KMB_INVARIANTS_OFF);
	while (n1 < 4096 && (v[n1] = kmalloc(1000, M_SLABTEST, M_NOWAIT)) != NULL)
		n1++;
	for (size_t i = 0; i < n1; i++)
		kfree(v[i], M_SLABTEST);
	ASSERT_CMP_U(stat_value("empty_slabs"), >, 100);
	while (n2 < 4096 && (v[n2] = kmalloc(2000, M_SLABTEST, M_NOWAIT)) != NULL)
		n2++;
	ASSERT_CMP_U(stat_value("reaps"), >=, 1);
	ASSERT_CMP_U(n2, >, n1 / 3); /* 2 per page against 4: half as many, less the caches */
	for (size_t i = 0; i < n2; i++)
		kfree(v[i], M_SLABTEST);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- size classes ---------------------------------------------------------------------------- */

KMB_TEST(size_class_of_every_size)
{
	struct kmb_slab *sl = boot_slab(64 * MIB, 1, KMB_INVARIANTS_OFF);
	static const struct {
		size_t size, usable;
	} big[] = {{8193, 16384},  {12288, 16384},   {16384, 16384},
	           {16385, 32768}, {100000, 131072}, {(size_t)4 << 20, (size_t)4 << 20}};

	for (size_t size = 1; size <= KMB__SLAB_KMALLOC_MAX; size++) {
		int c = kmb__slab_size_class(sl, size);
		size_t cs = kmb__slab_kmalloc_sizes[c];
		char *p = kmalloc(size, M_SLABTEST, M_NOWAIT);
		size_t align = cs & -cs;

		ASSERT_CMP_U(cs, >=, size);
		if (c > 0)
			ASSERT_CMP_U(kmb__slab_kmalloc_sizes[c - 1], <, size);
		ASSERT_EQ_U(kmalloc_usable_size(p), cs);
		ASSERT_EQ_U((uintptr_t)p % (align > PAGE ? PAGE : align), 0);
		kfree(p, M_SLABTEST);
	}
	ASSERT_EQ_I(kmb__slab_size_class(sl, 8193), -1);
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		char *p = kmalloc(big[i].size, M_SLABTEST, M_NOWAIT);

		ASSERT_EQ_U(kmalloc_usable_size(p), big[i].usable);
		ASSERT_EQ_U((uintptr_t)(p - kmb__sys.pm.base) % PAGE, 0);
		ASSERT_TRUE(kmb_page_of(&kmb__sys.pm, p)->flags & KMB__SLAB_PG_LARGE);
		kfree(p, M_SLABTEST);
	}
	ASSERT_EQ_U(kmb__sys.be.ops->max_size(&kmb__sys.be), (size_t)4 << 20);
	ASSERT_NULL(kmalloc(((size_t)4 << 20) + 1, M_SLABTEST, M_NOWAIT));
	ASSERT_EQ_U(stat_value("large_alloc"), 6);
	ASSERT_EQ_U(stat_value("large_free"), 6);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- native caches --------------------------------------------------------------------------- */

KMB_TEST(native_caches_honour_alignment)
{
	static const struct {
		size_t size, align, chunk;
	} c[] = {{72, 64, 128},   {24, 8, 24},      {100, 16, 112},    {40, 128, 128},
	         {300, 256, 512}, {600, 8, 600},    {1000, 512, 1024}, {5000, 4096, 8192},
	         {3, 1, 8},       {70000, 8, 70000}}; /* 512 KiB slabs of 7, colours capped below a
	                                                 page */

	boot_slab(64 * MIB, 1, KMB_INVARIANTS_OFF);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct kmem_cache *kc = kmem_cache_create("native", c[i].size, c[i].align, 0);
		void *v[100];

		ASSERT_NOT_NULL(kc);
		for (int k = 0; k < 100; k++) { /* several slabs: every colour keeps alignment */
			v[k] = kmem_cache_alloc(kc, M_WAITOK);
			ASSERT_EQ_U((uintptr_t)v[k] % c[i].align, 0);
			ASSERT_EQ_U(kmalloc_usable_size(v[k]), c[i].chunk);
			memset(v[k], k, c[i].size);
		}
		for (int k = 0; k < 100; k++) {
			ASSERT_EQ_U(((unsigned char *)v[k])[c[i].size - 1], (unsigned char)k);
			kmem_cache_free(kc, v[k]);
		}
		kmem_cache_destroy(kc);
	}
	ASSERT_NULL(kmem_cache_create("huge", (size_t)8 << 20, 8, 0)); /* over max_order */
	ASSERT_NULL(kmem_cache_create("huger", (size_t)1 << 60, 8, 0));
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* A cache destroyed while another CPU holds its magazines waits as a zombie until that
 * CPU's next slow path flushes them. */
struct holder {
	struct kmem_cache *kc;
	int phase; /* atomic: 1 = holding, 2 = go on, 3 = done */
};

static void *holder_main(void *arg)
{
	struct holder *h = arg;
	void *v[10], *p;

	ASSERT_EQ_I(kmb_thread_attach("holder", 1), 0);
	for (int i = 0; i < 10; i++)
		v[i] = kmem_cache_alloc(h->kc, M_WAITOK);
	for (int i = 0; i < 10; i++)
		kmem_cache_free(h->kc, v[i]);
	__atomic_store_n(&h->phase, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&h->phase, __ATOMIC_ACQUIRE) != 2)
		usleep(100);
	p = kmalloc(64, M_SLABTEST, M_WAITOK); /* a slow path: the generation changed */
	kfree(p, M_SLABTEST);
	__atomic_store_n(&h->phase, 3, __ATOMIC_RELEASE);
	while (__atomic_load_n(&h->phase, __ATOMIC_ACQUIRE) != 4)
		usleep(100);
	kmb_thread_detach();
	return NULL;
}

static struct kmb__slab_cache *zombies(struct kmb_slab *sl)
{
	struct kmb__slab_cache *z;

	kmb_mutex_enter(&sl->caches_lock);
	z = sl->zombies;
	kmb_mutex_exit(&sl->caches_lock);
	return z;
}

KMB_TEST(destroyed_cache_waits_for_other_cpus_magazines)
{
	struct kmb_slab *sl = boot_slab(16 * MIB, 2, KMB_INVARIANTS_OFF);
	struct holder h = {NULL, 0};
	struct kmb__slab_cache *cp;
	pthread_t th;

	ASSERT_EQ_I(kmb_thread_attach("main", 0), 0);
	h.kc = kmem_cache_create("held", 48, 8, 0);
	cp = find_cache(sl, "held");
	ASSERT_NOT_NULL(cp);
	ASSERT_EQ_I(pthread_create(&th, NULL, holder_main, &h), 0);
	while (__atomic_load_n(&h.phase, __ATOMIC_ACQUIRE) != 1)
		usleep(100);
	kmem_cache_destroy(h.kc);
	ASSERT_EQ_PTR(zombies(sl), cp);
	ASSERT_NULL(find_cache(sl, "held"));
	__atomic_store_n(&h.phase, 2, __ATOMIC_RELEASE);
	while (__atomic_load_n(&h.phase, __ATOMIC_ACQUIRE) != 3)
		usleep(100);
	ASSERT_NULL(zombies(sl)); /* flushed by the holder and freed */
	__atomic_store_n(&h.phase, 4, __ATOMIC_RELEASE);
	ASSERT_EQ_I(pthread_join(th, NULL), 0);
	kmb_thread_detach();
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- stress -------------------------------------------------------------------------------- */

#define XSLOTS 64
#define NTHR   4
#define ITERS  60000

static void *xslot[XSLOTS];
static struct kmem_cache *shared_kc;

struct stress_arg {
	unsigned cpu; /* NTHR - 1: not attached (the shared CPU cache) */
	uint32_t seed;
};

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Tagged blocks: [0] = 1 for a cache object, 0 for kmalloc; the rest a byte pattern. */
static void tag(unsigned char *p, size_t len, bool cached)
{
	p[0] = cached;
	memset(p + 1, (int)(len & 0xff), len - 1);
}

static void release(unsigned char *p)
{
	if (p[0])
		kmem_cache_free(shared_kc, p);
	else
		kfree(p, M_SLABTEST);
}

static void *stress_main(void *arg)
{
	struct stress_arg *a = arg;
	unsigned char *mine[128] = {NULL};
	size_t len[128];
	uint32_t rng = a->seed;

	if (a->cpu < NTHR - 1)
		ASSERT_EQ_I(kmb_thread_attach("stress", a->cpu), 0);
	for (int it = 0; it < ITERS; it++) {
		unsigned i = xorshift(&rng) % 128;

		if (mine[i] == NULL) {
			bool cached = xorshift(&rng) % 4 == 0;

			len[i] = cached ? 80
			                : 2 + xorshift(&rng) % (xorshift(&rng) % 16 ? 700 : 12000);
			mine[i] = cached ? kmem_cache_alloc(shared_kc, M_NOWAIT)
			                 : kmalloc(len[i], M_SLABTEST, M_NOWAIT);
			if (mine[i] != NULL)
				tag(mine[i], len[i], cached);
		} else if (xorshift(&rng) % 3 == 0) { /* give it to whoever takes the slot */
			void *old = __atomic_exchange_n(&xslot[xorshift(&rng) % XSLOTS], mine[i],
			                                __ATOMIC_ACQ_REL);
			if (old != NULL)
				release(old);
			mine[i] = NULL;
		} else {
			for (size_t k = 1; k < len[i]; k += 97)
				if (mine[i][k] != (unsigned char)(len[i] & 0xff))
					kmb_test_fail(__FILE__, __LINE__, "block %p overwritten",
					              mine[i]);
			release(mine[i]);
			mine[i] = NULL;
		}
		if (a->cpu == 0 && it % 5000 == 0)
			drain();
	}
	for (int i = 0; i < 128; i++)
		if (mine[i] != NULL)
			release(mine[i]);
	if (a->cpu < NTHR - 1)
		kmb_thread_detach();
	return NULL;
}

static void stress(int invariants)
{
	struct stress_arg arg[NTHR];
	pthread_t t[NTHR];
	struct kmb_memstat ms;

	boot_slab(64 * MIB, NTHR - 1, invariants);
	shared_kc = kmem_cache_create("stress_obj", 80, 16, 0);
	for (unsigned i = 0; i < NTHR; i++) {
		arg[i] = (struct stress_arg){i, 0x9e3779b9u * (i + 1)};
		ASSERT_EQ_I(pthread_create(&t[i], NULL, stress_main, &arg[i]), 0);
	}
	for (int i = 0; i < 100; i++) {
		kmb_memstat(&ms);
		(void)stat_value("alloc_from_mag");
	}
	for (int i = 0; i < NTHR; i++)
		ASSERT_EQ_I(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < XSLOTS; i++)
		if (xslot[i] != NULL)
			release(xslot[i]);
	ASSERT_CMP_U(stat_value("alloc_from_mag"), >, stat_value("alloc_from_slab"));
	kmem_cache_destroy(shared_kc);
	drain();
	kmb_memstat(&ms);
	ASSERT_EQ_U(ms.held_pages, 0);
	ASSERT_EQ_U(stat_value("mag_created"), stat_value("mag_destroyed"));
	ASSERT_EQ_U(stat_value("buf_total"), 0);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

KMB_TEST(stress_threads_cross_frees)
{
	stress(KMB_INVARIANTS_OFF);
}

KMB_TEST(stress_threads_cross_frees_invariants)
{
	stress(KMB_INVARIANTS_ON);
}

/* The magsize tunable: every cache starts with the smallest type of at least that many
 * rounds (slab_magazine.c 1.), whatever its chunk size; 0 keeps Bonwick's minbuf rule. */
KMB_TEST(magsize_tunable_sets_the_starting_magazine)
{
	struct kmb_config cfg = {.backend = "slab(magsize=20)", .mem_bytes = 16 * MIB, .ncpus = 1};
	struct kmb_slab *sl;

	ASSERT_EQ_I(kmb_boot(&cfg), 0);
	sl = kmb__slab_of_backend(&kmb__sys.be);
	ASSERT_EQ_I(find_cache(sl, "kmalloc-64")->magsize, 31);
	ASSERT_EQ_I(find_cache(sl, "kmalloc-8192")->magsize, 31);
	ASSERT_EQ_I(kmb_shutdown(), 0);
	cfg.backend = "slab(magsize=143)";
	ASSERT_EQ_I(kmb_boot(&cfg), 0);
	sl = kmb__slab_of_backend(&kmb__sys.be);
	ASSERT_EQ_I(find_cache(sl, "kmalloc-8")->magsize, 143);
	ASSERT_EQ_I(kmb_shutdown(), 0);
	sl = boot_slab(16 * MIB, 1, KMB_INVARIANTS_OFF); /* 64 B: 15 rounds; 8 KiB: 1 */
	ASSERT_EQ_I(find_cache(sl, "kmalloc-64")->magsize, 15);
	ASSERT_EQ_I(find_cache(sl, "kmalloc-8192")->magsize, 1);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

KMB_TEST_MAIN()

/* The slab layer's invariants (slab.c): a slab taken for an allocation has a free buffer
 * (always checked); with INVARIANTS its free list holds exactly chunks - refcnt buffers. */
KMB_TEST(slab_invariants_panic_with_the_call)
{
	struct kmb_slab *sl = boot_slab(16 * MIB, 1, KMB_INVARIANTS_OFF);
	struct kmb__slab_cache *cp = kmb__slab_cache_create(sl, "c64", 64, 64, false);
	char *a = kmb__slab_alloc(cp, M_NOWAIT);
	struct kmb__slab *sp =
	        (struct kmb__slab *)(a - page_off(a) + PAGE - sizeof(struct kmb__slab));

	sp->head = NULL; /* 62 free buffers lost */
	EXPECT_PANIC(KMB_PANIC_CORRUPT, kmb__slab_alloc(cp, M_NOWAIT));
	ASSERT_CONTAINS(kmb_test_panic_msg, "kmem_slab_alloc(c64): slab");
	ASSERT_CONTAINS(kmb_test_panic_msg, "has 1 of 63 buffers allocated, free list (nil)");
}

KMB_TEST(slab_freelist_walk_with_invariants)
{
	struct kmb_slab *sl = boot_slab(16 * MIB, 1, KMB_INVARIANTS_ON);
	struct kmb__slab_cache *cp = kmb__slab_cache_create(sl, "c64", 64, 64, false);
	char *a = kmb__slab_alloc(cp, M_NOWAIT), *b = kmb__slab_alloc(cp, M_NOWAIT);

	ASSERT_TRUE(kmb_invariants_on);
	kmb__slab_free(cp, a); /* the walk finds 62 free buffers: fine */
	*(void **)a = a;       /* a links to itself: the list never ends */
	EXPECT_PANIC(KMB_PANIC_CORRUPT, kmb__slab_free(cp, b));
	ASSERT_CONTAINS(kmb_test_panic_msg, "kmem_slab_free(c64): slab");
	ASSERT_CONTAINS(kmb_test_panic_msg, "64 buffers on its free list, 63 chunks - 0 allocated");
}
