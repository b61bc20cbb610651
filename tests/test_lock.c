/*
 * tests/test_lock.c - kmbench's kernel locks (include/kmbench/lock.h, core/lock.c): the
 * counters of uncontended and contended acquisitions, the per-thread held list and its
 * panics, an adaptive mutex that blocks at once when its holder sleeps, the declared
 * statistics rows, and threaded stresses of both disciplines (mutual exclusion checked
 * with a plain counter, which TSan would also report if a handoff lacked an edge).
 */
#include "kmb_test.h"

#include <pthread.h>
#include <sched.h>

#include <kmbench/backend.h>
#include <kmbench/lock.h>

#include "core/internal.h"

static struct kmb_lock_stats stats_of(const struct kmb_lock *l)
{
	struct kmb_lock_stats s = {0};

	kmb_lock_stats_add(l, &s);
	return s;
}

KMB_TEST(lock_uncontended_counts)
{
	struct kmb_lock m = KMB_LOCK_INITIALIZER, s;

	kmb_lock_init(&s);
	for (int i = 0; i < 3; i++) {
		kmb_mutex_enter(&m);
		ASSERT_EQ_U(m.word, 1);
		kmb_mutex_exit(&m);
	}
	ASSERT_TRUE(kmb_mutex_tryenter(&m));
	ASSERT_FALSE(kmb_mutex_tryenter(&m)); /* a failed trylock counts nothing */
	kmb_mutex_exit(&m);
	kmb_spin_lock(&s);
	ASSERT_FALSE(kmb_spin_trylock(&s));
	kmb_spin_unlock(&s);
	ASSERT_EQ_U(m.word, 0);
	ASSERT_EQ_U(s.word, 0);
	ASSERT_EQ_U(stats_of(&m).acquisitions, 4);
	ASSERT_EQ_U(stats_of(&m).contended, 0);
	ASSERT_EQ_U(stats_of(&s).acquisitions, 1);
	ASSERT_EQ_U(stats_of(&s).contended + stats_of(&s).spins + stats_of(&s).blocks, 0);
	kmb_lock_destroy(&m);
	kmb_lock_destroy(&s);
}

KMB_TEST(lock_held_list)
{
	struct kmb_lock a = KMB_LOCK_INITIALIZER, b = KMB_LOCK_INITIALIZER,
	                c = KMB_LOCK_INITIALIZER;

	ASSERT_EQ_U(kmb_lock_self.nheld, 0);
	kmb_mutex_enter(&a);
	kmb_spin_lock(&b);
	kmb_mutex_enter(&c);
	ASSERT_EQ_U(kmb_lock_self.nheld, 3);
	ASSERT_EQ_PTR(kmb_lock_self.held[0], &a);
	ASSERT_EQ_PTR(kmb_lock_self.held[2], &c);
	kmb_mutex_exit(&a); /* out of order: c moves into a's slot */
	ASSERT_EQ_U(kmb_lock_self.nheld, 2);
	ASSERT_EQ_PTR(kmb_lock_self.held[0], &c);
	ASSERT_EQ_PTR(kmb_lock_self.held[1], &b);
	ASSERT_FALSE(kmb_lock_owned(&a));
	ASSERT_TRUE(kmb_lock_owned(&b) && kmb_lock_owned(&c));
	kmb_spin_unlock(&b);
	kmb_mutex_exit(&c);
	ASSERT_EQ_U(kmb_lock_self.nheld, 0);
}

KMB_TEST(lock_misuse_panics)
{
	struct kmb_lock l[KMB_LOCK_HELD_MAX + 1];
	struct kmb_lock other = KMB_LOCK_INITIALIZER;

	for (int i = 0; i <= KMB_LOCK_HELD_MAX; i++)
		kmb_lock_init(&l[i]);
	for (int i = 0; i < KMB_LOCK_HELD_MAX; i++)
		kmb_mutex_enter(&l[i]);
	EXPECT_PANIC(KMB_PANIC_USAGE, kmb_mutex_enter(&l[KMB_LOCK_HELD_MAX]));
	ASSERT_CONTAINS(kmb_test_panic_msg, "more than 16 locks held");
	EXPECT_PANIC(KMB_PANIC_USAGE, kmb_lock_destroy(&l[0]));
	EXPECT_PANIC(KMB_PANIC_USAGE, kmb_mutex_exit(&other));
	ASSERT_CONTAINS(kmb_test_panic_msg, "does not hold it");
}

/* ---- an adaptive mutex whose holder sleeps: the waiter blocks without spinning ------- */

struct contend {
	struct kmb_lock *l;
	bool spin;
	int iters;
	uint64_t *counter;
};

static void *enter_once(void *arg)
{
	struct contend *c = arg;

	kmb_mutex_enter(c->l);
	(*c->counter)++;
	kmb_mutex_exit(c->l);
	return NULL;
}

KMB_TEST(mutex_blocks_when_holder_sleeps)
{
	struct kmb_lock l = KMB_LOCK_INITIALIZER;
	uint64_t counter = 0;
	struct contend c = {&l, false, 1, &counter};
	pthread_t t;

	kmb_mutex_enter(&l);
	kmb__lock_sleep_begin(); /* as core/wait.c does before a sleep */
	ASSERT_EQ_U(l.owner_off, 1);
	ASSERT_EQ_I(pthread_create(&t, NULL, enter_once, &c), 0);
	while (__atomic_load_n(&l.word, __ATOMIC_ACQUIRE) != 2) /* the waiter went to sleep */
		sched_yield();
	kmb__lock_sleep_end();
	ASSERT_EQ_U(l.owner_off, 0);
	counter = 10;
	kmb_mutex_exit(&l); /* the word was 2: wakes the waiter */
	ASSERT_EQ_I(pthread_join(t, NULL), 0);
	ASSERT_EQ_U(counter, 11);
	ASSERT_EQ_U(stats_of(&l).acquisitions, 2);
	ASSERT_EQ_U(stats_of(&l).contended, 1);
	ASSERT_EQ_U(stats_of(&l).spins, 0); /* it saw owner_off and never spun */
	ASSERT_CMP_U(stats_of(&l).blocks, >=, 1);
	ASSERT_CMP_U(stats_of(&l).block_ns, >, 0);
}

/* ---- stresses: mutual exclusion and exact counts, both disciplines ------------------- */

#define STRESS_THREADS 4
#define STRESS_ITERS   200000

static void *hammer(void *arg)
{
	struct contend *c = arg;

	for (int i = 0; i < c->iters; i++) {
		if (c->spin)
			kmb_spin_lock(c->l);
		else
			kmb_mutex_enter(c->l);
		(*c->counter)++; /* plain: a broken lock loses increments */
		if (c->spin)
			kmb_spin_unlock(c->l);
		else
			kmb_mutex_exit(c->l);
	}
	ASSERT_EQ_U(kmb_lock_self.nheld, 0);
	return NULL;
}

static void stress(bool spin)
{
	struct kmb_lock l = KMB_LOCK_INITIALIZER;
	uint64_t counter = 0;
	struct contend c = {&l, spin, STRESS_ITERS, &counter};
	pthread_t t[STRESS_THREADS];
	struct kmb_lock_stats s;

	for (int i = 0; i < STRESS_THREADS; i++)
		ASSERT_EQ_I(pthread_create(&t[i], NULL, hammer, &c), 0);
	for (int i = 0; i < STRESS_THREADS; i++)
		ASSERT_EQ_I(pthread_join(t[i], NULL), 0);
	s = stats_of(&l);
	ASSERT_EQ_U(counter, (uint64_t)STRESS_THREADS * STRESS_ITERS);
	ASSERT_EQ_U(s.acquisitions, counter);
	ASSERT_CMP_U(s.contended, <=, s.acquisitions);
	ASSERT_EQ_U(l.word, 0);
	printf("%s: %" PRIu64 " acquisitions, %" PRIu64 " contended, %" PRIu64 " spins, %" PRIu64
	       " blocks, %" PRIu64 " ns asleep\n",
	       spin ? "spinlock" : "mutex", s.acquisitions, s.contended, s.spins, s.blocks,
	       s.block_ns);
}

KMB_TEST(stress_mutex)
{
	stress(false);
}

KMB_TEST(stress_spinlock)
{
	stress(true);
}

/* Two levels, as buddy's pcp lock (trylock) over its zone lock, and vmem's depot lock
 * over its arena lock: the inner one is taken by every thread, the outer by trylock. */
struct nested {
	struct kmb_lock outer, inner;
	uint64_t outer_count, inner_count, busy;
};

static void *nest(void *arg)
{
	struct nested *n = arg;

	for (int i = 0; i < STRESS_ITERS / 4; i++) {
		if (kmb_mutex_tryenter(&n->outer)) {
			n->outer_count++;
			kmb_mutex_enter(&n->inner);
			n->inner_count++;
			kmb_mutex_exit(&n->inner);
			kmb_mutex_exit(&n->outer);
		} else {
			kmb_mutex_enter(&n->inner);
			n->inner_count++;
			n->busy++;
			kmb_mutex_exit(&n->inner);
		}
	}
	return NULL;
}

KMB_TEST(stress_nested_trylock)
{
	static struct nested n;
	pthread_t t[STRESS_THREADS];

	kmb_lock_init(&n.outer);
	kmb_lock_init(&n.inner);
	for (int i = 0; i < STRESS_THREADS; i++)
		ASSERT_EQ_I(pthread_create(&t[i], NULL, nest, &n), 0);
	for (int i = 0; i < STRESS_THREADS; i++)
		ASSERT_EQ_I(pthread_join(t[i], NULL), 0);
	ASSERT_EQ_U(n.inner_count, (uint64_t)STRESS_THREADS * (STRESS_ITERS / 4));
	ASSERT_EQ_U(n.outer_count + n.busy, n.inner_count);
	ASSERT_EQ_U(stats_of(&n.outer).acquisitions, n.outer_count);
}

/* ---- declared statistics ------------------------------------------------------------- */

struct ctr {
	uint64_t before;
	struct kmb_lock_stats zone;
};

static const struct kmb_stat_decl table[] = {
        KMB_STAT_DECL(struct ctr, before, "events", "a counter before the lock's"),
        KMB_LOCK_STAT_DECLS(struct ctr, zone, "zone", "the zone locks"),
};

KMB_TEST(lock_stat_rows)
{
	struct kmb_lock a = KMB_LOCK_INITIALIZER, b = KMB_LOCK_INITIALIZER;
	struct ctr c = {7, {0}};
	struct kmb_stat out[8];
	size_t n;

	kmb_mutex_enter(&a);
	kmb_mutex_exit(&a);
	kmb_spin_lock(&b);
	kmb_spin_unlock(&b);
	kmb_spin_lock(&b);
	kmb_spin_unlock(&b);
	kmb_lock_stats_add(&a, &c.zone);
	kmb_lock_stats_add(&b, &c.zone);
	n = kmb_stats_fill(table, sizeof(table) / sizeof(table[0]), &c, out, 8);
	ASSERT_EQ_U(n, 6);
	ASSERT_EQ_STR(out[0].name, "before");
	ASSERT_EQ_U(out[0].value, 7);
	ASSERT_EQ_STR(out[1].name, "zone.lock_acquisitions");
	ASSERT_EQ_U(out[1].value, 3);
	ASSERT_EQ_STR(out[2].name, "zone.lock_contended");
	ASSERT_EQ_STR(out[4].name, "zone.lock_blocks");
	ASSERT_EQ_STR(out[5].name, "zone.lock_block_ns");
	ASSERT_EQ_STR(out[5].unit, "ns");
	ASSERT_CONTAINS(out[2].desc, "the zone locks that found it held");
}

KMB_TEST_MAIN()
