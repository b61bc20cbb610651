/*
 * workloads/gen_xmalloc.c - `xmalloc`: producer CPUs allocate, consumer CPUs free.
 *
 * Theory.  C. Lever and D. Boreham, "malloc() Performance in a Multithreaded Linux
 * Environment", USENIX 2000 (FREENIX track), measured allocators with a producer/consumer
 * test, xmalloc-test: mem_allocator threads fill batches of objects and push each batch on
 * a shared stack (at most 100 batches queued; a full stack blocks the producers), and
 * mem_releaser threads pop batches and free every object and the batch itself.  In the
 * version kept in mimalloc-bench a batch holds 4096 pointers and, with -s -1, object
 * sizes are drawn from {8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768,
 * 1024, 1536, 2048}.  Every object is freed by a thread other than the one that made it:
 * the worst case for allocators that cache per thread (the memory drifts to the freeing
 * thread, "blowup" in Berger et al.'s Hoard paper, ASPLOS 2000).  In a kernel the same
 * shape is a work queue: one context produces buffers, a worker on another CPU consumes
 * them.
 *
 * Model.  Producers run on the even CPUs, consumers on the odd ones (with one CPU, both on
 * CPU 0).  A batch holds 256 objects (scaled down from 4096 so that short traces still
 * have many batches) and is itself a kmalloc of 8 + 256 * 8 bytes; the shared stack is
 * LIFO and holds at most 100 batches, as in the original.  At each step a runnable worker
 * chosen at random does one allocation or one free (a producer is runnable while the
 * stack has room or it is filling a batch, a consumer while the stack has a batch or it
 * is emptying one).  At the end the producers hand in their partial batches and the
 * consumers empty the stack.  All GFP_KERNEL.
 *
 * Replayed with --threads 2 or more, every object free is cross-CPU (with an even
 * --cpus); the live set is at most 100 full batches plus those being filled and emptied.
 */
#include "workloads/gen.h"

#include <errno.h>
#include <kmbench/kmalloc.h>
#include <stdlib.h>

#define BATCH       256
#define STACK_LIMIT 100

enum { ROLE_PROD, ROLE_CONS };

static const struct kmb__role roles[] = {
        [ROLE_PROD] = {"mem_allocator", 7000, 1, "....."},
        [ROLE_CONS] = {"mem_releaser", 7000, 1, "....."},
};

static const uint16_t sizes[] = {8,   12,  16,  24,  32,  48,   64,   96,  128,
                                 192, 256, 384, 512, 768, 1024, 1536, 2048};

struct batch {
	uint64_t self, obj[BATCH];
	unsigned n; /* objects filled (producer) or left (consumer) */
};

struct worker {
	unsigned cpu, role;
	struct batch *b; /* being filled or emptied; NULL = none */
};

struct xgen {
	struct kmb__gen *g;
	struct worker *w;
	unsigned nw;
	struct batch **stack;
	unsigned depth, cap;
	uint32_t s_batch, s_obj, s_free_obj, s_free_batch;
	unsigned gfp;
};

static bool runnable(const struct xgen *x, const struct worker *w)
{
	if (w->b)
		return true;
	return w->role == ROLE_PROD ? x->depth < STACK_LIMIT : x->depth > 0;
}

static int push(struct xgen *x, struct batch *b)
{
	if (x->depth == x->cap) {
		unsigned cap = x->cap ? 2 * x->cap : 128;
		struct batch **s = realloc(x->stack, cap * sizeof(*s));

		if (!s)
			return kmb__gen_fail(x->g, -ENOMEM, "out of memory");
		x->stack = s;
		x->cap = cap;
	}
	x->stack[x->depth++] = b;
	return 0;
}

static void produce(struct xgen *x, struct worker *w)
{
	struct kmb__gen *g = x->g;
	uint64_t size = sizes[kmb__gen_below(g, sizeof(sizes) / sizeof(sizes[0]))];

	if (!w->b) {
		if (!(w->b = calloc(1, sizeof(*w->b)))) {
			kmb__gen_fail(g, -ENOMEM, "out of memory");
			return;
		}
		w->b->self =
		        kmb__gen_kmalloc(g, w->cpu, w->role, x->s_batch, 8 + 8 * BATCH, x->gfp);
		return;
	}
	w->b->obj[w->b->n++] = kmb__gen_kmalloc(g, w->cpu, w->role, x->s_obj, size, x->gfp);
	if (w->b->n == BATCH && push(x, w->b) == 0)
		w->b = NULL;
}

static void consume(struct xgen *x, struct worker *w)
{
	struct kmb__gen *g = x->g;
	struct batch *b;

	if (!w->b)
		w->b = x->stack[--x->depth];
	b = w->b;
	if (b->n) {
		kmb__gen_kfree(g, w->cpu, w->role, x->s_free_obj, b->obj[--b->n]);
		return;
	}
	kmb__gen_kfree(g, w->cpu, w->role, x->s_free_batch, b->self);
	free(b);
	w->b = NULL;
}

static void step(struct xgen *x)
{
	unsigned i = (unsigned)kmb__gen_below(x->g, x->nw);

	while (!runnable(x, &x->w[i]))
		i = (i + 1) % x->nw;
	if (x->w[i].role == ROLE_PROD)
		produce(x, &x->w[i]);
	else
		consume(x, &x->w[i]);
}

/* Partial batches to the stack, then the consumers empty it, one worker at a time. */
static void drain(struct xgen *x)
{
	for (unsigned i = 0; i < x->nw; i++)
		if (x->w[i].role == ROLE_PROD && x->w[i].b && push(x, x->w[i].b) == 0)
			x->w[i].b = NULL;
	for (unsigned i = 0; i < x->nw && x->g->rc == 0; i++)
		while (x->w[i].role == ROLE_CONS && runnable(x, &x->w[i]) && x->g->rc == 0)
			consume(x, &x->w[i]);
}

static int setup(struct xgen *x)
{
	struct kmb__gen *g = x->g;
	unsigned cpus = g->o.cpus;

	g->roles = roles;
	g->nroles = 2;
	x->nw = cpus > 1 ? cpus : 2;
	x->w = calloc(x->nw, sizeof(*x->w));
	if (!x->w)
		return kmb__gen_fail(g, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < x->nw; i++)
		x->w[i] = (struct worker){cpus > 1 ? i : 0, i % 2 ? ROLE_CONS : ROLE_PROD, NULL};
	x->s_batch = kmb__gen_site(g, "mem_allocator+0x2e/0x140");
	x->s_obj = kmb__gen_site(g, "mem_allocator+0x5a/0x140");
	x->s_free_obj = kmb__gen_site(g, "mem_releaser+0x48/0xb0");
	x->s_free_batch = kmb__gen_site(g, "mem_releaser+0x6a/0xb0");
	x->gfp = kmb__gen_gfp(g, "GFP_KERNEL", M_WAITOK);
	return g->rc;
}

int kmb__gen_xmalloc(struct kmb__gen *g)
{
	struct xgen x = {.g = g};

	if (setup(&x) == 0) {
		while (kmb__gen_more(g, 2))
			step(&x);
		drain(&x);
	}
	for (unsigned i = 0; x.w && i < x.nw; i++)
		free(x.w[i].b);
	for (unsigned i = 0; i < x.depth; i++)
		free(x.stack[i]);
	free(x.stack);
	free(x.w);
	return g->rc;
}
