/*
 * backends/baseline/baseline_mimalloc.c - the mimalloc baseline: Debian's libmimalloc.so.2,
 * dlopened so that it does not become the process's malloc (baseline.c 2.).
 */
#include "baseline_impl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#define MIMALLOC_SONAME  "libmimalloc.so.2"
#define MIMALLOC_PACKAGE "libmimalloc-dev"

/* mimalloc.h's prototypes (2.x), resolved with dlsym. */
static void *(*mi_malloc_p)(size_t size);
static void *(*mi_malloc_aligned_p)(size_t size, size_t alignment);
static void (*mi_free_p)(void *p);
static size_t (*mi_usable_size_p)(const void *p);
static void (*mi_process_info_p)(size_t *elapsed_msecs, size_t *user_msecs, size_t *system_msecs,
                                 size_t *current_rss, size_t *peak_rss, size_t *current_commit,
                                 size_t *peak_commit, size_t *page_faults);
static bool (*mi_is_in_heap_region_p)(const void *p);
static void (*mi_collect_p)(bool force);
/* mimalloc.h's mi_option_t, for the ABI of libmimalloc 2.0 (mi_option_allow_decommit = 22) */
#define MIM_OPTION_ALLOW_DECOMMIT 22
static void (*mi_option_set_p)(int option, long value);
static long (*mi_option_get_p)(int option);
static long decommit_default = -1;
static int (*mi_version_p)(void);
static char library[128];

static void *mim_malloc(size_t size)
{
	return mi_malloc_p(size);
}

static void *mim_aligned(size_t align, size_t size)
{
	return mi_malloc_aligned_p(size, align);
}

static void mim_free(void *p)
{
	mi_free_p(p);
}

static size_t mim_usable(void *p)
{
	return mi_usable_size_p(p);
}

struct mim_info {
	size_t elapsed, user, sys, rss, peak_rss, commit, peak_commit, faults;
};

static void mim_info(struct mim_info *i)
{
	mi_process_info_p(&i->elapsed, &i->user, &i->sys, &i->rss, &i->peak_rss, &i->commit,
	                  &i->peak_commit, &i->faults);
}

static int mim_footprint(uint64_t *data, uint64_t *meta, uint64_t *idle)
{
	struct mim_info i;

	mim_info(&i);
	*data = i.commit;
	*meta = 0;
	*idle = i.commit; /* mi_process_info does not say what is allocated */
	return 0;
}

static size_t mim_stats(struct kmb_stat *out, size_t max)
{
	struct mim_info i;

	mim_info(&i);
	struct kmb_stat s[] = {
	        KMB__BL_STAT("mimalloc.current_commit", "bytes",
	                     "bytes mimalloc has committed from the OS now", i.commit),
	        KMB__BL_STAT("mimalloc.peak_commit", "bytes",
	                     "peak bytes committed by mimalloc in this process", i.peak_commit),
	        KMB__BL_STAT("mimalloc.version", "version", "mimalloc version (major*100 + minor)",
	                     mi_version_p ? mi_version_p() : 0),
	};
	size_t n = sizeof(s) / sizeof(s[0]);

	n = n < max ? n : max;
	for (size_t k = 0; k < n; k++)
		out[k] = s[k];
	return n;
}

static int mim_owns(const void *p)
{
#ifdef KMB__BL_SANITIZED
	/* the sanitizer's shadow takes mimalloc's address hint: its segments land above the
	 * range its segment map covers, and mi_is_in_heap_region says no to its own blocks */
	(void)p;
	return -1;
#else
	return mi_is_in_heap_region_p(p) ? 1 : 0;
#endif
}

/* Retention (baseline.c 4.): decommit (and its delayed purges) off while booted. */
static void mim_trim(bool at_boot)
{
	if (decommit_default < 0)
		decommit_default = mi_option_get_p(MIM_OPTION_ALLOW_DECOMMIT);
	mi_option_set_p(MIM_OPTION_ALLOW_DECOMMIT, decommit_default);
	mi_collect_p(true);
	if (at_boot)
		mi_option_set_p(MIM_OPTION_ALLOW_DECOMMIT, 0);
}

#define RESOLVE(var, sym)                                                                          \
	do {                                                                                       \
		*(void **)&(var) = dlsym(h, sym);                                                  \
		if ((var) == NULL) {                                                               \
			snprintf(err, errlen, "%s has no %s", MIMALLOC_SONAME, sym);               \
			return -ELIBACC;                                                           \
		}                                                                                  \
	} while (0)

int kmb__bl_mimalloc_load(struct kmb_baseline_alloc *a, char *err, size_t errlen)
{
	void *h = kmb__bl_dlopen(MIMALLOC_SONAME, MIMALLOC_PACKAGE, err, errlen);
	Dl_info di;

	if (h == NULL)
		return -ELIBACC;
	RESOLVE(mi_malloc_p, "mi_malloc");
	RESOLVE(mi_malloc_aligned_p, "mi_malloc_aligned");
	RESOLVE(mi_free_p, "mi_free");
	RESOLVE(mi_usable_size_p, "mi_usable_size");
	RESOLVE(mi_process_info_p, "mi_process_info");
	RESOLVE(mi_is_in_heap_region_p, "mi_is_in_heap_region");
	RESOLVE(mi_collect_p, "mi_collect");
	RESOLVE(mi_option_set_p, "mi_option_set");
	RESOLVE(mi_option_get_p, "mi_option_get");
	RESOLVE(mi_version_p, "mi_version");
	if (dladdr(*(void **)&mi_malloc_p, &di) != 0 && di.dli_fname)
		snprintf(library, sizeof(library), "%s", di.dli_fname);
	else
		snprintf(library, sizeof(library), "%s", MIMALLOC_SONAME);
	*a = (struct kmb_baseline_alloc){
	        .name = "mimalloc",
	        .library = library,
	        .how = kmb__bl_dlopen_how,
	        .malloc = mim_malloc,
	        .aligned_alloc = mim_aligned,
	        .free = mim_free,
	        .usable_size = mim_usable,
	        .footprint = mim_footprint,
	        .stats = mim_stats,
	        .owns = mim_owns,
	        .trim = mim_trim,
	};
	return 0;
}

static void *bl_alloc(struct kmb_backend *be, size_t size, int flags, size_t *usable)
{
	return kmb__bl_alloc(be, size, flags, usable, mim_malloc, mim_aligned, mim_free,
	                     mim_usable);
}

static size_t bl_free(struct kmb_backend *be, void *p)
{
	return kmb__bl_free(be, p, mim_free, mim_usable);
}

static size_t bl_usable(struct kmb_backend *be, const void *p)
{
	(void)be;
	return mi_usable_size_p(p);
}

const struct kmb_backend_ops kmb_mimalloc_ops = KMB__BL_OPS(
        "mimalloc", "baseline: mimalloc (Debian's libmimalloc, dlopened), under a byte budget",
        bl_alloc, bl_free, bl_usable);
