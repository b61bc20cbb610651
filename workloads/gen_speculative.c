/*
 * workloads/gen_speculative.c - `speculative`: kmem_alloc(9)'s allocate-then-recheck
 * pattern, where the loser of a race frees what it allocated at once.
 *
 * Theory.  A KM_SLEEP allocation must not be made under a mutex (NetBSD kmem(9): the
 * caller may sleep unboundedly and block every thread waiting for the lock), so code that
 * finds, under its lock, that it needs a new object drops the lock, allocates, takes the
 * lock again and looks again: another thread may have inserted the same object meanwhile,
 * in which case the fresh one is freed unused.  The kmem(9) manual gives this retry
 * pattern; FreeBSD and Linux code is full of it (a lookup-or-create of a per-inode,
 * per-socket or per-name structure: Linux's d_alloc_parallel() and the "preallocate
 * outside the lock, free if unused" idiom of radix_tree_preload users are the same shape).
 * For an allocator this is a stream of allocations, a few of which are freed at once on
 * the CPU that made them - the shortest lifetime there is, the case per-CPU caches
 * (magazines, SLUB's per-CPU slab, sheaves) serve best - amid long-lived objects freed
 * later from any CPU.
 *
 * Model.  A table of objects keyed by a name (a hash lookup structure), kept by a
 * clock-style eviction at TABLE_CAP entries.  Each round a key is looked up on a random
 * CPU; keys are skewed (a quarter of the lookups go to 1/64 of the key space) so that
 * misses on popular keys race.  A hit costs no allocation.  On a miss, RACERS CPUs may
 * miss the same key at the same time: one alone 80 %, two 15 %, three 5 % (bounded by the
 * CPUs there are); each allocates its object with GFP_KERNEL (no lock held: legal to
 * sleep) at the lookup-or-create site; the first to retake the lock inserts, each other
 * frees its object at the same site's discard path on its own CPU.  Object sizes are a
 * struct of 160 bytes plus the key's name (8-63 bytes): kmalloc-192 and kmalloc-256.  When
 * the table is full the oldest entry is evicted and freed on a random CPU (the reclaim
 * path).  At the end every entry is freed.  All choices come from the seeded generator:
 * the same options and seed give the same trace.
 */
#include "workloads/gen.h"

#include <errno.h>
#include <kmbench/kmalloc.h>
#include <stdlib.h>

#define TABLE_CAP 4096u      /* live entries before eviction */
#define KEYS      (1u << 16) /* key space */
#define HOT_KEYS  (KEYS / 64)
#define RACERS    3u /* most CPUs that miss one key at once */

enum { ROLE_TASK, ROLE_RECLAIM };

static const struct kmb__role roles[] = {
        [ROLE_TASK] = {"lookup", 3100, 1, "....."},
        [ROLE_RECLAIM] = {"kswapd0", 90, 0, "....."},
};

struct entry {
	uint64_t ptr;
	uint32_t key;
	bool used;
};

struct specgen {
	struct kmb__gen *g;
	struct entry *ring; /* insertion order: the clock's hand evicts the oldest */
	size_t hand, n;
	uint32_t *slot_of; /* key -> ring index + 1, 0 = absent */
	uint32_t site_create, site_discard, site_evict;
	unsigned gfp;
};

static uint32_t pick_key(struct kmb__gen *g)
{
	return kmb__gen_chance(g, 25) ? (uint32_t)kmb__gen_below(g, HOT_KEYS)
	                              : (uint32_t)kmb__gen_below(g, KEYS);
}

static unsigned racers(struct kmb__gen *g)
{
	uint64_t r = kmb__gen_below(g, 100);
	unsigned n = r < 80 ? 1 : r < 95 ? 2 : 3;

	return n < g->o.cpus ? n : g->o.cpus;
}

static void evict_one(struct specgen *s)
{
	struct entry *e = &s->ring[s->hand];

	kmb__gen_kfree(s->g, (unsigned)kmb__gen_below(s->g, s->g->o.cpus), ROLE_RECLAIM,
	               s->site_evict, e->ptr);
	s->slot_of[e->key] = 0;
	e->used = false;
	s->n--;
}

static void insert(struct specgen *s, uint32_t key, uint64_t ptr)
{
	if (s->n == TABLE_CAP) {
		while (!s->ring[s->hand].used)
			s->hand = (s->hand + 1) % TABLE_CAP;
		evict_one(s);
	}
	while (s->ring[s->hand].used)
		s->hand = (s->hand + 1) % TABLE_CAP;
	s->ring[s->hand] = (struct entry){ptr, key, true};
	s->slot_of[key] = (uint32_t)s->hand + 1;
	s->n++;
}

/* A miss: each racer allocates unlocked; the first inserts, the others discard. */
static void miss(struct specgen *s, uint32_t key)
{
	struct kmb__gen *g = s->g;
	unsigned n = racers(g), cpu0 = (unsigned)kmb__gen_below(g, g->o.cpus);
	uint64_t size = 160 + kmb__gen_range(g, 8, 63), ptr[RACERS];

	for (unsigned i = 0; i < n; i++)
		ptr[i] = kmb__gen_kmalloc(g, (cpu0 + i) % g->o.cpus, ROLE_TASK, s->site_create,
		                          size, s->gfp);
	if (g->rc)
		return;
	insert(s, key, ptr[0]);
	for (unsigned i = 1; i < n; i++)
		kmb__gen_kfree(g, (cpu0 + i) % g->o.cpus, ROLE_TASK, s->site_discard, ptr[i]);
}

static int setup(struct specgen *s)
{
	struct kmb__gen *g = s->g;

	g->roles = roles;
	g->nroles = sizeof(roles) / sizeof(roles[0]);
	s->site_create = kmb__gen_site(g, "lookup_or_create+0x5e/0x140");
	s->site_discard = kmb__gen_site(g, "lookup_or_create+0xf2/0x140");
	s->site_evict = kmb__gen_site(g, "table_reclaim+0x3a/0x90");
	s->gfp = kmb__gen_gfp(g, "GFP_KERNEL", M_WAITOK);
	s->ring = calloc(TABLE_CAP, sizeof(*s->ring));
	s->slot_of = calloc(KEYS, sizeof(*s->slot_of));
	if (!s->ring || !s->slot_of)
		return kmb__gen_fail(g, -ENOMEM, "out of memory");
	return g->rc;
}

int kmb__gen_speculative(struct kmb__gen *g)
{
	struct specgen s = {.g = g};

	if (setup(&s) == 0) {
		while (kmb__gen_more(g, 2 * RACERS)) {
			uint32_t key = pick_key(g);

			if (s.slot_of[key] == 0)
				miss(&s, key);
			kmb__gen_idle(g, kmb__gen_below(g, 2000));
		}
		for (size_t i = 0; i < TABLE_CAP && g->rc == 0; i++)
			if (s.ring[i].used) {
				s.hand = i;
				evict_one(&s);
			}
	}
	free(s.ring);
	free(s.slot_of);
	return g->rc;
}
