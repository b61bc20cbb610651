/*
 * results/report.h - the report as a list of blocks (headings, paragraphs, list items,
 * tables, images, code) built from a results directory, and the loaded directory the
 * builders share.  Private to results/.  By concern:
 *
 *   report.c         loading the directory, numbers as text, the setup, the order of
 *                    the sections, writing the two files
 *   report_rank.c    analysis: best and worst, the ranking throughput (wall or CPU time,
 *                    whichever has the lower CV), the rankings with ties and CV flags
 *   report_find.c    the figures and one finding per workload under each
 *   report_tables.c  vmstat -m, behaviour under memory exhaustion, failures
 *   report_design.c  fidelity to the traced kernel; the slub / slub-sheaves / slab finding
 *   report_md.c, report_html.c   the two renderers of the blocks
 */
#ifndef KMB_RESULTS_REPORT_H
#define KMB_RESULTS_REPORT_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "results/results.h"

enum kmb_rblock_kind {
	KMB_RB_HEADING, /* level 1..3 */
	KMB_RB_PARA,
	KMB_RB_ITEM, /* a bullet; consecutive items form one list */
	KMB_RB_TABLE,
	KMB_RB_IMAGE, /* file relative to the results directory, text = alt */
	KMB_RB_CODE,  /* preformatted */
};

struct kmb_rtable {
	size_t ncols, ncells, cap;
	char **cell; /* row-major, the first ncols are the header */
	char *align; /* 'l' or 'r' per column */
};

struct kmb_rblock {
	int kind, level;
	char *text, *file;
	struct kmb_rtable *table;
};

struct kmb_rdoc {
	struct kmb_rblock *b;
	size_t n, cap;
	bool nomem;
	char title[256];
};

void kmb_rdoc_heading(struct kmb_rdoc *d, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void kmb_rdoc_para(struct kmb_rdoc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kmb_rdoc_item(struct kmb_rdoc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kmb_rdoc_code(struct kmb_rdoc *d, const char *text);
void kmb_rdoc_image(struct kmb_rdoc *d, const char *file, const char *alt);
/* A table; headers separated by '|', align one 'l' or 'r' per column. */
struct kmb_rtable *kmb_rdoc_table(struct kmb_rdoc *d, const char *headers, const char *align);
void kmb_rtable_cell(struct kmb_rtable *t, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
size_t kmb_rtable_rows(const struct kmb_rtable *t); /* body rows */
void kmb_rdoc_free(struct kmb_rdoc *d);

/* Renderers: 0 or -EIO.  The HTML embeds each image (dir/file) as a data: URI. */
int kmb_report_md(const struct kmb_rdoc *d, FILE *out);
int kmb_report_html(const struct kmb_rdoc *d, const char *dir, FILE *out);

/* ---- the loaded results directory (report.c) ------------------------------------------ */

#define KMB_REPORT_ALPHA 0.05 /* ties: Mann-Whitney p at or above this */

struct kmb_report_vals {
	double *v; /* the ranking throughput of each successful repetition of a cell */
	size_t n, cap;
};

struct kmb_report {
	const char *dir;
	struct kmb_jv run;
	struct kmb_csv sum, size, frames, reps;
	bool has_run, has_size, has_frames, has_reps;
	/* backends, workloads and thread counts: run.json's, then any others in
	 * summary.csv; arrays grown as needed (no limit) */
	const char **b, **w;
	unsigned *t;
	unsigned nb, nw, nt;
	size_t *cell_row;               /* [(b * nw + w) * nt + t]: summary.csv row, 0 none */
	struct kmb_report_vals *cell_v; /* same index: repetitions.csv values of r->thr */
	const char *thr;                /* the ranking's column: ops_per_sec or ops_per_cpu_sec */
	double cv_wall, cv_cpu;         /* median CV (%) of each over the base cells */
	struct kmb_rdoc d;
};

/* summary.csv row of backend b, workload w, thread count index t, with at least one good
 * repetition, or 0; O(1). */
size_t kmb_report_row(const struct kmb_report *r, unsigned b, unsigned w, unsigned t);
/* A column of a summary row (NAN if none); reads run directories of earlier versions
 * too (ops_per_sec_median, a schema alias). */
double kmb_report_num(const struct kmb_report *r, size_t rw, const char *col);
/* The per-pass value of a counter summed over a repetition's passes. */
double kmb_report_per_pass(const struct kmb_report *r, size_t rw, const char *col);
bool kmb_report_file_exists(const struct kmb_report *r, const char *name);
/* Numbers as text into buf (32 bytes): "120 ns", "1.50 MiB", "2.31 M", counts, decimals. */
const char *kmb_rf_ns(char *buf, double ns);
const char *kmb_rf_bytes(char *buf, double b);
const char *kmb_rf_ops(char *buf, double ops);
const char *kmb_rf_count(char *buf, double v);
const char *kmb_rf_num(char *buf, double v, int decimals);

/* ---- analysis (report_rank.c) ----------------------------------------------------------- */

struct kmb_extremes {
	int lo, hi; /* backend indices, -1 if none */
	double vlo, vhi;
	unsigned n;
};
typedef double (*kmb_metric_fn)(const struct kmb_report *r, size_t rw, const void *arg);
double kmb_report_m_col(const struct kmb_report *r, size_t rw, const void *arg); /* arg: column */
/* Lowest and highest of f over the backends of workload w at the base thread count. */
struct kmb_extremes kmb_report_extremes(const struct kmb_report *r, unsigned w, kmb_metric_fn f,
                                        const void *arg);
static inline double kmb_ratio(double a, double b)
{
	return b > 0 ? a / b : NAN;
}
/* Every backend has the same value: nothing to rank. */
static inline bool kmb_extremes_same(const struct kmb_extremes *e)
{
	return e->vhi - e->vlo <= 1e-9 * (e->vhi < 0 ? -e->vhi : e->vhi);
}
/* Chooses r->thr (before the repetitions are indexed), then: the CV column of r->thr. */
void kmb_report_choose_throughput(struct kmb_report *r);
const char *kmb_report_cv_col(const struct kmb_report *r);
/* The cells of workload w (base thread count) whose r->thr CV is above KMB_CV_FLAG_PCT, as
 * "a, b" into buf; the number of them. */
unsigned kmb_report_noisy(const struct kmb_report *r, unsigned w, char *buf, size_t len);
void kmb_report_ranking(struct kmb_report *r); /* overall, then per workload */

/* ---- figures and findings (report_find.c), tables (report_tables.c) --------------------- */

void kmb_report_figures(struct kmb_report *r);
void kmb_report_frames(struct kmb_report *r);
void kmb_report_vmstat(struct kmb_report *r);
void kmb_report_exhaust(struct kmb_report *r);
void kmb_report_failures(struct kmb_report *r);
/* report_design.c: fidelity to the traced kernel, and slub vs slub-sheaves vs slab */
void kmb_report_fidelity(struct kmb_report *r);
void kmb_report_slub_finding(struct kmb_report *r);

#endif /* KMB_RESULTS_REPORT_H */
