/*
 * bench/engine/replay.c - the replay engine: a trace's plan, executed against one backend by
 * one or more threads placed on the machine's (or a described) topology.
 *
 * 1. Plan.  workloads/plan.c has replaced pointers by slot numbers, so replay does no
 *    hashing: a slot holds the live object of one pointer.  Each call site becomes a
 *    malloc type; each traced cache a kmem_cache of its object size.
 * 2. Threads and copies.  --replicate K runs K disjoint copies of the trace at once (own
 *    slots, shared types and caches) to load many cores with a one-CPU trace; --repeat K
 *    replays the whole thing K times, freeing what is left between passes.  Two mappings
 *    of copies and traced CPUs (streams) to threads, named in the result's `mapping`:
 *    "copies" (the default when K >= threads): copy r runs whole on thread r % threads, so
 *    a thread replays its copies as the trace's one machine did, with every cross-CPU
 *    free of the trace inside the thread; "streams" (the default when K < threads, or
 *    --map streams): stream c of copy r runs on thread (r * ncpus_traced + c) % threads,
 *    spreading a multi-CPU trace's CPUs over threads (cross-thread frees as traced).
 *    Thread i is attached as CPU index i, so per-CPU caches are its own.
 * 3. Order.  Every operation on a slot has its sequence number on that slot (alloc 0,
 *    free 1, alloc 2, ...).  An operation runs when the slot's generation equals it, so a
 *    free waits only for the allocation it depends on (and an allocation for the free of
 *    the slot's previous object) when that ran on another thread; a thread's own
 *    operations are already in order.  A wait spins with the pause instruction for as long
 *    as blocking and being woken would cost (DEP_SPIN_NS, 2-competitive: Karlin et al.
 *    1991), yields the CPU DEP_YIELDS times, then blocks in kmb_thread_block(), which
 *    counts the thread as stuck for deadlock detection; the time each thread waited is
 *    reported (dep_wait_seconds).  --order strict keeps the global order (a ticket).
 * 4. Topology (topology.c): the machine's by default, or --topology (hwloc synthetic or
 *    XML).  Simulated memory is split across its NUMA nodes; each thread's CPU index maps
 *    to its PU's node (kmb_config.cpu_node), so backends allocate from the thread's node
 *    first.  Threads are bound to their PUs only on the real topology.
 * 5. Timing of the loop only.  The threads are created, attached and bound once per
 *    replay and wait at a start gate; each pass opens it, and each thread reads the clock
 *    and its CPU time (CLOCK_THREAD_CPUTIME_ID) after passing it and again at the end of
 *    its loop.  A pass's wall time is the last thread's end less the first one's start;
 *    seconds and ops_per_sec are over those, cpu_seconds the threads' sum.  Between
 *    passes the threads wait (a finished thread blocks with kmb_thread_block, so a
 *    thread still running that sleeps for memory nobody can free is a deadlock, as when
 *    the finished thread had gone); they detach after the last pass, outside the clock.
 *    --warmup N runs N passes first, in the same boot, freeing everything between, and
 *    forgets them: every backend is measured with its memory faulted in and its caches
 *    warm.  The backend's own statistics (stats, vmstat -m, types) cover the boot.
 * 6. No shared writes per operation.  A thread's counters (allocations, frees, failures,
 *    cross-CPU frees, local/remote by node, histograms) are its own, in its own cache
 *    lines (struct rthread, 64-aligned; struct replay 64-aligned, written lines apart
 *    from read ones).  Live requested and usable bytes, live objects and operations are
 *    each thread's net share; with several threads a share is folded into the global
 *    figures (one line, 64-aligned, atomic adds) once its requested or usable bytes moved
 *    by FOLD_BYTES or after FOLD_OPS operations, as Linux folds its per-CPU vmstat diffs at
 *    a threshold, and the peaks, the ~1000 samples and the at_op hook are evaluated at
 *    folds.  With one thread its share is the whole: after every operation a few compares
 *    see whether a peak, a sample or at_op is due, and the global figures are set from it
 *    then (plain stores): every figure is exact, as a sequential replay.  With T threads
 *    the global lags the truth by at most T * (FOLD_BYTES + the largest block) bytes: the
 *    peaks of live bytes are within peak_live_error_bytes, the footprint peak within
 *    peak_footprint_error_bytes (core/physmem.c's per-CPU drift), the samples
 *    alike.  Each call can be timed with the cycle counter into the thread's log-linear
 *    histograms (alloc, free, and both by requested size class), merged at the end; the
 *    timer's cost and resolution (its smallest step, timer_resolution_ns) are reported.
 *    Internal fragmentation is taken when live requested bytes peak:
 *    100 * (usable - requested) / usable, the usable size as kmalloc_usable() returns it.
 *    Johnstone & Wilson's measures: footprint at the moment of peak live over peak live,
 *    and peak footprint over peak live.  --pace timestamps[=SCALE] waits before each
 *    operation until the trace's gap since its first event, times SCALE, has passed
 *    (each gap between a thread's operations clamped to 0..10 s, said once: pace()).
 * 6b. Contexts.  An operation whose trace event ran in interrupt context (op.ctx, from the
 *    irq-flags column) runs inside kmb_intr_enter/kmb_intr_exit of those levels (softirq,
 *    then hardirq, then NMI), outside its timing.  The core's context policy is
 *    KMB_CTX_REPORT for the replay (KMB_CTX_STRICT with --strict-context, restored
 *    after): a sleeping allocation the trace made in interrupt context - a bug of the
 *    traced kernel, which did not sleep there - is counted (intr_sleeping_allocs) with
 *    the first KMB_CTX_EVENTS_KEPT trace events (printed as file:line) and served, so the
 *    rest of the trace still replays; under --strict-context it panics and the replay
 *    stops there, as a deadlock does.
 * 6c. kfree(NULL).  Linux's kfree(NULL) is legal and common (13 % of the kfree events of
 *    a real 6.18 trace); the plan keeps it as KMB_OP_KFREE_NULL, and replay calls
 *    kfree_nullok(NULL, M_TEMP): a no-op through the front end whose cost is real, timed
 *    into the free histograms (size class 0) and counted in ops and in kfree_null.  The
 *    BSD rule stays for direct use: kfree(NULL) panics.
 * 7. A panic (a deadlock, an INVARIANTS check) in any thread longjmps back to that
 *    thread's loop; the replay is marked aborted with the message and the trace event,
 *    the other threads stop at their next operation, and the system is abandoned.
 * 8. Memory of the engine itself, mapped from the OS (never from the allocator under
 *    test: a libc baseline serves malloc) and faulted in before the clock starts: per
 *    operation 24 bytes of schedule and 4 of sequence number, per slot 40 bytes, per
 *    thread 30 histograms (alloc, free, 14 size classes of each; 17.5 KiB each, 526 KiB):
 *    bounded by the trace and the threads, not by time.  The result's histograms and
 *    samples are allocated before boot.
 * 9. Fidelity: of the allocations whose trace event carries bytes_alloc (the traced
 *    kernel's slot: kmalloc's size class, a cache's s->size), the share whose usable size
 *    (kmalloc_usable_size, ksize()) equals it, kmalloc and kmem_cache apart - how closely
 *    a design reproduces the traced kernel's slots.  Counted in the thread's own counters
 *    (6.), folded at the end; an allocation that failed is not compared, nor a page
 *    allocation.  A trace with no bytes_alloc has no comparable events: the share is
 *    unknown (NAN: null in JSON, empty in CSV).  With INVARIANTS the redzone enlarges
 *    every block, so the figure is a design's only with them off.
 */
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/internal.h"
#include "results/results.h"

#define CACHELINE 64
/* Fold a thread's deltas into the global figures past this many requested (or usable)
 * bytes: 64 KiB is a few hundred typical kernel objects, so a fold (four read-modify-writes
 * of a shared line, ~100-200 ns contended) costs well under 1 ns an operation, while the
 * error stays under 1% of the peaks of the bundled and generated workloads (MiBs). */
#define FOLD_BYTES ((int64_t)64 << 10)
/* ... and at least every this many operations, so that samples and at_op stay near their
 * operation numbers (sample_every is total / 1000, usually far more). */
#define FOLD_OPS 256u
/* A dependency wait spins as long as a block + wake-up costs (futex wait and wake, two
 * context switches: ~5 us on the KVM guests kmbench is measured on), then yields. */
#define DEP_SPIN_NS 5000u
#define DEP_YIELDS  4

struct rslot {
	void *p;
	uint64_t req, usable;
	uint32_t owner;  /* type or cache index */
	uint16_t thread; /* thread that allocated it */
	uint8_t kind;    /* KMB_OP_KMALLOC or KMB_OP_CACHE_ALLOC; 0 = empty */
	uint8_t node;    /* that thread's node */
	uint32_t gen;    /* operations done on the slot (seq_cst) */
};

struct rop {
	uint32_t op;  /* plan op index */
	uint32_t seq; /* its sequence number on its slot */
	uint16_t replica;
	uint8_t wait;    /* the slot's previous operation runs on another thread */
	uint8_t post;    /* the slot's next operation runs on another thread */
	uint64_t ticket; /* position in the global order (--order strict) */
};

/* Memory of the engine, from the OS (theory 8.). */
struct emem {
	void *p;
	size_t len;
};

static int emem_map(struct emem *m, size_t len)
{
	m->len = len ? len : 1;
	m->p = kmb__os_map_resident(m->len);
	return m->p ? 0 : -ENOMEM;
}

static void emem_unmap(struct emem *m)
{
	if (m->p)
		kmb__os_unmap(m->p, m->len);
	m->p = NULL;
}

struct replay;

struct rthread {
	/* read-only while a pass runs: what the loop needs, copied from the options */
	struct replay *rp;
	struct fold_state *g; /* &rp->g */
	const struct kmb_op *plan_ops;
	struct rslot *slots;
	size_t nslots;
	struct malloc_type **types;
	struct kmem_cache **caches;
	struct rop *ops;
	size_t nops;
	bool timing, strict, paced, multi_node, shared;
	unsigned latency_every;
	unsigned idx, pu, node;
	uint64_t at_op;            /* 0 during warm-up passes */
	const char *pm_lo, *pm_hi; /* simulated memory (one node: local allocations) */
	/* written by this thread only */
	int64_t live_req, live_usable, live_objs; /* this thread's net share of the pass */
	uint64_t nops_done;                       /* operations done (measured passes) */
	int64_t f_req, f_usable, f_objs;          /* several threads: the share folded so far */
	uint64_t f_ops;
	uint64_t due; /* ops at which count_op looks further: next fold, sample or at_op */
	uint64_t max_usable;
	uint64_t t0_ns;    /* pacing: when this pass started */
	uint64_t pace_ns;  /* pacing: trace time paced so far (gaps clamped), unscaled */
	uint64_t pace_ts;  /* pacing: the latest timestamp seen (0 before the first) */
	uint64_t lat_left; /* operations until the next timed one (1: this one) */
	uint64_t rng;      /* xorshift64 state for the gaps between timed operations */
	uint64_t allocs, frees, failed, skipped, page_ops, cross_cpu, cross_node;
	uint64_t fid_n[2], fid_eq[2];        /* fidelity (9.): [0] kmalloc, [1] kmem_cache */
	uint64_t intr_allocs, intr_sleeping; /* in interrupt context (theory 6b.) */
	uint64_t kfree_null;                 /* Linux kfree(NULL) calls (theory 6c.) */
	uint32_t intr_sleep_ev[KMB_CTX_EVENTS_KEPT];
	uint64_t local[KMB_MAX_NODES], remote[KMB_MAX_NODES];
	uint64_t wall0, wall1, cpu_ns, dep_wait_ns;
	int bind_rc;
	bool attached;
	pthread_t th;
	struct kmb_hist alloc_ns, free_ns;
	struct kmb_hist size_alloc[KMB_SIZE_CLASSES], size_free[KMB_SIZE_CLASSES];
} __attribute__((aligned(CACHELINE)));

struct replay {
	/* read-only while passes run */
	const struct kmb_plan *plan;
	const struct kmb_replay_opts *o;
	struct kmb_replay_result *res;
	struct kmb_topo topo;
	struct malloc_type **types;
	struct kmem_cache **caches;
	struct rslot *slots; /* plan->nslots * replicas */
	uint32_t *op_seq;    /* per plan op: its sequence number on its slot */
	struct rthread *thr;
	struct emem m_thr, m_slots, m_seq, m_ops, m_types, m_caches;
	unsigned nthreads, replicas, ncpus_traced, warmup;
	bool shared, copies;
	uint64_t sample_every, max_req;
	/* the global figures: written at folds only (theory 6.) */
	struct fold_state {
		uint64_t live_req, live_usable, live_objs, ops_done, next_sample;
		uint64_t peak_req, peak_usable, usable_at_peak, footprint_at_peak, peak_at_op;
	} g __attribute__((aligned(CACHELINE)));
	int abort __attribute__((aligned(CACHELINE))); /* a thread panicked */
	int pace_noted;                                /* --pace clamped a gap: said once */
	uint64_t ticket __attribute__((aligned(CACHELINE)));
	/* the gate: threads wait there between passes (theory 5.) */
	pthread_mutex_t gate_lock __attribute__((aligned(CACHELINE)));
	pthread_cond_t gate_cv, main_cv;
	unsigned arrived, phase, running;
	bool stop;
	pthread_mutex_t abort_lock;
};

static _Thread_local jmp_buf *replay_jmp;
static _Thread_local struct rthread *replay_self;

/* ---- aborting ---------------------------------------------------------------------------- */

static void set_abort(struct replay *rp, const char *kind, const char *msg, uint32_t event)
{
	pthread_mutex_lock(&rp->abort_lock);
	if (!rp->res->aborted) {
		rp->res->aborted = true;
		rp->res->abort_event = event;
		snprintf(rp->res->abort_msg, sizeof(rp->res->abort_msg), "%s: %s", kind, msg);
	}
	pthread_mutex_unlock(&rp->abort_lock);
	__atomic_store_n(&rp->abort, 1, __ATOMIC_SEQ_CST);
	kmb_thread_unblock();
}

static _Thread_local uint32_t replay_event; /* trace event of the current operation */

static void replay_panic(const struct kmb_panic_info *info)
{
	char kind[64];

	if (replay_jmp == NULL || replay_self == NULL) {
		fprintf(stderr, "kmbench: panic: %s\n", info->message);
		abort();
	}
	snprintf(kind, sizeof(kind), "%s panic", kmb_panic_kind_name(info->kind));
	set_abort(replay_self->rp, kind, info->message, replay_event);
	longjmp(*replay_jmp, 1);
}

/* ---- set-up ----------------------------------------------------------------------------- */

static int make_types(struct replay *rp)
{
	const struct kmb_plan *plan = rp->plan;

	if (emem_map(&rp->m_types, (plan->ntypes + 1) * sizeof(*rp->types)) != 0 ||
	    emem_map(&rp->m_caches, (plan->ncaches + 1) * sizeof(*rp->caches)) != 0)
		return -ENOMEM;
	rp->types = rp->m_types.p;
	rp->caches = rp->m_caches.p;
	for (uint32_t i = 0; i < plan->ntypes; i++)
		if ((rp->types[i] = kmb_malloc_type_create(plan->type_name[i])) == NULL)
			return -ENOMEM;
	for (uint32_t i = 0; i < plan->ncaches; i++) {
		const struct kmb_plan_geom *pg = &plan->cache_geom[i];
		struct kmem_cache_geom g = {(size_t)pg->slot_size, pg->order, pg->objs_per_slab};

		rp->caches[i] =
		        kmem_cache_create_geom(plan->cache_name[i], plan->cache_size[i], 0, 0, &g);
		if (rp->caches[i] == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* Sequence numbers on slots, the number of traced CPUs and the largest request. */
static int number_ops(struct replay *rp)
{
	const struct kmb_plan *plan = rp->plan;
	struct emem cm;
	uint32_t *count;

	if (emem_map(&cm, (plan->nslots + 1) * sizeof(*count)) != 0 ||
	    emem_map(&rp->m_seq, (plan->nop + 1) * sizeof(*rp->op_seq)) != 0) {
		emem_unmap(&cm);
		return -ENOMEM;
	}
	count = cm.p;
	rp->op_seq = rp->m_seq.p;
	rp->ncpus_traced = 1;
	for (size_t i = 0; i < plan->nop; i++) {
		const struct kmb_op *op = &plan->op[i];

		rp->op_seq[i] = count[op->slot]++;
		if (op->cpu + 1u > rp->ncpus_traced)
			rp->ncpus_traced = op->cpu + 1u;
		if (op->size > rp->max_req)
			rp->max_req = op->size;
	}
	emem_unmap(&cm);
	return 0;
}

/* The thread that runs stream c of copy r (theory 2.). */
static unsigned thread_of(const struct replay *rp, unsigned r, unsigned c)
{
	if (rp->copies)
		return r % rp->nthreads;
	return (r * rp->ncpus_traced + c) % rp->nthreads;
}

/* Every thread's schedule in one mapping: count, then place. */
static int place_ops(struct replay *rp)
{
	const struct kmb_plan *plan = rp->plan;
	size_t off = 0;

	for (size_t i = 0; i < plan->nop; i++)
		for (unsigned r = 0; r < rp->replicas; r++)
			rp->thr[thread_of(rp, r, plan->op[i].cpu)].nops++;
	if (emem_map(&rp->m_ops, ((size_t)plan->nop * rp->replicas + 1) * sizeof(struct rop)) != 0)
		return -ENOMEM;
	for (unsigned i = 0; i < rp->nthreads; i++) {
		rp->thr[i].ops = (struct rop *)rp->m_ops.p + off;
		off += rp->thr[i].nops;
		rp->thr[i].nops = 0;
	}
	return 0;
}

/*
 * Each thread's schedule, in global order (op-major, replica-minor).  Only an edge between
 * threads needs the slot's generation: an operation waits when the slot's previous one ran
 * on another thread, and posts when the next one will; with one thread, neither.
 */
static int schedule(struct replay *rp)
{
	const struct kmb_plan *plan = rp->plan;
	size_t nslots = (size_t)plan->nslots * rp->replicas;
	struct last {
		uint32_t thread1, idx; /* thread index + 1 (0: none yet) and its schedule entry */
	} * last;
	struct emem lm;
	uint64_t ticket = 0;

	if (place_ops(rp) != 0 || emem_map(&lm, (nslots + 1) * sizeof(*last)) != 0)
		return -ENOMEM;
	last = lm.p;
	for (size_t i = 0; i < plan->nop; i++) {
		for (unsigned r = 0; r < rp->replicas; r++) {
			unsigned ti = thread_of(rp, r, plan->op[i].cpu);
			struct rthread *t = &rp->thr[ti];
			struct last *l = &last[(size_t)r * plan->nslots + plan->op[i].slot];
			struct rop e = {(uint32_t)i, rp->op_seq[i], (uint16_t)r, 0, 0, ticket++};

			if (l->thread1 != 0 && l->thread1 - 1 != ti) {
				e.wait = 1;
				rp->thr[l->thread1 - 1].ops[l->idx].post = 1;
			}
			t->ops[t->nops++] = e;
			l->thread1 = ti + 1;
			l->idx = (uint32_t)(t->nops - 1);
		}
	}
	emem_unmap(&lm);
	return 0;
}

static void reset_thread_counters(struct rthread *t)
{
	t->live_req = t->live_usable = t->live_objs = 0;
	t->f_req = t->f_usable = t->f_objs = 0;
	t->nops_done = t->f_ops = 0;
	t->allocs = t->frees = t->failed = t->skipped = t->page_ops = 0;
	t->cross_cpu = t->cross_node = 0;
	memset(t->fid_n, 0, sizeof(t->fid_n));
	memset(t->fid_eq, 0, sizeof(t->fid_eq));
	t->intr_allocs = t->intr_sleeping = t->kfree_null = 0;
	memset(t->local, 0, sizeof(t->local));
	memset(t->remote, 0, sizeof(t->remote));
	t->cpu_ns = t->dep_wait_ns = 0;
	kmb_hist_init(&t->alloc_ns);
	kmb_hist_init(&t->free_ns);
	for (unsigned k = 0; k < KMB_SIZE_CLASSES; k++) {
		kmb_hist_init(&t->size_alloc[k]);
		kmb_hist_init(&t->size_free[k]);
	}
}

/* The loop's own copy of what it reads (theory 6.: no shared configuration per op). */
static void init_thread(struct replay *rp, struct rthread *t, unsigned i, unsigned pu)
{
	const struct kmb_replay_opts *o = rp->o;

	t->rp = rp;
	t->g = &rp->g;
	t->idx = i;
	t->pu = pu;
	t->node = rp->topo.pu_node[pu];
	t->plan_ops = rp->plan->op;
	t->slots = rp->slots;
	t->nslots = rp->plan->nslots;
	t->types = rp->types;
	t->caches = rp->caches;
	t->timing = o->timing;
	t->latency_every = o->latency_every;
	t->strict = o->strict;
	t->paced = o->pace > 0;
	t->shared = rp->shared;
	t->multi_node = rp->topo.nnodes > 1;
	t->pm_lo = kmb__sys.pm.base;
	t->pm_hi = kmb__sys.pm.base + (kmb__sys.pm.npages << KMB_PAGE_SHIFT);
	reset_thread_counters(t);
}

static int make_threads(struct replay *rp)
{
	unsigned pu[KMB_MAX_CPUS];

	if (emem_map(&rp->m_thr, rp->nthreads * sizeof(*rp->thr)) != 0)
		return -ENOMEM;
	rp->thr = rp->m_thr.p;
	kmb_topo_place(&rp->topo, rp->nthreads, rp->o->compact, pu);
	for (unsigned i = 0; i < rp->nthreads; i++)
		init_thread(rp, &rp->thr[i], i, pu[i]);
	return 0;
}

/* ---- live bytes, peaks, samples: folds (theory 6.) --------------------------------------- */

static inline uint64_t g_add(uint64_t *p, int64_t v)
{
	return __atomic_add_fetch(p, (uint64_t)v, __ATOMIC_RELAXED);
}

static void g_max(bool shared, uint64_t *p, uint64_t v)
{
	uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);

	if (!shared) {
		*p = v > cur ? v : cur;
		return;
	}
	while (v > cur &&
	       !__atomic_compare_exchange_n(p, &cur, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Racy between threads (within the stated error), exact with one: the state at the peak. */
static void note_peak(struct replay *rp, bool shared, uint64_t req, uint64_t usable, uint64_t done)
{
	struct fold_state *g = &rp->g;

	g_max(shared, &g->peak_req, req);
	__atomic_store_n(&g->usable_at_peak, usable, __ATOMIC_RELAXED);
	__atomic_store_n(&g->footprint_at_peak, (uint64_t)kmb_footprint_pages() * KMB_PAGE_SIZE,
	                 __ATOMIC_RELAXED);
	__atomic_store_n(&g->peak_at_op, done, __ATOMIC_RELAXED);
}

/* Sample number k (1-based) is due after operation k * sample_every. */
static void take_sample(struct replay *rp, uint64_t k, uint64_t done)
{
	struct kmb_replay_result *r = rp->res;
	struct fold_state *g = &rp->g;
	struct kmb_sample *s;
	struct kmb_memstat ms;

	if (k - 1 >= r->nsamples_cap)
		return;
	s = &r->samples[k - 1];
	kmb_memstat(&ms);
	s->ops = done;
	s->live_objects = __atomic_load_n(&g->live_objs, __ATOMIC_RELAXED);
	s->live_bytes_req = __atomic_load_n(&g->live_req, __ATOMIC_RELAXED);
	s->live_bytes_alloc = __atomic_load_n(&g->live_usable, __ATOMIC_RELAXED);
	s->footprint_bytes = (uint64_t)(ms.held_pages + ms.meta_pages) * KMB_PAGE_SIZE;
	s->meta_bytes = (uint64_t)ms.meta_pages * KMB_PAGE_SIZE;
	s->free_bytes = (uint64_t)ms.free_pages * KMB_PAGE_SIZE;
	s->largest_free = ms.largest_free;
	__atomic_store_n(&s->valid, 1, __ATOMIC_RELEASE);
}

/* The thread that moves next_sample on takes the sample (no division per fold). */
static void samples_due(struct replay *rp, uint64_t done)
{
	uint64_t next = __atomic_load_n(&rp->g.next_sample, __ATOMIC_RELAXED);

	while (done >= next) {
		if (__atomic_compare_exchange_n(&rp->g.next_sample, &next, next + rp->sample_every,
		                                false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			take_sample(rp, next / rp->sample_every, done);
		/* else next was reloaded: another thread took it */
	}
}

/* After a fold: the peaks, samples and at_op, from the global figures it left. */
static void fold_checks(struct rthread *t, uint64_t req, uint64_t usable, uint64_t done,
                        uint64_t prev, int64_t dreq)
{
	struct replay *rp = t->rp;
	struct fold_state *g = t->g;
	bool sh = t->shared;

	if (dreq > 0) {
		if (usable > __atomic_load_n(&g->peak_usable, __ATOMIC_RELAXED))
			g_max(sh, &g->peak_usable, usable);
		if (req > __atomic_load_n(&g->peak_req, __ATOMIC_RELAXED))
			note_peak(rp, sh, req, usable, done);
	}
	if (done >= __atomic_load_n(&g->next_sample, __ATOMIC_RELAXED))
		samples_due(rp, done);
	if (t->at_op > prev && t->at_op <= done && rp->o->at_op_fn)
		rp->o->at_op_fn(rp->o->at_op_arg);
}

/* When count_op looks further (theory 6.): with several threads at the next fold; with
 * one at the next sample or at_op. */
static void set_due(struct rthread *t)
{
	uint64_t due = __atomic_load_n(&t->g->next_sample, __ATOMIC_RELAXED);

	if (t->shared) {
		t->due = t->f_ops + FOLD_OPS;
		return;
	}
	if (t->at_op > t->nops_done && t->at_op < due)
		due = t->at_op;
	t->due = due;
}

/* Several threads: fold the thread's share since its last fold into the global figures
 * (atomic adds: one line, written only here). */
static void fold(struct rthread *t)
{
	struct fold_state *g = t->g;
	int64_t dreq = t->live_req - t->f_req;
	uint64_t dops = t->nops_done - t->f_ops;
	uint64_t req = g_add(&g->live_req, dreq);
	uint64_t usable = g_add(&g->live_usable, t->live_usable - t->f_usable);
	uint64_t done = g_add(&g->ops_done, (int64_t)dops);

	g_add(&g->live_objs, t->live_objs - t->f_objs);
	t->f_req = t->live_req;
	t->f_usable = t->live_usable;
	t->f_objs = t->live_objs;
	t->f_ops = t->nops_done;
	set_due(t);
	fold_checks(t, req, usable, done, done - dops, dreq);
}

/* One thread: its share is the whole, so the global figures are set from it (plainly) and
 * every one is exact - when a peak, a sample or at_op is due. */
static void exact_checks(struct rthread *t)
{
	struct fold_state *g = t->g;
	uint64_t usable = (uint64_t)t->live_usable, req = (uint64_t)t->live_req;

	g->live_req = req;
	g->live_usable = usable;
	g->live_objs = (uint64_t)t->live_objs;
	g->ops_done = t->nops_done;
	fold_checks(t, req, usable, t->nops_done, t->nops_done - 1, 1); /* 1: check the peaks */
	set_due(t);
}

/* After each operation: a compare or three; more only when something is due. */
static inline void count_op(struct rthread *t)
{
	t->nops_done++;
	if (!t->shared) {
		if (kmb__unlikely(t->nops_done >= t->due ||
		                  (uint64_t)t->live_req > t->g->peak_req ||
		                  (uint64_t)t->live_usable > t->g->peak_usable))
			exact_checks(t);
		return;
	}
	if (kmb__unlikely(t->nops_done >= t->due ||
	                  (uint64_t)(t->live_req - t->f_req + FOLD_BYTES) >
	                          2 * (uint64_t)FOLD_BYTES ||
	                  (uint64_t)(t->live_usable - t->f_usable + FOLD_BYTES) >
	                          2 * (uint64_t)FOLD_BYTES))
		fold(t);
}

/* ---- one operation ----------------------------------------------------------------------- */

/*
 * Whether to time this operation: every one by default; with --latency-every N, one in N
 * on average, the gaps drawn uniformly from 1..2N-1 so that sampling cannot lock onto a
 * periodic pattern of the trace (larson alternates allocations and frees: every 2nd
 * operation would time only one kind).
 */
static inline bool time_this(struct rthread *t)
{
	unsigned every = t->latency_every;

	if (!t->timing)
		return false;
	if (--t->lat_left != 0)
		return false;
	if (every <= 1) {
		t->lat_left = 1;
	} else {
		t->rng ^= t->rng << 13; /* xorshift64 (Marsaglia 2003) */
		t->rng ^= t->rng >> 7;
		t->rng ^= t->rng << 17;
		t->lat_left = 1 + t->rng % (2 * (uint64_t)every - 1);
	}
	return true;
}

/* Time stmt into hist and size's class in classes (computed only when timed). */
#define TIMED(t, hist, classes, size, stmt)                                                        \
	do {                                                                                       \
		if (time_this(t)) {                                                                \
			uint64_t t0_ = kmb_cycles();                                               \
			stmt;                                                                      \
			uint64_t t1_ = kmb_cycles_end();                                           \
			uint64_t ns_ = kmb_cycles_to_ns(t1_ > t0_ ? t1_ - t0_ : 0);                \
			kmb_hist_record(&(hist), ns_);                                             \
			kmb_hist_record(&(classes)[kmb_size_class(size)], ns_);                    \
		} else {                                                                           \
			stmt;                                                                      \
		}                                                                                  \
	} while (0)

/* The node of a new block: the frame's with several nodes; with one, every block in
 * simulated memory is local (a baseline's blocks are not in it: not counted). */
static inline int block_node(const struct rthread *t, const void *p)
{
	if (t->multi_node)
		return kmb_addr_node(p);
	return (const char *)p >= t->pm_lo && (const char *)p < t->pm_hi ? 0 : -1;
}

static inline void did_alloc(struct rthread *t, struct rslot *sl, const struct kmb_op *op, void *p,
                             size_t usable, uint8_t kind)
{
	int node;

	if (p == NULL) {
		t->failed++;
		return;
	}
	t->allocs++;
	if (op->bytes_alloc) { /* fidelity (9.) */
		unsigned c = kind == KMB_OP_CACHE_ALLOC;

		t->fid_n[c]++;
		t->fid_eq[c] += usable == op->bytes_alloc;
	}
	sl->p = p;
	sl->kind = kind;
	sl->owner = op->type;
	sl->thread = (uint16_t)t->idx;
	sl->node = (uint8_t)t->node;
	sl->req = op->size;
	sl->usable = usable;
	node = block_node(t, p);
	if (node >= 0 && node < KMB_MAX_NODES)
		(unsigned)node == t->node ? t->local[node]++ : t->remote[node]++;
	if (usable > t->max_usable)
		t->max_usable = usable;
	t->live_req += (int64_t)op->size;
	t->live_usable += (int64_t)usable;
	t->live_objs++;
}

static void do_free(struct rthread *t, struct rslot *sl)
{
	if (sl->kind == 0) { /* its allocation failed */
		t->skipped++;
		return;
	}
	t->frees++;
	if (sl->thread != t->idx) {
		t->cross_cpu++;
		t->cross_node += sl->node != t->node;
	}
	t->live_req -= (int64_t)sl->req;
	t->live_usable -= (int64_t)sl->usable;
	t->live_objs--;
	if (sl->kind == KMB_OP_KMALLOC)
		TIMED(t, t->free_ns, t->size_free, sl->req, kfree(sl->p, t->types[sl->owner]));
	else
		TIMED(t, t->free_ns, t->size_free, sl->req,
		      kmem_cache_free(t->caches[sl->owner], sl->p));
	sl->kind = 0;
}

static void exec_plain(struct rthread *t, const struct kmb_op *op, struct rslot *sl)
{
	size_t usable = 0;
	void *p;

	switch (op->kind) {
	case KMB_OP_KMALLOC:
		TIMED(t, t->alloc_ns, t->size_alloc, op->size,
		      p = kmalloc_usable(op->size, t->types[op->type], op->flags, &usable));
		did_alloc(t, sl, op, p, usable, KMB_OP_KMALLOC);
		break;
	case KMB_OP_CACHE_ALLOC:
		TIMED(t, t->alloc_ns, t->size_alloc, op->size,
		      p = kmem_cache_alloc_usable(t->caches[op->type], op->flags, &usable));
		did_alloc(t, sl, op, p, usable, KMB_OP_CACHE_ALLOC);
		break;
	case KMB_OP_KFREE:
	case KMB_OP_CACHE_FREE:
		do_free(t, sl);
		break;
	case KMB_OP_KFREE_NULL: /* theory 6c. */
		t->kfree_null++;
		TIMED(t, t->free_ns, t->size_free, 0, kfree_nullok(NULL, M_TEMP));
		break;
	default:
		t->page_ops++;
		break;
	}
}

_Static_assert(KMB_ECTX_SOFTIRQ == KMB_SOFTIRQ && KMB_ECTX_HARDIRQ == KMB_HARDIRQ &&
                       KMB_ECTX_NMI == KMB_NMI,
               "a trace event's context bits are kmb_intr_enter's kinds");

/* An operation in the interrupt context its trace event ran in (theory 6b.). */
static void exec_in_ctx(struct rthread *t, const struct kmb_op *op, struct rslot *sl)
{
	unsigned levels = 0;

	for (unsigned k = KMB_ECTX_SOFTIRQ; k <= KMB_ECTX_NMI; k <<= 1)
		if (op->ctx & k) {
			kmb_intr_enter(k); /* KMB_ECTX_* are KMB_SOFTIRQ, KMB_HARDIRQ, KMB_NMI */
			levels++;
		}
	if (op->kind == KMB_OP_KMALLOC || op->kind == KMB_OP_CACHE_ALLOC) {
		t->intr_allocs++;
		if (kmb_flags_may_sleep(op->flags) && t->intr_sleeping++ < KMB_CTX_EVENTS_KEPT)
			t->intr_sleep_ev[t->intr_sleeping - 1] = op->event;
	}
	exec_plain(t, op, sl);
	while (levels--)
		kmb_intr_exit();
}

static inline void exec_op(struct rthread *t, const struct kmb_op *op, struct rslot *sl)
{
	if (__builtin_expect(op->ctx != 0, 0))
		exec_in_ctx(t, op, sl);
	else
		exec_plain(t, op, sl);
}

/* ---- waiting for other threads ------------------------------------------------------------ */

struct dep {
	struct replay *rp;
	const uint32_t *gen;
	uint32_t want;
	bool strict;
	uint64_t ticket;
};

static bool dep_ready(void *arg)
{
	const struct dep *d = arg;

	if (__atomic_load_n(&d->rp->abort, __ATOMIC_SEQ_CST))
		return true;
	if (d->strict)
		return __atomic_load_n(&d->rp->ticket, __ATOMIC_SEQ_CST) == d->ticket;
	return __atomic_load_n(d->gen, __ATOMIC_SEQ_CST) == d->want;
}

/* Spin (pause) for DEP_SPIN_NS, then yield DEP_YIELDS times: true once ready. */
static bool dep_spin(struct dep *d)
{
	uint64_t t0 = kmb__os_now_ns();

	do {
		for (int i = 0; i < 64; i++) {
			if (dep_ready(d))
				return true;
			kmb_cpu_relax();
		}
	} while (kmb__os_now_ns() - t0 < DEP_SPIN_NS);
	for (int i = 0; i < DEP_YIELDS; i++) {
		sched_yield();
		if (dep_ready(d))
			return true;
	}
	return false;
}

static int wait_dep(struct rthread *t, struct rslot *sl, const struct rop *e)
{
	struct dep d = {t->rp, &sl->gen, e->seq, t->strict, e->ticket};
	char what[96], report[2048];
	uint64_t t0;
	int rc = 0;

	if (dep_ready(&d))
		return 0;
	t0 = kmb__os_now_ns();
	if (!dep_spin(&d)) {
		snprintf(what, sizeof(what), "waits for trace event %u of another thread",
		         t->plan_ops[e->op].event);
		if (kmb_thread_block(dep_ready, &d, what, report, sizeof(report)) != 0) {
			set_abort(t->rp, "deadlock", report, t->plan_ops[e->op].event);
			rc = -EDEADLK;
		}
	}
	t->dep_wait_ns += kmb__os_now_ns() - t0;
	return rc;
}

static void publish(struct replay *rp, struct rslot *sl, const struct rop *e, bool strict)
{
	__atomic_store_n(&sl->gen, e->seq + 1, __ATOMIC_SEQ_CST);
	if (strict)
		__atomic_store_n(&rp->ticket, e->ticket + 1, __ATOMIC_SEQ_CST);
	kmb_thread_unblock();
}

/* ---- pacing ------------------------------------------------------------------------------- */

/*
 * --pace: wait until this thread's trace time, scaled, has passed since the pass began.
 * Its trace time is the sum of the gaps between the timestamps of its operations (from
 * the trace's first event), each clamped: a timestamp going backwards adds no gap (and
 * does not move the clock back), a gap longer than KMB_PACE_MAX_GAP_NS counts as that
 * long, so a bad timestamp cannot make the replay wait for days.  The first clamp of a
 * replay is said on stderr, once.
 */
#define KMB_PACE_MAX_GAP_NS 10000000000ull /* 10 s */

static void pace_note(struct rthread *t, unsigned event, const char *what)
{
	if (__atomic_exchange_n(&t->rp->pace_noted, 1, __ATOMIC_RELAXED) == 0)
		fprintf(stderr, "kmbench: --pace: trace event %u: %s (said once)\n", event, what);
}

static uint64_t pace_gap(struct rthread *t, const struct kmb_trace *tr, unsigned event)
{
	uint64_t ts = tr->ev[event].ts_ns, prev = t->pace_ts ? t->pace_ts : tr->ev[0].ts_ns;

	if (ts < prev) {
		pace_note(t, event, "the timestamp goes backwards: paced as no gap");
		return 0;
	}
	t->pace_ts = ts;
	if (ts - prev > KMB_PACE_MAX_GAP_NS) {
		pace_note(t, event, "a gap over 10 s: paced as 10 s");
		return KMB_PACE_MAX_GAP_NS;
	}
	return ts - prev;
}

static void pace(struct rthread *t, const struct kmb_op *op)
{
	const struct kmb_replay_opts *o = t->rp->o;
	const struct kmb_trace *tr = o->trace;
	uint64_t due, now;

	if (tr == NULL || op->event >= tr->nev || tr->nev == 0)
		return;
	t->pace_ns += pace_gap(t, tr, op->event);
	due = t->t0_ns + (uint64_t)((double)t->pace_ns * o->pace);
	while ((now = kmb__os_now_ns()) < due &&
	       !__atomic_load_n(&t->rp->abort, __ATOMIC_RELAXED)) {
		struct timespec ts = {0, (long)((due - now) > 1000000 ? 1000000 : (due - now))};

		nanosleep(&ts, NULL);
	}
}

/* ---- a replay thread ---------------------------------------------------------------------- */

static void run_schedule(struct rthread *t)
{
	struct replay *rp = t->rp;
	const struct kmb_op *ops = t->plan_ops;
	struct rslot *slots = t->slots;
	size_t nslots = t->nslots;
	bool strict = t->strict, paced = t->paced;

	t->lat_left = 1;
	t->rng = 0x9e3779b97f4a7c15ull * (t->idx + 1); /* any nonzero seed */
	for (size_t i = 0; i < t->nops; i++) {
		const struct rop *e = &t->ops[i];
		const struct kmb_op *op = &ops[e->op];
		struct rslot *sl = &slots[(size_t)e->replica * nslots + op->slot];

		if ((e->wait || strict) && wait_dep(t, sl, e) != 0)
			return;
		if (__atomic_load_n(&rp->abort, __ATOMIC_RELAXED))
			return;
		replay_event = op->event;
		if (paced)
			pace(t, op);
		exec_op(t, op, sl);
		if (e->post || strict)
			publish(rp, sl, e, strict);
		count_op(t);
	}
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One pass of this thread's schedule, timed from the gate to the end of its loop. */
static void run_one_pass(struct rthread *t)
{
	jmp_buf jb;
	uint64_t cpu0 = thread_cpu_ns();

	t->wall0 = kmb__os_now_ns();
	t->t0_ns = t->wall0;
	t->pace_ns = t->pace_ts = 0;
	replay_self = t;
	replay_jmp = &jb;
	if (setjmp(jb) == 0)
		run_schedule(t);
	replay_jmp = NULL;
	replay_self = NULL;
	t->wall1 = kmb__os_now_ns();
	t->cpu_ns += thread_cpu_ns() - cpu0;
	if (t->shared)
		fold(t); /* what is left below the thresholds: the totals are exact after a pass */
	else
		exact_checks(t);
}

/* ---- the gate between passes (theory 5.) -------------------------------------------------- */

struct gate_arg {
	struct replay *rp;
	unsigned want;
};

static bool gate_is_open(void *arg)
{
	const struct gate_arg *a = arg;

	return __atomic_load_n(&a->rp->phase, __ATOMIC_SEQ_CST) >= a->want ||
	       __atomic_load_n(&a->rp->stop, __ATOMIC_SEQ_CST);
}

/* Wait for phase want; false when the replay stops instead. */
static bool gate_wait(struct replay *rp, unsigned want)
{
	bool go;

	pthread_mutex_lock(&rp->gate_lock);
	while (rp->phase < want && !rp->stop)
		pthread_cond_wait(&rp->gate_cv, &rp->gate_lock);
	go = !rp->stop;
	pthread_mutex_unlock(&rp->gate_lock);
	return go;
}

static void gate_arrive(struct replay *rp)
{
	pthread_mutex_lock(&rp->gate_lock);
	rp->arrived++;
	pthread_cond_broadcast(&rp->main_cv);
	pthread_mutex_unlock(&rp->gate_lock);
}

/* A thread done with pass phase: the last one wakes the main thread; the others block as
 * stuck until the next pass (a thread still running cannot count on them to free). */
static bool pass_done(struct rthread *t, unsigned phase)
{
	struct replay *rp = t->rp;
	struct gate_arg a = {rp, phase + 1};
	char report[2048];

	if (__atomic_sub_fetch(&rp->running, 1, __ATOMIC_SEQ_CST) == 0) {
		pthread_mutex_lock(&rp->gate_lock);
		pthread_cond_broadcast(&rp->main_cv);
		pthread_mutex_unlock(&rp->gate_lock);
	} else if (t->attached) {
		/* -EDEADLK: a running thread sleeps for memory that nobody can free; it panics
		 * with the report, and this one waits below as usual */
		(void)kmb_thread_block(gate_is_open, &a, "has finished its pass", report,
		                       sizeof(report));
	}
	return gate_wait(rp, phase + 1);
}

static void *thread_main(void *arg)
{
	struct rthread *t = arg;
	char name[24];

	snprintf(name, sizeof(name), "replay-%u", t->idx);
	t->attached = kmb_thread_attach(name, t->idx) == 0;
	if (!t->attached)
		set_abort(t->rp, "set-up", "cannot attach a replay thread", KMB_NO_EVENT);
	else
		t->bind_rc = kmb_topo_bind_self(&t->rp->topo, t->pu);
	gate_arrive(t->rp);
	for (unsigned phase = 1; gate_wait(t->rp, phase);) {
		if (t->attached)
			run_one_pass(t);
		if (!pass_done(t, phase++))
			break;
	}
	kmb_thread_detach();
	return NULL;
}

/* ---- passes (main thread) ----------------------------------------------------------------- */

/* Free what is still live (between passes, and at the end of a clean replay); no replay
 * thread runs. */
static void free_live(struct replay *rp)
{
	size_t n = (size_t)rp->plan->nslots * rp->replicas;

	for (size_t s = 0; s < n; s++) {
		struct rslot *sl = &rp->slots[s];

		if (sl->kind == KMB_OP_KMALLOC)
			kfree(sl->p, rp->types[sl->owner]);
		else if (sl->kind == KMB_OP_CACHE_ALLOC)
			kmem_cache_free(rp->caches[sl->owner], sl->p);
		memset(sl, 0, sizeof(*sl));
	}
	for (unsigned i = 0; rp->thr && i < rp->nthreads; i++) { /* nothing is live */
		struct rthread *t = &rp->thr[i];

		t->live_req = t->live_usable = t->live_objs = 0;
		t->f_req = t->f_usable = t->f_objs = 0;
	}
	rp->g.live_req = rp->g.live_usable = rp->g.live_objs = 0;
}

/* After the warm-up passes: what they counted is forgotten (theory 5.). */
static void forget_warmup(struct replay *rp)
{
	struct kmb_replay_result *r = rp->res;

	for (unsigned i = 0; i < rp->nthreads; i++)
		reset_thread_counters(&rp->thr[i]);
	memset(&rp->g, 0, sizeof(rp->g));
	rp->g.next_sample = rp->sample_every;
	memset(r->samples, 0, r->nsamples_cap * sizeof(*r->samples));
	kmb_physmem_reset_peak(&kmb__sys.pm);
}

static void start_pass(struct replay *rp, unsigned phase, unsigned nrun)
{
	for (unsigned i = 0; i < rp->nthreads; i++) {
		rp->thr[i].at_op = phase > rp->warmup ? rp->o->at_op : 0;
		set_due(&rp->thr[i]);
	}
	rp->ticket = 0; /* --order strict: every pass starts at the trace's first event */
	__atomic_store_n(&rp->running, nrun, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&rp->gate_lock);
	__atomic_store_n(&rp->phase, phase, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&rp->gate_cv);
	pthread_mutex_unlock(&rp->gate_lock);
	kmb_thread_unblock(); /* the threads blocked at the end of the last pass */
}

static void wait_pass(struct replay *rp)
{
	pthread_mutex_lock(&rp->gate_lock);
	while (__atomic_load_n(&rp->running, __ATOMIC_SEQ_CST) != 0)
		pthread_cond_wait(&rp->main_cv, &rp->gate_lock);
	pthread_mutex_unlock(&rp->gate_lock);
}

/* The pass's wall time: the first thread's start to the last one's end. */
static double pass_seconds(const struct replay *rp)
{
	uint64_t t0 = UINT64_MAX, t1 = 0;

	for (unsigned i = 0; i < rp->nthreads; i++) {
		if (!rp->thr[i].attached)
			continue;
		t0 = rp->thr[i].wall0 < t0 ? rp->thr[i].wall0 : t0;
		t1 = rp->thr[i].wall1 > t1 ? rp->thr[i].wall1 : t1;
	}
	return t1 > t0 ? (double)(t1 - t0) / 1e9 : 0;
}

static unsigned start_threads(struct replay *rp)
{
	unsigned started = 0;

	for (unsigned i = 0; i < rp->nthreads; i++) {
		int rc = pthread_create(&rp->thr[i].th, NULL, thread_main, &rp->thr[i]);
		char why[160];

		if (rc != 0) { /* EAGAIN: ulimit -u (RLIMIT_NPROC) or threads-max; ENOMEM */
			snprintf(why, sizeof(why), "cannot create replay thread %u of %u: %s%s",
			         i + 1, rp->nthreads, strerror(rc),
			         rc == EAGAIN ? " (a limit on threads, ulimit -u, or on memory for "
			                        "its stack, ulimit -v)"
			                      : "");
			set_abort(rp, "set-up", why, KMB_NO_EVENT);
			break;
		}
		started++;
	}
	pthread_mutex_lock(&rp->gate_lock);
	while (rp->arrived < started)
		pthread_cond_wait(&rp->main_cv, &rp->gate_lock);
	pthread_mutex_unlock(&rp->gate_lock);
	return started;
}

static void stop_threads(struct replay *rp, unsigned started)
{
	pthread_mutex_lock(&rp->gate_lock);
	__atomic_store_n(&rp->stop, true, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&rp->gate_cv);
	pthread_mutex_unlock(&rp->gate_lock);
	kmb_thread_unblock();
	for (unsigned i = 0; i < started; i++)
		pthread_join(rp->thr[i].th, NULL);
}

/* ---- results ------------------------------------------------------------------------------ */

/* Keep the KMB_CTX_EVENTS_KEPT smallest event indices seen, ascending, in ev[0 .. *n). */
static void keep_earliest(uint32_t *ev, unsigned *n, uint32_t v)
{
	unsigned j = *n < KMB_CTX_EVENTS_KEPT ? (*n)++ : KMB_CTX_EVENTS_KEPT;

	if (j == KMB_CTX_EVENTS_KEPT) {
		if (v >= ev[j - 1])
			return;
		j--; /* the largest kept one goes */
	}
	for (; j > 0 && ev[j - 1] > v; j--)
		ev[j] = ev[j - 1];
	ev[j] = v;
}

/* The interrupt-context counts, and the earliest trace events of sleeping allocations. */
static void merge_ctx(struct kmb_replay_result *r, const struct rthread *t)
{
	uint64_t kept =
	        t->intr_sleeping < KMB_CTX_EVENTS_KEPT ? t->intr_sleeping : KMB_CTX_EVENTS_KEPT;

	r->intr_allocs += t->intr_allocs;
	r->kfree_null += t->kfree_null;
	r->intr_sleeping_allocs += t->intr_sleeping;
	for (uint64_t i = 0; i < kept; i++)
		keep_earliest(r->intr_sleep_ev, &r->n_intr_sleep_ev, t->intr_sleep_ev[i]);
}

static void merge_thread(struct kmb_replay_result *r, const struct rthread *t)
{
	kmb_hist_merge(&r->alloc_ns, &t->alloc_ns);
	kmb_hist_merge(&r->free_ns, &t->free_ns);
	for (unsigned k = 0; k < KMB_SIZE_CLASSES && r->size_alloc_ns; k++) {
		kmb_hist_merge(&r->size_alloc_ns[k], &t->size_alloc[k]);
		kmb_hist_merge(&r->size_free_ns[k], &t->size_free[k]);
	}
	r->allocs += t->allocs;
	r->frees += t->frees;
	r->failed_allocs += t->failed;
	r->skipped_frees += t->skipped;
	r->page_ops_skipped += t->page_ops;
	merge_ctx(r, t);
	r->cross_cpu_frees += t->cross_cpu;
	r->cross_node_frees += t->cross_node;
	for (unsigned c = 0; c < 2; c++) {
		r->fidelity_events[c] += t->fid_n[c];
		r->fidelity_equal[c] += t->fid_eq[c];
	}
	for (unsigned n = 0; n < KMB_MAX_NODES; n++) {
		r->node_local_allocs[n] += t->local[n];
		r->node_remote_allocs[n] += t->remote[n];
	}
	r->threads_bound += t->attached && t->bind_rc == 0;
	r->cpu_seconds += (double)t->cpu_ns / 1e9;
	r->dep_wait_seconds += (double)t->dep_wait_ns / 1e9;
}

/* The global figures and how exact they are (theory 6.). */
static void merge_threads(struct replay *rp)
{
	struct kmb_replay_result *r = rp->res;
	uint64_t largest = rp->max_req;

	for (unsigned i = 0; i < rp->nthreads; i++) {
		merge_thread(r, &rp->thr[i]);
		if (rp->thr[i].max_usable > largest)
			largest = rp->thr[i].max_usable;
	}
	r->peak_live_bytes_req = rp->g.peak_req;
	r->peak_live_bytes_alloc = rp->g.peak_usable;
	r->live_bytes_alloc_at_peak = rp->g.usable_at_peak;
	r->footprint_at_peak_bytes = rp->g.footprint_at_peak;
	r->peak_at_op = rp->g.peak_at_op;
	r->peak_live_error_bytes = rp->shared ? rp->nthreads * ((uint64_t)FOLD_BYTES + largest) : 0;
	r->peak_footprint_error_bytes =
	        (uint64_t)kmb_physmem_error_pages(&kmb__sys.pm) * KMB_PAGE_SIZE;
}

static void collect_types(struct kmb_replay_result *r)
{
	size_t n = 0, cap = 0;

	for (struct malloc_type *t = kmb_malloc_type_first(); t; t = kmb_malloc_type_next(t)) {
		struct kmb_type_stats s;

		kmb_malloc_type_stats(t, &s);
		if (s.calls == 0 && s.failed == 0)
			continue;
		if (n == cap) {
			void *nt =
			        realloc(r->types, (cap = cap ? 2 * cap : 64) * sizeof(*r->types));

			if (nt == NULL)
				break;
			r->types = nt;
		}
		snprintf(r->types[n].name, sizeof(r->types[n].name), "%s", t->ks_shortdesc);
		r->types[n++].s = s;
	}
	r->ntypes = n;
}

/* The trace's kmem_caches, as collect_types the malloc types (vmstat -m's cache lines). */
static void collect_caches(struct replay *rp)
{
	struct kmb_replay_result *r = rp->res;
	uint32_t n = rp->plan->ncaches;

	r->ncaches = 0;
	if (n == 0 || (r->caches = calloc(n, sizeof(*r->caches))) == NULL)
		return;
	for (uint32_t i = 0; i < n; i++) {
		struct kmb_replay_cache *c = &r->caches[r->ncaches];

		kmem_cache_stats(rp->caches[i], &c->s);
		if (c->s.calls == 0 && c->s.failed == 0)
			continue;
		c->has_info = kmem_cache_info(rp->caches[i], &c->info) == 0;
		snprintf(c->name, sizeof(c->name), "%s", kmem_cache_name(rp->caches[i]));
		r->ncaches++;
	}
}

static void collect_ratios(struct kmb_replay_result *r)
{
	for (unsigned c = 0; c < 2; c++) /* fidelity (9.) */
		r->fidelity_pct[c] = r->fidelity_events[c] ? 100.0 * (double)r->fidelity_equal[c] /
		                                                     (double)r->fidelity_events[c]
		                                           : NAN;
	r->ops = r->allocs + r->frees + r->kfree_null;
	r->ops_per_sec = r->seconds > 0 ? (double)r->ops / r->seconds : 0;
	r->ops_per_cpu_sec = r->cpu_seconds > 0 ? (double)r->ops / r->cpu_seconds : 0;
	if (r->live_bytes_alloc_at_peak)
		r->internal_frag_pct =
		        100.0 * (double)(r->live_bytes_alloc_at_peak - r->peak_live_bytes_req) /
		        (double)r->live_bytes_alloc_at_peak;
	r->peak_footprint_bytes = (uint64_t)r->mem.peak_pages * KMB_PAGE_SIZE;
	if (r->peak_live_bytes_req) {
		r->jw_footprint_at_peak_ratio =
		        (double)r->footprint_at_peak_bytes / (double)r->peak_live_bytes_req;
		r->jw_peak_footprint_ratio =
		        (double)r->peak_footprint_bytes / (double)r->peak_live_bytes_req;
	}
}

/*
 * A replay a panic stopped still says what it did up to the stop (issue 16): the threads'
 * own counters, the peaks, and the core's counts of sleeps, retries, deadlocks and held
 * pages.  Not the backend's memory or statistics: the panicking thread may have died
 * holding a backend lock.  Throughput is left at 0 (the stopped pass has no end).
 */
/*
 * The trace's own counts, once per trace like events: the events that become no
 * operation are the NULL allocations, the NULL and unmatched frees, and the zero-size
 * allocations with their frees (plan.c drops them; they were dropped without a word).
 */
static void trace_counts(struct replay *rp, const struct kmb_trace_facts *facts)
{
	struct kmb_replay_result *r = rp->res;

	r->events = facts->events;
	r->zero_size_allocs = rp->plan->dropped_zero;
	r->events_not_replayed = facts->failed_allocs + facts->null_frees + facts->unmatched_frees +
	                         rp->plan->dropped_zero + rp->plan->dropped_zero_frees;
}

static void collect_aborted(struct replay *rp, const struct kmb_trace_facts *facts)
{
	struct kmb_replay_result *r = rp->res;

	merge_threads(rp);
	trace_counts(rp, facts);
	kmb__memstat_core(&r->mem);
	collect_ratios(r);
	r->mem_bytes = (uint64_t)r->mem.mem_pages * KMB_PAGE_SIZE;
	r->ops_per_sec = r->ops_per_cpu_sec = 0;
}

/* The memory statistics are read first: what follows allocates (with malloc). */
static void collect(struct replay *rp, const struct kmb_trace_facts *facts)
{
	struct kmb_replay_result *r = rp->res;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	kmb_memstat(&r->mem);
	merge_threads(rp);
	trace_counts(rp, facts);
	/* counted like allocs and frees: once per copy and measured pass (issue 16) */
	r->unmatched_frees = facts->unmatched_frees * rp->replicas * r->repeat;
	collect_ratios(r);
	r->mem_bytes = (uint64_t)r->mem.mem_pages * KMB_PAGE_SIZE;
	r->meta_bytes_at_end = (uint64_t)r->mem.meta_pages * KMB_PAGE_SIZE;
	r->has_extfrag = true;
	for (unsigned o = 0; o < KMB_EXTFRAG_ORDERS && r->has_extfrag; o++)
		r->has_extfrag = kmb_extfrag(o, &r->extfrag_unusable[o], &r->extfrag_index[o]) == 0;
	r->nstats = kmb_backend_stats(r->stats, KMB_MAX_STATS);
	r->invariants = kmb_invariants();
	collect_types(r);
	collect_caches(rp);
	f = open_memstream(&buf, &len);
	if (f != NULL) {
		kmb_vmstat_m(f);
		fclose(f);
		r->vmstat = buf;
	}
}

static int run_passes(struct replay *rp, const struct kmb_trace_facts *facts)
{
	unsigned started = start_threads(rp), total = rp->warmup + rp->res->repeat;

	for (unsigned phase = 1; phase <= total && !rp->res->aborted; phase++) {
		if (phase > 1)
			free_live(rp);
		if (phase == rp->warmup + 1 && rp->warmup > 0)
			forget_warmup(rp);
		start_pass(rp, phase, started);
		wait_pass(rp);
		if (phase > rp->warmup)
			rp->res->seconds += pass_seconds(rp);
	}
	stop_threads(rp, started);
	if (!rp->res->aborted)
		collect(rp, facts);
	else
		collect_aborted(rp, facts);
	return rp->res->aborted ? -ECANCELED : 0;
}

/* ---- the entry point ---------------------------------------------------------------------- */

/* The cycle counter's smallest step, in ns: latencies are multiples of it. */
static double timer_resolution_ns(void)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 1000; i++) {
		uint64_t a = kmb_cycles(), b = kmb_cycles();

		while (b == a)
			b = kmb_cycles();
		if (b - a < best)
			best = b - a;
	}
	return (double)best * kmb_clock_ns_per_cycle();
}

/* Before boot: whatever the result holds is not the allocator's to serve (theory 8.). */
static int init_result(struct replay *rp, const char *trace_path)
{
	struct kmb_replay_result *r = rp->res;
	const struct kmb_replay_opts *o = rp->o;

	memset(r, 0, sizeof(*r));
	snprintf(r->backend, sizeof(r->backend), "%s", o->backend);
	snprintf(r->trace, sizeof(r->trace), "%s", trace_path);
	snprintf(r->mapping, sizeof(r->mapping), "%s", rp->copies ? "copies" : "streams");
	kmb_hist_init(&r->alloc_ns);
	kmb_hist_init(&r->free_ns);
	r->size_alloc_ns = calloc(KMB_SIZE_CLASSES, sizeof(*r->size_alloc_ns));
	r->size_free_ns = calloc(KMB_SIZE_CLASSES, sizeof(*r->size_free_ns));
	r->nsamples_cap = 1000;
	r->samples = calloc(r->nsamples_cap, sizeof(*r->samples));
	if (r->size_alloc_ns == NULL || r->size_free_ns == NULL || r->samples == NULL)
		return -ENOMEM;
	for (unsigned k = 0; k < KMB_SIZE_CLASSES; k++) {
		kmb_hist_init(&r->size_alloc_ns[k]);
		kmb_hist_init(&r->size_free_ns[k]);
	}
	r->threads = rp->nthreads;
	r->replicate = rp->replicas;
	r->repeat = o->repeat ? o->repeat : 1;
	r->strict = o->strict;
	kmb_clock_calibrate();
	r->timer_overhead_ns = kmb_clock_overhead_ns();
	r->timer_resolution_ns = timer_resolution_ns();
	r->latency_every = !o->timing ? 0 : o->latency_every > 1 ? o->latency_every : 1;
	return 0;
}

static int prepare(struct replay *rp, char *err, size_t errlen)
{
	const struct kmb_plan *plan = rp->plan;
	uint64_t total = (uint64_t)plan->nop * rp->replicas * rp->res->repeat;
	int rc;

	rp->sample_every = total / rp->res->nsamples_cap ? total / rp->res->nsamples_cap : 1;
	rp->g.next_sample = rp->sample_every;
	if (emem_map(&rp->m_slots,
	             ((size_t)plan->nslots * rp->replicas + 1) * sizeof(*rp->slots)) != 0)
		rc = -ENOMEM;
	else if ((rp->slots = rp->m_slots.p, rc = make_types(rp)) == 0 &&
	         (rc = number_ops(rp)) == 0 && (rc = make_threads(rp)) == 0)
		rc = schedule(rp);
	if (rc != 0)
		snprintf(err, errlen, "replay set-up: %s", strerror(-rc));
	return rc;
}

static void release(struct replay *rp, bool clean)
{
	if (clean && rp->slots)
		free_live(rp);
	for (uint32_t i = 0; clean && rp->caches && i < rp->plan->ncaches; i++)
		if (rp->caches[i])
			kmem_cache_destroy(rp->caches[i]);
	for (uint32_t i = 0; rp->types && i < rp->plan->ntypes; i++)
		if (rp->types[i])
			kmb_malloc_type_destroy(rp->types[i]);
	emem_unmap(&rp->m_thr);
	emem_unmap(&rp->m_ops);
	emem_unmap(&rp->m_types);
	emem_unmap(&rp->m_caches);
	emem_unmap(&rp->m_slots);
	emem_unmap(&rp->m_seq);
}

static int boot(struct replay *rp, char *err, size_t errlen)
{
	unsigned cpu_node[KMB_MAX_CPUS];
	struct kmb_config cfg = {.backend = rp->o->backend,
	                         .mem_bytes = rp->o->mem_bytes,
	                         .nodes = rp->topo.nnodes,
	                         .ncpus = rp->nthreads,
	                         .invariants = rp->o->invariants,
	                         .cpu_node = cpu_node,
	                         .fault_mtbf = rp->o->fault_mtbf,
	                         .seed = 1};
	unsigned pu[KMB_MAX_CPUS];
	int rc;

	kmb_topo_place(&rp->topo, rp->nthreads, rp->o->compact, pu);
	for (unsigned i = 0; i < rp->nthreads; i++)
		cpu_node[i] = rp->topo.pu_node[pu[i]];
	rc = kmb_boot(&cfg);
	if (rc != 0)
		snprintf(err, errlen, "cannot boot backend '%s': %s%s", rp->o->backend,
		         rc == -ENOENT ? "unknown backend (kmbench list)" : strerror(-rc),
		         rc == -ENOMEM ? " (the process has no room for the simulated memory or "
		                         "the backend's state: ulimit -v?)"
		                       : "");
	return rc;
}

/* Why the replay stopped: at a trace event, or before any (a thread not created). */
static void aborted_err(const struct replay *rp, char *err, size_t errlen)
{
	const struct kmb_replay_result *res = rp->res;

	if (res->abort_event == KMB_NO_EVENT)
		snprintf(err, errlen, "replay on %s aborted before any operation: %s",
		         rp->o->backend, res->abort_msg);
	else
		snprintf(err, errlen, "replay on %s aborted at trace event %u: %s", rp->o->backend,
		         res->abort_event, res->abort_msg);
}

/* Booted: set up, replay, tear down. */
static int replay_booted(struct replay *rp, const struct kmb_trace_facts *facts, char *err,
                         size_t errlen)
{
	struct kmb_replay_result *res = rp->res;
	kmb_panic_handler_t old = kmb_set_panic_handler(replay_panic);
	int rc;

	kmb_context_reset();
	kmb_context_set_policy(rp->o->strict_context ? KMB_CTX_STRICT : KMB_CTX_REPORT);
	rc = prepare(rp, err, errlen);

	if (rc == 0 && (rc = run_passes(rp, facts)) != 0)
		aborted_err(rp, err, errlen);
	release(rp, rc == 0);
	kmb_set_panic_handler(old);
	kmb_context_set_policy(KMB_CTX_DEFAULT);
	if (res->aborted || rc != 0) {
		kmb_shutdown_abandon(); /* caches and blocks left by the panic go with it */
	} else if (kmb_shutdown() != 0) {
		snprintf(err, errlen, "%s: memory not returned at shutdown (see above)",
		         rp->o->backend);
		rc = -EBUSY;
	}
	return rc;
}

static bool use_copies(const struct kmb_replay_opts *o, unsigned threads, unsigned replicas)
{
	if (o->map == KMB_MAP_COPIES)
		return true;
	if (o->map == KMB_MAP_STREAMS)
		return false;
	return replicas >= threads;
}

int kmb_replay(const struct kmb_plan *plan, const struct kmb_trace_facts *facts,
               const char *trace_path, const struct kmb_replay_opts *opts,
               struct kmb_replay_result *res, char *err, size_t errlen)
{
	struct emem self;
	struct replay *rp;
	int rc;

	memset(res, 0, sizeof(*res));
	if ((opts->threads ? opts->threads : 1) > KMB_MAX_CPUS) {
		snprintf(err, errlen, "at most %d threads", KMB_MAX_CPUS);
		return -EINVAL;
	}
	if (emem_map(&self, sizeof(*rp)) != 0) {
		snprintf(err, errlen, "replay set-up: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	rp = self.p;
	*rp = (struct replay){.plan = plan, .o = opts, .res = res};
	rp->nthreads = opts->threads ? opts->threads : 1;
	rp->replicas = opts->replicate ? opts->replicate : 1;
	rp->warmup = opts->warmup;
	rp->shared = rp->nthreads > 1;
	rp->copies = use_copies(opts, rp->nthreads, rp->replicas);
	pthread_mutex_init(&rp->abort_lock, NULL);
	pthread_mutex_init(&rp->gate_lock, NULL);
	pthread_cond_init(&rp->gate_cv, NULL);
	pthread_cond_init(&rp->main_cv, NULL);
	if ((rc = init_result(rp, trace_path)) != 0)
		snprintf(err, errlen, "replay set-up: %s", strerror(-rc));
	else if ((rc = kmb_topo_load(&rp->topo, opts->topology, err, errlen)) == 0) {
		snprintf(res->topology, sizeof(res->topology), "%s", rp->topo.desc);
		if ((rc = boot(rp, err, errlen)) == 0)
			rc = replay_booted(rp, facts, err, errlen);
		kmb_topo_free(&rp->topo);
	}
	pthread_mutex_destroy(&rp->abort_lock);
	pthread_mutex_destroy(&rp->gate_lock);
	pthread_cond_destroy(&rp->gate_cv);
	pthread_cond_destroy(&rp->main_cv);
	emem_unmap(&self);
	return rc;
}

void kmb_replay_result_free(struct kmb_replay_result *res)
{
	free(res->vmstat);
	free(res->types);
	free(res->caches);
	free(res->samples);
	free(res->size_alloc_ns);
	free(res->size_free_ns);
	res->size_alloc_ns = res->size_free_ns = NULL;
	res->vmstat = NULL;
	res->types = NULL;
	res->caches = NULL;
	res->samples = NULL;
}
