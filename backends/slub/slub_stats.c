/*
 * backends/slub/slub_stats.c - the declared counters of both designs and the picture of
 * memory.
 *
 * 1. Counters: CONFIG_SLUB_STATS's stat items under their /sys/kernel/slab/<cache>/ names
 *    (alloc_fastpath ... barn_put_fail), kept per CPU per cache (struct kmb__slub_cpu:
 *    the attached owner's plain stores, the shared entry's atomic adds: no shared write on
 *    a fast path) and summed over CPUs and caches here.  Then gauges Linux shows in
 *    /proc/slabinfo and sysfs (slabs, objects, partial, cpu_partial_slabs, the barns'
 *    sheaves), the page counts, whole-page kmalloc, and the locks' counters.
 * 2. frame_kind: a slab frame is the CPU's (frozen: KMB_FRAME_SLAB_CPU), empty, full or
 *    partial by its state word; a whole-page kmalloc block is KMB_FRAME_LARGE.  Sheaves and
 *    barns live in the sheaf pools' metadata pages (slub_sheaf.c 4.): KMB_FRAME_SHEAF.
 * 3. cache_info (backend.h 6.) is Linux's get_slabinfo: the slabs and slots of the node
 *    counts (nr_slabs, total_objects), less the free slots of the node partial lists
 *    (count_partial(n, count_free)).  Everything else is active: the objects of the CPU
 *    slabs and CPU partial slabs (slub), and those held in sheaves and barns
 *    (slub-sheaves), are not on a node list, as in Linux's active_objs.  A slab is
 *    active unless it is an empty one of a node list (Linux says active_slabs = num_slabs;
 *    the contract asks for the slabs holding an allocated object).
 */
#include "slub.h"

#include <errno.h>
#include <string.h>

void kmb__slub_stat_add(struct kmb__slub_cache *s, enum kmb__slub_stat si, uint64_t n)
{
	if (kmb_likely(kmb_thread_attached())) {
		uint64_t *c = &s->cpu[kmb_thread_cpu()].stat[si];

		KMB_STORE(c, KMB_LOAD(c) + n);
	} else {
		KMB__SLUB_ATOMIC_ADD(&s->cpu[s->ncpu - 1].stat[si], n);
	}
}

void kmb__slub_cache_stat(struct kmb__slub_cache *s, uint64_t out[KMB__SLUB_NSTAT])
{
	memset(out, 0, sizeof(uint64_t) * KMB__SLUB_NSTAT);
	for (unsigned i = 0; i < s->ncpu; i++)
		for (unsigned k = 0; k < KMB__SLUB_NSTAT; k++)
			out[k] += KMB_LOAD(&s->cpu[i].stat[k]);
}

struct slub_ctr {
	uint64_t st[KMB__SLUB_NSTAT];
	uint64_t slabs, objects, partial_slabs;
	uint64_t barn_full, barn_empty;
	uint64_t slab_pages, meta_pages, large_pages, large_alloc, large_free, alloc_fail;
	struct kmb_lock_stats list_lock, barn_lock, cpu_lock, caches_lock;
};

/* Reads other CPUs' fields relaxed: a snapshot, as /sys/kernel/slab is. */
static void add_cache(struct slub_ctr *c, struct kmb__slub_cache *s)
{
	uint64_t st[KMB__SLUB_NSTAT];

	kmb__slub_cache_stat(s, st);
	for (unsigned k = 0; k < KMB__SLUB_NSTAT; k++)
		c->st[k] += st[k];
	for (unsigned i = 0; i < s->nnodes; i++) {
		struct kmb__slub_node *n = &s->node[i];

		c->slabs += (uint64_t)KMB_LOAD(&n->nr_slabs);
		c->objects += (uint64_t)KMB_LOAD(&n->total_objects);
		c->partial_slabs += KMB_LOAD(&n->nr_partial);
		c->barn_full += KMB_LOAD(&n->nr_full);
		c->barn_empty += KMB_LOAD(&n->nr_empty);
		kmb_lock_stats_add(&n->list_lock, &c->list_lock);
		kmb_lock_stats_add(&n->barn_lock, &c->barn_lock);
	}
	kmb_lock_stats_add(&s->cpu[s->ncpu - 1].lock, &c->cpu_lock);
}

#define ROW(si, name, desc)                                                                        \
	{                                                                                          \
		name, "events", desc, offsetof(struct slub_ctr, st) + (si) * sizeof(uint64_t)      \
	}
#define GAUGE(field, unit, desc) KMB_STAT_DECL(struct slub_ctr, field, unit, desc)

static const struct kmb_stat_decl stats_table[] = {
        ROW(KMB__ALLOC_FASTPATH, "alloc_fastpath", "allocations from the CPU slab's freelist"),
        ROW(KMB__ALLOC_SLOWPATH, "alloc_slowpath", "allocations through ___slab_alloc"),
        ROW(KMB__FREE_FASTPATH, "free_fastpath", "frees to the CPU slab's freelist"),
        ROW(KMB__FREE_SLOWPATH, "free_slowpath", "frees to a slab through __slab_free"),
        ROW(KMB__FREE_FROZEN, "free_frozen", "frees to a slab frozen by a CPU"),
        ROW(KMB__FREE_ADD_PARTIAL, "free_add_partial", "slabs put on a node partial list"),
        ROW(KMB__FREE_REMOVE_PARTIAL, "free_remove_partial",
            "empty slabs taken off a node partial list to be freed"),
        ROW(KMB__ALLOC_FROM_PARTIAL, "alloc_from_partial",
            "slabs taken from a node partial list for allocation"),
        ROW(KMB__ALLOC_SLAB, "alloc_slab", "new slabs from the page source"),
        ROW(KMB__ALLOC_REFILL, "alloc_refill",
            "CPU freelists refilled from the CPU slab's remote frees"),
        ROW(KMB__FREE_SLAB, "free_slab", "slabs freed to the page source"),
        ROW(KMB__CPUSLAB_FLUSH, "cpuslab_flush", "CPU slabs flushed (drain, detach, destroy)"),
        ROW(KMB__DEACTIVATE_FULL, "deactivate_full", "CPU slabs unfrozen full (on no list)"),
        ROW(KMB__DEACTIVATE_EMPTY, "deactivate_empty", "empty slabs freed at unfreeze"),
        ROW(KMB__DEACTIVATE_TO_HEAD, "deactivate_to_head", "unfrozen slabs put at a list's head"),
        ROW(KMB__DEACTIVATE_TO_TAIL, "deactivate_to_tail", "unfrozen slabs put at a list's tail"),
        ROW(KMB__DEACTIVATE_REMOTE_FREES, "deactivate_remote_frees",
            "unfrozen CPU slabs that had remote frees"),
        ROW(KMB__DEACTIVATE_BYPASS, "deactivate_bypass", "CPU slabs dropped full at a refill"),
        ROW(KMB__ORDER_FALLBACK, "order_fallback", "slabs made at the fallback order s->min"),
        ROW(KMB__CMPXCHG_DOUBLE_FAIL, "cmpxchg_double_fail",
            "failed compare-and-swaps of a slab's freelist + counters"),
        ROW(KMB__CPU_PARTIAL_ALLOC, "cpu_partial_alloc",
            "CPU slabs taken from the CPU partial list"),
        ROW(KMB__CPU_PARTIAL_FREE, "cpu_partial_free",
            "full slabs put on a CPU partial list at a free"),
        ROW(KMB__CPU_PARTIAL_NODE, "cpu_partial_node",
            "node partial slabs moved to a CPU partial list"),
        ROW(KMB__CPU_PARTIAL_DRAIN, "cpu_partial_drain", "CPU partial lists drained to the nodes"),
        ROW(KMB__ALLOC_PCS, "alloc_cpu_sheaf", "allocations from a CPU's sheaf"),
        ROW(KMB__FREE_PCS, "free_cpu_sheaf", "frees to a CPU's sheaf"),
        ROW(KMB__SHEAF_FLUSH, "sheaf_flush", "objects flushed from sheaves to slabs"),
        ROW(KMB__SHEAF_REFILL, "sheaf_refill", "objects refilled into sheaves from slabs"),
        ROW(KMB__SHEAF_ALLOC, "sheaf_alloc", "sheaves allocated"),
        ROW(KMB__SHEAF_FREE, "sheaf_free", "sheaves freed"),
        ROW(KMB__BARN_GET, "barn_get", "full sheaves taken from a barn"),
        ROW(KMB__BARN_GET_FAIL, "barn_get_fail", "barns without a full sheaf when one was wanted"),
        ROW(KMB__BARN_PUT, "barn_put", "full sheaves given to a barn"),
        ROW(KMB__BARN_PUT_FAIL, "barn_put_fail", "barns already holding barn_max full sheaves"),
        GAUGE(slabs, "slabs", "slabs of every cache now"),
        GAUGE(objects, "objects", "objects in those slabs (slot capacity) now"),
        GAUGE(partial_slabs, "slabs", "slabs on the node partial lists now"),
        GAUGE(barn_full, "sheaves", "full sheaves in the barns now"),
        GAUGE(barn_empty, "sheaves", "empty sheaves in the barns now"),
        GAUGE(slab_pages, "pages", "pages held by slabs now"),
        GAUGE(meta_pages, "pages", "metadata pages now (sheaves)"),
        GAUGE(large_pages, "pages", "pages held by whole-page kmalloc blocks now"),
        GAUGE(large_alloc, "events", "kmalloc requests above 8 KiB served with whole pages"),
        GAUGE(large_free, "events", "whole-page kmalloc blocks freed"),
        GAUGE(alloc_fail, "events", "kmalloc requests the backend could not serve"),
        KMB_LOCK_STAT_DECLS(struct slub_ctr, list_lock, "list", "the nodes' list_lock spin locks"),
        KMB_LOCK_STAT_DECLS(struct slub_ctr, barn_lock, "barn", "the barns' spin locks"),
        KMB_LOCK_STAT_DECLS(struct slub_ctr, cpu_lock, "cpu",
                            "the shared CPU entries' spin locks (threads not attached)"),
        KMB_LOCK_STAT_DECLS(struct slub_ctr, caches_lock, "caches", "the cache list's mutex"),
};
_Static_assert(KMB__SLUB_NSTAT == 34, "one row per stat item");

size_t kmb__slub_stats(struct kmb_backend *be, struct kmb_stat *out, size_t max)
{
	struct kmb_slub *sb = be->priv;
	struct slub_ctr c;

	memset(&c, 0, sizeof(c));
	kmb_mutex_enter(&sb->caches_lock);
	for (struct kmb__slub_cache *s = sb->caches; s != NULL; s = s->next)
		add_cache(&c, s);
	kmb_mutex_exit(&sb->caches_lock);
	kmb_lock_stats_add(&sb->caches_lock, &c.caches_lock);
	c.large_pages = (uint64_t)KMB_LOAD(&sb->large_pages);
	c.slab_pages = (uint64_t)KMB_LOAD(&sb->data_pages) - c.large_pages;
	c.meta_pages = (uint64_t)KMB_LOAD(&sb->meta_pages);
	c.large_alloc = KMB_LOAD(&sb->large_alloc);
	c.large_free = KMB_LOAD(&sb->large_free);
	c.alloc_fail = KMB_LOAD(&sb->alloc_fail);
	return kmb_stats_fill(stats_table, sizeof(stats_table) / sizeof(stats_table[0]), &c, out,
	                      max);
}

int kmb__slub_frame_kind(struct kmb_backend *be, size_t pfn)
{
	const struct kmb_page *pg = &be->pm->map[pfn];
	uint32_t flags = KMB_LOAD(&pg->flags);
	const struct kmb_page *head = (const struct kmb_page *)pg->priv[4];
	uint64_t sw;
	unsigned inuse;

	if (flags & KMB__SLUB_PG_LARGE)
		return KMB_FRAME_LARGE;
	if (flags & KMB__SLUB_PG_SHEAF)
		return KMB_FRAME_SHEAF;
	if (!(flags & KMB__SLUB_PG_SLAB) || head == NULL)
		return KMB_FRAME_UNKNOWN;
	sw = kmb__slub_sw_load(head);
	if (sw & KMB__SLUB_FROZEN)
		return KMB_FRAME_SLAB_CPU;
	inuse = kmb__slub_sw_inuse(sw);
	if (inuse == 0)
		return KMB_FRAME_SLAB_EMPTY;
	return inuse >= kmb__slub_objects(head) ? KMB_FRAME_SLAB_FULL : KMB_FRAME_SLAB_PARTIAL;
}

/* The free slots and empty slabs of a node's partial list (count_partial). */
static void count_partial(struct kmb__slub_node *n, uint64_t *free_objs, uint64_t *empty)
{
	kmb_spin_lock(&n->list_lock);
	for (struct kmb_page *pg = n->partial.next; pg != &n->partial; pg = pg->next) {
		unsigned inuse = kmb__slub_sw_inuse(kmb__slub_sw_load(pg));

		*free_objs += kmb__slub_objects(pg) - inuse;
		*empty += inuse == 0;
	}
	kmb_spin_unlock(&n->list_lock);
}

int kmb__slub_cache_info(struct kmb_backend *be, struct kmb_cache_desc *cd,
                         struct kmb_cache_info *out)
{
	struct kmb__slub_cache *s = cd->priv;
	uint64_t slabs = 0, objs = 0, free_objs = 0, empty = 0;

	(void)be;
	if (s == NULL || out == NULL)
		return -EINVAL;
	for (unsigned i = 0; i < s->nnodes; i++) {
		slabs += (uint64_t)KMB_LOAD(&s->node[i].nr_slabs);
		objs += (uint64_t)KMB_LOAD(&s->node[i].total_objects);
		count_partial(&s->node[i], &free_objs, &empty);
	}
	out->total_objs = objs;
	out->active_objs = objs - free_objs;
	out->total_slabs = slabs;
	out->active_slabs = slabs - empty;
	out->objs_per_slab = s->objects;
	out->pages_per_slab = 1u << s->order;
	return 0;
}
