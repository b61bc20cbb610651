/*
 * backends/slub/slub_kmalloc.c - caches, kmalloc, native kmem caches, CPUs, drain, the
 * tunables and the two ops tables ("slub", "slub-sheaves").
 *
 * 1. kmalloc caches: kmalloc-8 .. kmalloc-8k, with kmalloc-96 and kmalloc-192, named as
 *    Linux names them (kmalloc-1k ...), created at init with ARCH_KMALLOC_MINALIGN (8) and
 *    no SLAB_HWCACHE_ALIGN, so a slot is the class size and kmalloc_usable_size (ksize())
 *    of an object is its slot.  kmalloc_index: sizes up to 192 by the table
 *    kmalloc_size_index[(size - 1) / 8] (17..32 -> 32, 65..96 -> 96, 129..192 -> 192),
 *    larger ones by fls(size - 1) (193..256 -> 256, ..., 4097..8192 -> 8k).  Power-of-two
 *    classes are naturally aligned (slabs are page aligned and the slot divides the slab:
 *    natural_pow2), kmalloc-96 / -192 objects 32 / 64 aligned.
 * 2. Above 8 KiB: PAGE_SIZE << get_order(size) from the page source (kmalloc_large), the
 *    head frame marked KMB__SLUB_PG_LARGE, priv[0] = the backend, priv[1] = the order.
 * 3. kfree reads the slab from the page descriptor (virt_to_slab: priv[4], the head frame,
 *    and its priv[0], the cache), as SLUB does: the fast path needs the slab anyway, to
 *    compare it with the CPU slab.  free_sized (kmem_free(p, size)) takes the cache from
 *    the size instead, as kmem_cache_free(s, x) is given it, and still reads the slab from
 *    the page: one load saved, no lookup avoided (debug builds check the two agree).
 * 4. Native caches (kmem_cache_create): one SLUB cache each, with the traced kernel's
 *    geometry when the replay passes it (struct kmb_cache_desc: slot_size, order,
 *    objs_per_slab); kmem_cache_destroy flushes every CPU's state of the cache (the cache
 *    is unused by contract: Linux's flush_all_cpus_locked runs it on each CPU), shrinks
 *    the node lists and frees the cache.
 * 5. Tunables (backend.h 5.), read at init: min_partial, cpu_partial and cpu_cmpxchg (slub)
 *    or capacity and barn_max (slub-sheaves), min_objects, max_order; -1 stands for Linux's
 *    per-cache rule.
 * 6. drain: the caller's CPU state and the shared entry are flushed at once, every cache's
 *    barns and empty node-list slabs freed, and the flush generation bumped so that the
 *    other CPUs flush theirs at their next slow path (slub_slab.c 6.).  thread_detach
 *    flushes the leaving thread's CPU state.
 */
#include "slub.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const unsigned kmb__slub_kmalloc_sizes[KMB__SLUB_NCLASSES] = {
        8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192,
};

/* kmalloc_size_index, in indexes of kmb__slub_kmalloc_sizes */
static const uint8_t size_index[24] = {
        0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6,
};

unsigned kmb__slub_kmalloc_index(size_t size)
{
	if (size <= 192)
		return size_index[(size - 1) / 8];
	return 32u - (unsigned)__builtin_clz((unsigned)(size - 1)) - 1u;
}

static struct kmb_slub *slub_of(const struct kmb_backend *be)
{
	return be->priv;
}

/* ---- caches --------------------------------------------------------------------------------- */

static void cache_init_lists(struct kmb__slub_cache *s)
{
	for (unsigned i = 0; i < KMB_MAX_NODES; i++) {
		kmb_lock_init(&s->node[i].list_lock);
		kmb_lock_init(&s->node[i].barn_lock);
		kmb_list_init(&s->node[i].partial);
	}
	for (unsigned i = 0; i < s->ncpu; i++) {
		kmb_lock_init(&s->cpu[i].lock);
		s->cpu[i].node = i < s->ncpu - 1 ? kmb_cpu_node(i) % s->nnodes : 0;
		s->cpu[i].tid = i; /* init_tid */
	}
}

static void cache_free_struct(struct kmb__slub_cache *s)
{
	if (s->sheaves)
		kmb__slub_sheaves_fini(s);
	for (unsigned i = 0; i < KMB_MAX_NODES; i++) {
		kmb_lock_destroy(&s->node[i].list_lock);
		kmb_lock_destroy(&s->node[i].barn_lock);
	}
	for (unsigned i = 0; i < s->ncpu; i++)
		kmb_lock_destroy(&s->cpu[i].lock);
	free(s);
}

struct kmb__slub_cache *kmb__slub_cache_create(struct kmb_slub *sb, const char *name, unsigned size,
                                               unsigned align, const struct kmb_cache_desc *hint)
{
	size_t bytes =
	        sizeof(struct kmb__slub_cache) + (sb->ncpus + 1) * sizeof(struct kmb__slub_cpu);
	struct kmb__slub_geometry g;
	struct kmb__slub_cache *s;

	if (kmb__slub_geometry(sb, size, align, false, false, hint ? (unsigned)hint->slot_size : 0,
	                       hint ? hint->order : 0, hint ? hint->objs_per_slab : 0, &g) != 0)
		return NULL;
	s = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
	if (s == NULL)
		return NULL;
	memset(s, 0, bytes);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->sb = sb;
	s->object_size = size;
	s->size = g.size;
	s->align = g.align;
	s->offset = g.offset;
	s->order = g.order;
	s->objects = g.objects;
	s->min_order = g.min_order;
	s->min_partial = g.min_partial;
	s->cpu_partial = g.cpu_partial;
	s->cpu_partial_slabs = g.cpu_partial_slabs;
	s->sheaf_capacity = g.sheaf_capacity;
	s->sheaves = sb->sheaves;
	s->cpu_cmpxchg = sb->tun.cpu_cmpxchg != 0;
	s->poison = sb->pm->poison;
	s->alloc_extra = s->cpu_cmpxchg || s->poison;
	s->nnodes = sb->nnodes;
	s->ncpu = sb->ncpus + 1;
	cache_init_lists(s);
	if (s->sheaves)
		kmb__slub_sheaves_init(s);
	kmb_mutex_enter(&sb->caches_lock);
	s->next = sb->caches;
	if (sb->caches != NULL)
		sb->caches->prev = s;
	sb->caches = s;
	kmb_mutex_exit(&sb->caches_lock);
	return s;
}

/* Every CPU's state of s back to the slabs (the CPUs do not use s: destroy, fini). */
static void cache_flush_all(struct kmb__slub_cache *s)
{
	for (unsigned i = 0; i < s->ncpu; i++) {
		if (s->sheaves)
			kmb__slub_pcs_flush_cpu(s, &s->cpu[i]);
		else
			kmb__slub_flush_cpu(s, &s->cpu[i]);
	}
	if (s->sheaves)
		kmb__slub_barn_shrink(s);
	kmb__slub_shrink(s);
}

void kmb__slub_cache_destroy(struct kmb__slub_cache *s)
{
	struct kmb_slub *sb = s->sb;

	kmb_mutex_enter(&sb->caches_lock);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		sb->caches = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	kmb_mutex_exit(&sb->caches_lock);
	cache_flush_all(s);
	for (unsigned i = 0; i < s->nnodes; i++)
		kmb_check(KMB_LOAD(&s->node[i].nr_slabs) == 0, NULL,
		          "kmem_cache_destroy(%s): %lld slabs still hold objects on node %u",
		          s->name, (long long)KMB_LOAD(&s->node[i].nr_slabs), i);
	cache_free_struct(s);
}

/* ---- init and fini -------------------------------------------------------------------------- */

static const char *kmalloc_name(unsigned size, char *buf, size_t len)
{
	if (size >= 1024)
		snprintf(buf, len, "kmalloc-%uk", size / 1024);
	else
		snprintf(buf, len, "kmalloc-%u", size);
	return buf;
}

/* Frames still held at fini: full slabs (on no list) and live whole-page blocks. */
static void release_leftovers(struct kmb_slub *sb)
{
	struct kmb_physmem *pm = sb->pm;

	for (size_t pfn = 0; pfn < pm->npages; pfn++) {
		struct kmb_page *pg = &pm->map[pfn];

		if (pg->usage == KMB_USE_FREE)
			continue;
		if ((pg->flags & KMB__SLUB_PG_LARGE) && pg->priv[0] == (uintptr_t)sb) {
			pg->flags &= ~KMB__SLUB_PG_LARGE;
			kmb__slub_pages_free(sb, kmb_page_addr(pm, pg), (unsigned)pg->priv[1],
			                     false);
			continue;
		}
		if (!(pg->flags & KMB__SLUB_PG_SLAB) || pg->priv[4] != (uintptr_t)pg)
			continue;
		for (struct kmb__slub_cache *s = sb->caches; s != NULL; s = s->next) {
			if (pg->priv[0] != (uintptr_t)s)
				continue;
			__atomic_store_n(&pg->priv[1], (uint64_t)0,
			                 __ATOMIC_RELAXED); /* all free */
			kmb__slub_discard_slab(s, pg);
			break;
		}
	}
}

static void slub_fini(struct kmb_backend *be)
{
	struct kmb_slub *sb = slub_of(be);

	if (sb == NULL)
		return;
	for (struct kmb__slub_cache *s = sb->caches; s != NULL; s = s->next)
		cache_flush_all(s);
	release_leftovers(sb);
	while (sb->caches != NULL) {
		struct kmb__slub_cache *s = sb->caches;

		sb->caches = s->next;
		cache_free_struct(s);
	}
	kmb__slub_pools_fini(sb);
	kmb_lock_destroy(&sb->caches_lock);
	free(sb);
	be->priv = NULL;
}

static void read_tunables(struct kmb_slub *sb, const struct kmb_backend *be)
{
	sb->tun.min_partial = be->tun[0];
	sb->tun.min_objects = be->tun[2];
	sb->tun.max_order = be->tun[3];
	if (sb->sheaves) {
		sb->tun.cpu_partial = 0;
		sb->tun.capacity = be->tun[1];
		sb->tun.barn_max = be->tun[4];
	} else {
		sb->tun.cpu_partial = be->tun[1];
		sb->tun.capacity = 0;
		sb->tun.barn_max = 0;
		sb->tun.cpu_cmpxchg = be->tun[4];
	}
}

static int slub_init_design(struct kmb_backend *be, bool sheaves)
{
	struct kmb_slub *sb;
	char name[KMB__SLUB_NAMELEN];

	if (be->pages == NULL || be->ncpus == 0 || be->ncpus > KMB_MAX_CPUS || be->pm->nnodes == 0)
		return -EINVAL;
	sb = aligned_alloc(64, (sizeof(*sb) + 63) & ~(size_t)63);
	if (sb == NULL)
		return -ENOMEM;
	memset(sb, 0, sizeof(*sb));
	sb->pm = be->pm;
	sb->ps = be->pages;
	sb->ncpus = be->ncpus;
	sb->nnodes = be->pm->nnodes;
	sb->sheaves = sheaves;
	read_tunables(sb, be);
	kmb_lock_init(&sb->caches_lock);
	for (unsigned i = 0; i < KMB__SLUB_NCLASSES; i++) {
		kmb_lock_init(&sb->pool[i].lock);
		kmb_list_init(&sb->pool[i].pages);
	}
	be->priv = sb;
	for (unsigned c = 0; c < KMB__SLUB_NCLASSES; c++) {
		unsigned size = kmb__slub_kmalloc_sizes[c];

		sb->kmalloc[c] = kmb__slub_cache_create(sb, kmalloc_name(size, name, sizeof(name)),
		                                        size, 8, NULL);
		if (sb->kmalloc[c] == NULL) {
			slub_fini(be);
			return -ENOMEM;
		}
	}
	return 0;
}

static int slub_init(struct kmb_backend *be)
{
	return slub_init_design(be, false);
}

static int slub_sheaves_init(struct kmb_backend *be)
{
	return slub_init_design(be, true);
}

/* ---- kmalloc -------------------------------------------------------------------------------- */

static void *large_alloc(struct kmb_slub *sb, size_t size, int flags, size_t *usable)
{
	unsigned order = 0;
	struct kmb_page *pg;
	void *p;

	while ((KMB_PAGE_SIZE << order) < size)
		order++;
	if (order > sb->ps->max_order)
		return NULL;
	p = kmb__slub_pages_alloc(sb, order, flags & M_USE_RESERVE);
	if (p == NULL) {
		KMB__SLUB_ATOMIC_ADD(&sb->alloc_fail, 1);
		return NULL;
	}
	pg = kmb_page_of(sb->pm, p);
	pg->priv[0] = (uintptr_t)sb;
	pg->priv[1] = order;
	KMB_STORE(&pg->flags, pg->flags | KMB__SLUB_PG_LARGE);
	KMB__SLUB_ATOMIC_ADD(&sb->large_alloc, 1);
	KMB__SLUB_ATOMIC_ADD(&sb->large_pages, (int64_t)1 << order);
	*usable = KMB_PAGE_SIZE << order;
	return p;
}

KMB__SLUB_INLINE void *kmalloc_design(struct kmb_backend *be, size_t size, int flags,
                                      size_t *usable, const bool sheaves)
{
	struct kmb_slub *sb = slub_of(be);

	if (kmb_likely(size <= KMB__SLUB_KMALLOC_MAX)) {
		struct kmb__slub_cache *s = sb->kmalloc[kmb__slub_kmalloc_index(size)];
		void *p = kmb__slub_alloc_design(s, flags, sheaves);

		if (kmb_unlikely(p == NULL))
			KMB__SLUB_ATOMIC_ADD(&sb->alloc_fail, 1);
		*usable = s->size;
		return p;
	}
	return large_alloc(sb, size, flags, usable);
}

static size_t large_free(struct kmb_slub *sb, struct kmb_page *pg, void *addr)
{
	unsigned order = (unsigned)pg->priv[1];

	KMB_STORE(&pg->flags, pg->flags & ~KMB__SLUB_PG_LARGE);
	pg->priv[0] = 0;
	KMB__SLUB_ATOMIC_ADD(&sb->large_free, 1);
	KMB__SLUB_ATOMIC_ADD(&sb->large_pages, -((int64_t)1 << order));
	kmb__slub_pages_free(sb, addr, order, false);
	return KMB_PAGE_SIZE << order;
}

KMB__SLUB_INLINE size_t kfree_design(struct kmb_backend *be, void *addr, const bool sheaves)
{
	struct kmb_slub *sb = slub_of(be);
	struct kmb_page *pg;

	if (kmb_unlikely(!kmb_physmem_contains(sb->pm, addr)))
		kmb_panic(KMB_PANIC_BAD_FREE, addr, "kfree(%p): slub: not in physical memory",
		          addr);
	pg = kmb_page_of(sb->pm, addr);
	if (kmb_likely(pg->flags & KMB__SLUB_PG_SLAB)) {
		struct kmb__slub_cache *s = (struct kmb__slub_cache *)pg->priv[0];

		kmb__slub_free_design(s, (struct kmb_page *)pg->priv[4], addr, sheaves);
		return s->size;
	}
	if ((pg->flags & KMB__SLUB_PG_LARGE) && addr == kmb_page_addr(sb->pm, pg))
		return large_free(sb, pg, addr);
	if (pg->usage == KMB_USE_FREE)
		kmb_panic(KMB_PANIC_DOUBLE_FREE, addr, "kfree(%p): slub: the page is free", addr);
	kmb_panic(KMB_PANIC_BAD_FREE, addr, "kfree(%p): slub: not an allocated block", addr);
}

KMB__SLUB_INLINE size_t kfree_sized_design(struct kmb_backend *be, void *addr, size_t size,
                                           const bool sheaves)
{
	struct kmb_slub *sb = slub_of(be);

	if (kmb_likely(size - 1 < KMB__SLUB_KMALLOC_MAX)) {
		struct kmb__slub_cache *s = sb->kmalloc[kmb__slub_kmalloc_index(size)];
		struct kmb_page *pg = kmb_page_of(sb->pm, addr);

		kmb_assert_internal(kmb_physmem_contains(sb->pm, addr) &&
		                    (pg->flags & KMB__SLUB_PG_SLAB) && pg->priv[0] == (uintptr_t)s);
		kmb__slub_free_design(s, (struct kmb_page *)pg->priv[4], addr, sheaves);
		return s->size;
	}
	return kfree_design(be, addr, sheaves);
}

/* The two designs' entry points: each a specialisation of the above. */
static void *slub_kmalloc(struct kmb_backend *be, size_t size, int flags, size_t *usable)
{
	return kmalloc_design(be, size, flags, usable, false);
}
static void *sheaves_kmalloc(struct kmb_backend *be, size_t size, int flags, size_t *usable)
{
	return kmalloc_design(be, size, flags, usable, true);
}
static size_t slub_kfree(struct kmb_backend *be, void *addr)
{
	return kfree_design(be, addr, false);
}
static size_t sheaves_kfree(struct kmb_backend *be, void *addr)
{
	return kfree_design(be, addr, true);
}
static size_t slub_kfree_sized(struct kmb_backend *be, void *addr, size_t size)
{
	return kfree_sized_design(be, addr, size, false);
}
static size_t sheaves_kfree_sized(struct kmb_backend *be, void *addr, size_t size)
{
	return kfree_sized_design(be, addr, size, true);
}

static size_t slub_usable_size(struct kmb_backend *be, const void *addr)
{
	const struct kmb_page *pg = kmb_page_of(slub_of(be)->pm, addr);

	if (kmb_likely(pg->flags & KMB__SLUB_PG_SLAB))
		return ((const struct kmb__slub_cache *)pg->priv[0])->size;
	kmb_assert(pg->flags & KMB__SLUB_PG_LARGE);
	return KMB_PAGE_SIZE << pg->priv[1];
}

static size_t slub_max_size(struct kmb_backend *be)
{
	return KMB_PAGE_SIZE << slub_of(be)->ps->max_order;
}

static void slub_memstat(struct kmb_backend *be, struct kmb_memstat *ms)
{
	struct kmb_pagesrc *ps = slub_of(be)->ps;

	if (ps->memstat != NULL)
		ps->memstat(ps, ms);
}

/* ---- native caches -------------------------------------------------------------------------- */

static int slub_cache_create(struct kmb_backend *be, struct kmb_cache_desc *cd)
{
	struct kmb__slub_cache *s;

	if (cd->size > UINT32_MAX / 2)
		return -EINVAL;
	s = kmb__slub_cache_create(slub_of(be), cd->name, (unsigned)cd->size, (unsigned)cd->align,
	                           cd);
	if (s == NULL)
		return -ENOMEM;
	cd->priv = s;
	return 0;
}

static void slub_cache_destroy(struct kmb_backend *be, struct kmb_cache_desc *cd)
{
	(void)be;
	kmb__slub_cache_destroy(cd->priv);
	cd->priv = NULL;
}

static void *slub_cache_alloc(struct kmb_backend *be, struct kmb_cache_desc *cd, int flags)
{
	(void)be;
	return kmb__slub_alloc(cd->priv, flags);
}

static void slub_cache_free(struct kmb_backend *be, struct kmb_cache_desc *cd, void *obj)
{
	struct kmb_page *pg = kmb_page_of(slub_of(be)->pm, obj);

	kmb_check(pg->flags & KMB__SLUB_PG_SLAB && pg->priv[0] == (uintptr_t)cd->priv, obj,
	          "kmem_cache_free(%s, %p): not an object of this cache", cd->name, obj);
	kmb__slub_free(cd->priv, (struct kmb_page *)pg->priv[4], obj);
}

/* ---- CPUs and drain ------------------------------------------------------------------------- */

static void flush_cpu_all_caches(struct kmb_slub *sb, unsigned idx)
{
	kmb_mutex_enter(&sb->caches_lock);
	for (struct kmb__slub_cache *s = sb->caches; s != NULL; s = s->next) {
		struct kmb__slub_cpu *c = &s->cpu[idx];
		bool shared = idx == sb->ncpus;

		if (shared)
			kmb_spin_lock(&c->lock);
		if (s->sheaves)
			kmb__slub_pcs_flush_cpu(s, c);
		else
			kmb__slub_flush_cpu(s, c);
		if (shared)
			kmb_spin_unlock(&c->lock);
	}
	kmb_mutex_exit(&sb->caches_lock);
}

void kmb__slub_flush_gen_check(struct kmb_slub *sb, unsigned cpu)
{
	uint64_t gen = __atomic_load_n(&sb->flush_gen, __ATOMIC_ACQUIRE);

	if (!kmb_thread_attached() || kmb_likely(sb->cpu[cpu].seen_gen == gen))
		return; /* seen_gen is the attached owner's */
	sb->cpu[cpu].seen_gen = gen;
	flush_cpu_all_caches(sb, cpu);
}

static void slub_drain(struct kmb_backend *be)
{
	struct kmb_slub *sb = slub_of(be);

	__atomic_add_fetch(&sb->flush_gen, 1, __ATOMIC_RELEASE);
	if (kmb_thread_attached())
		kmb__slub_flush_gen_check(sb, kmb_thread_cpu());
	flush_cpu_all_caches(sb, sb->ncpus);
	kmb_mutex_enter(&sb->caches_lock);
	for (struct kmb__slub_cache *s = sb->caches; s != NULL; s = s->next) {
		if (s->sheaves)
			kmb__slub_barn_shrink(s);
		kmb__slub_shrink(s);
	}
	kmb_mutex_exit(&sb->caches_lock);
}

static void slub_thread_attach(struct kmb_backend *be, unsigned cpu)
{
	struct kmb_slub *sb = slub_of(be);

	/* the previous owner flushed at detach: nothing to flush until the next drain */
	sb->cpu[cpu].seen_gen = __atomic_load_n(&sb->flush_gen, __ATOMIC_ACQUIRE);
}

static void slub_thread_detach(struct kmb_backend *be, unsigned cpu)
{
	flush_cpu_all_caches(slub_of(be), cpu);
}

/* ---- the ops tables ------------------------------------------------------------------------- */

#define MIN_PARTIAL_TUNABLE                                                                        \
	{                                                                                          \
		"min_partial",                                                                     \
		        "empty slabs a node keeps before freeing them (slabs); -1: "               \
		        "clamp(ilog2(size) / 2, 5, 10)",                                           \
		        -1, -1, 100000                                                             \
	}
#define MIN_OBJECTS_TUNABLE                                                                        \
	{                                                                                          \
		"min_objects", "slub_min_objects (objects); 0: 4 * (fls(nr_cpus) + 1)", 0, 0,      \
		        KMB__SLUB_MAX_OBJS                                                         \
	}
#define MAX_ORDER_TUNABLE                                                                          \
	{                                                                                          \
		"max_order", "slub_max_order (page order)", KMB__SLUB_COSTLY_ORDER, 0, 10          \
	}

static const struct kmb_tunable slub_tunables[] = {
        MIN_PARTIAL_TUNABLE,
        {"cpu_partial",
         "objects a CPU keeps on partial slabs (objects); -1: 120/52/24/6 by slot size, 0: none",
         -1, -1, 1000000},
        MIN_OBJECTS_TUNABLE,
        MAX_ORDER_TUNABLE,
        {"cpu_cmpxchg",
         "1: the fast paths pay this_cpu_cmpxchg_double (cmpxchg16b, no lock prefix) as Linux's "
         "do; 0: plain stores, as every design's owned CPU (slub_slab.c 4.)",
         0, 0, 1},
};

static const struct kmb_tunable sheaves_tunables[] = {
        MIN_PARTIAL_TUNABLE,
        {"capacity", "sheaf_capacity (objects); -1 or 0: 60/28/12/4 by slot size", -1, -1, 1020},
        MIN_OBJECTS_TUNABLE,
        MAX_ORDER_TUNABLE,
        {"barn_max", "full (and empty) sheaves a node's barn keeps (sheaves)",
         KMB__SLUB_MAX_SHEAVES, 1, 100000},
};

#define SLUB_COMMON_OPS                                                                            \
	.freelist_bytes = 0, /* the free pointer is mid-object: restored on allocation */          \
	        .natural_pow2 = true, .default_pages = "buddy", .fini = slub_fini,                 \
	.usable_size = slub_usable_size, .max_size = slub_max_size, .memstat = slub_memstat,       \
	.stats = kmb__slub_stats, .drain = slub_drain, .thread_attach = slub_thread_attach,        \
	.thread_detach = slub_thread_detach, .cache_create = slub_cache_create,                    \
	.cache_destroy = slub_cache_destroy, .cache_alloc = slub_cache_alloc,                      \
	.cache_free = slub_cache_free, .frame_kind = kmb__slub_frame_kind,                         \
	.cache_info = kmb__slub_cache_info

const struct kmb_backend_ops kmb_slub_ops = {
        .name = "slub",
        .summary = "Linux SLUB 6.6-6.17: per-CPU slab and partial slabs, node partial lists "
                   "(kmalloc-8 .. kmalloc-8k, whole pages above)",
        .init = slub_init,
        .alloc = slub_kmalloc,
        .free = slub_kfree,
        .free_sized = slub_kfree_sized,
        SLUB_COMMON_OPS,
        .tunables = slub_tunables,
        .ntunables = sizeof(slub_tunables) / sizeof(slub_tunables[0]),
};

const struct kmb_backend_ops kmb_slub_sheaves_ops = {
        .name = "slub-sheaves",
        .summary = "Linux SLUB 7.0: per-CPU sheaves over per-node barns, no per-CPU slabs "
                   "(kmalloc-8 .. kmalloc-8k, whole pages above)",
        .init = slub_sheaves_init,
        .alloc = sheaves_kmalloc,
        .free = sheaves_kfree,
        .free_sized = sheaves_kfree_sized,
        SLUB_COMMON_OPS,
        .tunables = sheaves_tunables,
        .ntunables = sizeof(sheaves_tunables) / sizeof(sheaves_tunables[0]),
};
