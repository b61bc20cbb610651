/*
 * backends/slub/slub_sheaf.c - the slub-sheaves design (Linux 7.0): per-CPU sheaves, the
 * per-node barn, and the pools the sheaves come from.
 *
 * 1. A sheaf is an array of sheaf_capacity object pointers with a 32-byte header (struct
 *    kmb__slub_sheaf, Linux's struct slab_sheaf).  Each CPU has a main sheaf (never NULL:
 *    until its first slow path the static bootstrap_sheaf of capacity 0, as in 7.0) and a
 *    spare (NULL, empty or full); the fast paths pop and push main (slub.h).  With
 *    sheaves there is no CPU slab and no CPU partial list: the objects a CPU caches are
 *    the pointers in its sheaves, taken from and given back to the slabs in bulk.
 * 2. The barn (struct kmb__slub_node: full, empty, nr_full, nr_empty under barn_lock, a
 *    spin lock) holds whole sheaves per node, at most barn_max (MAX_FULL_SHEAVES = 10) full
 *    ones; empty ones beyond barn_max go back to their pool (7.0 keeps no bound on empty
 *    sheaves; a bound keeps the metadata finite here).
 * 3. Slow paths, as __pcs_replace_empty_main and __pcs_replace_full_main:
 *      alloc, main empty:  a non-empty spare is swapped in; else the barn trades a full
 *          sheaf for the empty main (BARN_GET); else (BARN_GET_FAIL) main is refilled from
 *          the node's partial slabs and new slabs (SHEAF_REFILL, objects).
 *      free, main full:    no spare: main becomes the spare and an empty sheaf from the
 *          barn (or a new one, SHEAF_ALLOC) the main; an empty spare is swapped in; both
 *          full: the barn takes main for an empty sheaf (BARN_PUT), or, holding barn_max
 *          full sheaves already (BARN_PUT_FAIL), the spare is flushed to its slabs
 *          (SHEAF_FLUSH, objects) and becomes main.  With no empty sheaf to be had, main
 *          goes to the barn as it is and a new one is allocated; if that fails main is
 *          flushed.
 *    An object of another node's slab bypasses the sheaves (7.0's slab_free: slab_nid ==
 *    numa_mem_id), straight to its slab (FREE_SLOWPATH).
 * 4. Sheaf memory: Linux kmallocs a sheaf (its capacity rounds it to a kmalloc bucket).
 *    Here a pool per kmalloc size class carves sheaves from metadata pages (KMB_GFP_META)
 *    and keeps freed ones on a list; the pages go back at fini.  So sheaves and the barn
 *    count as metadata pages (meta_pages); their frames are marked KMB__SLUB_PG_SHEAF, so
 *    that the picture of memory shows them apart (KMB_FRAME_SHEAF: a pool's page holds
 *    CPUs', barns' and free sheaves alike).
 * 5. Drain (barn_shrink + pcs_flush_all): full sheaves of the barns are flushed to their
 *    slabs and every barn sheaf freed; a CPU's main and spare are flushed by its owner.
 */
#include "slub.h"

#include <string.h>

/* ---- pools (4.) --------------------------------------------------------------------------- */

/* Mark (or unmark) the frames of a pool's block for frame_kind, which reads them racily. */
static void mark_pool_frames(struct kmb_slub *sb, void *mem, unsigned order, bool on)
{
	struct kmb_page *pg = kmb_page_of(sb->pm, mem);

	for (unsigned i = 0; i < 1u << order; i++) {
		uint32_t f = pg[i].flags;

		KMB_STORE(&pg[i].flags, on ? f | KMB__SLUB_PG_SHEAF : f & ~KMB__SLUB_PG_SHEAF);
	}
}

static struct kmb__slub_sheaf *sheaf_alloc(struct kmb__slub_cache *s)
{
	struct kmb_slub *sb = s->sb;
	size_t bytes = sizeof(struct kmb__slub_sheaf) + (size_t)s->sheaf_capacity * sizeof(void *);
	unsigned idx = kmb__slub_kmalloc_index(bytes);
	struct kmb__slub_pool *pool = &sb->pool[idx];
	struct kmb__slub_sheaf *sh;

	bytes = kmb__slub_kmalloc_sizes[idx];
	kmb_spin_lock(&pool->lock);
	sh = pool->free;
	if (sh != NULL) {
		pool->free = sh->next;
	} else {
		if (pool->left < bytes) {
			unsigned order = bytes > KMB_PAGE_SIZE ? 1 : 0;
			char *mem = kmb__slub_pages_alloc(sb, order, KMB_GFP_META);

			if (mem == NULL) {
				kmb_spin_unlock(&pool->lock);
				return NULL;
			}
			mark_pool_frames(sb, mem, order, true);
			kmb_list_add(&pool->pages, kmb_page_of(sb->pm, mem));
			pool->cur = mem;
			pool->left = KMB_PAGE_SIZE << order;
		}
		sh = (struct kmb__slub_sheaf *)pool->cur;
		pool->cur += bytes;
		pool->left -= bytes;
	}
	kmb_spin_unlock(&pool->lock);
	memset(sh, 0, sizeof(*sh));
	sh->cache = s;
	sh->capacity = s->sheaf_capacity;
	sh->pool = idx;
	kmb__slub_stat(s, KMB__SHEAF_ALLOC);
	return sh;
}

static void sheaf_free(struct kmb__slub_cache *s, struct kmb__slub_sheaf *sh)
{
	struct kmb__slub_pool *pool = &s->sb->pool[sh->pool];

	kmb_check(sh->size == 0, sh, "free_empty_sheaf(%s, %p): %u objects still in it", s->name,
	          (void *)sh, sh->size);
	kmb_spin_lock(&pool->lock);
	sh->next = pool->free;
	pool->free = sh;
	kmb_spin_unlock(&pool->lock);
	kmb__slub_stat(s, KMB__SHEAF_FREE);
}

void kmb__slub_pools_fini(struct kmb_slub *sb)
{
	for (unsigned i = 0; i < KMB__SLUB_NCLASSES; i++) {
		struct kmb__slub_pool *pool = &sb->pool[i];
		unsigned order = kmb__slub_kmalloc_sizes[i] > KMB_PAGE_SIZE ? 1 : 0;

		while (!kmb_list_empty(&pool->pages)) {
			struct kmb_page *pg = pool->pages.next;

			kmb_list_del(pg);
			mark_pool_frames(sb, kmb_page_addr(sb->pm, pg), order, false);
			kmb__slub_pages_free(sb, kmb_page_addr(sb->pm, pg), order, true);
		}
		kmb_lock_destroy(&pool->lock);
	}
}

/* sheaf_flush_unused: every object back to its slab */
static void sheaf_flush(struct kmb__slub_cache *s, struct kmb__slub_sheaf *sh)
{
	if (sh->size == 0)
		return;
	kmb__slub_stat_add(s, KMB__SHEAF_FLUSH, sh->size);
	kmb__slub_free_bulk(s, sh->objects, sh->size);
	sh->size = 0;
}

/* 7.0's bootstrap_sheaf: an empty sheaf of capacity 0 every CPU starts with, so that the
 * fast paths need no NULL test and a cache is created without memory for sheaves. */
static struct kmb__slub_sheaf bootstrap_sheaf;

void kmb__slub_sheaves_init(struct kmb__slub_cache *s)
{
	for (unsigned i = 0; i < s->ncpu; i++)
		s->cpu[i].main = &bootstrap_sheaf;
}

/* A CPU's first real main sheaf; false when none can be had. */
static bool install_main(struct kmb__slub_cache *s, struct kmb__slub_cpu *c)
{
	struct kmb__slub_sheaf *sh;

	if (kmb_likely(c->main != &bootstrap_sheaf))
		return true;
	sh = sheaf_alloc(s);
	if (sh == NULL)
		return false;
	c->main = sh;
	return true;
}

/* ---- the barn (2.) ------------------------------------------------------------------------ */

static void barn_shrink_empty(struct kmb__slub_cache *s, struct kmb__slub_node *b);

static struct kmb__slub_node *local_barn(struct kmb__slub_cache *s)
{
	return &s->node[kmb_thread_node() % s->nnodes];
}

static unsigned barn_max(const struct kmb__slub_cache *s)
{
	return (unsigned)s->sb->tun.barn_max;
}

static void barn_push(struct kmb__slub_sheaf **list, unsigned *nr, struct kmb__slub_sheaf *sh)
{
	sh->next = *list;
	*list = sh;
	KMB_STORE(nr, *nr + 1);
}

static struct kmb__slub_sheaf *barn_pop(struct kmb__slub_sheaf **list, unsigned *nr)
{
	struct kmb__slub_sheaf *sh = *list;

	*list = sh->next;
	sh->next = NULL;
	KMB_STORE(nr, *nr - 1);
	return sh;
}

/* barn_replace_empty_sheaf: a full sheaf for an empty one, or NULL */
static struct kmb__slub_sheaf *barn_replace_empty(struct kmb__slub_cache *s,
                                                  struct kmb__slub_node *b,
                                                  struct kmb__slub_sheaf *empty)
{
	struct kmb__slub_sheaf *full = NULL;

	if (KMB_LOAD(&b->nr_full) == 0)
		return NULL;
	kmb_spin_lock(&b->barn_lock);
	if (b->nr_full != 0) {
		full = barn_pop(&b->full, &b->nr_full);
		kmb_assert(full->size == full->capacity);
		barn_push(&b->empty, &b->nr_empty, empty);
	}
	kmb_spin_unlock(&b->barn_lock);
	if (full != NULL && KMB_LOAD(&b->nr_empty) > barn_max(s))
		barn_shrink_empty(s, b);
	return full;
}

/* barn_get_empty_sheaf */
static struct kmb__slub_sheaf *barn_get_empty(struct kmb__slub_node *b)
{
	struct kmb__slub_sheaf *sh = NULL;

	if (KMB_LOAD(&b->nr_empty) == 0)
		return NULL;
	kmb_spin_lock(&b->barn_lock);
	if (b->nr_empty != 0)
		sh = barn_pop(&b->empty, &b->nr_empty);
	kmb_spin_unlock(&b->barn_lock);
	return sh;
}

enum { BARN_OK, BARN_E2BIG, BARN_ENOMEM };

/* barn_replace_full_sheaf: an empty sheaf for a full one */
static int barn_replace_full(struct kmb__slub_cache *s, struct kmb__slub_node *b,
                             struct kmb__slub_sheaf *full, struct kmb__slub_sheaf **empty)
{
	int rc = BARN_ENOMEM;

	kmb_spin_lock(&b->barn_lock);
	if (b->nr_full >= barn_max(s)) {
		rc = BARN_E2BIG;
	} else if (b->nr_empty != 0) {
		*empty = barn_pop(&b->empty, &b->nr_empty);
		barn_push(&b->full, &b->nr_full, full);
		rc = BARN_OK;
	}
	kmb_spin_unlock(&b->barn_lock);
	return rc;
}

static void barn_put_full(struct kmb__slub_node *b, struct kmb__slub_sheaf *full)
{
	kmb_spin_lock(&b->barn_lock);
	barn_push(&b->full, &b->nr_full, full);
	kmb_spin_unlock(&b->barn_lock);
}

/* Empty sheaves beyond barn_max go back to the pool (2.). */
static void barn_shrink_empty(struct kmb__slub_cache *s, struct kmb__slub_node *b)
{
	struct kmb__slub_sheaf *extra = NULL;

	kmb_spin_lock(&b->barn_lock);
	while (b->nr_empty > barn_max(s)) {
		struct kmb__slub_sheaf *sh = barn_pop(&b->empty, &b->nr_empty);

		sh->next = extra;
		extra = sh;
	}
	kmb_spin_unlock(&b->barn_lock);
	while (extra != NULL) {
		struct kmb__slub_sheaf *sh = extra;

		extra = sh->next;
		sheaf_free(s, sh);
	}
}

/* INVARIANTS: the barn's counts are its lists' lengths; full sheaves are full, empty ones
 * empty (barn_lock held). */
static void barn_check(struct kmb__slub_cache *s, struct kmb__slub_node *b)
{
	unsigned nf = 0, ne = 0;

	for (struct kmb__slub_sheaf *sh = b->full; sh != NULL; sh = sh->next, nf++)
		kmb_check(sh->size == sh->capacity, sh,
		          "barn_shrink(%s): full sheaf %p holds %u of %u", s->name, (void *)sh,
		          sh->size, sh->capacity);
	for (struct kmb__slub_sheaf *sh = b->empty; sh != NULL; sh = sh->next, ne++)
		kmb_check(sh->size == 0, sh, "barn_shrink(%s): empty sheaf %p holds %u", s->name,
		          (void *)sh, sh->size);
	kmb_check(
	        nf == b->nr_full && ne == b->nr_empty, b,
	        "barn_shrink(%s): the barn counts %u full and %u empty sheaves, its lists hold %u "
	        "and %u",
	        s->name, b->nr_full, b->nr_empty, nf, ne);
}

void kmb__slub_barn_shrink(struct kmb__slub_cache *s)
{
	for (unsigned i = 0; i < s->nnodes; i++) {
		struct kmb__slub_node *b = &s->node[i];
		struct kmb__slub_sheaf *full, *empty;

		kmb_spin_lock(&b->barn_lock);
		if (kmb_unlikely(kmb_invariants_on))
			barn_check(s, b);
		full = b->full;
		empty = b->empty;
		b->full = b->empty = NULL;
		KMB_STORE(&b->nr_full, 0);
		KMB_STORE(&b->nr_empty, 0);
		kmb_spin_unlock(&b->barn_lock);
		for (struct kmb__slub_sheaf *sh = full, *nx; sh != NULL; sh = nx) {
			nx = sh->next;
			sheaf_flush(s, sh);
			sheaf_free(s, sh);
		}
		for (struct kmb__slub_sheaf *sh = empty, *nx; sh != NULL; sh = nx) {
			nx = sh->next;
			sheaf_free(s, sh);
		}
	}
}

/* ---- the per-CPU sheaves' slow paths (3.) ------------------------------------------------- */

static void swap_main_spare(struct kmb__slub_cpu *c)
{
	struct kmb__slub_sheaf *t = c->main;

	c->main = c->spare;
	c->spare = t;
}

/* main is empty; c is owned by the caller */
static void *pcs_alloc(struct kmb__slub_cache *s, struct kmb__slub_cpu *c, int flags)
{
	struct kmb__slub_node *b = local_barn(s);
	struct kmb__slub_sheaf *full;
	unsigned got;
	void *obj;

	if (!install_main(s, c)) /* no sheaf: one object from the slabs */
		return kmb__slub_alloc_bulk(s, &obj, 1, flags) == 1 ? obj : NULL;
	if (c->spare != NULL && c->spare->size != 0) {
		swap_main_spare(c);
	} else if ((full = barn_replace_empty(s, b, c->main)) != NULL) {
		kmb__slub_stat(s, KMB__BARN_GET);
		c->main = full;
	} else {
		kmb__slub_stat(s, KMB__BARN_GET_FAIL);
		got = kmb__slub_alloc_bulk(s, c->main->objects, c->main->capacity, flags);
		if (got == 0)
			return NULL;
		c->main->size = got;
		kmb__slub_stat_add(s, KMB__SHEAF_REFILL, got);
	}
	kmb__slub_stat(s, KMB__ALLOC_PCS);
	return c->main->objects[--c->main->size];
}

/* main is full; c is owned by the caller */
static void pcs_free(struct kmb__slub_cache *s, struct kmb__slub_cpu *c, void *obj)
{
	struct kmb__slub_node *b = local_barn(s);
	struct kmb__slub_sheaf *empty = NULL;
	int rc;

	if (!install_main(s, c)) { /* no sheaf: straight to the slab */
		kmb__slub_stat(s, KMB__FREE_SLOWPATH);
		kmb__slub_free_bulk(s, &obj, 1);
		return;
	}
	if (c->main->size < c->main->capacity)
		goto push;
	if (c->spare != NULL && c->spare->size == 0) {
		swap_main_spare(c);
		goto push;
	}
	if (c->spare != NULL) {
		rc = barn_replace_full(s, b, c->main, &empty);
		if (rc == BARN_OK) {
			kmb__slub_stat(s, KMB__BARN_PUT);
			c->main = empty;
			goto push;
		}
		if (rc == BARN_E2BIG) {
			kmb__slub_stat(s, KMB__BARN_PUT_FAIL);
			sheaf_flush(s, c->spare);
			swap_main_spare(c);
			goto push;
		}
	} else {
		empty = barn_get_empty(b);
	}
	if (empty == NULL)
		empty = sheaf_alloc(s);
	if (empty == NULL) { /* no memory for a sheaf: main back to the slabs */
		sheaf_flush(s, c->main);
		goto push;
	}
	if (c->spare == NULL) {
		c->spare = c->main;
	} else {
		barn_put_full(b, c->main);
		kmb__slub_stat(s, KMB__BARN_PUT);
	}
	c->main = empty;
push:
	kmb__slub_stat(s, KMB__FREE_PCS);
	c->main->objects[c->main->size++] = obj;
}

void *kmb__slub_pcs_alloc_slow(struct kmb__slub_cache *s, struct kmb__slub_cpu *c, int flags)
{
	kmb__slub_flush_gen_check(s->sb, kmb_thread_cpu());
	return pcs_alloc(s, c, flags);
}

void kmb__slub_pcs_free_slow(struct kmb__slub_cache *s, struct kmb__slub_cpu *c,
                             struct kmb_page *head, void *obj)
{
	if (head->node != c->node) { /* 3.: the remote-node bypass */
		kmb__slub_stat(s, KMB__FREE_SLOWPATH);
		kmb__slub_slab_free(s, head, obj, obj, 1);
		return;
	}
	kmb__slub_flush_gen_check(s->sb, kmb_thread_cpu());
	pcs_free(s, c, obj);
}

void *kmb__slub_pcs_shared_alloc(struct kmb__slub_cache *s, int flags)
{
	struct kmb__slub_cpu *c = &s->cpu[s->ncpu - 1];
	void *obj;

	kmb_spin_lock(&c->lock);
	if (kmb_likely(c->main->size != 0)) {
		kmb__slub_stat(s, KMB__ALLOC_PCS);
		obj = c->main->objects[--c->main->size];
	} else {
		obj = pcs_alloc(s, c, flags);
	}
	kmb_spin_unlock(&c->lock);
	return obj;
}

void kmb__slub_pcs_shared_free(struct kmb__slub_cache *s, struct kmb_page *head, void *obj)
{
	struct kmb__slub_cpu *c = &s->cpu[s->ncpu - 1];

	if (head->node != kmb_thread_node()) {
		kmb__slub_stat(s, KMB__FREE_SLOWPATH);
		kmb__slub_slab_free(s, head, obj, obj, 1);
		return;
	}
	kmb_spin_lock(&c->lock);
	if (kmb_likely(c->main->size < c->main->capacity)) {
		kmb__slub_stat(s, KMB__FREE_PCS);
		c->main->objects[c->main->size++] = obj;
	} else {
		pcs_free(s, c, obj);
	}
	kmb_spin_unlock(&c->lock);
}

/* pcs_flush_all for one CPU: main and spare to the slabs, the spare to its pool */
void kmb__slub_pcs_flush_cpu(struct kmb__slub_cache *s, struct kmb__slub_cpu *c)
{
	if (c->main != NULL) {
		kmb_assert(c->main->size <= c->main->capacity);
		sheaf_flush(s, c->main);
	}
	if (c->spare != NULL) {
		sheaf_flush(s, c->spare);
		sheaf_free(s, c->spare);
		c->spare = NULL;
	}
}

void kmb__slub_sheaves_fini(struct kmb__slub_cache *s)
{
	for (unsigned i = 0; i < s->ncpu; i++) {
		if (s->cpu[i].main != NULL && s->cpu[i].main != &bootstrap_sheaf)
			sheaf_free(s, s->cpu[i].main);
		s->cpu[i].main = NULL;
	}
}
