/*
 * backends/vmem/vmem.c - the vmem resource allocator: arenas of integers, their spans,
 * boundary tags, power-of-two freelists and allocation hash, in the manner of Bonwick &
 * Adams, "Magazines and Vmem: Extending the Slab Allocator to Many CPUs and Arbitrary
 * Resources" (USENIX 2001) and illumos usr/src/uts/common/os/vmem.c.
 *
 * BIG THEORY STATEMENT
 *
 * 1. Concepts.
 *
 *    An arena is a set of integers - here mostly addresses of simulated physical memory,
 *    but any integers other than 0 will do (the tests allocate plain numbers).  It is made
 *    of spans, contiguous ranges added by kmb_vmem_add() or imported from a source (another
 *    arena, or a page source) when the arena runs short.  Spans are cut into segments,
 *    each allocated or free: an allocated segment [a, a + size) is exactly one allocation
 *    that returned a; free segments are the space between, and two adjacent free segments
 *    are always merged.  Segments never cross a span; an imported span whose segments are
 *    all free again goes back to its source at once.  The quantum (a power of two) is the
 *    unit: every size is rounded up to it and every segment is quantum aligned.
 *
 *    kmb_vmem_xalloc() takes constraints: an alignment, a phase from it (addr % align ==
 *    phase), a nocross boundary the segment must not straddle, and [minaddr, maxaddr).
 *    kmb_vmem_alloc() is the unconstrained case, with a policy: instant fit (default),
 *    best fit, first fit or next fit (3.).  Quantum caches (vmem_qcache.c) serve sizes of
 *    1..qcache_max / quantum quanta in front of the arena, so the hottest small sizes
 *    neither take the arena lock nor fragment it: each is a kmem-style cache, per-CPU
 *    magazines and a depot over slabs of one page, and a thread attached to a CPU
 *    allocates and frees in its own magazines without any lock or atomic
 *    read-modify-write.
 *
 * 2. Data structures (vmem_impl.h).
 *
 *    boundary tag   struct kmb__vmem_seg, 56 bytes: start, end, two doubly linked lists and
 *                   a type.  The arena list (vs_anext/vs_aprev) holds every segment of
 *                   every span in address order within each span, each span preceded by
 *                   its span marker (a tag of type SPAN) and the whole list anchored at
 *                   vm_seg0 (type SPAN too), so "both neighbours are SPAN tags" says that a
 *                   free segment covers its whole span.  The next-of-kin list (vs_knext/
 *                   vs_kprev) is, by type: the freelist of a free segment, the hash chain of
 *                   an allocated one, the span list for a span marker.
 *    freelists      vm_freelist[n] holds the free segments of size [2^n, 2^(n+1)),
 *                   n = highbit(size) - 1, 64 lists for 64-bit sizes.  The list heads are
 *                   tags with start 0 chained into one long list (head 0, its segments,
 *                   head 1, ...), so a segment whose two kin are heads is the last of its
 *                   list; vm_freemap has bit n set iff list n is not empty.
 *    hash           allocated segments hashed by start address, chained through vs_knext:
 *                   illumos's VMEM_HASH_INDEX(a) = ((a + (a >> s) + (a >> 2s)) >> qshift)
 *                   & mask with s = highbit(mask).  The first 16 buckets live in the arena
 *                   (vm_hash0); larger tables in metadata pages.
 *    tag free list  vm_segfree, the arena's spare tags, at least VMEM_MINFREE before any
 *                   operation (5.).  Tags come a page at a time (72 per page after a header
 *                   that links the arena's tag pages and counts their free tags).
 *    the rotor      a tag of type ROTOR in the arena list: where next fit resumes.
 *
 * 3. Algorithms, and their costs (n free segments, h hash chain length).
 *
 *    instant fit    kmb_vmem_alloc: the first segment of the smallest non-empty list that
 *                   certainly fits: list highbit(size) (sizes >= 2^highbit(size) > size),
 *                   or list log2(size) for an exact power of two; found with one find-
 *                   first-set on vm_freemap: O(1).  When no such list exists it falls back
 *                   to the search below (the list that only might fit, then import).
 *    best fit       the search starts at the list that might fit (highbit(size) - 1) and
 *                   takes the smallest fitting segment of the first list that has one:
 *                   O(segments of that list).
 *    first fit      the same search, stopping at the first fitting segment.
 *    next fit       from the rotor, the next free segment that fits, wrapping around; the
 *                   rotor moves past the new segment (vmem_nextfit_alloc): O(1) when the
 *                   segment after the rotor fits, O(all segments) at worst.
 *    xalloc         the search for segments that fit with the constraints: in each
 *                   candidate, taddr = P2PHASEUP(max(start, minaddr), align, phase), moved
 *                   to the next nocross boundary if [taddr, taddr + size) crosses one;
 *                   fits if it ends by min(end, maxaddr).  Instant fit unless told otherwise;
 *                   VM_ENDALLOC then takes the highest such address in the segment.
 *    seg_alloc      carving [addr, addr + size) out of a free segment: the remainders
 *                   before and after go back on their lists (0, 1 or 2 new tags); when the
 *                   allocation is at the start and the remainder stays on the same list
 *                   the free tag is just shortened: O(1).
 *    free           kmb_vmem_xfree: the hash finds the tag (O(h)), which merges with a free
 *                   next and a free previous neighbour (O(1)); a free segment covering an
 *                   imported span gives the span back.  An address the hash does not know
 *                   panics, after a walk of the arena (O(segments)) tells a double free (the
 *                   address is inside a free segment) from a bad one.
 *    import         when nothing fits and there are no address constraints: ask the source
 *                   for max(size + extra for alignment, vm_min_import) rounded to its
 *                   quantum, with the arena lock dropped; if meanwhile another thread made
 *                   room, the import goes straight back (vmem_canalloc).
 *    hash rescale   new size max(16, 2^(highbit(3 * nseg + 4) - 2)), i.e. a load factor
 *                   between 3/4 and 3/2 (illumos vmem_hash_rescale), applied when it is more
 *                   than twice or less than half the current size: O(nseg), amortised O(1).
 *
 * 4. Metadata lives in simulated physical memory.
 *
 *    Tags and hash tables come from struct kmb_vmem_meta (vmem.h): pages of a page source,
 *    taken with KMB_GFP_META, or - for the arena that is itself the page source - pages
 *    carved from the arena (illumos vmem_populate on vmem_seg_arena), accounted in the
 *    physical memory as metadata.  VMEM_SEG_BOOT tags inside the arena structure bootstrap
 *    it (illumos's static vmem_seg0[200]); the structure itself, with the quantum caches'
 *    per-CPU entries (65 of 64 bytes per cache), comes from the C heap, like illumos's
 *    first arenas (vmem0[]), and is not counted.  The quantum caches' magazines are
 *    metadata pages taken the same way as tag pages (vmem_qcache.c 3.).
 *
 * 5. Numbers.
 *
 *    VMEM_MINFREE = 6   the worst operation takes 4 tags (import a span: 2, then allocate
 *                       from its middle: 2); before it the arena tops its spares up to this,
 *                       and the top-up itself, when it carves a page from the arena, is one
 *                       more allocation (at most 2 tags, VMEM_POPULATE_RESERVE).  Nothing else
 *                       recurses here, so illumos's 12-tag populate reserve for 4 threads
 *                       populating vmem_seg_arena at once is not needed.
 *    VMEM_SEG_BOOT = 8  the first span's 2 tags before anything can be carved, + MINFREE.
 *    72 tags a page     (4096 / 56) - 1: the first slot is the page header.
 *    hash 16 -> ...     see 3.; a table of b buckets takes b * 8 bytes, rounded up to
 *                       2^k pages (one page up to 512 buckets); back to the 16 inside the
 *                       arena when the count falls that low.
 *
 * 6. Locking.
 *
 *    One mutex per arena (vm_lock) over everything in it, as in illumos, the quantum
 *    caches' pool of magazines included.  Each quantum cache has a mutex over its depot
 *    and slab layer, taken before the arena's, and one over its shared CPU entry (threads
 *    not attached to a CPU), taken before that; an attached thread's own CPU entries take
 *    no lock (vmem_qcache.c 4., 7.).  The arena lock is dropped around imports and around
 *    giving spans back, so a source's lock is never taken under it on those paths; tag,
 *    hash and magazine pages are taken from and given back to the metadata page source
 *    with the lock held (order: shared CPU entry, quantum cache, arena, page source;
 *    nothing calls back up).  While the lock is dropped for an import, the tags the
 *    operation will need are kept out of vm_nsegfree (illumos's resv).  The per-policy
 *    call counters are bumped with relaxed atomics outside the lock.  Every lock is a
 *    kmbench adaptive mutex (kmbench/lock.h), illumos's kmutex_t: a waiter spins while the
 *    holder runs and sleeps when it does not; their contention is the "arena.lock_*",
 *    "qc_depot.lock_*" and "qc_shared.lock_*" statistics ("pages_arena.lock_*" for vmem
 *    as a page source).
 *
 * 7. Departures from illumos.
 *
 *    - Sizes are rounded up to the quantum when a request enters, so a segment's size is the
 *      size handed out (illumos keeps the unrounded end and rounds it on free).
 *    - No sleeping (VM_SLEEP): every call is VM_NOSLEEP; the core sleeps and retries.
 *    - kmb_vmem_xfree(addr, 0) frees whatever segment starts at addr (kfree gives no size).
 *    - The hash is rescaled on demand, at the end of the allocation or free that moved the
 *      segment count out of range, not by vmem_update() every 15 seconds.
 *    - Metadata as in 4.; tag pages whose tags are all spare go back on kmb_vmem_reap()
 *      (illumos keeps them forever on a global list).  Tags never move, so a page holding
 *      one tag in use stays; an arena carving its own metadata carves it best fit at the
 *      end of a segment (VM_ENDALLOC), so tag pages fill holes or gather at the top, away
 *      from the data, and free each other as they go back.
 *    - Floors (kmb_vmem_set_floor): the page allocator's min watermark, for the page-source
 *      arena; illumos has no such thing.
 *    - Quantum caches are written for vmem (the slab backend is a separate library): kmem's
 *      CPU layer, depot and slab layer for objects of one page's slabs, with fixed-size
 *      magazines and no depot working set (vmem_qcache.c 8. lists the differences).
 *    - No VMC_IDENTIFIER, VM_PANIC, auditing, vmem_mtbf fault injection.
 *
 * 8. Observation.
 *
 *    kmb_vmem_kstat: illumos's kstats (mem_inuse, mem_import, mem_total, alloc, free, fail,
 *    lookup, search, populate_fail) and gauges of tags, spans, hash size and rescales,
 *    imports and exports, tag pages, calls per policy, and the quantum caches' magazine
 *    and depot traffic, slab-layer hits and misses, magazines and slabs (vmem_qcache.c
 *    9.); kmb_vmem_size, kmb_vmem_largest_free, kmb_vmem_walk.  Objects cached in
 *    magazines count as allocated in mem_inuse, as they do in the slab layer.
 */
#include "vmem_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Insert vsp after vprev / delete it, in the arena list (a) or the kin list (k). */
#define VMEM_INSERT(vprev, vsp, type)                                                              \
	do {                                                                                       \
		kmb__vmem_seg_t *vnext_ = (vprev)->vs_##type##next;                                \
		(vsp)->vs_##type##next = vnext_;                                                   \
		(vsp)->vs_##type##prev = (vprev);                                                  \
		(vprev)->vs_##type##next = (vsp);                                                  \
		vnext_->vs_##type##prev = (vsp);                                                   \
	} while (0)

#define VMEM_DELETE(vsp, type)                                                                     \
	do {                                                                                       \
		kmb__vmem_seg_t *vprev_ = (vsp)->vs_##type##prev;                                  \
		kmb__vmem_seg_t *vnext_ = (vsp)->vs_##type##next;                                  \
		vprev_->vs_##type##next = vnext_;                                                  \
		vnext_->vs_##type##prev = vprev_;                                                  \
	} while (0)

void kmb__vmem_count(uint64_t *ctr)
{
	__atomic_add_fetch(ctr, 1, __ATOMIC_RELAXED);
}

/* ---- metadata pages (4.) -------------------------------------------------------------- */

static void self_page_account(kmb_vmem_t *vmp, void *page, unsigned order, bool take)
{
	struct kmb_physmem *pm = vmp->vm_meta.pm;
	struct kmb_page *pg = kmb_page_of(pm, page);

	pg->order = (uint8_t)(take ? order : 0);
	pg->usage = (uint8_t)(take ? KMB_USE_META : KMB_USE_FREE);
	kmb_physmem_account(pm, take ? (long)1 << order : -((long)1 << order), KMB_USE_META);
}

/* 2^order pages of metadata, lock held.  Carved from the arena itself, they go best fit
 * and at the end of their segment (VM_ENDALLOC): into a hole if there is one, else at the
 * top, away from instant fit's allocations at the bottom of the segments, so pinned
 * metadata does not cut physical memory into pieces. */
static void *meta_alloc(kmb_vmem_t *vmp, unsigned order, int flags)
{
	struct kmb_pagesrc *ps = vmp->vm_meta.pages;
	void *xaddr = NULL, *p;
	size_t xsize = 0;

	if (ps != NULL) {
		p = ps->alloc_pages(ps, order, KMB_GFP_META | (flags & M_USE_RESERVE));
	} else {
		p = kmb__vmem_xalloc_locked(vmp, KMB_PAGE_SIZE << order, KMB_PAGE_SIZE, 0, 0, 0, 0,
		                            KMB__VM_INTERNAL | KMB_VM_BESTFIT | KMB_VM_ENDALLOC,
		                            &xaddr, &xsize);
		if (p != NULL)
			self_page_account(vmp, p, order, true);
	}
	if (p != NULL)
		vmp->vm_kstat.meta_pages += (uint64_t)1 << order;
	return p;
}

/* Give metadata pages back, lock held; final: the arena is being destroyed. */
static void meta_free(kmb_vmem_t *vmp, void *p, unsigned order, bool final)
{
	struct kmb_pagesrc *ps = vmp->vm_meta.pages;
	uintptr_t rel_addr = 0;
	size_t rel_size = 0;

	vmp->vm_kstat.meta_pages -= (uint64_t)1 << order;
	if (ps != NULL) {
		ps->free_pages(ps, p, order);
		return;
	}
	kmb_poison(vmp->vm_meta.pm, p, KMB_PAGE_SIZE << order);
	self_page_account(vmp, p, order, false);
	if (!final)
		kmb__vmem_xfree_locked(vmp, (uintptr_t)p, KMB_PAGE_SIZE << order, &rel_addr,
		                       &rel_size);
	kmb_assert(rel_size == 0); /* an arena carving its metadata has no source */
}

/* One page of metadata for another part of the arena (the quantum caches' magazines),
 * lock held: from the page source, or carved from the arena with its tags topped up
 * first, as the hash tables are. */
void *kmb__vmem_meta_page_alloc(kmb_vmem_t *vmp)
{
	if (vmp->vm_meta.pages == NULL && kmb__vmem_populate(vmp, 0) != 0)
		return NULL;
	return meta_alloc(vmp, 0, 0);
}

void kmb__vmem_meta_page_free(kmb_vmem_t *vmp, void *page)
{
	meta_free(vmp, page, 0, false);
}

/* ---- the tag free list ------------------------------------------------------------------ */

static bool seg_is_boot(const kmb_vmem_t *vmp, const kmb__vmem_seg_t *vsp)
{
	return vsp >= vmp->vm_segboot && vsp < vmp->vm_segboot + VMEM_SEG_BOOT;
}

static struct kmb__vmem_segpage *segpage_of(const kmb__vmem_seg_t *vsp)
{
	return (struct kmb__vmem_segpage *)((uintptr_t)vsp & ~(uintptr_t)(KMB_PAGE_SIZE - 1));
}

static void segfree_push(kmb_vmem_t *vmp, kmb__vmem_seg_t *vsp)
{
	vsp->vs_knext = vmp->vm_segfree;
	vmp->vm_segfree = vsp;
	vmp->vm_nsegfree++;
	if (!seg_is_boot(vmp, vsp))
		segpage_of(vsp)->sp_nfree++;
}

static kmb__vmem_seg_t *vmem_getseg(kmb_vmem_t *vmp)
{
	kmb__vmem_seg_t *vsp = vmp->vm_segfree;

	kmb_assert(vsp != NULL && vmp->vm_nsegfree > 0);
	vmp->vm_segfree = vsp->vs_knext;
	vmp->vm_nsegfree--;
	if (!seg_is_boot(vmp, vsp))
		segpage_of(vsp)->sp_nfree--;
	vmp->vm_kstat.segs++;
	return vsp;
}

static void vmem_putseg(kmb_vmem_t *vmp, kmb__vmem_seg_t *vsp)
{
	segfree_push(vmp, vsp);
	vmp->vm_kstat.segs--;
}

static void segpage_link(kmb_vmem_t *vmp, struct kmb__vmem_segpage *sp)
{
	struct kmb__vmem_segpage *head = &vmp->vm_segpages;

	sp->sp_next = head->sp_next;
	sp->sp_prev = head;
	head->sp_next->sp_prev = sp;
	head->sp_next = sp;
}

static void segpage_unlink(struct kmb__vmem_segpage *sp)
{
	sp->sp_prev->sp_next = sp->sp_next;
	sp->sp_next->sp_prev = sp->sp_prev;
}

/* A page of tags: header in slot 0, the rest on the free list. */
static void segpage_add(kmb_vmem_t *vmp, void *page)
{
	struct kmb__vmem_segpage *sp = page;
	kmb__vmem_seg_t *segs = page;

	sp->sp_nfree = 0;
	sp->sp_release = 0;
	segpage_link(vmp, sp);
	for (size_t i = VMEM_SEGS_PER_PAGE; i >= 1; i--)
		segfree_push(vmp, &segs[i]);
	vmp->vm_kstat.tag_pages++;
	vmp->vm_kstat.populate++;
}

/* Top the spare tags up to VMEM_MINFREE (illumos vmem_populate), lock held. */
int kmb__vmem_populate(kmb_vmem_t *vmp, int flags)
{
	while (vmp->vm_nsegfree < VMEM_MINFREE) {
		void *page = meta_alloc(vmp, 0, flags);

		if (page == NULL) {
			vmp->vm_kstat.populate_fail++;
			return -ENOMEM;
		}
		segpage_add(vmp, page);
	}
	return 0;
}

/* Tag pages whose every tag is spare go back, keeping VMEM_MINFREE spares; true if any
 * did (which frees the tags of their own segments when they were carved here). */
static bool segpage_trim_pass(kmb_vmem_t *vmp)
{
	struct kmb__vmem_segpage *head = &vmp->vm_segpages, *sp, *next;
	ssize_t keep = vmp->vm_nsegfree;
	kmb__vmem_seg_t **pp;
	bool any = false;

	for (sp = head->sp_next; sp != head; sp = sp->sp_next) {
		if (sp->sp_nfree != VMEM_SEGS_PER_PAGE ||
		    keep - (ssize_t)VMEM_SEGS_PER_PAGE < VMEM_MINFREE)
			continue;
		sp->sp_release = 1;
		keep -= (ssize_t)VMEM_SEGS_PER_PAGE;
		any = true;
	}
	if (!any)
		return false;
	for (pp = &vmp->vm_segfree; *pp != NULL;) {
		kmb__vmem_seg_t *vsp = *pp;

		if (!seg_is_boot(vmp, vsp) && segpage_of(vsp)->sp_release) {
			*pp = vsp->vs_knext;
			vmp->vm_nsegfree--;
		} else {
			pp = &vsp->vs_knext;
		}
	}
	for (sp = head->sp_next; sp != head; sp = next) {
		next = sp->sp_next;
		if (!sp->sp_release)
			continue;
		segpage_unlink(sp);
		vmp->vm_kstat.tag_pages--;
		meta_free(vmp, sp, 0, false);
	}
	return true;
}

static void segpage_trim(kmb_vmem_t *vmp)
{
	while (segpage_trim_pass(vmp))
		;
}

/* ---- freelists -------------------------------------------------------------------------- */

void kmb__vmem_freelist_insert(kmb_vmem_t *vmp, kmb__vmem_seg_t *vsp)
{
	kmb__vmem_seg_t *head = &vmp->vm_freelist[kmb__highbit(VS_SIZE(vsp)) - 1];

	vsp->vs_type = KMB_VMEM_FREE;
	vmp->vm_freemap |= VS_SIZE(head);
	VMEM_INSERT(head, vsp, k);
}

static void freelist_delete(kmb_vmem_t *vmp, kmb__vmem_seg_t *vsp)
{
	kmb_assert_internal(vsp->vs_type == KMB_VMEM_FREE);
	if (vsp->vs_knext->vs_start == 0 && vsp->vs_kprev->vs_start == 0)
		vmp->vm_freemap ^= VS_SIZE(vsp->vs_kprev); /* it was the last of its list */
	VMEM_DELETE(vsp, k);
}

/* ---- the allocation hash ----------------------------------------------------------------- */

static kmb__vmem_seg_t **hash_bucket(const kmb_vmem_t *vmp, uintptr_t a)
{
	unsigned s = vmp->vm_hash_shift;

	return &vmp->vm_hash_table[((a + (a >> s) + (a >> (s << 1))) >> vmp->vm_qshift) &
	                           vmp->vm_hash_mask];
}

void kmb__vmem_hash_insert(kmb_vmem_t *vmp, kmb__vmem_seg_t *vsp)
{
	kmb__vmem_seg_t **bucket = hash_bucket(vmp, vsp->vs_start);

	vsp->vs_type = KMB_VMEM_ALLOC;
	vsp->vs_knext = *bucket;
	*bucket = vsp;
	vmp->vm_kstat.alloc++;
	vmp->vm_kstat.mem_inuse += VS_SIZE(vsp);
}

/* The link that points at the allocated segment starting at addr, or NULL. */
static kmb__vmem_seg_t **hash_find(kmb_vmem_t *vmp, uintptr_t addr)
{
	kmb__vmem_seg_t **pp = hash_bucket(vmp, addr);

	for (; *pp != NULL; pp = &(*pp)->vs_knext) {
		if ((*pp)->vs_start == addr)
			return pp;
		vmp->vm_kstat.lookup++;
	}
	return NULL;
}

static void hash_unlink(kmb_vmem_t *vmp, kmb__vmem_seg_t **pp)
{
	kmb__vmem_seg_t *vsp = *pp;

	*pp = vsp->vs_knext;
	vmp->vm_kstat.free++;
	vmp->vm_kstat.mem_inuse -= VS_SIZE(vsp);
}

static unsigned pages_order(size_t bytes)
{
	size_t pages = (bytes + KMB_PAGE_SIZE - 1) >> KMB_PAGE_SHIFT;

	return pages <= 1 ? 0 : (unsigned)kmb__highbit(pages - 1);
}

static void hash_rescale(kmb_vmem_t *vmp, size_t new_size)
{
	kmb__vmem_seg_t **old_table = vmp->vm_hash_table, **new_table = vmp->vm_hash0;
	size_t old_size = vmp->vm_hash_mask + 1;
	unsigned old_order = (unsigned)vmp->vm_hash_order, order = 0;

	if (new_size != VMEM_HASH_INITIAL) {
		order = pages_order(new_size * sizeof(*new_table));
		if (vmp->vm_meta.pages == NULL && kmb__vmem_populate(vmp, 0) != 0)
			return;
		if ((new_table = meta_alloc(vmp, order, 0)) == NULL)
			return; /* longer chains until the next try */
	}
	memset(new_table, 0, new_size * sizeof(*new_table));
	vmp->vm_hash_table = new_table;
	vmp->vm_hash_mask = new_size - 1;
	vmp->vm_hash_shift = (unsigned)kmb__highbit(vmp->vm_hash_mask);
	vmp->vm_hash_order = order;
	for (size_t h = 0; h < old_size; h++) {
		kmb__vmem_seg_t *vsp = old_table[h], *next;

		for (; vsp != NULL; vsp = next) {
			kmb__vmem_seg_t **bucket = hash_bucket(vmp, vsp->vs_start);

			next = vsp->vs_knext;
			vsp->vs_knext = *bucket;
			*bucket = vsp;
		}
	}
	vmp->vm_kstat.hash_rescale++;
	vmp->vm_kstat.hash_size = new_size;
	if (old_table != vmp->vm_hash0)
		meta_free(vmp, old_table, old_order, false);
}

/* Keep the load factor in [3/4, 3/2] within a factor of two (3.), lock held. */
void kmb__vmem_hash_maybe_rescale(kmb_vmem_t *vmp)
{
	size_t nseg = (size_t)(vmp->vm_kstat.alloc - vmp->vm_kstat.free);
	size_t new_size = (size_t)1 << (kmb__highbit(3 * nseg + 4) - 2);
	size_t old_size = vmp->vm_hash_mask + 1;

	if (new_size < VMEM_HASH_INITIAL)
		new_size = VMEM_HASH_INITIAL;
	if ((old_size >> 1) <= new_size && new_size <= (old_size << 1))
		return;
	hash_rescale(vmp, new_size);
}

/* ---- segments and spans --------------------------------------------------------------------- */

kmb__vmem_seg_t *kmb__vmem_seg_create(kmb_vmem_t *vmp, kmb__vmem_seg_t *vprev, uintptr_t start,
                                      uintptr_t end)
{
	kmb__vmem_seg_t *newseg = vmem_getseg(vmp);

	newseg->vs_start = start;
	newseg->vs_end = end;
	newseg->vs_type = 0;
	newseg->vs_import = 0;
	VMEM_INSERT(vprev, newseg, a);
	return newseg;
}

static void seg_destroy(kmb_vmem_t *vmp, kmb__vmem_seg_t *vsp)
{
	kmb_assert_internal(vsp->vs_type != VMEM_ROTOR);
	VMEM_DELETE(vsp, a);
	vmem_putseg(vmp, vsp);
}

/*
 * INVARIANTS: the arena list is its spans in order, each followed by segments that tile it
 * exactly (each ends where the next begins, from the span's start to its end), with no two
 * free segments next to each other (free neighbours are always coalesced; a rotor or walker
 * between them keeps them apart).  A walk of every segment: run when a span comes or goes
 * and when the arena is destroyed, not on each allocation.
 */
static void arena_check(const kmb_vmem_t *vmp, const char *call)
{
	const kmb__vmem_seg_t *span = NULL, *prev = NULL;
	uintptr_t at = 0;

	for (const kmb__vmem_seg_t *vsp = vmp->vm_seg0.vs_anext; vsp != &vmp->vm_seg0;
	     vsp = vsp->vs_anext) {
		if (vsp->vs_type == KMB_VMEM_SPAN) {
			kmb_check(span == NULL || at == span->vs_end, (void *)at,
			          "%s(%s): span [%#lx, %#lx) is tiled only to %#lx", call,
			          vmp->vm_name, (unsigned long)span->vs_start,
			          (unsigned long)span->vs_end, (unsigned long)at);
			span = vsp;
			at = vsp->vs_start;
			prev = NULL;
			continue;
		}
		if (vsp->vs_type & (VMEM_ROTOR | VMEM_WALKER)) {
			prev = NULL;
			continue;
		}
		kmb_check(span != NULL && vsp->vs_start == at && vsp->vs_end > at &&
		                  vsp->vs_end <= span->vs_end,
		          (void *)vsp->vs_start,
		          "%s(%s): segment [%#lx, %#lx) does not continue its span at %#lx", call,
		          vmp->vm_name, (unsigned long)vsp->vs_start, (unsigned long)vsp->vs_end,
		          (unsigned long)at);
		kmb_check(prev == NULL || prev->vs_type != KMB_VMEM_FREE ||
		                  vsp->vs_type != KMB_VMEM_FREE,
		          (void *)vsp->vs_start,
		          "%s(%s): free segments [%#lx, %#lx) and [%#lx, %#lx) are not coalesced",
		          call, vmp->vm_name, (unsigned long)prev->vs_start,
		          (unsigned long)prev->vs_end, (unsigned long)vsp->vs_start,
		          (unsigned long)vsp->vs_end);
		at = vsp->vs_end;
		prev = vsp;
	}
	kmb_check(span == NULL || at == span->vs_end, (void *)at,
	          "%s(%s): the last span [%#lx, %#lx) is tiled only to %#lx", call, vmp->vm_name,
	          span ? (unsigned long)span->vs_start : 0ul,
	          span ? (unsigned long)span->vs_end : 0ul, (unsigned long)at);
}

/* A span [start, start + size) with one free segment, at the end of the arena list. */
kmb__vmem_seg_t *kmb__vmem_span_create(kmb_vmem_t *vmp, uintptr_t start, size_t size, bool import)
{
	kmb__vmem_seg_t *span, *newseg;

	kmb_assert(((start | size) & (vmp->vm_quantum - 1)) == 0);
	span = kmb__vmem_seg_create(vmp, vmp->vm_seg0.vs_aprev, start, start + size);
	span->vs_type = KMB_VMEM_SPAN;
	span->vs_import = import;
	VMEM_INSERT(vmp->vm_seg0.vs_kprev, span, k);
	newseg = kmb__vmem_seg_create(vmp, span, start, start + size);
	kmb__vmem_freelist_insert(vmp, newseg);
	if (import)
		vmp->vm_kstat.mem_import += size;
	vmp->vm_kstat.mem_total += size;
	vmp->vm_kstat.spans++;
	if (kmb_unlikely(kmb_invariants_on))
		arena_check(vmp, import ? "vmem_import" : "vmem_add");
	return newseg;
}

/* Remove the span whose only segment is the free vsp (already off its freelist). */
static void span_destroy(kmb_vmem_t *vmp, kmb__vmem_seg_t *vsp)
{
	kmb__vmem_seg_t *span = vsp->vs_aprev;
	size_t size = VS_SIZE(vsp);

	kmb_check(span->vs_type == KMB_VMEM_SPAN && VS_SIZE(span) == size, (void *)vsp->vs_start,
	          "vmem_free(%s): releasing [%#lx, %#lx), which is not its span's only segment",
	          vmp->vm_name, (unsigned long)vsp->vs_start, (unsigned long)vsp->vs_end);
	if (span->vs_import)
		vmp->vm_kstat.mem_import -= size;
	vmp->vm_kstat.mem_total -= size;
	vmp->vm_kstat.spans--;
	VMEM_DELETE(span, k);
	seg_destroy(vmp, vsp);
	seg_destroy(vmp, span);
	if (kmb_unlikely(kmb_invariants_on))
		arena_check(vmp, "vmem_free");
}

/* vsp is free and covers a whole imported span: destroy it, to be given back unlocked. */
static bool span_release_if_free(kmb_vmem_t *vmp, kmb__vmem_seg_t *vsp, uintptr_t *rel_addr,
                                 size_t *rel_size)
{
	if (!vsp->vs_aprev->vs_import || vmp->vm_source_free == NULL ||
	    vsp->vs_aprev->vs_type != KMB_VMEM_SPAN || vsp->vs_anext->vs_type != KMB_VMEM_SPAN)
		return false;
	*rel_addr = vsp->vs_start;
	*rel_size = VS_SIZE(vsp);
	span_destroy(vmp, vsp);
	vmp->vm_kstat.exports++;
	return true;
}

void kmb__vmem_release_span(kmb_vmem_t *vmp, uintptr_t addr, size_t size)
{
	if (size != 0)
		vmp->vm_source_free(vmp->vm_source, (void *)addr, size);
}

/* Carve [addr, addr + size) out of the free segment vsp (illumos vmem_seg_alloc). */
kmb__vmem_seg_t *kmb__vmem_seg_alloc(kmb_vmem_t *vmp, kmb__vmem_seg_t *vsp, uintptr_t addr,
                                     size_t size)
{
	uintptr_t vs_start = vsp->vs_start, vs_end = vsp->vs_end, addr_end = addr + size;
	size_t vs_size = vs_end - vs_start;

	kmb_assert_internal(vsp->vs_type == KMB_VMEM_FREE);
	kmb_assert_internal(P2PHASE(addr | size, vmp->vm_quantum) == 0);
	kmb_assert_internal(addr >= vs_start && addr_end - 1 <= vs_end - 1);
	/* from the start, with the remainder on the same list: shorten the free tag */
	if (P2SAMEHIGHBIT(vs_size, vs_size - size) && addr == vs_start) {
		vsp->vs_start = addr_end;
		vsp = kmb__vmem_seg_create(vmp, vsp->vs_aprev, addr, addr_end);
		kmb__vmem_hash_insert(vmp, vsp);
		return vsp;
	}
	freelist_delete(vmp, vsp);
	if (vs_end != addr_end)
		kmb__vmem_freelist_insert(vmp, kmb__vmem_seg_create(vmp, vsp, addr_end, vs_end));
	if (vs_start != addr)
		kmb__vmem_freelist_insert(vmp,
		                          kmb__vmem_seg_create(vmp, vsp->vs_aprev, vs_start, addr));
	vsp->vs_start = addr;
	vsp->vs_end = addr_end;
	kmb__vmem_hash_insert(vmp, vsp);
	return vsp;
}

/* Coalescing joins neighbours on the arena list: they must abut (a boundary tag's point). */
static void seg_check_adjacent(const kmb_vmem_t *vmp, const kmb__vmem_seg_t *lo,
                               const kmb__vmem_seg_t *hi)
{
	kmb_check(lo->vs_end == hi->vs_start, (void *)lo->vs_start,
	          "vmem_free(%s): segments [%#lx, %#lx) and [%#lx, %#lx) are neighbours but do not "
	          "abut",
	          vmp->vm_name, (unsigned long)lo->vs_start, (unsigned long)lo->vs_end,
	          (unsigned long)hi->vs_start, (unsigned long)hi->vs_end);
}

/* Free the allocated vsp (out of the hash already): merge with free neighbours. */
void kmb__vmem_seg_free(kmb_vmem_t *vmp, kmb__vmem_seg_t *vsp, uintptr_t *rel_addr,
                        size_t *rel_size)
{
	kmb__vmem_seg_t *vnext = vsp->vs_anext, *vprev;

	if (vnext->vs_type == KMB_VMEM_FREE) {
		seg_check_adjacent(vmp, vsp, vnext);
		freelist_delete(vmp, vnext);
		vsp->vs_end = vnext->vs_end;
		seg_destroy(vmp, vnext);
	}
	vprev = vsp->vs_aprev;
	if (vprev->vs_type == KMB_VMEM_FREE) {
		seg_check_adjacent(vmp, vprev, vsp);
		freelist_delete(vmp, vprev);
		vprev->vs_end = vsp->vs_end;
		seg_destroy(vmp, vsp);
		vsp = vprev;
	}
	if (!span_release_if_free(vmp, vsp, rel_addr, rel_size))
		kmb__vmem_freelist_insert(vmp, vsp);
}

/*
 * Move a walker (the rotor) after afterme, or out of the list when NULL, merging the
 * neighbours it kept apart (illumos vmem_advance).  A span that becomes wholly free is
 * returned in *rel_addr and *rel_size for the caller to give back after unlocking.
 */
void kmb__vmem_advance(kmb_vmem_t *vmp, kmb__vmem_seg_t *walker, kmb__vmem_seg_t *afterme,
                       uintptr_t *rel_addr, size_t *rel_size)
{
	kmb__vmem_seg_t *vprev = walker->vs_aprev, *vnext = walker->vs_anext, *vsp = NULL;

	VMEM_DELETE(walker, a);
	if (afterme != NULL)
		VMEM_INSERT(afterme, walker, a);
	if (vprev->vs_type == KMB_VMEM_FREE) {
		if (vnext->vs_type == KMB_VMEM_FREE) {
			kmb_assert_internal(vprev->vs_end == vnext->vs_start);
			freelist_delete(vmp, vnext);
			freelist_delete(vmp, vprev);
			vprev->vs_end = vnext->vs_end;
			kmb__vmem_freelist_insert(vmp, vprev);
			seg_destroy(vmp, vnext);
		}
		vsp = vprev;
	} else if (vnext->vs_type == KMB_VMEM_FREE) {
		vsp = vnext;
	}
	if (vsp != NULL && vsp->vs_aprev->vs_import && vmp->vm_source_free != NULL &&
	    vsp->vs_aprev->vs_type == KMB_VMEM_SPAN && vsp->vs_anext->vs_type == KMB_VMEM_SPAN) {
		freelist_delete(vmp, vsp);
		span_release_if_free(vmp, vsp, rel_addr, rel_size);
	}
}

/* ---- free ---------------------------------------------------------------------------------- */

enum free_verdict { FREE_OK, FREE_NOT_ALLOCATED, FREE_DOUBLE, FREE_WRONG_SIZE };

/* Why addr has no allocated segment: inside a free segment (double free) or not. */
static enum free_verdict classify_bad_free(kmb_vmem_t *vmp, uintptr_t addr)
{
	for (kmb__vmem_seg_t *vsp = vmp->vm_seg0.vs_anext; vsp != &vmp->vm_seg0;
	     vsp = vsp->vs_anext)
		if (vsp->vs_type == KMB_VMEM_FREE && addr >= vsp->vs_start && addr < vsp->vs_end)
			return FREE_DOUBLE;
	return FREE_NOT_ALLOCATED;
}

static enum free_verdict xfree_locked(kmb_vmem_t *vmp, uintptr_t addr, size_t size,
                                      uintptr_t *rel_addr, size_t *rel_size, size_t *found)
{
	kmb__vmem_seg_t **pp = hash_find(vmp, addr), *vsp;

	if (pp == NULL)
		return classify_bad_free(vmp, addr);
	vsp = *pp;
	*found = VS_SIZE(vsp);
	if (size != 0 && P2ROUNDUP(size, vmp->vm_quantum) != VS_SIZE(vsp))
		return FREE_WRONG_SIZE;
	hash_unlink(vmp, pp);
	kmb__vmem_seg_free(vmp, vsp, rel_addr, rel_size);
	return FREE_OK;
}

void kmb__vmem_xfree_locked(kmb_vmem_t *vmp, uintptr_t addr, size_t size, uintptr_t *rel_addr,
                            size_t *rel_size)
{
	size_t found = 0;

	kmb_assert(xfree_locked(vmp, addr, size, rel_addr, rel_size, &found) == FREE_OK);
}

__attribute__((noreturn)) static void bad_free(kmb_vmem_t *vmp, void *addr, size_t size,
                                               enum free_verdict v, size_t found)
{
	kmb_mutex_exit(&vmp->vm_lock);
	if (v == FREE_DOUBLE)
		kmb_panic(KMB_PANIC_DOUBLE_FREE, addr,
		          "vmem_xfree(%s, %p, %zu): double free (the segment is free)",
		          vmp->vm_name, addr, size);
	if (v == FREE_WRONG_SIZE)
		kmb_panic(KMB_PANIC_BAD_FREE, addr,
		          "vmem_xfree(%s, %p, %zu): wrong size (%zu allocated)", vmp->vm_name, addr,
		          size, found);
	kmb_panic(KMB_PANIC_BAD_FREE, addr,
	          "vmem_xfree(%s, %p, %zu): bad free: no segment is allocated there", vmp->vm_name,
	          addr, size);
}

size_t kmb_vmem_xfree(kmb_vmem_t *vmp, void *addr, size_t size)
{
	uintptr_t rel_addr = 0;
	size_t rel_size = 0, found = 0;
	enum free_verdict v;

	kmb_mutex_enter(&vmp->vm_lock);
	v = xfree_locked(vmp, (uintptr_t)addr, size, &rel_addr, &rel_size, &found);
	if (v != FREE_OK)
		bad_free(vmp, addr, size, v, found);
	kmb__vmem_hash_maybe_rescale(vmp);
	kmb_mutex_exit(&vmp->vm_lock);
	kmb__vmem_release_span(vmp, rel_addr, rel_size);
	return found;
}

void kmb_vmem_free(kmb_vmem_t *vmp, void *addr, size_t size)
{
	if (size - 1 < vmp->vm_qcache_max)
		kmb__vmem_qcache_free(vmp, addr, size);
	else
		kmb_vmem_xfree(vmp, addr, size);
}

/* ---- spans ---------------------------------------------------------------------------------- */

static bool span_overlaps(const kmb_vmem_t *vmp, uintptr_t start, uintptr_t end)
{
	for (const kmb__vmem_seg_t *sp = vmp->vm_seg0.vs_knext; sp != &vmp->vm_seg0;
	     sp = sp->vs_knext)
		if (start < sp->vs_end && sp->vs_start < end)
			return true;
	return false;
}

int kmb_vmem_add(kmb_vmem_t *vmp, uintptr_t base, size_t size, int flags)
{
	int rc = 0;

	if (base == 0 || size == 0 || base + size - 1 < base ||
	    ((base | size) & (vmp->vm_quantum - 1)) != 0)
		return -EINVAL;
	kmb_mutex_enter(&vmp->vm_lock);
	if (span_overlaps(vmp, base, base + size))
		rc = -EINVAL;
	else if (kmb__vmem_populate(vmp, flags) != 0 &&
	         vmp->vm_nsegfree < VMEM_SEGS_PER_SPAN_CREATE + VMEM_POPULATE_RESERVE)
		rc = -ENOMEM;
	else
		kmb__vmem_span_create(vmp, base, size, false);
	kmb_mutex_exit(&vmp->vm_lock);
	return rc;
}

/* ---- creation and destruction --------------------------------------------------------------- */

static void freelists_init(kmb_vmem_t *vmp)
{
	for (int i = 0; i <= VMEM_FREELISTS; i++) {
		kmb__vmem_seg_t *vfp = &vmp->vm_freelist[i];

		vfp->vs_start = 0;
		vfp->vs_end = i < VMEM_FREELISTS ? (uintptr_t)1 << i : 0;
		vfp->vs_knext = i < VMEM_FREELISTS ? vfp + 1 : NULL;
		vfp->vs_kprev = i > 0 ? vfp - 1 : NULL;
	}
}

static void lists_init(kmb_vmem_t *vmp)
{
	kmb__vmem_seg_t *seg0 = &vmp->vm_seg0;

	freelists_init(vmp);
	vmp->vm_hash_table = vmp->vm_hash0;
	vmp->vm_hash_mask = VMEM_HASH_INITIAL - 1;
	vmp->vm_hash_shift = (unsigned)kmb__highbit(vmp->vm_hash_mask);
	vmp->vm_kstat.hash_size = VMEM_HASH_INITIAL;
	seg0->vs_anext = seg0->vs_aprev = seg0->vs_knext = seg0->vs_kprev = seg0;
	seg0->vs_type = KMB_VMEM_SPAN;
	vmp->vm_rotor.vs_type = VMEM_ROTOR;
	VMEM_INSERT(seg0, &vmp->vm_rotor, a);
	vmp->vm_segpages.sp_next = vmp->vm_segpages.sp_prev = &vmp->vm_segpages;
	for (int i = VMEM_SEG_BOOT - 1; i >= 0; i--)
		segfree_push(vmp, &vmp->vm_segboot[i]);
}

static size_t source_quantum(kmb_vmem_import_t *afunc, void *source, size_t quantum)
{
	if (afunc == kmb_vmem_import)
		return ((kmb_vmem_t *)source)->vm_quantum;
	if (afunc == kmb_vmem_pagesrc_import)
		return KMB_PAGE_SIZE;
	return quantum;
}

static int create_check(size_t quantum, kmb_vmem_import_t *afunc, void *source, size_t nqcache,
                        int flags, const struct kmb_vmem_meta *meta)
{
	if (!VMEM_IS_P2(quantum) || (flags & ~KMB_VMC_XALIGN) != 0 || meta == NULL ||
	    (afunc != NULL && source == NULL))
		return -EINVAL;
	if (meta->pages == NULL && meta->pm == NULL)
		return -EINVAL;
	/* quantum caches: slabs of one page with at most 256 objects, and at least 3 of the
	 * largest (illumos VMEM_QCACHE_SLABSIZE), records in struct kmb_page */
	if (nqcache != 0 && (meta->pm == NULL || quantum < KMB_PAGE_SIZE / 256 ||
	                     3 * nqcache * quantum > KMB_PAGE_SIZE))
		return -EINVAL;
	return 0;
}

int kmb_vmem_create(const char *name, uintptr_t base, size_t size, size_t quantum,
                    kmb_vmem_import_t *afunc, kmb_vmem_release_t *ffunc, void *source,
                    size_t qcache_max, int flags, const struct kmb_vmem_meta *meta,
                    kmb_vmem_t **out)
{
	unsigned qshift = VMEM_IS_P2(quantum) ? (unsigned)kmb__highbit(quantum) - 1 : 0;
	size_t nqcache = qcache_max >> qshift;
	kmb_vmem_t *vmp;
	int rc;

	*out = NULL;
	if (nqcache > VMEM_NQCACHE_MAX)
		nqcache = VMEM_NQCACHE_MAX;
	if ((rc = create_check(quantum, afunc, source, nqcache, flags, meta)) != 0)
		return rc;
	/* aligned: the quantum caches' CPU entries are cache-line aligned */
	if ((vmp = aligned_alloc(_Alignof(kmb_vmem_t), sizeof(*vmp))) == NULL)
		return -ENOMEM;
	memset(vmp, 0, sizeof(*vmp));
	kmb_lock_init(&vmp->vm_lock);
	snprintf(vmp->vm_name, sizeof(vmp->vm_name), "%s", name ? name : "vmem");
	vmp->vm_cflags = flags;
	vmp->vm_quantum = quantum;
	vmp->vm_qshift = qshift;
	vmp->vm_source_alloc = afunc;
	vmp->vm_source_free = ffunc;
	vmp->vm_source = source;
	vmp->vm_source_quantum = source_quantum(afunc, source, quantum);
	vmp->vm_meta = *meta;
	lists_init(vmp);
	if ((rc = kmb__vmem_qcache_init(vmp, (unsigned)nqcache)) != 0 ||
	    (size != 0 && (rc = kmb_vmem_add(vmp, base, size, M_NOWAIT)) != 0)) {
		kmb_vmem_destroy(vmp);
		return rc;
	}
	*out = vmp;
	return 0;
}

void kmb_vmem_destroy(kmb_vmem_t *vmp)
{
	struct kmb__vmem_segpage *head, *sp;

	if (vmp == NULL)
		return;
	kmb__vmem_qcache_fini(vmp);
	if (kmb_unlikely(kmb_invariants_on))
		arena_check(vmp, "vmem_destroy");
	for (kmb__vmem_seg_t *span = vmp->vm_seg0.vs_knext; span != &vmp->vm_seg0;
	     span = span->vs_knext)
		if (span->vs_import && vmp->vm_source_free != NULL)
			vmp->vm_source_free(vmp->vm_source, (void *)span->vs_start, VS_SIZE(span));
	if (vmp->vm_hash_table != vmp->vm_hash0)
		meta_free(vmp, vmp->vm_hash_table, (unsigned)vmp->vm_hash_order, true);
	head = &vmp->vm_segpages;
	while ((sp = head->sp_next) != head) {
		segpage_unlink(sp);
		meta_free(vmp, sp, 0, true);
	}
	kmb_lock_destroy(&vmp->vm_lock);
	free(vmp);
}

/* ---- settings and observation --------------------------------------------------------- */

void kmb_vmem_set_min_import(kmb_vmem_t *vmp, size_t bytes)
{
	kmb_mutex_enter(&vmp->vm_lock);
	vmp->vm_min_import = bytes;
	kmb_mutex_exit(&vmp->vm_lock);
}

void kmb_vmem_set_floor(kmb_vmem_t *vmp, size_t min_free, size_t reserve_free)
{
	kmb_mutex_enter(&vmp->vm_lock);
	vmp->vm_floor[0] = min_free;
	vmp->vm_floor[1] = reserve_free < min_free ? reserve_free : min_free;
	kmb_mutex_exit(&vmp->vm_lock);
}

void kmb_vmem_reap(kmb_vmem_t *vmp)
{
	kmb__vmem_qcache_reap(vmp);
	kmb_mutex_enter(&vmp->vm_lock);
	segpage_trim(vmp);
	kmb__vmem_hash_maybe_rescale(vmp);
	kmb_mutex_exit(&vmp->vm_lock);
}

const char *kmb_vmem_name(const kmb_vmem_t *vmp)
{
	return vmp->vm_name;
}

size_t kmb_vmem_lookup(kmb_vmem_t *vmp, const void *addr)
{
	kmb__vmem_seg_t **pp;
	size_t size = 0;

	kmb_mutex_enter(&vmp->vm_lock);
	if ((pp = hash_find(vmp, (uintptr_t)addr)) != NULL)
		size = VS_SIZE(*pp);
	kmb_mutex_exit(&vmp->vm_lock);
	return size;
}

size_t kmb_vmem_size(kmb_vmem_t *vmp, int typemask)
{
	size_t size = 0;

	kmb_mutex_enter(&vmp->vm_lock);
	if (typemask & KMB_VMEM_ALLOC)
		size += vmp->vm_kstat.mem_inuse;
	if (typemask & KMB_VMEM_FREE)
		size += vmp->vm_kstat.mem_total - vmp->vm_kstat.mem_inuse;
	kmb_mutex_exit(&vmp->vm_lock);
	return size;
}

/* The largest block aligned to its power-of-two size inside [start, end). */
static size_t largest_natural(uintptr_t start, uintptr_t end)
{
	for (int b = kmb__highbit(end - start) - 1; b >= 0; b--) {
		uintptr_t size = (uintptr_t)1 << b, a = P2ROUNDUP(start, size);

		if (a >= start && a + size <= end && a + size > a)
			return size;
	}
	return 0;
}

/* A segment of the highest non-empty list beats any of a lower list (sizes below 2^n),
 * also for natural blocks (one of 2^(n-1) always fits in a size >= 2^n). */
size_t kmb_vmem_largest_free(kmb_vmem_t *vmp, bool natural)
{
	size_t best = 0;
	int n;

	kmb_mutex_enter(&vmp->vm_lock);
	n = kmb__highbit(vmp->vm_freemap) - 1;
	for (kmb__vmem_seg_t *vsp = n < 0 ? NULL : vmp->vm_freelist[n].vs_knext;
	     vsp != NULL && vsp->vs_start != 0; vsp = vsp->vs_knext) {
		size_t s = natural ? largest_natural(vsp->vs_start, vsp->vs_end) : VS_SIZE(vsp);

		best = s > best ? s : best;
	}
	kmb_mutex_exit(&vmp->vm_lock);
	return best;
}

void kmb_vmem_walk(kmb_vmem_t *vmp, int typemask, void (*func)(void *, uintptr_t, size_t),
                   void *arg)
{
	kmb_mutex_enter(&vmp->vm_lock);
	for (kmb__vmem_seg_t *vsp = vmp->vm_seg0.vs_anext; vsp != &vmp->vm_seg0;
	     vsp = vsp->vs_anext)
		if (vsp->vs_type & typemask)
			func(arg, vsp->vs_start, VS_SIZE(vsp));
	kmb_mutex_exit(&vmp->vm_lock);
}

void kmb_vmem_kstat(kmb_vmem_t *vmp, struct kmb_vmem_kstat *ks)
{
	kmb_mutex_enter(&vmp->vm_lock);
	*ks = vmp->vm_kstat;
	kmb_mutex_exit(&vmp->vm_lock);
	ks->instantfit = __atomic_load_n(&vmp->vm_calls.instantfit, __ATOMIC_RELAXED);
	ks->bestfit = __atomic_load_n(&vmp->vm_calls.bestfit, __ATOMIC_RELAXED);
	ks->firstfit = __atomic_load_n(&vmp->vm_calls.firstfit, __ATOMIC_RELAXED);
	ks->nextfit = __atomic_load_n(&vmp->vm_calls.nextfit, __ATOMIC_RELAXED);
	ks->xalloc = __atomic_load_n(&vmp->vm_calls.xalloc, __ATOMIC_RELAXED);
	ks->arena_lock = (struct kmb_lock_stats){0};
	kmb_lock_stats_add(&vmp->vm_lock, &ks->arena_lock);
	kmb__vmem_qcache_kstat(vmp, ks);
}
