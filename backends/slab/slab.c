/*
 * backends/slab/slab.c - object caches, slabs, bufctls and colouring: the slab layer of
 * Bonwick's allocator.
 *
 * BIG THEORY STATEMENT
 *
 * 1. References and layers.
 *
 *    Jeff Bonwick, "The Slab Allocator: An Object-Caching Kernel Memory Allocator",
 *    USENIX Summer 1994; Jeff Bonwick and Jonathan Adams, "Magazines and Vmem: Extending
 *    the Slab Allocator to Many CPUs and Arbitrary Resources", USENIX 2001; and their
 *    implementation, illumos usr/src/uts/common/os/kmem.c, whose names are used below
 *    (kmem_cache_alloc, kmem_slab_create, cc_loaded, ...).  Three layers:
 *
 *      CPU layer    per-CPU caches of two magazines (loaded, previously loaded): an
 *                   allocation pops a round, a free pushes one (slab_magazine.c).
 *      depot        per cache, lists of full and of empty magazines under one lock; a CPU
 *                   exchanges whole magazines with it (slab_magazine.c).
 *      slab layer   per cache, slabs carved into buffers, under the cache lock (here).
 *
 *    kmalloc is a set of size-class caches plus whole pages above 8 KiB (slab_kmalloc.c);
 *    reaping gives cached memory back (slab_reap.c).  Slabs come from the page source
 *    be->pages (buddy by default), never from malloc.
 *
 * 2. Data structures.
 *
 *    struct kmb__slab_cache   one object cache: geometry, the slab lists (complete,
 *                             partial, empty), the bufctl hash, the depot, and
 *                             cpu[ncpus + 1] CPU caches (slab.h).  The descriptor itself
 *                             comes from the C heap (aligned_alloc), like kmem's from
 *                             kmem_cache_arena: a fixed cost per cache that does not grow
 *                             with objects and is not part of any footprint.
 *    struct kmb__slab         a slab header (kmem_slab_t, 48 bytes): list links, cache,
 *                             base (first buffer), free list head, refcnt, chunks, colour.
 *    struct kmb__slab_bufctl  a large-object buffer's control record: next, addr, slab.
 *    struct kmb_page          every frame of a slab has KMB__SLAB_PG_SLAB and priv[0] =
 *                             its cache, so kfree(addr) and usable_size(addr) find the
 *                             cache from the address alone (Linux's page->slab_cache;
 *                             kmem_free is told the size instead), and priv[1] = its
 *                             slab header (for the picture of memory, kmb_frame_map).
 *
 *    Small-object caches (chunk < PAGE / 8 = 512 bytes, KMEM_VOID_FRACTION) use one-page
 *    slabs with the header in the page's last 48 bytes, and keep the free list inside the
 *    free buffers: the first 8 bytes of a free buffer point to the next one (the embedded
 *    bufctl).  The slab of a buffer is then found by arithmetic: the end of its page.
 *    Large-object caches use slabs of 2^order pages holding buffers only; the header comes
 *    from kmem_slab_cache and one bufctl per buffer from kmem_bufctl_cache, and an
 *    allocated buffer's bufctl is found by a hash of its address (bucket = (addr >>
 *    hash_shift) & hash_mask, hash_shift = log2(chunk)).  The hash table is taken lazily,
 *    at the first slab, in whole pages from the page source with KMB_GFP_META, and is
 *    rescaled as kmem_hash_rescale does: to 2^(highbit(3 * buftotal + 4) - 2) buckets
 *    (between 0.75 and 1.5 buckets per buffer), at least one page, when the cache grows
 *    past twice or shrinks below half the table.
 *
 * 3. Geometry (kmem_cache_create).
 *
 *    chunk = size rounded up to the alignment (at least 8: a free buffer holds a link).
 *    Small: slab = 1 page, chunks = (4096 - 48 - colour) / chunk, and the slack
 *    (4096 - 48) % chunk is the colour range.  Large: of the slabs that hold 1..8 chunks
 *    (rounded up to a power-of-two number of pages, what the page source gives), the one
 *    with the least waste per buffer, the first on a tie; the slack slabsize % chunk is
 *    the colour range.  Worked examples (48-byte header):
 *
 *        kmalloc-64     chunks 63, slack 16: no colour fits (colours step by 64)
 *        kmalloc-96     (align 32) chunks 42, slack 16
 *        200 B, align 8 chunks 20, slack 48: colours 8, 16, 24, 32, 40, 48, 0, 8, ...
 *        kmalloc-512    1 page, 8 chunks, no waste; 1024: 4 chunks; 4096: 1 chunk
 *        kmalloc-8192   2 pages, 1 chunk
 *        600 B, align 8 1 page: 6 chunks, waste 496 / 6 = 82 per buffer; 2 pages: 13
 *                       chunks, waste 392 / 13 = 30 -> 2-page slabs, colours 8..392
 *
 *    Colouring (kmem_slab_create): each new slab's colour is the previous one plus the
 *    alignment, back to 0 once it would pass the slack, so the first slab has colour
 *    `align` when that fits.  Buffers of different slabs then start at different cache
 *    line offsets, spreading them over the hardware cache's sets.
 *
 * 4. The slab layer's algorithms (costs with the cache lock held).
 *
 *    kmb__slab_alloc (kmem_slab_alloc)  the first partial slab, else the first empty one,
 *        else a new slab (the lock dropped while the page source is called); take the head
 *        of its free list - O(1); for a large slab also link the bufctl into the hash.
 *    kmb__slab_free (kmem_slab_free)    find the slab (page arithmetic, or a hash lookup
 *        O(chain)), push the buffer; a slab that was complete becomes the first partial
 *        one; a slab whose last buffer comes back moves to the empty list - O(1).
 *    kmb__slab_reap_empty               free every empty slab to the page source.
 *
 *    Ordering of partial slabs: kmem keeps them in an AVL tree by allocation count, most
 *    allocated first, so allocations finish off nearly full slabs and nearly empty ones
 *    may drain.  Here a list gives the same order at the two transitions that matter:
 *    a slab leaving the complete list goes to the front (it is the fullest), a slab
 *    leaving the empty list (reused or new) goes to the back (it is the emptiest); frees
 *    inside the partial list do not reorder it.
 *
 * 5. The magazine layer and the depot: see slab_magazine.c (its own theory statement):
 *    the exact kmem_cache_alloc/kmem_cache_free algorithm with the loaded/previous swap,
 *    depot of full and empty magazines, working-set statistics, contention-driven
 *    magazine growth counted in depot transactions, and how another thread's drain reaches
 *    magazines that only their owner may touch (a flush generation).
 *
 * 6. Reaping: see slab_reap.c.  Empty slabs are kept, as Bonwick 1994 describes, until a
 *    reap: before an M_WAITOK request sleeps (drain), when a slab cannot be created
 *    because the page source is short, and at fini.
 *
 * 7. Locking (order: caches_lock, shared CPU cache lock, depot lock, cache lock, the
 *    backend's own caches' locks, the page source's).  No lock on the fast path of a
 *    thread attached to a CPU.  The slab layer is never entered with a CPU cache or depot
 *    lock held: the slow paths drop them first, as kmem does, because creating a slab may
 *    reap every cache.  Fields read without their lock (statistics, magtype) are written
 *    with relaxed atomic stores.  Every lock is a kmbench adaptive mutex (kmbench/lock.h),
 *    as kmem's are kmutex_t: a waiter spins while the holder runs and sleeps when it does
 *    not; their contention, summed per kind over caches, is the "cache.lock_*",
 *    "depot.lock_*", "cpu.lock_*" (shared CPU entries) and "caches.lock_*" statistics.
 *    The depot's own contention count (trylock failures) still drives magazine resizing.
 *
 * 8. Accounting.  Pages of object caches' slabs (kmalloc-*, kmem_cache_create) are data:
 *    their slab headers (small) and colour slack are part of the data footprint.
 *    Metadata pages (KMB_GFP_META): the slabs of kmem_slab_cache, kmem_bufctl_cache and
 *    kmem_magazine_N, and the hash tables.  kmalloc blocks above 8 KiB are data pages.
 *
 * 9. Departures from kmem.c.
 *    - The embedded bufctl is at the start of a free buffer (kmem: its last word), where
 *      the contract lets a backend keep links (freelist_bytes = 8).
 *    - Alignments below 8 are raised to 8 (kmem would make such a cache KMC_NOTOUCH and
 *      hash it).
 *    - Empty slabs are kept until reaped (Bonwick 1994; illumos frees a slab at its last
 *      free).  Partial slabs on a list, not an AVL tree (4.).  Buffers of a new slab are
 *      handed out in ascending address order (kmem: descending).
 *    - Slab sizes are powers of two pages (the page source's blocks), not any multiple of
 *      the arena quantum; the initial hash is one page (512 buckets, kmem: 64 from an
 *      8-byte-quantum arena), taken at the first slab, not at creation.
 *    - The backend's own caches (kmem_slab_cache, kmem_bufctl_cache, kmem_magazine_N)
 *      have no magazine layer and are KMC_NOHASH (one-page slabs): no recursion through
 *      the CPU layer, at the price of a lock per magazine, bufctl or header allocation
 *      (slow paths only).
 *    - No constructors, destructors, debugging flags (the core's INVARIANTS do that),
 *      consolidator or move callbacks; no maintenance thread (slab_magazine.c 5.).
 *
 * 10. Observation: the declared statistics table (slab_kmalloc.c), summed over caches;
 *     kmb__slab_cache_stats for one cache (kmem_cache_kstat).
 */
#include "slab.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct kmb__slab) == 48, "the slab header is 48 bytes");

/* ---- page source ------------------------------------------------------------------------ */

void *kmb__slab_pages_alloc(struct kmb_slab *sl, unsigned order, int flags)
{
	void *p = sl->ps->alloc_pages(sl->ps, order, flags & (M_USE_RESERVE | KMB_GFP_META));

	if (p != NULL)
		KMB__SLAB_ATOMIC_ADD((flags & KMB_GFP_META) ? &sl->meta_pages : &sl->data_pages,
		                     (int64_t)1 << order);
	return p;
}

void kmb__slab_pages_free(struct kmb_slab *sl, void *addr, unsigned order, bool meta)
{
	KMB__SLAB_ATOMIC_ADD(meta ? &sl->meta_pages : &sl->data_pages, -((int64_t)1 << order));
	sl->ps->free_pages(sl->ps, addr, order);
}

/* sp: the slab the pages now hold, NULL when they leave it. */
static void mark_pages(struct kmb__slab_cache *cp, char *mem, struct kmb__slab *sp)
{
	struct kmb_page *pg = kmb_page_of(cp->sl->pm, mem);
	bool on = sp != NULL;

	for (size_t i = 0; i < ((size_t)1 << cp->slab_order); i++) {
		pg[i].flags =
		        on ? pg[i].flags | KMB__SLAB_PG_SLAB : pg[i].flags & ~KMB__SLAB_PG_SLAB;
		pg[i].priv[0] = on ? (uintptr_t)cp : 0;
		pg[i].priv[1] = (uintptr_t)sp;
	}
}

/* ---- slab lists (cache lock held) --------------------------------------------------------- */

static void slist_init(struct kmb__slab_list *l)
{
	l->head.next = l->head.prev = &l->head;
	l->n = 0;
}

static struct kmb__slab *slist_first(struct kmb__slab_list *l)
{
	return l->head.next == &l->head ? NULL : l->head.next;
}

static void slist_insert(struct kmb__slab_list *l, struct kmb__slab *sp, bool tail)
{
	struct kmb__slab *prev = tail ? l->head.prev : &l->head;

	sp->prev = prev;
	sp->next = prev->next;
	prev->next->prev = sp;
	prev->next = sp;
	KMB__SLAB_INC(&l->n);
}

static void slist_del(struct kmb__slab_list *l, struct kmb__slab *sp)
{
	sp->prev->next = sp->next;
	sp->next->prev = sp->prev;
	sp->next = sp->prev = NULL;
	KMB__SLAB_STORE(&l->n, l->n - 1);
}

/* ---- geometry ---------------------------------------------------------------------------- */

static size_t p2roundup(size_t x, size_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static unsigned order_for_bytes(size_t bytes)
{
	unsigned order = 0;

	while ((KMB_PAGE_SIZE << order) < bytes)
		order++;
	return order;
}

/* Large objects: the slab of 1..8 chunks with the least waste per buffer (3.). */
static int large_geometry(struct kmb__slab_cache *cp, unsigned max_order)
{
	size_t minwaste = SIZE_MAX, chunk = cp->chunksize;
	unsigned best = 0;

	for (size_t want = 1; want <= KMB__SLAB_VOID_FRACTION; want++) {
		unsigned order = order_for_bytes(chunk * want);
		size_t slab = KMB_PAGE_SIZE << order, n = slab / chunk, waste = (slab % chunk) / n;

		if (order <= max_order && waste < minwaste) {
			minwaste = waste;
			best = order;
		}
	}
	if (minwaste == SIZE_MAX)
		return -E2BIG;
	cp->slab_order = best;
	cp->slabsize = KMB_PAGE_SIZE << best;
	cp->maxcolor = cp->slabsize % chunk;
	if (cp->maxcolor >= KMB_PAGE_SIZE) /* kmem: colours stay within one quantum */
		cp->maxcolor = KMB_PAGE_SIZE - 1;
	cp->maxchunks = (unsigned)(cp->slabsize / chunk);
	return 0;
}

int kmb__slab_geometry(struct kmb__slab_cache *cp, size_t size, size_t align, bool internal,
                       unsigned max_order)
{
	if (align < KMB__SLAB_ALIGN)
		align = KMB__SLAB_ALIGN;
	if ((align & (align - 1)) != 0 || align > KMB_PAGE_SIZE || size == 0)
		return -EINVAL;
	if (size > (KMB_PAGE_SIZE << max_order))
		return -E2BIG;
	cp->bufsize = size;
	cp->align = align;
	cp->chunksize = p2roundup(p2roundup(size, KMB__SLAB_ALIGN), align);
	cp->mincolor = 0;
	cp->small = internal || cp->chunksize < KMB__SLAB_SMALL_MAX;
	if (!cp->small)
		return large_geometry(cp, max_order);
	if (cp->chunksize + sizeof(struct kmb__slab) > KMB_PAGE_SIZE)
		return -E2BIG;
	cp->slab_order = 0;
	cp->slabsize = KMB_PAGE_SIZE;
	cp->maxcolor = (KMB_PAGE_SIZE - sizeof(struct kmb__slab)) % cp->chunksize;
	cp->maxchunks = (unsigned)((KMB_PAGE_SIZE - sizeof(struct kmb__slab)) / cp->chunksize);
	return 0;
}

size_t kmb__slab_next_colour(struct kmb__slab_cache *cp)
{
	size_t colour = cp->color + cp->align;

	if (colour > cp->maxcolor)
		colour = cp->mincolor;
	cp->color = colour;
	return colour;
}

/* ---- the bufctl hash (large objects) ------------------------------------------------------ */

static struct kmb__slab_bufctl **hash_bucket(const struct kmb__slab_cache *cp, const void *buf)
{
	return &cp->hash[((uintptr_t)buf >> cp->hash_shift) & cp->hash_mask];
}

static unsigned highbit(size_t x)
{
	return x == 0 ? 0 : 64 - (unsigned)__builtin_clzll((unsigned long long)x);
}

/* kmem_hash_rescale's target size for the buffers the cache holds (2.). */
static size_t hash_target(const struct kmb__slab_cache *cp, unsigned max_order)
{
	size_t n = (size_t)1 << (highbit(3 * cp->buftotal + 4) - 2);
	size_t max = (KMB_PAGE_SIZE << max_order) / sizeof(void *);

	if (n < KMB__SLAB_HASH_INITIAL)
		n = KMB__SLAB_HASH_INITIAL;
	return n > max ? max : n;
}

static struct kmb__slab_bufctl **hash_table_alloc(struct kmb_slab *sl, size_t buckets,
                                                  unsigned *order)
{
	void *t;

	*order = order_for_bytes(buckets * sizeof(void *));
	t = kmb__slab_pages_alloc(sl, *order, KMB_GFP_META);
	if (t != NULL)
		memset(t, 0, KMB_PAGE_SIZE << *order);
	return t;
}

static void hash_install(struct kmb__slab_cache *cp, struct kmb__slab_bufctl **table,
                         size_t buckets, unsigned order)
{
	struct kmb__slab_bufctl **old = cp->hash;
	size_t oldn = old ? cp->hash_mask + 1 : 0;

	cp->hash = table;
	cp->hash_mask = buckets - 1;
	cp->hash_order = order;
	for (size_t h = 0; h < oldn; h++) {
		struct kmb__slab_bufctl *bcp = old[h], *next;

		for (; bcp != NULL; bcp = next) {
			struct kmb__slab_bufctl **b = hash_bucket(cp, bcp->addr);

			next = bcp->next;
			bcp->next = *b;
			*b = bcp;
		}
	}
}

/*
 * Rescale the hash when the cache grew past twice or shrank below half of it (kmem's
 * kmem_cache_update test and kmem_hash_rescale).  A table that cannot be had leaves the
 * old one: lookups are only slower.
 */
void kmb__slab_hash_update(struct kmb__slab_cache *cp)
{
	unsigned max_order = cp->sl->ps->max_order, order, old_order;
	struct kmb__slab_bufctl **table, **old;
	size_t want;

	kmb_mutex_enter(&cp->lock);
	want = hash_target(cp, max_order);
	if (cp->hash == NULL ||
	    (want <= (cp->hash_mask + 1) * 2 && want >= (cp->hash_mask + 1) / 2)) {
		kmb_mutex_exit(&cp->lock);
		return;
	}
	kmb_mutex_exit(&cp->lock);
	table = hash_table_alloc(cp->sl, want, &order);
	if (table == NULL)
		return;
	kmb_mutex_enter(&cp->lock);
	old = cp->hash;
	old_order = cp->hash_order;
	hash_install(cp, table, want, order);
	KMB__SLAB_INC(&cp->hash_rescale);
	kmb_mutex_exit(&cp->lock);
	kmb__slab_pages_free(cp->sl, old, old_order, true);
}

/* The first table, at the first slab of a large-object cache. */
static int hash_ensure(struct kmb__slab_cache *cp)
{
	struct kmb__slab_bufctl **table;
	unsigned order;
	bool have;

	kmb_mutex_enter(&cp->lock);
	have = cp->hash != NULL;
	kmb_mutex_exit(&cp->lock);
	if (have)
		return 0;
	table = hash_table_alloc(cp->sl, KMB__SLAB_HASH_INITIAL, &order);
	if (table == NULL)
		return -ENOMEM;
	kmb_mutex_enter(&cp->lock);
	have = cp->hash != NULL;
	if (!have)
		hash_install(cp, table, KMB__SLAB_HASH_INITIAL, order);
	kmb_mutex_exit(&cp->lock);
	if (have)
		kmb__slab_pages_free(cp->sl, table, order, true);
	return 0;
}

/* ---- slab creation and destruction -------------------------------------------------------- */

static char *slab_memory(const struct kmb__slab *sp)
{
	return sp->base - sp->colour;
}

static struct kmb__slab *small_slab_of(const struct kmb__slab_cache *cp, const void *buf)
{
	char *page = kmb_page_addr(cp->sl->pm, kmb_page_of(cp->sl->pm, buf));

	return (struct kmb__slab *)(page + KMB_PAGE_SIZE - sizeof(struct kmb__slab));
}

static void free_bufctls(struct kmb__slab_cache *cp, struct kmb__slab *sp)
{
	struct kmb__slab_bufctl *bcp, *next;

	for (bcp = sp->head; bcp != NULL; bcp = next) {
		next = bcp->next;
		kmb__slab_free(cp->sl->bufctl_cache, bcp);
	}
	sp->head = NULL;
}

/* Buffers in ascending order on the free list: embedded links (small) or bufctls. */
static int slab_fill(struct kmb__slab_cache *cp, struct kmb__slab *sp, int flags)
{
	for (int i = sp->chunks - 1; i >= 0; i--) {
		char *buf = sp->base + (size_t)i * cp->chunksize;
		struct kmb__slab_bufctl *bcp;

		if (cp->small) {
			*(void **)buf = sp->head; /* within freelist_bytes: poison stays */
			sp->head = buf;
			continue;
		}
		bcp = kmb__slab_alloc(cp->sl->bufctl_cache, flags);
		if (bcp == NULL)
			return -ENOMEM;
		*bcp = (struct kmb__slab_bufctl){sp->head, buf, sp};
		sp->head = bcp;
	}
	return 0;
}

/* kmem_slab_create: a slab of the given colour, not on any list, or NULL. */
static struct kmb__slab *slab_create(struct kmb__slab_cache *cp, size_t colour, int flags)
{
	int pflags = (flags & M_USE_RESERVE) | (cp->meta ? KMB_GFP_META : 0);
	char *mem = kmb__slab_pages_alloc(cp->sl, cp->slab_order, pflags);
	struct kmb__slab *sp;
	size_t room = cp->slabsize - colour;

	if (mem == NULL)
		return NULL;
	if (cp->small) {
		sp = (struct kmb__slab *)(mem + KMB_PAGE_SIZE - sizeof(*sp));
		room -= sizeof(*sp);
	} else if ((sp = kmb__slab_alloc(cp->sl->slab_cache, flags)) == NULL) {
		kmb__slab_pages_free(cp->sl, mem, cp->slab_order, cp->meta);
		return NULL;
	}
	*sp = (struct kmb__slab){NULL,
	                         NULL,
	                         cp,
	                         mem + colour,
	                         NULL,
	                         0,
	                         (uint16_t)(room / cp->chunksize),
	                         (uint16_t)colour};
	if (slab_fill(cp, sp, flags) != 0) { /* large slabs only */
		free_bufctls(cp, sp);
		kmb__slab_free(cp->sl->slab_cache, sp);
		kmb__slab_pages_free(cp->sl, mem, cp->slab_order, cp->meta);
		return NULL;
	}
	mark_pages(cp, mem, sp);
	return sp;
}

/* kmem_slab_destroy: every buffer is free; no lock held. */
static void slab_destroy(struct kmb__slab_cache *cp, struct kmb__slab *sp)
{
	char *mem = slab_memory(sp);

	if (!cp->small) {
		free_bufctls(cp, sp);
		kmb__slab_free(cp->sl->slab_cache, sp);
	}
	mark_pages(cp, mem, NULL);
	kmb__slab_pages_free(cp->sl, mem, cp->slab_order, cp->meta);
}

/* A new slab; when the page source is short, reap every cache once and try again (not for
 * a magazine, which is optional: a free without one goes to the slab layer). */
static struct kmb__slab *slab_try_create(struct kmb__slab_cache *cp, size_t colour, int flags)
{
	if (!cp->small && hash_ensure(cp) != 0)
		return NULL;
	return slab_create(cp, colour, flags);
}

static struct kmb__slab *slab_create_or_reap(struct kmb__slab_cache *cp, size_t colour, int flags)
{
	struct kmb__slab *sp = slab_try_create(cp, colour, flags);

	if (sp == NULL && !(flags & KMB__SLAB_NOREAP)) {
		kmb__slab_reap(cp->sl, false);
		sp = slab_try_create(cp, colour, flags);
	}
	return sp;
}

/* ---- allocation and free ------------------------------------------------------------------ */

/*
 * The slab's free list holds exactly its chunks - refcnt free buffers, each the start of a
 * buffer of this slab (small caches; a large cache's bufctls point at theirs).  A walk of
 * up to chunks links: INVARIANTS only (cache lock held).
 */
static void slab_check_freelist(const struct kmb__slab_cache *cp, const struct kmb__slab *sp,
                                const char *call)
{
	size_t n = 0, nfree = (size_t)sp->chunks - sp->refcnt;

	for (void *f = sp->head; f != NULL && n <= nfree; n++) {
		const char *buf = cp->small ? f : ((const struct kmb__slab_bufctl *)f)->addr;
		size_t off = (size_t)(buf - sp->base);

		kmb_check(buf >= sp->base && off % cp->chunksize == 0 &&
		                  off / cp->chunksize < sp->chunks,
		          (const void *)buf, "%s(%s): slab %p: free buffer %p is not one of its %u",
		          call, cp->name, (const void *)sp, (const void *)buf, sp->chunks);
		f = cp->small ? *(void *const *)f : ((const struct kmb__slab_bufctl *)f)->next;
	}
	kmb_check(n == nfree, sp->base,
	          "%s(%s): slab %p: %zu buffers on its free list, %u chunks - %u allocated", call,
	          cp->name, (const void *)sp, n, sp->chunks, sp->refcnt);
}

/* kmem_slab_alloc_impl: take a buffer from sp (cache lock held). */
static void *slab_take(struct kmb__slab_cache *cp, struct kmb__slab *sp)
{
	bool was_empty = sp->refcnt == 0, listed = sp->next != NULL;
	void *buf;

	/* a slab on the partial or empty list has a free buffer */
	kmb_check(sp->refcnt < sp->chunks && sp->head != NULL, sp->base,
	          "kmem_slab_alloc(%s): slab %p has %u of %u buffers allocated, free list %p",
	          cp->name, (void *)sp, sp->refcnt, sp->chunks, sp->head);
	if (kmb_unlikely(kmb_invariants_on))
		slab_check_freelist(cp, sp, "kmem_slab_alloc");
	KMB__SLAB_INC(&cp->slab_alloc);
	KMB__SLAB_STORE(&cp->bufslab, cp->bufslab - 1);
	sp->refcnt++;
	if (cp->small) {
		buf = sp->head;
		sp->head = *(void **)buf;
	} else {
		struct kmb__slab_bufctl *bcp = sp->head, **b;

		sp->head = bcp->next;
		b = hash_bucket(cp, bcp->addr);
		bcp->next = *b;
		*b = bcp;
		buf = bcp->addr;
	}
	if (was_empty && listed)
		slist_del(&cp->empty, sp);
	if (sp->refcnt == sp->chunks) {
		if (!was_empty)
			slist_del(&cp->partial, sp);
		slist_insert(&cp->complete, sp, false);
	} else if (was_empty) {
		slist_insert(&cp->partial, sp, true);
	}
	return buf;
}

static void slab_created(struct kmb__slab_cache *cp, const struct kmb__slab *sp)
{
	KMB__SLAB_INC(&cp->slab_create);
	KMB__SLAB_ADD(&cp->buftotal, sp->chunks);
	KMB__SLAB_ADD(&cp->bufslab, sp->chunks);
	if (cp->buftotal > cp->bufmax)
		KMB__SLAB_STORE(&cp->bufmax, cp->buftotal);
}

static bool hash_needs_update(const struct kmb__slab_cache *cp)
{
	return cp->hash != NULL &&
	       (cp->buftotal > cp->hash_mask * 2 ||
	        (cp->buftotal < cp->hash_mask / 2 && cp->hash_mask + 1 > KMB__SLAB_HASH_INITIAL));
}

void *kmb__slab_alloc(struct kmb__slab_cache *cp, int flags)
{
	struct kmb__slab *sp;
	bool rescale;
	void *buf;

	kmb_mutex_enter(&cp->lock);
	sp = slist_first(&cp->partial);
	if (sp == NULL)
		sp = slist_first(&cp->empty);
	if (sp == NULL) {
		size_t colour = kmb__slab_next_colour(cp);

		kmb_mutex_exit(&cp->lock);
		sp = slab_create_or_reap(cp, colour, flags);
		if (sp == NULL) {
			KMB__SLAB_ATOMIC_ADD(&cp->alloc_fail, 1);
			return NULL;
		}
		kmb_mutex_enter(&cp->lock);
		slab_created(cp, sp);
	}
	buf = slab_take(cp, sp);
	rescale = hash_needs_update(cp);
	kmb_mutex_exit(&cp->lock);
	if (rescale)
		kmb__slab_hash_update(cp);
	return buf;
}

__attribute__((noreturn)) static void bad_free(struct kmb__slab_cache *cp, void *buf,
                                               enum kmb_panic_kind kind, const char *why)
{
	kmb_mutex_exit(&cp->lock);
	kmb_panic(kind, buf, "kmem_slab_free(%s, %p): %s", cp->name, buf, why);
}

/* The slab of an allocated small buffer, checked (cache lock held). */
static struct kmb__slab *small_lookup(struct kmb__slab_cache *cp, void *buf)
{
	const struct kmb_page *pg = kmb_page_of(cp->sl->pm, buf);
	struct kmb__slab *sp;
	size_t off;

	if (!(pg->flags & KMB__SLAB_PG_SLAB) || pg->priv[0] != (uintptr_t)cp)
		bad_free(cp, buf, KMB_PANIC_BAD_FREE, "buffer not in this cache");
	sp = small_slab_of(cp, buf);
	off = (size_t)((char *)buf - sp->base);
	if ((char *)buf < sp->base || off % cp->chunksize != 0 || off / cp->chunksize >= sp->chunks)
		bad_free(cp, buf, KMB_PANIC_BAD_FREE, "not the start of a buffer");
	if (sp->refcnt == 0)
		bad_free(cp, buf, KMB_PANIC_DOUBLE_FREE, "the slab has no allocated buffer");
	return sp;
}

/* Unhash an allocated large buffer's bufctl (cache lock held). */
static struct kmb__slab_bufctl *large_lookup(struct kmb__slab_cache *cp, void *buf)
{
	struct kmb__slab_bufctl **prev = hash_bucket(cp, buf), *bcp;

	for (; (bcp = *prev) != NULL; prev = &bcp->next) {
		if (bcp->addr == buf) {
			*prev = bcp->next;
			return bcp;
		}
		KMB__SLAB_INC(&cp->lookup_depth);
	}
	bad_free(cp, buf, KMB_PANIC_BAD_FREE, "no allocated buffer at this address");
}

/* The slab's list after one of its buffers came back (cache lock held). */
static void slab_returned(struct kmb__slab_cache *cp, struct kmb__slab *sp)
{
	bool was_complete = sp->refcnt == sp->chunks;

	sp->refcnt--;
	if (kmb_unlikely(kmb_invariants_on))
		slab_check_freelist(cp, sp, "kmem_slab_free");
	if (sp->refcnt == 0) {
		slist_del(was_complete ? &cp->complete : &cp->partial, sp);
		slist_insert(&cp->empty, sp, false);
	} else if (was_complete) {
		slist_del(&cp->complete, sp);
		slist_insert(&cp->partial, sp, false);
	}
}

void kmb__slab_free(struct kmb__slab_cache *cp, void *buf)
{
	struct kmb__slab *sp;

	kmb_mutex_enter(&cp->lock);
	if (cp->small) {
		sp = small_lookup(cp, buf);
		*(void **)buf = sp->head; /* within freelist_bytes */
		sp->head = buf;
	} else {
		struct kmb__slab_bufctl *bcp = large_lookup(cp, buf);

		sp = bcp->slab;
		bcp->next = sp->head;
		sp->head = bcp;
	}
	KMB__SLAB_INC(&cp->slab_free);
	KMB__SLAB_INC(&cp->bufslab);
	slab_returned(cp, sp);
	kmb_mutex_exit(&cp->lock);
}

/* ---- reaping empty slabs ------------------------------------------------------------------ */

size_t kmb__slab_reap_empty(struct kmb__slab_cache *cp)
{
	struct kmb__slab *sp, *list = NULL;
	size_t n = 0;
	bool rescale;

	kmb_mutex_enter(&cp->lock);
	while ((sp = slist_first(&cp->empty)) != NULL) {
		slist_del(&cp->empty, sp);
		KMB__SLAB_STORE(&cp->buftotal, cp->buftotal - sp->chunks);
		KMB__SLAB_STORE(&cp->bufslab, cp->bufslab - sp->chunks);
		KMB__SLAB_INC(&cp->slab_destroy);
		sp->next = list;
		list = sp;
		n++;
	}
	rescale = hash_needs_update(cp);
	kmb_mutex_exit(&cp->lock);
	for (; list != NULL; list = sp) {
		sp = list->next;
		slab_destroy(cp, list);
	}
	if (rescale)
		kmb__slab_hash_update(cp);
	return n;
}

/* ---- caches -------------------------------------------------------------------------------- */

static struct kmb__slab_cache *cache_struct_alloc(unsigned ncc)
{
	size_t bytes = sizeof(struct kmb__slab_cache) + ncc * sizeof(struct kmb__slab_cc);
	struct kmb__slab_cache *cp;

	bytes = p2roundup(bytes, _Alignof(struct kmb__slab_cc));
	cp = aligned_alloc(_Alignof(struct kmb__slab_cc), bytes);
	if (cp != NULL)
		memset(cp, 0, bytes);
	return cp;
}

static void cache_init_cpus(struct kmb__slab_cache *cp)
{
	for (unsigned i = 0; i < cp->ncc; i++) {
		struct kmb__slab_cc *cc = &cp->cpu[i];

		cc->rounds = cc->prounds = -1;
		cc->mt = cp->magtype;
		cc->magsize = cp->magsize;
		kmb_lock_init(&cc->lock);
	}
}

static void cache_init_layers(struct kmb__slab_cache *cp, bool internal)
{
	kmb_lock_init(&cp->lock);
	kmb_lock_init(&cp->depot_lock);
	slist_init(&cp->complete);
	slist_init(&cp->partial);
	slist_init(&cp->empty);
	cp->color = cp->mincolor;
	cp->hash_shift = highbit(cp->chunksize) - 1;
	cp->meta = internal;
	cp->nomag = internal;
	cp->magtype = internal ? 0 : kmb__slab_magtype_for(cp->sl, cp->chunksize);
	cp->magsize = internal ? 0 : kmb__slab_magtypes[cp->magtype].magsize;
	cache_init_cpus(cp);
}

static void cache_link(struct kmb_slab *sl, struct kmb__slab_cache *cp)
{
	kmb_mutex_enter(&sl->caches_lock);
	cp->prev = NULL;
	cp->next = sl->caches;
	if (sl->caches != NULL)
		sl->caches->prev = cp;
	sl->caches = cp;
	kmb_mutex_exit(&sl->caches_lock);
}

/* internal: one of the backend's own caches (metadata pages, no magazines, no hash). */
struct kmb__slab_cache *kmb__slab_cache_create(struct kmb_slab *sl, const char *name, size_t size,
                                               size_t align, bool internal)
{
	unsigned ncc = internal ? 0 : sl->ncpus + 1;
	struct kmb__slab_cache *cp = cache_struct_alloc(ncc);

	if (cp == NULL)
		return NULL;
	if (kmb__slab_geometry(cp, size, align, internal, sl->ps->max_order) != 0) {
		free(cp);
		return NULL;
	}
	snprintf(cp->name, sizeof(cp->name), "%s", name);
	cp->sl = sl;
	cp->ncc = ncc;
	cache_init_layers(cp, internal);
	cache_link(sl, cp);
	return cp;
}

/* Free the slabs of a cache whatever they hold (fini), then its hash. */
void kmb__slab_cache_free_all(struct kmb__slab_cache *cp)
{
	struct kmb__slab_list *lists[3] = {&cp->complete, &cp->partial, &cp->empty};
	struct kmb__slab *sp;

	for (int i = 0; i < 3; i++) {
		while ((sp = slist_first(lists[i])) != NULL) {
			char *mem = slab_memory(sp);

			slist_del(lists[i], sp);
			mark_pages(cp, mem, NULL);
			kmb__slab_pages_free(cp->sl, mem, cp->slab_order, cp->meta);
		}
	}
	if (cp->hash != NULL)
		kmb__slab_pages_free(cp->sl, cp->hash, cp->hash_order, true);
	cp->hash = NULL;
}

void kmb__slab_free_cache_struct(struct kmb__slab_cache *cp)
{
	for (unsigned i = 0; i < cp->ncc; i++)
		kmb_lock_destroy(&cp->cpu[i].lock);
	kmb_lock_destroy(&cp->depot_lock);
	kmb_lock_destroy(&cp->lock);
	free(cp);
}

/* A dead cache nobody can reach any more: magazines, empty slabs, hash, descriptor. */
void kmb__slab_cache_destroy(struct kmb__slab_cache *cp)
{
	if (!cp->nomag) {
		kmb__slab_depot_ws_zero(cp);
		kmb__slab_depot_ws_reap(cp);
	}
	kmb__slab_reap_empty(cp);
	kmb__slab_cache_free_all(cp); /* slabs still in use: a leak the core reported */
	kmb__slab_free_cache_struct(cp);
}
