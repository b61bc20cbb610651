/*
 * backends/vmem/vmem_impl.h - vmem internals shared by vmem.c (arena core), vmem_fit.c
 * (policies and constraints), vmem_qcache.c (quantum caches) and the white-box tests
 * (illumos sys/vmem_impl.h).  vmem.c's Big Theory Statement explains every structure.
 */
#ifndef KMB_BACKENDS_VMEM_IMPL_H
#define KMB_BACKENDS_VMEM_IMPL_H

#include <sys/types.h>

#include <kmbench/lock.h>

#include "vmem.h"

/* ---- sizes (vmem.c 2. and 5. derive them) ------------------------------------------------ */

#define VMEM_FREELISTS    64 /* one per bit of a size: list n holds sizes [2^n, 2^(n+1)) */
#define VMEM_HASH_INITIAL 16 /* buckets of the hash table inside the arena (illumos) */
#define VMEM_NQCACHE_MAX  16 /* quantum caches at most (illumos) */
#define VMEM_NAMELEN      32 /* illumos: 30 */

/* Boundary tags one operation may consume (illumos vmem.c). */
#define VMEM_SEGS_PER_SPAN_CREATE  2 /* the span marker and its free segment */
#define VMEM_SEGS_PER_MIDDLE_ALLOC 2 /* the free remainders on both sides */
#define VMEM_SEGS_PER_ALLOC_MAX    (VMEM_SEGS_PER_SPAN_CREATE + VMEM_SEGS_PER_MIDDLE_ALLOC)
/* A populate that carves a page from the arena itself is one allocation (at most a
 * middle one); nothing else recurses, so this is the whole reserve (illumos needs 12). */
#define VMEM_POPULATE_RESERVE VMEM_SEGS_PER_MIDDLE_ALLOC
#define VMEM_MINFREE          (VMEM_SEGS_PER_ALLOC_MAX + VMEM_POPULATE_RESERVE) /* 6 */
/* Tags inside the arena structure: the first span (2) before there is anything to carve
 * tags from, plus VMEM_MINFREE so the next operation need not populate. */
#define VMEM_SEG_BOOT (VMEM_SEGS_PER_SPAN_CREATE + VMEM_MINFREE) /* 8 */

/* Segment types (vmem.h has the public ones). */
#define VMEM_ROTOR  0x20
#define VMEM_WALKER 0x40

/* ---- power-of-two arithmetic (illumos sys/sysmacros.h) ------------------------------------ */

#define P2ALIGN(x, a)       ((x) & -(a))
#define P2PHASE(x, a)       ((x) & ((a)-1))
#define P2NPHASE(x, a)      (-(x) & ((a)-1))
#define P2ROUNDUP(x, a)     (-(-(x) & -(a)))
#define P2PHASEUP(x, a, p)  ((p) - (((p) - (x)) & -(a)))
#define P2BOUNDARY(o, l, a) (((o) ^ ((o) + (l)-1)) > (a)-1)
#define P2SAMEHIGHBIT(x, y) (((x) ^ (y)) < ((x) & (y)))
#define VS_SIZE(vsp)        ((vsp)->vs_end - (vsp)->vs_start)
#define VMEM_IS_P2(x)       ((x) != 0 && ((x) & ((x)-1)) == 0)

/* highbit(x): 1 + the index of the highest set bit, 0 for 0; lowbit likewise. */
static inline int kmb__highbit(uint64_t x)
{
	return x == 0 ? 0 : 64 - __builtin_clzll(x);
}

static inline int kmb__lowbit(uint64_t x)
{
	return x == 0 ? 0 : __builtin_ctzll(x) + 1;
}

/* ---- structures --------------------------------------------------------------------------- */

typedef struct kmb__vmem_seg kmb__vmem_seg_t;

/* A boundary tag: 56 bytes, as illumos's vmem_seg_t without the KMF_AUDIT fields. */
struct kmb__vmem_seg {
	uintptr_t vs_start;        /* first integer; 0 marks a freelist head */
	uintptr_t vs_end;          /* one past the last */
	kmb__vmem_seg_t *vs_knext; /* next of kin: freelist, hash chain or span list */
	kmb__vmem_seg_t *vs_kprev; /* prev of kin (freelists and the span list) */
	kmb__vmem_seg_t *vs_anext; /* next in the arena (address order within a span) */
	kmb__vmem_seg_t *vs_aprev; /* prev in the arena */
	uint8_t vs_type;           /* KMB_VMEM_ALLOC, _FREE, _SPAN, VMEM_ROTOR, VMEM_WALKER */
	uint8_t vs_import;         /* span: imported from the source */
};

/* A page of tags: this header in the first slot, then VMEM_SEGS_PER_PAGE tags. */
struct kmb__vmem_segpage {
	struct kmb__vmem_segpage *sp_next, *sp_prev; /* the arena's tag pages */
	uint32_t sp_nfree;                           /* its tags on the arena's free list */
	uint32_t sp_release;                         /* chosen by a trim */
};

#define VMEM_SEGS_PER_PAGE (KMB_PAGE_SIZE / sizeof(kmb__vmem_seg_t) - 1) /* 72 */

/*
 * Quantum cache magazines (vmem_qcache.c 3.): VMEM_MAGSIZE rounds and a link, 128 bytes;
 * a page of them starts with a header in the first slot.
 */
#define VMEM_MAGSIZE 15

/*
 * slot[0] links the magazine into a depot list or the arena's spares; rounds are object
 * pointers in slot[1..rounds], so slot[rounds] is the last one put, or the link - never an
 * object - when the magazine is empty (free's double-free check reads it unconditionally).
 */
struct kmb__vmem_mag {
	void *mag_slot[VMEM_MAGSIZE + 1];
};

struct kmb__vmem_magpage {
	struct kmb__vmem_magpage *mp_next, *mp_prev; /* the arena's magazine pages */
	uint32_t mp_nfree;                           /* its magazines on the spare list */
	uint32_t mp_release;                         /* chosen by a trim */
};

#define VMEM_MAGS_PER_PAGE (KMB_PAGE_SIZE / sizeof(struct kmb__vmem_mag) - 1) /* 31 */

/*
 * A CPU's cache of one quantum cache (illumos kmem_cpu_cache_t): the loaded and the
 * previously loaded magazine and their rounds, -1 without one.  Entry c < KMB_MAX_CPUS is
 * touched only by the thread attached to CPU c, without a lock; entry KMB_MAX_CPUS is
 * shared by every other thread under qc_shared_lock.  Counters: written by the owner (or
 * under the shared lock) with relaxed stores, read relaxed.
 */
struct kmb__vmem_qcc {
	_Alignas(64) struct kmb__vmem_mag *cc_loaded;
	struct kmb__vmem_mag *cc_ploaded;
	int cc_rounds, cc_prounds;
	uint64_t cc_alloc_mag, cc_free_mag, cc_free_slab, cc_flushes;
};

#define VMEM_QCC_SHARED KMB_MAX_CPUS /* the entry of threads not attached to a CPU */

/* The depot's list of full or of empty magazines (kmem_maglist_t), under qc_lock. */
struct kmb__vmem_maglist {
	struct kmb__vmem_mag *ml_list;
	uint64_t ml_total, ml_gets, ml_puts;
};

/* A quantum cache (vmem_qcache.c): a CPU layer of magazines, a depot, and slabs of one
 * page with objects of qc_size bytes. */
struct kmb__vmem_qcache {
	struct kmb_lock qc_lock; /* the depot and the slab layer */
	size_t qc_size;
	unsigned qc_nobj;           /* objects per slab: PAGE / qc_size */
	uint32_t qc_recip;          /* ceil(2^32 / qc_size): off / qc_size = off * recip >> 32 */
	struct kmb_page qc_partial; /* sentinel: slabs with a free object (empty ones last) */
	struct kmb__vmem_maglist qc_full, qc_empty;
	uint64_t qc_hit, qc_miss, qc_free, qc_slabs, qc_reaped, qc_contention;
	struct kmb_lock qc_shared_lock; /* qc_cpu[VMEM_QCC_SHARED] */
	struct kmb__vmem_qcc qc_cpu[KMB_MAX_CPUS + 1];
};

struct kmb_vmem {
	char vm_name[VMEM_NAMELEN];
	struct kmb_lock vm_lock; /* everything below but the quantum caches */
	int vm_cflags;
	size_t vm_quantum;
	unsigned vm_qshift; /* log2(vm_quantum) */
	size_t vm_qcache_max;
	size_t vm_min_import;
	size_t vm_floor[2]; /* free bytes a normal / an M_USE_RESERVE allocation must leave */
	kmb_vmem_import_t *vm_source_alloc;
	kmb_vmem_release_t *vm_source_free;
	void *vm_source;
	size_t vm_source_quantum; /* known when the source is an arena or a page source */
	struct kmb_vmem_meta vm_meta;
	ssize_t vm_nsegfree; /* tags on vm_segfree */
	kmb__vmem_seg_t *vm_segfree;
	struct kmb__vmem_segpage vm_segpages; /* sentinel: tag pages */
	kmb__vmem_seg_t **vm_hash_table;
	size_t vm_hash_mask;      /* buckets - 1 */
	unsigned vm_hash_shift;   /* highbit(vm_hash_mask) */
	size_t vm_hash_order;     /* the table's pages are 2^order (when not vm_hash0) */
	uint64_t vm_freemap;      /* bit n: vm_freelist[n] is not empty */
	kmb__vmem_seg_t vm_seg0;  /* anchor of the arena list and of the span list */
	kmb__vmem_seg_t vm_rotor; /* VM_NEXTFIT's position */
	kmb__vmem_seg_t *vm_hash0[VMEM_HASH_INITIAL];
	kmb__vmem_seg_t vm_freelist[VMEM_FREELISTS + 1]; /* heads; [64] ends the chain */
	kmb__vmem_seg_t vm_segboot[VMEM_SEG_BOOT];
	struct kmb_vmem_kstat vm_kstat; /* under vm_lock (its policy counters unused) */
	struct {
		uint64_t instantfit, bestfit, firstfit, nextfit, xalloc;
	} vm_calls; /* relaxed atomics, counted before taking the lock */
	/* quantum caches' magazines (vmem_qcache.c): spares and pages under vm_lock */
	struct kmb__vmem_mag *vm_magfree;     /* spare magazines */
	struct kmb__vmem_magpage vm_magpages; /* sentinel: magazine pages */
	uint64_t vm_mag_created, vm_mag_destroyed, vm_mag_pages;
	uint64_t vm_flush_gen; /* atomic: bumped by a reap; CPUs flush when they see it */
	uint64_t vm_cpu_gen[KMB_MAX_CPUS]; /* the generation each CPU's owner last flushed at */
	unsigned vm_nqcache;
	struct kmb__vmem_qcache vm_qcache[VMEM_NQCACHE_MAX];
};

/* Internal allocation flags: metadata for the arena itself (no floor, no populate, no
 * import); the floor was checked already (next fit falling back to xalloc). */
#define KMB__VM_INTERNAL 0x1000000
#define KMB__VM_FLOORED  0x2000000

/* ---- vmem.c ------------------------------------------------------------------------------- */

int kmb__vmem_populate(kmb_vmem_t *vmp, int flags);
/* A metadata page (KMB_GFP_META, or carved from the arena) and back, vm_lock held. */
void *kmb__vmem_meta_page_alloc(kmb_vmem_t *vmp);
void kmb__vmem_meta_page_free(kmb_vmem_t *vmp, void *page);
void kmb__vmem_hash_insert(kmb_vmem_t *vmp, kmb__vmem_seg_t *vsp);
kmb__vmem_seg_t *kmb__vmem_seg_create(kmb_vmem_t *vmp, kmb__vmem_seg_t *vprev, uintptr_t start,
                                      uintptr_t end);
void kmb__vmem_freelist_insert(kmb_vmem_t *vmp, kmb__vmem_seg_t *vsp);
kmb__vmem_seg_t *kmb__vmem_span_create(kmb_vmem_t *vmp, uintptr_t start, size_t size, bool import);
kmb__vmem_seg_t *kmb__vmem_seg_alloc(kmb_vmem_t *vmp, kmb__vmem_seg_t *vsp, uintptr_t addr,
                                     size_t size);
void kmb__vmem_advance(kmb_vmem_t *vmp, kmb__vmem_seg_t *walker, kmb__vmem_seg_t *afterme,
                       uintptr_t *rel_addr, size_t *rel_size);
/* Free the allocated segment vsp (already out of the hash); a wholly free imported span
 * is destroyed and returned in *rel_addr and *rel_size for the caller to give back unlocked. */
void kmb__vmem_seg_free(kmb_vmem_t *vmp, kmb__vmem_seg_t *vsp, uintptr_t *rel_addr,
                        size_t *rel_size);
void kmb__vmem_xfree_locked(kmb_vmem_t *vmp, uintptr_t addr, size_t size, uintptr_t *rel_addr,
                            size_t *rel_size);
void kmb__vmem_release_span(kmb_vmem_t *vmp, uintptr_t addr, size_t size);
void kmb__vmem_hash_maybe_rescale(kmb_vmem_t *vmp);
void kmb__vmem_count(uint64_t *ctr); /* relaxed atomic ++ (policy counters) */

/* Declared statistics (illumos kstat style), one row per kstat field. */
/* The rows, by group: every arena; arenas that import; quantum caches; floors. */
#define VMEM_KSTAT_ARENA(X)                                                                        \
	X(segs, "tags", "boundary tags in use (span markers included)")                            \
	X(spans, "spans", "spans in the arena")                                                    \
	X(mem_inuse, "bytes", "bytes allocated (quantum cache slabs included)")                    \
	X(mem_total, "bytes", "bytes in the arena's spans")                                        \
	X(alloc, "events", "segments allocated")                                                   \
	X(free, "events", "segments freed")                                                        \
	X(fail, "events", "arena allocations that failed")                                         \
	X(lookup, "events", "hash chain steps past the first entry")                               \
	X(search, "events", "segments examined by freelist and rotor searches")                    \
	X(hash_size, "buckets", "allocation hash buckets now")                                     \
	X(hash_rescale, "events", "allocation hash resizes")                                       \
	X(populate, "pages", "pages of boundary tags taken")                                       \
	X(populate_fail, "events", "boundary tag pages that could not be had")                     \
	X(tag_pages, "pages", "pages of boundary tags now")                                        \
	X(meta_pages, "pages", "boundary tag, hash table and magazine pages now")                  \
	X(instantfit, "events", "instant-fit allocation calls")                                    \
	X(bestfit, "events", "best-fit allocation calls")                                          \
	X(firstfit, "events", "first-fit allocation calls")                                        \
	X(nextfit, "events", "next-fit allocation calls")                                          \
	X(xalloc, "events", "constrained allocation calls (vmem_xalloc)")
#define VMEM_KSTAT_IMPORT(X)                                                                       \
	X(mem_import, "bytes", "bytes in imported spans")                                          \
	X(imports, "events", "spans imported from the source")                                     \
	X(import_fail, "events", "imports the source refused")                                     \
	X(exports, "events", "imported spans given back wholly free")                              \
	X(excess, "events", "imports given back at once (another thread made room)")
#define VMEM_KSTAT_QCACHE(X)                                                                       \
	X(qc_alloc_mag, "events", "quantum cache allocations from a CPU's magazine")               \
	X(qc_free_mag, "events", "quantum cache frees into a CPU's magazine")                      \
	X(qc_hit, "events", "quantum cache allocations from the slab layer, a cached slab")        \
	X(qc_miss, "events", "quantum cache allocations from the slab layer, a new slab")          \
	X(qc_free_slab, "events", "quantum cache frees to the slab layer (no empty magazine)")     \
	X(qc_free, "events", "objects back in the slab layer (frees, rounds of magazines)")        \
	X(qc_depot_full_get, "events", "full magazines taken from the depots")                     \
	X(qc_depot_full_put, "events", "full magazines given to the depots")                       \
	X(qc_depot_empty_get, "events", "empty magazines taken from the depots")                   \
	X(qc_depot_empty_put, "events", "empty magazines given to the depots")                     \
	X(qc_depot_contention, "events", "depot locks found busy (trylock failed)")                \
	X(qc_mag_created, "events", "magazines allocated")                                         \
	X(qc_mag_destroyed, "events", "magazines destroyed (rounds back to the slab layer)")       \
	X(qc_cpu_flush, "events", "CPU caches flushed (reap, detach)")                             \
	X(qc_full_mags, "magazines", "full magazines in the depots now")                           \
	X(qc_empty_mags, "magazines", "empty magazines in the depots now")                         \
	X(qc_mag_pages, "pages", "pages of magazines now (metadata)")                              \
	X(qc_slabs, "pages", "quantum cache slabs now")                                            \
	X(qc_reaped, "events", "wholly free slabs given back to the arena")
#define VMEM_KSTAT_FLOOR(X)                                                                        \
	X(floor_fail, "events", "allocations refused at the floor (min watermark)")                \
	X(reserve, "events", "allocations below the floor (M_USE_RESERVE)")

/* ---- vmem_fit.c --------------------------------------------------------------------------- */

/* vmem_xalloc with the lock held; may drop it to import.  *xaddr and *xsize: an excess import
 * to give back after unlocking. */
void *kmb__vmem_xalloc_locked(kmb_vmem_t *vmp, size_t size, size_t align, size_t phase,
                              size_t nocross, uintptr_t minaddr, uintptr_t maxaddr, int flags,
                              void **xaddr, size_t *xsize);
/* The floor lets size more bytes go (counts a reserve allocation). */
bool kmb__vmem_floor_ok(kmb_vmem_t *vmp, size_t size, int flags);

/* ---- vmem_qcache.c ------------------------------------------------------------------------ */

/* struct kmb_page flag of a quantum cache slab (priv[0] = its object size); above the
 * buddy's bits (0x1 .. 0x400), which a page owner may meet on frames it gets. */
#define KMB__PG_VMEM_QC 0x10000u

int kmb__vmem_qcache_init(kmb_vmem_t *vmp, unsigned nqcache);
void kmb__vmem_qcache_fini(kmb_vmem_t *vmp);
void *kmb__vmem_qcache_alloc(kmb_vmem_t *vmp, size_t size, int flags);
void kmb__vmem_qcache_free(kmb_vmem_t *vmp, void *addr, size_t size);
/* kfree of addr (in physical memory) if it is in a slab of one of the arena's quantum
 * caches: its object size; else 0 and nothing done. */
size_t kmb__vmem_qcache_kfree(kmb_vmem_t *vmp, void *addr);
void kmb__vmem_qcache_reap(kmb_vmem_t *vmp);
void kmb__vmem_qcache_kstat(kmb_vmem_t *vmp, struct kmb_vmem_kstat *ks);
/* KMB_FRAME_SLAB_FULL/PARTIAL/EMPTY for a quantum cache slab's frame, else _UNKNOWN. */
int kmb__vmem_qcache_frame_kind(const struct kmb_page *pg);

#endif /* KMB_BACKENDS_VMEM_IMPL_H */
