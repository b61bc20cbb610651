/*
 * backends/vmem/vmem_qcache.c - quantum caches: object caches for 1..16 multiples of the
 * quantum in front of an arena (Bonwick & Adams 2001, 4.4; illumos vmem_create's
 * vm_qcache[], kmem caches created with KMC_QCACHE | KMC_NOTOUCH), each a CPU layer of
 * magazines and a depot (Bonwick & Adams 2001, 3; illumos kmem.c) over a slab layer.
 *
 * 1. Why.  Small allocations are the most frequent.  Served by the arena each would take
 *    its lock, a boundary tag and a hash entry, and mixed sizes would cut the arena into
 *    slivers; a cache per size serves them from slabs taken whole from the arena, so the
 *    arena sees only slab-sized, slab-aligned segments.  The magazines in front keep the
 *    common case off any shared lock: an attached thread allocates and frees in its own
 *    CPU's magazines with plain loads and stores.
 *
 * 2. The slab layer.  Cache i serves objects of (i + 1) * quantum bytes from slabs of one
 *    page, taken from the arena with kmb_vmem_xalloc(PAGE, align PAGE).  illumos sizes qcache
 *    slabs VMEM_QCACHE_SLABSIZE(qcache_max) = max(2^highbit(3 * qcache_max), 64): at least
 *    three of the largest object.  One page satisfies that up to qcache_max = 1365 bytes
 *    (16 quanta of 16 bytes = 256 here), and gives each slab a struct kmb_page for its
 *    record, so that an object's size is found from its address without any lock - kfree
 *    passes no size, and usable_size is asked on every allocation and free.  The record:
 *        flags     KMB__PG_VMEM_QC          (relaxed atomic: read without the lock)
 *        priv[0]   the object size           (relaxed atomic)
 *        priv[1..4] bitmap of free objects   (256 bits: PAGE / 16-byte objects at most;
 *                                              written under the lock with relaxed atomic
 *                                              stores, read without it by free's checks)
 *        next/prev the cache's list of slabs with a free object
 *    Like KMC_NOTOUCH, the cache never writes into objects, free or not: magazines hold
 *    object pointers, the slab layer a bitmap, so the backend's freelist_bytes is 0 and
 *    free objects keep the core's poison.
 *
 *    slab alloc: the first slab on the list (slabs becoming wholly free go to its tail, so
 *    partly used slabs are filled first), its first free object (find-first-set over four
 *    words); a full slab leaves the list.  No slab: a miss, a new slab from the arena.
 *    slab free: set the object's bit; a full slab comes back on the list.
 *    Wholly free slabs stay until a reap gives them back to the arena (kmem destroys them
 *    at once; see 8.).
 *
 * 3. Magazines.  A magazine is VMEM_MAGSIZE = 15 object pointers and a link: 128 bytes,
 *    two cache lines, 31 to a metadata page after a header slot (as the arena's tag
 *    pages).  15 is kmem's first magazine type for chunks up to 64 bytes (kmem_magtype[]:
 *    15 rounds below 64 bytes, 7 for 65..256): a CPU goes to the depot at most once per
 *    15 operations of one kind, the depot lock is amortised over 15 objects, and a CPU
 *    caches at most 2 * 15 objects per cache - 7.5 KiB of 256-byte objects, about two
 *    slabs; 16 caches and 2 magazines a CPU are 32 magazines, about one page a CPU when
 *    every cache is in use.  One size for all caches keeps one pool of magazines per
 *    arena.  Magazines come from the arena's metadata (kmb__vmem_meta_page_alloc: a
 *    KMB_GFP_META page of the metadata page source, or carved from the arena like its tag
 *    pages), under the arena lock; they are counted in meta_pages and qc_mag_pages, and
 *    pages whose magazines are all spare go back on a reap.
 *
 * 4. The CPU layer and the depot (Bonwick & Adams 2001, 3.2-3.3; kmem_cache_alloc/free).
 *    Each cache has per CPU a loaded and a previously loaded magazine (qc_cpu[c], with
 *    their round counts, -1 for none); ploaded is always full, empty or none.
 *        alloc: loaded has a round      take it (the fast path)
 *               ploaded is full         swap loaded and ploaded, retry
 *               the depot has a full    ploaded (empty) to the depot, load the full one
 *               otherwise               one object from the slab layer, in the same
 *                                       hold of the cache lock
 *        free:  loaded has room         put it there (the fast path)
 *               ploaded is empty        swap, retry
 *               the depot has an empty  ploaded (full) to the depot, load the empty one
 *               otherwise               a new empty magazine from the arena's pool, the
 *                                       same exchange; none to be had: to the slab layer
 *    Magazines are filled only by frees: a CPU with nothing cached allocates from the slab
 *    layer.  The depot is two lists (full, empty) under the cache's lock; a CPU's depot
 *    access tries the lock first and counts a failure (qc_depot_contention, as kmem's
 *    kmem_depot_alloc), but nothing resizes magazines (8.).
 *
 *    Entry c < KMB_MAX_CPUS belongs to the thread attached to CPU c (kmb_thread_attached:
 *    the core lets one thread own a CPU index) and is touched by it alone, without a lock
 *    or an atomic read-modify-write: the fast paths are a load, a compare, an indexed load
 *    or store and a relaxed counter update.  Threads that are not attached share entry
 *    VMEM_QCC_SHARED under qc_shared_lock, with the same algorithm.
 *
 * 5. Giving memory back (kmb_vmem_reap: the backend's drain, and the page source's).  A
 *    reap bumps the arena's flush generation, destroys the caller's own CPU's magazines
 *    (if it is attached) and the shared entry's, then every magazine of the depots, then
 *    the wholly free slabs, then the wholly spare magazine pages.  Destroying a magazine
 *    frees its rounds to the slab layer and the magazine to the pool.  Another attached
 *    CPU's magazines are its own: it compares the generation at its next slow path (a
 *    magazine exchange) and destroys its magazines then; its owner also destroys them
 *    before it detaches (kmb_vmem_cpu_flush, the kmalloc backend's thread_detach).  So
 *    after a drain only threads still running hold cached objects, at most 2 * 15 per
 *    cache each, until their next slow path - as the slab backend.  kmb_vmem_destroy runs
 *    with no thread using the arena and flushes every entry.
 *
 * 6. Checks.  free checks, before it takes any lock: the address is in a quantum cache
 *    slab of this size, at an object boundary (the index by a multiply with qc_recip, no
 *    division), and the object's bit is clear (set means it is free in the slab layer:
 *    a double free, panicked at once).  A double free that lands on the object just
 *    freed into the same magazine (the top round) panics at once too; one that goes into
 *    a magazine otherwise is found when the magazine's rounds go back to the slab layer
 *    (flush, reap, destroy: the bit is already set, or the slab is gone) and panics then.
 *    The slab backend checks no magazine round; the core's INVARIANTS catch every double
 *    free when they are on.
 *
 * 7. Locking.  Order: qc_shared_lock (the shared CPU entry), qc_lock (depot and slab
 *    layer), vm_lock (new slabs, reaps of slabs, the magazine pool: the arena's lock),
 *    the page source's.  An attached CPU's fast and slow paths take no lock but qc_lock
 *    for a depot exchange or a slab-layer object, and vm_lock through it or for a
 *    magazine.  Nothing calls back up.  Panics release the locks they were found under.
 *
 * 8. Departures from illumos: magazines are one size and never resized (kmem grows them
 *    under depot contention, kmem_cache_magazine_resize); the depot has no working set:
 *    a reap empties it (kmem_depot_ws_reap keeps the last interval's working set; here
 *    every reap is the drain the core asks for before a sleep); wholly free slabs stay
 *    until a reap; the depot and the slab layer share the cache's lock (kmem has a depot
 *    lock and a slab lock); attached CPUs take no cc_lock (their ownership replaces it)
 *    and flush lazily (5.).
 *
 * 9. Observation (kmb_vmem_kstat, the backend's statistics): magazine hits on each side
 *    (qc_alloc_mag, qc_free_mag), slab-layer traffic (qc_hit and qc_miss: allocations the
 *    magazines could not serve; qc_free_slab: frees no magazine could take; qc_free: every
 *    object back in the slab layer, magazine rounds included), depot gets and puts per
 *    list, contention, magazines created and destroyed, CPU flushes, and gauges of the
 *    depots' magazines, magazine pages and slabs.  Objects cached in magazines are
 *    allocated as far as the slab layer, the arena (mem_inuse) and the picture of memory
 *    (kmb_frame_map) can tell.
 */
#include "vmem_impl.h"

#include <errno.h>
#include <string.h>

#define QC_WORDS 4 /* priv[1..4]: 256 bits */

/* Fields written by one thread (or under a lock) and read by others without it. */
#define QC_LOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define QC_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define QC_INC(p)      QC_STORE((p), QC_LOAD(p) + 1)

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

/* ---- a slab's bitmap (written under the cache lock, relaxed atomics) -------------------- */

static uint64_t *slab_bits(struct kmb_page *pg)
{
	return (uint64_t *)&pg->priv[1];
}

static unsigned slab_nfree(struct kmb_page *pg)
{
	const uint64_t *w = slab_bits(pg);
	unsigned n = 0;

	for (int i = 0; i < QC_WORDS; i++)
		n += (unsigned)__builtin_popcountll(QC_LOAD(&w[i]));
	return n;
}

static void slab_fill(struct kmb_page *pg, unsigned nobj)
{
	uint64_t *w = slab_bits(pg);

	for (unsigned i = 0; i < QC_WORDS; i++) {
		unsigned lo = i * 64, n = nobj > lo ? nobj - lo : 0;

		QC_STORE(&w[i], n >= 64 ? UINT64_MAX : ((uint64_t)1 << n) - 1);
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
		uint64_t x = QC_LOAD(&w[i]);

		if (x != 0) {
			QC_STORE(&w[i], x & (x - 1));
			return i * 64 + (unsigned)__builtin_ctzll(x);
		}
	}
}

static bool slab_test(struct kmb_page *pg, size_t i)
{
	return (QC_LOAD(&slab_bits(pg)[i / 64]) >> (i % 64)) & 1;
}

static void slab_set(struct kmb_page *pg, size_t i)
{
	uint64_t *w = &slab_bits(pg)[i / 64];

	QC_STORE(w, QC_LOAD(w) | (uint64_t)1 << (i % 64));
}

/* ---- objects ------------------------------------------------------------------------------ */

static struct kmb__vmem_qcache *qcache_of(kmb_vmem_t *vmp, size_t size)
{
	return &vmp->vm_qcache[(size - 1) >> vmp->vm_qshift];
}

enum obj_verdict { OBJ_OK, OBJ_BAD, OBJ_FREE };

/*
 * addr's place in pg, a slab of qc (mark and size checked): OBJ_BAD off an object boundary,
 * OBJ_FREE if the slab layer has the object (a double free); its index in *ip.  Lock-free
 * (relaxed reads).  off / size = off * ceil(2^32 / size) >> 32 exactly for off < PAGE and
 * size <= PAGE: the rounding adds less than off / 2^32 < 2^-20 < 1 / size.
 */
static inline __attribute__((always_inline)) enum obj_verdict
obj_check_in(struct kmb__vmem_qcache *qc, struct kmb_page *pg, void *addr, size_t *ip)
{
	size_t off = (uintptr_t)addr & (KMB_PAGE_SIZE - 1); /* slabs are page aligned */
	size_t i = (size_t)(((uint64_t)off * qc->qc_recip) >> 32);

	*ip = i;
	if (kmb_unlikely(i * qc->qc_size != off || i >= qc->qc_nobj))
		return OBJ_BAD;
	return kmb_unlikely(slab_test(pg, i)) ? OBJ_FREE : OBJ_OK;
}

/* The same for any address in physical memory; its page in *pgp. */
static inline __attribute__((always_inline)) enum obj_verdict
obj_check(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc, void *addr, struct kmb_page **pgp,
          size_t *ip)
{
	struct kmb_page *pg = kmb_page_of(vmp->vm_meta.pm, addr);

	*pgp = pg;
	if (kmb_unlikely(!(QC_LOAD(&pg->flags) & KMB__PG_VMEM_QC) ||
	                 QC_LOAD(&pg->priv[0]) != qc->qc_size))
		return OBJ_BAD;
	return obj_check_in(qc, pg, addr, ip);
}

__attribute__((noreturn, cold)) static void bad_free(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc,
                                                     void *addr, enum obj_verdict v,
                                                     const char *why)
{
	kmb_panic(v == OBJ_BAD ? KMB_PANIC_BAD_FREE : KMB_PANIC_DOUBLE_FREE, addr,
	          "vmem_free(%s, %p, %zu): %s", vmp->vm_name, addr, qc->qc_size,
	          v == OBJ_BAD ? "not an object of this quantum cache" : why);
}

/* ---- the slab layer (cache lock held) ------------------------------------------------------ */

static struct kmb_page *slab_create(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc, int flags)
{
	void *p = kmb_vmem_xalloc(vmp, KMB_PAGE_SIZE, KMB_PAGE_SIZE, 0, 0, 0, 0,
	                          flags & M_USE_RESERVE);
	struct kmb_page *pg;

	if (p == NULL)
		return NULL;
	pg = kmb_page_of(vmp->vm_meta.pm, p);
	slab_fill(pg, qc->qc_nobj);
	QC_STORE(&pg->priv[0], (uintptr_t)qc->qc_size);
	QC_STORE(&pg->flags, pg->flags | KMB__PG_VMEM_QC);
	slab_list_insert(pg, &qc->qc_partial, qc->qc_partial.next);
	qc->qc_slabs++;
	qc->qc_miss++;
	return pg;
}

static void slab_destroy(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc, struct kmb_page *pg)
{
	slab_list_del(pg);
	for (int i = 0; i < QC_WORDS; i++)
		QC_STORE(&slab_bits(pg)[i], (uint64_t)0);
	QC_STORE(&pg->flags, pg->flags & ~KMB__PG_VMEM_QC);
	QC_STORE(&pg->priv[0], (uintptr_t)0);
	qc->qc_slabs--;
	qc->qc_reaped++;
	kmb_vmem_xfree(vmp, kmb_page_addr(vmp->vm_meta.pm, pg), KMB_PAGE_SIZE);
}

static void *slab_alloc(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc, int flags)
{
	struct kmb_page *pg = qc->qc_partial.next;
	unsigned i;

	if (pg != &qc->qc_partial)
		qc->qc_hit++;
	else if ((pg = slab_create(vmp, qc, flags)) == NULL)
		return NULL;
	i = slab_take(pg);
	if (slab_nfree(pg) == 0)
		slab_list_del(pg); /* full */
	return (char *)kmb_page_addr(vmp->vm_meta.pm, pg) + (size_t)i * qc->qc_size;
}

/* An object back to its slab; its verdict (not OBJ_OK: nothing done). */
static enum obj_verdict slab_free(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc, void *addr)
{
	struct kmb_page *pg;
	size_t i;
	enum obj_verdict v = obj_check(vmp, qc, addr, &pg, &i);
	unsigned nfree;

	if (v != OBJ_OK)
		return v;
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
	return OBJ_OK;
}

/* ---- the magazine pool (3.), under the arena lock ------------------------------------------ */

static struct kmb__vmem_magpage *magpage_of(const struct kmb__vmem_mag *mp)
{
	return (struct kmb__vmem_magpage *)((uintptr_t)mp & ~(uintptr_t)(KMB_PAGE_SIZE - 1));
}

static struct kmb__vmem_mag *mag_next(const struct kmb__vmem_mag *mp)
{
	return mp->mag_slot[0];
}

static void magfree_push(kmb_vmem_t *vmp, struct kmb__vmem_mag *mp)
{
	mp->mag_slot[0] = vmp->vm_magfree;
	vmp->vm_magfree = mp;
	magpage_of(mp)->mp_nfree++;
}

static void magpage_add(kmb_vmem_t *vmp, void *page)
{
	struct kmb__vmem_magpage *head = &vmp->vm_magpages, *mpg = page;
	struct kmb__vmem_mag *mags = page;

	mpg->mp_nfree = 0;
	mpg->mp_release = 0;
	mpg->mp_next = head->mp_next;
	mpg->mp_prev = head;
	head->mp_next->mp_prev = mpg;
	head->mp_next = mpg;
	for (size_t i = VMEM_MAGS_PER_PAGE; i >= 1; i--)
		magfree_push(vmp, &mags[i]);
	vmp->vm_mag_pages++;
}

/* An empty magazine, or NULL when no metadata page can be had. */
static struct kmb__vmem_mag *mag_new(kmb_vmem_t *vmp)
{
	struct kmb__vmem_mag *mp;

	kmb_mutex_enter(&vmp->vm_lock);
	if (vmp->vm_magfree == NULL) {
		void *page = kmb__vmem_meta_page_alloc(vmp);

		if (page != NULL)
			magpage_add(vmp, page);
	}
	if ((mp = vmp->vm_magfree) != NULL) {
		vmp->vm_magfree = mag_next(mp);
		magpage_of(mp)->mp_nfree--;
		vmp->vm_mag_created++;
	}
	kmb_mutex_exit(&vmp->vm_lock);
	return mp;
}

static void mag_put(kmb_vmem_t *vmp, struct kmb__vmem_mag *mp)
{
	kmb_mutex_enter(&vmp->vm_lock);
	magfree_push(vmp, mp);
	vmp->vm_mag_destroyed++;
	kmb_mutex_exit(&vmp->vm_lock);
}

/* Pages whose magazines are all spare go back (vm_lock held). */
static void magpage_trim(kmb_vmem_t *vmp)
{
	struct kmb__vmem_magpage *head = &vmp->vm_magpages, *mpg, *next;
	struct kmb__vmem_mag **pp;
	bool any = false;

	for (mpg = head->mp_next; mpg != head; mpg = mpg->mp_next) {
		mpg->mp_release = mpg->mp_nfree == VMEM_MAGS_PER_PAGE;
		any |= mpg->mp_release != 0;
	}
	if (!any)
		return;
	for (pp = &vmp->vm_magfree; *pp != NULL;) {
		if (magpage_of(*pp)->mp_release)
			*pp = mag_next(*pp);
		else
			pp = (struct kmb__vmem_mag **)&(*pp)->mag_slot[0];
	}
	for (mpg = head->mp_next; mpg != head; mpg = next) {
		next = mpg->mp_next;
		if (!mpg->mp_release)
			continue;
		mpg->mp_prev->mp_next = mpg->mp_next;
		mpg->mp_next->mp_prev = mpg->mp_prev;
		vmp->vm_mag_pages--;
		kmb__vmem_meta_page_free(vmp, mpg);
	}
}

/*
 * kmem_magazine_destroy: the rounds back to the slab layer, the magazine to the pool.  A
 * round the slab layer already has is a double free found late: the first one goes to
 * *bad for the caller to panic about once it holds no lock.
 */
static void mag_destroy(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc, struct kmb__vmem_mag *mp,
                        int rounds, void **bad)
{
	if (mp == NULL)
		return;
	if (rounds > 0) {
		kmb_mutex_enter(&qc->qc_lock);
		for (int i = 1; i <= rounds; i++)
			if (slab_free(vmp, qc, mp->mag_slot[i]) != OBJ_OK && *bad == NULL)
				*bad = mp->mag_slot[i];
		kmb_mutex_exit(&qc->qc_lock);
	}
	mag_put(vmp, mp);
}

__attribute__((noreturn, cold)) static void late_double_free(kmb_vmem_t *vmp, void *addr)
{
	kmb_panic(KMB_PANIC_DOUBLE_FREE, addr,
	          "vmem_free(%s, %p): double free (found when a magazine's rounds went back to "
	          "the slab layer)",
	          vmp->vm_name, addr);
}

/* ---- the depot (4.) ------------------------------------------------------------------------ */

static struct kmb__vmem_mag *maglist_pop(struct kmb__vmem_maglist *ml)
{
	struct kmb__vmem_mag *mp = ml->ml_list;

	if (mp != NULL) {
		ml->ml_list = mag_next(mp);
		ml->ml_total--;
		ml->ml_gets++;
	}
	return mp;
}

static void maglist_push(struct kmb__vmem_maglist *ml, struct kmb__vmem_mag *mp)
{
	mp->mag_slot[0] = ml->ml_list;
	ml->ml_list = mp;
	ml->ml_total++;
	ml->ml_puts++;
}

/* The cache lock for a CPU's depot access: tried first, a failure counted. */
static void depot_lock(struct kmb__vmem_qcache *qc)
{
	if (!kmb_mutex_tryenter(&qc->qc_lock)) {
		kmb_mutex_enter(&qc->qc_lock);
		qc->qc_contention++;
	}
}

/* ---- CPU caches ------------------------------------------------------------------------------ */

/* kmem_cpu_reload: mp with its rounds becomes loaded, loaded becomes ploaded. */
static void reload(struct kmb__vmem_qcc *cc, struct kmb__vmem_mag *mp, int rounds)
{
	cc->cc_ploaded = cc->cc_loaded;
	cc->cc_prounds = cc->cc_rounds;
	cc->cc_loaded = mp;
	cc->cc_rounds = rounds;
}

/* Destroy a CPU cache's magazines: by its owner, or under the shared lock. */
static void cc_flush(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc, struct kmb__vmem_qcc *cc,
                     void **bad)
{
	if (cc->cc_loaded == NULL && cc->cc_ploaded == NULL)
		return;
	mag_destroy(vmp, qc, cc->cc_loaded, cc->cc_rounds, bad);
	mag_destroy(vmp, qc, cc->cc_ploaded, cc->cc_prounds, bad);
	cc->cc_loaded = cc->cc_ploaded = NULL;
	cc->cc_rounds = cc->cc_prounds = -1;
	QC_INC(&cc->cc_flushes);
}

/* Every cache's entry of one CPU, by its owner. */
static void cpu_flush_all(kmb_vmem_t *vmp, unsigned cpu)
{
	void *bad = NULL;

	for (unsigned i = 0; i < vmp->vm_nqcache; i++)
		cc_flush(vmp, &vmp->vm_qcache[i], &vmp->vm_qcache[i].qc_cpu[cpu], &bad);
	if (bad != NULL)
		late_double_free(vmp, bad);
}

/* The start of an attached CPU's slow path: a reap since its last flush? (5.) */
static void cpu_check(kmb_vmem_t *vmp, unsigned cpu)
{
	uint64_t gen = __atomic_load_n(&vmp->vm_flush_gen, __ATOMIC_ACQUIRE);

	if (kmb_unlikely(gen != vmp->vm_cpu_gen[cpu])) {
		vmp->vm_cpu_gen[cpu] = gen;
		cpu_flush_all(vmp, cpu);
	}
}

/* kmem_cache_alloc past the loaded magazine (4.): owner, or shared lock held. */
static void *cc_alloc(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc, struct kmb__vmem_qcc *cc,
                      int flags)
{
	struct kmb__vmem_mag *fmp;
	void *buf;

	for (;;) {
		if (cc->cc_rounds > 0) {
			QC_INC(&cc->cc_alloc_mag);
			return cc->cc_loaded->mag_slot[cc->cc_rounds--];
		}
		if (cc->cc_prounds > 0) {
			reload(cc, cc->cc_ploaded, cc->cc_prounds);
			continue;
		}
		depot_lock(qc);
		fmp = maglist_pop(&qc->qc_full);
		if (fmp == NULL)
			break;
		if (cc->cc_ploaded != NULL) /* empty */
			maglist_push(&qc->qc_empty, cc->cc_ploaded);
		kmb_mutex_exit(&qc->qc_lock);
		reload(cc, fmp, VMEM_MAGSIZE);
	}
	buf = slab_alloc(vmp, qc, flags); /* in the same hold of the lock */
	kmb_mutex_exit(&qc->qc_lock);
	return buf;
}

/*
 * kmem_cache_free past the loaded magazine (4.): owner, or shared lock held (shared: to
 * release before a panic).  addr passed obj_check.
 */
static void cc_free(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc, struct kmb__vmem_qcc *cc,
                    void *addr, struct kmb_lock *shared)
{
	struct kmb__vmem_mag *emp;
	enum obj_verdict v;

	if (cc->cc_rounds >= 0 && cc->cc_loaded->mag_slot[cc->cc_rounds] == addr) {
		if (shared != NULL)
			kmb_mutex_exit(shared);
		bad_free(vmp, qc, addr, OBJ_FREE, "double free (the object is in a magazine)");
	}
	for (;;) {
		if ((unsigned)cc->cc_rounds < VMEM_MAGSIZE) {
			QC_INC(&cc->cc_free_mag);
			cc->cc_loaded->mag_slot[++cc->cc_rounds] = addr;
			return;
		}
		if (cc->cc_prounds == 0) {
			reload(cc, cc->cc_ploaded, 0);
			continue;
		}
		depot_lock(qc);
		emp = maglist_pop(&qc->qc_empty);
		if (emp != NULL) {
			if (cc->cc_ploaded != NULL) /* full */
				maglist_push(&qc->qc_full, cc->cc_ploaded);
			kmb_mutex_exit(&qc->qc_lock);
			reload(cc, emp, 0);
			continue;
		}
		kmb_mutex_exit(&qc->qc_lock);
		if ((emp = mag_new(vmp)) == NULL)
			break;
		if (cc->cc_ploaded != NULL) {
			depot_lock(qc);
			maglist_push(&qc->qc_full, cc->cc_ploaded);
			kmb_mutex_exit(&qc->qc_lock);
		}
		reload(cc, emp, 0);
	}
	/* no magazine: to the slab layer */
	kmb_mutex_enter(&qc->qc_lock);
	v = slab_free(vmp, qc, addr);
	kmb_mutex_exit(&qc->qc_lock);
	if (v != OBJ_OK) { /* a racing double free */
		if (shared != NULL)
			kmb_mutex_exit(shared);
		bad_free(vmp, qc, addr, v, "double free (the object is free in its quantum cache)");
	}
	QC_INC(&cc->cc_free_slab);
}

/* ---- the cache --------------------------------------------------------------------------------
 */

__attribute__((noinline)) static void *alloc_slow(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc,
                                                  int flags)
{
	struct kmb__vmem_qcc *cc;
	void *buf;

	if (kmb_thread_attached()) {
		cpu_check(vmp, kmb_thread_cpu());
		return cc_alloc(vmp, qc, &qc->qc_cpu[kmb_thread_cpu()], flags);
	}
	cc = &qc->qc_cpu[VMEM_QCC_SHARED];
	kmb_mutex_enter(&qc->qc_shared_lock);
	buf = cc_alloc(vmp, qc, cc, flags);
	kmb_mutex_exit(&qc->qc_shared_lock);
	return buf;
}

void *kmb__vmem_qcache_alloc(kmb_vmem_t *vmp, size_t size, int flags)
{
	struct kmb__vmem_qcache *qc = qcache_of(vmp, size);

	struct kmb__vmem_qcc *cc = KMB_THIS_CPU(qc->qc_cpu);

	if (kmb_likely(cc != NULL)) {
		int r = cc->cc_rounds;

		if (kmb_likely(r > 0)) {
			QC_INC(&cc->cc_alloc_mag);
			cc->cc_rounds = r - 1;
			return cc->cc_loaded->mag_slot[r];
		}
	}
	return alloc_slow(vmp, qc, flags);
}

__attribute__((noinline)) static void free_slow(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc,
                                                void *addr)
{
	if (kmb_thread_attached()) {
		cpu_check(vmp, kmb_thread_cpu());
		cc_free(vmp, qc, &qc->qc_cpu[kmb_thread_cpu()], addr, NULL);
		return;
	}
	kmb_mutex_enter(&qc->qc_shared_lock);
	cc_free(vmp, qc, &qc->qc_cpu[VMEM_QCC_SHARED], addr, &qc->qc_shared_lock);
	kmb_mutex_exit(&qc->qc_shared_lock);
}

/* kmem_cache_free: addr is in pg, a slab of qc (mark and size checked). */
static inline __attribute__((always_inline)) void
qcache_free(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc, struct kmb_page *pg, void *addr)
{
	struct kmb__vmem_qcc *cc;
	enum obj_verdict v;
	size_t i;

	if (kmb_unlikely((v = obj_check_in(qc, pg, addr, &i)) != OBJ_OK))
		bad_free(vmp, qc, addr, v, "double free (the object is free in its quantum cache)");
	cc = KMB_THIS_CPU(qc->qc_cpu);
	if (kmb_likely(cc != NULL)) {
		int r = cc->cc_rounds;

		if (kmb_likely((unsigned)r < VMEM_MAGSIZE)) {
			struct kmb__vmem_mag *mp = cc->cc_loaded;

			if (kmb_unlikely(mp->mag_slot[r] == addr)) /* the last round put */
				bad_free(vmp, qc, addr, OBJ_FREE,
				         "double free (the object is in a magazine)");
			QC_INC(&cc->cc_free_mag);
			mp->mag_slot[r + 1] = addr;
			cc->cc_rounds = r + 1;
			return;
		}
	}
	free_slow(vmp, qc, addr);
}

void kmb__vmem_qcache_free(kmb_vmem_t *vmp, void *addr, size_t size)
{
	struct kmb__vmem_qcache *qc = qcache_of(vmp, size);
	struct kmb_page *pg;

	if (kmb_unlikely(!kmb_physmem_contains(vmp->vm_meta.pm, addr)))
		kmb_panic(KMB_PANIC_BAD_FREE, addr,
		          "vmem_free(%s, %p, %zu): not in physical memory", vmp->vm_name, addr,
		          size);
	pg = kmb_page_of(vmp->vm_meta.pm, addr);
	if (kmb_unlikely(!(QC_LOAD(&pg->flags) & KMB__PG_VMEM_QC) ||
	                 QC_LOAD(&pg->priv[0]) != qc->qc_size))
		bad_free(vmp, qc, addr, OBJ_BAD, NULL);
	qcache_free(vmp, qc, pg, addr);
}

size_t kmb__vmem_qcache_kfree(kmb_vmem_t *vmp, void *addr)
{
	struct kmb_page *pg = kmb_page_of(vmp->vm_meta.pm, addr);
	struct kmb__vmem_qcache *qc;
	size_t size;

	if (!(QC_LOAD(&pg->flags) & KMB__PG_VMEM_QC))
		return 0;
	size = (size_t)QC_LOAD(&pg->priv[0]);
	if (kmb_unlikely(size - 1 >= vmp->vm_qcache_max))
		return 0;
	qc = qcache_of(vmp, size);
	if (kmb_unlikely(size != qc->qc_size))
		return 0;
	qcache_free(vmp, qc, pg, addr);
	return size;
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

/* ---- giving memory back (5.) ------------------------------------------------------------------
 */

/* Every magazine of the depot destroyed. */
static void depot_drain(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc, void **bad)
{
	struct kmb__vmem_mag *full, *empty, *next;

	kmb_mutex_enter(&qc->qc_lock);
	full = qc->qc_full.ml_list;
	empty = qc->qc_empty.ml_list;
	qc->qc_full.ml_list = qc->qc_empty.ml_list = NULL;
	qc->qc_full.ml_total = qc->qc_empty.ml_total = 0;
	kmb_mutex_exit(&qc->qc_lock);
	for (; full != NULL; full = next) {
		next = mag_next(full);
		mag_destroy(vmp, qc, full, VMEM_MAGSIZE, bad);
	}
	for (; empty != NULL; empty = next) {
		next = mag_next(empty);
		mag_destroy(vmp, qc, empty, 0, bad);
	}
}

static void slabs_reap(kmb_vmem_t *vmp, struct kmb__vmem_qcache *qc)
{
	struct kmb_page *pg, *prev;

	kmb_mutex_enter(&qc->qc_lock);
	/* wholly free slabs are at the tail */
	for (pg = qc->qc_partial.prev; pg != &qc->qc_partial; pg = prev) {
		prev = pg->prev;
		if (slab_nfree(pg) != qc->qc_nobj)
			break;
		slab_destroy(vmp, qc, pg);
	}
	kmb_mutex_exit(&qc->qc_lock);
}

static void qcache_reap(kmb_vmem_t *vmp, bool all_cpus)
{
	void *bad = NULL;

	if (vmp->vm_nqcache == 0)
		return;
	if (!all_cpus) {
		uint64_t gen = __atomic_add_fetch(&vmp->vm_flush_gen, 1, __ATOMIC_ACQ_REL);

		if (kmb_thread_attached()) {
			vmp->vm_cpu_gen[kmb_thread_cpu()] = gen;
			cpu_flush_all(vmp, kmb_thread_cpu());
		}
	}
	for (unsigned i = 0; i < vmp->vm_nqcache; i++) {
		struct kmb__vmem_qcache *qc = &vmp->vm_qcache[i];

		if (all_cpus) /* nothing else runs */
			for (unsigned c = 0; c < VMEM_QCC_SHARED; c++)
				cc_flush(vmp, qc, &qc->qc_cpu[c], &bad);
		kmb_mutex_enter(&qc->qc_shared_lock);
		cc_flush(vmp, qc, &qc->qc_cpu[VMEM_QCC_SHARED], &bad);
		kmb_mutex_exit(&qc->qc_shared_lock);
		depot_drain(vmp, qc, &bad);
		slabs_reap(vmp, qc);
	}
	kmb_mutex_enter(&vmp->vm_lock);
	magpage_trim(vmp);
	kmb_mutex_exit(&vmp->vm_lock);
	if (bad != NULL)
		late_double_free(vmp, bad);
}

void kmb__vmem_qcache_reap(kmb_vmem_t *vmp)
{
	qcache_reap(vmp, false);
}

void kmb_vmem_cpu_flush(kmb_vmem_t *vmp)
{
	if (!kmb_thread_attached() || vmp->vm_nqcache == 0)
		return;
	vmp->vm_cpu_gen[kmb_thread_cpu()] = __atomic_load_n(&vmp->vm_flush_gen, __ATOMIC_ACQUIRE);
	cpu_flush_all(vmp, kmb_thread_cpu());
}

/* ---- creation, destruction, statistics ---------------------------------------------------------
 */

int kmb__vmem_qcache_init(kmb_vmem_t *vmp, unsigned nqcache)
{
	vmp->vm_magpages.mp_next = vmp->vm_magpages.mp_prev = &vmp->vm_magpages;
	for (unsigned i = 0; i < nqcache; i++) {
		struct kmb__vmem_qcache *qc = &vmp->vm_qcache[i];

		kmb_lock_init(&qc->qc_lock);
		kmb_lock_init(&qc->qc_shared_lock);
		qc->qc_size = (i + 1) * vmp->vm_quantum;
		qc->qc_nobj = (unsigned)(KMB_PAGE_SIZE / qc->qc_size);
		qc->qc_recip = (uint32_t)((((uint64_t)1 << 32) + qc->qc_size - 1) / qc->qc_size);
		slab_list_init(&qc->qc_partial);
		for (unsigned c = 0; c <= VMEM_QCC_SHARED; c++)
			qc->qc_cpu[c].cc_rounds = qc->qc_cpu[c].cc_prounds = -1;
		vmp->vm_nqcache = i + 1;
	}
	vmp->vm_qcache_max = vmp->vm_nqcache * vmp->vm_quantum;
	return 0;
}

/* No thread uses the arena any more: every magazine is destroyed and every empty slab and
 * magazine page goes back; slabs with live objects are forgotten (the arena's spans go
 * back whole when it is destroyed), but lose their mark. */
void kmb__vmem_qcache_fini(kmb_vmem_t *vmp)
{
	qcache_reap(vmp, true);
	kmb_assert(vmp->vm_magpages.mp_next == &vmp->vm_magpages);
	for (unsigned i = 0; i < vmp->vm_nqcache; i++) {
		struct kmb__vmem_qcache *qc = &vmp->vm_qcache[i];
		struct kmb_page *pg;

		while ((pg = qc->qc_partial.next) != &qc->qc_partial) {
			slab_list_del(pg);
			QC_STORE(&pg->flags, pg->flags & ~KMB__PG_VMEM_QC);
		}
		kmb_lock_destroy(&qc->qc_shared_lock);
		kmb_lock_destroy(&qc->qc_lock);
	}
	vmp->vm_nqcache = 0;
	vmp->vm_qcache_max = 0;
}

void kmb__vmem_qcache_kstat(kmb_vmem_t *vmp, struct kmb_vmem_kstat *ks)
{
	ks->qc_alloc_mag = ks->qc_free_mag = ks->qc_hit = ks->qc_miss = 0;
	ks->qc_free_slab = ks->qc_free = ks->qc_depot_full_get = ks->qc_depot_full_put = 0;
	ks->qc_depot_empty_get = ks->qc_depot_empty_put = ks->qc_depot_contention = 0;
	ks->qc_cpu_flush = ks->qc_full_mags = ks->qc_empty_mags = 0;
	ks->qc_slabs = ks->qc_reaped = 0;
	ks->qc_lock = ks->qc_shared_lock = (struct kmb_lock_stats){0};
	for (unsigned i = 0; i < vmp->vm_nqcache; i++) {
		struct kmb__vmem_qcache *qc = &vmp->vm_qcache[i];

		for (unsigned c = 0; c <= VMEM_QCC_SHARED; c++) {
			const struct kmb__vmem_qcc *cc = &qc->qc_cpu[c];

			ks->qc_alloc_mag += QC_LOAD(&cc->cc_alloc_mag);
			ks->qc_free_mag += QC_LOAD(&cc->cc_free_mag);
			ks->qc_free_slab += QC_LOAD(&cc->cc_free_slab);
			ks->qc_cpu_flush += QC_LOAD(&cc->cc_flushes);
		}
		kmb_mutex_enter(&qc->qc_lock);
		ks->qc_hit += qc->qc_hit;
		ks->qc_miss += qc->qc_miss;
		ks->qc_free += qc->qc_free;
		ks->qc_depot_full_get += qc->qc_full.ml_gets;
		ks->qc_depot_full_put += qc->qc_full.ml_puts;
		ks->qc_depot_empty_get += qc->qc_empty.ml_gets;
		ks->qc_depot_empty_put += qc->qc_empty.ml_puts;
		ks->qc_depot_contention += qc->qc_contention;
		ks->qc_full_mags += qc->qc_full.ml_total;
		ks->qc_empty_mags += qc->qc_empty.ml_total;
		ks->qc_slabs += qc->qc_slabs;
		ks->qc_reaped += qc->qc_reaped;
		kmb_lock_stats_add(&qc->qc_lock, &ks->qc_lock);
		kmb_lock_stats_add(&qc->qc_shared_lock, &ks->qc_shared_lock);
		kmb_mutex_exit(&qc->qc_lock);
	}
	kmb_mutex_enter(&vmp->vm_lock);
	ks->qc_mag_created = vmp->vm_mag_created;
	ks->qc_mag_destroyed = vmp->vm_mag_destroyed;
	ks->qc_mag_pages = vmp->vm_mag_pages;
	kmb_mutex_exit(&vmp->vm_lock);
}
