/*
 * core/clock.h - a cycle counter for per-operation latency.
 *
 * kmb_cycles() reads the cheapest monotonic counter the CPU has: the TSC on x86-64,
 * CNTVCT_EL0 on aarch64, CLOCK_MONOTONIC (in ns) elsewhere.  kmb_clock_calibrate()
 * measures ns per cycle against kmb__os_now_ns() over ~20 ms and stores it in 32.32
 * fixed point, so kmb_cycles_to_ns() is one 64x64->128 multiply and a shift:
 *
 *     ns = (cycles * mult) >> 32,   mult = round(ns_per_cycle * 2^32).
 *
 * Precision: a 3 GHz TSC has ns_per_cycle = 0.333, mult ~ 1.4e9, so the rounding of
 * mult is below 1 part in 1e9; the 128-bit product cannot overflow for any uint64_t
 * cycle count as long as ns_per_cycle < 2^32.
 *
 * Fencing (x86-64): RDTSC is not serializing, so out of order it can execute before the
 * instructions it is meant to follow have finished (the end stamp comes early) or after
 * later ones have started (the start stamp comes late).  For operations of tens of ns,
 * as kmalloc/kfree are, that skew is the same size as the thing measured.  So the read
 * is bracketed by LFENCE: the first waits for all earlier instructions to complete
 * locally, the second keeps later ones from starting before the read (Intel's "How to
 * Benchmark Code Execution Times" uses CPUID, which costs ~100+ cycles and traps in
 * VMs; LFENCE is dispatch-serializing on Intel and, with the Spectre-era MSR set by
 * Linux, on AMD).  The fences' cost is part of kmb_clock_overhead_ns(), which the
 * replay reports so readers can subtract it.
 */
#ifndef KMB_CORE_CLOCK_H
#define KMB_CORE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#else
#include <time.h>
#endif

/* Fixed-point ns per cycle, 32 fractional bits; set by kmb_clock_calibrate(). */
extern uint64_t kmb__clock_mult;
#define KMB_CLOCK_SHIFT 32

static inline uint64_t kmb_cycles(void)
{
#if defined(__x86_64__)
	uint64_t c;

	_mm_lfence();
	c = __rdtsc();
	_mm_lfence();
	return c;
#elif defined(__aarch64__)
	uint64_t c;

	__asm__ __volatile__("isb\n\tmrs %0, cntvct_el0" : "=r"(c) : : "memory");
	return c;
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

/*
 * The end stamp of a timed interval: only the leading fence is needed (the operation has
 * completed before the read); what comes after may start early without lengthening the
 * interval.  One LFENCE (~10 ns in a KVM guest) cheaper than kmb_cycles().
 */
static inline uint64_t kmb_cycles_end(void)
{
#if defined(__x86_64__)
	_mm_lfence();
	return __rdtsc();
#else
	return kmb_cycles();
#endif
}

/* A spin-wait's pause: lets the sibling hyperthread run and saves power while polling. */
static inline void kmb_cpu_relax(void)
{
#if defined(__x86_64__)
	_mm_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static inline uint64_t kmb_cycles_to_ns(uint64_t c)
{
#if defined(__SIZEOF_INT128__)
	__extension__ typedef unsigned __int128 kmb__u128;

	return (uint64_t)(((kmb__u128)c * kmb__clock_mult) >> KMB_CLOCK_SHIFT);
#else
	/* c * m >> 32 = hi*m + lo*mhi + (lo*mlo >> 32), each term fitting in 64 bits. */
	uint64_t hi = c >> 32, lo = c & 0xffffffffu;
	uint64_t mhi = kmb__clock_mult >> 32, mlo = kmb__clock_mult & 0xffffffffu;

	return hi * kmb__clock_mult + lo * mhi + ((lo * mlo) >> 32);
#endif
}

/*
 * Measures ns per cycle (~20 ms busy wait) and the timing overhead.  Call once before
 * kmb_cycles_to_ns(); until then the conversion assumes 1 ns per cycle.  Returns 0, or
 * -EIO if the counter does not advance with the OS clock.
 */
int kmb_clock_calibrate(void);
double kmb_clock_ns_per_cycle(void);
/* Median cost in ns of one timed empty interval (kmb_cycles() then kmb_cycles_end()). */
double kmb_clock_overhead_ns(void);
/*
 * Whether the counter runs at a constant rate through P- and C-states (x86 CPUID
 * 0x80000007 EDX bit 8, what Linux shows as constant_tsc + nonstop_tsc).  Only noted:
 * false under many hypervisors that hide the bit although the TSC is fine.
 */
bool kmb_clock_invariant(void);

#endif /* KMB_CORE_CLOCK_H */
