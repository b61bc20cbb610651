/*
 * core/clock.c - calibrating kmb_cycles() against the OS clock (theory in clock.h).
 *
 * One reading pairs a cycle count with an OS time: now_ns, cycles, now_ns, keeping the
 * tightest of KMB_CAL_TRIES brackets and its midpoint, so a preemption or a slow vDSO
 * call does not skew it.  Two readings KMB_CAL_NS apart give ns/cycle; with brackets
 * of ~50 ns the error is ~100 ns / 20 ms = 5e-6, far below what latency reporting needs.
 *
 * Overhead: the median over KMB_OVH_SAMPLES of (kmb_cycles_end() - kmb_cycles()) back
 * to back.  The median ignores the interrupts and SMIs that land in a few samples.
 */
#include "core/clock.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "core/internal.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#define KMB_CAL_NS      20000000u /* 20 ms */
#define KMB_CAL_TRIES   7
#define KMB_OVH_SAMPLES 4001 /* odd: the median is one sample */

uint64_t kmb__clock_mult = (uint64_t)1 << KMB_CLOCK_SHIFT;
static double clock_ns_per_cycle = 1.0;
static double clock_overhead_ns;

struct clock_pair {
	uint64_t ns, cycles;
};

static struct clock_pair clock_read_pair(void)
{
	struct clock_pair best = {0, 0};
	uint64_t best_width = UINT64_MAX;

	for (int i = 0; i < KMB_CAL_TRIES; i++) {
		uint64_t t0 = kmb__os_now_ns();
		uint64_t c = kmb_cycles();
		uint64_t t1 = kmb__os_now_ns();

		if (t1 - t0 < best_width) {
			best_width = t1 - t0;
			best.ns = t0 + (t1 - t0) / 2;
			best.cycles = c;
		}
	}
	return best;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t clock_median_pair_cycles(void)
{
	static uint64_t d[KMB_OVH_SAMPLES];

	for (int i = 0; i < KMB_OVH_SAMPLES; i++) {
		uint64_t c0 = kmb_cycles();
		uint64_t c1 = kmb_cycles_end();

		d[i] = c1 - c0;
	}
	qsort(d, KMB_OVH_SAMPLES, sizeof(d[0]), cmp_u64);
	return d[KMB_OVH_SAMPLES / 2];
}

int kmb_clock_calibrate(void)
{
	struct clock_pair a = clock_read_pair(), b;

	do
		b = clock_read_pair();
	while (b.ns - a.ns < KMB_CAL_NS);
	if (b.cycles <= a.cycles)
		return -EIO;
	clock_ns_per_cycle = (double)(b.ns - a.ns) / (double)(b.cycles - a.cycles);
	kmb__clock_mult = (uint64_t)llround(ldexp(clock_ns_per_cycle, KMB_CLOCK_SHIFT));
	clock_overhead_ns = (double)clock_median_pair_cycles() * clock_ns_per_cycle;
	return 0;
}

double kmb_clock_ns_per_cycle(void)
{
	return clock_ns_per_cycle;
}

double kmb_clock_overhead_ns(void)
{
	return clock_overhead_ns;
}

bool kmb_clock_invariant(void)
{
#if defined(__x86_64__)
	unsigned eax, ebx, ecx, edx;

	if (!__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx))
		return false;
	return (edx >> 8) & 1;
#elif defined(__aarch64__)
	return true; /* the generic timer runs at a fixed frequency by architecture */
#else
	return true; /* CLOCK_MONOTONIC */
#endif
}
