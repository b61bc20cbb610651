/*
 * backends/kr-plugin/kr.c - K&R malloc as an out-of-tree kmbench backend (a plugin).
 *
 * This is the example of `--backend plugin:PATH.so`: a shared library that exports one
 * symbol, kmb_backend_plugin, the ops table of backend.h, and is built apart from
 * kmbench.  It is the allocator of Kernighan & Ritchie, "The C Programming Language",
 * 2nd ed., section 8.7, the oldest design people still recognise:
 *
 * 1. Concepts.  Every block starts with a header (next free block, size in header units);
 *    free blocks sit on one circular list in address order.  Allocation is next fit:
 *    search from where the last search ended (freep) for the first block big enough,
 *    carve the request off its tail.  Free walks the list to the block's place and
 *    coalesces with both neighbours.  When nothing fits, morecore() asks for more memory.
 * 2. Units.  One header is 16 bytes (two words, KMB_MIN_ALIGN), so every block is 16-byte
 *    aligned; a request of n bytes takes ceil(n / 16) + 1 units.
 * 3. morecore.  K&R called sbrk for at least NALLOC = 1024 units; here a chunk of
 *    2^KR_CHUNK_ORDER pages (64 KiB = 4096 units) comes from the page source (be->pages),
 *    more for larger requests, and is freed into the list.  Chunks are never given back,
 *    as with sbrk.
 * 4. Departures.  Requests of a page or more bypass the list and take whole page blocks
 *    from the page source (kernels do the same; it also gives page alignment for page
 *    multiples, which backend.h requires); the head frame's priv[0] marks them.  One mutex
 *    makes it thread-safe.  When a block is absorbed by coalescing, its header bytes
 *    become free memory again and get the INVARIANTS poison back (backend.h 4.).
 * 5. Observation: declared counters (searches, blocks visited, splits, coalesces, chunks).
 *    No sized free (free_sized): the size is in the block's header, which free reads anyway.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <kmbench/backend.h>

#define KR_UNIT        16u
#define KR_CHUNK_ORDER 4u                   /* 16 pages = 64 KiB per morecore */
#define KR_LARGE_MAGIC ((uintptr_t)0x4b52u) /* "KR" in the head frame of a page block */

struct kr_hdr {
	struct kr_hdr *next; /* next free block (free blocks only) */
	size_t units;        /* size of this block in units, header included */
};

struct kr_ctr {
	uint64_t allocs, frees, visited, splits, coalesces, chunks, large_allocs, large_frees;
};

struct kr {
	pthread_mutex_t lock;
	struct kr_hdr base; /* degenerate list head, as in K&R */
	struct kr_hdr *freep;
	void *chunks; /* first chunk; each chunk's head frame: priv[1] order, priv[2] next */
	struct kr_ctr ctr;
};

static struct kr *kr_of(struct kmb_backend *be)
{
	return be->priv;
}

static int kr_init(struct kmb_backend *be)
{
	struct kr *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return -ENOMEM;
	if (be->pages == NULL) { /* a plugin always names a page source or gets "buddy" */
		free(k);
		return -EINVAL;
	}
	pthread_mutex_init(&k->lock, NULL);
	k->base.next = k->freep = &k->base;
	be->priv = k;
	return 0;
}

/* Put block bp on the free list, coalescing with its neighbours (K&R's free()). */
static void kr_insert(struct kmb_backend *be, struct kr *k, struct kr_hdr *bp)
{
	struct kr_hdr *p;

	for (p = k->freep; !(bp > p && bp < p->next); p = p->next)
		if (p >= p->next && (bp > p || bp < p->next))
			break; /* at one end of the arena */
	if (bp + bp->units == p->next) {
		struct kr_hdr *nx = p->next;

		bp->units += nx->units;
		bp->next = nx->next;
		kmb_poison(be->pm, nx, sizeof(*nx));
		k->ctr.coalesces++;
	} else {
		bp->next = p->next;
	}
	if (p + p->units == bp) {
		p->units += bp->units;
		p->next = bp->next;
		kmb_poison(be->pm, bp, sizeof(*bp));
		k->ctr.coalesces++;
	} else {
		p->next = bp;
	}
	k->freep = p;
}

/* morecore: a chunk from the page source, freed into the list. */
static int kr_morecore(struct kmb_backend *be, struct kr *k, size_t units, int flags)
{
	unsigned order = KR_CHUNK_ORDER;
	struct kr_hdr *bp;

	while (((size_t)KMB_PAGE_SIZE << order) / KR_UNIT < units)
		order++;
	if (order > be->pages->max_order)
		return -ENOMEM;
	bp = be->pages->alloc_pages(be->pages, order, flags & M_USE_RESERVE);
	if (bp == NULL)
		return -ENOMEM;
	kmb_page_of(be->pm, bp)->priv[0] = 0;
	kmb_page_of(be->pm, bp)->priv[1] = order;
	kmb_page_of(be->pm, bp)->priv[2] = (uintptr_t)k->chunks;
	k->chunks = bp;
	bp->units = ((size_t)KMB_PAGE_SIZE << order) / KR_UNIT;
	k->ctr.chunks++;
	kr_insert(be, k, bp);
	return 0;
}

/* Next fit from freep; carve from the tail of a larger block (K&R's malloc()). */
static void *kr_take(struct kr *k, size_t units)
{
	struct kr_hdr *prev = k->freep;

	for (struct kr_hdr *p = prev->next;; prev = p, p = p->next) {
		k->ctr.visited++;
		if (p->units >= units) {
			if (p->units == units) {
				prev->next = p->next;
			} else {
				p->units -= units;
				p += p->units;
				p->units = units;
				k->ctr.splits++;
			}
			k->freep = prev;
			return p + 1;
		}
		if (p == k->freep)
			return NULL; /* wrapped around */
	}
}

static unsigned page_order(size_t size)
{
	unsigned order = 0;

	while (((size_t)KMB_PAGE_SIZE << order) < size)
		order++;
	return order;
}

static void *kr_alloc_large(struct kmb_backend *be, struct kr *k, size_t size, int flags)
{
	unsigned order = page_order(size);
	void *p = be->pages->alloc_pages(be->pages, order, flags & M_USE_RESERVE);

	if (p == NULL)
		return NULL;
	kmb_page_of(be->pm, p)->priv[0] = KR_LARGE_MAGIC;
	kmb_page_of(be->pm, p)->priv[1] = order;
	pthread_mutex_lock(&k->lock);
	k->ctr.large_allocs++;
	pthread_mutex_unlock(&k->lock);
	return p;
}

static size_t kr_usable_size(struct kmb_backend *be, const void *addr);

static void *kr_alloc(struct kmb_backend *be, size_t size, int flags, size_t *usable)
{
	struct kr *k = kr_of(be);
	size_t units = (size + KR_UNIT - 1) / KR_UNIT + 1;
	void *p;

	if (size >= KMB_PAGE_SIZE) {
		p = kr_alloc_large(be, k, size, flags);
		if (p != NULL)
			*usable = kr_usable_size(be, p);
		return p;
	}
	pthread_mutex_lock(&k->lock);
	p = kr_take(k, units);
	if (p == NULL && kr_morecore(be, k, units, flags) == 0)
		p = kr_take(k, units);
	if (p != NULL)
		k->ctr.allocs++;
	pthread_mutex_unlock(&k->lock);
	if (p != NULL)
		*usable = kr_usable_size(be, p);
	return p;
}

static bool is_large(struct kmb_backend *be, const void *addr)
{
	return ((uintptr_t)addr & (KMB_PAGE_SIZE - 1)) == 0 &&
	       kmb_page_of(be->pm, addr)->priv[0] == KR_LARGE_MAGIC;
}

static size_t kr_free(struct kmb_backend *be, void *addr)
{
	struct kr *k = kr_of(be);
	size_t usable = kr_usable_size(be, addr);

	if (is_large(be, addr)) {
		struct kmb_page *pg = kmb_page_of(be->pm, addr);
		unsigned order = (unsigned)pg->priv[1];

		pg->priv[0] = 0;
		be->pages->free_pages(be->pages, addr, order);
		pthread_mutex_lock(&k->lock);
		k->ctr.large_frees++;
		pthread_mutex_unlock(&k->lock);
		return usable;
	}
	pthread_mutex_lock(&k->lock);
	kr_insert(be, k, (struct kr_hdr *)addr - 1);
	k->ctr.frees++;
	pthread_mutex_unlock(&k->lock);
	return usable;
}

static size_t kr_usable_size(struct kmb_backend *be, const void *addr)
{
	if (is_large(be, addr))
		return (size_t)KMB_PAGE_SIZE << kmb_page_of(be->pm, addr)->priv[1];
	return (((const struct kr_hdr *)addr - 1)->units - 1) * KR_UNIT;
}

static size_t kr_max_size(struct kmb_backend *be)
{
	return (size_t)KMB_PAGE_SIZE << be->pages->max_order;
}

static void kr_memstat(struct kmb_backend *be, struct kmb_memstat *ms)
{
	(void)be; /* free_pages and largest_free come from the page source */
	(void)ms;
}

#define KR_STAT(f, u, d) KMB_STAT_DECL(struct kr_ctr, f, u, d)
static const struct kmb_stat_decl kr_stats_table[] = {
        KR_STAT(allocs, "events", "blocks carved from the free list"),
        KR_STAT(frees, "events", "blocks returned to the free list"),
        KR_STAT(visited, "blocks", "free blocks visited by next-fit searches"),
        KR_STAT(splits, "events", "free blocks split (tail carved off)"),
        KR_STAT(coalesces, "events", "neighbours merged on free"),
        KR_STAT(chunks, "events", "morecore chunks taken from the page source"),
        KR_STAT(large_allocs, "events", "requests of a page or more served with whole pages"),
        KR_STAT(large_frees, "events", "whole-page blocks freed"),
};

static size_t kr_stats(struct kmb_backend *be, struct kmb_stat *out, size_t max)
{
	struct kr *k = kr_of(be);
	struct kr_ctr c;

	pthread_mutex_lock(&k->lock);
	c = k->ctr;
	pthread_mutex_unlock(&k->lock);
	return kmb_stats_fill(kr_stats_table, sizeof(kr_stats_table) / sizeof(kr_stats_table[0]),
	                      &c, out, max);
}

/* Chunks are never given back while the system runs (as with sbrk); at teardown every
 * chunk goes back to the page source, so that no page leaks. */
static void kr_fini(struct kmb_backend *be)
{
	struct kr *k = kr_of(be);

	while (k->chunks != NULL) {
		void *c = k->chunks;
		struct kmb_page *pg = kmb_page_of(be->pm, c);

		k->chunks = (void *)pg->priv[2];
		be->pages->free_pages(be->pages, c, (unsigned)pg->priv[1]);
	}
	pthread_mutex_destroy(&k->lock);
	free(k);
	be->priv = NULL;
}

const unsigned kmb_backend_plugin_abi = KMB_BACKEND_ABI;

const struct kmb_backend_ops kmb_backend_plugin = {
        .name = "kr",
        .summary = "K&R malloc (next fit, address-ordered free list), an example plugin",
        .freelist_bytes = 0, /* headers sit before the block, outside the user's bytes */
        .default_pages = "buddy",
        .init = kr_init,
        .fini = kr_fini,
        .alloc = kr_alloc,
        .free = kr_free,
        .usable_size = kr_usable_size,
        .max_size = kr_max_size,
        .memstat = kr_memstat,
        .stats = kr_stats,
};
