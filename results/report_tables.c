/*
 * results/report_tables.c - the report's tables beside the ranking: vmstat -m of the first
 * workload (from the replay JSON), behaviour under memory exhaustion, and what failed.
 */
#include "results/report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * vmstat -m, pivoted: one table for the first workload at the base thread count, a row per
 * malloc type or kmem_cache (the VMSTAT_TOP with the highest memory high-water mark on any
 * backend), a column per backend.  The figures come from each backend's first replay JSON
 * of that cell ("types" and "caches": bench/engine/replay_out.c).  Requests are the
 * successful allocations (the largest count over the backends: a backend where some
 * failed has fewer); a cell is the backend's memory high-water mark in usable bytes and,
 * when some failed, the count of failed allocations.
 */
#define VMSTAT_TOP 16

static void cell_file(const char *b, const char *w, unsigned t, char *buf, size_t len)
{
	char spec[300];

	snprintf(spec, sizeof(spec), "%s", b);
	for (char *q = spec; *q; q++)
		if (strchr("/: ,'\"()=", *q))
			*q = '_';
	if (t == 1)
		snprintf(buf, len, "%s-%s", spec, w);
	else
		snprintf(buf, len, "%s-%s-t%u", spec, w, t);
}

struct vm_row {
	char name[64];
	bool cache;
	double requests, top;
	double *high, *failed; /* per backend; NAN: not in that backend's replay */
};

struct vm_pivot {
	struct vm_row *rows;
	size_t n, cap;
	unsigned nb;
};

static struct vm_row *vm_find(struct vm_pivot *v, const char *name, bool cache)
{
	struct vm_row *r;

	for (size_t i = 0; i < v->n; i++)
		if (v->rows[i].cache == cache && strcmp(v->rows[i].name, name) == 0)
			return &v->rows[i];
	if (v->n == v->cap) {
		void *p = realloc(v->rows, (v->cap = v->cap ? 2 * v->cap : 64) * sizeof(*v->rows));

		if (p == NULL)
			return NULL;
		v->rows = p;
	}
	r = &v->rows[v->n];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->cache = cache;
	r->high = malloc(v->nb * sizeof(double));
	r->failed = malloc(v->nb * sizeof(double));
	if (r->high == NULL || r->failed == NULL) {
		free(r->high);
		free(r->failed);
		return NULL;
	}
	for (unsigned b = 0; b < v->nb; b++)
		r->high[b] = r->failed[b] = NAN;
	v->n++;
	return r;
}

/* The rows of one backend's "types" or "caches" array. */
static void vm_add(struct vm_pivot *v, unsigned b, const struct kmb_jv *arr, bool cache)
{
	for (size_t i = 0; arr && arr->type == KMB_JV_ARR && i < arr->n; i++) {
		const struct kmb_jv *e = &arr->kid[i];
		struct vm_row *r = vm_find(v, kmb_jv_str(e, cache ? "cache" : "type", "?"), cache);

		if (r == NULL)
			return;
		r->high[b] = kmb_jv_num(e, "high_use", NAN);
		r->failed[b] = kmb_jv_num(e, "failed", 0);
		r->requests = fmax(r->requests, kmb_jv_num(e, "requests", 0));
		r->top = fmax(r->top, r->high[b]);
	}
}

/* Backend b's first replay JSON of workload w at the base thread count. */
static int cell_json(struct kmb_report *r, unsigned b, unsigned w, struct kmb_jv *j)
{
	char cell[400], path[PATH_MAX], err[256];
	int rc = -ENOENT;

	cell_file(r->b[b], r->w[w], r->t[0], cell, sizeof(cell));
	for (unsigned k = 1; k <= 1000 && rc == -ENOENT; k++) {
		snprintf(path, sizeof(path), "%s/replay/%s-r%u.json", r->dir, cell, k);
		rc = kmb_report_file_exists(r, path + strlen(r->dir) + 1)
		             ? kmb_jv_load(path, j, err, sizeof(err))
		             : -ENOENT;
	}
	return rc;
}

static int cmp_top(const void *x, const void *y)
{
	const struct vm_row *a = x, *b = y;

	if (a->top != b->top)
		return (a->top < b->top) - (a->top > b->top);
	return strcmp(a->name, b->name);
}

static void vm_table(struct kmb_report *r, struct vm_pivot *v)
{
	size_t hl = 64 + (size_t)r->nb * 80, n = v->n < VMSTAT_TOP ? v->n : VMSTAT_TOP;
	char *head = malloc(hl), *align = malloc(r->nb + 4), x[32], y[32];
	struct kmb_rtable *t;
	size_t k = (size_t)snprintf(head, head ? hl : 0, "Type|Kind|Requests (allocations)");

	if (head == NULL || align == NULL)
		goto out;
	for (unsigned b = 0; b < r->nb && k < hl; b++)
		k += (size_t)snprintf(head + k, hl - k, "|%s", r->b[b]);
	memset(align, 'r', r->nb + 3);
	align[0] = align[1] = 'l';
	align[r->nb + 3] = '\0';
	qsort(v->rows, v->n, sizeof(*v->rows), cmp_top);
	t = kmb_rdoc_table(&r->d, head, align);
	for (size_t i = 0; i < n; i++) {
		const struct vm_row *row = &v->rows[i];

		kmb_rtable_cell(t, "%s", row->name);
		kmb_rtable_cell(t, "%s", row->cache ? "kmem_cache" : "malloc type");
		kmb_rtable_cell(t, "%s", kmb_rf_count(x, row->requests));
		for (unsigned b = 0; b < r->nb; b++)
			if (isnan(row->high[b]))
				kmb_rtable_cell(t, "-");
			else if (row->failed[b] > 0)
				kmb_rtable_cell(t, "%s, %s failed", kmb_rf_bytes(x, row->high[b]),
				                kmb_rf_count(y, row->failed[b]));
			else
				kmb_rtable_cell(t, "%s", kmb_rf_bytes(x, row->high[b]));
	}
out:
	free(head);
	free(align);
}

/*
 * slabtop, for each backend that keeps its caches in slabs (kmem_cache_info: the replay
 * JSON's "slabinfo" of a cache): the caches of the first workload, the VMSTAT_TOP with the
 * most memory in their slabs, at the end of the same repetition as vmstat -m.
 */
static double slab_bytes(const struct kmb_jv *c)
{
	const struct kmb_jv *si = kmb_jv_get(c, "slabinfo");

	return kmb_jv_num(si, "total_slabs", 0) * kmb_jv_num(si, "pages_per_slab", 0);
}

static int cmp_slab_bytes(const void *x, const void *y)
{
	double a = slab_bytes(*(const struct kmb_jv *const *)x),
	       b = slab_bytes(*(const struct kmb_jv *const *)y);

	if (a != b)
		return (a < b) - (a > b);
	return strcmp(kmb_jv_str(*(const struct kmb_jv *const *)x, "cache", ""),
	              kmb_jv_str(*(const struct kmb_jv *const *)y, "cache", ""));
}

static void slabtop_rows(struct kmb_rtable *t, const struct kmb_jv **c, size_t n)
{
	char x[32];

	for (size_t i = 0; i < n; i++) {
		const struct kmb_jv *si = kmb_jv_get(c[i], "slabinfo");
		double act = kmb_jv_num(si, "active_objs", 0),
		       tot = kmb_jv_num(si, "total_objs", 0);

		kmb_rtable_cell(t, "%s", kmb_jv_str(c[i], "cache", "?"));
		kmb_rtable_cell(t, "%s", kmb_rf_count(x, act));
		kmb_rtable_cell(t, "%s", kmb_rf_count(x, tot));
		kmb_rtable_cell(t, "%.0f%%", tot > 0 ? 100 * act / tot : 0);
		kmb_rtable_cell(t, "%s", kmb_rf_count(x, kmb_jv_num(si, "active_slabs", 0)));
		kmb_rtable_cell(t, "%s", kmb_rf_count(x, kmb_jv_num(si, "total_slabs", 0)));
		kmb_rtable_cell(t, "%.0f", kmb_jv_num(si, "objs_per_slab", 0));
		kmb_rtable_cell(t, "%.0f", kmb_jv_num(si, "pages_per_slab", 0));
		kmb_rtable_cell(t, "%s", kmb_rf_bytes(x, kmb_jv_num(c[i], "object_size", NAN)));
		kmb_rtable_cell(t, "%s", kmb_rf_bytes(x, slab_bytes(c[i]) * 4096));
	}
}

static void slabtop_backend(struct kmb_report *r, unsigned b, bool *any)
{
	const struct kmb_jv *caches, **c = NULL;
	struct kmb_jv j;
	size_t n = 0;

	if (cell_json(r, b, 0, &j) != 0)
		return;
	caches = kmb_jv_get(&j, "caches");
	if (caches && caches->type == KMB_JV_ARR && (c = calloc(caches->n + 1, sizeof(*c))))
		for (size_t i = 0; i < caches->n; i++)
			if (kmb_jv_get(&caches->kid[i], "slabinfo"))
				c[n++] = &caches->kid[i];
	if (n > 0) {
		if (!*any)
			kmb_rdoc_para(
			        &r->d,
			        "slabtop (Linux slabinfo) of each backend that keeps its "
			        "kmem_caches in slabs, at the same moment: the %d caches with "
			        "the most memory in slabs. Objects allocated from the slabs "
			        "include those cached in per-CPU layers (magazines), as Linux "
			        "counts them; Use is allocated over all object slots; Slab "
			        "memory is slabs x pages per slab x 4 KiB.",
			        VMSTAT_TOP);
		*any = true;
		qsort(c, n, sizeof(*c), cmp_slab_bytes);
		kmb_rdoc_heading(&r->d, 3, "slabtop: %s (%zu caches)", r->b[b], n);
		slabtop_rows(kmb_rdoc_table(&r->d,
		                            "Cache|Objects allocated (count)|Object slots (count)|"
		                            "Use (%)|Slabs in use (count)|Slabs (count)|"
		                            "Objects per slab (count)|Pages per slab (4 KiB)|"
		                            "Object size (bytes)|Slab memory (bytes)",
		                            "lrrrrrrrrr"),
		             c, n < VMSTAT_TOP ? n : VMSTAT_TOP);
	}
	free(c);
	kmb_jv_free(&j);
}

void kmb_report_vmstat(struct kmb_report *r)
{
	bool any_slabs = false;
	struct vm_pivot v = {NULL, 0, 0, r->nb};
	size_t ntypes = 0, ncaches = 0;

	if (r->nw == 0 || r->nb == 0)
		return;
	for (unsigned b = 0; b < r->nb; b++) {
		struct kmb_jv j;

		if (cell_json(r, b, 0, &j) != 0)
			continue;
		vm_add(&v, b, kmb_jv_get(&j, "types"), false);
		vm_add(&v, b, kmb_jv_get(&j, "caches"), true);
		kmb_jv_free(&j);
	}
	for (size_t i = 0; i < v.n; i++) {
		ntypes += !v.rows[i].cache;
		ncaches += v.rows[i].cache;
	}
	kmb_rdoc_heading(&r->d, 2, "vmstat -m");
	kmb_rdoc_para(&r->d,
	              "FreeBSD vmstat -m statistics of %s at %u thread%s, at the end of its first "
	              "repetition, for malloc types (call sites; %zu in all) and kmem_caches "
	              "(%zu): the %zu with the highest memory high-water mark on any backend. "
	              "Each backend's column is its memory high-water mark (HighUse, bytes: "
	              "KiB, MiB), which counts usable bytes and so includes its rounding, and "
	              "the allocations that failed (count) where some did; '-': not used on "
	              "that backend. Requests (allocations) is the largest count of successful "
	              "allocations over the backends.",
	              r->w[0], r->t[0], r->t[0] == 1 ? "" : "s", ntypes, ncaches,
	              v.n < VMSTAT_TOP ? v.n : VMSTAT_TOP);
	if (v.n > 0)
		vm_table(r, &v);
	for (unsigned b = 0; b < r->nb; b++)
		slabtop_backend(r, b, &any_slabs);
	for (size_t i = 0; i < v.n; i++) {
		free(v.rows[i].high);
		free(v.rows[i].failed);
	}
	free(v.rows);
}

static int exhaust_workload(const struct kmb_report *r)
{
	const struct kmb_jv *wl = kmb_jv_get(&r->run, "workloads");

	for (size_t i = 0; wl && wl->type == KMB_JV_ARR && i < wl->n; i++)
		if (strcmp(kmb_jv_str(&wl->kid[i], "generator", ""), "exhaust") == 0)
			for (unsigned w = 0; w < r->nw; w++)
				if (strcmp(r->w[w], kmb_jv_str(&wl->kid[i], "name", "")) == 0)
					return (int)w;
	for (unsigned w = 0; w < r->nw; w++)
		if (strcmp(r->w[w], "exhaust") == 0)
			return (int)w;
	return -1;
}

static void exhaust_table(struct kmb_report *r, unsigned w, unsigned t)
{
	unsigned nt = r->t[t]; /* t: index of the thread count */
	struct kmb_rtable *tb;
	int most_sleep = -1, fewest = -1;
	double vs = 0, vf = INFINITY;
	unsigned rows = 0;

	for (unsigned b = 0; b < r->nb; b++)
		rows += kmb_report_row(r, b, w, t) != 0;
	if (rows == 0)
		return;
	kmb_rdoc_heading(&r->d, 3, "%s, %u thread%s", r->w[w], nt, nt == 1 ? "" : "s");
	tb = kmb_rdoc_table(&r->d,
	                    "backend|failed allocs (NULL returned)|M_WAITOK sleeps|M_NOFAIL "
	                    "retries|reserve allocations|deadlocks|ops/s (median)",
	                    "lrrrrrr");
	for (unsigned b = 0; b < r->nb; b++) {
		size_t rw = kmb_report_row(r, b, w, t);
		char x[5][32];

		if (rw == 0)
			continue;
		kmb_rtable_cell(tb, "%s", r->b[b]);
		kmb_rtable_cell(tb, "%s",
		                kmb_rf_count(x[0], kmb_report_per_pass(r, rw, "failed_allocs")));
		kmb_rtable_cell(tb, "%s", kmb_rf_count(x[1], kmb_report_per_pass(r, rw, "sleeps")));
		kmb_rtable_cell(tb, "%s",
		                kmb_rf_count(x[2], kmb_report_per_pass(r, rw, "nofail_retries")));
		kmb_rtable_cell(tb, "%s",
		                kmb_rf_count(x[3], kmb_report_per_pass(r, rw, "reserve_allocs")));
		kmb_rtable_cell(tb, "%s",
		                kmb_rf_count(x[4], kmb_report_per_pass(r, rw, "deadlocks")));
		kmb_rtable_cell(tb, "%s", kmb_rf_ops(x[0], kmb_report_num(r, rw, "ops_per_sec")));
		if (kmb_report_per_pass(r, rw, "sleeps") > vs) {
			vs = kmb_report_per_pass(r, rw, "sleeps");
			most_sleep = (int)b;
		}
		if (kmb_report_per_pass(r, rw, "failed_allocs") < vf) {
			vf = kmb_report_per_pass(r, rw, "failed_allocs");
			fewest = (int)b;
		}
	}
	if (fewest >= 0)
		kmb_rdoc_item(
		        &r->d, "%u thread%s: %s fails the fewest allocations (%.0f per pass)%s%s%s",
		        nt, nt == 1 ? "" : "s", r->b[fewest], vf, most_sleep >= 0 ? "; " : ".",
		        most_sleep >= 0 ? r->b[most_sleep] : "",
		        most_sleep >= 0 ? " puts M_WAITOK requests to sleep most often." : "");
}

void kmb_report_exhaust(struct kmb_report *r)
{
	int w = exhaust_workload(r);

	kmb_rdoc_heading(&r->d, 2, "Under memory exhaustion");
	if (w < 0) {
		kmb_rdoc_para(&r->d,
		              "This run did not include the exhaust workload; kmbench run "
		              "--workloads exhaust (or the default workloads) shows how each "
		              "backend behaves below the watermarks.");
		return;
	}
	kmb_rdoc_para(
	        &r->d,
	        "The exhaust workload drives memory below the page allocator's watermarks. Per "
	        "pass over the trace (the repetition's counts divided by its passes): "
	        "allocations that returned NULL (M_NOWAIT, or M_FAILOK), M_WAITOK requests put "
	        "to sleep until memory was freed (other threads must free: expect them at 2+ "
	        "threads only), M_NOFAIL retries, and allocations that dipped into the reserve "
	        "below the min watermark (M_USE_RESERVE; counted by page sources that keep "
	        "one).");
	for (unsigned t = 0; t < r->nt; t++)
		exhaust_table(r, (unsigned)w, t);
}

void kmb_report_failures(struct kmb_report *r)
{
	bool any = false;

	for (size_t i = 1; i < r->sum.nrows; i++) {
		const char *e = kmb_csv_get(&r->sum, i, "error");

		if (e[0] == '\0')
			continue;
		if (!any)
			kmb_rdoc_heading(&r->d, 2, "Failures");
		any = true;
		kmb_rdoc_item(
		        &r->d, "%s on %s at %s thread(s): %s", kmb_csv_get(&r->sum, i, "backend"),
		        kmb_csv_get(&r->sum, i, "workload"), kmb_csv_get(&r->sum, i, "threads"), e);
	}
	for (size_t i = 1; r->has_frames && i < r->frames.nrows; i++) {
		const char *e = kmb_csv_get(&r->frames, i, "error");

		if (e[0] == '\0' || strstr(e, "holds no simulated page frame"))
			continue;
		if (!any)
			kmb_rdoc_heading(&r->d, 2, "Failures");
		any = true;
		kmb_rdoc_item(&r->d, "picture of memory, %s on %s: %s",
		              kmb_csv_get(&r->frames, i, "backend"),
		              kmb_csv_get(&r->frames, i, "workload"), e);
	}
}
