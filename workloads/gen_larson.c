/*
 * workloads/gen_larson.c - `larson`: Larson & Krishnan's server benchmark as kmalloc events.
 *
 * Theory.  P.-A. Larson and M. Krishnan, "Memory allocation for long-running server
 * applications", ISMM 1998, model a server whose threads each keep a set of live blocks
 * and repeatedly free a random one and allocate a new one of random size; after a number
 * of rounds a thread exits and a new thread inherits its blocks, so blocks allocated by
 * one thread are freed by another.  The benchmark (larson.c, as shipped with Hoard and
 * mimalloc-bench) stresses exactly what per-thread/per-CPU allocators find hard: a steady
 * state with a bounded live set, random lifetimes, and objects that migrate between
 * threads - in a kernel, objects allocated in one CPU's context and freed on another.
 *
 * Model.  Each of the C CPUs owns a window of W blocks (W = --events / (20 C), within
 * 16..1000; Larson's runs used 1000 "chunks" per thread), filled first.  Then, at each
 * step, a random CPU frees a random block of its window (kfree) and allocates a new block
 * of 10..1000 bytes (uniform, as the benchmark's min/max) in its place, GFP_KERNEL.
 * After every C * W steps (a round) the windows rotate: CPU c continues with the window
 * CPU c - 1 had - a new thread inheriting the exiting one's blocks - so from then on most
 * frees are of blocks another CPU allocated.  At the end every CPU frees its window.
 *
 * Replayed with --threads 2 or more, cross_cpu_frees is about (C - 1) / C of the frees
 * after the first round; the live set is C * W blocks of ~500 bytes, far below memory.
 */
#include "workloads/gen.h"

#include <errno.h>
#include <kmbench/kmalloc.h>
#include <stdlib.h>

static const struct kmb__role roles[] = {{"larson/%u", 6000, 1, "....."}};

struct larson {
	struct kmb__gen *g;
	unsigned cpus, w;
	uint64_t *blk; /* cpus windows of w blocks */
	uint32_t s_alloc, s_free;
	unsigned gfp;
};

static uint64_t *window(struct larson *l, unsigned cpu, uint64_t round)
{
	return &l->blk[(size_t)((cpu + l->cpus - round % l->cpus) % l->cpus) * l->w];
}

static uint64_t new_block(struct larson *l, unsigned cpu)
{
	return kmb__gen_kmalloc(l->g, cpu, 0, l->s_alloc, kmb__gen_range(l->g, 10, 1000), l->gfp);
}

static int setup(struct larson *l)
{
	struct kmb__gen *g = l->g;
	uint64_t w = g->o.events / (20ULL * g->o.cpus);

	g->roles = roles;
	g->nroles = 1;
	l->cpus = g->o.cpus;
	l->w = (unsigned)(w < 16 ? 16 : w > 1000 ? 1000 : w);
	l->s_alloc = kmb__gen_site(g, "larson_thread+0x6c/0x1a0");
	l->s_free = kmb__gen_site(g, "larson_thread+0x9e/0x1a0");
	l->gfp = kmb__gen_gfp(g, "GFP_KERNEL", M_WAITOK);
	l->blk = calloc((size_t)l->cpus * l->w, sizeof(*l->blk));
	if (!l->blk)
		return kmb__gen_fail(g, -ENOMEM, "out of memory");
	return g->rc;
}

int kmb__gen_larson(struct kmb__gen *g)
{
	struct larson l = {.g = g};
	uint64_t steps = 0, round = 0;

	if (setup(&l) == 0) {
		for (unsigned i = 0; i < l.w; i++)
			for (unsigned c = 0; c < l.cpus; c++)
				window(&l, c, 0)[i] = new_block(&l, c);
		while (kmb__gen_more(g, 2)) {
			unsigned c = (unsigned)kmb__gen_below(g, l.cpus);
			uint64_t *b = &window(&l, c, round)[kmb__gen_below(g, l.w)];

			kmb__gen_kfree(g, c, 0, l.s_free, *b);
			*b = new_block(&l, c);
			if (++steps % ((uint64_t)l.cpus * l.w) == 0)
				round++;
		}
		for (unsigned c = 0; c < l.cpus; c++)
			for (unsigned i = 0; i < l.w; i++)
				kmb__gen_kfree(g, c, 0, l.s_free, window(&l, c, round)[i]);
	}
	free(l.blk);
	return g->rc;
}
