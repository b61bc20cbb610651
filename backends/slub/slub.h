/*
 * backends/slub/slub.h - Linux's SLUB (mm/slub.c) as two kmbench backends: "slub", the
 * 6.6-6.17 design (per-CPU slab and per-CPU partial slabs), and "slub-sheaves", the 7.0
 * design (per-CPU sheaves over a per-node barn, no per-CPU slabs).  slub_slab.c opens with
 * the Big Theory Statement of the folder; each file states its own part.
 *
 * The kmb__slub_* functions and structures are internal: shared between the files of this
 * folder and the white-box tests (tests/test_slub.c).
 */
#ifndef KMB_BACKENDS_SLUB_H
#define KMB_BACKENDS_SLUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmbench/backend.h>
#include <kmbench/lock.h>

/*
 * struct kmb_page of a slab (BTS 3.).  Every frame: flags KMB__SLUB_PG_SLAB, priv[0] = the
 * cache (slab->slab_cache), priv[4] = the head frame (compound_head).  The head frame only:
 * priv[1] = the state word (freelist + counters, one atomic word), priv[2] = objects | order
 * << 32, priv[3] = on the node's partial list (slab_test_node_partial; under list_lock),
 * next/prev = the node partial list or, singly, the per-CPU partial list.  A whole-page
 * kmalloc block: head frame KMB__SLUB_PG_LARGE and priv[1] = its order.
 */
#define KMB__SLUB_PG_SHEAF 0x2000u /* every frame of a sheaf pool's page (slub_sheaf.c 4.) */
#define KMB__SLUB_PG_SLAB  0x4000u
#define KMB__SLUB_PG_LARGE 0x8000u

#define KMB__SLUB_NCLASSES     13    /* kmalloc-8 .. kmalloc-8k with 96 and 192 */
#define KMB__SLUB_KMALLOC_MAX  8192  /* KMALLOC_MAX_CACHE_SIZE: 2 * PAGE_SIZE */
#define KMB__SLUB_MAX_OBJS     32767 /* MAX_OBJS_PER_PAGE: inuse is 15 bits in Linux */
#define KMB__SLUB_MIN_PARTIAL  5     /* MIN_PARTIAL */
#define KMB__SLUB_MAX_PARTIAL  10    /* MAX_PARTIAL */
#define KMB__SLUB_COSTLY_ORDER 3     /* PAGE_ALLOC_COSTLY_ORDER: slub_max_order's default */
#define KMB__SLUB_MAX_SHEAVES  10    /* MAX_FULL_SHEAVES, MAX_EMPTY_SHEAVES of a barn */
#define KMB__SLUB_CACHE_LINE   64    /* cache_line_size() for SLAB_HWCACHE_ALIGN */
#define KMB__SLUB_NAMELEN      48

#define KMB__SLUB_ATOMIC_ADD(p, n) ((void)__atomic_add_fetch((p), (n), __ATOMIC_RELAXED))

/* The counters, CONFIG_SLUB_STATS's enum stat_item (slub_stats.c lists their meaning). */
enum kmb__slub_stat {
	KMB__ALLOC_FASTPATH,
	KMB__ALLOC_SLOWPATH,
	KMB__FREE_FASTPATH,
	KMB__FREE_SLOWPATH,
	KMB__FREE_FROZEN,
	KMB__FREE_ADD_PARTIAL,
	KMB__FREE_REMOVE_PARTIAL,
	KMB__ALLOC_FROM_PARTIAL,
	KMB__ALLOC_SLAB,
	KMB__ALLOC_REFILL,
	KMB__FREE_SLAB,
	KMB__CPUSLAB_FLUSH,
	KMB__DEACTIVATE_FULL,
	KMB__DEACTIVATE_EMPTY,
	KMB__DEACTIVATE_TO_HEAD,
	KMB__DEACTIVATE_TO_TAIL,
	KMB__DEACTIVATE_REMOTE_FREES,
	KMB__DEACTIVATE_BYPASS,
	KMB__ORDER_FALLBACK,
	KMB__CMPXCHG_DOUBLE_FAIL,
	KMB__CPU_PARTIAL_ALLOC,
	KMB__CPU_PARTIAL_FREE,
	KMB__CPU_PARTIAL_NODE,
	KMB__CPU_PARTIAL_DRAIN,
	KMB__ALLOC_PCS,
	KMB__FREE_PCS,
	KMB__SHEAF_FLUSH,
	KMB__SHEAF_REFILL,
	KMB__SHEAF_ALLOC,
	KMB__SHEAF_FREE,
	KMB__BARN_GET,
	KMB__BARN_GET_FAIL,
	KMB__BARN_PUT,
	KMB__BARN_PUT_FAIL,
	KMB__SLUB_NSTAT
};

/* A sheaf: an array of object pointers (struct slab_sheaf; 32-byte header as Linux's). */
struct kmb__slub_sheaf {
	struct kmb__slub_sheaf *next; /* barn list, or the pool's free list */
	struct kmb__slub_cache *cache;
	unsigned size;     /* objects held */
	unsigned capacity; /* s->sheaf_capacity */
	unsigned pool;     /* the sheaf pool (a kmalloc size class) it came from */
	void *objects[];
};

/* A CPU's state in a cache (struct kmem_cache_cpu + struct slub_percpu_sheaves). */
struct kmb__slub_cpu {
	_Alignas(64) void *freelist; /* c->freelist: the CPU slab's objects the CPU owns */
	uint64_t tid;          /* c->tid, right after freelist: one 16-byte cmpxchg changes both */
	struct kmb_page *slab; /* c->slab: the frozen CPU slab (head frame) */
	struct kmb_page *partial; /* c->partial: unfrozen slabs, linked through next */
	unsigned partial_slabs;
	unsigned node;                        /* kmb_cpu_node(cpu); 0 for the shared entry */
	struct kmb__slub_sheaf *main, *spare; /* slub-sheaves: main never NULL */
	struct kmb_lock lock;                 /* the shared entry [ncpus] only (local_lock) */
	uint64_t stat[KMB__SLUB_NSTAT];
};

/* A node's part of a cache (struct kmem_cache_node + struct node_barn). */
struct kmb__slub_node {
	_Alignas(64) struct kmb_lock list_lock;
	struct kmb_page partial; /* list sentinel */
	unsigned long nr_partial;
	int64_t nr_slabs, total_objects; /* atomic (inc_slabs_node) */
	_Alignas(64) struct kmb_lock barn_lock;
	struct kmb__slub_sheaf *full, *empty;
	unsigned nr_full, nr_empty;
};

struct kmb_slub;

struct kmb__slub_cache {
	char name[KMB__SLUB_NAMELEN];
	struct kmb_slub *sb;
	struct kmb__slub_cache *next, *prev; /* the backend's list, under caches_lock */
	/* geometry, constant after creation (slub_slab.c 2.) */
	unsigned object_size; /* as asked */
	unsigned size;        /* slot: s->size */
	unsigned align;
	unsigned offset;                       /* free pointer inside (or after) the object */
	unsigned order;                        /* oo: preferred slab order ... */
	unsigned objects;                      /* ... and its objects */
	unsigned min_order, min_objects_order; /* s->min: fallback order when oo fails */
	unsigned long min_partial;
	unsigned cpu_partial, cpu_partial_slabs; /* 0: no per-CPU partial slabs */
	unsigned sheaf_capacity;                 /* 0: no sheaves (the slub design) */
	bool sheaves;
	bool cpu_cmpxchg; /* slub: the fast paths pay this_cpu_cmpxchg_double (slub.h) */
	bool poison;      /* INVARIANTS: restore the poison over the free pointer on allocation */
	bool alloc_extra; /* cpu_cmpxchg || poison: slub's allocation fast path does more */
	unsigned nnodes, ncpu; /* ncpu = the backend's ncpus + 1 (the shared entry) */
	struct kmb__slub_node node[KMB_MAX_NODES];
	struct kmb__slub_cpu cpu[];
};

/* The tunables of both designs, in the order of their tables (slub_kmalloc.c). */
struct kmb__slub_tun {
	long min_partial, cpu_partial, min_objects, max_order, capacity, barn_max, cpu_cmpxchg;
};

/* The backend (be->priv). */
struct kmb_slub {
	struct kmb_physmem *pm;
	struct kmb_pagesrc *ps;
	unsigned ncpus, nnodes;
	bool sheaves; /* the slub-sheaves design */
	struct kmb__slub_tun tun;
	struct kmb_lock caches_lock; /* the cache list */
	struct kmb__slub_cache *caches;
	struct kmb__slub_cache *kmalloc[KMB__SLUB_NCLASSES];
	uint64_t flush_gen; /* atomic: bumped by drain; CPUs flush at their next slow path */
	struct {
		_Alignas(64) uint64_t seen_gen; /* by the CPU's owner */
	} cpu[KMB_MAX_CPUS + 1];
	/* sheaf pools (slub_sheaf.c 4.): one per kmalloc size class */
	struct kmb__slub_pool {
		struct kmb_lock lock;
		struct kmb__slub_sheaf *free;
		char *cur; /* carving point in the newest page */
		size_t left;
		struct kmb_page pages; /* sentinel: the pool's metadata pages */
	} pool[KMB__SLUB_NCLASSES];
	/* gauges and counters, atomic */
	int64_t data_pages, meta_pages, large_pages;
	uint64_t large_alloc, large_free, alloc_fail;
};

/* ---- the state word of a slab (slab->freelist + slab->counters, BTS 3.) --------------- */

#define KMB__SLUB_INUSE_SHIFT 32
#define KMB__SLUB_FROZEN      ((uint64_t)1 << 48)

static inline char *kmb__slub_base(const struct kmb__slub_cache *s, const struct kmb_page *head)
{
	return kmb_page_addr(s->sb->pm, head);
}
static inline void *kmb__slub_sw_freelist(const struct kmb__slub_cache *s,
                                          const struct kmb_page *head, uint64_t sw)
{
	uint32_t fo = (uint32_t)sw;

	return fo == 0 ? NULL : kmb__slub_base(s, head) + fo - 1;
}
static inline unsigned kmb__slub_sw_inuse(uint64_t sw)
{
	return (unsigned)(sw >> KMB__SLUB_INUSE_SHIFT) & 0xffffu;
}
static inline uint64_t kmb__slub_sw(const struct kmb__slub_cache *s, const struct kmb_page *head,
                                    const void *freelist, unsigned inuse, bool frozen)
{
	uint64_t fo = freelist == NULL
	                      ? 0
	                      : (uint64_t)((const char *)freelist - kmb__slub_base(s, head)) + 1;

	return fo | (uint64_t)inuse << KMB__SLUB_INUSE_SHIFT | (frozen ? KMB__SLUB_FROZEN : 0);
}
static inline uint64_t kmb__slub_sw_load(const struct kmb_page *head)
{
	return __atomic_load_n(&head->priv[1], __ATOMIC_ACQUIRE);
}
/* slab_update_freelist: the cmpxchg of freelist + counters (one word here). */
static inline bool kmb__slub_sw_cas(struct kmb_page *head, uint64_t *old, uint64_t new_sw)
{
	return __atomic_compare_exchange_n(&head->priv[1], old, new_sw, false, __ATOMIC_ACQ_REL,
	                                   __ATOMIC_ACQUIRE);
}
static inline unsigned kmb__slub_objects(const struct kmb_page *head)
{
	return (unsigned)(uint32_t)head->priv[2];
}
static inline unsigned kmb__slub_slab_order(const struct kmb_page *head)
{
	return (unsigned)(head->priv[2] >> 32);
}

/* The free pointer of a free object (get_freepointer / set_freepointer). */
static inline void *kmb__slub_get_fp(const struct kmb__slub_cache *s, void *obj)
{
	void *fp;

	__builtin_memcpy(&fp, (char *)obj + s->offset, sizeof(fp));
	return fp;
}
static inline void kmb__slub_set_fp(const struct kmb__slub_cache *s, void *obj, void *fp)
{
	__builtin_memcpy((char *)obj + s->offset, &fp, sizeof(fp));
}

/* ---- counters: per CPU, the owner's plain stores; the shared entry's atomically ------- */

static inline void kmb__slub_stat(struct kmb__slub_cache *s, enum kmb__slub_stat si)
{
	if (kmb_likely(kmb_thread_attached())) {
		uint64_t *c = &s->cpu[kmb_thread_cpu()].stat[si];

		KMB_STORE(c, KMB_LOAD(c) + 1);
	} else {
		KMB_COUNT(&s->cpu[s->ncpu - 1].stat[si]);
	}
}
void kmb__slub_stat_add(struct kmb__slub_cache *s, enum kmb__slub_stat si, uint64_t n);

/* ---- slub_slab.c: geometry, slabs ---------------------------------------------------- */

struct kmb__slub_geometry {
	unsigned size, align, offset, order, objects, min_order;
	unsigned long min_partial;
	unsigned cpu_partial, cpu_partial_slabs, sheaf_capacity;
};
/* calculate_order(size) for nr_cpus CPUs with slub_min_objects / slub_max_order (0: Linux's
 * 4 * (fls(nr_cpus) + 1)). */
unsigned kmb__slub_calculate_order(unsigned size, unsigned nr_cpus, unsigned min_objects,
                                   unsigned max_order);
unsigned long kmb__slub_min_partial_for(unsigned size);
unsigned kmb__slub_cpu_partial_for(unsigned size);
unsigned kmb__slub_sheaf_capacity_for(unsigned size);
/* The whole geometry of a cache of object_size, align (>= 1), with hwcache and rcu (the
 * SLAB_HWCACHE_ALIGN and SLAB_TYPESAFE_BY_RCU rules), and the traced kernel's geometry
 * (slot, order, objs: 0 = unknown).  -EINVAL when it cannot be served. */
int kmb__slub_geometry(const struct kmb_slub *sb, unsigned object_size, unsigned align,
                       bool hwcache, bool rcu, unsigned slot, unsigned order, unsigned objs,
                       struct kmb__slub_geometry *g);
struct kmb_page *kmb__slub_new_slab(struct kmb__slub_cache *s, int flags); /* allocate_slab */
void kmb__slub_discard_slab(struct kmb__slub_cache *s, struct kmb_page *head);
void kmb__slub_check_freelist(struct kmb__slub_cache *s, struct kmb_page *head, void *list,
                              unsigned n, const char *who); /* INVARIANTS */
void *kmb__slub_pages_alloc(struct kmb_slub *sb, unsigned order, int flags);
void kmb__slub_pages_free(struct kmb_slub *sb, void *addr, unsigned order, bool meta);

/* ---- slub_node.c: node partial lists and the slab-level free ------------------------- */

void kmb__slub_add_partial(struct kmb__slub_node *n, struct kmb_page *head, bool tail);
void kmb__slub_remove_partial(struct kmb__slub_node *n, struct kmb_page *head);
struct kmb_page *kmb__slub_get_partial(struct kmb__slub_cache *s, struct kmb__slub_cpu *c);
/* __slab_free of the chain head..tail of cnt objects of one slab */
void kmb__slub_slab_free(struct kmb__slub_cache *s, struct kmb_page *head, void *first, void *last,
                         unsigned cnt);
/* Up to n objects from the node partial slabs or new slabs (the sheaves' refill). */
unsigned kmb__slub_alloc_bulk(struct kmb__slub_cache *s, void **p, unsigned n, int flags);
void kmb__slub_free_bulk(struct kmb__slub_cache *s, void **p, unsigned n);
void kmb__slub_put_partials(struct kmb__slub_cache *s, struct kmb_page *list);
void kmb__slub_shrink(struct kmb__slub_cache *s); /* __kmem_cache_do_shrink */
struct kmb__slub_node *kmb__slub_node_of(struct kmb__slub_cache *s, const struct kmb_page *head);

/* ---- slub_cpu.c: the slub design's per-CPU slab and partial slabs -------------------- */

void *kmb__slub_alloc_slow(struct kmb__slub_cache *s, struct kmb__slub_cpu *c, int flags);
void kmb__slub_free_slow(struct kmb__slub_cache *s, struct kmb_page *head, void *obj);
void *kmb__slub_shared_alloc(struct kmb__slub_cache *s, int flags);
void kmb__slub_shared_free(struct kmb__slub_cache *s, struct kmb_page *head, void *obj);
void kmb__slub_flush_cpu(struct kmb__slub_cache *s, struct kmb__slub_cpu *c);
void kmb__slub_restore_poison(struct kmb__slub_cache *s, void *obj);

/* ---- slub_sheaf.c: sheaves and barns (slub-sheaves) ---------------------------------- */

void kmb__slub_sheaves_init(struct kmb__slub_cache *s);
void *kmb__slub_pcs_alloc_slow(struct kmb__slub_cache *s, struct kmb__slub_cpu *c, int flags);
void kmb__slub_pcs_free_slow(struct kmb__slub_cache *s, struct kmb__slub_cpu *c,
                             struct kmb_page *head, void *obj);
void *kmb__slub_pcs_shared_alloc(struct kmb__slub_cache *s, int flags);
void kmb__slub_pcs_shared_free(struct kmb__slub_cache *s, struct kmb_page *head, void *obj);
void kmb__slub_pcs_flush_cpu(struct kmb__slub_cache *s, struct kmb__slub_cpu *c);
void kmb__slub_barn_shrink(struct kmb__slub_cache *s);
void kmb__slub_sheaves_fini(struct kmb__slub_cache *s);
void kmb__slub_pools_fini(struct kmb_slub *sb);

/* ---- slub_kmalloc.c ------------------------------------------------------------------ */

extern const struct kmb_backend_ops kmb_slub_ops, kmb_slub_sheaves_ops;
extern const unsigned kmb__slub_kmalloc_sizes[KMB__SLUB_NCLASSES];
unsigned kmb__slub_kmalloc_index(size_t size); /* kmalloc_index: 1 <= size <= 8192 */
struct kmb__slub_cache *kmb__slub_cache_create(struct kmb_slub *sb, const char *name, unsigned size,
                                               unsigned align, const struct kmb_cache_desc *hint);
void kmb__slub_cache_destroy(struct kmb__slub_cache *s);
void kmb__slub_flush_gen_check(struct kmb_slub *sb, unsigned cpu); /* the owner's slow path */

/* ---- slub_stats.c -------------------------------------------------------------------- */

size_t kmb__slub_stats(struct kmb_backend *be, struct kmb_stat *out, size_t max);
int kmb__slub_frame_kind(struct kmb_backend *be, size_t pfn);
void kmb__slub_cache_stat(struct kmb__slub_cache *s, uint64_t out[KMB__SLUB_NSTAT]);
int kmb__slub_cache_info(struct kmb_backend *be, struct kmb_cache_desc *cd,
                         struct kmb_cache_info *out);

/* ---- the fast paths (BTS 4.): no lock, no locked instruction for an attached thread --- */

static inline struct kmb_page *kmb__slub_head_of(const struct kmb_physmem *pm, const void *obj)
{
	return (struct kmb_page *)kmb_page_of(pm, obj)->priv[4];
}

/*
 * __update_cpu_freelist_fast: Linux's slub fast paths change c->freelist and c->tid with
 * this_cpu_cmpxchg_double, which on x86-64 is a cmpxchg16b on the CPU's own data without
 * the lock prefix (atomic against interrupts and preemption, not other CPUs).  A thread
 * attached here owns its CPU's entry, so by default (slub_slab.c 4.) the fast paths are
 * plain loads and stores and leave c->tid alone; slub(cpu_cmpxchg=1) puts the instruction
 * back, so that the slub fast path costs what Linux's does - the cost sheaves exist to
 * drop.  Only the owner touches c, so elsewhere (and under ThreadSanitizer, which does not
 * see into asm) a compare and two plain stores are the same operation.  tid advances by
 * KMB_MAX_CPUS (TID_STEP), from the CPU index, so that tids never repeat across CPUs.
 */
#define KMB__SLUB_TID_STEP KMB_MAX_CPUS
_Static_assert(offsetof(struct kmb__slub_cpu, freelist) % 16 == 0 &&
                       offsetof(struct kmb__slub_cpu, tid) ==
                               offsetof(struct kmb__slub_cpu, freelist) + 8,
               "cmpxchg16b takes freelist and tid as one aligned 16-byte pair");
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KMB__SLUB_TSAN 1
#endif
#endif
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__) && !defined(KMB__SLUB_TSAN)
#define KMB__SLUB_CMPXCHG16B 1
#endif
static inline bool kmb__slub_cpu_cmpxchg(struct kmb__slub_cpu *c, void *ofl, uint64_t otid,
                                         void *nfl, uint64_t ntid)
{
#ifdef KMB__SLUB_CMPXCHG16B
	bool ok;

	__asm__ volatile("cmpxchg16b %[mem]" /* reads and writes freelist and tid, adjacent */
	                 : "=@ccz"(ok), [mem] "+m"(c->freelist), "+m"(c->tid), "+a"(ofl), "+d"(otid)
	                 : "b"(nfl), "c"(ntid)
	                 : "memory");
	return ok;
#else
	if (c->freelist != ofl || c->tid != otid)
		return false;
	c->freelist = nfl;
	c->tid = ntid;
	return true;
#endif
}

#define KMB__SLUB_INLINE static inline __attribute__((always_inline))

/* slub's fast paths with cpu_cmpxchg (and the poison of INVARIANTS): out of the default
 * path's way, which tests one per-cache flag for both. */
KMB__SLUB_INLINE void *kmb__slub_alloc_extra(struct kmb__slub_cache *s, struct kmb__slub_cpu *c,
                                             int flags)
{
	void *obj;

	for (;;) {
		uint64_t tid = c->tid;

		obj = c->freelist;
		if (kmb_unlikely(obj == NULL))
			return kmb__slub_alloc_slow(s, c, flags);
		if (!s->cpu_cmpxchg) {
			c->freelist = kmb__slub_get_fp(s, obj);
			break;
		}
		if (kmb_likely(kmb__slub_cpu_cmpxchg(c, obj, tid, kmb__slub_get_fp(s, obj),
		                                     tid + KMB__SLUB_TID_STEP)))
			break;
	}
	KMB_STORE(&c->stat[KMB__ALLOC_FASTPATH], c->stat[KMB__ALLOC_FASTPATH] + 1);
	if (kmb_unlikely(s->poison))
		kmb__slub_restore_poison(s, obj);
	return obj;
}

KMB__SLUB_INLINE void kmb__slub_free_cmpxchg(struct kmb__slub_cache *s, struct kmb__slub_cpu *c,
                                             void *obj)
{
	void *fl;
	uint64_t tid;

	do {
		tid = c->tid;
		fl = c->freelist;
		kmb__slub_set_fp(s, obj, fl);
	} while (kmb_unlikely(!kmb__slub_cpu_cmpxchg(c, fl, tid, obj, tid + KMB__SLUB_TID_STEP)));
}

/*
 * Each design's fast path, specialised by the constant `sheaves` (the ops of each backend
 * call it with their design, so neither pays for the other's test).  Each is what Linux's
 * is, less its per-CPU protection (above): slub-sheaves' alloc_from_pcs / free_to_pcs
 * (pcs->main, its size, objects[--size] / objects[size++], the node test of slab_free);
 * slub's slab_alloc_node / do_slab_free (c->freelist, get_freepointer / set_freepointer,
 * the object's slab against c->slab), with one per-cache test standing for the
 * cmpxchg16b (alloc_extra, cpu_cmpxchg) that the default leaves out.
 */
KMB__SLUB_INLINE void *kmb__slub_alloc_design(struct kmb__slub_cache *s, int flags,
                                              const bool sheaves)
{
	struct kmb__slub_cpu *c = KMB_THIS_CPU(s->cpu);
	void *obj;

	if (kmb_unlikely(c == NULL))
		return sheaves ? kmb__slub_pcs_shared_alloc(s, flags)
		               : kmb__slub_shared_alloc(s, flags);
	if (sheaves) {
		struct kmb__slub_sheaf *m = c->main;
		unsigned n = m->size;

		if (kmb_unlikely(n == 0))
			return kmb__slub_pcs_alloc_slow(s, c, flags);
		m->size = n - 1;
		obj = m->objects[n - 1];
		KMB_STORE(&c->stat[KMB__ALLOC_PCS], c->stat[KMB__ALLOC_PCS] + 1);
		if (obj == NULL) /* a sheaf holds objects only: kmalloc need not test */
			__builtin_unreachable();
		return obj;
	}
	if (kmb_unlikely(s->alloc_extra))
		return kmb__slub_alloc_extra(s, c, flags);
	obj = c->freelist;
	if (kmb_unlikely(obj == NULL))
		return kmb__slub_alloc_slow(s, c, flags);
	c->freelist = kmb__slub_get_fp(s, obj);
	KMB_STORE(&c->stat[KMB__ALLOC_FASTPATH], c->stat[KMB__ALLOC_FASTPATH] + 1);
	return obj;
}

KMB__SLUB_INLINE void kmb__slub_free_design(struct kmb__slub_cache *s, struct kmb_page *head,
                                            void *obj, const bool sheaves)
{
	struct kmb__slub_cpu *c = KMB_THIS_CPU(s->cpu);

	if (kmb_unlikely(c == NULL)) {
		if (sheaves)
			kmb__slub_pcs_shared_free(s, head, obj);
		else
			kmb__slub_shared_free(s, head, obj);
		return;
	}
	if (sheaves) {
		struct kmb__slub_sheaf *m = c->main;
		unsigned n = m->size;

		/* 7.0 slab_free: an object of another node's slab bypasses the sheaves */
		if (kmb_likely(n < m->capacity && head->node == c->node)) {
			m->objects[n] = obj;
			m->size = n + 1;
			KMB_STORE(&c->stat[KMB__FREE_PCS], c->stat[KMB__FREE_PCS] + 1);
			return;
		}
		kmb__slub_pcs_free_slow(s, c, head, obj);
		return;
	}
	if (kmb_likely(head == c->slab)) { /* do_slab_free's fast path */
		if (kmb_likely(!s->cpu_cmpxchg)) {
			kmb__slub_set_fp(s, obj, c->freelist);
			c->freelist = obj;
		} else {
			kmb__slub_free_cmpxchg(s, c, obj);
		}
		KMB_STORE(&c->stat[KMB__FREE_FASTPATH], c->stat[KMB__FREE_FASTPATH] + 1);
		return;
	}
	kmb__slub_free_slow(s, head, obj);
}

static inline void *kmb__slub_alloc(struct kmb__slub_cache *s, int flags)
{
	return s->sheaves ? kmb__slub_alloc_design(s, flags, true)
	                  : kmb__slub_alloc_design(s, flags, false);
}

static inline void kmb__slub_free(struct kmb__slub_cache *s, struct kmb_page *head, void *obj)
{
	if (s->sheaves)
		kmb__slub_free_design(s, head, obj, true);
	else
		kmb__slub_free_design(s, head, obj, false);
}

#endif /* KMB_BACKENDS_SLUB_H */
