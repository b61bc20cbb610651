/*
 * kmbench/kmbench.h - booting a backend over simulated physical memory, attaching
 * threads, and reading what the system did.
 *
 * kmbench is a "kernel" of one allocator at a time: kmb_boot() maps the simulated
 * physical memory and starts the named backend; kmalloc() and friends (kmalloc.h) then
 * serve from it until kmb_shutdown().  Threads that replay a workload attach themselves
 * (kmb_thread_attach) so that the core knows which threads could free memory: M_WAITOK
 * sleeps need it to detect a deadlock.
 */
#ifndef KMBENCH_KMBENCH_H
#define KMBENCH_KMBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kmalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KMB_PAGE_SHIFT 12
#define KMB_PAGE_SIZE  ((size_t)1 << KMB_PAGE_SHIFT)
#define KMB_MAX_CPUS   64
#define KMB_MAX_NODES  8

/* 256 MiB: a small 2010s machine's RAM, and 4x the largest live set of the bundled trace. */
#define KMB_DEFAULT_MEM_BYTES ((size_t)256 << 20)

struct kmb_config {
	const char *backend; /* backend spec, e.g. "buddy" */
	size_t mem_bytes;    /* simulated physical memory; 0 = KMB_DEFAULT_MEM_BYTES */
	unsigned nodes;      /* NUMA nodes the memory is split into; 0 = 1 */
	unsigned ncpus;      /* CPUs (per-CPU caches); 0 = 1 */
	int invariants;      /* KMB_INVARIANTS_BUILD (build default), _ON or _OFF */
	const unsigned
	        *cpu_node;   /* NUMA node of each CPU index (ncpus entries); NULL: cpu % nodes */
	uint64_t fault_mtbf; /* > 0: page sources fail once in fault_mtbf calls (random) */
	uint64_t seed;       /* fault injection stream (0 = fixed default) */
};
enum { KMB_INVARIANTS_BUILD = 0, KMB_INVARIANTS_ON = 1, KMB_INVARIANTS_OFF = 2 };

/* Returns 0, -ENOENT (unknown backend), -EINVAL (bad config), -ENOMEM, -EBUSY (booted). */
int kmb_boot(const struct kmb_config *cfg);
/* Tears the backend down and unmaps memory; every page must be back (else -EBUSY, logged). */
int kmb_shutdown(void);
/* After a panic was caught: tear everything down without checks (the state is suspect). */
int kmb_shutdown_abandon(void);
bool kmb_booted(void);
const char *kmb_backend_name(void);

/* Replay threads: attach with a name and a CPU index (< ncpus); detach before exiting. */
int kmb_thread_attach(const char *name, unsigned cpu);
void kmb_thread_detach(void);

/*
 * For threads that wait on each other (replay threads: a free waits for the allocation
 * it depends on when that ran on another thread).  kmb_thread_block() sleeps until
 * ready(arg) is true; while it is false the thread counts as stuck, so a deadlock of
 * sleepers and blocked threads is reported (-EDEADLK, report filled) instead of hanging.
 * `what` describes the wait for the report.  Whoever makes a condition true calls
 * kmb_thread_unblock() after a seq_cst store (one load when nobody is blocked).
 */
int kmb_thread_block(bool (*ready)(void *arg), void *arg, const char *what, char *report,
                     size_t len);
void kmb_thread_unblock(void);

/*
 * Backend specs: "NAME" or "NAME@PAGESOURCE" (e.g. "slab@vmem"), or "plugin:PATH.so"
 * (optionally "@PAGESOURCE") for an out-of-tree backend; either part may set its owner's
 * tunables, "slab(magsize=15)@buddy(pcp_batch=8)" (-EINVAL/-ERANGE: unknown key, no
 * integer, out of bounds).  kmb_spec_at() enumerates the
 * built-in specs for `kmbench list`; kmb_spec_check() validates one (0, -ENOENT unknown
 * backend or page source, -EINVAL malformed, -ENOEXEC a plugin that cannot be loaded),
 * writing a one-line reason to err.
 */
struct kmb_tunable; /* kmbench/backend.h 5. */
struct kmb_backend_info {
	const char *name; /* the spec */
	const char *summary;
	/* a backend's or page source's own tunables (composed specs list none: their
	 * parts' tables are the backend's and the page source's) */
	const struct kmb_tunable *tunables;
	size_t ntunables;
};
size_t kmb_backend_count(void);
const struct kmb_backend_info *kmb_backend_at(size_t i);
int kmb_spec_check(const char *spec, char *err, size_t errlen);
/* A spec's name in tables and file names: a plugin's own ops->name (and "@PAGESOURCE" if
 * given) for "plugin:PATH.so", else the spec itself; 0 or kmb_spec_check()'s errors. */
int kmb_spec_name(const char *spec, char *buf, size_t len, char *err, size_t errlen);
/* Page sources a spec may name after '@'. */
size_t kmb_pagesrc_count(void);
const struct kmb_backend_info *kmb_pagesrc_at(size_t i);

/* A declared statistic (illumos kstat style): name, unit, description, value. */
struct kmb_stat {
	const char *name;
	const char *unit; /* "pages", "bytes", "events", ... */
	const char *desc;
	uint64_t value;
};

/* What the system holds now. */
struct kmb_memstat {
	size_t mem_pages;    /* simulated physical memory */
	size_t free_pages;   /* free in the page allocator (per-CPU lists included) */
	size_t held_pages;   /* held by the allocator for objects (data pages) */
	size_t meta_pages;   /* held by the allocator for its metadata */
	size_t peak_pages;   /* high-water of held + meta since boot (peak footprint) */
	size_t largest_free; /* largest block the backend could hand out now, bytes */
	uint64_t nofail_retries, sleeps, deadlocks, injected_faults;
};
void kmb_memstat(struct kmb_memstat *out);
/* Cheap reads for samplers: pages held (data + metadata) now; the NUMA node of an address
 * in simulated physical memory, or -1. */
size_t kmb_footprint_pages(void);
int kmb_addr_node(const void *addr);

/*
 * A picture of physical memory: out[pfn] = the enum kmb_frame_kind (backend.h) of each of
 * the first nframes frames.  Returns the number of frames of physical memory (call with
 * nframes 0 to learn it), or -EINVAL when nothing is booted.  Reads page descriptors
 * without locks: call it while no other thread allocates or frees.
 */
int kmb_frame_map(uint8_t *out, size_t nframes);

/*
 * slabtop's figures of a kmem_cache (Linux slabinfo): object slots in the cache's slabs
 * and those allocated (per-CPU layers count as allocated), slabs and those holding an
 * allocated object, slots and pages per slab.  From the backend's optional cache_info op
 * (backend.h 6.): 0, or -ENOTSUP when the backend serves the cache through the generic
 * fallback or has no such op, -EINVAL without a cache or a boot.  Call it while no other
 * thread allocates or frees.
 */
struct kmb_cache_info {
	uint64_t active_objs, total_objs;
	uint64_t active_slabs, total_slabs;
	unsigned objs_per_slab, pages_per_slab;
};
struct kmem_cache;
int kmem_cache_info(const struct kmem_cache *cache, struct kmb_cache_info *out);

/* The backend's declared counters; returns how many were written (<= max). */
size_t kmb_backend_stats(struct kmb_stat *out, size_t max);

/*
 * Linux's external fragmentation figures for order k (mm/vmstat.c, as
 * /sys/kernel/debug/extfrag prints them, in thousandths) of the page allocator under the
 * backend: the unusable free space index (0..1000) and the fragmentation index (-1000
 * when a block of that order is free, else 0..1000).  -ENOTSUP without a page allocator.
 */
#define KMB_EXTFRAG_ORDERS 11 /* orders 0..10, Linux's MAX_ORDER 11 */
int kmb_extfrag(unsigned order, int *unusable, int *fragindex);

/* Print a FreeBSD `vmstat -m` style table of every type with activity. */
void kmb_vmstat_m(FILE *out);

/* true when the library was built with INVARIANTS (redzones, poison, free checks). */
bool kmb_invariants(void);

#ifdef __cplusplus
}
#endif
#endif /* KMBENCH_KMBENCH_H */
