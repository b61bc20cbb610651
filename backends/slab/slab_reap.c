/*
 * backends/slab/slab_reap.c - giving cached memory back: reaps, drains, CPU flushes,
 * destroyed caches.
 *
 * 1. kmb__slab_reap (kmem_reap -> kmem_cache_reap for every cache): the depot's magazines
 *    outside its working set are destroyed (their rounds go back to the slab layer), then
 *    every empty slab goes back to the page source, and hash tables shrink to fit.  Caches
 *    are visited newest first - object caches, then kmem_magazine_N, kmem_bufctl_cache and
 *    kmem_slab_cache - so the magazines, bufctls and headers the first ones give back can
 *    empty the backend's own slabs in the same pass.  Two callers:
 *      - a slab that cannot be created because the page source is short (slab.c): the
 *        reap the page-out daemon would have started when free memory ran low;
 *      - drain, below.
 * 2. kmb__slab_drain (the drain op: the core calls it before an M_WAITOK request sleeps):
 *    bump the flush generation, flush the caller's own CPU (if attached), then reap with
 *    the working sets zeroed (every depot magazine) and the shared CPU caches flushed.
 *    Magazines of other attached CPUs are theirs alone: they flush at their next slow
 *    path when they see the new generation (slab_magazine.c 6.).
 * 3. Destroyed caches (kmem_cache_destroy): the caller's CPU and the shared CPU are
 *    flushed, then the cache is freed at once if no other CPU holds one of its magazines,
 *    else parked on the zombie list until the flushes of those CPUs leave it bare.
 * 4. fini: no thread runs any more, so every slab of every cache is freed whatever it
 *    holds (magazines, bufctls and slab headers live in the backend's own caches, freed
 *    last), and every descriptor.
 */
#include "slab.h"

#include <stdlib.h>

static void reap_cache(struct kmb__slab_cache *cp, bool drain)
{
	if (!cp->nomag) {
		if (drain) {
			kmb__slab_shared_flush(cp);
			kmb__slab_depot_ws_zero(cp);
		}
		kmb__slab_depot_ws_reap(cp);
	}
	kmb__slab_reap_empty(cp);
}

void kmb__slab_reap(struct kmb_slab *sl, bool drain)
{
	kmb_mutex_enter(&sl->caches_lock);
	KMB__SLAB_ATOMIC_ADD(&sl->reaps, 1);
	for (struct kmb__slab_cache *cp = sl->caches; cp != NULL; cp = cp->next)
		reap_cache(cp, drain);
	kmb__slab_zombie_sweep(sl);
	kmb_mutex_exit(&sl->caches_lock);
}

void kmb__slab_drain(struct kmb_slab *sl)
{
	__atomic_add_fetch(&sl->flush_gen, 1, __ATOMIC_RELEASE);
	if (kmb_thread_attached())
		kmb__slab_cpu_flush_all(sl, kmb_thread_cpu());
	kmb__slab_reap(sl, true);
}

/* thread_detach: the owner empties its CPU of every cache before giving it up. */
void kmb__slab_thread_flush(struct kmb_slab *sl, unsigned cpu)
{
	kmb__slab_cpu_flush_all(sl, cpu);
}

bool kmb__slab_cpus_hold_mags(const struct kmb__slab_cache *cp)
{
	for (unsigned i = 0; i < cp->ncc; i++)
		if (__atomic_load_n(&cp->cpu[i].has_mags, __ATOMIC_ACQUIRE))
			return true;
	return false;
}

/* Free the zombies no CPU holds magazines of (caches_lock held). */
void kmb__slab_zombie_sweep(struct kmb_slab *sl)
{
	struct kmb__slab_cache **pp = &sl->zombies, *cp;

	while ((cp = *pp) != NULL) {
		if (kmb__slab_cpus_hold_mags(cp)) {
			pp = &cp->next;
			continue;
		}
		*pp = cp->next;
		kmb__slab_cache_destroy(cp);
	}
}

static void cache_unlink(struct kmb_slab *sl, struct kmb__slab_cache *cp)
{
	if (cp->prev != NULL)
		cp->prev->next = cp->next;
	else
		sl->caches = cp->next;
	if (cp->next != NULL)
		cp->next->prev = cp->prev;
	cp->next = cp->prev = NULL;
}

/* kmem_cache_destroy of an object cache with no object allocated (3.). */
void kmb__slab_cache_retire(struct kmb_slab *sl, struct kmb__slab_cache *cp)
{
	bool zombie;

	if (kmb_thread_attached())
		kmb__slab_cc_flush(cp, &cp->cpu[kmb_thread_cpu()]);
	kmb__slab_shared_flush(cp);
	kmb_mutex_enter(&sl->caches_lock);
	cache_unlink(sl, cp);
	KMB__SLAB_STORE(&cp->dead, true);
	zombie = kmb__slab_cpus_hold_mags(cp);
	if (zombie) {
		cp->next = sl->zombies;
		sl->zombies = cp;
		__atomic_add_fetch(&sl->flush_gen, 1, __ATOMIC_RELEASE);
	}
	kmb_mutex_exit(&sl->caches_lock);
	if (!zombie)
		kmb__slab_cache_destroy(cp);
}

static void free_cache_list(struct kmb__slab_cache *cp)
{
	struct kmb__slab_cache *next;

	for (; cp != NULL; cp = next) {
		next = cp->next;
		kmb__slab_cache_free_all(cp);
		kmb__slab_free_cache_struct(cp);
	}
}

/* fini (4.): zombies and object caches first, the backend's own caches (oldest) last. */
void kmb__slab_teardown(struct kmb_slab *sl)
{
	kmb_mutex_enter(&sl->caches_lock);
	free_cache_list(sl->zombies);
	free_cache_list(sl->caches);
	sl->zombies = sl->caches = NULL;
	kmb_mutex_exit(&sl->caches_lock);
}
