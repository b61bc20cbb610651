/*
 * tests/test_report.c - kmbench run's result pieces: the Mann-Whitney U test of `kmbench
 * compare` against values computed by hand, the JSON and CSV readers, the report built from
 * a hand-made results directory (findings computed from its numbers), the figures' files,
 * the picture of physical memory on every backend, and a real `kmbench run` directory
 * read back: run.json and summary.csv parse, every listed file exists, and the .hgrm files
 * agree with the replay JSON's histograms.
 *
 * No timing assertions: the machine is shared; only structure and arithmetic are checked.
 */
#include "kmb_test.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kmbench/backend.h>
#include <kmbench/kmbench.h>

#include "results/results.h"
#include "results/schema.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static char tmp_root[128];

static const char *tmp_dir(void)
{
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/kmb-test-report-XXXXXX");
	if (mkdtemp(tmp_root) == NULL)
		kmb_test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
	return tmp_root;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void tmp_cleanup(void)
{
	nftw(tmp_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ASSERT_NOT_NULL(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *dir, const char *name)
{
	char path[512], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		kmb_test_fail(__FILE__, __LINE__, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc((size_t)n + 1, 1);
	ASSERT_NOT_NULL(buf);
	ASSERT_EQ_U(fread(buf, 1, (size_t)n, f), n);
	fclose(f);
	return buf;
}

static bool exists(const char *dir, const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

#define ASSERT_NEAR(a, b, eps) ASSERT_CMP_F(fabs((double)(a) - (double)(b)), <=, (eps))

/* ---- Mann-Whitney U ------------------------------------------------------------------------ */

/* Completely separated samples: U = 0, and the exact two-sided p is both extremes of the
 * C(n1 + n2, n1) equally likely rank assignments: 2/20 and 2/252. */
KMB_TEST(mwu_exact_separated)
{
	const double x3[] = {1, 2, 3}, y3[] = {4, 5, 6};
	const double x5[] = {1, 2, 3, 4, 5}, y5[] = {6, 7, 8, 9, 10};
	struct kmb_mwu t;

	ASSERT_EQ_I(kmb_mann_whitney(x3, 3, y3, 3, &t), 0);
	ASSERT_TRUE(t.exact);
	ASSERT_NEAR(t.u, 0, 1e-12);
	ASSERT_NEAR(t.p, 0.1, 1e-12);
	ASSERT_NEAR(t.pmin, 0.1, 1e-12);
	ASSERT_EQ_I(kmb_mann_whitney(x5, 5, y5, 5, &t), 0);
	ASSERT_NEAR(t.p, 2.0 / 252, 1e-12);
	ASSERT_EQ_I(kmb_mann_whitney(y5, 5, x5, 5, &t), 0); /* U = 25: the same p */
	ASSERT_NEAR(t.u, 25, 1e-12);
	ASSERT_NEAR(t.p, 2.0 / 252, 1e-12);
}

/* x = {1,3,5}, y = {2,4,6}: pairs with x > y: (3,2), (5,2), (5,4), so U = 3.  Of the 20
 * ways to pick x's ranks, U = 0, 1, 2, 3 happen 1, 1, 2 and 3 times (counted by hand:
 * {123}; {124}; {125},{134}; {126},{135},{234}), so p = 2 * 7/20 = 0.7. */
KMB_TEST(mwu_exact_interleaved)
{
	const double x[] = {1, 3, 5}, y[] = {2, 4, 6};
	const double a[] = {10, 12, 14, 16, 18, 20, 22}, b[] = {11, 13, 15, 17, 19, 21, 23};
	const double c[] = {5.1, 4.9, 6.2, 5.8, 6.0, 5.5, 5.3},
	             d[] = {6.5, 6.9, 7.1, 5.9, 7.3, 6.8, 7.0};
	struct kmb_mwu t;

	ASSERT_EQ_I(kmb_mann_whitney(x, 3, y, 3, &t), 0);
	ASSERT_NEAR(t.u, 3, 1e-12);
	ASSERT_NEAR(t.p, 0.7, 1e-12);
	/* 7 against 7, interleaved: U = 21 of 49; reference by enumerating all 3432 splits */
	ASSERT_EQ_I(kmb_mann_whitney(a, 7, b, 7, &t), 0);
	ASSERT_NEAR(t.u, 21, 1e-12);
	ASSERT_NEAR(t.p, 0.7103729603729604, 1e-12);
	ASSERT_NEAR(t.pmin, 2.0 / 3432, 1e-15);
	/* one overlap (5.9 < 6.0, 6.2): U = 2, p = 2 * 4/3432 */
	ASSERT_EQ_I(kmb_mann_whitney(c, 7, d, 7, &t), 0);
	ASSERT_NEAR(t.u, 2, 1e-12);
	ASSERT_NEAR(t.p, 8.0 / 3432, 1e-12);
}

/* Ties: midranks and the normal approximation.  x = {1,2,3,4}, y = {3,4,5,6}: ranks of the
 * pooled values 1 2 3.5 3.5 5.5 5.5 7 8, R1 = 1 + 2 + 3.5 + 5.5 = 12, U = 12 - 10 = 2;
 * two tie groups of 2: sum(t^3 - t) = 12; sigma^2 = 16/12 * (9 - 12/56) = 11.7142857;
 * z = (|2 - 8| - 0.5) / 3.4226 = 1.606959; p = erfc(z / sqrt 2) = 0.108063. */
KMB_TEST(mwu_normal_with_ties)
{
	const double x[] = {1, 2, 3, 4}, y[] = {3, 4, 5, 6};
	const double a[] = {1, 1, 2, 2, 3, 3, 4, 4, 5, 5}, b[] = {3, 3, 4, 4, 5, 5, 6, 6, 7, 7};
	struct kmb_mwu t;

	ASSERT_EQ_I(kmb_mann_whitney(x, 4, y, 4, &t), 0);
	ASSERT_FALSE(t.exact);
	ASSERT_NEAR(t.u, 2, 1e-12);
	ASSERT_NEAR(t.z, 1.6069589519246381, 1e-9);
	ASSERT_NEAR(t.p, 0.10806337293756862, 1e-9);
	/* ten a side, every value twice: sum(t^3 - t) = 204, U = 18, p = 0.0158562 */
	ASSERT_EQ_I(kmb_mann_whitney(a, 10, b, 10, &t), 0);
	ASSERT_NEAR(t.u, 18, 1e-12);
	ASSERT_NEAR(t.p, 0.015856209681046236, 1e-9);
}

KMB_TEST(mwu_identical_and_degenerate)
{
	const double x[] = {7, 7, 7, 7, 7}, y[] = {1, 2, 3};
	struct kmb_mwu t;

	ASSERT_EQ_I(kmb_mann_whitney(x, 5, x, 5, &t), 0);
	ASSERT_NEAR(t.p, 1, 0);
	ASSERT_NEAR(t.u, 12.5, 1e-12);
	ASSERT_EQ_I(kmb_mann_whitney(y, 3, y, 3, &t), 0); /* the same values: ties everywhere */
	ASSERT_NEAR(t.p, 1, 1e-12);
	ASSERT_EQ_I(kmb_mann_whitney(x, 0, y, 3, &t), -EINVAL);
}

KMB_TEST(median)
{
	const double odd[] = {5, 1, 3}, even[] = {4, 1, 3, 2};

	ASSERT_NEAR(kmb_median(odd, 3), 3, 0);
	ASSERT_NEAR(kmb_median(even, 4), 2.5, 0);
	ASSERT_TRUE(isnan(kmb_median(odd, 0)));
}

/* ---- JSON and CSV readers ------------------------------------------------------------------- */

KMB_TEST(json_reader)
{
	const char *doc =
	        "{\"a\": [1, -2.5e3, true, null], \"s\": \"x\\\"\\u00e9\\ud83d\\ude00\\n\","
	        " \"o\": {\"k\": false}, \"e\": {}, \"z\": []}";
	struct kmb_jv v;
	const struct kmb_jv *a;
	char err[128];

	ASSERT_EQ_I(kmb_jv_parse(doc, strlen(doc), &v, err, sizeof(err)), 0);
	a = kmb_jv_get(&v, "a");
	ASSERT_NOT_NULL(a);
	ASSERT_EQ_U(a->n, 4);
	ASSERT_NEAR(a->kid[1].num, -2500, 0);
	ASSERT_TRUE(a->kid[2].b);
	ASSERT_EQ_I(a->kid[3].type, KMB_JV_NULL);
	ASSERT_EQ_STR(kmb_jv_str(&v, "s", NULL), "x\"\xc3\xa9\xf0\x9f\x98\x80\n");
	ASSERT_FALSE(kmb_jv_bool(kmb_jv_get(&v, "o"), "k", true));
	ASSERT_EQ_U(kmb_jv_get(&v, "e")->n, 0);
	ASSERT_NULL(kmb_jv_get(&v, "missing"));
	kmb_jv_free(&v);
}

KMB_TEST(json_reader_rejects)
{
	static const char *const bad[] = {
	        "",   "{",     "[1,]",  "{\"a\" 1}",    "01",      "1.",
	        "+1", "\"abc", "[1] 2", "{\"a\": tru}", "\"\\x\"", "[\"\x01\"]"};
	char deep[2000], err[128];
	struct kmb_jv v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (kmb_jv_parse(bad[i], strlen(bad[i]), &v, err, sizeof(err)) != -EINVAL)
			kmb_test_fail(__FILE__, __LINE__, "accepted '%s'", bad[i]);
		ASSERT_CONTAINS(err, "line 1: ");
	}
	memset(deep, '[', sizeof(deep));
	ASSERT_EQ_I(kmb_jv_parse(deep, sizeof(deep), &v, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "nested too deeply");
	ASSERT_EQ_I(kmb_jv_parse("[\n1,\n,]", 7, &v, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "line 3");
}

KMB_TEST(csv_reader)
{
	const char *dir = tmp_dir();
	struct kmb_csv c;
	char path[256];

	put_file(dir, "t.csv", "a,b,c\r\n1,x,2.5\n\n3,,\n4\n");
	snprintf(path, sizeof(path), "%s/t.csv", dir);
	ASSERT_EQ_I(kmb_csv_load(path, &c), 0);
	ASSERT_EQ_U(c.nrows, 4);
	ASSERT_EQ_I(kmb_csv_col(&c, "c"), 2);
	ASSERT_EQ_I(kmb_csv_col(&c, "d"), -1);
	ASSERT_EQ_STR(kmb_csv_get(&c, 1, "b"), "x");
	ASSERT_NEAR(kmb_csv_num(&c, 1, "c"), 2.5, 0);
	ASSERT_TRUE(isnan(kmb_csv_num(&c, 2, "b")));
	ASSERT_EQ_STR(kmb_csv_get(&c, 3, "c"), "");
	kmb_csv_free(&c);
	tmp_cleanup();
}

/* A spec with tunables holds commas: quoted on the way out, whole on the way back. */
KMB_TEST(csv_quoted_fields_round_trip)
{
	const char *dir = tmp_dir();
	const char *spec = "slab@buddy(pcp_high=64,pcp_batch=8)", *odd = "a \"q\",b";
	struct kmb_csv c;
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/q.csv", dir);
	f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	fputs("backend,x,y\n", f);
	kmb_csv_field(f, spec);
	fputs(",1,", f);
	kmb_csv_field(f, odd);
	fputs("\nslab,2,\"open\n", f);
	ASSERT_EQ_I(fclose(f), 0);
	ASSERT_EQ_I(kmb_csv_load(path, &c), 0);
	ASSERT_EQ_U(c.nrows, 3);
	ASSERT_EQ_STR(kmb_csv_get(&c, 1, "backend"), spec);
	ASSERT_NEAR(kmb_csv_num(&c, 1, "x"), 1, 0);
	ASSERT_EQ_STR(kmb_csv_get(&c, 1, "y"), odd);
	ASSERT_EQ_STR(kmb_csv_get(&c, 2, "backend"), "slab");
	ASSERT_EQ_STR(kmb_csv_get(&c, 2, "y"), "open"); /* an unclosed quote ends at the line */
	kmb_csv_free(&c);
	tmp_cleanup();
}

/* A message keeps its commas and quotes through summary.csv (issue 15: "a, b" came back as
 * "a  b"); a newline becomes a space. */
KMB_TEST(csv_messages_keep_commas)
{
	const char *dir = tmp_dir();
	struct kmb_csv c;
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/q.csv", dir);
	f = fopen(path, "w");
	ASSERT_TRUE(f != NULL);
	fputs("name,error,n\nbuddy,", f);
	kmb_csv_field(f, "deadlock: 1 thread waits (256 of 768 pages free, \"largest\" 4096)\nend");
	fputs(",7\nslab,", f);
	kmb_csv_field(f, "plain");
	fputs(",\"\"\n", f);
	fclose(f);
	ASSERT_EQ_I(kmb_csv_load(path, &c), 0);
	ASSERT_EQ_U(c.nrows, 3);
	ASSERT_EQ_STR(kmb_csv_get(&c, 1, "error"),
	              "deadlock: 1 thread waits (256 of 768 pages free, \"largest\" 4096) end");
	ASSERT_NEAR(kmb_csv_num(&c, 1, "n"), 7, 0);
	ASSERT_EQ_STR(kmb_csv_get(&c, 2, "error"), "plain");
	ASSERT_EQ_STR(kmb_csv_get(&c, 2, "n"), "");
	kmb_csv_free(&c);
	tmp_cleanup();
}

/* ---- the report from a hand-made results directory ------------------------------------------ */

static const char fixture_run[] =
        "{\"host\": \"h\", \"cpu_model\": \"CPU X\", \"backends\": [\"fast\", \"slow\"],\n"
        " \"threads\": [1, 2], \"complete\": true, \"repetitions\": 3, \"duration_s\": 5,\n"
        " \"idle_cpus_at_start\": 1.2, \"online_cpus\": 2, \"idle_cpus_method\": \"m\",\n"
        " \"jobs\": {\"total\": 12, \"done\": 12, \"failed\": 0},\n"
        " \"workloads\": [{\"name\": \"w\", \"source\": \"trace.log\", \"events\": 10,\n"
        "   \"repeat\": 2, \"scaling\": \"replicate\"},\n"
        "  {\"name\": \"exhaust\", \"generator\": \"exhaust\", \"repeat\": 1}]}\n";

static const char fixture_summary[] =
        "backend,workload,repetitions,ops_per_sec_median,alloc_p99_ns,alloc_p999_ns,free_p99_ns,"
        "peak_footprint_bytes,peak_live_bytes_req,internal_frag_pct,jw_footprint_at_peak_ratio,"
        "jw_peak_footprint_ratio,failed_allocs,threads,repeat,sleeps,nofail_retries,"
        "reserve_allocs,deadlocks,error\n"
        "fast,w,3,4000000,100,200,50,2097152,1048576,10,1.5,2.0,0,1,2,0,0,0,0,\n"
        "slow,w,3,1000000,300,900,150,1048576,1048576,30,1.1,1.0,0,1,2,0,0,0,0,\n"
        "fast,w,3,7000000,100,200,50,2097152,1048576,10,1.5,2.0,0,2,2,0,0,0,0,\n"
        "slow,w,3,1100000,300,900,150,1048576,1048576,30,1.1,1.0,0,2,2,0,0,0,0,\n"
        "fast,exhaust,3,2000000,100,200,50,2097152,1048576,0,1,1,40,1,1,0,2,5,0,\n"
        "slow,exhaust,3,1000000,300,900,150,1048576,1048576,0,1,1,10,1,1,7,3,1,0,boom\n";

KMB_TEST(report_findings_from_data)
{
	const char *dir = tmp_dir();
	char err[512], *md, *html;

	put_file(dir, "run.json", fixture_run);
	put_file(dir, "summary.csv", fixture_summary);
	put_file(dir, "latency.gp", "# only the script: the PNG was never rendered\n");
	put_file(dir, "latency.png", "\x89PNG\r\n\x1a\n0123456789");
	ASSERT_EQ_I(kmb_report_write(dir, err, sizeof(err)), 0);
	md = slurp(dir, "report.md");
	ASSERT_CONTAINS(md, "Complete: all 12 jobs (repetitions of a backend on a workload at a "
	                    "thread count) ran and succeeded in 5 s.");
	ASSERT_CONTAINS(md, "| 1 | fast | 100.0 |"); /* ranked by throughput */
	ASSERT_CONTAINS(md, "w: fast has the lowest p99 alloc latency (100 ns), 3.0x below slow "
	                    "(300 ns)");
	ASSERT_CONTAINS(md,
	                "w: slow has the smallest peak footprint (1.00 MiB, 1.00x the peak live "
	                "requested bytes), fast the largest (2.00 MiB, 2.00x)");
	ASSERT_CONTAINS(md, "w: from 1 to 2 threads, throughput changes by 1.75x with fast (the "
	                    "best) and by 1.10x with slow (the worst).");
	ASSERT_CONTAINS(md, "slow fails the fewest allocations (10 per pass)");
	ASSERT_CONTAINS(md, "slow on exhaust at 1 thread(s): boom");
	ASSERT_CONTAINS(md, "exhaust: internal fragmentation is 0.0% with every backend");
	ASSERT_TRUE(strstr(md, "exhaust, 2 threads") == NULL); /* no rows, no table */
	ASSERT_CONTAINS(md, "![Latency by percentile](latency.png)");
	ASSERT_CONTAINS(md, "WARNING: only 1.2 of 2 online CPUs were idle at the start (m)");
	ASSERT_CONTAINS(md, "Timer resolution: not recorded");
	html = slurp(dir, "report.html");
	ASSERT_CONTAINS(html, "<!DOCTYPE html>");
	ASSERT_CONTAINS(html, "src=\"data:image/png;base64,iVBORw0KGgow");
	ASSERT_TRUE(strstr(html, "http://") == NULL && strstr(html, "https://") == NULL);
	ASSERT_CONTAINS(html, "<td class=\"r\">4.00 M</td>");
	free(md);
	free(html);
	tmp_cleanup();
}

/* results/report_design.c: the fidelity table, and the finding on slub, slub-sheaves and
 * slab computed from the medians (geometric means over workloads, margins with their
 * least and greatest per-workload value). */
static const char fixture_designs_run[] =
        "{\"backends\": [\"slub\", \"slub-sheaves\", \"slab\", \"libc\"], \"threads\": [1],\n"
        " \"complete\": true, \"repetitions\": 3,\n"
        " \"workloads\": [{\"name\": \"w1\"}, {\"name\": \"w2\"}]}\n";

static const char fixture_designs_summary[] =
        "backend,workload,repetitions,threads,repeat,ops_per_sec,ops_per_cpu_sec,"
        "peak_footprint_bytes,internal_frag_pct,kmalloc_fidelity_pct,kmalloc_fidelity_events,"
        "cache_fidelity_pct,cache_fidelity_events\n"
        "slub,w1,3,1,1,2000000,2000000,1048576,10,100,2000,,0\n"
        "slub-sheaves,w1,3,1,1,3000000,3000000,2097152,10,100,2000,,0\n"
        "slab,w1,3,1,1,1000000,1000000,1572864,12,99,2000,,0\n"
        "libc,w1,3,1,1,9000000,9000000,1048576,5,0,2000,,0\n"
        "slub,w2,3,1,1,4000000,4000000,1048576,20,100,10,,0\n"
        "slub-sheaves,w2,3,1,1,4000000,4000000,2097152,20,100,10,,0\n"
        "slab,w2,3,1,1,2000000,2000000,1572864,20,100,10,,0\n";

KMB_TEST(report_compares_slub_sheaves_and_slab)
{
	const char *dir = tmp_dir();
	char err[512], *md;

	put_file(dir, "run.json", fixture_designs_run);
	put_file(dir, "summary.csv", fixture_designs_summary);
	ASSERT_EQ_I(kmb_report_write(dir, err, sizeof(err)), 0);
	md = slurp(dir, "report.md");
	ASSERT_CONTAINS(md, "## SLUB, SLUB with sheaves and slab");
	ASSERT_CONTAINS(md, "- throughput per CPU-second: slub-sheaves is best by its geometric "
	                    "mean, and best in 1 of 2 workloads; 1.22x over slub (1.00x to 1.50x), "
	                    "2.45x over slab (2.00x to 3.00x).");
	ASSERT_CONTAINS(md,
	                "- peak footprint: slub is best by its geometric mean, and best in 2 of "
	                "2 workloads; 2.00x over slub-sheaves (2.00x to 2.00x), 1.50x over slab "
	                "(1.50x to 1.50x).");
	ASSERT_CONTAINS(md,
	                "- kmalloc fidelity: slub is best by its mean, and best in 2 of 2 "
	                "workloads; by 0.0 points over slub-sheaves (0.0 to 0.0), by 0.5 points "
	                "over slab (0.0 to 1.0).");
	ASSERT_TRUE(strstr(md, "kmem_cache fidelity:") == NULL); /* no values, no sentence */
	ASSERT_TRUE(strstr(md, "over libc") == NULL);            /* only the three designs */
	ASSERT_CONTAINS(md, "## Fidelity to the traced kernel");
	ASSERT_CONTAINS(md, "| w1 | slab | 99.00 |");
	ASSERT_CONTAINS(md, "| w2 | slub | 100.00 |");
	free(md);
	tmp_cleanup();
	/* one of the three alone: no finding */
	dir = tmp_dir();
	put_file(dir, "run.json", "{\"backends\": [\"slab\", \"libc\"], \"threads\": [1]}\n");
	put_file(dir, "summary.csv",
	         "backend,workload,repetitions,threads,repeat,ops_per_sec,ops_per_cpu_sec\n"
	         "slab,w1,3,1,1,1000000,1000000\nlibc,w1,3,1,1,9000000,9000000\n");
	ASSERT_EQ_I(kmb_report_write(dir, err, sizeof(err)), 0);
	md = slurp(dir, "report.md");
	ASSERT_TRUE(strstr(md, "SLUB, SLUB with sheaves") == NULL);
	ASSERT_TRUE(strstr(md, "Fidelity to the traced kernel") == NULL); /* nothing comparable */
	free(md);
	tmp_cleanup();
}

/* vmstat -m pivoted: types and kmem_caches of the first workload, one column per backend,
 * ordered by the largest high-water mark, failures in the cell, '-' where unused. */
KMB_TEST(report_vmstat_is_one_table_of_types_and_caches)
{
	const char *dir = tmp_dir();
	char err[512], sub[300], *md;

	put_file(dir, "run.json", fixture_run);
	put_file(dir, "summary.csv", fixture_summary);
	snprintf(sub, sizeof(sub), "%s/replay", dir);
	ASSERT_EQ_I(mkdir(sub, 0755), 0);
	put_file(dir, "replay/fast-w-r1.json",
	         "{\"types\": [{\"type\": \"M_TEMP\", \"high_use\": 4096, \"requests\": 7, "
	         "\"failed\": 0}],\n \"caches\": [{\"cache\": \"dentry\", \"high_use\": "
	         "2097152, \"requests\": 100, \"failed\": 0, \"object_size\": 192,\n"
	         " \"slabinfo\": {\"active_objs\": 150, \"total_objs\": 200, \"active_slabs\": 9, "
	         "\"total_slabs\": 10, \"objs_per_slab\": 21, \"pages_per_slab\": 1}}]}\n");
	/* slow's first repetition failed before its JSON: the second one is read */
	put_file(dir, "replay/slow-w-r2.json",
	         "{\"types\": [{\"type\": \"M_TEMP\", \"high_use\": 8192, \"requests\": 5, "
	         "\"failed\": 2}, {\"type\": \"M_DEVBUF\", \"high_use\": 512, "
	         "\"requests\": 1, \"failed\": 0}]}\n");
	ASSERT_EQ_I(kmb_report_write(dir, err, sizeof(err)), 0);
	md = slurp(dir, "report.md");
	ASSERT_CONTAINS(md, "malloc types (call sites; 2 in all) and kmem\\_caches (1): the 3 ");
	ASSERT_CONTAINS(md, "| Type | Kind | Requests (allocations) | fast | slow |");
	ASSERT_CONTAINS(md, "| dentry | kmem\\_cache | 100 | 2.00 MiB | - |\n"
	                    "| M\\_TEMP | malloc type | 7 | 4.0 KiB | 8.0 KiB, 2 failed |\n"
	                    "| M\\_DEVBUF | malloc type | 1 | - | 512 B |");
	/* slabtop: only fast keeps its caches in slabs */
	ASSERT_CONTAINS(md, "### slabtop: fast (1 caches)");
	ASSERT_TRUE(strstr(md, "slabtop: slow") == NULL);
	ASSERT_CONTAINS(md, "| dentry | 150 | 200 | 75% | 9 | 10 | 21 | 1 | 192 B | 40.0 KiB |");
	free(md);
	tmp_cleanup();
}

KMB_TEST(report_of_an_empty_interrupted_run)
{
	const char *dir = tmp_dir();
	char err[512], *md;

	put_file(
	        dir, "run.json",
	        "{\"complete\": false, \"incomplete_reason\": \"interrupted by SIGINT after 0 of 4 "
	        "jobs\", \"jobs\": {\"total\": 4, \"done\": 0}}");
	put_file(dir, "summary.csv", "backend,workload,repetitions\n");
	ASSERT_EQ_I(kmb_report_write(dir, err, sizeof(err)), 0);
	md = slurp(dir, "report.md");
	ASSERT_CONTAINS(md, "INCOMPLETE: interrupted by SIGINT after 0 of 4 jobs.");
	ASSERT_CONTAINS(md, "did not include the exhaust workload");
	free(md);
	tmp_cleanup();
}

/* Ties: fast is significantly ahead of the other two (5 repetitions a side: p = 0.008),
 * which do not differ from each other; mid's CV is flagged. */
static const char ties_summary[] =
        "backend,workload,repetitions,failed_repetitions,threads,ops_per_sec,ops_per_sec_min,"
        "ops_per_sec_max,ops_per_sec_cv_pct,ops_per_cpu_sec,ops_per_cpu_sec_cv_pct,repeat\n"
        "fast,w,5,0,1,9000000,8800000,9200000,1.5,0,0,1\n"
        "mid,w,5,0,1,5000000,3000000,7000000,25.0,0,0,1\n"
        "low,w,5,0,1,4900000,4700000,5100000,3.0,0,0,1\n";

KMB_TEST(report_ranks_with_ties_and_flags_noise)
{
	static const double v[3][5] = {{8.8e6, 8.9e6, 9e6, 9.1e6, 9.2e6},
	                               {3e6, 4e6, 5e6, 6e6, 7e6},
	                               {4.7e6, 4.8e6, 4.9e6, 5e6, 5.1e6}};
	static const char *const name[3] = {"fast", "mid", "low"};
	const char *dir = tmp_dir();
	char err[512], reps[2048], *md;
	size_t n = 0;

	put_file(dir, "run.json", "{\"backends\": [\"fast\", \"mid\", \"low\"], \"threads\": [1]}");
	put_file(dir, "summary.csv", ties_summary);
	n += (size_t)snprintf(reps, sizeof(reps),
	                      "backend,workload,threads,repetition,ok,ops_per_sec\n");
	for (int b = 0; b < 3; b++)
		for (int k = 0; k < 5; k++)
			n += (size_t)snprintf(reps + n, sizeof(reps) - n, "%s,w,1,%d,1,%.0f\n",
			                      name[b], k + 1, v[b][k]);
	put_file(dir, "repetitions.csv", reps);
	ASSERT_EQ_I(kmb_report_write(dir, err, sizeof(err)), 0);
	md = slurp(dir, "report.md");
	ASSERT_CONTAINS(md, "| 1 | fast | 9.00 M \\[8.80 M - 9.20 M\\] | 1.5 |");
	ASSERT_CONTAINS(md, "| =2 | mid | 5.00 M \\[3.00 M - 7.00 M\\] | 25.0 ! |");
	ASSERT_CONTAINS(md, "| =2 | low | 4.90 M");
	ASSERT_CONTAINS(md, "Noisy: mid (25%)");
	ASSERT_CONTAINS(md, "significantly ahead of the second in 1 of 1 workload ");
	ASSERT_CONTAINS(md, "Caution: 1 of 3 cells vary by more than 10%");
	ASSERT_CONTAINS(md, "Throughput is ranked by ops\\_per\\_sec"); /* CPU time not measured */
	ASSERT_TRUE(strstr(md, "every backend ties") == NULL);
	free(md);
	tmp_cleanup();
}

/* More backends, workloads and thread counts than the report once had room for (64, 16,
 * 8): every one is reported. */
KMB_TEST(report_has_no_fixed_limits)
{
	const char *dir = tmp_dir();
	size_t cap = 1 << 20, n = 0;
	char *csv = malloc(cap), err[512], *md;

	ASSERT_NOT_NULL(csv);
	n += (size_t)snprintf(csv, cap, "backend,workload,repetitions,threads,ops_per_sec\n");
	for (int b = 0; b < 70; b++)
		for (int w = 0; w < 18; w++)
			for (int t = 1; t <= 10; t++)
				n += (size_t)snprintf(csv + n, cap - n, "b%d,w%d,3,%d,%d\n", b, w,
				                      t, 1000000 + 1000 * b + t);
	put_file(dir, "summary.csv", csv);
	ASSERT_EQ_I(kmb_report_write(dir, err, sizeof(err)), 0);
	md = slurp(dir, "report.md");
	ASSERT_CONTAINS(md, "| 1 | b69 | 100.0 |");
	ASSERT_CONTAINS(md, "### w17, 1 thread");
	ASSERT_CONTAINS(md, "from 1 to 10 threads");
	free(md);
	free(csv);
	tmp_cleanup();
}

/* ---- figures -------------------------------------------------------------------------------- */

KMB_TEST(figure_files_without_gnuplot)
{
	const double x[] = {1, 2, 3}, y[] = {10, 0, 30}, lo[] = {9, 0, 29}, hi[] = {11, 0, 31};
	struct kmb_fig_series s[] = {{"a", 3, x, y, NULL, NULL, 0, false, KMB_FIG_LINES, 0},
	                             {"b", 3, x, y, lo, hi, 1, true, KMB_FIG_ERRORLINES, 0},
	                             {"empty", 0, x, y, NULL, NULL, 2, false, KMB_FIG_BOXES, 0.5}};
	struct kmb_fig_panel p[] = {{"log", "x", "y", false, true, NULL, NULL, 1, s, 3},
	                            {"none", NULL, NULL, false, false, NULL, NULL, 0, s + 2, 1}};
	struct kmb_fig f = {"fig", "t", 1, 2, 400, 300, p, 2};
	const char *dir = tmp_dir();
	char err[256], *dat, *gp;

	setenv("KMB_GNUPLOT", "/nonexistent", 1);
	ASSERT_EQ_I(kmb_fig_write(dir, &f, err, sizeof(err)), -ENOENT);
	ASSERT_EQ_STR(err, "gnuplot not found: apt-get install gnuplot-nox");
	unsetenv("KMB_GNUPLOT");
	dat = slurp(dir, "fig.dat");
	gp = slurp(dir, "fig.gp");
	/* log y: the 0 point is left out; the empty series has no block, its panel says so */
	ASSERT_CONTAINS(dat, "# index 0: log / a\n1 10\n3 30\n");
	ASSERT_CONTAINS(dat, "# index 1: log / b\n1 10 9 11\n3 30 29 31\n");
	ASSERT_TRUE(strstr(dat, "index 2") == NULL);
	ASSERT_CONTAINS(gp, "set multiplot layout 1,2");
	ASSERT_CONTAINS(gp, "'fig.dat' index 1 using 1:2:3:4 with yerrorlines");
	ASSERT_CONTAINS(gp, "'no data'");
	ASSERT_CONTAINS(gp, "set output 'fig.svg'");
	ASSERT_FALSE(exists(dir, "fig.png"));
	free(dat);
	free(gp);
	tmp_cleanup();
}

KMB_TEST(frame_kinds_have_labels_keys_and_colours)
{
	/* an enum value appended without a line in figure.c's table fails here */
	for (unsigned k = 0; k < KMB_FRAME_NKINDS; k++) {
		if (!kmb_frame_kind_declared(k))
			kmb_test_fail(__FILE__, __LINE__, "frame kind %u has no label or colour",
			              k);
		ASSERT_TRUE(kmb_frame_kind_label(k)[0] != '\0');
		ASSERT_EQ_U(strlen(kmb_frame_kind_color(k)), 7);
		for (unsigned j = 0; j < k; j++) {
			if (strcmp(kmb_frame_kind_key(j), kmb_frame_kind_key(k)) == 0)
				kmb_test_fail(__FILE__, __LINE__, "kinds %u and %u share key %s", j,
				              k, kmb_frame_kind_key(k));
			if (strcmp(kmb_frame_kind_color(j), kmb_frame_kind_color(k)) == 0)
				kmb_test_fail(__FILE__, __LINE__, "kinds %u and %u share colour %s",
				              j, k, kmb_frame_kind_color(k));
		}
	}
	ASSERT_FALSE(kmb_frame_kind_declared(KMB_FRAME_NKINDS));
	ASSERT_EQ_STR(kmb_frame_kind_color(KMB_FRAME_NKINDS), "#ff00ff");
	ASSERT_EQ_STR(kmb_frame_kind_key(KMB_FRAME_FREE_ORDER0 + 3), "free_o3");
}

/* ---- the picture of physical memory on every backend ------------------------------------------
 */

static void check_map(const char *spec, const uint8_t *map, size_t n)
{
	struct kmb_memstat ms;
	size_t held = 0, nfree = 0;

	kmb_memstat(&ms);
	for (size_t i = 0; i < n; i++) {
		if (map[i] == KMB_FRAME_UNKNOWN || map[i] >= KMB_FRAME_NKINDS)
			kmb_test_fail(__FILE__, __LINE__, "%s: frame %zu has kind %u", spec, i,
			              map[i]);
		if (map[i] == KMB_FRAME_FREE ||
		    (map[i] >= KMB_FRAME_FREE_ORDER0 && map[i] <= KMB_FRAME_FREE_ORDER_MAX))
			nfree++;
		else
			held++;
	}
	/* every frame a backend holds is held in the picture, and no other (a baseline holds
	 * none: it accounts memory it takes from the process) */
	if (held != ms.held_pages + ms.meta_pages && held > 0)
		kmb_test_fail(__FILE__, __LINE__, "%s: %zu held frames pictured, %zu held", spec,
		              held, ms.held_pages + ms.meta_pages);
	ASSERT_EQ_U(held + nfree, n);
}

static bool has_kind(const uint8_t *map, size_t n, int lo, int hi)
{
	for (size_t i = 0; i < n; i++)
		if (map[i] >= lo && map[i] <= hi)
			return true;
	return false;
}

KMB_TEST(frame_map_on_every_backend)
{
	for (size_t s = 0; s < kmb_backend_count(); s++) {
		const char *spec = kmb_backend_at(s)->name;
		struct kmb_config cfg = {.backend = spec, .mem_bytes = 16u << 20};
		static void *p[600];
		uint8_t *map;
		int n;

		ASSERT_EQ_I(kmb_boot(&cfg), 0);
		n = kmb_frame_map(NULL, 0);
		ASSERT_EQ_I(n, 4096);
		map = calloc((size_t)n, 1);
		for (int i = 0; i < 600; i++)
			p[i] = kmalloc(i % 3 == 0   ? 48
			               : i % 3 == 1 ? 700
			                            : 3 * KMB_PAGE_SIZE,
			               M_TEMP, M_WAITOK);
		for (int i = 0; i < 600; i += 2) /* leave partial slabs and free holes */
			kfree(p[i], M_TEMP);
		ASSERT_EQ_I(kmb_frame_map(map, (size_t)n), n);
		check_map(spec, map, (size_t)n);
		if (strncmp(spec, "buddy", 5) == 0)
			ASSERT_TRUE(has_kind(map, n, KMB_FRAME_HEAP, KMB_FRAME_LARGE));
		if (strncmp(spec, "slab", 4) == 0)
			ASSERT_TRUE(has_kind(map, n, KMB_FRAME_SLAB_FULL, KMB_FRAME_SLAB_EMPTY));
		if (strncmp(spec, "bucket", 6) == 0)
			ASSERT_TRUE(has_kind(map, n, KMB_FRAME_BUCKET, KMB_FRAME_BUCKET_EMPTY));
		if (strncmp(spec, "vmem", 4) == 0)
			ASSERT_TRUE(has_kind(map, n, KMB_FRAME_VMEM_SPAN, KMB_FRAME_VMEM_SPAN));
		if (strcmp(spec, "buddy") == 0) /* the buddy's free blocks show their order */
			ASSERT_TRUE(has_kind(map, n, KMB_FRAME_FREE_ORDER0 + 10,
			                     KMB_FRAME_FREE_ORDER0 + 10));
		for (int i = 1; i < 600; i += 2)
			kfree(p[i], M_TEMP);
		free(map);
		ASSERT_EQ_I(kmb_shutdown(), 0);
	}
	ASSERT_EQ_I(kmb_frame_map(NULL, 0), -EINVAL); /* nothing booted */
}

/* ---- a real run directory, read back --------------------------------------------------------- */

/* The value at percentile level `pct` of a .hgrm text, and its footer's max and count. */
static bool hgrm_row(const char *text, double pct, double *value)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		double v, p;

		if (sscanf(l, "%lf %lf", &v, &p) == 2 && fabs(p - pct / 100) < 1e-9) {
			*value = v;
			return true;
		}
	}
	return false;
}

static void check_hgrm(const char *dir, const char *cell, const char *what,
                       const struct kmb_jv *hist)
{
	char name[256], *text;
	double v, max, count;
	const char *foot;

	snprintf(name, sizeof(name), "%s.%s.hgrm", cell, what);
	text = slurp(dir, name);
	ASSERT_TRUE(hgrm_row(text, 50, &v));
	ASSERT_NEAR(v, kmb_jv_num(hist, "p50", -1), 0);
	ASSERT_TRUE(hgrm_row(text, 90, &v));
	ASSERT_NEAR(v, kmb_jv_num(hist, "p90", -1), 0);
	foot = strstr(text, "#[Max");
	ASSERT_NOT_NULL(foot);
	ASSERT_EQ_I(sscanf(foot, "#[Max = %lf, Total count = %lf", &max, &count), 2);
	ASSERT_NEAR(max, kmb_jv_num(hist, "max", -1), 0);
	ASSERT_NEAR(count, kmb_jv_num(hist, "count", -1), 0);
	free(text);
}

/* `kmbench run --quick --ops 20000 ARGS` into a new temporary root: its results directory. */
static void kmbench_run(const char *args, char *dir, size_t len)
{
	const char *root = tmp_dir();
	char cmd[1024];
	FILE *ls;

	snprintf(cmd, sizeof(cmd), "'%s' run --quick --ops 20000 %s --out '%s' >/dev/null 2>&1",
	         KMB_BINARY, args, root);
	ASSERT_EQ_I(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "ls -d '%s'/*/", root);
	ls = popen(cmd, "r");
	ASSERT_TRUE(ls && fgets(dir, (int)len, ls));
	pclose(ls);
	dir[strcspn(dir, "\n")] = '\0';
}

static void check_summary(const char *dir)
{
	struct kmb_csv c;
	char path[600];

	snprintf(path, sizeof(path), "%s/summary.csv", dir);
	ASSERT_EQ_I(kmb_csv_load(path, &c), 0);
	ASSERT_EQ_U(c.nrows, 1 + 2 * 2 * 2); /* backends x workloads x thread counts */
	for (size_t r = 1; r < c.nrows; r++) {
		ASSERT_NEAR(kmb_csv_num(&c, r, "repetitions"), 1, 0);
		ASSERT_CMP_F(kmb_csv_num(&c, r, "ops_per_sec"), >, 0);
		ASSERT_CMP_F(kmb_csv_num(&c, r, "alloc_p99_ns"), >=,
		             kmb_csv_num(&c, r, "alloc_p50_ns"));
		ASSERT_CMP_F(kmb_csv_num(&c, r, "peak_footprint_bytes"), >, 0);
		ASSERT_CMP_F(kmb_csv_num(&c, r, "jw_peak_footprint_ratio"), >=, 0.9);
		ASSERT_TRUE(isfinite(kmb_csv_num(&c, r, "extfrag_unusable_pct")));
	}
	kmb_csv_free(&c);
}

KMB_TEST(run_directory_reads_back)
{
	static const char *const files[] = {"run.json",
	                                    "summary.csv",
	                                    "repetitions.csv",
	                                    "sizeclass.csv",
	                                    "frames.csv",
	                                    "report.md",
	                                    "report.html",
	                                    "frames/buddy-exhaust.bin",
	                                    "frames/slab-linux-3.6-boot.bin",
	                                    "buddy-exhaust-t2.alloc.hgrm",
	                                    "slab-linux-3.6-boot.samples.csv",
	                                    "replay/slab-exhaust-t2-r1.json",
	                                    "latency.gp",
	                                    "latency.dat",
	                                    "sizeclass.gp",
	                                    "footprint.gp",
	                                    "frag.gp",
	                                    "scaling.gp",
	                                    "frames-exhaust.gp",
	                                    NULL};
	char cmd[1024], dir[512], err[256];
	struct kmb_jv run, rep;
	struct stat st;

	kmbench_run("--backends buddy,slab --workloads linux-3.6-boot,exhaust --threads 1,2 "
	            "--repetitions 1 --seed 9",
	            dir, sizeof(dir));
	for (const char *const *f = files; *f; f++)
		if (!exists(dir, *f))
			kmb_test_fail(__FILE__, __LINE__, "%s%s missing", dir, *f);
	snprintf(cmd, sizeof(cmd), "%s/frames/buddy-exhaust.bin", dir);
	ASSERT_TRUE(stat(cmd, &st) == 0 && st.st_size == 8192); /* 32 MiB: 8192 frames */
	snprintf(cmd, sizeof(cmd), "%s/run.json", dir);
	ASSERT_EQ_I(kmb_jv_load(cmd, &run, err, sizeof(err)), 0);
	ASSERT_TRUE(kmb_jv_bool(&run, "complete", false));
	ASSERT_NOT_NULL(kmb_jv_str(&run, "cpu_model", NULL));
	ASSERT_NOT_NULL(kmb_jv_str(&run, "topology", NULL));
	ASSERT_EQ_U(kmb_jv_get(&run, "workloads")->n, 2);
	ASSERT_NEAR(kmb_jv_num(kmb_jv_get(&run, "jobs"), "done", 0), 8, 0);
	kmb_jv_free(&run);
	check_summary(dir);
	/* one repetition: the merged .hgrm is that repetition's histogram */
	snprintf(cmd, sizeof(cmd), "%s/replay/buddy-linux-3.6-boot-r1.json", dir);
	ASSERT_EQ_I(kmb_jv_load(cmd, &rep, err, sizeof(err)), 0);
	check_hgrm(dir, "buddy-linux-3.6-boot", "alloc", kmb_jv_get(&rep, "alloc_ns"));
	check_hgrm(dir, "buddy-linux-3.6-boot", "free", kmb_jv_get(&rep, "free_ns"));
	kmb_jv_free(&rep);
	tmp_cleanup();
}

/* Every figure of summary.csv is the median (and min, max) of the cell's rows of
 * repetitions.csv, for every column the schema declares: never the last repetition's. */
static unsigned check_medians(const struct kmb_csv *sum, const struct kmb_csv *reps)
{
	unsigned differ = 0;

	for (size_t r = 1; r < sum->nrows; r++)
		for (int m = 0; m < KMB_NMETRICS; m++) {
			const char *name = kmb_metrics[m].name;
			double v[16];
			struct kmb_spread s;
			size_t n = 0;
			char col[80];

			if (!kmb_metric_numeric(m) || m == KMB_M_threads)
				continue;
			for (size_t k = 1; k < reps->nrows && n < 16; k++)
				if (!strcmp(kmb_csv_get(reps, k, "backend"),
				            kmb_csv_get(sum, r, "backend")) &&
				    !strcmp(kmb_csv_get(reps, k, "workload"),
				            kmb_csv_get(sum, r, "workload")) &&
				    kmb_csv_num(reps, k, "threads") ==
				            kmb_csv_num(sum, r, "threads"))
					v[n++] = kmb_csv_num(reps, k, name);
			ASSERT_EQ_U(n, 3);
			kmb_spread(v, n, &s);
			differ += s.min != s.max;
			/* 0.1 or 6 significant digits in the files */
			ASSERT_NEAR(kmb_csv_num(sum, r, name), s.median,
			            1e-5 * fabs(s.median) + 0.06);
			if (kmb_metrics[m].dir == KMB_MD_NONE)
				continue;
			snprintf(col, sizeof(col), "%s_min", name);
			ASSERT_NEAR(kmb_csv_num(sum, r, col), s.min, 1e-5 * fabs(s.min) + 0.06);
			snprintf(col, sizeof(col), "%s_max", name);
			ASSERT_NEAR(kmb_csv_num(sum, r, col), s.max, 1e-5 * fabs(s.max) + 0.06);
		}
	return differ;
}

KMB_TEST(run_reports_the_median_of_repetitions)
{
	char cmd[600], dir[512];
	struct kmb_csv sum, reps;

	kmbench_run("--no-frames --backends slab,bucket --workloads exhaust --threads 2 "
	            "--repetitions 3 --seed 5",
	            dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "%s/summary.csv", dir);
	ASSERT_EQ_I(kmb_csv_load(cmd, &sum), 0);
	snprintf(cmd, sizeof(cmd), "%s/repetitions.csv", dir);
	ASSERT_EQ_I(kmb_csv_load(cmd, &reps), 0);
	ASSERT_EQ_U(sum.nrows, 1 + 2);
	/* wall time at least differs between repetitions: the test has something to test */
	ASSERT_CMP_U(check_medians(&sum, &reps), >, 0);
	kmb_csv_free(&sum);
	kmb_csv_free(&reps);
	tmp_cleanup();
}

KMB_TEST_MAIN()
