/*
 * workloads/facts.c - the facts of a trace, and the pointer map behind them and plans.
 *
 * Theory: one pass over the events with a map pointer -> bytes_req of the objects live
 * at that point.  The map is open addressing with linear probing and backward-shift
 * deletion (no tombstones), so its size is bounded by the peak number of live objects.
 *
 * Trace facts, defined exactly (README "Trace facts" quotes this):
 *
 *   events              allocation and free events read: kmalloc, kmalloc_node, kfree,
 *                       kmem_cache_alloc, kmem_cache_alloc_node, kmem_cache_free.  Page
 *                       events (mm_page_*) are NOT in events; they are counted only in
 *                       page_alloc_events and page_free_events.  A page free that
 *                       repeats the last free of its pfn with no allocation of the pfn
 *                       between is one free reported twice and counted once: Linux 6.x
 *                       reports each folio freed in a batch by mm_page_free (in
 *                       free_pages_prepare) and then mm_page_free_batched (in
 *                       free_unref_folios, up to a folio batch of 31 frees later); 3.x
 *                       free_hot_cold_page_list reported mm_page_free_batched first.
 *   kmalloc_events, kfree_events, cache_alloc_events, cache_free_events
 *                       events of each kind (the _node variants count as their base kind),
 *                       NULL pointers included; their sum is events.
 *   allocs              allocation events with a non-NULL ptr.
 *   failed_allocs       allocation events with a NULL ptr.
 *   frees               free events with a non-NULL ptr (= matched + unmatched).
 *   null_frees          free events with a NULL ptr.
 *   matched_frees       frees of a live pointer (kfree of a cache object included).
 *   unmatched_frees     frees of a pointer not live (allocated before the trace began).
 *   implicit_frees      allocations returning a pointer that is still live: the old object
 *                       stops being live (an implicit free) before the new one starts.
 *   zero_size_allocs    allocs with bytes_req 0 (kmalloc(0), illegal here: not replayed).
 *   cpus                distinct CPU numbers among all events read, page events included.
 *   total_bytes_req, total_bytes_alloc
 *                       sums of bytes_req and bytes_alloc over allocs.
 *   peak_live_bytes_req maximum, after each event, of the sum of bytes_req over live objects.
 *   peak_live_objects   maximum, after each event, of the number of live objects.
 *   final_live_objects  live objects after the last event.
 *
 * An object is live from its (non-NULL) allocation to its free or implicit free.
 */
#include "workloads/trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- the pointer map ---------------------------------------------------------------- */

static size_t home(uint64_t key, size_t cap)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

void kmb__ptrmap_init(struct kmb__ptrmap *m)
{
	memset(m, 0, sizeof(*m));
}

void kmb__ptrmap_free(struct kmb__ptrmap *m)
{
	free(m->ent);
	memset(m, 0, sizeof(*m));
}

static size_t probe(const struct kmb__ptrmap *m, uint64_t key)
{
	size_t i = home(key, m->cap);

	while (m->ent[i].key && m->ent[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

uint64_t *kmb__ptrmap_find(const struct kmb__ptrmap *m, uint64_t key)
{
	size_t i;

	if (!m->cap || !key)
		return NULL;
	i = probe(m, key);
	return m->ent[i].key ? &m->ent[i].val : NULL;
}

static int grow(struct kmb__ptrmap *m)
{
	struct kmb__ptrmap g = {.cap = m->cap ? 2 * m->cap : 256};

	g.ent = calloc(g.cap, sizeof(*g.ent));
	if (!g.ent)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->ent[i].key)
			g.ent[probe(&g, m->ent[i].key)] = m->ent[i];
	g.n = m->n;
	free(m->ent);
	*m = g;
	return 0;
}

int kmb__ptrmap_put(struct kmb__ptrmap *m, uint64_t key, uint64_t val)
{
	size_t i;

	if (!key)
		return -EINVAL;
	if (10 * (m->n + 1) > 7 * m->cap && grow(m) < 0)
		return -ENOMEM;
	i = probe(m, key);
	if (!m->ent[i].key) {
		m->ent[i].key = key;
		m->n++;
	}
	m->ent[i].val = val;
	return 0;
}

bool kmb__ptrmap_remove(struct kmb__ptrmap *m, uint64_t key, uint64_t *val)
{
	size_t mask = m->cap - 1, i, j;

	if (!m->cap || !key)
		return false;
	i = probe(m, key);
	if (!m->ent[i].key)
		return false;
	if (val)
		*val = m->ent[i].val;
	for (j = i;;) { /* shift back the entries that probed past i */
		size_t k;

		j = (j + 1) & mask;
		if (!m->ent[j].key)
			break;
		k = home(m->ent[j].key, m->cap);
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		m->ent[i] = m->ent[j];
		i = j;
	}
	m->ent[i].key = 0;
	m->n--;
	return true;
}

/* ---- facts -------------------------------------------------------------------------- */

struct live {
	struct kmb__ptrmap map; /* ptr -> bytes_req */
	struct kmb__ptrmap pfn; /* pfn -> allocated or freed (kmb__page_free_repeat) */
	uint64_t bytes;
};

static int on_alloc(struct live *l, const struct kmb_event *e, struct kmb_trace_facts *f)
{
	uint64_t old;

	if (!e->ptr) {
		f->failed_allocs++;
		return 0;
	}
	f->allocs++;
	f->zero_size_allocs += e->bytes_req == 0;
	f->total_bytes_req += e->bytes_req;
	f->total_bytes_alloc += e->bytes_alloc;
	if (kmb__ptrmap_remove(&l->map, e->ptr, &old)) {
		f->implicit_frees++;
		l->bytes -= old;
	}
	l->bytes += e->bytes_req;
	return kmb__ptrmap_put(&l->map, e->ptr, e->bytes_req);
}

static void on_free(struct live *l, const struct kmb_event *e, struct kmb_trace_facts *f)
{
	uint64_t old;

	if (!e->ptr) {
		f->null_frees++;
		return;
	}
	f->frees++;
	if (kmb__ptrmap_remove(&l->map, e->ptr, &old)) {
		f->matched_frees++;
		l->bytes -= old;
	} else {
		f->unmatched_frees++;
	}
}

#define PFN_ALLOCATED 1
#define PFN_FREED     2

bool kmb__page_free_repeat(struct kmb__ptrmap *m, const struct kmb_event *e, int *rc)
{
	uint64_t *st = e->ptr ? kmb__ptrmap_find(m, e->ptr) : NULL;

	*rc = 0;
	if (!e->ptr)
		return false;
	if (e->kind == KMB_EV_PAGE_FREE && st && *st == PFN_FREED)
		return true;
	if (st)
		*st = e->kind == KMB_EV_PAGE_FREE ? PFN_FREED : PFN_ALLOCATED;
	else
		*rc = kmb__ptrmap_put(m, e->ptr,
		                      e->kind == KMB_EV_PAGE_FREE ? PFN_FREED : PFN_ALLOCATED);
	return false;
}

/* Count the event by kind; false for page events (not in events). */
static bool count_kind(const struct kmb_event *e, struct kmb_trace_facts *f)
{
	switch (e->kind) {
	case KMB_EV_KMALLOC:
		f->kmalloc_events++;
		return true;
	case KMB_EV_KFREE:
		f->kfree_events++;
		return true;
	case KMB_EV_CACHE_ALLOC:
		f->cache_alloc_events++;
		return true;
	case KMB_EV_CACHE_FREE:
		f->cache_free_events++;
		return true;
	case KMB_EV_PAGE_ALLOC:
		f->page_alloc_events++;
		return false;
	default:
		f->page_free_events++;
		return false;
	}
}

int kmb_trace_facts(const struct kmb_trace *t, struct kmb_trace_facts *f)
{
	uint8_t *cpuseen = calloc(UINT16_MAX / 8 + 1, 1);
	struct live l = {.bytes = 0};
	int rc = 0;

	memset(f, 0, sizeof(*f));
	if (!cpuseen)
		return -ENOMEM;
	kmb__ptrmap_init(&l.map);
	kmb__ptrmap_init(&l.pfn);
	for (size_t i = 0; i < t->nev && rc == 0; i++) {
		const struct kmb_event *e = &t->ev[i];

		if (!(cpuseen[e->cpu / 8] & (1u << (e->cpu % 8)))) {
			cpuseen[e->cpu / 8] |= (uint8_t)(1u << (e->cpu % 8));
			f->cpus++;
		}
		if (e->kind >= KMB_EV_PAGE_ALLOC && kmb__page_free_repeat(&l.pfn, e, &rc))
			continue;
		if (!count_kind(e, f))
			continue;
		f->events++;
		if (kmb_event_is_alloc(e->kind))
			rc = on_alloc(&l, e, f);
		else
			on_free(&l, e, f);
		if (l.bytes > f->peak_live_bytes_req)
			f->peak_live_bytes_req = l.bytes;
		if (l.map.n > f->peak_live_objects)
			f->peak_live_objects = l.map.n;
	}
	f->final_live_objects = l.map.n;
	kmb__ptrmap_free(&l.map);
	kmb__ptrmap_free(&l.pfn);
	free(cpuseen);
	return rc;
}
