/*
 * backends/baseline/baseline_libc.c - the libc baseline: glibc's malloc, the process's own
 * (baseline.c explains the budget and the footprint).
 */
#include "baseline_impl.h"

#include <malloc.h>
#include <stdlib.h>

static void *libc_malloc(size_t size)
{
	void *p = malloc(size);

#ifdef KMB__BL_ASAN
	if (p) /* the core reports unbalanced kmalloc/kfree itself (baseline.c 5.) */
		__lsan_ignore_object(p);
#endif
	return p;
}

static void *libc_aligned(size_t align, size_t size)
{
	void *p = aligned_alloc(align, size);

#ifdef KMB__BL_ASAN
	if (p)
		__lsan_ignore_object(p);
#endif
	return p;
}

static void libc_free_raw(void *p)
{
	free(p);
}

static size_t libc_usable(void *p)
{
	return malloc_usable_size(p);
}

static int libc_footprint(uint64_t *data, uint64_t *meta, uint64_t *idle)
{
	struct mallinfo2 mi = mallinfo2();

	*data = (uint64_t)mi.arena + (uint64_t)mi.hblkhd;
	*meta = 0;
	*idle = mi.fordblks;
	return 0;
}

/*
 * glibc keeps its own policy while booted (baseline.c 4.): its thresholds cannot be set
 * without ending their dynamic adjustment, which decides where large blocks go (mmap or
 * the heap) and so changes what is measured; after a large block's first free, blocks of
 * its size come from the heap, whose top is trimmed only above twice that size.
 */
static void libc_trim(bool at_boot)
{
	(void)at_boot;
	malloc_trim(0);
}

static size_t libc_stats(struct kmb_stat *out, size_t max)
{
	struct mallinfo2 mi = mallinfo2();
	struct kmb_stat s[] = {
	        KMB__BL_STAT("libc.arena", "bytes", "mallinfo2 arena: heap bytes from sbrk/mmap",
	                     mi.arena),
	        KMB__BL_STAT("libc.hblkhd", "bytes", "mallinfo2 hblkhd: bytes in mmapped chunks",
	                     mi.hblkhd),
	        KMB__BL_STAT("libc.uordblks", "bytes", "mallinfo2 uordblks: bytes in use",
	                     mi.uordblks),
	        KMB__BL_STAT("libc.fordblks", "bytes", "mallinfo2 fordblks: free bytes in the heap",
	                     mi.fordblks),
	        KMB__BL_STAT("libc.keepcost", "bytes", "mallinfo2 keepcost: releasable top",
	                     mi.keepcost),
	        KMB__BL_STAT("libc.ordblks", "chunks", "mallinfo2 ordblks: free chunks",
	                     mi.ordblks),
	};
	size_t n = sizeof(s) / sizeof(s[0]);

	n = n < max ? n : max;
	for (size_t i = 0; i < n; i++)
		out[i] = s[i];
	return n;
}

static int libc_owns(const void *p)
{
	(void)p;
	return -1; /* glibc cannot tell */
}

int kmb__bl_libc_load(struct kmb_baseline_alloc *a, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	*a = (struct kmb_baseline_alloc)
	{
		.name = "libc",
#if defined(KMB__BL_ASAN)
		.library = "the AddressSanitizer runtime's malloc (it replaces glibc's)",
#elif defined(KMB__BL_TSAN)
		.library = "the ThreadSanitizer runtime's malloc (it replaces glibc's)",
#else
		.library = "glibc",
#endif
		.how = "the process's malloc, called directly", .malloc = libc_malloc,
		.aligned_alloc = libc_aligned, .free = libc_free_raw, .usable_size = libc_usable,
		.footprint = libc_footprint, .stats = libc_stats, .owns = libc_owns,
		.trim = libc_trim,
	};
	return 0;
}

static void *bl_alloc(struct kmb_backend *be, size_t size, int flags, size_t *usable)
{
	return kmb__bl_alloc(be, size, flags, usable, libc_malloc, libc_aligned, libc_free_raw,
	                     libc_usable);
}

static size_t bl_free(struct kmb_backend *be, void *p)
{
	return kmb__bl_free(be, p, libc_free_raw, libc_usable);
}

static size_t bl_usable(struct kmb_backend *be, const void *p)
{
	(void)be;
	return malloc_usable_size((void *)p);
}

const struct kmb_backend_ops kmb_libc_ops =
        KMB__BL_OPS("libc", "baseline: glibc malloc (the process's own), under a byte budget",
                    bl_alloc, bl_free, bl_usable);
