/*
 * kmbench/backend.h - the contract between the core and a backend.
 *
 * 1. Layers.  The core (core/) owns the kmalloc interface: it checks arguments and flags,
 *    keeps per-type statistics, implements M_WAITOK sleeping, M_NOFAIL retries, M_FAILOK,
 *    the INVARIANTS checks (redzone, poison, free checks) and the generic kmem_cache
 *    fallback.  A backend only allocates and frees blocks: it never sleeps, never panics
 *    on a short memory, and never sees a malloc type.
 *
 * 2. Memory.  A backend hands out memory only from the simulated physical memory
 *    (struct kmb_physmem): page frames of KMB_PAGE_SIZE, each described by a 64-byte
 *    struct kmb_page (the equivalent of Linux's struct page, in a separate memmap that is
 *    the same for every backend and not counted in any backend's footprint).  Pages are
 *    taken from a page source (struct kmb_pagesrc) - by default the core's buddy page
 *    allocator (kmbench/page_alloc.h, core/page_alloc.c) - which accounts each page as
 *    data or metadata (KMB_GFP_META), so footprint and overhead are exact.
 *
 * 3. The ops (struct kmb_backend_ops).  A backend spec names a backend and, for one that
 *    needs pages, its page source: "slab" (default_pages), "slab@vmem", "plugin:x.so@buddy".
 *    Every spec is listed by kmb_spec_at() and accepted by kmb_boot().  Required: init, fini,
 *    alloc, free, usable_size, max_size, memstat.  Optional: stats (declared counters),
 *    extfrag, drain (give cached memory back before the core puts a thread to sleep),
 *    thread_attach/detach (per-CPU state), native object caches (cache_*; without them the
 *    core serves kmem_cache_* from alloc), and frame_kind (how a held page frame is used,
 *    for the picture of memory: kmb_frame_map), and free_sized.
 *
 *    alloc(be, size, flags, &usable)
 *                            size >= 1; flags carry M_NOWAIT|M_WAITOK (advisory),
 *                            M_USE_RESERVE (may go below the min watermark).  Returns a
 *                            block of at least size bytes aligned to min(2^ceil(log2 size),
 *                            KMB_MIN_ALIGN) - page aligned for page multiples - and sets
 *                            *usable to its usable_size, or returns NULL when memory is
 *                            short.  Never sleeps.  M_ZERO is done by the core.
 *                            A backend that also aligns power-of-two blocks up to a page
 *                            to their size (Linux kmalloc since 5.4) says so with
 *                            natural_pow2; the generic kmem_cache relies on it for
 *                            alignments above KMB_MIN_ALIGN.
 *    free(be, addr)          addr came from alloc and is live; returns its usable_size.
 *                            (alloc and free report the size they know anyway - a slab
 *                            allocator has the cache in hand - so that the core's
 *                            statistics need no second lookup of the block.)
 *    free_sized(be, addr, size)   optional: free with the size alloc was asked for (the
 *                            core passes exactly that: kmem_free's size, plus the INVARIANTS
 *                            redzone), as vmem_free(vm, addr, size) and kmem(9)'s
 *                            kmem_free(p, size) are told it; returns the usable size.  A
 *                            backend may take the block's size class from the size instead
 *                            of looking the block up; one without it gets free(be, addr).
 *                            Each backend's theory statement says whether it uses it.
 *    usable_size(be, addr)   >= the requested size; constant while the block lives.
 *    max_size(be)            the largest size alloc could ever return (with all memory
 *                            free); larger M_WAITOK requests are "impossible".
 *
 * 4. INVARIANTS.  With INVARIANTS on, every free block's bytes hold KMB_POISON_BYTE except
 *    the first freelist_bytes of each free block, where the backend may keep links.  A
 *    backend that writes inside free memory anywhere else (a split, a coalesce) restores
 *    the poison with kmb_poison(), and fresh pages from physical memory arrive poisoned.
 *
 * 5. Tunables (ABI 5).  A backend declares its tunables in one table (ops->tunables,
 *    ops->ntunables <= KMB_MAX_TUNABLES), as an illumos kstat template declares counters:
 *    the key, a one-line description with its unit, the default and the bounds.  A spec
 *    sets them by key - "slub(min_partial=5,cpu_partial=30)" - and the core checks every
 *    value against its bounds before init; init reads them as be->tun[i], in table order,
 *    each one set (the default where the spec says nothing).  A design whose cost or
 *    footprint depends on a constant its reference made tunable (magazine size, min_partial,
 *    sheaf capacity) declares it here, so a design decision can sweep it.  A page source
 *    declares its own table the same way (struct kmb_pagesrc_ops): the part after '@' sets
 *    it, "slab@buddy(pcp_high=64,pcp_batch=8)", and its create() receives the values, in
 *    table order, as an array (a page source has no struct to carry them before it
 *    exists).  A backend that is itself a page allocator over the default page source
 *    (buddy) declares that source's table as its own, so "buddy(pcp_batch=8)" means the
 *    same lists.  The core's grammar and checks: core/spec.c.
 *
 * 6. Cache geometry (ABI 6, optional).  A design that keeps native caches in slabs says
 *    what Linux's slabinfo and slabtop show of one (cache_info): the object slots of its
 *    slabs and how many are allocated from them (objects held in per-CPU layers -
 *    magazines, sheaves, per-CPU slabs - count as allocated, as in slabinfo's active_objs),
 *    the slabs and how many hold an allocated object, the slots and pages of one slab.
 *    The core calls it only while no other thread allocates or frees (the replay's end);
 *    0, or -errno.
 */
#ifndef KMBENCH_BACKEND_H
#define KMBENCH_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmbench.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KMB_MIN_ALIGN 16 /* the alignment malloc(3) gives on LP64: 2 * sizeof(void *) */

/* Page-source flag (above the M_* flags): the pages hold allocator metadata. */
#define KMB_GFP_META 0x10000

#define KMB_POISON_BYTE 0xdeu /* 4.4BSD used 0xdeadc0de (WEIRD_ADDR) */

#define kmb_likely(x)   __builtin_expect(!!(x), 1)
#define kmb_unlikely(x) __builtin_expect(!!(x), 0)

/*
 * Fields written under a lock but read without it (statistics, lockless checks): one
 * writer at a time, relaxed atomic loads and stores (Linux's READ_ONCE/WRITE_ONCE; plain
 * moves on x86).  KMB_COUNT is for counters with no lock.
 */
#define KMB_LOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define KMB_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define KMB_ADD(p, n)   KMB_STORE((p), KMB_LOAD(p) + (n))
#define KMB_SUB(p, n)   KMB_STORE((p), KMB_LOAD(p) - (n))
#define KMB_COUNT(p)    ((void)__atomic_add_fetch((p), 1, __ATOMIC_RELAXED))

/* ---- simulated physical memory --------------------------------------------------- */

enum kmb_page_usage {
	KMB_USE_FREE = 0, /* in the page allocator */
	KMB_USE_DATA,     /* held by a backend for objects */
	KMB_USE_META,     /* held by a backend for its metadata */
};

/* 64 bytes, like Linux's struct page on LP64. */
struct kmb_page {
	struct kmb_page *next, *prev; /* list links (free lists, backend lists) */
	uint32_t flags;               /* owner-defined bits */
	uint16_t node;                /* NUMA node of the frame */
	uint8_t order;                /* order of the block this frame heads */
	uint8_t usage;                /* enum kmb_page_usage, of the block head */
	uintptr_t priv[5];            /* owner-private (struct page's union) */
};

struct kmb_physmem {
	char *base; /* first byte of frame 0 */
	size_t npages;
	struct kmb_page *map; /* npages descriptors */
	unsigned nnodes;
	size_t node_start[KMB_MAX_NODES + 1]; /* first pfn of each node; [nnodes] = npages */
	bool poison;                          /* INVARIANTS: free memory holds KMB_POISON_BYTE */
	/* accounting (core/physmem.c 3.): folded totals, exact while no attached thread of a
	 * multi-CPU system holds a per-CPU difference; held = data + meta, peak = its maximum */
	int64_t data_pages, meta_pages, held_pages, peak_pages;
	int64_t drift;       /* per-CPU threshold in pages; 0: every call folds (one CPU) */
	unsigned drift_cpus; /* CPUs that may hold a difference */
	struct kmb_physmem_pcpu {
		int64_t data, meta; /* not yet folded; written by the CPU's attached thread */
	} __attribute__((aligned(64))) pcpu[KMB_MAX_CPUS];
};

static inline size_t kmb_pfn(const struct kmb_physmem *pm, const void *addr)
{
	return (size_t)((const char *)addr - pm->base) >> KMB_PAGE_SHIFT;
}
static inline struct kmb_page *kmb_page_of(const struct kmb_physmem *pm, const void *addr)
{
	return &pm->map[kmb_pfn(pm, addr)];
}
static inline void *kmb_page_addr(const struct kmb_physmem *pm, const struct kmb_page *pg)
{
	return pm->base + ((size_t)(pg - pm->map) << KMB_PAGE_SHIFT);
}
static inline bool kmb_physmem_contains(const struct kmb_physmem *pm, const void *addr)
{
	return (const char *)addr >= pm->base &&
	       (const char *)addr < pm->base + (pm->npages << KMB_PAGE_SHIFT);
}

/* Circular lists of struct kmb_page through next/prev, with a sentinel (list_head). */
static inline void kmb_list_init(struct kmb_page *head)
{
	head->next = head->prev = head;
}
static inline bool kmb_list_empty(const struct kmb_page *head)
{
	return head->next == head;
}
static inline void kmb_list_insert(struct kmb_page *pg, struct kmb_page *prev,
                                   struct kmb_page *next)
{
	pg->prev = prev;
	pg->next = next;
	prev->next = pg;
	next->prev = pg;
}
static inline void kmb_list_add(struct kmb_page *head, struct kmb_page *pg)
{
	kmb_list_insert(pg, head, head->next);
}
static inline void kmb_list_add_tail(struct kmb_page *head, struct kmb_page *pg)
{
	kmb_list_insert(pg, head->prev, head);
}
static inline void kmb_list_del(struct kmb_page *pg)
{
	pg->prev->next = pg->next;
	pg->next->prev = pg->prev;
	pg->next = pg->prev = NULL;
}

/* Every frame free and blank (node kept): what a page source does before taking them. */
void kmb_physmem_reset_map(struct kmb_physmem *pm);

/* Add (npages > 0) or remove (npages < 0) pages held as data or metadata. */
void kmb_physmem_account(struct kmb_physmem *pm, long npages, enum kmb_page_usage usage);
/* Per-CPU differences for ncpus CPUs (> 1), folded past a threshold (physmem.c 3.). */
void kmb_physmem_set_cpus(struct kmb_physmem *pm, unsigned ncpus);
/* Fold CPU cpu's difference (its attached thread, or while no thread owns the CPU). */
void kmb_physmem_fold(struct kmb_physmem *pm, unsigned cpu);
/* Largest error of the folded totals and peak, in pages (0: exact). */
size_t kmb_physmem_error_pages(const struct kmb_physmem *pm);
/* Restart the peak at what is held now (after a replay's warm-up passes). */
void kmb_physmem_reset_peak(struct kmb_physmem *pm);

/* INVARIANTS helpers: fill with poison / report the first non-poison byte (or NULL). */
void kmb_poison(struct kmb_physmem *pm, void *addr, size_t len);
const unsigned char *kmb_poison_check(const void *addr, size_t len);

/* ---- page sources ----------------------------------------------------------------- */

/*
 * A page source hands out naturally aligned blocks of 2^order pages (buddy, or a vmem
 * arena over physical memory).  It accounts every page it hands out with
 * kmb_physmem_account() as data or, with KMB_GFP_META, metadata.  Backends that need
 * pages (bucket, slab, vmem's kmalloc arena) take them from be->pages; which source
 * serves them is chosen by the backend spec ("slab@vmem").
 */
struct kmb_pagesrc {
	const char *name;
	/* 2^order contiguous pages aligned to their size, or NULL.  flags: M_USE_RESERVE,
	 * KMB_GFP_META; never sleeps. */
	void *(*alloc_pages)(struct kmb_pagesrc *ps, unsigned order, int flags);
	void (*free_pages)(struct kmb_pagesrc *ps, void *addr, unsigned order);
	unsigned max_order; /* largest order alloc_pages can ever give */
	/* observation: free_pages and largest_free of ms */
	void (*memstat)(struct kmb_pagesrc *ps, struct kmb_memstat *ms);
	/* optional: give per-CPU cached pages back; Linux extfrag figures */
	void (*drain)(struct kmb_pagesrc *ps);
	int (*extfrag)(struct kmb_pagesrc *ps, unsigned order, int *unusable, int *fragindex);
	size_t (*stats)(struct kmb_pagesrc *ps, struct kmb_stat *out, size_t max);
	void (*destroy)(struct kmb_pagesrc *ps);
	void *priv;
};

/* A tunable of a backend or page source (5. above). */
struct kmb_tunable {
	const char *name; /* the key in a spec: slub(min_partial=5) */
	const char *desc; /* one line, with the unit */
	long def, min, max;
};
#define KMB_MAX_TUNABLES 16

/* A kind of page source, as the registry knows it.  create() receives the values of its
 * tunables in table order (5. above: defaults where the spec sets none). */
struct kmb_pagesrc_ops {
	const char *name;
	const char *summary;
	int (*create)(struct kmb_physmem *pm, unsigned ncpus, const long *tun,
	              struct kmb_pagesrc **out);
	const struct kmb_tunable *tunables;
	size_t ntunables;
};

/* ---- backends --------------------------------------------------------------------- */

struct kmb_backend;
struct kmem_cache;

/* The core's part of an object cache; backends keep their state in priv. */
struct kmb_cache_desc {
	const char *name;
	size_t size;  /* object size as the backend must serve it (redzone included) */
	size_t align; /* power of two >= 1 */
	int flags;
	void *priv; /* backend's cache */
	/* The traced kernel's geometry of the cache of this name, when the replay knows it
	 * (0: unknown): its slot size (s->size, a kmem_cache event's bytes_alloc), slab order
	 * and objects per slab (/sys/kernel/slab/NAME/{order,objs_per_slab}).  A design that
	 * models that kernel serves these; the others may ignore them. */
	size_t slot_size;
	unsigned order, objs_per_slab;
};

/*
 * What a page frame is used for, as kmb_frame_map() reports it (one byte per frame).  The
 * generic kinds come from struct kmb_page (the usage and order of block heads, spread over
 * the block); a backend's frame_kind op refines the frames it holds.
 */
enum kmb_frame_kind {
	KMB_FRAME_UNKNOWN = 0, /* frame_kind: nothing to add to the generic kind */
	KMB_FRAME_FREE,        /* free; the page source keeps no buddy orders */
	KMB_FRAME_FREE_ORDER0, /* free, in a free buddy block of order k: ORDER0 + k */
	KMB_FRAME_FREE_ORDER_MAX = KMB_FRAME_FREE_ORDER0 + 10, /* order 10 and above */
	KMB_FRAME_DATA,         /* held for objects; the backend says no more */
	KMB_FRAME_META,         /* the allocator's metadata */
	KMB_FRAME_SLAB_FULL,    /* a slab whose objects are all allocated */
	KMB_FRAME_SLAB_PARTIAL, /* a slab with allocated and free objects */
	KMB_FRAME_SLAB_EMPTY,   /* a slab with no allocated object (cached) */
	KMB_FRAME_BUCKET,       /* a 4.4BSD bucket page with allocated blocks */
	KMB_FRAME_BUCKET_EMPTY, /* a bucket page whose blocks are all free */
	KMB_FRAME_VMEM_SPAN,    /* a span a vmem arena imported (segments, any size) */
	KMB_FRAME_HEAP,         /* a page split into a sub-page buddy heap */
	KMB_FRAME_LARGE,        /* whole pages of one large allocation */
	KMB_FRAME_SLAB_CPU,     /* a CPU's own slab (SLUB's frozen c->slab), any fill */
	KMB_FRAME_SHEAF,        /* pages holding sheaves (SLUB 7.0), a CPU's or in a barn */
	KMB_FRAME_NKINDS
};

struct kmb_backend_ops {
	const char *name;
	const char *summary;
	size_t freelist_bytes; /* see 4. above */
	bool natural_pow2;     /* power-of-two blocks up to a page are aligned to their size */
	/* The page source used when the spec names none ("buddy"); NULL: the backend is a
	 * page allocator itself and takes no page source (be->pages stays NULL). */
	const char *default_pages;

	int (*init)(struct kmb_backend *be);
	void (*fini)(struct kmb_backend *be);
	void *(*alloc)(struct kmb_backend *be, size_t size, int flags, size_t *usable);
	size_t (*free)(struct kmb_backend *be, void *addr);
	size_t (*usable_size)(struct kmb_backend *be, const void *addr);
	size_t (*max_size)(struct kmb_backend *be);
	/* free_pages, largest_free (the others are filled in by the core) */
	void (*memstat)(struct kmb_backend *be, struct kmb_memstat *ms);

	size_t (*stats)(struct kmb_backend *be, struct kmb_stat *out, size_t max);
	/* Linux mm/vmstat.c figures of the page allocator under the backend for one order,
	 * in thousandths: unusable free space index and fragmentation index. */
	int (*extfrag)(struct kmb_backend *be, unsigned order, int *unusable, int *fragindex);
	void (*drain)(struct kmb_backend *be);
	void (*thread_attach)(struct kmb_backend *be, unsigned cpu);
	void (*thread_detach)(struct kmb_backend *be, unsigned cpu);

	int (*cache_create)(struct kmb_backend *be, struct kmb_cache_desc *cd);
	void (*cache_destroy)(struct kmb_backend *be, struct kmb_cache_desc *cd);
	void *(*cache_alloc)(struct kmb_backend *be, struct kmb_cache_desc *cd, int flags);
	void (*cache_free)(struct kmb_backend *be, struct kmb_cache_desc *cd, void *obj);

	/* Optional, for kmb_frame_map's picture of physical memory: what the frame pfn, in a
	 * block the backend holds for objects (usage data), is used for - an enum
	 * kmb_frame_kind, or KMB_FRAME_UNKNOWN for nothing more than its block head's kind;
	 * in a metadata block (usage meta), KMB_FRAME_SHEAF or anything else for the generic
	 * KMB_FRAME_META.  Called only while no other thread allocates or frees (it may read
	 * page descriptors without locks). */
	int (*frame_kind)(struct kmb_backend *be, size_t pfn);

	/* Optional (3. above; ABI 4): free with the size alloc was asked for. */
	size_t (*free_sized)(struct kmb_backend *be, void *addr, size_t size);

	/* Optional (5. above; ABI 5): the declared tunables. */
	const struct kmb_tunable *tunables;
	size_t ntunables;

	/* Optional (6. above; ABI 6): slabinfo's figures of a native cache. */
	int (*cache_info)(struct kmb_backend *be, struct kmb_cache_desc *cd,
	                  struct kmb_cache_info *out);
};

struct kmb_backend {
	const struct kmb_backend_ops *ops;
	struct kmb_physmem *pm;
	struct kmb_pagesrc *pages; /* where the backend gets pages (NULL: it is one) */
	unsigned ncpus;
	void *priv;                 /* backend state */
	long tun[KMB_MAX_TUNABLES]; /* tunables, in ops->tunables order (5. above) */
};

/*
 * The calling thread, as the core sees it: struct kmb_thread, one per thread, written by
 * the core only (kmb_thread_attach/detach) and read by backends on their fast paths
 * through the inlines below (a thread-local load: no call).  kmb_thread_cpu() is the CPU
 * index of an attached thread and 0 for others (use it for NUMA placement), and
 * kmb_thread_node() an attached thread's NUMA node (kmb_cpu_node of its CPU; 0 for
 * others).  kmb_thread_attached() tells whether the thread owns that CPU index
 * exclusively: the core lets one attached thread per CPU, so a backend may keep lock-free
 * per-CPU state for attached threads and must send other threads through a shared, locked
 * path.  KMB_THIS_CPU(array) is the calling thread's slot of a per-CPU array (one entry
 * per CPU index), or NULL when it is not attached.
 */
struct kmb_thread {
	bool attached; /* owns cpu exclusively */
	unsigned cpu;  /* CPU index while attached, else 0 */
	unsigned node; /* kmb_cpu_node(cpu) while attached, else 0 */
};
#ifdef __cplusplus
extern __thread struct kmb_thread kmb_curthread;
#else
extern _Thread_local struct kmb_thread kmb_curthread;
#endif

static inline bool kmb_thread_attached(void)
{
	return kmb_curthread.attached;
}
static inline unsigned kmb_thread_cpu(void)
{
	return kmb_curthread.cpu;
}
static inline unsigned kmb_thread_node(void)
{
	return kmb_curthread.node;
}
#define KMB_THIS_CPU(array)                                                                        \
	(kmb_likely(kmb_curthread.attached) ? &(array)[kmb_curthread.cpu] : NULL)

/* The NUMA node of a CPU index (the replay's topology; without a booted system, the CPU
 * index itself: reduce it modulo your node count). */
unsigned kmb_cpu_node(unsigned cpu);

/* Fault injection: page sources call this first and fail when it says so (boot option
 * fault_mtbf: one failure in N calls on average; illumos vmem_mtbf). */
bool kmb_fault_inject(void);

/*
 * Declared statistics (illumos kstat templates): a backend lists its counters once, as a
 * table of name, unit, description and the offset of a uint64_t in its counters struct;
 * kmb_stats_fill() turns a snapshot of that struct into kmb_stat rows (how many written).
 */
struct kmb_stat_decl {
	const char *name, *unit, *desc;
	size_t off;
};
#define KMB_STAT_DECL(type, field, unit, desc)                                                     \
	{                                                                                          \
#field, unit, desc, offsetof(type, field)                                          \
	}
size_t kmb_stats_fill(const struct kmb_stat_decl *table, size_t n, const void *counters,
                      struct kmb_stat *out, size_t max);

/* A plugin (--backend plugin:PATH.so) exports these two symbols:
 *   const struct kmb_backend_ops kmb_backend_plugin = { ... };
 *   const unsigned kmb_backend_plugin_abi = KMB_BACKEND_ABI;
 * A plugin built against another version of this contract is refused, not called with
 * the wrong signatures.  ABI 2: alloc reports the usable size, free returns it.  ABI 3: the
 * calling thread's CPU is read inline from kmb_curthread (kmb_thread_cpu is no function).
 * ABI 4: free_sized appended at the end of the ops; an ABI 3 plugin still loads (its
 * shorter table is copied and free_sized left NULL: kmem_free falls back to its free).
 * ABI 5: tunables appended (an ABI 3 or 4 plugin loads with none).  ABI 6: cache_info
 * appended (an older plugin loads without it). */
#define KMB_PLUGIN_SYMBOL     "kmb_backend_plugin"
#define KMB_PLUGIN_ABI_SYMBOL "kmb_backend_plugin_abi"
#define KMB_BACKEND_ABI       6u
#define KMB_BACKEND_ABI_MIN   3u /* the oldest ABI kmb_boot still loads */

/* Backend-side panic for a broken invariant: "func(args): reason". */
__attribute__((noreturn, format(printf, 3, 4))) void
kmb_panic(enum kmb_panic_kind kind, const void *addr, const char *fmt, ...);

/*
 * Tiered assertions (mimalloc's mi_assert / mi_assert_internal / mi_assert_expensive), for
 * the invariants of a design (free-list counts, magazine rounds, buddy orders, segment
 * adjacency).  A failure panics (KMB_PANIC_CORRUPT) with the file, line and condition;
 * where the call and its arguments say more, panic with kmb_panic and say them.
 *   kmb_assert(c)            always on: a check of a few instructions on a path that has
 *                            the data in hand anyway.
 *   kmb_assert_internal(c)   debug builds (NDEBUG unset): cheap, but on a fast path.
 *   kmb_assert_expensive(c)  when INVARIANTS are on at run time (kmb_invariants_on):
 *                            walks (a free list's length, a span's segments).
 *   kmb_check(c, addr, fmt, ...)  always on, like kmb_assert, but the panic names the call
 *                            and its arguments as kmb_panic's do: "kmem_slab_alloc(
 *                            kmalloc-64): slab 0x... has 8 of 8 buffers allocated".  An
 *                            expensive check is a function that uses kmb_check, called
 *                            under `if (kmb_invariants_on)`.
 */
extern bool kmb_invariants_on; /* set at boot; read-only for backends */
#define kmb_assert(c)                                                                              \
	do {                                                                                       \
		if (kmb_unlikely(!(c)))                                                            \
			kmb_panic(KMB_PANIC_CORRUPT, NULL, "%s:%d: assertion '%s' failed",         \
			          __FILE__, __LINE__, #c);                                         \
	} while (0)
#ifndef NDEBUG
#define kmb_assert_internal(c) kmb_assert(c)
#else
#define kmb_assert_internal(c) ((void)0)
#endif
#define kmb_check(c, addr, ...)                                                                    \
	do {                                                                                       \
		if (kmb_unlikely(!(c)))                                                            \
			kmb_panic(KMB_PANIC_CORRUPT, addr, __VA_ARGS__);                           \
	} while (0)
#define kmb_assert_expensive(c)                                                                    \
	do {                                                                                       \
		if (kmb_unlikely(kmb_invariants_on))                                               \
			kmb_assert(c);                                                             \
	} while (0)

#ifdef __cplusplus
}
#endif
#endif /* KMBENCH_BACKEND_H */
