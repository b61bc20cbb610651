/*
 * tests/test_schema.c - the declared result schema (results/schema.def): the table is
 * consistent, a replay result written as JSON reads back with every field equal, and
 * files written under an old name (the alias) still read.
 */
#include "kmb_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/engine/engine.h"
#include "results/results.h"
#include "results/schema.h"

KMB_TEST(schema_table_is_consistent)
{
	for (int m = 0; m < KMB_NMETRICS; m++) {
		const struct kmb_metric *k = &kmb_metrics[m];

		ASSERT_TRUE(k->name[0] && k->desc[0]);
		ASSERT_EQ_I(kmb_metric_find(k->name), m); /* names are unique */
		if (k->alias[0])
			ASSERT_EQ_I(kmb_metric_find(k->alias), m);
		ASSERT_TRUE(k->type != KMB_MT_STR || k->dir == KMB_MD_NONE);
	}
	ASSERT_EQ_I(kmb_metric_find("jw_footprint_at_peak_ratio"),
	            KMB_M_jw_footprint_at_peak_live_ratio);
	ASSERT_EQ_I(kmb_metric_find("skipped_frees"), KMB_M_frees_of_failed_allocs);
	ASSERT_EQ_I(kmb_metrics[KMB_M_ops_per_cpu_sec].dir, KMB_MD_HIGHER);
	ASSERT_EQ_I(kmb_metrics[KMB_M_alloc_p99_ns].dir, KMB_MD_LOWER);
	ASSERT_EQ_STR(kmb_metrics[KMB_M_free_p999_ns].json, "free_ns");
	ASSERT_EQ_STR(kmb_metrics[KMB_M_free_p999_ns].sub, "p999");
	ASSERT_EQ_I(kmb_metric_find("no_such_metric"), -1);
}

/* A result whose every scalar differs from every other, and from 0. */
static void fill(struct kmb_replay_result *r)
{
	uint64_t k = 1000;

	memset(r, 0, sizeof(*r));
	snprintf(r->backend, sizeof(r->backend), "slab:magazine=7");
	snprintf(r->trace, sizeof(r->trace), "kmbench trace gen larson --seed 3");
	snprintf(r->topology, sizeof(r->topology), "node:2 core:2 pu:1");
	snprintf(r->mapping, sizeof(r->mapping), "copies");
	snprintf(r->abort_msg, sizeof(r->abort_msg), "deadlock \"quoted\"\n");
	r->threads = 3, r->threads_bound = 2, r->replicate = 5, r->repeat = 4, r->strict = true;
	r->events = k++, r->ops = k++, r->allocs = k++, r->frees = k++, r->failed_allocs = k++;
	r->skipped_frees = k++, r->unmatched_frees = k++, r->page_ops_skipped = k++;
	r->cross_cpu_frees = k++, r->cross_node_frees = k++;
	r->seconds = 0.125, r->ops_per_sec = 1.0 / 3, r->timed_ops_per_sec = 2.5e6;
	r->timer_overhead_ns = 21.7, r->cpu_seconds = 0.25, r->ops_per_cpu_sec = 4e7 / 3;
	r->dep_wait_seconds = 1e-9, r->timer_resolution_ns = 10.0 / 3;
	r->peak_live_error_bytes = k++, r->peak_footprint_error_bytes = k++;
	r->latency_every = 7;
	r->peak_live_bytes_req = k++, r->peak_live_bytes_alloc = k++;
	r->peak_footprint_bytes = (uint64_t)1 << 52, r->live_bytes_alloc_at_peak = k++;
	r->footprint_at_peak_bytes = k++, r->peak_at_op = k++;
	r->internal_frag_pct = 12.5, r->jw_footprint_at_peak_ratio = 1.0 + 1.0 / 7;
	r->jw_peak_footprint_ratio = 2.0 / 3, r->mem_bytes = k++, r->meta_bytes_at_end = k++;
	r->mem.sleeps = k++, r->mem.nofail_retries = k++, r->mem.deadlocks = k++;
	r->mem.injected_faults = k++, r->invariants = true, r->aborted = true;
	r->nstats = 2;
	r->stats[0] = (struct kmb_stat){.name = "reserve_alloc", .unit = "events", .value = k++};
	r->stats[1] = (struct kmb_stat){.name = "pages_reserve", .unit = "events", .value = k++};
	kmb_hist_init(&r->alloc_ns);
	kmb_hist_init(&r->free_ns);
	for (uint64_t v = 1; v < 5000; v = v * 3 + 1)
		kmb_hist_record(&r->alloc_ns, v);
	kmb_hist_record(&r->free_ns, 77);
}

static bool same_value(int m, const struct kmb_result *a, const struct kmb_result *b)
{
	if (kmb_metrics[m].type == KMB_MT_STR)
		return a->s[m] && b->s[m] && strcmp(a->s[m], b->s[m]) == 0;
	return a->v[m] == b->v[m];
}

KMB_TEST(schema_round_trip_every_field)
{
	struct kmb_replay_result *r = calloc(1, sizeof(*r));
	struct kmb_result *w = malloc(sizeof(*w)), *back = malloc(sizeof(*back));
	char *text = NULL, err[256];
	size_t len = 0;
	struct kmb_jv j;
	FILE *f = open_memstream(&text, &len);

	ASSERT_TRUE(r && w && back && f);
	fill(r);
	kmb_replay_result_values(r, w);
	for (int m = 0; m < KMB_NMETRICS; m++) /* every field is set */
		ASSERT_TRUE(kmb_metrics[m].type == KMB_MT_STR ? w->s[m] != NULL
		                                              : isfinite(w->v[m]));
	ASSERT_CMP_F(w->v[KMB_M_reserve_allocs], ==, r->stats[0].value + r->stats[1].value);
	ASSERT_CMP_F(w->v[KMB_M_alloc_p50_ns], ==, kmb_hist_percentile(&r->alloc_ns, 50));
	ASSERT_EQ_STR(w->s[KMB_M_order], "strict");
	ASSERT_EQ_I(kmb_replay_write_json(f, r), 0);
	fclose(f);
	ASSERT_EQ_I(kmb_jv_parse(text, len, &j, err, sizeof(err)), 0);
	ASSERT_EQ_U(kmb_result_read(&j, back), KMB_NMETRICS);
	for (int m = 0; m < KMB_NMETRICS; m++)
		if (!same_value(m, w, back))
			kmb_test_fail(__FILE__, __LINE__, "%s: wrote %.17g '%s', read %.17g '%s'",
			              kmb_metrics[m].name, w->v[m], w->s[m] ? w->s[m] : "",
			              back->v[m], back->s[m] ? back->s[m] : "");
	kmb_jv_free(&j);
	free(text);
	free(w);
	free(back);
	free(r);
}

KMB_TEST(schema_reads_old_names)
{
	static const char old[] = "{\"backend\": \"bucket\", \"jw_footprint_at_peak_ratio\": 1.5,"
	                          " \"skipped_frees\": 4, \"alloc_ns\": {\"p99\": 300},"
	                          " \"ops_per_sec\": \"not a number\"}";
	struct kmb_result *v = malloc(sizeof(*v));
	struct kmb_jv j;
	char err[128];

	ASSERT_EQ_I(kmb_jv_parse(old, strlen(old), &j, err, sizeof(err)), 0);
	ASSERT_EQ_U(kmb_result_read(&j, v), 4); /* the string ops_per_sec is not one */
	ASSERT_EQ_STR(v->s[KMB_M_backend], "bucket");
	ASSERT_CMP_F(v->v[KMB_M_jw_footprint_at_peak_live_ratio], ==, 1.5);
	ASSERT_CMP_F(v->v[KMB_M_frees_of_failed_allocs], ==, 4);
	ASSERT_CMP_F(v->v[KMB_M_alloc_p99_ns], ==, 300);
	ASSERT_TRUE(isnan(v->v[KMB_M_ops_per_sec]) && isnan(v->v[KMB_M_alloc_p50_ns]));
	kmb_jv_free(&j);
	free(v);
}

KMB_TEST_MAIN()
