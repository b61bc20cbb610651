/*
 * workloads/gen_irq.c - `irq`: allocations in hard and soft interrupt context, freed in
 * process context, as a network driver's receive path makes them.
 *
 * Theory.  An interrupt handler cannot sleep, so everything it allocates is GFP_ATOMIC
 * (M_NOWAIT, with access to the reserve): Linux's might_sleep() reports any sleeping
 * allocation there as "BUG: sleeping function called from invalid context", and BSD
 * interrupt code uses M_NOWAIT (DragonFly's M_INTWAIT in interrupt threads).  The work is
 * split as drivers split it.  The top half, in hard interrupt context, acknowledges the
 * device and records the completion - here a small descriptor from a driver cache
 * (`rx_desc`, 48 bytes, 64 with alignment) - and raises NET_RX_SOFTIRQ.  The bottom half,
 * in softirq (NAPI's poll, net/core/dev.c), consumes the descriptors, freeing each there,
 * and builds one sk_buff per packet: the head from skbuff_head_cache (232 bytes, 256
 * aligned) and the data from kmalloc (kmalloc_reserve: 512 bytes to 2 KiB), both
 * GFP_ATOMIC|__GFP_NOWARN.  The packets go to socket queues and are freed by the
 * application in process context, usually on another CPU (RPS/RFS), in recvmsg().  A hard
 * interrupt may arrive while a softirq runs (ftrace's 'H'): its descriptor is allocated
 * in hardirq-inside-softirq context.  Under a budget of 64 packets per poll the rest of a
 * burst is left to ksoftirqd (softirq context in a kernel thread).
 *
 * The point for an allocator: allocations come in interrupt context (the replay runs them
 * inside kmb_intr_enter, so a design that would sleep there is caught), never sleep, and
 * their frees come in process context on other CPUs; the descriptors live a few events,
 * the packets until their consumer runs.
 *
 * Model (the sk_buffs, queues and consumers are gen_skb.c's, shared with `netrx`).  With
 * C CPUs, CPUs 0..R-1 take device interrupts (R = max(1, C / 2)), the others
 * run the consumers (with one CPU it does both).  An interrupt on a random receive CPU
 * records 1-16 completions (one descriptor each; 10 % of interrupts arrive during a
 * softirq and are marked so); the softirq that follows frees those descriptors and
 * receives one packet per completion plus the rest of the burst (up to 64 in the softirq,
 * beyond that in ksoftirqd), 2 % of packets dropped and freed at once in softirq.  Data
 * sizes: 40 % 512-704 bytes, 10 % 705-1535, 50 % 1536-2048.  Consumers drain their queue
 * FIFO, 1-32 packets per wakeup, more often as queues grow.  Idle gaps of 0-200 us.
 * All choices come from the seeded generator: the same options and seed give the same
 * trace.
 */
#include "workloads/gen.h"

#include <kmbench/kmalloc.h>

#define BUDGET 64u /* NAPI packets per poll before ksoftirqd takes the rest */

enum { ROLE_HARDIRQ, ROLE_HARDIRQ_IN_SOFTIRQ, ROLE_SOFTIRQ, ROLE_KSOFTIRQD, ROLE_APP };

static const struct kmb__role roles[] = {
        [ROLE_HARDIRQ] = {"<idle>", 0, 0, "d.h1."},
        [ROLE_HARDIRQ_IN_SOFTIRQ] = {"<idle>", 0, 0, "d.H2."},
        [ROLE_SOFTIRQ] = {"<idle>", 0, 0, "..s1."},
        [ROLE_KSOFTIRQD] = {"ksoftirqd/%u", 16, 7, "..s.."},
        [ROLE_APP] = {"memcached", 4100, 1, "....."},
};

/* Top half: descriptors in hardirq; bottom half: free them, receive the burst. */
static void interrupt(struct kmb__net *n, int desc_cache, uint32_t site_desc,
                      uint32_t site_desc_free)
{
	struct kmb__gen *g = n->g;
	unsigned cpu = (unsigned)kmb__gen_below(g, n->rx);
	unsigned ndesc = (unsigned)kmb__gen_range(g, 1, 16);
	unsigned top = kmb__gen_chance(g, 10) ? ROLE_HARDIRQ_IN_SOFTIRQ : ROLE_HARDIRQ;
	unsigned burst = ndesc + (kmb__gen_chance(g, 5) ? (unsigned)kmb__gen_range(g, 32, 96) : 0);
	uint64_t desc[16];

	for (unsigned i = 0; i < ndesc; i++)
		desc[i] = kmb__gen_cache_alloc(g, cpu, top, site_desc, desc_cache, n->gfp);
	for (unsigned i = 0; i < ndesc && g->rc == 0; i++)
		kmb__gen_cache_free(g, cpu, ROLE_SOFTIRQ, site_desc_free, desc_cache, desc[i]);
	for (unsigned i = 0; i < burst && g->rc == 0; i++)
		kmb__net_rx(n, cpu, i < BUDGET ? ROLE_SOFTIRQ : ROLE_KSOFTIRQD, 2);
	kmb__gen_idle(g, kmb__gen_below(g, 200000));
}

int kmb__gen_irq(struct kmb__gen *g)
{
	struct kmb__net n = {.g = g};
	int desc_cache;
	uint32_t site_desc, site_desc_free;

	g->roles = roles;
	g->nroles = sizeof(roles) / sizeof(roles[0]);
	desc_cache = kmb__gen_cache(g, "rx_desc", 48, 64);
	site_desc = kmb__gen_site(g, "nic_irq_handler+0x47/0x120");
	site_desc_free = kmb__gen_site(g, "nic_napi_poll+0x9c/0x300");
	if (kmb__net_setup(&n, g, "__napi_alloc_skb+0x4e/0x140", "__napi_alloc_skb+0x6b/0x140") ==
	    0) {
		while (kmb__gen_more(g, 2 * 16 + 2 * 112)) {
			unsigned p_irq = n.queued < 256 ? 50 : n.queued < 1024 ? 30 : 10;

			if (n.queued == 0 || kmb__gen_chance(g, p_irq))
				interrupt(&n, desc_cache, site_desc, site_desc_free);
			else
				kmb__net_wake(&n, ROLE_APP);
		}
	}
	kmb__net_finish(&n, ROLE_APP);
	return g->rc;
}
