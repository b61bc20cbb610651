/*
 * backends/slub/slub_cpu.c - the slub design's per-CPU layer (6.6-6.17): the CPU slab and
 * the CPU partial slabs, ___slab_alloc, deactivate_slab and flushing.
 *
 * 1. State (struct kmb__slub_cpu): c->slab, a frozen slab whose free objects the CPU took
 *    all at once (c->freelist: its state word then says inuse = objects, and frees from
 *    other CPUs push on the slab's own freelist); c->partial, unfrozen slabs with free
 *    objects that no node list holds, at most cpu_partial_slabs of them (put_cpu_partial
 *    drains the whole list to the nodes when a slab would pass that: CPU_PARTIAL_DRAIN).
 * 2. ___slab_alloc (kmb__slub_alloc_slow), in the order of 6.8+:
 *      a. the CPU slab's remote frees, taken all (get_freelist: ALLOC_REFILL); none: the
 *         slab is unfrozen as full, on no list (DEACTIVATE_BYPASS);
 *      b. the first CPU partial slab, frozen (CPU_PARTIAL_ALLOC);
 *      c. a node partial slab (get_partial: ALLOC_FROM_PARTIAL, and more to c->partial);
 *      d. a new slab (ALLOC_SLAB; ORDER_FALLBACK to s->min when oo fails).
 *    Every path ends in load_freelist: the first object out, the rest in c->freelist.
 * 3. deactivate_slab (flush: CPUSLAB_FLUSH): the CPU's freelist is spliced in front of the
 *    slab's and the slab unfrozen in one compare-and-swap; then an empty slab is freed if
 *    the node keeps min_partial already (DEACTIVATE_EMPTY), a slab with free objects goes
 *    to the node list (to the tail if it had remote frees, DEACTIVATE_TO_TAIL, else the
 *    head, DEACTIVATE_TO_HEAD), a full one stays on no list (DEACTIVATE_FULL).
 * 4. The shared entry cpu[ncpus] serves threads not attached to a CPU under its spin lock
 *    (lock order: it, then list_lock, then the page source).
 */
#include "slub.h"

/* get_freelist: take the CPU slab's freelist; none left: unfreeze (full, on no list). */
static void *get_freelist(struct kmb__slub_cache *s, struct kmb_page *head)
{
	uint64_t old = kmb__slub_sw_load(head);
	void *fl;

	do {
		kmb_assert_internal(old & KMB__SLUB_FROZEN);
		fl = kmb__slub_sw_freelist(s, head, old);
	} while (!kmb__slub_sw_cas(
	        head, &old, kmb__slub_sw(s, head, NULL, kmb__slub_objects(head), fl != NULL)));
	if (kmb_unlikely(kmb_invariants_on) && fl != NULL)
		kmb__slub_check_freelist(s, head, fl,
		                         kmb__slub_objects(head) - kmb__slub_sw_inuse(old),
		                         "get_freelist");
	return fl;
}

/* Freeze an unfrozen slab the caller holds off every list and take its freelist. */
static void *freeze_slab(struct kmb__slub_cache *s, struct kmb_page *head)
{
	uint64_t old = kmb__slub_sw_load(head);
	void *fl;

	do {
		kmb_check(!(old & KMB__SLUB_FROZEN), kmb__slub_base(s, head),
		          "freeze_slab(%s, %p): the slab is frozen already", s->name,
		          (void *)kmb__slub_base(s, head));
		fl = kmb__slub_sw_freelist(s, head, old);
	} while (!kmb__slub_sw_cas(head, &old,
	                           kmb__slub_sw(s, head, NULL, kmb__slub_objects(head), true)));
	kmb_check(fl != NULL, kmb__slub_base(s, head), "freeze_slab(%s, %p): no free object",
	          s->name, (void *)kmb__slub_base(s, head));
	if (kmb_unlikely(kmb_invariants_on))
		kmb__slub_check_freelist(s, head, fl,
		                         kmb__slub_objects(head) - kmb__slub_sw_inuse(old),
		                         "freeze_slab");
	return fl;
}

static void *load_freelist(struct kmb__slub_cache *s, struct kmb__slub_cpu *c, void *fl)
{
	c->freelist = kmb__slub_get_fp(s, fl);
	c->tid += KMB__SLUB_TID_STEP;
	if (kmb_unlikely(s->poison))
		kmb__slub_restore_poison(s, fl);
	return fl;
}

/* ___slab_alloc (2.): c is owned by the caller (attached, or the shared entry locked). */
static void *slab_alloc_cpu(struct kmb__slub_cache *s, struct kmb__slub_cpu *c, int flags)
{
	struct kmb_page *head = c->slab;
	void *fl;

	if (head != NULL) {
		fl = get_freelist(s, head);
		if (fl != NULL) {
			kmb__slub_stat(s, KMB__ALLOC_REFILL);
			return load_freelist(s, c, fl);
		}
		c->slab = NULL;
		kmb__slub_stat(s, KMB__DEACTIVATE_BYPASS);
	}
	if (c->partial != NULL) {
		head = c->partial;
		c->partial = head->next;
		c->partial_slabs--;
		head->next = NULL;
		kmb__slub_stat(s, KMB__CPU_PARTIAL_ALLOC);
	} else {
		head = kmb__slub_get_partial(s, c);
		if (head == NULL)
			head = kmb__slub_new_slab(s, flags);
		if (head == NULL)
			return NULL;
	}
	fl = freeze_slab(s, head);
	c->slab = head;
	return load_freelist(s, c, fl);
}

void *kmb__slub_alloc_slow(struct kmb__slub_cache *s, struct kmb__slub_cpu *c, int flags)
{
	kmb__slub_flush_gen_check(s->sb, kmb_thread_cpu());
	kmb__slub_stat(s, KMB__ALLOC_SLOWPATH);
	return slab_alloc_cpu(s, c, flags);
}

void kmb__slub_free_slow(struct kmb__slub_cache *s, struct kmb_page *head, void *obj)
{
	if (kmb_thread_attached())
		kmb__slub_flush_gen_check(s->sb, kmb_thread_cpu());
	kmb__slub_stat(s, KMB__FREE_SLOWPATH);
	kmb__slub_slab_free(s, head, obj, obj, 1);
}

void *kmb__slub_shared_alloc(struct kmb__slub_cache *s, int flags)
{
	struct kmb__slub_cpu *c = &s->cpu[s->ncpu - 1];
	void *obj;

	kmb_spin_lock(&c->lock);
	obj = c->freelist;
	if (kmb_likely(obj != NULL)) {
		c->freelist = kmb__slub_get_fp(s, obj);
		kmb__slub_stat(s, KMB__ALLOC_FASTPATH);
		if (kmb_unlikely(s->poison))
			kmb__slub_restore_poison(s, obj);
	} else {
		kmb__slub_stat(s, KMB__ALLOC_SLOWPATH);
		obj = slab_alloc_cpu(s, c, flags);
	}
	kmb_spin_unlock(&c->lock);
	return obj;
}

void kmb__slub_shared_free(struct kmb__slub_cache *s, struct kmb_page *head, void *obj)
{
	struct kmb__slub_cpu *c = &s->cpu[s->ncpu - 1];

	kmb_spin_lock(&c->lock);
	if (head == c->slab) {
		kmb__slub_set_fp(s, obj, c->freelist);
		c->freelist = obj;
		kmb__slub_stat(s, KMB__FREE_FASTPATH);
		kmb_spin_unlock(&c->lock);
		return;
	}
	kmb_spin_unlock(&c->lock);
	kmb__slub_stat(s, KMB__FREE_SLOWPATH);
	kmb__slub_slab_free(s, head, obj, obj, 1);
}

/* deactivate_slab (3.) */
static void deactivate_slab(struct kmb__slub_cache *s, struct kmb_page *head, void *fl)
{
	struct kmb__slub_node *n = kmb__slub_node_of(s, head);
	uint64_t old = kmb__slub_sw_load(head);
	bool to_tail = kmb__slub_sw_freelist(s, head, old) != NULL;
	unsigned cnt = 0, inuse;
	void *last = NULL, *newfl;

	if (to_tail)
		kmb__slub_stat(s, KMB__DEACTIVATE_REMOTE_FREES);
	for (void *p = fl; p != NULL; p = kmb__slub_get_fp(s, p)) {
		last = p;
		cnt++;
	}
	do {
		kmb_assert(old & KMB__SLUB_FROZEN);
		inuse = kmb__slub_sw_inuse(old) - cnt;
		newfl = kmb__slub_sw_freelist(s, head, old);
		if (last != NULL) {
			kmb__slub_set_fp(s, last, newfl);
			newfl = fl;
		}
	} while (!kmb__slub_sw_cas(head, &old, kmb__slub_sw(s, head, newfl, inuse, false)));
	if (inuse == 0 && KMB_LOAD(&n->nr_partial) >= s->min_partial) {
		kmb__slub_stat(s, KMB__DEACTIVATE_EMPTY);
		kmb__slub_discard_slab(s, head);
	} else if (newfl != NULL) {
		kmb_spin_lock(&n->list_lock);
		kmb__slub_add_partial(n, head, to_tail);
		kmb_spin_unlock(&n->list_lock);
		kmb__slub_stat(s, to_tail ? KMB__DEACTIVATE_TO_TAIL : KMB__DEACTIVATE_TO_HEAD);
	} else {
		kmb__slub_stat(s, KMB__DEACTIVATE_FULL);
	}
}

/* Flush one CPU's state of s (the owner, the shared entry's lock holder, or a thread that
 * knows the CPU idle: destroy, fini). */
void kmb__slub_flush_cpu(struct kmb__slub_cache *s, struct kmb__slub_cpu *c)
{
	if (c->slab != NULL) {
		deactivate_slab(s, c->slab, c->freelist);
		c->slab = NULL;
		c->freelist = NULL;
		c->tid += KMB__SLUB_TID_STEP;
		kmb__slub_stat(s, KMB__CPUSLAB_FLUSH);
	}
	if (c->partial != NULL) {
		struct kmb_page *list = c->partial;

		c->partial = NULL;
		c->partial_slabs = 0;
		kmb__slub_put_partials(s, list);
	}
}
