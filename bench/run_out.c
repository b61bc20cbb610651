/*
 * bench/run_out.c - kmbench run's data files and its table on stdout.
 *
 *   summary.csv       one row per cell that ran: medians over the successful repetitions
 *                     (ops/s with min, max and coefficient of variation; latency
 *                     percentiles; peak footprint), the last repetition's memory figures
 *                     (they do not depend on timing with one thread), and the picture at
 *                     peak's external fragmentation.  The first 18 columns are those of
 *                     earlier versions, in the same order.
 *   repetitions.csv   one row per job: what `kmbench compare` tests
 *   <cell>.alloc.hgrm, <cell>.free.hgrm   merged histograms, HdrHistogram text
 *   <cell>.samples.csv                    kmb_replay_write_samples of the last repetition
 *   sizeclass.csv     latency percentiles by requested size class, merged repetitions
 *
 * Latency percentiles in summary.csv are medians of each repetition's percentile (a
 * typical repetition); the .hgrm files hold the histogram of all repetitions together.
 */
#include "run.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "results/results.h"

struct cell_sum {
	unsigned n;
	double ops_med, ops_min, ops_max, ops_cv, sec_med;
	double a50, a99, a999, f50, f99, f999, footprint;
};

typedef double (*rep_field)(const struct run_rep *p);

static double rf_ops(const struct run_rep *p)
{
	return p->ops_per_sec;
}
static double rf_sec(const struct run_rep *p)
{
	return p->seconds;
}
static double rf_a50(const struct run_rep *p)
{
	return (double)p->a50;
}
static double rf_a99(const struct run_rep *p)
{
	return (double)p->a99;
}
static double rf_a999(const struct run_rep *p)
{
	return (double)p->a999;
}
static double rf_f50(const struct run_rep *p)
{
	return (double)p->f50;
}
static double rf_f99(const struct run_rep *p)
{
	return (double)p->f99;
}
static double rf_f999(const struct run_rep *p)
{
	return (double)p->f999;
}
static double rf_fp(const struct run_rep *p)
{
	return (double)p->peak_footprint;
}

static double rep_median(const struct run *r, const struct run_cell *c, rep_field f)
{
	double v[1000];
	unsigned n = 0;

	for (unsigned i = 0; i < r->reps && n < 1000; i++)
		if (c->rep[i].ok)
			v[n++] = f(&c->rep[i]);
	return kmb_median(v, n);
}

static void summarize(const struct run *r, const struct run_cell *c, struct cell_sum *s)
{
	double sum = 0, sq = 0, mean;

	memset(s, 0, sizeof(*s));
	s->ops_min = INFINITY;
	for (unsigned i = 0; i < r->reps; i++) {
		double v = c->rep[i].ops_per_sec;

		if (!c->rep[i].ok)
			continue;
		s->n++;
		sum += v;
		sq += v * v;
		s->ops_min = fmin(s->ops_min, v);
		s->ops_max = fmax(s->ops_max, v);
	}
	if (s->n == 0)
		return;
	mean = sum / s->n;
	s->ops_cv = mean > 0 ? 100.0 * sqrt(fmax(0, sq / s->n - mean * mean)) / mean : 0;
	s->ops_med = rep_median(r, c, rf_ops);
	s->sec_med = rep_median(r, c, rf_sec);
	s->a50 = rep_median(r, c, rf_a50);
	s->a99 = rep_median(r, c, rf_a99);
	s->a999 = rep_median(r, c, rf_a999);
	s->f50 = rep_median(r, c, rf_f50);
	s->f99 = rep_median(r, c, rf_f99);
	s->f999 = rep_median(r, c, rf_f999);
	s->footprint = rep_median(r, c, rf_fp);
}

/* Sum of the backend's counters whose name says "reserve" (buddy reserve_alloc, the vmem
 * page source's pages_reserve, ...): allocations below the min watermark. */
static uint64_t reserve_allocs(const struct kmb_replay_result *res)
{
	uint64_t n = 0;

	for (size_t i = 0; i < res->nstats; i++)
		if (strstr(res->stats[i].name, "reserve") &&
		    strcmp(res->stats[i].unit, "events") == 0)
			n += res->stats[i].value;
	return n;
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

static int close_out(struct kmb_file *kf)
{
	int rc = kmb_file_commit(kf);

	if (rc != 0)
		fprintf(stderr, "kmbench run: cannot write %s: %s\n", kf->path, strerror(-rc));
	return rc;
}

static const char summary_header[] =
        "backend,workload,repetitions,ops_per_sec_median,ops_per_sec_min,ops_per_sec_max,"
        "ops_per_sec_cv_pct,alloc_p50_ns,alloc_p99_ns,alloc_p999_ns,free_p50_ns,free_p99_ns,"
        "free_p999_ns,peak_live_bytes_req,peak_live_bytes_alloc,peak_footprint_bytes,"
        "internal_frag_pct,failed_allocs,threads,replicate,repeat,failed_repetitions,"
        "seconds_median,ops,mem_bytes,jw_footprint_at_peak_ratio,jw_peak_footprint_ratio,"
        "extfrag_unusable_pct,sleeps,nofail_retries,reserve_allocs,deadlocks,cross_cpu_frees,"
        "alloc_mean_ns,free_mean_ns,error\n";

static void summary_row(FILE *f, const struct run *r, const struct run_cell *c)
{
	const struct run_frames *fr = &r->frames[(size_t)c->b * r->nwl + c->w];
	const struct kmb_replay_result *x = c->last;
	struct cell_sum s;

	summarize(r, c, &s);
	kmb_csv_field(f, r->backends[c->b]);
	fprintf(f, ",%s,%u,", r->wl[c->w].name, s.n);
	if (x != NULL)
		fprintf(f,
		        "%.0f,%.0f,%.0f,%.2f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%" PRIu64 ",%" PRIu64
		        ",%.0f,%.3f,%" PRIu64,
		        s.ops_med, s.ops_min, s.ops_max, s.ops_cv, s.a50, s.a99, s.a999, s.f50,
		        s.f99, s.f999, x->peak_live_bytes_req, x->peak_live_bytes_alloc,
		        s.footprint, x->internal_frag_pct, x->failed_allocs);
	else
		fputs(",,,,,,,,,,,,,,", f);
	fprintf(f, ",%u,%u,%u,%u,", c->threads, c->replicate, r->wl[c->w].repeat, c->nfailed);
	if (x != NULL)
		fprintf(f, "%.6f,%" PRIu64 ",%" PRIu64 ",%.4f,%.4f,", s.sec_med, x->ops,
		        x->mem_bytes, x->jw_footprint_at_peak_ratio, x->jw_peak_footprint_ratio);
	else
		fputs(",,,,,", f);
	if (fr->done && fr->rc == 0)
		fprintf(f, "%.2f", fr->unusable_pct);
	if (x != NULL)
		fprintf(f,
		        ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.1f,%.1f,",
		        x->mem.sleeps, x->mem.nofail_retries, reserve_allocs(x), x->mem.deadlocks,
		        x->cross_cpu_frees, kmb_hist_mean(&x->alloc_ns),
		        kmb_hist_mean(&x->free_ns));
	else
		fputs(",,,,,,,,", f);
	kmb_csv_field(f, c->error);
	fputc('\n', f);
}

static int write_summary(const struct run *r)
{
	struct kmb_file kf;
	FILE *f = open_out(r, "summary.csv", &kf);

	if (f == NULL)
		return -errno;
	fputs(summary_header, f);
	for (size_t i = 0; i < r->ncells; i++)
		if (r->cells[i].nok + r->cells[i].nfailed > 0)
			summary_row(f, r, &r->cells[i]);
	return close_out(&kf);
}

static int write_reps(const struct run *r)
{
	struct kmb_file kf;
	FILE *f = open_out(r, "repetitions.csv", &kf);

	if (f == NULL)
		return -errno;
	fputs("backend,workload,repetition,ok,ops_per_sec,alloc_p50_ns,alloc_p99_ns,free_p50_ns,"
	      "free_p99_ns,peak_footprint_bytes,threads,alloc_p999_ns,free_p999_ns,seconds\n",
	      f);
	for (size_t i = 0; i < r->ncells; i++) {
		const struct run_cell *c = &r->cells[i];

		for (unsigned k = 0; k < r->reps; k++) {
			const struct run_rep *p = &c->rep[k];

			if (!p->ran)
				continue; /* never ran (interrupted) */
			kmb_csv_field(f, r->backends[c->b]);
			fprintf(f,
			        ",%s,%u,%d,%.0f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			        ",%" PRIu64 ",%u,%" PRIu64 ",%" PRIu64 ",%.6f\n",
			        r->wl[c->w].name, k + 1, p->ok, p->ops_per_sec, p->a50, p->a99,
			        p->f50, p->f99, p->peak_footprint, c->threads, p->a999, p->f999,
			        p->seconds);
		}
	}
	return close_out(&kf);
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
	if (kmb_hist_write_hgrm(h, f) != 0) {
		kmb_file_abort(&kf);
		return -EIO;
	}
	return close_out(&kf);
}

static int write_samples(const struct run *r, const struct run_cell *c)
{
	char name[512];
	struct kmb_file kf;
	FILE *f;

	snprintf(name, sizeof(name), "%s.samples.csv", c->name);
	if ((f = open_out(r, name, &kf)) == NULL)
		return -errno;
	if (kmb_replay_write_samples(f, c->last) != 0) {
		kmb_file_abort(&kf);
		return -EIO;
	}
	return close_out(&kf);
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
	return close_out(&kf);
}

int run_write_summaries(struct run *r)
{
	int rc = 0;

	if (write_summary(r) != 0 || write_reps(r) != 0 || write_sizeclass(r) != 0)
		rc = -EIO;
	for (size_t i = 0; i < r->ncells; i++) {
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

static void table_row(FILE *out, const struct run *r, const struct run_cell *c)
{
	const struct kmb_replay_result *x = c->last;
	struct cell_sum s;

	if (x == NULL) {
		fprintf(out, "  %-12s (no repetition succeeded: %.80s)\n", r->backends[c->b],
		        c->error[0] ? c->error : "not run");
		return;
	}
	summarize(r, c, &s);
	fprintf(out,
	        "  %-12s %4u %12.0f %6.2f %9.0f %9.0f %8.0f %8.0f %9.2fM %7.2f %6.3f %8" PRIu64
	        "\n",
	        r->backends[c->b], s.n, s.ops_med, s.ops_cv, s.a50, s.a99, s.f50, s.f99,
	        s.footprint / (1 << 20), x->internal_frag_pct, x->jw_peak_footprint_ratio,
	        x->failed_allocs);
}

void run_print_table(FILE *out, struct run *r)
{
	for (unsigned w = 0; w < r->nwl; w++)
		for (unsigned t = 0; t < r->nthreads; t++) {
			fprintf(out, "\n%s, %u thread%s (%s)\n", r->wl[w].name, r->threads[t],
			        r->threads[t] == 1 ? "" : "s",
			        r->wl[w].replicate && r->threads[t] > 1 ? "a copy of the trace each"
			                                                : "its CPU streams");
			fprintf(out, "  %-12s %4s %12s %6s %9s %9s %8s %8s %10s %7s %6s %8s\n",
			        "backend", "reps", "ops/s median", "cv%", "alloc p50", "alloc p99",
			        "free p50", "free p99", "footprint", "ifrag%", "J&W", "failed");
			for (unsigned b = 0; b < r->nbackends; b++)
				table_row(out, r, run_cell_at(r, b, w, t));
		}
}
