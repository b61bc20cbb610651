/*
 * bench/compare_cmd.c - `kmbench compare OLD NEW`: did anything change between two runs?
 *
 * OLD and NEW are results directories of `kmbench run` (their repetitions.csv: one value
 * per repetition of each backend, workload and thread count) or google-benchmark JSON
 * files (build/kmbench-micro --benchmark_out=FILE --benchmark_out_format=json; with
 * --benchmark_repetitions=N each benchmark has N "iteration" entries, whose real_time and
 * cpu_time are compared, in ns).  For every series present in both, compare reports the
 * medians, the change of the median, and the two-sided Mann-Whitney U test over the
 * repetitions (results/stats.c: exact distribution when there are no ties and at most
 * KMB_MWU_EXACT_MAX repetitions a side, else the normal approximation with tie and
 * continuity corrections) at --alpha (0.05).  A significant change is called better or
 * worse by the metric's direction (throughput up is better, latency and footprint down).
 * With too few repetitions no p-value can reach alpha (3 against 3: p >= 0.1); compare
 * says so rather than "no change".
 *
 * Exit status: 0 (compared, whatever the verdicts), 1 (an input cannot be read), 2 (usage).
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "results/results.h"

#define MAX_METRICS 12

static const char compare_usage[] =
        "usage: kmbench compare OLD NEW [--json] [--metrics LIST] [--alpha A]\n\n"
        "Compare two results directories of kmbench run (per backend, workload and thread\n"
        "count) or two google-benchmark JSON files (per benchmark; --benchmark_out=FILE\n"
        "--benchmark_out_format=json, with --benchmark_repetitions=N): the change of the\n"
        "median and whether it is significant (two-sided Mann-Whitney U over repetitions).\n"
        "  --json           the comparison as JSON on stdout\n"
        "  --metrics LIST   repetitions.csv columns (default ops_per_sec,alloc_p99_ns,\n"
        "                   free_p99_ns; also alloc_p50_ns, free_p50_ns, alloc_p999_ns,\n"
        "                   free_p999_ns, peak_footprint_bytes, seconds); google-benchmark:\n"
        "                   real_time,cpu_time\n"
        "  --alpha A        significance level (default 0.05)\n";

struct series {
	char key[3][300]; /* backend, workload, threads; or benchmark name */
	char metric[40];
	double *v;
	size_t n, cap;
};

struct side {
	const char *path;
	bool gbench;
	struct series *s;
	size_t n, cap;
};

struct cmp_args {
	const char *old, *new;
	bool json;
	double alpha;
	const char *metrics[MAX_METRICS];
	unsigned nmetrics;
	bool metrics_set;
};

/* ---- series ------------------------------------------------------------------------------ */

static struct series *series_get(struct side *sd, const char *k0, const char *k1, const char *k2,
                                 const char *metric)
{
	struct series *s;

	for (size_t i = 0; i < sd->n; i++) {
		s = &sd->s[i];
		if (!strcmp(s->key[0], k0) && !strcmp(s->key[1], k1) && !strcmp(s->key[2], k2) &&
		    !strcmp(s->metric, metric))
			return s;
	}
	if (sd->n == sd->cap) {
		struct series *ns =
		        realloc(sd->s, (sd->cap = sd->cap ? 2 * sd->cap : 64) * sizeof(*ns));

		if (ns == NULL)
			return NULL;
		sd->s = ns;
	}
	s = &sd->s[sd->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->key[0], sizeof(s->key[0]), "%s", k0);
	snprintf(s->key[1], sizeof(s->key[1]), "%s", k1);
	snprintf(s->key[2], sizeof(s->key[2]), "%s", k2);
	snprintf(s->metric, sizeof(s->metric), "%s", metric);
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
}

/* ---- reading ------------------------------------------------------------------------------ */

static int load_results(struct side *sd, const struct cmp_args *a)
{
	char path[PATH_MAX];
	struct kmb_csv c;
	int rc;

	snprintf(path, sizeof(path), "%s/repetitions.csv", sd->path);
	if ((rc = kmb_csv_load(path, &c)) != 0) {
		fprintf(stderr, "kmbench compare: %s: %s\n", path,
		        rc == -EINVAL ? "empty" : strerror(-rc));
		return rc;
	}
	for (unsigned m = 0; m < a->nmetrics; m++)
		if (kmb_csv_col(&c, a->metrics[m]) < 0) {
			fprintf(stderr, "kmbench compare: %s has no column '%s'\n", path,
			        a->metrics[m]);
			kmb_csv_free(&c);
			return -EINVAL;
		}
	for (size_t r = 1; r < c.nrows && rc == 0; r++) {
		const char *thr = kmb_csv_get(&c, r, "threads");

		if (kmb_csv_num(&c, r, "ok") != 1)
			continue;
		for (unsigned m = 0; m < a->nmetrics && rc == 0; m++) {
			double v = kmb_csv_num(&c, r, a->metrics[m]);

			if (isfinite(v))
				rc = series_add(series_get(sd, kmb_csv_get(&c, r, "backend"),
				                           kmb_csv_get(&c, r, "workload"),
				                           thr[0] ? thr : "1", a->metrics[m]),
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

static int load_gbench(struct side *sd, const struct cmp_args *a)
{
	const struct kmb_jv *list;
	struct kmb_jv j;
	char err[512];
	int rc = kmb_jv_load(sd->path, &j, err, sizeof(err));

	if (rc != 0) {
		fprintf(stderr, "kmbench compare: %s\n", err);
		return rc;
	}
	if ((list = kmb_jv_get(&j, "benchmarks")) == NULL || list->type != KMB_JV_ARR) {
		fprintf(stderr,
		        "kmbench compare: %s: no \"benchmarks\" array (not google-benchmark "
		        "JSON)\n",
		        sd->path);
		kmb_jv_free(&j);
		return -EINVAL;
	}
	for (size_t i = 0; i < list->n && rc == 0; i++) {
		const struct kmb_jv *b = &list->kid[i];
		const char *name = kmb_jv_str(b, "run_name", kmb_jv_str(b, "name", "?"));

		if (!gbench_iteration(b))
			continue;
		for (unsigned m = 0; m < a->nmetrics && rc == 0; m++) {
			double v = kmb_jv_num(b, a->metrics[m], NAN);

			if (isfinite(v))
				rc = series_add(series_get(sd, name, "", "", a->metrics[m]),
				                to_ns(v, kmb_jv_str(b, "time_unit", "ns")));
		}
	}
	kmb_jv_free(&j);
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

/* ---- comparing ------------------------------------------------------------------------------- */

static bool higher_is_better(const char *metric)
{
	return strstr(metric, "per_sec") != NULL || strstr(metric, "per_second") != NULL;
}

struct verdict {
	double mo, mn, change;
	struct kmb_mwu t;
	bool significant, better, too_few;
};

static void judge(const struct series *o, const struct series *n, double alpha, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->mo = kmb_median(o->v, o->n);
	v->mn = kmb_median(n->v, n->n);
	v->change = v->mo != 0 ? 100 * (v->mn - v->mo) / fabs(v->mo) : NAN;
	kmb_mann_whitney(o->v, o->n, n->v, n->n, &v->t);
	v->too_few = v->t.pmin > alpha;
	v->significant = v->t.p < alpha;
	v->better = higher_is_better(o->metric) ? v->mn > v->mo : v->mn < v->mo;
}

static const char *verdict_text(const struct verdict *v)
{
	if (v->significant)
		return v->better ? "better" : "worse";
	return v->too_few ? "too few repetitions" : "no significant change";
}

static const struct series *find_in(const struct side *sd, const struct series *s)
{
	for (size_t i = 0; i < sd->n; i++)
		if (!strcmp(sd->s[i].key[0], s->key[0]) && !strcmp(sd->s[i].key[1], s->key[1]) &&
		    !strcmp(sd->s[i].key[2], s->key[2]) && !strcmp(sd->s[i].metric, s->metric))
			return &sd->s[i];
	return NULL;
}

static void key_text(const struct series *s, char *buf, size_t len)
{
	if (s->key[1][0])
		snprintf(buf, len, "%s %s t%s", s->key[0], s->key[1], s->key[2]);
	else
		snprintf(buf, len, "%s", s->key[0]);
}

static void print_text(const struct side *o, const struct side *n, const struct cmp_args *a)
{
	unsigned total = 0, sig = 0, better = 0, few = 0;
	char key[700];

	printf("kmbench compare: %s -> %s\n"
	       "two-sided Mann-Whitney U over repetitions, alpha %.3g; exact distribution when "
	       "there are no ties (at most %d a side), else normal approximation with tie and "
	       "continuity corrections\n\n",
	       o->path, n->path, a->alpha, KMB_MWU_EXACT_MAX);
	printf("%-44s %-20s %12s %12s %9s %8s %6s %5s  %s\n",
	       o->gbench ? "benchmark" : "backend workload threads", "metric", "old median",
	       "new median", "change", "p", "test", "n", "verdict");
	for (size_t i = 0; i < o->n; i++) {
		const struct series *so = &o->s[i], *sn = find_in(n, so);
		struct verdict v;
		char nn[16];

		if (sn == NULL)
			continue;
		judge(so, sn, a->alpha, &v);
		key_text(so, key, sizeof(key));
		snprintf(nn, sizeof(nn), "%zu/%zu", so->n, sn->n);
		printf("%-44.44s %-20.20s %12.*f %12.*f %+8.2f%% %8.4f %6s %5s  %s\n", key,
		       so->metric, fabs(v.mo) < 100 ? 2 : 0, v.mo, fabs(v.mn) < 100 ? 2 : 0, v.mn,
		       v.change, v.t.p, v.t.exact ? "exact" : "normal", nn, verdict_text(&v));
		total++;
		sig += v.significant;
		better += v.significant && v.better;
		few += v.too_few;
	}
	for (size_t i = 0; i < o->n; i++)
		if (find_in(n, &o->s[i]) == NULL && (key_text(&o->s[i], key, sizeof(key)), 1))
			printf("only in OLD: %s %s\n", key, o->s[i].metric);
	for (size_t i = 0; i < n->n; i++)
		if (find_in(o, &n->s[i]) == NULL && (key_text(&n->s[i], key, sizeof(key)), 1))
			printf("only in NEW: %s %s\n", key, n->s[i].metric);
	if (sig == 0)
		printf("\nno significant change in %u comparison%s at alpha %.3g%s\n", total,
		       total == 1 ? "" : "s", a->alpha,
		       few ? " (some have too few repetitions to show one)" : "");
	else
		printf("\n%u of %u comparisons changed significantly at alpha %.3g: %u better, %u "
		       "worse\n",
		       sig, total, a->alpha, better, sig - better);
}

static void json_series(struct kmb_json *j, const struct series *so, const struct series *sn,
                        const struct verdict *v)
{
	kmb_json_obj_begin(j, NULL);
	if (so->key[1][0]) {
		kmb_json_str(j, "backend", so->key[0]);
		kmb_json_str(j, "workload", so->key[1]);
		kmb_json_u64(j, "threads", strtoull(so->key[2], NULL, 10));
	} else {
		kmb_json_str(j, "benchmark", so->key[0]);
	}
	kmb_json_str(j, "metric", so->metric);
	kmb_json_u64(j, "n_old", so->n);
	kmb_json_u64(j, "n_new", sn->n);
	kmb_json_dbl(j, "old_median", v->mo);
	kmb_json_dbl(j, "new_median", v->mn);
	kmb_json_dbl(j, "change_pct", v->change);
	kmb_json_dbl(j, "u", v->t.u);
	kmb_json_dbl(j, "p", v->t.p);
	kmb_json_str(j, "method", v->t.exact ? "exact" : "normal");
	kmb_json_dbl(j, "p_min", v->t.pmin);
	kmb_json_bool(j, "significant", v->significant);
	kmb_json_str(j, "verdict", verdict_text(v));
	kmb_json_obj_end(j);
}

static int print_json(const struct side *o, const struct side *n, const struct cmp_args *a)
{
	struct kmb_json j;
	unsigned sig = 0;

	kmb_json_begin(&j, stdout);
	kmb_json_obj_begin(&j, NULL);
	kmb_json_str(&j, "old", o->path);
	kmb_json_str(&j, "new", n->path);
	kmb_json_str(&j, "test", "two-sided Mann-Whitney U");
	kmb_json_dbl(&j, "alpha", a->alpha);
	kmb_json_arr_begin(&j, "comparisons");
	for (size_t i = 0; i < o->n; i++) {
		const struct series *sn = find_in(n, &o->s[i]);
		struct verdict v;

		if (sn == NULL)
			continue;
		judge(&o->s[i], sn, a->alpha, &v);
		sig += v.significant;
		json_series(&j, &o->s[i], sn, &v);
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

static int parse(int argc, char **argv, struct cmp_args *a)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
	                                     {"metrics", required_argument, NULL, 'm'},
	                                     {"alpha", required_argument, NULL, 'a'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	char *end;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(compare_usage, stdout);
			exit(0);
		} else if (c == 'j') {
			a->json = true;
		} else if (c == 'm') {
			if (parse_metrics(a, optarg) != 0)
				return 2;
		} else if (c == 'a') {
			a->alpha = strtod(optarg, &end);
			if (*end || !(a->alpha > 0 && a->alpha < 1))
				return kmb_cli_error("compare", "bad --alpha '%s' (0 < A < 1)",
				                     optarg);
		} else if (c == ':') {
			return kmb_cli_error("compare", "option '%s' needs a value",
			                     argv[optind - 1]);
		} else {
			return kmb_cli_error("compare", "unknown option '%s'", argv[optind - 1]);
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

int kmb_cmd_compare(int argc, char **argv)
{
	struct cmp_args a = {.alpha = 0.05};
	struct side o = {0}, n = {0};
	struct stat st;
	int rc;

	if ((rc = parse(argc, argv, &a)) != 0)
		return rc;
	o.path = a.old;
	n.path = a.new;
	default_metrics(&a, stat(a.old, &st) == 0 && !S_ISDIR(st.st_mode));
	if (load_side(&o, &a) != 0 || load_side(&n, &a) != 0) {
		rc = 1;
	} else if (o.gbench != n.gbench) {
		fprintf(stderr,
		        "kmbench compare: %s and %s are not of the same kind (a results "
		        "directory and a google-benchmark file)\n",
		        o.path, n.path);
		rc = 1;
	} else if (a.json) {
		rc = print_json(&o, &n, &a) != 0;
	} else {
		print_text(&o, &n, &a);
	}
	side_free(&o);
	side_free(&n);
	return rc;
}
