/*
 * backends/baseline/baseline.h - the user-space baselines: glibc malloc, mimalloc, jemalloc and
 * tcmalloc served as kmbench backends (libc, mimalloc, jemalloc, tcmalloc), so that reports can
 * set kernel designs beside the allocators people would otherwise use.  baseline.c opens with
 * the Big Theory Statement.
 *
 * The kmb_baseline_* functions are the public face for the micro suite and the tests: the raw
 * allocator under each backend (no budget, no core), and how it was loaded.  The kmb__bl_*
 * names are internal to the folder (baseline_impl.h).
 */
#ifndef KMB_BACKENDS_BASELINE_H
#define KMB_BACKENDS_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmbench/backend.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One user-space allocator, as loaded (kmb_baseline_get). */
struct kmb_baseline_alloc {
	const char *name;    /* "libc", "mimalloc", "jemalloc", "tcmalloc" */
	const char *library; /* what serves it: "glibc", a shared object's path, ... */
	const char *how;     /* how it was loaded ("dlopen RTLD_LOCAL|RTLD_DEEPBIND", ...) */
	void *(*malloc)(size_t size);
	void *(*aligned_alloc)(size_t align, size_t size); /* align: a power of two */
	void (*free)(void *p);
	size_t (*usable_size)(void *p);
	/* Bytes the allocator holds for data and for its metadata, from its own statistics,
	 * and how many of the data bytes are idle: held but not allocated (free in its
	 * caches and lists; all of data when it cannot tell) (baseline.c 4.).  0, or -ENOTSUP. */
	int (*footprint)(uint64_t *data, uint64_t *meta, uint64_t *idle);
	/* The allocator's own statistics (declared: name, unit, description). */
	size_t (*stats)(struct kmb_stat *out, size_t max);
	/* Whether p belongs to this allocator: 1 yes, 0 no, -1 it cannot tell. */
	int (*owns)(const void *p);
	/* Give free memory back to the OS; at boot (at_boot) then keep what it gets from the OS
	 * until shutdown (no decay, decommit or trimming while booted: baseline.c 4.), at
	 * shutdown return to its default policy.  Optional. */
	void (*trim)(bool at_boot);
};

/*
 * Load the named allocator (once; later calls return the same) and return it: 0, -ENOENT
 * for an unknown name, -ELIBACC when its library cannot be loaded (the reason and the
 * Debian package to install in err).
 */
int kmb_baseline_get(const char *name, const struct kmb_baseline_alloc **out, char *err,
                     size_t errlen);
/* The baselines, in registration order; NULL past the end. */
const char *kmb_baseline_name(size_t i);

/*
 * The byte budget (baseline.c 3.) for a memory size: a normal request must leave at least
 * min_bytes of it free, a M_USE_RESERVE one reserve_bytes (the buddy allocator's min
 * watermark and its GFP_ATOMIC floor for that much memory).
 */
void kmb_baseline_marks(size_t mem_bytes, size_t *min_bytes, size_t *reserve_bytes);

extern const struct kmb_backend_ops kmb_libc_ops;
extern const struct kmb_backend_ops kmb_mimalloc_ops;
extern const struct kmb_backend_ops kmb_jemalloc_ops;
extern const struct kmb_backend_ops kmb_tcmalloc_ops;

#ifdef __cplusplus
}
#endif
#endif /* KMB_BACKENDS_BASELINE_H */
