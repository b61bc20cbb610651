/*
 * bench/compare_cmd.c - `kmbench compare OLD NEW`: did anything change between two runs?
 *
 * OLD and NEW are results directories of `kmbench run` (their repetitions.csv: one value
 * per repetition of each backend, workload and thread count) or google-benchmark JSON
 * files (build/kmbench-micro --benchmark_out=FILE --benchmark_out_format=json; with
 * --benchmark_repetitions=N each benchmark has N "iteration" entries, whose real_time and
 * cpu_time are compared, in ns).  A file of aggregates only (written with
 * --benchmark_report_aggregates_only=true) has no repetitions to test: compare refuses it.
 *
 * For every series present in both, compare reports the medians, the change of the
 * median, and the two-sided Mann-Whitney U test over the repetitions (results/stats.c:
 * exact distribution when there are no ties and at most KMB_MWU_EXACT_MAX repetitions a
 * side, else the normal approximation with tie and continuity corrections).  One
 * invocation makes many tests (a full run: ~1000), so the p-values are adjusted by
 * Holm-Bonferroni over all the comparisons of the invocation (after --filter): Holm
 * controls the family-wise error rate at --alpha, like Bonferroni but uniformly more
 * powerful, and needs no independence between the tests (the metrics of one cell are
 * correlated); a change is significant when its adjusted p is below alpha.  Both p-values
 * are printed.  A significant change is better or worse by the metric's direction from
 * the declared schema (results/schema.def: throughput up is better, latency and footprint
 * down); a metric without a direction is "changed".  With too few repetitions no p-value
 * can reach alpha (3 against 3: p >= 0.1); compare says so rather than "no change".
 *
 * It also says when the two runs' settings differ (run.json: memory, operations,
 * repetitions, build type, flags, commit and dirty state, host; google-benchmark: the
 * context's host, build type, CPUs), prints the geometric mean of new/old medians per
 * metric, and with --fail-on-regression exits 1 when a metric got significantly worse by
 * more than --threshold PCT (for `git bisect run` and CI).
 *
 * Series are found through a hash table, and the comparisons sorted once: linear in the
 * input apart from the sorts.
 *
 * Exit status: 0 compared (and no regression, with --fail-on-regression); 1 a regression
 * (--fail-on-regression); 2 usage, an input that cannot be read or compared (aggregates
 * only, a directory against a file).
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "results/results.h"
#include "results/schema.h"

#define MAX_METRICS 16

static const char compare_usage[] =
        "usage: kmbench compare OLD NEW [--json] [--metrics LIST] [--alpha A]\n"
        "                       [--sort key|change|p] [--filter REGEX]\n"
        "                       [--fail-on-regression [--threshold PCT]]\n\n"
        "Compare two results directories of kmbench run (per backend, workload and thread\n"
        "count) or two google-benchmark JSON files (per benchmark; --benchmark_out=FILE\n"
        "--benchmark_out_format=json, with --benchmark_repetitions=N): the change of the\n"
        "median and whether it is significant (two-sided Mann-Whitney U over repetitions,\n"
        "p-values adjusted by Holm-Bonferroni over all the comparisons made).\n"
        "  --json           the comparison as JSON on stdout\n"
        "  --metrics LIST   metrics of the result schema (results/schema.def; default\n"
        "                   ops_per_sec,alloc_p99_ns,free_p99_ns; e.g. ops_per_cpu_sec,\n"
        "                   alloc_p50_ns, peak_footprint_bytes, failed_allocs, seconds);\n"
        "                   google-benchmark: real_time,cpu_time\n"
        "  --alpha A        family-wise significance level (default 0.05)\n"
        "  --sort ORDER     key (input order, default), change (largest first), p\n"
        "  --filter REGEX   only series whose \"key metric\" matches (POSIX extended)\n"
        "  --list-metrics   the schema's metrics: name, unit, better, description\n"
        "  --fail-on-regression   exit 1 if a metric got significantly worse by more\n"
        "                   than --threshold PCT percent (default 0)\n"
        "exit status: 0 compared, 1 a regression (--fail-on-regression), 2 usage or an\n"
        "input that cannot be compared\n";

struct series {
	char key[3][300]; /* backend, workload, threads; or benchmark name */
	const char *metric;
	int dir; /* enum kmb_mdir */
	double *v;
	size_t n, cap;
};

struct side {
	const char *path;
	bool gbench;
	struct series *s;
	size_t n, cap;
	size_t *slot, nslot; /* hash table of s (index + 1; 0 empty) */
	struct kmb_jv info;  /* run.json, or the google-benchmark file (its context) */
};

struct cmp_args {
	const char *old, *new;
	bool json, fail_on_regression;
	double alpha, threshold;
	const char *metrics[MAX_METRICS];
	unsigned nmetrics;
	bool metrics_set;
	const char *sort;
	regex_t filter;
	bool has_filter;
};

/* ---- series, found by hash ----------------------------------------------------------------- */

static uint64_t hash_key(const char *k0, const char *k1, const char *k2, const char *metric)
{
	const char *part[4] = {k0, k1, k2, metric};
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (int i = 0; i < 4; i++) {
		for (const char *c = part[i]; *c; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ull;
		h = (h ^ 0x1f) * 1099511628211ull;
	}
	return h;
}

static bool same_key(const struct series *s, const char *k0, const char *k1, const char *k2,
                     const char *metric)
{
	return !strcmp(s->key[0], k0) && !strcmp(s->key[1], k1) && !strcmp(s->key[2], k2) &&
	       !strcmp(s->metric, metric);
}

/* The slot of a key: where it is, or the empty one where it would go. */
static size_t *slot_of(const struct side *sd, const char *k0, const char *k1, const char *k2,
                       const char *metric)
{
	size_t i = hash_key(k0, k1, k2, metric) & (sd->nslot - 1);

	while (sd->slot[i] && !same_key(&sd->s[sd->slot[i] - 1], k0, k1, k2, metric))
		i = (i + 1) & (sd->nslot - 1);
	return &sd->slot[i];
}

/* Keeps the table at most half full: doubling and re-inserting. */
static int rehash(struct side *sd)
{
	size_t n = sd->nslot ? 2 * sd->nslot : 256;
	size_t *ns = calloc(n, sizeof(*ns));

	if (ns == NULL)
		return -ENOMEM;
	free(sd->slot);
	sd->slot = ns;
	sd->nslot = n;
	for (size_t i = 0; i < sd->n; i++) {
		const struct series *s = &sd->s[i];

		*slot_of(sd, s->key[0], s->key[1], s->key[2], s->metric) = i + 1;
	}
	return 0;
}

static const struct series *series_find(const struct side *sd, const struct series *s)
{
	size_t *slot;

	if (sd->nslot == 0)
		return NULL;
	slot = slot_of(sd, s->key[0], s->key[1], s->key[2], s->metric);
	return *slot ? &sd->s[*slot - 1] : NULL;
}

static struct series *series_get(struct side *sd, const char *k0, const char *k1, const char *k2,
                                 const char *metric, int dir)
{
	struct series *s;
	size_t *slot;

	if (2 * (sd->n + 1) > sd->nslot && rehash(sd) != 0)
		return NULL;
	slot = slot_of(sd, k0, k1, k2, metric);
	if (*slot)
		return &sd->s[*slot - 1];
	if (sd->n == sd->cap) {
		struct series *ns =
		        realloc(sd->s, (sd->cap = sd->cap ? 2 * sd->cap : 64) * sizeof(*ns));

		if (ns == NULL)
			return NULL;
		sd->s = ns;
	}
	s = &sd->s[sd->n];
	memset(s, 0, sizeof(*s));
	snprintf(s->key[0], sizeof(s->key[0]), "%s", k0);
	snprintf(s->key[1], sizeof(s->key[1]), "%s", k1);
	snprintf(s->key[2], sizeof(s->key[2]), "%s", k2);
	s->metric = metric;
	s->dir = dir;
	*slot = ++sd->n;
	return s;
}

static int series_add(struct series *s, double v)
{
	if (s == NULL)
		return -ENOMEM;
	if (s->n == s->cap) {
		double *nv = realloc(s->v, (s->cap = s->cap ? 2 * s->cap : 16) * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		s->v = nv;
	}
	s->v[s->n++] = v;
	return 0;
}

static void side_free(struct side *sd)
{
	for (size_t i = 0; i < sd->n; i++)
		free(sd->s[i].v);
	free(sd->s);
	free(sd->slot);
	kmb_jv_free(&sd->info);
}

/* ---- reading ------------------------------------------------------------------------------ */

/* The repetitions.csv column of a schema metric: its name, else its old name. */
static const char *metric_column(const struct kmb_csv *c, const char *name)
{
	int m = kmb_metric_find(name);

	if (m < 0 || !kmb_metric_numeric(m))
		return NULL;
	if (kmb_csv_col(c, kmb_metrics[m].name) >= 0)
		return kmb_metrics[m].name;
	return kmb_metrics[m].alias[0] && kmb_csv_col(c, kmb_metrics[m].alias) >= 0
	               ? kmb_metrics[m].alias
	               : NULL;
}

static int load_results(struct side *sd, const struct cmp_args *a)
{
	const char *col[MAX_METRICS];
	char path[PATH_MAX], err[256];
	struct kmb_csv c;
	int rc;

	snprintf(path, sizeof(path), "%s/run.json", sd->path);
	kmb_jv_load(path, &sd->info, err, sizeof(err)); /* settings: optional */
	snprintf(path, sizeof(path), "%s/repetitions.csv", sd->path);
	if ((rc = kmb_csv_load(path, &c)) != 0) {
		fprintf(stderr, "kmbench compare: %s: %s\n", path,
		        rc == -EINVAL ? "empty" : strerror(-rc));
		return rc;
	}
	for (unsigned m = 0; m < a->nmetrics; m++)
		if ((col[m] = metric_column(&c, a->metrics[m])) == NULL) {
			fprintf(stderr, "kmbench compare: %s has no column '%s'%s\n", path,
			        a->metrics[m],
			        kmb_metric_find(a->metrics[m]) < 0 ? " (not a metric of the schema)"
			                                           : "");
			kmb_csv_free(&c);
			return -EINVAL;
		}
	for (size_t r = 1; r < c.nrows && rc == 0; r++) {
		const char *thr = kmb_csv_get(&c, r, "threads");

		if (kmb_csv_num(&c, r, "ok") != 1)
			continue;
		for (unsigned m = 0; m < a->nmetrics && rc == 0; m++) {
			double v = kmb_csv_num(&c, r, col[m]);
			int id = kmb_metric_find(a->metrics[m]);

			if (isfinite(v))
				rc = series_add(series_get(sd, kmb_csv_get(&c, r, "backend"),
				                           kmb_csv_get(&c, r, "workload"),
				                           thr[0] ? thr : "1", kmb_metrics[id].name,
				                           kmb_metrics[id].dir),
				                v);
		}
	}
	kmb_csv_free(&c);
	return rc;
}

static double to_ns(double v, const char *unit)
{
	if (strcmp(unit, "us") == 0)
		return v * 1e3;
	if (strcmp(unit, "ms") == 0)
		return v * 1e6;
	if (strcmp(unit, "s") == 0)
		return v * 1e9;
	return v;
}

static bool gbench_iteration(const struct kmb_jv *b)
{
	return strcmp(kmb_jv_str(b, "run_type", "iteration"), "iteration") == 0 &&
	       !kmb_jv_bool(b, "error_occurred", false) && kmb_jv_get(b, "aggregate_name") == NULL;
}

/* Times are better lower; google-benchmark's rates (items_per_second, ...) higher. */
static int gbench_dir(const char *metric)
{
	return strstr(metric, "per_second") ? KMB_MD_HIGHER : KMB_MD_LOWER;
}

static int load_gbench(struct side *sd, const struct cmp_args *a)
{
	const struct kmb_jv *list;
	char err[512];
	size_t iterations = 0;
	int rc = kmb_jv_load(sd->path, &sd->info, err, sizeof(err));

	if (rc != 0) {
		fprintf(stderr, "kmbench compare: %s\n", err);
		return rc;
	}
	if ((list = kmb_jv_get(&sd->info, "benchmarks")) == NULL || list->type != KMB_JV_ARR) {
		fprintf(stderr,
		        "kmbench compare: %s: no \"benchmarks\" array (not google-benchmark "
		        "JSON)\n",
		        sd->path);
		return -EINVAL;
	}
	for (size_t i = 0; i < list->n && rc == 0; i++) {
		const struct kmb_jv *b = &list->kid[i];
		const char *name = kmb_jv_str(b, "run_name", kmb_jv_str(b, "name", "?"));

		if (!gbench_iteration(b))
			continue;
		iterations++;
		for (unsigned m = 0; m < a->nmetrics && rc == 0; m++) {
			double v = kmb_jv_num(b, a->metrics[m], NAN);

			if (isfinite(v))
				rc = series_add(series_get(sd, name, "", "", a->metrics[m],
				                           gbench_dir(a->metrics[m])),
				                strstr(a->metrics[m], "_time")
				                        ? to_ns(v, kmb_jv_str(b, "time_unit", "ns"))
				                        : v);
		}
	}
	if (rc == 0 && iterations == 0 && list->n > 0) {
		fprintf(stderr,
		        "kmbench compare: %s holds only aggregates (mean, median, stddev): there "
		        "are "
		        "no repetitions to test; run the benchmark again with "
		        "--benchmark_repetitions=N and without "
		        "--benchmark_report_aggregates_only=true\n",
		        sd->path);
		return -EINVAL;
	}
	return rc;
}

static int load_side(struct side *sd, const struct cmp_args *a)
{
	struct stat st;

	if (stat(sd->path, &st) != 0) {
		fprintf(stderr, "kmbench compare: %s: %s\n", sd->path, strerror(errno));
		return -errno;
	}
	sd->gbench = !S_ISDIR(st.st_mode);
	return sd->gbench ? load_gbench(sd, a) : load_results(sd, a);
}

/* ---- settings ------------------------------------------------------------------------------- */

/* A setting as text ("" if absent): strings as they are, numbers and booleans printed. */
static void setting(const struct kmb_jv *obj, const char *key, char *buf, size_t len)
{
	const struct kmb_jv *v = kmb_jv_get(obj, key);

	buf[0] = '\0';
	if (v == NULL)
		return;
	if (v->type == KMB_JV_STR)
		snprintf(buf, len, "%s", v->str);
	else if (v->type == KMB_JV_NUM)
		snprintf(buf, len, "%.15g", v->num);
	else if (v->type == KMB_JV_BOOL)
		snprintf(buf, len, "%s", v->b ? "true" : "false");
}

/* Calls fn for every setting that differs; returns how many. */
static unsigned settings_diff(const struct side *o, const struct side *n,
                              void (*fn)(void *arg, const char *key, const char *a, const char *b),
                              void *arg)
{
	static const char *const run_keys[] = {
	        "host",       "mem_bytes", "ops_per_repetition", "repetitions", "quick",
	        "build_type", "c_flags",   "compiler",           "git_commit",  "git_dirty",
	        "invariants", "topology",  "online_cpus",        NULL};
	static const char *const gb_keys[] = {
	        "host_name",   "executable",          "library_build_type",  "num_cpus",
	        "mhz_per_cpu", "cpu_scaling_enabled", "json_schema_version", NULL};
	const char *const *keys = o->gbench ? gb_keys : run_keys;
	const struct kmb_jv *co = o->gbench ? kmb_jv_get(&o->info, "context") : &o->info;
	const struct kmb_jv *cn = n->gbench ? kmb_jv_get(&n->info, "context") : &n->info;
	char a[512], b[512];
	unsigned k = 0;

	for (; *keys; keys++) {
		setting(co, *keys, a, sizeof(a));
		setting(cn, *keys, b, sizeof(b));
		if (strcmp(a, b) != 0) {
			fn(arg, *keys, a[0] ? a : "(none)", b[0] ? b : "(none)");
			k++;
		}
	}
	return k;
}

static void print_setting(void *arg, const char *key, const char *a, const char *b)
{
	(void)arg;
	printf("  %-20s %s -> %s\n", key, a, b);
}

static void json_setting(void *arg, const char *key, const char *a, const char *b)
{
	struct kmb_json *j = arg;

	kmb_json_obj_begin(j, NULL);
	kmb_json_str(j, "setting", key);
	kmb_json_str(j, "old", a);
	kmb_json_str(j, "new", b);
	kmb_json_obj_end(j);
}

static void ignore_setting(void *arg, const char *key, const char *a, const char *b)
{
	(void)arg, (void)key, (void)a, (void)b;
}

/* ---- comparing ------------------------------------------------------------------------------- */

struct verdict {
	const struct series *o, *n;
	double mo, mn, change;
	double p_adj; /* Holm-Bonferroni */
	struct kmb_mwu t;
	bool significant, better, too_few;
};

static void key_text(const struct series *s, char *buf, size_t len)
{
	if (s->key[1][0])
		snprintf(buf, len, "%s %s t%s", s->key[0], s->key[1], s->key[2]);
	else
		snprintf(buf, len, "%s", s->key[0]);
}

static bool wanted(const struct series *s, const struct cmp_args *a)
{
	char text[1200];
	size_t n;

	if (!a->has_filter)
		return true;
	key_text(s, text, sizeof(text));
	n = strlen(text);
	snprintf(text + n, sizeof(text) - n, " %s", s->metric);
	return regexec(&a->filter, text, 0, NULL, 0) == 0;
}

static void judge(struct verdict *v)
{
	v->mo = kmb_median(v->o->v, v->o->n);
	v->mn = kmb_median(v->n->v, v->n->n);
	v->change = v->mo != 0 ? 100 * (v->mn - v->mo) / fabs(v->mo) : NAN;
	kmb_mann_whitney(v->o->v, v->o->n, v->n->v, v->n->n, &v->t);
	v->better = v->o->dir == KMB_MD_HIGHER ? v->mn > v->mo : v->mn < v->mo;
}

static int cmp_p(const void *x, const void *y)
{
	const struct verdict *a = *(const struct verdict *const *)x;
	const struct verdict *b = *(const struct verdict *const *)y;

	return (a->t.p > b->t.p) - (a->t.p < b->t.p);
}

/*
 * Holm (1979): with the m p-values in ascending order p(1) <= ... <= p(m), the adjusted
 * p(k) = max over j <= k of min(1, (m - j + 1) p(j)); reject where it is below alpha.
 */
static int holm(struct verdict *v, size_t m, double alpha)
{
	struct verdict **by_p = malloc((m ? m : 1) * sizeof(*by_p));
	double run = 0;

	if (by_p == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < m; i++)
		by_p[i] = &v[i];
	qsort(by_p, m, sizeof(*by_p), cmp_p);
	for (size_t k = 0; k < m; k++) {
		run = fmax(run, fmin(1, (double)(m - k) * by_p[k]->t.p));
		by_p[k]->p_adj = run;
		by_p[k]->significant = run < alpha;
		/* the smallest p these sizes allow cannot pass even as the first test */
		by_p[k]->too_few = fmin(1, (double)m * by_p[k]->t.pmin) >= alpha;
	}
	free(by_p);
	return 0;
}

static int cmp_change(const void *x, const void *y)
{
	const struct verdict *a = x, *b = y;
	double p = isfinite(a->change) ? fabs(a->change) : -1;
	double q = isfinite(b->change) ? fabs(b->change) : -1;

	return (p < q) - (p > q);
}

static int cmp_adj(const void *x, const void *y)
{
	const struct verdict *a = x, *b = y;

	return (a->p_adj > b->p_adj) - (a->p_adj < b->p_adj);
}

/* The comparisons of the series in both (and matching --filter), judged and corrected. */
static int compare_all(const struct side *o, const struct side *n, const struct cmp_args *a,
                       struct verdict **out, size_t *nout)
{
	struct verdict *v = calloc(o->n ? o->n : 1, sizeof(*v));
	size_t m = 0;

	if (v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < o->n; i++) {
		const struct series *sn = series_find(n, &o->s[i]);

		if (sn == NULL || !wanted(&o->s[i], a))
			continue;
		v[m].o = &o->s[i];
		v[m].n = sn;
		judge(&v[m++]);
	}
	if (holm(v, m, a->alpha) != 0) {
		free(v);
		return -ENOMEM;
	}
	if (strcmp(a->sort, "change") == 0)
		qsort(v, m, sizeof(*v), cmp_change);
	else if (strcmp(a->sort, "p") == 0)
		qsort(v, m, sizeof(*v), cmp_adj);
	*out = v;
	*nout = m;
	return 0;
}

static const char *verdict_text(const struct verdict *v)
{
	if (v->significant && v->o->dir == KMB_MD_NONE)
		return "changed";
	if (v->significant)
		return v->better ? "better" : "worse";
	return v->too_few ? "too few repetitions" : "no significant change";
}

static bool regression(const struct verdict *v, const struct cmp_args *a)
{
	return v->significant && !v->better && v->o->dir != KMB_MD_NONE && isfinite(v->change) &&
	       fabs(v->change) > a->threshold;
}

/* Geometric mean of new/old medians of one metric over the comparisons; n of them. */
static double geomean(const struct verdict *v, size_t m, const char *metric, unsigned *n)
{
	double logsum = 0;

	*n = 0;
	for (size_t i = 0; i < m; i++)
		if (strcmp(v[i].o->metric, metric) == 0 && v[i].mo > 0 && v[i].mn > 0) {
			logsum += log(v[i].mn / v[i].mo);
			(*n)++;
		}
	return *n ? exp(logsum / *n) : NAN;
}

static void print_header(const struct side *o, const struct side *n, const struct cmp_args *a,
                         size_t m)
{
	printf("kmbench compare: %s -> %s\n"
	       "two-sided Mann-Whitney U over repetitions (exact distribution when there are no "
	       "ties and at most %d a side, else normal approximation with tie and continuity "
	       "corrections); p-values adjusted by Holm-Bonferroni over the %zu comparisons, "
	       "family-wise alpha %.3g\n",
	       o->path, n->path, KMB_MWU_EXACT_MAX, m, a->alpha);
	if (settings_diff(o, n, ignore_setting, NULL)) {
		printf("\nthe two runs' settings differ:\n");
		settings_diff(o, n, print_setting, NULL);
	}
	printf("\n%-44s %-20s %12s %12s %9s %8s %8s %6s %5s  %s\n",
	       o->gbench ? "benchmark" : "backend workload threads", "metric", "old median",
	       "new median", "change", "p", "p Holm", "test", "n", "verdict");
}

static void print_only_in(const struct side *a, const struct side *b, const char *what,
                          const struct cmp_args *args)
{
	char key[1000];

	for (size_t i = 0; i < a->n; i++)
		if (series_find(b, &a->s[i]) == NULL && wanted(&a->s[i], args)) {
			key_text(&a->s[i], key, sizeof(key));
			printf("only in %s: %s %s\n", what, key, a->s[i].metric);
		}
}

/* The name a metric's series carry: the schema's (an old name read as the new), or
 * google-benchmark's as given. */
static const char *series_metric(const struct side *sd, const char *name)
{
	int id = sd->gbench ? -1 : kmb_metric_find(name);

	return id >= 0 ? kmb_metrics[id].name : name;
}

static void print_geomeans(const struct side *o, const struct verdict *v, size_t m,
                           const struct cmp_args *a)
{
	bool any = false;

	for (unsigned k = 0; k < a->nmetrics; k++) {
		const char *name = series_metric(o, a->metrics[k]);
		unsigned n;
		double g = geomean(v, m, name, &n);

		if (n == 0)
			continue;
		printf("%s %s %.4fx (%+.2f%%, %u)",
		       any ? "," : "\ngeometric mean of new/old medians:", name, g, 100 * (g - 1),
		       n);
		any = true;
	}
	if (any)
		putchar('\n');
}

static void print_text(const struct side *o, const struct side *n, const struct cmp_args *a,
                       const struct verdict *v, size_t m)
{
	unsigned sig = 0, better = 0, few = 0;
	char key[1000];

	print_header(o, n, a, m);
	for (size_t i = 0; i < m; i++) {
		char nn[32];

		key_text(v[i].o, key, sizeof(key));
		snprintf(nn, sizeof(nn), "%zu/%zu", v[i].o->n, v[i].n->n);
		printf("%-44.44s %-20s %12.*f %12.*f %+8.2f%% %8.4f %8.4f %6s %5s  %s\n", key,
		       v[i].o->metric, fabs(v[i].mo) < 100 ? 2 : 0, v[i].mo,
		       fabs(v[i].mn) < 100 ? 2 : 0, v[i].mn, v[i].change, v[i].t.p, v[i].p_adj,
		       v[i].t.exact ? "exact" : "normal", nn, verdict_text(&v[i]));
		sig += v[i].significant;
		better += v[i].significant && v[i].better;
		few += v[i].too_few;
	}
	print_only_in(o, n, "OLD", a);
	print_only_in(n, o, "NEW", a);
	print_geomeans(o, v, m, a);
	if (sig == 0)
		printf("\nno significant change in %zu comparison%s at family-wise alpha %.3g%s\n",
		       m, m == 1 ? "" : "s", a->alpha,
		       few ? " (some have too few repetitions to show one)" : "");
	else
		printf("\n%u of %zu comparisons changed significantly at family-wise alpha %.3g "
		       "(Holm): %u better, %u worse or changed\n",
		       sig, m, a->alpha, better, sig - better);
}

static void json_verdict(struct kmb_json *j, const struct verdict *v)
{
	kmb_json_obj_begin(j, NULL);
	if (v->o->key[1][0]) {
		kmb_json_str(j, "backend", v->o->key[0]);
		kmb_json_str(j, "workload", v->o->key[1]);
		kmb_json_u64(j, "threads", strtoull(v->o->key[2], NULL, 10));
	} else {
		kmb_json_str(j, "benchmark", v->o->key[0]);
	}
	kmb_json_str(j, "metric", v->o->metric);
	kmb_json_u64(j, "n_old", v->o->n);
	kmb_json_u64(j, "n_new", v->n->n);
	kmb_json_dbl(j, "old_median", v->mo);
	kmb_json_dbl(j, "new_median", v->mn);
	kmb_json_dbl(j, "change_pct", v->change);
	kmb_json_dbl(j, "u", v->t.u);
	kmb_json_dbl(j, "p", v->t.p);
	kmb_json_dbl(j, "p_holm", v->p_adj);
	kmb_json_str(j, "method", v->t.exact ? "exact" : "normal");
	kmb_json_dbl(j, "p_min", v->t.pmin);
	kmb_json_bool(j, "significant", v->significant);
	kmb_json_str(j, "verdict", verdict_text(v));
	kmb_json_obj_end(j);
}

static int print_json(const struct side *o, const struct side *n, const struct cmp_args *a,
                      const struct verdict *v, size_t m)
{
	struct kmb_json j;
	unsigned sig = 0;

	kmb_json_begin(&j, stdout);
	kmb_json_obj_begin(&j, NULL);
	kmb_json_str(&j, "old", o->path);
	kmb_json_str(&j, "new", n->path);
	kmb_json_str(&j, "test", "two-sided Mann-Whitney U");
	kmb_json_str(&j, "correction", "Holm-Bonferroni");
	kmb_json_dbl(&j, "alpha", a->alpha);
	kmb_json_arr_begin(&j, "settings_differ");
	settings_diff(o, n, json_setting, &j);
	kmb_json_arr_end(&j);
	kmb_json_arr_begin(&j, "comparisons");
	for (size_t i = 0; i < m; i++) {
		sig += v[i].significant;
		json_verdict(&j, &v[i]);
	}
	kmb_json_arr_end(&j);
	kmb_json_u64(&j, "significant", sig);
	kmb_json_obj_end(&j);
	return kmb_json_end(&j);
}

/* ---- options ----------------------------------------------------------------------------------
 */

static int parse_metrics(struct cmp_args *a, char *list)
{
	a->nmetrics = 0;
	a->metrics_set = true;
	for (char *sv = NULL, *tok = strtok_r(list, ",", &sv); tok;
	     tok = strtok_r(NULL, ",", &sv)) {
		if (a->nmetrics == MAX_METRICS)
			return kmb_cli_error("compare", "more than %d metrics", MAX_METRICS);
		a->metrics[a->nmetrics++] = tok;
	}
	return a->nmetrics ? 0 : kmb_cli_error("compare", "empty --metrics");
}

static int parse_number(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;

	*out = strtod(s, &end);
	if (*end || end == s || !(*out >= lo && *out < hi))
		return kmb_cli_error("compare", "bad %s '%s'", opt, s);
	return 0;
}

static int parse_option(int c, struct cmp_args *a)
{
	int rc;

	switch (c) {
	case 'j':
		a->json = true;
		return 0;
	case 'm':
		return parse_metrics(a, optarg);
	case 'a':
		return parse_number("--alpha", optarg, 1e-12, 1, &a->alpha);
	case 'r':
		a->fail_on_regression = true;
		return 0;
	case 't':
		return parse_number("--threshold", optarg, 0, 1e9, &a->threshold);
	case 's':
		a->sort = optarg;
		if (strcmp(optarg, "key") && strcmp(optarg, "change") && strcmp(optarg, "p"))
			return kmb_cli_error("compare", "bad --sort '%s' (key, change or p)",
			                     optarg);
		return 0;
	case 'f':
		if (a->has_filter)
			regfree(&a->filter);
		a->has_filter = false;
		if ((rc = regcomp(&a->filter, optarg, REG_EXTENDED | REG_NOSUB)) != 0)
			return kmb_cli_error("compare", "bad --filter '%s'", optarg);
		a->has_filter = true;
		return 0;
	default:
		return 2;
	}
}

/* The declared schema's numeric metrics, as compare can test them. */
static void list_metrics(void)
{
	static const char *const dir[] = {"", "higher", "lower"};

	printf("%-32s %-8s %-7s %s\n", "metric", "unit", "better", "description");
	for (int m = 0; m < KMB_NMETRICS; m++)
		if (kmb_metric_numeric(m))
			printf("%-32s %-8s %-7s %s%s%s\n", kmb_metrics[m].name, kmb_metrics[m].unit,
			       dir[kmb_metrics[m].dir], kmb_metrics[m].desc,
			       kmb_metrics[m].alias[0] ? "; formerly " : "", kmb_metrics[m].alias);
}

static int parse(int argc, char **argv, struct cmp_args *a)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
	                                     {"metrics", required_argument, NULL, 'm'},
	                                     {"alpha", required_argument, NULL, 'a'},
	                                     {"fail-on-regression", no_argument, NULL, 'r'},
	                                     {"threshold", required_argument, NULL, 't'},
	                                     {"sort", required_argument, NULL, 's'},
	                                     {"filter", required_argument, NULL, 'f'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"list-metrics", no_argument, NULL, 'l'},
	                                     {NULL, 0, NULL, 0}};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'h' || c == 'l') {
			if (c == 'h')
				fputs(compare_usage, stdout);
			else
				list_metrics();
			exit(0);
		} else if (c == ':') {
			return kmb_cli_error("compare", "option '%s' needs a value",
			                     argv[optind - 1]);
		} else if (c == '?') {
			return kmb_cli_error("compare", "unknown option '%s'", argv[optind - 1]);
		} else if (parse_option(c, a) != 0) {
			return 2;
		}
	}
	if (argc - optind != 2)
		return kmb_cli_error("compare", "expected OLD and NEW (results directories or "
		                                "google-benchmark JSON files)");
	a->old = argv[optind];
	a->new = argv[optind + 1];
	return 0;
}

static void default_metrics(struct cmp_args *a, bool gbench)
{
	static const char *const run_m[] = {"ops_per_sec", "alloc_p99_ns", "free_p99_ns"};
	static const char *const gb_m[] = {"real_time", "cpu_time"};
	const char *const *m = gbench ? gb_m : run_m;

	if (a->metrics_set)
		return;
	a->nmetrics = gbench ? 2 : 3;
	for (unsigned i = 0; i < a->nmetrics; i++)
		a->metrics[i] = m[i];
}

static int compare(const struct side *o, const struct side *n, const struct cmp_args *a)
{
	struct verdict *v = NULL;
	size_t m = 0;
	int rc = 0;

	if (compare_all(o, n, a, &v, &m) != 0) {
		fprintf(stderr, "kmbench compare: out of memory\n");
		return 2;
	}
	if (a->json ? print_json(o, n, a, v, m) != 0 : (print_text(o, n, a, v, m), 0))
		rc = 2;
	for (size_t i = 0; rc == 0 && a->fail_on_regression && i < m; i++)
		rc = regression(&v[i], a) ? 1 : 0;
	if (rc == 1 && !a->json)
		printf("regression: a metric got significantly worse by more than %.3g%% "
		       "(--fail-on-regression)\n",
		       a->threshold);
	free(v);
	return rc;
}

int kmb_cmd_compare(int argc, char **argv)
{
	struct cmp_args a = {.alpha = 0.05, .sort = "key"};
	struct side o = {0}, n = {0};
	struct stat st;
	int rc;

	if ((rc = parse(argc, argv, &a)) != 0)
		goto out;
	o.path = a.old;
	n.path = a.new;
	default_metrics(&a, stat(a.old, &st) == 0 && !S_ISDIR(st.st_mode));
	if (load_side(&o, &a) != 0 || load_side(&n, &a) != 0) {
		rc = 2;
	} else if (o.gbench != n.gbench) {
		fprintf(stderr,
		        "kmbench compare: %s and %s are not of the same kind (a results "
		        "directory and a google-benchmark file)\n",
		        o.path, n.path);
		rc = 2;
	} else {
		rc = compare(&o, &n, &a);
	}
	side_free(&o);
	side_free(&n);
out:
	if (a.has_filter)
		regfree(&a.filter);
	return rc;
}
