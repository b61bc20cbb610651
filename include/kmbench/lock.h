/*
 * kmbench/lock.h - kmbench's kernel locks: illumos's adaptive mutex and Linux's spinlock.
 *
 * Backends model kernel designs, and a kernel's locks are not user-space sleeping mutexes:
 * a contended pthread_mutex is a futex system call, which no kernel spinlock and no illumos
 * adaptive mutex pays while the holder is running.  struct kmb_lock is one lock word with
 * two disciplines (core/lock.c says how each waits, and why its spin is bounded):
 *
 *   kmb_mutex_enter / kmb_mutex_tryenter / kmb_mutex_exit
 *       illumos mutex_enter(9F) with an adaptive mutex: a waiter spins while the holder
 *       runs and sleeps (on a futex) when it does not.  For locks a kernel would make a
 *       kmutex_t: Bonwick's slab and vmem, 4.4BSD malloc's splimp() section.
 *   kmb_spin_lock / kmb_spin_trylock / kmb_spin_unlock
 *       Linux spin_lock(): a waiter never sleeps.  For locks a kernel would make a
 *       spinlock_t: the buddy allocator's zone->lock and pcp->lock.  A holder must not block.
 *
 * Use one discipline per lock.  Uncontended, either takes one atomic read-modify-write to
 * enter and one to leave a mutex (a spinlock leaves with a plain release store); the
 * counters of an uncontended acquisition are plain increments by the holder, on the lock's
 * own cache line, so they add no shared read-modify-write.
 *
 * Statistics (struct kmb_lock_stats) are written only by the holder and read racily (with
 * relaxed loads) by kmb_lock_stats_add(); a backend lists them in its declared statistics
 * with KMB_LOCK_STAT_DECLS(ctr_type, field, "zone", "the zone lock"), which produces the rows
 * "zone.lock_acquisitions", "zone.lock_contended", "zone.lock_spins", "zone.lock_blocks" and
 * "zone.lock_block_ns" from a struct kmb_lock_stats field of its counters struct.
 *
 * Locks held by a thread (the hook for context checks such as "sleeping allocation while
 * holding a lock"): kmb_lock_self.nheld is the number of kmb_locks the calling thread holds,
 * and kmb_lock_self.held[0 .. nheld) the locks, in the order taken (a release out of order
 * moves the last one into the hole).  Nesting deeper than KMB_LOCK_HELD_MAX, and releasing
 * a lock the thread does not hold, panic.  Reading them costs a thread-local load.
 */
#ifndef KMBENCH_LOCK_H
#define KMBENCH_LOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Counters of one lock (or of several, summed by kmb_lock_stats_add). */
struct kmb_lock_stats {
	uint64_t acquisitions; /* every acquisition, successful trylocks included */
	uint64_t contended;    /* acquisitions that found the lock held (failed trylocks: no) */
	uint64_t spins;        /* backoff rounds spent waiting */
	uint64_t blocks;       /* futex sleeps (mutex), sched_yield calls (spinlock) */
	uint64_t block_ns;     /* time spent in those */
};

struct kmb_lock {
	uint32_t word;      /* 0 free, 1 held, 2 held and a waiter may sleep on the futex */
	uint32_t owner_off; /* the holder is blocked in kmbench (core/lock.c 2.) */
	struct kmb_lock_stats st;
};

#define KMB_LOCK_INITIALIZER                                                                       \
	{                                                                                          \
		0, 0,                                                                              \
		{                                                                                  \
			0, 0, 0, 0, 0                                                              \
		}                                                                                  \
	}

/* Deepest nesting of kmb_locks by one thread (Linux lockdep: MAX_LOCK_DEPTH 48; the
 * designs here nest at most three). */
#define KMB_LOCK_HELD_MAX 16

struct kmb_lock_thread {
	unsigned nheld;
	struct kmb_lock *held[KMB_LOCK_HELD_MAX];
};
extern __thread struct kmb_lock_thread kmb_lock_self;

void kmb_lock_init(struct kmb_lock *l);
void kmb_lock_destroy(struct kmb_lock *l); /* panics when it is held */
/* Adds l's counters to *sum (a snapshot: read while other threads may hold l). */
void kmb_lock_stats_add(const struct kmb_lock *l, struct kmb_lock_stats *sum);

/* The slow paths, in core/lock.c. */
void kmb__mutex_enter_slow(struct kmb_lock *l);
void kmb__mutex_wake(struct kmb_lock *l);
void kmb__spin_lock_slow(struct kmb_lock *l);
__attribute__((noreturn)) void kmb__lock_depth_panic(struct kmb_lock *l);
void kmb__lock_unheld_slow(struct kmb_lock *l, unsigned n);

/* The holder's plain increment: a relaxed load and store, not a read-modify-write. */
#define KMB__LOCK_BUMP(p, n)                                                                       \
	__atomic_store_n((p), __atomic_load_n((p), __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)

static inline void kmb__lock_held(struct kmb_lock *l)
{
	unsigned n = kmb_lock_self.nheld;

	if (__builtin_expect(n >= KMB_LOCK_HELD_MAX, 0))
		kmb__lock_depth_panic(l);
	kmb_lock_self.held[n] = l;
	kmb_lock_self.nheld = n + 1;
	KMB__LOCK_BUMP(&l->st.acquisitions, 1);
}

static inline void kmb__lock_released(struct kmb_lock *l)
{
	unsigned n = kmb_lock_self.nheld - 1;

	if (__builtin_expect(n >= KMB_LOCK_HELD_MAX || kmb_lock_self.held[n] != l, 0)) {
		kmb__lock_unheld_slow(l, n);
		return;
	}
	kmb_lock_self.nheld = n;
}

/* ---- adaptive mutex ------------------------------------------------------------------ */

static inline bool kmb_mutex_tryenter(struct kmb_lock *l)
{
	uint32_t free_word = 0;

	if (!__atomic_compare_exchange_n(&l->word, &free_word, 1, false, __ATOMIC_ACQUIRE,
	                                 __ATOMIC_RELAXED))
		return false;
	kmb__lock_held(l);
	return true;
}

static inline void kmb_mutex_enter(struct kmb_lock *l)
{
	uint32_t free_word = 0;

	if (__builtin_expect(!__atomic_compare_exchange_n(&l->word, &free_word, 1, false,
	                                                  __ATOMIC_ACQUIRE, __ATOMIC_RELAXED),
	                     0))
		kmb__mutex_enter_slow(l);
	kmb__lock_held(l);
}

static inline void kmb_mutex_exit(struct kmb_lock *l)
{
	kmb__lock_released(l);
	if (__builtin_expect(__atomic_exchange_n(&l->word, 0, __ATOMIC_RELEASE) == 2, 0))
		kmb__mutex_wake(l);
}

/* ---- spinlock ------------------------------------------------------------------------ */

static inline bool kmb_spin_trylock(struct kmb_lock *l)
{
	if (__atomic_exchange_n(&l->word, 1, __ATOMIC_ACQUIRE) != 0)
		return false;
	kmb__lock_held(l);
	return true;
}

static inline void kmb_spin_lock(struct kmb_lock *l)
{
	if (__builtin_expect(__atomic_exchange_n(&l->word, 1, __ATOMIC_ACQUIRE) != 0, 0))
		kmb__spin_lock_slow(l);
	kmb__lock_held(l);
}

static inline void kmb_spin_unlock(struct kmb_lock *l)
{
	kmb__lock_released(l);
	__atomic_store_n(&l->word, 0, __ATOMIC_RELEASE);
}

/* Whether the calling thread holds l (for assertions). */
static inline bool kmb_lock_owned(const struct kmb_lock *l)
{
	for (unsigned i = 0; i < kmb_lock_self.nheld; i++)
		if (kmb_lock_self.held[i] == l)
			return true;
	return false;
}

/*
 * Declared statistics rows (struct kmb_stat_decl, kmbench/backend.h) for a
 * struct kmb_lock_stats field of a backend's counters struct: PREFIX and WHAT are string
 * literals ("zone", "the zone locks").
 */
#define KMB__LOCK_ROW(type, field, prefix, member, unit, desc)                                     \
	{                                                                                          \
		prefix ".lock_" #member, unit, desc, offsetof(type, field.member)                  \
	}
#define KMB_LOCK_STAT_DECLS(type, field, prefix, what)                                             \
	KMB__LOCK_ROW(type, field, prefix, acquisitions, "events", "acquisitions of " what),       \
	        KMB__LOCK_ROW(type, field, prefix, contended, "events",                            \
	                      "acquisitions of " what " that found it held"),                      \
	        KMB__LOCK_ROW(type, field, prefix, spins, "events",                                \
	                      "backoff rounds spent spinning for " what),                          \
	        KMB__LOCK_ROW(type, field, prefix, blocks, "events",                               \
	                      "sleeps on " what " (futex waits; sched_yield for a spinlock)"),     \
	        KMB__LOCK_ROW(type, field, prefix, block_ns, "ns", "time spent asleep on " what)

#ifdef __cplusplus
}
#endif
#endif /* KMBENCH_LOCK_H */
