/*
 * backends/bucket/bucket_diag.c - the bucket allocator's checks: 4.4BSD's KMEMSTATS
 * consistency checks (always on), the free-address checks (always on: departure 5.d of
 * bucket.c), and its DIAGNOSTIC checks (on with INVARIANTS).
 *
 * 1. Always, as 4.4BSD's KMEMSTATS code:
 *      malloc  the block's page was carved for this bucket ("malloc: wrong bucket") and
 *              has a free block to give ("malloc: lost data")           KMB_PANIC_CORRUPT
 *      free    one more free block than the page holds ("free: multiple frees")
 *                                                                       KMB_PANIC_DOUBLE_FREE
 * 2. Always, cheap (a flag and a mask): free(addr) of an address outside physical memory,
 *    in a page that heads no block of ours (a tail page of one included), or not at the
 *    start of a block ("free: unaligned addr"; mask = size - 1, or page - 1 above a page,
 *    as 4.4BSD's addrmask[]) is KMB_PANIC_BAD_FREE; an address in a page the page source
 *    holds free is a duplicated free (KMB_PANIC_DOUBLE_FREE).
 * 3. DIAGNOSTIC (INVARIANTS on at boot), 4.4BSD's checks on the free list:
 *      malloc  the block leaving the list still has its free marker (word 0), its link
 *              (word 1) is NULL or a block of the same bucket ("word 2.5" in 4.4BSD, whose
 *              link was the fourth field), and its bytes up to MAX_COPY hold the known
 *              text: "Data modified on freelist: word N of object A size S (X != Y)"
 *                                                                       KMB_PANIC_MODIFIED
 *      free    a block whose word 0 is the free marker looks free: the bucket's list is
 *              searched for it ("free: duplicated free")             KMB_PANIC_DOUBLE_FREE
 *    The known text is the core's poison (KMB_POISON_BYTE), which the core's INVARIANTS
 *    write over every freed block; the core checks the rest of the block after this.
 *
 * Checks run under the allocator's lock and return an error with the fault filled in;
 * the caller drops the lock before panicking (a caught panic leaves the allocator usable,
 * and its state unchanged).
 */
#include "bucket.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 4, 5))) static int
fault(struct kmb__bucket_fault *f, enum kmb_panic_kind kind, const void *addr, const char *fmt, ...)
{
	va_list ap;

	f->kind = kind;
	f->addr = addr;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void kmb__bucket_fault_panic(struct kmb__bucket *b, const struct kmb__bucket_fault *f)
{
	kmb_mutex_exit(&b->lock);
	kmb_panic(f->kind, f->addr, "%s", f->msg);
}

static size_t offset_of(const struct kmb__bucket *b, const void *addr)
{
	return (size_t)((const char *)addr - b->pm->base);
}

/* A block of bucket indx could start at p: 4.4BSD's kernacc(), made exact. */
static bool is_block(const struct kmb__bucket *b, unsigned indx, const void *p)
{
	const struct kmb_page *pg;

	if (!kmb_physmem_contains(b->pm, p) || (offset_of(b, p) & (((size_t)1 << indx) - 1)) != 0)
		return false;
	pg = kmb_page_of(b->pm, p);
	return (pg->flags & KMB__PG_BUCKET_SMALL) && pg->priv[KMB__KU_INDX] == indx;
}

/* ---- free -------------------------------------------------------------------------------- */

static int check_owner(const struct kmb__bucket *b, const void *addr, struct kmb__bucket_fault *f)
{
	const struct kmb_page *pg;

	if (!kmb_physmem_contains(b->pm, addr))
		return fault(f, KMB_PANIC_BAD_FREE, addr,
		             "kmb_bucket_free(%p): not in physical memory", addr);
	pg = kmb_page_of(b->pm, addr);
	if (pg->flags & (KMB__PG_BUCKET_SMALL | KMB__PG_BUCKET_LARGE))
		return 0;
	if (pg->flags & KMB__PG_BUCKET_TAIL)
		return fault(f, KMB_PANIC_BAD_FREE, addr,
		             "kmb_bucket_free(%p): free: not the first page of its block", addr);
	if (pg->usage == KMB_USE_FREE)
		return fault(f, KMB_PANIC_DOUBLE_FREE, addr,
		             "kmb_bucket_free(%p): free: the page is free (duplicated free)", addr);
	return fault(f, KMB_PANIC_BAD_FREE, addr,
	             "kmb_bucket_free(%p): free: not a block of the bucket allocator", addr);
}

static int check_aligned(const struct kmb__bucket *b, const void *addr, struct kmb__bucket_fault *f)
{
	const struct kmb_page *pg = kmb_page_of(b->pm, addr);
	size_t size = (size_t)1 << pg->priv[KMB__KU_INDX];
	size_t mask = (size > KMB_PAGE_SIZE ? KMB_PAGE_SIZE : size) - 1;

	if ((offset_of(b, addr) & mask) == 0)
		return 0;
	return fault(f, KMB_PANIC_BAD_FREE, addr,
	             "kmb_bucket_free(%p): free: unaligned addr %p, size %zu, mask %#zx", addr,
	             addr, size, mask);
}

/* DIAGNOSTIC: a block that looks free is searched for on its bucket's list. */
static int diag_free(const struct kmb__bucket *b, unsigned indx, const void *addr,
                     struct kmb__bucket_fault *f)
{
	const struct kmb__bucket_free *freep = addr;

	if (freep->spare0 != KMB__BUCKET_WEIRD_ADDR)
		return 0;
	for (const struct kmb__bucket_free *cp = b->kb[indx].kb_next; cp != NULL; cp = cp->next)
		if (cp == freep)
			return fault(
			        f, KMB_PANIC_DOUBLE_FREE, addr,
			        "kmb_bucket_free(%p): free: duplicated free (multiply freed item "
			        "%p, size %zu)",
			        addr, addr, (size_t)1 << indx);
	return 0;
}

int kmb__bucket_check_free(struct kmb__bucket *b, const void *addr, struct kmb__bucket_fault *f)
{
	const struct kmb_page *pg;
	unsigned indx;

	if (check_owner(b, addr, f) != 0 || check_aligned(b, addr, f) != 0)
		return -EINVAL;
	pg = kmb_page_of(b->pm, addr);
	if (pg->flags & KMB__PG_BUCKET_LARGE)
		return 0;
	indx = (unsigned)pg->priv[KMB__KU_INDX];
	if (b->diag && diag_free(b, indx, addr, f) != 0)
		return -EINVAL;
	if (pg->priv[KMB__KU_COUNT] >= b->kb[indx].kb_elmpercl)
		return fault(f, KMB_PANIC_DOUBLE_FREE, addr,
		             "kmb_bucket_free(%p): free: multiple frees (ku_freecnt %lu of %lu)",
		             addr, (unsigned long)pg->priv[KMB__KU_COUNT],
		             (unsigned long)b->kb[indx].kb_elmpercl);
	return 0;
}

/* ---- malloc ------------------------------------------------------------------------------ */

int kmb__bucket_check_alloc(struct kmb__bucket *b, unsigned indx,
                            const struct kmb__bucket_free *blk, struct kmb__bucket_fault *f)
{
	size_t size = (size_t)1 << indx;
	const struct kmb_page *pg;

	if (!kmb_physmem_contains(b->pm, blk))
		return fault(f, KMB_PANIC_CORRUPT, blk,
		             "kmb_bucket_alloc(%zu): free list corrupted: %p is not memory", size,
		             (const void *)blk);
	pg = kmb_page_of(b->pm, blk);
	if (!(pg->flags & KMB__PG_BUCKET_SMALL) || pg->priv[KMB__KU_INDX] != indx)
		return fault(f, KMB_PANIC_CORRUPT, blk,
		             "kmb_bucket_alloc(%zu): malloc: wrong bucket", size);
	if (pg->priv[KMB__KU_COUNT] == 0)
		return fault(f, KMB_PANIC_CORRUPT, blk, "kmb_bucket_alloc(%zu): malloc: lost data",
		             size);
	return 0;
}

static uint64_t word_at(const struct kmb__bucket_free *blk, size_t w)
{
	uint64_t v;

	memcpy(&v, (const char *)blk + w * sizeof(v), sizeof(v));
	return v;
}

static int modified(const struct kmb__bucket_free *blk, size_t size, size_t w, uint64_t want,
                    struct kmb__bucket_fault *f)
{
	return fault(f, KMB_PANIC_MODIFIED, blk,
	             "kmb_bucket_alloc(%zu): Data modified on freelist: word %zu of object %p size "
	             "%zu (0x%016llx != 0x%016llx)",
	             size, w, (const void *)blk, size, (unsigned long long)word_at(blk, w),
	             (unsigned long long)want);
}

int kmb__bucket_diag_alloc(struct kmb__bucket *b, unsigned indx, const struct kmb__bucket_free *blk,
                           struct kmb__bucket_fault *f)
{
	const uint64_t text = 0x0101010101010101ull * KMB_POISON_BYTE;
	size_t size = (size_t)1 << indx;
	size_t copysize = size < KMB__BUCKET_MAX_COPY ? size : KMB__BUCKET_MAX_COPY;
	const unsigned char *bad;

	if (!kmb_physmem_contains(b->pm, blk))
		return 0; /* kmb__bucket_check_alloc reports it */
	if (blk->spare0 != KMB__BUCKET_WEIRD_ADDR)
		return modified(blk, size, 0, KMB__BUCKET_WEIRD_ADDR, f);
	if (blk->next != NULL && !is_block(b, indx, blk->next))
		return fault(
		        f, KMB_PANIC_MODIFIED, blk,
		        "kmb_bucket_alloc(%zu): Data modified on freelist: word 1 of object %p "
		        "size %zu (invalid addr %p)",
		        size, (const void *)blk, size, (const void *)blk->next);
	if (!b->pm->poison || copysize <= sizeof(*blk))
		return 0;
	bad = kmb_poison_check(blk + 1, copysize - sizeof(*blk));
	if (bad == NULL)
		return 0;
	return modified(blk, size, (size_t)(bad - (const unsigned char *)blk) / sizeof(uint64_t),
	                text, f);
}
