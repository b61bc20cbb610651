/*
 * core/wait.c - M_WAITOK: sleeping until memory is freed, and deadlock detection.
 *
 * 1. Concepts.  A M_WAITOK (or M_NOFAIL) request that finds memory short sleeps until
 *    another thread frees memory, then retries (4.4BSD's tsleep on the type or kmem map,
 *    Linux's direct reclaim + retry loop).  kmbench has no pageout daemon: only frees by
 *    other threads can satisfy a sleeper.  So when every thread that could free memory is
 *    itself asleep in the allocator, nothing can ever wake them: a deadlock, reported
 *    (which threads, which requests) instead of hanging.
 *
 * 2. Data.  free_gen counts frees that happened while someone was in the slow path;
 *    slowpath counts threads in the slow path; a list of waiters (on their stacks) with
 *    their requests for the report; attached = threads registered with
 *    kmb_thread_attach() (the replay threads).
 *
 * 3. The lost-wakeup argument (an asymmetric Dekker handshake).  An allocator A enters the
 *    slow path (slowpath++, seq_cst), reads free_gen, retries, and sleeps only while
 *    free_gen is unchanged.  A freer B frees to the backend, then loads slowpath; if it
 *    reads 0 it does nothing more (the free fast path costs that one load), otherwise it
 *    takes the lock, bumps free_gen and broadcasts.  The backend's free is not a seq_cst
 *    operation (a magazine store, a lock release: on x86 a later load may pass it in the
 *    store buffer), so the two seq_cst accesses to slowpath alone would not stop A from
 *    missing B's free while B misses A's increment.  Instead, a request that may sleep
 *    runs, after its increment and before its first retry, a full barrier on every
 *    running thread (kmb__slowpath_fence: membarrier, os.c); B's side is a compiler
 *    barrier between its free and its load (kmb__wake_waiters).  B's barrier point falls
 *    either after its free - then the free is visible to A's retries - or before its free
 *    and load - then the barrier, after A's increment, makes the increment visible to B's
 *    load, and B bumps free_gen.  The cost is one system call (~1 us) per slow path of a
 *    request that may sleep (memory is short then), none on any free.
 *
 * 4. Deadlock.  With attached threads: deadlock when all of them wait
 *    (every attached thread is asleep and no free happened since it went to sleep: a
 *    woken waiter that has not yet re-taken the lock is not stuck).  With none (a plain program),
 * the first waiter is the only thread that could free: deadlock at once.  Threads that are not
 * attached may wait too; they are woken by frees but do not count as freers.  Detaching re-checks.
 *    On a deadlock every current waiter is marked and woken; each returns -EDEADLK and
 *    its caller panics with KMB_PANIC_DEADLOCK and the report.
 *
 * 5. Locking: one mutex and one condition variable; only the slow path takes them.  A
 *    thread about to sleep first marks the kmbench locks it holds as held by a blocked
 *    thread, so that their waiters sleep instead of spinning (core/lock.c 2.).
 */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct waiter {
	struct waiter *next;
	uint64_t seen; /* free_gen when it went to sleep */
	const struct kmb__request *rq;
	const struct kmb__thread *thr;
	const struct kmb_thread *cur; /* its CPU and whether it is attached */
	bool deadlocked;              /* set (and the waiter unlinked) by check_deadlock */
	char *report;                 /* the caller's buffer for the report */
	size_t report_len;
};

/* A thread blocked on another thread's progress (a replay dependency), not on memory. */
struct blocked {
	struct blocked *next;
	bool (*ready)(void *arg);
	void *arg;
	const char *what;
	const struct kmb__thread *thr;
	const struct kmb_thread *cur;
	bool deadlocked;
	char *report;
	size_t report_len;
};

static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wait_cv = PTHREAD_COND_INITIALIZER;
static struct waiter *waiters;
static struct blocked *blocked;
static int nblocked;
int kmb__slowpath; /* threads in the slow path (seq_cst); read inline by kmb__wake_waiters */
static uint64_t free_gen;
static unsigned attached;
static char last_report[2048];

void kmb__slowpath_enter(void)
{
	__atomic_add_fetch(&kmb__slowpath, 1, __ATOMIC_SEQ_CST);
}

void kmb__slowpath_fence(void)
{
	kmb__os_barrier_all();
}

void kmb__slowpath_exit(void)
{
	__atomic_sub_fetch(&kmb__slowpath, 1, __ATOMIC_SEQ_CST);
}

uint64_t kmb__free_gen(void)
{
	return __atomic_load_n(&free_gen, __ATOMIC_SEQ_CST);
}

void kmb__wake_waiters_slow(void)
{
	pthread_mutex_lock(&wait_lock);
	__atomic_add_fetch(&free_gen, 1, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&wait_cv);
	pthread_mutex_unlock(&wait_lock);
}

/* Called with wait_lock held. */
static void write_report(void)
{
	struct kmb_memstat ms;
	size_t off = 0, len = sizeof(last_report);
	unsigned n = 0;

	for (struct waiter *w = waiters; w != NULL; w = w->next)
		n++;
	kmb_memstat(&ms);
	off += (size_t)snprintf(last_report, len,
	                        "deadlock: %u %s for memory and no other thread can free "
	                        "(%zu of %zu pages free, largest free block %zu bytes):",
	                        n, n == 1 ? "thread waits" : "threads wait", ms.free_pages,
	                        ms.mem_pages, ms.largest_free);
	for (struct waiter *w = waiters; w != NULL && off < len; w = w->next) {
		char rq[160];

		off += (size_t)snprintf(last_report + off, len - off, " [%s (tid %ld, cpu %u): %s]",
		                        w->thr->name[0] ? w->thr->name : "thread", w->thr->tid,
		                        w->cur->cpu, kmb__request_str(w->rq, rq, sizeof(rq)));
	}
	for (struct blocked *b = blocked; b != NULL && off < len; b = b->next)
		off += (size_t)snprintf(last_report + off, len - off, " [%s (tid %ld, cpu %u): %s]",
		                        b->thr->name[0] ? b->thr->name : "thread", b->thr->tid,
		                        b->cur->cpu, b->what);
}

/* Attached threads that cannot make progress: asleep for memory, or blocked on a
 * condition that is still false.  Called with wait_lock held. */
static unsigned stuck_threads(void)
{
	unsigned n = 0;

	for (struct waiter *w = waiters; w != NULL; w = w->next)
		if (w->cur->attached && w->seen == kmb__free_gen())
			n++;
	for (struct blocked *b = blocked; b != NULL; b = b->next)
		if (b->cur->attached && !b->ready(b->arg))
			n++;
	return n;
}

/* Called with wait_lock held.  Every current waiter gets the report and leaves the
 * wait set at once, so a later check (a detach) never reports them twice. */
static void check_deadlock(void)
{
	if ((waiters == NULL && blocked == NULL) || stuck_threads() < attached)
		return;
	write_report();
	for (struct waiter *w = waiters; w != NULL; w = w->next) {
		w->deadlocked = true;
		snprintf(w->report, w->report_len, "%s", last_report);
	}
	for (struct blocked *b = blocked; b != NULL; b = b->next) {
		b->deadlocked = true;
		snprintf(b->report, b->report_len, "%s", last_report);
	}
	waiters = NULL;
	blocked = NULL;
	__atomic_add_fetch(&kmb__sys.deadlocks, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&wait_cv);
}

static void unlink_waiter(struct waiter *me)
{
	for (struct waiter **pp = &waiters; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == me) {
			*pp = me->next;
			return;
		}
	}
}

int kmb__wait_for_free(uint64_t seen, const struct kmb__request *rq, char *report, size_t len)
{
	struct waiter me = {NULL, seen, rq, &kmb__self, &kmb_curthread, false, report, len};
	int rc = 0;

	if (kmb__self.tid == 0)
		kmb__self.tid = kmb__os_tid();
	pthread_mutex_lock(&wait_lock);
	if (kmb__free_gen() != seen) {
		pthread_mutex_unlock(&wait_lock);
		return 0;
	}
	me.next = waiters;
	waiters = &me;
	check_deadlock();
	kmb__lock_sleep_begin(); /* spinners on locks we hold stop spinning (lock.c 2.) */
	while (!me.deadlocked && kmb__free_gen() == seen)
		pthread_cond_wait(&wait_cv, &wait_lock);
	kmb__lock_sleep_end();
	if (me.deadlocked) {
		rc = -EDEADLK;
	} else {
		unlink_waiter(&me);
	}
	pthread_mutex_unlock(&wait_lock);
	return rc;
}

void kmb__wait_attach(void)
{
	pthread_mutex_lock(&wait_lock);
	attached++;
	pthread_mutex_unlock(&wait_lock);
}

void kmb__wait_detach(void)
{
	pthread_mutex_lock(&wait_lock);
	attached--;
	check_deadlock();
	pthread_mutex_unlock(&wait_lock);
}

/*
 * 6. Blocking on another thread.  A replay thread whose next operation depends on
 *    another thread's (a free of an object allocated there) blocks here, so that it
 *    counts as stuck for deadlock detection while its condition is false: if every
 *    attached thread is asleep for memory or blocked on such a condition, nothing can
 *    ever change, and all of them get the deadlock report.  The same Dekker argument as
 *    in 3. holds between nblocked (seq_cst) and the condition's own seq_cst stores.
 */
int kmb_thread_block(bool (*ready)(void *arg), void *arg, const char *what, char *report,
                     size_t len)
{
	struct blocked me = {NULL,           ready, arg,    what, &kmb__self,
	                     &kmb_curthread, false, report, len};
	int rc = 0;

	if (ready(arg))
		return 0;
	if (kmb__self.tid == 0)
		kmb__self.tid = kmb__os_tid();
	pthread_mutex_lock(&wait_lock);
	__atomic_add_fetch(&nblocked, 1, __ATOMIC_SEQ_CST);
	me.next = blocked;
	blocked = &me;
	check_deadlock();
	kmb__lock_sleep_begin();
	while (!me.deadlocked && !ready(arg))
		pthread_cond_wait(&wait_cv, &wait_lock);
	kmb__lock_sleep_end();
	if (me.deadlocked) {
		rc = -EDEADLK;
	} else {
		for (struct blocked **pp = &blocked; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == &me) {
				*pp = me.next;
				break;
			}
		}
	}
	__atomic_sub_fetch(&nblocked, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&wait_lock);
	return rc;
}

void kmb_thread_unblock(void)
{
	if (kmb__likely(__atomic_load_n(&nblocked, __ATOMIC_SEQ_CST) == 0))
		return;
	pthread_mutex_lock(&wait_lock);
	pthread_cond_broadcast(&wait_cv);
	pthread_mutex_unlock(&wait_lock);
}
