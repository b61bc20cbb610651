/*
 * tests/test_results.c - the clock, the histogram and its .hgrm text, the JSON writer,
 * atomic files, run directories and gnuplot plots.
 *
 * Properties, not speeds: the machine is shared and noisy, so the clock tests check
 * that calibration works and is self-consistent, never how fast anything is.
 */
#include "kmb_test.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hist.h"
#include "results/results.h"

/* ---- helpers ------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void) /* xorshift64 */
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static char tmp_root[64];

static const char *tmp_dir(void)
{
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/kmb_test_results.XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(tmp_root));
	return tmp_root;
}

static void tmp_cleanup(void)
{
	nftw(tmp_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Reads a whole stream into a malloc'ed string. */
static char *slurp(FILE *f)
{
	size_t cap = 4096, len = 0, n;
	char *buf = malloc(cap);

	rewind(f);
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	return buf;
}

static char *slurp_path(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;

	ASSERT_NOT_NULL(f);
	s = slurp(f);
	fclose(f);
	return s;
}

/* ---- histogram ----------------------------------------------------------------------- */

KMB_TEST(hist_exact_below_128)
{
	static struct kmb_hist h;

	kmb_hist_init(&h);
	for (uint64_t v = 0; v < 128; v++) {
		unsigned i = kmb_hist_index(v);

		ASSERT_EQ_U(kmb_hist_slot_lo(i), v);
		ASSERT_EQ_U(kmb_hist_slot_hi(i), v);
		kmb_hist_record(&h, v);
	}
	/* rank r (1-based) is the value r - 1 */
	for (uint64_t r = 1; r <= 128; r++)
		ASSERT_EQ_U(kmb_hist_percentile(&h, 100.0 * (double)r / 128.0), r - 1);
	ASSERT_EQ_U(kmb_hist_percentile(&h, 0), 0);
	ASSERT_EQ_U(h.min, 0);
	ASSERT_EQ_U(h.max, 127);
}

KMB_TEST(hist_slots_tile_the_range)
{
	uint64_t next = 0;

	ASSERT_EQ_U(KMB_HIST_NBUCKETS, 2240);
	for (unsigned i = 0; i < KMB_HIST_NBUCKETS; i++) {
		uint64_t lo = kmb_hist_slot_lo(i), hi = kmb_hist_slot_hi(i);

		ASSERT_EQ_U(lo, next);
		ASSERT_CMP_U(hi, >=, lo);
		ASSERT_EQ_U(kmb_hist_index(lo), i);
		ASSERT_EQ_U(kmb_hist_index(hi), i);
		ASSERT_CMP_U((hi - lo) * 64, <=, lo); /* width <= lo / 64 */
		next = hi + 1;
	}
	ASSERT_EQ_U(next, KMB_HIST_LIMIT);
}

KMB_TEST(hist_relative_error_bound)
{
	for (int k = 0; k < 200000; k++) {
		uint64_t v = rng() >> (rng() % 64); /* log-uniform-ish over the whole range */
		unsigned i = kmb_hist_index(v);

		if (v >= KMB_HIST_LIMIT) {
			ASSERT_EQ_U(i, KMB_HIST_NBUCKETS - 1);
			continue;
		}
		ASSERT_CMP_U(kmb_hist_slot_lo(i), <=, v);
		ASSERT_CMP_U(kmb_hist_slot_hi(i), >=, v);
		ASSERT_CMP_F((double)(kmb_hist_slot_hi(i) - v), <=, (double)v / 64.0);
		if (v < 64)
			ASSERT_EQ_U(kmb_hist_slot_hi(i), v);
	}
}

KMB_TEST(hist_clamps_large_values)
{
	static struct kmb_hist h;
	uint64_t big = KMB_HIST_LIMIT * 3 + 7;

	kmb_hist_init(&h);
	kmb_hist_record(&h, 10);
	kmb_hist_record(&h, big);
	ASSERT_EQ_U(h.bucket[KMB_HIST_NBUCKETS - 1], 1);
	ASSERT_EQ_U(h.max, big);
	ASSERT_EQ_U(h.sum, big + 10);
	ASSERT_EQ_U(kmb_hist_percentile(&h, 100), big);
	ASSERT_EQ_U(kmb_hist_percentile(&h, 50), 10);
	ASSERT_EQ_U(kmb_hist_percentile(&h, 99), KMB_HIST_LIMIT - 1);
}

KMB_TEST(hist_percentiles_uniform)
{
	static struct kmb_hist h;
	const double pts[] = {1, 10, 25, 50, 75, 90, 99, 99.9};

	kmb_hist_init(&h);
	for (uint64_t v = 1; v <= 10000; v++)
		kmb_hist_record(&h, v);
	ASSERT_EQ_U(h.count, 10000);
	ASSERT_CMP_F(kmb_hist_mean(&h), ==, 5000.5);
	for (size_t k = 0; k < sizeof(pts) / sizeof(pts[0]); k++) {
		double exact = pts[k] * 100; /* rank p/100 * 10000 is the value itself */
		double got = (double)kmb_hist_percentile(&h, pts[k]);

		ASSERT_CMP_F(got, >=, exact);
		ASSERT_CMP_F(got, <=, exact * (1 + 1.0 / 64));
	}
	ASSERT_EQ_U(kmb_hist_percentile(&h, 100), 10000);
	ASSERT_EQ_U(kmb_hist_percentile(&h, 0), 1);
	ASSERT_EQ_U(h.min, 1);
}

KMB_TEST(hist_percentile_rank_rounding)
{
	static struct kmb_hist h;

	/* 99% of 1000 is rank 990 exactly, however 0.99 * 1000 rounds */
	kmb_hist_init(&h);
	for (int i = 0; i < 990; i++)
		kmb_hist_record(&h, 100);
	for (int i = 0; i < 10; i++)
		kmb_hist_record(&h, 5000);
	ASSERT_EQ_U(kmb_hist_percentile(&h, 99.0), 100);
	ASSERT_EQ_U(kmb_hist_percentile(&h, 99.05), 5000);
	ASSERT_EQ_U(kmb_hist_percentile(&h, 100), 5000);
	/* the top slot is capped at the true max, not its highest equivalent value */
	ASSERT_CMP_U(kmb_hist_slot_hi(kmb_hist_index(5000)), >, 5000);
}

KMB_TEST(hist_empty)
{
	static struct kmb_hist h;

	kmb_hist_init(&h);
	ASSERT_EQ_U(kmb_hist_percentile(&h, 50), 0);
	ASSERT_EQ_U(kmb_hist_percentile(&h, 100), 0);
	ASSERT_CMP_F(kmb_hist_mean(&h), ==, 0.0);
	ASSERT_CMP_F(kmb_hist_stddev(&h), ==, 0.0);
}

KMB_TEST(hist_merge_equals_recording_both)
{
	static struct kmb_hist a, b, both, empty;

	kmb_hist_init(&a);
	kmb_hist_init(&b);
	kmb_hist_init(&both);
	kmb_hist_init(&empty);
	for (int i = 0; i < 50000; i++) {
		uint64_t v = rng() % 1000000;

		kmb_hist_record(i % 3 ? &a : &b, v);
		kmb_hist_record(&both, v);
	}
	kmb_hist_merge(&a, &b);
	ASSERT_TRUE(memcmp(&a, &both, sizeof(a)) == 0);
	kmb_hist_merge(&a, &empty);
	ASSERT_TRUE(memcmp(&a, &both, sizeof(a)) == 0);
	kmb_hist_merge(&empty, &both);
	ASSERT_TRUE(memcmp(&empty, &both, sizeof(a)) == 0);
}

/* ---- .hgrm ---------------------------------------------------------------------------- */

static const char hgrm_header[] = "       Value     Percentile TotalCount 1/(1-Percentile)\n";

KMB_TEST(hgrm_exact_text_single_value)
{
	static struct kmb_hist h;
	FILE *f = tmpfile();
	char *s;

	kmb_hist_init(&h);
	kmb_hist_record(&h, 100);
	ASSERT_EQ_I(kmb_hist_write_hgrm(&h, f), 0);
	s = slurp(f);
	ASSERT_EQ_STR(s, "       Value     Percentile TotalCount 1/(1-Percentile)\n"
	                 "\n"
	                 "      100.00 0.000000000000          1           1.00\n"
	                 "      100.00 1.000000000000          1\n"
	                 "#[Mean    =       100.00, StdDeviation   =         0.00]\n"
	                 "#[Max     =       100.00, Total count    =            1]\n"
	                 "#[Buckets =           34, SubBuckets     =          128]\n");
	free(s);
	fclose(f);
}

/* Count of recorded values in slots up to and including the one holding v. */
static uint64_t count_through(const struct kmb_hist *h, uint64_t v)
{
	uint64_t n = 0;

	for (unsigned i = 0; i <= kmb_hist_index(v); i++)
		n += h->bucket[i];
	return n;
}

/* Parses the .hgrm text of h back and checks each row against the histogram. */
static void hgrm_check(const struct kmb_hist *h)
{
	FILE *f = tmpfile();
	char line[256];
	double last_p = -1, value, p, inv, mean, sd, max;
	uint64_t count, total;
	int rows = 0, nb, nsb;

	ASSERT_EQ_I(kmb_hist_write_hgrm(h, f), 0);
	rewind(f);
	ASSERT_NOT_NULL(fgets(line, sizeof(line), f));
	ASSERT_EQ_STR(line, hgrm_header);
	ASSERT_NOT_NULL(fgets(line, sizeof(line), f));
	ASSERT_EQ_STR(line, "\n");
	while (fgets(line, sizeof(line), f) && line[0] != '#') {
		int n = sscanf(line, "%lf %lf %" SCNu64 " %lf", &value, &p, &count, &inv);

		ASSERT_TRUE(n == 4 || (n == 3 && p == 1.0));
		ASSERT_CMP_F(p, >=, last_p);
		ASSERT_EQ_U((uint64_t)value, kmb_hist_percentile(h, p * 100.0));
		ASSERT_EQ_U(count, count_through(h, (uint64_t)value));
		if (n == 4)
			ASSERT_CMP_F(fabs(inv - 1.0 / (1.0 - p)), <=, 0.005 + 1e-9 * inv);
		last_p = p;
		rows++;
	}
	ASSERT_CMP_F(last_p, ==, 1.0);
	ASSERT_EQ_U(count, h->count);
	ASSERT_EQ_I(sscanf(line, "#[Mean = %lf, StdDeviation = %lf]", &mean, &sd), 2);
	ASSERT_CMP_F(fabs(mean - kmb_hist_mean(h)), <=, 0.005);
	ASSERT_NOT_NULL(fgets(line, sizeof(line), f));
	ASSERT_EQ_I(sscanf(line, "#[Max = %lf, Total count = %" SCNu64 "]", &max, &total), 2);
	ASSERT_EQ_U(total, h->count);
	ASSERT_EQ_U((uint64_t)max, h->max);
	ASSERT_NOT_NULL(fgets(line, sizeof(line), f));
	ASSERT_EQ_I(sscanf(line, "#[Buckets = %d, SubBuckets = %d]", &nb, &nsb), 2);
	ASSERT_EQ_I(nb, 34);
	ASSERT_EQ_I(nsb, 128);
	ASSERT_NULL(fgets(line, sizeof(line), f));
	ASSERT_CMP_I(rows, >=, 2);
	fclose(f);
}

KMB_TEST(hgrm_rows_agree_with_percentiles)
{
	static struct kmb_hist h;

	kmb_hist_init(&h); /* uniform 1..10000 */
	for (uint64_t v = 1; v <= 10000; v++)
		kmb_hist_record(&h, v);
	hgrm_check(&h);

	kmb_hist_init(&h); /* log-uniform over 10 ns .. 10 ms */
	for (int i = 0; i < 100000; i++)
		kmb_hist_record(&h, (uint64_t)(10 * pow(1e6, (double)(rng() % 1000000) / 1e6)));
	hgrm_check(&h);

	kmb_hist_init(&h); /* bimodal with a long tail and a clamped outlier */
	for (int i = 0; i < 99000; i++)
		kmb_hist_record(&h, 40 + rng() % 20);
	for (int i = 0; i < 999; i++)
		kmb_hist_record(&h, 20000 + rng() % 5000);
	kmb_hist_record(&h, KMB_HIST_LIMIT + 12345);
	hgrm_check(&h);

	kmb_hist_init(&h); /* one sample of a value in an inexact slot */
	kmb_hist_record(&h, 1000001);
	hgrm_check(&h);
}

KMB_TEST(hgrm_empty)
{
	static struct kmb_hist h;
	FILE *f = tmpfile();
	char *s;

	kmb_hist_init(&h);
	ASSERT_EQ_I(kmb_hist_write_hgrm(&h, f), 0);
	s = slurp(f);
	ASSERT_EQ_STR(s, "       Value     Percentile TotalCount 1/(1-Percentile)\n"
	                 "\n"
	                 "#[Mean    =         0.00, StdDeviation   =         0.00]\n"
	                 "#[Max     =         0.00, Total count    =            0]\n"
	                 "#[Buckets =           34, SubBuckets     =          128]\n");
	free(s);
	fclose(f);
}

/* ---- JSON ----------------------------------------------------------------------------- */

KMB_TEST(json_structure)
{
	struct kmb_json j;
	FILE *f = tmpfile();
	char *s;

	kmb_json_begin(&j, f);
	kmb_json_obj_begin(&j, NULL);
	kmb_json_str(&j, "name", "buddy");
	kmb_json_u64(&j, "ops", 18446744073709551615u);
	kmb_json_i64(&j, "delta", INT64_MIN);
	kmb_json_obj_begin(&j, "empty_obj");
	kmb_json_obj_end(&j);
	kmb_json_arr_begin(&j, "empty_arr");
	kmb_json_arr_end(&j);
	kmb_json_arr_begin(&j, "list");
	kmb_json_bool(&j, NULL, true);
	kmb_json_bool(&j, NULL, false);
	kmb_json_null(&j, NULL);
	kmb_json_obj_begin(&j, NULL);
	kmb_json_dbl(&j, "x", 0.1);
	kmb_json_obj_end(&j);
	kmb_json_arr_begin(&j, NULL);
	kmb_json_u64(&j, NULL, 1);
	kmb_json_arr_end(&j);
	kmb_json_arr_end(&j);
	kmb_json_str(&j, "none", NULL);
	kmb_json_obj_end(&j);
	ASSERT_EQ_I(kmb_json_end(&j), 0);
	s = slurp(f);
	ASSERT_EQ_STR(s, "{\n"
	                 "  \"name\": \"buddy\",\n"
	                 "  \"ops\": 18446744073709551615,\n"
	                 "  \"delta\": -9223372036854775808,\n"
	                 "  \"empty_obj\": {},\n"
	                 "  \"empty_arr\": [],\n"
	                 "  \"list\": [\n"
	                 "    true,\n"
	                 "    false,\n"
	                 "    null,\n"
	                 "    {\n"
	                 "      \"x\": 0.1\n"
	                 "    },\n"
	                 "    [\n"
	                 "      1\n"
	                 "    ]\n"
	                 "  ],\n"
	                 "  \"none\": null\n"
	                 "}\n");
	free(s);
	fclose(f);
}

KMB_TEST(json_escaping)
{
	struct kmb_json j;
	FILE *f = tmpfile();
	char *s;

	kmb_json_begin(&j, f);
	kmb_json_arr_begin(&j, NULL);
	kmb_json_str(&j, NULL, "q\"b\\s/");
	kmb_json_str(&j, NULL, "\b\f\n\r\t\x01\x1f\x7f");
	kmb_json_str(&j, NULL, "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"); /* é € U+1F600 */
	kmb_json_str(&j, NULL, "a\x80z");                                 /* stray continuation */
	kmb_json_str(&j, NULL, "\xc0\xaf|\xe0\x80\xaf");                  /* overlong '/' */
	kmb_json_str(&j, NULL, "\xed\xa0\x80");                           /* surrogate D800 */
	kmb_json_str(&j, NULL, "\xf4\x90\x80\x80|\xf5");                  /* > U+10FFFF */
	kmb_json_str(&j, NULL, "x\xe2\x82");                              /* truncated */
	kmb_json_arr_end(&j);
	ASSERT_EQ_I(kmb_json_end(&j), 0);
	s = slurp(f);
	ASSERT_EQ_STR(s, "[\n"
	                 "  \"q\\\"b\\\\s/\",\n"
	                 "  \"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\",\n"
	                 "  \"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\",\n"
	                 "  \"a\\ufffdz\",\n"
	                 "  \"\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\",\n"
	                 "  \"\\ufffd\\ufffd\\ufffd\",\n"
	                 "  \"\\ufffd\\ufffd\\ufffd\\ufffd|\\ufffd\",\n"
	                 "  \"x\\ufffd\\ufffd\"\n"
	                 "]\n");
	free(s);
	fclose(f);
}

KMB_TEST(json_doubles)
{
	struct kmb_json j;
	FILE *f = tmpfile();
	char *s;

	kmb_json_begin(&j, f);
	kmb_json_arr_begin(&j, NULL);
	kmb_json_dbl(&j, NULL, 1.0);
	kmb_json_dbl(&j, NULL, -0.0);
	kmb_json_dbl(&j, NULL, 2.5);
	kmb_json_dbl(&j, NULL, 1.0 / 3.0);
	kmb_json_dbl(&j, NULL, 1e300);
	kmb_json_dbl(&j, NULL, NAN);
	kmb_json_dbl(&j, NULL, INFINITY);
	kmb_json_dbl(&j, NULL, -INFINITY);
	kmb_json_arr_end(&j);
	ASSERT_EQ_I(kmb_json_end(&j), 0);
	s = slurp(f);
	ASSERT_EQ_STR(s, "[\n  1.0,\n  -0.0,\n  2.5,\n  0.33333333333333331,\n  1e+300,\n"
	                 "  null,\n  null,\n  null\n]\n");
	ASSERT_CMP_F(strtod("0.33333333333333331", NULL), ==, 1.0 / 3.0);
	free(s);
	fclose(f);
}

KMB_TEST(json_hist)
{
	static struct kmb_hist h;
	struct kmb_json j;
	FILE *f = tmpfile();
	char *s;

	kmb_hist_init(&h);
	for (uint64_t v = 1; v <= 100; v++)
		kmb_hist_record(&h, v);
	kmb_json_begin(&j, f);
	kmb_json_obj_begin(&j, NULL);
	kmb_json_hist(&j, "kmalloc", &h);
	kmb_hist_init(&h);
	kmb_json_hist(&j, "empty", &h);
	kmb_json_obj_end(&j);
	ASSERT_EQ_I(kmb_json_end(&j), 0);
	s = slurp(f);
	ASSERT_EQ_STR(s, "{\n"
	                 "  \"kmalloc\": {\n"
	                 "    \"count\": 100,\n    \"mean\": 50.5,\n    \"p50\": 50,\n"
	                 "    \"p90\": 90,\n    \"p99\": 99,\n    \"p999\": 100,\n"
	                 "    \"max\": 100,\n    \"min\": 1\n"
	                 "  },\n"
	                 "  \"empty\": {\n"
	                 "    \"count\": 0,\n    \"mean\": 0.0,\n    \"p50\": 0,\n"
	                 "    \"p90\": 0,\n    \"p99\": 0,\n    \"p999\": 0,\n"
	                 "    \"max\": 0,\n    \"min\": 0\n"
	                 "  }\n"
	                 "}\n");
	free(s);
	fclose(f);
}

static int json_misuse(int which)
{
	struct kmb_json j;
	FILE *f = tmpfile();
	int r;

	kmb_json_begin(&j, f);
	switch (which) {
	case 0: /* key inside an array */
		kmb_json_arr_begin(&j, NULL);
		kmb_json_u64(&j, "k", 1);
		kmb_json_arr_end(&j);
		break;
	case 1: /* no key inside an object */
		kmb_json_obj_begin(&j, NULL);
		kmb_json_u64(&j, NULL, 1);
		kmb_json_obj_end(&j);
		break;
	case 2: /* unclosed */
		kmb_json_obj_begin(&j, NULL);
		break;
	case 3: /* mismatched end */
		kmb_json_obj_begin(&j, NULL);
		kmb_json_arr_end(&j);
		break;
	case 4: /* two top-level values */
		kmb_json_u64(&j, NULL, 1);
		kmb_json_u64(&j, NULL, 2);
		break;
	case 5: /* nothing */
		break;
	default: /* too deep */
		for (int i = 0; i <= KMB_JSON_MAX_DEPTH; i++)
			kmb_json_arr_begin(&j, NULL);
		for (int i = 0; i <= KMB_JSON_MAX_DEPTH; i++)
			kmb_json_arr_end(&j);
		break;
	}
	r = kmb_json_end(&j);
	fclose(f);
	return r;
}

KMB_TEST(json_misuse_and_stream_errors)
{
	struct kmb_json j;
	FILE *full;

	for (int k = 0; k <= 6; k++)
		ASSERT_EQ_I(json_misuse(k), -EINVAL);

	full = fopen("/dev/full", "w"); /* every write fails with ENOSPC */
	ASSERT_NOT_NULL(full);
	kmb_json_begin(&j, full);
	kmb_json_obj_begin(&j, NULL);
	kmb_json_str(&j, "k", "v");
	kmb_json_obj_end(&j);
	ASSERT_EQ_I(kmb_json_end(&j), -EIO);
	fclose(full);
}

/* ---- files and directories ------------------------------------------------------------ */

KMB_TEST(file_commit_is_atomic)
{
	char path[128];
	struct kmb_file f;
	FILE *out;
	char *s;

	snprintf(path, sizeof(path), "%s/result.json", tmp_dir());
	out = kmb_file_create(path, &f);
	ASSERT_NOT_NULL(out);
	fputs("{}\n", out);
	fflush(out);
	ASSERT_FALSE(exists(path));
	ASSERT_TRUE(exists(f.tmp));
	ASSERT_CONTAINS(f.tmp, ".tmp.");
	ASSERT_EQ_I(kmb_file_commit(&f), 0);
	ASSERT_TRUE(exists(path));
	ASSERT_FALSE(exists(f.tmp));
	s = slurp_path(path);
	ASSERT_EQ_STR(s, "{}\n");
	free(s);

	/* replacing an existing file */
	out = kmb_file_create(path, &f);
	fputs("[]\n", out);
	ASSERT_EQ_I(kmb_file_commit(&f), 0);
	s = slurp_path(path);
	ASSERT_EQ_STR(s, "[]\n");
	free(s);
	tmp_cleanup();
}

KMB_TEST(file_abort_removes_temp)
{
	char path[128];
	struct kmb_file f;
	FILE *out;

	snprintf(path, sizeof(path), "%s/x.dat", tmp_dir());
	out = kmb_file_create(path, &f);
	ASSERT_NOT_NULL(out);
	fputs("partial", out);
	kmb_file_abort(&f);
	ASSERT_FALSE(exists(f.tmp));
	ASSERT_FALSE(exists(path));

	/* a directory that does not exist: NULL and errno */
	snprintf(path, sizeof(path), "%s/no/such/dir/x", tmp_root);
	ASSERT_NULL(kmb_file_create(path, &f));
	ASSERT_EQ_I(errno, ENOENT);
	tmp_cleanup();
}

/* A path that is a FIFO (or a device: -o /dev/null) is written in place, never replaced
 * by a regular file through the temporary and its rename. */
KMB_TEST(file_to_a_fifo_stays_a_fifo)
{
	char path[128], buf[32] = {0};
	struct kmb_file f;
	struct stat st;
	FILE *out;
	int rd;

	snprintf(path, sizeof(path), "%s/pipe", tmp_dir());
	ASSERT_EQ_I(mkfifo(path, 0600), 0);
	rd = open(path, O_RDONLY | O_NONBLOCK); /* a reader, so the writer's open returns */
	ASSERT_TRUE(rd >= 0);
	out = kmb_file_create(path, &f);
	ASSERT_NOT_NULL(out);
	fputs("through", out);
	ASSERT_EQ_I(kmb_file_commit(&f), 0);
	ASSERT_EQ_I(stat(path, &st), 0);
	ASSERT_TRUE(S_ISFIFO(st.st_mode));
	ASSERT_EQ_I((int)read(rd, buf, sizeof(buf) - 1), 7);
	ASSERT_EQ_STR(buf, "through");
	ASSERT_FALSE(exists(f.tmp));
	close(rd);
	tmp_cleanup();
}

KMB_TEST(mkdir_p)
{
	char path[200], file[160];
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/a/b//c/", tmp_dir());
	ASSERT_EQ_I(kmb_mkdir_p(path), 0);
	ASSERT_EQ_I(stat(path, &st), 0);
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ_I(kmb_mkdir_p(path), 0); /* again: fine */
	snprintf(file, sizeof(file), "%s/a/file", tmp_root);
	f = fopen(file, "w");
	fclose(f);
	snprintf(path, sizeof(path), "%s/sub", file);
	ASSERT_EQ_I(kmb_mkdir_p(path), -ENOTDIR);
	ASSERT_EQ_I(kmb_mkdir_p(""), -ENOENT);
	tmp_cleanup();
}

KMB_TEST(run_dir_unique)
{
	char root[160], d[5][256];
	struct stat st;

	snprintf(root, sizeof(root), "%s/runs/", tmp_dir());
	for (int i = 0; i < 5; i++) {
		ASSERT_EQ_I(kmb_run_dir_create(root, d[i], sizeof(d[i])), 0);
		ASSERT_EQ_I(stat(d[i], &st), 0);
		ASSERT_TRUE(S_ISDIR(st.st_mode));
		for (int k = 0; k < i; k++)
			ASSERT_TRUE(strcmp(d[i], d[k]) != 0);
	}
	/* root/YYYYmmdd-HHMMSS[-N], no doubled slash */
	{
		const char *name = d[0] + strlen(root);
		unsigned y, mo, da, h, mi, s;

		ASSERT_EQ_I(sscanf(name, "%4u%2u%2u-%2u%2u%2u", &y, &mo, &da, &h, &mi, &s), 6);
		ASSERT_CMP_U(y, >=, 2020);
		ASSERT_EQ_U(name[15], '\0');
	}
	/* in the same second the second one is "-2" */
	if (strncmp(d[0], d[1], strlen(d[0])) == 0)
		ASSERT_EQ_STR(d[1] + strlen(d[0]), "-2");
	ASSERT_EQ_I(kmb_run_dir_create(root, d[0], 8), -ENAMETOOLONG);
	tmp_cleanup();
}

/* ---- plots ---------------------------------------------------------------------------- */

static void plot_hists(struct kmb_hist *a, struct kmb_hist *b)
{
	kmb_hist_init(a);
	kmb_hist_init(b);
	for (int i = 0; i < 100000; i++) {
		kmb_hist_record(a, 50 + rng() % 30 + (i % 1000 == 0 ? 10000 : 0));
		kmb_hist_record(b, 80 + rng() % 100 + (i % 500 == 0 ? 50000 : 0));
	}
}

KMB_TEST(plot_renders_png_and_svg)
{
	static struct kmb_hist a, b, empty;
	const struct kmb_hist *hs[] = {&a, &b, &empty};
	const char *names[] = {"buddy_kmalloc", "it's slab", "nothing"};
	char err[512], path[160];
	unsigned char sig[8];
	const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	FILE *f;
	char *s;

	plot_hists(&a, &b);
	kmb_hist_init(&empty);
	ASSERT_EQ_I(kmb_plot_latency(tmp_dir(), names, hs, 3, "kmalloc latency", "lat", err,
	                             sizeof(err)),
	            0);
	ASSERT_EQ_STR(err, "");
	snprintf(path, sizeof(path), "%s/lat.png", tmp_root);
	f = fopen(path, "rb");
	ASSERT_NOT_NULL(f);
	ASSERT_EQ_U(fread(sig, 1, 8, f), 8);
	ASSERT_TRUE(memcmp(sig, png, 8) == 0);
	fclose(f);
	snprintf(path, sizeof(path), "%s/lat.svg", tmp_root);
	s = slurp_path(path);
	ASSERT_CONTAINS(s, "<svg");
	free(s);
	snprintf(path, sizeof(path), "%s/lat.gp", tmp_root);
	s = slurp_path(path);
	ASSERT_CONTAINS(s, "title 'it''s slab'");
	ASSERT_CONTAINS(s, "'99.9%%' 1000");
	ASSERT_TRUE(strstr(s, "index 2") == NULL); /* the empty series is not plotted */
	free(s);
	snprintf(path, sizeof(path), "%s/lat.dat", tmp_root);
	s = slurp_path(path);
	ASSERT_CONTAINS(s, "# series 2: nothing\n");
	free(s);
	tmp_cleanup();
}

KMB_TEST(plot_all_empty_still_renders)
{
	static struct kmb_hist empty;
	const struct kmb_hist *hs[] = {&empty};
	const char *names[] = {"none"};
	char err[512], path[160];

	kmb_hist_init(&empty);
	ASSERT_EQ_I(kmb_plot_latency(tmp_dir(), names, hs, 1, "t", "e", err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/e.png", tmp_root);
	ASSERT_TRUE(exists(path));
	tmp_cleanup();
}

KMB_TEST(plot_without_gnuplot_keeps_data)
{
	static struct kmb_hist a, b;
	const struct kmb_hist *hs[] = {&a, &b};
	const char *names[] = {"a", "b"};
	char err[512], path[160];

	plot_hists(&a, &b);
	setenv("KMB_GNUPLOT", "/nonexistent", 1);
	ASSERT_EQ_I(kmb_plot_latency(tmp_dir(), names, hs, 2, "t", "lat", err, sizeof(err)),
	            -ENOENT);
	ASSERT_EQ_STR(err, "gnuplot not found: apt-get install gnuplot-nox");
	snprintf(path, sizeof(path), "%s/lat.dat", tmp_root);
	ASSERT_TRUE(exists(path));
	snprintf(path, sizeof(path), "%s/lat.gp", tmp_root);
	ASSERT_TRUE(exists(path));
	snprintf(path, sizeof(path), "%s/lat.png", tmp_root);
	ASSERT_FALSE(exists(path));
	unsetenv("KMB_GNUPLOT");
	tmp_cleanup();
}

KMB_TEST(plot_gnuplot_error_is_reported)
{
	char err[512], path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/bad.gp", tmp_dir());
	f = fopen(path, "w");
	fputs("set terminal dumb\nplot 'no-such-file.dat' using 1:2\n", f);
	fclose(f);
	ASSERT_EQ_I(kmb_plot_render(path, err, sizeof(err)), -EIO);
	ASSERT_CONTAINS(err, "no-such-file.dat");
	snprintf(path, sizeof(path), "%s/missing.gp", tmp_root);
	ASSERT_EQ_I(kmb_plot_render(path, err, sizeof(err)), -ENOENT);
	ASSERT_CONTAINS(err, "missing.gp");
	tmp_cleanup();
}

/* ---- clock ---------------------------------------------------------------------------- */

KMB_TEST(clock_calibrates)
{
	uint64_t c0, c1;
	double npc, ovh;

	ASSERT_EQ_I(kmb_clock_calibrate(), 0);
	npc = kmb_clock_ns_per_cycle();
	ovh = kmb_clock_overhead_ns();
	ASSERT_CMP_F(npc, >, 0.0);
	ASSERT_CMP_F(ovh, >=, 0.0);
	c0 = kmb_cycles();
	c1 = kmb_cycles();
	ASSERT_CMP_U(c1, >=, c0);
	ASSERT_EQ_U(kmb_cycles_to_ns(0), 0);
	/* the fixed-point conversion agrees with the double to 1e-6 */
	ASSERT_CMP_F(fabs((double)kmb_cycles_to_ns(1000000000) - 1e9 * npc), <=, 1e-6 * 1e9 * npc);
	/* and does not overflow where cycles * mult exceeds 64 bits (2^50 cycles: days) */
	ASSERT_CMP_F(fabs((double)kmb_cycles_to_ns((uint64_t)1 << 50) - npc * 0x1p50), <=,
	             1e-6 * npc * 0x1p50);
	printf("clock: %.6f ns/cycle, overhead %.2f ns, invariant %s\n", npc, ovh,
	       kmb_clock_invariant() ? "yes" : "no");
}

/* SipHash-2-4's reference vectors (key 00..0f, messages 00..n-1): the empty message, a
 * partial final word (15 bytes) and exactly one word (8 bytes). */
KMB_TEST(siphash_reference_vectors)
{
	uint8_t key[16], msg[15];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	ASSERT_TRUE(kmb_siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
	ASSERT_TRUE(kmb_siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
	ASSERT_TRUE(kmb_siphash24(key, msg, 8) == 0x93f5f5799a932462ULL);
}

/* The script key: created private on first use, the same afterwards, refused once others
 * may read it; a tag changes with one byte of the script. */
KMB_TEST(script_key_private_and_tags_differ)
{
	const char *dir = tmp_dir();
	char path[256], err[600], a[17], b[17];
	uint8_t k1[16], k2[16];
	FILE *f;

	setenv("XDG_CONFIG_HOME", dir, 1);
	ASSERT_TRUE(kmb_script_key(k1, false, err, sizeof(err)) == -ENOENT);
	ASSERT_TRUE(kmb_script_key(k1, true, err, sizeof(err)) == 0);
	ASSERT_TRUE(kmb_script_key(k2, false, err, sizeof(err)) == 0);
	ASSERT_TRUE(memcmp(k1, k2, 16) == 0);
	snprintf(path, sizeof(path), "%s/x.gp", dir);
	ASSERT_TRUE((f = fopen(path, "w")) != NULL);
	fputs("plot x\n", f);
	fclose(f);
	ASSERT_TRUE(kmb_script_tag(k1, path, a) == 0 && strlen(a) == 16);
	ASSERT_TRUE((f = fopen(path, "w")) != NULL);
	fputs("plot y\n", f);
	fclose(f);
	ASSERT_TRUE(kmb_script_tag(k1, path, b) == 0 && strcmp(a, b) != 0);
	snprintf(path, sizeof(path), "%s/kmbench/script.key", dir);
	ASSERT_TRUE(chmod(path, 0644) == 0);
	ASSERT_TRUE(kmb_script_key(k2, true, err, sizeof(err)) == -EPERM);
	ASSERT_TRUE(strstr(err, "chmod 600") != NULL);
	tmp_cleanup();
}

KMB_TEST_MAIN()
