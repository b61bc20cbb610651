/*
 * core/lock.c - the slow paths of kmbench's kernel locks (include/kmbench/lock.h).
 *
 * 1. The adaptive mutex (illumos usr/src/uts/common/os/mutex.c).  illumos's mutex_enter()
 *    is one compare-and-swap of the owner into the lock word; when it fails,
 *    mutex_vector_enter() spins, with exponential backoff, for as long as the owner is
 *    running on some CPU (it looks for the owner in every CPU's cpu_thread), and when the
 *    owner is not running it sets the waiters bit and blocks on a turnstile.  Hold times
 *    are assumed shorter than a block and wakeup, so spinning while the holder runs wins;
 *    a holder that is not running cannot release soon, so spinning on it only burns a CPU.
 *    lockstat records the spins and the time asleep of each contended acquisition.
 *
 *    Here the lock word is a futex word (Drepper, "Futexes are tricky", mutex 3):
 *    0 free, 1 held, 2 held and a waiter may be asleep.  Enter: CAS 0 -> 1.  Exit: exchange
 *    with 0; if the old value was 2, FUTEX_WAKE one waiter.  A waiter that blocks first
 *    exchanges the word with 2 (if it read 0 it owns the lock), then FUTEX_WAITs while the
 *    word is 2, and exchanges again when woken.  No wakeup is lost: the exchanges of the
 *    waiter and of the exit are read-modify-writes of one word, so one follows the other;
 *    if the exit comes second it reads 2 and wakes, if first the waiter reads 0 and owns
 *    the lock.  An acquisition that got the lock by exchanging in 2 leaves 2, so its exit
 *    may wake nobody: one spare system call, on the already contended path.  illumos wakes
 *    all waiters on exit (option 3 of its theory statement, to avoid preserving the waiters
 *    bit); the futex word keeps the "maybe waiters" state across wakeups, so waking one
 *    suffices.
 *
 * 2. "Is the holder running?"  A kernel reads it from the CPUs' current threads.  In user
 *    space only the holder can say, and only for what kmbench sees: a thread that blocks in
 *    kmbench - asleep on another kmb_lock, or in core/wait.c (M_WAITOK sleep, a replay
 *    dependency wait) - first sets owner_off in every lock it holds (kmb_lock_self.held)
 *    and clears it when it runs again (kmb__lock_sleep_begin/end).  A waiter spins while
 *    the word is held and owner_off is clear, and blocks at once when it is set.  Races
 *    with owner_off cost only a spin or an early sleep: correctness is the futex word's.
 *
 *    A holder preempted by the OS cannot be seen, so the spin is bounded in time:
 *    KMB_LOCK_SPIN_NS, derived at its definition.  After that the waiter blocks.
 *
 * 3. The spinlock (Linux spin_lock).  Enter: exchange with 1.  A waiter spins with the
 *    same backoff until the word reads 0 and its exchange wins; a Linux spinlock holder
 *    never sleeps, but here the OS may preempt it, so after KMB_LOCK_SPIN_NS of spinning
 *    the waiter yields its CPU (sched_yield, counted as a block) and spins again.  Exit: a
 *    release store of 0.
 *
 * 4. Backoff.  illumos doubles a delay loop from BACKOFF_BASE to BACKOFF_CAP between
 *    looks at the lock, to keep several spinners from hammering its cache line.  Here one
 *    round is `backoff` pause instructions, doubling from 1 to SPIN_BACKOFF_CAP.  A pause
 *    measured 28-30 ns on this project's test machine (Skylake-class, 140 cycles; older
 *    cores: ~10 cycles), so a full round is under 0.5 us: a waiter notices a release
 *    within a fraction of a typical critical section (a split chain: < 100 ns; a per-CPU
 *    batch: < 1 us) plus one round.
 *
 * 5. Counters (struct kmb_lock_stats) are written by the holder only: an uncontended
 *    acquisition adds one to acquisitions (inline, lock.h); a contended one also adds its
 *    spins, blocks and time asleep after it owns the lock.  None of this is a shared
 *    read-modify-write.  Time asleep costs two clock reads per block, on a path that
 *    already makes a system call.
 *
 * 6. TSan.  The futex system call is invisible to ThreadSanitizer, but every handoff goes
 *    through the lock word: the exit's release exchange or store is read by the next
 *    owner's acquire CAS or exchange, which is the happens-before edge TSan needs.
 */
#include "clock.h"
#include "internal.h"

#include <kmbench/lock.h>

#include <sched.h>
#include <string.h>

__thread struct kmb_lock_thread kmb_lock_self;

/*
 * How long a waiter spins on a holder it believes to be running (see 2.).  Spinning longer
 * than a block and wakeup would cost is the loss of the competitive argument (Karlin,
 * Li, Manasse, Owicki 1991: spin for the cost of a block, then block, is within 2x of
 * the optimum); spinning shorter than the longest critical section gives up on holders
 * that are about to release.  The longest critical sections here are a drain of a full
 * per-CPU page list (high = 640 pages at ~10 ns each: ~6.4 us) and a page-source call
 * under bucket's lock (~1 us); a futex block and wakeup measured ~25 us per handoff in
 * this project's KVM guest (a ping-pong of 20,000 FUTEX_WAIT/FUTEX_WAKE pairs: 50 us per
 * round trip) and 5-10 us is common on bare metal.  10 us lies between the two.
 */
#define KMB_LOCK_SPIN_NS 10000u
#define SPIN_BACKOFF_CAP 16u /* pauses per round at most (see 4.) */

void kmb_lock_init(struct kmb_lock *l)
{
	memset(l, 0, sizeof(*l));
}

void kmb_lock_destroy(struct kmb_lock *l)
{
	if (__atomic_load_n(&l->word, __ATOMIC_RELAXED) != 0)
		kmb_panic(KMB_PANIC_USAGE, l, "kmb_lock_destroy(%p): the lock is held", (void *)l);
}

void kmb_lock_stats_add(const struct kmb_lock *l, struct kmb_lock_stats *sum)
{
	sum->acquisitions += __atomic_load_n(&l->st.acquisitions, __ATOMIC_RELAXED);
	sum->contended += __atomic_load_n(&l->st.contended, __ATOMIC_RELAXED);
	sum->spins += __atomic_load_n(&l->st.spins, __ATOMIC_RELAXED);
	sum->blocks += __atomic_load_n(&l->st.blocks, __ATOMIC_RELAXED);
	sum->block_ns += __atomic_load_n(&l->st.block_ns, __ATOMIC_RELAXED);
}

/* ---- locks held by this thread (lock.h) ---------------------------------------------- */

void kmb__lock_depth_panic(struct kmb_lock *l)
{
	kmb_panic(KMB_PANIC_USAGE, l, "kmb_lock(%p): more than %d locks held by one thread",
	          (void *)l, KMB_LOCK_HELD_MAX);
}

/* A release that is not of the last lock taken: n is the new count. */
void kmb__lock_unheld_slow(struct kmb_lock *l, unsigned n)
{
	struct kmb_lock_thread *t = &kmb_lock_self;

	for (unsigned i = 0; n < KMB_LOCK_HELD_MAX && i < n; i++) {
		if (t->held[i] == l) {
			t->held[i] = t->held[n];
			t->nheld = n;
			return;
		}
	}
	kmb_panic(KMB_PANIC_USAGE, l, "kmb_lock(%p): released by a thread that does not hold it",
	          (void *)l);
}

/* See 2.: the holder publishes that it stops running, for each lock it holds. */
void kmb__lock_sleep_begin(void)
{
	for (unsigned i = 0; i < kmb_lock_self.nheld; i++)
		__atomic_store_n(&kmb_lock_self.held[i]->owner_off, 1, __ATOMIC_RELAXED);
}

void kmb__lock_sleep_end(void)
{
	for (unsigned i = 0; i < kmb_lock_self.nheld; i++)
		__atomic_store_n(&kmb_lock_self.held[i]->owner_off, 0, __ATOMIC_RELAXED);
}

/* ---- waiting ------------------------------------------------------------------------- */

struct spin {
	uint64_t deadline; /* 0 until the first round */
	unsigned backoff;
	uint64_t rounds;
};

/* One backoff round (see 4.); false once KMB_LOCK_SPIN_NS have passed. */
static bool spin_round(struct spin *s)
{
	uint64_t now = kmb__os_now_ns();

	if (s->deadline == 0)
		s->deadline = now + KMB_LOCK_SPIN_NS;
	else if (now >= s->deadline)
		return false;
	for (unsigned i = 0; i < s->backoff; i++)
		kmb_cpu_relax();
	if (s->backoff < SPIN_BACKOFF_CAP)
		s->backoff *= 2;
	s->rounds++;
	return true;
}

/* Called by the new holder: a contended acquisition's counters (see 5.). */
static void note_contended(struct kmb_lock *l, const struct spin *s, uint64_t blocks,
                           uint64_t block_ns)
{
	KMB__LOCK_BUMP(&l->st.contended, 1);
	KMB__LOCK_BUMP(&l->st.spins, s->rounds);
	KMB__LOCK_BUMP(&l->st.blocks, blocks);
	KMB__LOCK_BUMP(&l->st.block_ns, block_ns);
}

void kmb__mutex_enter_slow(struct kmb_lock *l)
{
	struct spin s = {0, 1, 0};
	uint64_t blocks = 0, block_ns = 0;
	uint32_t w;

	/* Spin while the holder runs (see 2.). */
	for (;;) {
		w = __atomic_load_n(&l->word, __ATOMIC_RELAXED);
		if (w == 0) {
			if (__atomic_compare_exchange_n(&l->word, &w, 1, false, __ATOMIC_ACQUIRE,
			                                __ATOMIC_RELAXED))
				goto owned;
			continue;
		}
		if (__atomic_load_n(&l->owner_off, __ATOMIC_RELAXED) || !spin_round(&s))
			break;
	}
	/* Block (see 1.). */
	while ((w = __atomic_exchange_n(&l->word, 2, __ATOMIC_ACQUIRE)) != 0) {
		uint64_t t0 = kmb__os_now_ns();

		kmb__lock_sleep_begin();
		kmb__os_futex_wait(&l->word, 2);
		kmb__lock_sleep_end();
		block_ns += kmb__os_now_ns() - t0;
		blocks++;
	}
owned:
	note_contended(l, &s, blocks, block_ns);
}

void kmb__mutex_wake(struct kmb_lock *l)
{
	kmb__os_futex_wake(&l->word, 1);
}

void kmb__spin_lock_slow(struct kmb_lock *l)
{
	struct spin s = {0, 1, 0};
	uint64_t blocks = 0, block_ns = 0;

	do {
		while (__atomic_load_n(&l->word, __ATOMIC_RELAXED) != 0) {
			if (!spin_round(&s)) {
				uint64_t t0 = kmb__os_now_ns();

				sched_yield();
				blocks++;
				block_ns += kmb__os_now_ns() - t0;
				s.deadline = 0;
			}
		}
	} while (__atomic_exchange_n(&l->word, 1, __ATOMIC_ACQUIRE) != 0);
	note_contended(l, &s, blocks, block_ns);
}
