/*
 * tests/test_vmem.c - the vmem backend: the arena's policies (instant, best, first and next
 * fit), vmem_xalloc's constraints, coalescing, hash rescaling, importing and giving back
 * spans, quantum caches, metadata accounting, the page-source face and the kmalloc
 * backend, and multi-threaded stress with cross-thread frees.  Expected addresses and
 * counts are worked out by hand in the comments.
 */
#include "kmb_stress.h"
#include "kmb_test.h"

#include <errno.h>
#include <pthread.h>

#include <kmbench/page_alloc.h>

#include "backends/vmem/vmem_impl.h"
#include "core/internal.h"

#define MIB  ((size_t)1 << 20)
#define PAGE KMB_PAGE_SIZE

static struct kmb_physmem pm;
static struct kmb_buddy *bd;
static struct kmb_vmem_meta meta;

/* Physical memory and a buddy allocator for the arenas' metadata pages. */
static void setup(size_t bytes, bool poison)
{
	ASSERT_EQ_I(kmb__physmem_init(&pm, bytes, 1, poison), 0);
	ASSERT_EQ_I(kmb_buddy_create(&pm, 1, false, &bd), 0);
	meta = (struct kmb_vmem_meta){kmb_buddy_pagesrc(bd), &pm};
}

static void teardown(void)
{
	ASSERT_EQ_I(pm.meta_pages, 0);
	ASSERT_EQ_I(pm.data_pages, 0);
	kmb_buddy_destroy(bd);
	kmb__physmem_fini(&pm);
}

/* An arena of plain integers, with its tags in buddy pages. */
static kmb_vmem_t *mkarena(uintptr_t base, size_t size, size_t quantum)
{
	kmb_vmem_t *vmp = NULL;

	ASSERT_EQ_I(
	        kmb_vmem_create("test", base, size, quantum, NULL, NULL, NULL, 0, 0, &meta, &vmp),
	        0);
	return vmp;
}

static struct kmb_vmem_kstat kstat(kmb_vmem_t *vmp)
{
	struct kmb_vmem_kstat ks;

	kmb_vmem_kstat(vmp, &ks);
	return ks;
}

static uintptr_t va(kmb_vmem_t *vmp, size_t size, int flags)
{
	return (uintptr_t)kmb_vmem_alloc(vmp, size, flags);
}

static uintptr_t vx(kmb_vmem_t *vmp, size_t size, size_t align, size_t phase, size_t nocross,
                    uintptr_t min, uintptr_t max)
{
	return (uintptr_t)kmb_vmem_xalloc(vmp, size, align, phase, nocross, min, max, M_NOWAIT);
}

static void vf(kmb_vmem_t *vmp, uintptr_t addr, size_t size)
{
	kmb_vmem_free(vmp, (void *)addr, size);
}

/* Segments of a type, in arena order. */
struct segs {
	size_t n;
	uintptr_t start[64];
	size_t size[64];
};

static void collect(void *arg, uintptr_t start, size_t size)
{
	struct segs *s = arg;

	if (s->n < 64) {
		s->start[s->n] = start;
		s->size[s->n] = size;
	}
	s->n++;
}

static struct segs walk(kmb_vmem_t *vmp, int type)
{
	struct segs s = {0};

	kmb_vmem_walk(vmp, type, collect, &s);
	return s;
}

/* ---- arguments -------------------------------------------------------------------------- */

KMB_TEST(create_and_add_reject_bad_arguments)
{
	kmb_vmem_t *vmp = (kmb_vmem_t *)1;
	struct kmb_vmem_meta none = {NULL, NULL};

	setup(4 * MIB, false);
	ASSERT_EQ_I(kmb_vmem_create("x", 0, 0, 24, NULL, NULL, NULL, 0, 0, &meta, &vmp), -EINVAL);
	ASSERT_NULL(vmp);
	ASSERT_EQ_I(kmb_vmem_create("x", 0, 0, 16, NULL, NULL, NULL, 0, 0, &none, &vmp), -EINVAL);
	ASSERT_EQ_I(kmb_vmem_create("x", 0, 0, 16, NULL, NULL, NULL, 0, 0x80, &meta, &vmp),
	            -EINVAL);
	/* quantum caches: 16 caches of 128 bytes would need 3 * 2048 > PAGE */
	ASSERT_EQ_I(kmb_vmem_create("x", 0, 0, 128, NULL, NULL, NULL, 2048, 0, &meta, &vmp),
	            -EINVAL);
	vmp = mkarena(0x10000, 0x1000, 16);
	ASSERT_EQ_I(kmb_vmem_add(vmp, 0x10800, 0x1000, 0), -EINVAL); /* overlaps */
	ASSERT_EQ_I(kmb_vmem_add(vmp, 0x20008, 0x1000, 0), -EINVAL); /* misaligned */
	ASSERT_EQ_I(kmb_vmem_add(vmp, 0, 0x1000, 0), -EINVAL);       /* 0 is reserved */
	ASSERT_EQ_I(kmb_vmem_add(vmp, 0x20000, 0x1000, 0), 0);
	ASSERT_EQ_U(kmb_vmem_size(vmp, KMB_VMEM_FREE), 0x2000);
	kmb_vmem_destroy(vmp);
	teardown();
}

/* ---- policies ---------------------------------------------------------------------------- */

/*
 * Spans A = 96 B (list 6: 64..127), B = 288 B (list 8: 256..511), C = 192 B (list 7).
 *   alloc(80):  not a power of two, highbit(80) = 7: list 7 surely fits -> C at 0x30000,
 *               although A would fit better; C's rest, 112 B, moves to list 6's head.
 *   alloc(64):  a power of two: list 6 (64 <= every size there) -> its head, C's rest at
 *               0x30050; 48 B remain (list 5).
 *   alloc(100): rounded to 112, highbit 7 -> list 7 is empty, list 8: B at 0x20000; its
 *               176-B rest goes to list 7.
 *   alloc(96):  highbit(96) = 7 -> list 7: B's rest at 0x20070 (A, exactly 96, is in
 *               list 6 and only might fit); 80 B remain (list 6).
 *   alloc(96):  no list above 6 is left: instant fit falls back to searching list 6,
 *               which holds 80 (B's rest, head) and 96 (A): A at 0x10000.
 */
KMB_TEST(instant_fit_takes_the_first_list_that_surely_fits)
{
	kmb_vmem_t *vmp;

	setup(4 * MIB, false);
	vmp = mkarena(0, 0, 16);
	ASSERT_EQ_I(kmb_vmem_add(vmp, 0x10000, 96, 0), 0);
	ASSERT_EQ_I(kmb_vmem_add(vmp, 0x20000, 288, 0), 0);
	ASSERT_EQ_I(kmb_vmem_add(vmp, 0x30000, 192, 0), 0);
	ASSERT_EQ_U(vmp->vm_freemap, (1u << 6) | (1u << 7) | (1u << 8));
	ASSERT_EQ_U(va(vmp, 80, 0), 0x30000);
	ASSERT_EQ_U(va(vmp, 64, 0), 0x30050);
	ASSERT_EQ_U(vmp->vm_freemap, (1u << 5) | (1u << 6) | (1u << 8));
	ASSERT_EQ_U(va(vmp, 100, 0), 0x20000);
	ASSERT_EQ_U(va(vmp, 96, 0), 0x20070);
	ASSERT_EQ_U(va(vmp, 96, 0), 0x10000);
	ASSERT_EQ_U(kstat(vmp).instantfit, 5);
	ASSERT_EQ_U(kmb_vmem_lookup(vmp, (void *)0x20000), 112); /* rounded to the quantum */
	ASSERT_EQ_U(kmb_vmem_size(vmp, KMB_VMEM_FREE), 48 + 80);
	kmb_vmem_destroy(vmp);
	teardown();
}

/*
 * Spans of 144, 200 and 176 bytes, all on list 7, which then reads 176, 200, 144 (each
 * insertion at its head).  A 130-byte (144 rounded) request:
 *   best fit   searches list 7 (highbit(144) - 1) for the smallest: 176, then 144, exact.
 *   first fit  the first of list 7 that fits: 176.
 *   instant    list 8 is empty and nothing is above, so list 7 too: its first, 176.
 */
KMB_TEST(best_fit_takes_the_smallest_and_first_fit_the_first)
{
	static const int policy[] = {KMB_VM_BESTFIT, KMB_VM_FIRSTFIT, KMB_VM_INSTANTFIT};
	static const uintptr_t want[] = {0x10000, 0x30000, 0x30000};

	setup(4 * MIB, false);
	for (int i = 0; i < 3; i++) {
		kmb_vmem_t *vmp = mkarena(0, 0, 16);

		ASSERT_EQ_I(kmb_vmem_add(vmp, 0x10000, 144, 0), 0);
		ASSERT_EQ_I(kmb_vmem_add(vmp, 0x20000, 200 + 8, 0), 0); /* 208: quantum */
		ASSERT_EQ_I(kmb_vmem_add(vmp, 0x30000, 176, 0), 0);
		ASSERT_EQ_U(va(vmp, 130, policy[i]), want[i]);
		kmb_vmem_destroy(vmp);
	}
	teardown();
}

/*
 * [0x1000, 0x2000), quantum 16, next fit: 0x1000, 0x1010, 0x1020; free 0x1000 and the
 * next goes on from the rotor, 0x1030, not back to 0x1000 (instant fit's choice).  Taking
 * the rest, 0xfc0 bytes at 0x1040, leaves the rotor at the end: the next 16 bytes wrap
 * around to 0x1000.
 */
KMB_TEST(next_fit_rotor_moves_on)
{
	kmb_vmem_t *vmp;

	setup(4 * MIB, false);
	vmp = mkarena(0x1000, 0x1000, 16);
	ASSERT_EQ_U(va(vmp, 16, KMB_VM_NEXTFIT), 0x1000);
	ASSERT_EQ_U(va(vmp, 16, KMB_VM_NEXTFIT), 0x1010);
	ASSERT_EQ_U(va(vmp, 16, KMB_VM_NEXTFIT), 0x1020);
	vf(vmp, 0x1000, 16);
	ASSERT_EQ_U(va(vmp, 16, KMB_VM_NEXTFIT), 0x1030);
	ASSERT_EQ_U(va(vmp, 0xfc0, KMB_VM_NEXTFIT), 0x1040);
	ASSERT_EQ_U(va(vmp, 16, KMB_VM_NEXTFIT), 0x1000);
	ASSERT_EQ_U(va(vmp, 16, KMB_VM_NEXTFIT), 0); /* full */
	ASSERT_EQ_U(kstat(vmp).nextfit, 7);
	for (uintptr_t a = 0x1000; a < 0x1040; a += 16)
		vf(vmp, a, 16);
	vf(vmp, 0x1040, 0xfc0);
	/* the rotor may keep two free segments apart; going full circle it steps over one
	 * and they merge, so the whole arena can still be had */
	ASSERT_CMP_U(walk(vmp, KMB_VMEM_FREE).n, <=, 2);
	ASSERT_EQ_U(va(vmp, 0x1000, KMB_VM_NEXTFIT), 0x1000);
	vf(vmp, 0x1000, 0x1000);
	ASSERT_EQ_U(walk(vmp, KMB_VMEM_FREE).n, 1);
	kmb_vmem_destroy(vmp);
	teardown();
}

/* ---- vmem_xalloc constraints -------------------------------------------------------------- */

/*
 * [0x10000, 0x20000), quantum 16:
 *   a. 0x100 at phase 0x10 of 0x1000:  P2PHASEUP(0x10000, 0x1000, 0x10) = 0x10010; free
 *      [0x10000, 0x10010) and [0x10110, 0x20000) remain.
 *   b. 0x100 from 0x10f80 without crossing 0x1000: [0x10f80, 0x11080) crosses 0x11000,
 *      so it moves up by P2NPHASE(0x10f80, 0x1000) = 0x80: 0x11000.
 *   c. 0x200 below 0x10200: [0x10110, 0x10200) holds 0xf0 only: NULL (no source).
 *      Below 0x10400: 0x10110.
 *   d. 0x40 at phase 0x80 of 0x100, from 0x18001: 0x18080.
 *   e. phase >= align, nocross smaller than the size, align not a multiple of the
 *      quantum: panics, as illumos's.
 */
KMB_TEST(xalloc_align_phase_nocross_min_max)
{
	kmb_vmem_t *vmp;

	setup(4 * MIB, false);
	vmp = mkarena(0x10000, 0x10000, 16);
	ASSERT_EQ_U(vx(vmp, 0x100, 0x1000, 0x10, 0, 0, 0), 0x10010);
	ASSERT_EQ_U(vx(vmp, 0x100, 16, 0, 0x1000, 0x10f80, 0), 0x11000);
	ASSERT_EQ_U(vx(vmp, 0x200, 16, 0, 0, 0, 0x10200), 0);
	ASSERT_EQ_U(vx(vmp, 0x200, 16, 0, 0, 0, 0x10400), 0x10110);
	ASSERT_EQ_U(vx(vmp, 0x40, 0x100, 0x80, 0, 0x18001, 0), 0x18080);
	ASSERT_EQ_U(kstat(vmp).fail, 1);
	ASSERT_EQ_U(kstat(vmp).xalloc, 5);
	EXPECT_PANIC(KMB_PANIC_USAGE, vx(vmp, 0x40, 0x100, 0x100, 0, 0, 0));
	ASSERT_CONTAINS(kmb_test_panic_msg, "parameters inconsistent or invalid");
	EXPECT_PANIC(KMB_PANIC_USAGE, vx(vmp, 0x200, 16, 0, 0x100, 0, 0));
	ASSERT_CONTAINS(kmb_test_panic_msg, "overconstrained");
	EXPECT_PANIC(KMB_PANIC_USAGE, vx(vmp, 0x40, 8, 0, 0, 0, 0));
	ASSERT_CONTAINS(kmb_test_panic_msg, "not vm_quantum aligned");
	/* VM_ENDALLOC: the end of the segment instant fit picks, [0x10310, 0x11000), the first
	 * of the smallest list that holds 0x100: 0x10f00; from 0x18100 below 0x1f000, the end
	 * of [0x180c0, 0x20000) as far as maxaddr allows: 0x1ef00 */
	ASSERT_EQ_U((uintptr_t)kmb_vmem_xalloc(vmp, 0x100, 0x100, 0, 0, 0, 0, KMB_VM_ENDALLOC),
	            0x10f00);
	ASSERT_EQ_U((uintptr_t)kmb_vmem_xalloc(vmp, 0x100, 0x100, 0, 0, 0x18100, 0x1f000,
	                                       KMB_VM_ENDALLOC),
	            0x1ef00);
	vf(vmp, 0x10f00, 0x100);
	vf(vmp, 0x1ef00, 0x100);
	vf(vmp, 0x10010, 0x100);
	vf(vmp, 0x11000, 0x100);
	vf(vmp, 0x10110, 0x200);
	vf(vmp, 0x18080, 0x40);
	ASSERT_EQ_U(walk(vmp, KMB_VMEM_FREE).n, 1);
	kmb_vmem_destroy(vmp);
	teardown();
}

/* ---- freeing ------------------------------------------------------------------------------- */

/*
 * a, b, c = 0x100 bytes at 0x10000, 0x10100, 0x10200 of [0x10000, 0x11000).  Free a: two
 * free segments (a, and the rest after c).  Free c: it merges with the rest.  Free b: it
 * merges with both - one free segment for the whole span, which with its marker is all
 * the tags in use.
 */
KMB_TEST(free_coalesces_with_free_neighbours)
{
	kmb_vmem_t *vmp;
	struct segs s;

	setup(4 * MIB, false);
	vmp = mkarena(0x10000, 0x1000, 16);
	ASSERT_EQ_U(va(vmp, 0x100, 0), 0x10000);
	ASSERT_EQ_U(va(vmp, 0x100, 0), 0x10100);
	ASSERT_EQ_U(va(vmp, 0x100, 0), 0x10200);
	ASSERT_EQ_U(kstat(vmp).segs, 5);
	vf(vmp, 0x10000, 0x100);
	s = walk(vmp, KMB_VMEM_FREE);
	ASSERT_EQ_U(s.n, 2);
	ASSERT_EQ_U(s.start[0], 0x10000);
	ASSERT_EQ_U(s.size[1], 0xd00);
	vf(vmp, 0x10200, 0x100);
	s = walk(vmp, KMB_VMEM_FREE);
	ASSERT_EQ_U(s.n, 2);
	ASSERT_EQ_U(s.start[1], 0x10200);
	ASSERT_EQ_U(s.size[1], 0xe00);
	vf(vmp, 0x10100, 0x100);
	s = walk(vmp, KMB_VMEM_FREE);
	ASSERT_EQ_U(s.n, 1);
	ASSERT_EQ_U(s.start[0], 0x10000);
	ASSERT_EQ_U(s.size[0], 0x1000);
	ASSERT_EQ_U(walk(vmp, KMB_VMEM_ALLOC).n, 0);
	ASSERT_EQ_U(kstat(vmp).segs, 2);
	ASSERT_EQ_U(kmb_vmem_largest_free(vmp, false), 0x1000);
	kmb_vmem_destroy(vmp);
	teardown();
}

KMB_TEST(bad_frees_panic_and_the_arena_still_works)
{
	kmb_vmem_t *vmp;
	uintptr_t a;

	setup(4 * MIB, false);
	vmp = mkarena(0x10000, 0x1000, 16);
	a = va(vmp, 0x100, 0);
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, vf(vmp, a + 16, 0x100));
	ASSERT_CONTAINS(kmb_test_panic_msg, "bad free");
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, vf(vmp, a, 0x80));
	ASSERT_CONTAINS(kmb_test_panic_msg, "wrong size (256 allocated)");
	vf(vmp, a, 0x100);
	EXPECT_PANIC(KMB_PANIC_DOUBLE_FREE, vf(vmp, a, 0x100));
	ASSERT_EQ_U(va(vmp, 0x100, 0), a); /* the lock was released */
	vf(vmp, a, 0);                     /* size 0: whatever is allocated there */
	kmb_vmem_destroy(vmp);
	teardown();
}

/*
 * 200 allocations of 16 bytes, then frees in reverse.  With n allocated segments the
 * table wants max(16, 2^(highbit(3n + 4) - 2)) buckets and is resized when that is more
 * than twice or less than half its size:
 *   grow  16 -> 64   at n = 42   (3 * 42 + 4 = 130, highbit 8: 64 > 32; n = 41 gives 32)
 *   grow  64 -> 256  at n = 170  (514, highbit 10: 256 > 128; n = 169 gives 128)
 *   shrink 256 -> 64 at n = 83   (253, highbit 8: 64 < 128; n = 84 gives 128)
 *   shrink 64 -> 16  at n = 19   (61, highbit 6: 16 < 32; n = 20 gives 32)
 * The 256 buckets (2 KiB) take one metadata page; 64 buckets too.
 */
KMB_TEST(hash_rescales_as_the_segment_count_moves)
{
	static uintptr_t a[200];
	kmb_vmem_t *vmp;
	struct kmb_vmem_kstat ks;

	setup(4 * MIB, false);
	vmp = mkarena(0x100000, 0x100000, 16);
	for (int n = 1; n <= 200; n++) {
		a[n - 1] = va(vmp, 16, 0);
		ks = kstat(vmp);
		ASSERT_EQ_U(ks.hash_size, n < 42 ? 16 : n < 170 ? 64 : 256);
	}
	ASSERT_EQ_U(ks.hash_rescale, 2);
	ASSERT_EQ_U(ks.meta_pages, ks.tag_pages + 1);
	ASSERT_EQ_I(pm.meta_pages, (int64_t)ks.meta_pages);
	for (int n = 200; n >= 1; n--) {
		vf(vmp, a[n - 1], 16);
		ks = kstat(vmp);
		ASSERT_EQ_U(ks.hash_size, n - 1 <= 19 ? 16 : n - 1 <= 83 ? 64 : 256);
	}
	ASSERT_EQ_U(ks.hash_rescale, 4);
	ASSERT_EQ_U(ks.meta_pages, ks.tag_pages); /* back in the arena's own 16 buckets */
	ASSERT_CMP_U(ks.lookup, <, 200);          /* chains stayed short */
	kmb_vmem_destroy(vmp);
	teardown();
}

/* ---- importing ----------------------------------------------------------------------------- */

/*
 * A parent of 1 MiB at 0x1000000 in 4 KiB quanta; a child in 16-byte quanta importing at
 * least 0x4000 at a time.
 *   alloc(100):    nothing in the child: import max(112, 0x4000) rounded to the parent's
 *                  quantum = 0x4000, the parent's first: 0x1000000.
 *   alloc(0x5000): the child's span is too small: import 0x5000 at 0x1004000.
 *   alloc(200):    from the first span, after the 112 bytes: 0x1000070.
 * Freeing the 0x5000 block frees its whole span: back to the parent.  Freeing 100 and 200
 * does the same for the first.
 */
KMB_TEST(import_from_a_source_and_give_whole_spans_back)
{
	kmb_vmem_t *parent, *child = NULL;
	struct kmb_vmem_kstat ks;

	setup(4 * MIB, false);
	parent = mkarena(0x1000000, 0x100000, 0x1000);
	ASSERT_EQ_I(kmb_vmem_create("child", 0, 0, 16, kmb_vmem_import, kmb_vmem_release, parent, 0,
	                            0, &meta, &child),
	            0);
	kmb_vmem_set_min_import(child, 0x4000);
	ASSERT_EQ_U(va(child, 100, 0), 0x1000000);
	ASSERT_EQ_U(va(child, 0x5000, 0), 0x1004000);
	ASSERT_EQ_U(va(child, 200, 0), 0x1000070);
	ASSERT_EQ_U(kmb_vmem_size(parent, KMB_VMEM_ALLOC), 0x9000);
	ks = kstat(child);
	ASSERT_EQ_U(ks.imports, 2);
	ASSERT_EQ_U(ks.mem_import, 0x9000);
	ASSERT_EQ_U(ks.spans, 2);
	vf(child, 0x1004000, 0x5000);
	ASSERT_EQ_U(kmb_vmem_size(parent, KMB_VMEM_ALLOC), 0x4000);
	vf(child, 0x1000000, 100);
	ASSERT_EQ_U(kmb_vmem_size(parent, KMB_VMEM_ALLOC), 0x4000);
	vf(child, 0x1000070, 200);
	ASSERT_EQ_U(kmb_vmem_size(parent, KMB_VMEM_ALLOC), 0);
	ks = kstat(child);
	ASSERT_EQ_U(ks.exports, 2);
	ASSERT_EQ_U(ks.spans, 0);
	ASSERT_EQ_U(ks.mem_total, 0);
	/* alignment beyond the parent's quantum: 0x2000 - 0x1000 extra, still one import */
	ASSERT_EQ_U(vx(child, 0x100, 0x2000, 0, 0, 0, 0) % 0x2000, 0);
	ASSERT_EQ_U(kstat(child).imports, 3);
	kmb_vmem_destroy(child); /* gives the live span back too */
	ASSERT_EQ_U(kmb_vmem_size(parent, KMB_VMEM_ALLOC), 0);
	kmb_vmem_destroy(parent);
	teardown();
}

/* ---- quantum caches and metadata ------------------------------------------------------------ */

static kmb_vmem_t *mkkmem(struct kmb_pagesrc *ps)
{
	kmb_vmem_t *vmp = NULL;
	struct kmb_vmem_meta m = {ps, &pm};

	ASSERT_EQ_I(kmb_vmem_create("kmem", 0, 0, 16, kmb_vmem_pagesrc_import,
	                            kmb_vmem_pagesrc_release, ps, 256, KMB_VMC_XALIGN, &m, &vmp),
	            0);
	kmb_vmem_set_min_import(vmp, 16 * PAGE);
	return vmp;
}

/*
 * A 16-byte cache's slab is one page: 256 objects.  The first allocation misses (a new
 * slab, taken from a fresh 16-page span), the next 255 hit, the 257th misses: with no
 * magazine loaded, allocations come from the slab layer.  Objects are consecutive, and the
 * slab's page says their size without a lock.  Freed (by a thread not attached to a CPU:
 * the shared CPU entry), they go into magazines of 15 rounds: 18 for the 257 of the 16-byte
 * cache, 1 for the 64-byte one, 19 magazines of 128 bytes in one metadata page; the slab
 * layer gets nothing back.  A reap destroys the magazines (their rounds go back to the
 * slabs), gives the three wholly free slabs and the magazine page back, and the span goes
 * back to the buddy.
 */
KMB_TEST(quantum_cache_hits_misses_and_reap)
{
	static char *p[257];
	kmb_vmem_t *vmp;
	struct kmb_vmem_kstat ks;
	char *q;

	setup(4 * MIB, true);
	vmp = mkkmem(kmb_buddy_pagesrc(bd));
	for (int i = 0; i < 257; i++) {
		ASSERT_NOT_NULL(p[i] = kmb_vmem_alloc(vmp, 1 + i % 16, 0));
		ASSERT_EQ_U(kmb_vmem_qcache_objsize(&pm, p[i]), 16);
		if (i > 0 && i < 256)
			ASSERT_EQ_PTR(p[i], p[i - 1] + 16);
	}
	ASSERT_EQ_U((uintptr_t)p[0] % PAGE, 0);
	ks = kstat(vmp);
	ASSERT_EQ_U(ks.qc_miss, 2);
	ASSERT_EQ_U(ks.qc_hit, 255);
	ASSERT_EQ_U(ks.qc_alloc_mag, 0);
	ASSERT_EQ_U(ks.qc_slabs, 2);
	ASSERT_EQ_U(ks.imports, 1);
	ASSERT_EQ_U(ks.mem_inuse, 2 * PAGE); /* the arena sees two page-sized segments */
	ASSERT_EQ_U(pm.data_pages, 16);
	ASSERT_EQ_U(ks.meta_pages, ks.tag_pages);
	ASSERT_NOT_NULL(q = kmb_vmem_alloc(vmp, 64, 0)); /* a power of two: naturally aligned */
	ASSERT_EQ_U((uintptr_t)q % 64, 0);
	ASSERT_EQ_U(kmb_vmem_qcache_objsize(&pm, q), 64);
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, kmb_vmem_free(vmp, q + 16, 64));
	kmb_vmem_free(vmp, q, 64);
	EXPECT_PANIC(KMB_PANIC_DOUBLE_FREE, kmb_vmem_free(vmp, q, 64)); /* the magazine's top */
	for (int i = 0; i < 257; i++)
		kmb_vmem_free(vmp, p[i], 16);
	ks = kstat(vmp);
	ASSERT_EQ_U(ks.qc_free_mag, 258);
	ASSERT_EQ_U(ks.qc_free, 0);
	ASSERT_EQ_U(ks.qc_free_slab, 0);
	ASSERT_EQ_U(ks.qc_mag_created, 19);
	ASSERT_EQ_U(ks.qc_depot_full_put, 16); /* 18 full magazines: 2 on the CPU entry */
	ASSERT_EQ_U(ks.qc_full_mags, 16);
	ASSERT_EQ_U(ks.qc_mag_pages, 1);
	ASSERT_EQ_U(ks.meta_pages, ks.tag_pages + 1);
	ASSERT_EQ_I(pm.meta_pages, (int64_t)ks.meta_pages);
	ASSERT_EQ_U(ks.qc_slabs, 3);
	ASSERT_EQ_U(pm.data_pages, 16);
	kmb_vmem_reap(vmp);
	ks = kstat(vmp);
	ASSERT_EQ_U(ks.qc_free, 258);
	ASSERT_EQ_U(ks.qc_mag_destroyed, 19);
	ASSERT_EQ_U(ks.qc_full_mags, 0);
	ASSERT_EQ_U(ks.qc_mag_pages, 0);
	ASSERT_EQ_U(ks.qc_cpu_flush, 2); /* the shared entry of each cache */
	ASSERT_EQ_U(ks.qc_slabs, 0);
	ASSERT_EQ_U(ks.qc_reaped, 3);
	ASSERT_EQ_U(ks.exports, 1);
	ASSERT_EQ_U(pm.data_pages, 0);
	ASSERT_EQ_I(pm.meta_pages, (int64_t)ks.tag_pages);
	ASSERT_EQ_U(kmb_vmem_qcache_objsize(&pm, p[0]), 0);
	ASSERT_NULL(kmb_poison_check(p[0], PAGE)); /* the buddy poisoned it */
	kmb_vmem_destroy(vmp);
	teardown();
}

/*
 * The depot (Bonwick & Adams 3.2): 60 frees of 32-byte objects fill magazines A, B, C, D
 * (15 rounds each); each time both of the CPU's are full, the previous one goes to the
 * depot (A at the 31st free, B at the 46th), so C and D stay loaded.  60 allocations then
 * take D's rounds, swap to C, and take A and B back from the depot, putting the emptied D
 * and C there: last in, first out, nothing from the slab layer.  The 61st goes to the slab
 * layer.  The objects were never written by the cache (KMC_NOTOUCH): the poison is intact.
 */
KMB_TEST(quantum_cache_magazines_and_depot)
{
	static char *p[61], *r[61];
	kmb_vmem_t *vmp;
	struct kmb_vmem_kstat ks;

	setup(4 * MIB, true);
	vmp = mkkmem(kmb_buddy_pagesrc(bd));
	for (int i = 0; i < 60; i++)
		ASSERT_NOT_NULL(p[i] = kmb_vmem_alloc(vmp, 32, 0));
	for (int i = 0; i < 60; i++) {
		kmb_poison(&pm, p[i], 32);
		kmb_vmem_free(vmp, p[i], 32);
	}
	ks = kstat(vmp);
	ASSERT_EQ_U(ks.qc_free_mag, 60);
	ASSERT_EQ_U(ks.qc_mag_created, 4);
	ASSERT_EQ_U(ks.qc_depot_full_put, 2);
	ASSERT_EQ_U(ks.qc_full_mags, 2);
	ASSERT_EQ_U(ks.qc_free, 0);
	for (int i = 0; i < 60; i++) {
		ASSERT_NOT_NULL(r[i] = kmb_vmem_alloc(vmp, 32, 0));
		ASSERT_EQ_PTR(r[i], p[59 - i]);
		ASSERT_NULL(kmb_poison_check(r[i], 32));
	}
	ks = kstat(vmp);
	ASSERT_EQ_U(ks.qc_alloc_mag, 60);
	ASSERT_EQ_U(ks.qc_depot_full_get, 2);
	ASSERT_EQ_U(ks.qc_depot_empty_put, 2);
	ASSERT_EQ_U(ks.qc_empty_mags, 2);
	ASSERT_EQ_U(ks.qc_hit + ks.qc_miss, 60);
	ASSERT_NOT_NULL(r[60] = kmb_vmem_alloc(vmp, 32, 0));
	ks = kstat(vmp);
	ASSERT_EQ_U(ks.qc_hit + ks.qc_miss, 61);
	/* frees take the empty magazines back from the depot before making new ones */
	for (int i = 0; i < 61; i++)
		kmb_vmem_free(vmp, r[i], 32);
	ks = kstat(vmp);
	ASSERT_EQ_U(ks.qc_depot_empty_get, 2);
	ASSERT_EQ_U(ks.qc_mag_created, 5);
	kmb_vmem_reap(vmp);
	ks = kstat(vmp);
	ASSERT_EQ_U(ks.qc_mag_destroyed, 5);
	ASSERT_EQ_U(ks.qc_free, 61);
	ASSERT_EQ_U(ks.qc_slabs, 0);
	ASSERT_EQ_U(ks.qc_mag_pages, 0);
	ASSERT_EQ_U(ks.meta_pages, ks.tag_pages);
	ASSERT_EQ_U(pm.data_pages, 0);
	kmb_vmem_destroy(vmp);
	teardown();
}

/*
 * A double free that does not land on the top of the magazine is found when the rounds go
 * back to the slab layer: the reap finishes giving everything back, then panics.  One
 * whose first free reached the slab layer is found at once (the object's bit is set).
 */
KMB_TEST(quantum_cache_double_free_in_a_magazine)
{
	kmb_vmem_t *vmp;
	char *x, *y, *z;

	setup(4 * MIB, false);
	vmp = mkkmem(kmb_buddy_pagesrc(bd));
	ASSERT_NOT_NULL(x = kmb_vmem_alloc(vmp, 48, 0));
	ASSERT_NOT_NULL(y = kmb_vmem_alloc(vmp, 48, 0));
	ASSERT_NOT_NULL(z = kmb_vmem_alloc(vmp, 48, 0)); /* keeps the slab */
	kmb_vmem_free(vmp, x, 48);
	kmb_vmem_free(vmp, y, 48);
	kmb_vmem_free(vmp, x, 48); /* not the top: into the magazine */
	EXPECT_PANIC(KMB_PANIC_DOUBLE_FREE, kmb_vmem_reap(vmp));
	ASSERT_CONTAINS(kmb_test_panic_msg, "went back to the slab layer");
	ASSERT_EQ_U(kstat(vmp).qc_mag_pages, 0); /* the reap had finished */
	EXPECT_PANIC(KMB_PANIC_DOUBLE_FREE, kmb_vmem_free(vmp, y, 48));
	ASSERT_CONTAINS(kmb_test_panic_msg, "free in its quantum cache");
	kmb_vmem_free(vmp, z, 48);
	kmb_vmem_reap(vmp);
	ASSERT_EQ_U(kstat(vmp).qc_slabs, 0);
	ASSERT_EQ_I(pm.data_pages, 0);
	kmb_vmem_destroy(vmp);
	teardown();
}

/*
 * Boundary tags: the arena starts on the 8 inside it.  A first allocation imports a span
 * (2 tags) and takes a piece (1): 5 left, fewer than VMEM_MINFREE (6), so the second
 * allocation first takes a page of 72 tags from the buddy, as metadata.
 */
KMB_TEST(tag_pages_are_metadata_pages)
{
	kmb_vmem_t *vmp;
	struct kmb_vmem_kstat ks;
	void *a, *b;

	setup(4 * MIB, false);
	vmp = mkkmem(kmb_buddy_pagesrc(bd));
	ASSERT_NOT_NULL(a = kmb_vmem_alloc(vmp, 1000, 0));
	ASSERT_EQ_I(pm.meta_pages, 0);
	ASSERT_EQ_I(vmp->vm_nsegfree, 5);
	ASSERT_NOT_NULL(b = kmb_vmem_alloc(vmp, 1000, 0));
	ks = kstat(vmp);
	ASSERT_EQ_U(ks.tag_pages, 1);
	ASSERT_EQ_U(ks.populate, 1);
	ASSERT_EQ_I(pm.meta_pages, 1);
	ASSERT_EQ_I(pm.data_pages, 16);
	ASSERT_EQ_I(vmp->vm_nsegfree, 5 + 72 - 1);
	ASSERT_EQ_U(kmb_page_of(&pm, vmp->vm_segpages.sp_next)->usage, KMB_USE_META);
	kmb_vmem_free(vmp, a, 1000);
	kmb_vmem_free(vmp, b, 1000);
	ASSERT_EQ_I(pm.data_pages, 0); /* the span went back */
	kmb_vmem_reap(vmp);            /* and the tag page: the 8 boot tags are spares enough */
	ASSERT_EQ_I(pm.meta_pages, 0);
	kmb_vmem_destroy(vmp);
	teardown();
}

/* ---- the page-source face ------------------------------------------------------------------- */

static struct kmb_pagesrc *mkpages(size_t bytes, bool poison)
{
	struct kmb_pagesrc *ps = NULL;

	ASSERT_EQ_I(kmb__physmem_init(&pm, bytes, 1, poison), 0);
	ASSERT_EQ_I(kmb_vmem_pagesrc_create(&pm, 1, &ps), 0);
	return ps;
}

static void rmpages(struct kmb_pagesrc *ps)
{
	ps->destroy(ps);
	ASSERT_EQ_I(pm.meta_pages, 0);
	ASSERT_EQ_I(pm.data_pages, 0);
	kmb__physmem_fini(&pm);
}

/*
 * 16 MiB = 4096 pages: min_free_kbytes = int_sqrt(16384 * 16 = 262144) = 512 -> min 128
 * pages; max_order = log2 of the largest power of two <= 4096 - 1 - 128 = 3967: 11
 * (8 MiB: a 16 MiB range always holds an aligned 8 MiB block).  Mixed orders come back
 * aligned to their size in address and accounted; a metadata block counts as metadata.
 */
KMB_TEST(pagesrc_natural_alignment_and_accounting)
{
	static const unsigned orders[] = {3, 0, 5, 1, 0, 10, 2, 7, 0, 4, 11};
	static const int free_order[] = {5, 0, 9, 2, 7, 1, 4, 8, 3, 6};
	struct kmb_pagesrc *ps = mkpages(16 * MIB, true);
	struct kmb_memstat ms = {0};
	void *p[11], *m;
	int64_t pages = 0;

	ASSERT_EQ_U(ps->max_order, 11);
	ASSERT_EQ_STR(ps->name, "vmem");
	ASSERT_NULL(ps->alloc_pages(ps, 12, M_NOWAIT));
	ASSERT_NOT_NULL(p[10] = ps->alloc_pages(ps, 11, M_NOWAIT)); /* all free: it fits */
	ps->free_pages(ps, p[10], 11);
	for (int i = 0; i < 10; i++) {
		ASSERT_NOT_NULL(p[i] = ps->alloc_pages(ps, orders[i], M_NOWAIT));
		ASSERT_EQ_U((uintptr_t)p[i] % (PAGE << orders[i]), 0);
		ASSERT_EQ_U(kmb_page_of(&pm, p[i])->order, orders[i]);
		ASSERT_EQ_U(kmb_page_of(&pm, p[i])->usage, KMB_USE_DATA);
		pages += (int64_t)1 << orders[i];
		memset(p[i], 0x5a, PAGE << orders[i]);
	}
	ASSERT_EQ_I(pm.data_pages, pages);
	ASSERT_NOT_NULL(m = ps->alloc_pages(ps, 0, M_NOWAIT | KMB_GFP_META));
	ASSERT_EQ_U(kmb_page_of(&pm, m)->usage, KMB_USE_META);
	ASSERT_EQ_I(pm.meta_pages, 1 + (int64_t)kstat(kmb_vmem_pagesrc_arena(ps)).meta_pages);
	ps->free_pages(ps, m, 0);
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, ps->free_pages(ps, p[0], 2)); /* order 3 */
	for (int i = 0; i < 10; i++) {
		int k = free_order[i];

		ps->free_pages(ps, p[k], orders[k]);
		ASSERT_NULL(kmb_poison_check(p[k], PAGE << orders[k]));
	}
	EXPECT_PANIC(KMB_PANIC_DOUBLE_FREE, ps->free_pages(ps, p[0], 3));
	ASSERT_EQ_I(pm.data_pages, 0);
	ps->memstat(ps, &ms);
	ASSERT_EQ_U(ms.free_pages, 4096 - (size_t)pm.meta_pages);
	ASSERT_CMP_U(ms.largest_free, >=, 4 * MIB); /* 3 aligned 4 MiB blocks, a tag page */
	rmpages(ps);
}

/*
 * 8 MiB = 2048 pages: min_free_kbytes = int_sqrt(8192 * 16) = 362 -> min 90 pages, the
 * reserve floor 90 - 45 = 45, minus 45 / 4 = 34 (the buddy's test has the same numbers).
 * Normal order-0 requests succeed while 90 pages stay free after them; M_USE_RESERVE ones
 * down to 34.  The arena's own tag and hash pages are not held to the floor, so the free
 * count at each stop may be a page or two lower.
 */
KMB_TEST(pagesrc_watermark_and_reserve)
{
	static void *p[2048];
	struct kmb_pagesrc *ps = mkpages(8 * MIB, false);
	kmb_vmem_t *arena = kmb_vmem_pagesrc_arena(ps);
	size_t n = 0, n0, min, res, free_pages;
	struct kmb_vmem_kstat ks;

	kmb_vmem_pagesrc_floors(ps, &min, &res);
	ASSERT_EQ_U(min, 90);
	ASSERT_EQ_U(res, 34);
	while ((p[n] = ps->alloc_pages(ps, 0, M_NOWAIT)) != NULL)
		n++;
	free_pages = kmb_vmem_size(arena, KMB_VMEM_FREE) / PAGE;
	ASSERT_CMP_U(free_pages, <=, 90);
	ASSERT_CMP_U(free_pages, >=, 84);
	ASSERT_EQ_U(n + free_pages + (size_t)pm.meta_pages, 2048);
	n0 = n;
	while ((p[n] = ps->alloc_pages(ps, 0, M_NOWAIT | M_USE_RESERVE)) != NULL)
		n++;
	free_pages = kmb_vmem_size(arena, KMB_VMEM_FREE) / PAGE;
	ASSERT_CMP_U(free_pages, <=, 34);
	ASSERT_CMP_U(free_pages, >=, 28);
	ASSERT_CMP_U(n - n0, >=, 50); /* about 90 - 34 = 56 */
	ks = kstat(arena);
	ASSERT_EQ_U(ks.reserve, n - n0);
	ASSERT_EQ_U(ks.floor_fail, 2);
	ASSERT_NULL(ps->alloc_pages(ps, 0, M_NOWAIT));
	while (n > 0)
		ps->free_pages(ps, p[--n], 0);
	ps->drain(ps);
	/* every page is free but the arena's own metadata: the tag pages carved during the
	 * run sat together at the top (best fit, VM_ENDALLOC), so as they go back the tags of
	 * their own segments are freed and all but a page or two follow */
	ASSERT_EQ_U(kmb_vmem_size(arena, KMB_VMEM_FREE), 8 * MIB - (size_t)pm.meta_pages * PAGE);
	ks = kstat(arena);
	ASSERT_EQ_I(pm.meta_pages, (int64_t)ks.meta_pages);
	ASSERT_CMP_U(ks.populate, >=, 27); /* 1958 + 56 tags: 28 pages were taken */
	ASSERT_CMP_I(pm.meta_pages, <=, 2);
	rmpages(ps);
}

/* ---- the kmalloc backend ------------------------------------------------------------------- */

static struct kmb_backend be;

static void mkbackend(size_t bytes, bool poison, bool vmem_pages)
{
	ASSERT_EQ_I(kmb__physmem_init(&pm, bytes, 1, poison), 0);
	long pcp[KMB_BUDDY_NTUNABLES] = {0}; /* Linux's rule (page_alloc.c 4.) */

	be = (struct kmb_backend){.ops = &kmb_vmem_ops, .pm = &pm, .ncpus = 1};
	for (size_t i = 0; i < kmb_vmem_ops.ntunables; i++) /* as kmb_boot: the defaults */
		be.tun[i] = kmb_vmem_ops.tunables[i].def;
	if (vmem_pages)
		ASSERT_EQ_I(kmb_vmem_pagesrc_create(&pm, 1, &be.pages), 0);
	else
		ASSERT_EQ_I(kmb_buddy_pagesrc_ops.create(&pm, 1, pcp, &be.pages), 0);
	ASSERT_EQ_I(be.ops->init(&be), 0);
}

static void rmbackend(void)
{
	be.ops->fini(&be);
	be.pages->destroy(be.pages);
	ASSERT_EQ_I(pm.meta_pages, 0);
	ASSERT_EQ_I(pm.data_pages, 0);
	kmb__physmem_fini(&pm);
}

static size_t want_usable(size_t size)
{
	return (size + 15) & ~(size_t)15;
}

static int cmp_ptr(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;

	return (x > y) - (x < y);
}

/*
 * Every size 1 .. 3 pages + 1 live at once, on both page sources: usable size = the size
 * rounded to 16 (vmem hands out what is asked), powers of two up to a page aligned to
 * their size, page multiples to a page, 16 otherwise; no two blocks overlap.  All freed and
 * drained, every page is back.
 */
static size_t next_size(size_t s)
{
	return s < 4200 ? s + 1 : s + 61;
}

static void sizes_no_overlap(bool vmem_pages)
{
	enum { MAXS = 3 * 4096 + 1, N = 4400 };
	static char *p[N], *sorted[N];
	static size_t sz[N];
	struct kmb_memstat ms = {0};
	size_t n = 0;

	mkbackend(64 * MIB, false, vmem_pages);
	ASSERT_EQ_U(be.ops->max_size(&be), PAGE << be.pages->max_order);
	ASSERT_EQ_U(be.ops->freelist_bytes, 0);
	for (size_t s = 1; s <= MAXS; s = next_size(s), n++) {
		size_t u, align = 1;

		while (align < s && align < 16)
			align <<= 1;
		if (VMEM_IS_P2(s) && s <= PAGE)
			align = s;
		if (s % PAGE == 0)
			align = PAGE;
		ASSERT_CMP_U(n, <, N);
		ASSERT_NOT_NULL(p[n] = be.ops->alloc(&be, s, M_NOWAIT, &(size_t){0}));
		u = be.ops->usable_size(&be, p[n]);
		ASSERT_EQ_U(u, want_usable(s));
		ASSERT_EQ_U((uintptr_t)p[n] % align, 0);
		p[n][0] = p[n][u - 1] = (char)s;
		sz[n] = s;
		sorted[n] = p[n];
	}
	qsort(sorted, n, sizeof(sorted[0]), cmp_ptr);
	for (size_t i = 0; i + 1 < n; i++)
		ASSERT_CMP_U((uintptr_t)sorted[i] + be.ops->usable_size(&be, sorted[i]), <=,
		             (uintptr_t)sorted[i + 1]);
	be.ops->memstat(&be, &ms);
	ASSERT_CMP_U(ms.largest_free, >, 0);
	while (n-- > 0) {
		ASSERT_EQ_U((unsigned char)p[n][0], (unsigned char)sz[n]);
		be.ops->free(&be, p[n]);
	}
	be.ops->drain(&be);
	if (be.pages->drain)
		be.pages->drain(be.pages);
	ASSERT_EQ_I(pm.data_pages, 0);
	ASSERT_EQ_I(pm.meta_pages,
	            vmem_pages ? (int64_t)kstat(kmb_vmem_pagesrc_arena(be.pages)).meta_pages : 0);
	rmbackend();
}

KMB_TEST(kmalloc_sizes_alignment_no_overlap_on_buddy)
{
	sizes_no_overlap(false);
}

KMB_TEST(kmalloc_sizes_alignment_no_overlap_on_vmem)
{
	sizes_no_overlap(true);
}

/* free_sized (kmem_free's size, backend.h 3.): every size freed with its own size reports
 * its usable size and gives every page back; a size that is not the block's panics, in
 * the quantum cache (another cache's object) and in the arena (another segment size). */
KMB_TEST(kmalloc_free_sized)
{
	enum { MAXS = 3 * 4096 + 1, N = 4400 };
	static char *p[N];
	static size_t sz[N];
	size_t n = 0;
	char *q, *a;

	mkbackend(64 * MIB, false, false);
	for (size_t s = 1; s <= MAXS; s = next_size(s), n++) {
		ASSERT_CMP_U(n, <, N);
		ASSERT_NOT_NULL(p[n] = be.ops->alloc(&be, s, M_NOWAIT, &(size_t){0}));
		sz[n] = s;
	}
	while (n-- > 0)
		ASSERT_EQ_U(be.ops->free_sized(&be, p[n], sz[n]), want_usable(sz[n]));
	ASSERT_NOT_NULL(q = be.ops->alloc(&be, 100, M_NOWAIT, &(size_t){0}));
	ASSERT_NOT_NULL(a = be.ops->alloc(&be, 1000, M_NOWAIT, &(size_t){0}));
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, be.ops->free_sized(&be, q, 200));
	ASSERT_CONTAINS(kmb_test_panic_msg, "not an object of this quantum cache");
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, be.ops->free_sized(&be, a, 2000));
	ASSERT_CONTAINS(kmb_test_panic_msg, "wrong size (1008 allocated)");
	ASSERT_EQ_U(be.ops->free_sized(&be, q, 100), 112);
	ASSERT_EQ_U(be.ops->free_sized(&be, a, 1000), 1008);
	be.ops->drain(&be);
	ASSERT_EQ_I(pm.data_pages, 0);
	rmbackend();
}

/* A 4 MiB block on the buddy (max order 10), 4 MiB + 1 byte never; free checks. */
KMB_TEST(kmalloc_large_blocks_and_free_checks)
{
	char local, *p, *q;

	mkbackend(16 * MIB, false, false);
	ASSERT_EQ_U(be.ops->max_size(&be), 4 * MIB);
	ASSERT_NULL(be.ops->alloc(&be, 4 * MIB + 16, M_NOWAIT, &(size_t){0}));
	ASSERT_NOT_NULL(p = be.ops->alloc(&be, 4 * MIB, M_NOWAIT, &(size_t){0}));
	ASSERT_EQ_U((uintptr_t)p % PAGE, 0);
	ASSERT_EQ_U(be.ops->usable_size(&be, p), 4 * MIB);
	ASSERT_EQ_I(pm.data_pages, 1024);
	be.ops->free(&be, p);
	ASSERT_EQ_I(pm.data_pages, 0);
	ASSERT_NOT_NULL(p = be.ops->alloc(&be, 1000, M_NOWAIT, &(size_t){0}));
	ASSERT_NOT_NULL(q = be.ops->alloc(&be, 100, M_NOWAIT, &(size_t){0}));
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, be.ops->free(&be, &local));
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, be.ops->free(&be, p + 16));
	EXPECT_PANIC(KMB_PANIC_BAD_FREE, be.ops->free(&be, q + 16));
	be.ops->free(&be, p);
	be.ops->free(&be, q);
	EXPECT_PANIC(KMB_PANIC_DOUBLE_FREE, be.ops->free(&be, q));
	ASSERT_NOT_NULL(p = be.ops->alloc(&be, 1000, M_NOWAIT, &(size_t){0})); /* still works */
	be.ops->free(&be, p);
	be.ops->drain(&be);
	rmbackend();
}

/* ---- concurrency ---------------------------------------------------------------------------- */

MALLOC_DEFINE(M_VMEMTEST, "vmemtest", "test_vmem stress blocks")

#define STRESS_ITERS 20000

/* Sizes: mostly quantum-cache sizes, some arena sizes, a few page blocks and large. */
static size_t stress_size(uint32_t *rng)
{
	uint32_t k = kmb_stress_rand(rng) % 16;

	if (k < 9)
		return 1 + kmb_stress_rand(rng) % 256;
	if (k < 14)
		return 257 + kmb_stress_rand(rng) % 3900;
	if (k < 15)
		return PAGE << (kmb_stress_rand(rng) % 3);
	return 1 + kmb_stress_rand(rng) % 40000;
}

/* A thread that is not attached (the shared, locked paths only) reads statistics. */
static void *observer(void *arg)
{
	struct kmb_stat st[128];
	struct kmb_memstat ms;

	for (int i = 0; i < 200 && !__atomic_load_n((int *)arg, __ATOMIC_ACQUIRE); i++) {
		kmb_memstat(&ms);
		kmb_backend_stats(st, 128);
	}
	return NULL;
}

/*
 * Four threads attached to CPUs 0..3 of 2 nodes, each also freeing blocks the others
 * allocated, CPU 3 draining, an observer reading statistics: every page must be back.
 */
static void stress_booted(const char *spec, int invariants)
{
	static struct kmb_stress st = {.type = M_VMEMTEST,
	                               .iters = STRESS_ITERS,
	                               .size = stress_size,
	                               .hook = kmb_stress_drain};
	pthread_t obs;
	struct kmb_memstat ms;
	int done = 0;

	kmb_stress_boot(spec, invariants);
	ASSERT_EQ_I(pthread_create(&obs, NULL, observer, &done), 0);
	kmb_stress_start(&st, 4);
	kmb_stress_join(&st);
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	pthread_join(obs, NULL);
	kmb__sys.be.ops->drain(&kmb__sys.be);
	if (kmb__sys.be.pages->drain)
		kmb__sys.be.pages->drain(kmb__sys.be.pages);
	kmb_memstat(&ms);
	ASSERT_EQ_U(ms.held_pages, 0);
	ASSERT_CMP_U(ms.meta_pages, <=, 4); /* the vmem page source's tags still in use */
	ASSERT_EQ_U(ms.free_pages + ms.meta_pages, ms.mem_pages);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

static void *drainer(void *arg)
{
	(void)arg;
	kmb__sys.be.ops->drain(&kmb__sys.be);
	return NULL;
}

/*
 * An attached thread's magazines are its own (vmem_qcache.c 5.): 20 frees leave 5 rounds
 * in its loaded magazine and 15 in the previous one.  A drain by another thread does not
 * touch them, nor do the next 5 allocations (the fast path); the 6th finds the loaded
 * magazine empty, and its slow path sees the drain's generation and destroys both
 * magazines (their 15 rounds back to the slab layer) before it takes an object from the
 * slab layer.  Detaching destroys the magazine its last frees filled.
 */
KMB_TEST(quantum_cache_cpu_magazines_flush_at_their_owners_slow_path)
{
	struct kmb_config cfg = {.backend = "vmem", .mem_bytes = 32 * MIB, .ncpus = 2};
	static void *p[20];
	struct kmb_vmem_kstat ks0, ks;
	struct kmb_memstat ms;
	kmb_vmem_t *arena;
	pthread_t t;

	ASSERT_EQ_I(kmb_boot(&cfg), 0);
	arena = kmb_vmem_kmem_arena(&kmb__sys.be);
	ASSERT_EQ_I(kmb_thread_attach("owner", 1), 0);
	for (int i = 0; i < 20; i++)
		ASSERT_NOT_NULL(p[i] = kmalloc(40, M_VMEMTEST, M_NOWAIT));
	for (int i = 0; i < 20; i++)
		kfree(p[i], M_VMEMTEST);
	ks0 = kstat(arena);
	ASSERT_EQ_U(ks0.qc_mag_created - ks0.qc_mag_destroyed, 2);
	ASSERT_EQ_I(pthread_create(&t, NULL, drainer, NULL), 0);
	pthread_join(t, NULL);
	ks = kstat(arena);
	ASSERT_EQ_U(ks.qc_mag_destroyed, ks0.qc_mag_destroyed);
	ASSERT_CMP_U(ks.qc_slabs, >=, 1); /* the rounds hold their slab */
	for (int i = 0; i < 5; i++)
		ASSERT_NOT_NULL(p[i] = kmalloc(40, M_VMEMTEST, M_NOWAIT));
	ks = kstat(arena);
	ASSERT_EQ_U(ks.qc_alloc_mag, ks0.qc_alloc_mag + 5);
	ASSERT_EQ_U(ks.qc_mag_destroyed, ks0.qc_mag_destroyed);
	ASSERT_NOT_NULL(p[5] = kmalloc(40, M_VMEMTEST, M_NOWAIT));
	ks = kstat(arena);
	ASSERT_EQ_U(ks.qc_mag_destroyed, ks0.qc_mag_destroyed + 2);
	ASSERT_EQ_U(ks.qc_cpu_flush, ks0.qc_cpu_flush + 1);
	ASSERT_EQ_U(ks.qc_free, ks0.qc_free + 15);
	ASSERT_EQ_U(ks.qc_alloc_mag, ks0.qc_alloc_mag + 5);
	for (int i = 0; i < 6; i++)
		kfree(p[i], M_VMEMTEST);
	kmb_thread_detach();
	ks = kstat(arena);
	ASSERT_EQ_U(ks.qc_cpu_flush, ks0.qc_cpu_flush + 2);
	kmb__sys.be.ops->drain(&kmb__sys.be);
	ks = kstat(arena);
	ASSERT_EQ_U(ks.qc_mag_created, ks.qc_mag_destroyed);
	ASSERT_EQ_U(ks.qc_mag_pages, 0);
	ASSERT_EQ_U(ks.qc_slabs, 0);
	kmb_memstat(&ms);
	ASSERT_EQ_U(ms.held_pages, 0);
	ASSERT_EQ_I(kmb_shutdown(), 0);
}

KMB_TEST(stress_booted_four_cpus)
{
	stress_booted("vmem", KMB_INVARIANTS_OFF);
}

KMB_TEST(stress_booted_invariants)
{
	stress_booted("vmem", KMB_INVARIANTS_ON);
}

KMB_TEST(stress_booted_on_vmem_pages)
{
	stress_booted("vmem@vmem", KMB_INVARIANTS_OFF);
}

KMB_TEST(stress_booted_on_vmem_pages_invariants)
{
	stress_booted("vmem@vmem", KMB_INVARIANTS_ON);
}

KMB_TEST_MAIN()

static kmb__vmem_seg_t *seg_at(kmb_vmem_t *vmp, uintptr_t start)
{
	for (kmb__vmem_seg_t *vsp = vmp->vm_seg0.vs_anext; vsp != &vmp->vm_seg0;
	     vsp = vsp->vs_anext)
		if (vsp->vs_start == start && vsp->vs_type != KMB_VMEM_SPAN)
			return vsp;
	kmb_test_fail(__FILE__, __LINE__, "no segment at %#lx", (unsigned long)start);
}

/* Coalescing joins arena-list neighbours: a free neighbour that does not abut panics. */
KMB_TEST(coalescing_checks_adjacency)
{
	kmb_vmem_t *vmp;
	uintptr_t a, b;

	setup(4 * MIB, false);
	vmp = mkarena(0x10000, 0x10000, 16);
	a = (uintptr_t)kmb_vmem_alloc(vmp, 0x100, KMB_VM_INSTANTFIT);
	b = (uintptr_t)kmb_vmem_alloc(vmp, 0x100, KMB_VM_INSTANTFIT);
	ASSERT_EQ_U(b, a + 0x100);
	kmb_vmem_free(vmp, (void *)a, 0x100);
	seg_at(vmp, a)->vs_end = a + 0x80; /* the free segment before b no longer reaches it */
	EXPECT_PANIC(KMB_PANIC_CORRUPT, kmb_vmem_free(vmp, (void *)b, 0x100));
	/* b has merged with the free tail first */
	ASSERT_CONTAINS(kmb_test_panic_msg, "vmem_free(test): segments [0x10000, 0x10080) and "
	                                    "[0x10100, 0x20000) are neighbours but do not abut");
}

/* With INVARIANTS, a span coming or going walks the arena: segments must tile each span. */
KMB_TEST(arena_walk_with_invariants)
{
	kmb_vmem_t *vmp;
	uintptr_t a;

	setup(4 * MIB, false);
	kmb_invariants_on = true;
	vmp = mkarena(0x10000, 0x10000, 16);
	a = (uintptr_t)kmb_vmem_alloc(vmp, 0x100, KMB_VM_INSTANTFIT);
	ASSERT_EQ_I(kmb_vmem_add(vmp, 0x40000, 0x1000, M_NOWAIT), 0); /* the walk passes */
	seg_at(vmp, a)->vs_end = a + 0x80;
	EXPECT_PANIC(KMB_PANIC_CORRUPT, kmb_vmem_add(vmp, 0x50000, 0x1000, M_NOWAIT));
	ASSERT_CONTAINS(kmb_test_panic_msg, "vmem_add(test): segment [0x10100, 0x20000) does not "
	                                    "continue its span at 0x10080");
}
