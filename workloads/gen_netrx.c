/*
 * workloads/gen_netrx.c - `netrx`: packet buffers received on one CPU, freed on another.
 *
 * Theory.  A NIC raises its interrupt on the CPU its receive queue is steered to; NAPI
 * then polls the queue in softirq context, up to a budget of 64 packets per poll
 * (net/core/dev.c, napi_poll), and builds an sk_buff for each: the head from the
 * skbuff_head_cache (struct sk_buff, 232 bytes, 256 with SLAB_HWCACHE_ALIGN) and the data
 * from kmalloc (kmalloc_reserve(): headroom + payload + struct skb_shared_info, so a
 * 1500-byte frame needs a 2 KiB object and an ACK fits in 512 bytes), both with
 * GFP_ATOMIC|__GFP_NOWARN since softirq cannot sleep.  The packet is queued on a socket
 * and freed by the consumer - the application thread in recvmsg() that
 * skb_consume()s it - which RPS/RFS or the scheduler usually put on another CPU: the
 * classic cross-CPU free that per-CPU caches (SLUB's per-CPU slabs, magazines) must
 * handle (Bonwick & Adams 2001, "Magazines and Vmem", on the cost of remote frees).
 * Traffic comes in bursts: most polls find a few packets, some the full budget, and
 * beyond the budget the rest of the poll is deferred to ksoftirqd.
 *
 * Model.  With C CPUs, CPUs 0..R-1 receive (R = max(1, C / 2): half the CPUs own a NIC
 * queue) and CPUs R..C-1 consume; with one CPU it does both.  Each flow hashes to a
 * consumer.  A poll on a random receive CPU takes a burst (70%: 1-8 packets, 25%: 9-32,
 * 5%: the full 64, the last 32 of which run in ksoftirqd); 3% of packets are dropped and
 * freed at once on the receiving CPU (kfree_skb: a bad checksum, a filter).  Data sizes:
 * 40% small (512-704 bytes requested), 10% medium (705-1535), 50% full frames
 * (1536-2048).  Consumers drain their socket queues in FIFO order, 1-32 packets per
 * wakeup; the more is queued, the more often they run, so queues stay short.  Idle gaps
 * between polls are 0-100 us.
 *
 * Replayed with --threads 2 or more, about 97% of frees are cross-CPU (cross_cpu_frees);
 * everything is small and short-lived, so the default memory never runs short.
 */
#include "workloads/gen.h"

#include <errno.h>
#include <kmbench/kmalloc.h>
#include <stdlib.h>

enum { ROLE_IRQ, ROLE_KSOFTIRQD, ROLE_APP };

static const struct kmb__role roles[] = {
        [ROLE_IRQ] = {"<idle>", 0, 0, "..s1."},
        [ROLE_KSOFTIRQD] = {"ksoftirqd/%u", 16, 7, "..s.."},
        [ROLE_APP] = {"nginx", 2301, 1, "....."},
};

struct pkt {
	uint64_t head, data;
};

struct queue { /* a socket receive queue: FIFO ring */
	struct pkt *q;
	size_t head, n, cap;
};

struct netgen {
	struct kmb__gen *g;
	unsigned rx, ncons; /* receive CPUs 0..rx-1, consumers rx..rx+ncons-1 */
	int skb_cache;
	uint32_t site_head, site_data, site_free_data, site_free_head, site_drop;
	unsigned gfp;
	struct queue *cq;
	size_t queued;
};

static int enqueue(struct netgen *n, struct queue *q, struct pkt p)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 256;
		struct pkt *b = malloc(cap * sizeof(*b));

		if (!b)
			return kmb__gen_fail(n->g, -ENOMEM, "out of memory");
		for (size_t i = 0; i < q->n; i++)
			b[i] = q->q[(q->head + i) % q->cap];
		free(q->q);
		*q = (struct queue){b, 0, q->n, cap};
	}
	q->q[(q->head + q->n++) % q->cap] = p;
	n->queued++;
	return 0;
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

static void free_pkt(struct netgen *n, unsigned cpu, unsigned role, struct pkt p, uint32_t site)
{
	kmb__gen_kfree(n->g, cpu, role, n->site_free_data, p.data);
	kmb__gen_cache_free(n->g, cpu, role, site, n->skb_cache, p.head);
}

static void receive(struct netgen *n, unsigned cpu, unsigned role)
{
	struct kmb__gen *g = n->g;
	struct pkt p;

	p.head = kmb__gen_cache_alloc(g, cpu, role, n->site_head, n->skb_cache, n->gfp);
	p.data = kmb__gen_kmalloc(g, cpu, role, n->site_data, data_size(g), n->gfp);
	if (kmb__gen_chance(g, 3)) {
		free_pkt(n, cpu, role, p, n->site_drop);
		return;
	}
	enqueue(n, &n->cq[kmb__gen_below(g, n->ncons)], p);
}

static unsigned burst_len(struct kmb__gen *g)
{
	uint64_t r = kmb__gen_below(g, 100);

	return r < 70   ? (unsigned)kmb__gen_range(g, 1, 8)
	       : r < 95 ? (unsigned)kmb__gen_range(g, 9, 32)
	                : 64;
}

static void napi_poll(struct netgen *n)
{
	unsigned cpu = (unsigned)kmb__gen_below(n->g, n->rx), len = burst_len(n->g);

	for (unsigned i = 0; i < len && n->g->rc == 0; i++)
		receive(n, cpu, i < 32 ? ROLE_IRQ : ROLE_KSOFTIRQD);
	kmb__gen_idle(n->g, kmb__gen_below(n->g, 100000));
}

static void consume(struct netgen *n, unsigned c, unsigned max)
{
	struct queue *q = &n->cq[c];
	unsigned cpu = n->rx < n->g->o.cpus ? n->rx + c : 0;

	for (unsigned i = 0; i < max && q->n && n->g->rc == 0; i++) {
		free_pkt(n, cpu, ROLE_APP, q->q[q->head], n->site_free_head);
		q->head = (q->head + 1) % q->cap;
		q->n--;
		n->queued--;
	}
}

/* A consumer with packets, at random; NULL-free because queued > 0. */
static void wake_consumer(struct netgen *n)
{
	unsigned c = (unsigned)kmb__gen_below(n->g, n->ncons);

	while (n->cq[c].n == 0)
		c = (c + 1) % n->ncons;
	consume(n, c, (unsigned)kmb__gen_range(n->g, 1, 32));
}

static int setup(struct netgen *n)
{
	struct kmb__gen *g = n->g;
	unsigned cpus = g->o.cpus;

	g->roles = roles;
	g->nroles = sizeof(roles) / sizeof(roles[0]);
	n->rx = cpus / 2 ? cpus / 2 : 1;
	n->ncons = cpus > n->rx ? cpus - n->rx : 1;
	n->skb_cache = kmb__gen_cache(g, "skbuff_head_cache", 232, 256);
	n->site_head = kmb__gen_site(g, "__alloc_skb+0x8c/0x1e0");
	n->site_data = kmb__gen_site(g, "__alloc_skb+0xa9/0x1e0");
	n->site_free_data = kmb__gen_site(g, "skb_free_head+0x96/0xb0");
	n->site_free_head = kmb__gen_site(g, "kfree_skbmem+0x6c/0x90");
	n->site_drop = kmb__gen_site(g, "kfree_skb_reason+0x4d/0xd0");
	n->gfp = kmb__gen_gfp(g, "GFP_ATOMIC|__GFP_NOWARN", M_NOWAIT | M_USE_RESERVE);
	n->cq = calloc(n->ncons, sizeof(*n->cq));
	if (!n->cq)
		return kmb__gen_fail(g, -ENOMEM, "out of memory");
	return g->rc;
}

int kmb__gen_netrx(struct kmb__gen *g)
{
	struct netgen n = {.g = g};

	if (setup(&n) == 0) {
		while (kmb__gen_more(g, 130)) {
			unsigned p_rx = n.queued < 256 ? 60 : n.queued < 1024 ? 40 : 10;

			if (n.queued == 0 || kmb__gen_chance(g, p_rx))
				napi_poll(&n);
			else
				wake_consumer(&n);
		}
		for (unsigned c = 0; c < n.ncons; c++)
			consume(&n, c, UINT32_MAX);
	}
	for (unsigned c = 0; n.cq && c < n.ncons; c++)
		free(n.cq[c].q);
	free(n.cq);
	return g->rc;
}
