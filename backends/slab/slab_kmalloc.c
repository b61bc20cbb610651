/*
 * backends/slab/slab_kmalloc.c - kmalloc over size-class caches, whole pages above them,
 * native kmem caches, statistics, and the ops table ("slab").
 *
 * 1. Size classes: Linux's kmalloc caches, kmalloc-8 ... kmalloc-8192 with kmalloc-96 and
 *    kmalloc-192 (13 caches).  Powers of two double; 96 and 192 halve the worst rounding
 *    loss between 64 and 128 and between 128 and 256 (from 50% to 33%), where most kernel
 *    objects fall.  A request takes the smallest class that holds it, found by one table
 *    lookup indexed by (size - 1) / 8 (1024 entries for 1..8192 bytes).
 * 2. Alignment: each class cache is aligned to the largest power of two dividing its size
 *    (capped at a page), and colours step by that alignment, so every object of a
 *    power-of-two class is naturally aligned (kmalloc-4096 and -8192: page aligned) and
 *    kmalloc-96 / kmalloc-192 objects are 32 / 64 aligned, as a 96-byte stride from a
 *    page boundary makes them in Linux.  The contract needs min(2^ceil(log2 size), 16)
 *    for any size: every class is a multiple of 16 but kmalloc-8, whose requests need 8.
 * 3. Above 8192 bytes: 2^order whole pages straight from the page source, order =
 *    ceil(log2(pages)), the head frame marked KMB__SLAB_PG_LARGE with its order in
 *    priv[1]; usable size PAGE << order.  The largest is PAGE << the page source's
 *    max_order (4 MiB over buddy): max_size.
 * 4. usable_size: from the address's struct kmb_page - a slab frame names its cache, whose
 *    chunk size is the usable size (every byte of a chunk belongs to its buffer); a large
 *    head frame gives its order.  kfree finds the cache the same way.  free_sized
 *    (kmem_free(p, size), backend.h 3.) takes the cache from the size instead, through
 *    the same size_index as kmalloc: a free that reaches the CPU's magazine then touches
 *    no page descriptor at all (Bonwick's kmem_free(buf, size) does the same).  Whole-page
 *    blocks are freed as kfree frees them (their order is in the head frame).  Debug
 *    builds check that the page is a slab of that cache (kmb_assert_internal); INVARIANTS
 *    checks the size itself before the backend is called.
 * 5. Native kmem caches (cache_create ...): one object cache each, with magazines; a
 *    cache destroyed while other CPUs hold its magazines is freed later (slab_reap.c 3.).
 * 6. Statistics: one declared table (illumos kstat style), each a sum over every cache
 *    or a backend-wide counter; the page source's table follows it (the core appends).
 */
#include "slab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const size_t kmb__slab_kmalloc_sizes[KMB__SLAB_NCLASSES] = {
        8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192,
};

struct kmb_slab *kmb__slab_of_backend(const struct kmb_backend *be)
{
	return be->priv;
}

int kmb__slab_size_class(const struct kmb_slab *sl, size_t size)
{
	if (size == 0 || size > KMB__SLAB_KMALLOC_MAX)
		return -1;
	return sl->size_index[(size - 1) >> 3];
}

static size_t class_align(size_t size)
{
	size_t a = size & -size;

	return a > KMB_PAGE_SIZE ? KMB_PAGE_SIZE : a;
}

static void size_index_init(struct kmb_slab *sl)
{
	int c = 0;

	for (size_t s = 8; s <= KMB__SLAB_KMALLOC_MAX; s += 8) {
		while (kmb__slab_kmalloc_sizes[c] < s)
			c++;
		sl->size_index[(s - 1) >> 3] = (uint8_t)c;
	}
}

/* ---- init and fini ---------------------------------------------------------------------- */

static int create_internal_caches(struct kmb_slab *sl)
{
	char name[KMB__SLAB_NAMELEN];

	sl->slab_cache =
	        kmb__slab_cache_create(sl, "kmem_slab_cache", sizeof(struct kmb__slab), 0, true);
	sl->bufctl_cache = kmb__slab_cache_create(sl, "kmem_bufctl_cache",
	                                          sizeof(struct kmb__slab_bufctl), 0, true);
	if (sl->slab_cache == NULL || sl->bufctl_cache == NULL)
		return -ENOMEM;
	for (int t = 0; t < KMB__SLAB_NMAGTYPES; t++) {
		const struct kmb__slab_magtype *mt = &kmb__slab_magtypes[t];

		snprintf(name, sizeof(name), "kmem_magazine_%d", mt->magsize);
		sl->mag_cache[t] = kmb__slab_cache_create(
		        sl, name, (size_t)(mt->magsize + 1) * sizeof(void *), mt->align, true);
		if (sl->mag_cache[t] == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int create_kmalloc_caches(struct kmb_slab *sl)
{
	char name[KMB__SLAB_NAMELEN];

	for (int c = 0; c < KMB__SLAB_NCLASSES; c++) {
		size_t size = kmb__slab_kmalloc_sizes[c];

		snprintf(name, sizeof(name), "kmalloc-%zu", size);
		sl->kmalloc[c] = kmb__slab_cache_create(sl, name, size, class_align(size), false);
		if (sl->kmalloc[c] == NULL)
			return -ENOMEM;
	}
	size_index_init(sl);
	return 0;
}

static void slab_fini(struct kmb_backend *be)
{
	struct kmb_slab *sl = kmb__slab_of_backend(be);

	if (sl == NULL)
		return;
	kmb__slab_teardown(sl);
	kmb_lock_destroy(&sl->caches_lock);
	free(sl);
	be->priv = NULL;
}

static int slab_init(struct kmb_backend *be)
{
	size_t bytes = (sizeof(struct kmb_slab) + 63) & ~(size_t)63;
	struct kmb_slab *sl;
	int err;

	if (be->pages == NULL || be->ncpus == 0 || be->ncpus > KMB_MAX_CPUS)
		return -EINVAL;
	sl = aligned_alloc(_Alignof(struct kmb_slab), bytes);
	if (sl == NULL)
		return -ENOMEM;
	memset(sl, 0, bytes);
	sl->pm = be->pm;
	sl->ps = be->pages;
	sl->ncpus = be->ncpus;
	sl->magsize = (int)be->tun[0];
	kmb_lock_init(&sl->caches_lock);
	be->priv = sl;
	err = create_internal_caches(sl);
	if (err == 0)
		err = create_kmalloc_caches(sl);
	if (err != 0)
		slab_fini(be);
	return err;
}

/* ---- kmalloc ---------------------------------------------------------------------------- */

static unsigned order_for_pages(size_t pages)
{
	unsigned order = 0;

	while (((size_t)1 << order) < pages)
		order++;
	return order;
}

static void *large_alloc(struct kmb_slab *sl, size_t size, int flags)
{
	unsigned order = order_for_pages((size + KMB_PAGE_SIZE - 1) >> KMB_PAGE_SHIFT);
	struct kmb_page *pg;
	void *p;

	if (order > sl->ps->max_order)
		return NULL;
	p = kmb__slab_pages_alloc(sl, order, flags & M_USE_RESERVE);
	if (p == NULL) {
		KMB__SLAB_ATOMIC_ADD(&sl->alloc_fail, 1);
		return NULL;
	}
	pg = kmb_page_of(sl->pm, p);
	pg->flags |= KMB__SLAB_PG_LARGE;
	pg->priv[1] = order;
	KMB__SLAB_ATOMIC_ADD(&sl->large_alloc, 1);
	KMB__SLAB_ATOMIC_ADD(&sl->large_pages, (int64_t)1 << order);
	return p;
}

static void large_free(struct kmb_slab *sl, struct kmb_page *pg, void *addr)
{
	unsigned order = (unsigned)pg->priv[1];

	pg->flags &= ~KMB__SLAB_PG_LARGE;
	KMB__SLAB_ATOMIC_ADD(&sl->large_free, 1);
	KMB__SLAB_ATOMIC_ADD(&sl->large_pages, -((int64_t)1 << order));
	kmb__slab_pages_free(sl, addr, order, false);
}

static void *slab_kmalloc(struct kmb_backend *be, size_t size, int flags, size_t *usable)
{
	struct kmb_slab *sl = kmb__slab_of_backend(be);
	void *p;

	if (kmb_likely(size <= KMB__SLAB_KMALLOC_MAX)) {
		struct kmb__slab_cache *cp = sl->kmalloc[sl->size_index[(size - 1) >> 3]];

		p = kmb__slab_cache_alloc(cp, flags);
		if (kmb_unlikely(p == NULL))
			KMB__SLAB_ATOMIC_ADD(&sl->alloc_fail, 1);
		*usable = cp->chunksize;
		return p;
	}
	p = large_alloc(sl, size, flags);
	if (p != NULL)
		*usable = KMB_PAGE_SIZE << kmb_page_of(sl->pm, p)->priv[1];
	return p;
}

static size_t slab_kfree(struct kmb_backend *be, void *addr)
{
	struct kmb_slab *sl = kmb__slab_of_backend(be);
	struct kmb_page *pg;
	size_t usable;

	if (kmb_unlikely(!kmb_physmem_contains(sl->pm, addr)))
		kmb_panic(KMB_PANIC_BAD_FREE, addr, "kfree(%p): slab: not in physical memory",
		          addr);
	pg = kmb_page_of(sl->pm, addr);
	if (kmb_likely(pg->flags & KMB__SLAB_PG_SLAB)) {
		struct kmb__slab_cache *cp = (struct kmb__slab_cache *)pg->priv[0];

		usable = cp->chunksize;
		kmb__slab_cache_free(cp, addr);
		return usable;
	}
	if ((pg->flags & KMB__SLAB_PG_LARGE) && addr == kmb_page_addr(sl->pm, pg)) {
		usable = KMB_PAGE_SIZE << pg->priv[1];
		large_free(sl, pg, addr);
		return usable;
	}
	if (pg->usage == KMB_USE_FREE)
		kmb_panic(KMB_PANIC_DOUBLE_FREE, addr, "kfree(%p): slab: the page is free", addr);
	else
		kmb_panic(KMB_PANIC_BAD_FREE, addr, "kfree(%p): slab: not an allocated block",
		          addr);
}

static size_t slab_kfree_sized(struct kmb_backend *be, void *addr, size_t size)
{
	struct kmb_slab *sl = kmb__slab_of_backend(be);

	if (kmb_likely(size - 1 < KMB__SLAB_KMALLOC_MAX)) {
		struct kmb__slab_cache *cp = sl->kmalloc[sl->size_index[(size - 1) >> 3]];

		kmb_assert_internal(kmb_physmem_contains(sl->pm, addr) &&
		                    (kmb_page_of(sl->pm, addr)->flags & KMB__SLAB_PG_SLAB) &&
		                    kmb_page_of(sl->pm, addr)->priv[0] == (uintptr_t)cp);
		kmb__slab_cache_free(cp, addr);
		return cp->chunksize;
	}
	return slab_kfree(be, addr);
}

static size_t slab_usable_size(struct kmb_backend *be, const void *addr)
{
	struct kmb_slab *sl = kmb__slab_of_backend(be);
	const struct kmb_page *pg = kmb_page_of(sl->pm, addr);

	if (kmb_likely(pg->flags & KMB__SLAB_PG_SLAB))
		return ((const struct kmb__slab_cache *)pg->priv[0])->chunksize;
	kmb_assert(pg->flags & KMB__SLAB_PG_LARGE);
	return KMB_PAGE_SIZE << pg->priv[1];
}

static size_t slab_max_size(struct kmb_backend *be)
{
	return KMB_PAGE_SIZE << kmb__slab_of_backend(be)->ps->max_order;
}

static void slab_memstat(struct kmb_backend *be, struct kmb_memstat *ms)
{
	struct kmb_pagesrc *ps = kmb__slab_of_backend(be)->ps;

	if (ps->memstat != NULL)
		ps->memstat(ps, ms); /* free pages; largest free block: a page-source block */
}

/* ---- native caches ---------------------------------------------------------------------- */

static int slab_cache_create(struct kmb_backend *be, struct kmb_cache_desc *cd)
{
	struct kmb__slab_cache *cp = kmb__slab_cache_create(kmb__slab_of_backend(be), cd->name,
	                                                    cd->size, cd->align, false);

	if (cp == NULL)
		return -ENOMEM;
	cd->priv = cp;
	return 0;
}

/*
 * slabinfo's figures (backend.h 6.): the slab layer's buffers (buftotal) less those free
 * in slabs (bufslab) are allocated - to callers or to the CPUs' magazines and the depot,
 * as Linux SLAB's active_objs counts its array caches; complete and partial slabs hold
 * one, empty ones do not.
 */
static int slab_cache_info(struct kmb_backend *be, struct kmb_cache_desc *cd,
                           struct kmb_cache_info *out)
{
	struct kmb__slab_cache *cp = cd->priv;

	(void)be;
	if (cp == NULL)
		return -EINVAL;
	kmb_mutex_enter(&cp->lock);
	out->total_objs = cp->buftotal;
	out->active_objs = cp->buftotal - cp->bufslab;
	out->active_slabs = cp->complete.n + cp->partial.n;
	out->total_slabs = out->active_slabs + cp->empty.n;
	kmb_mutex_exit(&cp->lock);
	out->objs_per_slab = cp->maxchunks;
	out->pages_per_slab = (unsigned)(cp->slabsize / KMB_PAGE_SIZE);
	return 0;
}

static void slab_cache_destroy(struct kmb_backend *be, struct kmb_cache_desc *cd)
{
	kmb__slab_cache_retire(kmb__slab_of_backend(be), cd->priv);
	cd->priv = NULL;
}

static void *slab_cache_alloc(struct kmb_backend *be, struct kmb_cache_desc *cd, int flags)
{
	(void)be;
	return kmb__slab_cache_alloc(cd->priv, flags);
}

static void slab_cache_free(struct kmb_backend *be, struct kmb_cache_desc *cd, void *obj)
{
	(void)be;
	kmb__slab_cache_free(cd->priv, obj);
}

/* ---- drain and CPUs ---------------------------------------------------------------------- */

static void slab_drain(struct kmb_backend *be)
{
	kmb__slab_drain(kmb__slab_of_backend(be));
}

static void slab_thread_attach(struct kmb_backend *be, unsigned cpu)
{
	struct kmb_slab *sl = kmb__slab_of_backend(be);

	/* the previous owner flushed at detach: nothing to flush until the next drain */
	sl->cpu[cpu].seen_gen = __atomic_load_n(&sl->flush_gen, __ATOMIC_ACQUIRE);
}

static void slab_thread_detach(struct kmb_backend *be, unsigned cpu)
{
	kmb__slab_thread_flush(kmb__slab_of_backend(be), cpu);
}

/* ---- statistics --------------------------------------------------------------------------- */

void kmb__slab_cache_stats(struct kmb__slab_cache *cp, struct kmb__slab_cstat *o)
{
	memset(o, 0, sizeof(*o));
	for (unsigned i = 0; i < cp->ncc; i++) {
		const struct kmb__slab_cc *cc = &cp->cpu[i];

		o->alloc_mag += KMB__SLAB_LOAD(&cc->alloc_mag);
		o->free_mag += KMB__SLAB_LOAD(&cc->free_mag);
		o->alloc_slab += KMB__SLAB_LOAD(&cc->alloc_slab);
		o->free_slab += KMB__SLAB_LOAD(&cc->free_slab);
		o->flushes += KMB__SLAB_LOAD(&cc->flushes);
	}
	o->depot_full_get = KMB__SLAB_LOAD(&cp->full.gets);
	o->depot_full_put = KMB__SLAB_LOAD(&cp->full.puts);
	o->depot_empty_get = KMB__SLAB_LOAD(&cp->empty_mags.gets);
	o->depot_empty_put = KMB__SLAB_LOAD(&cp->empty_mags.puts);
	o->full_mags = KMB__SLAB_LOAD(&cp->full.total);
	o->empty_mags = KMB__SLAB_LOAD(&cp->empty_mags.total);
	o->contention = KMB__SLAB_LOAD(&cp->contention);
	o->resizes = KMB__SLAB_LOAD(&cp->resizes);
	o->magsize = KMB__SLAB_LOAD(&cp->magsize);
	o->mag_created = KMB__SLAB_LOAD(&cp->mag_created);
	o->mag_destroyed = KMB__SLAB_LOAD(&cp->mag_destroyed);
	o->slab_create = KMB__SLAB_LOAD(&cp->slab_create);
	o->slab_destroy = KMB__SLAB_LOAD(&cp->slab_destroy);
	o->slab_alloc = KMB__SLAB_LOAD(&cp->slab_alloc);
	o->slab_free = KMB__SLAB_LOAD(&cp->slab_free);
	o->alloc_fail = KMB__SLAB_LOAD(&cp->alloc_fail);
	o->buftotal = KMB__SLAB_LOAD(&cp->buftotal);
	o->bufslab = KMB__SLAB_LOAD(&cp->bufslab);
	o->lookup_depth = KMB__SLAB_LOAD(&cp->lookup_depth);
	o->hash_rescale = KMB__SLAB_LOAD(&cp->hash_rescale);
	o->complete_slabs = KMB__SLAB_LOAD(&cp->complete.n);
	o->partial_slabs = KMB__SLAB_LOAD(&cp->partial.n);
	o->empty_slabs = KMB__SLAB_LOAD(&cp->empty.n);
	kmb_mutex_enter(&cp->lock);
	o->hash_size = cp->hash ? cp->hash_mask + 1 : 0;
	kmb_mutex_exit(&cp->lock);
}

/* The backend's declared counters: sums over caches, then backend-wide ones. */
struct kmb__slab_ctr {
	uint64_t alloc_from_mag, alloc_from_slab, free_to_mag, free_to_slab;
	uint64_t depot_full_get, depot_full_put, depot_empty_get, depot_empty_put;
	uint64_t depot_contention, mag_resize, mag_created, mag_destroyed, cpu_flush;
	uint64_t slab_create, slab_destroy, hash_rescale, hash_lookup_depth;
	uint64_t full_magazines, empty_magazines, empty_slabs, buf_total, buf_free;
	uint64_t alloc_fail, reaps, large_alloc, large_free;
	uint64_t slab_pages, meta_pages, large_pages;
	struct kmb_lock_stats cache_lock, depot_lock, cpu_lock, caches_lock; /* (slab.c 7.) */
};

static void ctr_add_cache(struct kmb__slab_ctr *c, struct kmb__slab_cache *cp)
{
	struct kmb__slab_cstat s;

	kmb__slab_cache_stats(cp, &s);
	c->alloc_from_mag += s.alloc_mag;
	c->alloc_from_slab += s.alloc_slab;
	c->free_to_mag += s.free_mag;
	c->free_to_slab += s.free_slab;
	c->depot_full_get += s.depot_full_get;
	c->depot_full_put += s.depot_full_put;
	c->depot_empty_get += s.depot_empty_get;
	c->depot_empty_put += s.depot_empty_put;
	c->depot_contention += s.contention;
	c->mag_resize += s.resizes;
	c->mag_created += s.mag_created;
	c->mag_destroyed += s.mag_destroyed;
	c->cpu_flush += s.flushes;
	c->slab_create += s.slab_create;
	c->slab_destroy += s.slab_destroy;
	c->hash_rescale += s.hash_rescale;
	c->hash_lookup_depth += s.lookup_depth;
	c->full_magazines += (uint64_t)s.full_mags;
	c->empty_magazines += (uint64_t)s.empty_mags;
	c->empty_slabs += s.empty_slabs;
	c->buf_total += s.buftotal;
	c->buf_free += s.bufslab;
	kmb_lock_stats_add(&cp->lock, &c->cache_lock);
	kmb_lock_stats_add(&cp->depot_lock, &c->depot_lock);
	for (unsigned i = 0; i < cp->ncc; i++)
		kmb_lock_stats_add(&cp->cpu[i].lock, &c->cpu_lock);
}

static void slab_counters(struct kmb_slab *sl, struct kmb__slab_ctr *c)
{
	memset(c, 0, sizeof(*c));
	kmb_mutex_enter(&sl->caches_lock);
	for (struct kmb__slab_cache *cp = sl->caches; cp != NULL; cp = cp->next)
		ctr_add_cache(c, cp);
	for (struct kmb__slab_cache *cp = sl->zombies; cp != NULL; cp = cp->next)
		ctr_add_cache(c, cp);
	kmb_mutex_exit(&sl->caches_lock);
	kmb_lock_stats_add(&sl->caches_lock, &c->caches_lock);
	c->alloc_fail = KMB__SLAB_LOAD(&sl->alloc_fail);
	c->reaps = KMB__SLAB_LOAD(&sl->reaps);
	c->large_alloc = KMB__SLAB_LOAD(&sl->large_alloc);
	c->large_free = KMB__SLAB_LOAD(&sl->large_free);
	c->large_pages = (uint64_t)KMB__SLAB_LOAD(&sl->large_pages);
	c->slab_pages = (uint64_t)(KMB__SLAB_LOAD(&sl->data_pages) - c->large_pages);
	c->meta_pages = (uint64_t)KMB__SLAB_LOAD(&sl->meta_pages);
}

#define STAT(f, unit, desc) KMB_STAT_DECL(struct kmb__slab_ctr, f, unit, desc)

static const struct kmb_stat_decl stats_table[] = {
        STAT(alloc_from_mag, "events", "allocations served by a CPU's magazine (hits)"),
        STAT(alloc_from_slab, "events", "allocations that went to the slab layer (misses)"),
        STAT(free_to_mag, "events", "frees into a CPU's magazine"),
        STAT(free_to_slab, "events", "frees to the slab layer (no magazine could be had)"),
        STAT(depot_full_get, "events", "full magazines taken from the depot"),
        STAT(depot_full_put, "events", "full magazines given to the depot"),
        STAT(depot_empty_get, "events", "empty magazines taken from the depot"),
        STAT(depot_empty_put, "events", "empty magazines given to the depot"),
        STAT(depot_contention, "events", "depot lock found busy (trylock failed)"),
        STAT(mag_resize, "events", "magazine size grown after depot contention"),
        STAT(mag_created, "events", "magazines allocated"),
        STAT(mag_destroyed, "events", "magazines destroyed (rounds back to the slab layer)"),
        STAT(cpu_flush, "events", "CPU caches flushed (detach, drain, resize, destroy)"),
        STAT(slab_create, "events", "slabs created"),
        STAT(slab_destroy, "events", "empty slabs reaped back to the page source"),
        STAT(hash_rescale, "events", "bufctl hash tables rescaled"),
        STAT(hash_lookup_depth, "events", "extra hash chain steps on large-object frees"),
        STAT(full_magazines, "magazines", "full magazines in the depots now"),
        STAT(empty_magazines, "magazines", "empty magazines in the depots now"),
        STAT(empty_slabs, "slabs", "empty slabs kept until the next reap now"),
        STAT(buf_total, "objects", "buffers in all slabs now"),
        STAT(buf_free, "objects", "free buffers in the slab layer now"),
        STAT(alloc_fail, "events", "kmalloc requests the backend could not serve"),
        STAT(reaps, "events", "reaps (drains and page-source shortages)"),
        STAT(large_alloc, "events", "kmalloc requests above 8 KiB served with whole pages"),
        STAT(large_free, "events", "whole-page kmalloc blocks freed"),
        STAT(slab_pages, "pages", "pages held by object caches' slabs now"),
        STAT(meta_pages, "pages", "metadata pages now (bufctls, slab headers, magazines, hash)"),
        STAT(large_pages, "pages", "pages held by whole-page kmalloc blocks now"),
        KMB_LOCK_STAT_DECLS(struct kmb__slab_ctr, cache_lock, "cache",
                            "the caches' slab-layer mutexes"),
        KMB_LOCK_STAT_DECLS(struct kmb__slab_ctr, depot_lock, "depot", "the caches' depot mutexes"),
        KMB_LOCK_STAT_DECLS(struct kmb__slab_ctr, cpu_lock, "cpu",
                            "the CPU caches' mutexes (the shared entry's)"),
        KMB_LOCK_STAT_DECLS(struct kmb__slab_ctr, caches_lock, "caches", "the cache list's mutex"),
};

#define NSTATS (sizeof(stats_table) / sizeof(stats_table[0]))

static size_t slab_stats(struct kmb_backend *be, struct kmb_stat *out, size_t max)
{
	struct kmb__slab_ctr c;

	slab_counters(kmb__slab_of_backend(be), &c);
	return kmb_stats_fill(stats_table, NSTATS, &c, out, max);
}

/* The picture of memory (kmb_frame_map): a slab's fill from its header, large blocks. */
static int slab_frame_kind(struct kmb_backend *be, size_t pfn)
{
	const struct kmb_page *pg = &be->pm->map[pfn];
	uint32_t flags = __atomic_load_n(&pg->flags, __ATOMIC_RELAXED);
	struct kmb__slab_cache *cp = (struct kmb__slab_cache *)pg->priv[0];
	const struct kmb__slab *sp = (const struct kmb__slab *)pg->priv[1];
	uint32_t refcnt;

	if (flags & KMB__SLAB_PG_LARGE)
		return KMB_FRAME_LARGE;
	if (!(flags & KMB__SLAB_PG_SLAB) || cp == NULL || sp == NULL)
		return KMB_FRAME_UNKNOWN;
	kmb_mutex_enter(&cp->lock);
	refcnt = sp->refcnt;
	kmb_mutex_exit(&cp->lock);
	if (refcnt == 0)
		return KMB_FRAME_SLAB_EMPTY;
	return refcnt >= sp->chunks ? KMB_FRAME_SLAB_FULL : KMB_FRAME_SLAB_PARTIAL;
}

/* slab_magazine.c 1.: the largest type has 143 rounds. */
static const struct kmb_tunable slab_tunables[] = {
        {"magsize",
         "rounds per magazine a cache starts with, rounded up to a magazine type "
         "(1 3 7 15 31 47 63 95 143; 0: by chunk size, Bonwick)",
         0, 0, 143},
};

const struct kmb_backend_ops kmb_slab_ops = {
        .name = "slab",
        .summary = "Bonwick slab allocator with magazines and depot (kmalloc-8 .. kmalloc-8192, "
                   "whole pages above)",
        .freelist_bytes = sizeof(void *),
        .natural_pow2 = true, /* power-of-two classes are aligned to their size */
        .default_pages = "buddy",
        .init = slab_init,
        .fini = slab_fini,
        .alloc = slab_kmalloc,
        .free = slab_kfree,
        .free_sized = slab_kfree_sized,
        .usable_size = slab_usable_size,
        .max_size = slab_max_size,
        .memstat = slab_memstat,
        .stats = slab_stats,
        .drain = slab_drain,
        .thread_attach = slab_thread_attach,
        .thread_detach = slab_thread_detach,
        .cache_create = slab_cache_create,
        .cache_destroy = slab_cache_destroy,
        .cache_alloc = slab_cache_alloc,
        .cache_free = slab_cache_free,
        .frame_kind = slab_frame_kind,
        .tunables = slab_tunables,
        .ntunables = sizeof(slab_tunables) / sizeof(slab_tunables[0]),
        .cache_info = slab_cache_info,
};
