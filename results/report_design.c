/*
 * results/report_design.c - the report's comparison of designs with the traced kernel:
 * the fidelity table, and the finding on Linux's SLUB, SLUB with sheaves and Bonwick's
 * slab.  Computed from summary.csv only, like report_find.c's findings: no sentence
 * unless the numbers behind it exist.
 *
 * 1. Fidelity (bench/engine/replay.c 9.): per design and workload, at the base thread
 *    count, the share of kmalloc and of kmem_cache allocations whose usable size is the
 *    trace's bytes_alloc, with how many were comparable.  Workloads with no comparable
 *    allocation have no row.
 * 2. The SLUB finding: among the specs "slub", "slub-sheaves" and "slab" (their default
 *    settings; any that the run lacks is skipped, fewer than two: no finding), for each
 *    figure - throughput per CPU-second, peak footprint, internal fragmentation, kmalloc
 *    and kmem_cache fidelity - the workloads where every one of them has a value (base
 *    thread count) decide: the winner has the best geometric mean over them (arithmetic,
 *    in points, for percentages, which may be 0), and the sentence gives by how much it
 *    beats each other design and the spread of that margin across the workloads (its
 *    least and greatest per-workload value), and in how many workloads it was best.
 */
#include "results/report.h"

#include <math.h>
#include <string.h>

#define NDESIGNS  3
#define MAX_WL_SP 64 /* workloads taken into one figure's spread (the rest still counted) */

static const char *const designs[NDESIGNS] = {"slub", "slub-sheaves", "slab"};

static int backend_index(const struct kmb_report *r, const char *name)
{
	for (unsigned b = 0; b < r->nb; b++)
		if (strcmp(r->b[b], name) == 0)
			return (int)b;
	return -1;
}

/* ---- 1. fidelity -------------------------------------------------------------------------- */

static void fidelity_cell(struct kmb_rtable *t, double pct, double n)
{
	char x[32];

	if (n > 0 && isfinite(pct))
		kmb_rtable_cell(t, "%.2f", pct);
	else
		kmb_rtable_cell(t, "-");
	kmb_rtable_cell(t, "%s", n > 0 ? kmb_rf_count(x, n) : "0");
}

void kmb_report_fidelity(struct kmb_report *r)
{
	struct kmb_rtable *t = NULL;

	for (unsigned w = 0; w < r->nw; w++) {
		for (unsigned b = 0; b < r->nb; b++) {
			size_t rw = kmb_report_row(r, b, w, 0);
			double nk = rw ? kmb_report_num(r, rw, "kmalloc_fidelity_events") : NAN;
			double nc = rw ? kmb_report_num(r, rw, "cache_fidelity_events") : NAN;

			if (!(nk > 0) && !(nc > 0))
				continue;
			if (t == NULL) {
				kmb_rdoc_heading(&r->d, 2, "Fidelity to the traced kernel");
				kmb_rdoc_para(
				        &r->d,
				        "Share of allocations whose usable size (ksize) is the "
				        "trace's bytes_alloc, the traced kernel's slot, of those "
				        "whose event carries one (comparable); %u thread(s), "
				        "medians over repetitions.",
				        r->t[0]);
				t = kmb_rdoc_table(
				        &r->d,
				        "Workload|Backend|kmalloc %|comparable|kmem_cache "
				        "%|comparable",
				        "llrrrr");
			}
			kmb_rtable_cell(t, "%s", r->w[w]);
			kmb_rtable_cell(t, "%s", r->b[b]);
			fidelity_cell(t, kmb_report_num(r, rw, "kmalloc_fidelity_pct"), nk);
			fidelity_cell(t, kmb_report_num(r, rw, "cache_fidelity_pct"), nc);
		}
	}
}

/* ---- 2. the SLUB finding ---------------------------------------------------------------- */

struct figure {
	const char *col, *what;
	bool higher; /* more is better */
	bool points; /* a percentage: compared in points, arithmetic mean */
};

static const struct figure figures[] = {
        {"ops_per_cpu_sec", "throughput per CPU-second", true, false},
        {"peak_footprint_bytes", "peak footprint", false, false},
        {"internal_frag_pct", "internal fragmentation", false, true},
        {"kmalloc_fidelity_pct", "kmalloc fidelity", true, true},
        {"cache_fidelity_pct", "kmem_cache fidelity", true, true},
};

struct tally {
	unsigned nw;                   /* workloads where every design has a value */
	double v[NDESIGNS][MAX_WL_SP]; /* their values, per design */
	double mean[NDESIGNS];         /* geometric or arithmetic */
	unsigned wins[NDESIGNS];       /* workloads where the design was best */
};

static bool better(const struct figure *f, double a, double b)
{
	return f->higher ? a > b : a < b;
}

/* The values of figure f for the designs present (idx[], n of them) over the workloads. */
static void tally_figure(const struct kmb_report *r, const struct figure *f, const int *idx,
                         unsigned n, struct tally *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned w = 0; w < r->nw && t->nw < MAX_WL_SP; w++) {
		double v[NDESIGNS];
		unsigned best = 0, ok = 0;

		for (unsigned d = 0; d < n; d++) {
			size_t rw = kmb_report_row(r, (unsigned)idx[d], w, 0);

			v[d] = rw ? kmb_report_num(r, rw, f->col) : NAN;
			ok += isfinite(v[d]) && (f->points || v[d] > 0);
			if (d && better(f, v[d], v[best]))
				best = d;
		}
		if (ok < n)
			continue;
		for (unsigned d = 0; d < n; d++) {
			t->v[d][t->nw] = v[d];
			t->mean[d] += f->points ? v[d] : log(v[d]);
		}
		t->wins[best]++;
		t->nw++;
	}
	for (unsigned d = 0; d < n && t->nw; d++)
		t->mean[d] = f->points ? t->mean[d] / t->nw : exp(t->mean[d] / t->nw);
}

/* The margin of design a over b in workload k (a ratio, or points). */
static double margin(const struct figure *f, const struct tally *t, unsigned a, unsigned b,
                     unsigned k)
{
	if (f->points)
		return f->higher ? t->v[a][k] - t->v[b][k] : t->v[b][k] - t->v[a][k];
	return f->higher ? kmb_ratio(t->v[a][k], t->v[b][k]) : kmb_ratio(t->v[b][k], t->v[a][k]);
}

static size_t margin_text(char *buf, size_t len, const struct figure *f, const struct tally *t,
                          unsigned win, unsigned other, const char *name)
{
	double lo = INFINITY, hi = -INFINITY, m;

	for (unsigned k = 0; k < t->nw; k++) {
		lo = fmin(lo, margin(f, t, win, other, k));
		hi = fmax(hi, margin(f, t, win, other, k));
	}
	if (f->points) {
		m = f->higher ? t->mean[win] - t->mean[other] : t->mean[other] - t->mean[win];
		return (size_t)snprintf(buf, len, "by %.1f points over %s (%.1f to %.1f)", m, name,
		                        lo, hi);
	}
	m = f->higher ? kmb_ratio(t->mean[win], t->mean[other])
	              : kmb_ratio(t->mean[other], t->mean[win]);
	return (size_t)snprintf(buf, len, "%.2fx over %s (%.2fx to %.2fx)", m, name, lo, hi);
}

static void find_figure(struct kmb_report *r, const struct figure *f, const int *idx, unsigned n)
{
	struct tally t;
	char text[1024];
	unsigned win = 0;
	size_t off;

	tally_figure(r, f, idx, n, &t);
	if (t.nw == 0)
		return;
	for (unsigned d = 1; d < n; d++)
		if (better(f, t.mean[d], t.mean[win]))
			win = d;
	if (!better(f, t.mean[win], t.mean[win ? 0 : 1]) &&
	    (n < 3 || !better(f, t.mean[win], t.mean[win == 2 ? 1 : 2]))) {
		kmb_rdoc_item(&r->d, "%s: the same with every design over %u workloads.", f->what,
		              t.nw);
		return;
	}
	off = (size_t)snprintf(
	        text, sizeof(text), "%s: %s is best by its %s, and best in %u of %u workloads",
	        f->what, r->b[idx[win]], f->points ? "mean" : "geometric mean", t.wins[win], t.nw);
	for (unsigned d = 0, first = 1; d < n && off < sizeof(text); d++)
		if (d != win) {
			off += (size_t)snprintf(text + off, sizeof(text) - off, "%s",
			                        first ? "; " : ", ");
			if (off < sizeof(text))
				off += margin_text(text + off, sizeof(text) - off, f, &t, win, d,
				                   r->b[idx[d]]);
			first = 0;
		}
	kmb_rdoc_item(&r->d, "%s.", text);
}

void kmb_report_slub_finding(struct kmb_report *r)
{
	int idx[NDESIGNS];
	unsigned n = 0;

	for (unsigned d = 0; d < NDESIGNS; d++)
		if ((idx[n] = backend_index(r, designs[d])) >= 0)
			n++;
	if (n < 2)
		return;
	kmb_rdoc_heading(&r->d, 2, "SLUB, SLUB with sheaves and slab");
	kmb_rdoc_para(&r->d,
	              "Finding: which of the designs wins on which figure, over the workloads "
	              "where each has a value (%u thread(s), medians over repetitions); the "
	              "margin is the mean's, the range in parentheses its least and greatest "
	              "over those workloads.",
	              r->t[0]);
	for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++)
		find_figure(r, &figures[i], idx, n);
}
