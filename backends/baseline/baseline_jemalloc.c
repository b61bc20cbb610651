/*
 * backends/baseline/baseline_jemalloc.c - the jemalloc baseline: Debian's libjemalloc_pic.a
 * linked statically with its public symbols renamed kmb_je_* (jemalloc_prefix.cmake), so
 * that it does not become the process's malloc (baseline.c 2.).
 */
#include "baseline_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* jemalloc's public API under the names objcopy gave it. */
void *kmb_je_malloc(size_t size);
void *kmb_je_aligned_alloc(size_t alignment, size_t size);
void kmb_je_free(void *p);
size_t kmb_je_malloc_usable_size(void *p);
int kmb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

#define ARENAS_ALL 4096 /* MALLCTL_ARENAS_ALL */

static void *je_malloc(size_t size)
{
	return kmb_je_malloc(size);
}

static void *je_aligned(size_t align, size_t size)
{
	return kmb_je_aligned_alloc(align, size);
}

static void je_free(void *p)
{
	kmb_je_free(p);
}

static size_t je_usable(void *p)
{
	return kmb_je_malloc_usable_size(p);
}

static uint64_t ctl_size(const char *name)
{
	size_t v = 0, len = sizeof(v);

	return kmb_je_mallctl(name, &v, &len, NULL, 0) == 0 ? v : 0;
}

static void refresh(void)
{
	uint64_t epoch = 1;
	size_t len = sizeof(epoch);

	kmb_je_mallctl("epoch", &epoch, &len, &epoch, len);
}

static int je_footprint(uint64_t *data, uint64_t *meta, uint64_t *idle)
{
	uint64_t resident, metadata, allocated;

	refresh();
	resident = ctl_size("stats.resident");
	metadata = ctl_size("stats.metadata");
	allocated = ctl_size("stats.allocated");
	*data = resident > metadata ? resident - metadata : 0;
	*meta = metadata;
	*idle = *data > allocated ? *data - allocated : 0;
	return 0;
}

static size_t je_stats(struct kmb_stat *out, size_t max)
{
	refresh();
	struct kmb_stat s[] = {
	        KMB__BL_STAT("jemalloc.allocated", "bytes", "bytes allocated by the application",
	                     ctl_size("stats.allocated")),
	        KMB__BL_STAT("jemalloc.active", "bytes", "bytes in active pages",
	                     ctl_size("stats.active")),
	        KMB__BL_STAT("jemalloc.metadata", "bytes", "bytes of allocator metadata",
	                     ctl_size("stats.metadata")),
	        KMB__BL_STAT("jemalloc.resident", "bytes",
	                     "bytes in resident pages (data, metadata, dirty)",
	                     ctl_size("stats.resident")),
	        KMB__BL_STAT("jemalloc.mapped", "bytes", "bytes in active extents",
	                     ctl_size("stats.mapped")),
	        KMB__BL_STAT("jemalloc.retained", "bytes", "virtual memory retained, not mapped",
	                     ctl_size("stats.retained")),
	};
	size_t n = sizeof(s) / sizeof(s[0]);

	n = n < max ? n : max;
	for (size_t k = 0; k < n; k++)
		out[k] = s[k];
	return n;
}

static int je_owns(const void *p)
{
	(void)p;
	return -1; /* jemalloc has no ownership query that is safe on a foreign pointer */
}

/*
 * Set the decay time (ms; -1: never purge) of every arena and of arenas created later.
 * "arena.<i>.dirty_decay_ms" takes one arena index: jemalloc 5.3 has no MALLCTL_ARENAS_ALL
 * form of it (arena_i_decay_ms_ctl reads arenas[4096], past the table: a crash found by the
 * jemalloc soak), so each of the "arenas.narenas" indexes is set; one never initialised
 * answers EFAULT and is left alone.
 */
static void set_decay(const char *which, ssize_t ms)
{
	unsigned narenas = 0;
	size_t len = sizeof(narenas);
	char name[48];

	kmb_je_mallctl("arenas.narenas", &narenas, &len, NULL, 0);
	for (unsigned i = 0; i < narenas; i++) {
		snprintf(name, sizeof(name), "arena.%u.%s_decay_ms", i, which);
		kmb_je_mallctl(name, NULL, NULL, &ms, sizeof(ms));
	}
	snprintf(name, sizeof(name), "arenas.%s_decay_ms", which);
	kmb_je_mallctl(name, NULL, NULL, &ms, sizeof(ms));
}

static ssize_t get_decay(const char *which)
{
	char name[48];
	ssize_t ms = 0;
	size_t len = sizeof(ms);

	snprintf(name, sizeof(name), "arenas.%s_decay_ms", which);
	kmb_je_mallctl(name, &ms, &len, NULL, 0);
	return ms;
}

/* Retention (baseline.c 4.): no decay-driven purging while booted; the defaults after. */
static void je_trim(bool at_boot)
{
	static ssize_t dirty_default = -2, muzzy_default = -2;
	char name[32];

	if (dirty_default == -2) {
		dirty_default = get_decay("dirty");
		muzzy_default = get_decay("muzzy");
	}
	set_decay("dirty", dirty_default);
	set_decay("muzzy", muzzy_default);
	kmb_je_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
	snprintf(name, sizeof(name), "arena.%d.purge", ARENAS_ALL);
	kmb_je_mallctl(name, NULL, NULL, NULL, 0);
	if (at_boot) {
		set_decay("dirty", -1);
		set_decay("muzzy", -1);
	}
}

int kmb__bl_jemalloc_load(struct kmb_baseline_alloc *a, char *err, size_t errlen)
{
	const char *version = NULL;
	size_t len = sizeof(version);
	static char library[96];

	if (kmb_je_mallctl("version", (void *)&version, &len, NULL, 0) != 0 || version == NULL) {
		snprintf(err, errlen, "jemalloc does not answer mallctl(\"version\")");
		return -ELIBACC;
	}
	snprintf(library, sizeof(library), "jemalloc %.60s (libjemalloc_pic.a)", version);
	*a = (struct kmb_baseline_alloc){
	        .name = "jemalloc",
	        .library = library,
	        .how = "linked statically, public symbols renamed kmb_je_* (objcopy)",
	        .malloc = je_malloc,
	        .aligned_alloc = je_aligned,
	        .free = je_free,
	        .usable_size = je_usable,
	        .footprint = je_footprint,
	        .stats = je_stats,
	        .owns = je_owns,
	        .trim = je_trim,
	};
	return 0;
}

static void *bl_alloc(struct kmb_backend *be, size_t size, int flags, size_t *usable)
{
	return kmb__bl_alloc(be, size, flags, usable, je_malloc, je_aligned, je_free, je_usable);
}

static size_t bl_free(struct kmb_backend *be, void *p)
{
	return kmb__bl_free(be, p, je_free, je_usable);
}

static size_t bl_usable(struct kmb_backend *be, const void *p)
{
	(void)be;
	return kmb_je_malloc_usable_size((void *)p);
}

const struct kmb_backend_ops kmb_jemalloc_ops =
        KMB__BL_OPS("jemalloc",
                    "baseline: jemalloc (Debian's libjemalloc, linked with renamed symbols), under "
                    "a byte budget",
                    bl_alloc, bl_free, bl_usable);
