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

#define VMSTAT_TOP 8

static void sizes_text(char *buf, size_t len, double mask)
{
	uint64_t m = mask > 0 && mask < 1.8e19 ? (uint64_t)mask : 0;
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 64 && n < len; i++)
		if (m >> i & 1)
			n += (size_t)snprintf(buf + n, len - n, "%s%" PRIu64, n ? "," : "",
			                      (uint64_t)1 << i);
}

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

static int cmp_high(const void *x, const void *y)
{
	double a = kmb_jv_num(*(const struct kmb_jv *const *)x, "high_use", 0);
	double b = kmb_jv_num(*(const struct kmb_jv *const *)y, "high_use", 0);

	return (a < b) - (a > b);
}

static void vmstat_backend(struct kmb_report *r, unsigned b, unsigned w)
{
	char cell[400], path[PATH_MAX], err[256], x[3][32], sizes[256];
	const struct kmb_jv *types, **top = NULL;
	struct kmb_jv j;
	struct kmb_rtable *t;
	size_t n = 0;
	int rc = -ENOENT;

	cell_file(r->b[b], r->w[w], r->t[0], cell, sizeof(cell));
	for (unsigned k = 1; k <= 1000 && rc == -ENOENT; k++) {
		snprintf(path, sizeof(path), "%s/replay/%s-r%u.json", r->dir, cell, k);
		rc = kmb_report_file_exists(r, path + strlen(r->dir) + 1)
		             ? kmb_jv_load(path, &j, err, sizeof(err))
		             : -ENOENT;
	}
	if (rc != 0)
		return;
	types = kmb_jv_get(&j, "types");
	if (types && types->type == KMB_JV_ARR && (top = calloc(types->n + 1, sizeof(*top)))) {
		for (size_t i = 0; i < types->n; i++)
			top[i] = &types->kid[i];
		qsort(top, types->n, sizeof(*top), cmp_high);
		n = types->n < VMSTAT_TOP ? types->n : VMSTAT_TOP;
	}
	kmb_rdoc_heading(&r->d, 3, "%s (%zu of %zu types)", r->b[b], n,
	                 types && types->type == KMB_JV_ARR ? types->n : 0);
	t = kmb_rdoc_table(&r->d, "Type|InUse|MemUse|HighUse|Requests|Failed|Sleeps|Size(s)",
	                   "lrrrrrrl");
	for (size_t i = 0; i < n; i++) {
		sizes_text(sizes, sizeof(sizes), kmb_jv_num(top[i], "size_classes", 0));
		kmb_rtable_cell(t, "%s", kmb_jv_str(top[i], "type", "?"));
		kmb_rtable_cell(t, "%.0f", kmb_jv_num(top[i], "inuse", NAN));
		kmb_rtable_cell(t, "%s", kmb_rf_bytes(x[0], kmb_jv_num(top[i], "memuse", NAN)));
		kmb_rtable_cell(t, "%s", kmb_rf_bytes(x[1], kmb_jv_num(top[i], "high_use", NAN)));
		kmb_rtable_cell(t, "%.0f", kmb_jv_num(top[i], "requests", NAN));
		kmb_rtable_cell(t, "%.0f", kmb_jv_num(top[i], "failed", NAN));
		kmb_rtable_cell(t, "%.0f", kmb_jv_num(top[i], "sleeps", NAN));
		kmb_rtable_cell(t, "%s", sizes);
	}
	free(top);
	kmb_jv_free(&j);
}

void kmb_report_vmstat(struct kmb_report *r)
{
	if (r->nw == 0 || r->nb == 0)
		return;
	kmb_rdoc_heading(&r->d, 2, "vmstat -m");
	kmb_rdoc_para(
	        &r->d,
	        "FreeBSD vmstat -m statistics of each call site (a malloc type) at the end of "
	        "a repetition of %s at %u thread%s: the %d types with the highest memory "
	        "high-water mark, per backend. MemUse and HighUse count usable bytes, so they "
	        "include each backend's rounding; Size(s) are the block sizes it used.",
	        r->w[0], r->t[0], r->t[0] == 1 ? "" : "s", VMSTAT_TOP);
	for (unsigned b = 0; b < r->nb; b++)
		vmstat_backend(r, b, 0);
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
