/*
 * results/report_find.c - the report's figures, each with one finding per workload
 * computed from summary.csv, sizeclass.csv and frames.csv (who is best and worst, by how
 * much; no sentence unless the numbers behind it exist), and the pictures of memory.
 */
#include "results/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- figures and findings ------------------------------------------------------------------- */

static void kmb_report_figure(struct kmb_report *r, const char *png, const char *alt)
{
	char gp[256];

	snprintf(gp, sizeof(gp), "%.*s.gp", (int)(strlen(png) - 4), png);
	if (kmb_report_file_exists(r, png) || kmb_report_file_exists(r, gp))
		kmb_rdoc_image(&r->d, png, alt);
}

static void find_latency(struct kmb_report *r, unsigned w)
{
	struct kmb_extremes a = kmb_report_extremes(r, w, kmb_report_m_col, "alloc_p99_ns");
	struct kmb_extremes f = kmb_report_extremes(r, w, kmb_report_m_col, "free_p99_ns");
	char x[4][32];

	if (a.n < 2 || f.n < 2 || kmb_extremes_same(&a) || kmb_extremes_same(&f))
		return;
	kmb_rdoc_item(
	        &r->d,
	        "%s: %s has the lowest p99 alloc latency (%s), %.1fx below %s (%s); for free, "
	        "%s is lowest (%s), %.1fx below %s (%s).",
	        r->w[w], r->b[a.lo], kmb_rf_ns(x[0], a.vlo), kmb_ratio(a.vhi, a.vlo), r->b[a.hi],
	        kmb_rf_ns(x[1], a.vhi), r->b[f.lo], kmb_rf_ns(x[2], f.vlo), kmb_ratio(f.vhi, f.vlo),
	        r->b[f.hi], kmb_rf_ns(x[3], f.vhi));
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
static void find_sizeclass(struct kmb_report *r, unsigned w)
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
		    (best < 0 || kmb_ratio(hi[k], lo[k]) > kmb_ratio(hi[best], lo[best])))
			best = (int)k;
	if (best < 0)
		return;
	class_label(lab, sizeof(lab), (unsigned)best);
	kmb_rdoc_item(
	        &r->d,
	        "%s: backends differ most at requests of %s (%.0f%% of allocations): p99 alloc "
	        "from %s (%s) to %s (%s), %.1fx.",
	        r->w[w], lab, 100 * cnt[best] / total, r->b[blo[best]], kmb_rf_ns(x[0], lo[best]),
	        r->b[bhi[best]], kmb_rf_ns(x[1], hi[best]), kmb_ratio(hi[best], lo[best]));
}

static double m_fp_over_live(const struct kmb_report *r, size_t rw, const void *arg)
{
	(void)arg;
	return kmb_ratio(kmb_report_num(r, rw, "peak_footprint_bytes"),
	                 kmb_report_num(r, rw, "peak_live_bytes_req"));
}

static void find_footprint(struct kmb_report *r, unsigned w)
{
	struct kmb_extremes e = kmb_report_extremes(r, w, kmb_report_m_col, "peak_footprint_bytes");
	char x[2][32];

	if (e.n < 2 || kmb_extremes_same(&e))
		return;
	kmb_rdoc_item(&r->d,
	              "%s: %s has the smallest peak footprint (%s, %.2fx the peak live requested "
	              "bytes), %s the largest (%s, %.2fx).",
	              r->w[w], r->b[e.lo], kmb_rf_bytes(x[0], e.vlo),
	              m_fp_over_live(r, kmb_report_row(r, e.lo, w, 0), NULL), r->b[e.hi],
	              kmb_rf_bytes(x[1], e.vhi),
	              m_fp_over_live(r, kmb_report_row(r, e.hi, w, 0), NULL));
}

static void find_frag(struct kmb_report *r, unsigned w)
{
	struct kmb_extremes in = kmb_report_extremes(r, w, kmb_report_m_col, "internal_frag_pct");
	struct kmb_extremes jw =
	        kmb_report_extremes(r, w, kmb_report_m_col, "jw_footprint_at_peak_ratio");
	struct kmb_extremes ex =
	        kmb_report_extremes(r, w, kmb_report_m_col, "extfrag_unusable_pct");
	char a[256], b[256], c[256] = "";

	if (in.n < 2 || jw.n < 2)
		return;
	if (kmb_extremes_same(&in))
		snprintf(a, sizeof(a), "internal fragmentation is %.1f%% with every backend",
		         in.vlo);
	else
		snprintf(a, sizeof(a),
		         "internal fragmentation is lowest with %s (%.1f%%) and highest "
		         "with %s (%.1f%%)",
		         r->b[in.lo], in.vlo, r->b[in.hi], in.vhi);
	if (kmb_extremes_same(&jw))
		snprintf(b, sizeof(b),
		         "at peak live bytes every backend holds %.2fx the live bytes", jw.vlo);
	else
		snprintf(b, sizeof(b), "at peak live bytes %s holds %.2fx the live bytes, %s %.2fx",
		         r->b[jw.lo], jw.vlo, r->b[jw.hi], jw.vhi);
	if (ex.n >= 2 && ex.vhi >= 1 &&
	    !kmb_extremes_same(&ex)) /* below 1%: noise of a nearly empty memory */
		snprintf(c, sizeof(c),
		         "; at that peak %s leaves the most free memory unusable for an order-3 "
		         "block "
		         "(%.1f%%), %s the least (%.1f%%)",
		         r->b[ex.hi], ex.vhi, r->b[ex.lo], ex.vlo);
	kmb_rdoc_item(&r->d, "%s: %s; %s%s.", r->w[w], a, b, c);
}

static void find_scaling(struct kmb_report *r, unsigned w)
{
	unsigned t0 = r->t[0], t1 = r->t[r->nt - 1], i1 = r->nt - 1;
	int lo = -1, hi = -1;
	double vlo = INFINITY, vhi = -INFINITY;

	for (unsigned b = 0; b < r->nb; b++) {
		double q = kmb_ratio(kmb_report_num(r, kmb_report_row(r, b, w, i1), "ops_per_sec"),
		                     kmb_report_num(r, kmb_report_row(r, b, w, 0), "ops_per_sec"));

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

static size_t frames_row(const struct kmb_report *r, const char *b, const char *w)
{
	for (size_t i = 1; r->has_frames && i < r->frames.nrows; i++)
		if (strcmp(kmb_csv_get(&r->frames, i, "backend"), b) == 0 &&
		    strcmp(kmb_csv_get(&r->frames, i, "workload"), w) == 0 &&
		    kmb_csv_get(&r->frames, i, "error")[0] == '\0')
			return i;
	return 0;
}

static double fsum(const struct kmb_report *r, size_t fr, const char *const *keys)
{
	double s = 0;

	for (; *keys; keys++) {
		double v = kmb_csv_num(&r->frames, fr, *keys);

		s += isfinite(v) ? v : 0;
	}
	return s;
}

static void find_frames(struct kmb_report *r, unsigned w)
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

void kmb_report_figures(struct kmb_report *r)
{
	static const struct {
		const char *png, *title, *what;
		void (*find)(struct kmb_report *, unsigned);
	} figs[] = {
	        {"latency.png", "Latency by percentile",
	         "Each backend's alloc and free latency at every percentile, all repetitions "
	         "merged (the .hgrm files hold the histograms).",
	         find_latency},
	        {"sizeclass.png", "Latency by size class",
	         "p99 latency by requested size, one line per backend; a class is labelled by its "
	         "upper bound (p50 and p99.9 are in sizeclass.csv).",
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
	         "Median wall-time throughput of all threads together against replay threads, "
	         "min-max bars over repetitions. A workload replayed as T copies on T threads is "
	         "weak scaling (each thread replays a whole copy: T times the work, so perfect "
	         "scaling is T times the one-thread throughput); one replayed as its CPU streams "
	         "spreads one trace over T threads (strong scaling). The x axis says which per "
	         "thread count. On a machine with fewer idle CPUs than threads (see How the "
	         "figures were measured) threads share CPUs and no allocator can scale.",
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
		kmb_report_figure(r, figs[i].png, figs[i].title);
		for (unsigned w = 0; w < r->nw; w++)
			figs[i].find(r, w);
	}
}

/* Backends that take memory from elsewhere (the user-space baselines): said once. */
static void not_pictured(struct kmb_report *r)
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

void kmb_report_frames(struct kmb_report *r)
{
	bool any = false;

	for (unsigned w = 0; w < r->nw; w++) {
		char png[128];

		snprintf(png, sizeof(png), "frames-%s.png", r->w[w]);
		if (!kmb_report_file_exists(r, png) && !r->has_frames)
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
		kmb_report_figure(r, png, r->w[w]);
		find_frames(r, w);
	}
	if (any)
		not_pictured(r);
}
