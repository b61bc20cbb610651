/*
 * backends/slab/slab_magazine.c - the CPU layer and the depot (Bonwick & Adams 2001,
 * illumos kmem.c).
 *
 * 1. Magazines.  A magazine is an array of magsize object pointers (rounds) with a link
 *    word, taken from kmem_magazine_<magsize> (a cache of the backend, metadata pages).
 *    A CPU cache holds two: loaded and previously loaded (ploaded), with their round
 *    counts; -1 means no magazine.  The magazine types are kmem's kmem_magtype[]:
 *
 *        magsize   1    3    7   15   31   47   63   95  143
 *        align     8   16   32   64   64   64   64   64   64   (the magazine's own)
 *        minbuf 3200  256   64    0    0    0    0    0    0   start here if chunk > minbuf
 *        maxbuf  64K  32K  16K   8K   4K   2K   1K  512    0   may grow past if chunk < maxbuf
 *
 *    (magsize + 1) words = 16, 32, 64, 128, 256, 384, 512, 768, 1152 bytes: a multiple of
 *    the alignment.  So a new cache of chunks up to 64 bytes gets 15 rounds, 65..256 gets
 *    7, 257..3200 gets 3, larger ones 1; growth stops at 143 rounds, or earlier for large
 *    chunks (a 4 KiB chunk stops at 31 rounds: 124 KiB per magazine).
 *
 *    The tunable magsize ("slab(magsize=15)") replaces the minbuf rule: every cache starts
 *    with the smallest type of at least magsize rounds (magsize=20 starts at 31); growth
 *    after contention (4.) still follows maxbuf.  0, the default, is the rule above.
 *
 * 2. kmem_cache_alloc (here kmb__slab_cache_alloc and the slow path below):
 *        loaded has rounds      take one: the fast path, no lock for an attached thread
 *        ploaded is full        swap loaded and ploaded, retry
 *        the depot has a full   return ploaded (empty) to the depot, load the full one
 *        otherwise              the slab layer
 *    kmem_cache_free:
 *        loaded has room        put it there: the fast path
 *        ploaded is empty       swap, retry
 *        the depot has an empty return ploaded (full) to the depot, load the empty one
 *        otherwise              allocate an empty magazine (M_NOWAIT) into the depot and
 *                               retry; if none can be had, free to the slab layer
 *    With magazines of M rounds a CPU goes to the depot at most once per M operations,
 *    and the swap makes an alternating alloc/free pattern at a magazine boundary stay
 *    local (the paper's argument for two magazines).  A CPU whose magazines are empty
 *    takes objects from the slab layer directly; magazines are filled only by frees.
 *
 * 3. The depot: lists of full and of empty magazines under the depot lock (kmem_maglist).
 *    Working set (kmem_depot_ws_update): at the end of each interval, reaplimit = the
 *    fewest magazines the list held during the interval (min), min = total.  A reap
 *    (kmem_depot_ws_reap) destroys min(reaplimit, min) magazines of each list - those not
 *    used for a whole interval; a drain zeroes the working set first (kmem_depot_ws_zero)
 *    and so destroys every magazine of the depot.  Destroying a full magazine frees its
 *    rounds to the slab layer.
 *
 * 4. Contention and magazine size.  A CPU-layer depot get tries the lock first and counts
 *    a failure as contention (kmem_depot_alloc).  At the end of an interval
 *    (kmem_cache_update), more than 3 failures in it (kmem_depot_contention) grow the
 *    cache's magazine type one step if the chunk is below the type's maxbuf
 *    (kmem_cache_magazine_resize): the depot's magazines of the old size are destroyed at
 *    once, the shared CPU cache is flushed under its lock, and each attached CPU, which no
 *    one else may touch, notices the new type (cc->mt != cp->magtype) at its next slow
 *    path and flushes its old magazines itself.  Every depot operation checks the
 *    magazine type under the depot lock, so an old magazine never enters the depot.
 *
 * 5. The interval.  kmem's maintenance thread runs kmem_cache_update every 15 seconds.
 *    kmbench has no clock thread and a replay lasts a few seconds of wall time that vary
 *    run to run, so time is counted in CPU-layer depot gets: every 1024 of them
 *    (KMB__SLAB_UPDATE_TICKS) end an interval, and the thread whose get ended it runs the
 *    update at the end of its slow path, with no CPU cache lock held.  More than 3
 *    contended gets out of 1024 (0.3%) is the same absolute threshold as kmem's.
 *
 * 6. CPUs that belong to one thread.  Entry c of cpu[] is touched only by the thread
 *    attached to CPU c (kmb_thread_attached), without a lock: its fast paths are a load,
 *    a compare, an indexed load or store and a counter update.  Other threads share the
 *    entry ncpus under its mutex, with the same algorithm.  Nothing else may read or
 *    write an attached CPU's magazines, so:
 *      - thread_detach flushes the CPU's magazines itself (full and empty ones to the
 *        depot, partial ones destroyed into the slab layer);
 *      - drain (any thread, before an M_WAITOK sleep) flushes the caller's own CPU,
 *        bumps a flush generation, and reaps the depots and the shared cache; every other
 *        attached CPU compares the generation at its next slow path and flushes all its
 *        caches then.  The core's deadlock detection counts memory in the depots and the
 *        slab layer: every thread drains its own magazines before it sleeps, so when all
 *        attached threads wait, no magazine of theirs hides memory; only a thread that
 *        still runs can hold some in its magazines until its next slow path.
 *      - kmem_cache_destroy flushes the caller's CPU and the shared one; a cache whose
 *        other CPUs still hold magazines (has_mags, release/acquire) waits on a zombie
 *        list, flushed by those CPUs at their next slow path (the generation is bumped)
 *        and freed by the reap or flush that finds it bare, or at fini.
 *
 * 7. Departures: no cc_lock on attached CPUs (their exclusive ownership replaces it); no
 *    maintenance thread (5.); magazine caches have no magazine layer of their own; resize
 *    reaches attached CPUs lazily (4.).
 */
#include "slab.h"

#include <stdlib.h>

const struct kmb__slab_magtype kmb__slab_magtypes[KMB__SLAB_NMAGTYPES] = {
        {1, 8, 3200, 65536}, {3, 16, 256, 32768}, {7, 32, 64, 16384},
        {15, 64, 0, 8192},   {31, 64, 0, 4096},   {47, 64, 0, 2048},
        {63, 64, 0, 1024},   {95, 64, 0, 512},    {143, 64, 0, 0},
};

int kmb__slab_magtype_for(const struct kmb_slab *sl, size_t chunksize)
{
	int mt = 0;

	if (sl->magsize > 0) { /* the tunable: the smallest type that holds that many */
		while (kmb__slab_magtypes[mt].magsize < sl->magsize)
			mt++;
		return mt;
	}
	while (chunksize <= kmb__slab_magtypes[mt].minbuf)
		mt++;
	return mt;
}

/* ---- magazines ------------------------------------------------------------------------- */

static struct kmb__slab_mag *mag_new(struct kmb__slab_cache *cp, int mt)
{
	struct kmb__slab_mag *mp =
	        kmb__slab_alloc(cp->sl->mag_cache[mt], M_NOWAIT | KMB__SLAB_NOREAP);

	if (mp != NULL)
		KMB__SLAB_ATOMIC_ADD(&cp->mag_created, 1);
	return mp;
}

/* A magazine holds 0..magsize rounds; with INVARIANTS each is a buffer (not NULL). */
static void mag_check(const struct kmb__slab_cache *cp, const struct kmb__slab_mag *mp, int rounds,
                      int mt, const char *call)
{
	int magsize = kmb__slab_magtypes[mt].magsize;

	kmb_check(rounds >= 0 && rounds <= magsize, mp,
	          "%s(%s): magazine %p has %d rounds, type %d holds %d", call, cp->name,
	          (const void *)mp, rounds, mt, magsize);
	for (int i = 0; kmb_invariants_on && i < rounds; i++)
		kmb_check(mp->round[i] != NULL, mp, "%s(%s): magazine %p: round %d of %d is NULL",
		          call, cp->name, (const void *)mp, i, rounds);
}

/* kmem_magazine_destroy: its rounds to the slab layer, itself to its cache. */
static void mag_destroy(struct kmb__slab_cache *cp, struct kmb__slab_mag *mp, int rounds, int mt)
{
	mag_check(cp, mp, rounds, mt, "kmem_magazine_destroy");
	for (int i = 0; i < rounds; i++)
		kmb__slab_free(cp, mp->round[i]);
	kmb__slab_free(cp->sl->mag_cache[mt], mp);
	KMB__SLAB_ATOMIC_ADD(&cp->mag_destroyed, 1);
}

static void mag_destroy_chain(struct kmb__slab_cache *cp, struct kmb__slab_mag *mp, int rounds,
                              int mt)
{
	struct kmb__slab_mag *next;

	for (; mp != NULL; mp = next) {
		next = mp->next;
		mag_destroy(cp, mp, rounds, mt);
	}
}

/* ---- the depot ------------------------------------------------------------------------- */

static void depot_lock(struct kmb__slab_cache *cp)
{
	if (!kmb_mutex_tryenter(&cp->depot_lock)) {
		kmb_mutex_enter(&cp->depot_lock);
		KMB__SLAB_INC(&cp->contention);
	}
}

/* One tick of the maintenance interval (5.): depot lock held. */
static void depot_tick(struct kmb__slab_cache *cp)
{
	if (++cp->ticks < KMB__SLAB_UPDATE_TICKS)
		return;
	cp->ticks = 0;
	__atomic_store_n(&cp->update_pending, 1, __ATOMIC_RELAXED);
}

static struct kmb__slab_mag *maglist_pop(struct kmb__slab_maglist *ml)
{
	struct kmb__slab_mag *mp = ml->list;

	if (mp == NULL)
		return NULL;
	ml->list = mp->next;
	KMB__SLAB_STORE(&ml->total, ml->total - 1);
	if (ml->total < ml->min)
		ml->min = ml->total;
	KMB__SLAB_INC(&ml->gets);
	return mp;
}

/* kmem_depot_alloc for a CPU whose magazines are of type mt. */
static struct kmb__slab_mag *depot_get(struct kmb__slab_cache *cp, struct kmb__slab_maglist *ml,
                                       int mt)
{
	struct kmb__slab_mag *mp = NULL;

	depot_lock(cp);
	if (mt == cp->magtype)
		mp = maglist_pop(ml);
	depot_tick(cp);
	kmb_mutex_exit(&cp->depot_lock);
	return mp;
}

/* kmem_depot_free; false if the cache changed magazine type meanwhile. */
static bool depot_put(struct kmb__slab_cache *cp, struct kmb__slab_maglist *ml,
                      struct kmb__slab_mag *mp, int mt)
{
	bool ok;

	kmb_mutex_enter(&cp->depot_lock);
	ok = mt == cp->magtype;
	if (ok) {
		mp->next = ml->list;
		ml->list = mp;
		KMB__SLAB_STORE(&ml->total, ml->total + 1);
		KMB__SLAB_INC(&ml->puts);
	}
	kmb_mutex_exit(&cp->depot_lock);
	return ok;
}

static void depot_put_or_destroy(struct kmb__slab_cache *cp, struct kmb__slab_maglist *ml,
                                 struct kmb__slab_mag *mp, int mt, int rounds)
{
	if (!depot_put(cp, ml, mp, mt))
		mag_destroy(cp, mp, rounds, mt);
}

void kmb__slab_depot_ws_update(struct kmb__slab_cache *cp)
{
	kmb_mutex_enter(&cp->depot_lock);
	cp->full.reaplimit = cp->full.min;
	cp->full.min = cp->full.total;
	cp->empty_mags.reaplimit = cp->empty_mags.min;
	cp->empty_mags.min = cp->empty_mags.total;
	kmb_mutex_exit(&cp->depot_lock);
}

void kmb__slab_depot_ws_zero(struct kmb__slab_cache *cp)
{
	kmb_mutex_enter(&cp->depot_lock);
	cp->full.reaplimit = cp->full.min = cp->full.total;
	cp->empty_mags.reaplimit = cp->empty_mags.min = cp->empty_mags.total;
	kmb_mutex_exit(&cp->depot_lock);
}

/* Destroy up to min(reaplimit, min) magazines of one list. */
static void ws_reap_list(struct kmb__slab_cache *cp, struct kmb__slab_maglist *ml, bool full)
{
	long reap;

	kmb_mutex_enter(&cp->depot_lock);
	reap = ml->reaplimit < ml->min ? ml->reaplimit : ml->min;
	kmb_mutex_exit(&cp->depot_lock);
	while (reap-- > 0) {
		struct kmb__slab_mag *mp;
		int mt;

		depot_lock(cp);
		mt = cp->magtype;
		mp = maglist_pop(ml);
		kmb_mutex_exit(&cp->depot_lock);
		if (mp == NULL)
			break;
		mag_destroy(cp, mp, full ? kmb__slab_magtypes[mt].magsize : 0, mt);
	}
}

void kmb__slab_depot_ws_reap(struct kmb__slab_cache *cp)
{
	ws_reap_list(cp, &cp->full, true);
	ws_reap_list(cp, &cp->empty_mags, false);
}

/* ---- CPU caches -------------------------------------------------------------------------- */

/* kmem_cpu_reload */
static void reload(struct kmb__slab_cc *cc, struct kmb__slab_mag *mp, int rounds)
{
	/* a full magazine from the depot, or an empty one (fresh or from the depot) */
	kmb_check(rounds == 0 || rounds == cc->magsize, mp,
	          "kmem_cpu_reload(%p, %d): a magazine of %d rounds is neither full nor empty",
	          (void *)mp, rounds, cc->magsize);
	cc->ploaded = cc->loaded;
	cc->prounds = cc->rounds;
	cc->loaded = mp;
	cc->rounds = rounds;
	if (!cc->has_mags)
		__atomic_store_n(&cc->has_mags, true, __ATOMIC_RELEASE);
}

static void flush_one(struct kmb__slab_cache *cp, struct kmb__slab_cc *cc, struct kmb__slab_mag *mp,
                      int rounds)
{
	bool live = !KMB__SLAB_LOAD(&cp->dead);

	if (mp == NULL)
		return;
	mag_check(cp, mp, rounds, cc->mt, "kmem_cpu_flush");
	if (live && rounds == cc->magsize && depot_put(cp, &cp->full, mp, cc->mt))
		return;
	if (live && rounds == 0 && depot_put(cp, &cp->empty_mags, mp, cc->mt))
		return;
	mag_destroy(cp, mp, rounds, cc->mt);
}

/* Empty a CPU cache: full and empty magazines to the depot, others destroyed.  Called by
 * the CPU's owner, or with the shared cache's lock held. */
void kmb__slab_cc_flush(struct kmb__slab_cache *cp, struct kmb__slab_cc *cc)
{
	flush_one(cp, cc, cc->loaded, cc->rounds);
	flush_one(cp, cc, cc->ploaded, cc->prounds);
	cc->loaded = cc->ploaded = NULL;
	cc->rounds = cc->prounds = -1;
	__atomic_store_n(&cc->has_mags, false, __ATOMIC_RELEASE);
	KMB__SLAB_INC(&cc->flushes);
}

/* The cache's magazine type changed (4.): drop the old magazines, take the new size. */
static void cc_adopt(struct kmb__slab_cache *cp, struct kmb__slab_cc *cc)
{
	int mt = KMB__SLAB_LOAD(&cp->magtype);

	if (cc->mt == mt)
		return;
	kmb__slab_cc_flush(cp, cc);
	cc->mt = mt;
	cc->magsize = kmb__slab_magtypes[mt].magsize;
}

void kmb__slab_shared_flush(struct kmb__slab_cache *cp)
{
	struct kmb__slab_cc *cc = &cp->cpu[cp->ncc - 1];

	kmb_mutex_enter(&cc->lock);
	kmb__slab_cc_flush(cp, cc);
	cc_adopt(cp, cc);
	kmb_mutex_exit(&cc->lock);
}

/* Every cache's entry of one CPU, by its owner (6.). */
void kmb__slab_cpu_flush_all(struct kmb_slab *sl, unsigned cpu)
{
	uint64_t gen = __atomic_load_n(&sl->flush_gen, __ATOMIC_ACQUIRE);
	struct kmb__slab_cache *lists[2], *cp;

	kmb_mutex_enter(&sl->caches_lock);
	lists[0] = sl->caches;
	lists[1] = sl->zombies;
	for (int i = 0; i < 2; i++) {
		for (cp = lists[i]; cp != NULL; cp = cp->next) {
			if (cp->nomag)
				continue;
			kmb__slab_cc_flush(cp, &cp->cpu[cpu]);
			cc_adopt(cp, &cp->cpu[cpu]);
		}
	}
	sl->cpu[cpu].seen_gen = gen;
	kmb__slab_zombie_sweep(sl);
	kmb_mutex_exit(&sl->caches_lock);
}

/* The start of an attached CPU's slow path: a drain elsewhere, or a new magazine type. */
static void cpu_check(struct kmb__slab_cache *cp, struct kmb__slab_cc *cc, unsigned cpu)
{
	struct kmb_slab *sl = cp->sl;

	if (__atomic_load_n(&sl->flush_gen, __ATOMIC_RELAXED) != sl->cpu[cpu].seen_gen)
		kmb__slab_cpu_flush_all(sl, cpu);
	else
		cc_adopt(cp, cc);
}

/* The magazine part of kmem_cache_alloc; NULL: go to the slab layer. */
static void *mag_alloc(struct kmb__slab_cache *cp, struct kmb__slab_cc *cc)
{
	for (;;) {
		struct kmb__slab_mag *fmp;

		if (cc->rounds > 0) {
			KMB__SLAB_INC(&cc->alloc_mag);
			return cc->loaded->round[--cc->rounds];
		}
		if (cc->prounds > 0) {
			reload(cc, cc->ploaded, cc->prounds);
			continue;
		}
		if (cc->magsize == 0)
			return NULL;
		fmp = depot_get(cp, &cp->full, cc->mt);
		if (fmp == NULL)
			return NULL;
		if (cc->ploaded != NULL)
			depot_put_or_destroy(cp, &cp->empty_mags, cc->ploaded, cc->mt, 0);
		reload(cc, fmp, cc->magsize);
	}
}

/*
 * kmem_cpucache_magazine_alloc: an empty magazine for a CPU whose two are full.  true:
 * try the free again.  The shared cache's lock is dropped around the magazine cache (its
 * slab creation may reap every cache, the shared caches included).
 */
static bool mag_make_room(struct kmb__slab_cache *cp, struct kmb__slab_cc *cc, bool shared)
{
	struct kmb__slab_mag *emp = depot_get(cp, &cp->empty_mags, cc->mt);
	int mt = cc->mt;

	if (emp != NULL) {
		if (cc->ploaded != NULL)
			depot_put_or_destroy(cp, &cp->full, cc->ploaded, mt, cc->prounds);
		reload(cc, emp, 0);
		return true;
	}
	if (shared)
		kmb_mutex_exit(&cc->lock);
	emp = mag_new(cp, mt);
	if (shared)
		kmb_mutex_enter(&cc->lock);
	if (emp == NULL)
		return false;
	if (cc->mt == mt && depot_put(cp, &cp->empty_mags, emp, mt))
		return true;
	mag_destroy(cp, emp, 0, mt); /* the type changed meanwhile */
	return cc->mt != mt;
}

/* The magazine part of kmem_cache_free; false: free to the slab layer. */
static bool mag_free(struct kmb__slab_cache *cp, struct kmb__slab_cc *cc, void *buf, bool shared)
{
	for (;;) {
		if ((unsigned)cc->rounds < (unsigned)cc->magsize) {
			KMB__SLAB_INC(&cc->free_mag);
			cc->loaded->round[cc->rounds++] = buf;
			return true;
		}
		if (cc->prounds == 0) {
			reload(cc, cc->ploaded, cc->prounds);
			continue;
		}
		if (cc->magsize == 0)
			return false;
		if (!mag_make_room(cp, cc, shared))
			return false;
	}
}

/* A maintenance interval ended (5.): one thread runs the update. */
static void maybe_update(struct kmb__slab_cache *cp)
{
	int one = 1;

	if (kmb_likely(__atomic_load_n(&cp->update_pending, __ATOMIC_RELAXED) == 0))
		return;
	if (__atomic_compare_exchange_n(&cp->update_pending, &one, 0, false, __ATOMIC_ACQ_REL,
	                                __ATOMIC_RELAXED))
		kmb__slab_cache_update(cp);
}

void *kmb__slab_cc_alloc_slow(struct kmb__slab_cache *cp, struct kmb__slab_cc *cc, unsigned cpu,
                              int flags)
{
	void *buf;

	cpu_check(cp, cc, cpu);
	buf = mag_alloc(cp, cc);
	if (buf == NULL) {
		buf = kmb__slab_alloc(cp, flags);
		if (buf != NULL)
			KMB__SLAB_INC(&cc->alloc_slab);
	}
	maybe_update(cp);
	return buf;
}

void kmb__slab_cc_free_slow(struct kmb__slab_cache *cp, struct kmb__slab_cc *cc, unsigned cpu,
                            void *buf)
{
	cpu_check(cp, cc, cpu);
	if (!mag_free(cp, cc, buf, false)) {
		kmb__slab_free(cp, buf);
		KMB__SLAB_INC(&cc->free_slab);
	}
	maybe_update(cp);
}

void *kmb__slab_shared_alloc(struct kmb__slab_cache *cp, int flags)
{
	struct kmb__slab_cc *cc = &cp->cpu[cp->ncc - 1];
	void *buf;

	kmb_mutex_enter(&cc->lock);
	cc_adopt(cp, cc);
	buf = mag_alloc(cp, cc);
	kmb_mutex_exit(&cc->lock);
	if (buf == NULL) {
		buf = kmb__slab_alloc(cp, flags);
		if (buf != NULL)
			KMB__SLAB_ATOMIC_ADD(&cc->alloc_slab, 1);
	}
	maybe_update(cp);
	return buf;
}

void kmb__slab_shared_free(struct kmb__slab_cache *cp, void *buf)
{
	struct kmb__slab_cc *cc = &cp->cpu[cp->ncc - 1];
	bool done;

	kmb_mutex_enter(&cc->lock);
	cc_adopt(cp, cc);
	done = mag_free(cp, cc, buf, true);
	kmb_mutex_exit(&cc->lock);
	if (!done) {
		kmb__slab_free(cp, buf);
		KMB__SLAB_ATOMIC_ADD(&cc->free_slab, 1);
	}
	maybe_update(cp);
}

/* ---- maintenance: kmem_cache_update and kmem_cache_magazine_resize ------------------------ */

void kmb__slab_magazine_resize(struct kmb__slab_cache *cp)
{
	struct kmb__slab_mag *full, *empty;
	int mt;

	kmb_mutex_enter(&cp->depot_lock);
	mt = cp->magtype;
	if (cp->nomag || cp->chunksize >= kmb__slab_magtypes[mt].maxbuf) {
		kmb_mutex_exit(&cp->depot_lock);
		return;
	}
	full = cp->full.list;
	empty = cp->empty_mags.list;
	cp->full = (struct kmb__slab_maglist){NULL, 0, 0, 0, cp->full.gets, cp->full.puts};
	cp->empty_mags =
	        (struct kmb__slab_maglist){NULL, 0, 0, 0, cp->empty_mags.gets, cp->empty_mags.puts};
	KMB__SLAB_STORE(&cp->magtype, mt + 1);
	KMB__SLAB_STORE(&cp->magsize, kmb__slab_magtypes[mt + 1].magsize);
	cp->contention_prev = cp->contention;
	KMB__SLAB_INC(&cp->resizes);
	kmb_mutex_exit(&cp->depot_lock);
	mag_destroy_chain(cp, full, kmb__slab_magtypes[mt].magsize, mt);
	mag_destroy_chain(cp, empty, 0, mt);
	kmb__slab_shared_flush(cp);
}

void kmb__slab_cache_update(struct kmb__slab_cache *cp)
{
	bool resize;

	if (cp->nomag)
		return;
	kmb__slab_depot_ws_update(cp);
	kmb_mutex_enter(&cp->depot_lock);
	resize = cp->chunksize < kmb__slab_magtypes[cp->magtype].maxbuf &&
	         (int64_t)(cp->contention - cp->contention_prev) > KMB__SLAB_DEPOT_CONTENTION;
	cp->contention_prev = cp->contention;
	kmb_mutex_exit(&cp->depot_lock);
	if (resize)
		kmb__slab_magazine_resize(cp);
	kmb__slab_hash_update(cp);
}
