/*
 * tests/test_engine.c - the replay engine (bench/engine/replay.c) as a library: what its
 * figures mean with one thread and with several, the copies and streams mappings, warm-up
 * passes, CPU time, the at_op hook; and core/physmem.c's per-CPU page accounting.
 *
 * Traces are generated in memory (larson, seed 1) through kmb_workload_open, as every
 * kmbench program loads them.  Figures are compared with the trace's own facts
 * (workloads/facts.c) or between replays; nothing here is timed.
 */
#include "kmb_test.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bench/engine/engine.h"
#include "core/internal.h"

struct wl {
	struct kmb_trace t;
	struct kmb_trace_facts f;
	struct kmb_plan plan;
};

static struct wl *load(const char *name, uint64_t events, unsigned cpus)
{
	struct kmb_workload_src src = {.gopt = {.events = events, .cpus = cpus, .seed = 1}};
	struct wl *w = calloc(1, sizeof(*w));

	ASSERT_NOT_NULL(w);
	ASSERT_EQ_I(kmb_workload_open(name, false, &src, &w->t, &w->f, &w->plan), 0);
	return w;
}

static struct kmb_replay_result *replay(const struct wl *w, struct kmb_replay_opts o)
{
	struct kmb_replay_result *r = calloc(1, sizeof(*r));
	char err[2600];

	ASSERT_NOT_NULL(r);
	if (o.backend == NULL)
		o.backend = "slab";
	o.invariants = KMB_INVARIANTS_OFF;
	ASSERT_EQ_I(kmb_replay(&w->plan, &w->f, "test", &o, r, err, sizeof(err)), 0);
	ASSERT_FALSE(r->aborted);
	return r;
}

static void done(struct kmb_replay_result *r)
{
	kmb_replay_result_free(r);
	free(r);
}

static void unload(struct wl *w)
{
	kmb_plan_free(&w->plan);
	kmb_trace_free(&w->t);
	free(w);
}

/* One thread: every figure exact, as the trace's facts give them. */
KMB_TEST(one_thread_figures_are_exact)
{
	struct wl *w = load("larson", 20000, 1);
	struct kmb_replay_result *r = replay(w, (struct kmb_replay_opts){.timing = true});

	ASSERT_EQ_U(r->allocs, w->f.allocs - w->f.failed_allocs);
	ASSERT_EQ_U(r->failed_allocs, 0);
	ASSERT_EQ_U(r->frees, w->f.matched_frees + w->f.implicit_frees);
	ASSERT_EQ_U(r->peak_live_bytes_req, w->f.peak_live_bytes_req);
	ASSERT_EQ_U(r->cross_cpu_frees, 0);
	ASSERT_EQ_U(r->peak_live_error_bytes, 0);
	ASSERT_EQ_U(r->peak_footprint_error_bytes, 0);
	ASSERT_CMP_U(r->peak_live_bytes_alloc, >=, r->peak_live_bytes_req);
	ASSERT_CMP_U(r->peak_at_op, >, 0);
	ASSERT_TRUE(strcmp(r->mapping, "copies") == 0);
	ASSERT_TRUE(r->cpu_seconds > 0 && r->ops_per_cpu_sec > 0 && r->seconds > 0);
	ASSERT_TRUE(r->timer_resolution_ns > 0);
	ASSERT_EQ_U(r->alloc_ns.count, r->allocs);
	ASSERT_EQ_U(r->dep_wait_seconds == 0, 1);
	done(r);
	unload(w);
}

/* replicate == threads on a one-CPU trace: each copy whole on its thread - no frees across
 * threads, twice the operations, the global figures within their stated bounds. */
KMB_TEST(copies_have_no_cross_thread_frees)
{
	struct wl *w = load("larson", 20000, 1);
	struct kmb_replay_result *one = replay(w, (struct kmb_replay_opts){0});
	struct kmb_replay_result *r =
	        replay(w, (struct kmb_replay_opts){.threads = 2, .replicate = 2});

	ASSERT_TRUE(strcmp(r->mapping, "copies") == 0);
	ASSERT_EQ_U(r->cross_cpu_frees, 0);
	ASSERT_EQ_U(r->allocs, 2 * one->allocs);
	ASSERT_EQ_U(r->frees, 2 * one->frees);
	ASSERT_CMP_U(r->peak_live_error_bytes, >, 0);
	ASSERT_CMP_U(r->peak_live_bytes_req, <=,
	             2 * one->peak_live_bytes_req + r->peak_live_error_bytes);
	ASSERT_CMP_U(r->peak_live_bytes_req + r->peak_live_error_bytes, >=,
	             one->peak_live_bytes_req);
	ASSERT_TRUE(r->cpu_seconds > 0);
	done(one);
	done(r);
	unload(w);
}

/* A two-CPU trace: --map streams spreads its CPUs over the threads (frees cross them, as
 * traced); copies keeps each copy on one thread. */
KMB_TEST(streams_cross_threads_copies_do_not)
{
	struct wl *w = load("larson", 20000, 2);
	struct kmb_replay_result *s = replay(
	        w, (struct kmb_replay_opts){.threads = 2, .replicate = 2, .map = KMB_MAP_STREAMS});
	struct kmb_replay_result *c =
	        replay(w, (struct kmb_replay_opts){.threads = 2, .replicate = 2});
	struct kmb_replay_result *d = replay(w, (struct kmb_replay_opts){.threads = 2});

	ASSERT_TRUE(strcmp(s->mapping, "streams") == 0);
	ASSERT_CMP_U(s->cross_cpu_frees, >, 0);
	ASSERT_TRUE(strcmp(c->mapping, "copies") == 0);
	ASSERT_EQ_U(c->cross_cpu_frees, 0);
	ASSERT_EQ_U(s->allocs, c->allocs);
	/* one copy, two threads: streams by default */
	ASSERT_TRUE(strcmp(d->mapping, "streams") == 0);
	ASSERT_CMP_U(d->cross_cpu_frees, >, 0);
	done(s);
	done(c);
	done(d);
	unload(w);
}

static unsigned at_op_calls;

static void count_at_op(void *arg)
{
	(void)arg;
	at_op_calls++;
}

/* Warm-up passes are forgotten: the deterministic figures of one thread do not move, and
 * at_op fires once, in the measured pass. */
KMB_TEST(warmup_does_not_change_the_figures)
{
	struct wl *w = load("larson", 20000, 1);
	struct kmb_replay_result *a = replay(w, (struct kmb_replay_opts){.timing = true});
	struct kmb_replay_opts o = {
	        .timing = true, .warmup = 2, .at_op = a->peak_at_op, .at_op_fn = count_at_op};
	struct kmb_replay_result *b = replay(w, o);

	ASSERT_EQ_U(b->ops, a->ops);
	ASSERT_EQ_U(b->allocs, a->allocs);
	ASSERT_EQ_U(b->frees, a->frees);
	ASSERT_EQ_U(b->failed_allocs, a->failed_allocs);
	ASSERT_EQ_U(b->peak_live_bytes_req, a->peak_live_bytes_req);
	ASSERT_EQ_U(b->peak_live_bytes_alloc, a->peak_live_bytes_alloc);
	ASSERT_EQ_U(b->live_bytes_alloc_at_peak, a->live_bytes_alloc_at_peak);
	ASSERT_EQ_U(b->peak_at_op, a->peak_at_op);
	ASSERT_EQ_U(b->alloc_ns.count, a->alloc_ns.count);
	ASSERT_EQ_U(at_op_calls, 1);
	for (size_t i = 0; i < a->nsamples_cap; i++) {
		ASSERT_EQ_I(b->samples[i].valid, a->samples[i].valid);
		ASSERT_EQ_U(b->samples[i].live_bytes_req, a->samples[i].live_bytes_req);
	}
	done(a);
	done(b);
	unload(w);
}

/* --repeat: passes add up; with warm-up too. */
KMB_TEST(repeat_counts_every_measured_pass)
{
	struct wl *w = load("larson", 20000, 1);
	struct kmb_replay_result *a = replay(w, (struct kmb_replay_opts){0});
	struct kmb_replay_result *b = replay(w, (struct kmb_replay_opts){.repeat = 3, .warmup = 1});

	ASSERT_EQ_U(b->ops, 3 * a->ops);
	ASSERT_EQ_U(b->peak_live_bytes_req, a->peak_live_bytes_req);
	done(a);
	done(b);
	unload(w);
}

/* core/physmem.c 3.: with several CPUs an attached thread's pages stay in its CPU's
 * difference up to the threshold, and detaching folds them; with one CPU, exact at once. */
KMB_TEST(physmem_per_cpu_difference_folds)
{
	struct kmb_config cfg = {.backend = "slab", .nodes = 1, .ncpus = 2};
	struct kmb_physmem *pm = &kmb__sys.pm;
	int64_t held0;

	ASSERT_EQ_I(kmb_boot(&cfg), 0);
	ASSERT_EQ_U(pm->drift, 12); /* 2 * fls(2) * (1 + fls(256 MiB / 128 MiB)) */
	ASSERT_EQ_U(kmb_physmem_error_pages(pm), 2 * 2 * 12);
	held0 = pm->held_pages;
	ASSERT_EQ_I(kmb_thread_attach("t", 1), 0);
	kmb_physmem_account(pm, 5, KMB_USE_DATA);
	kmb_physmem_account(pm, 2, KMB_USE_META);
	ASSERT_EQ_I(pm->held_pages, held0);       /* below the threshold: not folded */
	kmb_physmem_account(pm, 8, KMB_USE_DATA); /* 13 > 12: folds data and metadata */
	ASSERT_EQ_I(pm->held_pages, held0 + 15);
	ASSERT_CMP_I(pm->peak_pages, >=, held0 + 15);
	kmb_physmem_account(pm, -15 + 2, KMB_USE_DATA);
	kmb_physmem_account(pm, -2, KMB_USE_META);
	kmb_thread_detach(); /* folds */
	ASSERT_EQ_I(pm->held_pages, held0);
	ASSERT_EQ_I(pm->pcpu[1].data, 0);
	ASSERT_EQ_I(kmb_shutdown(), 0);
	cfg.ncpus = 1;
	ASSERT_EQ_I(kmb_boot(&cfg), 0);
	ASSERT_EQ_U(kmb_physmem_error_pages(pm), 0);
	held0 = pm->held_pages;
	ASSERT_EQ_I(kmb_thread_attach("t", 0), 0);
	kmb_physmem_account(pm, 3, KMB_USE_DATA);
	ASSERT_EQ_I(pm->held_pages, held0 + 3);
	kmb_physmem_account(pm, -3, KMB_USE_DATA);
	kmb_thread_detach();
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* engine/memsize.c: need = K * P * 3 + 16 MiB up to 2^k or 3 * 2^(k-1), at least the floor. */
KMB_TEST(memory_sized_from_the_trace)
{
	const uint64_t M = 1 << 20;
	struct wl *w = load("larson", 20000, 2);
	char err[400], want[80];

	ASSERT_EQ_U(kmb_mem_auto(0, 1, 0), 16 * M);                  /* the base alone */
	ASSERT_EQ_U(kmb_mem_auto(3 * M, 1, 0), 32 * M);              /* 25 M -> 2^25 */
	ASSERT_EQ_U(kmb_mem_auto(3 * M, 32, 256 * M), 384 * M);      /* 304 M -> 3 * 2^27 */
	ASSERT_EQ_U(kmb_mem_auto(10 * M, 2, 0), 96 * M);             /* 76 M -> 3 * 2^25 */
	ASSERT_EQ_U(kmb_mem_auto(1 * M, 1, 256 * M), 256 * M);       /* the floor */
	ASSERT_EQ_U(kmb_mem_auto(UINT64_MAX / 2, 4, 0), UINT64_MAX); /* overflow: said */
	/* a generated trace: its peak of allocations that may not fail fits its facts' peak */
	ASSERT_EQ_I(kmb_mem_check(w->f.peak_live_bytes_req, &w->plan, w->f.peak_live_bytes_req, err,
	                          sizeof(err)),
	            0);
	/* larson asks M_WAITOK only: half its peak cannot hold it */
	ASSERT_EQ_I(kmb_mem_check(w->f.peak_live_bytes_req / 2, &w->plan, w->f.peak_live_bytes_req,
	                          err, sizeof(err)),
	            -ENOMEM);
	ASSERT_CONTAINS(err, "cannot hold one copy of the trace");
	snprintf(want, sizeof(want), "(no M_NOWAIT) are %" PRIu64 " ", w->f.peak_live_bytes_req);
	ASSERT_CONTAINS(err, want);
	unload(w);
}

KMB_TEST_MAIN()
