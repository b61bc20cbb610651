/*
 * bench/engine/replay.c - the replay engine: a trace's plan, executed against one backend by
 * one or more threads placed on the machine's (or a described) topology.
 *
 * 1. Plan.  workloads/plan.c has replaced pointers by slot numbers, so replay does no
 *    hashing: a slot holds the live object of one pointer.  Each call site becomes a
 *    malloc type; each traced cache a kmem_cache of its object size.
 * 2. Threads.  Each traced CPU is a stream; stream c of replica r runs on thread
 *    (r * ncpus_traced + c) % threads.  --replicate K runs K disjoint copies of the trace
 *    at once (own slots, shared types and caches) to load many cores with a one-CPU trace;
 *    --repeat K replays the whole thing K times, freeing what is left between passes.
 *    Thread i is attached as CPU index i, so per-CPU caches are its own.
 * 3. Order.  Every operation on a slot has its sequence number on that slot (alloc 0,
 *    free 1, alloc 2, ...).  An operation runs when the slot's generation equals it, so a
 *    free waits only for the allocation it depends on (and an allocation for the free of
 *    the slot's previous object) when that ran on another thread; a thread's own
 *    operations are already in order.  Waiting spins briefly, then blocks in
 *    kmb_thread_block(), which counts the thread as stuck for deadlock detection.
 *    --order strict keeps the global order of the trace instead (a ticket).
 * 4. Topology (topology.c): the machine's by default, or --topology (hwloc synthetic or
 *    XML).  Simulated memory is split across its NUMA nodes; each thread's CPU index maps
 *    to its PU's node (kmb_config.cpu_node), so backends allocate from the thread's node
 *    first.  Threads are bound to their PUs only on the real topology.
 * 5. Measurement.  Each call is timed with the cycle counter and recorded in ns in the
 *    thread's log-linear histograms (alloc, free, and both by requested size class),
 *    merged at the end; the timer's own cost
 *    is measured and reported.  Outside the timed region: live requested and usable bytes
 *    and their peaks (atomics: threads share them), local/remote allocations per node
 *    (the object's frame node against the thread's), cross-CPU and cross-node frees, and
 *    about 1000 samples of live bytes, footprint and free memory over the run.
 *    Internal fragmentation is taken when live requested bytes peak:
 *    100 * (usable - requested) / usable.  Johnstone & Wilson's measures: footprint at
 *    the moment of peak live over peak live, and peak footprint over peak live.
 *    --pace timestamps[=SCALE] waits before each operation until the trace's gap since its
 *    first event, times SCALE, has passed (as fast as possible by default).
 * 6. A panic (a deadlock, an INVARIANTS check) in any thread longjmps back to that
 *    thread's loop; the replay is marked aborted with the message and the trace event,
 *    the other threads stop at their next operation, and the system is abandoned.
 * 7. Memory of the engine itself: per operation 24 bytes of schedule, per slot 40 bytes,
 *    per thread two histograms (18 KiB each): bounded by the trace, not by time.
 */
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/internal.h"
#include "results/results.h"

#define SPIN_TRIES 200 /* ~ a few microseconds of pause before blocking */

struct rslot {
	void *p;
	uint64_t req, usable;
	uint32_t owner;  /* type or cache index */
	uint16_t thread; /* thread that allocated it */
	uint8_t kind;    /* KMB_OP_KMALLOC or KMB_OP_CACHE_ALLOC; 0 = empty */
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

struct replay;

struct rthread {
	struct replay *rp;
	unsigned idx, pu, node;
	struct rop *ops;
	size_t nops, cap;
	struct kmb_hist alloc_ns, free_ns;
	struct kmb_hist *size_alloc, *size_free; /* by requested size class */
	uint64_t allocs, frees, failed, skipped, page_ops, cross_cpu, cross_node;
	uint64_t t0_ns;    /* pacing: when this pass started */
	uint64_t lat_left; /* operations until the next timed one (1: this one) */
	uint64_t rng;      /* xorshift64 state for the gaps between timed operations */
	uint64_t local[KMB_MAX_NODES], remote[KMB_MAX_NODES];
	int bind_rc;
	pthread_t th;
};

struct replay {
	const struct kmb_plan *plan;
	const struct kmb_replay_opts *o;
	struct kmb_replay_result *res;
	struct kmb_topo topo;
	struct malloc_type **types;
	struct kmem_cache **caches;
	struct rslot *slots; /* plan->nslots * replicas */
	uint32_t *op_seq;    /* per plan op: its sequence number on its slot */
	struct rthread *thr;
	unsigned nthreads, replicas, ncpus_traced;
	bool shared; /* several threads: the counters below are updated atomically */
	uint64_t live_req, live_usable, live_objs, ops_done, ticket;
	uint64_t sample_every, next_sample;
	int abort; /* atomic: a thread panicked */
	/* start gate: every thread attached before any runs (a thread not yet attached would
	 * let deadlock detection think the others are the only ones left) */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cv;
	unsigned gate_arrived;
	bool gate_open;
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

	rp->types = calloc(plan->ntypes + 1, sizeof(*rp->types));
	rp->caches = calloc(plan->ncaches + 1, sizeof(*rp->caches));
	if (!rp->types || !rp->caches)
		return -ENOMEM;
	for (uint32_t i = 0; i < plan->ntypes; i++)
		if ((rp->types[i] = kmb_malloc_type_create(plan->type_name[i])) == NULL)
			return -ENOMEM;
	for (uint32_t i = 0; i < plan->ncaches; i++)
		if ((rp->caches[i] = kmem_cache_create(plan->cache_name[i], plan->cache_size[i], 0,
		                                       0)) == NULL)
			return -ENOMEM;
	return 0;
}

/* Sequence numbers on slots, and the number of traced CPUs. */
static int number_ops(struct replay *rp)
{
	const struct kmb_plan *plan = rp->plan;
	uint32_t *count = calloc(plan->nslots + 1, sizeof(*count));

	rp->op_seq = calloc(plan->nop + 1, sizeof(*rp->op_seq));
	if (count == NULL || rp->op_seq == NULL) {
		free(count);
		return -ENOMEM;
	}
	rp->ncpus_traced = 1;
	for (size_t i = 0; i < plan->nop; i++) {
		const struct kmb_op *op = &plan->op[i];

		rp->op_seq[i] = count[op->slot]++;
		if (op->cpu + 1u > rp->ncpus_traced)
			rp->ncpus_traced = op->cpu + 1u;
	}
	free(count);
	return 0;
}

static int push_op(struct rthread *t, struct rop r)
{
	if (t->nops == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		struct rop *n = realloc(t->ops, cap * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		t->ops = n;
		t->cap = cap;
	}
	t->ops[t->nops++] = r;
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
	} *last = calloc(nslots + 1, sizeof(*last));
	uint64_t ticket = 0;
	int rc = 0;

	if (last == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < plan->nop && rc == 0; i++) {
		for (unsigned r = 0; r < rp->replicas && rc == 0; r++) {
			unsigned stream = r * rp->ncpus_traced + plan->op[i].cpu;
			unsigned ti = stream % rp->nthreads;
			struct last *l = &last[(size_t)r * plan->nslots + plan->op[i].slot];
			struct rop e = {(uint32_t)i, rp->op_seq[i], (uint16_t)r, 0, 0, ticket++};

			if (l->thread1 != 0 && l->thread1 - 1 != ti) {
				e.wait = 1;
				rp->thr[l->thread1 - 1].ops[l->idx].post = 1;
			}
			rc = push_op(&rp->thr[ti], e);
			l->thread1 = ti + 1;
			l->idx = (uint32_t)(rp->thr[ti].nops - 1);
		}
	}
	free(last);
	return rc;
}

static int make_threads(struct replay *rp)
{
	unsigned pu[KMB_MAX_CPUS];

	rp->thr = calloc(rp->nthreads, sizeof(*rp->thr));
	if (rp->thr == NULL)
		return -ENOMEM;
	kmb_topo_place(&rp->topo, rp->nthreads, rp->o->compact, pu);
	for (unsigned i = 0; i < rp->nthreads; i++) {
		struct rthread *t = &rp->thr[i];

		t->rp = rp;
		t->idx = i;
		t->pu = pu[i];
		t->node = rp->topo.pu_node[pu[i]];
		kmb_hist_init(&t->alloc_ns);
		kmb_hist_init(&t->free_ns);
		t->size_alloc = calloc(KMB_SIZE_CLASSES, sizeof(*t->size_alloc));
		t->size_free = calloc(KMB_SIZE_CLASSES, sizeof(*t->size_free));
		if (t->size_alloc == NULL || t->size_free == NULL)
			return -ENOMEM;
		for (unsigned k = 0; k < KMB_SIZE_CLASSES; k++) {
			kmb_hist_init(&t->size_alloc[k]);
			kmb_hist_init(&t->size_free[k]);
		}
	}
	return 0;
}

/* ---- live bytes, peaks, samples ---------------------------------------------------------- */

/* With one thread the replay's own counters are plain: no lock prefix on the fast path. */
static inline uint64_t ctr_add(const struct replay *rp, uint64_t *p, uint64_t v)
{
	if (!rp->shared)
		return *p += v;
	return __atomic_add_fetch(p, v, __ATOMIC_RELAXED);
}

static void ctr_max(const struct replay *rp, uint64_t *p, uint64_t v)
{
	uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);

	if (!rp->shared) {
		*p = v > cur ? v : cur;
		return;
	}
	while (v > cur &&
	       !__atomic_compare_exchange_n(p, &cur, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void note_peak(struct replay *rp, uint64_t req, uint64_t usable)
{
	struct kmb_replay_result *r = rp->res;

	/* racy between threads, exact with one: the state at the moment of the peak */
	ctr_max(rp, &r->peak_live_bytes_req, req);
	__atomic_store_n(&r->live_bytes_alloc_at_peak, usable, __ATOMIC_RELAXED);
	__atomic_store_n(&r->footprint_at_peak_bytes,
	                 (uint64_t)kmb_footprint_pages() * KMB_PAGE_SIZE, __ATOMIC_RELAXED);
	__atomic_store_n(&r->peak_at_op, __atomic_load_n(&rp->ops_done, __ATOMIC_RELAXED) + 1,
	                 __ATOMIC_RELAXED);
}

static void note_live(struct replay *rp, int64_t dreq, int64_t dusable, int64_t dobjs)
{
	struct kmb_replay_result *r = rp->res;
	uint64_t req = ctr_add(rp, &rp->live_req, (uint64_t)dreq);
	uint64_t usable = ctr_add(rp, &rp->live_usable, (uint64_t)dusable);

	ctr_add(rp, &rp->live_objs, (uint64_t)dobjs);
	if (dreq <= 0)
		return;
	if (usable > __atomic_load_n(&r->peak_live_bytes_alloc, __ATOMIC_RELAXED))
		ctr_max(rp, &r->peak_live_bytes_alloc, usable);
	if (req > __atomic_load_n(&r->peak_live_bytes_req, __ATOMIC_RELAXED))
		note_peak(rp, req, usable);
}

/* Sample number k (1-based) is due after operation k * sample_every. */
static void take_sample(struct replay *rp, uint64_t k, uint64_t done)
{
	struct kmb_replay_result *r = rp->res;
	struct kmb_sample *s;
	struct kmb_memstat ms;

	if (k - 1 >= r->nsamples_cap)
		return;
	s = &r->samples[k - 1];
	kmb_memstat(&ms);
	s->ops = done;
	s->live_objects = __atomic_load_n(&rp->live_objs, __ATOMIC_RELAXED);
	s->live_bytes_req = __atomic_load_n(&rp->live_req, __ATOMIC_RELAXED);
	s->live_bytes_alloc = __atomic_load_n(&rp->live_usable, __ATOMIC_RELAXED);
	s->footprint_bytes = (uint64_t)(ms.held_pages + ms.meta_pages) * KMB_PAGE_SIZE;
	s->meta_bytes = (uint64_t)ms.meta_pages * KMB_PAGE_SIZE;
	s->free_bytes = (uint64_t)ms.free_pages * KMB_PAGE_SIZE;
	s->largest_free = ms.largest_free;
	__atomic_store_n(&s->valid, 1, __ATOMIC_RELEASE);
}

/* The thread that moves next_sample on takes the sample (no division per operation). */
static void samples_due(struct replay *rp, uint64_t done)
{
	uint64_t next = __atomic_load_n(&rp->next_sample, __ATOMIC_RELAXED);

	while (done >= next) {
		if (__atomic_compare_exchange_n(&rp->next_sample, &next, next + rp->sample_every,
		                                false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			take_sample(rp, next / rp->sample_every, done);
		/* else next was reloaded: another thread took it */
	}
}

static void count_op(struct replay *rp)
{
	uint64_t done = ctr_add(rp, &rp->ops_done, 1);

	if (kmb__unlikely(done >= __atomic_load_n(&rp->next_sample, __ATOMIC_RELAXED)))
		samples_due(rp, done);
	if (kmb__unlikely(done == rp->o->at_op) && rp->o->at_op_fn)
		rp->o->at_op_fn(rp->o->at_op_arg);
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
	unsigned every = t->rp->o->latency_every;

	if (!t->rp->o->timing)
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

/* Time stmt into hist and the size class's histogram (cls). */
#define TIMED(t, hist, cls, stmt)                                                                  \
	do {                                                                                       \
		if (time_this(t)) {                                                                \
			uint64_t t0_ = kmb_cycles();                                               \
			stmt;                                                                      \
			uint64_t t1_ = kmb_cycles_end();                                           \
			uint64_t ns_ = kmb_cycles_to_ns(t1_ > t0_ ? t1_ - t0_ : 0);                \
			kmb_hist_record(&(hist), ns_);                                             \
			kmb_hist_record(&(cls), ns_);                                              \
		} else {                                                                           \
			stmt;                                                                      \
		}                                                                                  \
	} while (0)

static void did_alloc(struct rthread *t, struct rslot *sl, const struct kmb_op *op, void *p,
                      uint8_t kind)
{
	int node;

	if (p == NULL) {
		t->failed++;
		return;
	}
	t->allocs++;
	sl->p = p;
	sl->kind = kind;
	sl->owner = op->type;
	sl->thread = (uint16_t)t->idx;
	sl->req = op->size;
	sl->usable = kmalloc_usable_size(p);
	node = kmb_addr_node(p);
	if (node >= 0 && node < KMB_MAX_NODES)
		(unsigned)node == t->node ? t->local[node]++ : t->remote[node]++;
	note_live(t->rp, (int64_t)sl->req, (int64_t)sl->usable, 1);
}

static void do_free(struct rthread *t, struct rslot *sl)
{
	struct replay *rp = t->rp;

	if (sl->kind == 0) { /* its allocation failed */
		t->skipped++;
		return;
	}
	t->frees++;
	if (sl->thread != t->idx) {
		t->cross_cpu++;
		t->cross_node += rp->thr[sl->thread].node != t->node;
	}
	note_live(rp, -(int64_t)sl->req, -(int64_t)sl->usable, -1);
	struct kmb_hist *cls = &t->size_free[kmb_size_class(sl->req)];

	if (sl->kind == KMB_OP_KMALLOC)
		TIMED(t, t->free_ns, *cls, kfree(sl->p, rp->types[sl->owner]));
	else
		TIMED(t, t->free_ns, *cls, kmem_cache_free(rp->caches[sl->owner], sl->p));
	sl->kind = 0;
}

static void exec_op(struct rthread *t, const struct kmb_op *op, struct rslot *sl)
{
	struct replay *rp = t->rp;
	struct kmb_hist *cls = &t->size_alloc[kmb_size_class(op->size)];
	void *p;

	switch (op->kind) {
	case KMB_OP_KMALLOC:
		TIMED(t, t->alloc_ns, *cls, p = kmalloc(op->size, rp->types[op->type], op->flags));
		did_alloc(t, sl, op, p, KMB_OP_KMALLOC);
		break;
	case KMB_OP_CACHE_ALLOC:
		TIMED(t, t->alloc_ns, *cls, p = kmem_cache_alloc(rp->caches[op->type], op->flags));
		did_alloc(t, sl, op, p, KMB_OP_CACHE_ALLOC);
		break;
	case KMB_OP_KFREE:
	case KMB_OP_CACHE_FREE:
		do_free(t, sl);
		break;
	default:
		t->page_ops++;
		break;
	}
}

/* ---- waiting for other threads ------------------------------------------------------------ */

struct dep {
	struct replay *rp;
	const uint32_t *gen;
	uint32_t want;
	uint64_t ticket;
};

static bool dep_ready(void *arg)
{
	const struct dep *d = arg;

	if (__atomic_load_n(&d->rp->abort, __ATOMIC_SEQ_CST))
		return true;
	if (d->rp->o->strict)
		return __atomic_load_n(&d->rp->ticket, __ATOMIC_SEQ_CST) == d->ticket;
	return __atomic_load_n(d->gen, __ATOMIC_SEQ_CST) == d->want;
}

static int wait_dep(struct rthread *t, struct rslot *sl, const struct rop *e)
{
	struct dep d = {t->rp, &sl->gen, e->seq, e->ticket};
	char what[96], report[2048];

	for (int i = 0; i < SPIN_TRIES; i++) {
		if (dep_ready(&d))
			return 0;
		sched_yield();
	}
	snprintf(what, sizeof(what), "waits for trace event %u of another thread",
	         t->rp->plan->op[e->op].event);
	if (kmb_thread_block(dep_ready, &d, what, report, sizeof(report)) == 0)
		return 0;
	set_abort(t->rp, "deadlock", report, t->rp->plan->op[e->op].event);
	return -EDEADLK;
}

static void publish(struct replay *rp, struct rslot *sl, const struct rop *e)
{
	__atomic_store_n(&sl->gen, e->seq + 1, __ATOMIC_SEQ_CST);
	if (rp->o->strict)
		__atomic_store_n(&rp->ticket, e->ticket + 1, __ATOMIC_SEQ_CST);
	kmb_thread_unblock();
}

/* ---- pacing ------------------------------------------------------------------------------- */

/* --pace: wait until the trace's gap since its first event, scaled, has passed. */
static void pace(struct rthread *t, const struct kmb_op *op)
{
	const struct kmb_replay_opts *o = t->rp->o;
	const struct kmb_trace *tr = o->trace;
	uint64_t due, now;

	if (o->pace <= 0 || tr == NULL || op->event >= tr->nev || tr->nev == 0)
		return;
	due = t->t0_ns + (uint64_t)((double)(tr->ev[op->event].ts_ns - tr->ev[0].ts_ns) * o->pace);
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
	const struct kmb_op *ops = rp->plan->op;
	bool strict = rp->o->strict, paced = rp->o->pace > 0;

	t->lat_left = 1;
	t->rng = 0x9e3779b97f4a7c15ull * (t->idx + 1); /* any nonzero seed */
	for (size_t i = 0; i < t->nops; i++) {
		const struct rop *e = &t->ops[i];
		const struct kmb_op *op = &ops[e->op];
		struct rslot *sl = &rp->slots[(size_t)e->replica * rp->plan->nslots + op->slot];

		if ((e->wait || strict) && wait_dep(t, sl, e) != 0)
			return;
		if (__atomic_load_n(&rp->abort, __ATOMIC_RELAXED))
			return;
		replay_event = op->event;
		if (paced)
			pace(t, op);
		exec_op(t, op, sl);
		if (e->post || strict)
			publish(rp, sl, e);
		count_op(rp);
	}
}

static void gate_wait(struct replay *rp)
{
	pthread_mutex_lock(&rp->gate_lock);
	rp->gate_arrived++;
	pthread_cond_broadcast(&rp->gate_cv);
	while (!rp->gate_open)
		pthread_cond_wait(&rp->gate_cv, &rp->gate_lock);
	pthread_mutex_unlock(&rp->gate_lock);
}

/* Open the gate once the n started threads are all attached. */
static void gate_open(struct replay *rp, unsigned n)
{
	pthread_mutex_lock(&rp->gate_lock);
	while (rp->gate_arrived < n)
		pthread_cond_wait(&rp->gate_cv, &rp->gate_lock);
	rp->gate_open = true;
	pthread_cond_broadcast(&rp->gate_cv);
	pthread_mutex_unlock(&rp->gate_lock);
}

static void *thread_main(void *arg)
{
	struct rthread *t = arg;
	jmp_buf jb;
	char name[24];

	snprintf(name, sizeof(name), "replay-%u", t->idx);
	if (kmb_thread_attach(name, t->idx) != 0) {
		set_abort(t->rp, "set-up", "cannot attach a replay thread", 0);
		gate_wait(t->rp);
		return NULL;
	}
	gate_wait(t->rp);
	t->bind_rc = kmb_topo_bind_self(&t->rp->topo, t->pu);
	t->t0_ns = kmb__os_now_ns();
	replay_self = t;
	replay_jmp = &jb;
	if (setjmp(jb) == 0)
		run_schedule(t);
	replay_jmp = NULL;
	replay_self = NULL;
	kmb_thread_detach();
	return NULL;
}

/* One pass over the trace with every thread; returns its wall time in seconds. */
static double run_pass(struct replay *rp)
{
	uint64_t t0 = kmb__os_now_ns();
	unsigned started = 0;

	rp->gate_arrived = 0;
	rp->gate_open = false;
	for (unsigned i = 0; i < rp->nthreads; i++) {
		if (pthread_create(&rp->thr[i].th, NULL, thread_main, &rp->thr[i]) != 0) {
			set_abort(rp, "set-up", "cannot create a replay thread", 0);
			break;
		}
		started++;
	}
	gate_open(rp, started);
	for (unsigned i = 0; i < started; i++)
		pthread_join(rp->thr[i].th, NULL);
	return (double)(kmb__os_now_ns() - t0) / 1e9;
}

/* Free what is still live (between passes, and at the end of a clean replay). */
static void free_live(struct replay *rp)
{
	size_t n = (size_t)rp->plan->nslots * rp->replicas;

	for (size_t s = 0; s < n; s++) {
		struct rslot *sl = &rp->slots[s];

		if (sl->kind == KMB_OP_KMALLOC)
			kfree(sl->p, rp->types[sl->owner]);
		else if (sl->kind == KMB_OP_CACHE_ALLOC)
			kmem_cache_free(rp->caches[sl->owner], sl->p);
		if (sl->kind)
			note_live(rp, -(int64_t)sl->req, -(int64_t)sl->usable, -1);
		memset(sl, 0, sizeof(*sl));
	}
}

/* ---- results ------------------------------------------------------------------------------ */

static void merge_threads(struct replay *rp)
{
	struct kmb_replay_result *r = rp->res;

	for (unsigned i = 0; i < rp->nthreads; i++) {
		struct rthread *t = &rp->thr[i];

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
		r->cross_cpu_frees += t->cross_cpu;
		r->cross_node_frees += t->cross_node;
		for (unsigned n = 0; n < KMB_MAX_NODES; n++) {
			r->node_local_allocs[n] += t->local[n];
			r->node_remote_allocs[n] += t->remote[n];
		}
		r->threads_bound += t->bind_rc == 0;
	}
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

static void collect_ratios(struct kmb_replay_result *r)
{
	r->ops = r->allocs + r->frees;
	r->ops_per_sec = r->seconds > 0 ? (double)r->ops / r->seconds : 0;
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

static void collect(struct replay *rp, const struct kmb_trace_facts *facts)
{
	struct kmb_replay_result *r = rp->res;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	merge_threads(rp);
	r->events = facts->events;
	r->unmatched_frees = facts->unmatched_frees;
	kmb_memstat(&r->mem);
	collect_ratios(r);
	r->mem_bytes = (uint64_t)r->mem.mem_pages * KMB_PAGE_SIZE;
	r->meta_bytes_at_end = (uint64_t)r->mem.meta_pages * KMB_PAGE_SIZE;
	r->has_extfrag = true;
	for (unsigned o = 0; o < KMB_EXTFRAG_ORDERS && r->has_extfrag; o++)
		r->has_extfrag = kmb_extfrag(o, &r->extfrag_unusable[o], &r->extfrag_index[o]) == 0;
	r->nstats = kmb_backend_stats(r->stats, KMB_MAX_STATS);
	r->invariants = kmb_invariants();
	collect_types(r);
	f = open_memstream(&buf, &len);
	if (f != NULL) {
		kmb_vmstat_m(f);
		fclose(f);
		r->vmstat = buf;
	}
}

/* ---- the entry point ---------------------------------------------------------------------- */

static void init_result(struct replay *rp, const char *trace_path)
{
	struct kmb_replay_result *r = rp->res;
	const struct kmb_replay_opts *o = rp->o;

	memset(r, 0, sizeof(*r));
	snprintf(r->backend, sizeof(r->backend), "%s", o->backend);
	snprintf(r->trace, sizeof(r->trace), "%s", trace_path);
	kmb_hist_init(&r->alloc_ns);
	kmb_hist_init(&r->free_ns);
	r->size_alloc_ns = calloc(KMB_SIZE_CLASSES, sizeof(*r->size_alloc_ns));
	r->size_free_ns = calloc(KMB_SIZE_CLASSES, sizeof(*r->size_free_ns));
	for (unsigned k = 0; k < KMB_SIZE_CLASSES && r->size_alloc_ns && r->size_free_ns; k++) {
		kmb_hist_init(&r->size_alloc_ns[k]);
		kmb_hist_init(&r->size_free_ns[k]);
	}
	r->threads = rp->nthreads;
	r->replicate = rp->replicas;
	r->repeat = o->repeat ? o->repeat : 1;
	r->strict = o->strict;
	kmb_clock_calibrate();
	r->timer_overhead_ns = kmb_clock_overhead_ns();
	r->latency_every = !o->timing ? 0 : o->latency_every > 1 ? o->latency_every : 1;
}

static int prepare(struct replay *rp, char *err, size_t errlen)
{
	const struct kmb_plan *plan = rp->plan;
	uint64_t total = (uint64_t)plan->nop * rp->replicas * rp->res->repeat;
	int rc;

	rp->slots = calloc((size_t)plan->nslots * rp->replicas + 1, sizeof(*rp->slots));
	rp->res->nsamples_cap = 1000;
	rp->res->samples = calloc(rp->res->nsamples_cap, sizeof(*rp->res->samples));
	rp->sample_every = total / rp->res->nsamples_cap ? total / rp->res->nsamples_cap : 1;
	rp->next_sample = rp->sample_every;
	if (rp->slots == NULL || rp->res->samples == NULL)
		rc = -ENOMEM;
	else if ((rc = make_types(rp)) == 0 && (rc = number_ops(rp)) == 0 &&
	         (rc = make_threads(rp)) == 0)
		rc = schedule(rp);
	if (rc != 0)
		snprintf(err, errlen, "replay set-up: %s", strerror(-rc));
	return rc;
}

static void release(struct replay *rp, bool clean)
{
	if (clean)
		free_live(rp);
	for (uint32_t i = 0; clean && rp->caches && i < rp->plan->ncaches; i++)
		if (rp->caches[i])
			kmem_cache_destroy(rp->caches[i]);
	for (uint32_t i = 0; rp->types && i < rp->plan->ntypes; i++)
		if (rp->types[i])
			kmb_malloc_type_destroy(rp->types[i]);
	for (unsigned i = 0; rp->thr && i < rp->nthreads; i++) {
		free(rp->thr[i].ops);
		free(rp->thr[i].size_alloc);
		free(rp->thr[i].size_free);
	}
	free(rp->thr);
	free(rp->types);
	free(rp->caches);
	free(rp->slots);
	free(rp->op_seq);
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
		snprintf(err, errlen, "cannot boot backend '%s': %s", rp->o->backend,
		         rc == -ENOENT ? "unknown backend (kmbench list)" : strerror(-rc));
	return rc;
}

static int run_passes(struct replay *rp, const struct kmb_trace_facts *facts)
{
	for (unsigned pass = 0; pass < rp->res->repeat && !rp->res->aborted; pass++) {
		if (pass > 0)
			free_live(rp);
		rp->ticket = 0; /* --order strict: every pass starts at the trace's first event */
		rp->res->seconds += run_pass(rp);
	}
	if (!rp->res->aborted)
		collect(rp, facts);
	return rp->res->aborted ? -ECANCELED : 0;
}

int kmb_replay(const struct kmb_plan *plan, const struct kmb_trace_facts *facts,
               const char *trace_path, const struct kmb_replay_opts *opts,
               struct kmb_replay_result *res, char *err, size_t errlen)
{
	struct replay rp = {.plan = plan, .o = opts, .res = res};
	kmb_panic_handler_t old;
	int rc;

	memset(res, 0, sizeof(*res));
	rp.nthreads = opts->threads ? opts->threads : 1;
	rp.replicas = opts->replicate ? opts->replicate : 1;
	rp.shared = rp.nthreads > 1;
	if (rp.nthreads > KMB_MAX_CPUS) {
		snprintf(err, errlen, "at most %d threads", KMB_MAX_CPUS);
		return -EINVAL;
	}
	if ((rc = kmb_topo_load(&rp.topo, opts->topology, err, errlen)) != 0)
		return rc;
	pthread_mutex_init(&rp.abort_lock, NULL);
	pthread_mutex_init(&rp.gate_lock, NULL);
	pthread_cond_init(&rp.gate_cv, NULL);
	init_result(&rp, trace_path);
	snprintf(res->topology, sizeof(res->topology), "%s", rp.topo.desc);
	if ((rc = boot(&rp, err, errlen)) != 0)
		goto out_topo;
	old = kmb_set_panic_handler(replay_panic);
	rc = prepare(&rp, err, errlen);
	if (rc == 0 && (rc = run_passes(&rp, facts)) != 0)
		snprintf(err, errlen, "replay on %s aborted at trace event %u: %s", opts->backend,
		         res->abort_event, res->abort_msg);
	release(&rp, rc == 0);
	kmb_set_panic_handler(old);
	if (res->aborted || rc != 0) {
		kmb_shutdown_abandon(); /* caches and blocks left by the panic go with it */
	} else if (kmb_shutdown() != 0) {
		snprintf(err, errlen, "%s: memory not returned at shutdown (see above)",
		         opts->backend);
		rc = -EBUSY;
	}
out_topo:
	kmb_topo_free(&rp.topo);
	pthread_mutex_destroy(&rp.abort_lock);
	pthread_mutex_destroy(&rp.gate_lock);
	pthread_cond_destroy(&rp.gate_cv);
	return rc;
}

void kmb_replay_result_free(struct kmb_replay_result *res)
{
	free(res->vmstat);
	free(res->types);
	free(res->samples);
	free(res->size_alloc_ns);
	free(res->size_free_ns);
	res->size_alloc_ns = res->size_free_ns = NULL;
	res->vmstat = NULL;
	res->types = NULL;
	res->samples = NULL;
}
