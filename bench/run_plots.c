/*
 * bench/run_plots.c - kmbench run's figures (results/figure.c draws them):
 *
 *   latency     per workload (rows), alloc and free (columns): latency against
 *               percentile, HdrHistogram style (x = 1/(1 - p) on a log axis: each decade
 *               one more nine), one line per backend, repetitions merged
 *   sizeclass   per workload, alloc and free: p99 latency by requested size class, one
 *               line per backend (p50 and p99.9 are in sizeclass.csv)
 *   footprint   per workload, kernel designs and user-space baselines in panels of
 *               their own (a baseline holds several times what a kernel design does): the
 *               footprint (pages held, data and metadata) of each backend over its last
 *               repetition, and the live requested bytes (black, dashed): the gap between
 *               them is what the allocator costs
 *   frag        per workload, bars per backend: internal fragmentation at peak live,
 *               Johnstone & Wilson's footprint at peak live and peak footprint over peak
 *               live (as % above 1), and the external fragmentation at peak (Linux's
 *               unusable free space index for an order-3 block, from the picture of memory)
 *   scaling     per workload: median ops/s against replay threads, min-max bars
 *
 * Latency, size classes, footprint and fragmentation are drawn at the first --threads
 * value (the base); scaling uses them all.
 *
 * One colour and dash per backend in every figure: its position in the run's backend list
 * picks the colour (kmb_fig_color: 20 colours, then again with other dashes), and the
 * user-space baselines are dashed, the kernel designs solid.  Latency axes are labelled
 * in ns, us and ms.
 */
#include "run.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results/results.h"

#include <kmbench/kmbench.h>

/* Arrays of a figure, freed together. */
struct arena {
	void *p[4096];
	size_t n;
};

static double *dbl(struct arena *a, size_t n)
{
	double *v = calloc(n + 1, sizeof(*v));

	if (v && a->n < sizeof(a->p) / sizeof(a->p[0]))
		a->p[a->n++] = v;
	else {
		free(v);
		v = NULL;
	}
	return v;
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->p[i]);
	a->n = 0;
}

static unsigned grid_cols(unsigned n)
{
	return n > 1 ? 2 : 1;
}

/*
 * A user-space baseline: its backend (the spec up to '@' or '(') is one `kmbench list`
 * describes as "baseline: ..." (libc, mimalloc, jemalloc, tcmalloc).  Plugins and kernel
 * designs are not.
 */
static bool is_baseline(const char *spec)
{
	size_t len = strcspn(spec, "@(");

	for (size_t i = 0; i < kmb_backend_count(); i++) {
		const struct kmb_backend_info *bi = kmb_backend_at(i);

		if (strlen(bi->name) == len && strncmp(bi->name, spec, len) == 0)
			return strncmp(bi->summary, "baseline:", 9) == 0;
	}
	return false;
}

/* Backend b's series: its name, colour and dash. */
static struct kmb_fig_series backend_series(const struct run *r, unsigned b, int style)
{
	return (struct kmb_fig_series){.name = r->backends[b],
	                               .color = b,
	                               .dashed = is_baseline(r->backends[b]),
	                               .style = style};
}

/* Draw; on failure say why once per run (a missing gnuplot fails every figure alike). */
static int draw(struct run *r, const struct kmb_fig *f, bool *said)
{
	char err[1024];
	int rc = kmb_fig_write(r->dir, f, err, sizeof(err));

	if (rc != 0 && !*said) {
		fprintf(stderr, "kmbench run: plot %s: %s (data and scripts kept in %s)\n",
		        f->basename, err, r->dir);
		*said = true;
	}
	return rc != 0;
}

/* ---- latency ------------------------------------------------------------------------------- */

static void latency_series(struct arena *a, const struct kmb_hist *h, struct kmb_fig_series *s)
{
	struct kmb_hist_pct_iter it;
	size_t n = 0, cap = 256;

	s->x = dbl(a, cap);
	s->y = dbl(a, cap);
	kmb_hist_pct_begin(&it, h, KMB_HIST_HGRM_TICKS);
	while (s->x && s->y && kmb_hist_pct_next(&it) && n < cap)
		if (it.percentile < 100.0) {
			((double *)s->x)[n] = 1.0 / (1.0 - it.percentile / 100.0);
			((double *)s->y)[n++] = (double)it.value;
		}
	s->n = s->x && s->y ? n : 0;
}

/*
 * A rebuilt run (kmbench plot of a killed run, kmbench merge) has no histograms in memory,
 * but the run wrote each cell's as <cell>.{alloc,free}.hgrm, whose rows are the points
 * latency_series draws: value, percentile (0..1), count, 1/(1-percentile).  The 100% row
 * and the comments are left out.
 */
static void latency_series_hgrm(const struct run *r, struct arena *a, const struct run_cell *c,
                                bool alloc, struct kmb_fig_series *s)
{
	char path[4800], line[256];
	size_t n = 0, cap = 1024;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.%s.hgrm", r->dir, c->name, alloc ? "alloc" : "free");
	s->x = dbl(a, cap);
	s->y = dbl(a, cap);
	s->n = 0;
	if (s->x == NULL || s->y == NULL || (f = fopen(path, "r")) == NULL)
		return;
	while (n < cap && fgets(line, sizeof(line), f)) {
		double v, p, count, inv;

		if (sscanf(line, "%lf %lf %lf %lf", &v, &p, &count, &inv) == 4 && p >= 0 && p < 1) {
			((double *)s->x)[n] = 1.0 / (1.0 - p);
			((double *)s->y)[n++] = v;
		}
	}
	fclose(f);
	s->n = n;
}

static bool any_file(const struct run *r, const char *name)
{
	char path[4800];

	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	return access(path, R_OK) == 0;
}

static bool any_hgrm(const struct run *r)
{
	char path[4800];

	for (size_t i = 0; i < r->ncells; i++) {
		snprintf(path, sizeof(path), "%s/%s.alloc.hgrm", r->dir, r->cells[i].name);
		if (access(path, R_OK) == 0)
			return true;
	}
	return false;
}

/* gnuplot reads tic labels as formats: %% is a percent sign. */
static const char latency_xtics[] = "font ',8' ('50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000, "
                                    "'99.99%%' 10000, '99.999%%' 100000, "
                                    "'99.9999%%' 1000000)";

static char latency_extra[256];

static const char *latency_ytics(void)
{
	snprintf(latency_extra, sizeof(latency_extra), "set ytics %s", kmb_fig_latency_ytics);
	return latency_extra;
}

static int plot_latency(struct run *r, struct arena *a, bool *said)
{
	struct kmb_fig_panel *p = calloc((size_t)r->nwl * 2, sizeof(*p));
	struct kmb_fig_series *s = calloc((size_t)r->nwl * 2 * r->nbackends, sizeof(*s));
	char(*title)[128] = calloc((size_t)r->nwl * 2, sizeof(*title));
	struct kmb_fig f = {"latency", "Latency by percentile (repetitions merged)",
	                    r->nwl,    2,
	                    1200,      320 * r->nwl + 60,
	                    p,         (size_t)r->nwl * 2};
	int rc = 1;

	for (unsigned i = 0; p && s && title && i < r->nwl * 2; i++) {
		unsigned w = i / 2;
		bool alloc = i % 2 == 0;

		snprintf(title[i], sizeof(title[i]), "%s: %s, %u thread%s", r->wl[w].name,
		         alloc ? "alloc" : "free", r->threads[0], r->threads[0] == 1 ? "" : "s");
		p[i] = (struct kmb_fig_panel){title[i],
		                              "percentile",
		                              "latency",
		                              true,
		                              true,
		                              latency_xtics,
		                              latency_ytics(),
		                              KMB_FIG_KEY_OUTSIDE,
		                              s + (size_t)i * r->nbackends,
		                              r->nbackends};
		for (unsigned b = 0; b < r->nbackends; b++) {
			const struct run_cell *c = kmb_run_cell_at(r, b, w, 0);
			struct kmb_fig_series *x = &s[(size_t)i * r->nbackends + b];

			*x = backend_series(r, b, KMB_FIG_LINES);
			if (c->nok && r->rebuilt)
				latency_series_hgrm(r, a, c, alloc, x);
			else if (c->nok)
				latency_series(a, alloc ? &c->alloc : &c->free, x);
		}
	}
	if (p && s && title)
		rc = draw(r, &f, said);
	free(p);
	free(s);
	free(title);
	return rc;
}

/* ---- latency by size class ----------------------------------------------------------------- */

static char sizeclass_xtics[512];

static const char *size_xtics(void)
{
	static const char *const lab[KMB_SIZE_CLASSES] = {"16",  "32",  "64",  "128", "256",
	                                                  "512", "1K",  "2K",  "4K",  "8K",
	                                                  "16K", "32K", "64K", ">64K"};
	size_t n = 0;

	n += (size_t)snprintf(sizeclass_xtics, sizeof(sizeclass_xtics), "(");
	for (unsigned k = 0; k < KMB_SIZE_CLASSES; k++)
		n += (size_t)snprintf(sizeclass_xtics + n, sizeof(sizeclass_xtics) - n, "%s'%s' %u",
		                      k ? ", " : "", lab[k], k);
	snprintf(sizeclass_xtics + n, sizeof(sizeclass_xtics) - n, ")");
	return sizeclass_xtics;
}

/*
 * p99 latency of each backend, workload and size class at the base thread count, alloc
 * and free: v[((b * nwl + w) * KMB_SIZE_CLASSES + k) * 2 + free], NAN where the class saw
 * nothing.  From the cells' merged histograms, or in a rebuilt run (kmbench merge) from
 * sizeclass.csv, which the run wrote from the same histograms.
 */
static size_t p99_at(const struct run *r, unsigned b, unsigned w, unsigned k, bool alloc)
{
	return (((size_t)b * r->nwl + w) * KMB_SIZE_CLASSES + k) * 2 + !alloc;
}

static void p99_from_csv(struct run *r, double *v)
{
	char path[4200];
	struct kmb_csv c;

	snprintf(path, sizeof(path), "%s/sizeclass.csv", r->dir);
	if (kmb_csv_load(path, &c) != 0)
		return;
	for (size_t i = 1; i < c.nrows; i++) {
		double k = kmb_csv_num(&c, i, "class"), t = kmb_csv_num(&c, i, "threads");

		if (!(k >= 0 && k < KMB_SIZE_CLASSES) || t != r->threads[0])
			continue;
		for (unsigned b = 0; b < r->nbackends; b++)
			for (unsigned w = 0; w < r->nwl; w++)
				if (strcmp(kmb_csv_get(&c, i, "backend"), r->backends[b]) == 0 &&
				    strcmp(kmb_csv_get(&c, i, "workload"), r->wl[w].name) == 0) {
					v[p99_at(r, b, w, (unsigned)k, true)] =
					        kmb_csv_num(&c, i, "alloc_count") > 0
					                ? kmb_csv_num(&c, i, "alloc_p99_ns")
					                : NAN;
					v[p99_at(r, b, w, (unsigned)k, false)] =
					        kmb_csv_num(&c, i, "free_count") > 0
					                ? kmb_csv_num(&c, i, "free_p99_ns")
					                : NAN;
				}
	}
	kmb_csv_free(&c);
}

static double *class_p99(struct run *r, struct arena *a)
{
	size_t n = (size_t)r->nbackends * r->nwl * KMB_SIZE_CLASSES * 2;
	double *v = dbl(a, n);

	for (size_t i = 0; v && i < n; i++)
		v[i] = NAN;
	if (v && r->rebuilt) {
		p99_from_csv(r, v);
		return v;
	}
	for (unsigned b = 0; v && b < r->nbackends; b++)
		for (unsigned w = 0; w < r->nwl; w++) {
			const struct run_cell *c = kmb_run_cell_at(r, b, w, 0);

			for (unsigned k = 0; c->nok && k < KMB_SIZE_CLASSES; k++) {
				if (c->size_alloc[k].count)
					v[p99_at(r, b, w, k, true)] =
					        (double)kmb_hist_percentile(&c->size_alloc[k], 99);
				if (c->size_free[k].count)
					v[p99_at(r, b, w, k, false)] =
					        (double)kmb_hist_percentile(&c->size_free[k], 99);
			}
		}
	return v;
}

/* The x range of a workload's size classes (every backend, alloc and free). */
static void class_range(struct run *r, const double *v, unsigned w, char *buf, size_t len)
{
	unsigned lo = KMB_SIZE_CLASSES, hi = 0;

	for (unsigned b = 0; b < r->nbackends; b++)
		for (unsigned k = 0; k < KMB_SIZE_CLASSES; k++)
			if (!isnan(v[p99_at(r, b, w, k, true)]) ||
			    !isnan(v[p99_at(r, b, w, k, false)])) {
				lo = k < lo ? k : lo;
				hi = k > hi ? k : hi;
			}
	if (lo > hi)
		lo = hi = 0;
	snprintf(buf, len, "set xrange [%.1f:%.1f]\nset ytics %s", lo - 0.3, hi + 0.3,
	         kmb_fig_latency_ytics);
}

static void size_series(struct run *r, struct arena *a, const double *v, unsigned b, unsigned w,
                        bool alloc, struct kmb_fig_series *s)
{
	double *x = dbl(a, KMB_SIZE_CLASSES), *y = dbl(a, KMB_SIZE_CLASSES);
	size_t n = 0;

	for (unsigned k = 0; x && y && k < KMB_SIZE_CLASSES; k++)
		if (!isnan(v[p99_at(r, b, w, k, alloc)])) {
			x[n] = k;
			y[n++] = v[p99_at(r, b, w, k, alloc)];
		}
	s->x = x;
	s->y = y;
	s->n = x && y ? n : 0;
}

static int plot_sizeclass(struct run *r, struct arena *a, bool *said)
{
	size_t per = r->nbackends, np = (size_t)r->nwl * 2;
	struct kmb_fig_panel *p = calloc(np, sizeof(*p));
	struct kmb_fig_series *s = calloc(np * per, sizeof(*s));
	char(*title)[160] = calloc(np, sizeof(*title)), (*xr)[320] = calloc(r->nwl, sizeof(*xr));
	double *v = class_p99(r, a);
	struct kmb_fig f = {"sizeclass",
	                    "p99 latency by requested size (bytes, upper bound of the class; "
	                    "p50 and p99.9 in sizeclass.csv)",
	                    r->nwl,
	                    2,
	                    1200,
	                    320 * r->nwl + 60,
	                    p,
	                    np};
	int rc = 1;

	for (size_t i = 0; p && s && title && xr && v && i < np; i++) {
		unsigned w = (unsigned)(i / 2);
		bool alloc = i % 2 == 0;

		snprintf(title[i], sizeof(title[i]), "%s: %s, p99", r->wl[w].name,
		         alloc ? "alloc" : "free");
		class_range(r, v, w, xr[w], sizeof(xr[w]));
		p[i] = (struct kmb_fig_panel){
		        title[i], "requested size (bytes)", "latency",   false, true, size_xtics(),
		        xr[w],    KMB_FIG_KEY_OUTSIDE,      s + i * per, per};
		for (unsigned b = 0; b < r->nbackends; b++) {
			s[i * per + b] = backend_series(r, b, KMB_FIG_LINESPOINTS);
			size_series(r, a, v, b, w, alloc, &s[i * per + b]);
		}
	}
	if (p && s && title && xr && v)
		rc = draw(r, &f, said);
	free(p);
	free(s);
	free(title);
	free(xr);
	return rc;
}

/* ---- footprint over time --------------------------------------------------------------------- */

static void samples_series(struct arena *a, const struct kmb_replay_result *x, bool live,
                           struct kmb_fig_series *s)
{
	double *px = dbl(a, x->nsamples_cap), *py = dbl(a, x->nsamples_cap);
	size_t n = 0;

	for (size_t i = 0; px && py && i < x->nsamples_cap; i++) {
		const struct kmb_sample *sm = &x->samples[i];

		if (!sm->valid)
			continue;
		px[n] = (double)sm->ops / 1000;
		py[n++] = (double)(live ? sm->live_bytes_req : sm->footprint_bytes) / (1 << 20);
	}
	s->x = px;
	s->y = py;
	s->n = px && py ? n : 0;
}

/* Panel g of workload w: the backends of group g (0 kernel designs, 1 baselines; with
 * one group, all), then the live requested bytes. */
static size_t footprint_panel(struct run *r, struct arena *a, unsigned w, int g,
                              struct kmb_fig_series *ws)
{
	struct kmb_fig_series live = {
	        .name = "live requested", .color = KMB_FIG_BLACK, .dashed = true};
	size_t n = 0;

	for (unsigned b = 0; b < r->nbackends; b++) {
		const struct run_cell *c = kmb_run_cell_at(r, b, w, 0);

		if (g >= 0 && is_baseline(r->backends[b]) != (g == 1))
			continue;
		ws[n] = backend_series(r, b, KMB_FIG_LINES);
		if (c->last != NULL) {
			samples_series(a, c->last, false, &ws[n]);
			if (live.n == 0)
				samples_series(a, c->last, true, &live);
		}
		n++;
	}
	ws[n++] = live;
	return n;
}

static int plot_footprint(struct run *r, struct arena *a, bool *said)
{
	size_t per = (size_t)r->nbackends + 1, nbase = 0;
	unsigned groups, cols, rows;
	struct kmb_fig_panel *p = calloc((size_t)r->nwl * 2, sizeof(*p));
	struct kmb_fig_series *s = calloc((size_t)r->nwl * 2 * per, sizeof(*s));
	char(*title)[160] = calloc((size_t)r->nwl * 2, sizeof(*title));
	int rc = 1;

	for (unsigned b = 0; b < r->nbackends; b++)
		nbase += is_baseline(r->backends[b]);
	groups = nbase > 0 && nbase < r->nbackends ? 2 : 1;
	cols = groups == 2 ? 2 : grid_cols(r->nwl);
	rows = (r->nwl * groups + cols - 1) / cols;
	for (unsigned i = 0; p && s && title && i < r->nwl * groups; i++) {
		unsigned w = i / groups;
		int g = groups == 2 ? (int)(i % 2) : -1;

		snprintf(title[i], sizeof(title[i]), "%s%s", r->wl[w].name,
		         g < 0 ? ""
		         : g   ? ": user-space baselines"
		               : ": kernel designs");
		p[i] = (struct kmb_fig_panel){title[i],
		                              "operations (thousands)",
		                              "MiB",
		                              false,
		                              false,
		                              NULL,
		                              "set yrange [0:*]",
		                              KMB_FIG_KEY_OUTSIDE,
		                              s + i * per,
		                              footprint_panel(r, a, w, g, s + i * per)};
	}
	if (p && s && title) {
		struct kmb_fig f = {"footprint",
		                    "Footprint (pages held, data + metadata) vs live requested "
		                    "bytes, over a repetition",
		                    rows,
		                    cols,
		                    1200,
		                    340 * rows + 60,
		                    p,
		                    (size_t)r->nwl * groups};

		rc = draw(r, &f, said);
	}
	free(p);
	free(s);
	free(title);
	return rc;
}

/* ---- fragmentation bars -----------------------------------------------------------------------
 */

#define NMEASURES 4
static const char *const measure_names[NMEASURES] = {
        "internal: (usable - requested) / usable at peak live",
        "J&W: footprint at peak live / peak live - 1", "J&W: peak footprint / peak live - 1",
        "external: free memory unusable for an order-3 block at peak"};

/*
 * A log scale: kernel allocators' few percent and a user-space baseline's thousands of
 * percent in one panel.  A measure below FRAG_FLOOR % (zero included) is drawn as a stub
 * up to the floor, on the tic labelled "<= 0.1", so that a zero is seen and not mistaken
 * for a measure that does not apply (not drawn: a baseline's external fragmentation).
 * The y axis ends a factor 2 above the panel's largest bar; the key sits below the plot,
 * under the backends' names, slanted so that 15 and more fit.
 */
#define FRAG_FLOOR 0.1
static const char frag_extra_fmt[] =
        "set xrange [-0.6:%u.6]\nset yrange [0.05:%.6g]\n"
        "set ytics ('<= 0.1' 0.1, '1' 1, '10' 10, '100' 100, '1000' 1e3, '10000' 1e4, "
        "'100000' 1e5, '1000000' 1e6, '1e7' 1e7, '1e8' 1e8)\n"
        "set key outside bottom center horizontal maxrows 2 font ',8'";

/* Medians over the cell's repetitions, like every per-cell figure. */
static double measure(const struct run *r, const struct run_cell *c, unsigned m)
{
	const struct run_frames *fr = &r->frames[(size_t)c->b * r->nwl + c->w];

	switch (m) {
	case 0:
		return kmb_run_cell_median(r, c, KMB_M_internal_frag_pct);
	case 1:
		return 100 * (kmb_run_cell_median(r, c, KMB_M_jw_footprint_at_peak_live_ratio) - 1);
	case 2:
		return 100 * (kmb_run_cell_median(r, c, KMB_M_jw_peak_footprint_ratio) - 1);
	default:
		return fr->done && fr->rc == 0 ? fr->unusable_pct : NAN;
	}
}

static char *backend_xtics(const struct run *r)
{
	size_t cap = 64 + (size_t)r->nbackends * 320, n;
	char *t = malloc(cap);

	if (t == NULL)
		return NULL;
	n = (size_t)snprintf(t, cap, "rotate by 30 right font ',9' (");
	for (unsigned b = 0; b < r->nbackends; b++) {
		char name[300];

		snprintf(name, sizeof(name), "%s", r->backends[b]);
		for (char *q = name; *q; q++)
			*q = *q == '\'' ? '_' : *q;
		n += (size_t)snprintf(t + n, cap - n, "%s'%s' %u", b ? ", " : "", name, b);
	}
	snprintf(t + n, cap - n, ")");
	return t;
}

/* The measures of workload w as bars (y clamped to FRAG_FLOOR); returns the largest. */
static double frag_bars(struct run *r, struct arena *a, unsigned w, struct kmb_fig_series *s)
{
	double top = 1;

	for (unsigned m = 0; m < NMEASURES; m++) {
		double *x = dbl(a, r->nbackends), *y = dbl(a, r->nbackends);
		size_t n = 0;

		for (unsigned b = 0; x && y && b < r->nbackends; b++) {
			x[n] = b + (m - (NMEASURES - 1) / 2.0) * 0.2;
			y[n] = measure(r, kmb_run_cell_at(r, b, w, 0), m);
			if (!isfinite(y[n]))
				continue;
			y[n] = fmax(y[n], FRAG_FLOOR);
			top = fmax(top, y[n++]);
		}
		s[m] = (struct kmb_fig_series){measure_names[m],
		                               x && y ? n : 0,
		                               x,
		                               y,
		                               NULL,
		                               NULL,
		                               m,
		                               false,
		                               KMB_FIG_BOXES,
		                               0.2};
	}
	return top;
}

static int plot_frag(struct run *r, struct arena *a, bool *said)
{
	struct kmb_fig_panel *p = calloc(r->nwl, sizeof(*p));
	struct kmb_fig_series *s = calloc((size_t)r->nwl * NMEASURES, sizeof(*s));
	char(*extra)[512] = calloc(r->nwl, sizeof(*extra));
	unsigned cols = grid_cols(r->nwl), rows = (r->nwl + cols - 1) / cols;
	char *xt = backend_xtics(r);
	struct kmb_fig f = {
	        "frag",
	        "Fragmentation, %: internal, Johnstone & Wilson (footprint over live), external",
	        rows,
	        cols,
	        1200,
	        420 * rows + 60,
	        p,
	        r->nwl};
	int rc = 1;

	for (unsigned w = 0; p && s && extra && xt && w < r->nwl; w++) {
		double top = frag_bars(r, a, w, s + w * NMEASURES);

		snprintf(extra[w], sizeof(extra[w]), frag_extra_fmt,
		         r->nbackends ? r->nbackends - 1 : 0, top * 2);
		p[w] = (struct kmb_fig_panel){r->wl[w].name,
		                              NULL,
		                              "% (log scale)",
		                              false,
		                              true,
		                              xt,
		                              extra[w],
		                              KMB_FIG_KEY_INSIDE,
		                              s + w * NMEASURES,
		                              NMEASURES};
	}
	if (p && s && extra && xt)
		rc = draw(r, &f, said);
	free(p);
	free(s);
	free(extra);
	free(xt);
	return rc;
}

/* ---- scaling -----------------------------------------------------------------------------------
 */

/*
 * Each thread count says what it measures: "2\n2 copies" where the workload is replayed as
 * T copies on T threads (weak scaling), "2\n2 CPU streams" where its streams are spread
 * over T threads (strong scaling; a trace has facts.cpus streams).
 */
static char *thread_xtics(const struct run *r, unsigned w)
{
	size_t cap = 64 * (size_t)RUN_MAX_THREADS + 8, n = 1;
	char *t = malloc(cap);

	if (t == NULL)
		return NULL;
	t[0] = '(';
	for (unsigned i = 0; i < r->nthreads; i++) {
		unsigned th = r->threads[i], cpus = (unsigned)r->wl[w].facts.cpus;

		if (r->wl[w].replicate)
			n += (size_t)snprintf(t + n, cap - n, "%s\"%u\\n%u cop%s\" %u",
			                      i ? ", " : "", th, th, th == 1 ? "y" : "ies", th);
		else
			n += (size_t)snprintf(t + n, cap - n, "%s\"%u\\n%u stream%s\" %u",
			                      i ? ", " : "", th, cpus, cpus == 1 ? "" : "s", th);
	}
	snprintf(t + n, cap - n, ")");
	return t;
}

static void scaling_series(const struct run *r, struct arena *a, unsigned b, unsigned w,
                           struct kmb_fig_series *s)
{
	double *x = dbl(a, r->nthreads), *y = dbl(a, r->nthreads), *lo = dbl(a, r->nthreads),
	       *hi = dbl(a, r->nthreads);
	size_t n = 0;

	for (unsigned t = 0; x && y && lo && hi && t < r->nthreads; t++) {
		const struct run_cell *c = kmb_run_cell_at((struct run *)r, b, w, t);
		double v[1000], mn = INFINITY, mx = 0;
		unsigned k = 0;

		for (unsigned i = 0; i < r->reps && k < 1000; i++)
			if (c->rep[i].ok) {
				v[k++] = c->rep[i].v[KMB_M_ops_per_sec] / 1e6;
				mn = fmin(mn, v[k - 1]);
				mx = fmax(mx, v[k - 1]);
			}
		if (k == 0)
			continue;
		x[n] = c->threads;
		y[n] = kmb_median(v, k);
		lo[n] = mn;
		hi[n++] = mx;
	}
	*s = backend_series(r, b, KMB_FIG_ERRORLINES);
	s->n = x && y && lo && hi ? n : 0;
	s->x = x;
	s->y = y;
	s->ylo = lo;
	s->yhi = hi;
}

static int plot_scaling(struct run *r, struct arena *a, bool *said)
{
	struct kmb_fig_panel *p = calloc(r->nwl, sizeof(*p));
	struct kmb_fig_series *s = calloc((size_t)r->nwl * r->nbackends, sizeof(*s));
	unsigned cols = grid_cols(r->nwl), rows = (r->nwl + cols - 1) / cols;
	char **xt = calloc(r->nwl, sizeof(*xt)), (*title)[160] = calloc(r->nwl, sizeof(*title));
	struct kmb_fig f = {"scaling",
	                    "Wall-time throughput against replay threads (median, min-max bars): "
	                    "T copies = weak scaling, streams = strong scaling",
	                    rows,
	                    cols,
	                    1200,
	                    340 * rows + 60,
	                    p,
	                    r->nwl};
	int rc = 1;

	for (unsigned w = 0; p && s && xt && title && w < r->nwl; w++) {
		snprintf(title[w], sizeof(title[w]), "%s (%s)", r->wl[w].name,
		         r->wl[w].replicate ? "weak scaling: T copies of the trace on T threads"
		                            : "strong scaling: its CPU streams over T threads");
		if ((xt[w] = thread_xtics(r, w)) == NULL)
			break;
		p[w] = (struct kmb_fig_panel){title[w],
		                              "replay threads",
		                              "million ops/s",
		                              false,
		                              false,
		                              xt[w],
		                              "set yrange [0:*]\nset offsets 0.2, 0.2, 0, 0",
		                              KMB_FIG_KEY_OUTSIDE,
		                              s + (size_t)w * r->nbackends,
		                              r->nbackends};
		for (unsigned b = 0; b < r->nbackends; b++)
			scaling_series(r, a, b, w, &s[(size_t)w * r->nbackends + b]);
	}
	if (p && s && xt && title && (r->nwl == 0 || xt[r->nwl - 1]))
		rc = draw(r, &f, said);
	for (unsigned w = 0; xt && w < r->nwl; w++)
		free(xt[w]);
	free(p);
	free(s);
	free(xt);
	free(title);
	return rc;
}

int kmb_run_write_plots(struct run *r)
{
	struct arena *a = calloc(1, sizeof(*a));
	bool said = false;
	int rc = 0;

	if (a == NULL)
		return 1;
	if (!r->rebuilt || any_hgrm(r)) { /* a killed run wrote none */
		rc |= plot_latency(r, a, &said);
		arena_free(a);
	}
	if (!r->rebuilt || any_file(r, "sizeclass.csv")) {
		rc |= plot_sizeclass(r, a, &said);
		arena_free(a);
	}
	rc |= plot_footprint(r, a, &said);
	arena_free(a);
	rc |= plot_frag(r, a, &said);
	arena_free(a);
	rc |= plot_scaling(r, a, &said);
	arena_free(a);
	free(a);
	return rc;
}
