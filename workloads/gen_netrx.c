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
 * The sk_buffs, queues and consumers are gen_skb.c's, shared with `irq`.
 *
 * Replayed with --threads 2 or more, about 97% of frees are cross-CPU (cross_cpu_frees);
 * everything is small and short-lived, so the default memory never runs short.
 */
#include "workloads/gen.h"

#include <kmbench/kmalloc.h>

enum { ROLE_IRQ, ROLE_KSOFTIRQD, ROLE_APP };

static const struct kmb__role roles[] = {
        [ROLE_IRQ] = {"<idle>", 0, 0, "..s1."},
        [ROLE_KSOFTIRQD] = {"ksoftirqd/%u", 16, 7, "..s.."},
        [ROLE_APP] = {"nginx", 2301, 1, "....."},
};

static unsigned burst_len(struct kmb__gen *g)
{
	uint64_t r = kmb__gen_below(g, 100);

	return r < 70   ? (unsigned)kmb__gen_range(g, 1, 8)
	       : r < 95 ? (unsigned)kmb__gen_range(g, 9, 32)
	                : 64;
}

static void napi_poll(struct kmb__net *n)
{
	unsigned cpu = (unsigned)kmb__gen_below(n->g, n->rx), len = burst_len(n->g);

	for (unsigned i = 0; i < len && n->g->rc == 0; i++)
		kmb__net_rx(n, cpu, i < 32 ? ROLE_IRQ : ROLE_KSOFTIRQD, 3);
	kmb__gen_idle(n->g, kmb__gen_below(n->g, 100000));
}

int kmb__gen_netrx(struct kmb__gen *g)
{
	struct kmb__net n = {.g = g};

	g->roles = roles;
	g->nroles = sizeof(roles) / sizeof(roles[0]);
	if (kmb__net_setup(&n, g, "__alloc_skb+0x8c/0x1e0", "__alloc_skb+0xa9/0x1e0") == 0) {
		while (kmb__gen_more(g, 130)) {
			unsigned p_rx = n.queued < 256 ? 60 : n.queued < 1024 ? 40 : 10;

			if (n.queued == 0 || kmb__gen_chance(g, p_rx))
				napi_poll(&n);
			else
				kmb__net_wake(&n, ROLE_APP);
		}
	}
	kmb__net_finish(&n, ROLE_APP);
	return g->rc;
}
