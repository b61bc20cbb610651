/*
 * bench/run.c - `kmbench run`: the main job.  Every backend spec replays every workload,
 * at each thread count, repeated to quote medians, in one shuffled order; then the results
 * directory gets its summaries, plots and report.
 *
 * 1. Cells and jobs (run_jobs.c).  A cell is a backend on a workload at a thread count; a
 *    job is one repetition of a cell: a replay with timing off for its throughput, then a
 *    timed one for latency and the rest, each on a fresh boot of simulated memory.  The
 *    jobs of all cells run in an order shuffled with --seed (kept in run.json), so that
 *    the drift of a shared machine (other tenants, thermal throttling) spreads over every
 *    backend instead of favouring whichever ran first.
 * 2. Duration.  The bundled boot trace replays in about 3 ms, too short to time against
 *    the noise of boot and scheduling; a repetition replays its workload enough passes
 *    (--repeat inside the replay) to reach --ops operations (200 000 by default, about
 *    50-100 ms; --quick: 30 000), the same number of passes at every thread count.  At T
 *    threads a workload runs T copies of its trace (--replicate T): the same work per
 *    thread, so ops/s against T is weak scaling; a workload made for one memory size
 *    (exhaust, fdtable) instead spreads its own CPU streams over the threads.
 * 3. Results (results/runs/<timestamp>/, a new directory, never an earlier one; every
 *    file written to a temporary name and renamed):
 *      run.json                 the facts: host, CPU model, hwloc topology, compiler,
 *                               flags, commit (and whether the tree was dirty at
 *                               configure time), command line (the exact argv, and
 *                               shell-quoted), seed, workloads, threads, idle CPUs at the
 *                               start (/proc/stat over 250 ms), the keyed tags of the
 *                               .gp scripts; "complete": true only when every job ran and
 *                               succeeded ("failed" beside it), else the reason
 *      summary.csv              per cell: every metric of the declared schema
 *                               (results/schema.def) as the median over repetitions, with
 *                               min, max and CV beside those with a direction
 *      repetitions.csv          per repetition, every metric (what `kmbench compare` tests)
 *      replay/<cell>-r<k>.json  each repetition's replay JSON
 *      <cell>.alloc.hgrm, <cell>.free.hgrm   latency merged over repetitions (HdrHistogram)
 *      <cell>.samples.csv       live bytes, footprint, free memory over a repetition
 *      sizeclass.csv            latency percentiles by requested size class
 *      frames/<b>-<w>.bin, frames.csv   physical memory at peak, one byte per page frame
 *      <plot>.{dat,gp,png,svg}  latency, sizeclass, footprint, frag, scaling, frames-<w>
 *      report.html, report.md   the design-decision report (results/report*.c)
 * 4. Interruption.  SIGINT or SIGTERM lets the replay in progress finish, then the results
 *    of the jobs done are written as above and run.json says "complete": false and why;
 *    the exit status is 128 + the signal.  The same request again (the process group
 *    signalled after the process, as GNU timeout does) is absorbed; a third signal, a
 *    later second one from another sender, or SIGQUIT kill at once (run_jobs.c).
 *    run.json is rewritten (atomically) after every job, so whatever kills the run it says
 *    how many jobs were done; `kmbench plot DIR` completes such a directory.
 */
#include "run.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "results/results.h"

#define DEFAULT_OPS 200000
#define QUICK_OPS   30000
#define QUICK_MEM   ((size_t)64 << 20) /* a smoke run boots 4x faster */

static const char run_usage[] =
        "usage: kmbench run [--quick] [--backends LIST] [--workloads LIST] [--trace FILE]\n"
        "                   [--threads LIST] [--topology SPEC] [--repetitions N] [--out DIR]\n"
        "                   [--mem SIZE] [--ops N] [--seed N] [--no-frames] [--invariants]\n"
        "                   [--warmup N] [--kallsyms FILE | --system-map FILE]\n"
        "                   [--strict-context]\n\n"
        "The main job: every backend on the bundled Linux boot trace and synthetic kernel\n"
        "workloads, at each thread count, repeated to quote medians, in a shuffled order.\n"
        "Writes a new results/runs/<timestamp>/: run.json, summary.csv, .hgrm histograms,\n"
        "replay JSON, plots (PNG, SVG and their gnuplot scripts) and report.html/report.md.\n"
        "  --quick              a smoke run: linux-3.6-boot and exhaust, 3 repetitions,\n"
        "                       30 000 operations, 64M of memory (under a minute)\n"
        "  --backends LIST      comma-separated backend specs (default: all built in)\n"
        "  --workloads LIST     linux-3.6-boot and generators (kmbench list; default:\n"
        "                       linux-3.6-boot,vfs-cache,larson,netrx,exhaust)\n"
        "  --trace FILE         a trace file as a workload (repeatable; alone: only it)\n"
        "  --threads LIST       replay thread counts, e.g. 1,2 (default: 1,2 and 4 with 4 CPUs)\n"
        "  --topology SPEC      hwloc synthetic description or XML (default: this machine)\n"
        "  --repetitions N      repetitions per backend, workload and thread count (default 7,\n"
        "                       --quick 3)\n"
        "  --out DIR            results root (default: results/runs of the source tree, or\n"
        "                       of the working directory for an installed kmbench)\n"
        "  --mem SIZE           simulated physical memory (default: from each trace, peak\n"
        "                       live x copies x 3 + 16M rounded up, at least 256M,\n"
        "                       --quick 64M; exhaust: its own 32M); refused below a\n"
        "                       trace's peak live bytes\n"
        "  --ops N              operations per repetition (default 200000, --quick 30000)\n"
        "  --seed N             seed of the job order (default: from the clock)\n"
        "  --warmup N           untimed passes before each replay's measured ones, in the\n"
        "                       same boot (default 1; exhaust and fdtable: 0)\n"
        "  --no-frames          skip the picture of physical memory at peak\n"
        "  --invariants         INVARIANTS on (slow; for checking, not measuring)\n"
        "  --shard K/N          run only the K-th of N disjoint slices of the jobs (cells\n"
        "                       i with i mod N = K-1; needs --seed); kmbench merge joins\n"
        "                       the N directories into one run\n"
        "  --kallsyms FILE, --system-map FILE  name the traces' raw call sites from FILE's\n"
        "                       symbols (default: TRACE.syms beside each trace)\n"
        "  --strict-context     a sleeping allocation a trace made in interrupt context\n"
        "                       stops that replay with a panic (default: counted)\n"
        "SIGINT/SIGTERM: the results so far are written, run.json says \"complete\": false.\n";

/* ---- options ---------------------------------------------------------------------------- */

/* A spec whose file names (kmb_run_sanitize) are those of an earlier one: exit 2. */
static int check_distinct(const struct run *r, const char *spec)
{
	char a[256], b[256];

	snprintf(a, sizeof(a), "%s", spec);
	kmb_run_sanitize(a);
	for (unsigned i = 0; i < r->nbackends; i++) {
		snprintf(b, sizeof(b), "%s", r->backends[i]);
		kmb_run_sanitize(b);
		if (strcmp(r->backends[i], spec) == 0)
			return kmb_cli_error("run", "--backends lists '%s' twice", spec);
		if (strcmp(a, b) == 0)
			return kmb_cli_error("run",
			                     "--backends: '%s' and '%s' would write the same files",
			                     r->backends[i], spec);
	}
	return 0;
}

/* A spec's name: a plugin goes by its own ops->name (kmb_spec_name). */
static int spec_name(struct run *r, const char *spec, const char **name)
{
	char err[512];

	*name = spec;
	if (strncmp(spec, "plugin:", 7) != 0)
		return 0;
	if (kmb_spec_name(spec, r->plugin_names[r->nbackends], sizeof(r->plugin_names[0]), err,
	                  sizeof(err)) != 0)
		return kmb_cli_error("run", "%s", err);
	*name = r->plugin_names[r->nbackends];
	return 0;
}

static int parse_backends(struct run *r, char *list)
{
	r->nbackends = 0;
	for (char *cur = list, *tok = kmb_cli_next_spec(&cur); tok; tok = kmb_cli_next_spec(&cur)) {
		const char *name;
		int rc = kmb_cli_check_backend("run", tok);

		if (rc == 0 && r->nbackends == RUN_MAX_BACKENDS)
			return kmb_cli_error("run", "more than %d backends", RUN_MAX_BACKENDS);
		if (rc != 0 || (rc = spec_name(r, tok, &name)) != 0 ||
		    (rc = check_distinct(r, name)) != 0)
			return rc;
		r->specs[r->nbackends] = tok;
		r->backends[r->nbackends++] = name;
	}
	return r->nbackends ? 0 : kmb_cli_error("run", "empty --backends");
}

static int parse_workloads(struct run *r, char *list)
{
	r->nwl_names = 0;
	for (char *sv = NULL, *tok = strtok_r(list, ",", &sv); tok;
	     tok = strtok_r(NULL, ",", &sv)) {
		if (strcmp(tok, "linux-3.6-boot") != 0 && kmb_workload_find(tok) == NULL)
			return kmb_cli_error("run", "unknown workload '%s' (kmbench list)", tok);
		if (r->nwl_names == RUN_MAX_WORKLOADS)
			return kmb_cli_error("run", "more than %d workloads", RUN_MAX_WORKLOADS);
		r->wl_names[r->nwl_names++] = tok;
	}
	return r->nwl_names ? 0 : kmb_cli_error("run", "empty --workloads");
}

static int parse_threads(struct run *r, char *list)
{
	r->nthreads = 0;
	for (char *sv = NULL, *tok = strtok_r(list, ",", &sv); tok;
	     tok = strtok_r(NULL, ",", &sv)) {
		unsigned v;

		if (kmb_parse_uint(tok, 1, KMB_MAX_CPUS, &v) != 0)
			return kmb_cli_error("run", "bad --threads value '%s' (1..%d)", tok,
			                     KMB_MAX_CPUS);
		for (unsigned i = 0; i < r->nthreads; i++)
			if (r->threads[i] == v)
				return kmb_cli_error("run", "--threads lists %u twice", v);
		if (r->nthreads == RUN_MAX_THREADS)
			return kmb_cli_error("run", "more than %d thread counts", RUN_MAX_THREADS);
		r->threads[r->nthreads++] = v;
	}
	return r->nthreads ? 0 : kmb_cli_error("run", "empty --threads");
}

/* --shard K/N, 1 <= K <= N <= 1000. */
static int parse_shard(struct run *r, char *v)
{
	char *slash = strchr(v, '/');

	if (slash != NULL) {
		*slash = '\0';
		if (kmb_parse_uint(v, 1, 1000, &r->shard_k) == 0 &&
		    kmb_parse_uint(slash + 1, 1, 1000, &r->shard_n) == 0 &&
		    r->shard_k <= r->shard_n)
			return 0;
		*slash = '/';
	}
	return kmb_cli_error("run", "bad --shard '%s' (K/N, 1 <= K <= N <= 1000)", v);
}

static int parse_value(struct run *r, int c, char *v)
{
	unsigned u;

	switch (c) {
	case 'b':
		return parse_backends(r, v);
	case 'w':
		return parse_workloads(r, v);
	case 'T':
		return parse_threads(r, v);
	case 't':
		if (r->ntraces == RUN_MAX_WORKLOADS)
			return kmb_cli_error("run", "more than %d --trace", RUN_MAX_WORKLOADS);
		r->traces[r->ntraces++] = v;
		return 0;
	case 'P':
		r->topology = v;
		return kmb_cli_check_topology("run", v);
	case 'o':
		r->out_root = v;
		return 0;
	case 'r':
		if (kmb_parse_uint(v, 1, 1000, &r->reps) != 0)
			return kmb_cli_error("run", "bad --repetitions '%s' (1..1000)", v);
		return 0;
	case 'm':
		if (kmb_parse_size(v, &r->mem_bytes) != 0 || r->mem_bytes < (1u << 20))
			return kmb_cli_error("run", "bad --mem '%s' (at least 1M)", v);
		return 0;
	case 'n':
		if (kmb_parse_uint(v, 1000, 1000000000u, &u) != 0)
			return kmb_cli_error("run", "bad --ops '%s' (1000..1000000000)", v);
		r->target_ops = u;
		return 0;
	case 'K':
		kmb_workload_set_symbols(v);
		return 0;
	case 'W':
		return kmb_parse_uint(v, 0, 1000, &r->warmup) != 0
		               ? kmb_cli_error("run", "bad --warmup '%s' (0..1000)", v)
		               : 0;
	case 'S':
		return parse_shard(r, v);
	default: /* 's' */
		if (kmb_parse_uint(v, 0, 4000000000u, &u) != 0)
			return kmb_cli_error("run", "bad --seed '%s'", v);
		r->seed = u;
		r->seed_given = true;
		return 0;
	}
}

static void default_threads(struct run *r)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	r->nthreads = 0;
	for (unsigned t = 1; t <= 4 && r->nthreads < RUN_MAX_THREADS; t *= 2)
		if (t <= 2 || t <= cpus)
			r->threads[r->nthreads++] = t;
}

static int parse(int argc, char **argv, struct run *r)
{
	static const struct option opts[] = {{"quick", no_argument, NULL, 'q'},
	                                     {"backends", required_argument, NULL, 'b'},
	                                     {"workloads", required_argument, NULL, 'w'},
	                                     {"trace", required_argument, NULL, 't'},
	                                     {"threads", required_argument, NULL, 'T'},
	                                     {"topology", required_argument, NULL, 'P'},
	                                     {"repetitions", required_argument, NULL, 'r'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"mem", required_argument, NULL, 'm'},
	                                     {"ops", required_argument, NULL, 'n'},
	                                     {"seed", required_argument, NULL, 's'},
	                                     {"warmup", required_argument, NULL, 'W'},
	                                     {"kallsyms", required_argument, NULL, 'K'},
	                                     {"system-map", required_argument, NULL, 'K'},
	                                     {"no-frames", no_argument, NULL, 'F'},
	                                     {"invariants", no_argument, NULL, 'I'},
	                                     {"shard", required_argument, NULL, 'S'},
	                                     {"strict-context", no_argument, NULL, 'X'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":b:w:t:o:r:", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(run_usage, stdout);
			exit(0);
		} else if (c == 'q') {
			r->quick = true;
		} else if (c == 'F') {
			r->no_frames = true;
		} else if (c == 'I') {
			r->invariants = KMB_INVARIANTS_ON;
		} else if (c == 'X') {
			r->strict_context = true;
		} else if (c == ':') {
			return kmb_cli_error("run", "option '%s' needs a value", argv[optind - 1]);
		} else if (c == '?') {
			return kmb_cli_error("run", "unknown option '%s'", argv[optind - 1]);
		} else if ((rc = parse_value(r, c, optarg)) != 0) {
			return rc;
		}
	}
	if (optind < argc)
		return kmb_cli_error("run", "unexpected argument '%s'", argv[optind]);
	if (r->shard_n != 0 && !r->seed_given)
		return kmb_cli_error("run", "--shard needs --seed (every shard the same)");
	if (r->reps == 0)
		r->reps = r->quick ? 3 : 7;
	if (r->target_ops == 0)
		r->target_ops = r->quick ? QUICK_OPS : DEFAULT_OPS;
	r->mem_floor = r->quick ? QUICK_MEM : KMB_DEFAULT_MEM_BYTES;
	if (r->nthreads == 0)
		default_threads(r);
	return 0;
}

/* ---- run.json ---------------------------------------------------------------------------- */

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, len, "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon) {
			snprintf(buf, len, "%s", colon + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
}

static void iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (t == 0 || localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm) == 0)
		snprintf(buf, len, "unknown");
}

/* CPU time of all CPUs so far, and the part of it idle (idle + iowait), in ticks. */
static bool cpu_ticks(double *total, double *idle)
{
	unsigned long long v[10] = {0};
	FILE *f = fopen("/proc/stat", "r");
	int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
	                   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9])
	          : 0;

	if (f)
		fclose(f);
	*total = *idle = 0;
	for (int i = 0; i < 8 && i < n; i++) /* guest time (8, 9) is already in user */
		*total += (double)v[i];
	*idle = (double)v[3] + (double)v[4];
	return n >= 5;
}

/*
 * Idle CPUs at the start of the run: the idle share of all CPUs' time over 250 ms, from
 * /proc/stat (idle + iowait), times the online CPUs.  Sampled once, before the first job:
 * the report warns when it is below the largest --threads value.  NAN if unreadable.
 */
static double idle_cpus(void)
{
	struct timespec pause = {0, 250 * 1000 * 1000};
	double t0, i0, t1, i1;

	if (!cpu_ticks(&t0, &i0))
		return NAN;
	nanosleep(&pause, NULL);
	if (!cpu_ticks(&t1, &i1) || t1 <= t0)
		return NAN;
	return (i1 - i0) / (t1 - t0) * (double)sysconf(_SC_NPROCESSORS_ONLN);
}

static void json_host(struct kmb_json *j)
{
	char cpu[256], topo[160] = "unknown", host[256] = "";
	struct utsname u;

	cpu_model(cpu, sizeof(cpu));
	kmb_topology_summary(topo, sizeof(topo));
	gethostname(host, sizeof(host) - 1);
	uname(&u);
	kmb_json_str(j, "host", host);
	kmb_json_str(j, "kernel", u.release);
	kmb_json_str(j, "machine", u.machine);
	kmb_json_str(j, "cpu_model", cpu);
	kmb_json_u64(j, "online_cpus", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
	kmb_json_str(j, "topology", topo);
#ifdef __clang__
	kmb_json_str(j, "compiler", "clang " __clang_version__);
#else
	kmb_json_str(j, "compiler", "gcc " __VERSION__);
#endif
	kmb_json_str(j, "build_type", KMB_BUILD_TYPE);
	kmb_json_bool(j, "git_dirty", KMB_GIT_DIRTY); /* at configure time */
	kmb_json_str(j, "c_flags", KMB_C_FLAGS);
	kmb_json_dbl(j, "ns_per_cycle", kmb_clock_ns_per_cycle());
	kmb_json_dbl(j, "timer_overhead_ns", kmb_clock_overhead_ns());
}

static void json_workloads(struct kmb_json *j, const struct run *r)
{
	kmb_json_arr_begin(j, "workloads");
	for (unsigned w = 0; w < r->nwl; w++) {
		const struct run_workload *wl = &r->wl[w];

		kmb_json_obj_begin(j, NULL);
		kmb_json_str(j, "name", wl->name);
		kmb_json_str(j, "source", wl->source);
		kmb_json_str(j, "generator", wl->gen ? wl->gen->name : NULL);
		if (wl->gen) {
			kmb_json_u64(j, "gen_events", wl->gopt.events);
			kmb_json_u64(j, "gen_cpus", wl->gopt.cpus);
			kmb_json_u64(j, "gen_seed", wl->gopt.seed);
		}
		kmb_json_u64(j, "events", wl->facts.events);
		kmb_json_u64(j, "plan_ops", wl->plan.nop);
		kmb_json_u64(j, "cpus", wl->facts.cpus);
		kmb_json_u64(j, "peak_live_bytes_req", wl->facts.peak_live_bytes_req);
		kmb_json_u64(j, "mem_bytes", wl->mem_bytes);
		kmb_json_str(j, "mem_rule", wl->mem_rule[0] ? wl->mem_rule : NULL);
		kmb_json_u64(j, "repeat", wl->repeat);
		kmb_json_str(j, "scaling", wl->replicate ? "replicate" : "streams");
		kmb_json_obj_end(j);
	}
	kmb_json_arr_end(j);
}

/* The largest workload memory (without --mem each is sized from its trace). */
static size_t largest_mem(const struct run *r)
{
	size_t m = r->mem_floor;

	for (unsigned w = 0; w < r->nwl; w++)
		if (r->wl[w].mem_rule[0] && r->wl[w].mem_bytes > m)
			m = r->wl[w].mem_bytes;
	return m;
}

static void json_options(struct kmb_json *j, const struct run *r)
{
	kmb_json_u64(j, "seed", r->seed);
	if (r->shard_n != 0) {
		kmb_json_obj_begin(j, "shard");
		kmb_json_u64(j, "k", r->shard_k);
		kmb_json_u64(j, "n", r->shard_n);
		kmb_json_obj_end(j);
	}
	kmb_json_dbl(j, "idle_cpus_at_start", r->idle_cpus);
	kmb_json_str(j, "idle_cpus_method",
	             "/proc/stat idle + iowait share over 250 ms before the first job, times the "
	             "online CPUs");
	kmb_json_bool(j, "quick", r->quick);
	kmb_json_u64(j, "repetitions", r->reps);
	kmb_json_u64(j, "ops_per_repetition", r->target_ops);
	kmb_json_u64(j, "warmup", r->warmup);
	kmb_json_u64(j, "mem_bytes", r->mem_bytes ? r->mem_bytes : largest_mem(r));
	kmb_json_bool(j, "mem_from_traces", r->mem_bytes == 0);
	kmb_json_str(j, "topology_option", r->topology);
	kmb_json_bool(j, "invariants", r->invariants == KMB_INVARIANTS_ON || kmb_invariants());
	kmb_json_arr_begin(j, "threads");
	for (unsigned i = 0; i < r->nthreads; i++)
		kmb_json_u64(j, NULL, r->threads[i]);
	kmb_json_arr_end(j);
	kmb_json_arr_begin(j, "backends");
	for (unsigned i = 0; i < r->nbackends; i++)
		kmb_json_str(j, NULL, r->backends[i]);
	kmb_json_arr_end(j);
	kmb_json_arr_begin(j, "backend_specs"); /* what each replayed, e.g. plugin:PATH.so */
	for (unsigned i = 0; i < r->nbackends; i++)
		kmb_json_str(j, NULL, r->specs[i] ? r->specs[i] : r->backends[i]);
	kmb_json_arr_end(j);
}

static void json_progress(struct kmb_json *j, const struct run *r, const char *reason)
{
	char t[64];

	iso_time(r->started, t, sizeof(t));
	kmb_json_str(j, "started", t);
	if (reason == NULL || strcmp(reason, "running") != 0) {
		iso_time(time(NULL), t, sizeof(t));
		kmb_json_str(j, "finished", t);
		kmb_json_dbl(j, "duration_s", kmb_run_elapsed(r));
	}
	kmb_json_obj_begin(j, "jobs");
	kmb_json_u64(j, "total", r->njobs);
	kmb_json_u64(j, "done", r->done);
	kmb_json_u64(j, "failed", r->failed);
	kmb_json_obj_end(j);
	/* complete: every job ran and succeeded; failed jobs beside it (and in "jobs") */
	kmb_json_bool(j, "complete", reason == NULL && r->failed == 0);
	kmb_json_u64(j, "failed", r->failed);
	if (reason == NULL && r->failed != 0) {
		snprintf(t, sizeof(t), "%zu of %zu jobs failed", r->failed, r->njobs);
		reason = t;
	}
	if (reason)
		kmb_json_str(j, "incomplete_reason", reason);
}

/* The exact argv, and as one shell-quoted line. */
static void json_command(struct kmb_json *j, const struct run *r)
{
	const char *const *argv = (const char *const *)r->argv;
	size_t len = kmb_shell_join(NULL, 0, argv, (size_t)r->argc) + 1;
	char *line = malloc(len);

	kmb_json_arr_begin(j, "command");
	for (int i = 0; i < r->argc; i++)
		kmb_json_str(j, NULL, r->argv[i]);
	kmb_json_arr_end(j);
	if (line != NULL)
		kmb_shell_join(line, len, argv, (size_t)r->argc);
	kmb_json_str(j, "command_line", line);
	free(line);
}

/* reason: NULL when every job ran, else why not ("running" while it runs); "complete" is
 * also false when a job failed. */
int kmb_run_write_json(const struct run *r, const char *reason)
{
	char path[4200];
	struct kmb_file kf;
	struct kmb_json j;
	FILE *f;

	snprintf(path, sizeof(path), "%s/run.json", r->dir);
	if ((f = kmb_file_create(path, &kf)) == NULL)
		return -errno;
	kmb_json_begin(&j, f);
	kmb_json_obj_begin(&j, NULL);
	kmb_json_str(&j, "kmbench_version", KMB_VERSION);
	kmb_json_str(&j, "git_commit", KMB_GIT_COMMIT);
	json_command(&j, r);
	json_host(&j);
	json_options(&j, r);
	json_workloads(&j, r);
	json_progress(&j, r, reason);
	kmb_json_script_tags(&j, r->dir, r->have_script_key ? r->script_key : NULL);
	kmb_json_obj_end(&j);
	return kmb_file_finish(&kf, kmb_json_end(&j));
}

/* ---- the whole ---------------------------------------------------------------------------- */

static int make_dir(struct run *r)
{
	char sub[4200];
	int rc = kmb_run_dir_create(r->out_root, r->dir, sizeof(r->dir));

	snprintf(sub, sizeof(sub), "%s/replay", r->dir);
	if (rc == 0 && kmb_mkdir_p(sub) != 0)
		rc = -errno;
	if (rc == 0)
		rc = kmb_run_write_json(r, "running");
	if (rc != 0)
		fprintf(stderr, "kmbench run: cannot create a results directory under %s: %s\n",
		        r->out_root, strerror(-rc));
	return rc;
}

static const char *signame(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : strsignal(sig);
}

/* The last line: the directory and those of its main files that exist. */
static void print_written(const struct run *r, bool json_ok)
{
	static const char *const files[] = {"report.html", "report.md", "summary.csv", "run.json",
	                                    "scaling.png"};
	char path[4300];
	int n = 0;

	printf("\nresults: %s (", r->dir);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", r->dir, files[i]);
		if (access(path, F_OK) == 0 && (json_ok || strcmp(files[i], "run.json") != 0))
			printf("%s%s", n++ ? ", " : "",
			       strcmp(files[i], "scaling.png") ? files[i] : "plots");
	}
	printf("%s)\n", n ? "" : "nothing written");
}

/* Everything after the jobs; returns the exit status. */
static int finish(struct run *r, int stopped)
{
	char reason[200], err[1200];
	int status = r->failed ? 1 : 0, rc;
	bool json_ok = true;

	if (kmb_run_write_summaries(r) != 0)
		status = 1;
	if (kmb_run_write_plots(r) != 0)
		status = 1;
	if (kmb_run_write_frames(r) != 0)
		status = 1;
	if (!stopped && (stopped = kmb_run_interrupted()) != 0)
		snprintf(reason, sizeof(reason), "interrupted by %s while writing the results",
		         signame(stopped));
	else if (stopped)
		snprintf(reason, sizeof(reason), "interrupted by %s after %zu of %zu jobs",
		         signame(stopped), r->done, r->njobs);
	if ((rc = kmb_run_write_json(r, stopped ? reason : NULL)) != 0) {
		json_ok = false;
		fprintf(stderr, "kmbench run: cannot write %s/run.json: %s\n", r->dir,
		        strerror(-rc));
		status = 1;
	}
	if ((rc = kmb_report_write(r->dir, err, sizeof(err))) != 0) { /* reads run.json */
		fprintf(stderr, "kmbench run: report: %s\n", err);
		status = 1;
	}
	kmb_run_print_table(stdout, r);
	print_written(r, json_ok);
	if (stopped) {
		fprintf(stderr, "kmbench run: %s; results so far in %s\n", reason, r->dir);
		return 128 + stopped;
	}
	return status;
}

/* The key of the scripts' tags; without it kmbench plot DIR needs --trust-scripts. */
static void script_key(struct run *r)
{
	char err[PATH_MAX + 100];

	r->have_script_key = kmb_script_key(r->script_key, true, err, sizeof(err)) == 0;
	if (!r->have_script_key)
		fprintf(stderr,
		        "kmbench run: the gnuplot scripts will not be tagged (%s): kmbench plot "
		        "will need --trust-scripts\n",
		        err);
}

static int run_all(struct run *r)
{
	int rc, stopped = 0;

	kmb_clock_calibrate();
	r->idle_cpus = idle_cpus();
	script_key(r);
	if (kmb_run_make_cells(r) != 0 || make_dir(r) != 0)
		return 1;
	kmb_run_signals_install();
	rc = kmb_run_jobs(r);
	if (rc == 0 && !r->no_frames)
		rc = kmb_run_take_frames(r);
	if (rc == -EINTR)
		stopped = kmb_run_interrupted();
	return finish(r, stopped);
}

static void free_argv(int argc, char **v)
{
	for (int i = 0; i < argc; i++)
		free(v[i]);
	free(v);
}

static char **copy_argv(int argc, char *const *argv)
{
	char **v = calloc((size_t)argc + 1, sizeof(*v));

	for (int i = 0; v != NULL && i < argc; i++)
		if ((v[i] = strdup(argv[i])) == NULL) {
			free_argv(i, v);
			v = NULL;
		}
	return v;
}

/* results/runs of the source tree a build-tree kmbench comes from, else of the working
 * directory (an installed kmbench; engine/paths.c). */
static const char *default_out_root(void)
{
	static char root[PATH_MAX + 16];

	if (kmb_source_dir() == NULL)
		return "results/runs";
	snprintf(root, sizeof(root), "%s/results/runs", kmb_source_dir());
	return root;
}

int kmb_cmd_run(int argc, char **argv)
{
	struct run *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL)
		return 1;
	r->seed = (uint64_t)time(NULL) % 4000000000u;
	r->warmup = 1;
	if ((r->argv = copy_argv(argc + 1, argv - 1)) == NULL) { /* parse() cuts the lists */
		free(r);
		return 1;
	}
	r->argc = argc + 1;
	r->started = time(NULL);
	r->t0_ns = kmb_run_now_ns();
	/* every registered spec: what the build has (KMB_BACKENDS), slub's when built */
	for (size_t i = 0; i < kmb_backend_count() && i < RUN_MAX_BACKENDS; i++)
		r->specs[r->nbackends] = r->backends[r->nbackends] = kmb_backend_at(i)->name,
		r->nbackends++;
	if (kmb_backend_count() > RUN_MAX_BACKENDS)
		fprintf(stderr, "kmbench run: %zu specs registered, the first %d by default\n",
		        kmb_backend_count(), RUN_MAX_BACKENDS);
	if ((rc = parse(argc, argv, r)) == 0) {
		if (r->out_root == NULL)
			r->out_root = default_out_root();
		rc = kmb_run_load_workloads(r);
		rc = rc == -E2BIG ? 2 : rc != 0 ? 1 : run_all(r);
	}
	kmb_run_free_cells(r);
	kmb_run_free_workloads(r);
	free_argv(r->argc, r->argv);
	free(r);
	return rc;
}
