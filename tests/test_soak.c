/*
 * tests/test_soak.c - a soak test, run once per backend spec (label "stress").
 *
 * More threads than cores (KMB_SOAK_THREADS, default 4), random sizes (mostly small, a
 * tail up to several pages) and random lifetimes, a third of the frees done by another
 * thread, a mix of M_WAITOK, M_NOWAIT, M_USE_RESERVE, M_NOFAIL and M_ZERO, kmem_cache
 * objects beside kmalloc, page sources failing at random (fault injection) and INVARIANTS
 * on, for KMB_SOAK_SECONDS (default 3; set it higher for the long version).  Memory is
 * kept near exhaustion without a deadlock by construction: each thread keeps its live
 * requested bytes under a budget whose sum is a third of memory (a power-of-two design
 * can double it, per-CPU caches hold some more), and the simulated memory is small.
 * At the end: every object freed, the per-type statistics balance to zero, no deadlock,
 * and shutdown finds every page back.
 */
#include "kmb_test.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <kmbench/kmbench.h>

MALLOC_DEFINE(M_SOAK, "soak", "soak test objects");

#define MEM   ((size_t)16 << 20)
#define SLOTS 1024
#define XQ    512

struct xq {
	pthread_mutex_t lock;
	void *obj[XQ];
	bool cache[XQ];
	size_t n;
};

struct soaker {
	unsigned idx, nthreads;
	uint64_t seed, ops, nowait_null;
	size_t live, budget;
	double until;
	struct xq *queues; /* one per thread: objects for it to free */
	struct kmem_cache *cache;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t pick_size(uint64_t *s)
{
	uint64_t r = rnd(s) % 100;

	if (r < 70)
		return 1 + rnd(s) % 256;
	if (r < 95)
		return 1 + rnd(s) % 4096;
	return 4096 + rnd(s) % (4 * 4096);
}

static int pick_flags(uint64_t *s)
{
	static const int mix[] = {
	        M_WAITOK,           M_WAITOK, M_WAITOK | M_ZERO, M_NOWAIT, M_NOWAIT | M_USE_RESERVE,
	        M_WAITOK | M_NOFAIL};

	return mix[rnd(s) % (sizeof(mix) / sizeof(mix[0]))];
}

static void drain_queue(struct soaker *t)
{
	struct xq *q = &t->queues[t->idx];
	void *obj[XQ];
	bool cache[XQ];
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->n;
	memcpy(obj, q->obj, n * sizeof(obj[0]));
	memcpy(cache, q->cache, n * sizeof(cache[0]));
	q->n = 0;
	pthread_mutex_unlock(&q->lock);
	for (size_t i = 0; i < n; i++)
		cache[i] ? kmem_cache_free(t->cache, obj[i]) : kfree(obj[i], M_SOAK);
}

/* Hand an object to another thread to free; false if its queue is full. */
static bool hand_over(struct soaker *t, void *p, bool cache)
{
	struct xq *q = &t->queues[(t->idx + 1 + rnd(&t->seed) % (t->nthreads - 1)) % t->nthreads];
	bool ok;

	pthread_mutex_lock(&q->lock);
	ok = q->n < XQ;
	if (ok) {
		q->obj[q->n] = p;
		q->cache[q->n++] = cache;
	}
	pthread_mutex_unlock(&q->lock);
	return ok;
}

struct slot {
	void *p;
	size_t size;
	bool cache;
};

static void release(struct soaker *t, struct slot *s)
{
	t->live -= s->size;
	if (!(rnd(&t->seed) % 3 == 0 && hand_over(t, s->p, s->cache)))
		s->cache ? kmem_cache_free(t->cache, s->p) : kfree(s->p, M_SOAK);
	s->p = NULL;
}

static void fill(struct soaker *t, struct slot *s)
{
	bool cache = rnd(&t->seed) % 4 == 0;
	size_t size = cache ? kmem_cache_size(t->cache) : pick_size(&t->seed);
	int flags = pick_flags(&t->seed);

	if (t->live + size > t->budget)
		return;
	s->p = cache ? kmem_cache_alloc(t->cache, flags) : kmalloc(size, M_SOAK, flags);
	if (s->p == NULL) {
		ASSERT_TRUE(flags & M_NOWAIT);
		t->nowait_null++;
		return;
	}
	memset(s->p, 0x3c, size);
	s->size = size;
	s->cache = cache;
	t->live += size;
}

static void *soak_main(void *arg)
{
	struct soaker *t = arg;
	static _Thread_local struct slot slots[SLOTS];
	char name[16];

	snprintf(name, sizeof(name), "soak-%u", t->idx);
	ASSERT_EQ_I(kmb_thread_attach(name, t->idx), 0);
	while (now() < t->until) {
		for (int k = 0; k < 256; k++, t->ops++) {
			struct slot *s = &slots[rnd(&t->seed) % SLOTS];

			s->p ? release(t, s) : fill(t, s);
		}
		drain_queue(t);
	}
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].p)
			release(t, &slots[i]);
	kmb_thread_detach();
	return NULL;
}

static unsigned env_uint(const char *name, unsigned dflt)
{
	const char *v = getenv(name);

	return v && atoi(v) > 0 ? (unsigned)atoi(v) : dflt;
}

KMB_TEST(soak)
{
	unsigned n = env_uint("KMB_SOAK_THREADS", 4);
	double secs = env_uint("KMB_SOAK_SECONDS", 3);
	struct kmb_config cfg = {.backend = kmb_test_arg ? kmb_test_arg : "buddy",
	                         .mem_bytes = MEM,
	                         .nodes = 1,
	                         .ncpus = n,
	                         .invariants = KMB_INVARIANTS_ON,
	                         .fault_mtbf = 64,
	                         .seed = 7};
	struct soaker t[KMB_MAX_CPUS];
	struct xq q[KMB_MAX_CPUS];
	pthread_t th[KMB_MAX_CPUS];
	struct kmb_type_stats s;
	struct kmb_memstat ms;
	uint64_t ops = 0;

	ASSERT_TRUE(n >= 2 && n <= KMB_MAX_CPUS);
	ASSERT_EQ_I(kmb_boot(&cfg), 0);
	for (unsigned i = 0; i < n; i++) {
		q[i] = (struct xq){.lock = PTHREAD_MUTEX_INITIALIZER};
		t[i] = (struct soaker){.idx = i,
		                       .nthreads = n,
		                       .seed = 0x9e3779b97f4a7c15ull * (i + 1),
		                       .budget = MEM / 3 / n,
		                       .until = now() + secs,
		                       .queues = q};
	}
	t[0].cache = kmem_cache_create("soak_obj", 120, 8, 0);
	for (unsigned i = 1; i < n; i++)
		t[i].cache = t[0].cache;
	for (unsigned i = 0; i < n; i++)
		ASSERT_EQ_I(pthread_create(&th[i], NULL, soak_main, &t[i]), 0);
	for (unsigned i = 0; i < n; i++)
		ASSERT_EQ_I(pthread_join(th[i], NULL), 0);
	for (unsigned i = 0; i < n; i++) { /* handed over after its owner's last pass */
		t[i].idx = i;
		drain_queue(&t[i]);
		ops += t[i].ops;
	}
	kmb_malloc_type_stats(M_SOAK, &s);
	kmb_memstat(&ms);
	ASSERT_EQ_I(s.inuse, 0);
	ASSERT_EQ_I(s.memuse, 0);
	ASSERT_EQ_U(ms.deadlocks, 0);
	ASSERT_CMP_U(ms.injected_faults, >, 0);
	fprintf(stderr,
	        "soak %s: %u threads, %" PRIu64 " operations, %" PRIu64 " injected faults, %" PRIu64
	        " retries, %" PRIu64 " sleeps\n",
	        cfg.backend, n, ops, ms.injected_faults, ms.nofail_retries, ms.sleeps);
	kmem_cache_destroy(t[0].cache);
	ASSERT_EQ_I(kmb_shutdown(), 0); /* every page back */
}

KMB_TEST_MAIN()
