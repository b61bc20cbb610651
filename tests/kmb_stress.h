/*
 * tests/kmb_stress.h - the booted cross-CPU stress of the backends' white-box tests.
 *
 * Threads attached as CPUs 0..n-1 each keep 64 blocks: on each step they allocate into an
 * empty place (M_NOWAIT, sizes from the test's own mix), free a block of their own after
 * checking its first and last byte, or - one time in four - swap it into one of 64 shared
 * slots and free whatever another thread left there, so that blocks are freed on other
 * CPUs (and nodes).  CPU 3 calls the test's hook every 1000 steps (a drain, statistics).
 * What the test checks afterwards (every page back, its backend's counters) is its own.
 */
#ifndef KMB_TESTS_KMB_STRESS_H
#define KMB_TESTS_KMB_STRESS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <kmbench/kmalloc.h>

#define KMB_STRESS_THREADS 4
#define KMB_STRESS_SLOTS   64

struct kmb_stress {
	struct malloc_type *type;
	int iters;                     /* steps per thread */
	size_t (*size)(uint32_t *rng); /* NULL: 1..1024 bytes, one in eight up to 40000 */
	void (*hook)(void);            /* CPU 3, every 1000 steps; may be NULL */
	/* the runner's */
	void *slots[KMB_STRESS_SLOTS];
	pthread_t th[KMB_STRESS_THREADS];
	struct kmb__stress_thread {
		struct kmb_stress *s;
		unsigned cpu;
		uint32_t seed;
	} arg[KMB_STRESS_THREADS];
	unsigned n;
};

uint32_t kmb_stress_rand(uint32_t *state); /* xorshift32 (Marsaglia 2003); state != 0 */
/* Boot spec on the stress's machine: 32 MiB over 2 NUMA nodes, KMB_STRESS_THREADS CPUs. */
void kmb_stress_boot(const char *spec, int invariants);
/* A hook that drains the booted backend's per-CPU caches (its drain op). */
void kmb_stress_drain(void);
/* Start n (<= KMB_STRESS_THREADS) threads on a booted system; they attach as CPUs 0..n-1. */
void kmb_stress_start(struct kmb_stress *s, unsigned n);
/* Join them and free what is left in the shared slots. */
void kmb_stress_join(struct kmb_stress *s);

#endif /* KMB_TESTS_KMB_STRESS_H */
