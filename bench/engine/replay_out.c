/*
 * bench/engine/replay_out.c - a replay's result as text (for people) and JSON (for tools).
 *
 * The JSON is the contract other tools read (README "Replay results"): its scalar keys
 * and histograms are those of the declared schema, results/schema.def, in that order,
 * filled by kmb_replay_result_values() (the schema's one expansion with expressions);
 * the arrays after them (nodes, by_size, extfrag indices, backend_stats, types) are
 * written here.
 */
#include "engine.h"

#include <inttypes.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "results/results.h"
#include "results/schema.h"

static void print_lat(FILE *out, const char *what, const struct kmb_hist *h)
{
	if (h->count == 0) {
		fprintf(out, "  %-5s latency ns   (not timed)\n", what);
		return;
	}
	fprintf(out,
	        "  %-5s latency ns   p50 %-6" PRIu64 " p90 %-6" PRIu64 " p99 %-6" PRIu64
	        " p99.9 %-7" PRIu64 " max %" PRIu64 "\n",
	        what, kmb_hist_percentile(h, 50), kmb_hist_percentile(h, 90),
	        kmb_hist_percentile(h, 99), kmb_hist_percentile(h, 99.9), h->max);
}

static void print_nodes(FILE *out, const struct kmb_replay_result *r)
{
	fprintf(out, "  cross-CPU frees %" PRIu64 ", cross-node frees %" PRIu64 "\n",
	        r->cross_cpu_frees, r->cross_node_frees);
	for (unsigned n = 0; n < KMB_MAX_NODES; n++)
		if (r->node_local_allocs[n] + r->node_remote_allocs[n])
			fprintf(out,
			        "  node %u: %" PRIu64 " local allocations, %" PRIu64 " remote\n", n,
			        r->node_local_allocs[n], r->node_remote_allocs[n]);
}

/* Fidelity (replay.c 9.): kmalloc and kmem_cache, each with how many were comparable. */
static void print_fidelity(FILE *out, const struct kmb_replay_result *r)
{
	static const char *const what[2] = {"kmalloc", "kmem_cache"};

	fprintf(out, "  fidelity (usable size = traced bytes_alloc):");
	for (unsigned c = 0; c < 2; c++) {
		if (r->fidelity_events[c] == 0)
			fprintf(out, "%s %s - (no comparable allocation)", c ? ";" : "", what[c]);
		else
			fprintf(out, "%s %s %.2f%% of %" PRIu64, c ? ";" : "", what[c],
			        r->fidelity_pct[c], r->fidelity_events[c]);
	}
	fputc('\n', out);
}

static uint64_t class_max(unsigned k)
{
	return (uint64_t)16 << k;
}

static void print_sizes(FILE *out, const struct kmb_replay_result *r)
{
	if (r->size_alloc_ns == NULL || r->alloc_ns.count == 0)
		return;
	fprintf(out,
	        "  latency by requested size (ns): size<=   allocs   p50    p99  |  frees   p50"
	        "    p99\n");
	for (unsigned k = 0; k < KMB_SIZE_CLASSES; k++) {
		const struct kmb_hist *a = &r->size_alloc_ns[k], *f = &r->size_free_ns[k];

		if (a->count + f->count == 0)
			continue;
		if (k == KMB_SIZE_CLASSES - 1)
			fprintf(out, "  %38s", "larger");
		else
			fprintf(out, "  %38" PRIu64, class_max(k));
		fprintf(out,
		        " %8" PRIu64 " %5" PRIu64 " %6" PRIu64 "  | %6" PRIu64 " %5" PRIu64
		        " %6" PRIu64 "\n",
		        a->count, kmb_hist_percentile(a, 50), kmb_hist_percentile(a, 99), f->count,
		        kmb_hist_percentile(f, 50), kmb_hist_percentile(f, 99));
	}
}

void kmb_replay_print(FILE *out, const struct kmb_replay_result *r)
{
	fprintf(out, "replay of %s on %s%s\n", r->trace, r->backend,
	        r->aborted ? " (ABORTED)" : "");
	fprintf(out,
	        "  %u thread%s (%u bound), replicate %u (mapping %s), repeat %u, order %s; "
	        "topology %s\n",
	        r->threads, r->threads == 1 ? "" : "s", r->threads_bound, r->replicate, r->mapping,
	        r->repeat, r->strict ? "strict" : "deps", r->topology);
	if (r->mem_rule[0])
		fprintf(out, "  simulated memory sized from the trace: %s\n", r->mem_rule);
	fprintf(out, "  events %" PRIu64 ", operations %" PRIu64 " in %.3f ms: %.0f ops/s\n",
	        r->events, r->ops, r->seconds * 1e3, r->ops_per_sec);
	fprintf(out,
	        "  CPU time %.3f ms: %.0f ops per CPU-second; waiting for other threads %.3f ms\n",
	        r->cpu_seconds * 1e3, r->ops_per_cpu_sec, r->dep_wait_seconds * 1e3);
	print_lat(out, "alloc", &r->alloc_ns);
	print_lat(out, "free", &r->free_ns);
	fprintf(out,
	        "  timer cost %.1f ns per measured operation (included above), resolution %.1f "
	        "ns (the cycle counter's smallest step)",
	        r->timer_overhead_ns, r->timer_resolution_ns);
	if (r->latency_every > 1)
		fprintf(out, "; 1 in %u operations timed", r->latency_every);
	fputc('\n', out);
	print_sizes(out, r);
	fprintf(out, "  peak live requested %" PRIu64 " B, peak live allocated %" PRIu64 " B",
	        r->peak_live_bytes_req, r->peak_live_bytes_alloc);
	if (r->peak_live_error_bytes || r->peak_footprint_error_bytes)
		fprintf(out, " (within %" PRIu64 " B; footprint within %" PRIu64 " B)",
		        r->peak_live_error_bytes, r->peak_footprint_error_bytes);
	fputc('\n', out);
	fprintf(out, "  peak footprint %" PRIu64 " B (%.1f%% of %" PRIu64 " MiB)\n",
	        r->peak_footprint_bytes,
	        r->mem_bytes ? 100.0 * (double)r->peak_footprint_bytes / (double)r->mem_bytes : 0.0,
	        r->mem_bytes >> 20);
	fprintf(out, "  internal fragmentation %.2f%% (at peak live requested bytes)\n",
	        r->internal_frag_pct);
	print_fidelity(out, r);
	fprintf(out,
	        "  Johnstone & Wilson: footprint at peak live / peak live %.3f, peak footprint / "
	        "peak live %.3f\n",
	        r->jw_footprint_at_peak_ratio, r->jw_peak_footprint_ratio);
	print_nodes(out, r);
	fprintf(out,
	        "  failed allocs %" PRIu64 ", unmatched frees %" PRIu64
	        " (allocated before the trace), frees of failed allocs %" PRIu64 "\n",
	        r->failed_allocs, r->unmatched_frees, r->skipped_frees);
	if (r->events_not_replayed)
		fprintf(out,
		        "  trace events not replayed %" PRIu64 " of %" PRIu64
		        " (NULL allocations, NULL and unmatched frees, %" PRIu64
		        " zero-size allocations and their frees)\n",
		        r->events_not_replayed, r->events, r->zero_size_allocs);
	fprintf(out,
	        "  M_WAITOK sleeps %" PRIu64 ", M_NOFAIL retries %" PRIu64
	        ", injected page-source faults %" PRIu64 "\n",
	        r->mem.sleeps, r->mem.nofail_retries, r->mem.injected_faults);
	if (r->has_extfrag) {
		fprintf(out,
		        "  extfrag at end, order 0..%d (Linux mm/vmstat.c)\n    unusable index    "
		        " ",
		        KMB_EXTFRAG_ORDERS - 1);
		for (int o = 0; o < KMB_EXTFRAG_ORDERS; o++)
			fprintf(out, " %d.%03d", r->extfrag_unusable[o] / 1000,
			        r->extfrag_unusable[o] % 1000);
		fprintf(out, "\n    fragmentation index");
		for (int o = 0; o < KMB_EXTFRAG_ORDERS; o++)
			fprintf(out, " %s%d.%03d", r->extfrag_index[o] < 0 ? "-" : "",
			        abs(r->extfrag_index[o]) / 1000, abs(r->extfrag_index[o]) % 1000);
		fputc('\n', out);
	}
	if (r->page_ops_skipped)
		fprintf(out, "  page events not replayed: %" PRIu64 "\n", r->page_ops_skipped);
	if (r->kfree_null)
		fprintf(out, "  kfree(NULL) calls: %" PRIu64 " (no-ops, timed as frees)\n",
		        r->kfree_null);
	if (r->intr_allocs)
		fprintf(out,
		        "  interrupt context: %" PRIu64 " allocations, %" PRIu64
		        " with a sleeping GFP mask (a bug of the traced kernel)\n",
		        r->intr_allocs, r->intr_sleeping_allocs);
	if (r->nstats) {
		fprintf(out, "  %s counters:\n", r->backend);
		for (size_t i = 0; i < r->nstats; i++)
			fprintf(out, "    %-24s %12" PRIu64 " %s\n", r->stats[i].name,
			        r->stats[i].value, r->stats[i].unit);
	}
	if (r->vmstat)
		fprintf(out, "\n%s", r->vmstat);
	if (r->aborted)
		fprintf(out, "  aborted: %s\n", r->abort_msg);
}

static void json_sizes(struct kmb_json *j, const struct kmb_replay_result *r)
{
	kmb_json_arr_begin(j, "by_size");
	for (unsigned k = 0; r->size_alloc_ns && k < KMB_SIZE_CLASSES; k++) {
		if (r->size_alloc_ns[k].count + r->size_free_ns[k].count == 0)
			continue;
		kmb_json_obj_begin(j, NULL);
		if (k == KMB_SIZE_CLASSES - 1)
			kmb_json_null(j, "size_max");
		else
			kmb_json_u64(j, "size_max", class_max(k));
		kmb_json_hist(j, "alloc_ns", &r->size_alloc_ns[k]);
		kmb_json_hist(j, "free_ns", &r->size_free_ns[k]);
		kmb_json_obj_end(j);
	}
	kmb_json_arr_end(j);
}

static void json_nodes(struct kmb_json *j, const struct kmb_replay_result *r)
{
	kmb_json_arr_begin(j, "nodes");
	for (unsigned n = 0; n < KMB_MAX_NODES; n++) {
		if (r->node_local_allocs[n] + r->node_remote_allocs[n] == 0)
			continue;
		kmb_json_obj_begin(j, NULL);
		kmb_json_u64(j, "node", n);
		kmb_json_u64(j, "local_allocs", r->node_local_allocs[n]);
		kmb_json_u64(j, "remote_allocs", r->node_remote_allocs[n]);
		kmb_json_obj_end(j);
	}
	kmb_json_arr_end(j);
}

static void json_stats(struct kmb_json *j, const struct kmb_replay_result *r)
{
	kmb_json_obj_begin(j, "backend_stats");
	for (size_t i = 0; i < r->nstats; i++)
		kmb_json_u64(j, r->stats[i].name, r->stats[i].value);
	kmb_json_obj_end(j);
}

static void json_types(struct kmb_json *j, const struct kmb_replay_result *r)
{
	kmb_json_arr_begin(j, "types");
	for (size_t i = 0; i < r->ntypes; i++) {
		const struct kmb_type_stats *s = &r->types[i].s;

		kmb_json_obj_begin(j, NULL);
		kmb_json_str(j, "type", r->types[i].name);
		kmb_json_i64(j, "inuse", s->inuse);
		kmb_json_i64(j, "memuse", s->memuse);
		kmb_json_i64(j, "high_use", s->maxused);
		kmb_json_u64(j, "requests", s->calls);
		kmb_json_u64(j, "failed", s->failed);
		kmb_json_u64(j, "sleeps", s->sleeps);
		kmb_json_u64(j, "nofail_retries", s->retries);
		kmb_json_u64(j, "size_classes", s->sizes);
		kmb_json_obj_end(j);
	}
	kmb_json_arr_end(j);
}

/* slabtop's figures of a cache whose backend keeps slabs (kmem_cache_info). */
static void json_cache_info(struct kmb_json *j, const struct kmb_cache_info *in)
{
	kmb_json_obj_begin(j, "slabinfo");
	kmb_json_u64(j, "active_objs", in->active_objs);
	kmb_json_u64(j, "total_objs", in->total_objs);
	kmb_json_u64(j, "active_slabs", in->active_slabs);
	kmb_json_u64(j, "total_slabs", in->total_slabs);
	kmb_json_u64(j, "objs_per_slab", in->objs_per_slab);
	kmb_json_u64(j, "pages_per_slab", in->pages_per_slab);
	kmb_json_obj_end(j);
}

/* vmstat -m's cache lines: memory counts usable bytes, as a type's (kmalloc.h). */
static void json_caches(struct kmb_json *j, const struct kmb_replay_result *r)
{
	kmb_json_arr_begin(j, "caches");
	for (size_t i = 0; i < r->ncaches; i++) {
		const struct kmb_cache_stats *s = &r->caches[i].s;

		kmb_json_obj_begin(j, NULL);
		kmb_json_str(j, "cache", r->caches[i].name);
		kmb_json_u64(j, "object_size", s->objsize);
		kmb_json_u64(j, "usable_size", s->usable);
		kmb_json_i64(j, "inuse", s->inuse);
		kmb_json_i64(j, "memuse", s->inuse * (int64_t)s->usable);
		kmb_json_i64(j, "high_use", s->maxinuse * (int64_t)s->usable);
		kmb_json_u64(j, "requests", s->calls);
		kmb_json_u64(j, "failed", s->failed);
		if (r->caches[i].has_info)
			json_cache_info(j, &r->caches[i].info);
		kmb_json_obj_end(j);
	}
	kmb_json_arr_end(j);
}

/* Sum of the backend's counters whose name says "reserve" (buddy reserve_alloc, the vmem
 * page source's pages_reserve, ...): allocations below the min watermark. */
static uint64_t kmb__reserve_allocs(const struct kmb_replay_result *r)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->nstats; i++)
		if (strstr(r->stats[i].name, "reserve") && strcmp(r->stats[i].unit, "events") == 0)
			n += r->stats[i].value;
	return n;
}

#define PUT_STR(res, m, e)  ((res)->s[m] = (e))
#define PUT_U64(res, m, e)  ((res)->v[m] = (double)(e))
#define PUT_DBL(res, m, e)  ((res)->v[m] = (double)(e))
#define PUT_BOOL(res, m, e) ((res)->v[m] = (e) ? 1 : 0)

/* The one expansion of results/schema.def with its expressions. */
void kmb_replay_result_values(const struct kmb_replay_result *r, struct kmb_result *res)
{
	kmb_result_clear(res);
#define KMB_METRIC(n, al, t, u, d, desc, e) PUT_##t(res, KMB_M_##n, e);
#define KMB_HIST(n, desc, e)                kmb_result_hist(res, KMB_M_##n##_count, e);
#include "results/schema.def"
#undef KMB_METRIC
#undef KMB_HIST
}

int kmb_replay_write_json(FILE *out, const struct kmb_replay_result *r)
{
	struct kmb_result *v = malloc(sizeof(*v));
	struct kmb_json j;

	if (v == NULL)
		return -ENOMEM;
	kmb_replay_result_values(r, v);
	kmb_json_begin(&j, out);
	kmb_json_obj_begin(&j, NULL);
	kmb_result_json(&j, v);
	free(v);
	json_nodes(&j, r);
	json_sizes(&j, r);
	if (r->has_extfrag) {
		kmb_json_arr_begin(&j, "extfrag_unusable_index");
		for (int o = 0; o < KMB_EXTFRAG_ORDERS; o++)
			kmb_json_dbl(&j, NULL, r->extfrag_unusable[o] / 1000.0);
		kmb_json_arr_end(&j);
		kmb_json_arr_begin(&j, "extfrag_fragmentation_index");
		for (int o = 0; o < KMB_EXTFRAG_ORDERS; o++)
			kmb_json_dbl(&j, NULL, r->extfrag_index[o] / 1000.0);
		kmb_json_arr_end(&j);
	}
	json_stats(&j, r);
	json_types(&j, r);
	json_caches(&j, r);
	kmb_json_obj_end(&j);
	fputc('\n', out);
	return kmb_json_end(&j);
}

int kmb_replay_write_samples(FILE *out, const struct kmb_replay_result *r)
{
	fprintf(out, "ops,live_objects,live_bytes_req,live_bytes_alloc,footprint_bytes,meta_bytes,"
	             "free_bytes,largest_free_bytes\n");
	for (size_t i = 0; i < r->nsamples_cap && r->samples; i++) {
		const struct kmb_sample *s = &r->samples[i];

		if (!s->valid)
			continue;
		fprintf(out,
		        "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		        ",%" PRIu64 ",%" PRIu64 "\n",
		        s->ops, s->live_objects, s->live_bytes_req, s->live_bytes_alloc,
		        s->footprint_bytes, s->meta_bytes, s->free_bytes, s->largest_free);
	}
	return ferror(out) ? -EIO : 0;
}
