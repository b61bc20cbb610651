/*
 * tests/test_gen.c - synthetic workloads: determinism, round trips through the ftrace
 * parser, and the property each workload exists to show, checked on its facts.
 *
 * Theory: a generator is only useful if the trace it writes is read back as exactly the
 * events it meant (so replay tests its model, not a parsing accident), is the same for
 * the same seed (so results can be reproduced), and actually has the shape its theory
 * comment promises (cross-CPU frees, a bounded cache, doubling tables, the flag mix of
 * an exhaustion).  Each property is checked on the in-memory trace with the facts code
 * the replay uses.
 */
#include "kmb_test.h"

#include "workloads/gen.h"

#include <errno.h>
#include <unistd.h>

#define NEV 20000

static const struct kmb_workload *find(const char *name)
{
	const struct kmb_workload *w = kmb_workload_find(name);

	ASSERT_NOT_NULL(w);
	return w;
}

static void gen(const char *name, struct kmb_gen_opts o, struct kmb_trace *t)
{
	char err[256];
	int rc = kmb_workload_generate(find(name), &o, t, err, sizeof(err));

	if (rc != 0)
		kmb_test_fail(__FILE__, __LINE__, "generate %s: %d %s", name, rc, err);
}

/* The workload's ftrace text in a malloc'd buffer. */
static char *text(const char *name, struct kmb_gen_opts o, size_t *len)
{
	char *buf = NULL, err[256];
	FILE *f = open_memstream(&buf, len);
	int rc;

	ASSERT_NOT_NULL(f);
	rc = kmb_workload_write_ftrace(find(name), &o, f, NULL, err, sizeof(err));
	fclose(f);
	if (rc != 0)
		kmb_test_fail(__FILE__, __LINE__, "write %s: %d %s", name, rc, err);
	return buf;
}

static void load_text(const char *buf, size_t len, struct kmb_trace *t)
{
	char path[] = "/tmp/kmb-test-gen-XXXXXX", err[512];
	int fd = mkstemp(path), rc;

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ_U(write(fd, buf, len), len);
	close(fd);
	rc = kmb_trace_load(path, &(struct kmb_trace_opts){.strict = true}, t, err, sizeof(err));
	unlink(path);
	if (rc != 0)
		kmb_test_fail(__FILE__, __LINE__, "load: %d %s", rc, err);
}

static const char *const all[] = {"fdtable", "netrx",   "vfs-cache",   "larson",
                                  "xmalloc", "exhaust", "speculative", "irq"};
#define NALL (sizeof(all) / sizeof(all[0]))

/* ---- registry and options ---------------------------------------------------------------- */

KMB_TEST(registry_lists_every_workload)
{
	ASSERT_EQ_U(kmb_workload_count(), NALL);
	for (size_t i = 0; i < NALL; i++) {
		ASSERT_EQ_STR(kmb_workload_at(i)->name, all[i]);
		ASSERT_EQ_PTR(find(all[i]), kmb_workload_at(i));
		ASSERT_TRUE(kmb_workload_at(i)->summary[0] != '\0');
	}
	ASSERT_NULL(kmb_workload_at(NALL));
	ASSERT_NULL(kmb_workload_find("nope"));
	ASSERT_NULL(kmb_workload_find(NULL));
}

KMB_TEST(resolve_checks_options)
{
	struct kmb_gen_opts o = {0};
	char err[256];

	ASSERT_EQ_I(kmb_workload_resolve(find("fdtable"), &o, err, sizeof(err)), 0);
	ASSERT_EQ_U(o.cpus, 2);
	ASSERT_EQ_U(o.events, find("fdtable")->default_events);
	ASSERT_EQ_U(o.mem_bytes, 256u << 20);
	o = (struct kmb_gen_opts){.variant = "sometimes"};
	ASSERT_EQ_I(kmb_workload_resolve(find("fdtable"), &o, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "unknown variant 'sometimes' of fdtable (failok, waitok, mixed)");
	o = (struct kmb_gen_opts){.variant = "waitok"};
	ASSERT_EQ_I(kmb_workload_resolve(find("netrx"), &o, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "netrx has no variants");
	o = (struct kmb_gen_opts){.mem_bytes = 64u << 20};
	ASSERT_EQ_I(kmb_workload_resolve(find("larson"), &o, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "--mem does not apply to larson");
	o = (struct kmb_gen_opts){.events = 99};
	ASSERT_EQ_I(kmb_workload_resolve(find("netrx"), &o, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "--events");
	o = (struct kmb_gen_opts){.cpus = KMB_GEN_MAX_CPUS + 1};
	ASSERT_EQ_I(kmb_workload_resolve(find("netrx"), &o, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "--cpus");
	o = (struct kmb_gen_opts){.mem_bytes = 17ULL << 30};
	ASSERT_EQ_I(kmb_workload_resolve(find("fdtable"), &o, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "--mem must be 1M..16G");
	o = (struct kmb_gen_opts){.cpus = KMB_GEN_MAX_CPUS}; /* 63 fillers: 31.5 MiB */
	ASSERT_EQ_I(kmb_workload_resolve(find("exhaust"), &o, err, sizeof(err)), 0);
	o = (struct kmb_gen_opts){.cpus = 9, .mem_bytes = 2u << 20};
	ASSERT_EQ_I(kmb_workload_resolve(find("exhaust"), &o, err, sizeof(err)), -EINVAL);
	ASSERT_CONTAINS(err, "exhaust: --mem of 9 CPUs must be at least 4096K");
}

KMB_TEST(gfp_spellings_must_map_to_the_intended_flags)
{
	struct kmb_trace t;
	struct kmb__gen g;

	kmb_trace_init(&t);
	memset(&g, 0, sizeof(g));
	g.t = &t;
	ASSERT_EQ_U(kmb__gen_gfp(&g, "GFP_ATOMIC|__GFP_NOWARN", M_NOWAIT | M_USE_RESERVE), 0);
	ASSERT_EQ_U(kmb__gen_gfp(&g, "GFP_NOFS|__GFP_NOFAIL", M_WAITOK | M_NOFAIL), 1);
	ASSERT_EQ_U(kmb__gen_gfp(&g, "GFP_ATOMIC|__GFP_NOWARN", M_NOWAIT | M_USE_RESERVE), 0);
	ASSERT_EQ_I(g.rc, 0);
	kmb__gen_gfp(&g, "GFP_KERNEL", M_NOWAIT);
	ASSERT_EQ_I(g.rc, -EINVAL);
	kmb_trace_free(&t);
}

KMB_TEST(slub_sizes_and_watermarks)
{
	static const uint64_t req[] = {1,   8,   9,   64,   65,   96,   97,    128,
	                               129, 192, 193, 1500, 8192, 8193, 12289, 1u << 20};
	static const uint64_t want[] = {8,   8,   16,  64,   96,   96,    128,   128,
	                                192, 192, 256, 2048, 8192, 16384, 16384, 1u << 20};
	uint64_t min, floor;

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		ASSERT_EQ_U(kmb__slub_size(req[i]), want[i]);
	kmb__exhaust_wmarks(256u << 20, &min, &floor); /* core/page_alloc.c, 4. */
	ASSERT_EQ_U(min, 512);
	ASSERT_EQ_U(floor, 192);
	kmb__exhaust_wmarks(32u << 20, &min, &floor);
	ASSERT_EQ_U(min, 181);
	ASSERT_EQ_U(floor, 69);
}

/* ---- determinism and round trips ---------------------------------------------------------- */

KMB_TEST(same_seed_same_bytes_other_seed_other_bytes)
{
	for (size_t i = 0; i < NALL; i++) {
		struct kmb_gen_opts o = {.events = 5000, .cpus = 3, .seed = 7};
		size_t n1, n2, n3;
		char *a = text(all[i], o, &n1), *b = text(all[i], o, &n2), *c;

		o.seed = 8;
		c = text(all[i], o, &n3);
		ASSERT_EQ_U(n1, n2);
		ASSERT_TRUE(memcmp(a, b, n1) == 0);
		ASSERT_TRUE(n1 != n3 || memcmp(a, c, n1) != 0);
		ASSERT_TRUE(strncmp(a, "# tracer: nop\n", 14) == 0);
		free(a);
		free(b);
		free(c);
	}
}

static void same_events(const struct kmb_trace *a, const struct kmb_trace *b)
{
	ASSERT_EQ_U(a->nev, b->nev);
	for (size_t i = 0; i < a->nev; i++) {
		const struct kmb_event *x = &a->ev[i], *y = &b->ev[i];

		if (x->kind != y->kind || x->cpu != y->cpu || x->node != y->node ||
		    x->flags != y->flags || x->ts_ns != y->ts_ns || x->ptr != y->ptr ||
		    x->bytes_req != y->bytes_req || x->bytes_alloc != y->bytes_alloc ||
		    x->order != y->order || strcmp(a->str[x->site], b->str[y->site]) != 0 ||
		    strcmp(a->str[x->cache], b->str[y->cache]) != 0)
			kmb_test_fail(__FILE__, __LINE__, "event %zu differs (line %u)", i,
			              y->line);
	}
}

static void same_facts(const struct kmb_trace *a, const struct kmb_trace *b)
{
	struct kmb_trace_facts f, g;

	ASSERT_EQ_I(kmb_trace_facts(a, &f), 0);
	ASSERT_EQ_I(kmb_trace_facts(b, &g), 0);
	ASSERT_TRUE(memcmp(&f, &g, sizeof(f)) == 0);
}

KMB_TEST(written_text_parses_back_to_the_same_events)
{
	for (size_t i = 0; i < NALL; i++) {
		struct kmb_gen_opts o = {.events = NEV, .cpus = 4, .seed = 3};
		struct kmb_trace t, u;
		size_t len;
		char *buf = text(all[i], o, &len);

		gen(all[i], o, &t);
		load_text(buf, len, &u);
		ASSERT_EQ_U(u.lines, t.nev + 12); /* the header is 12 comment lines */
		same_events(&t, &u);
		same_facts(&t, &u);
		free(buf);
		kmb_trace_free(&t);
		kmb_trace_free(&u);
	}
}

/* kmb_trace_write_ftrace (tracefmt.c) spells gfp from the flags: the same events too. */
KMB_TEST(generic_writer_round_trips_generated_traces)
{
	for (size_t i = 0; i < NALL; i++) {
		struct kmb_gen_opts o = {.events = 5000, .cpus = 2, .seed = 5};
		struct kmb_trace t, u;
		char *buf = NULL;
		size_t len;
		FILE *f;

		gen(all[i], o, &t);
		ASSERT_NOT_NULL(f = open_memstream(&buf, &len));
		ASSERT_EQ_I(kmb_trace_write_ftrace(&t, f), 0);
		fclose(f);
		load_text(buf, len, &u);
		same_events(&t, &u);
		same_facts(&t, &u);
		free(buf);
		kmb_trace_free(&t);
		kmb_trace_free(&u);
	}
}

/* ---- what every generated trace must be --------------------------------------------------- */

static void common_facts(const struct kmb_trace *t, unsigned cpus)
{
	struct kmb_trace_facts f;
	uint64_t last[KMB_GEN_MAX_CPUS] = {0}, prev = 0;

	ASSERT_EQ_I(kmb_trace_facts(t, &f), 0);
	ASSERT_EQ_U(f.failed_allocs, 0);
	ASSERT_EQ_U(f.implicit_frees, 0);
	ASSERT_EQ_U(f.unmatched_frees, 0);
	ASSERT_EQ_U(f.null_frees, 0);
	ASSERT_EQ_U(f.final_live_objects, 0);
	ASSERT_EQ_U(f.matched_frees, f.allocs);
	ASSERT_CMP_U(f.cpus, <=, cpus);
	for (size_t i = 0; i < t->nev; i++) {
		const struct kmb_event *e = &t->ev[i];

		ASSERT_CMP_U(e->cpu, <, cpus);
		ASSERT_CMP_U(e->ts_ns, >=, prev); /* global, hence per-CPU, time order */
		ASSERT_CMP_U(e->ts_ns, >=, last[e->cpu]);
		ASSERT_EQ_U(e->ts_ns % 1000, 0);
		prev = last[e->cpu] = e->ts_ns;
		ASSERT_EQ_U(e->ptr % 8, 0);
		ASSERT_CMP_U(e->ptr, >=, 0xffff888000000000ULL);
		if (e->kind == KMB_EV_KMALLOC) {
			ASSERT_EQ_U(e->bytes_alloc, kmb__slub_size(e->bytes_req));
			if ((e->bytes_alloc & (e->bytes_alloc - 1)) == 0) /* natural alignment */
				ASSERT_EQ_U(e->ptr % e->bytes_alloc, 0);
		}
	}
}

KMB_TEST(every_workload_is_a_clean_trace_of_about_the_size_asked)
{
	for (size_t i = 0; i < NALL; i++)
		for (unsigned cpus = 1; cpus <= 5; cpus += 2) {
			struct kmb_gen_opts o = {.events = NEV, .cpus = cpus, .seed = 11};
			struct kmb_trace t;

			gen(all[i], o, &t);
			common_facts(&t, cpus);
			if (strcmp(all[i], "exhaust") != 0) { /* exhaust's size is set by --mem */
				ASSERT_CMP_U(t.nev, >=, NEV * 9 / 10);
				ASSERT_CMP_U(t.nev, <=, NEV * 11 / 10 + 4 * 140);
			}
			kmb_trace_free(&t);
		}
}

/* Frees on another CPU than their allocation's (the facts' "ping-pong"). */
static uint64_t cross_cpu_frees(const struct kmb_trace *t, uint64_t *frees)
{
	struct kmb__ptrmap m;
	uint64_t n = 0, cpu;

	kmb__ptrmap_init(&m);
	*frees = 0;
	for (size_t i = 0; i < t->nev; i++) {
		const struct kmb_event *e = &t->ev[i];

		if (kmb_event_is_alloc(e->kind)) {
			ASSERT_EQ_I(kmb__ptrmap_put(&m, e->ptr, e->cpu), 0);
		} else {
			ASSERT_TRUE(kmb__ptrmap_remove(&m, e->ptr, &cpu));
			n += cpu != e->cpu;
			(*frees)++;
		}
	}
	kmb__ptrmap_free(&m);
	return n;
}

/* ---- each workload's point -------------------------------------------------------------- */

KMB_TEST(netrx_frees_on_the_consumer_cpu)
{
	struct kmb_trace t;
	uint64_t frees, cross;

	gen("netrx", (struct kmb_gen_opts){.events = NEV, .cpus = 2, .seed = 1}, &t);
	cross = cross_cpu_frees(&t, &frees);
	ASSERT_CMP_U(cross, >, frees * 90 / 100); /* 3% are drops on the receiving CPU */
	ASSERT_CMP_U(cross, <, frees);
	for (size_t i = 0; i < t.nev; i++) {
		const struct kmb_event *e = &t.ev[i];

		if (kmb_event_is_alloc(e->kind)) {
			ASSERT_EQ_I(e->flags, M_NOWAIT | M_USE_RESERVE);
			ASSERT_EQ_U(e->cpu, 0); /* the receiving CPU */
			if (e->kind == KMB_EV_KMALLOC)
				ASSERT_TRUE(e->bytes_req >= 512 && e->bytes_req <= 2048);
			else
				ASSERT_EQ_STR(t.str[e->cache], "skbuff_head_cache");
		}
	}
	kmb_trace_free(&t);
	gen("netrx", (struct kmb_gen_opts){.events = 5000, .cpus = 1, .seed = 1}, &t);
	ASSERT_EQ_U(cross_cpu_frees(&t, &frees), 0);
	kmb_trace_free(&t);
}

/* kmem_alloc(9)'s retry: every discard frees, on the CPU that made it, an object allocated
 * a few events before (the race's other allocations in between); races are a minority. */
KMB_TEST(speculative_losers_free_at_once_on_their_cpu)
{
	struct kmb_trace t;
	struct kmb__ptrmap m;
	uint64_t discards = 0, allocs = 0, at;

	gen("speculative", (struct kmb_gen_opts){.events = NEV, .cpus = 4, .seed = 1}, &t);
	kmb__ptrmap_init(&m);
	for (size_t i = 0; i < t.nev; i++) {
		const struct kmb_event *e = &t.ev[i];

		ASSERT_EQ_U(e->ctx, 0);
		if (e->kind == KMB_EV_KMALLOC) {
			ASSERT_EQ_I(e->flags, M_WAITOK); /* unlocked: may sleep */
			ASSERT_EQ_I(kmb__ptrmap_put(&m, e->ptr, (uint64_t)i << 16 | e->cpu), 0);
			allocs++;
			continue;
		}
		ASSERT_TRUE(kmb__ptrmap_remove(&m, e->ptr, &at));
		if (strcmp(t.str[e->site], "lookup_or_create+0xf2/0x140") == 0) {
			ASSERT_EQ_U(at & 0xffff, e->cpu);
			ASSERT_CMP_U(i - (at >> 16), <=, 4);
			discards++;
		}
	}
	ASSERT_CMP_U(discards, >, allocs / 20);
	ASSERT_CMP_U(discards, <, allocs / 3);
	kmb__ptrmap_free(&m);
	kmb_trace_free(&t);
	gen("speculative", (struct kmb_gen_opts){.events = 5000, .cpus = 1, .seed = 1}, &t);
	for (size_t i = 0; i < t.nev; i++) /* one CPU: nobody to race with */
		ASSERT_TRUE(strcmp(t.str[t.ev[i].site], "lookup_or_create+0xf2/0x140") != 0);
	kmb_trace_free(&t);
}

/* Every allocation in interrupt context and GFP_ATOMIC: descriptors in hardirq (some in a
 * hardirq inside a softirq) freed in softirq, sk_buffs in softirq freed by the tasks. */
KMB_TEST(irq_allocates_in_interrupt_context_frees_in_tasks)
{
	struct kmb_trace t;
	uint64_t by_ctx[8] = {0}, task_frees = 0, frees = 0;

	gen("irq", (struct kmb_gen_opts){.events = NEV, .cpus = 2, .seed = 1}, &t);
	for (size_t i = 0; i < t.nev; i++) {
		const struct kmb_event *e = &t.ev[i];
		bool desc = e->cache && strcmp(t.str[e->cache], "rx_desc") == 0;

		if (kmb_event_is_alloc(e->kind)) {
			ASSERT_EQ_I(e->flags, M_NOWAIT | M_USE_RESERVE);
			ASSERT_TRUE(e->ctx == (desc ? (e->ctx & KMB_ECTX_SOFTIRQ) | KMB_ECTX_HARDIRQ
			                            : KMB_ECTX_SOFTIRQ));
			by_ctx[e->ctx]++;
		} else {
			ASSERT_TRUE(!desc || e->ctx == KMB_ECTX_SOFTIRQ);
			task_frees += e->ctx == 0;
			frees++;
		}
	}
	ASSERT_CMP_U(by_ctx[KMB_ECTX_HARDIRQ], >, 0);
	ASSERT_CMP_U(by_ctx[KMB_ECTX_HARDIRQ | KMB_ECTX_SOFTIRQ], >, 0);
	ASSERT_CMP_U(by_ctx[KMB_ECTX_SOFTIRQ], >, by_ctx[KMB_ECTX_HARDIRQ]);
	ASSERT_CMP_U(task_frees, >, frees / 2); /* the sk_buffs, but the drops */
	kmb_trace_free(&t);
}

KMB_TEST(vfs_cache_stays_under_its_cap)
{
	struct kmb_trace t;
	struct kmb_trace_facts f;
	uint64_t cap = kmb__vfs_cache_cap(NEV), live = 0, peak = 0;

	gen("vfs-cache", (struct kmb_gen_opts){.events = NEV, .cpus = 4, .seed = 1}, &t);
	for (size_t i = 0; i < t.nev; i++) {
		const struct kmb_event *e = &t.ev[i];

		if (e->cache && strcmp(t.str[e->cache], "dentry") == 0) {
			live += e->kind == KMB_EV_CACHE_ALLOC ? 1 : -1;
			peak = live > peak ? live : peak;
		}
	}
	ASSERT_EQ_U(peak, cap); /* reached, never exceeded */
	ASSERT_EQ_I(kmb_trace_facts(&t, &f), 0);
	ASSERT_CMP_U(f.peak_live_objects, <=, 3 * cap + 4);
	ASSERT_CMP_U(f.cache_free_events, >, f.cache_alloc_events / 2);
	kmb_trace_free(&t);
}

/* The fd arrays of each CPU: 512 bytes for a new process, else twice the previous. */
static void check_doubling(const struct kmb_trace *t, uint64_t max, uint64_t *big)
{
	uint64_t prev[KMB_GEN_MAX_CPUS] = {0}, top = 0;

	*big = 0;
	for (size_t i = 0; i < t->nev; i++) {
		const struct kmb_event *e = &t->ev[i];

		if (e->kind != KMB_EV_KMALLOC ||
		    strcmp(t->str[e->site], "alloc_fdtable+0x79/0x120"))
			continue;
		if (e->bytes_req != 512)
			ASSERT_EQ_U(e->bytes_req, 2 * prev[e->cpu]);
		prev[e->cpu] = e->bytes_req;
		top = e->bytes_req > top ? e->bytes_req : top;
		*big += e->bytes_req > (4u << 20);
	}
	ASSERT_EQ_U(top, max);
}

static unsigned count_flags(const struct kmb_trace *t, int flags, uint64_t min_size)
{
	unsigned n = 0;

	for (size_t i = 0; i < t->nev; i++)
		n += kmb_event_is_alloc(t->ev[i].kind) && t->ev[i].flags == flags &&
		     t->ev[i].bytes_req >= min_size;
	return n;
}

KMB_TEST(fdtable_sizes_double_past_all_memory)
{
	struct kmb_trace t;
	uint64_t big;

	gen("fdtable", (struct kmb_gen_opts){.events = NEV, .seed = 1}, &t);
	check_doubling(&t, 512u << 20, &big); /* twice the default 256M */
	ASSERT_CMP_U(big, >, 7 * 10);         /* 8M..512M for each of many processes */
	ASSERT_CMP_U(count_flags(&t, M_WAITOK | M_FAILOK, 8u << 20) +
	                     count_flags(&t, M_WAITOK | M_NORETRY, 8u << 20),
	             >=, big);
	ASSERT_CMP_U(count_flags(&t, M_WAITOK | M_NORETRY, 8u << 20), >, 0);
	ASSERT_EQ_U(count_flags(&t, M_WAITOK | M_ZERO, 0), 0);
	kmb_trace_free(&t);
	gen("fdtable", (struct kmb_gen_opts){.events = 2000, .seed = 1, .mem_bytes = 16u << 20},
	    &t);
	check_doubling(&t, 32u << 20, &big);
	kmb_trace_free(&t);
	gen("fdtable", (struct kmb_gen_opts){.events = 2000, .seed = 1, .variant = "waitok"}, &t);
	ASSERT_EQ_U(count_flags(&t, M_WAITOK | M_FAILOK, 0) +
	                    count_flags(&t, M_WAITOK | M_NORETRY, 0),
	            0);
	ASSERT_CMP_U(count_flags(&t, M_WAITOK | M_ZERO, 8u << 20), >, 0);
	kmb_trace_free(&t);
	gen("fdtable", (struct kmb_gen_opts){.events = 2000, .seed = 1, .variant = "mixed"}, &t);
	ASSERT_CMP_U(count_flags(&t, M_WAITOK | M_FAILOK, 8u << 20) +
	                     count_flags(&t, M_WAITOK | M_NORETRY, 8u << 20),
	             >, 0);
	ASSERT_CMP_U(count_flags(&t, M_WAITOK | M_ZERO, 8u << 20), >, 0);
	kmb_trace_free(&t);
}

KMB_TEST(larson_and_xmalloc_hand_objects_between_cpus)
{
	struct kmb_trace t;
	uint64_t frees, cross;

	gen("larson", (struct kmb_gen_opts){.events = NEV, .cpus = 4, .seed = 1}, &t);
	cross = cross_cpu_frees(&t, &frees);
	ASSERT_CMP_U(cross, >, frees / 2);
	for (size_t i = 0; i < t.nev; i++)
		if (t.ev[i].kind == KMB_EV_KMALLOC)
			ASSERT_TRUE(t.ev[i].bytes_req >= 10 && t.ev[i].bytes_req <= 1000);
	kmb_trace_free(&t);
	gen("xmalloc", (struct kmb_gen_opts){.events = NEV, .cpus = 4, .seed = 1}, &t);
	ASSERT_EQ_U(cross_cpu_frees(&t, &frees), frees); /* producers even, consumers odd */
	for (size_t i = 0; i < t.nev; i++)
		ASSERT_EQ_U(t.ev[i].cpu % 2, kmb_event_is_alloc(t.ev[i].kind) ? 0 : 1);
	kmb_trace_free(&t);
}

/*
 * exhaust: the fill (M_NOWAIT), the M_NOFAIL requests after it, the GFP_ATOMIC burst,
 * then each M_WAITOK request right after a free by its own CPU, in that order.
 */
KMB_TEST(exhaust_has_every_flag_in_its_place)
{
	uint64_t min, floor, pages = (32u << 20) / 4096;
	size_t last_fill = 0, first_nofail = SIZE_MAX, last_nofail = 0, first_waitok = SIZE_MAX;
	unsigned fills = 0, atomics = 0, nofails = 0, waitoks = 0;
	struct kmb_trace t;

	kmb__exhaust_wmarks(32u << 20, &min, &floor);
	gen("exhaust", (struct kmb_gen_opts){.events = NEV, .cpus = 3, .seed = 1}, &t);
	for (size_t i = 0; i < t.nev; i++) {
		const struct kmb_event *e = &t.ev[i];

		if (!kmb_event_is_alloc(e->kind))
			continue;
		if (e->flags == (M_NOWAIT | M_NORETRY) && e->bytes_req == 4096) {
			fills++;
			last_fill = i;
		} else if (e->flags == (M_NOWAIT | M_USE_RESERVE)) {
			atomics++;
		} else if (e->flags == (M_WAITOK | M_NOFAIL)) {
			nofails++;
			first_nofail = i < first_nofail ? i : first_nofail;
			last_nofail = i;
		} else if (e->flags == M_WAITOK) {
			waitoks++;
			first_waitok = i < first_waitok ? i : first_waitok;
			ASSERT_FALSE(kmb_event_is_alloc(t.ev[i - 1].kind));
			ASSERT_EQ_U(t.ev[i - 1].cpu, e->cpu);
		}
	}
	ASSERT_EQ_U(fills, pages + pages / 4 + 256);
	ASSERT_CMP_U(atomics, >, 4 * (min - floor));
	ASSERT_EQ_U(nofails, 8); /* 4 per filler, at most a quarter of the reserve */
	ASSERT_EQ_U(waitoks, 2 * 8);
	ASSERT_CMP_U(first_nofail, >, last_fill);
	ASSERT_CMP_U(first_waitok, >, last_nofail);
	kmb_trace_free(&t);
}
KMB_TEST_MAIN()
