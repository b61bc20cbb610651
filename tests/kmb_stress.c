/*
 * tests/kmb_stress.c - the booted cross-CPU stress (kmb_stress.h says what it does).
 */
#include "kmb_stress.h"

#include <kmbench/kmbench.h>

#include "core/internal.h"
#include "kmb_test.h"

uint32_t kmb_stress_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

void kmb_stress_boot(const char *spec, int invariants)
{
	struct kmb_config cfg = {.backend = spec,
	                         .mem_bytes = (size_t)32 << 20,
	                         .nodes = 2,
	                         .ncpus = KMB_STRESS_THREADS,
	                         .invariants = invariants};

	ASSERT_EQ_I(kmb_boot(&cfg), 0);
}

void kmb_stress_drain(void)
{
	kmb__sys.be.ops->drain(&kmb__sys.be);
}

static size_t default_size(uint32_t *rng)
{
	size_t cap = kmb_stress_rand(rng) % 8 ? 1024 : 40000;

	return 1 + kmb_stress_rand(rng) % cap;
}

static void fill(unsigned char *p, size_t len)
{
	p[0] = p[len - 1] = (unsigned char)(len * 31 + 7);
}

static void check_and_free(struct malloc_type *type, unsigned char *p, size_t len)
{
	if (p[0] != (unsigned char)(len * 31 + 7) || p[len - 1] != p[0])
		kmb_test_fail(__FILE__, __LINE__, "block %p (%zu bytes) overwritten", p, len);
	kfree(p, type);
}

/* One step on place i: swap, free or allocate. */
static void step(struct kmb_stress *s, unsigned char **mine, size_t *len, uint32_t *rng)
{
	if (*mine != NULL && kmb_stress_rand(rng) % 4 == 0) {
		void **slot = &s->slots[kmb_stress_rand(rng) % KMB_STRESS_SLOTS];
		unsigned char *old = __atomic_exchange_n(slot, *mine, __ATOMIC_ACQ_REL);

		if (old != NULL)
			kfree(old, s->type);
		*mine = NULL;
	} else if (*mine != NULL) {
		check_and_free(s->type, *mine, *len);
		*mine = NULL;
	} else {
		*len = s->size ? s->size(rng) : default_size(rng);
		*mine = kmalloc(*len, s->type, M_NOWAIT);
		if (*mine != NULL)
			fill(*mine, *len);
	}
}

static void *stress_thread(void *arg)
{
	struct kmb__stress_thread *a = arg;
	struct kmb_stress *s = a->s;
	unsigned char *mine[64] = {NULL};
	size_t len[64] = {0};
	uint32_t rng = a->seed;

	ASSERT_EQ_I(kmb_thread_attach("stress", a->cpu), 0);
	for (int it = 0; it < s->iters; it++) {
		unsigned i = kmb_stress_rand(&rng) % 64;

		step(s, &mine[i], &len[i], &rng);
		if (a->cpu == 3 && it % 1000 == 0 && s->hook)
			s->hook();
	}
	for (int i = 0; i < 64; i++)
		if (mine[i] != NULL)
			check_and_free(s->type, mine[i], len[i]);
	kmb_thread_detach();
	return NULL;
}

void kmb_stress_start(struct kmb_stress *s, unsigned n)
{
	ASSERT_CMP_U(n, <=, KMB_STRESS_THREADS);
	s->n = n;
	for (unsigned i = 0; i < n; i++) {
		s->arg[i] = (struct kmb__stress_thread){s, i, 0x2545f491u * (i + 1)};
		ASSERT_EQ_I(pthread_create(&s->th[i], NULL, stress_thread, &s->arg[i]), 0);
	}
}

void kmb_stress_join(struct kmb_stress *s)
{
	for (unsigned i = 0; i < s->n; i++)
		pthread_join(s->th[i], NULL);
	for (int i = 0; i < KMB_STRESS_SLOTS; i++)
		if (s->slots[i] != NULL)
			kfree(s->slots[i], s->type);
	s->n = 0;
}
