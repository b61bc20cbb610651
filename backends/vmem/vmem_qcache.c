/*
 * backends/vmem/vmem_qcache.c - quantum caches: object caches for 1..16 multiples of the
 * quantum in front of an arena (Bonwick & Adams 2001, 4.4; illumos vmem_create's
 * vm_qcache[], kmem caches created with KMC_QCACHE | KMC_NOTOUCH).
 *
 * 1. Why.  Small allocations are the most frequent.  Served by the arena each would take
 *    its lock, a boundary tag and a hash entry, and mixed sizes would cut the arena into
 *    slivers; a cache per size serves them from slabs taken whole from the arena, so the
 *    arena sees only slab-sized, slab-aligned segments.
 *
 * 2. Design.  Cache i serves objects of (i + 1) * quantum bytes from slabs of one page,
 *    taken from the arena with kmb_vmem_xalloc(PAGE, align PAGE).  illumos sizes qcache
 *    slabs VMEM_QCACHE_SLABSIZE(qcache_max) = max(2^highbit(3 * qcache_max), 64): at least
 *    three of the largest object.  One page satisfies that up to qcache_max = 1365 bytes
 *    (16 quanta of 16 bytes = 256 here), and gives each slab a struct kmb_page for its
 *    record, so that an object's size is found from its address without any lock - kfree
 *    passes no size, and usable_size is asked on every allocation and free.  The record:
 *        flags     KMB__PG_VMEM_QC          (relaxed atomic: read without the lock)
 *        priv[0]   the object size           (relaxed atomic)
 *        priv[1..4] bitmap of free objects   (256 bits: PAGE / 16-byte objects at most)
 *        next/prev the cache's list of slabs with a free object
 *    Like KMC_NOTOUCH, the cache never writes into objects, free or not: the backend's
 *    freelist_bytes is 0 and free objects keep the core's poison.
 *
 *    alloc: the first slab on the list (slabs becoming wholly free go to its tail, so
 *    partly used slabs are filled first), its first free object (find-first-set over four
 *    words); a full slab leaves the list.  No slab: a miss, a new slab from the arena.
 *    free:  set the object's bit; a full slab comes back on the list.  Freeing an object
 *    whose bit is set panics (double free), as does a misaligned or foreign address.
 *    reap:  (kmb_vmem_reap, the backend's drain) wholly free slabs go back to the arena.
 *
 * 3. Departure: no magazine layer.  illumos's quantum caches are kmem caches with per-CPU
 *    magazines and a depot, so the hot path takes no shared lock; the slab backend is
 *    written separately and not available here, so each cache is a slab layer with one
 *    mutex, and wholly free slabs stay cached until a reap (kmem destroys them at once and
 *    lets the magazines absorb the churn; without magazines that would thrash).
 *
 * 4. Locking: one mutex per cache, taken before the arena's (a new slab, a reap).
 */
#include "vmem_impl.h"

#include "core/internal.h"

#include <errno.h>
#include <string.h>

#define QC_WORDS 4 /* priv[1..4]: 256 bits */

/* ---- slab lists (struct kmb_page next/prev, with a sentinel) ---------------------------- */

static void slab_list_init(struct kmb_page *head)
{
	head->next = head->prev = head;
}

static void slab_list_insert(struct kmb_page *pg, struct kmb_page *prev, struct kmb_page *next)
{
	pg->prev = prev;
	pg->next = next;
	prev->next = pg;
	next->prev = pg;
}

static void slab_list_del(struct kmb_page *pg)
{
	pg->prev->next = pg->next;
	pg->next->prev = pg->prev;
	pg->next = pg->prev = NULL;
}

/* ---- a slab's bitmap (cache lock held) --------------------------------------------------- */

static uint64_t *slab_bits(struct kmb_page *pg)
{
	return (uint64_t *)&pg->priv[1];
}

static unsigned slab_nfree(struct kmb_page *pg)
{
	const uint64_t *w = slab_bits(pg);
	unsigned n = 0;

	for (int i = 0; i < QC_WORDS; i++)
		n += (unsigned)__builtin_popcountll(w[i]);
	return n;
}

static void slab_fill(struct kmb_page *pg, unsigned nobj)
{
	uint64_t *w = slab_bits(pg);

	for (unsigned i = 0; i < QC_WORDS; i++) {
		unsigned lo = i * 64, n = nobj > lo ? nobj - lo : 0;

		w[i] = n >= 64 ? UINT64_MAX : ((uint64_t)1 << n) - 1;
	}
}

/* The picture of memory (kmb_frame_map): a quantum cache slab, full, partial or empty
 * (read without the lock: called while nothing allocates). */
int kmb__vmem_qcache_frame_kind(const struct kmb_page *pg)
{
	size_t size;
	unsigned nfree = 0;

	if (!(__atomic_load_n(&pg->flags, __ATOMIC_RELAXED) & KMB__PG_VMEM_QC))
		return KMB_FRAME_UNKNOWN;
	size = (size_t)__atomic_load_n(&pg->priv[0], __ATOMIC_RELAXED);
	if (size == 0)
		return KMB_FRAME_UNKNOWN;
	for (int i = 0; i < QC_WORDS; i++)
		nfree += (unsigned)__builtin_popcountll(
		        (uint64_t)__atomic_load_n(&pg->priv[1 + i], __ATOMIC_RELAXED));
	if (nfree == 0)
		return KMB_FRAME_SLAB_FULL;
	return nfree >= KMB_PAGE_SIZE / size ? KMB_FRAME_SLAB_EMPTY : KMB_FRAME_SLAB_PARTIAL;
}

/* Take the first free object: its index. */
static unsigned slab_take(struct kmb_page *pg)
{
	uint64_t *w = slab_bits(pg);

	for (unsigned i = 0;; i++) {
		if (w[i] != 0) {
			unsigned b = (unsigned)__builtin_ctzll(w[i]);

			w[i] &= w[i] - 1;
			return i * 64 + b;
		}
	}
}

static bool slab_test(struct kmb_page *pg, unsigned i)
{
	return (slab_bits(pg)[i / 64] >> (i % 64)) & 1;
}

static void slab_set(struct kmb_page *pg, unsigned i)
{
	slab_bits(pg)[i / 64] |= (uint64_t)1 << (i % 64);
}

/* ---- slabs ----------------------------------------------------------------------------------- */

static struct kmb__vmem_qcache *qcache_of(kmb_vmem_t *vmp, size_t size)
{
	return &vmp->vm_qcache[(size - 1) >> vmp->vm_qshift];
}

static struct kmb_page *slab_create(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc, int flags)
{
	void *p = kmb_vmem_xalloc(vmp, KMB_PAGE_SIZE, KMB_PAGE_SIZE, 0, 0, 0, 0,
	                          flags & M_USE_RESERVE);
	struct kmb_page *pg;

	if (p == NULL)
		return NULL;
	pg = kmb_page_of(vmp->vm_meta.pm, p);
	slab_fill(pg, qc->qc_nobj);
	__atomic_store_n(&pg->priv[0], (uintptr_t)qc->qc_size, __ATOMIC_RELAXED);
	__atomic_store_n(&pg->flags, pg->flags | KMB__PG_VMEM_QC, __ATOMIC_RELAXED);
	slab_list_insert(pg, &qc->qc_partial, qc->qc_partial.next);
	qc->qc_slabs++;
	qc->qc_miss++;
	return pg;
}

static void slab_destroy(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc, struct kmb_page *pg)
{
	slab_list_del(pg);
	memset(slab_bits(pg), 0, QC_WORDS * sizeof(uint64_t));
	__atomic_store_n(&pg->flags, pg->flags & ~KMB__PG_VMEM_QC, __ATOMIC_RELAXED);
	__atomic_store_n(&pg->priv[0], (uintptr_t)0, __ATOMIC_RELAXED);
	qc->qc_slabs--;
	qc->qc_reaped++;
	kmb_vmem_xfree(vmp, kmb_page_addr(vmp->vm_meta.pm, pg), KMB_PAGE_SIZE);
}

/* ---- the cache ------------------------------------------------------------------------------- */

void *kmb__vmem_qcache_alloc(kmb_vmem_t *vmp, size_t size, int flags)
{
	struct kmb__vmem_qcache *qc = qcache_of(vmp, size);
	struct kmb_page *pg;
	unsigned i;

	pthread_mutex_lock(&qc->qc_lock);
	pg = qc->qc_partial.next;
	if (pg != &qc->qc_partial)
		qc->qc_hit++;
	else if ((pg = slab_create(vmp, qc, flags)) == NULL) {
		pthread_mutex_unlock(&qc->qc_lock);
		return NULL;
	}
	i = slab_take(pg);
	if (slab_nfree(pg) == 0)
		slab_list_del(pg); /* full */
	pthread_mutex_unlock(&qc->qc_lock);
	return (char *)kmb_page_addr(vmp->vm_meta.pm, pg) + (size_t)i * qc->qc_size;
}

__attribute__((noreturn)) static void qcache_bad_free(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc,
                                                      void *addr, bool dbl)
{
	pthread_mutex_unlock(&qc->qc_lock);
	kmb_panic(dbl ? KMB_PANIC_DOUBLE_FREE : KMB_PANIC_BAD_FREE, addr,
	          "vmem_free(%s, %p, %zu): %s", vmp->vm_name, addr, qc->qc_size,
	          dbl ? "double free (the object is free in its quantum cache)"
	              : "not an object of this quantum cache");
}

void kmb__vmem_qcache_free(kmb_vmem_t *vmp, void *addr, size_t size)
{
	struct kmb__vmem_qcache *qc = qcache_of(vmp, size);
	struct kmb_physmem *pm = vmp->vm_meta.pm;
	struct kmb_page *pg;
	size_t off;
	unsigned i, nfree;

	if (!kmb_physmem_contains(pm, addr))
		kmb_panic(KMB_PANIC_BAD_FREE, addr,
		          "vmem_free(%s, %p, %zu): not in physical memory", vmp->vm_name, addr,
		          size);
	pg = kmb_page_of(pm, addr);
	off = (size_t)((char *)addr - (char *)kmb_page_addr(pm, pg));
	pthread_mutex_lock(&qc->qc_lock);
	if (!(__atomic_load_n(&pg->flags, __ATOMIC_RELAXED) & KMB__PG_VMEM_QC) ||
	    __atomic_load_n(&pg->priv[0], __ATOMIC_RELAXED) != qc->qc_size || off % qc->qc_size)
		qcache_bad_free(vmp, qc, addr, false);
	i = (unsigned)(off / qc->qc_size);
	if (i >= qc->qc_nobj || slab_test(pg, i))
		qcache_bad_free(vmp, qc, addr, i < qc->qc_nobj);
	nfree = slab_nfree(pg);
	slab_set(pg, i);
	if (nfree + 1 == qc->qc_nobj) { /* wholly free: to the tail */
		if (nfree != 0)
			slab_list_del(pg);
		slab_list_insert(pg, qc->qc_partial.prev, &qc->qc_partial);
	} else if (nfree == 0) { /* was full */
		slab_list_insert(pg, &qc->qc_partial, qc->qc_partial.next);
	}
	qc->qc_free++;
	pthread_mutex_unlock(&qc->qc_lock);
}

size_t kmb_vmem_qcache_objsize(const struct kmb_physmem *pm, const void *addr)
{
	struct kmb_page *pg;

	if (!kmb_physmem_contains(pm, addr))
		return 0;
	pg = kmb_page_of(pm, addr);
	if (!(__atomic_load_n(&pg->flags, __ATOMIC_RELAXED) & KMB__PG_VMEM_QC))
		return 0;
	return (size_t)__atomic_load_n(&pg->priv[0], __ATOMIC_RELAXED);
}

static void qcache_reap_one(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc)
{
	struct kmb_page *pg, *prev;

	pthread_mutex_lock(&qc->qc_lock);
	/* wholly free slabs are at the tail */
	for (pg = qc->qc_partial.prev; pg != &qc->qc_partial; pg = prev) {
		prev = pg->prev;
		if (slab_nfree(pg) != qc->qc_nobj)
			break;
		slab_destroy(vmp, qc, pg);
	}
	pthread_mutex_unlock(&qc->qc_lock);
}

void kmb__vmem_qcache_reap(kmb_vmem_t *vmp)
{
	for (unsigned i = 0; i < vmp->vm_nqcache; i++)
		qcache_reap_one(vmp, &vmp->vm_qcache[i]);
}

int kmb__vmem_qcache_init(kmb_vmem_t *vmp, unsigned nqcache)
{
	for (unsigned i = 0; i < nqcache; i++) {
		struct kmb__vmem_qcache *qc = &vmp->vm_qcache[i];
		int rc = pthread_mutex_init(&qc->qc_lock, NULL);

		if (rc != 0)
			return -rc;
		qc->qc_size = (i + 1) * vmp->vm_quantum;
		qc->qc_nobj = (unsigned)(KMB_PAGE_SIZE / qc->qc_size);
		slab_list_init(&qc->qc_partial);
		vmp->vm_nqcache = i + 1;
	}
	vmp->vm_qcache_max = vmp->vm_nqcache * vmp->vm_quantum;
	return 0;
}

/* Empty slabs go back; slabs with live objects are forgotten (the arena's spans go back
 * whole when it is destroyed), but lose their mark. */
void kmb__vmem_qcache_fini(kmb_vmem_t *vmp)
{
	kmb__vmem_qcache_reap(vmp);
	for (unsigned i = 0; i < vmp->vm_nqcache; i++) {
		struct kmb__vmem_qcache *qc = &vmp->vm_qcache[i];
		struct kmb_page *pg;

		while ((pg = qc->qc_partial.next) != &qc->qc_partial) {
			slab_list_del(pg);
			__atomic_store_n(&pg->flags, pg->flags & ~KMB__PG_VMEM_QC,
			                 __ATOMIC_RELAXED);
		}
		pthread_mutex_destroy(&qc->qc_lock);
	}
	vmp->vm_nqcache = 0;
	vmp->vm_qcache_max = 0;
}

void kmb__vmem_qcache_kstat(kmb_vmem_t *vmp, struct kmb_vmem_kstat *ks)
{
	ks->qc_hit = ks->qc_miss = ks->qc_free = ks->qc_slabs = ks->qc_reaped = 0;
	for (unsigned i = 0; i < vmp->vm_nqcache; i++) {
		struct kmb__vmem_qcache *qc = &vmp->vm_qcache[i];

		pthread_mutex_lock(&qc->qc_lock);
		ks->qc_hit += qc->qc_hit;
		ks->qc_miss += qc->qc_miss;
		ks->qc_free += qc->qc_free;
		ks->qc_slabs += qc->qc_slabs;
		ks->qc_reaped += qc->qc_reaped;
		pthread_mutex_unlock(&qc->qc_lock);
	}
}
