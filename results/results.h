/*
 * results/results.h - writing results: JSON, atomic files, run directories, plots.
 *
 * Everything returns errors as values (0 or -errno) and writes only through stdio, so
 * a result is either complete on disk or absent: files are written to "<path>.tmp.<pid>"
 * and renamed into place by kmb_file_commit() after fsync.
 */
#ifndef KMB_RESULTS_RESULTS_H
#define KMB_RESULTS_RESULTS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/hist.h"

/* ---- json.c: a streaming JSON writer -------------------------------------------------- */

#define KMB_JSON_MAX_DEPTH 64

/*
 * Pretty-printed (2-space indents, "key": value), one value per line, empty containers
 * as {} and [].  key is required inside objects and must be NULL elsewhere.  Misuse
 * (a missing or stray key, unbalanced ends, nesting deeper than KMB_JSON_MAX_DEPTH, a
 * second top-level value) writes nothing and is reported by kmb_json_end() as -EINVAL.
 * Strings: '"', '\\' and control characters are escaped (\n \t \r \b \f or \u00XX);
 * bytes that are not valid UTF-8 (stray continuation bytes, overlong forms,
 * surrogates, > U+10FFFF, truncated sequences) are each replaced by \ufffd, so the
 * output is always valid UTF-8 JSON.  NaN and infinities are written as null.
 */
struct kmb_json {
	FILE *out;
	unsigned depth;
	int err;           /* first error: -EINVAL (misuse); stream errors are found at the end */
	uint64_t is_obj;   /* bit d: the container at depth d + 1 is an object */
	uint64_t nonempty; /* bit d: the container at depth d + 1 has a member */
	bool wrote_top;    /* the one top-level value has been started */
};

void kmb_json_begin(struct kmb_json *j, FILE *out);
void kmb_json_obj_begin(struct kmb_json *j, const char *key);
void kmb_json_obj_end(struct kmb_json *j);
void kmb_json_arr_begin(struct kmb_json *j, const char *key);
void kmb_json_arr_end(struct kmb_json *j);
void kmb_json_str(struct kmb_json *j, const char *key, const char *s); /* NULL s: null */
void kmb_json_u64(struct kmb_json *j, const char *key, uint64_t v);
void kmb_json_i64(struct kmb_json *j, const char *key, int64_t v);
void kmb_json_dbl(struct kmb_json *j, const char *key, double v);
void kmb_json_bool(struct kmb_json *j, const char *key, bool v);
void kmb_json_null(struct kmb_json *j, const char *key);
/* {"count", "mean", "p50", "p90", "p99", "p999", "max", "min"}, all in ns. */
void kmb_json_hist(struct kmb_json *j, const char *key, const struct kmb_hist *h);
/* Ends the document with a newline; 0, -EINVAL (misuse) or -EIO (stream error). */
int kmb_json_end(struct kmb_json *j);

/* ---- file.c: atomic result files and run directories --------------------------------- */

struct kmb_file {
	FILE *fp; /* writes to fd, recording the errno of a failed write(2) in werr */
	int fd;
	int werr; /* the first write(2) error: ENOSPC, not stdio's bare error flag */
	char path[PATH_MAX];
	char tmp[PATH_MAX];
	bool direct; /* path is a device, FIFO or socket: written in place (file.c) */
};

/* Opens "<path>.tmp.<pid>" for writing, or path itself when it exists and is not a
 * regular file (-o /dev/null, a FIFO); NULL with errno set on failure. */
FILE *kmb_file_create(const char *path, struct kmb_file *f);
/* fflush + fsync + fclose + rename to path (+ fsync of the directory); 0 or -errno.  On
 * failure the temporary file is removed. */
int kmb_file_commit(struct kmb_file *f);
/* Closes and removes the temporary file. */
void kmb_file_abort(struct kmb_file *f);
/* After writing: rc 0 commits (kmb_file_commit), else aborts.  Returns 0 or -errno, the
 * real errno of a failed write (-ENOSPC) rather than rc's -EIO when there was one. */
int kmb_file_finish(struct kmb_file *f, int rc);
/* mkdir -p (mode 0777 & ~umask); 0 or -errno (-ENOTDIR if a component is a file). */
int kmb_mkdir_p(const char *path);
/*
 * Creates root (if needed) and a new root/<YYYYmmdd-HHMMSS> (local time), or
 * "...-2", "...-3", ... if that exists: mkdir's EEXIST decides, so concurrent runs
 * never share a directory.  The path goes to out; 0, -ENAMETOOLONG or -errno.
 */
int kmb_run_dir_create(const char *root, char *out, size_t outlen);

/* ---- script_tag.c: which gnuplot scripts kmbench wrote (keyed tags in run.json) -------- */

/* SipHash-2-4 of data under key. */
uint64_t kmb_siphash24(const uint8_t key[16], const void *data, size_t len);
/* The user's private script key (created if create and absent); 0 or -errno with err. */
int kmb_script_key(uint8_t key[16], bool create, char *err, size_t errlen);
/* The tag of the file at path as 16 hex digits; 0 or -errno (-EFBIG beyond 16 MiB). */
int kmb_script_tag(const uint8_t key[16], const char *path, char hex[17]);
/* The .gp files of dir, sorted (kmb_free_names them); 0 or -errno. */
int kmb_list_scripts(const char *dir, char ***names, size_t *n);
void kmb_free_names(char **names, size_t n);
/* "scripts": {"<name>.gp": "<tag>", ...} for the .gp files of dir ({} if key is NULL). */
void kmb_json_script_tags(struct kmb_json *j, const char *dir, const uint8_t key[16]);

/* ---- plot.c: gnuplot ---------------------------------------------------------------- */

/*
 * Runs gnuplot on script_path with its directory as cwd, without a shell.  gnuplot is
 * $KMB_GNUPLOT if set, else the one found at configure time, else "gnuplot" in PATH.
 * Returns 0; -ENOENT if gnuplot cannot be run (err: "gnuplot not found: apt-get install
 * gnuplot-nox"); -EIO if it failed (err: its stderr); other -errno (pipe, spawn).
 */
int kmb_plot_render(const char *script_path, char *err, size_t errlen);
/*
 * Writes dir/<basename>.dat (one block per series, gnuplot "index" i: the .hgrm rows
 * value ns, percentile, count, 1/(1-p), without the 100% row) and dir/<basename>.gp (a
 * script to re-render or tweak: latency vs percentile, log-log, one line per series,
 * to <basename>.png and <basename>.svg), then renders.  The files are written even if
 * rendering fails.  Returns as kmb_plot_render, or -errno writing the files.
 */
int kmb_plot_latency(const char *dir, const char *const *series_names,
                     const struct kmb_hist *const *hists, size_t n, const char *title,
                     const char *basename, char *err, size_t errlen);

/* A gnuplot single-quoted string: ' doubles, control characters become spaces (plot.c). */
void kmb__gp_quoted(FILE *out, const char *s);

/* ---- figure.c: multi-panel gnuplot figures ------------------------------------------ */

/*
 * A figure is a grid of panels, each with series of points, written as <basename>.dat
 * (one block per panel and series, gnuplot "index i", a comment naming it) and
 * <basename>.gp, which renders <basename>.png and <basename>.svg from it; edit the script
 * and run `gnuplot <basename>.gp` in the directory to re-render.
 */
enum kmb_fig_style {
	KMB_FIG_LINES,       /* lines */
	KMB_FIG_LINESPOINTS, /* lines with a point at each x */
	KMB_FIG_ERRORLINES,  /* lines with points and ylo..yhi bars */
	KMB_FIG_BOXES,       /* bars of width boxwidth centred on x */
};

enum kmb_fig_key { KMB_FIG_KEY_NONE, KMB_FIG_KEY_INSIDE, KMB_FIG_KEY_OUTSIDE };

struct kmb_fig_series {
	const char *name; /* key entry; NULL for none */
	size_t n;
	const double *x, *y;
	const double *ylo, *yhi; /* KMB_FIG_ERRORLINES */
	unsigned color;          /* kmb_fig_color() index: one backend, one colour */
	bool dashed;
	int style;       /* enum kmb_fig_style */
	double boxwidth; /* KMB_FIG_BOXES, in x units */
};

struct kmb_fig_panel {
	const char *title, *xlabel, *ylabel;
	bool logx, logy;
	const char *xtics; /* gnuplot tics, e.g. "('16' 0, '32' 1)", or NULL for automatic */
	const char *extra; /* further gnuplot commands for the panel (one per line), or NULL */
	int key;           /* enum kmb_fig_key */
	const struct kmb_fig_series *series;
	size_t nseries;
};

struct kmb_fig {
	const char *basename, *title;
	unsigned rows, cols, width, height; /* the grid; pixels of the whole figure */
	const struct kmb_fig_panel *panels;
	size_t npanels;
};

/* Series i's colour: "#f3c300"..., Kelly's 20 colours of maximum contrast, cycled;
 * KMB_FIG_BLACK: black.  kmb_fig_dash: its gnuplot dash type, distinct with the colour for
 * 40 series (dashed: the dashed variant). */
#define KMB_FIG_BLACK 0xffffffffu
const char *kmb_fig_color(unsigned i);
int kmb_fig_dash(unsigned i, bool dashed);
/* y tics of a latency axis in ns: "('1 ns' 1, ..., '10 s' 1e10)", a gnuplot tic list. */
extern const char kmb_fig_latency_ytics[];
/* Writes the data and the script, then renders (kmb_plot_render); the files are written
 * even if rendering fails.  0, -EINVAL (bad basename), -errno, or as kmb_plot_render. */
int kmb_fig_write(const char *dir, const struct kmb_fig *f, char *err, size_t errlen);

/*
 * The picture of physical memory: one panel per image, each a file of one byte per page
 * frame (enum kmb_frame_kind, kmbench/backend.h) drawn as width x height pixels, frame 0
 * top left, rows of `width` frames; a discrete palette and a key of the kinds present
 * (present[k] true) in the last cell.
 */
struct kmb_frames_panel {
	const char *title;
	const char *file; /* relative to dir */
	unsigned width, height;
};
const char *kmb_frame_kind_label(unsigned kind); /* "free, order 3", "slab (full)", ... */
/* Whether figure.c's table has a line for the kind (others are drawn as "unknown"). */
bool kmb_frame_kind_declared(unsigned kind);
const char *kmb_frame_kind_color(unsigned kind);
const char *kmb_frame_kind_key(unsigned kind); /* frames.csv column: "free_o3", "slab_full" */
int kmb_plot_frames(const char *dir, const char *basename, const char *title,
                    const struct kmb_frames_panel *panels, size_t n, const bool *present, char *err,
                    size_t errlen);

/* ---- csv.c: reading the CSV files kmbench writes -------------------------------------- */

/*
 * Comma-separated, first row the header, a field with a comma or a double quote quoted as
 * RFC 4180 says (kmb_csv_field()), '\n' or "\r\n" line ends, empty lines skipped.
 */
struct kmb_csv {
	char *buf;
	char **cell; /* nrows * ncols (row 0 = header); short rows padded with "" */
	size_t nrows, ncols;
};
int kmb_csv_load(const char *path, struct kmb_csv *c); /* 0 or -errno (-EINVAL: empty) */
void kmb_csv_free(struct kmb_csv *c);
int kmb_csv_col(const struct kmb_csv *c, const char *name); /* column index or -1 */
/* Row r (1 .. nrows - 1), column name: the text ("" if no such column). */
const char *kmb_csv_get(const struct kmb_csv *c, size_t r, const char *name);
double kmb_csv_num(const struct kmb_csv *c, size_t r, const char *name); /* NAN if not a number */
/* Write s as a field: quoted if it holds ',' or '"'; control characters become ' '. */
void kmb_csv_field(FILE *out, const char *s);

/* ---- jsonr.c: reading JSON ------------------------------------------------------------- */

enum kmb_jv_type { KMB_JV_NULL, KMB_JV_BOOL, KMB_JV_NUM, KMB_JV_STR, KMB_JV_ARR, KMB_JV_OBJ };

/* A parsed value: objects and arrays keep their members in order (n, kid[]). */
struct kmb_jv {
	int type;
	bool b;
	double num;
	char *str;          /* KMB_JV_STR: UTF-8, NUL-terminated (an escaped NUL ends it) */
	char *key;          /* member of an object: its key */
	struct kmb_jv *kid; /* KMB_JV_ARR, KMB_JV_OBJ */
	size_t n;
};

/* RFC 8259, nesting at most 256 deep; 0, or -EINVAL with "line N: reason" in err. */
int kmb_jv_parse(const char *text, size_t len, struct kmb_jv *out, char *err, size_t errlen);
int kmb_jv_load(const char *path, struct kmb_jv *out, char *err, size_t errlen);
void kmb_jv_free(struct kmb_jv *v);
const struct kmb_jv *kmb_jv_get(const struct kmb_jv *obj, const char *key); /* NULL if none */
double kmb_jv_num(const struct kmb_jv *obj, const char *key, double dflt);
const char *kmb_jv_str(const struct kmb_jv *obj, const char *key, const char *dflt);
bool kmb_jv_bool(const struct kmb_jv *obj, const char *key, bool dflt);
/* Writes v (whole numbers as integers) as member key (NULL in an array) of the JSON being
 * written. */
void kmb_json_jv(struct kmb_json *j, const char *key, const struct kmb_jv *v);

/* ---- stats.c: medians and the Mann-Whitney U test -------------------------------------- */

double kmb_median(const double *v, size_t n); /* NAN when n == 0 */

/* Median, extremes and coefficient of variation (sample standard deviation over the
 * mean, %; 0 for one value, NAN for a zero mean) of the finite values of v. */
struct kmb_spread {
	size_t n;
	double median, min, max, mean, cv_pct;
};
void kmb_spread(const double *v, size_t n, struct kmb_spread *out);
#define KMB_CV_FLAG_PCT 10.0 /* kmbench run flags a cell whose CV is above this */

struct kmb_mwu {
	double u;    /* U of the first sample: pairs (x, y) with x > y, ties counting 1/2 */
	double p;    /* two-sided p-value */
	double z;    /* the normal approximation's z (0 when exact) */
	bool exact;  /* exact distribution (no ties, n1, n2 <= KMB_MWU_EXACT_MAX) */
	double pmin; /* the smallest p-value these sample sizes can give */
};
#define KMB_MWU_EXACT_MAX 50
/* Two-sided Mann-Whitney U test of x against y; -EINVAL if a sample is empty. */
int kmb_mann_whitney(const double *x, size_t n1, const double *y, size_t n2, struct kmb_mwu *out);

/* ---- report.c, report_md.c, report_html.c: the design-decision report ------------------ */

/*
 * Reads a results directory of `kmbench run` (run.json, summary.csv, sizeclass.csv,
 * frames.csv, the replay JSON files and the rendered plots) and writes report.md and a
 * self-contained report.html (plots embedded as PNG data URIs) into it.  0 or -errno
 * (err says which file).
 */
int kmb_report_write(const char *dir, char *err, size_t errlen);
/*
 * s for a POSIX shell, appended at buf[at] (as much as fits, NUL-terminated): as is if it
 * is non-empty and only letters, digits and _@%+=:,./-, else in single quotes (a ' as
 * '\'').  Returns the position after it as if buf were large enough (snprintf-style).
 */
size_t kmb_shell_quote(char *buf, size_t len, size_t at, const char *s);
/* argv[0..n) shell-quoted, separated by spaces, into buf; the length it needs. */
size_t kmb_shell_join(char *buf, size_t len, const char *const *argv, size_t n);

#endif /* KMB_RESULTS_RESULTS_H */
