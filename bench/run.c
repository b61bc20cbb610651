/*
 * bench/run.c - `kmbench run`: the main job.
 *
 * 1. Every backend (or --backends) replays the workload --repetitions times.  The
 *    (backend, repetition) jobs run in a shuffled order (seeded, seed in run.json), so
 *    that drift of a shared machine does not favour one backend.
 * 2. Each repetition boots a fresh system: no state carries over.
 * 3. Results go to results/runs/<timestamp>/ (a new directory, never an earlier one),
 *    each file written to a temporary name and renamed:
 *      run.json                 the facts: host, CPU, topology, compiler, flags, commit,
 *                               command line, seed; "complete" false until the end
 *      summary.csv              one row per backend and workload: medians over the
 *                               repetitions, min/max and coefficient of variation
 *      repetitions.csv          one row per repetition
 *      replay/<b>-<w>-r<k>.json each repetition's replay JSON
 *      <b>-<w>.alloc.hgrm, .free.hgrm  latency (merged over repetitions), HdrHistogram text
 *      latency.{dat,gp,png,svg} latency percentile plot (script kept to re-render)
 */
#include "bench.h"

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

#define MAX_BACKENDS 32
#define WORKLOAD     "linux-3.6-boot"

struct run_args {
	const char *backends[MAX_BACKENDS];
	unsigned nbackends, reps;
	const char *trace, *out_root;
	size_t mem_bytes;
	uint64_t seed;
	bool quick;
	int invariants;
};

struct job {
	unsigned b, rep;
	struct kmb_replay_result r;
	int rc;
};

static const char run_usage[] =
        "usage: kmbench run [--quick] [--backends LIST] [--trace FILE] [--repetitions N]\n"
        "                   [--out DIR] [--mem SIZE] [--seed N]\n\n"
        "The main job: replay the workload on every backend, repeated to quote medians, in a\n"
        "shuffled order; write results, HdrHistogram .hgrm files and plots to a new directory.\n"
        "  --quick              3 repetitions (a smoke run)\n"
        "  --backends LIST      comma-separated backends (default: all; kmbench list)\n"
        "  --trace FILE         ftrace kmem trace (default: the bundled Linux 3.6 boot trace)\n"
        "  --repetitions N      repetitions per backend (default 7)\n"
        "  --out DIR            results root (default: results/runs of the source tree)\n"
        "  --mem SIZE           simulated physical memory (default 256M)\n"
        "  --seed N             seed of the job order (default: from the clock)\n"
        "  --invariants         INVARIANTS on (slow; for checking, not measuring)\n";

static int parse_backends(struct run_args *a, char *list)
{
	a->nbackends = 0;
	for (char *sv = NULL, *tok = strtok_r(list, ",", &sv); tok;
	     tok = strtok_r(NULL, ",", &sv)) {
		int rc = kmb_cli_check_backend("run", tok);

		if (rc != 0)
			return rc;
		if (a->nbackends == MAX_BACKENDS)
			return kmb_cli_error("run", "more than %d backends", MAX_BACKENDS);
		a->backends[a->nbackends++] = tok;
	}
	return a->nbackends ? 0 : kmb_cli_error("run", "empty --backends");
}

static int parse(int argc, char **argv, struct run_args *a)
{
	static const struct option opts[] = {{"quick", no_argument, NULL, 'q'},
	                                     {"backends", required_argument, NULL, 'b'},
	                                     {"trace", required_argument, NULL, 't'},
	                                     {"repetitions", required_argument, NULL, 'r'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"mem", required_argument, NULL, 'm'},
	                                     {"seed", required_argument, NULL, 's'},
	                                     {"invariants", no_argument, NULL, 'I'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	bool reps_set = false;
	unsigned v;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":b:t:o:r:", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			a->quick = true;
			break;
		case 'b':
			if ((rc = parse_backends(a, optarg)) != 0)
				return rc;
			break;
		case 't':
			a->trace = optarg;
			break;
		case 'o':
			a->out_root = optarg;
			break;
		case 'I':
			a->invariants = KMB_INVARIANTS_ON;
			break;
		case 'r':
			if (kmb_parse_uint(optarg, 1, 1000, &a->reps) != 0)
				return kmb_cli_error("run", "bad --repetitions '%s' (1..1000)",
				                     optarg);
			reps_set = true;
			break;
		case 'm':
			if (kmb_parse_size(optarg, &a->mem_bytes) != 0 || a->mem_bytes < (1u << 20))
				return kmb_cli_error("run", "bad --mem '%s' (at least 1M)", optarg);
			break;
		case 's':
			if (kmb_parse_uint(optarg, 0, 4000000000u, &v) != 0)
				return kmb_cli_error("run", "bad --seed '%s'", optarg);
			a->seed = v;
			break;
		case 'h':
			fputs(run_usage, stdout);
			exit(0);
		case ':':
			return kmb_cli_error("run", "option '%s' needs a value", argv[optind - 1]);
		default:
			return kmb_cli_error("run", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return kmb_cli_error("run", "unexpected argument '%s'", argv[optind]);
	if (!reps_set)
		a->reps = a->quick ? 3 : 7;
	return 0;
}

/* splitmix64: a small, well-mixed generator for the job order. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void shuffle(struct job **order, size_t n, uint64_t seed)
{
	for (size_t i = n; i > 1; i--) {
		size_t k = (size_t)(next_rand(&seed) % i);
		struct job *t = order[i - 1];

		order[i - 1] = order[k];
		order[k] = t;
	}
}

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

static int write_run_json(const char *dir, const struct run_args *a, int argc, char **argv,
                          bool complete)
{
	char path[8192], cpu[256], topo[128] = "unknown", host[256] = "";
	struct kmb_file kf;
	struct kmb_json j;
	struct utsname u;
	FILE *f;

	snprintf(path, sizeof(path), "%s/run.json", dir);
	if ((f = kmb_file_create(path, &kf)) == NULL)
		return -errno;
	cpu_model(cpu, sizeof(cpu));
	kmb_topology_summary(topo, sizeof(topo));
	gethostname(host, sizeof(host) - 1);
	uname(&u);
	kmb_json_begin(&j, f);
	kmb_json_obj_begin(&j, NULL);
	kmb_json_str(&j, "kmbench_version", KMB_VERSION);
	kmb_json_str(&j, "git_commit", KMB_GIT_COMMIT);
	kmb_json_arr_begin(&j, "command");
	for (int i = 0; i < argc; i++)
		kmb_json_str(&j, NULL, argv[i]);
	kmb_json_arr_end(&j);
	kmb_json_str(&j, "host", host);
	kmb_json_str(&j, "kernel", u.release);
	kmb_json_str(&j, "cpu_model", cpu);
	kmb_json_u64(&j, "online_cpus", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
	kmb_json_str(&j, "topology", topo);
	kmb_json_str(&j, "compiler", "gcc-compatible " __VERSION__);
	kmb_json_str(&j, "build_type", KMB_BUILD_TYPE);
	kmb_json_str(&j, "c_flags", KMB_C_FLAGS);
	kmb_json_bool(&j, "invariants", a->invariants == KMB_INVARIANTS_ON || kmb_invariants());
	kmb_json_dbl(&j, "ns_per_cycle", kmb_clock_ns_per_cycle());
	kmb_json_dbl(&j, "timer_overhead_ns", kmb_clock_overhead_ns());
	kmb_json_u64(&j, "seed", a->seed);
	kmb_json_u64(&j, "repetitions", a->reps);
	kmb_json_u64(&j, "mem_bytes", a->mem_bytes ? a->mem_bytes : KMB_DEFAULT_MEM_BYTES);
	kmb_json_arr_begin(&j, "backends");
	for (unsigned i = 0; i < a->nbackends; i++)
		kmb_json_str(&j, NULL, a->backends[i]);
	kmb_json_arr_end(&j);
	kmb_json_obj_begin(&j, "workloads");
	kmb_json_str(&j, WORKLOAD, a->trace);
	kmb_json_obj_end(&j);
	kmb_json_bool(&j, "complete", complete);
	kmb_json_obj_end(&j);
	fputc('\n', f);
	if (kmb_json_end(&j) != 0) {
		kmb_file_abort(&kf);
		return -EIO;
	}
	return kmb_file_commit(&kf);
}

static int write_job_json(const char *dir, const struct job *jb, const char *name)
{
	char path[8192];
	struct kmb_file kf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/replay/%s-%s-r%u.json", dir, name, WORKLOAD, jb->rep + 1);
	if ((f = kmb_file_create(path, &kf)) == NULL)
		return -errno;
	if (kmb_replay_write_json(f, &jb->r) != 0) {
		kmb_file_abort(&kf);
		return -EIO;
	}
	return kmb_file_commit(&kf);
}

static void progress(const struct run_args *a, size_t done, size_t total, uint64_t t0,
                     const struct job *jb)
{
	double el = (double)(time(NULL) - (time_t)t0);
	double eta = done ? el / (double)done * (double)(total - done) : 0;

	if (kmb_progress_enabled())
		fprintf(stderr, "\r[%zu/%zu] %-10s rep %u  elapsed %.0fs  ETA %.0fs   ", done,
		        total, a->backends[jb->b], jb->rep + 1, el, eta);
	else
		fprintf(stderr, "kmbench run: %zu/%zu %s rep %u done (%.0f ops/s)\n", done, total,
		        a->backends[jb->b], jb->rep + 1, jb->r.ops_per_sec);
	if (kmb_progress_enabled() && done == total)
		fputc('\n', stderr);
}

static int run_jobs(const struct run_args *a, const struct kmb_plan *plan,
                    const struct kmb_trace_facts *facts, const char *dir, struct job *jobs,
                    size_t njobs)
{
	struct job **order = calloc(njobs, sizeof(*order));
	uint64_t t0 = (uint64_t)time(NULL);
	int failed = 0;

	if (order == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < njobs; i++)
		order[i] = &jobs[i];
	shuffle(order, njobs, a->seed);
	for (size_t i = 0; i < njobs; i++) {
		struct job *jb = order[i];
		struct kmb_replay_opts o = {.backend = a->backends[jb->b],
		                            .mem_bytes = a->mem_bytes,
		                            .invariants = a->invariants,
		                            .timing = true};
		char err[2600];

		jb->rc = kmb_replay(plan, facts, a->trace, &o, &jb->r, err, sizeof(err));
		if (jb->rc != 0) {
			fprintf(stderr, "kmbench run: %s rep %u: %s\n", o.backend, jb->rep + 1,
			        err);
			failed++;
		}
		if (jb->rc == 0 || jb->r.aborted)
			write_job_json(dir, jb, o.backend);
		progress(a, i + 1, njobs, t0, jb);
	}
	free(order);
	return failed;
}

/* ---- summaries ----------------------------------------------------------------------- */

struct summary {
	unsigned n; /* successful repetitions */
	double ops_med, ops_min, ops_max, ops_cv;
	double a50, a99, a999, f50, f99, f999; /* medians over repetitions, ns */
	struct kmb_hist alloc, free;           /* merged over repetitions */
	const struct kmb_replay_result *last;
};

static int cmp_dbl(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static double median(double *v, unsigned n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double pct_median(struct job *jobs, size_t njobs, unsigned b, bool alloc, double p)
{
	double v[1000];
	unsigned n = 0;

	for (size_t i = 0; i < njobs; i++)
		if (jobs[i].b == b && jobs[i].rc == 0)
			v[n++] = (double)kmb_hist_percentile(
			        alloc ? &jobs[i].r.alloc_ns : &jobs[i].r.free_ns, p);
	return median(v, n);
}

static void summarize(struct job *jobs, size_t njobs, unsigned b, struct summary *s)
{
	double v[1000], sum = 0, sq = 0, mean;

	memset(s, 0, sizeof(*s));
	kmb_hist_init(&s->alloc);
	kmb_hist_init(&s->free);
	s->ops_min = INFINITY;
	for (size_t i = 0; i < njobs; i++) {
		const struct kmb_replay_result *r = &jobs[i].r;

		if (jobs[i].b != b || jobs[i].rc != 0)
			continue;
		v[s->n++] = r->ops_per_sec;
		sum += r->ops_per_sec;
		sq += r->ops_per_sec * r->ops_per_sec;
		s->ops_min = fmin(s->ops_min, r->ops_per_sec);
		s->ops_max = fmax(s->ops_max, r->ops_per_sec);
		kmb_hist_merge(&s->alloc, &r->alloc_ns);
		kmb_hist_merge(&s->free, &r->free_ns);
		s->last = r;
	}
	if (s->n == 0)
		return;
	mean = sum / s->n;
	s->ops_cv = mean > 0 ? 100.0 * sqrt(fmax(0, sq / s->n - mean * mean)) / mean : 0;
	s->ops_med = median(v, s->n);
	s->a50 = pct_median(jobs, njobs, b, true, 50);
	s->a99 = pct_median(jobs, njobs, b, true, 99);
	s->a999 = pct_median(jobs, njobs, b, true, 99.9);
	s->f50 = pct_median(jobs, njobs, b, false, 50);
	s->f99 = pct_median(jobs, njobs, b, false, 99);
	s->f999 = pct_median(jobs, njobs, b, false, 99.9);
}

static const char summary_header[] =
        "backend,workload,repetitions,ops_per_sec_median,ops_per_sec_min,ops_per_sec_max,"
        "ops_per_sec_cv_pct,alloc_p50_ns,alloc_p99_ns,alloc_p999_ns,free_p50_ns,free_p99_ns,"
        "free_p999_ns,peak_live_bytes_req,peak_live_bytes_alloc,peak_footprint_bytes,"
        "internal_frag_pct,failed_allocs\n";

static void summary_row(FILE *f, const char *name, const struct summary *s)
{
	const struct kmb_replay_result *r = s->last;

	fprintf(f,
	        "%s,%s,%u,%.0f,%.0f,%.0f,%.2f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%" PRIu64 ",%" PRIu64
	        ",%" PRIu64 ",%.3f,%" PRIu64 "\n",
	        name, WORKLOAD, s->n, s->ops_med, s->ops_min, s->ops_max, s->ops_cv, s->a50, s->a99,
	        s->a999, s->f50, s->f99, s->f999, r->peak_live_bytes_req, r->peak_live_bytes_alloc,
	        r->peak_footprint_bytes, r->internal_frag_pct, r->failed_allocs);
}

static int write_hgrm(const char *dir, const char *name, const char *what, const struct kmb_hist *h)
{
	char path[8192];
	struct kmb_file kf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%s.%s.hgrm", dir, name, WORKLOAD, what);
	if ((f = kmb_file_create(path, &kf)) == NULL)
		return -errno;
	if (kmb_hist_write_hgrm(h, f) != 0) {
		kmb_file_abort(&kf);
		return -EIO;
	}
	return kmb_file_commit(&kf);
}

static int write_reps_csv(const char *dir, const struct run_args *a, struct job *jobs, size_t njobs)
{
	char path[8192];
	struct kmb_file kf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/repetitions.csv", dir);
	if ((f = kmb_file_create(path, &kf)) == NULL)
		return -errno;
	fprintf(f, "backend,workload,repetition,ok,ops_per_sec,alloc_p50_ns,alloc_p99_ns,"
	           "free_p50_ns,free_p99_ns,peak_footprint_bytes\n");
	for (size_t i = 0; i < njobs; i++) {
		const struct kmb_replay_result *r = &jobs[i].r;

		fprintf(f,
		        "%s,%s,%u,%d,%.0f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		        "\n",
		        a->backends[jobs[i].b], WORKLOAD, jobs[i].rep + 1, jobs[i].rc == 0,
		        r->ops_per_sec, kmb_hist_percentile(&r->alloc_ns, 50),
		        kmb_hist_percentile(&r->alloc_ns, 99), kmb_hist_percentile(&r->free_ns, 50),
		        kmb_hist_percentile(&r->free_ns, 99), r->peak_footprint_bytes);
	}
	return kmb_file_commit(&kf);
}

static void print_table(FILE *out, const struct run_args *a, const struct summary *s)
{
	fprintf(out, "%-10s %5s %13s %6s %9s %9s %9s %9s %12s %7s %6s\n", "backend", "reps",
	        "ops/s(median)", "cv%", "alloc p50", "alloc p99", "free p50", "free p99",
	        "footprint", "ifrag%", "failed");
	for (unsigned b = 0; b < a->nbackends; b++) {
		if (s[b].n == 0) {
			fprintf(out, "%-10s (every repetition failed)\n", a->backends[b]);
			continue;
		}
		fprintf(out,
		        "%-10s %5u %13.0f %6.2f %9.0f %9.0f %9.0f %9.0f %11.1fM %7.2f %6" PRIu64
		        "\n",
		        a->backends[b], s[b].n, s[b].ops_med, s[b].ops_cv, s[b].a50, s[b].a99,
		        s[b].f50, s[b].f99, (double)s[b].last->peak_footprint_bytes / (1 << 20),
		        s[b].last->internal_frag_pct, s[b].last->failed_allocs);
	}
}

static int write_summary(const char *dir, const struct run_args *a, struct job *jobs, size_t njobs,
                         struct summary *s)
{
	char path[8192];
	struct kmb_file kf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/summary.csv", dir);
	if ((f = kmb_file_create(path, &kf)) == NULL)
		return -errno;
	fputs(summary_header, f);
	for (unsigned b = 0; b < a->nbackends; b++) {
		summarize(jobs, njobs, b, &s[b]);
		if (s[b].n)
			summary_row(f, a->backends[b], &s[b]);
	}
	return kmb_file_commit(&kf);
}

static int write_plots(const char *dir, const struct run_args *a, const struct summary *s)
{
	const char *names[2 * MAX_BACKENDS];
	const struct kmb_hist *hists[2 * MAX_BACKENDS];
	char labels[2 * MAX_BACKENDS][80], err[1024];
	size_t n = 0;

	for (unsigned b = 0; b < a->nbackends; b++) {
		if (s[b].n == 0)
			continue;
		write_hgrm(dir, a->backends[b], "alloc", &s[b].alloc);
		write_hgrm(dir, a->backends[b], "free", &s[b].free);
		snprintf(labels[n], sizeof(labels[n]), "%s alloc", a->backends[b]);
		names[n] = labels[n];
		hists[n++] = &s[b].alloc;
		snprintf(labels[n], sizeof(labels[n]), "%s free", a->backends[b]);
		names[n] = labels[n];
		hists[n++] = &s[b].free;
	}
	if (kmb_plot_latency(dir, names, hists, n, "Latency by percentile, " WORKLOAD " replay",
	                     "latency", err, sizeof(err)) != 0) {
		fprintf(stderr, "kmbench run: plot: %s (data and script kept in %s)\n", err, dir);
		return 1;
	}
	return 0;
}

static int finish(const char *dir, const struct run_args *a, int argc, char **argv,
                  struct job *jobs, size_t njobs, int failed)
{
	struct summary s[MAX_BACKENDS];
	int rc = failed ? 1 : 0;

	if (write_summary(dir, a, jobs, njobs, s) != 0 || write_reps_csv(dir, a, jobs, njobs) != 0)
		rc = 1;
	if (write_plots(dir, a, s) != 0)
		rc = 1;
	if (write_run_json(dir, a, argc, argv, true) != 0)
		rc = 1;
	print_table(stdout, a, s);
	printf("\nresults: %s (summary.csv, run.json, replay/, *.hgrm, latency.png)\n", dir);
	return rc;
}

int kmb_cmd_run(int argc, char **argv)
{
	struct run_args a = {.seed = (uint64_t)time(NULL) % 4000000000u};
	struct kmb_trace t;
	struct kmb_trace_facts f;
	struct kmb_plan plan;
	struct job *jobs;
	char dir[4096], sub[4200];
	size_t njobs;
	int rc;

	for (size_t i = 0; i < kmb_backend_count() && i < MAX_BACKENDS; i++)
		a.backends[a.nbackends++] = kmb_backend_at(i)->name;
	if ((rc = parse(argc, argv, &a)) != 0)
		return rc;
	if (a.trace == NULL)
		a.trace = kmb_default_trace();
	if (a.out_root == NULL)
		a.out_root = KMB_SOURCE_DIR "/results/runs";
	if (kmb_workload_load(a.trace, false, &t, &f, &plan) != 0)
		return 1;
	kmb_clock_calibrate();
	rc = kmb_mkdir_p(a.out_root);
	if (rc == 0)
		rc = kmb_run_dir_create(a.out_root, dir, sizeof(dir));
	snprintf(sub, sizeof(sub), "%s/replay", dir);
	if (rc != 0 || kmb_mkdir_p(sub) != 0 ||
	    write_run_json(dir, &a, argc + 1, argv - 1, false) != 0) {
		fprintf(stderr, "kmbench run: cannot create a results directory under %s: %s\n",
		        a.out_root, strerror(rc ? -rc : errno));
		return 1;
	}
	njobs = (size_t)a.nbackends * a.reps;
	jobs = calloc(njobs, sizeof(*jobs));
	if (jobs == NULL)
		return 1;
	for (size_t i = 0; i < njobs; i++) {
		jobs[i].b = (unsigned)(i / a.reps);
		jobs[i].rep = (unsigned)(i % a.reps);
	}
	rc = finish(dir, &a, argc + 1, argv - 1, jobs, njobs,
	            run_jobs(&a, &plan, &f, dir, jobs, njobs));
	for (size_t i = 0; i < njobs; i++)
		kmb_replay_result_free(&jobs[i].r);
	free(jobs);
	kmb_plan_free(&plan);
	kmb_trace_free(&t);
	return rc;
}
