/*
 * bench/run_jobs.c - kmbench run's workloads, cells and jobs.
 *
 * Workloads.  The default list is the table below (one line each: adding a workload to
 * the main job is adding a line), resolved by name: "linux-3.6-boot" is the bundled trace,
 * any other name a generator of workloads/gen.h, generated in memory with seed 1 and the
 * generator's defaults, so that two runs replay the same events and `kmbench compare` can
 * hold them side by side.  --trace FILE adds a trace file, named after its file name.
 *
 * Jobs.  Every (cell, repetition) is a job; the jobs run one at a time in an order
 * shuffled with the run's seed (Fisher-Yates over splitmix64).  A job's result is folded
 * into its cell at once - figures per repetition, histograms merged - and only the last
 * successful repetition's full result is kept (its samples, types and counters go to the
 * summaries), so memory stays bounded by the cells, not by the repetitions.
 *
 * Signals.  SIGINT and SIGTERM set a flag (SA_RESETHAND: a second one kills); the loop
 * checks it between jobs, so the replay in progress finishes and its files are whole.
 */
#include "run.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results/results.h"

#define BUNDLED KMB_BUNDLED_TRACE

static const struct {
	const char *name;
	bool quick; /* also in --quick */
} default_workloads[] = {
        {BUNDLED, true},      /* a real kernel: Linux 3.6 boot, 11 540 events, one CPU */
        {"vfs-cache", false}, /* long-lived objects, LRU eviction: fragmentation */
        {"larson", false},    /* server pattern: blocks handed between CPUs */
        {"netrx", false},     /* GFP_ATOMIC bursts, frees on other CPUs */
        {"exhaust", true},    /* below the watermarks: failures, sleeps, reserve, retries */
};
#define NDEFAULT (sizeof(default_workloads) / sizeof(default_workloads[0]))

uint64_t kmb_run_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double kmb_run_elapsed(const struct run *r)
{
	return (double)(kmb_run_now_ns() - r->t0_ns) / 1e9;
}

void kmb_run_sanitize(char *s)
{
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s == ' ' || *s == ',' || *s == '\'' || *s == '"' ||
		    *s == '(' || *s == ')' || *s == '=')
			*s = '_';
}

/* ---- signals ---------------------------------------------------------------------------- */

/*
 * The first SIGINT or SIGTERM asks the run to stop after the replay in progress and write
 * its records.  The handler stays (no SA_RESETHAND): a repeat of that request does not
 * kill the run before its records are written.  A repeat is a second signal from the same
 * sender or within RUN_SIGNAL_REPEAT_NS of the first: GNU timeout and CI runners signal
 * the process and then its process group, Ctrl-C reaches the whole foreground group.  A
 * third signal, or a later second one from someone else, kills at once (the default
 * action, re-raised); so does SIGQUIT, which is not handled.  Only async-signal-safe
 * calls: clock_gettime, sigaction, raise.
 */
#define RUN_SIGNAL_REPEAT_NS 2000000000LL

static volatile sig_atomic_t run_stop_signal, run_signals;
static volatile pid_t run_first_sender;
static volatile long long run_first_ns;

static long long signal_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void on_signal(int sig, siginfo_t *info, void *ctx)
{
	pid_t from = info ? info->si_pid : 0;
	long long now = signal_now_ns();
	struct sigaction dfl;

	(void)ctx;
	if (run_signals++ == 0) {
		run_stop_signal = sig;
		run_first_sender = from;
		run_first_ns = now;
		return;
	}
	if (run_signals == 2 &&
	    ((from != 0 && from == run_first_sender) || now - run_first_ns < RUN_SIGNAL_REPEAT_NS))
		return; /* the same request again */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	raise(sig);
}

void kmb_run_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT); /* one handler at a time: the count is not atomic */
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int kmb_run_interrupted(void)
{
	return run_stop_signal;
}

/* ---- workloads ---------------------------------------------------------------------------- */

static struct run_workload *add_workload(struct run *r, const char *name)
{
	struct run_workload *wl;
	char base[64];

	if (r->nwl == RUN_MAX_WORKLOADS)
		return NULL;
	wl = &r->wl[r->nwl];
	snprintf(base, sizeof(base), "%s", name);
	kmb_run_sanitize(base);
	snprintf(wl->name, sizeof(wl->name), "%s", base);
	for (unsigned i = 0, k = 2; i < r->nwl; i++) /* names are file prefixes: unique */
		if (strcmp(r->wl[i].name, wl->name) == 0) {
			snprintf(wl->name, sizeof(wl->name), "%.50s-%u", base, k++);
			i = (unsigned)-1;
		}
	r->nwl++;
	return wl;
}

static unsigned max_threads(const struct run *r)
{
	unsigned m = 1;

	for (unsigned i = 0; i < r->nthreads; i++)
		m = r->threads[i] > m ? r->threads[i] : m;
	return m;
}

/* A replicated workload's memory: --mem, refused (-E2BIG) below one copy's peak; without it
 * sized from the trace for the most copies it runs (T at T threads; engine/memsize.c). */
static int size_memory(struct run *r, struct run_workload *wl)
{
	uint64_t peak = wl->facts.peak_live_bytes_req;
	unsigned k = max_threads(r);
	char err[300];

	if (r->mem_bytes) {
		wl->mem_bytes = r->mem_bytes;
		if (kmb_mem_check(r->mem_bytes, &wl->plan, peak, err, sizeof(err)) == 0)
			return 0;
		kmb_cli_error("run", "workload %s: %s", wl->name, err);
		return -E2BIG;
	}
	wl->mem_bytes = (size_t)kmb_mem_auto(peak, k, r->mem_floor);
	kmb_mem_auto_rule(wl->mem_rule, sizeof(wl->mem_rule), peak, k, r->mem_floor, wl->mem_bytes);
	if (wl->gen == NULL || wl->mem_bytes > r->mem_floor)
		fprintf(stderr, "kmbench run: %s: simulated memory %s\n", wl->name, wl->mem_rule);
	return 0;
}

/* A workload by name or trace file (engine/workload.c).  A workload made for a memory
 * size (exhaust, fdtable) replays in that memory, as one copy. */
static int load_workload(struct run *r, const char *name, const char *arg)
{
	struct run_workload *wl = add_workload(r, name);
	struct kmb_workload_src src = {.gopt = {.seed = 1}};
	const struct kmb_workload *g;

	if (wl == NULL)
		return -ENOSPC;
	wl->loaded = true; /* the trace is initialized whatever happens */
	if (kmb_workload_open(arg, false, &src, &wl->trace, &wl->facts, &wl->plan) != 0)
		return -EINVAL;
	g = wl->gen = src.gen;
	wl->gopt = src.gopt;
	snprintf(wl->source, sizeof(wl->source), "%s", src.source);
	wl->replicate = g == NULL || g->default_mem == 0;
	return g && g->default_mem ? (wl->mem_bytes = (size_t)wl->gopt.mem_bytes, 0)
	                           : size_memory(r, wl);
}

/* A trace file's workload name: its file name without the extension. */
static void trace_name(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');

	if (strcmp(path, kmb_default_trace()) == 0) {
		snprintf(out, len, "%s", BUNDLED);
		return;
	}
	snprintf(out, len, "%.*s", (int)(dot && dot > base ? dot - base : (long)strlen(base)),
	         base);
}

/* Passes per repetition to reach --ops operations.  A workload made for one memory size
 * (exhaust, fdtable) runs once: a second pass in the same boot would start from what the
 * first left cached, not from the state the workload was designed for. */
static void set_repeat(struct run *r, struct run_workload *wl)
{
	uint64_t ops = wl->plan.nop ? wl->plan.nop : 1, k = (r->target_ops + ops - 1) / ops;

	wl->repeat = (unsigned)(k < 1 ? 1 : k > 1000 ? 1000 : k);
	if (wl->gen && wl->gen->default_mem)
		wl->repeat = 1;
}

int kmb_run_load_workloads(struct run *r)
{
	int rc = 0;

	for (unsigned i = 0; rc == 0 && i < r->nwl_names; i++)
		rc = load_workload(r, r->wl_names[i], r->wl_names[i]);
	for (unsigned i = 0; rc == 0 && i < r->ntraces; i++) {
		char name[64];

		trace_name(r->traces[i], name, sizeof(name));
		rc = load_workload(r, name, r->traces[i]);
	}
	for (size_t i = 0; rc == 0 && r->nwl_names == 0 && r->ntraces == 0 && i < NDEFAULT; i++)
		if (!r->quick || default_workloads[i].quick)
			rc = load_workload(r, default_workloads[i].name, default_workloads[i].name);
	for (unsigned w = 0; rc == 0 && w < r->nwl; w++)
		set_repeat(r, &r->wl[w]);
	if (rc == -ENOSPC)
		fprintf(stderr, "kmbench run: more than %d workloads\n", RUN_MAX_WORKLOADS);
	return rc;
}

void kmb_run_free_workloads(struct run *r)
{
	for (unsigned w = 0; w < r->nwl; w++) {
		if (!r->wl[w].loaded)
			continue;
		kmb_plan_free(&r->wl[w].plan);
		kmb_trace_free(&r->wl[w].trace);
	}
	r->nwl = 0;
}

/* ---- cells ------------------------------------------------------------------------------- */

struct run_cell *kmb_run_cell_at(struct run *r, unsigned b, unsigned w, unsigned t)
{
	return &r->cells[((size_t)b * r->nwl + w) * r->nthreads + t];
}

static int cell_init(struct run *r, struct run_cell *c, unsigned b, unsigned w, unsigned t)
{
	char spec[300];

	c->b = b;
	c->w = w;
	c->t = t;
	c->threads = r->threads[t];
	c->replicate = r->wl[w].replicate ? c->threads : 1;
	snprintf(spec, sizeof(spec), "%s", r->backends[b]);
	kmb_run_sanitize(spec);
	if (c->threads == 1)
		snprintf(c->name, sizeof(c->name), "%s-%s", spec, r->wl[w].name);
	else
		snprintf(c->name, sizeof(c->name), "%s-%s-t%u", spec, r->wl[w].name, c->threads);
	kmb_hist_init(&c->alloc);
	kmb_hist_init(&c->free);
	c->rep = calloc(r->reps, sizeof(*c->rep));
	c->size_alloc = calloc(KMB_SIZE_CLASSES, sizeof(*c->size_alloc));
	c->size_free = calloc(KMB_SIZE_CLASSES, sizeof(*c->size_free));
	if (!c->rep || !c->size_alloc || !c->size_free)
		return -ENOMEM;
	for (unsigned k = 0; k < KMB_SIZE_CLASSES; k++) {
		kmb_hist_init(&c->size_alloc[k]);
		kmb_hist_init(&c->size_free[k]);
	}
	return 0;
}

bool kmb_run_in_shard(const struct run *r, const struct run_cell *c)
{
	return r->shard_n == 0 || (size_t)(c - r->cells) % r->shard_n == r->shard_k - 1;
}

int kmb_run_make_cells(struct run *r)
{
	r->ncells = (size_t)r->nbackends * r->nwl * r->nthreads;
	r->cells = calloc(r->ncells, sizeof(*r->cells));
	r->frames = calloc((size_t)r->nbackends * r->nwl, sizeof(*r->frames));
	if (r->cells == NULL || r->frames == NULL)
		return -ENOMEM;
	for (unsigned b = 0; b < r->nbackends; b++)
		for (unsigned w = 0; w < r->nwl; w++)
			for (unsigned t = 0; t < r->nthreads; t++)
				if (cell_init(r, kmb_run_cell_at(r, b, w, t), b, w, t) != 0)
					return -ENOMEM;
	r->njobs = 0;
	for (size_t i = 0; i < r->ncells; i++)
		r->njobs += kmb_run_in_shard(r, &r->cells[i]) ? r->reps : 0;
	return 0;
}

void kmb_run_free_cells(struct run *r)
{
	for (size_t i = 0; r->cells && i < r->ncells; i++) {
		struct run_cell *c = &r->cells[i];

		free(c->rep);
		free(c->size_alloc);
		free(c->size_free);
		if (c->last) {
			kmb_replay_result_free(c->last);
			free(c->last);
		}
	}
	free(r->cells);
	free(r->frames);
	r->cells = NULL;
	r->frames = NULL;
}

/* ---- one job ------------------------------------------------------------------------------ */

static int write_job_json(const struct run *r, const struct run_cell *c, unsigned rep,
                          const struct kmb_replay_result *res)
{
	char path[4800];
	struct kmb_file kf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/replay/%s-r%u.json", r->dir, c->name, rep + 1);
	if ((f = kmb_file_create(path, &kf)) == NULL)
		return -errno;
	return kmb_file_finish(&kf, kmb_replay_write_json(f, res) != 0 ? -EIO : 0);
}

/* Fold a successful repetition into its cell; the cell keeps res (the last one). */
static void fold(struct run_cell *c, unsigned rep, struct kmb_replay_result *res)
{
	struct run_rep *p = &c->rep[rep];
	struct kmb_result v;

	kmb_replay_result_values(res, &v);
	memcpy(p->v, v.v, sizeof(p->v));
	p->ok = true;
	kmb_hist_merge(&c->alloc, &res->alloc_ns);
	kmb_hist_merge(&c->free, &res->free_ns);
	for (unsigned k = 0; k < KMB_SIZE_CLASSES && res->size_alloc_ns; k++) {
		kmb_hist_merge(&c->size_alloc[k], &res->size_alloc_ns[k]);
		kmb_hist_merge(&c->size_free[k], &res->size_free_ns[k]);
	}
	free(res->size_alloc_ns); /* merged: 500 KB a result otherwise */
	free(res->size_free_ns);
	res->size_alloc_ns = res->size_free_ns = NULL;
	if (c->last) {
		kmb_replay_result_free(c->last);
		free(c->last);
	}
	c->last = res;
	c->nok++;
}

/*
 * Throughput is measured apart from latency: a replay with timing off first, whose wall
 * and CPU time the repetition reports (seconds, ops_per_sec, cpu_seconds, ops_per_cpu_sec,
 * dep_wait_seconds), then the timed replay that gives latency and everything else (its
 * ops/s is kept as timed_ops_per_sec).  A timed operation costs ~100 ns in a KVM guest
 * (README "Measured targets"), more than a kmalloc/kfree pair: timed throughput would
 * mostly measure the timer, and squeeze the differences between designs.  False when
 * the untimed replay fails (the timed one reports).
 */
struct loop_time {
	double seconds, ops_per_sec, cpu_seconds, ops_per_cpu_sec, dep_wait_seconds;
};

static bool untimed_replay(const struct run_workload *wl, struct kmb_replay_opts o,
                           struct loop_time *res)
{
	struct kmb_replay_result *u = malloc(sizeof(*u));
	char err[2600];
	bool ok = false;

	if (u == NULL)
		return false;
	o.timing = false;
	if (kmb_replay(&wl->plan, &wl->facts, wl->source, &o, u, err, sizeof(err)) == 0 &&
	    !u->aborted && u->ops_per_sec > 0) {
		ok = true;
		res->seconds = u->seconds;
		res->ops_per_sec = u->ops_per_sec;
		res->cpu_seconds = u->cpu_seconds;
		res->ops_per_cpu_sec = u->ops_per_cpu_sec;
		res->dep_wait_seconds = u->dep_wait_seconds;
	}
	kmb_replay_result_free(u);
	free(u);
	return ok;
}

static int run_one(struct run *r, struct run_cell *c, unsigned rep)
{
	const struct run_workload *wl = &r->wl[c->w];
	struct kmb_replay_opts o = {.backend = r->specs[c->b],
	                            .mem_bytes = wl->mem_bytes,
	                            .invariants = r->invariants,
	                            .strict_context = r->strict_context,
	                            .timing = true,
	                            .threads = c->threads,
	                            .replicate = c->replicate,
	                            .repeat = wl->repeat,
	                            .warmup = wl->gen && wl->gen->default_mem ? 0 : r->warmup,
	                            .topology = r->topology};
	struct kmb_replay_result *res = malloc(sizeof(*res));
	struct loop_time untimed;
	char err[2600];
	bool have_untimed;
	int rc, wrc;

	if (res == NULL)
		return -ENOMEM;
	c->rep[rep].ran = true;
	have_untimed = untimed_replay(wl, o, &untimed);
	rc = kmb_replay(&wl->plan, &wl->facts, wl->source, &o, res, err, sizeof(err));
	if (rc == 0 && have_untimed) {
		res->timed_ops_per_sec = res->ops_per_sec;
		res->seconds = untimed.seconds;
		res->ops_per_sec = untimed.ops_per_sec;
		res->cpu_seconds = untimed.cpu_seconds;
		res->ops_per_cpu_sec = untimed.ops_per_cpu_sec;
		res->dep_wait_seconds = untimed.dep_wait_seconds;
	}
	if ((rc == 0 || res->aborted) && (wrc = write_job_json(r, c, rep, res)) != 0)
		fprintf(stderr, "%skmbench run: cannot write %s/replay/%s-r%u.json: %s\n",
		        kmb_progress_enabled() ? "\n" : "", r->dir, c->name, rep + 1,
		        strerror(-wrc));
	if (rc == 0) {
		fold(c, rep, res);
		return 0;
	}
	fprintf(stderr, "%skmbench run: %s rep %u: %s\n", kmb_progress_enabled() ? "\n" : "",
	        c->name, rep + 1, err);
	if (c->nfailed++ == 0)
		snprintf(c->error, sizeof(c->error), "%.399s", err);
	kmb_replay_result_free(res);
	free(res);
	return rc;
}

/* ---- progress ----------------------------------------------------------------------------- */

static void hms(double s, char *buf, size_t len)
{
	unsigned v = s > 0 && s < 360000 ? (unsigned)(s + 0.5) : 0;

	snprintf(buf, len, "%u:%02u", v / 60, v % 60);
}

static void progress(const struct run *r, const struct run_cell *c, unsigned rep)
{
	double el = kmb_run_elapsed(r),
	       eta = r->done ? el / (double)r->done * (double)(r->njobs - r->done) : 0;
	char e[16], a[16];

	hms(el, e, sizeof(e));
	hms(eta, a, sizeof(a));
	if (kmb_progress_enabled()) {
		char bar[31];
		size_t fill = r->njobs ? r->done * 30 / r->njobs : 30;

		memset(bar, '#', fill);
		memset(bar + fill, '.', 30 - fill);
		bar[30] = '\0';
		fprintf(stderr, "\r[%s] %zu/%zu  %s  elapsed %s  ETA %s \033[K", bar, r->done,
		        r->njobs, c->name, e, a);
		if (r->done == r->njobs)
			fputc('\n', stderr);
		return;
	}
	fprintf(stderr, "kmbench run: %zu/%zu %s rep %u %s (elapsed %s, ETA %s)\n", r->done,
	        r->njobs, c->name, rep + 1, c->rep[rep].ok ? "done" : "FAILED", e, a);
}

/* ---- the jobs ------------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int kmb_run_jobs(struct run *r)
{
	size_t all = r->ncells * r->reps, *order = calloc(all + 1, sizeof(*order));
	uint64_t seed = r->seed;

	if (order == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < all; i++)
		order[i] = i;
	for (size_t i = all; i > 1; i--) { /* the whole matrix's order, shard or not */
		size_t k = (size_t)(splitmix64(&seed) % i), t = order[i - 1];

		order[i - 1] = order[k];
		order[k] = t;
	}
	for (size_t i = 0; i < all && !kmb_run_interrupted(); i++) {
		struct run_cell *c = &r->cells[order[i] / r->reps];
		unsigned rep = (unsigned)(order[i] % r->reps);

		if (!kmb_run_in_shard(r, c))
			continue;
		if (run_one(r, c, rep) != 0)
			r->failed++;
		r->done++;
		kmb_run_write_json(r, "running"); /* after SIGKILL it still says how many */
		progress(r, c, rep);
	}
	free(order);
	if (kmb_run_interrupted() && kmb_progress_enabled() && r->done < r->njobs)
		fputc('\n', stderr);
	return kmb_run_interrupted() ? -EINTR : 0;
}
