/*
 * workloads/stat_ctx.c - a trace's allocations by interrupt context, and the call sites
 * that allocated with a sleeping GFP mask in one (`kmbench trace stat`).
 *
 * Theory: the irq-flags column of the ftrace latency format (ftrace.c) gives each event
 * its context; an allocation is counted under its innermost one (NMI, hardirq, softirq,
 * else process).  A sleeping mask (kmb_flags_may_sleep of the mapped M_* flags: the GFP
 * had __GFP_DIRECT_RECLAIM, or __GFP_NOFAIL) in interrupt context is a bug of the traced
 * kernel - might_sleep() would have said "BUG: sleeping function called from invalid
 * context" with CONFIG_DEBUG_ATOMIC_SLEEP - worth reporting upstream, so each such call
 * site is listed with its context, its count and the first line where it happened.  One
 * pass; the rows are indexed by the call site's string-table index (one array of nstr
 * row numbers), so a trace's cost is linear.
 */
#include "workloads/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <kmbench/context.h>

#include "results/results.h"

static unsigned ctx_index(unsigned ctx)
{
	return (ctx & KMB_ECTX_NMI) ? 3 : (ctx & KMB_ECTX_HARDIRQ) ? 2 : (ctx & KMB_ECTX_SOFTIRQ);
}

static int add_bad(struct kmb_trace_ctx_stat *s, uint32_t *row_of, const struct kmb_trace *t,
                   const struct kmb_event *e)
{
	uint32_t r = row_of[e->site];

	if (r == 0) {
		struct kmb_ctx_site *n = realloc(s->bad, (s->nbad + 1) * sizeof(*n));

		if (n == NULL)
			return -ENOMEM;
		s->bad = n;
		n[s->nbad] = (struct kmb_ctx_site){
		        .site = t->str[e->site], .ctx = e->ctx, .first_line = e->line};
		r = row_of[e->site] = (uint32_t)++s->nbad;
	}
	s->bad[r - 1].count++;
	return 0;
}

static int cmp_bad(const void *a, const void *b)
{
	const struct kmb_ctx_site *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->site, y->site);
}

int kmb_trace_ctx_stat(const struct kmb_trace *t, struct kmb_trace_ctx_stat *s)
{
	uint32_t *row_of = calloc(t->nstr ? t->nstr : 1, sizeof(*row_of));

	memset(s, 0, sizeof(*s));
	if (row_of == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < t->nev; i++) {
		const struct kmb_event *e = &t->ev[i];

		if (e->kind != KMB_EV_KMALLOC && e->kind != KMB_EV_CACHE_ALLOC)
			continue;
		s->allocs[ctx_index(e->ctx)]++;
		if (e->ctx && kmb_flags_may_sleep(e->flags) && add_bad(s, row_of, t, e) < 0) {
			free(row_of);
			kmb_trace_ctx_stat_free(s);
			return -ENOMEM;
		}
	}
	free(row_of);
	if (s->nbad)
		qsort(s->bad, s->nbad, sizeof(*s->bad), cmp_bad);
	return 0;
}

void kmb_trace_ctx_stat_free(struct kmb_trace_ctx_stat *s)
{
	free(s->bad);
	s->bad = NULL;
	s->nbad = 0;
}

static const char *const ctx_names[4] = {"process", "softirq", "hardirq", "NMI"};

void kmb_trace_ctx_stat_print(FILE *out, const struct kmb_trace_ctx_stat *s, unsigned lines)
{
	if (s->allocs[1] + s->allocs[2] + s->allocs[3] == 0)
		return; /* no irq-flags column, or nothing in interrupt context */
	fprintf(out, "\nallocations by context (irq-flags column)\n");
	for (unsigned k = 0; k < 4; k++)
		fprintf(out, "  %-8s %12" PRIu64 "\n", ctx_names[k], s->allocs[k]);
	if (s->nbad == 0)
		return;
	fprintf(out, "\nsleeping GFP mask in interrupt context (bugs of the traced kernel)\n");
	fprintf(out, "  %-40s %-8s %10s %10s\n", "call site", "context", "allocs", "first line");
	for (size_t i = 0; i < s->nbad && i < lines; i++)
		fprintf(out, "  %-40s %-8s %10" PRIu64 " %10u\n", s->bad[i].site,
		        kmb_event_ctx_name(s->bad[i].ctx), s->bad[i].count, s->bad[i].first_line);
}

void kmb_trace_ctx_stat_json(struct kmb_json *j, const struct kmb_trace_ctx_stat *s)
{
	kmb_json_obj_begin(j, "contexts");
	for (unsigned k = 0; k < 4; k++)
		kmb_json_u64(j, ctx_names[k], s->allocs[k]);
	kmb_json_arr_begin(j, "sleeping_in_interrupt");
	for (size_t i = 0; i < s->nbad; i++) {
		kmb_json_obj_begin(j, NULL);
		kmb_json_str(j, "callsite", s->bad[i].site);
		kmb_json_str(j, "context", kmb_event_ctx_name(s->bad[i].ctx));
		kmb_json_u64(j, "allocs", s->bad[i].count);
		kmb_json_u64(j, "first_line", s->bad[i].first_line);
		kmb_json_obj_end(j);
	}
	kmb_json_arr_end(j);
	kmb_json_obj_end(j);
}
