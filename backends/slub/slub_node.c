/*
 * backends/slub/slub_node.c - the per-node partial lists and the slab-level free: what
 * both designs share below their per-CPU layer.
 *
 * 1. A node's partial list (n->partial, n->nr_partial) holds unfrozen slabs with free
 *    objects, under n->list_lock (a spin lock, Linux's spinlock_t).  head->priv[3] says a
 *    slab is on it (6.8's slab_test_node_partial), so that a free to a slab elsewhere (a
 *    per-CPU partial list) leaves the lists alone.  Full slabs are on no list.
 * 2. __slab_free (kmb__slub_slab_free), 6.8+: a compare-and-swap pushes the chain on the
 *    slab's freelist and lowers inuse.  Only two transitions need more: a full slab gaining
 *    its first free object (prior == NULL) goes to the freeing CPU's partial list in slub
 *    (put_cpu_partial, no lock: CPU_PARTIAL_FREE) or, without per-CPU partial slabs, to
 *    the node list (FREE_ADD_PARTIAL); and a slab becoming empty on the node list is
 *    freed when the node keeps min_partial slabs already (FREE_REMOVE_PARTIAL, FREE_SLAB).
 *    For those, list_lock is taken before the compare-and-swap, so that the state the
 *    list decision reads cannot change under it.  A frozen slab (a CPU's) only counts
 *    FREE_FROZEN.
 * 3. get_partial (get_partial_node, slub): under list_lock, the first slab of the local
 *    node for the CPU slab (ALLOC_FROM_PARTIAL) and up to cpu_partial_slabs / 2 more to the
 *    CPU's partial list (CPU_PARTIAL_NODE).  __put_partials gives a CPU partial list back
 *    to the nodes: empty slabs beyond min_partial are freed, the others go to the tail.
 * 4. Bulk (the sheaves): kmb__slub_alloc_bulk pops objects from the local node's partial
 *    slabs under list_lock (the single consumer: no ABA, slub_slab.c 5.), then from new
 *    slabs; kmb__slub_free_bulk frees runs of objects of one slab as one chain.
 * 5. Shrink (drain, kmem_cache_shrink): every empty slab of the node lists is freed,
 *    min_partial notwithstanding.
 */
#include "slub.h"

struct kmb__slub_node *kmb__slub_node_of(struct kmb__slub_cache *s, const struct kmb_page *head)
{
	return &s->node[head->node < s->nnodes ? head->node : 0];
}

static struct kmb__slub_node *local_node(struct kmb__slub_cache *s)
{
	return &s->node[kmb_thread_node() % s->nnodes];
}

void kmb__slub_add_partial(struct kmb__slub_node *n, struct kmb_page *head, bool tail)
{
	if (tail)
		kmb_list_add_tail(&n->partial, head);
	else
		kmb_list_add(&n->partial, head);
	KMB_STORE(&n->nr_partial, n->nr_partial + 1);
	head->priv[3] = 1;
}

void kmb__slub_remove_partial(struct kmb__slub_node *n, struct kmb_page *head)
{
	kmb_assert(head->priv[3] == 1);
	kmb_list_del(head);
	KMB_STORE(&n->nr_partial, n->nr_partial - 1);
	head->priv[3] = 0;
}

static bool has_cpu_partial(const struct kmb__slub_cache *s)
{
	return s->cpu_partial_slabs != 0;
}

/* Push an unfrozen slab on c's partial list (c owned, or locked by the caller). */
static struct kmb_page *cpu_partial_push(struct kmb__slub_cache *s, struct kmb__slub_cpu *c,
                                         struct kmb_page *head, bool drain)
{
	struct kmb_page *to_put = NULL;

	if (drain && c->partial != NULL && c->partial_slabs >= s->cpu_partial_slabs) {
		to_put = c->partial;
		c->partial = NULL;
		c->partial_slabs = 0;
	}
	head->next = c->partial;
	c->partial = head;
	c->partial_slabs++;
	return to_put;
}

/* put_cpu_partial(s, slab, 1), on the freeing thread's CPU. */
static void put_cpu_partial(struct kmb__slub_cache *s, struct kmb_page *head)
{
	struct kmb__slub_cpu *c = KMB_THIS_CPU(s->cpu);
	struct kmb_page *to_put;

	if (c != NULL) {
		to_put = cpu_partial_push(s, c, head, true);
	} else {
		c = &s->cpu[s->ncpu - 1];
		kmb_spin_lock(&c->lock);
		to_put = cpu_partial_push(s, c, head, true);
		kmb_spin_unlock(&c->lock);
	}
	if (to_put != NULL) {
		kmb__slub_put_partials(s, to_put);
		kmb__slub_stat(s, KMB__CPU_PARTIAL_DRAIN);
	}
}

void kmb__slub_put_partials(struct kmb__slub_cache *s, struct kmb_page *list)
{
	struct kmb__slub_node *n = NULL;
	struct kmb_page *discard = NULL;

	while (list != NULL) {
		struct kmb_page *head = list;
		struct kmb__slub_node *hn = kmb__slub_node_of(s, head);

		list = head->next;
		if (hn != n) {
			if (n != NULL)
				kmb_spin_unlock(&n->list_lock);
			n = hn;
			kmb_spin_lock(&n->list_lock);
		}
		if (kmb__slub_sw_inuse(kmb__slub_sw_load(head)) == 0 &&
		    n->nr_partial >= s->min_partial) {
			head->next = discard;
			discard = head;
		} else {
			kmb__slub_add_partial(n, head, true);
			kmb__slub_stat(s, KMB__FREE_ADD_PARTIAL);
		}
	}
	if (n != NULL)
		kmb_spin_unlock(&n->list_lock);
	while (discard != NULL) {
		struct kmb_page *head = discard;

		discard = head->next;
		kmb__slub_stat(s, KMB__DEACTIVATE_EMPTY);
		kmb__slub_discard_slab(s, head);
	}
}

struct kmb_page *kmb__slub_get_partial(struct kmb__slub_cache *s, struct kmb__slub_cpu *c)
{
	struct kmb__slub_node *n = local_node(s);
	struct kmb_page *got = NULL;
	unsigned slabs = 0;

	if (KMB_LOAD(&n->nr_partial) == 0)
		return NULL;
	kmb_spin_lock(&n->list_lock);
	while (!kmb_list_empty(&n->partial)) {
		struct kmb_page *head = n->partial.next;

		kmb__slub_remove_partial(n, head);
		if (got == NULL) {
			got = head;
			kmb__slub_stat(s, KMB__ALLOC_FROM_PARTIAL);
		} else {
			(void)cpu_partial_push(s, c, head, false);
			kmb__slub_stat(s, KMB__CPU_PARTIAL_NODE);
			slabs++;
		}
		if (!has_cpu_partial(s) || slabs > s->cpu_partial_slabs / 2)
			break;
	}
	kmb_spin_unlock(&n->list_lock);
	return got;
}

/* The list work of __slab_free once the compare-and-swap is done with n locked. */
static void slab_free_locked(struct kmb__slub_cache *s, struct kmb__slub_node *n,
                             struct kmb_page *head, bool prior, bool on_node_partial,
                             unsigned inuse)
{
	if (prior && !on_node_partial) {
		kmb_spin_unlock(&n->list_lock);
		return;
	}
	if (inuse == 0 && n->nr_partial >= s->min_partial) {
		if (prior) {
			kmb__slub_remove_partial(n, head);
			kmb__slub_stat(s, KMB__FREE_REMOVE_PARTIAL);
		}
		kmb_spin_unlock(&n->list_lock);
		kmb__slub_discard_slab(s, head);
		return;
	}
	if (!has_cpu_partial(s) && !prior) {
		kmb__slub_add_partial(n, head, true);
		kmb__slub_stat(s, KMB__FREE_ADD_PARTIAL);
	}
	kmb_spin_unlock(&n->list_lock);
}

void kmb__slub_slab_free(struct kmb__slub_cache *s, struct kmb_page *head, void *first, void *last,
                         unsigned cnt)
{
	struct kmb__slub_node *n = NULL;
	bool on_node_partial = false, was_frozen, need_lock;
	uint64_t old, new_sw;
	void *prior;
	unsigned inuse;

	old = kmb__slub_sw_load(head);
	for (;;) {
		prior = kmb__slub_sw_freelist(s, head, old);
		inuse = kmb__slub_sw_inuse(old);
		kmb_check(inuse >= cnt, first,
		          "kfree(%p): %s: slab %p has %u objects in use, %u freed", first, s->name,
		          (void *)kmb__slub_base(s, head), inuse, cnt);
		inuse -= cnt;
		was_frozen = (old & KMB__SLUB_FROZEN) != 0;
		kmb__slub_set_fp(s, last, prior);
		new_sw = kmb__slub_sw(s, head, first, inuse, was_frozen);
		need_lock = (inuse == 0 || prior == NULL) && !was_frozen &&
		            !(has_cpu_partial(s) && prior == NULL);
		if (need_lock && n == NULL) {
			n = kmb__slub_node_of(s, head);
			kmb_spin_lock(&n->list_lock);
			on_node_partial = head->priv[3] != 0;
			old = kmb__slub_sw_load(head); /* decide again on what the lock holds */
			continue;
		}
		if (!need_lock && n != NULL) {
			kmb_spin_unlock(&n->list_lock);
			n = NULL;
		}
		if (kmb__slub_sw_cas(head, &old, new_sw))
			break;
		kmb__slub_stat(s, KMB__CMPXCHG_DOUBLE_FAIL);
	}
	if (n != NULL) {
		slab_free_locked(s, n, head, prior != NULL, on_node_partial, inuse);
		return;
	}
	if (was_frozen) {
		kmb__slub_stat(s, KMB__FREE_FROZEN);
	} else if (has_cpu_partial(s) && prior == NULL) {
		put_cpu_partial(s, head);
		kmb__slub_stat(s, KMB__CPU_PARTIAL_FREE);
	}
}

/* Pop up to k objects off a slab's freelist (list_lock held, or the slab unpublished);
 * returns how many and whether the freelist is now empty. */
static unsigned take_objects(struct kmb__slub_cache *s, struct kmb_page *head, void **p, unsigned k,
                             bool *emptied)
{
	uint64_t old = kmb__slub_sw_load(head);
	unsigned cnt;
	void *obj;

	do {
		obj = kmb__slub_sw_freelist(s, head, old);
		for (cnt = 0; obj != NULL && cnt < k; cnt++) {
			p[cnt] = obj;
			obj = kmb__slub_get_fp(s, obj);
		}
	} while (!kmb__slub_sw_cas(head, &old,
	                           kmb__slub_sw(s, head, obj, kmb__slub_sw_inuse(old) + cnt,
	                                        (old & KMB__SLUB_FROZEN) != 0)));
	*emptied = obj == NULL;
	if (s->poison)
		for (unsigned i = 0; i < cnt; i++)
			kmb__slub_restore_poison(s, p[i]);
	return cnt;
}

unsigned kmb__slub_alloc_bulk(struct kmb__slub_cache *s, void **p, unsigned n, int flags)
{
	struct kmb__slub_node *nd = local_node(s);
	unsigned got = 0;
	bool emptied;

	if (KMB_LOAD(&nd->nr_partial) != 0) {
		kmb_spin_lock(&nd->list_lock);
		while (got < n && !kmb_list_empty(&nd->partial)) {
			struct kmb_page *head = nd->partial.next;

			got += take_objects(s, head, p + got, n - got, &emptied);
			if (emptied)
				kmb__slub_remove_partial(nd, head);
			kmb__slub_stat(s, KMB__ALLOC_FROM_PARTIAL);
		}
		kmb_spin_unlock(&nd->list_lock);
	}
	while (got < n) {
		struct kmb_page *head = kmb__slub_new_slab(s, flags);

		if (head == NULL)
			break;
		got += take_objects(s, head, p + got, n - got, &emptied);
		if (!emptied) {
			struct kmb__slub_node *hn = kmb__slub_node_of(s, head);

			kmb_spin_lock(&hn->list_lock);
			kmb__slub_add_partial(hn, head, false);
			kmb_spin_unlock(&hn->list_lock);
		}
	}
	return got;
}

void kmb__slub_free_bulk(struct kmb__slub_cache *s, void **p, unsigned n)
{
	struct kmb_physmem *pm = s->sb->pm;
	unsigned i = 0;

	while (i < n) {
		struct kmb_page *head = kmb__slub_head_of(pm, p[i]);
		unsigned j = i + 1;

		while (j < n && kmb__slub_head_of(pm, p[j]) == head) {
			kmb__slub_set_fp(s, p[j - 1], p[j]);
			j++;
		}
		kmb__slub_slab_free(s, head, p[i], p[j - 1], j - i);
		i = j;
	}
}

void kmb__slub_shrink(struct kmb__slub_cache *s)
{
	for (unsigned i = 0; i < s->nnodes; i++) {
		struct kmb__slub_node *n = &s->node[i];
		struct kmb_page *discard = NULL;

		kmb_spin_lock(&n->list_lock);
		for (struct kmb_page *pg = n->partial.next, *nx; pg != &n->partial; pg = nx) {
			nx = pg->next;
			if (kmb__slub_sw_inuse(kmb__slub_sw_load(pg)) != 0)
				continue;
			kmb__slub_remove_partial(n, pg);
			pg->next = discard;
			discard = pg;
		}
		kmb_spin_unlock(&n->list_lock);
		while (discard != NULL) {
			struct kmb_page *head = discard;

			discard = head->next;
			kmb__slub_discard_slab(s, head);
		}
	}
}
