/*
 * bench/run_out.c - kmbench run's data files and its table on stdout.
 *
 *   summary.csv       one row per cell that ran (backend, workload, repetitions,
 *                     failed_repetitions, threads), then every numeric metric of the declared
 *                     schema (results/schema.def) in its order: the median over the cell's
 *                     successful repetitions, and for a metric with a direction (better
 *                     higher or lower) also _min, _max and _cv_pct beside it; then the
 *                     picture at peak's extfrag_unusable_pct and the first error.
 *   repetitions.csv   one row per job (backend, workload, threads, repetition, ok, every
 *                     numeric metric of the schema): what `kmbench compare` tests
 *   <cell>.alloc.hgrm, <cell>.free.hgrm   merged histograms, HdrHistogram text
 *   <cell>.samples.csv                    kmb_replay_write_samples of the last repetition
 *   sizeclass.csv     latency percentiles by requested size class, merged repetitions
 *
 * Every per-cell figure is a median over repetitions, memory figures included (with
 * several threads they depend on the interleaving, and exhaustion's failures on timing).
 * Latency percentiles are medians of each repetition's percentile (a typical
 * repetition); the .hgrm files hold the histogram of all repetitions together.
 */
#include "run.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results/results.h"

/* Median, min, max and CV of metric m over the cell's successful repetitions. */
static void cell_spread(const struct run *r, const struct run_cell *c, int m, struct kmb_spread *s)
{
	double v[1000]; /* --repetitions is at most 1000 */
	size_t n = 0;

	for (unsigned i = 0; i < r->reps && n < 1000; i++)
		if (c->rep[i].ok)
			v[n++] = c->rep[i].v[m];
	kmb_spread(v, n, s);
}

static bool with_spread(int m)
{
	return kmb_metrics[m].dir != KMB_MD_NONE;
}

/* The schema's numeric metrics as columns; threads is a key column of its own. */
static bool column(int m)
{
	return kmb_metric_numeric(m) && m != KMB_M_threads;
}

/* A number as CSV: whole numbers without decimals, rates to 0.1, others to 6 digits. */
static void csv_num(FILE *f, double v)
{
	if (!isfinite(v))
		return;
	if (v == floor(v) && fabs(v) < 1e15)
		fprintf(f, "%.0f", v);
	else if (fabs(v) >= 1000)
		fprintf(f, "%.1f", v);
	else
		fprintf(f, "%.6g", v);
}

/* ---- files --------------------------------------------------------------------------------- */

static FILE *open_out(const struct run *r, const char *name, struct kmb_file *kf)
{
	char path[4800];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", r->dir, name);
	if ((f = kmb_file_create(path, kf)) == NULL)
		fprintf(stderr, "kmbench run: cannot write %s: %s\n", path, strerror(errno));
	return f;
}

/* Commits (rc 0) or aborts the file; says which file and why it failed. */
static int close_out(struct kmb_file *kf, int rc)
{
	rc = kmb_file_finish(kf, rc);

	if (rc != 0)
		fprintf(stderr, "kmbench run: cannot write %s: %s\n", kf->path, strerror(-rc));
	return rc;
}

static void summary_header(FILE *f)
{
	fputs("backend,workload,repetitions,failed_repetitions,threads", f);
	for (int m = 0; m < KMB_NMETRICS; m++) {
		if (!column(m))
			continue;
		fprintf(f, ",%s", kmb_metrics[m].name);
		if (with_spread(m))
			fprintf(f, ",%s_min,%s_max,%s_cv_pct", kmb_metrics[m].name,
			        kmb_metrics[m].name, kmb_metrics[m].name);
	}
	fputs(",extfrag_unusable_pct,error\n", f);
}

static void summary_row(FILE *f, const struct run *r, const struct run_cell *c)
{
	const struct run_frames *fr = &r->frames[(size_t)c->b * r->nwl + c->w];

	kmb_csv_field(f, r->backends[c->b]);
	fprintf(f, ",%s,%u,%u,%u", r->wl[c->w].name, c->nok, c->nfailed, c->threads);
	for (int m = 0; m < KMB_NMETRICS; m++) {
		struct kmb_spread s;

		if (!column(m))
			continue;
		cell_spread(r, c, m, &s);
		fputc(',', f);
		csv_num(f, s.median);
		if (!with_spread(m))
			continue;
		fputc(',', f);
		csv_num(f, s.min);
		fputc(',', f);
		csv_num(f, s.max);
		fputc(',', f);
		if (isfinite(s.cv_pct))
			fprintf(f, "%.2f", s.cv_pct);
	}
	fputc(',', f);
	if (fr->done && fr->rc == 0)
		fprintf(f, "%.2f", fr->unusable_pct);
	fputc(',', f);
	kmb_csv_field(f, c->error);
	fputc('\n', f);
}

static int write_summary(const struct run *r)
{
	struct kmb_file kf;
	FILE *f = open_out(r, "summary.csv", &kf);

	if (f == NULL)
		return -errno;
	summary_header(f);
	for (size_t i = 0; i < r->ncells; i++)
		if (r->cells[i].nok + r->cells[i].nfailed > 0)
			summary_row(f, r, &r->cells[i]);
	return close_out(&kf, 0);
}

static void reps_row(FILE *f, const struct run *r, const struct run_cell *c, unsigned k)
{
	kmb_csv_field(f, r->backends[c->b]);
	fprintf(f, ",%s,%u,%u,%d", r->wl[c->w].name, c->threads, k + 1, c->rep[k].ok);
	for (int m = 0; m < KMB_NMETRICS; m++)
		if (column(m)) {
			fputc(',', f);
			if (c->rep[k].ok)
				csv_num(f, c->rep[k].v[m]);
		}
	fputc('\n', f);
}

static int write_reps(const struct run *r)
{
	struct kmb_file kf;
	FILE *f = open_out(r, "repetitions.csv", &kf);

	if (f == NULL)
		return -errno;
	fputs("backend,workload,threads,repetition,ok", f);
	for (int m = 0; m < KMB_NMETRICS; m++)
		if (column(m))
			fprintf(f, ",%s", kmb_metrics[m].name);
	fputc('\n', f);
	for (size_t i = 0; i < r->ncells; i++)
		for (unsigned k = 0; k < r->reps; k++)
			if (r->cells[i].rep[k].ran) /* else never ran (interrupted) */
				reps_row(f, r, &r->cells[i], k);
	return close_out(&kf, 0);
}

static int write_hgrm(const struct run *r, const struct run_cell *c, const char *what,
                      const struct kmb_hist *h)
{
	char name[512];
	struct kmb_file kf;
	FILE *f;

	snprintf(name, sizeof(name), "%s.%s.hgrm", c->name, what);
	if ((f = open_out(r, name, &kf)) == NULL)
		return -errno;
	return close_out(&kf, kmb_hist_write_hgrm(h, f) != 0 ? -EIO : 0);
}

static int write_samples(const struct run *r, const struct run_cell *c)
{
	char name[512];
	struct kmb_file kf;
	FILE *f;

	snprintf(name, sizeof(name), "%s.samples.csv", c->name);
	if ((f = open_out(r, name, &kf)) == NULL)
		return -errno;
	return close_out(&kf, kmb_replay_write_samples(f, c->last) != 0 ? -EIO : 0);
}

static void size_row(FILE *f, const struct run *r, const struct run_cell *c, unsigned k)
{
	const struct kmb_hist *a = &c->size_alloc[k], *fr = &c->size_free[k];

	kmb_csv_field(f, r->backends[c->b]);
	fprintf(f, ",%s,%u,", r->wl[c->w].name, c->threads);
	if (k < KMB_SIZE_CLASSES - 1)
		fprintf(f, "%" PRIu64, (uint64_t)16 << k);
	fprintf(f,
	        ",%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
	        ",%" PRIu64 ",%" PRIu64 "\n",
	        k, a->count, kmb_hist_percentile(a, 50), kmb_hist_percentile(a, 99),
	        kmb_hist_percentile(a, 99.9), fr->count, kmb_hist_percentile(fr, 50),
	        kmb_hist_percentile(fr, 99), kmb_hist_percentile(fr, 99.9));
}

static int write_sizeclass(const struct run *r)
{
	struct kmb_file kf;
	FILE *f = open_out(r, "sizeclass.csv", &kf);

	if (f == NULL)
		return -errno;
	fputs("backend,workload,threads,size_max,class,alloc_count,alloc_p50_ns,alloc_p99_ns,"
	      "alloc_p999_ns,free_count,free_p50_ns,free_p99_ns,free_p999_ns\n",
	      f);
	for (size_t i = 0; i < r->ncells; i++)
		for (unsigned k = 0; r->cells[i].nok && k < KMB_SIZE_CLASSES; k++)
			if (r->cells[i].size_alloc[k].count + r->cells[i].size_free[k].count)
				size_row(f, r, &r->cells[i], k);
	return close_out(&kf, 0);
}

int kmb_run_write_summaries(struct run *r)
{
	int rc = 0;

	if (write_summary(r) != 0 || write_reps(r) != 0 || (!r->rebuilt && write_sizeclass(r) != 0))
		rc = -EIO;
	for (size_t i = 0; i < r->ncells && !r->rebuilt; i++) { /* histograms: none rebuilt */
		const struct run_cell *c = &r->cells[i];

		if (c->nok == 0)
			continue;
		if (write_hgrm(r, c, "alloc", &c->alloc) != 0 ||
		    write_hgrm(r, c, "free", &c->free) != 0 || write_samples(r, c) != 0)
			rc = -EIO;
	}
	return rc;
}

/* ---- the table ----------------------------------------------------------------------------- */

double kmb_run_cell_median(const struct run *r, const struct run_cell *c, int m)
{
	struct kmb_spread s;

	cell_spread(r, c, m, &s);
	return s.median;
}

/* "12.3" or "12.3!" when above KMB_CV_FLAG_PCT: the cell's spread is too wide to rank by. */
static const char *cv_text(char *buf, double cv)
{
	snprintf(buf, 16, isfinite(cv) ? "%.1f%s" : "-", cv, cv > KMB_CV_FLAG_PCT ? "!" : "");
	return buf;
}

/* The backend column: as wide as the longest name of the run (specs with tunables). */
static int name_width(const struct run *r)
{
	size_t w = 12;

	for (unsigned b = 0; b < r->nbackends; b++)
		if (strlen(r->backends[b]) > w)
			w = strlen(r->backends[b]);
	return (int)(w < 64 ? w : 64);
}

static void table_row(FILE *out, const struct run *r, const struct run_cell *c)
{
	int nw = name_width(r);

	struct kmb_spread w, cpu;
	char a[16], b[16], cpus[24] = "-";

	if (!kmb_run_in_shard(r, c)) {
		fprintf(out, "  %-*s (in another shard)\n", nw, r->backends[c->b]);
		return;
	}
	if (c->nok == 0) {
		fprintf(out, "  %-*s (no repetition succeeded: %s)\n", nw, r->backends[c->b],
		        c->error[0] ? c->error : "not run");
		return;
	}
	cell_spread(r, c, KMB_M_ops_per_sec, &w);
	cell_spread(r, c, KMB_M_ops_per_cpu_sec, &cpu);
	if (cpu.median > 0) /* else not measured */
		snprintf(cpus, sizeof(cpus), "%.0f", cpu.median);
	else
		cpu.cv_pct = NAN;
	fprintf(out,
	        "  %-*s %4u %12.0f %6s %12s %6s %9.0f %9.0f %8.0f %8.0f %9.2fM %7.2f %6.3f "
	        "%8.0f\n",
	        nw, r->backends[c->b], c->nok, w.median, cv_text(a, w.cv_pct), cpus,
	        cv_text(b, cpu.cv_pct), kmb_run_cell_median(r, c, KMB_M_alloc_p50_ns),
	        kmb_run_cell_median(r, c, KMB_M_alloc_p99_ns),
	        kmb_run_cell_median(r, c, KMB_M_free_p50_ns),
	        kmb_run_cell_median(r, c, KMB_M_free_p99_ns),
	        kmb_run_cell_median(r, c, KMB_M_peak_footprint_bytes) / (1 << 20),
	        kmb_run_cell_median(r, c, KMB_M_internal_frag_pct),
	        kmb_run_cell_median(r, c, KMB_M_jw_peak_footprint_ratio),
	        kmb_run_cell_median(r, c, KMB_M_failed_allocs));
}

void kmb_run_print_table(FILE *out, struct run *r)
{
	for (unsigned w = 0; w < r->nwl; w++)
		for (unsigned t = 0; t < r->nthreads; t++) {
			fprintf(out, "\n%s, %u thread%s (%s)\n", r->wl[w].name, r->threads[t],
			        r->threads[t] == 1 ? "" : "s",
			        r->wl[w].replicate && r->threads[t] > 1 ? "a copy of the trace each"
			                                                : "its CPU streams");
			fprintf(out,
			        "  %-*s %4s %12s %6s %12s %6s %9s %9s %8s %8s %10s %7s %6s %8s\n",
			        name_width(r), "backend", "reps", "ops/s (wall)", "cv%",
			        "ops/s (CPU)", "cv%", "alloc p50", "alloc p99", "free p50",
			        "free p99", "footprint", "ifrag%", "J&W", "failed");
			for (unsigned b = 0; b < r->nbackends; b++)
				table_row(out, r, kmb_run_cell_at(r, b, w, t));
		}
	fprintf(out, "\nMedians over repetitions; '!': coefficient of variation above %.0f%%.\n",
	        KMB_CV_FLAG_PCT);
}
