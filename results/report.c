/*
 * results/report.c - the design-decision report of a `kmbench run` results directory:
 * loading, the setup, the order of the sections, writing (report.h lists the other parts).
 *
 * The report is a function of the directory's files only (run.json, summary.csv,
 * repetitions.csv, sizeclass.csv, frames.csv, replay/<cell>-r<k>.json, the PNGs), so
 * `kmbench plot DIR` can rebuild it after re-rendering, and an interrupted run gets one
 * too.  It is built as blocks (report.h) and written twice: report.md (images by path) and
 * report.html (self-contained).
 *
 * Contents: the setup and how the figures were measured (timer cost and resolution,
 * throughput from an untimed replay, how baseline footprint is read, whether the machine
 * had idle CPUs for the threads); a ranking over all workloads and one per workload; each
 * figure with one finding per workload computed from the data (who is best and worst, by
 * how much - no sentence is written unless the numbers behind it exist); `vmstat -m` of
 * the first workload; behaviour under memory exhaustion; what failed.  Column names are
 * those of the declared schema (results/schema.def); directories written before it read
 * through its aliases.
 *
 * Backends, workloads and thread counts are lists grown as needed; each cell's summary row
 * and repetitions are indexed once (one pass over each file), so the report is linear in
 * the size of the directory.  Tables and findings use the first --threads value (the
 * base); the scaling figure uses them all.
 */
#include "results/results.h"
#include "results/report.h"
#include "results/schema.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
/* ---- numbers as text --------------------------------------------------------------------- */

const char *kmb_rf_ns(char *buf, double ns)
{
	if (!isfinite(ns))
		snprintf(buf, 32, "n/a");
	else if (ns >= 1e6)
		snprintf(buf, 32, "%.2f ms", ns / 1e6);
	else if (ns >= 1e4)
		snprintf(buf, 32, "%.1f us", ns / 1e3);
	else
		snprintf(buf, 32, "%.0f ns", ns);
	return buf;
}

const char *kmb_rf_bytes(char *buf, double b)
{
	if (!isfinite(b))
		snprintf(buf, 32, "n/a");
	else if (b >= 1 << 20)
		snprintf(buf, 32, "%.2f MiB", b / (1 << 20));
	else if (b >= 1 << 10)
		snprintf(buf, 32, "%.1f KiB", b / (1 << 10));
	else
		snprintf(buf, 32, "%.0f B", b);
	return buf;
}

const char *kmb_rf_ops(char *buf, double ops)
{
	if (!isfinite(ops))
		snprintf(buf, 32, "n/a");
	else
		snprintf(buf, 32, "%.2f M", ops / 1e6);
	return buf;
}

/* A count: whole numbers without decimals, others (per-pass averages) with one. */
const char *kmb_rf_count(char *buf, double v)
{
	if (!isfinite(v))
		snprintf(buf, 32, "n/a");
	else
		snprintf(buf, 32, v == floor(v) ? "%.0f" : "%.1f", v);
	return buf;
}

const char *kmb_rf_num(char *buf, double v, int decimals)
{
	if (!isfinite(v))
		snprintf(buf, 32, "n/a");
	else
		snprintf(buf, 32, "%.*f", decimals, v);
	return buf;
}

/* ---- loading ----------------------------------------------------------------------------- */

static int index_of(const char *const *v, unsigned n, const char *s)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return (int)i;
	return -1;
}

static int index_of_t(const unsigned *v, unsigned n, unsigned t)
{
	for (unsigned i = 0; i < n; i++)
		if (v[i] == t)
			return (int)i;
	return -1;
}

/* Room for one more in a list of n: capacity 4, then each power of two. */
static bool grow(struct kmb_report *r, void **v, size_t size, unsigned n)
{
	void *nv;

	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return true;
	if ((nv = realloc(*v, (n ? 2 * (size_t)n : 4) * size)) == NULL) {
		r->d.nomem = true;
		return false;
	}
	*v = nv;
	return true;
}

static void add_name(struct kmb_report *r, const char ***v, unsigned *n, const char *s)
{
	if (s && index_of(*v, *n, s) < 0 && grow(r, (void **)v, sizeof(**v), *n))
		(*v)[(*n)++] = s;
}

static void add_t(struct kmb_report *r, unsigned t)
{
	if (index_of_t(r->t, r->nt, t) < 0 && grow(r, (void **)&r->t, sizeof(*r->t), r->nt))
		r->t[r->nt++] = t;
}

/* Backends, workloads and thread counts: from run.json, then summary.csv's rows. */
static void lists(struct kmb_report *r)
{
	const struct kmb_jv *v;

	if ((v = kmb_jv_get(&r->run, "backends")) && v->type == KMB_JV_ARR)
		for (size_t i = 0; i < v->n; i++)
			if (v->kid[i].type == KMB_JV_STR)
				add_name(r, &r->b, &r->nb, v->kid[i].str);
	if ((v = kmb_jv_get(&r->run, "workloads")) && v->type == KMB_JV_ARR)
		for (size_t i = 0; i < v->n; i++)
			add_name(r, &r->w, &r->nw, kmb_jv_str(&v->kid[i], "name", NULL));
	if ((v = kmb_jv_get(&r->run, "threads")) && v->type == KMB_JV_ARR)
		for (size_t i = 0; i < v->n; i++)
			if (v->kid[i].type == KMB_JV_NUM && v->kid[i].num >= 1)
				add_t(r, (unsigned)v->kid[i].num);
	for (size_t i = 1; i < r->sum.nrows; i++) {
		double t = kmb_csv_num(&r->sum, i, "threads");

		add_name(r, &r->b, &r->nb, kmb_csv_get(&r->sum, i, "backend"));
		add_name(r, &r->w, &r->nw, kmb_csv_get(&r->sum, i, "workload"));
		add_t(r, isfinite(t) && t >= 1 ? (unsigned)t : 1);
	}
	if (r->nt == 0)
		add_t(r, 1);
}

/* The cell index of a CSV row (backend, workload, threads), or -1. */
static long cell_of(const struct kmb_report *r, const struct kmb_csv *c, size_t i)
{
	int b = index_of(r->b, r->nb, kmb_csv_get(c, i, "backend"));
	int w = index_of(r->w, r->nw, kmb_csv_get(c, i, "workload"));
	double tv = kmb_csv_num(c, i, "threads");
	int t = index_of_t(r->t, r->nt, isfinite(tv) && tv >= 1 ? (unsigned)tv : 1);

	return b < 0 || w < 0 || t < 0 ? -1 : ((long)b * r->nw + w) * r->nt + t;
}

/* One pass over summary.csv and repetitions.csv: each cell's row and repetitions. */
static void index_cells(struct kmb_report *r)
{
	size_t n = (size_t)r->nb * r->nw * r->nt;

	r->cell_row = calloc(n ? n : 1, sizeof(*r->cell_row));
	r->cell_v = calloc(n ? n : 1, sizeof(*r->cell_v));
	if (r->cell_row == NULL || r->cell_v == NULL) {
		r->d.nomem = true;
		return;
	}
	for (size_t i = 1; i < r->sum.nrows; i++) {
		long c = cell_of(r, &r->sum, i);

		if (c >= 0 && kmb_csv_num(&r->sum, i, "repetitions") > 0 && !r->cell_row[c])
			r->cell_row[c] = i;
	}
	kmb_report_choose_throughput(r);
	for (size_t i = 1; r->has_reps && i < r->reps.nrows; i++) {
		long c = cell_of(r, &r->reps, i);
		double v = kmb_csv_num(&r->reps, i, r->thr);
		struct kmb_report_vals *cv = c >= 0 ? &r->cell_v[c] : NULL;

		if (cv == NULL || kmb_csv_num(&r->reps, i, "ok") != 1 || !isfinite(v))
			continue;
		if (cv->n == cv->cap) {
			double *nv =
			        realloc(cv->v, (cv->cap = cv->cap ? 2 * cv->cap : 8) * sizeof(*nv));

			if (nv == NULL) {
				r->d.nomem = true;
				return;
			}
			cv->v = nv;
		}
		cv->v[cv->n++] = v;
	}
}

static int load(struct kmb_report *r, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/run.json", r->dir);
	r->has_run = kmb_jv_load(path, &r->run, err, errlen) == 0;
	snprintf(path, sizeof(path), "%s/summary.csv", r->dir);
	if ((rc = kmb_csv_load(path, &r->sum)) != 0 && rc != -EINVAL) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/sizeclass.csv", r->dir);
	r->has_size = kmb_csv_load(path, &r->size) == 0;
	snprintf(path, sizeof(path), "%s/frames.csv", r->dir);
	r->has_frames = kmb_csv_load(path, &r->frames) == 0;
	snprintf(path, sizeof(path), "%s/repetitions.csv", r->dir);
	r->has_reps = kmb_csv_load(path, &r->reps) == 0;
	lists(r);
	index_cells(r);
	return 0;
}

static void unload(struct kmb_report *r)
{
	size_t n = (size_t)r->nb * r->nw * r->nt;

	for (size_t i = 0; r->cell_v && i < n; i++)
		free(r->cell_v[i].v);
	free(r->cell_v);
	free(r->cell_row);
	free(r->b);
	free(r->w);
	free(r->t);
	kmb_jv_free(&r->run);
	kmb_csv_free(&r->sum);
	kmb_csv_free(&r->size);
	kmb_csv_free(&r->frames);
	kmb_csv_free(&r->reps);
	kmb_rdoc_free(&r->d);
}

size_t kmb_report_row(const struct kmb_report *r, unsigned b, unsigned w, unsigned t)
{
	return r->cell_row ? r->cell_row[((size_t)b * r->nw + w) * r->nt + t] : 0;
}

double kmb_report_num(const struct kmb_report *r, size_t rw, const char *col)
{
	char old[96];
	int m;

	if (rw == 0)
		return NAN;
	if (kmb_csv_col(&r->sum, col) >= 0)
		return kmb_csv_num(&r->sum, rw, col);
	snprintf(old, sizeof(old), "%s_median", col); /* summary.csv before the schema */
	if (kmb_csv_col(&r->sum, old) >= 0)
		return kmb_csv_num(&r->sum, rw, old);
	m = kmb_metric_find(col);
	return m >= 0 && kmb_metrics[m].alias[0] ? kmb_csv_num(&r->sum, rw, kmb_metrics[m].alias)
	                                         : NAN;
}

double kmb_report_per_pass(const struct kmb_report *r, size_t rw, const char *col)
{
	double k = kmb_report_num(r, rw, "repeat");

	return kmb_report_num(r, rw, col) / (isfinite(k) && k > 0 ? k : 1);
}

bool kmb_report_file_exists(const struct kmb_report *r, const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return false;
	fclose(f);
	return true;
}

/* ---- the setup ------------------------------------------------------------------------------ */

static void fact(struct kmb_rtable *t, const char *k, const char *v)
{
	kmb_rtable_cell(t, "%s", k);
	kmb_rtable_cell(t, "%s", v ? v : "unknown");
}

/* Appends c at buf[at] if it fits (kept NUL-terminated); the next position either way. */
static size_t put(char *buf, size_t len, size_t at, char c)
{
	if (at + 1 < len) {
		buf[at] = c;
		buf[at + 1] = '\0';
	}
	return at + 1;
}

size_t kmb_shell_quote(char *buf, size_t len, size_t at, const char *s)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                            "0123456789_@%+=:,./-";
	bool bare = s[0] != '\0' && s[strspn(s, plain)] == '\0';

	if (!bare)
		at = put(buf, len, at, '\'');
	for (; *s; s++) {
		if (*s == '\'' && !bare) { /* ' ends the quote, \' is a quote, ' reopens */
			at = put(buf, len, at, '\'');
			at = put(buf, len, at, '\\');
			at = put(buf, len, at, '\'');
		}
		at = put(buf, len, at, *s);
	}
	return bare ? at : put(buf, len, at, '\'');
}

size_t kmb_shell_join(char *buf, size_t len, const char *const *argv, size_t n)
{
	size_t at = 0;

	if (len > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		at = kmb_shell_quote(buf, len, i ? put(buf, len, at, ' ') : at, argv[i]);
	return at;
}

/* The command line of run.json's "command" (the exact argv), shell-quoted. */
static void command_line(const struct kmb_report *r, char *buf, size_t len)
{
	const struct kmb_jv *c = kmb_jv_get(&r->run, "command");
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; c && c->type == KMB_JV_ARR && i < c->n; i++)
		if (c->kid[i].type == KMB_JV_STR)
			at = kmb_shell_quote(buf, len, at ? put(buf, len, at, ' ') : at,
			                     c->kid[i].str);
}

static void status(struct kmb_report *r)
{
	const struct kmb_jv *jobs = kmb_jv_get(&r->run, "jobs");
	double total = kmb_jv_num(jobs, "total", NAN), done = kmb_jv_num(jobs, "done", NAN);
	double failed = kmb_jv_num(jobs, "failed", 0),
	       secs = kmb_jv_num(&r->run, "duration_s", NAN);

	if (!r->has_run)
		kmb_rdoc_para(&r->d, "run.json is missing or unreadable: the setup is unknown.");
	else if (kmb_jv_bool(&r->run, "complete", false) && failed == 0)
		kmb_rdoc_para(&r->d,
		              "Complete: all %.0f jobs (repetitions of a backend on a workload at "
		              "a thread count) ran and succeeded in %.0f s.",
		              total, secs);
	else
		kmb_rdoc_para(&r->d,
		              "INCOMPLETE: %s. %.0f of %.0f jobs ran, %.0f of them failed; the "
		              "tables and figures show those that succeeded.",
		              kmb_jv_str(&r->run, "incomplete_reason", "the run did not finish"),
		              done, total, failed);
}

static void setup_table(struct kmb_report *r)
{
	struct kmb_rtable *t = kmb_rdoc_table(&r->d, "fact|value", "ll");
	const struct kmb_jv *j = &r->run, *th = kmb_jv_get(j, "threads");
	char buf[2048], a[64];
	size_t n = 0;

	fact(t, "host", kmb_jv_str(j, "host", NULL));
	snprintf(buf, sizeof(buf), "%s, %.0f online CPUs (%s)", kmb_jv_str(j, "cpu_model", "?"),
	         kmb_jv_num(j, "online_cpus", NAN), kmb_jv_str(j, "machine", "?"));
	fact(t, "CPU", buf);
	fact(t, "topology (hwloc)", kmb_jv_str(j, "topology", NULL));
	fact(t, "kernel", kmb_jv_str(j, "kernel", NULL));
	snprintf(buf, sizeof(buf), "%s, %s build, flags '%s'", kmb_jv_str(j, "compiler", "?"),
	         kmb_jv_str(j, "build_type", "?"), kmb_jv_str(j, "c_flags", ""));
	fact(t, "compiler", buf);
	snprintf(buf, sizeof(buf), "%s (commit %s)", kmb_jv_str(j, "kmbench_version", "?"),
	         kmb_jv_str(j, "git_commit", "?"));
	fact(t, "kmbench", buf);
	command_line(r, buf, sizeof(buf));
	fact(t, "command", buf);
	snprintf(buf, sizeof(buf), "%s to %s (%.0f s)", kmb_jv_str(j, "started", "?"),
	         kmb_jv_str(j, "finished", "?"), kmb_jv_num(j, "duration_s", NAN));
	fact(t, "when", buf);
	for (size_t i = 0; th && th->type == KMB_JV_ARR && i < th->n && n < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%.0f", i ? ", " : "",
		                      th->kid[i].num);
	snprintf(buf + n, sizeof(buf) - n,
	         " (tables and findings at the first); %.0f repetitions of %.0f operations each, "
	         "job order shuffled with seed %.0f",
	         kmb_jv_num(j, "repetitions", NAN), kmb_jv_num(j, "ops_per_repetition", NAN),
	         kmb_jv_num(j, "seed", NAN));
	fact(t, "replay threads", buf);
	snprintf(buf, sizeof(buf), "%s%s simulated physical memory (4 KiB frames)%s; INVARIANTS %s",
	         kmb_jv_bool(j, "mem_from_traces", false) ? "up to " : "",
	         kmb_rf_bytes(a, kmb_jv_num(j, "mem_bytes", NAN)),
	         kmb_jv_bool(j, "mem_from_traces", false)
	                 ? ", sized from each trace's peak live bytes (the workloads table)"
	                 : "",
	         kmb_jv_bool(j, "invariants", false) ? "on" : "off");
	fact(t, "system", buf);
}

/* The largest value of a column over the cells (a property of the machine, not a cell). */
static double column_max(const struct kmb_report *r, const char *col)
{
	double m = NAN;

	for (size_t i = 1; i < r->sum.nrows; i++) {
		double v = kmb_report_num(r, i, col);

		if (isfinite(v) && !(v <= m))
			m = v;
	}
	return m;
}

/* How the numbers were taken: the timer, throughput, footprint, the machine's load. */
static void measurement(struct kmb_report *r)
{
	double res = column_max(r, "timer_resolution_ns"), tmax = r->t[r->nt - 1];
	double idle = kmb_jv_num(&r->run, "idle_cpus_at_start", NAN);
	char a[32];

	kmb_rdoc_heading(&r->d, 3, "How the figures were measured");
	kmb_rdoc_item(&r->d,
	              "Timer: reading the cycle counter around an operation costs %s (the median "
	              "of an empty timed interval), included in every latency.",
	              kmb_rf_ns(a, kmb_jv_num(&r->run, "timer_overhead_ns", NAN)));
	if (res > 0)
		kmb_rdoc_item(
		        &r->d,
		        "Timer resolution: %.3g ns per tick; latencies are multiples of it, so "
		        "differences below it are not measured.",
		        res);
	else
		kmb_rdoc_item(&r->d, "Timer resolution: not recorded by the kmbench that wrote "
		                     "this run (timer_resolution_ns).");
	kmb_rdoc_item(&r->d,
	              "Throughput comes from a replay with timing off (wall time of the replay "
	              "loop, and its threads' CPU time); latencies and everything else from a "
	              "second, timed replay. Every figure of a cell is the median over its "
	              "repetitions; a coefficient of variation above %.0f%% is flagged (!).",
	              KMB_CV_FLAG_PCT);
	kmb_rdoc_item(
	        &r->d,
	        "Footprint: the kernel designs' pages held (data and metadata) in the "
	        "simulated physical memory. The user-space baselines (libc, mimalloc, "
	        "jemalloc, tcmalloc) take memory from the process, not from simulated frames: "
	        "their footprint is their allocator's own statistics (glibc mallinfo2, "
	        "mi_process_info's commit, jemalloc stats.resident, tcmalloc heap_size less "
	        "unmapped), read at each new high of charged bytes; compare it with the "
	        "kernel designs' as the order of magnitude it is.");
	if (isfinite(idle))
		kmb_rdoc_item(&r->d, "%s %.1f of %.0f online CPUs were idle at the start (%s); %s",
		              idle + 0.5 < tmax ? "WARNING: only" : "Load:", idle,
		              kmb_jv_num(&r->run, "online_cpus", NAN),
		              kmb_jv_str(&r->run, "idle_cpus_method", "?"),
		              idle + 0.5 < tmax
		                      ? "fewer than the replay threads of the largest "
		                        "thread count: threads shared CPUs with other work "
		                        "and the scaling figures understate the allocators."
		                      : "enough for the largest thread count.");
}

static void workload_table(struct kmb_report *r)
{
	const struct kmb_jv *wl = kmb_jv_get(&r->run, "workloads");
	struct kmb_rtable *t;
	char a[32], m[32];

	if (wl == NULL || wl->type != KMB_JV_ARR || wl->n == 0)
		return;
	t = kmb_rdoc_table(&r->d,
	                   "workload|source|events|CPUs|peak live requested|memory|passes per "
	                   "repetition|at T threads",
	                   "llrrrrrl");
	for (size_t i = 0; i < wl->n; i++) {
		const struct kmb_jv *w = &wl->kid[i];
		bool rep = strcmp(kmb_jv_str(w, "scaling", ""), "replicate") == 0;

		kmb_rtable_cell(t, "%s", kmb_jv_str(w, "name", "?"));
		kmb_rtable_cell(t, "%s", kmb_jv_str(w, "source", "?"));
		kmb_rtable_cell(t, "%.0f", kmb_jv_num(w, "events", NAN));
		kmb_rtable_cell(t, "%.0f", kmb_jv_num(w, "cpus", NAN));
		kmb_rtable_cell(t, "%s",
		                kmb_rf_bytes(a, kmb_jv_num(w, "peak_live_bytes_req", NAN)));
		kmb_rtable_cell(t, "%s", kmb_rf_bytes(m, kmb_jv_num(w, "mem_bytes", NAN)));
		kmb_rtable_cell(t, "%.0f", kmb_jv_num(w, "repeat", NAN));
		kmb_rtable_cell(t, "%s",
		                rep ? "T copies of the trace" : "its CPU streams on T threads");
	}
}
static void build(struct kmb_report *r)
{
	size_t end = strlen(r->dir), start;

	while (end > 1 && r->dir[end - 1] == '/') /* "runs/20261204-120000/": its last name */
		end--;
	for (start = end; start > 0 && r->dir[start - 1] != '/'; start--)
		;
	snprintf(r->d.title, sizeof(r->d.title), "kmbench report %.*s", (int)(end - start),
	         r->dir + start);
	kmb_rdoc_heading(&r->d, 1, "%s", r->d.title);
	status(r);
	kmb_rdoc_heading(&r->d, 2, "Setup");
	setup_table(r);
	workload_table(r);
	measurement(r);
	kmb_report_ranking(r);
	kmb_report_figures(r);
	kmb_report_slub_finding(r);
	kmb_report_fidelity(r);
	kmb_report_frames(r);
	kmb_report_vmstat(r);
	kmb_report_exhaust(r);
	kmb_report_failures(r);
	kmb_rdoc_heading(&r->d, 2, "Files");
	kmb_rdoc_para(
	        &r->d,
	        "run.json (setup), summary.csv (per backend, workload and thread count), "
	        "repetitions.csv (per repetition: kmbench compare OLD NEW tests these), "
	        "replay/ (each repetition's replay JSON), *.hgrm (HdrHistogram latency), "
	        "*.samples.csv (footprint over time), sizeclass.csv, frames.csv and frames/ "
	        "(the pictures' data), and each figure's .gp script and .dat data next to its "
	        "PNG and SVG: edit and re-render with gnuplot, or kmbench plot DIR.");
}

/* ---- writing
 * ------------------------------------------------------------------------------------- */

static int write_one(const struct kmb_report *r, const char *name, bool html, char *err,
                     size_t errlen)
{
	char path[PATH_MAX];
	struct kmb_file kf;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	if ((f = kmb_file_create(path, &kf)) == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = html ? kmb_report_html(&r->d, r->dir, f) : kmb_report_md(&r->d, f);
	if ((rc = kmb_file_finish(&kf, rc != 0 ? -EIO : 0)) != 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

int kmb_report_write(const char *dir, char *err, size_t errlen)
{
	struct kmb_report *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL)
		return -ENOMEM;
	if (errlen)
		err[0] = '\0';
	r->dir = dir;
	if ((rc = load(r, err, errlen)) == 0) {
		build(r);
		if (r->d.nomem) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
		}
	}
	if (rc == 0)
		rc = write_one(r, "report.md", false, err, errlen);
	if (rc == 0)
		rc = write_one(r, "report.html", true, err, errlen);
	unload(r);
	free(r);
	return rc;
}
