/*
 * workloads/gen_skb.c - the receive side of a network stack, shared by the `netrx` and
 * `irq` workloads: sk_buffs allocated on receive CPUs, queued on sockets, freed by their
 * consumers (gen_netrx.c has the theory: NAPI, kmalloc_reserve's sizes, RPS/RFS).
 *
 * A packet is a head from skbuff_head_cache (232 bytes, 256 aligned) and data from
 * kmalloc, both with the workload's GFP_ATOMIC|__GFP_NOWARN.  With C CPUs, CPUs 0..R-1
 * receive (R = max(1, C / 2)) and the others consume (one CPU does both).  Each packet
 * hashes to a consumer's queue (FIFO) unless dropped (freed at once where it arrived).
 * Data sizes: 40 % 512-704 bytes, 10 % 705-1535, 50 % full frames of 1536-2048.
 */
#include "workloads/gen.h"

#include <errno.h>
#include <kmbench/kmalloc.h>
#include <stdlib.h>

static void enqueue(struct kmb__net *n, struct kmb__skbq *q, struct kmb__skb p)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 256;
		struct kmb__skb *b = malloc(cap * sizeof(*b));

		if (!b) {
			kmb__gen_fail(n->g, -ENOMEM, "out of memory");
			return;
		}
		for (size_t i = 0; i < q->n; i++)
			b[i] = q->q[(q->head + i) % q->cap];
		free(q->q);
		*q = (struct kmb__skbq){b, 0, q->n, cap};
	}
	q->q[(q->head + q->n++) % q->cap] = p;
	n->queued++;
}

static uint64_t data_size(struct kmb__gen *g)
{
	uint64_t r = kmb__gen_below(g, 100);

	if (r < 40)
		return kmb__gen_range(g, 512, 704);
	if (r < 50)
		return kmb__gen_range(g, 705, 1535);
	return kmb__gen_range(g, 1536, 2048);
}

static void free_skb(struct kmb__net *n, unsigned cpu, unsigned role, struct kmb__skb p,
                     uint32_t site)
{
	kmb__gen_kfree(n->g, cpu, role, n->site_free_data, p.data);
	kmb__gen_cache_free(n->g, cpu, role, site, n->skb_cache, p.head);
}

int kmb__net_setup(struct kmb__net *n, struct kmb__gen *g, const char *site_head,
                   const char *site_data)
{
	unsigned cpus = g->o.cpus;

	n->g = g;
	n->rx = cpus / 2 ? cpus / 2 : 1;
	n->ncons = cpus > n->rx ? cpus - n->rx : 1;
	n->skb_cache = kmb__gen_cache(g, "skbuff_head_cache", 232, 256);
	n->site_head = kmb__gen_site(g, site_head);
	n->site_data = kmb__gen_site(g, site_data);
	n->site_free_data = kmb__gen_site(g, "skb_free_head+0x96/0xb0");
	n->site_free_head = kmb__gen_site(g, "kfree_skbmem+0x6c/0x90");
	n->site_drop = kmb__gen_site(g, "kfree_skb_reason+0x4d/0xd0");
	n->gfp = kmb__gen_gfp(g, "GFP_ATOMIC|__GFP_NOWARN", M_NOWAIT | M_USE_RESERVE);
	n->cq = calloc(n->ncons, sizeof(*n->cq));
	if (!n->cq)
		return kmb__gen_fail(g, -ENOMEM, "out of memory");
	return g->rc;
}

void kmb__net_rx(struct kmb__net *n, unsigned cpu, unsigned role, unsigned drop_pct)
{
	struct kmb__gen *g = n->g;
	struct kmb__skb p;

	p.head = kmb__gen_cache_alloc(g, cpu, role, n->site_head, n->skb_cache, n->gfp);
	p.data = kmb__gen_kmalloc(g, cpu, role, n->site_data, data_size(g), n->gfp);
	if (kmb__gen_chance(g, drop_pct)) {
		free_skb(n, cpu, role, p, n->site_drop);
		return;
	}
	enqueue(n, &n->cq[kmb__gen_below(g, n->ncons)], p);
}

void kmb__net_consume(struct kmb__net *n, unsigned c, unsigned max, unsigned role)
{
	struct kmb__skbq *q = &n->cq[c];
	unsigned cpu = n->rx < n->g->o.cpus ? n->rx + c : 0;

	for (unsigned i = 0; i < max && q->n && n->g->rc == 0; i++) {
		free_skb(n, cpu, role, q->q[q->head], n->site_free_head);
		q->head = (q->head + 1) % q->cap;
		q->n--;
		n->queued--;
	}
}

void kmb__net_wake(struct kmb__net *n, unsigned role)
{
	unsigned c = (unsigned)kmb__gen_below(n->g, n->ncons);

	while (n->cq[c].n == 0) /* some queue has packets: queued > 0 */
		c = (c + 1) % n->ncons;
	kmb__net_consume(n, c, (unsigned)kmb__gen_range(n->g, 1, 32), role);
}

void kmb__net_finish(struct kmb__net *n, unsigned role)
{
	for (unsigned c = 0; n->g->rc == 0 && c < n->ncons; c++)
		kmb__net_consume(n, c, UINT32_MAX, role);
	for (unsigned c = 0; n->cq && c < n->ncons; c++)
		free(n->cq[c].q);
	free(n->cq);
	n->cq = NULL;
}
