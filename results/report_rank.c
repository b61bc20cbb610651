/*
 * results/report_rank.c - the report's analysis: best and worst of a figure, which
 * throughput to rank by, and the rankings.
 *
 * Throughput: wall time (ops_per_sec) or CPU time of the replay threads
 * (ops_per_cpu_sec), whichever is steadier - the lower median coefficient of variation
 * over the base thread count's cells - and the report says which and why.  On a shared
 * machine wall time moves with whatever else runs (CV 30-90 %) while CPU time does not
 * count the time a thread was descheduled; when CPU time was not measured (0) wall time
 * is used.
 *
 * The overall ranking combines workloads by geometric means of ratios to the best backend
 * in each workload (Fleming & Wallace 1986: the only mean of normalized numbers whose
 * order does not depend on which backend is the reference).  Per workload, backends are
 * ordered by median throughput, and one whose repetitions do not differ significantly from
 * the one above (two-sided Mann-Whitney U, p >= KMB_REPORT_ALPHA) shares its rank: shown
 * "=2".  With 3 repetitions a side no p-value can fall below 0.1, so every backend ties:
 * the paragraph says so.  A cell whose CV is above KMB_CV_FLAG_PCT is flagged "!".
 */
#include "results/report.h"
#include "results/schema.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- best and worst ------------------------------------------------------------------------ */

double kmb_report_m_col(const struct kmb_report *r, size_t rw, const void *arg)
{
	return kmb_report_num(r, rw, arg);
}

struct kmb_extremes kmb_report_extremes(const struct kmb_report *r, unsigned w, kmb_metric_fn f,
                                        const void *arg)
{
	struct kmb_extremes e = {-1, -1, INFINITY, -INFINITY, 0};

	for (unsigned b = 0; b < r->nb; b++) {
		size_t rw = kmb_report_row(r, b, w, 0);
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

static const char *thr_name(const struct kmb_report *r)
{
	return strcmp(r->thr, "ops_per_cpu_sec") == 0 ? "CPU-time" : "wall-time";
}

/* ---- ranking ----------------------------------------------------------------------------------
 */

struct score {
	int b;
	double thr, a99, a999, f99, fp, jw, failed;
	unsigned n;
};

/* Geometric mean over workloads of (value / best value of the workload). */
static double geo_ratio(const struct kmb_report *r, unsigned b, const char *col, bool higher_better)
{
	double logsum = 0;
	unsigned n = 0;

	for (unsigned w = 0; w < r->nw; w++) {
		struct kmb_extremes e = kmb_report_extremes(r, w, kmb_report_m_col, col);
		double v = kmb_report_num(r, kmb_report_row(r, b, w, 0), col);
		double q = higher_better ? kmb_ratio(v, e.vhi) : kmb_ratio(v, e.vlo);

		if (isfinite(q) && q > 0) {
			logsum += log(q);
			n++;
		}
	}
	return n ? exp(logsum / n) : NAN;
}

static double geo_col(const struct kmb_report *r, unsigned b, const char *col)
{
	double logsum = 0;
	unsigned n = 0;

	for (unsigned w = 0; w < r->nw; w++) {
		double v = kmb_report_num(r, kmb_report_row(r, b, w, 0), col);

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

static void score_all(const struct kmb_report *r, struct score *s)
{
	for (unsigned b = 0; b < r->nb; b++) {
		s[b] = (struct score){(int)b,
		                      geo_ratio(r, b, r->thr, true),
		                      geo_ratio(r, b, "alloc_p99_ns", false),
		                      geo_ratio(r, b, "alloc_p999_ns", false),
		                      geo_ratio(r, b, "free_p99_ns", false),
		                      geo_ratio(r, b, "peak_footprint_bytes", false),
		                      geo_col(r, b, "jw_peak_footprint_ratio"),
		                      0,
		                      0};
		for (unsigned w = 0; w < r->nw; w++) {
			size_t rw = kmb_report_row(r, b, w, 0);

			if (rw) {
				s[b].failed += kmb_report_per_pass(r, rw, "failed_allocs");
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

static unsigned significant_leads(const struct kmb_report *r, unsigned *tested);

/* How many base cells are flagged noisy, said under the overall finding. */
static void noisy_total(struct kmb_report *r)
{
	unsigned k = 0, n = 0;
	char buf[8];

	for (unsigned w = 0; w < r->nw; w++) {
		k += kmb_report_noisy(r, w, buf, 0);
		for (unsigned b = 0; b < r->nb; b++)
			n += kmb_report_row(r, b, w, 0) != 0;
	}
	if (k)
		kmb_rdoc_para(&r->d,
		              "Caution: %u of %u cells vary by more than %.0f%% (coefficient of "
		              "variation of %s) between repetitions; backends whose difference is "
		              "not significant are shown tied per workload below.",
		              k, n, KMB_CV_FLAG_PCT, r->thr);
}

/* Whether the order at the top means anything: in how many workloads the first backend is
 * significantly ahead of the second. */
static void lead_note(struct kmb_report *r)
{
	unsigned tested = 0, k = significant_leads(r, &tested);

	if (tested)
		kmb_rdoc_para(
		        &r->d,
		        "The fastest backend of a workload is significantly ahead of the second "
		        "in %u of %u workload%s (Mann-Whitney over the repetitions, p < %.2f); "
		        "elsewhere the lead is within the noise (ties in the tables below).",
		        k, tested, tested == 1 ? "" : "s", KMB_REPORT_ALPHA);
}

static void ranking_overall(struct kmb_report *r)
{
	struct score *s = calloc(r->nb ? r->nb : 1, sizeof(*s));
	struct kmb_rtable *t;
	int lat, fp;
	char a[32], b2[32], c[32], d[32], e[32], f[32];

	if (s == NULL || r->nb == 0) {
		r->d.nomem |= s == NULL;
		free(s);
		return;
	}
	score_all(r, s);
	kmb_rdoc_heading(&r->d, 2, "Ranking");
	kmb_rdoc_para(
	        &r->d,
	        "Over all %u workload%s at %u thread%s: each backend's figure divided by the "
	        "best backend's in each workload, combined by geometric mean (1.00x is the "
	        "best everywhere); ranked by %s throughput. Failed allocations are per pass "
	        "over the trace, summed over workloads. Whether two backends differ at all is "
	        "tested per workload below.",
	        r->nw, r->nw == 1 ? "" : "s", r->t[0], r->t[0] == 1 ? "" : "s", thr_name(r));
	t = kmb_rdoc_table(&r->d,
	                   "rank|backend|throughput (% of best)|alloc p99 (x best)|alloc p99.9 (x "
	                   "best)|free p99 (x best)|peak footprint (x best)|J&W peak footprint / "
	                   "peak live|failed allocs",
	                   "rlrrrrrrr");
	for (unsigned i = 0; i < r->nb; i++) {
		kmb_rtable_cell(t, "%u", i + 1);
		kmb_rtable_cell(t, "%s", r->b[s[i].b]);
		kmb_rtable_cell(t, "%s", kmb_rf_num(a, 100 * s[i].thr, 1));
		kmb_rtable_cell(t, "%s", kmb_rf_num(b2, s[i].a99, 2));
		kmb_rtable_cell(t, "%s", kmb_rf_num(c, s[i].a999, 2));
		kmb_rtable_cell(t, "%s", kmb_rf_num(d, s[i].f99, 2));
		kmb_rtable_cell(t, "%s", kmb_rf_num(e, s[i].fp, 2));
		kmb_rtable_cell(t, "%s", kmb_rf_num(f, s[i].jw, 3));
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
	lead_note(r);
	noisy_total(r);
	free(s);
}

const char *kmb_report_cv_col(const struct kmb_report *r)
{
	return strcmp(r->thr, "ops_per_cpu_sec") == 0 ? "ops_per_cpu_sec_cv_pct"
	                                              : "ops_per_sec_cv_pct";
}

/* Median over the base cells of a column (NAN if none has it). */
static double base_median(const struct kmb_report *r, const char *col)
{
	double *v = malloc(((size_t)r->nb * r->nw + 1) * sizeof(*v)), m;
	size_t n = 0;

	for (unsigned b = 0; v && b < r->nb; b++)
		for (unsigned w = 0; w < r->nw; w++) {
			double x = kmb_report_num(r, kmb_report_row(r, b, w, 0), col);

			if (isfinite(x))
				v[n++] = x;
		}
	m = v ? kmb_median(v, n) : NAN;
	free(v);
	return m;
}

void kmb_report_choose_throughput(struct kmb_report *r)
{
	double cpu = base_median(r, "ops_per_cpu_sec");

	r->cv_wall = base_median(r, "ops_per_sec_cv_pct");
	r->cv_cpu = base_median(r, "ops_per_cpu_sec_cv_pct");
	r->thr = "ops_per_sec";
	if (cpu > 0 && isfinite(r->cv_cpu) && !(r->cv_cpu >= r->cv_wall))
		r->thr = "ops_per_cpu_sec";
}

unsigned kmb_report_noisy(const struct kmb_report *r, unsigned w, char *buf, size_t len)
{
	unsigned k = 0;
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned b = 0; b < r->nb; b++) {
		double cv = kmb_report_num(r, kmb_report_row(r, b, w, 0), kmb_report_cv_col(r));

		if (!(cv > KMB_CV_FLAG_PCT))
			continue;
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s (%.0f%%)", k ? ", " : "",
			                      r->b[b], cv);
		k++;
	}
	return k;
}

static const struct kmb_report_vals *vals(const struct kmb_report *r, unsigned b, unsigned w)
{
	return r->cell_v ? &r->cell_v[((size_t)b * r->nw + w) * r->nt] : NULL;
}

/* Backends of workload w with a result, by median throughput, descending. */
static unsigned order_by_throughput(const struct kmb_report *r, unsigned w, int *order)
{
	unsigned n = 0;

	for (unsigned b = 0; b < r->nb; b++)
		if (kmb_report_row(r, b, w, 0))
			order[n++] = (int)b;
	for (unsigned i = 1; i < n; i++) /* insertion sort */
		for (unsigned k = i; k > 0; k--) {
			double x = kmb_report_num(r, kmb_report_row(r, (unsigned)order[k], w, 0),
			                          r->thr);
			double y = kmb_report_num(
			        r, kmb_report_row(r, (unsigned)order[k - 1], w, 0), r->thr);
			int tmp = order[k];

			if (!(x > y))
				break;
			order[k] = order[k - 1];
			order[k - 1] = tmp;
		}
	return n;
}

/* Ranks with ties: rank[i] of order[i]; tied[i] when it shares a rank with a neighbour.
 * Returns whether any pair could be tested at all (enough repetitions). */
static bool rank_ties(const struct kmb_report *r, unsigned w, const int *order, unsigned n,
                      unsigned *rank, bool *tied)
{
	bool testable = false;

	for (unsigned i = 0; i < n; i++) {
		const struct kmb_report_vals *a = i ? vals(r, (unsigned)order[i - 1], w) : NULL;
		const struct kmb_report_vals *c = vals(r, (unsigned)order[i], w);
		struct kmb_mwu t = {.p = 1};

		rank[i] = i + 1;
		tied[i] = false;
		if (i == 0 || a == NULL || c == NULL || a->n == 0 || c->n == 0)
			continue;
		kmb_mann_whitney(a->v, a->n, c->v, c->n, &t);
		testable |= t.pmin < KMB_REPORT_ALPHA;
		if (t.p >= KMB_REPORT_ALPHA) {
			rank[i] = rank[i - 1];
			tied[i] = tied[i - 1] = true;
		}
	}
	return testable;
}

static unsigned significant_leads(const struct kmb_report *r, unsigned *tested)
{
	int *order = calloc(r->nb + 1, sizeof(*order));
	unsigned *rank = calloc(r->nb + 1, sizeof(*rank)), k = 0;
	bool *tied = calloc(r->nb + 1, sizeof(*tied));

	*tested = 0;
	for (unsigned w = 0; order && rank && tied && w < r->nw; w++) {
		unsigned n = order_by_throughput(r, w, order);

		if (n < 2)
			continue;
		rank_ties(r, w, order, n, rank, tied);
		(*tested)++;
		k += rank[1] != rank[0];
	}
	free(order);
	free(rank);
	free(tied);
	return k;
}

static void ranking_intro(struct kmb_report *r, unsigned w, bool testable)
{
	char noisy[1024];
	unsigned k = kmb_report_noisy(r, w, noisy, sizeof(noisy));

	kmb_rdoc_para(&r->d,
	              "Ranked by median %s throughput; \"=N\": not significantly different from "
	              "the backend above (two-sided Mann-Whitney U over the repetitions, p >= "
	              "%.2f)%s. Medians over repetitions, [min - max] beside throughput; \"!\": "
	              "CV above %.0f%%.%s%s",
	              thr_name(r), KMB_REPORT_ALPHA,
	              testable ? ""
	                       : "; with this few repetitions no difference can reach "
	                         "significance, so every backend ties (use --repetitions 5 "
	                         "or more)",
	              KMB_CV_FLAG_PCT, k ? " Noisy: " : "", k ? noisy : "");
}

/* A throughput of 0 was not measured (CPU time before the engine recorded it). */
static double measured(double v)
{
	return v > 0 ? v : NAN;
}

static void ranking_row(struct kmb_report *r, struct kmb_rtable *t, unsigned w, int b,
                        unsigned rank, bool tied)
{
	size_t rw = kmb_report_row(r, (unsigned)b, w, 0);
	double cv = kmb_report_num(r, rw, kmb_report_cv_col(r));
	char x[8][32], col[64];

	kmb_rtable_cell(t, "%s%u", tied ? "=" : "", rank);
	kmb_rtable_cell(t, "%s", r->b[b]);
	snprintf(col, sizeof(col), "%s_min", r->thr);
	kmb_rf_ops(x[1], kmb_report_num(r, rw, col));
	snprintf(col, sizeof(col), "%s_max", r->thr);
	kmb_rtable_cell(t, "%s [%s - %s]", kmb_rf_ops(x[0], kmb_report_num(r, rw, r->thr)), x[1],
	                kmb_rf_ops(x[2], kmb_report_num(r, rw, col)));
	kmb_rtable_cell(t, "%s%s", kmb_rf_num(x[3], cv, 1), cv > KMB_CV_FLAG_PCT ? " !" : "");
	kmb_rtable_cell(t, "%s", kmb_rf_ops(x[4], measured(kmb_report_num(r, rw, "ops_per_sec"))));
	kmb_rtable_cell(t, "%s",
	                kmb_rf_ops(x[5], measured(kmb_report_num(r, rw, "ops_per_cpu_sec"))));
	kmb_rtable_cell(t, "%s", kmb_rf_ns(x[0], kmb_report_num(r, rw, "alloc_p50_ns")));
	kmb_rtable_cell(t, "%s", kmb_rf_ns(x[1], kmb_report_num(r, rw, "alloc_p99_ns")));
	kmb_rtable_cell(t, "%s", kmb_rf_ns(x[2], kmb_report_num(r, rw, "alloc_p999_ns")));
	kmb_rtable_cell(t, "%s", kmb_rf_ns(x[3], kmb_report_num(r, rw, "free_p99_ns")));
	kmb_rtable_cell(t, "%s", kmb_rf_bytes(x[4], kmb_report_num(r, rw, "peak_footprint_bytes")));
	kmb_rtable_cell(t, "%s", kmb_rf_num(x[5], kmb_report_num(r, rw, "internal_frag_pct"), 2));
	kmb_rtable_cell(t, "%s",
	                kmb_rf_num(x[6], kmb_report_num(r, rw, "jw_peak_footprint_ratio"), 3));
	kmb_rtable_cell(t, "%s",
	                kmb_rf_num(x[7], kmb_report_num(r, rw, "extfrag_unusable_pct"), 1));
	kmb_rtable_cell(t, "%s", kmb_rf_count(x[0], kmb_report_num(r, rw, "failed_allocs")));
}

/* The table's column headers: the schema's units (results/schema.def). */
static void ranking_header(char *buf, size_t len)
{
	snprintf(buf, len,
	         "rank|backend|throughput (%s) [min - max]|CV %%|wall (%s)|CPU (%s)|alloc p50|"
	         "alloc p99|alloc p99.9|free p99|peak footprint|internal frag (%s)|J&W peak / "
	         "live (%s)|external frag (%%)|failed allocs",
	         kmb_metrics[KMB_M_ops_per_sec].unit, kmb_metrics[KMB_M_ops_per_sec].unit,
	         kmb_metrics[KMB_M_ops_per_cpu_sec].unit, kmb_metrics[KMB_M_internal_frag_pct].unit,
	         kmb_metrics[KMB_M_jw_peak_footprint_ratio].unit);
}

static void ranking_workload(struct kmb_report *r, unsigned w)
{
	int *order = calloc(r->nb + 1, sizeof(*order));
	unsigned *rank = calloc(r->nb + 1, sizeof(*rank)), n;
	bool *tied = calloc(r->nb + 1, sizeof(*tied)), testable;
	struct kmb_rtable *t;
	char hdr[512];

	if (order == NULL || rank == NULL || tied == NULL) {
		r->d.nomem = true;
		goto out;
	}
	n = order_by_throughput(r, w, order);
	kmb_rdoc_heading(&r->d, 3, "%s, %u thread%s", r->w[w], r->t[0], r->t[0] == 1 ? "" : "s");
	if (n == 0) {
		kmb_rdoc_para(&r->d, "No backend completed a repetition of this workload.");
		goto out;
	}
	testable = rank_ties(r, w, order, n, rank, tied);
	ranking_intro(r, w, testable);
	ranking_header(hdr, sizeof(hdr));
	t = kmb_rdoc_table(&r->d, hdr, "rlrrrrrrrrrrrrr");
	for (unsigned i = 0; i < n; i++)
		ranking_row(r, t, w, order[i], rank[i], tied[i]);
out:
	free(order);
	free(rank);
	free(tied);
}

void kmb_report_ranking(struct kmb_report *r)
{
	char cpu[32];

	ranking_overall(r);
	snprintf(cpu, sizeof(cpu), isfinite(r->cv_cpu) ? "%.1f%%" : "n/a", r->cv_cpu);
	if (r->nb && isfinite(r->cv_wall))
		kmb_rdoc_para(
		        &r->d,
		        "Throughput is ranked by %s: the median coefficient of variation over "
		        "the cells is %.1f%% for wall time and %s for CPU time (the steadier "
		        "one is used; CPU time only when it was measured).",
		        r->thr, r->cv_wall, cpu);
	for (unsigned w = 0; w < r->nw; w++)
		ranking_workload(r, w);
}
