/*
 * tests/test_kmt.c - .kmt, kmbench's binary trace format: round trips and hostile files.
 *
 * Theory: a .kmt must give exactly the facts and the plan (op for op) of the trace it was
 * written from, for every trace shape we have (the bundled boot trace, the era samples,
 * the rule-pinning traces); its events must be the same but for pointers (identity
 * tokens) and lines (ordinals).  A corrupt file must be refused with a message naming it,
 * never read out of bounds: every byte flipped, every prefix, and - since checksums stop
 * most damage before decoding - random damage with the checksums recomputed, so that the
 * structural checks themselves are what is tested.  Run under ASan to mean it.
 */
#include "kmb_test.h"

#include "workloads/trace.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUNDLED    KMB_SOURCE_DIR "/workloads/traces/linux-3.6-i386-boot/kmem_SLUB.log"
#define DATA(name) KMB_SOURCE_DIR "/tests/data/" name

static void load_ok(const char *path, struct kmb_trace *t)
{
	char err[512];
	int rc = kmb_trace_load(path, NULL, t, err, sizeof(err));

	if (rc != 0)
		kmb_test_fail(__FILE__, __LINE__, "load %s: %d %s", path, rc, err);
}

/* The .kmt of t in memory (malloc'd), its size in *n. */
static uint8_t *to_kmt(const struct kmb_trace *t, size_t *n)
{
	char *buf = NULL, err[256];
	FILE *f = open_memstream(&buf, n);

	ASSERT_NOT_NULL(f);
	if (kmb_kmt_write(t, f, err, sizeof(err)) != 0)
		kmb_test_fail(__FILE__, __LINE__, "kmt write: %s", err);
	fclose(f);
	return (uint8_t *)buf;
}

/* Read an image; returns the result, with the message in err. */
static int from_kmt(const uint8_t *p, size_t n, struct kmb_trace *t, char *err, size_t errlen)
{
	kmb_trace_init(t);
	t->path = strdup("test.kmt");
	return kmb_kmt_read(p, n, t, err, errlen);
}

static void same_facts(const struct kmb_trace *a, const struct kmb_trace *b)
{
	struct kmb_trace_facts fa, fb;

	ASSERT_EQ_I(kmb_trace_facts(a, &fa), 0);
	ASSERT_EQ_I(kmb_trace_facts(b, &fb), 0);
	ASSERT_TRUE(memcmp(&fa, &fb, sizeof(fa)) == 0);
}

static void same_plan(const struct kmb_trace *a, const struct kmb_trace *b)
{
	struct kmb_plan pa, pb;

	ASSERT_EQ_I(kmb_trace_plan(a, &pa), 0);
	ASSERT_EQ_I(kmb_trace_plan(b, &pb), 0);
	ASSERT_EQ_U(pa.nop, pb.nop);
	ASSERT_EQ_U(pa.nslots, pb.nslots);
	ASSERT_EQ_U(pa.ntypes, pb.ntypes);
	ASSERT_EQ_U(pa.ncaches, pb.ncaches);
	ASSERT_EQ_U(pa.dropped_zero, pb.dropped_zero);
	ASSERT_EQ_U(pa.kind_mismatches, pb.kind_mismatches);
	for (size_t i = 0; i < pa.nop; i++)
		if (memcmp(&pa.op[i], &pb.op[i], sizeof(pa.op[i])) != 0)
			kmb_test_fail(__FILE__, __LINE__, "op %zu differs", i);
	for (uint32_t i = 0; i < pa.ntypes; i++)
		ASSERT_EQ_STR(pa.type_name[i], pb.type_name[i]);
	for (uint32_t i = 0; i < pa.ncaches; i++) {
		ASSERT_EQ_STR(pa.cache_name[i], pb.cache_name[i]);
		ASSERT_EQ_U(pa.cache_size[i], pb.cache_size[i]);
	}
	kmb_plan_free(&pa);
	kmb_plan_free(&pb);
}

/* Same events but for ptr (identity) and line (ordinal). */
static void same_events(const struct kmb_trace *a, const struct kmb_trace *b)
{
	ASSERT_EQ_U(a->nev, b->nev);
	for (size_t i = 0; i < a->nev; i++) {
		struct kmb_event x = a->ev[i], y = b->ev[i];

		ASSERT_EQ_U(y.line, i + 1);
		ASSERT_EQ_U(!x.ptr, !y.ptr);
		x.ptr = y.ptr = 0;
		x.line = y.line = 0;
		ASSERT_EQ_STR(a->str[x.site], b->str[y.site]);
		ASSERT_EQ_STR(a->str[x.cache], b->str[y.cache]);
		x.site = y.site = x.cache = y.cache = 0;
		if (memcmp(&x, &y, sizeof(x)) != 0)
			kmb_test_fail(__FILE__, __LINE__, "event %zu differs", i);
	}
}

static void round_trip(const char *path)
{
	struct kmb_trace a, b;
	char err[512];
	size_t n;
	uint8_t *img;

	load_ok(path, &a);
	img = to_kmt(&a, &n);
	if (from_kmt(img, n, &b, err, sizeof(err)) != 0)
		kmb_test_fail(__FILE__, __LINE__, "%s: %s", path, err);
	ASSERT_EQ_U(b.format, KMB_FMT_KMT);
	ASSERT_EQ_U(b.source_format, a.format);
	ASSERT_EQ_U(b.lines, a.lines);
	ASSERT_EQ_U(b.lost_events, a.lost_events);
	for (int r = 0; r < KMB_SKIP_NREASONS; r++)
		ASSERT_EQ_U(b.skipped[r], a.skipped[r]);
	same_events(&a, &b);
	same_facts(&a, &b);
	same_plan(&a, &b);
	kmb_trace_free(&a);
	kmb_trace_free(&b);
	free(img);
}

KMB_TEST(crc32c_check_value)
{
	ASSERT_EQ_U(kmb__crc32c(0, "123456789", 9), 0xe3069283u);
	ASSERT_EQ_U(kmb__crc32c(kmb__crc32c(0, "1234", 4), "56789", 5), 0xe3069283u);
	ASSERT_EQ_U(kmb__crc32c(0, "", 0), 0);
}

KMB_TEST(round_trip_bundled)
{
	round_trip(BUNDLED);
}

KMB_TEST(round_trip_shapes)
{
	static const char *const files[] = {
	        DATA("shapes.trace"),
	        DATA("implicit.trace"),
	        DATA("plan.trace"),
	        DATA("bad.trace"),
	        DATA("crlf.trace"),
	        DATA("empty.trace"),
	        DATA("eras/linux-2.6.32.ftrace"),
	        DATA("eras/linux-3.6.ftrace"),
	        DATA("eras/linux-4.19.ftrace"),
	        DATA("eras/linux-5.15.ftrace"),
	        DATA("eras/linux-6.8.ftrace"),
	        DATA("eras/trace-cmd.report"),
	        DATA("eras/trace-cmd-latency.report"),
	        DATA("eras/perf-script.txt"),
	        DATA("contexts/linux-3.6.ftrace"),
	        DATA("contexts/linux-6.8.ftrace"),
	        DATA("contexts/trace-cmd-latency.report"),
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		round_trip(files[i]);
}

/* Through the front end: a .kmt file is known by its magic, whatever its name. */
KMB_TEST(load_by_magic)
{
	char path[] = "/tmp/kmb-test-kmt-XXXXXX", err[512];
	struct kmb_trace a, b;
	struct stat st;
	size_t n;
	uint8_t *img;
	int fd;

	load_ok(BUNDLED, &a);
	img = to_kmt(&a, &n);
	ASSERT_TRUE((fd = mkstemp(path)) >= 0);
	ASSERT_EQ_U(write(fd, img, n), n);
	close(fd);
	load_ok(path, &b);
	ASSERT_EQ_U(b.format, KMB_FMT_KMT);
	ASSERT_EQ_U(b.source_format, KMB_FMT_FTRACE);
	same_facts(&a, &b);
	same_plan(&a, &b);
	ASSERT_EQ_I(stat(BUNDLED, &st), 0);
	ASSERT_TRUE(n * 10 < (size_t)st.st_size); /* compact: about 1/16 of the text */
	kmb_trace_free(&b);
	ASSERT_EQ_I(truncate(path, (off_t)n - 1), 0);
	ASSERT_EQ_I(kmb_trace_load(path, NULL, &b, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, path);
	ASSERT_CONTAINS(err, "corrupt .kmt");
	ASSERT_CONTAINS(err, "truncated");
	kmb_trace_free(&b);
	kmb_trace_free(&a);
	unlink(path);
	free(img);
}

KMB_TEST(stat_same_on_kmt)
{
	struct kmb_trace a, b;
	struct kmb_trace_stat sa, sb;
	char err[256];
	size_t n;
	uint8_t *img;

	load_ok(DATA("eras/linux-6.8.ftrace"), &a);
	img = to_kmt(&a, &n);
	ASSERT_EQ_I(from_kmt(img, n, &b, err, sizeof(err)), 0);
	ASSERT_EQ_I(kmb_trace_stat(&a, &sa), 0);
	ASSERT_EQ_I(kmb_trace_stat(&b, &sb), 0);
	ASSERT_EQ_U(sa.nsites, sb.nsites);
	ASSERT_EQ_U(sa.pingpong, sb.pingpong);
	ASSERT_EQ_U(sa.life_ns.max, sb.life_ns.max);
	ASSERT_EQ_U(sa.pages.peak_live_pages, sb.pages.peak_live_pages);
	for (size_t i = 0; i < sa.nsites; i++) {
		ASSERT_EQ_STR(sa.sites[i].name, sb.sites[i].name);
		ASSERT_EQ_U(sa.sites[i].pingpong, sb.sites[i].pingpong);
	}
	kmb_trace_stat_free(&sa);
	kmb_trace_stat_free(&sb);
	kmb_trace_free(&a);
	kmb_trace_free(&b);
	free(img);
}

/* ---- hostile files ------------------------------------------------------------------- */

static uint8_t *small_image(size_t *n)
{
	struct kmb_trace t;
	uint8_t *img;

	load_ok(DATA("eras/linux-5.15.ftrace"), &t);
	img = to_kmt(&t, n);
	kmb_trace_free(&t);
	return img;
}

KMB_TEST(every_byte_flipped)
{
	size_t n;
	uint8_t *img = small_image(&n);
	char err[512];

	for (size_t i = 0; i < n; i++)
		for (int bit = 0; bit < 8; bit += 3) {
			struct kmb_trace t;

			img[i] ^= (uint8_t)(1u << bit);
			if (from_kmt(img, n, &t, err, sizeof(err)) != -EINVAL)
				kmb_test_fail(__FILE__, __LINE__, "byte %zu bit %d accepted", i,
				              bit);
			ASSERT_CONTAINS(err, "test.kmt: ");
			kmb_trace_free(&t);
			img[i] ^= (uint8_t)(1u << bit);
		}
	free(img);
}

KMB_TEST(every_prefix)
{
	size_t n;
	uint8_t *img = small_image(&n);
	char err[512];

	for (size_t len = 0; len < n; len++) {
		uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees any overrun */
		struct kmb_trace t;

		memcpy(copy, img, len);
		ASSERT_EQ_I(from_kmt(copy, len, &t, err, sizeof(err)), -EINVAL);
		kmb_trace_free(&t);
		free(copy);
	}
	free(img);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Make the checksums right again after damage, so the decoder's own checks are tested. */
static void reseal(uint8_t *p, size_t n)
{
	put_le32(p + 24, kmb__crc32c(0, p + 160, n - 160));
	put_le32(p + 28, 0);
	put_le32(p + 28, kmb__crc32c(0, p, 160));
}

KMB_TEST(version_and_magic)
{
	size_t n;
	uint8_t *img = small_image(&n);
	struct kmb_trace t;
	char err[512];

	img[8] = 3;
	reseal(img, n);
	ASSERT_EQ_I(from_kmt(img, n, &t, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err,
	                "test.kmt: .kmt version 3 is not supported (this kmbench reads 1 to 2)");
	kmb_trace_free(&t);
	img[8] = 2;
	img[24] ^= 1; /* the body checksum */
	ASSERT_EQ_I(from_kmt(img, n, &t, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "checksum");
	kmb_trace_free(&t);
	free(img);
}

/* A version 1 file (before contexts, tests/data/contexts/v1.kmt, converted from the 6.8
 * era trace) still reads, to the same events as its source. */
KMB_TEST(version_1_still_read)
{
	struct kmb_trace a, b;

	load_ok(DATA("eras/linux-6.8.ftrace"), &a);
	load_ok(DATA("contexts/v1.kmt"), &b);
	ASSERT_EQ_U(b.format, KMB_FMT_KMT);
	same_events(&a, &b);
	same_facts(&a, &b);
	same_plan(&a, &b);
	kmb_trace_free(&a);
	kmb_trace_free(&b);
}

/* Contexts are version 2's: a version 1 header on records that carry one is corrupt. */
KMB_TEST(context_records_need_version_2)
{
	struct kmb_trace a, t;
	size_t n;
	char err[512];
	uint8_t *img = (load_ok(DATA("contexts/linux-6.8.ftrace"), &a), to_kmt(&a, &n));

	ASSERT_EQ_I(img[8], 2);
	img[8] = 1;
	reseal(img, n);
	ASSERT_EQ_I(from_kmt(img, n, &t, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "corrupt .kmt");
	kmb_trace_free(&t);
	kmb_trace_free(&a);
	free(img);
}

/* Random damage with valid checksums: every result is 0 or -EINVAL, never a crash. */
KMB_TEST(fuzz_resealed)
{
	size_t n, m;
	uint8_t *img = small_image(&n), *big;
	uint64_t x = 0x2545f4914f6cdd1dULL;
	struct kmb_trace bt;
	unsigned accepted = 0;
	char err[512];

	for (int it = 0; it < 30000; it++) {
		uint8_t *copy = malloc(n);
		struct kmb_trace t;
		int rc;

		memcpy(copy, img, n);
		for (int k = 0; k < 1 + it % 4; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* mostly the body; sometimes the header's counts and offsets */
			copy[(it % 5 == 0 ? 32 + x % 100 : 160 + x % (n - 160))] =
			        (uint8_t)(x >> 32);
		}
		reseal(copy, n);
		rc = from_kmt(copy, n, &t, err, sizeof(err));
		ASSERT_TRUE(rc == 0 || rc == -EINVAL);
		if (rc == 0) {
			struct kmb_trace_facts f;
			struct kmb_plan p;

			accepted++;
			ASSERT_EQ_I(kmb_trace_facts(&t, &f), 0); /* whatever it says, usable */
			ASSERT_EQ_I(kmb_trace_plan(&t, &p), 0);
			kmb_plan_free(&p);
		}
		kmb_trace_free(&t);
		free(copy);
	}
	ASSERT_TRUE(accepted < 30000);
	/* a bigger, multi-CPU image, truncated and resealed at many places */
	load_ok(DATA("eras/trace-cmd.report"), &bt);
	big = to_kmt(&bt, &m);
	for (size_t len = 161; len < m; len++) {
		uint8_t *copy = malloc(len);
		struct kmb_trace t;

		memcpy(copy, big, len);
		for (int i = 0; i < 8; i++)
			copy[16 + i] = (uint8_t)((uint64_t)len >> (8 * i));
		reseal(copy, len);
		ASSERT_EQ_I(from_kmt(copy, len, &t, err, sizeof(err)), -EINVAL);
		kmb_trace_free(&t);
		free(copy);
	}
	kmb_trace_free(&bt);
	free(big);
	free(img);
}

KMB_TEST(writer_refuses_bad_events)
{
	struct kmb_trace t;
	char *buf = NULL, err[256];
	size_t n;
	FILE *f;

	load_ok(DATA("implicit.trace"), &t);
	t.ev[0].order = 11;
	ASSERT_NOT_NULL(f = open_memstream(&buf, &n));
	ASSERT_EQ_I(kmb_kmt_write(&t, f, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "event 0");
	fclose(f);
	free(buf);
	kmb_trace_free(&t);
}

KMB_TEST_MAIN()
