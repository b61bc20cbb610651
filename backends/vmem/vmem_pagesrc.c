/*
 * backends/vmem/vmem_pagesrc.c - the page-source face of vmem ("...@vmem"): one arena over
 * all of simulated physical memory serves naturally aligned blocks of 2^order pages.
 *
 * 1. The arena "physmem": quantum one page, one span per NUMA node (kmb_vmem_add of the
 *    node's frames, so no block straddles two nodes), no source and no quantum caches.
 *    Its integers are the frames' addresses.  Its boundary tags and hash tables are pages
 *    carved from itself (vmem.c 4.), accounted as metadata.
 *
 * 2. alloc_pages(order) = kmb_vmem_xalloc(size = PAGE << order, align = size): aligned to
 *    its size in address, which is what a consumer that masks addresses relies on (the
 *    buddy aligns frame numbers counted from its zone's start: the same whenever the
 *    memory's base is aligned).  The head frame gets the order and the usage (data, or
 *    metadata with KMB_GFP_META), and the pages are accounted with kmb_physmem_account.
 *    free_pages checks the head frame, blanks the block's frames, fills the block with
 *    poison under INVARIANTS, and gives it back with kmb_vmem_xfree(size), whose hash
 *    lookup also checks the order.  Cost: a constrained instant-fit search; the
 *    allocation itself and the free with its coalescing are O(1).
 *
 * 3. Watermark (M_USE_RESERVE), as the default page source's (core/page_alloc.c 4.), as an
 *    arena floor:
 *        min_free_kbytes = int_sqrt(lowmem_kbytes * 16), clamped to [128, 262144]
 *        min   = min_free_kbytes >> (PAGE_SHIFT - 10) pages
 *        reserve floor = kmb_wmark_reserve(min) = min - min / 2 - min / 8, 3/8 of min
 *                        (GFP_ATOMIC: 512 -> 256 -> 192 pages for 256 MiB)
 *    A normal request fails when fewer than min pages would stay free after it; an
 *    M_USE_RESERVE request may go down to the reserve floor.  One floor for the whole
 *    memory, where the buddy has one per zone; the arena's own tag and hash pages ignore
 *    it (an allocation's metadata must not fail for want of it), a few pages at most.
 *    For 256 MiB: 65536 pages, min 512, reserve floor 192.
 *
 * 4. max_order: the largest order some node can hold as one aligned block and that a
 *    normal request can take with all memory free but one page of tags: 2^order <=
 *    npages - 1 - min.  For 256 MiB: 2^15 pages (128 MiB; 65536 - 513 leaves 65023).
 *
 * 5. Departures from the buddy: no per-CPU page lists, no zones (one arena; CPUs do not
 *    prefer their node), no Linux extfrag indices (they are defined on buddy free lists;
 *    kmb_extfrag reports -ENOTSUP for this source).
 *
 * 6. Statistics: the arena's counters with a "pages_" prefix, and its floor counters.
 */
#include "vmem_impl.h"

#include <kmbench/page_alloc.h> /* the default page source's watermarks */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct kmb__vmem_pages {
	struct kmb_pagesrc src;
	struct kmb_physmem *pm;
	kmb_vmem_t *arena;
	size_t min_pages, reserve_pages;
};

static struct kmb__vmem_pages *pages_of(struct kmb_pagesrc *ps)
{
	return ps->priv;
}

kmb_vmem_t *kmb_vmem_pagesrc_arena(struct kmb_pagesrc *ps)
{
	return pages_of(ps)->arena;
}

void kmb_vmem_pagesrc_floors(struct kmb_pagesrc *ps, size_t *min_pages, size_t *reserve_pages)
{
	*min_pages = pages_of(ps)->min_pages;
	*reserve_pages = pages_of(ps)->reserve_pages;
}

/* ---- blocks ------------------------------------------------------------------------------ */

static void *vp_alloc_pages(struct kmb_pagesrc *ps, unsigned order, int flags)
{
	struct kmb__vmem_pages *vp = pages_of(ps);
	enum kmb_page_usage usage = (flags & KMB_GFP_META) ? KMB_USE_META : KMB_USE_DATA;
	size_t size = KMB_PAGE_SIZE << order;
	struct kmb_page *pg;
	void *p;

	if (order > ps->max_order || kmb_fault_inject())
		return NULL;
	p = kmb_vmem_xalloc(vp->arena, size, size, 0, 0, 0, 0, flags & M_USE_RESERVE);
	if (p == NULL)
		return NULL;
	pg = kmb_page_of(vp->pm, p);
	pg->flags = 0;
	pg->order = (uint8_t)order;
	pg->usage = (uint8_t)usage;
	kmb_physmem_account(vp->pm, (long)1 << order, usage);
	return p;
}

static void vp_check_free(struct kmb__vmem_pages *vp, void *addr, unsigned order)
{
	struct kmb_physmem *pm = vp->pm;
	const struct kmb_page *pg;

	if (!kmb_physmem_contains(pm, addr) || ((char *)addr - pm->base) % KMB_PAGE_SIZE != 0)
		kmb_panic(KMB_PANIC_BAD_FREE, addr,
		          "vmem free_pages(%p, %u): not a page of physical memory", addr, order);
	pg = kmb_page_of(pm, addr);
	if (pg->usage == KMB_USE_FREE)
		kmb_panic(KMB_PANIC_DOUBLE_FREE, addr,
		          "vmem free_pages(%p, %u): not an allocated block (double free?)", addr,
		          order);
	if (pg->order != order)
		kmb_panic(KMB_PANIC_BAD_FREE, addr,
		          "vmem free_pages(%p, %u): the block has order %u", addr, order,
		          pg->order);
}

static void vp_free_pages(struct kmb_pagesrc *ps, void *addr, unsigned order)
{
	struct kmb__vmem_pages *vp = pages_of(ps);
	struct kmb_page *pg;
	enum kmb_page_usage usage;

	vp_check_free(vp, addr, order);
	pg = kmb_page_of(vp->pm, addr);
	usage = (enum kmb_page_usage)pg->usage;
	for (size_t i = 0; i < ((size_t)1 << order); i++) {
		pg[i].flags = 0;
		pg[i].order = 0;
		pg[i].usage = KMB_USE_FREE;
	}
	kmb_poison(vp->pm, addr, KMB_PAGE_SIZE << order);
	kmb_physmem_account(vp->pm, -((long)1 << order), usage);
	kmb_vmem_xfree(vp->arena, addr, KMB_PAGE_SIZE << order);
}

/* ---- observation ------------------------------------------------------------------------- */

static void vp_memstat(struct kmb_pagesrc *ps, struct kmb_memstat *ms)
{
	kmb_vmem_t *arena = pages_of(ps)->arena;

	ms->free_pages = kmb_vmem_size(arena, KMB_VMEM_FREE) >> KMB_PAGE_SHIFT;
	ms->largest_free = kmb_vmem_largest_free(arena, true);
}

#define PROW(f, unit, desc) {"pages_" #f, unit, desc, offsetof(struct kmb_vmem_kstat, f)},

static const struct kmb_stat_decl pages_stats_table[] = {
        VMEM_KSTAT_ARENA(PROW) /* every arena's */
        VMEM_KSTAT_FLOOR(PROW) /* the watermark's */
        KMB_LOCK_STAT_DECLS(struct kmb_vmem_kstat, arena_lock, "pages_arena",
                            "the page arena's mutex"),
};

static size_t vp_stats(struct kmb_pagesrc *ps, struct kmb_stat *out, size_t max)
{
	struct kmb_vmem_kstat ks;

	kmb_vmem_kstat(pages_of(ps)->arena, &ks);
	return kmb_stats_fill(pages_stats_table,
	                      sizeof(pages_stats_table) / sizeof(pages_stats_table[0]), &ks, out,
	                      max);
}

static void vp_drain(struct kmb_pagesrc *ps)
{
	kmb_vmem_reap(pages_of(ps)->arena);
}

static void vp_destroy(struct kmb_pagesrc *ps)
{
	struct kmb__vmem_pages *vp = pages_of(ps);

	kmb_vmem_destroy(vp->arena);
	free(vp);
}

/* ---- creation ----------------------------------------------------------------------------- */

static void set_floors(struct kmb__vmem_pages *vp)
{
	struct kmb_physmem *pm = vp->pm;
	unsigned long kbytes = kmb_min_free_kbytes((uint64_t)pm->npages << (KMB_PAGE_SHIFT - 10));
	size_t min = kbytes >> (KMB_PAGE_SHIFT - 10), res = kmb_wmark_reserve(min);

	vp->min_pages = min;
	vp->reserve_pages = res;
	kmb_vmem_set_floor(vp->arena, min << KMB_PAGE_SHIFT, res << KMB_PAGE_SHIFT);
}

/* Some node holds an aligned block of 2^order pages. */
static bool node_holds(const struct kmb_physmem *pm, unsigned order)
{
	uintptr_t size = (uintptr_t)KMB_PAGE_SIZE << order;

	for (unsigned n = 0; n < pm->nnodes; n++) {
		uintptr_t start = (uintptr_t)pm->base + (pm->node_start[n] << KMB_PAGE_SHIFT);
		uintptr_t end = (uintptr_t)pm->base + (pm->node_start[n + 1] << KMB_PAGE_SHIFT);
		uintptr_t a = P2ROUNDUP(start, size);

		if (a >= start && a + size <= end)
			return true;
	}
	return false;
}

static unsigned compute_max_order(const struct kmb__vmem_pages *vp)
{
	size_t npages = vp->pm->npages,
	       room = npages > 2 + vp->min_pages ? npages - 1 - vp->min_pages : 1;
	unsigned order = (unsigned)kmb__highbit(room) - 1;

	while (order > 0 && !node_holds(vp->pm, order))
		order--;
	return order;
}

static int add_nodes(struct kmb__vmem_pages *vp)
{
	struct kmb_physmem *pm = vp->pm;

	for (unsigned n = 0; n < pm->nnodes; n++) {
		uintptr_t start = (uintptr_t)pm->base + (pm->node_start[n] << KMB_PAGE_SHIFT);
		size_t pages = pm->node_start[n + 1] - pm->node_start[n];
		int rc = kmb_vmem_add(vp->arena, start, pages << KMB_PAGE_SHIFT, M_NOWAIT);

		if (rc != 0)
			return rc;
	}
	return 0;
}

int kmb_vmem_pagesrc_create(struct kmb_physmem *pm, unsigned ncpus, struct kmb_pagesrc **out)
{
	struct kmb_vmem_meta meta = {NULL, pm};
	struct kmb__vmem_pages *vp;
	int rc;

	*out = NULL;
	if (pm == NULL || pm->map == NULL || pm->nnodes == 0 || pm->nnodes > KMB_MAX_NODES ||
	    pm->npages < 16 || ncpus == 0 || ncpus > KMB_MAX_CPUS)
		return -EINVAL;
	if ((vp = calloc(1, sizeof(*vp))) == NULL)
		return -ENOMEM;
	vp->pm = pm;
	kmb_physmem_reset_map(pm);
	rc = kmb_vmem_create("physmem", 0, 0, KMB_PAGE_SIZE, NULL, NULL, NULL, 0, 0, &meta,
	                     &vp->arena);
	if (rc == 0 && (rc = add_nodes(vp)) != 0)
		kmb_vmem_destroy(vp->arena);
	if (rc != 0) {
		free(vp);
		return rc;
	}
	set_floors(vp);
	vp->src = (struct kmb_pagesrc){.name = "vmem",
	                               .alloc_pages = vp_alloc_pages,
	                               .free_pages = vp_free_pages,
	                               .max_order = compute_max_order(vp),
	                               .memstat = vp_memstat,
	                               .drain = vp_drain,
	                               .stats = vp_stats,
	                               .destroy = vp_destroy,
	                               .priv = vp};
	*out = &vp->src;
	return 0;
}

/* The registry's face: this page source declares no tunables (backend.h 5.). */
static int pagesrc_create(struct kmb_physmem *pm, unsigned ncpus, const long *tun,
                          struct kmb_pagesrc **out)
{
	(void)tun;
	return kmb_vmem_pagesrc_create(pm, ncpus, out);
}

const struct kmb_pagesrc_ops kmb_vmem_pagesrc_ops = {
        .name = "vmem",
        .summary = "pages from a Bonwick-Adams vmem arena over physical memory (natural "
                   "alignment, instant fit, min watermark)",
        .create = pagesrc_create,
};
