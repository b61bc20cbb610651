/*
 * workloads/plan.c - replay plans: trace events with pointers replaced by slot numbers.
 *
 * Theory: one pass over the events with two maps, object pointer -> slot and page frame
 * number -> slot.  A slot is an index into the replay's array of live objects; a freed
 * slot goes on a stack and the next allocation takes the most recently freed one, so a
 * new slot number is made only when every slot is in use and nslots is the peak number
 * of live objects (plus live page blocks, which share the slot space).
 *
 * What each allocation becomes:
 *   kmalloc*            KMB_OP_KMALLOC, type = the index of its call site among the
 *                       distinct kmalloc call sites (type_name[type] is the call site).
 *   kmem_cache_alloc*   KMB_OP_CACHE_ALLOC, type = cache index.  The cache key is the
 *                       cache name (name=) when the event has one, else the pair
 *                       (bytes_req, bytes_alloc), named "cache-<req>-<alloc>".  The cache
 *                       object size is bytes_req (the largest seen for a named cache),
 *                       its slot size bytes_alloc (the same: the kernel's s->size, 0
 *                       where the trace has none); order and objects per slab come
 *                       from a geometry file (geometry.c), 0 until one is applied.
 *   mm_page_alloc       KMB_OP_PAGE_ALLOC with the order, keyed by pfn; size 0, type 0.
 * A free takes its kind and type from the allocation of its slot (a kfree of a cache
 * object is a KMB_OP_CACHE_FREE; such cases are counted in kind_mismatches).  Dropped:
 * failed (NULL) allocations, kmem_cache_free of NULL, frees of pointers not live, and
 * allocations with bytes_req == 0 (counted in dropped_zero) together with their later
 * free (counted in dropped_zero_frees).  A kfree(NULL) - legal in Linux, 13 % of the kfree events
 * of a real 6.18 trace - is a KMB_OP_KFREE_NULL op (counted in null_kfrees): replay makes the call,
 * a no-op with a real cost.  It needs no object but, like every op, a slot to be sequenced on: one
 * null slot per traced CPU, never reused, so that the NULL frees of a CPU stream are in
 * order within the thread that replays it and never wait for another thread.  An allocation
 * returning a live pointer first frees the old slot (an implicit free, op.event = the
 * allocation's event).  pfn 0 is taken as a failed page allocation.  Every op keeps its
 * event's interrupt context (op.ctx, from the irq-flags column): replay runs it there.
 */
#include "workloads/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define ZERO_SIZE UINT64_MAX /* obj map value of a dropped zero-size allocation */

struct slotinfo {
	uint8_t kind; /* KMB_OP_KMALLOC, KMB_OP_CACHE_ALLOC or KMB_OP_PAGE_ALLOC */
	uint8_t order;
	uint32_t type;
};

struct planner {
	const struct kmb_trace *t;
	struct kmb_plan *p;
	struct kmb__ptrmap obj;  /* ptr -> slot or ZERO_SIZE */
	struct kmb__ptrmap page; /* pfn -> slot */
	struct kmb__ptrmap pair; /* bytes_req << 32 | bytes_alloc -> cache index */
	struct slotinfo *slot;
	uint32_t *freeslot;                              /* stack of free slots */
	size_t slotcap, nfree, opcap, typecap, cachecap; /* freeslot has slotcap entries */
	uint32_t *site_type;               /* per string index: type + 1, 0 = none yet */
	uint32_t *name_cache;              /* per string index: cache + 1, 0 = none yet */
	uint64_t *cache_req, *cache_alloc; /* the key of each pair cache */
	struct kmb__ptrmap null_slot;      /* cpu + 1 -> its null slot */
};

/* Resize the array *ap to n elements. */
static int resize(void *ap, size_t n, size_t elsize)
{
	void **a = ap;
	void *b = realloc(*a, n * elsize);

	if (!b)
		return -ENOMEM;
	*a = b;
	return 0;
}

static size_t next_cap(size_t cap, size_t need)
{
	size_t n = cap ? cap : 16;

	while (n < need)
		n *= 2;
	return n;
}

static int grow_array(void *ap, size_t *cap, size_t need, size_t elsize)
{
	size_t n = next_cap(*cap, need);

	if (need <= *cap)
		return 0;
	if (resize(ap, n, elsize) < 0)
		return -ENOMEM;
	*cap = n;
	return 0;
}

static int emit(struct planner *pl, const struct kmb_op *op)
{
	struct kmb_plan *p = pl->p;

	if (grow_array(&p->op, &pl->opcap, p->nop + 1, sizeof(*p->op)) < 0)
		return -ENOMEM;
	p->op[p->nop++] = *op;
	return 0;
}

static int take_slot(struct planner *pl, uint32_t *slot)
{
	struct kmb_plan *p = pl->p;

	if (pl->nfree) {
		*slot = pl->freeslot[--pl->nfree];
		return 0;
	}
	if (p->nslots == UINT32_MAX)
		return -ENOMEM;
	if (p->nslots == pl->slotcap) {
		size_t n = next_cap(pl->slotcap, (size_t)p->nslots + 1);

		if (resize(&pl->slot, n, sizeof(*pl->slot)) < 0 ||
		    resize(&pl->freeslot, n, sizeof(*pl->freeslot)) < 0)
			return -ENOMEM;
		pl->slotcap = n;
	}
	*slot = p->nslots++;
	return 0;
}

static uint8_t free_kind(uint8_t alloc_kind)
{
	switch (alloc_kind) {
	case KMB_OP_KMALLOC:
		return KMB_OP_KFREE;
	case KMB_OP_CACHE_ALLOC:
		return KMB_OP_CACHE_FREE;
	default:
		return KMB_OP_PAGE_FREE;
	}
}

/* The free op of a live slot; the slot goes back on the stack. */
static int free_slot(struct planner *pl, uint32_t slot, const struct kmb_event *e, size_t event)
{
	const struct slotinfo *s = &pl->slot[slot];
	struct kmb_op op = {.cpu = e->cpu,
	                    .slot = slot,
	                    .type = s->type,
	                    .event = (uint32_t)event,
	                    .ctx = e->ctx};

	op.kind = free_kind(s->kind);
	op.order = s->order;
	pl->freeslot[pl->nfree++] = slot; /* nfree < nslots <= slotcap */
	return emit(pl, &op);
}

static int type_of_site(struct planner *pl, uint32_t site, uint32_t *type)
{
	struct kmb_plan *p = pl->p;
	char *name;

	if (pl->site_type[site]) {
		*type = pl->site_type[site] - 1;
		return 0;
	}
	if (grow_array(&p->type_name, &pl->typecap, (size_t)p->ntypes + 1, sizeof(*p->type_name)) <
	            0 ||
	    !(name = strdup(pl->t->str[site])))
		return -ENOMEM;
	p->type_name[p->ntypes] = name;
	*type = p->ntypes++;
	pl->site_type[site] = p->ntypes;
	return 0;
}

static int new_cache(struct planner *pl, const char *name, const struct kmb_event *e,
                     uint32_t *cache)
{
	struct kmb_plan *p = pl->p;
	size_t n = next_cap(pl->cachecap, (size_t)p->ncaches + 1);
	char *dup;

	if (n != pl->cachecap) {
		if (resize(&p->cache_name, n, sizeof(*p->cache_name)) < 0 ||
		    resize(&p->cache_size, n, sizeof(*p->cache_size)) < 0 ||
		    resize(&p->cache_geom, n, sizeof(*p->cache_geom)) < 0 ||
		    resize(&pl->cache_req, n, sizeof(*pl->cache_req)) < 0 ||
		    resize(&pl->cache_alloc, n, sizeof(*pl->cache_alloc)) < 0)
			return -ENOMEM;
		pl->cachecap = n;
	}
	if (!(dup = strdup(name)))
		return -ENOMEM;
	p->cache_name[p->ncaches] = dup;
	p->cache_size[p->ncaches] = e->bytes_req;
	p->cache_geom[p->ncaches] = (struct kmb_plan_geom){.slot_size = e->bytes_alloc};
	*cache = p->ncaches++;
	return 0;
}

static int named_cache(struct planner *pl, const struct kmb_event *e, uint32_t *cache)
{
	uint32_t *c = &pl->name_cache[e->cache];

	if (*c) {
		*cache = *c - 1;
		if (e->bytes_req > pl->p->cache_size[*cache])
			pl->p->cache_size[*cache] = e->bytes_req;
		if (e->bytes_alloc > pl->p->cache_geom[*cache].slot_size)
			pl->p->cache_geom[*cache].slot_size = e->bytes_alloc;
		return 0;
	}
	if (new_cache(pl, pl->t->str[e->cache], e, cache) < 0)
		return -ENOMEM;
	*c = *cache + 1;
	return 0;
}

static int pair_cache(struct planner *pl, const struct kmb_event *e, uint32_t *cache)
{
	bool small = e->bytes_req <= UINT32_MAX && e->bytes_alloc <= UINT32_MAX;
	uint64_t key = e->bytes_req << 32 | e->bytes_alloc, *v;
	char name[64];

	if (small && (v = kmb__ptrmap_find(&pl->pair, key))) {
		*cache = (uint32_t)*v;
		return 0;
	}
	for (uint32_t c = 0; !small && c < pl->p->ncaches; c++)
		if (pl->cache_req[c] == e->bytes_req && pl->cache_alloc[c] == e->bytes_alloc) {
			*cache = c;
			return 0;
		}
	snprintf(name, sizeof(name), "cache-%" PRIu64 "-%" PRIu64, e->bytes_req, e->bytes_alloc);
	if (new_cache(pl, name, e, cache) < 0)
		return -ENOMEM;
	pl->cache_req[*cache] = e->bytes_req;
	pl->cache_alloc[*cache] = e->bytes_alloc;
	return small ? kmb__ptrmap_put(&pl->pair, key, *cache) : 0;
}

/* The malloc type (kmalloc) or cache (kmem_cache_alloc) of an allocation. */
static int alloc_type(struct planner *pl, const struct kmb_event *e, uint32_t *type)
{
	if (e->kind == KMB_EV_KMALLOC)
		return type_of_site(pl, e->site, type);
	if (e->cache)
		return named_cache(pl, e, type);
	return pair_cache(pl, e, type);
}

static int plan_alloc(struct planner *pl, const struct kmb_event *e, size_t i)
{
	struct kmb_op op = {.cpu = e->cpu,
	                    .flags = e->flags,
	                    .size = e->bytes_req,
	                    .event = (uint32_t)i,
	                    .bytes_alloc =
	                            e->bytes_alloc <= UINT32_MAX ? (uint32_t)e->bytes_alloc : 0,
	                    .ctx = e->ctx};
	uint64_t old;
	int rc = 0;

	if (!e->ptr)
		return 0;
	if (kmb__ptrmap_remove(&pl->obj, e->ptr, &old) && old != ZERO_SIZE)
		rc = free_slot(pl, (uint32_t)old, e, i);
	if (rc == 0 && e->bytes_req == 0) {
		pl->p->dropped_zero++;
		return kmb__ptrmap_put(&pl->obj, e->ptr, ZERO_SIZE);
	}
	op.kind = e->kind == KMB_EV_KMALLOC ? KMB_OP_KMALLOC : KMB_OP_CACHE_ALLOC;
	if (rc == 0)
		rc = alloc_type(pl, e, &op.type);
	if (rc == 0)
		rc = take_slot(pl, &op.slot);
	if (rc < 0)
		return rc;
	pl->slot[op.slot] = (struct slotinfo){.kind = op.kind, .type = op.type};
	if (emit(pl, &op) < 0)
		return -ENOMEM;
	return kmb__ptrmap_put(&pl->obj, e->ptr, op.slot);
}

/* kfree(NULL): an op on the CPU's null slot (theory). */
static int plan_null_kfree(struct planner *pl, const struct kmb_event *e, size_t i)
{
	struct kmb_op op = {
	        .kind = KMB_OP_KFREE_NULL, .cpu = e->cpu, .event = (uint32_t)i, .ctx = e->ctx};
	uint64_t *slot = kmb__ptrmap_find(&pl->null_slot, (uint64_t)e->cpu + 1);

	if (slot)
		op.slot = (uint32_t)*slot;
	else if (take_slot(pl, &op.slot) < 0 ||
	         kmb__ptrmap_put(&pl->null_slot, (uint64_t)e->cpu + 1, op.slot) < 0)
		return -ENOMEM;
	else
		pl->slot[op.slot] = (struct slotinfo){0};
	pl->p->null_kfrees++;
	return emit(pl, &op);
}

static int plan_free(struct planner *pl, const struct kmb_event *e, size_t i)
{
	uint64_t old;

	if (!e->ptr && e->kind == KMB_EV_KFREE)
		return plan_null_kfree(pl, e, i);
	if (!e->ptr || !kmb__ptrmap_remove(&pl->obj, e->ptr, &old))
		return 0;
	if (old == ZERO_SIZE) {
		pl->p->dropped_zero_frees++;
		return 0;
	}
	if ((e->kind == KMB_EV_KFREE) != (pl->slot[old].kind == KMB_OP_KMALLOC))
		pl->p->kind_mismatches++;
	return free_slot(pl, (uint32_t)old, e, i);
}

static int plan_page_alloc(struct planner *pl, const struct kmb_event *e, size_t i)
{
	struct kmb_op op = {.kind = KMB_OP_PAGE_ALLOC,
	                    .order = e->order,
	                    .cpu = e->cpu,
	                    .flags = e->flags,
	                    .event = (uint32_t)i};
	uint64_t old;
	int rc = 0;

	if (!e->ptr)
		return 0;
	if (kmb__ptrmap_remove(&pl->page, e->ptr, &old))
		rc = free_slot(pl, (uint32_t)old, e, i);
	if (rc == 0)
		rc = take_slot(pl, &op.slot);
	if (rc < 0)
		return rc;
	pl->slot[op.slot] = (struct slotinfo){.kind = KMB_OP_PAGE_ALLOC, .order = e->order};
	if (emit(pl, &op) < 0)
		return -ENOMEM;
	return kmb__ptrmap_put(&pl->page, e->ptr, op.slot);
}

static int plan_page_free(struct planner *pl, const struct kmb_event *e, size_t i)
{
	uint64_t old;

	if (!e->ptr || !kmb__ptrmap_remove(&pl->page, e->ptr, &old))
		return 0;
	return free_slot(pl, (uint32_t)old, e, i);
}

static int plan_event(struct planner *pl, size_t i)
{
	const struct kmb_event *e = &pl->t->ev[i];

	switch (e->kind) {
	case KMB_EV_KMALLOC:
	case KMB_EV_CACHE_ALLOC:
		return plan_alloc(pl, e, i);
	case KMB_EV_KFREE:
	case KMB_EV_CACHE_FREE:
		return plan_free(pl, e, i);
	case KMB_EV_PAGE_ALLOC:
		return plan_page_alloc(pl, e, i);
	case KMB_EV_PAGE_FREE:
		return plan_page_free(pl, e, i);
	default:
		return 0;
	}
}

static void planner_free(struct planner *pl)
{
	kmb__ptrmap_free(&pl->obj);
	kmb__ptrmap_free(&pl->page);
	kmb__ptrmap_free(&pl->pair);
	kmb__ptrmap_free(&pl->null_slot);
	free(pl->slot);
	free(pl->freeslot);
	free(pl->site_type);
	free(pl->name_cache);
	free(pl->cache_req);
	free(pl->cache_alloc);
}

int kmb_trace_plan(const struct kmb_trace *t, struct kmb_plan *p)
{
	struct planner pl = {.t = t, .p = p};
	size_t nstr = t->nstr ? t->nstr : 1;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	pl.site_type = calloc(nstr, sizeof(*pl.site_type));
	pl.name_cache = calloc(nstr, sizeof(*pl.name_cache));
	if (!pl.site_type || !pl.name_cache)
		rc = -ENOMEM;
	for (size_t i = 0; i < t->nev && rc == 0; i++)
		rc = plan_event(&pl, i);
	planner_free(&pl);
	if (rc < 0)
		kmb_plan_free(p);
	return rc;
}

void kmb_plan_free(struct kmb_plan *p)
{
	for (uint32_t i = 0; p->type_name && i < p->ntypes; i++)
		free((void *)p->type_name[i]);
	for (uint32_t i = 0; p->cache_name && i < p->ncaches; i++)
		free((void *)p->cache_name[i]);
	free(p->op);
	free(p->type_name);
	free(p->cache_name);
	free(p->cache_size);
	free(p->cache_geom);
	memset(p, 0, sizeof(*p));
}
