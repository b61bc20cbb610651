/*
 * backends/vmem/vmem.h - the vmem resource allocator (Bonwick & Adams, "Magazines and Vmem:
 * Extending the Slab Allocator to Many CPUs and Arbitrary Resources", USENIX 2001; illumos
 * usr/src/uts/common/os/vmem.c), its page-source face and its kmalloc backend.
 *
 * vmem.c opens with the Big Theory Statement.  The kmb_vmem_* functions are the public API,
 * usable by other backends (a slab allocator may take its slabs from an arena); the names
 * follow illumos with a kmb_ prefix.  Allocation returns an address or NULL; everything
 * else returns 0 or -errno.  Nothing here sleeps (the core does): every call behaves as
 * illumos's VM_NOSLEEP.
 */
#ifndef KMB_BACKENDS_VMEM_H
#define KMB_BACKENDS_VMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmbench/backend.h>
#include <kmbench/lock.h>

typedef struct kmb_vmem kmb_vmem_t;

/*
 * Allocation flags: M_USE_RESERVE (kmalloc.h) may go below the arena's floor and is
 * passed on to imports; one policy bit, none meaning instant fit (illumos VM_* values
 * shifted above the M_* and KMB_GFP_META bits).
 */
#define KMB_VM_INSTANTFIT 0x000000 /* constant time: the first segment that surely fits */
#define KMB_VM_BESTFIT    0x100000 /* the smallest segment that fits */
#define KMB_VM_FIRSTFIT   0x200000 /* the first segment that fits */
#define KMB_VM_NEXTFIT    0x400000 /* the next free segment after the rotor */
#define KMB_VM_POLICY     (KMB_VM_BESTFIT | KMB_VM_FIRSTFIT | KMB_VM_NEXTFIT)
#define KMB_VM_ENDALLOC   0x800000 /* xalloc: from the end of the chosen segment */

/* Creation flags. */
#define KMB_VMC_XALIGN 0x1 /* the import function aligns what it returns (illumos VMC_XALIGN) */

/* Segment types, for kmb_vmem_size() and kmb_vmem_walk() (illumos values). */
#define KMB_VMEM_ALLOC 0x01
#define KMB_VMEM_FREE  0x02
#define KMB_VMEM_SPAN  0x10

/*
 * Importing from a source (illumos vmem_ximport_t): at least *sizep bytes aligned to
 * align when the arena was created with KMB_VMC_XALIGN; may give more and says how much
 * in *sizep.  flags: M_USE_RESERVE.  Releasing gives back a whole imported span.
 */
typedef void *kmb_vmem_import_t(void *source, size_t *sizep, size_t align, int flags);
typedef void kmb_vmem_release_t(void *source, void *addr, size_t size);

/* Import adapters: from another arena (source = kmb_vmem_t *), or from a page source
 * (source = struct kmb_pagesrc *, spans of 2^order pages, naturally aligned). */
kmb_vmem_import_t kmb_vmem_import;
kmb_vmem_release_t kmb_vmem_release;
kmb_vmem_import_t kmb_vmem_pagesrc_import;
kmb_vmem_release_t kmb_vmem_pagesrc_release;

/*
 * Where an arena keeps its metadata - boundary tags, hash tables, magazines -
 * so that it is counted as KMB_GFP_META pages of the simulated physical memory (illumos
 * takes them from vmem_seg_arena and vmem_hash_arena):
 *   pages != NULL   pages come from this page source (KMB_GFP_META);
 *   pages == NULL   they are carved from the arena itself (illumos vmem_populate for
 *                   vmem_seg_arena): its integers must be addresses in pm, and the pages
 *                   are accounted in pm.
 * pm is also required by quantum caches, which keep their slab records in struct kmb_page.
 */
struct kmb_vmem_meta {
	struct kmb_pagesrc *pages;
	struct kmb_physmem *pm;
};

/* Counters and gauges of one arena (illumos vmem_kstat_t and more); see vmem.c 8. */
struct kmb_vmem_kstat {
	uint64_t mem_inuse;    /* bytes allocated (quantum caches' slabs included) */
	uint64_t mem_total;    /* bytes in spans */
	uint64_t mem_import;   /* bytes in imported spans */
	uint64_t alloc, free;  /* segments allocated and freed */
	uint64_t fail;         /* allocations that failed */
	uint64_t floor_fail;   /* ... of which refused by the floor (watermark) */
	uint64_t reserve;      /* allocations that went below the floor (M_USE_RESERVE) */
	uint64_t lookup;       /* hash chain steps past the first entry */
	uint64_t search;       /* segments examined by the freelist and rotor searches */
	uint64_t segs;         /* gauge: boundary tags in use (span markers included) */
	uint64_t spans;        /* gauge: spans */
	uint64_t hash_size;    /* gauge: hash buckets */
	uint64_t hash_rescale; /* hash table resizes */
	uint64_t imports;      /* spans imported */
	uint64_t import_fail;  /* imports the source refused */
	uint64_t exports;      /* imported spans given back when wholly free */
	uint64_t excess;       /* imports given back at once: another thread imported first */
	uint64_t populate;     /* pages of boundary tags taken */
	uint64_t populate_fail;
	uint64_t tag_pages;  /* gauge: pages of boundary tags */
	uint64_t meta_pages; /* gauge: tag, hash table and magazine pages */
	uint64_t instantfit, bestfit, firstfit, nextfit, xalloc; /* calls by policy */
	uint64_t qc_alloc_mag;      /* quantum cache allocations from a CPU's magazine */
	uint64_t qc_free_mag;       /* quantum cache frees into a CPU's magazine */
	uint64_t qc_hit;            /* slab-layer allocations from an existing slab */
	uint64_t qc_miss;           /* ... that needed a new slab from the arena */
	uint64_t qc_free_slab;      /* frees sent to the slab layer: no empty magazine */
	uint64_t qc_free;           /* objects back in the slab layer (all causes) */
	uint64_t qc_depot_full_get; /* depot traffic, by list and direction */
	uint64_t qc_depot_full_put;
	uint64_t qc_depot_empty_get;
	uint64_t qc_depot_empty_put;
	uint64_t qc_depot_contention; /* depot locks found busy */
	uint64_t qc_mag_created;      /* magazines allocated */
	uint64_t qc_mag_destroyed;    /* magazines destroyed */
	uint64_t qc_cpu_flush;        /* CPU caches flushed */
	uint64_t qc_full_mags;        /* gauge: full magazines in the depots */
	uint64_t qc_empty_mags;       /* gauge: empty magazines in the depots */
	uint64_t qc_mag_pages;        /* gauge: magazine pages (also in meta_pages) */
	uint64_t qc_slabs;            /* gauge: quantum cache slabs */
	uint64_t qc_reaped;           /* empty slabs given back to the arena */
	struct kmb_lock_stats arena_lock;     /* vm_lock (vmem.c 7.) */
	struct kmb_lock_stats qc_lock;        /* the quantum caches' depot and slab locks */
	struct kmb_lock_stats qc_shared_lock; /* their shared CPU entries' locks */
};

/* ---- arenas (vmem.c, vmem_fit.c) -------------------------------------------------------- */

/*
 * An arena of [base, base + size) (none when size is 0) in units of quantum (a power of
 * two), importing from source through afunc/ffunc (both NULL: no source), with quantum
 * caches for 1..qcache_max / quantum multiples of the quantum (at most 16; 0: none).
 * 0, -EINVAL or -ENOMEM.  The arena structure itself (with the quantum caches' per-CPU
 * entries) comes from the C heap (illumos takes it from vmem_vmem_arena); everything it
 * allocates afterwards - tags, hash tables, magazines - comes from meta.  Threads
 * attached to a CPU (kmb_thread_attached) use that CPU's magazines without a lock and
 * must call kmb_vmem_cpu_flush before they detach.
 */
int kmb_vmem_create(const char *name, uintptr_t base, size_t size, size_t quantum,
                    kmb_vmem_import_t *afunc, kmb_vmem_release_t *ffunc, void *source,
                    size_t qcache_max, int flags, const struct kmb_vmem_meta *meta,
                    kmb_vmem_t **out);
/* Gives every imported span back and every metadata page; live segments are forgotten. */
void kmb_vmem_destroy(kmb_vmem_t *vmp);
/* Add the span [base, base + size): 0, -EINVAL (misaligned, overlapping) or -ENOMEM. */
int kmb_vmem_add(kmb_vmem_t *vmp, uintptr_t base, size_t size, int flags);

void *kmb_vmem_alloc(kmb_vmem_t *vmp, size_t size, int flags);
void kmb_vmem_free(kmb_vmem_t *vmp, void *addr, size_t size);
/*
 * A segment of size bytes at phase from an align boundary, not crossing a nocross
 * boundary, inside [minaddr, maxaddr) (0: no limit); bypasses the quantum caches.
 * Inconsistent arguments panic, as in illumos.
 */
void *kmb_vmem_xalloc(kmb_vmem_t *vmp, size_t size, size_t align, size_t phase, size_t nocross,
                      uintptr_t minaddr, uintptr_t maxaddr, int flags);
/* size 0: the size of the allocated segment at addr (kfree knows no size).  Returns the
 * size of the segment freed, found under the same lock. */
size_t kmb_vmem_xfree(kmb_vmem_t *vmp, void *addr, size_t size);

/* Size of the allocated segment starting at addr, 0 if none (a hash lookup). */
size_t kmb_vmem_lookup(kmb_vmem_t *vmp, const void *addr);
/* Bytes of the types in typemask: KMB_VMEM_ALLOC in use, KMB_VMEM_FREE free. */
size_t kmb_vmem_size(kmb_vmem_t *vmp, int typemask);
/* The largest free segment, in bytes; natural: the largest block aligned to its
 * power-of-two size inside a free segment (what a page source can hand out). */
size_t kmb_vmem_largest_free(kmb_vmem_t *vmp, bool natural);
/* func(arg, start, size) for each segment of the types in typemask, in arena order, with
 * the arena lock held (illumos vmem_walk without VMEM_REENTRANT). */
void kmb_vmem_walk(kmb_vmem_t *vmp, int typemask, void (*func)(void *, uintptr_t, size_t),
                   void *arg);
void kmb_vmem_kstat(kmb_vmem_t *vmp, struct kmb_vmem_kstat *ks);
const char *kmb_vmem_name(const kmb_vmem_t *vmp);

/* Imports are at least this many bytes (illumos vm_min_import). */
void kmb_vmem_set_min_import(kmb_vmem_t *vmp, size_t bytes);
/*
 * Floors (a kmbench addition, the page allocator's min watermark): an allocation that
 * would leave fewer than min_free free bytes fails, unless it has M_USE_RESERVE, which
 * may go down to reserve_free.  Metadata the arena carves from itself ignores them.
 */
void kmb_vmem_set_floor(kmb_vmem_t *vmp, size_t min_free, size_t reserve_free);
/*
 * Give back what caches hold: the quantum caches' magazines (the caller's CPU's, the
 * shared CPU entry's, the depots'; other attached CPUs flush theirs at their next slow
 * path), empty quantum cache slabs, wholly free magazine and tag pages.
 */
void kmb_vmem_reap(kmb_vmem_t *vmp);
/*
 * A thread attached to a CPU (kmb_thread_attached) gives back that CPU's quantum cache
 * magazines: what it calls before it detaches (the kmalloc backend's thread_detach).
 * Nothing for other threads.
 */
void kmb_vmem_cpu_flush(kmb_vmem_t *vmp);

/* The quantum cache object size of a live object at addr (lock-free), 0 if addr is not
 * in a quantum cache slab (vmem_qcache.c). */
size_t kmb_vmem_qcache_objsize(const struct kmb_physmem *pm, const void *addr);

/* ---- the page-source face (vmem_pagesrc.c) and the kmalloc backend (vmem_kmalloc.c) ---- */

extern const struct kmb_pagesrc_ops kmb_vmem_pagesrc_ops;
extern const struct kmb_backend_ops kmb_vmem_ops;

/* The page-source arena over physical memory: 0 or -EINVAL/-ENOMEM. */
int kmb_vmem_pagesrc_create(struct kmb_physmem *pm, unsigned ncpus, struct kmb_pagesrc **out);
kmb_vmem_t *kmb_vmem_pagesrc_arena(struct kmb_pagesrc *ps);
/* Pages the watermark keeps free (normal requests) and the M_USE_RESERVE floor. */
void kmb_vmem_pagesrc_floors(struct kmb_pagesrc *ps, size_t *min_pages, size_t *reserve_pages);

/* The kmalloc backend's arena (after init). */
kmb_vmem_t *kmb_vmem_kmem_arena(const struct kmb_backend *be);

#endif /* KMB_BACKENDS_VMEM_H */
