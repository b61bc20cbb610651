/*
 * tests/test_slub.c - the slub and slub-sheaves backends (backends/slub): geometry
 * (kmalloc classes, calculate_order by hand and against this machine's kernel, free
 * pointer, alignment rules, the traced kernel's geometry), min_partial, remote frees and
 * the per-CPU partial list, the sheaves' refill / flush / barn counts, the remote-node
 * bypass, drain, and the INVARIANTS freelist check.  Expected numbers are derived in the
 * comments (4 KiB pages; 2 CPUs unless said: slub_min_objects = 4 * (fls(2) + 1) = 12).
 */
#include "kmb_test.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/slub/slub.h"
#include "core/internal.h"

#define MIB ((size_t)1 << 20)

MALLOC_DEFINE(M_SLUBTEST, "slubtest", "test_slub blocks");

static struct kmb_slub *boot(const char *spec, unsigned ncpus, unsigned nodes, int invariants)
{
	struct kmb_config cfg = {.backend = spec,
	                         .mem_bytes = 32 * MIB,
	                         .nodes = nodes,
	                         .ncpus = ncpus,
	                         .invariants = invariants};

	ASSERT_EQ_I(kmb_boot(&cfg), 0);
	return kmb__sys.be.priv;
}

static uint64_t st(struct kmb__slub_cache *s, enum kmb__slub_stat si)
{
	uint64_t v[KMB__SLUB_NSTAT];

	kmb__slub_cache_stat(s, v);
	return v[si];
}

static struct kmb_page *head_of(const void *obj)
{
	return kmb__slub_head_of(&kmb__sys.pm, obj);
}

static void drain(void)
{
	kmb__sys.be.ops->drain(&kmb__sys.be);
}

/* ---- geometry ------------------------------------------------------------------------------ */

/* 2 CPUs: min_objects 12, capped by what order 3 (32 KiB) holds.
 *   8..256  get_order(12 * size) = 0, leftover 0 (96, 192: 4096 % 96 = 4096 % 192 = 64 <=
 *           4096 / 16): order 0, 4096 / size objects
 *   512     get_order(6144) = 1: 16;  1k: get_order(12288) = 2: 16;  2k: 3: 16
 *   4k, 8k  max_objects 8 and 4 -> get_order(32768) = 3: 8 and 4
 * min_partial = clamp(ilog2(size) / 2, 5, 10): 5 up to 2k (ilog2 11), 6 for 4k and 8k;
 * cpu_partial 120 below 256, 52 for 256..512, 24 for 1k..2k, 6 from 4k; cpu_partial_slabs
 * = ceil(2 * cpu_partial / objects). */
KMB_TEST(geometry_of_the_kmalloc_caches)
{
	static const struct {
		const char *name;
		unsigned size, order, objects, offset;
		unsigned long min_partial;
		unsigned cpu_partial, cpu_partial_slabs;
	} want[KMB__SLUB_NCLASSES] = {
	        {"kmalloc-8", 8, 0, 512, 0, 5, 120, 1},
	        {"kmalloc-16", 16, 0, 256, 8, 5, 120, 1},
	        {"kmalloc-32", 32, 0, 128, 16, 5, 120, 2},
	        {"kmalloc-64", 64, 0, 64, 32, 5, 120, 4},
	        {"kmalloc-96", 96, 0, 42, 48, 5, 120, 6},
	        {"kmalloc-128", 128, 0, 32, 64, 5, 120, 8},
	        {"kmalloc-192", 192, 0, 21, 96, 5, 120, 12},
	        {"kmalloc-256", 256, 0, 16, 128, 5, 52, 7},
	        {"kmalloc-512", 512, 1, 16, 256, 5, 52, 7},
	        {"kmalloc-1k", 1024, 2, 16, 512, 5, 24, 3},
	        {"kmalloc-2k", 2048, 3, 16, 1024, 5, 24, 3},
	        {"kmalloc-4k", 4096, 3, 8, 2048, 6, 6, 2},
	        {"kmalloc-8k", 8192, 3, 4, 4096, 6, 6, 3},
	};
	struct kmb_slub *sb = boot("slub", 2, 1, KMB_INVARIANTS_OFF);

	for (unsigned c = 0; c < KMB__SLUB_NCLASSES; c++) {
		struct kmb__slub_cache *s = sb->kmalloc[c];

		ASSERT_EQ_STR(s->name, want[c].name);
		ASSERT_EQ_U(s->size, want[c].size);
		ASSERT_EQ_U(s->order, want[c].order);
		ASSERT_EQ_U(s->objects, want[c].objects);
		ASSERT_EQ_U(s->offset, want[c].offset);
		ASSERT_EQ_U(s->min_partial, want[c].min_partial);
		ASSERT_EQ_U(s->cpu_partial, want[c].cpu_partial);
		ASSERT_EQ_U(s->cpu_partial_slabs, want[c].cpu_partial_slabs);
	}
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* calculate_order by hand for other sizes and CPU counts.
 *   64 CPUs: min_objects = 4 * (fls(64) + 1) = 32.  256 B: get_order(8192) = 1;  1024 B:
 *     get_order(32768) = 3;  96 B: get_order(3072) = 0 and 64 <= 256 left over: 0.
 *   4 CPUs: min_objects 16.  700 B: get_order(11200) = 2; 16384 % 700 = 284 <= 1024: 2.
 *   2 CPUs, 3000 B: max_objects = 32768 / 3000 = 10 caps min_objects; get_order(30000) =
 *     3; 32768 % 3000 = 2768 is more than 1/16 (2048) of the slab, so order 3 fails the
 *     1/16 pass (it would need order 4 > slub_max_order) and passes 1/8 (4096): 3.
 *   1 CPU, 8 B with slub_min_objects 8: get_order(64) = 0.  max_order 0, 5000 B: one page
 *     holds none; every pass fails, get_order(5000) = 1. */
KMB_TEST(calculate_order_by_hand)
{
	ASSERT_EQ_U(kmb__slub_calculate_order(256, 64, 0, 3), 1);
	ASSERT_EQ_U(kmb__slub_calculate_order(1024, 64, 0, 3), 3);
	ASSERT_EQ_U(kmb__slub_calculate_order(96, 64, 0, 3), 0);
	ASSERT_EQ_U(kmb__slub_calculate_order(700, 4, 0, 3), 2);
	ASSERT_EQ_U(kmb__slub_calculate_order(3000, 2, 0, 3), 3);
	ASSERT_EQ_U(kmb__slub_calculate_order(8, 1, 8, 3), 0);
	ASSERT_EQ_U(kmb__slub_calculate_order(5000, 2, 0, 0), 1);
	ASSERT_EQ_U(kmb__slub_min_partial_for(1u << 22), 10);
	ASSERT_EQ_U(kmb__slub_sheaf_capacity_for(64), 60);   /* 32 + 480 = 512: kmalloc-512 */
	ASSERT_EQ_U(kmb__slub_sheaf_capacity_for(256), 28);  /* 32 + 208 -> 256: (256-32)/8 */
	ASSERT_EQ_U(kmb__slub_sheaf_capacity_for(1024), 12); /* 32 + 96 = 128 */
	ASSERT_EQ_U(kmb__slub_sheaf_capacity_for(4096), 4);  /* 32 + 32 = 64 */
}

static unsigned present_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/present", "r");
	unsigned a, b, n = 0;
	int c;

	if (f == NULL)
		return 0;
	while (fscanf(f, "%u", &a) == 1) {
		b = a;
		c = fgetc(f);
		if (c == '-' && fscanf(f, "%u", &b) == 1)
			c = fgetc(f);
		n += b - a + 1;
		if (c != ',')
			break;
	}
	fclose(f);
	return n;
}

static long sysfs_long(const char *cache, const char *attr)
{
	char path[128];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/%s", cache, attr);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static bool cmdline_sets_slub(void)
{
	char buf[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");
	bool set;

	if (f == NULL)
		return false;
	set = fgets(buf, sizeof(buf), f) != NULL && strstr(buf, "slub_") != NULL;
	fclose(f);
	return set;
}

/* The running kernel's kmalloc caches (where /sys/kernel/slab is readable and the command
 * line leaves slub_min_objects / slub_max_order alone, with 4 KiB pages): the same orders,
 * objects per slab and min_partial for as many CPUs as it has present.  On this machine (6.18, 2
 * CPUs) all 13 agree. */
KMB_TEST(geometry_matches_this_machines_kernel)
{
	unsigned ncpus = present_cpus();
	struct kmb_slub *sb;
	unsigned checked = 0;

	if (ncpus == 0 || ncpus > KMB_MAX_CPUS || cmdline_sets_slub() ||
	    sysconf(_SC_PAGESIZE) != (long)KMB_PAGE_SIZE)
		return; /* nothing comparable: the orders depend on these */
	sb = boot("slub", ncpus, 1, KMB_INVARIANTS_OFF);
	for (unsigned c = 0; c < KMB__SLUB_NCLASSES; c++) {
		struct kmb__slub_cache *s = sb->kmalloc[c];
		long order = sysfs_long(s->name, "order");

		if (order < 0 || sysfs_long(s->name, "slab_size") != (long)s->size)
			continue; /* no such cache, or a debug kernel's larger slots */
		ASSERT_EQ_I(order, (long)s->order);
		ASSERT_EQ_I(sysfs_long(s->name, "objs_per_slab"), (long)s->objects);
		ASSERT_EQ_I(sysfs_long(s->name, "min_partial"), (long)s->min_partial);
		checked++;
	}
	fprintf(stderr, "test_slub: %u kmalloc caches checked against /sys/kernel/slab\n", checked);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* calculate_alignment and the free pointer: SLAB_HWCACHE_ALIGN halves the 64-byte line
 * while the object fits in half of it; SLAB_TYPESAFE_BY_RCU puts the pointer after the
 * object (a word more per slot); otherwise it is mid-object, ALIGN_DOWN(size / 2, 8). */
KMB_TEST(alignment_and_free_pointer_rules)
{
	struct kmb_slub *sb = boot("slub", 2, 1, KMB_INVARIANTS_OFF);
	struct kmb__slub_geometry g;

	ASSERT_EQ_I(kmb__slub_geometry(sb, 40, 8, true, false, 0, 0, 0, &g), 0);
	ASSERT_EQ_U(g.align, 64);
	ASSERT_EQ_U(g.size, 64);
	ASSERT_EQ_U(g.offset, 16);
	ASSERT_EQ_I(kmb__slub_geometry(sb, 20, 8, true, false, 0, 0, 0, &g), 0);
	ASSERT_EQ_U(g.align, 32);
	ASSERT_EQ_U(g.size, 32);
	ASSERT_EQ_I(kmb__slub_geometry(sb, 40, 8, false, true, 0, 0, 0, &g), 0);
	ASSERT_EQ_U(g.offset, 40);
	ASSERT_EQ_U(g.size, 48);
	ASSERT_EQ_I(kmb__slub_geometry(sb, 100, 8, false, false, 0, 0, 0, &g), 0);
	ASSERT_EQ_U(g.size, 104);
	ASSERT_EQ_U(g.offset, 48);
	ASSERT_EQ_I(kmb__slub_geometry(sb, 100, 3, false, false, 0, 0, 0, &g), -EINVAL);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* The traced kernel's geometry (struct kmb_cache_desc): a 100-byte object in 128-byte
 * slots, order-1 slabs of 64 (calculate_order would give order 0); a slot smaller than the object,
 * or an order the page source cannot give, is ignored. */
KMB_TEST(traced_geometry_is_honoured)
{
	struct kmb_slub *sb = boot("slub", 2, 1, KMB_INVARIANTS_OFF);
	struct kmb_cache_desc cd = {.slot_size = 128, .order = 1, .objs_per_slab = 64};
	struct kmb__slub_cache *s = kmb__slub_cache_create(sb, "traced", 100, 8, &cd);
	struct kmb__slub_cache *t;
	size_t usable;
	void *p;

	ASSERT_EQ_U(s->size, 128);
	ASSERT_EQ_U(s->order, 1);
	ASSERT_EQ_U(s->objects, 64);
	cd = (struct kmb_cache_desc){.slot_size = 64, .order = 30};
	t = kmb__slub_cache_create(sb, "ignored", 100, 8, &cd);
	ASSERT_EQ_U(t->size, 104);
	ASSERT_EQ_U(t->order, kmb__slub_calculate_order(104, 2, 0, 3));
	cd = (struct kmb_cache_desc){.slot_size = 192};
	kmb__slub_cache_destroy(t);
	t = kmb__slub_cache_create(sb, "slot only", 100, 8, &cd); /* order for the slot */
	ASSERT_EQ_U(t->size, 192);
	ASSERT_EQ_U(t->order, 0);
	ASSERT_EQ_U(t->objects, 21);
	p = kmb__slub_alloc(s, M_NOWAIT);
	usable = kmb__sys.be.ops->usable_size(&kmb__sys.be, p);
	ASSERT_EQ_U(usable, 128);
	ASSERT_EQ_U(kmb__slub_slab_order(head_of(p)), 1);
	kmb__slub_free(s, head_of(p), p);
	kmb__slub_cache_destroy(t);
	kmb__slub_cache_destroy(s);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* kmalloc_index and ksize: the slot, for 96 and 192 too; above 8k, PAGE << get_order. */
KMB_TEST(kmalloc_classes_and_usable_sizes)
{
	static const size_t req[] = {1,   8,   9,   17,   33,   65,   97,
	                             129, 193, 257, 4097, 8192, 8193, 20000};
	static const size_t slot[] = {8,   8,   16,  32,   64,   96,    128,
	                              192, 256, 512, 8192, 8192, 16384, 20480 + 12288};
	size_t usable;

	boot("slub", 1, 1, KMB_INVARIANTS_OFF);
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		void *p = kmalloc_usable(req[i], M_SLUBTEST, M_WAITOK, &usable);

		ASSERT_NOT_NULL(p);
		ASSERT_EQ_U(usable, slot[i]);
		ASSERT_EQ_U(kmalloc_usable_size(p), slot[i]);
		kfree(p, M_SLUBTEST);
	}
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* The bundled Linux 3.6 SLUB boot trace: every kmalloc event's bytes_alloc (the slot
 * SLUB served, ksize()) is what slub's kmalloc serves for its bytes_req (2211 events: the
 * issue's 100%). */
KMB_TEST(kmalloc_slots_equal_the_traced_kernels)
{
	FILE *f = fopen(KMB_SOURCE_DIR "/workloads/traces/linux-3.6-i386-boot/kmem_SLUB.log", "r");
	char line[1024];
	unsigned events = 0;

	ASSERT_NOT_NULL(f);
	boot("slub", 1, 1, KMB_INVARIANTS_OFF);
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *req = strstr(line, "bytes_req="), *alloc = strstr(line, "bytes_alloc=");
		size_t r, a, usable;
		void *p;

		if ((strstr(line, " kmalloc: ") == NULL &&
		     strstr(line, " kmalloc_node: ") == NULL) ||
		    req == NULL || alloc == NULL)
			continue;
		r = strtoul(req + 10, NULL, 10);
		a = strtoul(alloc + 12, NULL, 10);
		if (r == 0)
			continue;
		p = kmalloc_usable(r, M_SLUBTEST, M_WAITOK, &usable);
		ASSERT_NOT_NULL(p);
		if (usable != a)
			kmb_test_fail(__FILE__, __LINE__, "kmalloc(%zu): slot %zu, the trace's %zu",
			              r, usable, a);
		kfree(p, M_SLUBTEST);
		events++;
	}
	fclose(f);
	ASSERT_EQ_U(events, 2211);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- the per-CPU slab, remote frees, min_partial ----------------------------------------- */

/* The CPU slab's free objects are the CPU's: a free of one of them goes to c->freelist
 * (free_fastpath), its free pointer mid-object (48 bytes into a 96-byte slot). */
KMB_TEST(cpu_slab_fast_paths_and_free_pointer)
{
	/* slub(cpu_cmpxchg=1): Linux's tid discipline, counted below */
	struct kmb_slub *sb = boot("slub(cpu_cmpxchg=1)", 2, 1, KMB_INVARIANTS_OFF);
	struct kmb__slub_cache *s = sb->kmalloc[kmb__slub_kmalloc_index(96)];
	struct kmb__slub_cpu *c = &s->cpu[0];
	char *a, *b;

	ASSERT_TRUE(s->cpu_cmpxchg && s->alloc_extra);
	ASSERT_EQ_I(kmb_thread_attach("t0", 0), 0);
	a = kmb__slub_alloc(s, M_NOWAIT); /* slow path: a new slab, frozen as the CPU's */
	b = kmb__slub_alloc(s, M_NOWAIT); /* fast path: the next object */
	ASSERT_EQ_PTR(b, a + 96);
	ASSERT_EQ_PTR(c->slab, head_of(a));
	ASSERT_TRUE(kmb__slub_sw_load(c->slab) & KMB__SLUB_FROZEN);
	ASSERT_EQ_U(kmb__slub_sw_inuse(kmb__slub_sw_load(c->slab)), 42); /* all the CPU's */
	kmb__slub_free(s, head_of(a), a);
	ASSERT_EQ_PTR(c->freelist, a);
	ASSERT_EQ_PTR(kmb__slub_get_fp(s, a), b + 96);
	ASSERT_EQ_PTR(*(void **)(a + 48), b + 96);
	ASSERT_EQ_U(st(s, KMB__ALLOC_SLOWPATH), 1);
	ASSERT_EQ_U(st(s, KMB__ALLOC_FASTPATH), 1);
	ASSERT_EQ_U(st(s, KMB__ALLOC_SLAB), 1);
	ASSERT_EQ_U(st(s, KMB__FREE_FASTPATH), 1);
	kmb__slub_free(s, head_of(b), b);
	kmb_thread_detach();
	ASSERT_EQ_U(st(s, KMB__CPUSLAB_FLUSH), 1);
	/* c->tid: from the CPU index (0), one TID_STEP per change of c->freelist: the slow
	 * path's load_freelist, one fast-path allocation, two fast-path frees, the flush */
	ASSERT_EQ_U(c->tid, 0 + 5 * KMB__SLUB_TID_STEP);
	ASSERT_EQ_U(st(s, KMB__DEACTIVATE_TO_HEAD), 1); /* no remote frees: to the head */
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* slub(cpu_cmpxchg=0), the default: the same fast paths with plain stores (c->tid left alone). */
KMB_TEST(fast_paths_without_cpu_cmpxchg)
{
	struct kmb_slub *sb = boot("slub", 2, 1, KMB_INVARIANTS_OFF);
	struct kmb__slub_cache *s;
	void *a, *b;

	sb->tun.cpu_cmpxchg = 0;
	s = kmb__slub_cache_create(sb, "plain", 64, 8, NULL);
	ASSERT_FALSE(s->cpu_cmpxchg);
	ASSERT_FALSE(sb->kmalloc[0]->cpu_cmpxchg); /* the default */
	ASSERT_EQ_I(kmb_thread_attach("t1", 1), 0);
	a = kmb__slub_alloc(s, M_NOWAIT);
	b = kmb__slub_alloc(s, M_NOWAIT);
	kmb__slub_free(s, head_of(a), a);
	ASSERT_EQ_PTR(kmb__slub_alloc(s, M_NOWAIT), a);
	ASSERT_EQ_U(s->cpu[1].tid, 1 + KMB__SLUB_TID_STEP); /* load_freelist only */
	ASSERT_EQ_U(st(s, KMB__ALLOC_FASTPATH), 2);
	ASSERT_EQ_U(st(s, KMB__FREE_FASTPATH), 1);
	kmb__slub_free(s, head_of(a), a);
	kmb__slub_free(s, head_of(b), b);
	kmb_thread_detach();
	kmb__slub_cache_destroy(s);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

struct remote {
	struct kmb__slub_cache *s;
	void **objs;
	unsigned n;
};

static void *remote_free_main(void *arg)
{
	struct remote *r = arg;

	ASSERT_EQ_I(kmb_thread_attach("remote", 1), 0);
	for (unsigned i = 0; i < r->n; i++)
		kmb__slub_free(r->s, head_of(r->objs[i]), r->objs[i]);
	kmb_thread_detach();
	return NULL;
}

static void free_from_cpu1(struct kmb__slub_cache *s, void **objs, unsigned n)
{
	struct remote r = {s, objs, n};
	pthread_t t;

	ASSERT_EQ_I(pthread_create(&t, NULL, remote_free_main, &r), 0);
	ASSERT_EQ_I(pthread_join(t, NULL), 0);
}

/* A remote free goes straight to the object's slab: to a frozen slab (the other CPU's) it
 * only pushes (free_frozen) and the owner takes it back at its next refill (alloc_refill);
 * to a full slab it puts the slab on the freeing CPU's partial list (cpu_partial_free),
 * which that CPU's detach gives to the node list. */
KMB_TEST(remote_frees_go_to_the_objects_slab)
{
	struct kmb_slub *sb = boot("slub", 2, 1, KMB_INVARIANTS_OFF);
	struct kmb__slub_cache *s = kmb__slub_cache_create(sb, "r256", 256, 8, NULL);
	void *objs[40], *x;

	ASSERT_EQ_U(s->objects, 16);
	ASSERT_EQ_I(kmb_thread_attach("t0", 0), 0);
	for (int i = 0; i < 20; i++) /* slab A full (on no list), slab B the CPU's */
		objs[i] = kmb__slub_alloc(s, M_NOWAIT);
	ASSERT_EQ_PTR(s->cpu[0].slab, head_of(objs[19]));
	free_from_cpu1(s, &objs[18], 1); /* B is frozen: a push */
	ASSERT_EQ_U(st(s, KMB__FREE_FROZEN), 1);
	free_from_cpu1(s, &objs[0], 1); /* A was full: to CPU 1's partial list ... */
	ASSERT_EQ_U(st(s, KMB__CPU_PARTIAL_FREE), 1);
	ASSERT_EQ_U(st(s, KMB__FREE_ADD_PARTIAL), 1); /* ... which CPU 1's detach drained */
	ASSERT_EQ_U(s->node[0].nr_partial, 1);
	for (int i = 20; i < 32; i++) /* the last 12 of B's 16 objects */
		objs[i] = kmb__slub_alloc(s, M_NOWAIT);
	x = kmb__slub_alloc(s, M_NOWAIT); /* refill: B's remote free */
	ASSERT_EQ_PTR(x, objs[18]);
	ASSERT_EQ_U(st(s, KMB__ALLOC_REFILL), 1);
	objs[18] = x;
	x = kmb__slub_alloc(s, M_NOWAIT); /* B full (bypass), A from the node list */
	ASSERT_EQ_PTR(x, objs[0]);
	ASSERT_EQ_U(st(s, KMB__DEACTIVATE_BYPASS), 2); /* A at alloc 16, B now */
	ASSERT_EQ_U(st(s, KMB__ALLOC_FROM_PARTIAL), 1);
	objs[0] = x;
	for (int i = 0; i < 32; i++)
		kmb__slub_free(s, head_of(objs[i]), objs[i]);
	kmb_thread_detach();
	kmb__slub_cache_destroy(s);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* Without CPU partial slabs (cpu_partial 0), 10 slabs of 16 x 512 B: slabs 0..8 full on no
 * list, slab 9 the CPU's.  Freeing them in order, each slab goes to the node list at its
 * first free (free_add_partial) and is freed at its last one when the node already keeps
 * min_partial = 5 slabs, itself included: slabs 0..3 stay, 4..8 are freed. */
KMB_TEST(empty_slabs_beyond_min_partial_are_freed)
{
	struct kmb_slub *sb = boot("slub", 2, 1, KMB_INVARIANTS_OFF);
	struct kmb__slub_cache *s, *z;
	void *objs[160];

	sb->tun.cpu_partial = 0;
	s = kmb__slub_cache_create(sb, "mp512", 512, 8, NULL);
	sb->tun.min_partial = 0;
	z = kmb__slub_cache_create(sb, "mp0", 512, 8, NULL);
	ASSERT_EQ_U(s->cpu_partial_slabs, 0);
	ASSERT_EQ_U(s->min_partial, 5);
	ASSERT_EQ_U(s->objects, 16);
	ASSERT_EQ_I(kmb_thread_attach("t0", 0), 0);
	for (int i = 0; i < 160; i++)
		objs[i] = kmb__slub_alloc(s, M_NOWAIT);
	for (int i = 0; i < 160; i++)
		kmb__slub_free(s, head_of(objs[i]), objs[i]);
	ASSERT_EQ_U(st(s, KMB__ALLOC_SLAB), 10);
	ASSERT_EQ_U(st(s, KMB__FREE_ADD_PARTIAL), 9);
	ASSERT_EQ_U(st(s, KMB__FREE_REMOVE_PARTIAL), 5);
	ASSERT_EQ_U(st(s, KMB__FREE_SLAB), 5);
	ASSERT_EQ_U(s->node[0].nr_partial, 4);
	ASSERT_EQ_I(s->node[0].nr_slabs, 5);
	for (int i = 0; i < 160; i++) /* min_partial 0: every empty slab goes */
		objs[i] = kmb__slub_alloc(z, M_NOWAIT);
	for (int i = 0; i < 160; i++)
		kmb__slub_free(z, head_of(objs[i]), objs[i]);
	ASSERT_EQ_U(z->node[0].nr_partial, 0);
	ASSERT_EQ_I(z->node[0].nr_slabs, 1); /* the CPU's */
	kmb_thread_detach();
	ASSERT_EQ_I(z->node[0].nr_slabs, 0); /* detach: empty at unfreeze, freed */
	drain();
	ASSERT_EQ_I(s->node[0].nr_slabs, 0); /* drain frees every empty slab */
	kmb__slub_cache_destroy(z);
	kmb__slub_cache_destroy(s);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- sheaves ------------------------------------------------------------------------------- */

/* 64-byte objects, capacity 60, 64 per order-0 slab.  Allocate 180, free them, twice:
 *   alloc 1:   bootstrap main -> a real one (sheaf_alloc 1); no spare, no full sheaf in the
 *              barn (barn_get_fail 1); refill 60 from a new slab (4 left: node list)
 *   alloc 61, 121: barn_get_fail 2, 3; refills of 4 + 56 and 8 + 52 objects (3 slabs)
 *   free 61:   main full, no spare: main becomes the spare, a new empty main (sheaf_alloc 2)
 *   free 121:  both full, no empty sheaf in the barn: a new one (sheaf_alloc 3) and main
 *              to the barn (barn_put 1)
 *   alloc 61 (second round): the full spare swapped in; alloc 121: main and spare empty,
 *              the barn's full sheaf for main (barn_get 1)
 *   free 61:   the empty spare swapped in; free 121: the barn's empty sheaf for the full
 *              main (barn_put 2)
 *   drain:     main, spare and the barn's full sheaf flushed (sheaf_flush 180), spare and
 *              barn sheaf freed (sheaf_free 2), the 3 empty slabs freed. */
KMB_TEST(sheaves_refill_flush_and_barn_counts)
{
	struct kmb_slub *sb = boot("slub-sheaves", 2, 1, KMB_INVARIANTS_OFF);
	struct kmb__slub_cache *s = kmb__slub_cache_create(sb, "sh64", 64, 8, NULL);
	void *objs[180];

	ASSERT_EQ_U(s->sheaf_capacity, 60);
	ASSERT_EQ_I(kmb_thread_attach("t0", 0), 0);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 180; i++)
			ASSERT_NOT_NULL(objs[i] = kmb__slub_alloc(s, M_NOWAIT));
		for (int i = 0; i < 180; i++)
			kmb__slub_free(s, head_of(objs[i]), objs[i]);
	}
	ASSERT_EQ_U(st(s, KMB__ALLOC_PCS), 360);
	ASSERT_EQ_U(st(s, KMB__FREE_PCS), 360);
	ASSERT_EQ_U(st(s, KMB__BARN_GET_FAIL), 3);
	ASSERT_EQ_U(st(s, KMB__SHEAF_REFILL), 180);
	ASSERT_EQ_U(st(s, KMB__ALLOC_SLAB), 3);
	ASSERT_EQ_U(st(s, KMB__SHEAF_ALLOC), 3);
	ASSERT_EQ_U(st(s, KMB__BARN_PUT), 2);
	ASSERT_EQ_U(st(s, KMB__BARN_GET), 1);
	ASSERT_EQ_U(st(s, KMB__BARN_PUT_FAIL), 0);
	ASSERT_EQ_U(s->node[0].nr_full, 1);
	ASSERT_EQ_U(s->node[0].nr_empty, 0);
	ASSERT_EQ_U(s->cpu[0].main->size, 60);
	ASSERT_EQ_U(s->cpu[0].spare->size, 60);
	drain();
	ASSERT_EQ_U(st(s, KMB__SHEAF_FLUSH), 180);
	ASSERT_EQ_U(st(s, KMB__SHEAF_FREE), 2);
	ASSERT_EQ_U(st(s, KMB__FREE_SLAB), 3);
	ASSERT_EQ_I(s->node[0].nr_slabs, 0);
	ASSERT_EQ_U(s->node[0].nr_full, 0);
	kmb_thread_detach();
	kmb__slub_cache_destroy(s);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* barn_max full sheaves: a CPU with main and spare full and a full barn flushes its spare
 * to the slabs (barn_put_fail, sheaf_flush of 4) and takes it as the new main.  Capacity 4
 * (4 KiB objects: 32 + 4 * 8 = 64 bytes, kmalloc-64), barn_max 1. */
KMB_TEST(sheaves_full_barn_flushes_the_spare)
{
	struct kmb_slub *sb = boot("slub-sheaves", 2, 1, KMB_INVARIANTS_OFF);
	struct kmb__slub_cache *s;
	void *objs[17];

	sb->tun.barn_max = 1;
	s = kmb__slub_cache_create(sb, "sh4k", 4096, 8, NULL);
	ASSERT_EQ_U(s->sheaf_capacity, 4);
	ASSERT_EQ_I(kmb_thread_attach("t0", 0), 0);
	for (int i = 0; i < 17; i++)
		objs[i] = kmb__slub_alloc(s, M_NOWAIT);
	/* 17 allocations took 5 refills of 4: main holds 3.  Free 1 fills it, 2 makes it the
	 * spare (a new main), 3-5 fill the new main, 6 puts main in the barn for a new one
	 * (barn_put 1), 7-9 fill it, 10: the barn is full: the spare is flushed and swapped
	 * in */
	ASSERT_EQ_U(st(s, KMB__SHEAF_REFILL), 20);
	ASSERT_EQ_U(s->cpu[0].main->size, 3);
	for (int i = 0; i < 10; i++)
		kmb__slub_free(s, head_of(objs[i]), objs[i]);
	ASSERT_EQ_U(st(s, KMB__BARN_PUT), 1);
	ASSERT_EQ_U(st(s, KMB__BARN_PUT_FAIL), 1);
	ASSERT_EQ_U(st(s, KMB__SHEAF_FLUSH), 4);
	ASSERT_EQ_U(s->cpu[0].main->size, 1);
	ASSERT_EQ_U(s->cpu[0].spare->size, 4);
	for (int i = 10; i < 17; i++)
		kmb__slub_free(s, head_of(objs[i]), objs[i]);
	kmb_thread_detach();
	kmb__slub_cache_destroy(s);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

struct node_free {
	struct kmb__slub_cache *s;
	void *obj;
	bool bypassed;
};

static void *node1_free_main(void *arg)
{
	struct node_free *r = arg;
	uint64_t before;

	ASSERT_EQ_I(kmb_thread_attach("node1", 1), 0);
	before = st(r->s, KMB__FREE_PCS);
	kmb__slub_free(r->s, head_of(r->obj), r->obj);
	r->bypassed = st(r->s, KMB__FREE_PCS) == before;
	kmb_thread_detach();
	return NULL;
}

/* Two nodes, CPU 1 on node 1: an object of a node-0 slab freed there bypasses the
 * sheaves (7.0 slab_free), straight to its slab. */
KMB_TEST(sheaves_remote_node_frees_bypass_the_sheaves)
{
	struct kmb_slub *sb = boot("slub-sheaves", 2, 2, KMB_INVARIANTS_OFF);
	struct kmb__slub_cache *s = kmb__slub_cache_create(sb, "numa", 128, 8, NULL);
	struct node_free r = {s, NULL, false};
	pthread_t t;

	ASSERT_EQ_U(kmb_cpu_node(1), 1);
	ASSERT_EQ_I(kmb_thread_attach("t0", 0), 0);
	r.obj = kmb__slub_alloc(s, M_NOWAIT);
	ASSERT_EQ_I(pthread_create(&t, NULL, node1_free_main, &r), 0);
	ASSERT_EQ_I(pthread_join(t, NULL), 0);
	ASSERT_EQ_I(r.bypassed, head_of(r.obj)->node != 1);
	kmb_thread_detach();
	kmb__slub_cache_destroy(s);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

static void *drain_main(void *arg)
{
	(void)arg;
	drain(); /* not attached: flushes the shared entry, bumps the flush generation */
	return NULL;
}

/* A drain from another thread reaches a CPU's slab at that CPU's next slow path. */
KMB_TEST(drain_reaches_other_cpus_at_their_next_slow_path)
{
	struct kmb_slub *sb = boot("slub", 2, 1, KMB_INVARIANTS_OFF);
	struct kmb__slub_cache *s = kmb__slub_cache_create(sb, "gen", 64, 8, NULL);
	void *objs[65];
	pthread_t t;

	ASSERT_EQ_I(kmb_thread_attach("t0", 0), 0);
	objs[0] = kmb__slub_alloc(s, M_NOWAIT);
	ASSERT_EQ_I(pthread_create(&t, NULL, drain_main, NULL), 0);
	ASSERT_EQ_I(pthread_join(t, NULL), 0);
	ASSERT_NOT_NULL(s->cpu[0].slab); /* the owner's: untouched by the drain */
	kmb__slub_free(s, head_of(objs[0]), objs[0]);
	ASSERT_EQ_U(st(s, KMB__CPUSLAB_FLUSH), 0);
	for (int i = 0; i < 65; i++) /* 64 in c->freelist, the 65th takes the slow path */
		objs[i] = kmb__slub_alloc(s, M_NOWAIT);
	ASSERT_EQ_U(st(s, KMB__CPUSLAB_FLUSH), 1);
	ASSERT_EQ_U(st(s, KMB__DEACTIVATE_FULL), 1); /* the slab was full when flushed */
	for (int i = 0; i < 65; i++)
		kmb__slub_free(s, head_of(objs[i]), objs[i]);
	kmb_thread_detach();
	kmb__slub_cache_destroy(s);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* The memory picture shows the sheaf pools' pages as KMB_FRAME_SHEAF, every frame of a
 * block: capacity 1000 makes a sheaf of 32 + 8000 bytes, from the kmalloc-8k pool's
 * order-1 blocks (two frames); the CPU's main sheaf is the block's first. */
KMB_TEST(sheaf_pool_frames_are_sheaf_kind)
{
	struct kmb_slub *sb = boot("slub-sheaves", 2, 1, KMB_INVARIANTS_OFF);
	struct kmb__slub_cache *s;
	uint8_t *map;
	size_t sheaf_frames = 0, n = kmb__sys.pm.npages;
	void *p;

	sb->tun.capacity = 1000;
	s = kmb__slub_cache_create(sb, "big_sheaf", 64, 8, NULL);
	ASSERT_EQ_U(s->sheaf_capacity, 1000);
	ASSERT_EQ_I(kmb_thread_attach("t0", 0), 0);
	ASSERT_NOT_NULL(p = kmb__slub_alloc(s, M_NOWAIT)); /* the first real main sheaf */
	ASSERT_EQ_I(kmb__slub_frame_kind(&kmb__sys.be, kmb_pfn(&kmb__sys.pm, s->cpu[0].main)),
	            KMB_FRAME_SHEAF);
	ASSERT_EQ_I(kmb__slub_frame_kind(&kmb__sys.be, kmb_pfn(&kmb__sys.pm, s->cpu[0].main) + 1),
	            KMB_FRAME_SHEAF);
	ASSERT_NOT_NULL(map = malloc(n));
	ASSERT_EQ_I(kmb_frame_map(map, n), (int)n);
	for (size_t i = 0; i < n; i++)
		sheaf_frames += map[i] == KMB_FRAME_SHEAF;
	ASSERT_EQ_U(sheaf_frames, 2);
	ASSERT_EQ_I(kmb__slub_frame_kind(&kmb__sys.be, kmb_pfn(&kmb__sys.pm, p)),
	            KMB_FRAME_SLAB_PARTIAL); /* refilled, the rest on the node list */
	free(map);
	kmb__slub_free(s, head_of(p), p);
	drain();
	kmb_thread_detach();
	kmb__slub_cache_destroy(s);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* ---- slabinfo (cache_info) ---------------------------------------------------------------- */

static void assert_info(struct kmem_cache *c, uint64_t active_objs, uint64_t total_objs,
                        uint64_t active_slabs, uint64_t total_slabs, unsigned objs_per_slab)
{
	struct kmb_cache_info in;

	ASSERT_EQ_I(kmem_cache_info(c, &in), 0);
	ASSERT_EQ_U(in.active_objs, active_objs);
	ASSERT_EQ_U(in.total_objs, total_objs);
	ASSERT_EQ_U(in.active_slabs, active_slabs);
	ASSERT_EQ_U(in.total_slabs, total_slabs);
	ASSERT_EQ_U(in.objs_per_slab, objs_per_slab);
	ASSERT_EQ_U(in.pages_per_slab, 1);
}

/* slub, 256-byte objects (order 0, 16 per slab), no per-CPU partial slabs, min_partial 5:
 *   100 allocations: 6 full slabs and the CPU slab with 4 allocated and 12 free in
 *     c->freelist - the CPU's objects count as active, as in Linux: 112 / 112, 7 / 7 slabs
 *   free 8 of slab 1 (full -> node partial list) and all 16 of slab 2 (emptied on the node
 *     list, kept: fewer than min_partial there): 24 node-list slots free, slab 2 empty:
 *     88 / 112 active (76 with callers + the CPU's 12), 6 / 7 slabs active. */
KMB_TEST(cache_info_counts_cpu_slab_objects_active)
{
	struct kmb_slub *sb = boot("slub", 2, 1, KMB_INVARIANTS_OFF);
	struct kmem_cache *c;
	void *objs[100];

	sb->tun.cpu_partial = 0;
	ASSERT_NOT_NULL(c = kmem_cache_create("info256", 256, 0, 0));
	ASSERT_EQ_I(kmb_thread_attach("t0", 0), 0);
	for (int i = 0; i < 100; i++)
		ASSERT_NOT_NULL(objs[i] = kmem_cache_alloc(c, M_NOWAIT));
	ASSERT_EQ_PTR(head_of(objs[0]), head_of(objs[15]));
	ASSERT_TRUE(head_of(objs[15]) != head_of(objs[16]));
	assert_info(c, 112, 112, 7, 7, 16);
	for (int i = 0; i < 32; i++)
		if (i < 8 || i >= 16)
			kmem_cache_free(c, objs[i]);
	assert_info(c, 88, 112, 6, 7, 16);
	for (int i = 8; i < 100; i++)
		if (i >= 32 || i < 16)
			kmem_cache_free(c, objs[i]);
	drain();
	assert_info(c, 0, 0, 0, 0, 16);
	kmb_thread_detach();
	kmem_cache_destroy(c);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* slub-sheaves, 64-byte objects (capacity 60, 64 per slab; the refills of
 * sheaves_refill_flush_and_barn_counts): 180 allocations take 3 slabs, 12 slots left on
 * the node list: 180 / 192 active.  Freeing them fills main, spare and one barn sheaf:
 * objects in sheaves count as active, so still 180 / 192, 3 / 3 slabs.  Drain flushes the
 * sheaves and frees the emptied slabs. */
KMB_TEST(cache_info_counts_sheaf_and_barn_objects_active)
{
	struct kmem_cache *c;
	void *objs[180];

	boot("slub-sheaves", 2, 1, KMB_INVARIANTS_OFF);
	ASSERT_NOT_NULL(c = kmem_cache_create("info64", 64, 0, 0));
	ASSERT_EQ_I(kmb_thread_attach("t0", 0), 0);
	for (int i = 0; i < 180; i++)
		ASSERT_NOT_NULL(objs[i] = kmem_cache_alloc(c, M_NOWAIT));
	assert_info(c, 180, 192, 3, 3, 64);
	for (int i = 0; i < 180; i++)
		kmem_cache_free(c, objs[i]);
	assert_info(c, 180, 192, 3, 3, 64);
	drain();
	assert_info(c, 0, 0, 0, 0, 64);
	kmb_thread_detach();
	kmem_cache_destroy(c);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* Threads not attached share the entry cpu[ncpus] under its lock; the memory picture sees
 * the CPU slab as KMB_FRAME_SLAB_CPU. */
KMB_TEST(unattached_threads_and_frame_kinds)
{
	struct kmb_slub *sb = boot("slub", 2, 1, KMB_INVARIANTS_OFF);
	struct kmb__slub_cache *s = sb->kmalloc[kmb__slub_kmalloc_index(64)];
	void *p = kmalloc(64, M_SLUBTEST, M_WAITOK), *big = kmalloc(20000, M_SLUBTEST, M_WAITOK);
	size_t pfn = kmb_pfn(&kmb__sys.pm, p);

	ASSERT_EQ_PTR(s->cpu[2].slab, head_of(p));
	ASSERT_EQ_I(kmb__slub_frame_kind(&kmb__sys.be, pfn), KMB_FRAME_SLAB_CPU);
	ASSERT_EQ_I(kmb__slub_frame_kind(&kmb__sys.be, kmb_pfn(&kmb__sys.pm, big)),
	            KMB_FRAME_LARGE);
	kfree(p, M_SLUBTEST);
	kfree(big, M_SLUBTEST);
	drain(); /* the shared entry's slab unfrozen empty and freed */
	ASSERT_NULL(s->cpu[2].slab);
	ASSERT_EQ_I(s->node[0].nr_slabs, 0);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

/* With INVARIANTS, a slab's freelist taken by a CPU is walked: a free pointer outside the
 * slab panics with the call. */
KMB_TEST(invariants_freelist_check_panics)
{
	struct kmb_slub *sb = boot("slub", 1, 1, KMB_INVARIANTS_ON);
	struct kmb__slub_cache *s = kmb__slub_cache_create(sb, "chk", 64, 8, NULL);
	char *a, *b;

	ASSERT_EQ_I(kmb_thread_attach("t0", 0), 0);
	a = kmb__slub_alloc(s, M_NOWAIT);
	b = kmb__slub_alloc(s, M_NOWAIT);
	kmb__sys.be.ops->drain(&kmb__sys.be); /* the slab back on the node list */
	*(void **)(b + 64 + s->offset) = b;   /* a free object's pointer made a loop */
	EXPECT_PANIC(KMB_PANIC_CORRUPT, kmb__slub_alloc(s, M_NOWAIT));
	ASSERT_CONTAINS(kmb_test_panic_msg, "freeze_slab(chk): free pointer");
	(void)a;
}

KMB_TEST_MAIN()
