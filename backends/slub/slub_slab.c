/*
 * backends/slub/slub_slab.c - SLUB's slabs: geometry (calculate_order, alignment, the free
 * pointer), allocate_slab / discard_slab, and the INVARIANTS freelist check.
 *
 * BIG THEORY STATEMENT (the folder backends/slub/)
 *
 * 1. What is modelled.  Linux's SLUB, mm/slub.c and mm/slab_common.c, in two designs, one
 *    library (kmb_slub), two backends:
 *      slub          6.6-6.17 (the 6.8+ code after "delay freezing of partial slabs"): a
 *                    frozen per-CPU slab whose free objects the CPU owns (c->freelist),
 *                    per-CPU partial slabs (c->partial), per-node partial lists under
 *                    list_lock, lock-free remote frees straight to the object's slab.
 *      slub-sheaves  7.0: sheaves for every cache - a per-CPU main and spare sheaf of
 *                    sheaf_capacity object pointers, a per-node barn of full and empty
 *                    sheaves under its spin lock - over the same slabs and node lists, with
 *                    no per-CPU slab and no per-CPU partial slabs.
 *    kmalloc is kmalloc-8 .. kmalloc-8k with 96 and 192 (kmalloc_index), larger requests
 *    whole pages from the page source, PAGE_SIZE << get_order(size) (slub_kmalloc.c).
 *
 * 2. Geometry (kmb__slub_geometry, Linux's calculate_sizes + calculate_order).
 *    size: the object rounded up to the word, then to its alignment: align = max(asked,
 *    8), and with SLAB_HWCACHE_ALIGN the cache line halved while the object fits in half
 *    (calculate_alignment: 64 for 33..64 bytes, 32 for 17..32, ...).  The free pointer
 *    lives inside a free object at offset ALIGN_DOWN(object_size / 2, 8) (6.x: in the
 *    middle, so that a small overflow of the previous object does not reach it), or after
 *    the object, growing the slot by a word, for SLAB_TYPESAFE_BY_RCU caches (the object
 *    stays readable after free).  kmbench's kmem_cache_create has no such flags (the core
 *    passes none), so native caches take the inside pointer; the geometry takes both
 *    rules as arguments and the white-box tests check them.
 *    order = calculate_order(size) as 6.8+: min_objects = slub_min_objects or
 *    4 * (fls(nr_cpus) + 1), capped at what slub_max_order (3, PAGE_ALLOC_COSTLY_ORDER)
 *    holds; min_order = get_order(min_objects * size); then the first order from min_order
 *    to slub_max_order whose leftover (PAGE << order) % size is at most 1/16 of the slab,
 *    else 1/8, 1/4, 1/2; else get_order(size).  Worked for 2 CPUs (min_objects 12; this
 *    machine's /sys/kernel/slab agrees, tests/test_slub.c):
 *        kmalloc-8..256  order 0 (12 * 256 = 3072 fits a page; 4096 % 96 = 64 <= 256)
 *        kmalloc-512     get_order(6144) = 1: 16 objects;  1k: order 2;  2k: order 3
 *        kmalloc-4k, 8k  max_objects = 8 and 4 at order 3 -> order 3 (8 and 4 objects)
 *    The traced kernel's geometry (struct kmb_cache_desc slot_size, order, objs_per_slab)
 *    replaces size and order when given, so the cache serves exactly those slots.
 *    min_partial = clamp(ilog2(size) / 2, 5, 10) (set_min_partial); cpu_partial (objects)
 *    6 / 24 / 52 / 120 for size >= PAGE / 1024 / 256 / below (set_cpu_partial), as slabs:
 *    cpu_partial_slabs = DIV_ROUND_UP(2 * cpu_partial, objects) (slub_set_cpu_partial);
 *    sheaf_capacity 4 / 12 / 26 / 60 rounded up so that the sheaf (a 32-byte header and
 *    the pointers) fills its kmalloc bucket: 4 / 12 / 28 / 60 (calculate_sheaf_capacity).
 *
 * 3. Slab metadata lives in the struct kmb_page frame descriptors, as Linux's struct slab
 *    overlays struct page (not counted in any footprint; slub.h lists the fields).  The
 *    freelist head and the counters (inuse, frozen) share one 64-bit state word so that
 *    slab_update_freelist's cmpxchg of freelist + counters is one compare-and-swap: the
 *    head as its byte offset + 1 in the slab (0 = NULL), inuse in 16 bits (Linux's 16),
 *    frozen one bit.  objects and the order are constant per slab (a slab made at the
 *    fallback order s->min holds fewer objects).
 *
 * 4. The fast paths (slub.h).  slub: pop c->freelist / push it when the object's slab is
 *    c->slab; slub-sheaves: pop / push main->objects.  A thread attached to a CPU owns that
 *    CPU's entry exclusively (kmb_thread_attached), which is what Linux gets from the tid's
 *    this_cpu_cmpxchg_double or from local_trylock, and what Solaris gets from cc_lock:
 *    every kmbench design lets that ownership replace its reference's protection of the
 *    per-CPU layer (backends/slab drops cc_lock), so by default both fast paths are plain
 *    loads and stores and the designs are compared on the same rule.  The tunable
 *    slub(cpu_cmpxchg=1) puts Linux's instruction back: c->freelist and c->tid change by
 *    one cmpxchg16b without the lock prefix, which is what this_cpu_cmpxchg_double is on
 *    x86-64 - the cost that sheaves, under a local_trylock, were made to drop.  Each fast
 *    path holds what Linux's does and no more: sheaves read pcs->main, its size and
 *    objects[] (and the slab's node on free); slub reads c->freelist and the free pointer,
 *    and tests one per-cache flag set at creation (alloc_extra: cpu_cmpxchg or the
 *    INVARIANTS poison) where Linux has its cmpxchg.  A thread not attached takes the
 *    shared entry cpu[ncpus] under its spin lock (the local_lock of an extra CPU).  The
 *    slow paths are slub_cpu.c (slub) and slub_sheaf.c (sheaves); both meet the slabs in
 *    slub_node.c.
 *
 * 5. Locking, in order: caches_lock (the cache list, drain), a shared CPU entry's lock, the
 *    barn lock or list_lock (never both), the page source's.  The state word is changed
 *    by compare-and-swap only.  Who may take objects out of a slab's freelist: the CPU that
 *    froze it (take-all), or a list_lock holder for a slab on, or just taken off, the node
 *    partial list; everyone else only pushes (__slab_free).  A single consumer against
 *    pushers, with inuse in the same word, has no ABA.
 *
 * 6. Departures from mm/slub.c.
 *    - A slab's freelist + counters are one 64-bit word (3.) under a locked CAS where
 *      Linux's are a cmpxchg_double pair; no freelist pointer hardening
 *      (CONFIG_SLAB_FREELIST_HARDENED); the tid's cmpxchg never fails (no preemption or
 *      interrupt on a CPU's owner), so it is not counted.
 *    - No debugging (red zones, poisoning, tracking: kmbench's INVARIANTS do that; the
 *      poison is restored over the free pointer on allocation), no memcg, no KASAN, no
 *      constructors, no RCU frees, no pfmemalloc, no defrag ratio (get_any_partial), no
 *      slab_nid requests (kmalloc_node): a CPU takes partial slabs of its own node.
 *    - flush_all is a flush generation: drain flushes the caller's CPU and the shared
 *      entry at once, the other CPUs at their next slow path (an IPI has no equivalent);
 *      kmem_cache_destroy flushes every CPU itself (the cache is unused by then).
 *    - Sheaves come from metadata pages of a sheaf pool per kmalloc size (slub_sheaf.c),
 *      not from kmalloc: they count in meta_pages, not in kmalloc-512's slabs.  Sheaf
 *      refill does not depend on the gfp flags (kmbench backends never sleep).  Neither
 *      kfree_rcu's rcu_free sheaf nor the prefilled-sheaf API (kmem_cache_prefill_sheaf)
 *      is modelled: kmbench has no RCU and no caller of that API.
 *    - fini finds the full slabs (on no list, as in Linux without SLUB_DEBUG) by a walk of
 *      the frame descriptors.
 *
 * 7. Counters: CONFIG_SLUB_STATS's names (slub_stats.c), per CPU and per cache, summed.
 */
#include "slub.h"

#include <errno.h>
#include <string.h>

/* ---- page source ------------------------------------------------------------------------ */

void *kmb__slub_pages_alloc(struct kmb_slub *sb, unsigned order, int flags)
{
	void *p = sb->ps->alloc_pages(sb->ps, order, flags & (M_USE_RESERVE | KMB_GFP_META));

	if (p != NULL)
		KMB__SLUB_ATOMIC_ADD((flags & KMB_GFP_META) ? &sb->meta_pages : &sb->data_pages,
		                     (int64_t)1 << order);
	return p;
}

void kmb__slub_pages_free(struct kmb_slub *sb, void *addr, unsigned order, bool meta)
{
	KMB__SLUB_ATOMIC_ADD(meta ? &sb->meta_pages : &sb->data_pages, -((int64_t)1 << order));
	sb->ps->free_pages(sb->ps, addr, order);
}

/* ---- geometry (2.) ------------------------------------------------------------------------ */

static unsigned fls_u(unsigned x)
{
	return x == 0 ? 0 : 32u - (unsigned)__builtin_clz(x);
}

static unsigned get_order(size_t size)
{
	unsigned order = 0;

	while ((KMB_PAGE_SIZE << order) < size)
		order++;
	return order;
}

static unsigned order_objects(unsigned order, unsigned size)
{
	return (unsigned)((KMB_PAGE_SIZE << order) / size);
}

/* calc_slab_order: the first order whose leftover is at most 1/fract of the slab */
static unsigned calc_slab_order(unsigned size, unsigned min_order, unsigned max_order,
                                unsigned fract)
{
	unsigned order;

	for (order = min_order; order <= max_order; order++) {
		size_t slab = KMB_PAGE_SIZE << order;

		if (slab % size <= slab / fract)
			break;
	}
	return order;
}

unsigned kmb__slub_calculate_order(unsigned size, unsigned nr_cpus, unsigned min_objects,
                                   unsigned max_order)
{
	unsigned max_objects, min_order;

	if (min_objects == 0)
		min_objects = 4 * (fls_u(nr_cpus) + 1);
	max_objects = order_objects(max_order, size);
	if (max_objects < 1)
		max_objects = 1;
	if (min_objects > max_objects)
		min_objects = max_objects;
	min_order = get_order((size_t)min_objects * size);
	if (order_objects(min_order, size) > KMB__SLUB_MAX_OBJS)
		return get_order((size_t)size * KMB__SLUB_MAX_OBJS) - 1;
	for (unsigned fraction = 16; fraction > 1; fraction /= 2) {
		unsigned order = calc_slab_order(size, min_order, max_order, fraction);

		if (order <= max_order)
			return order;
	}
	return get_order(size);
}

unsigned long kmb__slub_min_partial_for(unsigned size)
{
	unsigned long m = (fls_u(size) - 1) / 2; /* ilog2(size) / 2 */

	if (m > KMB__SLUB_MAX_PARTIAL)
		m = KMB__SLUB_MAX_PARTIAL;
	return m < KMB__SLUB_MIN_PARTIAL ? KMB__SLUB_MIN_PARTIAL : m;
}

unsigned kmb__slub_cpu_partial_for(unsigned size)
{
	if (size >= KMB_PAGE_SIZE)
		return 6;
	if (size >= 1024)
		return 24;
	return size >= 256 ? 52 : 120;
}

/* kmalloc_size_roundup of a sheaf's bytes: the smallest kmalloc class holding them */
static size_t kmalloc_roundup(size_t bytes)
{
	return bytes <= KMB__SLUB_KMALLOC_MAX
	               ? kmb__slub_kmalloc_sizes[kmb__slub_kmalloc_index(bytes)]
	               : KMB_PAGE_SIZE << get_order(bytes);
}

unsigned kmb__slub_sheaf_capacity_for(unsigned size)
{
	unsigned cap = size >= KMB_PAGE_SIZE ? 4 : size >= 1024 ? 12 : size >= 256 ? 26 : 60;
	size_t bytes = kmalloc_roundup(sizeof(struct kmb__slub_sheaf) + cap * sizeof(void *));

	return (unsigned)((bytes - sizeof(struct kmb__slub_sheaf)) / sizeof(void *));
}
_Static_assert(sizeof(struct kmb__slub_sheaf) == 32, "a sheaf header is 32 bytes, as Linux's");

static unsigned hwcache_align(unsigned size)
{
	unsigned ralign = KMB__SLUB_CACHE_LINE;

	while (size <= ralign / 2)
		ralign /= 2;
	return ralign;
}

/* The traced kernel's slot and order where they can be served (a slot at least the
 * object and aligned, an order the page source gives with 1..MAX_OBJS objects); the order
 * from objs_per_slab when only that is known; else calculate_order for the slot. */
static void apply_hints(const struct kmb_slub *sb, unsigned slot, unsigned order, unsigned objs,
                        struct kmb__slub_geometry *g)
{
	if (slot >= g->size && slot % g->align == 0 && slot - g->offset >= sizeof(void *))
		g->size = slot;
	if (order == 0 && objs != 0)
		order = get_order((size_t)objs * g->size);
	if ((order != 0 || objs != 0) && order <= sb->ps->max_order &&
	    order_objects(order, g->size) >= 1 &&
	    order_objects(order, g->size) <= KMB__SLUB_MAX_OBJS)
		g->order = order;
}

int kmb__slub_geometry(const struct kmb_slub *sb, unsigned object_size, unsigned align,
                       bool hwcache, bool rcu, unsigned slot, unsigned order, unsigned objs,
                       struct kmb__slub_geometry *g)
{
	unsigned size = (object_size + 7u) & ~7u;
	unsigned max_order = (unsigned)sb->tun.max_order;

	if (object_size == 0 || align == 0 || (align & (align - 1)) != 0)
		return -EINVAL;
	memset(g, 0, sizeof(*g));
	g->align = align < 8 ? 8 : align;
	if (hwcache && hwcache_align(object_size) > g->align)
		g->align = hwcache_align(object_size);
	if (rcu) {
		g->offset = size; /* after the object: it stays readable after free */
		size += sizeof(void *);
	} else {
		g->offset = (object_size / 2) & ~7u;
	}
	g->size = (size + g->align - 1) & ~(g->align - 1);
	g->order = (unsigned)-1;
	apply_hints(sb, slot, order, objs, g);
	if (max_order > sb->ps->max_order)
		max_order = sb->ps->max_order;
	if (g->order == (unsigned)-1)
		g->order = kmb__slub_calculate_order(g->size, sb->ncpus,
		                                     (unsigned)sb->tun.min_objects, max_order);
	if (g->order > sb->ps->max_order)
		return -EINVAL;
	g->objects = order_objects(g->order, g->size);
	g->min_order = get_order(g->size);
	if (g->min_order > g->order)
		g->min_order = g->order;
	g->min_partial = sb->tun.min_partial >= 0 ? (unsigned long)sb->tun.min_partial
	                                          : kmb__slub_min_partial_for(g->size);
	if (!sb->sheaves) {
		g->cpu_partial = sb->tun.cpu_partial >= 0 ? (unsigned)sb->tun.cpu_partial
		                                          : kmb__slub_cpu_partial_for(g->size);
		g->cpu_partial_slabs = (2 * g->cpu_partial + g->objects - 1) / g->objects;
	} else {
		g->sheaf_capacity = sb->tun.capacity > 0 ? (unsigned)sb->tun.capacity
		                                         : kmb__slub_sheaf_capacity_for(g->size);
	}
	return g->objects >= 1 ? 0 : -EINVAL;
}

/* ---- slabs -------------------------------------------------------------------------------- */

/* Mark the frames of a slab (head: its descriptor) or clear them (head NULL). */
static void mark_frames(struct kmb__slub_cache *s, struct kmb_page *first, unsigned order,
                        struct kmb_page *head)
{
	for (size_t i = 0; i < ((size_t)1 << order); i++) {
		struct kmb_page *pg = &first[i];

		pg->priv[0] = head ? (uintptr_t)s : 0;
		pg->priv[4] = (uintptr_t)head;
		KMB_STORE(&pg->flags,
		          head ? pg->flags | KMB__SLUB_PG_SLAB : pg->flags & ~KMB__SLUB_PG_SLAB);
	}
}

/* allocate_slab: oo with the fallback to s->min (ORDER_FALLBACK); objects linked in
 * address order, the slab returned frozen with every object (the caller's), inuse = 0. */
struct kmb_page *kmb__slub_new_slab(struct kmb__slub_cache *s, int flags)
{
	struct kmb_slub *sb = s->sb;
	unsigned order = s->order;
	char *mem = kmb__slub_pages_alloc(sb, order, flags);
	struct kmb_page *head;
	unsigned objects;

	if (mem == NULL && s->min_order < order) {
		order = s->min_order;
		mem = kmb__slub_pages_alloc(sb, order, flags);
		if (mem != NULL)
			kmb__slub_stat(s, KMB__ORDER_FALLBACK);
	}
	if (mem == NULL)
		return NULL;
	head = kmb_page_of(sb->pm, mem);
	objects = order_objects(order, s->size);
	for (unsigned i = 0; i + 1 < objects; i++)
		kmb__slub_set_fp(s, mem + (size_t)i * s->size, mem + (size_t)(i + 1) * s->size);
	kmb__slub_set_fp(s, mem + (size_t)(objects - 1) * s->size, NULL);
	mark_frames(s, head, order, head);
	head->priv[2] = (uintptr_t)objects | (uintptr_t)order << 32;
	head->priv[3] = 0;
	head->next = head->prev = NULL;
	__atomic_store_n(&head->priv[1], kmb__slub_sw(s, head, mem, 0, false), __ATOMIC_RELEASE);
	KMB__SLUB_ATOMIC_ADD(&kmb__slub_node_of(s, head)->nr_slabs, 1);
	KMB__SLUB_ATOMIC_ADD(&kmb__slub_node_of(s, head)->total_objects, (int64_t)objects);
	kmb__slub_stat(s, KMB__ALLOC_SLAB);
	return head;
}

/* discard_slab: the slab is empty and on no list. */
void kmb__slub_discard_slab(struct kmb__slub_cache *s, struct kmb_page *head)
{
	struct kmb__slub_node *n = kmb__slub_node_of(s, head);
	unsigned order = kmb__slub_slab_order(head);

	kmb_check(kmb__slub_sw_inuse(kmb__slub_sw_load(head)) == 0, kmb__slub_base(s, head),
	          "discard_slab(%s, %p): %u objects still in use", s->name,
	          (void *)kmb__slub_base(s, head), kmb__slub_sw_inuse(kmb__slub_sw_load(head)));
	KMB__SLUB_ATOMIC_ADD(&n->nr_slabs, -1);
	KMB__SLUB_ATOMIC_ADD(&n->total_objects, -(int64_t)kmb__slub_objects(head));
	mark_frames(s, head, order, NULL);
	head->priv[1] = head->priv[2] = head->priv[3] = 0;
	if (s->poison) /* the free pointers are links in free memory */
		kmb_poison(s->sb->pm, kmb__slub_base(s, head), KMB_PAGE_SIZE << order);
	kmb__slub_pages_free(s->sb, kmb__slub_base(s, head), order, false);
	kmb__slub_stat(s, KMB__FREE_SLAB);
}

/* INVARIANTS: a chain of n free objects, each a slot of this slab, ending in NULL. */
void kmb__slub_check_freelist(struct kmb__slub_cache *s, struct kmb_page *head, void *list,
                              unsigned n, const char *who)
{
	char *base = kmb__slub_base(s, head);
	size_t bytes = (size_t)kmb__slub_objects(head) * s->size;
	unsigned count = 0;

	for (char *p = list; p != NULL; p = kmb__slub_get_fp(s, p)) {
		kmb_check(p >= base && p < base + bytes && (size_t)(p - base) % s->size == 0, p,
		          "%s(%s): free pointer %p is not an object of slab %p", who, s->name,
		          (void *)p, (void *)base);
		kmb_check(++count <= n, p, "%s(%s): slab %p: freelist longer than %u objects", who,
		          s->name, (void *)base, n);
	}
	kmb_check(count == n, base, "%s(%s): slab %p: freelist has %u objects, counters say %u",
	          who, s->name, (void *)base, count, n);
}

void kmb__slub_restore_poison(struct kmb__slub_cache *s, void *obj)
{
	kmb_poison(s->sb->pm, (char *)obj + s->offset, sizeof(void *));
}
