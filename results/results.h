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
	FILE *fp;
	char path[PATH_MAX];
	char tmp[PATH_MAX];
};

/* Opens "<path>.tmp.<pid>" for writing; NULL with errno set on failure. */
FILE *kmb_file_create(const char *path, struct kmb_file *f);
/* fflush + fsync + fclose + rename to path (+ fsync of the directory); 0 or -errno.  On
 * failure the temporary file is removed. */
int kmb_file_commit(struct kmb_file *f);
/* Closes and removes the temporary file. */
void kmb_file_abort(struct kmb_file *f);
/* mkdir -p (mode 0777 & ~umask); 0 or -errno (-ENOTDIR if a component is a file). */
int kmb_mkdir_p(const char *path);
/*
 * Creates root (if needed) and a new root/<YYYYmmdd-HHMMSS> (local time), or
 * "...-2", "...-3", ... if that exists: mkdir's EEXIST decides, so concurrent runs
 * never share a directory.  The path goes to out; 0, -ENAMETOOLONG or -errno.
 */
int kmb_run_dir_create(const char *root, char *out, size_t outlen);

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

#endif /* KMB_RESULTS_RESULTS_H */
