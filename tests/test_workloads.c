/*
 * tests/test_workloads.c - the trace front end: ftrace parsing, gfp mapping, facts, plans.
 *
 * Theory: the bundled Linux 3.6 boot trace is checked against facts computed once,
 * independently, by a script; small hand-written traces in tests/data/ pin each line
 * shape and each rule (implicit frees, slot reuse, cache keys); the same event sequence
 * written in every kernel era's and tool's shape (tests/data/eras/) must give the same
 * facts and events; bad input (overflow, truncation, NUL bytes, huge lines, random
 * bytes, files that are not traces) must be counted or refused, never crash; the
 * statistics of stat.c are checked on the era sequence, whose answers are known; and
 * capture is run against a fake tracefs tree.
 */
#include "kmb_test.h"

#include "workloads/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUNDLED    KMB_SOURCE_DIR "/workloads/traces/linux-3.6-i386-boot/kmem_SLUB.log"
#define DATA(name) KMB_SOURCE_DIR "/tests/data/" name
#define ERA(name)  KMB_SOURCE_DIR "/tests/data/eras/" name

static void load_ok(const char *path, struct kmb_trace *t)
{
	char err[512];
	int rc = kmb_trace_load(path, NULL, t, err, sizeof(err));

	if (rc != 0)
		kmb_test_fail(__FILE__, __LINE__, "load %s: %d %s", path, rc, err);
}

/* Write n bytes to a fresh temporary file; its name goes to path. */
static void write_tmp(char *path, size_t pathlen, const void *buf, size_t n)
{
	int fd;

	snprintf(path, pathlen, "/tmp/kmb-test-trace-XXXXXX");
	fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ_U(write(fd, buf, n), n);
	close(fd);
}

/* Parse one line given as a C string into a fresh trace; returns the result. */
static int parse1(struct kmb_trace *t, const char *line, char *err, size_t errlen)
{
	kmb_trace_init(t);
	return kmb_trace_parse_line(t, line, strlen(line), 1, err, errlen);
}

/* ---- the bundled trace -------------------------------------------------------------- */

/*
 * Expected facts of linux-3.6-i386-boot/kmem_SLUB.log, computed once with a Python
 * script independent of this code: each non-comment line was matched with the regex
 *   ^\s*(.*?)-(\d+)\s+\[(\d+)\]\s+(\S+\s+)?([\d.]+): (\w+): (.*)$
 * ptr taken from "ptr=\s*(\S+)" ("(null)" = NULL), bytes_req/bytes_alloc from their
 * fields, and a Python dict ptr -> bytes_req of live objects updated per event by the
 * definitions in workloads/facts.c (peaks taken after each event).  Cross-checks: the
 * event counts equal `grep -c ': kmalloc: '` etc., null_frees = `grep -c 'ptr=  (null)'`,
 * allocs = the 8643 ten-field lines of `awk '{print NF}'`, and an awk pass over
 * `tr -d '\r'` of the file with an array live[ptr] = bytes_req gave the same peaks and
 * final_live_objects.  The Python script also found 83 distinct kmalloc call sites, 18
 * distinct (bytes_req, bytes_alloc) pairs of kmem_cache_alloc, no zero-size allocation
 * and no kfree/kmem_cache_free kind mismatch.
 */
KMB_TEST(bundled_facts)
{
	struct kmb_trace t;
	struct kmb_trace_facts f;

	load_ok(BUNDLED, &t);
	ASSERT_EQ_U(t.lines, 11551);
	ASSERT_EQ_U(t.nev, 11540);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_SYNTAX], 0);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_FIELD], 0);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_OTHER_EVENT], 0);
	ASSERT_EQ_STR(t.first_error, "");
	ASSERT_EQ_I(kmb_trace_facts(&t, &f), 0);
	ASSERT_EQ_U(f.events, 11540);
	ASSERT_EQ_U(f.allocs, 8643);
	ASSERT_EQ_U(f.failed_allocs, 0);
	ASSERT_EQ_U(f.frees, 2623);
	ASSERT_EQ_U(f.null_frees, 274);
	ASSERT_EQ_U(f.matched_frees, 2612);
	ASSERT_EQ_U(f.unmatched_frees, 11);
	ASSERT_EQ_U(f.implicit_frees, 0);
	ASSERT_EQ_U(f.cpus, 1);
	ASSERT_EQ_U(f.total_bytes_req, 8630767);
	ASSERT_EQ_U(f.total_bytes_alloc, 8711688);
	ASSERT_EQ_U(f.peak_live_bytes_req, 673929);
	ASSERT_EQ_U(f.peak_live_objects, 6037);
	ASSERT_EQ_U(f.final_live_objects, 6031);
	ASSERT_EQ_U(f.kmalloc_events, 2211);
	ASSERT_EQ_U(f.kfree_events, 428);
	ASSERT_EQ_U(f.cache_alloc_events, 6432);
	ASSERT_EQ_U(f.cache_free_events, 2469);
	ASSERT_EQ_U(f.page_alloc_events, 0);
	ASSERT_EQ_U(f.page_free_events, 0);
	kmb_trace_free(&t);
}

KMB_TEST(bundled_first_event)
{
	struct kmb_trace t;
	const struct kmb_event *e;

	load_ok(BUNDLED, &t);
	e = &t.ev[0];
	ASSERT_EQ_U(e->kind, KMB_EV_KMALLOC);
	ASSERT_EQ_U(e->line, 12);
	ASSERT_EQ_U(e->cpu, 0);
	ASSERT_EQ_I(e->node, -1);
	ASSERT_EQ_U(e->ts_ns, 170000000);
	ASSERT_EQ_STR(t.str[e->site], "c104de4f");
	ASSERT_EQ_U(e->cache, 0);
	ASSERT_EQ_U(e->ptr, 0xc143de20);
	ASSERT_EQ_U(e->bytes_req, 29);
	ASSERT_EQ_U(e->bytes_alloc, 32);
	ASSERT_EQ_I(e->flags, M_WAITOK);
	e = &t.ev[6]; /* line 18: the first kfree of NULL */
	ASSERT_EQ_U(e->kind, KMB_EV_KFREE);
	ASSERT_EQ_U(e->line, 18);
	ASSERT_EQ_U(e->ptr, 0);
	e = &t.ev[t.nev - 1];
	ASSERT_EQ_U(e->line, 11551);
	ASSERT_EQ_U(e->ts_ns, 610000000);
	ASSERT_EQ_STR(t.str[0], "");
	kmb_trace_free(&t);
}

KMB_TEST(bundled_plan)
{
	struct kmb_trace t;
	struct kmb_trace_facts f;
	struct kmb_plan p;

	load_ok(BUNDLED, &t);
	ASSERT_EQ_I(kmb_trace_facts(&t, &f), 0);
	ASSERT_EQ_I(kmb_trace_plan(&t, &p), 0);
	/* one null slot: the trace's kfree(NULL) calls, all on its one CPU */
	ASSERT_CMP_U(p.null_kfrees, >, 0);
	ASSERT_CMP_U(p.null_kfrees, <=, f.null_frees);
	ASSERT_EQ_U(p.nslots, f.peak_live_objects + 1);
	ASSERT_EQ_U(p.nop, f.allocs + f.matched_frees + f.implicit_frees + p.null_kfrees);
	ASSERT_EQ_U(p.ntypes, 83);
	ASSERT_EQ_U(p.ncaches, 18);
	ASSERT_EQ_U(p.dropped_zero, 0);
	ASSERT_EQ_U(p.kind_mismatches, 0);
	ASSERT_EQ_STR(p.type_name[0], "c104de4f");
	ASSERT_EQ_U(p.op[0].kind, KMB_OP_KMALLOC);
	ASSERT_EQ_U(p.op[0].size, 29);
	ASSERT_EQ_U(p.op[0].slot, 0);
	ASSERT_EQ_U(p.op[0].type, 0);
	for (uint32_t c = 0; c < p.ncaches; c++)
		ASSERT_TRUE(strncmp(p.cache_name[c], "cache-", 6) == 0 && p.cache_size[c] > 0);
	kmb_plan_free(&p);
	kmb_trace_free(&t);
}

/* ---- gfp_flags ---------------------------------------------------------------------- */

KMB_TEST(gfp_mapping)
{
	static const struct {
		const char *gfp;
		int flags;
	} cases[] = {
	        {"GFP_KERNEL", M_WAITOK},
	        {"GFP_KERNEL|GFP_ZERO", M_WAITOK | M_ZERO},
	        {"GFP_KERNEL|__GFP_ZERO", M_WAITOK | M_ZERO},
	        {"GFP_USER|GFP_ZERO", M_WAITOK | M_ZERO},
	        {"GFP_ATOMIC", M_NOWAIT | M_USE_RESERVE},
	        {"GFP_ATOMIC|GFP_ZERO", M_NOWAIT | M_USE_RESERVE | M_ZERO},
	        {"GFP_ATOMIC|__GFP_NOWARN", M_NOWAIT | M_USE_RESERVE},
	        {"GFP_NOWARN", M_NOWAIT},
	        {"__GFP_NOWARN", M_NOWAIT},
	        {"GFP_NOWAIT", M_NOWAIT},
	        {"GFP_NOWAIT|__GFP_NOWARN", M_NOWAIT},
	        {"__GFP_HIGH", M_NOWAIT | M_USE_RESERVE},
	        {"__GFP_ATOMIC", M_NOWAIT | M_USE_RESERVE},
	        {"GFP_NOFS", M_WAITOK},
	        {"GFP_NOIO", M_WAITOK},
	        {"GFP_HIGHUSER", M_WAITOK},
	        {"GFP_HIGHUSER_MOVABLE", M_WAITOK},
	        {"GFP_TEMPORARY", M_WAITOK},
	        {"GFP_KERNEL_ACCOUNT", M_WAITOK},
	        {"__GFP_WAIT", M_WAITOK},
	        {"GFP_WAIT", M_WAITOK},
	        {"__GFP_DIRECT_RECLAIM", M_WAITOK},
	        {"__GFP_RECLAIM", M_WAITOK},
	        {"__GFP_KSWAPD_RECLAIM", M_NOWAIT},
	        {"GFP_NOFS|__GFP_NOFAIL", M_WAITOK | M_NOFAIL},
	        {"GFP_KERNEL|__GFP_NORETRY", M_WAITOK | M_NORETRY},
	        {"GFP_NOWAIT|__GFP_NORETRY", M_NOWAIT | M_NORETRY},
	        {"GFP_KERNEL|__GFP_NOFAIL|__GFP_NORETRY", M_WAITOK | M_NOFAIL}, /* NOFAIL wins */
	        {"GFP_KERNEL|__GFP_RETRY_MAYFAIL|__GFP_NOFAIL", M_WAITOK | M_NOFAIL},
	        {"GFP_KERNEL|__GFP_RETRY_MAYFAIL|__GFP_NOWARN", M_WAITOK | M_FAILOK},
	        {"GFP_KERNEL|__GFP_REPEAT", M_WAITOK},
	        {"__GFP_FOO|GFP_BAR", M_NOWAIT},            /* unknown names are ignored */
	        {"__GFP_IO|__GFP_FS|__GFP_COMP", M_NOWAIT}, /* nothing that may sleep */
	        {"none", M_NOWAIT},
	        {"0xcc0", M_WAITOK},                 /* 6.x GFP_KERNEL */
	        {"0xdc0", M_WAITOK | M_ZERO},        /* GFP_KERNEL|__GFP_ZERO */
	        {"0x820", M_NOWAIT | M_USE_RESERVE}, /* 6.4+ GFP_ATOMIC */
	        {"0xa20", M_NOWAIT | M_USE_RESERVE}, /* 4.x-6.3 GFP_ATOMIC */
	        {"0x2800", M_NOWAIT},                /* 6.x GFP_NOWAIT */
	        {"0x8cc0", M_WAITOK | M_NOFAIL},
	        {"0x10cc0", M_WAITOK | M_NORETRY},
	        {"0x4cc0", M_WAITOK | M_FAILOK},
	        {"0x0", M_NOWAIT},
	        {"0", M_NOWAIT},
	        {"0X400", M_WAITOK},
	        {"GFP_KERNEL|0x4000000", M_WAITOK}, /* leftover bits printed as hex */
	        {"GFP_NOWAIT|0x100", M_NOWAIT | M_ZERO},
	};
	static const char *bad[] = {
	        "",
	        "|",
	        "GFP_KERNEL|",
	        "|GFP_KERNEL",
	        "GFP_KERNEL||GFP_ZERO",
	        "GFP KERNEL",
	        "GFP-KERNEL",
	        "0x",
	        "0xzz",
	        "0x1ffffffffffffffff",
	        "___",
	        "GFP_KERNEL\r",
	};
	int flags;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flags = -1;
		if (kmb_gfp_to_flags(cases[i].gfp, strlen(cases[i].gfp), &flags) != 0 ||
		    flags != cases[i].flags)
			kmb_test_fail(__FILE__, __LINE__, "%s: got %#x, want %#x", cases[i].gfp,
			              (unsigned)flags, (unsigned)cases[i].flags);
		ASSERT_TRUE(!(flags & M_WAITOK) != !(flags & M_NOWAIT));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (kmb_gfp_to_flags(bad[i], strlen(bad[i]), &flags) != -EINVAL)
			kmb_test_fail(__FILE__, __LINE__, "\"%s\" accepted", bad[i]);
	ASSERT_EQ_I(kmb_gfp_to_flags("GFP_KERNEL|GFP_ZERO", 10, &flags), 0); /* len bounds */
	ASSERT_EQ_I(flags, M_WAITOK);
}

/* ---- line shapes -------------------------------------------------------------------- */

KMB_TEST(line_shapes)
{
	struct kmb_trace t;
	const struct kmb_event *e;

	load_ok(DATA("shapes.trace"), &t);
	ASSERT_EQ_U(t.lines, 17);
	ASSERT_EQ_U(t.nev, 11);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_SYNTAX], 0);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_FIELD], 0);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_OTHER_EVENT], 1);
	ASSERT_EQ_U(t.lost_events, 42);

	e = &t.ev[0]; /* 5-char flags, <idle>, symbolised call site, node=-1, accounted= */
	ASSERT_EQ_U(e->line, 4);
	ASSERT_EQ_U(e->kind, KMB_EV_KMALLOC);
	ASSERT_EQ_U(e->cpu, 2);
	ASSERT_EQ_U(e->ts_ns, 1043512345000ULL);
	ASSERT_EQ_STR(t.str[e->site], "__alloc_skb+0x8d/0x1e0");
	ASSERT_EQ_U(e->ptr, 0xffff888104a3c000ULL);
	ASSERT_EQ_U(e->bytes_req, 640);
	ASSERT_EQ_U(e->bytes_alloc, 1024);
	ASSERT_EQ_I(e->flags, M_NOWAIT | M_USE_RESERVE);
	ASSERT_EQ_I(e->node, -1);

	e = &t.ev[1]; /* task name with a space, name=, node=0 */
	ASSERT_EQ_U(e->kind, KMB_EV_CACHE_ALLOC);
	ASSERT_EQ_U(e->cpu, 1);
	ASSERT_EQ_STR(t.str[e->site], "getname_flags+0x4c/0x1c0");
	ASSERT_EQ_STR(t.str[e->cache], "names_cache");
	ASSERT_EQ_I(e->node, 0);
	ASSERT_EQ_I(e->flags, M_WAITOK);

	e = &t.ev[2]; /* no flags column, ptr=0000000000000000 */
	ASSERT_EQ_U(e->line, 6);
	ASSERT_EQ_U(e->kind, KMB_EV_KFREE);
	ASSERT_EQ_U(e->cpu, 3);
	ASSERT_EQ_U(e->ts_ns, 1043512500000ULL);
	ASSERT_EQ_U(e->ptr, 0);
	ASSERT_EQ_STR(t.str[e->site], "kfree_skb+0x10/0x20");

	e = &t.ev[3]; /* task "a-b:c d", a tgid column, ptr with 0x */
	ASSERT_EQ_U(e->kind, KMB_EV_CACHE_FREE);
	ASSERT_EQ_U(e->ptr, 0xffff888100c8e000ULL);
	ASSERT_EQ_STR(t.str[e->cache], "names_cache");
	ASSERT_EQ_U(e->cache, t.ev[1].cache);

	e = &t.ev[4]; /* after "CPU:3 [LOST 42 EVENTS]": kmalloc_node, hex gfp, node=1 */
	ASSERT_EQ_U(e->line, 9);
	ASSERT_EQ_U(e->kind, KMB_EV_KMALLOC);
	ASSERT_EQ_I(e->flags, M_WAITOK);
	ASSERT_EQ_I(e->node, 1);

	e = &t.ev[5]; /* mm_page_alloc, pfn in hex */
	ASSERT_EQ_U(e->kind, KMB_EV_PAGE_ALLOC);
	ASSERT_EQ_U(e->ptr, 0x1a2b3);
	ASSERT_EQ_U(e->order, 2);
	ASSERT_EQ_I(e->flags, M_WAITOK);
	e = &t.ev[6]; /* mm_page_alloc 3.x, pfn in decimal */
	ASSERT_EQ_U(e->ptr, 123456);
	ASSERT_EQ_U(e->order, 0);
	e = &t.ev[7];
	ASSERT_EQ_U(e->kind, KMB_EV_PAGE_FREE);
	ASSERT_EQ_U(e->ptr, 0x1a2b3);
	ASSERT_EQ_U(e->order, 2);
	e = &t.ev[8]; /* mm_page_free_batched */
	ASSERT_EQ_U(e->kind, KMB_EV_PAGE_FREE);
	ASSERT_EQ_U(e->ptr, 123456);

	e = &t.ev[9]; /* kmem_cache_alloc_node, ptr=  (null) */
	ASSERT_EQ_U(e->kind, KMB_EV_CACHE_ALLOC);
	ASSERT_EQ_U(e->ptr, 0);
	ASSERT_EQ_U(e->bytes_req, 64);
	ASSERT_EQ_I(e->flags, M_NOWAIT);

	e = &t.ev[10]; /* a module symbol "[ext4]" continues the call site */
	ASSERT_EQ_U(e->line, 16);
	ASSERT_EQ_STR(t.str[e->site], "ext4_alloc_inode+0x1a/0x200 [ext4]");
	ASSERT_EQ_U(e->ptr, 0xffff888104a3e000ULL);
	ASSERT_EQ_I(e->flags, M_WAITOK | M_ZERO);
	kmb_trace_free(&t);
}

KMB_TEST(shapes_facts)
{
	struct kmb_trace t;
	struct kmb_trace_facts f;

	load_ok(DATA("shapes.trace"), &t);
	ASSERT_EQ_I(kmb_trace_facts(&t, &f), 0);
	ASSERT_EQ_U(f.events, 7); /* page events are not events */
	ASSERT_EQ_U(f.page_alloc_events, 2);
	ASSERT_EQ_U(f.page_free_events, 2);
	ASSERT_EQ_U(f.allocs, 4);
	ASSERT_EQ_U(f.failed_allocs, 1);
	ASSERT_EQ_U(f.frees, 1);
	ASSERT_EQ_U(f.null_frees, 1);
	ASSERT_EQ_U(f.matched_frees, 1);
	ASSERT_EQ_U(f.cpus, 4);
	ASSERT_EQ_U(f.peak_live_objects, 3);
	ASSERT_EQ_U(f.final_live_objects, 3);
	ASSERT_EQ_U(f.peak_live_bytes_req, 4096 + 640);
	kmb_trace_free(&t);
}

KMB_TEST(task_names)
{
	static const char *lines[] = {
	        "   my task: with-dashes-12 [001] .... 5.000001: kfree: call_site=c1 ptr=c2",
	        "x-1 [7] 5.5: kfree: call_site=c1 ptr=c2",
	        "<...>-31337 [123] dNh1. 5.5: kfree: call_site=c1 ptr=c2",
	        "weird [1]-name-5 [004] .... 5.5: kfree: call_site=c1 ptr=c2",
	        "tab\tsep-5\t[004]\t....\t5.5:\tkfree:\tcall_site=c1\tptr=c2",
	};
	static const unsigned cpu[] = {1, 7, 123, 4, 4};
	struct kmb_trace t;
	char err[256];

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		int rc = parse1(&t, lines[i], err, sizeof(err));

		if (rc != 1)
			kmb_test_fail(__FILE__, __LINE__, "%s: %d %s", lines[i], rc, err);
		ASSERT_EQ_U(t.ev[0].cpu, cpu[i]);
		ASSERT_EQ_U(t.ev[0].ptr, 0xc2);
		ASSERT_EQ_STR(t.str[t.ev[0].site], "c1");
		kmb_trace_free(&t);
	}
}

/* ---- facts and plans ---------------------------------------------------------------- */

KMB_TEST(implicit_free)
{
	struct kmb_trace t;
	struct kmb_trace_facts f;
	struct kmb_plan p;

	load_ok(DATA("implicit.trace"), &t);
	ASSERT_EQ_U(t.nev, 7);
	ASSERT_EQ_I(kmb_trace_facts(&t, &f), 0);
	ASSERT_EQ_U(f.events, 7);
	ASSERT_EQ_U(f.allocs, 3);
	ASSERT_EQ_U(f.implicit_frees, 1);
	ASSERT_EQ_U(f.frees, 3);
	ASSERT_EQ_U(f.matched_frees, 2);
	ASSERT_EQ_U(f.unmatched_frees, 1);
	ASSERT_EQ_U(f.null_frees, 1);
	ASSERT_EQ_U(f.total_bytes_req, 30);
	ASSERT_EQ_U(f.total_bytes_alloc, 56);
	ASSERT_EQ_U(f.peak_live_objects, 1);    /* the old object died before the new one */
	ASSERT_EQ_U(f.peak_live_bytes_req, 20); /* not 30 */
	ASSERT_EQ_U(f.final_live_objects, 0);

	ASSERT_EQ_I(kmb_trace_plan(&t, &p), 0);
	ASSERT_EQ_U(p.nop, 5);
	ASSERT_EQ_U(p.nslots, 1); /* slot 0 is free again: CPU 0's null slot from then on */
	ASSERT_EQ_U(p.dropped_zero, 1);
	ASSERT_EQ_U(f.zero_size_allocs, 1);
	ASSERT_EQ_U(p.null_kfrees, 1);
	ASSERT_EQ_U(p.op[4].kind, KMB_OP_KFREE_NULL); /* kfree(NULL): replayed as a call */
	ASSERT_EQ_U(p.op[4].slot, 0);
	ASSERT_EQ_U(p.op[0].kind, KMB_OP_KMALLOC);
	ASSERT_EQ_U(p.op[0].size, 10);
	ASSERT_EQ_U(p.op[1].kind, KMB_OP_KFREE); /* the implicit free, before the alloc */
	ASSERT_EQ_U(p.op[1].event, 1);
	ASSERT_EQ_U(p.op[1].type, 0);
	ASSERT_EQ_U(p.op[2].kind, KMB_OP_KMALLOC);
	ASSERT_EQ_U(p.op[2].size, 20);
	ASSERT_EQ_U(p.op[2].type, 1); /* its own call site */
	ASSERT_EQ_U(p.op[3].kind, KMB_OP_KFREE);
	ASSERT_EQ_U(p.op[3].type, 1);
	ASSERT_EQ_U(p.op[3].event, 2);
	ASSERT_EQ_U(p.ntypes, 2);
	ASSERT_EQ_U(p.ncaches, 0); /* the zero-size cache allocation was dropped */
	kmb_plan_free(&p);
	kmb_trace_free(&t);
}

KMB_TEST(plan_slots_types_caches)
{
	static const struct {
		uint8_t kind;
		uint32_t slot, type;
		uint64_t size;
	} want[] = {
	        {KMB_OP_KMALLOC, 0, 0, 8},      {KMB_OP_KMALLOC, 1, 1, 16},
	        {KMB_OP_KMALLOC, 2, 0, 8},      {KMB_OP_KFREE, 1, 1, 0},
	        {KMB_OP_CACHE_ALLOC, 1, 0, 64}, {KMB_OP_CACHE_ALLOC, 3, 1, 100},
	        {KMB_OP_CACHE_ALLOC, 4, 0, 64}, {KMB_OP_CACHE_ALLOC, 5, 2, 192},
	        {KMB_OP_CACHE_FREE, 1, 0, 0},   {KMB_OP_KFREE, 0, 0, 0},
	};
	struct kmb_trace t;
	struct kmb_trace_facts f;
	struct kmb_plan p;

	load_ok(DATA("plan.trace"), &t);
	ASSERT_EQ_I(kmb_trace_facts(&t, &f), 0);
	ASSERT_EQ_I(kmb_trace_plan(&t, &p), 0);
	ASSERT_EQ_U(p.nop, 10);
	for (size_t i = 0; i < p.nop; i++) {
		if (p.op[i].kind != want[i].kind || p.op[i].slot != want[i].slot ||
		    p.op[i].type != want[i].type || p.op[i].size != want[i].size)
			kmb_test_fail(__FILE__, __LINE__,
			              "op %zu: kind %u slot %u type %u size %" PRIu64, i,
			              p.op[i].kind, p.op[i].slot, p.op[i].type, p.op[i].size);
		ASSERT_EQ_U(p.op[i].event, i);
	}
	ASSERT_EQ_U(p.nslots, 6);
	ASSERT_EQ_U(p.nslots, f.peak_live_objects);
	ASSERT_EQ_U(p.ntypes, 2);
	ASSERT_EQ_STR(p.type_name[0], "c1000001");
	ASSERT_EQ_STR(p.type_name[1], "c1000002");
	ASSERT_EQ_U(p.ncaches, 3);
	ASSERT_EQ_STR(p.cache_name[0], "cache-64-64");
	ASSERT_EQ_U(p.cache_size[0], 64);
	ASSERT_EQ_STR(p.cache_name[1], "cache-100-128");
	ASSERT_EQ_U(p.cache_size[1], 100);
	ASSERT_EQ_STR(p.cache_name[2], "dentry");
	ASSERT_EQ_U(p.cache_size[2], 192);
	ASSERT_EQ_U(p.kind_mismatches, 2);
	ASSERT_EQ_I(p.op[1].flags, M_NOWAIT | M_USE_RESERVE);
	ASSERT_EQ_I(p.op[2].flags, M_WAITOK | M_ZERO);
	ASSERT_EQ_U(p.op[4].cpu, 1);
	kmb_plan_free(&p);
	kmb_trace_free(&t);
}

KMB_TEST(plan_pages)
{
	struct kmb_trace t;
	struct kmb_plan p;

	load_ok(DATA("shapes.trace"), &t);
	ASSERT_EQ_I(kmb_trace_plan(&t, &p), 0);
	/* kmalloc, cache alloc, cache free, kmalloc_node, 2 page allocs, 2 page frees,
	 * kmalloc, the NULL kfree (the failed cache alloc is dropped) */
	ASSERT_EQ_U(p.nop, 10);
	ASSERT_EQ_U(p.null_kfrees, 1);
	ASSERT_EQ_U(p.op[2].kind, KMB_OP_KFREE_NULL);
	ASSERT_EQ_U(p.op[2].cpu, 3);
	ASSERT_EQ_U(p.op[5].kind, KMB_OP_PAGE_ALLOC);
	ASSERT_EQ_U(p.op[5].order, 2);
	ASSERT_EQ_U(p.op[7].kind, KMB_OP_PAGE_FREE);
	ASSERT_EQ_U(p.op[7].slot, p.op[5].slot);
	ASSERT_EQ_U(p.op[7].order, 2);
	ASSERT_EQ_U(p.op[8].kind, KMB_OP_PAGE_FREE);
	ASSERT_EQ_U(p.op[8].slot, p.op[6].slot);
	ASSERT_EQ_U(p.ncaches, 1);
	ASSERT_EQ_STR(p.cache_name[0], "names_cache");
	ASSERT_EQ_U(p.cache_size[0], 4096);
	kmb_plan_free(&p);
	kmb_trace_free(&t);
}

/* ---- bad input ---------------------------------------------------------------------- */

KMB_TEST(bad_lines_counted)
{
	struct kmb_trace t;
	char want[512];

	load_ok(DATA("bad.trace"), &t);
	ASSERT_EQ_U(t.lines, 9);
	ASSERT_EQ_U(t.nev, 2);
	ASSERT_EQ_U(t.ev[1].line, 9);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_SYNTAX], 3);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_FIELD], 4);
	snprintf(want, sizeof(want),
	         "%s:2: kmalloc: bytes_req=18446744073709551616: value overflows uint64",
	         DATA("bad.trace"));
	ASSERT_EQ_STR(t.first_error, want);
	kmb_trace_free(&t);
}

/* Sizes no kernel traced are field errors with file:line (issue 16): a request above 1 TiB
 * (2^64-1 wrapped the sums) and a live block smaller than its request; a failed allocation
 * with bytes_alloc 0 is a real event. */
KMB_TEST(impossible_sizes_rejected)
{
	struct kmb_trace t;
	char want[512];

	load_ok(DATA("sizes.trace"), &t);
	ASSERT_EQ_U(t.nev, 3);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_FIELD], 2);
	snprintf(want, sizeof(want),
	         "%s:2: kmalloc: bytes_req=18446744073709551615: more than the 1 TiB any kernel "
	         "allocation can be",
	         DATA("sizes.trace"));
	ASSERT_EQ_STR(t.first_error, want);
	snprintf(want, sizeof(want),
	         "%s:3: kmalloc: bytes_alloc=4: less than bytes_req (a kernel's slot is never "
	         "smaller)",
	         DATA("sizes.trace"));
	ASSERT_EQ_STR(t.errors[1], want);
	kmb_trace_free(&t);
}

KMB_TEST(strict_mode)
{
	struct kmb_trace_opts opts = {.strict = true};
	struct kmb_trace t;
	char err[512], want[512];

	ASSERT_EQ_I(kmb_trace_load(DATA("bad.trace"), &opts, &t, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
	         "%s:2: kmalloc: bytes_req=18446744073709551616: value overflows uint64",
	         DATA("bad.trace"));
	ASSERT_EQ_STR(err, want);
	ASSERT_EQ_U(t.nev, 1);
	kmb_trace_free(&t);
	ASSERT_EQ_I(kmb_trace_load(BUNDLED, &opts, &t, err, sizeof(err)), 0);
	ASSERT_EQ_STR(err, "");
	kmb_trace_free(&t);
}

KMB_TEST(field_errors)
{
	static const struct {
		const char *line, *why;
	} cases[] = {
	        {"a-1 [000] .... 1.0: kmalloc: call_site=c1 ptr=c2 bytes_req=1 bytes_alloc=8",
	         "kmalloc: missing gfp_flags="},
	        {"a-1 [000] .... 1.0: kfree: ptr=c2", "kfree: missing call_site="},
	        {"a-1 [000] .... 1.0: kfree: call_site=c1 ptr=(____ptrval____)",
	         "kfree: ptr=(____ptrval____): not a number"},
	        {"a-1 [000] .... 1.0: kfree: call_site=c1 ptr=1ffffffffffffffff",
	         "kfree: ptr=1ffffffffffffffff: value overflows uint64"},
	        {"a-1 [000] .... 1.0: kmalloc: call_site=c1 ptr=c2 bytes_req=-1 bytes_alloc=8 "
	         "gfp_flags=GFP_KERNEL",
	         "kmalloc: bytes_req=-1: not a number"},
	        {"a-1 [000] .... 1.0: kmalloc_node: call_site=c1 ptr=c2 bytes_req=1 bytes_alloc=8 "
	         "gfp_flags=GFP_KERNEL node=99999",
	         "kmalloc_node: node=99999: not a node number"},
	        {"a-1 [000] .... 1.0: mm_page_alloc: page=0 pfn=0x10 gfp_flags=GFP_KERNEL",
	         "mm_page_alloc: missing order="},
	        {"a-1 [000] .... 1.0: mm_page_free: pfn=12 order=64",
	         "mm_page_free: order=64: order out of range (0..10)"},
	        {"a-1 [000] .... 1.0: mm_page_free: pfn=12 order=11",
	         "mm_page_free: order=11: order out of range (0..10)"},
	        {"a-1 [000] .... 1.0: mm_page_alloc: pfn=12 order=-1 gfp_flags=GFP_KERNEL",
	         "mm_page_alloc: order=-1: negative order"},
	        {"a-1 [000] .... 1.0: mm_page_free: pfn=12 order=99999999999999999999",
	         "mm_page_free: order=99999999999999999999: value overflows uint64"},
	        {"a-1 [000] .... 1.0: kmalloc: call_site=c1 ptr=c2 bytes_req=1 "
	         "bytes_alloc=18446744073709551616 gfp_flags=GFP_KERNEL",
	         "kmalloc: bytes_alloc=18446744073709551616: value overflows uint64"},
	};
	struct kmb_trace t;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ_I(parse1(&t, cases[i].line, err, sizeof(err)), -EINVAL);
		ASSERT_EQ_STR(err, cases[i].why);
		ASSERT_EQ_U(t.skipped[KMB_SKIP_FIELD], 1);
		kmb_trace_free(&t);
	}
}

KMB_TEST(syntax_errors)
{
	static const char *lines[] = {
	        "garbage",
	        "a-1 [000]",
	        "a-1 [000] ....",
	        "a-1 [000] .... 1.0",
	        "a-1 [000] 1.0:",
	        "a-1 [000] .... 1.0: kmalloc",
	        "[000] .... 1.0: kfree: call_site=c1 ptr=c2",
	        "a [000] .... 1.0: kfree: call_site=c1 ptr=c2",
	        "a-1 [70000] 1.0: kfree: ptr=c2",
	        "a-1 [000] .... 99999999999999999999.0: kfree: call_site=c1 ptr=c2",
	        "a-1 [000] .... 1.0x: kfree: call_site=c1 ptr=c2",
	        "CPU:1 [LOST x EVENTS]",
	};
	struct kmb_trace t;
	char err[256];

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		int rc = parse1(&t, lines[i], err, sizeof(err));

		if (rc != -EINVAL || t.skipped[KMB_SKIP_SYNTAX] != 1)
			kmb_test_fail(__FILE__, __LINE__, "\"%s\": %d", lines[i], rc);
		ASSERT_CONTAINS(t.first_error, "<input>:1: ");
		kmb_trace_free(&t);
	}
	ASSERT_EQ_I(parse1(&t, "  \t ", err, sizeof(err)), 0);
	kmb_trace_free(&t);
	ASSERT_EQ_I(parse1(&t, "a-1 [000] .... 1.0: sched_waking: comm=x pid=1", err, 8), -ENOENT);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_OTHER_EVENT], 1);
	ASSERT_EQ_STR(t.first_error, "");
	kmb_trace_free(&t);
}

KMB_TEST(overflow_bytes_req)
{
	struct kmb_trace t;
	char err[256];

	ASSERT_EQ_I(parse1(&t,
	                   "a-1 [000] .... 1.0: kmalloc: call_site=c1 ptr=c2 "
	                   "bytes_req=18446744073709551616 bytes_alloc=8 gfp_flags=GFP_KERNEL",
	                   err, sizeof(err)),
	            -EINVAL);
	ASSERT_EQ_STR(err, "kmalloc: bytes_req=18446744073709551616: value overflows uint64");
	kmb_trace_free(&t);
	ASSERT_EQ_I(parse1(&t,
	                   "a-1 [000] .... 1.0: kmalloc: call_site=c1 ptr=c2 "
	                   "bytes_req=18446744073709551615 bytes_alloc=8 gfp_flags=GFP_KERNEL",
	                   err, sizeof(err)),
	            -EINVAL); /* parses, but no kernel traced it (impossible_sizes_rejected) */
	ASSERT_EQ_STR(err, "kmalloc: bytes_req=18446744073709551615: more than the 1 TiB any "
	                   "kernel allocation can be");
	kmb_trace_free(&t);
}

KMB_TEST(nul_bytes)
{
	static const char buf[] = "a-1 [000] .... 1.0: kfree: call_site=c1\0x ptr=c2\n" /* field */
	                          "in\0it-1 [000] .... 1.0: kfree: call_site=c1 ptr=c3\n" /* fine */
	                          "a-1 [000] .... 1.0: kfree: call_site=c1 ptr=c4\0\n" /* field */
	                          "\0\0\0\n"                                           /* syntax */
	                          "a-1 [000] .... 1.0: kfree: call_site=c1 ptr=c5\n";
	struct kmb_trace t;
	char path[64];

	write_tmp(path, sizeof(path), buf, sizeof(buf) - 1);
	load_ok(path, &t);
	ASSERT_EQ_U(t.lines, 5);
	ASSERT_EQ_U(t.nev, 2);
	ASSERT_EQ_U(t.ev[0].ptr, 0xc3);
	ASSERT_EQ_U(t.ev[1].ptr, 0xc5);
	ASSERT_EQ_U(t.ev[1].line, 5);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_FIELD], 2);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_SYNTAX], 1);
	ASSERT_CONTAINS(t.first_error, ":1: kfree: call_site=c1?x: control character 0x00");
	kmb_trace_free(&t);
	unlink(path);
}

/* Control characters in names: the line is skipped with its reason, never interned (a
 * newline written back by convert --to ftrace would forge event lines; ESC drives a
 * terminal).  Issue 16. */
KMB_TEST(control_characters)
{
	static const char *const bad[] = {
	        "a-1 [000] .... 1.0: kfree: call_site=c1\x1b[2Jx ptr=c2",
	        "a-1 [000] .... 1.0: kfree: call_site=c1\x7f ptr=c2",
	        ("a-1 [000] .... 1.0: kmem_cache_alloc: call_site=c1 ptr=c2 bytes_req=8 "
	         "bytes_alloc=8 gfp_flags=GFP_KERNEL name=den\rtry"),
	};
	struct kmb_trace t;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ_I(parse1(&t, bad[i], err, sizeof(err)), -EINVAL);
		ASSERT_CONTAINS(err, "control character 0x");
		ASSERT_TRUE(strchr(err, '\x1b') == NULL && strchr(err, '\r') == NULL);
		for (size_t k = 0; k < t.nstr; k++) /* "", and c1 of the third */
			ASSERT_EQ_U(kmb__ctrl_byte(t.str[k], strlen(t.str[k])), strlen(t.str[k]));
		ASSERT_EQ_U(t.skipped[KMB_SKIP_FIELD], 1);
		kmb_trace_free(&t);
	}
}

/* Two reports of 2^64-1 lost events: the sum saturates (it wrapped). */
KMB_TEST(lost_events_saturate)
{
	struct kmb_trace t;
	char err[256];

	ASSERT_EQ_I(parse1(&t, "CPU:0 [LOST 18446744073709551615 EVENTS]", err, sizeof(err)), 0);
	ASSERT_EQ_I(kmb_trace_parse_line(&t, "CPU:1 [LOST 18446744073709551615 EVENTS]", 40, 2, err,
	                                 sizeof(err)),
	            0);
	ASSERT_EQ_I(kmb_trace_parse_line(&t, "CPU:1 [LOST 2 EVENTS]", 21, 3, err, sizeof(err)), 0);
	ASSERT_EQ_U(t.lost_reports, 3);
	ASSERT_EQ_U(t.lost_events, UINT64_MAX);
	kmb_trace_free(&t);
}

KMB_TEST(megabyte_lines)
{
	const size_t big = 1 << 20;
	const char *pre = "a-1 [000] .... 1.0: kfree: call_site=";
	const char *good = "\na-1 [000] .... 1.0: kfree: call_site=c1 ptr=c6\n";
	size_t n = 0, cap = 2 * big + 256;
	char *buf = malloc(cap), path[64];
	struct kmb_trace t;

	ASSERT_NOT_NULL(buf);
	memcpy(buf + n, pre, strlen(pre)); /* line 1: a 1 MB call site */
	n += strlen(pre);
	memset(buf + n, 'a', big);
	n += big;
	memcpy(buf + n, " ptr=c5\n", 8);
	n += 8;
	memset(buf + n, '[', big); /* line 2: 1 MB of '[' */
	n += big;
	memcpy(buf + n, good, strlen(good)); /* line 3 */
	n += strlen(good);
	write_tmp(path, sizeof(path), buf, n);
	load_ok(path, &t);
	ASSERT_EQ_U(t.lines, 3);
	ASSERT_EQ_U(t.nev, 1);
	ASSERT_EQ_U(t.ev[0].line, 3);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_FIELD], 1);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_SYNTAX], 1);
	ASSERT_CONTAINS(t.first_error, ":1: kfree: call_site=aaaa");
	ASSERT_CONTAINS(t.first_error, "...: longer than 4096 bytes");
	ASSERT_TRUE(strlen(t.first_error) < 200);
	kmb_trace_free(&t);
	unlink(path);
	free(buf);
}

KMB_TEST(crlf)
{
	struct kmb_trace t;

	load_ok(DATA("crlf.trace"), &t);
	ASSERT_EQ_U(t.lines, 4);
	ASSERT_EQ_U(t.nev, 2);
	ASSERT_EQ_I(t.ev[0].flags, M_WAITOK | M_ZERO);
	ASSERT_EQ_STR(t.str[t.ev[1].cache], "kmalloc-32");
	ASSERT_EQ_U(t.ev[1].ptr, 0xc143de20);
	kmb_trace_free(&t);
}

KMB_TEST(empty_file)
{
	struct kmb_trace t;
	struct kmb_trace_facts f;
	struct kmb_plan p;

	load_ok(DATA("empty.trace"), &t);
	ASSERT_EQ_U(t.lines, 0);
	ASSERT_EQ_U(t.nev, 0);
	ASSERT_EQ_I(kmb_trace_facts(&t, &f), 0);
	ASSERT_EQ_U(f.events, 0);
	ASSERT_EQ_U(f.cpus, 0);
	ASSERT_EQ_I(kmb_trace_plan(&t, &p), 0);
	ASSERT_EQ_U(p.nop, 0);
	ASSERT_EQ_U(p.nslots, 0);
	kmb_plan_free(&p);
	kmb_trace_free(&t);
}

KMB_TEST(directory)
{
	struct kmb_trace t;
	char err[512];

	ASSERT_EQ_I(kmb_trace_load(DATA(""), NULL, &t, err, sizeof(err)), -EISDIR);
	ASSERT_CONTAINS(err, DATA(""));
	ASSERT_CONTAINS(err, "Is a directory");
	ASSERT_TRUE(strchr(err, '\n') == NULL);
	kmb_trace_free(&t);
}

KMB_TEST(missing_file)
{
	struct kmb_trace t;
	char err[512];

	ASSERT_EQ_I(kmb_trace_load(DATA("no-such.trace"), NULL, &t, err, sizeof(err)), -ENOENT);
	ASSERT_CONTAINS(err, DATA("no-such.trace"));
	ASSERT_CONTAINS(err, "No such file");
	kmb_trace_free(&t);
}

/* Random bytes and mutated lines: counted, never a crash (run under ASan to be sure). */
KMB_TEST(random_bytes)
{
	static const char *seed[] = {
	        "            init-1     [000] .N..     0.170000: kmalloc: call_site=c104de4f "
	        "ptr=c143de20 bytes_req=29 bytes_alloc=32 gfp_flags=GFP_KERNEL|GFP_ZERO",
	        " Web Content-4321   [001] d.s2.  1043.512400: kmem_cache_free: "
	        "call_site=putname+0x47/0x50 ptr=  (null) name=names_cache",
	        "   bash-900 (  900) [001] 1043.6: mm_page_alloc: page=0 pfn=0x1a2b3 order=2 "
	        "gfp_flags=0xcc0",
	};
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	struct kmb_trace t;
	char line[256], err[256];

	kmb_trace_init(&t);
	for (int i = 0; i < 200000; i++) {
		const char *s = seed[i % 3];
		size_t n = strlen(s);

		memcpy(line, s, n);
		for (int k = 0; k < 1 + i % 4; k++) { /* xorshift mutations */
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			line[x % n] = (char)(x >> 40);
		}
		if (i % 5 == 0)
			n = (x >> 20) % n; /* truncated */
		if (i % 7 == 0)
			for (size_t k = 0; k < n; k++, x ^= x << 13, x ^= x >> 7, x ^= x << 17)
				line[k] = (char)x;
		(void)kmb_trace_parse_line(&t, line, n, (uint32_t)i + 1, err, sizeof(err));
	}
	ASSERT_EQ_U(t.lines, 200000);
	ASSERT_EQ_U(t.nev + t.skipped[0] + t.skipped[1] + t.skipped[2] > 0, 1);
	kmb_trace_free(&t);
}

KMB_TEST(intern)
{
	struct kmb_trace t;
	char name[32];
	uint32_t idx[5000];

	kmb_trace_init(&t);
	ASSERT_EQ_U(t.nstr, 1);
	ASSERT_EQ_STR(t.str[0], "");
	ASSERT_EQ_U(kmb_trace_intern(&t, "", 0), 0);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "site%d", i);
		idx[i] = kmb_trace_intern(&t, name, strlen(name));
		ASSERT_EQ_U(idx[i], (uint32_t)i + 1);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "site%d", i);
		ASSERT_EQ_U(kmb_trace_intern(&t, name, strlen(name)), idx[i]);
		ASSERT_EQ_STR(t.str[idx[i]], name);
	}
	ASSERT_EQ_U(kmb_trace_intern(&t, "site1x", 5), idx[1]); /* by length */
	ASSERT_EQ_U(kmb_trace_intern(&t, "a\0b", 3), 5001);     /* NUL is a byte */
	ASSERT_EQ_U(kmb_trace_intern(&t, "a\0c", 3), 5002);
	ASSERT_EQ_U(kmb_trace_intern(&t, "a", 1), 5003);
	kmb_trace_free(&t);
}

KMB_TEST(ptrmap)
{
	struct kmb__ptrmap m;
	uint64_t v;

	kmb__ptrmap_init(&m);
	ASSERT_NULL(kmb__ptrmap_find(&m, 5));
	for (uint64_t k = 1; k <= 100000; k++)
		ASSERT_EQ_I(kmb__ptrmap_put(&m, k * 4096, k), 0);
	ASSERT_EQ_U(m.n, 100000);
	for (uint64_t k = 1; k <= 100000; k += 2)
		ASSERT_TRUE(kmb__ptrmap_remove(&m, k * 4096, &v) && v == k);
	ASSERT_EQ_U(m.n, 50000);
	for (uint64_t k = 1; k <= 100000; k++) {
		uint64_t *p = kmb__ptrmap_find(&m, k * 4096);

		if (k % 2)
			ASSERT_NULL(p);
		else
			ASSERT_TRUE(p && *p == k);
	}
	ASSERT_FALSE(kmb__ptrmap_remove(&m, 4096, &v));
	ASSERT_EQ_I(kmb__ptrmap_put(&m, 0, 1), -EINVAL);
	kmb__ptrmap_free(&m);
}

/* ---- every era and tool: the same events --------------------------------------------- */

static const struct {
	const char *file;
	int format;
} eras[] = {
        {ERA("linux-2.6.32.ftrace"), KMB_FMT_FTRACE},
        {ERA("linux-3.6.ftrace"), KMB_FMT_FTRACE},
        {ERA("linux-4.19.ftrace"), KMB_FMT_FTRACE},
        {ERA("linux-5.15.ftrace"), KMB_FMT_FTRACE},
        {ERA("linux-6.8.ftrace"), KMB_FMT_FTRACE},
        {ERA("trace-cmd.report"), KMB_FMT_TRACE_CMD},
        {ERA("trace-cmd-latency.report"), KMB_FMT_TRACE_CMD},
        {ERA("perf-script.txt"), KMB_FMT_PERF},
};

#define NERAS (sizeof(eras) / sizeof(eras[0]))

/* The ordinal of v among the distinct values seen so far in ids[] (adding it). */
static uint64_t ident(uint64_t *ids, size_t *n, uint64_t v)
{
	for (size_t i = 0; i < *n; i++)
		if (ids[i] == v)
			return i;
	ids[*n] = v;
	return (*n)++;
}

/* One line per event, pointers and strings replaced by the order they first appear. */
static void normalize(const struct kmb_trace *t, char (*out)[160])
{
	uint64_t ptrs[64], strs[64];
	size_t np = 0, ns = 0;

	for (size_t i = 0; i < t->nev; i++) {
		const struct kmb_event *e = &t->ev[i];
		bool page = e->kind >= KMB_EV_PAGE_ALLOC;

		snprintf(out[i], 160,
		         "kind %u cpu %u node %d ts %" PRIu64 " ptr %s%" PRIu64 " req %" PRIu64
		         " alloc %" PRIu64 " flags %#x order %u site %" PRIu64,
		         e->kind, e->cpu, e->node, e->ts_ns, page ? "pfn" : "obj",
		         e->ptr ? ident(ptrs, &np, e->ptr ^ (page ? 1ULL << 63 : 0)) + 1 : 0,
		         e->bytes_req, e->bytes_alloc, (unsigned)e->flags, e->order,
		         ident(strs, &ns, e->site));
	}
}

static void check_era_facts(const struct kmb_trace_facts *f)
{
	ASSERT_EQ_U(f->events, 11);
	ASSERT_EQ_U(f->allocs, 5);
	ASSERT_EQ_U(f->failed_allocs, 1);
	ASSERT_EQ_U(f->frees, 4);
	ASSERT_EQ_U(f->null_frees, 1);
	ASSERT_EQ_U(f->matched_frees, 3);
	ASSERT_EQ_U(f->unmatched_frees, 1);
	ASSERT_EQ_U(f->implicit_frees, 1);
	ASSERT_EQ_U(f->cpus, 2);
	ASSERT_EQ_U(f->total_bytes_req, 548);
	ASSERT_EQ_U(f->total_bytes_alloc, 608);
	ASSERT_EQ_U(f->peak_live_bytes_req, 316);
	ASSERT_EQ_U(f->peak_live_objects, 3);
	ASSERT_EQ_U(f->final_live_objects, 1);
	ASSERT_EQ_U(f->kmalloc_events, 3);
	ASSERT_EQ_U(f->kfree_events, 4);
	ASSERT_EQ_U(f->cache_alloc_events, 3);
	ASSERT_EQ_U(f->cache_free_events, 1);
	ASSERT_EQ_U(f->page_alloc_events, 2);
	ASSERT_EQ_U(f->page_free_events, 2);
}

KMB_TEST(eras_same_facts)
{
	static char first[16][160], other[16][160];
	struct kmb_trace_facts f0, f;

	for (size_t k = 0; k < NERAS; k++) {
		struct kmb_trace t;

		load_ok(eras[k].file, &t);
		if (t.format != eras[k].format)
			kmb_test_fail(__FILE__, __LINE__, "%s: format %s", eras[k].file,
			              kmb_trace_format_name(t.format));
		ASSERT_EQ_U(t.nev, 15);
		ASSERT_EQ_U(t.skipped[KMB_SKIP_SYNTAX] + t.skipped[KMB_SKIP_FIELD], 0);
		ASSERT_EQ_U(t.skipped[KMB_SKIP_OTHER_EVENT], 1);
		ASSERT_EQ_I(kmb_trace_facts(&t, &f), 0);
		check_era_facts(&f);
		normalize(&t, k ? other : first);
		if (k == 0)
			f0 = f;
		ASSERT_TRUE(memcmp(&f, &f0, sizeof(f)) == 0);
		for (size_t i = 0; k && i < t.nev; i++)
			if (strcmp(first[i], other[i]) != 0)
				kmb_test_fail(__FILE__, __LINE__, "%s event %zu: %s, in 2.6.32: %s",
				              eras[k].file, i, other[i], first[i]);
		kmb_trace_free(&t);
	}
}

KMB_TEST(eras_details)
{
	struct kmb_trace t;

	load_ok(ERA("linux-4.19.ftrace"), &t);
	ASSERT_EQ_U(t.lost_events, 3);
	ASSERT_EQ_U(t.lost_reports, 1);
	kmb_trace_free(&t);
	load_ok(ERA("trace-cmd.report"), &t);
	ASSERT_EQ_U(t.lost_events, 2);
	ASSERT_EQ_STR(t.str[t.ev[0].site], "__kmalloc+0x1a3");
	ASSERT_EQ_U(t.ev[0].ptr, 0xffff88003d2c1a00ULL);
	kmb_trace_free(&t);
	load_ok(ERA("linux-6.8.ftrace"), &t);
	ASSERT_EQ_STR(t.str[t.ev[2].cache], "dentry"); /* name= on kmem_cache_alloc */
	ASSERT_EQ_STR(t.str[t.ev[14].site], "consume_skb+0x31/0x90 [e1000e]");
	ASSERT_EQ_I(t.ev[1].node, 0);
	kmb_trace_free(&t);
	load_ok(ERA("linux-2.6.32.ftrace"), &t);
	ASSERT_EQ_U(t.ev[12].kind, KMB_EV_PAGE_FREE); /* mm_pagevec_free */
	ASSERT_EQ_U(t.ev[12].ptr, 654321);
	kmb_trace_free(&t);
}

KMB_TEST(tool_line_shapes)
{
	static const struct {
		const char *line;
		unsigned cpu;
		uint64_t ts;
	} ok[] = {
	        /* perf script: comm tid, comm pid/tid, no flags, kmem: prefix */
	        {"         swapper     0 [003]  1234.567890: kmem:kfree: call_site=c1 ptr=c2", 3,
	         1234567890000ULL},
	        {"    my task  42/43 [001] 5.000001:   kmem:kfree: call_site=c1 ptr=c2", 1,
	         5000001000ULL},
	        /* trace-cmd -l: CPU digits glued to the latency flags */
	        {"    bash-2041    2d..1. 512.100001: kfree: call_site=c1 ptr=c2", 2,
	         512100001000ULL},
	        {"bash-1 123.N.. 7.5: kfree: call_site=c1 ptr=c2", 123, 7500000000ULL},
	        /* trace-cmd --ts-diff, nanosecond and counter clocks */
	        {"bash-1 [000] 7.5: (+12)    kfree: call_site=c1 ptr=c2", 0, 7500000000ULL},
	        {"bash-1 [000] 7.123456789: kfree: call_site=c1 ptr=c2", 0, 7123456789ULL},
	        {"bash-1 [000] 123456789012345: kfree: call_site=c1 ptr=c2", 0, 123456789012345ULL},
	};
	static const char *ignored[] = {
	        "cpus=4",
	        "version = 6",
	        "CPU 3 is empty",
	        "CPU:0 [SUBBUFFER START]",
	        "CPU:1 [EVENTS DROPPED]",
	        "##### CPU 2 buffer started ####",
	};
	struct kmb_trace t;
	char err[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int rc = parse1(&t, ok[i].line, err, sizeof(err));

		if (rc != 1)
			kmb_test_fail(__FILE__, __LINE__, "%s: %d %s", ok[i].line, rc, err);
		ASSERT_EQ_U(t.ev[0].cpu, ok[i].cpu);
		ASSERT_EQ_U(t.ev[0].ts_ns, ok[i].ts);
		ASSERT_EQ_U(t.ev[0].kind, KMB_EV_KFREE);
		kmb_trace_free(&t);
	}
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		ASSERT_EQ_I(parse1(&t, ignored[i], err, sizeof(err)), 0);
		kmb_trace_free(&t);
	}
	ASSERT_EQ_I(parse1(&t, "CPU:1 [7 EVENTS DROPPED]", err, sizeof(err)), 0);
	ASSERT_EQ_U(t.lost_events, 7);
	kmb_trace_free(&t);
	/* another subsystem's event named like a kmem one is not a kmem event */
	ASSERT_EQ_I(parse1(&t, "a 1 [000] 1.0: foo:kfree: call_site=c1 ptr=c2", err, 8), -ENOENT);
	kmb_trace_free(&t);
	ASSERT_EQ_I(parse1(&t, "cpus=x", err, sizeof(err)), -EINVAL);
	kmb_trace_free(&t);
	/* perf call-chain lines, in perf output only */
	kmb_trace_init(&t);
	t.format = KMB_FMT_PERF;
	ASSERT_EQ_I(kmb_trace_parse_line(&t, "\t    ffffffff811d8a2d kmem_cache_alloc+0x10d (k)",
	                                 45, 1, err, sizeof(err)),
	            0);
	kmb_trace_free(&t);
}

/* Invalid UTF-8 is bytes: kept in names (the JSON writer replaces it), never a crash. */
KMB_TEST(invalid_utf8)
{
	struct kmb_trace t;
	char err[256];

	ASSERT_EQ_I(parse1(&t,
	                   "t\xc3\x28sk-1 [000] 1.0: kfree: call_site=f\xff\xfeo+0x1/0x2 ptr=c2",
	                   err, sizeof(err)),
	            1);
	ASSERT_EQ_STR(t.str[t.ev[0].site], "f\xff\xfeo+0x1/0x2");
	kmb_trace_free(&t);
	ASSERT_EQ_I(parse1(&t, "a-1 [000] 1.0: kfree: call_site=c1 ptr=\xe2\x82", err, sizeof(err)),
	            -EINVAL);
	ASSERT_CONTAINS(err, "kfree: ptr=??: not a number");
	kmb_trace_free(&t);
}

/* ---- the front end ------------------------------------------------------------------ */

KMB_TEST(first_errors_kept)
{
	struct kmb_trace t;

	load_ok(DATA("bad.trace"), &t);
	ASSERT_EQ_U(t.nerrors, KMB_TRACE_MAX_ERRORS);
	ASSERT_EQ_STR(t.errors[0], t.first_error);
	ASSERT_CONTAINS(t.errors[1], "bad.trace:3: kmalloc: missing bytes_req=");
	ASSERT_CONTAINS(t.errors[4], "bad.trace:6: ");
	kmb_trace_free(&t);
}

KMB_TEST(not_a_trace)
{
	static const char junk[] = "\x7f"
	                           "ELF\x02\x01\x01\0\0\0\n\xff\xfe binary\nmore junk\n";
	struct kmb_trace t;
	char path[64], err[512];

	write_tmp(path, sizeof(path), junk, sizeof(junk) - 1);
	ASSERT_EQ_I(kmb_trace_load(path, NULL, &t, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, path);
	ASSERT_CONTAINS(err, "not a kernel allocation trace: no event in 3 lines");
	ASSERT_TRUE(strchr(err, '\n') == NULL);
	kmb_trace_free(&t);
	unlink(path);
	/* only other events: an empty trace, not an error */
	write_tmp(path, sizeof(path), "a-1 [000] 1.0: sched_waking: comm=x pid=1\n", 42);
	load_ok(path, &t);
	ASSERT_EQ_U(t.nev, 0);
	kmb_trace_free(&t);
	unlink(path);
}

KMB_TEST(line_over_limit)
{
	const char *good = "a-1 [000] 1.0: kfree: call_site=c1 ptr=c6\n";
	size_t big = KMB_TRACE_MAX_LINE + 100, n = big + 1 + strlen(good);
	char *buf = malloc(n), path[64];
	struct kmb_trace t;

	ASSERT_NOT_NULL(buf);
	memset(buf, 'x', big);
	buf[big] = '\n';
	memcpy(buf + big + 1, good, strlen(good));
	write_tmp(path, sizeof(path), buf, n);
	load_ok(path, &t);
	ASSERT_EQ_U(t.lines, 2);
	ASSERT_EQ_U(t.nev, 1);
	ASSERT_EQ_U(t.ev[0].line, 2);
	ASSERT_EQ_U(t.skipped[KMB_SKIP_SYNTAX], 1);
	ASSERT_CONTAINS(t.first_error, ":1: line longer than 4194304 bytes");
	kmb_trace_free(&t);
	unlink(path);
	free(buf);
}

/* A pipe works as well as a file (the reader never seeks). */
static void *feed_pipe(void *arg)
{
	int fd = *(int *)arg;
	const char *s = "a-1 [000] 1.0: kfree: call_site=c1 ptr=c6\n";

	for (int i = 0; i < 1000; i++)
		if (write(fd, s, strlen(s)) < 0)
			break;
	close(fd);
	return NULL;
}

KMB_TEST(read_from_pipe)
{
	struct kmb_trace t;
	char path[64];
	pthread_t th;
	int fds[2];

	ASSERT_EQ_I(pipe(fds), 0);
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	ASSERT_EQ_I(pthread_create(&th, NULL, feed_pipe, &fds[1]), 0);
	load_ok(path, &t);
	pthread_join(th, NULL);
	close(fds[0]);
	ASSERT_EQ_U(t.nev, 1000);
	ASSERT_EQ_U(t.format, KMB_FMT_FTRACE);
	kmb_trace_free(&t);
}

/* Every prefix of a trace, and random files, through the whole front end. */
KMB_TEST(truncated_and_random_files)
{
	FILE *f = fopen(ERA("trace-cmd.report"), "rb");
	char buf[8192], path[64], err[512];
	uint64_t x = 88172645463325252ULL;
	size_t n;

	ASSERT_NOT_NULL(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (size_t len = 0; len <= n; len += 1 + len / 64) {
		struct kmb_trace t;

		write_tmp(path, sizeof(path), buf, len);
		(void)kmb_trace_load(path, NULL, &t, err, sizeof(err));
		ASSERT_TRUE(t.nev <= 15);
		kmb_trace_free(&t);
		unlink(path);
	}
	for (int k = 0; k < 200; k++) {
		struct kmb_trace t;

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[i] = (k & 1) ? (char)x : "ab- [0]1.:=\n kmalloc"[x % 20];
		}
		write_tmp(path, sizeof(path), buf, (size_t)(x % n));
		(void)kmb_trace_load(path, NULL, &t, err, sizeof(err));
		kmb_trace_free(&t);
		unlink(path);
	}
}

/* ---- writing ftrace text back ----------------------------------------------------------- */

static void same_plans(const struct kmb_plan *a, const struct kmb_plan *b)
{
	ASSERT_EQ_U(a->nop, b->nop);
	ASSERT_EQ_U(a->nslots, b->nslots);
	ASSERT_EQ_U(a->ntypes, b->ntypes);
	ASSERT_EQ_U(a->ncaches, b->ncaches);
	ASSERT_EQ_U(a->dropped_zero, b->dropped_zero);
	ASSERT_EQ_U(a->kind_mismatches, b->kind_mismatches);
	for (size_t i = 0; i < a->nop; i++)
		if (memcmp(&a->op[i], &b->op[i], sizeof(a->op[i])) != 0)
			kmb_test_fail(__FILE__, __LINE__, "op %zu differs", i);
	for (uint32_t i = 0; i < a->ntypes; i++)
		ASSERT_EQ_STR(a->type_name[i], b->type_name[i]);
	for (uint32_t i = 0; i < a->ncaches; i++) {
		ASSERT_EQ_STR(a->cache_name[i], b->cache_name[i]);
		ASSERT_EQ_U(a->cache_size[i], b->cache_size[i]);
	}
}

KMB_TEST(ftrace_writer_round_trip)
{
	const char *in[] = {BUNDLED, DATA("shapes.trace"), DATA("plan.trace"),
	                    ERA("linux-6.8.ftrace"), DATA("contexts/linux-4.19.ftrace")};
	char path[64];

	for (size_t k = 0; k < sizeof(in) / sizeof(in[0]); k++) {
		struct kmb_trace a, b;
		struct kmb_trace_facts fa, fb;
		struct kmb_plan pa, pb;
		FILE *f;
		int fd;

		load_ok(in[k], &a);
		snprintf(path, sizeof(path), "/tmp/kmb-test-ftrace-XXXXXX");
		ASSERT_TRUE((fd = mkstemp(path)) >= 0);
		ASSERT_NOT_NULL(f = fdopen(fd, "w"));
		ASSERT_EQ_I(kmb_trace_write_ftrace(&a, f), 0);
		fclose(f);
		load_ok(path, &b);
		ASSERT_EQ_U(b.nev, a.nev);
		ASSERT_EQ_I(kmb_trace_facts(&a, &fa), 0);
		ASSERT_EQ_I(kmb_trace_facts(&b, &fb), 0);
		ASSERT_TRUE(memcmp(&fa, &fb, sizeof(fa)) == 0);
		ASSERT_EQ_I(kmb_trace_plan(&a, &pa), 0);
		ASSERT_EQ_I(kmb_trace_plan(&b, &pb), 0);
		same_plans(&pa, &pb);
		kmb_plan_free(&pa);
		kmb_plan_free(&pb);
		kmb_trace_free(&a);
		kmb_trace_free(&b);
		unlink(path);
	}
}

/* ---- the irq-flags column: contexts ------------------------------------------------------ */

#define S  KMB_ECTX_SOFTIRQ
#define H  KMB_ECTX_HARDIRQ
#define NM KMB_ECTX_NMI

/* tests/data/contexts: the same 8 events in each era's column; the fourth is the era's
 * deepest nesting ('H' in 3.6, 'Z' in 4.19 and trace-cmd, 'z' in 6.8). */
KMB_TEST(irq_flags_column_of_each_era)
{
	static const struct {
		const char *file;
		uint8_t ctx[8];
	} eras[] = {
	        {DATA("contexts/linux-3.6.ftrace"), {0, S, H, S | H, S, 0, S, 0}},
	        {DATA("contexts/linux-4.19.ftrace"), {0, S, H, H | NM, S, 0, S, 0}},
	        {DATA("contexts/linux-6.8.ftrace"), {0, S, H, NM, S, 0, S, S}},
	        {DATA("contexts/trace-cmd-latency.report"), {0, S, H, H | NM, S, 0, S, S}},
	};

	for (size_t k = 0; k < sizeof(eras) / sizeof(eras[0]); k++) {
		struct kmb_trace t;

		load_ok(eras[k].file, &t);
		ASSERT_EQ_U(t.nev, 8);
		for (size_t i = 0; i < 8; i++)
			if (t.ev[i].ctx != eras[k].ctx[i])
				kmb_test_fail(__FILE__, __LINE__,
				              "%s: event %zu: context %u, not %u", eras[k].file, i,
				              t.ev[i].ctx, eras[k].ctx[i]);
		ASSERT_EQ_STR(kmb_event_ctx_name(t.ev[3].ctx), k == 0 ? "hardirq" : "NMI");
		kmb_trace_free(&t);
	}
}

/* Traces without the column (2.6.32, perf) or with '.' there: every event in process
 * context.  The bundled 3.6 boot trace has the column: its only events in interrupt
 * context are 410 kmem_cache_free in softirq (RCU callbacks), no allocation. */
KMB_TEST(no_irq_flags_column_is_process_context)
{
	const char *in[] = {ERA("linux-2.6.32.ftrace"), ERA("perf-script.txt"),
	                    ERA("linux-5.15.ftrace")};
	struct kmb_trace b;
	unsigned soft = 0;

	for (size_t k = 0; k < sizeof(in) / sizeof(in[0]); k++) {
		struct kmb_trace t;

		load_ok(in[k], &t);
		for (size_t i = 0; i < t.nev; i++)
			ASSERT_EQ_U(t.ev[i].ctx, 0);
		kmb_trace_free(&t);
	}
	load_ok(BUNDLED, &b);
	for (size_t i = 0; i < b.nev; i++) {
		ASSERT_TRUE(b.ev[i].ctx == 0 ||
		            (b.ev[i].ctx == KMB_ECTX_SOFTIRQ && b.ev[i].kind == KMB_EV_CACHE_FREE));
		soft += b.ev[i].ctx != 0;
	}
	ASSERT_EQ_U(soft, 410);
	kmb_trace_free(&b);
}

/* The plan keeps each op's context; trace stat's context table counts allocations by their
 * innermost context and lists the sleeping one in softirq with its line. */
KMB_TEST(plan_and_stat_keep_contexts)
{
	struct kmb_trace t;
	struct kmb_plan p;
	struct kmb_trace_ctx_stat cs;
	unsigned in_ctx = 0;

	load_ok(DATA("contexts/linux-6.8.ftrace"), &t);
	ASSERT_EQ_I(kmb_trace_plan(&t, &p), 0);
	for (size_t i = 0; i < p.nop; i++) {
		ASSERT_EQ_U(p.op[i].ctx, t.ev[p.op[i].event].ctx);
		in_ctx += p.op[i].ctx != 0;
	}
	ASSERT_EQ_U(in_ctx, 6); /* 4 allocations, 2 frees */
	ASSERT_EQ_I(kmb_trace_ctx_stat(&t, &cs), 0);
	ASSERT_EQ_U(cs.allocs[0], 1);
	ASSERT_EQ_U(cs.allocs[1], 2);
	ASSERT_EQ_U(cs.allocs[2], 1);
	ASSERT_EQ_U(cs.allocs[3], 1);
	ASSERT_EQ_U(cs.nbad, 1);
	ASSERT_EQ_STR(cs.bad[0].site, "buggy_rx_refill+0x2c/0x90");
	ASSERT_EQ_U(cs.bad[0].first_line, 17);
	ASSERT_EQ_U(cs.bad[0].ctx, S);
	kmb_trace_ctx_stat_free(&cs);
	kmb_plan_free(&p);
	kmb_trace_free(&t);
}

#undef S
#undef H
#undef NM

/* ---- statistics --------------------------------------------------------------------------- */

static const struct kmb_stat_row *row(const struct kmb_stat_row *r, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].name, name) == 0)
			return &r[i];
	kmb_test_fail(__FILE__, __LINE__, "no row %s", name);
}

KMB_TEST(stat_eras)
{
	struct kmb_trace t;
	struct kmb_trace_stat s;
	const struct kmb_stat_row *r;
	char err[256];

	load_ok(ERA("linux-5.15.ftrace"), &t);
	ASSERT_EQ_I(kmb_trace_stat(&t, &s), 0);
	ASSERT_EQ_U(s.allocs, 5);
	ASSERT_EQ_U(s.failed, 1);
	ASSERT_EQ_U(s.frees, 4); /* 3 matched + 1 implicit */
	ASSERT_EQ_U(s.pingpong, 3);
	ASSERT_EQ_U(s.bytes_req, 548);
	ASSERT_EQ_U(s.bytes_alloc, 608);
	ASSERT_EQ_U(s.peak_live_bytes_alloc, 352);
	ASSERT_EQ_U(s.never_freed, 1);
	r = row(s.sites, s.nsites, "__kmalloc+0x1a3/0x2e0");
	ASSERT_EQ_U(r->hits, 2);
	ASSERT_EQ_U(r->bytes_req, 140);
	ASSERT_EQ_U(r->bytes_alloc, 192);
	ASSERT_EQ_U(r->pingpong, 2);
	ASSERT_EQ_U(r->frees, 2);
	r = row(s.sites, s.nsites, "d_alloc+0x1d/0xa0");
	ASSERT_EQ_U(r->hits, 2);
	ASSERT_EQ_U(r->failed, 1);
	r = row(s.caches, s.ncaches, "cache-192-192"); /* 5.15 kmem_cache_alloc has no name= */
	ASSERT_EQ_U(r->hits, 2);
	ASSERT_EQ_U(r->pingpong, 1);
	ASSERT_EQ_U(row(s.caches, s.ncaches, "kmalloc-128")->hits, 1);
	ASSERT_EQ_U(s.life_events.count, 4);
	ASSERT_EQ_U(s.life_events.min, 2); /* the second P2: allocation and free events 9 -> 11 */
	ASSERT_EQ_U(s.life_events.max, 7); /* the first P2, implicitly freed: 2 -> 9 */
	ASSERT_EQ_U(s.life_ns.max, 70000); /* ... 10 lines of 7 us apart */
	ASSERT_EQ_U(s.life_ns.min, 28000);
	ASSERT_EQ_U(s.pages.allocs[2], 1);
	ASSERT_EQ_U(s.pages.allocs[0], 1);
	ASSERT_EQ_U(s.pages.frees[2], 1);
	ASSERT_EQ_U(s.pages.peak_live_pages, 5);
	ASSERT_EQ_U(s.pages.live_pages, 0);
	ASSERT_EQ_U(s.size[4].count, 1); /* 65..128 bytes: 100 */
	ASSERT_EQ_U(s.size[5].count, 2); /* 129..256: the two dentries */
	ASSERT_EQ_U(s.size[5].bytes_alloc, 384);
	ASSERT_EQ_U(s.ntimeline, 11);
	ASSERT_EQ_U(s.timeline[10].event, 11);
	ASSERT_EQ_U(s.timeline[10].live_objects, 1);
	/* perf kmem's sort keys */
	ASSERT_EQ_I(kmb_trace_stat_sort(&s, "pingpong,name", err, sizeof(err)), 0);
	ASSERT_EQ_STR(s.sites[0].name, "__kmalloc+0x1a3/0x2e0");
	ASSERT_EQ_I(kmb_trace_stat_sort(&s, "hit,bytes,frag,req,free,name", err, sizeof(err)), 0);
	ASSERT_EQ_I(kmb_trace_stat_sort(&s, "frag,speed", err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "unknown sort key 'speed'");
	kmb_trace_stat_free(&s);
	kmb_trace_free(&t);
}

KMB_TEST(stat_bundled)
{
	struct kmb_trace t;
	struct kmb_trace_facts f;
	struct kmb_trace_stat s;
	uint64_t hits = 0, bytes = 0;

	load_ok(BUNDLED, &t);
	ASSERT_EQ_I(kmb_trace_facts(&t, &f), 0);
	ASSERT_EQ_I(kmb_trace_stat(&t, &s), 0);
	for (size_t i = 0; i < s.nsites; i++)
		hits += s.sites[i].hits, bytes += s.sites[i].bytes_req;
	ASSERT_EQ_U(hits, f.allocs);
	ASSERT_EQ_U(bytes, f.total_bytes_req);
	ASSERT_EQ_U(s.frees, f.matched_frees + f.implicit_frees);
	ASSERT_EQ_U(s.never_freed, f.final_live_objects);
	ASSERT_EQ_U(s.pingpong, 0); /* one CPU */
	ASSERT_EQ_U(s.ntimeline, KMB_STAT_TIMELINE);
	ASSERT_EQ_U(s.timeline[KMB_STAT_TIMELINE - 1].event, f.events);
	ASSERT_EQ_U(s.timeline[KMB_STAT_TIMELINE - 1].live_objects, f.final_live_objects);
	for (size_t i = 1; i < s.nsites; i++) /* frag, then hits, then bytes */
		ASSERT_TRUE(s.sites[i - 1].bytes_alloc *
		                    (s.sites[i].bytes_alloc - s.sites[i].bytes_req) <=
		            s.sites[i].bytes_alloc *
		                    (s.sites[i - 1].bytes_alloc - s.sites[i - 1].bytes_req));
	kmb_trace_stat_free(&s);
	kmb_trace_free(&t);
}

/* ---- capture against a fake tracefs ------------------------------------------------------ */

static void put_file(const char *dir, const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	ASSERT_NOT_NULL(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
}

static void get_file(const char *dir, const char *rel, char *buf, size_t len)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	ASSERT_NOT_NULL(f = fopen(p, "r"));
	buf[fread(buf, 1, len - 1, f)] = '\0';
	fclose(f);
}

static void mkdirs(const char *dir, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	ASSERT_TRUE(mkdir(p, 0755) == 0 || errno == EEXIST);
}

struct watch {
	const char *dir;
	char seen_on[8], seen_kfree[8];
};

/* While the capture runs (1 s): what tracefs looks like. */
static void *watch_capture(void *arg)
{
	struct watch *w = arg;
	struct timespec ts = {0, 300000000L};

	nanosleep(&ts, NULL);
	get_file(w->dir, "tracing_on", w->seen_on, sizeof(w->seen_on));
	get_file(w->dir, "events/kmem/kfree/enable", w->seen_kfree, sizeof(w->seen_kfree));
	return NULL;
}

KMB_TEST(record_fake_tracefs)
{
	char dir[] = "/tmp/kmb-test-tracefs-XXXXXX", out[600], buf[64], err[512];
	struct kmb_record_result res;
	struct kmb_trace t;
	struct watch w;
	pthread_t th;

	ASSERT_NOT_NULL(mkdtemp(dir));
	mkdirs(dir, "events");
	mkdirs(dir, "events/kmem");
	mkdirs(dir, "events/kmem/kmalloc");
	mkdirs(dir, "events/kmem/kfree");
	mkdirs(dir, "per_cpu");
	mkdirs(dir, "per_cpu/cpu0");
	mkdirs(dir, "per_cpu/cpu1");
	put_file(dir, "tracing_on", "0\n");
	put_file(dir, "buffer_size_kb", "1408\n");
	put_file(dir, "events/kmem/kmalloc/enable", "0\n");
	put_file(dir, "events/kmem/kfree/enable", "0\n");
	/* cpu1 frees what cpu0 allocated: only a merge by timestamp matches them */
	put_file(dir, "per_cpu/cpu0/trace_pipe",
	         "a-1 [000] .... 1.000001: kmalloc: call_site=c1 ptr=c2 bytes_req=8 bytes_alloc=8 "
	         "gfp_flags=GFP_KERNEL\n"
	         "a-1 [000] .... 1.000004: kfree: call_site=c1 ptr=c3\n");
	put_file(dir, "per_cpu/cpu1/trace_pipe",
	         "b-2 [001] .... 1.000002: kfree: call_site=c1 ptr=c2\n"
	         "CPU:1 [LOST 5 EVENTS]\n"
	         "b-2 [001] .... 1.000003: kmalloc: call_site=c1 ptr=c3 bytes_req=8 bytes_alloc=8 "
	         "gfp_flags=GFP_KERNEL\n");
	snprintf(out, sizeof(out), "%s/out.trace", dir);
	w = (struct watch){.dir = dir};
	ASSERT_EQ_I(pthread_create(&th, NULL, watch_capture, &w), 0);
	{
		struct kmb_record_opts o = {
		        .tracefs = dir, .out_path = out, .duration_s = 1.0, .buffer_kb = 4096};

		if (kmb_trace_record(&o, &res, err, sizeof(err)) != 0)
			kmb_test_fail(__FILE__, __LINE__, "record: %s", err);
	}
	pthread_join(th, NULL);
	ASSERT_EQ_STR(w.seen_on, "1\n");
	ASSERT_EQ_STR(w.seen_kfree, "1\n");
	get_file(dir, "tracing_on", buf, sizeof(buf));
	ASSERT_EQ_STR(buf, "0\n");
	get_file(dir, "events/kmem/kfree/enable", buf, sizeof(buf));
	ASSERT_EQ_STR(buf, "0\n");
	get_file(dir, "buffer_size_kb", buf, sizeof(buf));
	ASSERT_EQ_STR(buf, "1408\n");
	ASSERT_EQ_U(res.ncpus, 2);
	ASSERT_EQ_U(res.nevents, 2);
	ASSERT_EQ_U(res.lines, 5);
	ASSERT_EQ_U(res.lost_events, 5);
	load_ok(out, &t);
	ASSERT_EQ_U(t.nev, 4);
	for (size_t i = 0; i < 4; i++)
		ASSERT_EQ_U(t.ev[i].ts_ns, 1000001000ULL + 1000 * i);
	{
		struct kmb_trace_facts f;

		ASSERT_EQ_I(kmb_trace_facts(&t, &f), 0);
		ASSERT_EQ_U(f.matched_frees, 2);
		ASSERT_EQ_U(f.cpus, 2);
	}
	kmb_trace_free(&t);
	/* what is missing is said clearly */
	{
		struct kmb_record_opts o = {
		        .tracefs = "/nonexistent", .out_path = out, .duration_s = 1};

		ASSERT_EQ_I(kmb_trace_record(&o, &res, err, sizeof(err)), -ENOENT);
		ASSERT_CONTAINS(err, "/nonexistent: not a tracefs directory (no tracing_on)");
		o.tracefs = dir;
		o.events = "kmalloc,kmem:nosuch";
		ASSERT_EQ_I(kmb_trace_record(&o, &res, err, sizeof(err)), -ENOENT);
		ASSERT_CONTAINS(err, "no event kmem:nosuch");
	}
	get_file(dir, "events/kmem/kmalloc/enable", buf, sizeof(buf));
	ASSERT_EQ_STR(buf, "0\n");
	{
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		ASSERT_EQ_I(system(cmd), 0);
	}
}

/* The traced kernel's geometry (workloads/geometry.c): a copy of /proc/slabinfo, or its
 * first six columns by hand, gives a named cache its order and objects per slab; the
 * slot size stays the trace's bytes_alloc. */
KMB_TEST(geometry_from_slabinfo)
{
	struct kmb_geometry g;
	struct kmb_trace t;
	struct kmb_plan p;
	char err[512];

	ASSERT_EQ_I(kmb_geometry_load(DATA("geometry.slabinfo"), &g, err, sizeof(err)), 0);
	ASSERT_EQ_U(g.ncaches, 3);
	ASSERT_EQ_STR(g.cache[0].name, "dentry");
	ASSERT_EQ_U(g.cache[0].slot_size, 192);
	ASSERT_EQ_U(g.cache[0].objs_per_slab, 21);
	ASSERT_EQ_U(g.cache[0].order, 0);
	ASSERT_EQ_U(g.cache[1].order, 3); /* 8 pages per slab */
	load_ok(DATA("plan.trace"), &t);
	ASSERT_EQ_I(kmb_trace_plan(&t, &p), 0);
	ASSERT_EQ_U(p.cache_geom[1].slot_size, 128); /* cache-100-128: its bytes_alloc */
	ASSERT_EQ_U(p.cache_geom[2].slot_size, 192);
	ASSERT_EQ_U(p.cache_geom[2].order, 0);
	ASSERT_EQ_U(kmb_geometry_apply(&g, &p), 2); /* dentry and cache-64-64 */
	ASSERT_EQ_U(p.cache_geom[0].objs_per_slab, 64);
	ASSERT_EQ_U(p.cache_geom[2].objs_per_slab, 21);
	ASSERT_EQ_U(p.cache_geom[1].objs_per_slab, 0); /* not in the file */
	kmb_plan_free(&p);
	kmb_trace_free(&t);
	kmb_geometry_free(&g);
}

KMB_TEST(geometry_errors_name_file_and_line)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	        {"dentry 1 2 192 21\n", "x.slabinfo:1: 5 of the 6 columns"},
	        {"# c\ndentry 1 2 192 21 3\n", "x.slabinfo:2: dentry: bad <pagesperslab> '3'"},
	        {"dentry 1 2 0 21 1\n", "dentry: bad <objsize> '0' (1 or more)"},
	        {"dentry 1 2 192 x 1\n", "dentry: bad <objperslab> 'x'"},
	        {"dentry 1 2 192 -1 1\n", "bad <objperslab> '-1'"},
	        {"dentry 1 2 192 22 1\n",
	         "dentry: 22 objects of 192 bytes exceed a slab of 1 pages"},
	        {"dentry 1 2 192 21 2048\n", "bad <pagesperslab> '2048'"},
	        {"dentry : tunables 0 0 0 : slabdata\n", "x.slabinfo:1: 1 of the 6 columns"},
	};
	struct kmb_geometry g;
	char path[512], err[512];

	snprintf(path, sizeof(path), "/tmp/kmb-test-%d-x.slabinfo", (int)getpid());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(path, "w");

		ASSERT_TRUE(f != NULL);
		fputs(bad[i].text, f);
		ASSERT_EQ_I(fclose(f), 0);
		ASSERT_EQ_I(kmb_geometry_load(path, &g, err, sizeof(err)), -EINVAL);
		ASSERT_CONTAINS(err, bad[i].want);
	}
	unlink(path);
	ASSERT_EQ_I(kmb_geometry_load(DATA("none.slabinfo"), &g, err, sizeof(err)), -ENOENT);
	ASSERT_CONTAINS(err, "none.slabinfo: No such file");
}

KMB_TEST_MAIN()
