/*
 * backends/vmem/vmem_kmalloc.c - kmalloc over vmem ("vmem", "vmem@PAGESOURCE"): one arena,
 * "kmem", that imports spans from the page source and has quantum caches in front of it.
 *
 * 1. The arena.  Quantum 16 bytes (KMB_MIN_ALIGN: the alignment kmalloc owes to any block
 *    of 16 bytes or more); its integers are addresses in physical memory.  It imports from
 *    be->pages with kmb_vmem_pagesrc_import (spans of 2^order pages, naturally aligned, so
 *    KMB_VMC_XALIGN: no extra is imported for an alignment up to the span's size), at least
 *    KMEM_IMPORT bytes at a time, and gives a span back as soon as it is wholly free.  Its
 *    boundary tags and hash tables are KMB_GFP_META pages of the same page source.
 *
 * 2. Sizes and alignment (backend.h 3.):
 *        1 .. 256 B           quantum caches, usable size rounded up to 16: every size
 *                             class divides the page-aligned slab, so a power of two is
 *                             naturally aligned and the rest 16-aligned;
 *        power of two <= PAGE kmb_vmem_xalloc(size, align = size): naturally aligned;
 *        multiple of PAGE     kmb_vmem_xalloc(size, align = PAGE);
 *        anything else        kmb_vmem_alloc, instant fit, 16-aligned.
 *    The usable size is the segment's (sizes are rounded up to the quantum) or the quantum
 *    cache's object size: exact, as vmem hands out exactly what was asked, rounded.  A
 *    quantum cache object's size is in its slab's struct kmb_page (no lock); an arena
 *    block's is found in the arena's hash, under its lock - the price of kfree and
 *    usable_size carrying no size, where illumos's kmem_free(buf, size) is told.
 *    free_sized (kmem_free(p, size), backend.h 3.) is told the size, and uses it as
 *    vmem_free(vm, addr, size) does: the size chooses the layer, so an arena block is
 *    freed without first reading its page descriptor to rule out a quantum cache (kfree's
 *    order), and a quantum cache object goes to the cache of its size (its slab page is
 *    still read, to check that it holds objects of that size).  The arena's hash still
 *    finds the boundary tag - vmem frees by tag, told the size or not - and a size that
 *    is not the segment's panics there, as in illumos.
 *    max_size is the largest block the page source can ever give: PAGE << max_order.
 *
 * 3. qcache_max = 16 quanta = 256 bytes: illumos's limit of VMEM_NQCACHE_MAX = 16 quantum
 *    caches per arena.  It is the default of the tunable qcache_max ("vmem(qcache_max=64)"),
 *    which may lower it, in multiples of the quantum (a value between is rounded down), to
 *    0: every size then goes to the arena (the power-of-two rule of 2. applies from 16 B).
 *    In the bundled boot trace, sizes of 256 bytes and less are 64% of the kmalloc and
 *    kmem_cache requests (5568 of 8643; 64 and 128 bytes lead), so most requests are
 *    served from a CPU's magazines, without a lock, and never reach the arena.  The next
 *    size, the 272-byte objects (1101 requests), falls just above and is served by the
 *    arena.
 *
 * 4. KMEM_IMPORT = 64 KiB (order 4): every sub-page size the arena serves itself - 272 to
 *    4095 bytes, and page-aligned page blocks - must share a span with many neighbours,
 *    or each span would hold only a few blocks and every few allocations would import;
 *    16 pages hold at least 16 of any block up to a page and 240 of the 272-byte kmem_cache
 *    objects that dominate the trace above the caches.  It is the slab allocator's usual
 *    "at least 16 objects per slab" applied to spans, and keeps imports well below the
 *    buddy's largest order (10), so that giving a wholly free span back merges in the
 *    buddy instead of leaving holes.  A larger request imports its own span, rounded up
 *    to a power of two pages by the page source.  Measured on the boot trace: 32 KiB spans
 *    churn (73 imports, 50 given back, mostly around the 4 KiB blocks), 64 KiB ones do not
 *    (12 imports, none given back), 128 KiB saves little more (10); the peak footprint is
 *    the same for all three (872448 bytes).
 *
 * 5. Per-CPU state: the quantum caches' magazines (vmem_qcache.c 4.).  drain is
 *    kmb_vmem_reap (the caller's CPU, the shared entry, the depots, empty slabs);
 *    thread_detach gives the detaching thread's CPU magazines back (kmb_vmem_cpu_flush);
 *    other attached CPUs flush at their next slow path after a drain.  A quantum cache
 *    allocation reports its cache's object size (size rounded up to 16) without looking
 *    the block up.  No native kmem_cache (the core serves kmem_cache_* from alloc); the
 *    quantum caches never write into objects, so freelist_bytes is 0.
 *
 * 6. Statistics: the arena's counters (vmem.c 8.) as a declared table, the page source's
 *    after them (the core appends them).
 */
#include "vmem_impl.h"

#include <errno.h>
#include <stdlib.h>

#define KMEM_QUANTUM    KMB_MIN_ALIGN
#define KMEM_QCACHE_MAX (VMEM_NQCACHE_MAX * KMEM_QUANTUM) /* 256 */
#define KMEM_IMPORT     ((size_t)64 << 10)
/* Below qcache_max = 16 (3.) the arena serves sizes under a quantum: as one quantum */
#define ARENA_SIZE(size) ((size) < KMEM_QUANTUM ? (size_t)KMEM_QUANTUM : (size))

struct kmb__vmem_kmem {
	kmb_vmem_t *arena;
	size_t qcache_max; /* the qcache_max tunable, rounded down to the quantum (3.) */
	struct kmb_physmem *pm;
	struct kmb_pagesrc *pages;
};

static struct kmb__vmem_kmem *kmem_of(const struct kmb_backend *be)
{
	return be->priv;
}

kmb_vmem_t *kmb_vmem_kmem_arena(const struct kmb_backend *be)
{
	return kmem_of(be)->arena;
}

/* ---- importing from a page source ----------------------------------------------------- */

static unsigned order_for(size_t bytes)
{
	size_t pages = (bytes + KMB_PAGE_SIZE - 1) >> KMB_PAGE_SHIFT;

	return pages <= 1 ? 0 : (unsigned)kmb__highbit(pages - 1);
}

void *kmb_vmem_pagesrc_import(void *source, size_t *sizep, size_t align, int flags)
{
	struct kmb_pagesrc *ps = source;
	unsigned order = order_for(*sizep), aorder = order_for(align);
	void *p;

	if (aorder > order)
		order = aorder;
	if (order > ps->max_order)
		return NULL;
	p = ps->alloc_pages(ps, order, flags & M_USE_RESERVE);
	if (p != NULL)
		*sizep = KMB_PAGE_SIZE << order;
	return p;
}

void kmb_vmem_pagesrc_release(void *source, void *addr, size_t size)
{
	struct kmb_pagesrc *ps = source;

	ps->free_pages(ps, addr, order_for(size));
}

/* ---- the backend ops ---------------------------------------------------------------------- */

static int kmem_init(struct kmb_backend *be)
{
	struct kmb__vmem_kmem *k;
	struct kmb_vmem_meta meta = {be->pages, be->pm};
	int rc;

	if (be->pages == NULL)
		return -EINVAL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return -ENOMEM;
	k->qcache_max = P2ALIGN((size_t)be->tun[0], KMEM_QUANTUM);
	rc = kmb_vmem_create("kmem", 0, 0, KMEM_QUANTUM, kmb_vmem_pagesrc_import,
	                     kmb_vmem_pagesrc_release, be->pages, k->qcache_max, KMB_VMC_XALIGN,
	                     &meta, &k->arena);
	if (rc != 0) {
		free(k);
		return rc;
	}
	kmb_vmem_set_min_import(k->arena, KMEM_IMPORT);
	k->pm = be->pm;
	k->pages = be->pages;
	be->priv = k;
	return 0;
}

static void kmem_fini(struct kmb_backend *be)
{
	struct kmb__vmem_kmem *k = kmem_of(be);

	kmb_vmem_destroy(k->arena);
	free(k);
	be->priv = NULL;
}

static void *kmem_alloc_block(const struct kmb__vmem_kmem *k, size_t size, int f)
{
	kmb_vmem_t *arena = k->arena;

	size = ARENA_SIZE(size);
	if (size <= k->qcache_max)
		return kmb_vmem_alloc(arena, size, f);
	if (size <= KMB_PAGE_SIZE && VMEM_IS_P2(size))
		return kmb_vmem_xalloc(arena, size, size, 0, 0, 0, 0, f);
	if ((size & (KMB_PAGE_SIZE - 1)) == 0)
		return kmb_vmem_xalloc(arena, size, KMB_PAGE_SIZE, 0, 0, 0, 0, f);
	return kmb_vmem_alloc(arena, size, f);
}

static size_t kmem_usable_size(struct kmb_backend *be, const void *addr);

static void *kmem_alloc(struct kmb_backend *be, size_t size, int flags, size_t *usable)
{
	const struct kmb__vmem_kmem *k = kmem_of(be);
	void *p;

	if (kmb_likely(size <= k->qcache_max)) { /* the cache's object size, known */
		p = kmb__vmem_qcache_alloc(k->arena, size, flags & M_USE_RESERVE);
		*usable = P2ROUNDUP(size, KMEM_QUANTUM);
		return p;
	}
	p = kmem_alloc_block(k, size, flags & M_USE_RESERVE);
	if (p != NULL)
		*usable = kmem_usable_size(be, p);
	return p;
}

static size_t kmem_free(struct kmb_backend *be, void *addr)
{
	struct kmb__vmem_kmem *k = kmem_of(be);
	size_t objsize;

	if (!kmb_physmem_contains(k->pm, addr))
		kmb_panic(KMB_PANIC_BAD_FREE, addr, "kfree(%p): vmem: not in physical memory",
		          addr);
	objsize = kmb__vmem_qcache_kfree(k->arena, addr);
	if (kmb_likely(objsize != 0))
		return objsize;
	return kmb_vmem_xfree(k->arena, addr, 0); /* a bad address panics there */
}

static size_t kmem_free_sized(struct kmb_backend *be, void *addr, size_t size)
{
	const struct kmb__vmem_kmem *k = kmem_of(be);

	if (kmb_likely(size <= k->qcache_max)) {
		kmb__vmem_qcache_free(k->arena, addr, size);
		return P2ROUNDUP(size, KMEM_QUANTUM);
	}
	return kmb_vmem_xfree(k->arena, addr, ARENA_SIZE(size));
}

static size_t kmem_usable_size(struct kmb_backend *be, const void *addr)
{
	struct kmb__vmem_kmem *k = kmem_of(be);
	size_t size = kmb_vmem_qcache_objsize(k->pm, addr);

	if (size == 0)
		size = kmb_vmem_lookup(k->arena, addr);
	kmb_assert(size != 0);
	return size;
}

static size_t kmem_max_size(struct kmb_backend *be)
{
	return KMB_PAGE_SIZE << be->pages->max_order;
}

/* free_pages comes from the page source (the core asked it first); a block as large as
 * the arena's largest free segment can be had without importing. */
static void kmem_memstat(struct kmb_backend *be, struct kmb_memstat *ms)
{
	size_t lf = kmb_vmem_largest_free(kmem_of(be)->arena, false);

	if (lf > ms->largest_free)
		ms->largest_free = lf;
}

static void kmem_drain(struct kmb_backend *be)
{
	kmb_vmem_reap(kmem_of(be)->arena);
}

/* The detaching thread still owns its CPU: it gives that CPU's magazines back. */
static void kmem_thread_detach(struct kmb_backend *be, unsigned cpu)
{
	(void)cpu;
	kmb_vmem_cpu_flush(kmem_of(be)->arena);
}

#define ROW(f, unit, desc) {#f, unit, desc, offsetof(struct kmb_vmem_kstat, f)},

static const struct kmb_stat_decl kmem_stats_table[] = {
        VMEM_KSTAT_ARENA(ROW) VMEM_KSTAT_IMPORT(ROW) VMEM_KSTAT_QCACHE(ROW)
                KMB_LOCK_STAT_DECLS(struct kmb_vmem_kstat, arena_lock, "arena", "the arena mutex"),
        KMB_LOCK_STAT_DECLS(struct kmb_vmem_kstat, qc_lock, "qc_depot",
                            "the quantum caches' depot mutexes"),
        KMB_LOCK_STAT_DECLS(struct kmb_vmem_kstat, qc_shared_lock, "qc_shared",
                            "the quantum caches' shared CPU entry mutexes"),
};

static size_t kmem_stats(struct kmb_backend *be, struct kmb_stat *out, size_t max)
{
	struct kmb_vmem_kstat ks;

	kmb_vmem_kstat(kmem_of(be)->arena, &ks);
	return kmb_stats_fill(kmem_stats_table,
	                      sizeof(kmem_stats_table) / sizeof(kmem_stats_table[0]), &ks, out,
	                      max);
}

/* The picture of memory (kmb_frame_map): quantum cache slabs, the rest of imported spans. */
static int kmem_frame_kind(struct kmb_backend *be, size_t pfn)
{
	int k = kmb__vmem_qcache_frame_kind(&be->pm->map[pfn]);

	return k != KMB_FRAME_UNKNOWN ? k : KMB_FRAME_VMEM_SPAN;
}

/* 3.: at most illumos's 16 quantum caches; 0 leaves every size to the arena. */
static const struct kmb_tunable kmem_tunables[] = {
        {"qcache_max",
         "largest size served by the quantum caches, bytes, rounded down to 16 (0: none)",
         KMEM_QCACHE_MAX, 0, KMEM_QCACHE_MAX},
};

const struct kmb_backend_ops kmb_vmem_ops = {
        .name = "vmem",
        .summary = "Bonwick-Adams vmem: an arena importing spans from the page source, "
                   "instant fit, quantum caches up to 256 B with per-CPU magazines",
        .freelist_bytes = 0,
        .natural_pow2 = true, /* power-of-two sizes up to a page: xalloc with align = size */
        .default_pages = "buddy",
        .init = kmem_init,
        .fini = kmem_fini,
        .alloc = kmem_alloc,
        .free = kmem_free,
        .free_sized = kmem_free_sized,
        .usable_size = kmem_usable_size,
        .max_size = kmem_max_size,
        .memstat = kmem_memstat,
        .stats = kmem_stats,
        .drain = kmem_drain,
        .thread_detach = kmem_thread_detach,
        .frame_kind = kmem_frame_kind,
        .tunables = kmem_tunables,
        .ntunables = sizeof(kmem_tunables) / sizeof(kmem_tunables[0]),
};
