/*
 * bench/replay.c - the replay engine: a trace's plan, executed against one backend.
 *
 * 1. The plan (workloads/plan.c) has already replaced pointers by slot numbers, so the
 *    loop does no hashing: slot[s] holds the live object of slot s.  Each call site
 *    becomes a malloc type; each traced cache a kmem_cache of its object size.
 * 2. Each kmalloc/kfree/kmem_cache_* call is timed with the cycle counter (core/clock.h)
 *    and recorded in ns in a log-linear histogram (core/hist.h); the timer's own cost is
 *    measured and reported.  --no-timing leaves only the throughput clock.
 * 3. After every operation, outside the timed region: live requested bytes, live usable
 *    bytes (kmalloc_usable_size) and their peaks.  Internal fragmentation is measured at
 *    the moment live requested bytes peak: 100 * (usable - requested) / usable.  Peak
 *    footprint is the physical memory's high-water of pages held for data and metadata.
 *    Linux's extfrag indices of the page allocator are taken at the end of the replay.
 * 4. A failed M_NOWAIT allocation leaves its slot empty; its later free is skipped and
 *    counted.  Page events (mm_page_alloc/free) are counted and not yet replayed.
 * 5. A panic during the replay (a deadlock, an INVARIANTS check) does not kill the
 *    process: the handler records it and longjmps back here; the result is marked
 *    aborted with the panic message and the event's source line.
 * 6. At the end the `vmstat -m` table and the backend's declared counters are taken, every
 *    live object is freed and the backend is shut down, which checks that no page leaked.
 *    After a panic nothing of the allocator is trusted: kmb_shutdown_abandon().
 */
#include "bench.h"

#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/internal.h"
#include "results/results.h"

struct replay_state {
	const struct kmb_plan *plan;
	struct kmb_replay_result *res;
	struct malloc_type **types;
	struct kmem_cache **caches;
	struct slot {
		void *p;
		uint64_t req, usable;
		uint32_t owner; /* type or cache index */
		uint8_t kind;   /* KMB_OP_KMALLOC or KMB_OP_CACHE_ALLOC; 0 = empty */
	} * slot;
	uint64_t live_req, live_usable;
	size_t cur; /* index of the op being replayed */
	bool timing;
};

static _Thread_local jmp_buf *replay_jmp;
static _Thread_local struct kmb_replay_result *replay_res;

static void replay_panic(const struct kmb_panic_info *info)
{
	if (replay_jmp == NULL || replay_res == NULL) {
		fprintf(stderr, "kmbench: panic: %s\n", info->message);
		abort();
	}
	snprintf(replay_res->abort_msg, sizeof(replay_res->abort_msg), "%s panic: %s",
	         kmb_panic_kind_name(info->kind), info->message);
	replay_res->aborted = true;
	longjmp(*replay_jmp, 1);
}

static int setup(struct replay_state *st)
{
	const struct kmb_plan *plan = st->plan;

	st->types = calloc(plan->ntypes + 1, sizeof(*st->types));
	st->caches = calloc(plan->ncaches + 1, sizeof(*st->caches));
	st->slot = calloc(plan->nslots + 1, sizeof(*st->slot));
	if (!st->types || !st->caches || !st->slot)
		return -ENOMEM;
	for (uint32_t i = 0; i < plan->ntypes; i++)
		if ((st->types[i] = kmb_malloc_type_create(plan->type_name[i])) == NULL)
			return -ENOMEM;
	for (uint32_t i = 0; i < plan->ncaches; i++) {
		st->caches[i] = kmem_cache_create(plan->cache_name[i], plan->cache_size[i], 0, 0);
		if (st->caches[i] == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* Free what is still live, destroy caches (only after a clean replay: after a panic the
 * allocator's state is not trusted), and release the engine's own memory. */
static void teardown(struct replay_state *st, bool clean)
{
	const struct kmb_plan *plan = st->plan;

	for (uint32_t s = 0; clean && st->slot && s < plan->nslots; s++) {
		struct slot *sl = &st->slot[s];

		if (sl->kind == KMB_OP_KMALLOC)
			kfree(sl->p, st->types[sl->owner]);
		else if (sl->kind == KMB_OP_CACHE_ALLOC)
			kmem_cache_free(st->caches[sl->owner], sl->p);
	}
	for (uint32_t i = 0; clean && st->caches && i < plan->ncaches; i++)
		if (st->caches[i])
			kmem_cache_destroy(st->caches[i]);
	for (uint32_t i = 0; st->types && i < plan->ntypes; i++)
		if (st->types[i])
			kmb_malloc_type_destroy(st->types[i]);
	free(st->types);
	free(st->caches);
	free(st->slot);
}

static void note_peaks(struct replay_state *st)
{
	struct kmb_replay_result *r = st->res;

	if (st->live_req > r->peak_live_bytes_req) {
		r->peak_live_bytes_req = st->live_req;
		r->live_bytes_alloc_at_peak = st->live_usable;
	}
	if (st->live_usable > r->peak_live_bytes_alloc)
		r->peak_live_bytes_alloc = st->live_usable;
}

static void did_alloc(struct replay_state *st, const struct kmb_op *op, void *p, uint8_t kind)
{
	struct slot *sl = &st->slot[op->slot];

	if (p == NULL) {
		st->res->failed_allocs++;
		return;
	}
	st->res->allocs++;
	sl->p = p;
	sl->kind = kind;
	sl->owner = op->type;
	sl->req = op->size;
	sl->usable = kmalloc_usable_size(p);
	st->live_req += sl->req;
	st->live_usable += sl->usable;
	note_peaks(st);
}

static struct slot *take_slot(struct replay_state *st, const struct kmb_op *op)
{
	struct slot *sl = &st->slot[op->slot];

	if (sl->kind == 0) {
		st->res->skipped_frees++;
		return NULL;
	}
	st->live_req -= sl->req;
	st->live_usable -= sl->usable;
	st->res->frees++;
	return sl;
}

#define TIMED(hist, stmt)                                                                          \
	do {                                                                                       \
		if (st->timing) {                                                                  \
			uint64_t t0_ = kmb_cycles();                                               \
			stmt;                                                                      \
			kmb_hist_record(&(hist), kmb_cycles_to_ns(kmb_cycles() - t0_));            \
		} else {                                                                           \
			stmt;                                                                      \
		}                                                                                  \
	} while (0)

static void replay_op(struct replay_state *st, const struct kmb_op *op)
{
	struct kmb_replay_result *r = st->res;
	struct slot *sl;
	void *p;

	switch (op->kind) {
	case KMB_OP_KMALLOC:
		TIMED(r->alloc_ns, p = kmalloc(op->size, st->types[op->type], op->flags));
		did_alloc(st, op, p, KMB_OP_KMALLOC);
		break;
	case KMB_OP_CACHE_ALLOC:
		TIMED(r->alloc_ns, p = kmem_cache_alloc(st->caches[op->type], op->flags));
		did_alloc(st, op, p, KMB_OP_CACHE_ALLOC);
		break;
	case KMB_OP_KFREE:
	case KMB_OP_CACHE_FREE:
		if ((sl = take_slot(st, op)) == NULL)
			break;
		if (sl->kind == KMB_OP_KMALLOC)
			TIMED(r->free_ns, kfree(sl->p, st->types[sl->owner]));
		else
			TIMED(r->free_ns, kmem_cache_free(st->caches[sl->owner], sl->p));
		sl->kind = 0;
		break;
	default:
		r->page_ops_skipped++;
		break;
	}
}

/* The loop, behind a setjmp so that a panic comes back here. */
static void run_ops(struct replay_state *st)
{
	jmp_buf jb;
	const struct kmb_plan *plan = st->plan;
	volatile size_t i = 0;
	uint64_t t0 = kmb__os_now_ns();

	replay_jmp = &jb;
	replay_res = st->res;
	if (setjmp(jb) == 0) {
		for (i = 0; i < plan->nop; i++) {
			st->cur = i;
			replay_op(st, &plan->op[i]);
		}
	}
	st->res->seconds = (double)(kmb__os_now_ns() - t0) / 1e9;
	replay_jmp = NULL;
	replay_res = NULL;
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

static void collect(struct replay_state *st, const struct kmb_trace_facts *facts)
{
	struct kmb_replay_result *r = st->res;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	r->events = facts->events;
	r->unmatched_frees = facts->unmatched_frees;
	r->ops = r->allocs + r->frees;
	r->ops_per_sec = r->seconds > 0 ? (double)r->ops / r->seconds : 0;
	if (r->live_bytes_alloc_at_peak)
		r->internal_frag_pct =
		        100.0 * (double)(r->live_bytes_alloc_at_peak - r->peak_live_bytes_req) /
		        (double)r->live_bytes_alloc_at_peak;
	kmb_memstat(&r->mem);
	r->has_extfrag = true;
	for (unsigned o = 0; o < KMB_EXTFRAG_ORDERS && r->has_extfrag; o++)
		r->has_extfrag = kmb_extfrag(o, &r->extfrag_unusable[o], &r->extfrag_index[o]) == 0;
	r->peak_footprint_bytes = (uint64_t)r->mem.peak_pages * KMB_PAGE_SIZE;
	r->mem_bytes = (uint64_t)r->mem.mem_pages * KMB_PAGE_SIZE;
	r->meta_bytes_at_end = (uint64_t)r->mem.meta_pages * KMB_PAGE_SIZE;
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

int kmb_replay(const struct kmb_plan *plan, const struct kmb_trace_facts *facts,
               const char *trace_path, const struct kmb_replay_opts *opts,
               struct kmb_replay_result *res, char *err, size_t errlen)
{
	struct kmb_config cfg = {opts->backend, opts->mem_bytes, 1, 1, opts->invariants, NULL};
	struct replay_state st = {.plan = plan, .res = res, .timing = opts->timing};
	kmb_panic_handler_t old;
	int rc;

	memset(res, 0, sizeof(*res));
	snprintf(res->backend, sizeof(res->backend), "%s", opts->backend);
	snprintf(res->trace, sizeof(res->trace), "%s", trace_path);
	kmb_hist_init(&res->alloc_ns);
	kmb_hist_init(&res->free_ns);
	kmb_clock_calibrate();
	res->timer_overhead_ns = kmb_clock_overhead_ns();
	rc = kmb_boot(&cfg);
	if (rc != 0) {
		snprintf(err, errlen, "cannot boot backend '%s': %s", opts->backend,
		         rc == -ENOENT ? "unknown backend (kmbench list)" : strerror(-rc));
		return rc;
	}
	old = kmb_set_panic_handler(replay_panic);
	kmb_thread_attach("replay-0", 0); /* the thread that frees: deadlock detection needs it */
	rc = setup(&st);
	if (rc == 0) {
		run_ops(&st);
		collect(&st, facts);
	} else {
		snprintf(err, errlen, "replay set-up: %s", strerror(-rc));
	}
	if (res->aborted) {
		const struct kmb_op *op = &plan->op[st.cur];

		res->abort_event = op->event;
		snprintf(err, errlen, "replay on %s aborted at operation %zu (trace event %u): %s",
		         opts->backend, st.cur, op->event, res->abort_msg);
		rc = -ECANCELED;
	}
	teardown(&st, !res->aborted);
	kmb_thread_detach();
	kmb_set_panic_handler(old);
	if (res->aborted)
		kmb_shutdown_abandon(); /* caches and blocks left by the panic go with it */
	else if (kmb_shutdown() != 0 && rc == 0) {
		snprintf(err, errlen, "%s: memory not returned at shutdown (see above)",
		         opts->backend);
		rc = -EBUSY;
	}
	return rc;
}

void kmb_replay_result_free(struct kmb_replay_result *res)
{
	free(res->vmstat);
	free(res->types);
	res->vmstat = NULL;
	res->types = NULL;
}
