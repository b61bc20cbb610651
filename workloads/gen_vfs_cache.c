/*
 * workloads/gen_vfs_cache.c - `vfs-cache`: dentries and inodes kept under LRU eviction.
 *
 * Theory.  Path lookup caches what it finds: a dentry per name (dentry_cache, 192-byte
 * objects on 64-bit, with names up to DNAME_INLINE_LEN = 32 bytes inside; a longer name
 * is a separate kmalloc of struct external_name, 17 + len bytes, fs/dcache.c __d_alloc)
 * and an inode per file (inode_cache here: a 600-byte struct inode, 608 with the free
 * pointer SLUB places after objects of a cache with a constructor).  Each lookup also
 * copies the path into a names_cache object (4 KiB, getname/putname) for the duration of
 * the system call.  Cached entries live as long as they are used; under memory pressure
 * the shrinkers (prune_dcache_sb, called from kswapd) free the least recently used ones in
 * batches of SHRINK_BATCH = 128, and an unlink frees its entry at once.  So one slab
 * holds objects of very different lifetimes - a hot directory's dentry lives for hours
 * next to a one-off file's - which is the long-term fragmentation Bonwick (1994) and
 * Johnstone & Wilson (1998) describe: memory freed by eviction is scattered over
 * partially used slabs and pages that cannot be returned.
 *
 * Model.  A universe of 8 * cap names with Zipf-like popularity (an octave 2^e chosen
 * uniformly, then a name in it: name k is picked with probability about 1/k); each name
 * has a fixed length of 4-63 bytes (about half need an external name).  Lookups run on
 * random CPUs: names_cache alloc, a hit (moved to the LRU head) or a miss (dentry,
 * external name, inode), names_cache free.  At cap cached dentries the shrinker, on a
 * random CPU as kswapd0, evicts 128 from the LRU tail (external name, dentry, inode).
 * 5% of operations unlink a cached name.  At the end drop_caches frees everything.
 * cap = --events / 50, within 64..262144 (kmb__vfs_cache_cap): about a fifth of the
 * lookups miss, so the cache turns over four or five times in a trace.  Live dentries
 * never exceed cap, live objects never exceed 3 * cap + --cpus.
 *
 * Replayed, it shows how each backend copes with mixed lifetimes: compare footprint,
 * Johnstone & Wilson's ratios and the extfrag indices at the end.
 */
#include "workloads/gen.h"

#include <errno.h>
#include <kmbench/kmalloc.h>
#include <stdlib.h>

#define DNAME_INLINE_LEN 32
#define SHRINK_BATCH     128
#define NIL              UINT32_MAX

enum { ROLE_APP, ROLE_KSWAPD };

static const struct kmb__role roles[] = {
        [ROLE_APP] = {"git", 5100, 1, "....."},
        [ROLE_KSWAPD] = {"kswapd0", 90, 0, "....."},
};

struct entry {
	uint64_t dentry, ext, inode; /* dentry == 0: not cached */
	uint32_t prev, next;         /* LRU links */
};

struct vfsgen {
	struct kmb__gen *g;
	uint64_t cap, nnames, cached;
	struct entry *e;
	uint32_t head, tail; /* most and least recently used */
	int c_names, c_dentry, c_inode;
	uint32_t s_getname, s_putname, s_dalloc, s_ext, s_ialloc, s_dfree, s_extfree, s_ifree;
	unsigned gfp, gfp_ext;
};

uint64_t kmb__vfs_cache_cap(uint64_t events)
{
	uint64_t cap = events / 50;

	return cap < 64 ? 64 : cap > 262144 ? 262144 : cap;
}

static unsigned name_len(uint64_t k)
{
	uint64_t h = (k + 1) * 0x9e3779b97f4a7c15ULL;

	return 4 + (unsigned)((h >> 40) % 60);
}

static uint32_t pick_name(struct vfsgen *v)
{
	unsigned octaves = 0;
	uint64_t lo, hi;

	while ((2ULL << octaves) <= v->nnames)
		octaves++;
	lo = (1ULL << kmb__gen_below(v->g, octaves + 1)) - 1;
	hi = 2 * lo;
	if (hi >= v->nnames)
		hi = v->nnames - 1;
	return (uint32_t)kmb__gen_range(v->g, lo, hi);
}

static void lru_unlink(struct vfsgen *v, uint32_t k)
{
	struct entry *e = &v->e[k];

	if (e->prev != NIL)
		v->e[e->prev].next = e->next;
	else
		v->head = e->next;
	if (e->next != NIL)
		v->e[e->next].prev = e->prev;
	else
		v->tail = e->prev;
}

static void lru_push(struct vfsgen *v, uint32_t k)
{
	struct entry *e = &v->e[k];

	e->prev = NIL;
	e->next = v->head;
	if (v->head != NIL)
		v->e[v->head].prev = k;
	else
		v->tail = k;
	v->head = k;
}

/* d_free / iput of a cached name, on cpu. */
static void evict(struct vfsgen *v, uint32_t k, unsigned cpu, unsigned role)
{
	struct entry *e = &v->e[k];

	lru_unlink(v, k);
	if (e->ext)
		kmb__gen_kfree(v->g, cpu, role, v->s_extfree, e->ext);
	kmb__gen_cache_free(v->g, cpu, role, v->s_dfree, v->c_dentry, e->dentry);
	kmb__gen_cache_free(v->g, cpu, role, v->s_ifree, v->c_inode, e->inode);
	*e = (struct entry){0, 0, 0, NIL, NIL};
	v->cached--;
}

static void shrink(struct vfsgen *v, uint64_t n)
{
	unsigned cpu = (unsigned)kmb__gen_below(v->g, v->g->o.cpus);

	for (uint64_t i = 0; i < n && v->tail != NIL && v->g->rc == 0; i++)
		evict(v, v->tail, cpu, ROLE_KSWAPD);
}

static void miss(struct vfsgen *v, uint32_t k, unsigned cpu)
{
	struct kmb__gen *g = v->g;
	struct entry *e = &v->e[k];
	unsigned len = name_len(k);

	if (v->cached >= v->cap)
		shrink(v, SHRINK_BATCH);
	e->dentry = kmb__gen_cache_alloc(g, cpu, ROLE_APP, v->s_dalloc, v->c_dentry, v->gfp);
	if (len > DNAME_INLINE_LEN)
		e->ext = kmb__gen_kmalloc(g, cpu, ROLE_APP, v->s_ext, 17 + len, v->gfp_ext);
	e->inode = kmb__gen_cache_alloc(g, cpu, ROLE_APP, v->s_ialloc, v->c_inode, v->gfp);
	lru_push(v, k);
	v->cached++;
}

/* One system call: a lookup (with its names_cache buffer), or an unlink. */
static void vfs_op(struct vfsgen *v)
{
	struct kmb__gen *g = v->g;
	unsigned cpu = (unsigned)kmb__gen_below(g, g->o.cpus);
	uint32_t k = pick_name(v);
	uint64_t name = kmb__gen_cache_alloc(g, cpu, ROLE_APP, v->s_getname, v->c_names, v->gfp);

	if (v->e[k].dentry && kmb__gen_chance(g, 5)) {
		evict(v, k, cpu, ROLE_APP);
	} else if (v->e[k].dentry) {
		lru_unlink(v, k);
		lru_push(v, k);
	} else {
		miss(v, k, cpu);
	}
	kmb__gen_cache_free(g, cpu, ROLE_APP, v->s_putname, v->c_names, name);
	kmb__gen_idle(g, kmb__gen_below(g, 5000));
}

static int setup(struct vfsgen *v)
{
	struct kmb__gen *g = v->g;

	g->roles = roles;
	g->nroles = sizeof(roles) / sizeof(roles[0]);
	v->cap = kmb__vfs_cache_cap(g->o.events);
	v->nnames = 8 * v->cap;
	v->head = v->tail = NIL;
	v->c_names = kmb__gen_cache(g, "names_cache", 4096, 4096);
	v->c_dentry = kmb__gen_cache(g, "dentry", 192, 192);
	v->c_inode = kmb__gen_cache(g, "inode_cache", 600, 608);
	v->s_getname = kmb__gen_site(g, "getname_flags+0x4c/0x1c0");
	v->s_putname = kmb__gen_site(g, "putname+0x47/0x50");
	v->s_dalloc = kmb__gen_site(g, "__d_alloc+0x2b/0x230");
	v->s_ext = kmb__gen_site(g, "__d_alloc+0x1b4/0x230");
	v->s_ialloc = kmb__gen_site(g, "alloc_inode+0x84/0xc0");
	v->s_dfree = kmb__gen_site(g, "__d_free+0x18/0x20");
	v->s_extfree = kmb__gen_site(g, "__d_free_external+0x1d/0x40");
	v->s_ifree = kmb__gen_site(g, "free_inode_nonrcu+0x18/0x20");
	v->gfp = kmb__gen_gfp(g, "GFP_KERNEL", M_WAITOK);
	v->gfp_ext = kmb__gen_gfp(g, "GFP_KERNEL_ACCOUNT|__GFP_RECLAIMABLE", M_WAITOK);
	v->e = malloc(v->nnames * sizeof(*v->e));
	if (!v->e)
		return kmb__gen_fail(g, -ENOMEM, "out of memory");
	for (uint64_t k = 0; k < v->nnames; k++)
		v->e[k] = (struct entry){0, 0, 0, NIL, NIL};
	return g->rc;
}

int kmb__gen_vfs_cache(struct kmb__gen *g)
{
	struct vfsgen v = {.g = g};

	if (setup(&v) == 0) {
		while (kmb__gen_more(g, 8))
			vfs_op(&v);
		shrink(&v, v.cached); /* echo 2 > /proc/sys/vm/drop_caches */
	}
	free(v.e);
	return g->rc;
}
