/*
 * results/report.c - the design-decision report of a `kmbench run` results directory.
 *
 * The report is a function of the directory's files only (run.json, summary.csv,
 * sizeclass.csv, frames.csv, replay/<cell>-r<k>.json, the PNGs), so `kmbench plot DIR`
 * can rebuild it after re-rendering, and an interrupted run gets one too.  It is built as
 * blocks (report.h) and written twice: report.md (images by path) and report.html
 * (self-contained).
 *
 * Contents: the setup; a ranking over all workloads and one per workload; each figure
 * with one finding per workload computed from the data (who is best and worst, by how
 * much - no sentence is written unless the numbers behind it exist); `vmstat -m` of the
 * first workload; behaviour under memory exhaustion; what failed.
 *
 * The overall ranking combines workloads by geometric means of ratios to the best backend
 * in each workload (Fleming & Wallace 1986: the only mean of normalized numbers whose
 * order does not depend on which backend is the reference).  Tables and findings use the
 * first --threads value (the base); the scaling figure uses them all.
 */
#include "results/results.h"
#include "results/report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define R_MAX_B    64
#define R_MAX_W    16
#define R_MAX_T    8
#define VMSTAT_TOP 8

struct rep {
	const char *dir;
	struct kmb_jv run;
	struct kmb_csv sum, size, frames;
	bool has_run, has_size, has_frames;
	const char *b[R_MAX_B];
	unsigned nb;
	const char *w[R_MAX_W];
	unsigned nw;
	unsigned t[R_MAX_T];
	unsigned nt;
	struct kmb_rdoc d;
};

/* ---- numbers as text --------------------------------------------------------------------- */

static const char *f_ns(char *buf, double ns)
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

static const char *f_bytes(char *buf, double b)
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

static const char *f_ops(char *buf, double ops)
{
	if (!isfinite(ops))
		snprintf(buf, 32, "n/a");
	else
		snprintf(buf, 32, "%.2f M", ops / 1e6);
	return buf;
}

/* A count: whole numbers without decimals, others (per-pass averages) with one. */
static const char *f_count(char *buf, double v)
{
	if (!isfinite(v))
		snprintf(buf, 32, "n/a");
	else
		snprintf(buf, 32, v == floor(v) ? "%.0f" : "%.1f", v);
	return buf;
}

static const char *f_num(char *buf, double v, int decimals)
{
	if (!isfinite(v))
		snprintf(buf, 32, "n/a");
	else
		snprintf(buf, 32, "%.*f", decimals, v);
	return buf;
}

/* ---- loading ----------------------------------------------------------------------------- */

static bool listed(const char *const *v, unsigned n, const char *s)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* Backends, workloads and thread counts: from run.json, else from summary.csv's rows. */
static void lists(struct rep *r)
{
	const struct kmb_jv *v;

	if ((v = kmb_jv_get(&r->run, "backends")) && v->type == KMB_JV_ARR)
		for (size_t i = 0; i < v->n && r->nb < R_MAX_B; i++)
			if (v->kid[i].type == KMB_JV_STR)
				r->b[r->nb++] = v->kid[i].str;
	if ((v = kmb_jv_get(&r->run, "workloads")) && v->type == KMB_JV_ARR)
		for (size_t i = 0; i < v->n && r->nw < R_MAX_W; i++)
			if (kmb_jv_str(&v->kid[i], "name", NULL))
				r->w[r->nw++] = kmb_jv_str(&v->kid[i], "name", NULL);
	if ((v = kmb_jv_get(&r->run, "threads")) && v->type == KMB_JV_ARR)
		for (size_t i = 0; i < v->n && r->nt < R_MAX_T; i++)
			if (v->kid[i].type == KMB_JV_NUM)
				r->t[r->nt++] = (unsigned)v->kid[i].num;
	for (size_t row = 1; row < r->sum.nrows; row++) {
		const char *b = kmb_csv_get(&r->sum, row, "backend");
		const char *w = kmb_csv_get(&r->sum, row, "workload");
		double t = kmb_csv_num(&r->sum, row, "threads");
		unsigned tt = isfinite(t) ? (unsigned)t : 1;
		bool seen = false;

		if (!listed(r->b, r->nb, b) && r->nb < R_MAX_B)
			r->b[r->nb++] = b;
		if (!listed(r->w, r->nw, w) && r->nw < R_MAX_W)
			r->w[r->nw++] = w;
		for (unsigned i = 0; i < r->nt; i++)
			seen |= r->t[i] == tt;
		if (!seen && r->nt < R_MAX_T)
			r->t[r->nt++] = tt;
	}
	if (r->nt == 0)
		r->t[r->nt++] = 1;
}

static int load(struct rep *r, char *err, size_t errlen)
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
	lists(r);
	return 0;
}

static void unload(struct rep *r)
{
	kmb_jv_free(&r->run);
	kmb_csv_free(&r->sum);
	kmb_csv_free(&r->size);
	kmb_csv_free(&r->frames);
	kmb_rdoc_free(&r->d);
}

/* summary.csv row of a cell with at least one good repetition, or 0. */
static size_t row(const struct rep *r, const char *b, const char *w, unsigned t)
{
	for (size_t i = 1; i < r->sum.nrows; i++)
		if (strcmp(kmb_csv_get(&r->sum, i, "backend"), b) == 0 &&
		    strcmp(kmb_csv_get(&r->sum, i, "workload"), w) == 0 &&
		    kmb_csv_num(&r->sum, i, "threads") == t &&
		    kmb_csv_num(&r->sum, i, "repetitions") > 0)
			return i;
	return 0;
}

static double num(const struct rep *r, size_t rw, const char *col)
{
	return rw ? kmb_csv_num(&r->sum, rw, col) : NAN;
}

/* The per-pass value of a counter summed over a repetition's passes. */
static double per_pass(const struct rep *r, size_t rw, const char *col)
{
	double k = num(r, rw, "repeat");

	return num(r, rw, col) / (isfinite(k) && k > 0 ? k : 1);
}

/* ---- best and worst ------------------------------------------------------------------------ */

struct extremes {
	int lo, hi; /* backend indices, -1 if none */
	double vlo, vhi;
	unsigned n;
};

typedef double (*metric_fn)(const struct rep *r, size_t rw, const void *arg);

static double m_col(const struct rep *r, size_t rw, const void *arg)
{
	return num(r, rw, arg);
}

static struct extremes extremes(const struct rep *r, unsigned w, metric_fn f, const void *arg)
{
	struct extremes e = {-1, -1, INFINITY, -INFINITY, 0};

	for (unsigned b = 0; b < r->nb; b++) {
		size_t rw = row(r, r->b[b], r->w[w], r->t[0]);
		double v = rw ? f(r, rw, arg) : NAN;

		if (!isfinite(v))
			continue;
		e.n++;
		if (v < e.vlo) {
			e.vlo = v;
			e.lo = (int)b;
		}
		if (v > e.vhi) {
			e.vhi = v;
			e.hi = (int)b;
		}
	}
	return e;
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : NAN;
}

/* Every backend has the same value: nothing to rank. */
static bool same(const struct extremes *e)
{
	return e->vhi - e->vlo <= 1e-9 * fabs(e->vhi);
}

/* ---- the setup ------------------------------------------------------------------------------ */

static void fact(struct kmb_rtable *t, const char *k, const char *v)
{
	kmb_rtable_cell(t, "%s", k);
	kmb_rtable_cell(t, "%s", v ? v : "unknown");
}

static void command_line(const struct rep *r, char *buf, size_t len)
{
	const struct kmb_jv *c = kmb_jv_get(&r->run, "command");
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; c && c->type == KMB_JV_ARR && i < c->n && n < len; i++)
		if (c->kid[i].type == KMB_JV_STR)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? " " : "",
			                      c->kid[i].str);
}

static void status(struct rep *r)
{
	const struct kmb_jv *jobs = kmb_jv_get(&r->run, "jobs");
	double total = kmb_jv_num(jobs, "total", NAN), done = kmb_jv_num(jobs, "done", NAN);
	double failed = kmb_jv_num(jobs, "failed", 0),
	       secs = kmb_jv_num(&r->run, "duration_s", NAN);

	if (!r->has_run)
		kmb_rdoc_para(&r->d, "run.json is missing or unreadable: the setup is unknown.");
	else if (kmb_jv_bool(&r->run, "complete", false))
		kmb_rdoc_para(&r->d, "Complete: %.0f replays (%.0f failed) in %.0f s.", total,
		              failed, secs);
	else
		kmb_rdoc_para(&r->d,
		              "INCOMPLETE: %s. %.0f of %.0f replays were done; the tables "
		              "and figures show those.",
		              kmb_jv_str(&r->run, "incomplete_reason", "the run did not finish"),
		              done, total);
}

static void setup_table(struct rep *r)
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
	snprintf(buf, sizeof(buf),
	         "%s simulated physical memory (4 KiB frames); INVARIANTS %s; "
	         "timer cost %.0f ns per timed operation (included in latencies)",
	         f_bytes(a, kmb_jv_num(j, "mem_bytes", NAN)),
	         kmb_jv_bool(j, "invariants", false) ? "on" : "off",
	         kmb_jv_num(j, "timer_overhead_ns", NAN));
	fact(t, "system", buf);
}

static void workload_table(struct rep *r)
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
		kmb_rtable_cell(t, "%s", f_bytes(a, kmb_jv_num(w, "peak_live_bytes_req", NAN)));
		kmb_rtable_cell(t, "%s", f_bytes(m, kmb_jv_num(w, "mem_bytes", NAN)));
		kmb_rtable_cell(t, "%.0f", kmb_jv_num(w, "repeat", NAN));
		kmb_rtable_cell(t, "%s",
		                rep ? "T copies of the trace" : "its CPU streams on T threads");
	}
}

/* ---- ranking ----------------------------------------------------------------------------------
 */

struct score {
	int b;
	double thr, a99, a999, f99, fp, jw, failed;
	unsigned n;
};

/* Geometric mean over workloads of (value / best value of the workload). */
static double geo_ratio(const struct rep *r, unsigned b, const char *col, bool higher_better)
{
	double logsum = 0;
	unsigned n = 0;

	for (unsigned w = 0; w < r->nw; w++) {
		struct extremes e = extremes(r, w, m_col, col);
		double v = num(r, row(r, r->b[b], r->w[w], r->t[0]), col);
		double q = higher_better ? ratio(v, e.vhi) : ratio(v, e.vlo);

		if (isfinite(q) && q > 0) {
			logsum += log(q);
			n++;
		}
	}
	return n ? exp(logsum / n) : NAN;
}

static double geo_col(const struct rep *r, unsigned b, const char *col)
{
	double logsum = 0;
	unsigned n = 0;

	for (unsigned w = 0; w < r->nw; w++) {
		double v = num(r, row(r, r->b[b], r->w[w], r->t[0]), col);

		if (isfinite(v) && v > 0) {
			logsum += log(v);
			n++;
		}
	}
	return n ? exp(logsum / n) : NAN;
}

static int cmp_score(const void *x, const void *y)
{
	const struct score *a = x, *b = y;
	double p = isfinite(a->thr) ? a->thr : -1, q = isfinite(b->thr) ? b->thr : -1;

	return (p < q) - (p > q);
}

static void score_all(const struct rep *r, struct score *s)
{
	for (unsigned b = 0; b < r->nb; b++) {
		s[b] = (struct score){(int)b,
		                      geo_ratio(r, b, "ops_per_sec_median", true),
		                      geo_ratio(r, b, "alloc_p99_ns", false),
		                      geo_ratio(r, b, "alloc_p999_ns", false),
		                      geo_ratio(r, b, "free_p99_ns", false),
		                      geo_ratio(r, b, "peak_footprint_bytes", false),
		                      geo_col(r, b, "jw_peak_footprint_ratio"),
		                      0,
		                      0};
		for (unsigned w = 0; w < r->nw; w++) {
			size_t rw = row(r, r->b[b], r->w[w], r->t[0]);

			if (rw) {
				s[b].failed += per_pass(r, rw, "failed_allocs");
				s[b].n++;
			}
		}
	}
	qsort(s, r->nb, sizeof(*s), cmp_score);
}

static int best_of(const struct score *s, unsigned n, size_t off)
{
	int best = -1;
	double bv = INFINITY;

	for (unsigned i = 0; i < n; i++) {
		double v = *(const double *)((const char *)&s[i] + off);

		if (isfinite(v) && v < bv) {
			bv = v;
			best = s[i].b;
		}
	}
	return best;
}

static void ranking_overall(struct rep *r)
{
	struct score s[R_MAX_B];
	struct kmb_rtable *t;
	int lat, fp;
	char a[32], b2[32], c[32], d[32], e[32], f[32];

	if (r->nb == 0)
		return;
	score_all(r, s);
	kmb_rdoc_heading(&r->d, 2, "Ranking");
	kmb_rdoc_para(
	        &r->d,
	        "Over all %u workload%s at %u thread%s: each backend's figure divided by the "
	        "best backend's in each workload, combined by geometric mean (1.00x is the "
	        "best everywhere); ranked by throughput. Failed allocations are per pass over "
	        "the trace, summed over workloads.",
	        r->nw, r->nw == 1 ? "" : "s", r->t[0], r->t[0] == 1 ? "" : "s");
	t = kmb_rdoc_table(&r->d,
	                   "rank|backend|throughput (% of best)|alloc p99 (x best)|alloc p99.9 (x "
	                   "best)|free p99 (x best)|peak footprint (x best)|J&W peak footprint / "
	                   "peak live|failed allocs",
	                   "rlrrrrrrr");
	for (unsigned i = 0; i < r->nb; i++) {
		kmb_rtable_cell(t, "%u", i + 1);
		kmb_rtable_cell(t, "%s", r->b[s[i].b]);
		kmb_rtable_cell(t, "%s", f_num(a, 100 * s[i].thr, 1));
		kmb_rtable_cell(t, "%s", f_num(b2, s[i].a99, 2));
		kmb_rtable_cell(t, "%s", f_num(c, s[i].a999, 2));
		kmb_rtable_cell(t, "%s", f_num(d, s[i].f99, 2));
		kmb_rtable_cell(t, "%s", f_num(e, s[i].fp, 2));
		kmb_rtable_cell(t, "%s", f_num(f, s[i].jw, 3));
		kmb_rtable_cell(t, "%.0f", s[i].failed);
	}
	lat = best_of(s, r->nb, offsetof(struct score, a99));
	fp = best_of(s, r->nb, offsetof(struct score, fp));
	if (isfinite(s[0].thr) && lat >= 0 && fp >= 0)
		kmb_rdoc_para(
		        &r->d,
		        "Finding: %s has the highest throughput (%.0f%% of the best in each "
		        "workload, geometric mean; %s is last at %.0f%%); %s the lowest p99 alloc "
		        "latency; %s the smallest peak footprint.",
		        r->b[s[0].b], 100 * s[0].thr, r->b[s[r->nb - 1].b], 100 * s[r->nb - 1].thr,
		        r->b[lat], r->b[fp]);
}

static void ranking_workload(struct rep *r, unsigned w)
{
	struct kmb_rtable *t;
	int order[R_MAX_B];
	unsigned n = 0;

	for (unsigned b = 0; b < r->nb; b++)
		if (row(r, r->b[b], r->w[w], r->t[0]))
			order[n++] = (int)b;
	for (unsigned i = 1; i < n; i++) /* insertion sort by median ops/s, descending */
		for (unsigned k = i; k > 0; k--) {
			double x = num(r, row(r, r->b[order[k]], r->w[w], r->t[0]),
			               "ops_per_sec_median");
			double y = num(r, row(r, r->b[order[k - 1]], r->w[w], r->t[0]),
			               "ops_per_sec_median");
			int tmp = order[k];

			if (!(x > y))
				break;
			order[k] = order[k - 1];
			order[k - 1] = tmp;
		}
	kmb_rdoc_heading(&r->d, 3, "%s, %u thread%s", r->w[w], r->t[0], r->t[0] == 1 ? "" : "s");
	if (n == 0) {
		kmb_rdoc_para(&r->d, "No backend completed a repetition of this workload.");
		return;
	}
	t = kmb_rdoc_table(&r->d,
	                   "rank|backend|ops/s (median)|CV %|alloc p50|alloc p99|alloc p99.9|free "
	                   "p99|peak footprint|internal frag %|J&W peak / live|external frag %|"
	                   "failed allocs",
	                   "rlrrrrrrrrrrr");
	for (unsigned i = 0; i < n; i++) {
		size_t rw = row(r, r->b[order[i]], r->w[w], r->t[0]);
		char x[8][32];

		kmb_rtable_cell(t, "%u", i + 1);
		kmb_rtable_cell(t, "%s", r->b[order[i]]);
		kmb_rtable_cell(t, "%s", f_ops(x[0], num(r, rw, "ops_per_sec_median")));
		kmb_rtable_cell(t, "%s", f_num(x[1], num(r, rw, "ops_per_sec_cv_pct"), 1));
		kmb_rtable_cell(t, "%s", f_ns(x[2], num(r, rw, "alloc_p50_ns")));
		kmb_rtable_cell(t, "%s", f_ns(x[3], num(r, rw, "alloc_p99_ns")));
		kmb_rtable_cell(t, "%s", f_ns(x[4], num(r, rw, "alloc_p999_ns")));
		kmb_rtable_cell(t, "%s", f_ns(x[5], num(r, rw, "free_p99_ns")));
		kmb_rtable_cell(t, "%s", f_bytes(x[6], num(r, rw, "peak_footprint_bytes")));
		kmb_rtable_cell(t, "%s", f_num(x[7], num(r, rw, "internal_frag_pct"), 2));
		kmb_rtable_cell(t, "%s", f_num(x[0], num(r, rw, "jw_peak_footprint_ratio"), 3));
		kmb_rtable_cell(t, "%s", f_num(x[1], num(r, rw, "extfrag_unusable_pct"), 1));
		kmb_rtable_cell(t, "%.0f", num(r, rw, "failed_allocs"));
	}
}

/* ---- figures and findings ------------------------------------------------------------------- */

static bool file_exists(const struct rep *r, const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return false;
	fclose(f);
	return true;
}

static void figure(struct rep *r, const char *png, const char *alt)
{
	char gp[256];

	snprintf(gp, sizeof(gp), "%.*s.gp", (int)(strlen(png) - 4), png);
	if (file_exists(r, png) || file_exists(r, gp))
		kmb_rdoc_image(&r->d, png, alt);
}

static void find_latency(struct rep *r, unsigned w)
{
	struct extremes a = extremes(r, w, m_col, "alloc_p99_ns");
	struct extremes f = extremes(r, w, m_col, "free_p99_ns");
	char x[4][32];

	if (a.n < 2 || f.n < 2 || same(&a) || same(&f))
		return;
	kmb_rdoc_item(
	        &r->d,
	        "%s: %s has the lowest p99 alloc latency (%s), %.1fx below %s (%s); for free, "
	        "%s is lowest (%s), %.1fx below %s (%s).",
	        r->w[w], r->b[a.lo], f_ns(x[0], a.vlo), ratio(a.vhi, a.vlo), r->b[a.hi],
	        f_ns(x[1], a.vhi), r->b[f.lo], f_ns(x[2], f.vlo), ratio(f.vhi, f.vlo), r->b[f.hi],
	        f_ns(x[3], f.vhi));
}

static void class_label(char *buf, size_t len, unsigned k)
{
	if (k == 0)
		snprintf(buf, len, "1-16 B");
	else if (k >= 13)
		snprintf(buf, len, "over 64 KiB");
	else
		snprintf(buf, len, "%u-%u B", (8u << k) + 1, 16u << k);
}

/* The size class (>= 1% of allocations) where backends' p99 alloc latencies differ most. */
static void find_sizeclass(struct rep *r, unsigned w)
{
	double lo[16], hi[16], cnt[16] = {0}, total = 0;
	int blo[16], bhi[16], best = -1;
	char x[2][32], lab[32];

	for (unsigned k = 0; k < 16; k++) {
		lo[k] = INFINITY;
		hi[k] = -INFINITY;
		blo[k] = bhi[k] = -1;
	}
	for (size_t i = 1; r->has_size && i < r->size.nrows; i++) {
		const char *b = kmb_csv_get(&r->size, i, "backend");
		double k = kmb_csv_num(&r->size, i, "class"),
		       p = kmb_csv_num(&r->size, i, "alloc_p99_ns");
		double c = kmb_csv_num(&r->size, i, "alloc_count");
		int bi = -1;

		if (strcmp(kmb_csv_get(&r->size, i, "workload"), r->w[w]) != 0 ||
		    kmb_csv_num(&r->size, i, "threads") != r->t[0] || !(k >= 0 && k < 16) ||
		    !(c > 0))
			continue;
		for (unsigned q = 0; q < r->nb; q++)
			bi = strcmp(r->b[q], b) == 0 ? (int)q : bi;
		if (bi < 0)
			continue;
		if (bi == 0 ||
		    cnt[(int)k] == 0) /* the trace's counts: the same for every backend */
			cnt[(int)k] = c;
		if (p < lo[(int)k]) {
			lo[(int)k] = p;
			blo[(int)k] = bi;
		}
		if (p > hi[(int)k]) {
			hi[(int)k] = p;
			bhi[(int)k] = bi;
		}
	}
	for (unsigned k = 0; k < 16; k++)
		total += cnt[k];
	for (unsigned k = 0; k < 16; k++)
		if (total > 0 && cnt[k] >= total / 100 && blo[k] >= 0 && bhi[k] != blo[k] &&
		    (best < 0 || ratio(hi[k], lo[k]) > ratio(hi[best], lo[best])))
			best = (int)k;
	if (best < 0)
		return;
	class_label(lab, sizeof(lab), (unsigned)best);
	kmb_rdoc_item(
	        &r->d,
	        "%s: backends differ most at requests of %s (%.0f%% of allocations): p99 alloc "
	        "from %s (%s) to %s (%s), %.1fx.",
	        r->w[w], lab, 100 * cnt[best] / total, r->b[blo[best]], f_ns(x[0], lo[best]),
	        r->b[bhi[best]], f_ns(x[1], hi[best]), ratio(hi[best], lo[best]));
}

static double m_fp_over_live(const struct rep *r, size_t rw, const void *arg)
{
	(void)arg;
	return ratio(num(r, rw, "peak_footprint_bytes"), num(r, rw, "peak_live_bytes_req"));
}

static void find_footprint(struct rep *r, unsigned w)
{
	struct extremes e = extremes(r, w, m_col, "peak_footprint_bytes");
	char x[2][32];

	if (e.n < 2 || same(&e))
		return;
	kmb_rdoc_item(&r->d,
	              "%s: %s has the smallest peak footprint (%s, %.2fx the peak live requested "
	              "bytes), %s the largest (%s, %.2fx).",
	              r->w[w], r->b[e.lo], f_bytes(x[0], e.vlo),
	              m_fp_over_live(r, row(r, r->b[e.lo], r->w[w], r->t[0]), NULL), r->b[e.hi],
	              f_bytes(x[1], e.vhi),
	              m_fp_over_live(r, row(r, r->b[e.hi], r->w[w], r->t[0]), NULL));
}

static void find_frag(struct rep *r, unsigned w)
{
	struct extremes in = extremes(r, w, m_col, "internal_frag_pct");
	struct extremes jw = extremes(r, w, m_col, "jw_footprint_at_peak_ratio");
	struct extremes ex = extremes(r, w, m_col, "extfrag_unusable_pct");
	char a[256], b[256], c[256] = "";

	if (in.n < 2 || jw.n < 2)
		return;
	if (same(&in))
		snprintf(a, sizeof(a), "internal fragmentation is %.1f%% with every backend",
		         in.vlo);
	else
		snprintf(a, sizeof(a),
		         "internal fragmentation is lowest with %s (%.1f%%) and highest "
		         "with %s (%.1f%%)",
		         r->b[in.lo], in.vlo, r->b[in.hi], in.vhi);
	if (same(&jw))
		snprintf(b, sizeof(b),
		         "at peak live bytes every backend holds %.2fx the live bytes", jw.vlo);
	else
		snprintf(b, sizeof(b), "at peak live bytes %s holds %.2fx the live bytes, %s %.2fx",
		         r->b[jw.lo], jw.vlo, r->b[jw.hi], jw.vhi);
	if (ex.n >= 2 && ex.vhi >= 1 && !same(&ex)) /* below 1%: noise of a nearly empty memory */
		snprintf(c, sizeof(c),
		         "; at that peak %s leaves the most free memory unusable for an order-3 "
		         "block "
		         "(%.1f%%), %s the least (%.1f%%)",
		         r->b[ex.hi], ex.vhi, r->b[ex.lo], ex.vlo);
	kmb_rdoc_item(&r->d, "%s: %s; %s%s.", r->w[w], a, b, c);
}

static void find_scaling(struct rep *r, unsigned w)
{
	unsigned t0 = r->t[0], t1 = r->t[r->nt - 1];
	int lo = -1, hi = -1;
	double vlo = INFINITY, vhi = -INFINITY;

	for (unsigned b = 0; b < r->nb; b++) {
		double q = ratio(num(r, row(r, r->b[b], r->w[w], t1), "ops_per_sec_median"),
		                 num(r, row(r, r->b[b], r->w[w], t0), "ops_per_sec_median"));

		if (!isfinite(q))
			continue;
		if (q < vlo) {
			vlo = q;
			lo = (int)b;
		}
		if (q > vhi) {
			vhi = q;
			hi = (int)b;
		}
	}
	if (lo < 0 || lo == hi)
		return;
	kmb_rdoc_item(
	        &r->d,
	        "%s: from %u to %u threads, throughput changes by %.2fx with %s (the best) and "
	        "by %.2fx with %s (the worst).",
	        r->w[w], t0, t1, vhi, r->b[hi], vlo, r->b[lo]);
}

/* ---- the picture of memory ----------------------------------------------------------------------
 */

static size_t frames_row(const struct rep *r, const char *b, const char *w)
{
	for (size_t i = 1; r->has_frames && i < r->frames.nrows; i++)
		if (strcmp(kmb_csv_get(&r->frames, i, "backend"), b) == 0 &&
		    strcmp(kmb_csv_get(&r->frames, i, "workload"), w) == 0 &&
		    kmb_csv_get(&r->frames, i, "error")[0] == '\0')
			return i;
	return 0;
}

static double fsum(const struct rep *r, size_t fr, const char *const *keys)
{
	double s = 0;

	for (; *keys; keys++) {
		double v = kmb_csv_num(&r->frames, fr, *keys);

		s += isfinite(v) ? v : 0;
	}
	return s;
}

static void find_frames(struct rep *r, unsigned w)
{
	static const char *const unused[] = {"slab_empty", "bucket_empty", NULL};
	static const char *const meta[] = {"meta", NULL};
	int bu = -1, bm = -1, lm = -1;
	double vu = -1, vm = -1, lv = INFINITY, held_u = 0;

	for (unsigned b = 0; b < r->nb; b++) {
		size_t fr = frames_row(r, r->b[b], r->w[w]);
		double held, u, m;
		double free_pages = 0;

		if (fr == 0)
			continue;
		for (unsigned k = 1; k <= 12; k++) /* free and free_o0..free_o10 */
			free_pages += kmb_csv_num(&r->frames, fr, kmb_frame_kind_key(k));
		held = kmb_csv_num(&r->frames, fr, "frames") - free_pages;
		u = fsum(r, fr, unused);
		m = fsum(r, fr, meta);
		if (u > vu) {
			vu = u;
			bu = (int)b;
			held_u = held;
		}
		if (held > 0 && m / held > vm) {
			vm = m / held;
			bm = (int)b;
		}
		if (held > 0 && m / held < lv) {
			lv = m / held;
			lm = (int)b;
		}
	}
	if (bm < 0)
		return;
	kmb_rdoc_item(&r->d,
	              "%s: metadata is %.1f%% of the frames %s holds at peak (the most) and %.1f%% "
	              "of %s's (the least).",
	              r->w[w], 100 * vm, r->b[bm], 100 * lv, r->b[lm]);
	if (vu > 0)
		kmb_rdoc_item(
		        &r->d,
		        "%s: %s keeps the most pages with no live object cached at peak: %.0f "
		        "of its %.0f held frames (empty slabs or bucket pages).",
		        r->w[w], r->b[bu], vu, held_u);
}

/* ---- sections
 * ------------------------------------------------------------------------------------ */

static void section_figures(struct rep *r)
{
	static const struct {
		const char *png, *title, *what;
		void (*find)(struct rep *, unsigned);
	} figs[] = {
	        {"latency.png", "Latency by percentile",
	         "Each backend's alloc and free latency at every percentile, all repetitions "
	         "merged (the .hgrm files hold the histograms).",
	         find_latency},
	        {"sizeclass.png", "Latency by size class",
	         "p99 (solid) and p50 (dashed) latency by requested size; a class is labelled by "
	         "its upper bound.",
	         find_sizeclass},
	        {"footprint.png", "Footprint over time",
	         "Pages each backend holds (data and metadata) during its last repetition, against "
	         "the live requested bytes: the gap is what the allocator costs in memory.",
	         find_footprint},
	        {"frag.png", "Fragmentation",
	         "Internal fragmentation at peak live bytes; Johnstone & Wilson's footprint at "
	         "peak live and peak footprint over peak live (as % above 1); external "
	         "fragmentation at peak (free memory unusable for an 8-page block).",
	         find_frag},
	        {"scaling.png", "Scaling with threads",
	         "Median throughput against replay threads, min-max bars over repetitions.",
	         find_scaling},
	};

	for (size_t i = 0; i < sizeof(figs) / sizeof(figs[0]); i++) {
		if (i == 4 && r->nt < 2) {
			kmb_rdoc_heading(&r->d, 2, "%s", figs[i].title);
			kmb_rdoc_para(&r->d,
			              "One thread count only (--threads): no scaling to show.");
			continue;
		}
		kmb_rdoc_heading(&r->d, 2, "%s", figs[i].title);
		kmb_rdoc_para(&r->d, "%s", figs[i].what);
		figure(r, figs[i].png, figs[i].title);
		for (unsigned w = 0; w < r->nw; w++)
			figs[i].find(r, w);
	}
}

/* Backends that take memory from elsewhere (the user-space baselines): said once. */
static void not_pictured(struct rep *r)
{
	char names[1024] = "";
	size_t n = 0;

	for (unsigned b = 0; b < r->nb; b++)
		for (size_t i = 1; r->has_frames && i < r->frames.nrows; i++)
			if (strcmp(kmb_csv_get(&r->frames, i, "backend"), r->b[b]) == 0 &&
			    strstr(kmb_csv_get(&r->frames, i, "error"),
			           "holds no simulated page frame")) {
				n += (size_t)snprintf(names + n,
				                      n < sizeof(names) ? sizeof(names) - n : 0,
				                      "%s%s", n ? ", " : "", r->b[b]);
				break;
			}
	if (n > 0 && n < sizeof(names))
		kmb_rdoc_para(&r->d,
		              "Not pictured: %s. They take their memory from the process, not from "
		              "simulated page frames (their footprint is their own accounting).",
		              names);
}

static void section_frames(struct rep *r)
{
	bool any = false;

	for (unsigned w = 0; w < r->nw; w++) {
		char png[128];

		snprintf(png, sizeof(png), "frames-%s.png", r->w[w]);
		if (!file_exists(r, png) && !r->has_frames)
			continue;
		if (!any)
			kmb_rdoc_heading(&r->d, 2, "Physical memory at peak");
		if (!any)
			kmb_rdoc_para(
			        &r->d,
			        "Every 4 KiB page frame is a pixel (frame 0 top left), coloured by "
			        "who holds it and how, at the moment live requested bytes peak in "
			        "a "
			        "one-thread replay; free memory in greys, lighter for larger free "
			        "buddy blocks.");
		any = true;
		kmb_rdoc_heading(&r->d, 3, "%s", r->w[w]);
		figure(r, png, r->w[w]);
		find_frames(r, w);
	}
	if (any)
		not_pictured(r);
}

static void sizes_text(char *buf, size_t len, double mask)
{
	uint64_t m = mask > 0 && mask < 1.8e19 ? (uint64_t)mask : 0;
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 64 && n < len; i++)
		if (m >> i & 1)
			n += (size_t)snprintf(buf + n, len - n, "%s%" PRIu64, n ? "," : "",
			                      (uint64_t)1 << i);
}

static void cell_file(const char *b, const char *w, unsigned t, char *buf, size_t len)
{
	char spec[300];

	snprintf(spec, sizeof(spec), "%s", b);
	for (char *q = spec; *q; q++)
		if (strchr("/: ,'\"", *q))
			*q = '_';
	if (t == 1)
		snprintf(buf, len, "%s-%s", spec, w);
	else
		snprintf(buf, len, "%s-%s-t%u", spec, w, t);
}

static int cmp_high(const void *x, const void *y)
{
	double a = kmb_jv_num(*(const struct kmb_jv *const *)x, "high_use", 0);
	double b = kmb_jv_num(*(const struct kmb_jv *const *)y, "high_use", 0);

	return (a < b) - (a > b);
}

static void vmstat_backend(struct rep *r, unsigned b, unsigned w)
{
	char cell[400], path[PATH_MAX], err[256], x[3][32], sizes[256];
	const struct kmb_jv *types, **top = NULL;
	struct kmb_jv j;
	struct kmb_rtable *t;
	size_t n = 0;
	int rc = -ENOENT;

	cell_file(r->b[b], r->w[w], r->t[0], cell, sizeof(cell));
	for (unsigned k = 1; k <= 1000 && rc == -ENOENT; k++) {
		snprintf(path, sizeof(path), "%s/replay/%s-r%u.json", r->dir, cell, k);
		rc = file_exists(r, path + strlen(r->dir) + 1)
		             ? kmb_jv_load(path, &j, err, sizeof(err))
		             : -ENOENT;
	}
	if (rc != 0)
		return;
	types = kmb_jv_get(&j, "types");
	if (types && types->type == KMB_JV_ARR && (top = calloc(types->n + 1, sizeof(*top)))) {
		for (size_t i = 0; i < types->n; i++)
			top[i] = &types->kid[i];
		qsort(top, types->n, sizeof(*top), cmp_high);
		n = types->n < VMSTAT_TOP ? types->n : VMSTAT_TOP;
	}
	kmb_rdoc_heading(&r->d, 3, "%s (%zu of %zu types)", r->b[b], n,
	                 types && types->type == KMB_JV_ARR ? types->n : 0);
	t = kmb_rdoc_table(&r->d, "Type|InUse|MemUse|HighUse|Requests|Failed|Sleeps|Size(s)",
	                   "lrrrrrrl");
	for (size_t i = 0; i < n; i++) {
		sizes_text(sizes, sizeof(sizes), kmb_jv_num(top[i], "size_classes", 0));
		kmb_rtable_cell(t, "%s", kmb_jv_str(top[i], "type", "?"));
		kmb_rtable_cell(t, "%.0f", kmb_jv_num(top[i], "inuse", NAN));
		kmb_rtable_cell(t, "%s", f_bytes(x[0], kmb_jv_num(top[i], "memuse", NAN)));
		kmb_rtable_cell(t, "%s", f_bytes(x[1], kmb_jv_num(top[i], "high_use", NAN)));
		kmb_rtable_cell(t, "%.0f", kmb_jv_num(top[i], "requests", NAN));
		kmb_rtable_cell(t, "%.0f", kmb_jv_num(top[i], "failed", NAN));
		kmb_rtable_cell(t, "%.0f", kmb_jv_num(top[i], "sleeps", NAN));
		kmb_rtable_cell(t, "%s", sizes);
	}
	free(top);
	kmb_jv_free(&j);
}

static void section_vmstat(struct rep *r)
{
	if (r->nw == 0 || r->nb == 0)
		return;
	kmb_rdoc_heading(&r->d, 2, "vmstat -m");
	kmb_rdoc_para(
	        &r->d,
	        "FreeBSD vmstat -m statistics of each call site (a malloc type) at the end of "
	        "a repetition of %s at %u thread%s: the %d types with the highest memory "
	        "high-water mark, per backend. MemUse and HighUse count usable bytes, so they "
	        "include each backend's rounding; Size(s) are the block sizes it used.",
	        r->w[0], r->t[0], r->t[0] == 1 ? "" : "s", VMSTAT_TOP);
	for (unsigned b = 0; b < r->nb; b++)
		vmstat_backend(r, b, 0);
}

static int exhaust_workload(const struct rep *r)
{
	const struct kmb_jv *wl = kmb_jv_get(&r->run, "workloads");

	for (size_t i = 0; wl && wl->type == KMB_JV_ARR && i < wl->n; i++)
		if (strcmp(kmb_jv_str(&wl->kid[i], "generator", ""), "exhaust") == 0)
			for (unsigned w = 0; w < r->nw; w++)
				if (strcmp(r->w[w], kmb_jv_str(&wl->kid[i], "name", "")) == 0)
					return (int)w;
	for (unsigned w = 0; w < r->nw; w++)
		if (strcmp(r->w[w], "exhaust") == 0)
			return (int)w;
	return -1;
}

static void exhaust_table(struct rep *r, unsigned w, unsigned t)
{
	struct kmb_rtable *tb;
	int most_sleep = -1, fewest = -1;
	double vs = 0, vf = INFINITY;
	unsigned rows = 0;

	for (unsigned b = 0; b < r->nb; b++)
		rows += row(r, r->b[b], r->w[w], t) != 0;
	if (rows == 0)
		return;
	kmb_rdoc_heading(&r->d, 3, "%s, %u thread%s", r->w[w], t, t == 1 ? "" : "s");
	tb = kmb_rdoc_table(&r->d,
	                    "backend|failed allocs (NULL returned)|M_WAITOK sleeps|M_NOFAIL "
	                    "retries|reserve allocations|deadlocks|ops/s (median)",
	                    "lrrrrrr");
	for (unsigned b = 0; b < r->nb; b++) {
		size_t rw = row(r, r->b[b], r->w[w], t);
		char x[5][32];

		if (rw == 0)
			continue;
		kmb_rtable_cell(tb, "%s", r->b[b]);
		kmb_rtable_cell(tb, "%s", f_count(x[0], per_pass(r, rw, "failed_allocs")));
		kmb_rtable_cell(tb, "%s", f_count(x[1], per_pass(r, rw, "sleeps")));
		kmb_rtable_cell(tb, "%s", f_count(x[2], per_pass(r, rw, "nofail_retries")));
		kmb_rtable_cell(tb, "%s", f_count(x[3], per_pass(r, rw, "reserve_allocs")));
		kmb_rtable_cell(tb, "%s", f_count(x[4], per_pass(r, rw, "deadlocks")));
		kmb_rtable_cell(tb, "%s", f_ops(x[0], num(r, rw, "ops_per_sec_median")));
		if (per_pass(r, rw, "sleeps") > vs) {
			vs = per_pass(r, rw, "sleeps");
			most_sleep = (int)b;
		}
		if (per_pass(r, rw, "failed_allocs") < vf) {
			vf = per_pass(r, rw, "failed_allocs");
			fewest = (int)b;
		}
	}
	if (fewest >= 0)
		kmb_rdoc_item(
		        &r->d, "%u thread%s: %s fails the fewest allocations (%.0f per pass)%s%s%s",
		        t, t == 1 ? "" : "s", r->b[fewest], vf, most_sleep >= 0 ? "; " : ".",
		        most_sleep >= 0 ? r->b[most_sleep] : "",
		        most_sleep >= 0 ? " puts M_WAITOK requests to sleep most often." : "");
}

static void section_exhaust(struct rep *r)
{
	int w = exhaust_workload(r);

	kmb_rdoc_heading(&r->d, 2, "Under memory exhaustion");
	if (w < 0) {
		kmb_rdoc_para(&r->d,
		              "This run did not include the exhaust workload; kmbench run "
		              "--workloads exhaust (or the default workloads) shows how each "
		              "backend behaves below the watermarks.");
		return;
	}
	kmb_rdoc_para(
	        &r->d,
	        "The exhaust workload drives memory below the page allocator's watermarks. Per "
	        "pass over the trace (the repetition's counts divided by its passes): "
	        "allocations that returned NULL (M_NOWAIT, or M_FAILOK), M_WAITOK requests put "
	        "to sleep until memory was freed (other threads must free: expect them at 2+ "
	        "threads only), M_NOFAIL retries, and allocations that dipped into the reserve "
	        "below the min watermark (M_USE_RESERVE; counted by page sources that keep "
	        "one).");
	for (unsigned t = 0; t < r->nt; t++)
		exhaust_table(r, (unsigned)w, r->t[t]);
}

static void section_failures(struct rep *r)
{
	bool any = false;

	for (size_t i = 1; i < r->sum.nrows; i++) {
		const char *e = kmb_csv_get(&r->sum, i, "error");

		if (e[0] == '\0')
			continue;
		if (!any)
			kmb_rdoc_heading(&r->d, 2, "Failures");
		any = true;
		kmb_rdoc_item(
		        &r->d, "%s on %s at %s thread(s): %s", kmb_csv_get(&r->sum, i, "backend"),
		        kmb_csv_get(&r->sum, i, "workload"), kmb_csv_get(&r->sum, i, "threads"), e);
	}
	for (size_t i = 1; r->has_frames && i < r->frames.nrows; i++) {
		const char *e = kmb_csv_get(&r->frames, i, "error");

		if (e[0] == '\0' || strstr(e, "holds no simulated page frame"))
			continue;
		if (!any)
			kmb_rdoc_heading(&r->d, 2, "Failures");
		any = true;
		kmb_rdoc_item(&r->d, "picture of memory, %s on %s: %s",
		              kmb_csv_get(&r->frames, i, "backend"),
		              kmb_csv_get(&r->frames, i, "workload"), e);
	}
}

static void build(struct rep *r)
{
	const char *slash = strrchr(r->dir, '/');

	snprintf(r->d.title, sizeof(r->d.title), "kmbench report %s", slash ? slash + 1 : r->dir);
	kmb_rdoc_heading(&r->d, 1, "%s", r->d.title);
	status(r);
	kmb_rdoc_heading(&r->d, 2, "Setup");
	setup_table(r);
	workload_table(r);
	ranking_overall(r);
	for (unsigned w = 0; w < r->nw; w++)
		ranking_workload(r, w);
	section_figures(r);
	section_frames(r);
	section_vmstat(r);
	section_exhaust(r);
	section_failures(r);
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

static int write_one(const struct rep *r, const char *name, bool html, char *err, size_t errlen)
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
	if (rc != 0) {
		kmb_file_abort(&kf);
	} else if ((rc = kmb_file_commit(&kf)) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (rc != 0)
		snprintf(err, errlen, "%s: write error", path);
	return rc;
}

int kmb_report_write(const char *dir, char *err, size_t errlen)
{
	struct rep *r = calloc(1, sizeof(*r));
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
