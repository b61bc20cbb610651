/*
 * bench/trace_cmd.c - `kmbench trace` (stat, convert, record, gen) and loading a workload
 * for every command.
 *
 * trace stat prints the facts of a trace, defined exactly in README "Trace facts" so that
 * two tools reading the same trace agree, then perf kmem-style statistics (workloads/
 * stat.c); --json prints them as one object whose first keys are the facts.  trace
 * convert writes a trace as .kmt (or back as ftrace text), trace record captures one
 * from tracefs, and trace gen (bench/trace_gen_cmd.c) makes synthetic ones.
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results/results.h"

/* getopt_long's errors as kmb_cli_error lines; 0 if c was not one. */
static int opt_error(const char *cmd, int c, char **argv)
{
	if (c == ':')
		return kmb_cli_error(cmd, "option '%s' needs a value", argv[optind - 1]);
	return kmb_cli_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

/* ---- trace stat ------------------------------------------------------------------------ */

static void facts_json(struct kmb_json *j, const char *path, const struct kmb_trace_facts *f)
{
	kmb_json_str(j, "trace", path);
	kmb_json_u64(j, "events", f->events);
	kmb_json_u64(j, "allocs", f->allocs);
	kmb_json_u64(j, "failed_allocs", f->failed_allocs);
	kmb_json_u64(j, "frees", f->frees);
	kmb_json_u64(j, "null_frees", f->null_frees);
	kmb_json_u64(j, "matched_frees", f->matched_frees);
	kmb_json_u64(j, "unmatched_frees", f->unmatched_frees);
	kmb_json_u64(j, "implicit_frees", f->implicit_frees);
	kmb_json_u64(j, "zero_size_allocs", f->zero_size_allocs);
	kmb_json_u64(j, "cpus", f->cpus);
	kmb_json_u64(j, "total_bytes_req", f->total_bytes_req);
	kmb_json_u64(j, "total_bytes_alloc", f->total_bytes_alloc);
	kmb_json_u64(j, "peak_live_bytes_req", f->peak_live_bytes_req);
	kmb_json_u64(j, "peak_live_objects", f->peak_live_objects);
	kmb_json_u64(j, "final_live_objects", f->final_live_objects);
	kmb_json_u64(j, "kmalloc_events", f->kmalloc_events);
	kmb_json_u64(j, "kfree_events", f->kfree_events);
	kmb_json_u64(j, "kmem_cache_alloc_events", f->cache_alloc_events);
	kmb_json_u64(j, "kmem_cache_free_events", f->cache_free_events);
	kmb_json_u64(j, "page_alloc_events", f->page_alloc_events);
	kmb_json_u64(j, "page_free_events", f->page_free_events);
}

static void source_json(struct kmb_json *j, const struct kmb_trace *t)
{
	kmb_json_str(j, "format", kmb_trace_format_name(t->format));
	kmb_json_str(j, "source_format", kmb_trace_format_name(t->source_format));
	kmb_json_u64(j, "lines", t->lines);
	kmb_json_obj_begin(j, "skipped_lines");
	kmb_json_u64(j, "syntax", t->skipped[KMB_SKIP_SYNTAX]);
	kmb_json_u64(j, "field", t->skipped[KMB_SKIP_FIELD]);
	kmb_json_u64(j, "other_events", t->skipped[KMB_SKIP_OTHER_EVENT]);
	kmb_json_obj_end(j);
	kmb_json_u64(j, "lost_events", t->lost_events);
}

static int stat_json(FILE *out, const char *path, const struct kmb_trace *t,
                     const struct kmb_trace_facts *f, const struct kmb_trace_stat *s,
                     const struct kmb_trace_ctx_stat *cs)
{
	struct kmb_json j;

	kmb_json_begin(&j, out);
	kmb_json_obj_begin(&j, NULL);
	facts_json(&j, path, f);
	source_json(&j, t);
	kmb_trace_stat_json(&j, s);
	kmb_trace_ctx_stat_json(&j, cs);
	kmb_json_obj_end(&j);
	return kmb_json_end(&j);
}

static void facts_text(FILE *out, const char *path, const struct kmb_trace *t,
                       const struct kmb_trace_facts *f)
{
	double frag = f->total_bytes_alloc
	                      ? 100.0 * (double)(f->total_bytes_alloc - f->total_bytes_req) /
	                                (double)f->total_bytes_alloc
	                      : 0.0;

	fprintf(out, "%s (%s", path, kmb_trace_format_name(t->format));
	if (t->format == KMB_FMT_KMT)
		fprintf(out, ", from %s", kmb_trace_format_name(t->source_format));
	fprintf(out, ", %" PRIu64 " lines)\n", t->lines);
	fprintf(out,
	        "  events            %12" PRIu64 "  (kmalloc %" PRIu64 ", kfree %" PRIu64
	        ", kmem_cache_alloc %" PRIu64 ", kmem_cache_free %" PRIu64 ")\n",
	        f->events, f->kmalloc_events, f->kfree_events, f->cache_alloc_events,
	        f->cache_free_events);
	fprintf(out,
	        "  allocs            %12" PRIu64 "  (failed %" PRIu64 ", zero-size %" PRIu64 ")\n",
	        f->allocs, f->failed_allocs, f->zero_size_allocs);
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
	if (t->lost_reports)
		fprintf(out, "  lost events       %12" PRIu64 "  (in %" PRIu64 " reports%s)\n",
		        t->lost_events, t->lost_reports,
		        t->lost_events == UINT64_MAX ? "; the sum saturated" : "");
}

static const char stat_usage[] =
        "usage: kmbench trace stat [FILE] [--json] [-o OUT] [--strict] [--sort KEYS] [--line N]\n"
        "                          [--kallsyms FILE | --system-map FILE]\n\n"
        "Facts of a kernel allocation trace (defined in README \"Trace facts\"), then perf "
        "kmem-style\nstatistics: per call site and per cache, summary, sizes, lifetimes, live "
        "bytes over time,\npage allocations by order.  FILE may be ftrace text of any kernel, "
        "trace-cmd report or\nperf script output, or a .kmt; the format is detected.\n"
        "  FILE         the trace (default: the bundled Linux 3.6 boot trace)\n"
        "  --json       one JSON object (the facts' keys first, then the statistics)\n"
        "  -o, --output OUT  write to OUT (atomically) instead of standard output\n"
        "  --strict     stop at the first unparsable line (default: skip and count)\n"
        "  --sort KEYS  order of the tables: frag, hit, bytes, req, pingpong, free, name\n"
        "               (default frag,hit,bytes, as perf kmem)\n"
        "  --line N     rows per table in the text output (default 20, 0 = all)\n"
        "  --kallsyms FILE, --system-map FILE\n"
        "               name raw call sites (c1187838) from FILE's symbols, nearest below,\n"
        "               as name+0xoff (default: TRACE.syms beside the trace, if there)\n";

struct stat_args {
	bool json, strict;
	const char *out, *path, *sort;
	unsigned lines;
};

static int write_stat(const struct stat_args *a, const struct kmb_trace *t,
                      const struct kmb_trace_facts *f, const struct kmb_trace_stat *s)
{
	struct kmb_trace_ctx_stat cs;
	struct kmb_file kf;
	FILE *out = stdout;

	if (kmb_trace_ctx_stat(t, &cs) < 0) {
		fprintf(stderr, "kmbench trace stat: %s: %s\n", a->path, strerror(ENOMEM));
		return 1;
	}
	if (a->out && (out = kmb_file_create(a->out, &kf)) == NULL) {
		fprintf(stderr, "kmbench trace stat: cannot write %s: %s\n", a->out,
		        strerror(errno));
		kmb_trace_ctx_stat_free(&cs);
		return 1;
	}
	if (a->json) {
		stat_json(out, a->path, t, f, s, &cs);
	} else {
		facts_text(out, a->path, t, f);
		kmb_trace_stat_print(out, s, a->lines);
		kmb_trace_ctx_stat_print(out, &cs, a->lines);
	}
	kmb_trace_ctx_stat_free(&cs);
	if (a->out && kmb_file_commit(&kf) != 0) {
		fprintf(stderr, "kmbench trace stat: cannot write %s\n", a->out);
		return 1;
	}
	return 0;
}

static int parse_stat_args(int argc, char **argv, struct stat_args *a)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
	                                     {"strict", no_argument, NULL, 's'},
	                                     {"output", required_argument, NULL, 'o'},
	                                     {"sort", required_argument, NULL, 'S'},
	                                     {"line", required_argument, NULL, 'l'},
	                                     {"kallsyms", required_argument, NULL, 'K'},
	                                     {"system-map", required_argument, NULL, 'K'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int c;

	*a = (struct stat_args){.sort = "frag,hit,bytes", .lines = 20};
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:l:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 's':
			a->strict = true;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'S':
			a->sort = optarg;
			break;
		case 'K':
			kmb_workload_set_symbols(optarg);
			break;
		case 'l':
			if (kmb_parse_uint(optarg, 0, UINT32_MAX, &a->lines) < 0)
				return kmb_cli_error("trace stat", "bad --line '%s'", optarg);
			break;
		case 'h':
			fputs(stat_usage, stdout);
			return -1;
		default:
			return opt_error("trace stat", c, argv);
		}
	}
	if (argc - optind > 1)
		return kmb_cli_error("trace stat", "one trace file at a time");
	a->path = optind < argc ? argv[optind] : kmb_default_trace();
	return 0;
}

static int cmd_stat(int argc, char **argv)
{
	struct stat_args a;
	struct kmb_trace t;
	struct kmb_trace_facts f;
	struct kmb_workload_src src = {.gopt = {.seed = 1}};
	struct kmb_trace_stat s;
	char err[256];
	int rc = parse_stat_args(argc, argv, &a);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (kmb_workload_open(a.path, a.strict, &src, &t, &f, NULL) != 0)
		return 1;
	if ((rc = kmb_trace_stat(&t, &s)) < 0) {
		fprintf(stderr, "kmbench trace stat: %s: %s\n", a.path, strerror(-rc));
		kmb_trace_free(&t);
		return 1;
	}
	if (kmb_trace_stat_sort(&s, a.sort, err, sizeof(err)) < 0)
		rc = kmb_cli_error("trace stat", "%s", err);
	else
		rc = write_stat(&a, &t, &f, &s);
	kmb_trace_stat_free(&s);
	kmb_trace_free(&t);
	return rc;
}

/* ---- trace convert ------------------------------------------------------------------- */

static const char convert_usage[] =
        "usage: kmbench trace convert IN -o OUT [--to kmt|ftrace] [--strict]\n\n"
        "Write a trace (any format kmbench reads) as .kmt, kmbench's compact binary format\n"
        "(README \"Trace formats\"), or back as ftrace text.  OUT is written atomically.\n"
        "  -o, --output OUT  the file to write (required)\n"
        "  --to FMT    kmt (default) or ftrace\n"
        "  --strict    stop at the first unparsable line of IN\n";

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int write_converted(const char *cmd, const struct kmb_trace *t, const char *out_path,
                           bool kmt)
{
	struct kmb_file kf;
	char err[256] = "";
	FILE *out = kmb_file_create(out_path, &kf);
	int rc;

	if (!out) {
		fprintf(stderr, "kmbench %s: cannot write %s: %s\n", cmd, out_path,
		        strerror(errno));
		return 1;
	}
	rc = kmt ? kmb_kmt_write(t, out, err, sizeof(err)) : kmb_trace_write_ftrace(t, out);
	if (rc < 0) {
		kmb_file_abort(&kf);
		fprintf(stderr, "kmbench %s: %s: %s\n", cmd, out_path,
		        err[0] ? err : strerror(-rc));
		return 1;
	}
	if ((rc = kmb_file_commit(&kf)) != 0) {
		fprintf(stderr, "kmbench %s: cannot write %s: %s\n", cmd, out_path, strerror(-rc));
		return 1;
	}
	return 0;
}

static int cmd_convert(int argc, char **argv)
{
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
	                                     {"to", required_argument, NULL, 't'},
	                                     {"strict", no_argument, NULL, 's'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *out = NULL, *to = "kmt";
	struct kmb_trace_facts f;
	struct kmb_workload_src src = {.gopt = {.seed = 1}};
	struct kmb_trace t;
	bool strict = false;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 's':
			strict = true;
			break;
		case 'h':
			fputs(convert_usage, stdout);
			return 0;
		default:
			return opt_error("trace convert", c, argv);
		}
	}
	if (strcmp(to, "kmt") != 0 && strcmp(to, "ftrace") != 0)
		return kmb_cli_error("trace convert", "bad --to '%s' (kmt or ftrace)", to);
	if (argc - optind != 1 || !out)
		return kmb_cli_error("trace convert", "needs one input trace and -o OUT");
	if (kmb_workload_open(argv[optind], strict, &src, &t, &f, NULL) != 0)
		return 1;
	rc = write_converted("trace convert", &t, out, strcmp(to, "kmt") == 0);
	if (rc == 0)
		fprintf(stderr,
		        "kmbench trace convert: %s (%s, %ld bytes) -> %s (%s, %ld bytes), %zu "
		        "events, %" PRIu64 " lost events carried\n",
		        argv[optind], kmb_trace_format_name(t.format), file_size(argv[optind]), out,
		        to, file_size(out), t.nev, t.lost_events);
	kmb_trace_free(&t);
	return rc;
}

/* ---- trace record -------------------------------------------------------------------- */

static volatile sig_atomic_t record_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	record_stop = 1;
}

static const char record_usage[] =
        "usage: kmbench trace record [-o FILE] [--duration S] [--events LIST] [--tracefs DIR]\n"
        "                            [--buffer-kb N]\n\n"
        "Capture kmem events from tracefs (root needed) into FILE as ftrace text: enables the\n"
        "events, reads per_cpu/cpuN/trace_pipe (one thread per CPU), stops after S seconds or\n"
        "on Ctrl-C, restores tracing_on, the events and the buffer size, and merges the CPUs\n"
        "by timestamp.\n"
        "  -o, --output FILE  output (default kmem.trace), written atomically; .kmt: binary\n"
        "  --duration S     seconds to capture (default: until Ctrl-C or SIGTERM)\n"
        "  --events LIST    comma list of kmem events (default: every kmalloc, kfree,\n"
        "                   kmem_cache_*, mm_page_* event the kernel has)\n"
        "  --tracefs DIR    tracefs (default /sys/kernel/tracing, /sys/kernel/debug/tracing)\n"
        "  --buffer-kb N    per-CPU ring buffer size while capturing (default: grown to\n"
        "                   128 MiB, at most 1/8 of the available memory over all CPUs)\n"
        "  --kallsyms FILE  where the symbols of the call sites saved in FILE.syms come\n"
        "                   from (default /proc/kallsyms)\n"
        "FILE ending in .kmt is written as .kmt.  Its own threads' events are filtered out;\n"
        "the lost-event count is said and kept in the trace's header comment.\n";

static int parse_duration(const char *s, double *d)
{
	char *end;

	errno = 0;
	*d = strtod(s, &end);
	return errno || end == s || *end || !(*d > 0) || *d > 1e7 ? -EINVAL : 0;
}

static int parse_record_args(int argc, char **argv, struct kmb_record_opts *o,
                             const char **kallsyms)
{
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
	                                     {"duration", required_argument, NULL, 'd'},
	                                     {"events", required_argument, NULL, 'e'},
	                                     {"tracefs", required_argument, NULL, 't'},
	                                     {"buffer-kb", required_argument, NULL, 'b'},
	                                     {"kallsyms", required_argument, NULL, 'K'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->out_path = optarg;
			break;
		case 'K':
			*kallsyms = optarg;
			break;
		case 'd':
			if (parse_duration(optarg, &o->duration_s) < 0)
				return kmb_cli_error("trace record", "bad --duration '%s'", optarg);
			break;
		case 'e':
			o->events = optarg;
			break;
		case 't':
			o->tracefs = optarg;
			break;
		case 'b':
			if (kmb_parse_uint(optarg, 1, 1u << 30, &o->buffer_kb) < 0)
				return kmb_cli_error("trace record", "bad --buffer-kb '%s'",
				                     optarg);
			break;
		case 'h':
			fputs(record_usage, stdout);
			return -1;
		default:
			return opt_error("trace record", c, argv);
		}
	}
	if (optind < argc)
		return kmb_cli_error("trace record", "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* -o X.kmt: the capture goes to a text spool beside X.kmt first (unique, not kept). */
static int kmt_spool(const char *out, char *text, size_t len)
{
	int fd;

	if (snprintf(text, len, "%s.XXXXXX", out) >= (int)len || (fd = mkstemp(text)) < 0) {
		fprintf(stderr, "kmbench trace record: cannot write next to %s: %s\n", out,
		        strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}

static int record_done(const char *spool, int rc)
{
	if (spool)
		unlink(spool);
	return rc;
}

/* OUT.syms: the symbols of the trace's call sites from kallsyms (workloads/syms.c 4.); a
 * kallsyms that cannot be read is said, not an error of the capture. */
static void save_syms(const struct kmb_trace *t, const char *kallsyms, const char *out)
{
	char path[PATH_MAX], err[600];
	struct kmb_syms y;
	struct kmb_file kf;
	long n = -ENAMETOOLONG;
	FILE *f = NULL;

	if (snprintf(path, sizeof(path), "%s.syms", out) >= (int)sizeof(path) ||
	    kmb_syms_load(kallsyms, &y, err, sizeof(err)) != 0) {
		fprintf(stderr, "kmbench trace record: no symbols saved: %s\n",
		        n == -ENAMETOOLONG && strlen(out) + 6 > sizeof(path) ? strerror(-n) : err);
		return;
	}
	if ((f = kmb_file_create(path, &kf)) != NULL)
		n = kmb_syms_snapshot(&y, t, f);
	if (f && n == 0) {
		kmb_file_abort(&kf);
		fprintf(stderr, "kmbench trace record: no symbol of %s for its call sites\n",
		        kallsyms);
	} else if (f && kmb_file_finish(&kf, n < 0 ? (int)n : 0) == 0)
		fprintf(stderr, "kmbench trace record: %s: %ld symbols of its call sites from %s\n",
		        path, n, kallsyms);
	else
		fprintf(stderr, "kmbench trace record: cannot write %s: %s\n", path,
		        strerror(f ? (n < 0 ? (int)-n : EIO) : errno));
	kmb_syms_free(&y);
}

/* After the capture: the text as .kmt if asked (as trace convert does), the symbols. */
static int finish_record(const char *text, const char *out, bool kmt, const char *kallsyms)
{
	struct kmb_trace_facts f;
	struct kmb_trace t;
	int rc = 0;

	kmb_workload_set_symbols(kallsyms); /* not TRACE.syms of an earlier capture */
	if (kmb_workload_load(text, false, &t, &f, NULL) != 0)
		return 1;
	if (kmt)
		rc = write_converted("trace record", &t, out, true);
	if (rc == 0)
		save_syms(&t, kallsyms, out);
	kmb_trace_free(&t);
	return rc;
}

static int cmd_record(int argc, char **argv)
{
	struct kmb_record_opts o = {.out_path = "kmem.trace", .stop = &record_stop};
	char text[PATH_MAX];
	const char *out;
	bool kmt;
	struct sigaction sa = {.sa_handler = on_stop_signal}, old[3];
	static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
	struct kmb_record_result r;
	const char *kallsyms = "/proc/kallsyms";
	char err[512];
	int rc = parse_record_args(argc, argv, &o, &kallsyms);

	if (rc)
		return rc < 0 ? 0 : rc;
	out = o.out_path;
	kmt = strlen(out) > 4 && strcmp(out + strlen(out) - 4, ".kmt") == 0;
	if (kmt && (rc = kmt_spool(out, text, sizeof(text))) != 0)
		return rc;
	o.out_path = kmt ? text : out;
	o.progress = kmb_progress_enabled() ? stderr : NULL;
	record_stop = 0;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	rc = kmb_trace_record(&o, &r, err, sizeof(err));
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	if (rc < 0) {
		fprintf(stderr, "kmbench trace record: %s\n", err);
		return record_done(kmt ? text : NULL, 1);
	}
	if (kmb_geometry_save(out, err, sizeof(err)) != 0) /* TRACE.slabinfo, beside FILE */
		fprintf(stderr, "kmbench trace record: no cache geometry: %s\n", err);
	fprintf(stderr,
	        "kmbench trace record: %s: %" PRIu64 " lines from %u CPUs in %.1f s (%u events "
	        "enabled in %s, %u KiB buffer per CPU), %" PRIu64 " events lost%s\n",
	        out, r.lines, r.ncpus, r.seconds, r.nevents, r.tracefs, r.buffer_kb, r.lost_events,
	        r.lost_events ? ": a larger --buffer-kb keeps them" : "");
	return record_done(kmt ? text : NULL, finish_record(kmt ? text : out, out, kmt, kallsyms));
}

/* ---- dispatch ------------------------------------------------------------------------ */

static const char trace_usage[] = "usage: kmbench trace COMMAND [OPTIONS]\n\n"
                                  "  stat      facts and perf kmem-style statistics of a trace\n"
                                  "  convert   write a trace as .kmt (or ftrace text)\n"
                                  "  record    capture a trace from tracefs\n"
                                  "  gen       write a synthetic kernel workload trace\n";

int kmb_cmd_trace(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0) {
		fputs(trace_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "stat") == 0)
		return cmd_stat(argc - 1, argv + 1);
	if (strcmp(argv[1], "convert") == 0)
		return cmd_convert(argc - 1, argv + 1);
	if (strcmp(argv[1], "record") == 0)
		return cmd_record(argc - 1, argv + 1);
	if (strcmp(argv[1], "gen") == 0)
		return kmb_cmd_trace_gen(argc - 1, argv + 1);
	return kmb_cli_error("trace", "unknown trace command '%s'", argv[1]);
}
