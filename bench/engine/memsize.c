/*
 * bench/engine/memsize.c - the simulated memory a trace replays in when --mem is not given,
 * and the check of a --mem that is (`kmbench run` and `kmbench replay`).
 *
 * 1. Need.  A copy of a trace holds at most its peak live requested bytes P (the trace
 *    fact peak_live_bytes_req) at once; K copies replayed together hold at most K * P
 *    (their peaks need not coincide, so this bounds from above).  Page events are not
 *    replayed (replay.c), so they need no memory.
 * 2. Headroom.  A backend holds more than P for P requested bytes: size-class rounding,
 *    partly used slabs, per-CPU caches and metadata.  Measured on a 5 s recording of this
 *    machine's Linux 6.18 (`trace record` during find and tar, P = 19.3 MB, 1 and 2
 *    copies, every backend, --mem 1G): peak footprint / P between 0.98 (tcmalloc) and 1.66
 *    (mimalloc, which maps whole 4 MiB segments), buddy's kmalloc 1.44.  KMB_MEM_HEADROOM
 *    = 3 covers the worst of those almost twice over, since the page allocator also keeps
 *    its watermarks free (core/page_alloc.c: min of about 4 sqrt(16 * KiB) KiB, low and
 *    high above it) and a design's rounding can be worse on another trace's sizes.
 *    KMB_MEM_BASE (16 MiB) covers what does not grow with the trace: boot-time
 *    metadata, the per-CPU page lists and magazines of the replay threads.
 * 3. Rounding.  need = K * P * KMB_MEM_HEADROOM + KMB_MEM_BASE, rounded up to the next
 *    "nice" size, 2^k or 3 * 2^(k-1) bytes (64M, 96M, 128M, 192M, 256M, 384M...), at most
 *    1.5x the need, and never below the default the command had (floor): a trace that fits
 *    the default replays in the memory every earlier result used.
 * 4. Refusal.  A --mem below W, the peak live requested bytes of the allocations that
 *    may not fail (those without M_NOWAIT; plan order, so the peak of one copy), cannot
 *    hold one copy of the trace on any backend: an M_WAITOK request would sleep for ever
 *    (a deadlock).  Refused before any replay, with both numbers.  M_NOWAIT allocations
 *    may fail, and a workload made to exhaust memory (exhaust) is all about them, so they
 *    do not count here.  Above W it is the user's experiment.
 */
#include "engine.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <kmbench/kmalloc.h>

#define MIB ((uint64_t)1 << 20)

/* The smallest 2^k or 3 * 2^(k-1) at or above n (n >= 1 MiB). */
static uint64_t nice_size(uint64_t n)
{
	uint64_t p = MIB;

	while (p < n && p < ((uint64_t)1 << 62)) {
		if (p + p / 2 >= n)
			return p + p / 2;
		p *= 2;
	}
	return p;
}

uint64_t kmb_mem_auto(uint64_t peak_live, unsigned copies, uint64_t floor)
{
	uint64_t k = copies ? copies : 1, need;

	if (peak_live > (UINT64_MAX - KMB_MEM_BASE) / KMB_MEM_HEADROOM / k)
		return UINT64_MAX;
	need = nice_size(k * peak_live * KMB_MEM_HEADROOM + KMB_MEM_BASE);
	return need > floor ? need : floor;
}

void kmb_mem_auto_rule(char *buf, size_t len, uint64_t peak_live, unsigned copies, uint64_t floor,
                       uint64_t mem)
{
	snprintf(buf, len,
	         "%" PRIu64 " MiB: peak live %.1f MiB x %u cop%s x headroom %d + %" PRIu64
	         " MiB, rounded up to 2^k or 3*2^(k-1), at least %" PRIu64 " MiB",
	         mem / MIB, (double)peak_live / (double)MIB, copies ? copies : 1,
	         copies > 1 ? "ies" : "y", KMB_MEM_HEADROOM, KMB_MEM_BASE / MIB, floor / MIB);
}

/* W of 4.: the peak of live requested bytes of the plan's allocations without M_NOWAIT. */
static int peak_waitok(const struct kmb_plan *p, uint64_t *peak)
{
	uint64_t *held = calloc(p->nslots ? p->nslots : 1, sizeof(*held)), live = 0;

	*peak = 0;
	if (held == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < p->nop; i++) {
		const struct kmb_op *op = &p->op[i];

		if (op->kind == KMB_OP_KMALLOC || op->kind == KMB_OP_CACHE_ALLOC) {
			held[op->slot] = (op->flags & M_NOWAIT) ? 0 : op->size;
			live += held[op->slot];
			*peak = live > *peak ? live : *peak;
		} else if (op->kind == KMB_OP_KFREE || op->kind == KMB_OP_CACHE_FREE) {
			live -= held[op->slot];
			held[op->slot] = 0;
		}
	}
	free(held);
	return 0;
}

int kmb_mem_check(uint64_t mem, const struct kmb_plan *p, uint64_t peak_live, char *err,
                  size_t errlen)
{
	uint64_t w;

	if (peak_waitok(p, &w) != 0 || mem >= w)
		return 0;
	snprintf(err, errlen,
	         "--mem %" PRIu64 " MiB cannot hold one copy of the trace: the peak live requested "
	         "bytes of its allocations that may not fail (no M_NOWAIT) are %" PRIu64
	         " (%.1f MiB); without --mem it is sized from the trace (%" PRIu64
	         " MiB for one copy)",
	         mem / MIB, w, (double)w / (double)MIB, kmb_mem_auto(peak_live, 1, 0) / MIB);
	return -ENOMEM;
}
