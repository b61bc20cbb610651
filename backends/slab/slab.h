/*
 * backends/slab/slab.h - the slab backend: Bonwick's object caches (slab.c), the magazine
 * and depot layer of Bonwick & Adams (slab_magazine.c), reaping (slab_reap.c), and
 * kmalloc over size-class caches with the ops table (slab_kmalloc.c).  slab.c opens with
 * the Big Theory Statement.
 *
 * The kmb__slab_* functions and structures are internal: shared between the four files
 * and the white-box tests (tests/test_slab.c).
 */
#ifndef KMB_BACKENDS_SLAB_H
#define KMB_BACKENDS_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmbench/backend.h>
#include <kmbench/lock.h>

/*
 * struct kmb_page flag bits (the owner of an allocated block may use any bit).  Every
 * frame of a slab carries KMB__SLAB_PG_SLAB and priv[0] = its cache (Linux's
 * page->slab_cache: kfree and usable_size have no size to find the cache by), priv[1] = its
 * slab header (Linux's folio->slab, for kmb_frame_map's picture of memory).  The head
 * frame of a kmalloc block of whole pages carries KMB__SLAB_PG_LARGE and priv[1] = its
 * order.
 */
#define KMB__SLAB_PG_SLAB  0x1000u
#define KMB__SLAB_PG_LARGE 0x2000u

/* Fields written under a lock (or by their only writer) and read without it. */
#define KMB__SLAB_LOAD(p)          __atomic_load_n((p), __ATOMIC_RELAXED)
#define KMB__SLAB_STORE(p, v)      __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define KMB__SLAB_INC(p)           KMB__SLAB_STORE((p), KMB__SLAB_LOAD(p) + 1)
#define KMB__SLAB_ADD(p, n)        KMB__SLAB_STORE((p), KMB__SLAB_LOAD(p) + (n))
#define KMB__SLAB_ATOMIC_ADD(p, n) ((void)__atomic_add_fetch((p), (n), __ATOMIC_RELAXED))

#define KMB__SLAB_ALIGN            8 /* KMEM_ALIGN: the smallest chunk alignment (one link) */
#define KMB__SLAB_VOID_FRACTION    8 /* KMEM_VOID_FRACTION: waste at most 1/8 (12.5%) */
#define KMB__SLAB_SMALL_MAX        (KMB_PAGE_SIZE / KMB__SLAB_VOID_FRACTION) /* 512 */
#define KMB__SLAB_NMAGTYPES        9
#define KMB__SLAB_HASH_INITIAL     (KMB_PAGE_SIZE / sizeof(void *)) /* 512 buckets = 1 page */
#define KMB__SLAB_UPDATE_TICKS     1024 /* depot gets per maintenance interval (BTS 5.) */
#define KMB__SLAB_DEPOT_CONTENTION 3    /* kmem_depot_contention: trylock failures/interval */
#define KMB__SLAB_NCLASSES         13
#define KMB__SLAB_KMALLOC_MAX      8192 /* kmalloc-8192: larger requests take whole pages */
#define KMB__SLAB_NAMELEN          48
#define KMB__SLAB_NOREAP           0x20000 /* flag: a slab that cannot be had does not reap */

/* ---- magazines (slab_magazine.c) ------------------------------------------------------- */

struct kmb__slab_magtype {
	int magsize;   /* rounds per magazine */
	size_t align;  /* of the magazine itself */
	size_t minbuf; /* caches of chunks above minbuf start with this type */
	size_t maxbuf; /* caches of chunks below maxbuf may grow past it */
};
extern const struct kmb__slab_magtype kmb__slab_magtypes[KMB__SLAB_NMAGTYPES];

struct kmb__slab_mag {
	struct kmb__slab_mag *next; /* depot list link */
	void *round[];              /* magsize rounds */
};

/* A list of magazines in the depot (kmem_maglist_t), under the depot lock. */
struct kmb__slab_maglist {
	struct kmb__slab_mag *list;
	long total;     /* magazines on the list */
	long min;       /* fewest on the list during this interval */
	long reaplimit; /* min of the last interval: the working set's complement */
	uint64_t gets, puts;
};

/*
 * A CPU's cache (kmem_cpu_cache_t): a loaded and a previously loaded magazine.  rounds is
 * the number of objects in loaded, -1 without a magazine.  Entries 0..ncpus-1 belong to
 * the thread attached to that CPU index and are touched only by it, without a lock; the
 * entry ncpus is shared by every other thread under its lock.
 */
struct kmb__slab_cc {
	_Alignas(64) struct kmb__slab_mag *loaded;
	int rounds, magsize;
	struct kmb__slab_mag *ploaded;
	int prounds;
	int mt;        /* magazine type of both magazines */
	bool has_mags; /* atomic (release/acquire): loaded or ploaded set; read by destroy */
	/* statistics: written by the owner (or under lock), read relaxed */
	uint64_t alloc_mag, free_mag, alloc_slab, free_slab, flushes;
	struct kmb_lock lock; /* the shared entry only */
};

/* ---- slabs and caches (slab.c) --------------------------------------------------------- */

/*
 * The slab header (kmem_slab_t).  Small-object slabs keep it in the last 48 bytes of their
 * page; large-object slabs take it from kmem_slab_cache.
 */
struct kmb__slab {
	struct kmb__slab *next, *prev; /* on its cache's complete, partial or empty list */
	struct kmb__slab_cache *cache;
	char *base;      /* first buffer: the slab's memory + colour */
	void *head;      /* free list: a buffer (small) or a bufctl (large) */
	uint32_t refcnt; /* buffers allocated from this slab */
	uint16_t chunks; /* buffers in this slab */
	uint16_t colour; /* offset of base from the slab's memory */
};

/* A large-object buffer's control record (kmem_bufctl_t), from kmem_bufctl_cache. */
struct kmb__slab_bufctl {
	struct kmb__slab_bufctl *next; /* slab free list, or hash chain while allocated */
	char *addr;
	struct kmb__slab *slab;
};

struct kmb__slab_list {
	struct kmb__slab head; /* sentinel */
	size_t n;
};

struct kmb_slab;

struct kmb__slab_cache {
	char name[KMB__SLAB_NAMELEN];
	struct kmb_slab *sl;
	struct kmb__slab_cache *next, *prev; /* the backend's list (under caches_lock) */
	/* geometry, constant after creation */
	size_t bufsize, align, chunksize, slabsize;
	unsigned slab_order;
	unsigned maxchunks;
	size_t mincolor, maxcolor;
	bool small; /* header in the page, bufctls in the buffers */
	bool meta;  /* pages taken with KMB_GFP_META (the backend's own caches) */
	bool nomag; /* no magazine layer (the backend's own caches) */
	bool dead;  /* destroyed, waiting for CPUs' magazines (under caches_lock) */
	/* slab layer, under lock */
	struct kmb_lock lock;
	size_t color; /* colour of the last slab created */
	struct kmb__slab_list complete, partial, empty;
	struct kmb__slab_bufctl **hash; /* allocated large buffers, by address */
	size_t hash_mask;
	unsigned hash_shift, hash_order;
	uint64_t slab_create, slab_destroy, slab_alloc, slab_free, alloc_fail;
	uint64_t buftotal, bufslab, bufmax, lookup_depth, hash_rescale;
	/* depot, under depot_lock */
	struct kmb_lock depot_lock;
	struct kmb__slab_maglist full, empty_mags;
	int magtype; /* current type; with magsize, read relaxed by CPUs' slow paths */
	int magsize;
	uint64_t contention, contention_prev, ticks, resizes, mag_created, mag_destroyed;
	int update_pending; /* atomic: a maintenance interval ended */
	/* CPU layer: [0, ncpus) per attached CPU, [ncpus] shared */
	unsigned ncc;
	struct kmb__slab_cc cpu[];
};

/* The backend (be->priv). */
struct kmb_slab {
	struct kmb_physmem *pm;
	struct kmb_pagesrc *ps;
	unsigned ncpus;
	int magsize; /* the magsize tunable: 0 Bonwick's rule (slab_magazine.c 1.) */
	struct kmb_lock caches_lock;     /* the cache lists, reaps, CPU flushes */
	struct kmb__slab_cache *caches;  /* live caches, newest first */
	struct kmb__slab_cache *zombies; /* destroyed, CPUs still hold magazines */
	struct kmb__slab_cache *slab_cache, *bufctl_cache;
	struct kmb__slab_cache *mag_cache[KMB__SLAB_NMAGTYPES];
	struct kmb__slab_cache *kmalloc[KMB__SLAB_NCLASSES];
	uint8_t size_index[KMB__SLAB_KMALLOC_MAX / 8]; /* (size - 1) >> 3 -> class */
	uint64_t flush_gen;                            /* atomic: bumped by drain/destroy */
	struct {
		_Alignas(64) uint64_t seen_gen; /* by the CPU's owner */
	} cpu[KMB_MAX_CPUS];
	/* gauges and counters, atomic */
	int64_t data_pages, meta_pages, large_pages;
	uint64_t large_alloc, large_free, reaps, alloc_fail;
};

/* ---- slab.c ------------------------------------------------------------------------------ */

struct kmb__slab_cache *kmb__slab_cache_create(struct kmb_slab *sl, const char *name, size_t size,
                                               size_t align, bool internal);
void kmb__slab_cache_destroy(struct kmb__slab_cache *cp);
void kmb__slab_cache_free_all(struct kmb__slab_cache *cp);    /* fini: every slab, no checks */
void *kmb__slab_alloc(struct kmb__slab_cache *cp, int flags); /* kmem_slab_alloc */
void kmb__slab_free(struct kmb__slab_cache *cp, void *buf);   /* kmem_slab_free */
size_t kmb__slab_reap_empty(struct kmb__slab_cache *cp);      /* returns slabs freed */
void kmb__slab_hash_update(struct kmb__slab_cache *cp);       /* kmem_hash_rescale */
void kmb__slab_free_cache_struct(struct kmb__slab_cache *cp);
int kmb__slab_geometry(struct kmb__slab_cache *cp, size_t size, size_t align, bool internal,
                       unsigned max_order);
size_t kmb__slab_next_colour(struct kmb__slab_cache *cp); /* lock held */
void *kmb__slab_pages_alloc(struct kmb_slab *sl, unsigned order, int flags);
void kmb__slab_pages_free(struct kmb_slab *sl, void *addr, unsigned order, bool meta);

/* ---- slab_magazine.c --------------------------------------------------------------------- */

int kmb__slab_magtype_for(const struct kmb_slab *sl, size_t chunksize);
void *kmb__slab_cc_alloc_slow(struct kmb__slab_cache *cp, struct kmb__slab_cc *cc, unsigned cpu,
                              int flags);
void kmb__slab_cc_free_slow(struct kmb__slab_cache *cp, struct kmb__slab_cc *cc, unsigned cpu,
                            void *buf);
void *kmb__slab_shared_alloc(struct kmb__slab_cache *cp, int flags);
void kmb__slab_shared_free(struct kmb__slab_cache *cp, void *buf);
void kmb__slab_cc_flush(struct kmb__slab_cache *cp, struct kmb__slab_cc *cc);
void kmb__slab_shared_flush(struct kmb__slab_cache *cp);
void kmb__slab_cpu_flush_all(struct kmb_slab *sl, unsigned cpu); /* by the CPU's owner */
void kmb__slab_depot_ws_update(struct kmb__slab_cache *cp);
void kmb__slab_depot_ws_zero(struct kmb__slab_cache *cp);
void kmb__slab_depot_ws_reap(struct kmb__slab_cache *cp);
void kmb__slab_magazine_resize(struct kmb__slab_cache *cp);
void kmb__slab_cache_update(struct kmb__slab_cache *cp); /* kmem_cache_update */

/* ---- slab_reap.c ------------------------------------------------------------------------- */

/* kmem_reap: every cache's depot outside its working set (all of it when drain), the
 * shared CPU caches (drain), and every empty slab. */
void kmb__slab_reap(struct kmb_slab *sl, bool drain);
void kmb__slab_drain(struct kmb_slab *sl);
void kmb__slab_thread_flush(struct kmb_slab *sl, unsigned cpu);
void kmb__slab_zombie_sweep(struct kmb_slab *sl); /* caches_lock held */
bool kmb__slab_cpus_hold_mags(const struct kmb__slab_cache *cp);
void kmb__slab_cache_retire(struct kmb_slab *sl, struct kmb__slab_cache *cp); /* destroy */
void kmb__slab_teardown(struct kmb_slab *sl);                                 /* fini */

/* ---- slab_kmalloc.c ---------------------------------------------------------------------- */

extern const struct kmb_backend_ops kmb_slab_ops;
extern const size_t kmb__slab_kmalloc_sizes[KMB__SLAB_NCLASSES];
struct kmb_slab *kmb__slab_of_backend(const struct kmb_backend *be);
int kmb__slab_size_class(const struct kmb_slab *sl, size_t size); /* -1: whole pages */

/* Per-cache statistics (kmem_cache_kstat), summed over its CPUs. */
struct kmb__slab_cstat {
	uint64_t alloc_mag, free_mag, alloc_slab, free_slab, flushes;
	uint64_t depot_full_get, depot_full_put, depot_empty_get, depot_empty_put;
	uint64_t contention, resizes, mag_created, mag_destroyed;
	long full_mags, empty_mags;
	int magsize;
	uint64_t slab_create, slab_destroy, slab_alloc, slab_free, alloc_fail;
	uint64_t buftotal, bufslab, lookup_depth, hash_rescale, hash_size;
	size_t complete_slabs, partial_slabs, empty_slabs;
};
void kmb__slab_cache_stats(struct kmb__slab_cache *cp, struct kmb__slab_cstat *out);

/* ---- the fast paths: no lock for a thread attached to a CPU (BTS 3.) ---------------------- */

static inline void *kmb__slab_cache_alloc(struct kmb__slab_cache *cp, int flags)
{
	if (kmb_likely(kmb_thread_attached())) {
		unsigned cpu = kmb_thread_cpu();
		struct kmb__slab_cc *cc = &cp->cpu[cpu];

		if (kmb_likely(cc->rounds > 0)) {
			KMB__SLAB_INC(&cc->alloc_mag);
			return cc->loaded->round[--cc->rounds];
		}
		return kmb__slab_cc_alloc_slow(cp, cc, cpu, flags);
	}
	return kmb__slab_shared_alloc(cp, flags);
}

static inline void kmb__slab_cache_free(struct kmb__slab_cache *cp, void *buf)
{
	if (kmb_likely(kmb_thread_attached())) {
		unsigned cpu = kmb_thread_cpu();
		struct kmb__slab_cc *cc = &cp->cpu[cpu];

		if (kmb_likely((unsigned)cc->rounds < (unsigned)cc->magsize)) {
			KMB__SLAB_INC(&cc->free_mag);
			cc->loaded->round[cc->rounds++] = buf;
			return;
		}
		kmb__slab_cc_free_slow(cp, cc, cpu, buf);
		return;
	}
	kmb__slab_shared_free(cp, buf);
}

#endif /* KMB_BACKENDS_SLAB_H */
