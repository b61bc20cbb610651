/*
 * backends/bucket/bucket.c - the 4.4BSD kernel malloc ("bucket"): McKusick & Karels,
 * "Design of a General Purpose Memory Allocator for the 4.3BSD UNIX Kernel", USENIX
 * Summer 1988, as 4.4BSD-Lite2 implements it (sys/kern/kern_malloc.c 8.4, sys/sys/malloc.h
 * 8.5).
 *
 * BIG THEORY STATEMENT
 *
 * 1. Concepts.
 *
 *    Sizes are rounded up to a power of two, 16 bytes (MINBUCKET 4) and up; each power of
 *    two has a bucket, a free list of blocks of exactly that size.  Up to MAXALLOCSAVE =
 *    2 pages (8192 bytes) a request is served from its bucket's list; an empty bucket is
 *    refilled with fresh pages carved into blocks of its size: one page for the buckets of
 *    16 to 4096 bytes (4096 / size blocks), two pages for the one block of 8192 bytes
 *    (4.4BSD: npg = clrnd(btoc(1 << indx)) with CLSIZE 1).  Larger requests are rounded up
 *    to whole pages and go straight to the page source, and straight back on free.  So
 *
 *        usable(size) = max(16, 2^ceil(log2 size))   for size <= 8192
 *                     = roundup(size, 4096)           for size >  8192
 *
 *    A block needs no header: a per-page usage record (struct kmemusage) says which
 *    bucket a page was carved for, and free() finds it from the address alone.
 *
 *    Per-type statistics and limits (ks_limit: an M_WAITOK request over its type's limit
 *    sleeps until the type frees, an M_NOWAIT one fails) were done by 4.4BSD's malloc
 *    itself (KMEMSTATS); here the core does them for every backend (core/kmalloc.c), so
 *    this file never sees a malloc type.  Sleeping for memory (kmem_malloc(..., canwait))
 *    is the core's too: alloc returns NULL when the page source is short, never sleeps.
 *
 * 2. Data structures (bucket.h).
 *
 *    struct kmb__bucket_kb   struct kmembuckets, one per index 0..19 (bucket[MINBUCKET +
 *                            16]; 4..19 used): kb_next/kb_last, the free list, singly
 *                            linked through the blocks, with its tail (4.4BSD-Lite's
 *                            kb_last, 1992: frees append, so a freed block is reused last
 *                            and a use after free has the longest time to be caught); and
 *                            the statistics kb_calls, kb_total, kb_totalfree, kb_elmpercl,
 *                            kb_highwat, kb_couldfree.  Buckets 14..19 hold no list; they
 *                            count the large allocations of their sizes (index 19: all
 *                            above 256 KiB, as BUCKETINDX saturates).
 *    kmemusage               4.4BSD's kmemusage[] array is indexed by page of the kmem
 *                            map; here the record lives in the page's own struct kmb_page:
 *                            priv[0] = ku_indx, priv[1] = ku_freecnt (free blocks of a
 *                            small page) or ku_pagecnt (pages of a large allocation), and
 *                            the head frame's flags say which (KMB__PG_BUCKET_SMALL/LARGE);
 *                            the other frames of the block carry KMB__PG_BUCKET_TAIL.
 *                            A fixed per-page table allocated once, in 4.4BSD by kmeminit()
 *                            from kernel_map: the same overhead as the memmap of struct
 *                            kmb_page, which no backend's footprint counts.  So this
 *                            backend takes no metadata pages at all.
 *    struct kmb__bucket_free the first 16 bytes of a free block: a marker word (DIAGNOSTIC)
 *                            and the link (freelist_bytes = 16, the smallest block).
 *
 * 3. Algorithm.
 *
 *    malloc(size <= 8192)  indx = BUCKETINDX(size); if the bucket is empty, refill it:
 *                          take 2^order pages (order 0, or 1 for 8192), set the kmemusage
 *                          (ku_indx, ku_freecnt = kb_elmpercl), add kb_elmpercl to
 *                          kb_total and kb_totalfree, and link the blocks from the top of
 *                          the page down (4.4BSD carves from va + npg * NBPG - allocsize to
 *                          va, so the highest block is handed out first).  Then pop the
 *                          head: ku_freecnt--, kb_totalfree--, kb_calls++.
 *    malloc(size > 8192)   npg = roundup(size, page) / page pages; ku_indx = BUCKETINDX,
 *                          ku_pagecnt = npg; kb_calls++, kb_total++.
 *    free(addr)            the kmemusage of addr's page gives the size.  Large: back to
 *                          the page source, kb_total--.  Small: ku_freecnt++ (more than
 *                          kb_elmpercl is "free: multiple frees"); a page that becomes
 *                          wholly free while kb_totalfree > kb_highwat counts kb_couldfree
 *                          - 4.4BSD never gives bucket memory back, it only counts when it
 *                          could have; kb_totalfree++, and the block is appended at the tail.
 *    usable_size(addr)     1 << ku_indx for a small page, ku_pagecnt pages for a large one.
 *    free_sized            not used (kmem_free takes free): free must update the page's
 *                          kmemusage (ku_freecnt) in any case, and ku_indx is in it.
 *
 *    Checks (bucket_diag.c): always, as 4.4BSD's KMEMSTATS code did, "malloc: wrong bucket",
 *    "malloc: lost data" and "free: multiple frees"; and, cheap enough to keep on, that a
 *    freed address is the start of a block of ours ("free: unaligned addr").  With
 *    INVARIANTS (4.4BSD's DIAGNOSTIC): the free marker and the link of a block leaving a
 *    free list, its first MAX_COPY bytes ("Data modified on freelist"), and a free of a block
 *    that looks free is looked up on the free list ("free: duplicated free").
 *
 * 4. Locking.
 *
 *    4.4BSD ran malloc and free at splimp(), one interrupt priority level for the whole
 *    allocator.  Here that is one kmbench adaptive mutex (kmbench/lock.h: spins while the
 *    holder runs, sleeps when it does not; its contention is the "bucket.lock_*"
 *    statistics) over all buckets, statistics and kmemusage records, held across
 *    page-source calls (lock order: bucket lock, then the page
 *    source's locks; the page source never calls back).  usable_size reads ku_indx or
 *    ku_pagecnt without the lock: they do not change while a block of the page lives.
 *    Statistics are stored with relaxed atomics so memstat reads them without the lock;
 *    kmb_backend_stats copies them under it, for figures consistent with each other.
 *    Per-bucket locks or per-CPU caches are later designs (FreeBSD 5's UMA), not this one.
 *
 * 5. Departures from 4.4BSD.
 *
 *    a. Large blocks come from a page source that gives 2^order pages (the buddy
 *       allocator), where 4.4BSD's kmem_malloc() mapped exactly npg pages.  A block takes
 *       2^ceil(log2 npg) pages; its usable size stays what 4.4BSD gives, ku_pagecnt =
 *       npg pages, and the 2^order - npg tail pages are held unused until the block is
 *       freed (they cannot go back alone: a buddy block is freed whole).  They count in
 *       the footprint and in the large_waste gauge.
 *    b. drain (the core calls it before an M_WAITOK request sleeps): every wholly free
 *       page of a small bucket (ku_freecnt == kb_elmpercl) leaves its free list and goes
 *       back to the page source; kb_total and kb_totalfree drop by kb_elmpercl.  4.4BSD
 *       had no such path: memory on bucket lists was never returned, and a kernel short of
 *       pages slept in kmem_malloc with megabytes on its lists.  Without it a M_WAITOK
 *       request here could be reported as a deadlock while whole pages sit free.  The
 *       normal paths are 4.4BSD's: nothing is returned outside a drain, and kb_couldfree
 *       still counts what 4.4BSD could have freed.
 *    c. DIAGNOSTIC: the known text of free memory is the core's poison (KMB_POISON_BYTE,
 *       written over the whole block by the core's INVARIANTS on every free), not
 *       WEIRD_ADDR; the free marker in the first word is WEIRD_ADDR (0xdeadbeef twice), a
 *       value the poison never takes, so "looks free" still tells a freed block from a live
 *       one the core has just poisoned.  4.4BSD's DIAGNOSTIC free list kept the link in
 *       the fourth field (after spare0, type, spare1: 16 bytes on a 32-bit machine, 32 on
 *       LP64, more than the 16-byte bucket); here it is word 1 in every mode.  The previous
 *       owner's malloc type is neither recorded nor printed (backends never see types).  A
 *       link that is not a block of the bucket panics (KMB_PANIC_MODIFIED) where 4.4BSD
 *       printed and truncated the list.
 *    d. The free(addr) ownership and alignment checks run always (one flag test, one
 *       mask); 4.4BSD did the alignment check under DIAGNOSTIC only and had no ownership
 *       check.  Tail frames are marked (2.) so a free inside a block of pages is told
 *       from a free of a page the page source holds (a duplicated free of a large block).
 *    e. No M_WAITOK inside the allocator and no ks_limit (1.), no kmem_map: the simulated
 *       physical memory is the kmem map, and the kmemusage "array" is its memmap.
 *
 * 6. Observation.
 *
 *    Declared statistics (bucket_stats.c, one table): the gauges and events of struct
 *    kmb__bucket_ctr, then, for each bucket with calls, kb_calls, kb_total, kb_totalfree
 *    and kb_couldfree (kb_elmpercl and kb_highwat are constants: bucket.h).  memstat:
 *    the page source's free pages; largest_free also counts the largest bucket with a
 *    free block.  No extfrag of its own: the core asks the page source.
 */
#include "bucket.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- geometry -------------------------------------------------------------------------- */

/* Pages taken from the page source for one refill of a small bucket (npg): 1, or 2 for 8192. */
static size_t small_npg(unsigned indx)
{
	size_t size = (size_t)1 << indx;

	return size > KMB_PAGE_SIZE ? size >> KMB_PAGE_SHIFT : 1;
}

static unsigned order_of_pages(size_t npg)
{
	unsigned order = 0;

	while (((size_t)1 << order) < npg)
		order++;
	return order;
}

static struct kmb_page *head_page(const struct kmb__bucket *b, const void *addr)
{
	return kmb_page_of(b->pm, addr);
}

/* ---- kmemusage ------------------------------------------------------------------------- */

/* The head frame of 2^order pages gets the record, the others the tail mark. */
static void ku_set(struct kmb_page *pg, unsigned order, uint32_t flag, unsigned indx,
                   uint64_t count)
{
	pg->flags |= flag;
	KMB__BK_STORE(&pg->priv[KMB__KU_INDX], (uintptr_t)indx);
	pg->priv[KMB__KU_COUNT] = (uintptr_t)count;
	for (size_t i = 1; i < ((size_t)1 << order); i++)
		pg[i].flags |= KMB__PG_BUCKET_TAIL;
}

static void ku_clear(struct kmb_page *pg, unsigned order)
{
	KMB__BK_STORE(&pg->priv[KMB__KU_INDX], 0);
	pg->priv[KMB__KU_COUNT] = 0;
	for (size_t i = 0; i < ((size_t)1 << order); i++)
		pg[i].flags &= ~KMB__PG_BUCKET_ALL;
}

/* ---- small buckets (lock held) ----------------------------------------------------------- */

/*
 * Carve fresh pages into blocks of bucket indx, from the top down, and put them in front
 * of whatever the list holds (4.4BSD's savedlist: empty here, as nothing sleeps).
 */
static void carve(struct kmb__bucket *b, unsigned indx, char *va, size_t npg)
{
	struct kmb__bucket_kb *kbp = &b->kb[indx];
	size_t size = (size_t)1 << indx;
	struct kmb__bucket_free *savedlist = kbp->kb_next, *freep = NULL;
	char *cp = va + (npg << KMB_PAGE_SHIFT) - size;

	kbp->kb_next = (struct kmb__bucket_free *)cp;
	for (;;) {
		freep = (struct kmb__bucket_free *)cp;
		if (b->diag)
			freep->spare0 = KMB__BUCKET_WEIRD_ADDR;
		if (cp <= va)
			break;
		cp -= size;
		freep->next = (struct kmb__bucket_free *)cp;
	}
	freep->next = savedlist;
	if (savedlist == NULL)
		kbp->kb_last = freep;
}

static int refill(struct kmb__bucket *b, unsigned indx, int flags)
{
	struct kmb__bucket_kb *kbp = &b->kb[indx];
	size_t npg = small_npg(indx);
	unsigned order = order_of_pages(npg);
	char *va = b->ps->alloc_pages(b->ps, order, flags & M_USE_RESERVE);

	if (va == NULL)
		return -ENOMEM;
	ku_set(head_page(b, va), order, KMB__PG_BUCKET_SMALL, indx, kbp->kb_elmpercl);
	KMB__BK_ADD(&kbp->kb_total, kbp->kb_elmpercl);
	KMB__BK_ADD(&kbp->kb_totalfree, kbp->kb_elmpercl);
	KMB__BK_ADD(&b->ctr.small_pages, npg);
	carve(b, indx, va, npg);
	return 0;
}

static void *small_alloc(struct kmb__bucket *b, unsigned indx, int flags)
{
	struct kmb__bucket_kb *kbp = &b->kb[indx];
	struct kmb__bucket_fault fault;
	struct kmb__bucket_free *freep;
	struct kmb_page *pg;

	kmb_mutex_enter(&b->lock);
	if (kbp->kb_next == NULL && refill(b, indx, flags) != 0) {
		kmb_mutex_exit(&b->lock);
		return NULL;
	}
	freep = kbp->kb_next;
	kmb_check(kbp->kb_totalfree > 0, freep,
	          "kmb_bucket_alloc(%zu): bucket %u lists block %p but counts no free block",
	          (size_t)1 << indx, indx, (void *)freep);
	if ((b->diag && kmb__bucket_diag_alloc(b, indx, freep, &fault) != 0) ||
	    kmb__bucket_check_alloc(b, indx, freep, &fault) != 0)
		kmb__bucket_fault_panic(b, &fault);
	kbp->kb_next = freep->next;
	if (kbp->kb_next == NULL)
		kbp->kb_last = NULL;
	pg = head_page(b, freep);
	pg->priv[KMB__KU_COUNT]--;
	KMB__BK_SUB(&kbp->kb_totalfree, 1);
	KMB__BK_ADD(&kbp->kb_calls, 1);
	kmb_mutex_exit(&b->lock);
	kmb_poison(b->pm, freep, sizeof(*freep)); /* no marker, no link: poison, as a free block */
	return freep;
}

static void small_free(struct kmb__bucket *b, struct kmb_page *pg, void *addr)
{
	unsigned indx = (unsigned)pg->priv[KMB__KU_INDX];
	struct kmb__bucket_kb *kbp = &b->kb[indx];
	struct kmb__bucket_free *freep = addr;

	pg->priv[KMB__KU_COUNT]++;
	if (pg->priv[KMB__KU_COUNT] == kbp->kb_elmpercl && kbp->kb_totalfree > kbp->kb_highwat)
		KMB__BK_ADD(&kbp->kb_couldfree, 1);
	KMB__BK_ADD(&kbp->kb_totalfree, 1);
	if (b->diag)
		freep->spare0 = KMB__BUCKET_WEIRD_ADDR;
	freep->next = NULL;
	if (kbp->kb_next == NULL)
		kbp->kb_next = freep;
	else
		kbp->kb_last->next = freep;
	kbp->kb_last = freep;
}

/* ---- large blocks ------------------------------------------------------------------------ */

static void *large_alloc(struct kmb__bucket *b, size_t size, int flags)
{
	size_t npg = (size + KMB_PAGE_SIZE - 1) >> KMB_PAGE_SHIFT;
	unsigned order = order_of_pages(npg), indx = kmb__bucket_indx(size);
	struct kmb__bucket_kb *kbp = &b->kb[indx];
	char *va;

	if (order > b->ps->max_order)
		return NULL;
	kmb_mutex_enter(&b->lock);
	va = b->ps->alloc_pages(b->ps, order, flags & M_USE_RESERVE);
	if (va != NULL) {
		ku_set(head_page(b, va), order, KMB__PG_BUCKET_LARGE, indx, npg);
		KMB__BK_ADD(&kbp->kb_total, kbp->kb_elmpercl);
		KMB__BK_ADD(&kbp->kb_calls, 1);
		KMB__BK_ADD(&b->ctr.large_pages, (size_t)1 << order);
		KMB__BK_ADD(&b->ctr.large_waste, ((size_t)1 << order) - npg);
	}
	kmb_mutex_exit(&b->lock);
	return va;
}

static void large_free(struct kmb__bucket *b, struct kmb_page *pg, void *addr)
{
	size_t npg = pg->priv[KMB__KU_COUNT];
	unsigned order = order_of_pages(npg);
	struct kmb__bucket_kb *kbp = &b->kb[pg->priv[KMB__KU_INDX]];

	KMB__BK_SUB(&kbp->kb_total, 1);
	KMB__BK_SUB(&b->ctr.large_pages, (size_t)1 << order);
	KMB__BK_SUB(&b->ctr.large_waste, ((size_t)1 << order) - npg);
	ku_clear(pg, order);
	b->ps->free_pages(b->ps, addr, order);
}

/* ---- drain (departure 5.b) --------------------------------------------------------------- */

/* The last block of a wholly free page left the list: the page goes back. */
static void release_page(struct kmb__bucket *b, struct kmb_page *pg, unsigned indx)
{
	struct kmb__bucket_kb *kbp = &b->kb[indx];
	size_t npg = small_npg(indx);
	char *va = kmb_page_addr(b->pm, pg);

	KMB__BK_SUB(&kbp->kb_total, kbp->kb_elmpercl);
	KMB__BK_SUB(&kbp->kb_totalfree, kbp->kb_elmpercl);
	KMB__BK_SUB(&b->ctr.small_pages, npg);
	KMB__BK_ADD(&b->ctr.drained_pages, npg);
	ku_clear(pg, order_of_pages(npg));
	kmb_poison(b->pm, va, npg << KMB_PAGE_SHIFT); /* markers and links */
	b->ps->free_pages(b->ps, va, order_of_pages(npg));
}

/* INVARIANTS: the bucket's free list holds kb_totalfree blocks, its last one kb_last. */
static void check_freelist(const struct kmb__bucket *b, unsigned indx, const char *call)
{
	const struct kmb__bucket_kb *kbp = &b->kb[indx];
	const struct kmb__bucket_free *f = kbp->kb_next, *last = NULL;
	uint64_t n = 0;

	for (; f != NULL && n <= kbp->kb_totalfree; f = f->next, n++)
		last = f;
	kmb_check(n == kbp->kb_totalfree && last == kbp->kb_last, (const void *)last,
	          "%s: bucket %u (%zu bytes): %lu blocks on its free list ending at %p, "
	          "kb_totalfree %lu, kb_last %p",
	          call, indx, (size_t)1 << indx, (unsigned long)n, (const void *)last,
	          (unsigned long)kbp->kb_totalfree, (const void *)kbp->kb_last);
}

/*
 * One pass over the list: a block whose page is wholly free (or was, when its first block
 * was met: KMB__PG_BUCKET_DRAIN) is unlinked, counting ku_freecnt down; at 0 the page
 * holds no listed block and goes back.  The other blocks keep their order.
 */
static void drain_bucket(struct kmb__bucket *b, unsigned indx)
{
	struct kmb__bucket_kb *kbp = &b->kb[indx];
	struct kmb__bucket_free *prev = NULL, *f, *next;

	if (kmb_unlikely(kmb_invariants_on))
		check_freelist(b, indx, "kmb_bucket_drain");
	for (f = kbp->kb_next; f != NULL; f = next) {
		struct kmb_page *pg = head_page(b, f);

		next = f->next;
		if (pg->priv[KMB__KU_COUNT] == kbp->kb_elmpercl)
			pg->flags |= KMB__PG_BUCKET_DRAIN;
		if (!(pg->flags & KMB__PG_BUCKET_DRAIN)) {
			prev = f;
			continue;
		}
		if (prev != NULL)
			prev->next = next;
		else
			kbp->kb_next = next;
		if (--pg->priv[KMB__KU_COUNT] == 0)
			release_page(b, pg, indx);
	}
	kbp->kb_last = prev;
}

/* ---- the backend ops ---------------------------------------------------------------------- */

static void kb_init(struct kmb__bucket_kb *kbp, unsigned indx)
{
	memset(kbp, 0, sizeof(*kbp));
	kbp->kb_elmpercl = kmb__bucket_elmpercl(indx);
	kbp->kb_highwat = KMB_BUCKET_HIGHWAT_ALLOCS * kbp->kb_elmpercl;
}

static int bucket_init(struct kmb_backend *be)
{
	struct kmb__bucket *b;

	if (be->pages == NULL)
		return -EINVAL; /* the registry always gives one: default_pages */
	b = aligned_alloc(_Alignof(struct kmb__bucket), sizeof(*b)); /* sizeof: a multiple */
	if (b == NULL)
		return -ENOMEM;
	memset(b, 0, sizeof(*b));
	kmb_lock_init(&b->lock);
	b->pm = be->pm;
	b->ps = be->pages;
	b->diag = kmb_invariants_on;
	for (unsigned i = 0; i < KMB_BUCKET_NBUCKETS; i++)
		kb_init(&b->kb[i], i);
	be->priv = b;
	return 0;
}

/* Pages still carved into buckets go back (every block is free by now: kmb_shutdown). */
static void bucket_fini(struct kmb_backend *be)
{
	struct kmb__bucket *b = kmb__bucket_of(be);

	kmb_mutex_enter(&b->lock);
	for (unsigned indx = KMB_BUCKET_MINBUCKET; indx <= KMB_BUCKET_MAXSMALL; indx++)
		drain_bucket(b, indx);
	kmb_mutex_exit(&b->lock);
	kmb_lock_destroy(&b->lock);
	free(b);
	be->priv = NULL;
}

static size_t bucket_usable_size(struct kmb_backend *be, const void *addr);

static void *bucket_alloc(struct kmb_backend *be, size_t size, int flags, size_t *usable)
{
	struct kmb__bucket *b = kmb__bucket_of(be);
	unsigned indx;
	void *p;

	if (size > KMB_BUCKET_MAXALLOCSAVE) {
		p = large_alloc(b, size, flags);
		if (p != NULL)
			*usable = bucket_usable_size(be, p);
		return p;
	}
	indx = kmb__bucket_indx(size);
	*usable = (size_t)1 << indx;
	return small_alloc(b, indx, flags);
}

static size_t bucket_free(struct kmb_backend *be, void *addr)
{
	struct kmb__bucket *b = kmb__bucket_of(be);
	struct kmb__bucket_fault fault;
	struct kmb_page *pg;
	size_t usable;

	kmb_mutex_enter(&b->lock);
	if (kmb__bucket_check_free(b, addr, &fault) != 0)
		kmb__bucket_fault_panic(b, &fault);
	usable = bucket_usable_size(be, addr);
	pg = head_page(b, addr);
	if (pg->flags & KMB__PG_BUCKET_LARGE)
		large_free(b, pg, addr);
	else
		small_free(b, pg, addr);
	kmb_mutex_exit(&b->lock);
	return usable;
}

static size_t bucket_usable_size(struct kmb_backend *be, const void *addr)
{
	struct kmb__bucket *b = kmb__bucket_of(be);
	const struct kmb_page *pg = head_page(b, addr);

	if (pg->flags & KMB__PG_BUCKET_LARGE)
		return (size_t)pg->priv[KMB__KU_COUNT] << KMB_PAGE_SHIFT;
	kmb_assert(pg->flags & KMB__PG_BUCKET_SMALL);
	return (size_t)1 << KMB__BK_LOAD(&pg->priv[KMB__KU_INDX]);
}

static size_t bucket_max_size(struct kmb_backend *be)
{
	return KMB_PAGE_SIZE << be->pages->max_order;
}

/* The page source's free pages; the largest block is the page source's or a bucket's. */
static void bucket_memstat(struct kmb_backend *be, struct kmb_memstat *ms)
{
	struct kmb__bucket *b = kmb__bucket_of(be);

	for (unsigned indx = KMB_BUCKET_MAXSMALL; indx >= KMB_BUCKET_MINBUCKET; indx--) {
		size_t size = (size_t)1 << indx;

		if (size <= ms->largest_free)
			break;
		if (KMB__BK_LOAD(&b->kb[indx].kb_totalfree) > 0) {
			ms->largest_free = size;
			break;
		}
	}
}

static void bucket_drain(struct kmb_backend *be)
{
	struct kmb__bucket *b = kmb__bucket_of(be);

	kmb_mutex_enter(&b->lock);
	KMB__BK_ADD(&b->ctr.drains, 1);
	for (unsigned indx = KMB_BUCKET_MINBUCKET; indx <= KMB_BUCKET_MAXSMALL; indx++)
		drain_bucket(b, indx);
	kmb_mutex_exit(&b->lock);
}

/* The picture of memory (kmb_frame_map): from the kmemusage record of each page. */
static int bucket_frame_kind(struct kmb_backend *be, size_t pfn)
{
	const struct kmb_page *pg = &be->pm->map[pfn];
	uint32_t flags = __atomic_load_n(&pg->flags, __ATOMIC_RELAXED);
	unsigned indx;

	if (flags & (KMB__PG_BUCKET_LARGE | KMB__PG_BUCKET_TAIL))
		return flags & KMB__PG_BUCKET_LARGE ? KMB_FRAME_LARGE : KMB_FRAME_UNKNOWN;
	if (!(flags & KMB__PG_BUCKET_SMALL))
		return KMB_FRAME_UNKNOWN;
	indx = (unsigned)KMB__BK_LOAD(&pg->priv[KMB__KU_INDX]);
	return KMB__BK_LOAD(&pg->priv[KMB__KU_COUNT]) >= kmb__bucket_elmpercl(indx)
	               ? KMB_FRAME_BUCKET_EMPTY
	               : KMB_FRAME_BUCKET;
}

const struct kmb_backend_ops kmb_bucket_ops = {
        .name = "bucket",
        .summary = "4.4BSD kernel malloc (McKusick & Karels 1988): power-of-two buckets, "
                   "kmemusage per page",
        .freelist_bytes = sizeof(struct kmb__bucket_free),
        .natural_pow2 = true, /* a bucket's blocks start at multiples of their size */
        .default_pages = "buddy",
        .init = bucket_init,
        .fini = bucket_fini,
        .alloc = bucket_alloc,
        .free = bucket_free,
        .usable_size = bucket_usable_size,
        .max_size = bucket_max_size,
        .memstat = bucket_memstat,
        .stats = kmb__bucket_stats,
        .drain = bucket_drain,
        .frame_kind = bucket_frame_kind,
};
