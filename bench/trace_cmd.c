/*
 * bench/trace_cmd.c - `kmbench trace stat`, and loading a workload for every command.
 *
 * trace stat prints the facts of a trace, defined exactly in README "Trace facts" so that
 * two tools reading the same trace agree; --json prints them as one object.
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "results/results.h"

static void report_skips(const struct kmb_trace *t)
{
	static const char *const why[KMB_SKIP_NREASONS] = {
	        [KMB_SKIP_SYNTAX] = "not an event line",
	        [KMB_SKIP_FIELD] = "bad or missing field",
	        [KMB_SKIP_OTHER_EVENT] = "other events (not replayed)",
	};

	if (t->skipped[KMB_SKIP_SYNTAX] + t->skipped[KMB_SKIP_FIELD] == 0)
		return;
	fprintf(stderr, "kmbench: %s: skipped lines:", t->path);
	for (int i = 0; i < KMB_SKIP_NREASONS; i++)
		if (t->skipped[i])
			fprintf(stderr, " %" PRIu64 " %s;", t->skipped[i], why[i]);
	fprintf(stderr, " first: %s (--strict stops there)\n", t->first_error);
}

int kmb_workload_load(const char *path, bool strict, struct kmb_trace *t,
                      struct kmb_trace_facts *facts, struct kmb_plan *plan)
{
	struct kmb_trace_opts o = {strict};
	char err[512];
	int rc;

	rc = kmb_trace_load(path, &o, t, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "kmbench: %s\n", err);
		kmb_trace_free(t);
		return rc;
	}
	report_skips(t);
	if ((rc = kmb_trace_facts(t, facts)) != 0 ||
	    (plan && (rc = kmb_trace_plan(t, plan)) != 0)) {
		fprintf(stderr, "kmbench: %s: %s\n", path, strerror(-rc));
		kmb_trace_free(t);
		return rc;
	}
	return 0;
}

static void facts_json(FILE *out, const char *path, const struct kmb_trace_facts *f)
{
	struct kmb_json j;

	kmb_json_begin(&j, out);
	kmb_json_obj_begin(&j, NULL);
	kmb_json_str(&j, "trace", path);
	kmb_json_u64(&j, "events", f->events);
	kmb_json_u64(&j, "allocs", f->allocs);
	kmb_json_u64(&j, "failed_allocs", f->failed_allocs);
	kmb_json_u64(&j, "frees", f->frees);
	kmb_json_u64(&j, "null_frees", f->null_frees);
	kmb_json_u64(&j, "matched_frees", f->matched_frees);
	kmb_json_u64(&j, "unmatched_frees", f->unmatched_frees);
	kmb_json_u64(&j, "implicit_frees", f->implicit_frees);
	kmb_json_u64(&j, "cpus", f->cpus);
	kmb_json_u64(&j, "total_bytes_req", f->total_bytes_req);
	kmb_json_u64(&j, "total_bytes_alloc", f->total_bytes_alloc);
	kmb_json_u64(&j, "peak_live_bytes_req", f->peak_live_bytes_req);
	kmb_json_u64(&j, "peak_live_objects", f->peak_live_objects);
	kmb_json_u64(&j, "final_live_objects", f->final_live_objects);
	kmb_json_u64(&j, "kmalloc_events", f->kmalloc_events);
	kmb_json_u64(&j, "kfree_events", f->kfree_events);
	kmb_json_u64(&j, "kmem_cache_alloc_events", f->cache_alloc_events);
	kmb_json_u64(&j, "kmem_cache_free_events", f->cache_free_events);
	kmb_json_u64(&j, "page_alloc_events", f->page_alloc_events);
	kmb_json_u64(&j, "page_free_events", f->page_free_events);
	kmb_json_obj_end(&j);
	fputc('\n', out);
	kmb_json_end(&j);
}

static void facts_text(FILE *out, const char *path, const struct kmb_trace_facts *f)
{
	double frag = f->total_bytes_alloc
	                      ? 100.0 * (double)(f->total_bytes_alloc - f->total_bytes_req) /
	                                (double)f->total_bytes_alloc
	                      : 0.0;

	fprintf(out, "%s\n", path);
	fprintf(out,
	        "  events            %12" PRIu64 "  (kmalloc %" PRIu64 ", kfree %" PRIu64
	        ", kmem_cache_alloc %" PRIu64 ", kmem_cache_free %" PRIu64 ")\n",
	        f->events, f->kmalloc_events, f->kfree_events, f->cache_alloc_events,
	        f->cache_free_events);
	fprintf(out, "  allocs            %12" PRIu64 "  (failed %" PRIu64 ")\n", f->allocs,
	        f->failed_allocs);
	fprintf(out,
	        "  frees             %12" PRIu64 "  (matched %" PRIu64 ", unmatched %" PRIu64
	        ", NULL %" PRIu64 ", implicit %" PRIu64 ")\n",
	        f->frees, f->matched_frees, f->unmatched_frees, f->null_frees, f->implicit_frees);
	fprintf(out, "  cpus              %12" PRIu64 "\n", f->cpus);
	fprintf(out, "  bytes requested   %12" PRIu64 "\n", f->total_bytes_req);
	fprintf(out, "  bytes allocated   %12" PRIu64 "  (internal fragmentation %.2f%%)\n",
	        f->total_bytes_alloc, frag);
	fprintf(out, "  peak live bytes   %12" PRIu64 "  (requested)\n", f->peak_live_bytes_req);
	fprintf(out, "  peak live objects %12" PRIu64 "\n", f->peak_live_objects);
	fprintf(out, "  final live objects%12" PRIu64 "\n", f->final_live_objects);
	if (f->page_alloc_events + f->page_free_events)
		fprintf(out, "  page events       %12" PRIu64 " alloc, %" PRIu64 " free\n",
		        f->page_alloc_events, f->page_free_events);
}

static const char stat_usage[] =
        "usage: kmbench trace stat [FILE] [--json] [-o OUT] [--strict]\n\n"
        "Facts of a kernel allocation trace (ftrace kmem events), defined in README \"Trace "
        "facts\".\n"
        "  FILE        the trace (default: the bundled Linux 3.6 boot trace)\n"
        "  --json      one JSON object\n"
        "  -o OUT      write to OUT (atomically) instead of standard output\n"
        "  --strict    stop at the first unparsable line (default: skip and count)\n";

static int write_out(const char *out_path, bool json, const char *path,
                     const struct kmb_trace_facts *f)
{
	struct kmb_file kf;
	FILE *out = stdout;

	if (out_path && (out = kmb_file_create(out_path, &kf)) == NULL) {
		fprintf(stderr, "kmbench trace stat: cannot write %s: %s\n", out_path,
		        strerror(errno));
		return 1;
	}
	json ? facts_json(out, path, f) : facts_text(out, path, f);
	if (out_path && kmb_file_commit(&kf) != 0) {
		fprintf(stderr, "kmbench trace stat: cannot write %s\n", out_path);
		return 1;
	}
	return 0;
}

static int cmd_stat(int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
	                                     {"strict", no_argument, NULL, 's'},
	                                     {"output", required_argument, NULL, 'o'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	bool json = false, strict = false;
	const char *out_path = NULL, *path;
	struct kmb_trace t;
	struct kmb_trace_facts f;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			strict = true;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'h':
			fputs(stat_usage, stdout);
			return 0;
		case ':':
			return kmb_cli_error("trace stat", "option '%s' needs a value",
			                     argv[optind - 1]);
		default:
			return kmb_cli_error("trace stat", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		return kmb_cli_error("trace stat", "one trace file at a time");
	path = optind < argc ? argv[optind] : kmb_default_trace();
	if (kmb_workload_load(path, strict, &t, &f, NULL) != 0)
		return 1;
	rc = write_out(out_path, json, path, &f);
	kmb_trace_free(&t);
	return rc;
}

int kmb_cmd_trace(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs("usage: kmbench trace stat [FILE] [--json] [-o OUT] [--strict]\n",
		      argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "stat") == 0)
		return cmd_stat(argc - 1, argv + 1);
	return kmb_cli_error("trace", "unknown trace command '%s'", argv[1]);
}
