/*
 * backends/buddy/buddy_heap.c - kmalloc served by the buddy page allocator alone ("buddy"):
 *
 * 1. Two paths by size.  A request above half a page takes 2^order whole pages from the
 *    page allocator (order = ceil(log2(pages)), up to 4 MiB), usable size PAGE << order;
 *    its head frame is marked KMB__PG_HEAP_LARGE.  A request of at most 2048 bytes comes
 *    from a sub-page binary buddy heap: a page split into binary buddies of 16 to 2048
 *    bytes (sub-orders 0..7; the whole page is sub-order 8), the request rounded up to a
 *    power of two.  Every block is aligned to its size.
 *
 * 2. No header in a block.  Each heap page has a 64-byte side-table entry:
 *        split[256 bits]  bit n set: node n of the page's binary tree is split (heap
 *                         numbering: root 1, children 2n and 2n + 1; nodes 1..255 are the
 *                         ones that can split, the 256 leaves are 16-byte blocks);
 *        alloc[256 bits]  bit g set: an allocated block starts at byte 16 * g.
 *    A block's size is found by descending from the root toward its address: the first
 *    node that is not split is the block.  A block with its alloc bit clear and its node
 *    not split is free.  The entries live in metadata pages taken from the page allocator
 *    with KMB_GFP_META, so the overhead is counted exactly: 64 entries per page, the
 *    page's struct kmb_page holding the bitmap of free entries (priv[1]) and the links of
 *    the list of pages with a free entry; the heap page's priv[0] points at its entry.
 *    A metadata page with no entry in use goes back to the page allocator.
 *
 * 3. Free blocks are on one list per sub-order, doubly linked through their first 16
 *    bytes (freelist_bytes).  Allocation takes the smallest non-empty list that fits (or a
 *    fresh page) and halves the block down to the size wanted, the upper halves going to
 *    their lists.  Free merges with the buddy while the buddy is free and whole, restoring
 *    the poison over the link bytes of the upper half (now inside a larger free block);
 *    a page that becomes one free block goes back to the page allocator.  Freeing an
 *    address where no allocated block starts panics (KMB_PANIC_DOUBLE_FREE).  No sized
 *    free (backend.h free_sized; kmem_free takes free): free reads the page's side-table
 *    entry to clear the alloc bit and merge anyway, and the size is the short descent of
 *    its split bits.
 *
 * 4. Locking: one kmbench adaptive mutex (kmbench/lock.h; statistics "heap.lock_*") over
 *    the heap (free lists, side tables, metadata pages), taken before the page allocator's
 *    spinlocks.  Split bits are stored with relaxed atomics so
 *    usable_size can read them without the lock (the bits on a live block's path do not
 *    change while it lives).  Per-CPU heaps are a departure left for later.
 *
 * 5. Statistics: the page allocator's declared counters (kmb_buddy_stats), then one static
 *    table (illumos kstat style) naming every counter of struct kmb__heap_ctr with its unit
 *    and meaning.
 */
#include "buddy.h"

#include <kmbench/lock.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HEAP_MIN_SHIFT 4                                 /* 16-byte blocks */
#define HEAP_NSUB      8                                 /* sub-orders 0..7 on lists */
#define HEAP_ROOT_SUB  8                                 /* the whole page */
#define HEAP_MAX_SMALL (KMB_PAGE_SIZE / 2)               /* 2048 */
#define HEAP_GRANULES  (KMB_PAGE_SIZE >> HEAP_MIN_SHIFT) /* 256 */
#define META_ALL_FREE  UINT64_MAX

struct heap_meta {
	uint64_t split[HEAP_GRANULES / 64];
	uint64_t alloc[HEAP_GRANULES / 64];
};

struct heap_free {
	struct heap_free *next, *prev;
};

_Static_assert(sizeof(struct heap_meta) == 64, "side-table entry is 64 bytes");
_Static_assert(KMB_PAGE_SIZE / sizeof(struct heap_meta) == 64, "64 entries per page");
_Static_assert(sizeof(uintptr_t) == sizeof(uint64_t), "priv[1] holds a 64-bit bitmap");

struct kmb__heap {
	/* Its own cache line: a CPU spinning on it must not steal the lines the holder
	 * works on. */
	_Alignas(64) struct kmb_lock lock;
	_Alignas(64) struct kmb_buddy *buddy;
	struct kmb_physmem *pm;
	struct heap_free *free[HEAP_NSUB];
	struct kmb_page meta_avail; /* sentinel: metadata pages with a free entry */
	struct kmb__heap_ctr ctr;
};

/* ---- bitmaps --------------------------------------------------------------------------- */

static bool bit_test(const uint64_t *w, unsigned i)
{
	return (w[i / 64] >> (i % 64)) & 1;
}

static void bit_assign(uint64_t *w, unsigned i, bool on)
{
	uint64_t m = (uint64_t)1 << (i % 64);

	w[i / 64] = on ? w[i / 64] | m : w[i / 64] & ~m;
}

/* Split bits: written under the lock, read by usable_size without it. */
static bool split_test(const struct heap_meta *m, unsigned node)
{
	return (KMB_LOAD(&m->split[node / 64]) >> (node % 64)) & 1;
}

static void split_assign(struct heap_meta *m, unsigned node, bool on)
{
	uint64_t w = KMB_LOAD(&m->split[node / 64]), bit = (uint64_t)1 << (node % 64);

	KMB_STORE(&m->split[node / 64], on ? w | bit : w & ~bit);
}

/* ---- geometry -------------------------------------------------------------------------- */

static unsigned heap_suborder(size_t size)
{
	if (size <= ((size_t)1 << HEAP_MIN_SHIFT))
		return 0;
	return (unsigned)(64 - __builtin_clzll((unsigned long long)size - 1)) - HEAP_MIN_SHIFT;
}

static size_t sub_bytes(unsigned sub)
{
	return (size_t)1 << (HEAP_MIN_SHIFT + sub);
}

/* The tree node of the block of this sub-order at this page offset. */
static unsigned tree_node(size_t off, unsigned sub)
{
	return (1u << (HEAP_ROOT_SUB - sub)) + (unsigned)(off >> (HEAP_MIN_SHIFT + sub));
}

/* Descend from the root: the first node that is not split is the block at off. */
static unsigned block_suborder(const struct heap_meta *m, size_t off)
{
	unsigned node = 1, sub = HEAP_ROOT_SUB;

	while (sub > 0 && split_test(m, node)) {
		sub--;
		node = 2 * node + (unsigned)((off >> (HEAP_MIN_SHIFT + sub)) & 1);
	}
	return sub;
}

static size_t page_offset(const struct kmb__heap *h, const void *addr)
{
	return (size_t)((const char *)addr - h->pm->base) & (KMB_PAGE_SIZE - 1);
}

static struct heap_meta *page_meta(const struct kmb_page *pg)
{
	return (struct heap_meta *)pg->priv[0];
}

static size_t order_for_pages(size_t pages)
{
	size_t order = 0;

	while (((size_t)1 << order) < pages)
		order++;
	return order;
}

/* ---- free lists (lock held) ------------------------------------------------------------ */

static void fl_push(struct kmb__heap *h, unsigned sub, void *blk)
{
	struct heap_free *f = blk;

	f->prev = NULL;
	f->next = h->free[sub];
	if (f->next != NULL)
		f->next->prev = f;
	h->free[sub] = f;
}

static void fl_remove(struct kmb__heap *h, unsigned sub, struct heap_free *f)
{
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		h->free[sub] = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
}

static void *fl_pop(struct kmb__heap *h, unsigned sub)
{
	struct heap_free *f = h->free[sub];

	fl_remove(h, sub, f);
	return f;
}

/* ---- side-table entries (lock held) ---------------------------------------------------- */

static int meta_page_add(struct kmb__heap *h, int flags)
{
	void *page = kmb_buddy_alloc_pages(h->buddy, 0, KMB_GFP_META | (flags & M_USE_RESERVE));
	struct kmb_page *mp;

	if (page == NULL)
		return -ENOMEM;
	mp = kmb_page_of(h->pm, page);
	mp->flags = KMB__PG_HEAP_META;
	mp->priv[1] = META_ALL_FREE;
	kmb_list_add(&h->meta_avail, mp);
	KMB_ADD(&h->ctr.meta_pages, 1);
	return 0;
}

static struct heap_meta *meta_get(struct kmb__heap *h, int flags)
{
	struct kmb_page *mp;
	struct heap_meta *m;
	unsigned slot;

	if (kmb_list_empty(&h->meta_avail) && meta_page_add(h, flags) != 0)
		return NULL;
	mp = h->meta_avail.next;
	slot = (unsigned)__builtin_ctzll(mp->priv[1]);
	mp->priv[1] &= ~((uint64_t)1 << slot);
	if (mp->priv[1] == 0)
		kmb_list_del(mp);
	m = (struct heap_meta *)kmb_page_addr(h->pm, mp) + slot;
	memset(m, 0, sizeof(*m));
	return m;
}

static void meta_put(struct kmb__heap *h, struct heap_meta *m)
{
	struct kmb_page *mp = kmb_page_of(h->pm, m);
	struct heap_meta *first = kmb_page_addr(h->pm, mp);
	bool was_full = mp->priv[1] == 0;

	mp->priv[1] |= (uint64_t)1 << (m - first);
	if (mp->priv[1] != META_ALL_FREE) {
		if (was_full)
			kmb_list_add(&h->meta_avail, mp);
		return;
	}
	if (!was_full)
		kmb_list_del(mp);
	mp->flags = 0;
	mp->priv[1] = 0;
	KMB_SUB(&h->ctr.meta_pages, 1);
	kmb_buddy_free_pages(h->buddy, first, 0);
}

/* ---- heap pages (lock held) ------------------------------------------------------------ */

/*
 * A fresh heap page, then its side-table entry.  heap_release gives back the entry (and
 * perhaps its page) first and the heap page last, so the per-CPU lists (LIFO) hand the
 * same page back as data: a use after free stays where the core's poison check sees it.
 */
static void *heap_grow(struct kmb__heap *h, int flags)
{
	void *page = kmb_buddy_alloc_pages(h->buddy, 0, flags & M_USE_RESERVE);
	struct heap_meta *m;
	struct kmb_page *pg;

	if (page == NULL)
		return NULL;
	m = meta_get(h, flags);
	if (m == NULL) {
		kmb_buddy_free_pages(h->buddy, page, 0);
		return NULL;
	}
	pg = kmb_page_of(h->pm, page);
	pg->flags = KMB__PG_HEAP_SMALL;
	pg->priv[0] = (uintptr_t)m;
	KMB_ADD(&h->ctr.heap_pages, 1);
	return page;
}

static void heap_release(struct kmb__heap *h, struct kmb_page *pg)
{
	const struct heap_meta *m = page_meta(pg);
	uint64_t used = 0;

	/* one free block of the whole page: nothing allocated, no node split */
	for (unsigned w = 0; w < HEAP_GRANULES / 64; w++)
		used |= KMB_LOAD(&m->split[w]) | m->alloc[w];
	kmb_check(used == 0, kmb_page_addr(h->pm, pg),
	          "kfree: buddy heap: page %p goes back with split nodes or allocated blocks",
	          kmb_page_addr(h->pm, pg));
	meta_put(h, page_meta(pg));
	pg->flags = 0;
	pg->priv[0] = 0;
	KMB_SUB(&h->ctr.heap_pages, 1);
	kmb_buddy_free_pages(h->buddy, kmb_page_addr(h->pm, pg), 0);
}

/* Halve the block at blk from sub-order sub down to want, and mark it allocated. */
static void heap_take(struct kmb__heap *h, char *blk, unsigned sub, unsigned want)
{
	struct heap_meta *m = page_meta(kmb_page_of(h->pm, blk));
	size_t off = page_offset(h, blk);

	/* a free block of its sub-order: aligned to its size, no allocation starts there */
	kmb_check(sub <= HEAP_ROOT_SUB && want <= sub && (off & (sub_bytes(sub) - 1)) == 0 &&
	                  !bit_test(m->alloc, (unsigned)(off >> HEAP_MIN_SHIFT)),
	          blk, "kmalloc(%zu): buddy heap: block %p (sub-order %u) is not free",
	          sub_bytes(want), (void *)blk, sub);
	while (sub > want) {
		split_assign(m, tree_node(off, sub), true);
		sub--;
		fl_push(h, sub, blk + sub_bytes(sub));
		KMB_ADD(&h->ctr.heap_split, 1);
	}
	bit_assign(m->alloc, (unsigned)(off >> HEAP_MIN_SHIFT), true);
	KMB_ADD(&h->ctr.heap_alloc, 1);
}

static void *heap_alloc(struct kmb__heap *h, size_t size, int flags)
{
	unsigned want = heap_suborder(size), sub = want;
	char *blk;

	kmb_mutex_enter(&h->lock);
	while (sub < HEAP_NSUB && h->free[sub] == NULL)
		sub++;
	if (sub < HEAP_NSUB) {
		blk = fl_pop(h, sub);
	} else {
		blk = heap_grow(h, flags);
		sub = HEAP_ROOT_SUB;
	}
	if (blk != NULL)
		heap_take(h, blk, sub, want);
	kmb_mutex_exit(&h->lock);
	return blk;
}

/* The buddy node (sub-order sub, at boff) is a whole free block. */
static bool heap_buddy_free(const struct heap_meta *m, unsigned bnode, size_t boff, unsigned sub)
{
	if (sub > 0 && split_test(m, bnode))
		return false;
	return !bit_test(m->alloc, (unsigned)(boff >> HEAP_MIN_SHIFT));
}

/* Merge the freed block at off with its free buddies; returns its final sub-order. */
static unsigned heap_coalesce(struct kmb__heap *h, char *page, struct heap_meta *m, size_t *off,
                              unsigned sub)
{
	unsigned node = tree_node(*off, sub);

	while (sub < HEAP_ROOT_SUB) {
		size_t boff = *off ^ sub_bytes(sub);

		if (!heap_buddy_free(m, node ^ 1, boff, sub))
			break;
		fl_remove(h, sub, (struct heap_free *)(page + boff));
		kmb_poison(h->pm, page + (*off | boff), sizeof(struct heap_free));
		node >>= 1;
		split_assign(m, node, false);
		*off &= boff;
		sub++;
		KMB_ADD(&h->ctr.heap_merge, 1);
	}
	return sub;
}

__attribute__((noreturn)) static void heap_bad_free(struct kmb__heap *h, void *addr, size_t off)
{
	kmb_mutex_exit(&h->lock);
	if (off % sub_bytes(0) != 0)
		kmb_panic(KMB_PANIC_BAD_FREE, addr, "kfree(%p): buddy heap: not a block boundary",
		          addr);
	kmb_panic(KMB_PANIC_DOUBLE_FREE, addr,
	          "kfree(%p): buddy heap: no allocated block starts here (double free)", addr);
}

static void heap_free(struct kmb__heap *h, struct kmb_page *pg, void *addr)
{
	char *page = kmb_page_addr(h->pm, pg);
	size_t off = page_offset(h, addr);
	struct heap_meta *m;
	unsigned sub;

	kmb_mutex_enter(&h->lock);
	m = page_meta(pg);
	if (off % sub_bytes(0) != 0 || !bit_test(m->alloc, (unsigned)(off >> HEAP_MIN_SHIFT)))
		heap_bad_free(h, addr, off);
	sub = block_suborder(m, off);
	kmb_assert_internal((off & (sub_bytes(sub) - 1)) == 0);
	bit_assign(m->alloc, (unsigned)(off >> HEAP_MIN_SHIFT), false);
	KMB_ADD(&h->ctr.heap_free, 1);
	sub = heap_coalesce(h, page, m, &off, sub);
	if (sub == HEAP_ROOT_SUB)
		heap_release(h, pg);
	else
		fl_push(h, sub, page + off);
	kmb_mutex_exit(&h->lock);
}

/* Largest free heap block in bytes, 0 if none. */
static size_t heap_largest_free(struct kmb__heap *h)
{
	size_t n = 0;

	kmb_mutex_enter(&h->lock);
	for (int sub = HEAP_NSUB - 1; sub >= 0 && n == 0; sub--)
		if (h->free[sub] != NULL)
			n = sub_bytes((unsigned)sub);
	kmb_mutex_exit(&h->lock);
	return n;
}

/* ---- whole-page blocks ----------------------------------------------------------------- */

static void *large_alloc(struct kmb__heap *h, size_t size, int flags)
{
	size_t order = order_for_pages((size + KMB_PAGE_SIZE - 1) >> KMB_PAGE_SHIFT);
	void *p;

	if (order > KMB_BUDDY_MAX_ORDER)
		return NULL;
	p = kmb_buddy_alloc_pages(h->buddy, (unsigned)order, flags & M_USE_RESERVE);
	if (p == NULL)
		return NULL;
	kmb_page_of(h->pm, p)->flags |= KMB__PG_HEAP_LARGE;
	KMB_COUNT(&h->ctr.large_alloc);
	return p;
}

static void large_free(struct kmb__heap *h, struct kmb_page *pg, void *addr)
{
	pg->flags &= ~KMB__PG_HEAP_LARGE;
	KMB_COUNT(&h->ctr.large_free);
	kmb_buddy_free_pages(h->buddy, addr, pg->order);
}

/* ---- the backend ops ------------------------------------------------------------------- */

static struct kmb__heap *heap_of(const struct kmb_backend *be)
{
	return be->priv;
}

struct kmb_buddy *kmb__buddy_of_backend(const struct kmb_backend *be)
{
	return heap_of(be)->buddy;
}

static int buddy_init(struct kmb_backend *be)
{
	struct kmb__heap *h = aligned_alloc(_Alignof(struct kmb__heap), sizeof(*h));
	int err;

	if (h == NULL)
		return -ENOMEM;
	memset(h, 0, sizeof(*h));
	kmb_lock_init(&h->lock);
	err = kmb_buddy_create(be->pm, be->ncpus, true, &h->buddy);
	if (err != 0) {
		kmb_lock_destroy(&h->lock);
		free(h);
		return err;
	}
	kmb_buddy_set_pcp(h->buddy, be->tun); /* the page source's table (backend.h 5.) */
	h->pm = be->pm;
	kmb_list_init(&h->meta_avail);
	be->priv = h;
	return 0;
}

static void buddy_fini(struct kmb_backend *be)
{
	struct kmb__heap *h = heap_of(be);

	kmb_buddy_destroy(h->buddy);
	kmb_lock_destroy(&h->lock);
	free(h);
	be->priv = NULL;
}

static size_t buddy_usable_size(struct kmb_backend *be, const void *addr);

static void *buddy_alloc(struct kmb_backend *be, size_t size, int flags, size_t *usable)
{
	void *p = size <= HEAP_MAX_SMALL ? heap_alloc(heap_of(be), size, flags)
	                                 : large_alloc(heap_of(be), size, flags);

	if (p != NULL)
		*usable = buddy_usable_size(be, p);
	return p;
}

static size_t buddy_free(struct kmb_backend *be, void *addr)
{
	struct kmb__heap *h = heap_of(be);
	struct kmb_page *pg;
	size_t usable;

	if (!kmb_physmem_contains(h->pm, addr))
		kmb_panic(KMB_PANIC_BAD_FREE, addr, "kfree(%p): buddy: not in physical memory",
		          addr);
	pg = kmb_page_of(h->pm, addr);
	if (pg->flags & KMB__PG_HEAP_SMALL) {
		usable = buddy_usable_size(be, addr);
		heap_free(h, pg, addr);
		return usable;
	}
	if ((pg->flags & KMB__PG_HEAP_LARGE) && addr == kmb_page_addr(h->pm, pg)) {
		usable = KMB_PAGE_SIZE << pg->order;
		large_free(h, pg, addr);
		return usable;
	}
	if (pg->usage == KMB_USE_FREE)
		kmb_panic(KMB_PANIC_DOUBLE_FREE, addr, "kfree(%p): buddy: the page is free", addr);
	else
		kmb_panic(KMB_PANIC_BAD_FREE, addr, "kfree(%p): buddy: not an allocated block",
		          addr);
}

static size_t buddy_usable_size(struct kmb_backend *be, const void *addr)
{
	struct kmb__heap *h = heap_of(be);
	const struct kmb_page *pg = kmb_page_of(h->pm, addr);

	if (pg->flags & KMB__PG_HEAP_LARGE)
		return KMB_PAGE_SIZE << pg->order;
	kmb_assert(pg->flags & KMB__PG_HEAP_SMALL);
	return sub_bytes(block_suborder(page_meta(pg), page_offset(h, addr)));
}

static size_t buddy_max_size(struct kmb_backend *be)
{
	(void)be;
	return KMB_PAGE_SIZE << KMB_BUDDY_MAX_ORDER;
}

static int buddy_extfrag(struct kmb_backend *be, unsigned order, int *unusable, int *fragindex)
{
	const struct kmb_buddy *b = kmb__buddy_of_backend(be);

	*unusable = kmb_buddy_unusable_index(b, order);
	*fragindex = kmb_buddy_fragmentation_index(b, order);
	return 0;
}

static void buddy_memstat(struct kmb_backend *be, struct kmb_memstat *ms)
{
	struct kmb__heap *h = heap_of(be);
	size_t heap = heap_largest_free(h);

	ms->free_pages = kmb_buddy_free_pages_count(h->buddy);
	ms->largest_free = kmb_buddy_largest_free(h->buddy);
	if (heap > ms->largest_free)
		ms->largest_free = heap;
}

#define STAT(f, unit, desc) KMB_STAT_DECL(struct kmb__heap_ctr, f, unit, desc)

static const struct kmb_stat_decl heap_stats_table[] = {
        STAT(heap_alloc, "events", "sub-page blocks allocated"),
        STAT(heap_free, "events", "sub-page blocks freed"),
        STAT(heap_split, "events", "sub-page blocks halved"),
        STAT(heap_merge, "events", "sub-page buddies coalesced"),
        STAT(heap_pages, "pages", "pages split into sub-page blocks now"),
        STAT(meta_pages, "pages", "side-table pages now"),
        STAT(large_alloc, "events", "requests served with whole pages"),
        STAT(large_free, "events", "whole-page blocks freed"),
        KMB_LOCK_STAT_DECLS(struct kmb__heap_ctr, heap_lock, "heap", "the sub-page heap's mutex"),
};

static void heap_counters(const struct kmb__heap *h, struct kmb__heap_ctr *c)
{
	c->heap_alloc = KMB_LOAD(&h->ctr.heap_alloc);
	c->heap_free = KMB_LOAD(&h->ctr.heap_free);
	c->heap_split = KMB_LOAD(&h->ctr.heap_split);
	c->heap_merge = KMB_LOAD(&h->ctr.heap_merge);
	c->heap_pages = KMB_LOAD(&h->ctr.heap_pages);
	c->meta_pages = KMB_LOAD(&h->ctr.meta_pages);
	c->large_alloc = KMB_LOAD(&h->ctr.large_alloc);
	c->large_free = KMB_LOAD(&h->ctr.large_free);
	memset(&c->heap_lock, 0, sizeof(c->heap_lock));
	kmb_lock_stats_add(&h->lock, &c->heap_lock);
}

/* The page allocator's counters, then the heap's. */
static size_t buddy_stats(struct kmb_backend *be, struct kmb_stat *out, size_t max)
{
	const size_t n = sizeof(heap_stats_table) / sizeof(heap_stats_table[0]);
	struct kmb__heap *h = heap_of(be);
	struct kmb__heap_ctr c;
	size_t i = kmb_buddy_stats(h->buddy, out, max);

	heap_counters(h, &c);
	return i + kmb_stats_fill(heap_stats_table, n, &c, out + i, max - i);
}

static void buddy_drain(struct kmb_backend *be)
{
	kmb_buddy_drain(heap_of(be)->buddy);
}

/* The picture of memory (kmb_frame_map): sub-page heap pages and large blocks' heads. */
static int buddy_frame_kind(struct kmb_backend *be, size_t pfn)
{
	uint32_t flags = __atomic_load_n(&be->pm->map[pfn].flags, __ATOMIC_RELAXED);

	if (flags & KMB__PG_HEAP_SMALL)
		return KMB_FRAME_HEAP;
	if (flags & KMB__PG_HEAP_LARGE)
		return KMB_FRAME_LARGE;
	return KMB_FRAME_UNKNOWN;
}

const struct kmb_backend_ops kmb_buddy_ops = {
        .name = "buddy",
        .summary = "Linux-style binary buddy page allocator; kmalloc from page blocks and a "
                   "sub-page binary buddy heap",
        .freelist_bytes = sizeof(struct heap_free),
        .natural_pow2 = true, /* binary buddy blocks are aligned to their size */
        .init = buddy_init,
        .fini = buddy_fini,
        .alloc = buddy_alloc,
        .free = buddy_free,
        .usable_size = buddy_usable_size,
        .max_size = buddy_max_size,
        .memstat = buddy_memstat,
        .stats = buddy_stats,
        .extfrag = buddy_extfrag,
        .drain = buddy_drain,
        .frame_kind = buddy_frame_kind,
        .tunables = kmb_buddy_tunables,
        .ntunables = KMB_BUDDY_NTUNABLES,
};
