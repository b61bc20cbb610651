/*
 * bench/merge_cmd.c - `kmbench merge DIR... -o OUT`: one results directory from the N
 * shards of a run (`kmbench run --shard K/N`, run.c), as a single run would have written.
 *
 * 1. Every DIR is a shard's results directory: run.json with "shard": {"k", "n"}.  The
 *    shards must be all N of one run: the same n, each k once, and the same settings -
 *    the run.json members of SAME_KEYS (seed, backends, workloads with their sources and
 *    sizes, threads, repetitions, operations, memory, warmup, topology, INVARIANTS, and
 *    the kmbench that ran them).  Anything else is refused with the member that differs
 *    and the two directories, exit 2; nothing is written.
 * 2. OUT must not exist yet (or be an empty directory).  Each shard's files of its own
 *    cells are copied: replay/<cell>-r<k>.json, <cell>.{alloc,free}.hgrm,
 *    <cell>.samples.csv, frames/<backend>-<workload>.bin; the shards slice the cells, so
 *    a name found in two shards means they overlap: refused.  frames.csv and sizeclass.csv
 *    are the shards' rows under one header.
 * 3. run.json is the first shard's, without "shard", with "merged_from" (the directories),
 *    the jobs summed, and complete only if every shard was.  Then the run is rebuilt from
 *    the replay JSON as `kmbench plot` rebuilds a killed run (run_rebuild.c, merged mode):
 *    summary.csv, repetitions.csv, the figures and the pictures of memory, and the report.
 *    Every plot is redrawn: latency from the .hgrm files, size classes from sizeclass.csv
 *    (the p99 it draws), footprint from the samples.csv files (run_plots.c, run_rebuild.c).
 */
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results/results.h"

#define MERGE_MAX 1000 /* --shard's N */

static const char merge_usage[] =
        "usage: kmbench merge DIR... -o OUT\n\n"
        "Join the results directories of the N shards of one run (kmbench run --shard K/N\n"
        "with the same settings and --seed) into OUT, a results directory whose summary,\n"
        "figures and report are those of the whole run.\n"
        "  -o, --out OUT   the merged directory (must not exist, or be empty)\n"
        "Every plot is redrawn from the shards' files (replay JSON, .hgrm, samples,\n"
        "sizeclass.csv, frames).\n";

static const char *const same_keys[] = {"kmbench_version", "git_commit",  "seed",
                                        "quick",           "repetitions", "ops_per_repetition",
                                        "warmup",          "mem_bytes",   "topology_option",
                                        "invariants",      "threads",     "backends",
                                        "workloads"};

struct shard {
	const char *dir;
	struct kmb_jv run;
	unsigned k, n;
};

/* ---- checking the shards -------------------------------------------------------------- */

static bool jv_equal(const struct kmb_jv *a, const struct kmb_jv *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type || a->n != b->n)
		return false;
	if (a->type == KMB_JV_NUM)
		return a->num == b->num;
	if (a->type == KMB_JV_STR)
		return strcmp(a->str, b->str) == 0;
	if (a->type != KMB_JV_ARR && a->type != KMB_JV_OBJ)
		return a->b == b->b;
	for (size_t i = 0; i < a->n; i++)
		if ((a->type == KMB_JV_OBJ && strcmp(a->kid[i].key, b->kid[i].key) != 0) ||
		    !jv_equal(&a->kid[i], &b->kid[i]))
			return false;
	return true;
}

static int load_shard(struct shard *s)
{
	char path[PATH_MAX], err[PATH_MAX + 100];
	const struct kmb_jv *sh;
	double k, n;

	snprintf(path, sizeof(path), "%s/run.json", s->dir);
	if (kmb_jv_load(path, &s->run, err, sizeof(err)) != 0) {
		fprintf(stderr, "kmbench merge: %s\n", err);
		return 2;
	}
	sh = kmb_jv_get(&s->run, "shard");
	k = kmb_jv_num(sh, "k", 0);
	n = kmb_jv_num(sh, "n", 0);
	if (sh == NULL || !(n >= 1 && n <= MERGE_MAX && k >= 1 && k <= n)) {
		fprintf(stderr,
		        "kmbench merge: %s: not a shard (run.json has no \"shard\": run "
		        "it with kmbench run --shard K/N)\n",
		        path);
		return 2;
	}
	if (kmb_run_died(&s->run)) {
		fprintf(stderr,
		        "kmbench merge: %s: the shard was killed before it finished "
		        "(kmbench plot %s completes it; run it again to merge)\n",
		        path, s->dir);
		return 2;
	}
	s->k = (unsigned)k;
	s->n = (unsigned)n;
	return 0;
}

static int check_shards(const struct shard *s, size_t n)
{
	bool seen[MERGE_MAX + 1] = {false};

	for (size_t i = 0; i < n; i++) {
		for (size_t m = 0; m < sizeof(same_keys) / sizeof(same_keys[0]); m++)
			if (!jv_equal(kmb_jv_get(&s[0].run, same_keys[m]),
			              kmb_jv_get(&s[i].run, same_keys[m]))) {
				fprintf(stderr,
				        "kmbench merge: %s and %s are not shards of one run: their "
				        "\"%s\" differ\n",
				        s[0].dir, s[i].dir, same_keys[m]);
				return 2;
			}
		if (s[i].n != s[0].n) {
			fprintf(stderr, "kmbench merge: %s is shard %u/%u, %s shard %u/%u\n",
			        s[0].dir, s[0].k, s[0].n, s[i].dir, s[i].k, s[i].n);
			return 2;
		}
		if (seen[s[i].k]) {
			fprintf(stderr, "kmbench merge: shard %u/%u given twice (%s)\n", s[i].k,
			        s[i].n, s[i].dir);
			return 2;
		}
		seen[s[i].k] = true;
	}
	for (unsigned k = 1; k <= s[0].n; k++)
		if (!seen[k]) {
			fprintf(stderr, "kmbench merge: shard %u/%u is missing (%zu of %u given)\n",
			        k, s[0].n, n, s[0].n);
			return 2;
		}
	return 0;
}

/* ---- copying --------------------------------------------------------------------------- */

static int copy_file(const char *from, const char *to)
{
	struct kmb_file kf;
	FILE *in = fopen(from, "rb"), *out;
	char buf[65536];
	size_t len;

	if (in == NULL)
		return -errno;
	if (access(to, F_OK) == 0) {
		fclose(in);
		return -EEXIST;
	}
	if ((out = kmb_file_create(to, &kf)) == NULL) {
		int e = errno;

		fclose(in);
		return -e;
	}
	while ((len = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, len, out);
	len = (size_t)ferror(in);
	fclose(in);
	return kmb_file_finish(&kf, len ? -EIO : 0);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The files of sub (NULL: the top) of dir whose names end in one of suffixes. */
static int copy_dir(const char *dir, const char *sub, const char *out, const char *const *suffixes)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	snprintf(from, sizeof(from), "%s%s%s", dir, sub ? "/" : "", sub ? sub : "");
	if ((d = opendir(from)) == NULL)
		return errno == ENOENT ? 0 : -errno;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		bool want = false;

		for (const char *const *s = suffixes; *s && !want; s++)
			want = ends_with(e->d_name, *s) && e->d_name[0] != '.';
		if (!want)
			continue;
		snprintf(from, sizeof(from), "%s%s%s/%s", dir, sub ? "/" : "", sub ? sub : "",
		         e->d_name);
		snprintf(to, sizeof(to), "%s%s%s/%s", out, sub ? "/" : "", sub ? sub : "",
		         e->d_name);
		if ((rc = copy_file(from, to)) != 0)
			fprintf(stderr, "kmbench merge: %s: %s\n", from,
			        rc == -EEXIST ? "also in another shard (the shards overlap)"
			                      : strerror(-rc));
	}
	closedir(d);
	return rc;
}

/* The shards' rows of a CSV file under the first shard's header. */
static int concat_csv(const struct shard *s, size_t n, const char *out, const char *name)
{
	char path[PATH_MAX], line[8192];
	struct kmb_file kf;
	FILE *f;
	bool any = false;

	snprintf(path, sizeof(path), "%s/%s", out, name);
	if ((f = kmb_file_create(path, &kf)) == NULL)
		return -errno;
	for (size_t i = 0; i < n; i++) {
		FILE *in;
		bool header = true;

		snprintf(path, sizeof(path), "%s/%s", s[i].dir, name);
		if ((in = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), in)) {
			if (!header || !any)
				fputs(line, f);
			if (header && strchr(line, '\n'))
				header = false;
		}
		any = true;
		fclose(in);
	}
	if (!any) {
		kmb_file_abort(&kf);
		return 0;
	}
	return kmb_file_commit(&kf);
}

static int copy_shards(const struct shard *s, size_t n, const char *out)
{
	static const char *const top[] = {".hgrm", ".samples.csv", NULL},
	                         *const json[] = {".json", NULL}, *const bin[] = {".bin", NULL};
	char sub[PATH_MAX];
	int rc = 0;

	snprintf(sub, sizeof(sub), "%s/replay", out);
	if (kmb_mkdir_p(sub) != 0)
		return -errno;
	snprintf(sub, sizeof(sub), "%s/frames", out);
	if (kmb_mkdir_p(sub) != 0)
		return -errno;
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((rc = copy_dir(s[i].dir, NULL, out, top)) == 0 &&
		    (rc = copy_dir(s[i].dir, "replay", out, json)) == 0)
			rc = copy_dir(s[i].dir, "frames", out, bin);
	if (rc == 0 && (rc = concat_csv(s, n, out, "frames.csv")) == 0)
		rc = concat_csv(s, n, out, "sizeclass.csv");
	return rc;
}

/* ---- run.json -------------------------------------------------------------------------- */

static void sum_jobs(const struct shard *s, size_t n, double *v, bool *complete)
{
	*complete = true;
	v[0] = v[1] = v[2] = 0;
	for (size_t i = 0; i < n; i++) {
		const struct kmb_jv *j = kmb_jv_get(&s[i].run, "jobs");

		v[0] += kmb_jv_num(j, "total", 0);
		v[1] += kmb_jv_num(j, "done", 0);
		v[2] += kmb_jv_num(j, "failed", 0);
		*complete &= kmb_jv_bool(&s[i].run, "complete", false);
	}
}

static int write_run_json(const struct shard *s, size_t n, const char *out)
{
	char path[PATH_MAX], why[96];
	struct kmb_file kf;
	struct kmb_json j;
	double v[3];
	bool complete;
	FILE *f;

	sum_jobs(s, n, v, &complete);
	snprintf(path, sizeof(path), "%s/run.json", out);
	if ((f = kmb_file_create(path, &kf)) == NULL)
		return -errno;
	kmb_json_begin(&j, f);
	kmb_json_obj_begin(&j, NULL);
	for (size_t i = 0; i < s[0].run.n; i++) {
		const char *k = s[0].run.kid[i].key;

		if (strcmp(k, "shard") && strcmp(k, "jobs") && strcmp(k, "complete") &&
		    strcmp(k, "failed") && strcmp(k, "incomplete_reason") && strcmp(k, "scripts"))
			kmb_json_jv(&j, k, &s[0].run.kid[i]);
	}
	kmb_json_arr_begin(&j, "merged_from");
	for (size_t i = 0; i < n; i++)
		kmb_json_str(&j, NULL, s[i].dir);
	kmb_json_arr_end(&j);
	kmb_json_obj_begin(&j, "jobs");
	kmb_json_u64(&j, "total", (uint64_t)v[0]);
	kmb_json_u64(&j, "done", (uint64_t)v[1]);
	kmb_json_u64(&j, "failed", (uint64_t)v[2]);
	kmb_json_obj_end(&j);
	kmb_json_bool(&j, "complete", complete);
	kmb_json_u64(&j, "failed", (uint64_t)v[2]);
	if (!complete) {
		snprintf(why, sizeof(why), "%.0f of %.0f jobs failed or did not run",
		         v[2] + v[0] - v[1], v[0]);
		kmb_json_str(&j, "incomplete_reason", why);
	}
	kmb_json_obj_end(&j);
	return kmb_file_finish(&kf, kmb_json_end(&j));
}

/* ---- the command ----------------------------------------------------------------------- */

static int check_out(const char *out)
{
	DIR *d = opendir(out);
	struct dirent *e;
	bool empty = true;

	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) != NULL)
		empty &= strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty ? 0 : -EEXIST;
}

static int merge(struct shard *s, size_t n, const char *out)
{
	char err[PATH_MAX + 200], path[PATH_MAX];
	struct kmb_jv run;
	int rc;

	for (size_t i = 0; i < n; i++)
		if ((rc = load_shard(&s[i])) != 0)
			return rc;
	if ((rc = check_shards(s, n)) != 0)
		return rc;
	if ((rc = check_out(out)) != 0) {
		fprintf(stderr, "kmbench merge: %s: %s\n", out,
		        rc == -EEXIST ? "not empty (merge into a new directory)" : strerror(-rc));
		return 2;
	}
	if ((rc = kmb_mkdir_p(out)) != 0 || (rc = copy_shards(s, n, out)) != 0 ||
	    (rc = write_run_json(s, n, out)) != 0) {
		fprintf(stderr, "kmbench merge: writing %s: %s\n", out, strerror(-rc));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/run.json", out);
	if (kmb_jv_load(path, &run, err, sizeof(err)) != 0) {
		fprintf(stderr, "kmbench merge: %s\n", err);
		return 1;
	}
	rc = kmb_run_rebuild(out, &run, true);
	kmb_jv_free(&run);
	if (kmb_report_write(out, err, sizeof(err)) != 0) {
		fprintf(stderr, "kmbench merge: report: %s\n", err);
		return 1;
	}
	printf("merged %zu shards into %s (report.html, report.md, summary.csv, run.json, "
	       "plots)\n",
	       n, out);
	return rc;
}

int kmb_cmd_merge(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *out = NULL;
	struct shard *s;
	size_t n = 0;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(merge_usage, stdout);
			return 0;
		} else if (c == 'o') {
			out = optarg;
		} else if (c == ':') {
			return kmb_cli_error("merge", "option '%s' needs a value",
			                     argv[optind - 1]);
		} else {
			return kmb_cli_error("merge", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (out == NULL)
		return kmb_cli_error("merge", "where to? (-o OUT)");
	if (optind >= argc)
		return kmb_cli_error("merge", "which shard directories?");
	if (argc - optind > MERGE_MAX)
		return kmb_cli_error("merge", "more than %d directories", MERGE_MAX);
	if ((s = calloc((size_t)(argc - optind), sizeof(*s))) == NULL)
		return 1;
	for (int i = optind; i < argc; i++)
		s[n++].dir = argv[i];
	rc = merge(s, n, out);
	for (size_t i = 0; i < n; i++)
		kmb_jv_free(&s[i].run); /* a zeroed one (not loaded) holds nothing */
	free(s);
	return rc;
}
