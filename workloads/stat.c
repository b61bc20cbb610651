/*
 * workloads/stat.c - perf kmem-style statistics of a trace, beyond its exact facts.
 *
 * Theory: one pass over the events, like facts.c, with a map pointer -> index of the
 * allocating event, so that a free is charged to its allocation's call site and cache.
 * What is computed (the facts themselves stay in facts.c, defined in README):
 *
 *   per call site, per cache   hits (non-NULL allocations), failed (NULL), requested and
 *                              allocated bytes, internal fragmentation
 *                              (alloc - req) / alloc, frees of the row's objects (matched
 *                              or implicit) and ping-pong: matched frees on another CPU
 *                              than the allocation's (perf kmem's cross-CPU count).
 *                              A kmem_cache_alloc's cache is its name= or, without one,
 *                              "cache-REQ-ALLOC" (as in the replay plan); a kmalloc's is
 *                              its size class "kmalloc-ALLOC".
 *   sizes                      allocations by requested size, power-of-two classes.
 *   lifetimes                  of freed objects: in allocation and free events (the
 *                              facts' events) between allocation and free, and in trace
 *                              time (0 if the clock went backwards across CPUs); exact
 *                              percentiles (nearest rank) and log2 histograms.
 *   live over time             live objects and bytes at KMB_STAT_TIMELINE points evenly
 *                              spaced over the events (the last point is the end).
 *   pages                      mm_page_* events by order, failed allocations (pfn 0),
 *                              frees of pages not live, live and peak pages (order 0 =
 *                              1 page).
 *
 * Tables are sorted with qsort_r by a list of keys (perf kmem's frag, hit, bytes,
 * pingpong, and req, free, name), numbers descending and names ascending.
 */
#include "workloads/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "results/results.h"

#define NO_ROW   UINT32_MAX
#define MAX_KEYS 8

/* ---- rows ------------------------------------------------------------------------------ */

struct table {
	struct kmb_stat_row *row;
	size_t n, cap;
};

static int add_row(struct table *tb, const char *name, uint32_t *idx)
{
	char *dup = strdup(name);

	if (!dup)
		return -ENOMEM;
	if (tb->n == tb->cap) {
		size_t cap = tb->cap ? 2 * tb->cap : 64;
		struct kmb_stat_row *r = realloc(tb->row, cap * sizeof(*r));

		if (!r) {
			free(dup);
			return -ENOMEM;
		}
		tb->row = r;
		tb->cap = cap;
	}
	memset(&tb->row[tb->n], 0, sizeof(tb->row[0]));
	tb->row[tb->n].name = dup;
	*idx = (uint32_t)tb->n++;
	return 0;
}

struct walker {
	const struct kmb_trace *t;
	struct kmb_trace_stat *s;
	struct table sites, caches;
	uint32_t *site_row;       /* per string index: site row + 1 */
	struct kmb__ptrmap cache; /* cache key -> row */
	struct kmb__ptrmap live;  /* ptr -> allocating event: its slab-event number << 32 | index */
	struct kmb__ptrmap pages; /* pfn -> allocating event index */
	struct kmb__ptrmap pfn;   /* pfn -> allocated or freed (kmb__page_free_repeat) */
	uint64_t *life_ev, *life_ns;
	size_t nlife, lifecap;
	uint64_t events, total_events, live_req, live_alloc;
};

static int site_of(struct walker *w, const struct kmb_event *e, uint32_t *row)
{
	int rc;

	if (w->site_row[e->site]) {
		*row = w->site_row[e->site] - 1;
		return 0;
	}
	if ((rc = add_row(&w->sites, w->t->str[e->site], row)) == 0)
		w->site_row[e->site] = *row + 1;
	return rc;
}

/* The map key of an allocation's cache, and its name. */
static uint64_t cache_key(const struct walker *w, const struct kmb_event *e, char *name, size_t len)
{
	if (e->kind == KMB_EV_KMALLOC) {
		snprintf(name, len, "kmalloc-%" PRIu64, e->bytes_alloc);
		return 1ULL << 62 | (e->bytes_alloc & ((1ULL << 62) - 1));
	}
	if (e->cache) {
		snprintf(name, len, "%s", w->t->str[e->cache]);
		return 1ULL << 63 | e->cache;
	}
	snprintf(name, len, "cache-%" PRIu64 "-%" PRIu64, e->bytes_req, e->bytes_alloc);
	return 1ULL << 61 | ((e->bytes_req & 0x3fffffffULL) << 30) |
	       (e->bytes_alloc & 0x3fffffffULL);
}

static int cache_of(struct walker *w, const struct kmb_event *e, uint32_t *row)
{
	char name[4200];
	uint64_t key = cache_key(w, e, name, sizeof(name)), *v;
	int rc;

	if ((v = kmb__ptrmap_find(&w->cache, key)) != NULL) {
		*row = (uint32_t)*v;
		return 0;
	}
	if ((rc = add_row(&w->caches, name, row)) < 0)
		return rc;
	return kmb__ptrmap_put(&w->cache, key, *row);
}

/* ---- the walk -------------------------------------------------------------------------- */

static int note_lifetime(struct walker *w, uint64_t events, uint64_t ns)
{
	if (w->nlife == w->lifecap) {
		size_t cap = w->lifecap ? 2 * w->lifecap : 1024;
		uint64_t *a = realloc(w->life_ev, cap * sizeof(*a)), *b;

		if (!a)
			return -ENOMEM;
		w->life_ev = a;
		if (!(b = realloc(w->life_ns, cap * sizeof(*b))))
			return -ENOMEM;
		w->life_ns = b;
		w->lifecap = cap;
	}
	w->life_ev[w->nlife] = events;
	w->life_ns[w->nlife++] = ns;
	return 0;
}

/* The object allocated as live value v ends at event e (a free, or an implicit free). */
static int end_object(struct walker *w, uint64_t v, const struct kmb_event *e, bool implicit)
{
	const struct kmb_event *al = &w->t->ev[v & UINT32_MAX];
	struct kmb_trace_stat *s = w->s;
	uint32_t site, cache;
	int rc;

	if ((rc = site_of(w, al, &site)) < 0 || (rc = cache_of(w, al, &cache)) < 0)
		return rc;
	w->sites.row[site].frees++;
	w->caches.row[cache].frees++;
	if (!implicit && e->cpu != al->cpu) {
		w->sites.row[site].pingpong++;
		w->caches.row[cache].pingpong++;
		s->pingpong++;
	}
	s->frees++;
	s->bytes_freed_req += al->bytes_req;
	s->bytes_freed_alloc += al->bytes_alloc;
	w->live_req -= al->bytes_req;
	w->live_alloc -= al->bytes_alloc;
	return note_lifetime(w, w->events - (v >> 32),
	                     e->ts_ns > al->ts_ns ? e->ts_ns - al->ts_ns : 0);
}

static void count_size(struct kmb_trace_stat *s, const struct kmb_event *e)
{
	int b = 0;

	while (b < KMB_STAT_SIZE_BUCKETS - 1 && e->bytes_req > s->size[b].limit)
		b++;
	s->size[b].count++;
	s->size[b].bytes_req += e->bytes_req;
	s->size[b].bytes_alloc += e->bytes_alloc;
}

static void add_hit(struct kmb_stat_row *r, const struct kmb_event *e)
{
	r->hits++;
	r->bytes_req += e->bytes_req;
	r->bytes_alloc += e->bytes_alloc;
}

static int on_alloc(struct walker *w, size_t i, const struct kmb_event *e)
{
	struct kmb_trace_stat *s = w->s;
	uint32_t site, cache;
	uint64_t old;
	int rc;

	if ((rc = site_of(w, e, &site)) < 0 || (rc = cache_of(w, e, &cache)) < 0)
		return rc;
	if (!e->ptr) {
		w->sites.row[site].failed++;
		w->caches.row[cache].failed++;
		s->failed++;
		return 0;
	}
	if (kmb__ptrmap_remove(&w->live, e->ptr, &old) && (rc = end_object(w, old, e, true)) < 0)
		return rc;
	add_hit(&w->sites.row[site], e);
	add_hit(&w->caches.row[cache], e);
	s->allocs++;
	s->bytes_req += e->bytes_req;
	s->bytes_alloc += e->bytes_alloc;
	w->live_req += e->bytes_req;
	w->live_alloc += e->bytes_alloc;
	if (w->live_alloc > s->peak_live_bytes_alloc)
		s->peak_live_bytes_alloc = w->live_alloc;
	count_size(s, e);
	return kmb__ptrmap_put(&w->live, e->ptr, w->events << 32 | i);
}

static int on_free(struct walker *w, const struct kmb_event *e)
{
	uint64_t a;

	if (!e->ptr || !kmb__ptrmap_remove(&w->live, e->ptr, &a))
		return 0;
	return end_object(w, a, e, false);
}

static int on_page(struct walker *w, size_t i, const struct kmb_event *e)
{
	struct kmb_stat_pages *p = &w->s->pages;
	uint64_t a;
	int rc;

	if (kmb__page_free_repeat(&w->pfn, e, &rc)) {
		p->repeated_frees++;
		return 0;
	}
	if (rc < 0)
		return rc;
	if (e->kind == KMB_EV_PAGE_ALLOC) {
		p->allocs[e->order < KMB_STAT_ORDERS ? e->order : KMB_STAT_ORDERS - 1]++;
		if (!e->ptr) {
			p->failed++;
			return 0;
		}
		if (kmb__ptrmap_remove(&w->pages, e->ptr, &a))
			p->live_pages -= 1ULL << w->t->ev[a].order;
		p->live_pages += 1ULL << e->order;
		if (p->live_pages > p->peak_live_pages)
			p->peak_live_pages = p->live_pages;
		return kmb__ptrmap_put(&w->pages, e->ptr, i);
	}
	p->frees[e->order < KMB_STAT_ORDERS ? e->order : KMB_STAT_ORDERS - 1]++;
	if (!e->ptr || !kmb__ptrmap_remove(&w->pages, e->ptr, &a)) {
		p->unmatched_frees += e->ptr != 0;
		return 0;
	}
	p->live_pages -= 1ULL << w->t->ev[a].order;
	return 0;
}

static void sample(struct walker *w, const struct kmb_event *e)
{
	struct kmb_trace_stat *s = w->s;
	unsigned k = s->ntimeline;

	if (k >= KMB_STAT_TIMELINE ||
	    w->events * KMB_STAT_TIMELINE < (uint64_t)(k + 1) * w->total_events)
		return;
	s->timeline[k] = (struct kmb_stat_sample){.event = w->events,
	                                          .ts_ns = e->ts_ns,
	                                          .live_objects = w->live.n,
	                                          .live_bytes_req = w->live_req,
	                                          .live_bytes_alloc = w->live_alloc};
	s->ntimeline++;
}

static int walk_event(struct walker *w, size_t i)
{
	const struct kmb_event *e = &w->t->ev[i];
	int rc;

	if (e->kind == KMB_EV_PAGE_ALLOC || e->kind == KMB_EV_PAGE_FREE)
		return on_page(w, i, e);
	w->events++;
	rc = kmb_event_is_alloc(e->kind) ? on_alloc(w, i, e) : on_free(w, e);
	sample(w, e);
	return rc;
}

/* ---- lifetimes ---------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t rank(const uint64_t *v, size_t n, unsigned pct10)
{
	size_t k = (size_t)(((uint64_t)n * pct10 + 999) / 1000);

	return v[k ? k - 1 : 0];
}

static void summarize(uint64_t *v, size_t n, struct kmb_stat_lifetime *l)
{
	long double sum = 0;

	memset(l, 0, sizeof(*l));
	l->count = n;
	if (!n)
		return;
	qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < n; i++) {
		int b = v[i] ? 64 - __builtin_clzll(v[i]) : 0;

		l->hist[b]++;
		sum += v[i];
	}
	l->min = v[0];
	l->max = v[n - 1];
	l->p50 = rank(v, n, 500);
	l->p90 = rank(v, n, 900);
	l->p99 = rank(v, n, 990);
	l->mean = (double)(sum / n);
}

/* ---- entry points ------------------------------------------------------------------- */

static void init_stat(struct kmb_trace_stat *s)
{
	memset(s, 0, sizeof(*s));
	for (int b = 0; b < KMB_STAT_SIZE_BUCKETS; b++)
		s->size[b].limit = b == KMB_STAT_SIZE_BUCKETS - 1 ? UINT64_MAX : 8ULL << b;
}

static uint64_t slab_events(const struct kmb_trace *t)
{
	uint64_t n = 0;

	for (size_t i = 0; i < t->nev; i++)
		n += t->ev[i].kind < KMB_EV_PAGE_ALLOC;
	return n;
}

static void walker_free(struct walker *w)
{
	free(w->site_row);
	kmb__ptrmap_free(&w->cache);
	kmb__ptrmap_free(&w->live);
	kmb__ptrmap_free(&w->pages);
	kmb__ptrmap_free(&w->pfn);
	free(w->life_ev);
	free(w->life_ns);
}

static int walk(struct walker *w)
{
	int rc = 0;

	for (size_t i = 0; i < w->t->nev && rc == 0; i++)
		rc = walk_event(w, i);
	return rc;
}

int kmb_trace_stat(const struct kmb_trace *t, struct kmb_trace_stat *s)
{
	struct walker w = {.t = t, .s = s};
	int rc = -ENOMEM;

	init_stat(s);
	if (t->nev > UINT32_MAX)
		return -EFBIG;
	w.total_events = slab_events(t);
	if ((w.site_row = calloc(t->nstr ? t->nstr : 1, sizeof(*w.site_row))) != NULL)
		rc = walk(&w);
	s->sites = w.sites.row;
	s->nsites = w.sites.n;
	s->caches = w.caches.row;
	s->ncaches = w.caches.n;
	if (rc == 0) {
		s->never_freed = w.live.n;
		summarize(w.life_ev, w.nlife, &s->life_events);
		summarize(w.life_ns, w.nlife, &s->life_ns);
		rc = kmb_trace_stat_sort(s, "frag,hit,bytes", NULL, 0);
	}
	if (rc < 0)
		kmb_trace_stat_free(s);
	walker_free(&w);
	return rc;
}

void kmb_trace_stat_free(struct kmb_trace_stat *s)
{
	for (size_t i = 0; i < s->nsites; i++)
		free((void *)s->sites[i].name);
	for (size_t i = 0; i < s->ncaches; i++)
		free((void *)s->caches[i].name);
	free(s->sites);
	free(s->caches);
	memset(s, 0, sizeof(*s));
}

/* ---- sorting ------------------------------------------------------------------------ */

enum sort_key { K_FRAG, K_HIT, K_BYTES, K_REQ, K_PINGPONG, K_FREE, K_NAME };

static const struct {
	const char *name;
	enum sort_key key;
} sort_names[] = {
        {"frag", K_FRAG},  {"hit", K_HIT},           {"hits", K_HIT},           {"bytes", K_BYTES},
        {"req", K_REQ},    {"pingpong", K_PINGPONG}, {"ping-pong", K_PINGPONG}, {"free", K_FREE},
        {"frees", K_FREE}, {"name", K_NAME},         {"callsite", K_NAME},
};

static double frag_pct(const struct kmb_stat_row *r)
{
	return r->bytes_alloc ? 100.0 * ((double)r->bytes_alloc - (double)r->bytes_req) /
	                                (double)r->bytes_alloc
	                      : 0.0;
}

static int cmp_key(const struct kmb_stat_row *a, const struct kmb_stat_row *b, enum sort_key k)
{
	double x, y;

	switch (k) {
	case K_FRAG:
		x = frag_pct(a), y = frag_pct(b);
		return (x < y) - (x > y);
	case K_HIT:
		return (a->hits < b->hits) - (a->hits > b->hits);
	case K_BYTES:
		return (a->bytes_alloc < b->bytes_alloc) - (a->bytes_alloc > b->bytes_alloc);
	case K_REQ:
		return (a->bytes_req < b->bytes_req) - (a->bytes_req > b->bytes_req);
	case K_PINGPONG:
		return (a->pingpong < b->pingpong) - (a->pingpong > b->pingpong);
	case K_FREE:
		return (a->frees < b->frees) - (a->frees > b->frees);
	default:
		return strcmp(a->name, b->name);
	}
}

struct keys {
	enum sort_key k[MAX_KEYS];
	int n;
};

static int cmp_rows(const void *pa, const void *pb, void *arg)
{
	const struct keys *ks = arg;

	for (int i = 0; i < ks->n; i++) {
		int c = cmp_key(pa, pb, ks->k[i]);

		if (c)
			return c;
	}
	return strcmp(((const struct kmb_stat_row *)pa)->name,
	              ((const struct kmb_stat_row *)pb)->name);
}

static int parse_keys(const char *s, struct keys *ks, char *err, size_t errlen)
{
	ks->n = 0;
	while (*s) {
		size_t len = strcspn(s, ","), i;

		for (i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++)
			if (strlen(sort_names[i].name) == len &&
			    strncmp(s, sort_names[i].name, len) == 0)
				break;
		if (i == sizeof(sort_names) / sizeof(sort_names[0]) || ks->n == MAX_KEYS) {
			kmb__seterr(err, errlen,
			            "unknown sort key '%.*s' (keys: frag, hit, bytes, req, "
			            "pingpong, free, name)",
			            (int)len, s);
			return -EINVAL;
		}
		ks->k[ks->n++] = sort_names[i].key;
		s += len + (s[len] == ',');
	}
	if (ks->n == 0) {
		kmb__seterr(err, errlen, "no sort key");
		return -EINVAL;
	}
	return 0;
}

int kmb_trace_stat_sort(struct kmb_trace_stat *s, const char *keys, char *err, size_t errlen)
{
	struct keys ks;
	int rc = parse_keys(keys, &ks, err, errlen);

	if (rc < 0)
		return rc;
	if (s->nsites)
		qsort_r(s->sites, s->nsites, sizeof(*s->sites), cmp_rows, &ks);
	if (s->ncaches)
		qsort_r(s->caches, s->ncaches, sizeof(*s->caches), cmp_rows, &ks);
	snprintf(s->sort, sizeof(s->sort), "%s", keys);
	return 0;
}

/* ---- text --------------------------------------------------------------------------- */

static const char rule[] = "--------------------------------------------------------------------"
                           "--------------------------------------------";

/* 1234567 as "1,234,567" */
static const char *grouped(uint64_t v, char *buf, size_t len)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v), j = 0;

	for (int i = 0; i < n && (size_t)j + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[j++] = ',';
		buf[j++] = tmp[i];
	}
	buf[j] = '\0';
	return buf;
}

static void print_table(FILE *out, const char *title, const char *col, const struct kmb_stat_row *r,
                        size_t n, unsigned lines, const char *sort)
{
	size_t shown = lines && lines < n ? lines : n;

	fprintf(out, "\n%s (sorted by %s; %zu of %zu)\n%.112s\n", title, sort, shown, n, rule);
	fprintf(out, " %-34s | %-18s | %-18s | %9s | %9s | %s\n%.112s\n", col, "Total_alloc/Per",
	        "Total_req/Per", "Hit", "Ping-pong", "Frag", rule);
	for (size_t i = 0; i < shown; i++) {
		const struct kmb_stat_row *x = &r[i];
		uint64_t h = x->hits ? x->hits : 1;

		fprintf(out,
		        " %-34.34s | %10" PRIu64 "/%-7" PRIu64 " | %10" PRIu64 "/%-7" PRIu64
		        " | %9" PRIu64 " | %9" PRIu64 " | %7.3f%%\n",
		        x->name, x->bytes_alloc, x->bytes_alloc / h, x->bytes_req, x->bytes_req / h,
		        x->hits, x->pingpong, frag_pct(x));
	}
	if (shown < n)
		fprintf(out, " %-34s | %-18s | %-18s | %9s | %9s | ...\n", "...", "...", "...",
		        "...", "...");
	fprintf(out, "%.112s\n", rule);
}

static void print_summary(FILE *out, const struct kmb_trace_stat *s)
{
	char a[32], b[32];
	double frag = s->bytes_alloc ? 100.0 * ((double)s->bytes_alloc - (double)s->bytes_req) /
	                                       (double)s->bytes_alloc
	                             : 0.0;

	fprintf(out, "\nSUMMARY (slab allocations)\n==========================\n");
	fprintf(out, "Total bytes requested: %s\n", grouped(s->bytes_req, a, sizeof(a)));
	fprintf(out, "Total bytes allocated: %s\n", grouped(s->bytes_alloc, a, sizeof(a)));
	fprintf(out, "Total bytes freed:     %s\n", grouped(s->bytes_freed_alloc, a, sizeof(a)));
	fprintf(out, "Net total bytes allocated: %s\n",
	        grouped(s->bytes_alloc - s->bytes_freed_alloc, a, sizeof(a)));
	fprintf(out, "Total bytes wasted on internal fragmentation: %s\n",
	        grouped(s->bytes_alloc - s->bytes_req, a, sizeof(a)));
	fprintf(out, "Internal fragmentation: %f%%\n", frag);
	fprintf(out, "Cross CPU allocations: %s/%s\n", grouped(s->pingpong, a, sizeof(a)),
	        grouped(s->allocs, b, sizeof(b)));
	fprintf(out, "Peak live bytes allocated: %s\n",
	        grouped(s->peak_live_bytes_alloc, a, sizeof(a)));
}

static void print_sizes(FILE *out, const struct kmb_trace_stat *s)
{
	fprintf(out, "\nRequested sizes\n  %-10s %10s %14s %14s %9s\n", "size <=", "allocs",
	        "bytes_req", "bytes_alloc", "frag");
	for (int b = 0; b < KMB_STAT_SIZE_BUCKETS; b++) {
		const struct kmb_stat_size *z = &s->size[b];
		char lim[24];

		if (!z->count)
			continue;
		if (z->limit == UINT64_MAX)
			snprintf(lim, sizeof(lim), "larger");
		else
			snprintf(lim, sizeof(lim), "%" PRIu64, z->limit);
		fprintf(out, "  %-10s %10" PRIu64 " %14" PRIu64 " %14" PRIu64 " %8.3f%%\n", lim,
		        z->count, z->bytes_req, z->bytes_alloc,
		        z->bytes_alloc ? 100.0 * ((double)z->bytes_alloc - (double)z->bytes_req) /
		                                 (double)z->bytes_alloc
		                       : 0.0);
	}
}

static void print_life(FILE *out, const char *what, const struct kmb_stat_lifetime *l)
{
	fprintf(out,
	        "  %-10s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64
	        " %14.1f\n",
	        what, l->min, l->p50, l->p90, l->p99, l->max, l->mean);
}

static void print_lifetimes(FILE *out, const struct kmb_trace_stat *s)
{
	fprintf(out, "\nObject lifetimes (%" PRIu64 " objects freed, %" PRIu64 " never freed)\n",
	        s->life_events.count, s->never_freed);
	if (!s->life_events.count)
		return;
	fprintf(out, "  %-10s %12s %12s %12s %12s %12s %14s\n", "", "min", "p50", "p90", "p99",
	        "max", "mean");
	print_life(out, "events", &s->life_events);
	print_life(out, "time (ns)", &s->life_ns);
}

static void print_timeline(FILE *out, const struct kmb_trace_stat *s)
{
	if (!s->ntimeline)
		return;
	fprintf(out, "\nLive over time\n  %12s %16s %12s %14s %14s\n", "event", "time (s)",
	        "objects", "bytes_req", "bytes_alloc");
	for (unsigned k = 0; k < s->ntimeline; k++) {
		const struct kmb_stat_sample *p = &s->timeline[k];

		fprintf(out, "  %12" PRIu64 " %16.6f %12" PRIu64 " %14" PRIu64 " %14" PRIu64 "\n",
		        p->event, (double)p->ts_ns / 1e9, p->live_objects, p->live_bytes_req,
		        p->live_bytes_alloc);
	}
}

static void print_pages(FILE *out, const struct kmb_trace_stat *s)
{
	const struct kmb_stat_pages *p = &s->pages;
	uint64_t any = p->failed + p->unmatched_frees;

	for (int o = 0; o < KMB_STAT_ORDERS; o++)
		any += p->allocs[o] + p->frees[o];
	if (!any)
		return;
	fprintf(out, "\nPage allocations by order\n  %-6s %12s %12s\n", "order", "allocs", "frees");
	for (int o = 0; o < KMB_STAT_ORDERS; o++)
		if (p->allocs[o] || p->frees[o])
			fprintf(out, "  %-6d %12" PRIu64 " %12" PRIu64 "\n", o, p->allocs[o],
			        p->frees[o]);
	fprintf(out,
	        "  failed %" PRIu64 ", frees of pages not live %" PRIu64
	        ", live pages at the end %" PRIu64 ", peak %" PRIu64 "\n",
	        p->failed, p->unmatched_frees, p->live_pages, p->peak_live_pages);
	if (p->repeated_frees)
		fprintf(out,
		        "  %" PRIu64 " frees reported twice (mm_page_free and mm_page_free_batched "
		        "of one pfn), counted once\n",
		        p->repeated_frees);
}

void kmb_trace_stat_print(FILE *out, const struct kmb_trace_stat *s, unsigned lines)
{
	print_table(out, "SLAB allocations by call site", "Callsite", s->sites, s->nsites, lines,
	            s->sort);
	print_table(out, "SLAB allocations by cache", "Cache", s->caches, s->ncaches, lines,
	            s->sort);
	print_summary(out, s);
	print_sizes(out, s);
	print_lifetimes(out, s);
	print_timeline(out, s);
	print_pages(out, s);
}

/* ---- JSON --------------------------------------------------------------------------- */

static void json_rows(struct kmb_json *j, const char *key, const char *col,
                      const struct kmb_stat_row *r, size_t n)
{
	kmb_json_arr_begin(j, key);
	for (size_t i = 0; i < n; i++) {
		kmb_json_obj_begin(j, NULL);
		kmb_json_str(j, col, r[i].name);
		kmb_json_u64(j, "hits", r[i].hits);
		kmb_json_u64(j, "failed", r[i].failed);
		kmb_json_u64(j, "bytes_req", r[i].bytes_req);
		kmb_json_u64(j, "bytes_alloc", r[i].bytes_alloc);
		kmb_json_dbl(j, "frag_pct", frag_pct(&r[i]));
		kmb_json_u64(j, "frees", r[i].frees);
		kmb_json_u64(j, "pingpong", r[i].pingpong);
		kmb_json_obj_end(j);
	}
	kmb_json_arr_end(j);
}

static void json_summary(struct kmb_json *j, const struct kmb_trace_stat *s)
{
	kmb_json_obj_begin(j, "summary");
	kmb_json_u64(j, "allocs", s->allocs);
	kmb_json_u64(j, "failed_allocs", s->failed);
	kmb_json_u64(j, "frees", s->frees);
	kmb_json_u64(j, "bytes_requested", s->bytes_req);
	kmb_json_u64(j, "bytes_allocated", s->bytes_alloc);
	kmb_json_u64(j, "bytes_freed", s->bytes_freed_alloc);
	kmb_json_u64(j, "net_bytes_allocated", s->bytes_alloc - s->bytes_freed_alloc);
	kmb_json_u64(j, "bytes_wasted", s->bytes_alloc - s->bytes_req);
	kmb_json_dbl(j, "internal_frag_pct",
	             s->bytes_alloc ? 100.0 * ((double)s->bytes_alloc - (double)s->bytes_req) /
	                                      (double)s->bytes_alloc
	                            : 0.0);
	kmb_json_u64(j, "cross_cpu_frees", s->pingpong);
	kmb_json_u64(j, "peak_live_bytes_alloc", s->peak_live_bytes_alloc);
	kmb_json_obj_end(j);
}

static void json_sizes(struct kmb_json *j, const struct kmb_trace_stat *s)
{
	kmb_json_arr_begin(j, "size_histogram");
	for (int b = 0; b < KMB_STAT_SIZE_BUCKETS; b++) {
		kmb_json_obj_begin(j, NULL);
		if (s->size[b].limit == UINT64_MAX)
			kmb_json_null(j, "max_bytes_req");
		else
			kmb_json_u64(j, "max_bytes_req", s->size[b].limit);
		kmb_json_u64(j, "allocs", s->size[b].count);
		kmb_json_u64(j, "bytes_req", s->size[b].bytes_req);
		kmb_json_u64(j, "bytes_alloc", s->size[b].bytes_alloc);
		kmb_json_obj_end(j);
	}
	kmb_json_arr_end(j);
}

static void json_life(struct kmb_json *j, const char *key, const struct kmb_stat_lifetime *l)
{
	int last = 0;

	kmb_json_obj_begin(j, key);
	kmb_json_u64(j, "count", l->count);
	kmb_json_u64(j, "min", l->min);
	kmb_json_u64(j, "p50", l->p50);
	kmb_json_u64(j, "p90", l->p90);
	kmb_json_u64(j, "p99", l->p99);
	kmb_json_u64(j, "max", l->max);
	kmb_json_dbl(j, "mean", l->mean);
	for (int b = 0; b < KMB_STAT_LIFE_BUCKETS; b++)
		if (l->hist[b])
			last = b;
	kmb_json_arr_begin(j, "log2_histogram"); /* [i]: lifetimes in [2^(i-1), 2^i), [0]: 0 */
	for (int b = 0; l->count && b <= last; b++)
		kmb_json_u64(j, NULL, l->hist[b]);
	kmb_json_arr_end(j);
	kmb_json_obj_end(j);
}

static void json_timeline(struct kmb_json *j, const struct kmb_trace_stat *s)
{
	kmb_json_arr_begin(j, "live_over_time");
	for (unsigned k = 0; k < s->ntimeline; k++) {
		kmb_json_obj_begin(j, NULL);
		kmb_json_u64(j, "event", s->timeline[k].event);
		kmb_json_u64(j, "ts_ns", s->timeline[k].ts_ns);
		kmb_json_u64(j, "live_objects", s->timeline[k].live_objects);
		kmb_json_u64(j, "live_bytes_req", s->timeline[k].live_bytes_req);
		kmb_json_u64(j, "live_bytes_alloc", s->timeline[k].live_bytes_alloc);
		kmb_json_obj_end(j);
	}
	kmb_json_arr_end(j);
}

static void json_pages(struct kmb_json *j, const struct kmb_trace_stat *s)
{
	const struct kmb_stat_pages *p = &s->pages;

	kmb_json_obj_begin(j, "pages");
	kmb_json_arr_begin(j, "by_order");
	for (int o = 0; o < KMB_STAT_ORDERS; o++) {
		kmb_json_obj_begin(j, NULL);
		kmb_json_u64(j, "order", (uint64_t)o);
		kmb_json_u64(j, "allocs", p->allocs[o]);
		kmb_json_u64(j, "frees", p->frees[o]);
		kmb_json_obj_end(j);
	}
	kmb_json_arr_end(j);
	kmb_json_u64(j, "failed_allocs", p->failed);
	kmb_json_u64(j, "unmatched_frees", p->unmatched_frees);
	kmb_json_u64(j, "repeated_frees", p->repeated_frees);
	kmb_json_u64(j, "live_pages", p->live_pages);
	kmb_json_u64(j, "peak_live_pages", p->peak_live_pages);
	kmb_json_obj_end(j);
}

void kmb_trace_stat_json(struct kmb_json *j, const struct kmb_trace_stat *s)
{
	kmb_json_str(j, "sort", s->sort);
	json_rows(j, "callsites", "callsite", s->sites, s->nsites);
	json_rows(j, "caches", "cache", s->caches, s->ncaches);
	json_summary(j, s);
	json_sizes(j, s);
	kmb_json_obj_begin(j, "lifetime");
	json_life(j, "events", &s->life_events);
	json_life(j, "ns", &s->life_ns);
	kmb_json_u64(j, "never_freed", s->never_freed);
	kmb_json_obj_end(j);
	json_timeline(j, s);
	json_pages(j, s);
}
