/*
 * backends/baseline/baseline_tcmalloc.c - the tcmalloc baseline: gperftools' TCMalloc from
 * Debian's libtcmalloc_minimal.so.4, dlopened so that it does not become the process's malloc
 * (baseline.c 2.).
 */
#include "baseline_impl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define TCMALLOC_SONAME  "libtcmalloc_minimal.so.4"
#define TCMALLOC_PACKAGE "libgoogle-perftools-dev"

/* gperftools/tcmalloc.h and malloc_extension_c.h prototypes, resolved with dlsym. */
static void *(*tc_malloc_p)(size_t size);
static void *(*tc_memalign_p)(size_t alignment, size_t size);
static void (*tc_free_p)(void *p);
static size_t (*tc_malloc_size_p)(void *p);
static int (*get_property_p)(const char *property, size_t *value);
static int (*get_ownership_p)(const void *p); /* 0 unknown, 1 owned, 2 not owned */
static void (*release_free_memory_p)(void);
static void (*mark_thread_idle_p)(void);
static char library[128];

static void *tcm_malloc(size_t size)
{
	return tc_malloc_p(size);
}

static void *tcm_aligned(size_t align, size_t size)
{
	return tc_memalign_p(align, size);
}

static void tcm_free(void *p)
{
	tc_free_p(p);
}

static size_t tcm_usable(void *p)
{
	return tc_malloc_size_p(p);
}

static uint64_t prop(const char *name)
{
	size_t v = 0;

	return get_property_p(name, &v) ? v : 0;
}

static int tcm_footprint(uint64_t *data, uint64_t *meta, uint64_t *idle)
{
	uint64_t heap = prop("generic.heap_size"),
	         unmapped = prop("tcmalloc.pageheap_unmapped_bytes"),
	         allocated = prop("generic.current_allocated_bytes");

	*data = heap > unmapped ? heap - unmapped : 0;
	*meta = 0;
	*idle = *data > allocated ? *data - allocated : 0;
	return 0;
}

static size_t tcm_stats(struct kmb_stat *out, size_t max)
{
	struct kmb_stat s[] = {
	        KMB__BL_STAT("tcmalloc.current_allocated_bytes", "bytes",
	                     "bytes in use by the application",
	                     prop("generic.current_allocated_bytes")),
	        KMB__BL_STAT("tcmalloc.heap_size", "bytes", "bytes reserved from the OS",
	                     prop("generic.heap_size")),
	        KMB__BL_STAT("tcmalloc.pageheap_free_bytes", "bytes",
	                     "free mapped bytes in the page heap",
	                     prop("tcmalloc.pageheap_free_bytes")),
	        KMB__BL_STAT("tcmalloc.pageheap_unmapped_bytes", "bytes",
	                     "free bytes released to the OS",
	                     prop("tcmalloc.pageheap_unmapped_bytes")),
	        KMB__BL_STAT("tcmalloc.central_cache_free_bytes", "bytes",
	                     "free bytes in the central cache",
	                     prop("tcmalloc.central_cache_free_bytes")),
	        KMB__BL_STAT("tcmalloc.transfer_cache_free_bytes", "bytes",
	                     "free bytes in the transfer cache",
	                     prop("tcmalloc.transfer_cache_free_bytes")),
	        KMB__BL_STAT("tcmalloc.thread_cache_free_bytes", "bytes",
	                     "free bytes in thread caches",
	                     prop("tcmalloc.thread_cache_free_bytes")),
	};
	size_t n = sizeof(s) / sizeof(s[0]);

	n = n < max ? n : max;
	for (size_t k = 0; k < n; k++)
		out[k] = s[k];
	return n;
}

static int tcm_owns(const void *p)
{
	int o = get_ownership_p(p);

	return o == 1 ? 1 : o == 2 ? 0 : -1;
}

/* The calling thread's cache goes back to the central lists first, so that its objects'
 * spans can become free and be released (the booting thread's cache is the one that holds
 * an earlier boot's blocks; replay threads' caches went back when they exited). */
static void tcm_trim(bool at_boot)
{
	(void)at_boot;
	mark_thread_idle_p();
	release_free_memory_p();
}

#define RESOLVE(var, sym)                                                                          \
	do {                                                                                       \
		*(void **)&(var) = dlsym(h, sym);                                                  \
		if ((var) == NULL) {                                                               \
			snprintf(err, errlen, "%s has no %s", TCMALLOC_SONAME, sym);               \
			return -ELIBACC;                                                           \
		}                                                                                  \
	} while (0)

int kmb__bl_tcmalloc_load(struct kmb_baseline_alloc *a, char *err, size_t errlen)
{
	void *h;
	Dl_info di;

	/* map, do not move the program break under glibc's main arena (baseline.c 2.) */
	setenv("TCMALLOC_SKIP_SBRK", "true", 0);
	/* keep what it maps (baseline.c 4.): no background release; ReleaseFreeMemory at boot
	 * and shutdown still gives it back */
	setenv("TCMALLOC_RELEASE_RATE", "0", 0);
	if ((h = kmb__bl_dlopen(TCMALLOC_SONAME, TCMALLOC_PACKAGE, err, errlen)) == NULL)
		return -ELIBACC;
	RESOLVE(tc_malloc_p, "tc_malloc");
	RESOLVE(tc_memalign_p, "tc_memalign");
	RESOLVE(tc_free_p, "tc_free");
	RESOLVE(tc_malloc_size_p, "tc_malloc_size");
	RESOLVE(get_property_p, "MallocExtension_GetNumericProperty");
	RESOLVE(get_ownership_p, "MallocExtension_GetOwnership");
	RESOLVE(release_free_memory_p, "MallocExtension_ReleaseFreeMemory");
	RESOLVE(mark_thread_idle_p, "MallocExtension_MarkThreadIdle");
	if (dladdr(*(void **)&tc_malloc_p, &di) != 0 && di.dli_fname)
		snprintf(library, sizeof(library), "%s", di.dli_fname);
	else
		snprintf(library, sizeof(library), "%s", TCMALLOC_SONAME);
	*a = (struct kmb_baseline_alloc){
	        .name = "tcmalloc",
	        .library = library,
	        .how = kmb__bl_dlopen_how,
	        .malloc = tcm_malloc,
	        .aligned_alloc = tcm_aligned,
	        .free = tcm_free,
	        .usable_size = tcm_usable,
	        .footprint = tcm_footprint,
	        .stats = tcm_stats,
	        .owns = tcm_owns,
	        .trim = tcm_trim,
	};
	return 0;
}

static void *bl_alloc(struct kmb_backend *be, size_t size, int flags, size_t *usable)
{
	return kmb__bl_alloc(be, size, flags, usable, tcm_malloc, tcm_aligned, tcm_free,
	                     tcm_usable);
}

static size_t bl_free(struct kmb_backend *be, void *p)
{
	return kmb__bl_free(be, p, tcm_free, tcm_usable);
}

static size_t bl_usable(struct kmb_backend *be, const void *p)
{
	(void)be;
	return tc_malloc_size_p((void *)p);
}

const struct kmb_backend_ops kmb_tcmalloc_ops =
        KMB__BL_OPS("tcmalloc",
                    "baseline: gperftools TCMalloc (Debian's libtcmalloc_minimal, dlopened), under "
                    "a byte budget",
                    bl_alloc, bl_free, bl_usable);
