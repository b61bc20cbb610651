/*
 * bench/replay_cmd.c - `kmbench replay`: one trace on one backend.
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "results/results.h"

static const char replay_usage[] =
        "usage: kmbench replay [--backend NAME] [--trace FILE] [--json] [-o OUT] [options]\n\n"
        "Replay a kernel allocation trace on one backend and report throughput, latency\n"
        "percentiles, footprint, fragmentation, failures and the vmstat -m table.\n"
        "  -b, --backend NAME   backend (kmbench list; default buddy, or the first one built\n"
        "                       when buddy is not: -DKMB_BACKENDS)\n"
        "  -t, --trace FILE     a trace file (ftrace kmem, perf script, .kmt), a generator's\n"
        "                       name (kmbench list; its defaults, seed 1) or linux-3.6-boot,\n"
        "                       the bundled Linux 3.6 boot trace (the default)\n"
        "  --json               one JSON object (keys in README \"Replay results\")\n"
        "  -o, --output OUT     write to OUT (atomically) instead of standard output\n"
        "  --mem SIZE           simulated physical memory (K/M/G suffixes; default: from the\n"
        "                       trace, peak live x copies x 3 + 16M rounded up, at least\n"
        "                       256M; refused below one copy's peak live bytes)\n"
        "  --invariants         INVARIANTS on (redzones, poison, free checks)\n"
        "  --no-invariants      INVARIANTS off even in a debug build\n"
        "  --no-timing          no per-operation latency (throughput only)\n"
        "  --latency-every N    time one operation in N at random instead of every one\n"
        "                       (the timer's cost spread thin; default 1)\n"
        "  --strict             stop at the first unparsable trace line\n"
        "  --geometry FILE      the traced kernel's cache geometry, a copy of /proc/slabinfo\n"
        "                       (default: TRACE.slabinfo beside the trace, if there is one)\n"
        "  --threads N          replay threads (default 1)\n"
        "  --replicate K        K disjoint copies of the trace at once (default 1)\n"
        "  --map copies|streams copy r runs whole on thread r % N (copies; the default when\n"
        "                       K >= N), or traced CPU c of copy r on thread (r * CPUs + c)\n"
        "                       % N (streams; the default when K < N)\n"
        "  --repeat K           replay it K times in a row (default 1)\n"
        "  --warmup N           N untimed passes first, not counted (default 0)\n"
        "  --order deps|strict  a free waits only for its allocation (deps, default), or\n"
        "                       every operation keeps the trace's global order (strict)\n"
        "  --topology DESC      hwloc synthetic topology (\"node:2 core:2 pu:1\") or an .xml\n"
        "                       file; default: this machine (threads bound to PUs)\n"
        "  --placement spread|compact  threads across NUMA nodes first, or filling one\n"
        "  --samples FILE       write ~1000 samples of live bytes and footprint as CSV\n"
        "  --pace timestamps[=SCALE]  honour the trace's gaps between events, scaled\n"
        "                       (default: as fast as possible); a timestamp going\n"
        "                       backwards counts as no gap, a gap over 10 s as 10 s\n"
        "  --fault-mtbf N       page sources fail once in N calls at random: M_NOWAIT\n"
        "                       failures, M_WAITOK and M_NOFAIL retries (fault injection)\n"
        "  --kallsyms FILE, --system-map FILE  name raw call sites (vmstat -m types) from\n"
        "                       FILE's symbols (default: TRACE.syms beside the trace)\n"
        "  --strict-context     a sleeping allocation the trace made in interrupt context\n"
        "                       stops the replay with a panic (default: counted, reported\n"
        "                       with file:line, served)\n";

struct replay_args {
	struct kmb_replay_opts o;
	const char *trace, *out, *samples, *geometry;
	bool json, strict;
};

static int parse_count(const char *opt, const char *v, unsigned max, unsigned *out)
{
	if (kmb_parse_uint(v, 1, max, out) != 0)
		return kmb_cli_error("replay", "bad %s '%s' (1..%u)", opt, v, max);
	return 0;
}

/* "timestamps" or "timestamps=SCALE" (SCALE > 0, e.g. 0.5 replays twice as fast). */
static int parse_pace(const char *v, double *out)
{
	char *end;

	if (strcmp(v, "timestamps") == 0) {
		*out = 1.0;
		return 0;
	}
	if (strncmp(v, "timestamps=", 11) == 0) {
		*out = strtod(v + 11, &end);
		if (*end == '\0' && end != v + 11 && *out > 0 && *out <= 1e6)
			return 0;
	}
	return kmb_cli_error("replay", "bad --pace '%s' (timestamps or timestamps=SCALE)", v);
}

/* Options with values beyond the basic ones; 1 = not ours. */
static int parse_more(int c, const char *v, struct replay_args *a)
{
	unsigned n;

	switch (c) {
	case 'P':
		return parse_count("--threads", v, KMB_MAX_CPUS, &a->o.threads);
	case 'R':
		return parse_count("--replicate", v, 64, &a->o.replicate);
	case 'E':
		return parse_count("--repeat", v, 1000, &a->o.repeat);
	case 'W':
		if (kmb_parse_uint(v, 0, 1000, &n) != 0)
			return kmb_cli_error("replay", "bad --warmup '%s' (0..1000)", v);
		a->o.warmup = n;
		return 0;
	case 'M':
		if (strcmp(v, "copies") != 0 && strcmp(v, "streams") != 0)
			return kmb_cli_error("replay", "bad --map '%s' (copies or streams)", v);
		a->o.map = strcmp(v, "copies") == 0 ? KMB_MAP_COPIES : KMB_MAP_STREAMS;
		return 0;
	case 'O':
		if (strcmp(v, "strict") != 0 && strcmp(v, "deps") != 0)
			return kmb_cli_error("replay", "bad --order '%s' (deps or strict)", v);
		a->o.strict = strcmp(v, "strict") == 0;
		return 0;
	case 'L':
		if (strcmp(v, "spread") != 0 && strcmp(v, "compact") != 0)
			return kmb_cli_error("replay", "bad --placement '%s' (spread or compact)",
			                     v);
		a->o.compact = strcmp(v, "compact") == 0;
		return 0;
	case 'G':
		a->o.topology = v;
		return 0;
	case 'K':
		kmb_workload_set_symbols(v);
		return 0;
	case 'S':
		a->samples = v;
		return 0;
	case 'Y':
		a->geometry = v;
		return 0;
	case 'C':
		return parse_pace(v, &a->o.pace);
	case 'V':
		return parse_count("--latency-every", v, 1000000, &a->o.latency_every);
	case 'F':
		if (kmb_parse_uint(v, 2, 4000000000u, &n) != 0)
			return kmb_cli_error("replay", "bad --fault-mtbf '%s' (2..4000000000)", v);
		a->o.fault_mtbf = n;
		return 0;
	default:
		return 1;
	}
}

static int parse(int argc, char **argv, struct replay_args *a)
{
	static const struct option opts[] = {{"backend", required_argument, NULL, 'b'},
	                                     {"trace", required_argument, NULL, 't'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"output", required_argument, NULL, 'o'},
	                                     {"mem", required_argument, NULL, 'm'},
	                                     {"invariants", no_argument, NULL, 'I'},
	                                     {"no-invariants", no_argument, NULL, 'N'},
	                                     {"no-timing", no_argument, NULL, 'T'},
	                                     {"latency-every", required_argument, NULL, 'V'},
	                                     {"strict", no_argument, NULL, 's'},
	                                     {"threads", required_argument, NULL, 'P'},
	                                     {"replicate", required_argument, NULL, 'R'},
	                                     {"repeat", required_argument, NULL, 'E'},
	                                     {"warmup", required_argument, NULL, 'W'},
	                                     {"map", required_argument, NULL, 'M'},
	                                     {"order", required_argument, NULL, 'O'},
	                                     {"topology", required_argument, NULL, 'G'},
	                                     {"placement", required_argument, NULL, 'L'},
	                                     {"samples", required_argument, NULL, 'S'},
	                                     {"pace", required_argument, NULL, 'C'},
	                                     {"fault-mtbf", required_argument, NULL, 'F'},
	                                     {"geometry", required_argument, NULL, 'Y'},
	                                     {"kallsyms", required_argument, NULL, 'K'},
	                                     {"system-map", required_argument, NULL, 'K'},
	                                     {"strict-context", no_argument, NULL, 'X'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":b:t:o:", opts, NULL)) != -1) {
		if ((rc = parse_more(c, optarg, a)) != 1) {
			if (rc != 0)
				return rc;
			continue;
		}
		switch (c) {
		case 'b':
			a->o.backend = optarg;
			break;
		case 't':
			a->trace = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'I':
			a->o.invariants = KMB_INVARIANTS_ON;
			break;
		case 'N':
			a->o.invariants = KMB_INVARIANTS_OFF;
			break;
		case 'T':
			a->o.timing = false;
			break;
		case 's':
			a->strict = true;
			break;
		case 'X':
			a->o.strict_context = true;
			break;
		case 'm':
			if (kmb_parse_size(optarg, &a->o.mem_bytes) != 0 ||
			    a->o.mem_bytes < (1u << 20))
				return kmb_cli_error("replay",
				                     "bad --mem '%s' (a size of at least 1M, "
				                     "e.g. 256M)",
				                     optarg);
			break;
		case 'h':
			fputs(replay_usage, stdout);
			exit(0);
		case ':':
			return kmb_cli_error("replay", "option '%s' needs a value",
			                     argv[optind - 1]);
		default:
			return kmb_cli_error("replay", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return kmb_cli_error("replay", "unexpected argument '%s'", argv[optind]);
	if ((rc = kmb_cli_check_backend("replay", a->o.backend)) != 0)
		return rc;
	return kmb_cli_check_topology("replay", a->o.topology);
}

static int emit(const struct replay_args *a, const struct kmb_replay_result *r)
{
	struct kmb_file kf;
	FILE *out = stdout;
	int rc = 0;

	if (a->out && (out = kmb_file_create(a->out, &kf)) == NULL) {
		fprintf(stderr, "kmbench replay: cannot write %s: %s\n", a->out, strerror(errno));
		return 1;
	}
	if (a->json)
		rc = kmb_replay_write_json(out, r);
	else
		kmb_replay_print(out, r);
	if (a->out && (rc = kmb_file_finish(&kf, rc != 0 ? -EIO : 0)) != 0) {
		fprintf(stderr, "kmbench replay: cannot write %s: %s\n", a->out, strerror(-rc));
		return 1;
	}
	return 0;
}

static int write_samples(const char *path, const struct kmb_replay_result *r)
{
	struct kmb_file kf;
	FILE *f;
	int rc;

	if (path == NULL)
		return 0;
	if ((f = kmb_file_create(path, &kf)) == NULL) {
		fprintf(stderr, "kmbench replay: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	if ((rc = kmb_file_finish(&kf, kmb_replay_write_samples(f, r) != 0 ? -EIO : 0)) != 0) {
		fprintf(stderr, "kmbench replay: cannot write %s: %s\n", path, strerror(-rc));
		return 1;
	}
	return 0;
}

/* Without --mem, memory sized from the trace's facts (engine/memsize.c; a generator made
 * for one memory size keeps the default); with it, refused if one copy cannot fit: 2. */
static int size_memory(struct replay_args *a, const struct kmb_workload_src *src,
                       const struct kmb_trace_facts *f, const struct kmb_plan *plan, char *rule,
                       size_t len)
{
	uint64_t peak = f->peak_live_bytes_req;
	char err[300];

	rule[0] = '\0';
	if (a->o.mem_bytes)
		return kmb_mem_check(a->o.mem_bytes, plan, peak, err, sizeof(err)) == 0
		               ? 0
		               : kmb_cli_error("replay", "%s", err);
	if (src->gen && src->gen->default_mem)
		return 0;
	a->o.mem_bytes = (size_t)kmb_mem_auto(peak, a->o.replicate, KMB_DEFAULT_MEM_BYTES);
	kmb_mem_auto_rule(rule, len, peak, a->o.replicate, KMB_DEFAULT_MEM_BYTES, a->o.mem_bytes);
	return 0;
}

/* The trace's sleeping allocations in interrupt context, by file:line (replay.c 6b.). */
static void report_ctx(const char *trace, const struct kmb_trace *t,
                       const struct kmb_replay_result *r)
{
	for (unsigned i = 0; i < r->n_intr_sleep_ev; i++) {
		const struct kmb_event *e;

		if (r->intr_sleep_ev[i] >= t->nev)
			continue;
		e = &t->ev[r->intr_sleep_ev[i]];
		fprintf(stderr,
		        "kmbench replay: %s:%u: sleeping allocation in %s context (%s, %" PRIu64
		        " bytes): a bug of the traced kernel; counted and served\n",
		        trace, e->line, kmb_event_ctx_name(e->ctx), t->str[e->site], e->bytes_req);
	}
	if (r->intr_sleeping_allocs > r->n_intr_sleep_ev)
		fprintf(stderr, "kmbench replay: ... %" PRIu64 " such allocations in all\n",
		        r->intr_sleeping_allocs);
}

/* buddy, the Linux design, unless the build leaves it out (-DKMB_BACKENDS): then the first
 * spec the build has. */
static const char *default_backend(void)
{
	char err[200];

	if (kmb_spec_check("buddy", err, sizeof(err)) == 0 || kmb_backend_count() == 0)
		return "buddy";
	return kmb_backend_at(0)->name;
}

int kmb_cmd_replay(int argc, char **argv)
{
	struct replay_args a = {.o = {.backend = default_backend(), .timing = true}};
	struct kmb_trace t;
	struct kmb_trace_facts f;
	struct kmb_plan plan;
	struct kmb_workload_src src = {.gopt = {.seed = 1}};
	struct kmb_replay_result r;
	char err[2600], rule[200];
	int rc;

	if ((rc = parse(argc, argv, &a)) != 0)
		return rc;
	if (a.trace == NULL)
		a.trace = KMB_BUNDLED_TRACE;
	src.geometry = a.geometry;
	if (kmb_workload_open(a.trace, a.strict, &src, &t, &f, &plan) != 0)
		return 1;
	a.trace = src.source;
	a.o.trace = &t;
	if ((rc = size_memory(&a, &src, &f, &plan, rule, sizeof(rule))) != 0) {
		kmb_plan_free(&plan);
		kmb_trace_free(&t);
		return rc;
	}
	rc = kmb_replay(&plan, &f, a.trace, &a.o, &r, err, sizeof(err));
	snprintf(r.mem_rule, sizeof(r.mem_rule), "%s", rule);
	if (rc != 0) {
		fprintf(stderr, "kmbench replay: %s", err);
		if (r.aborted && r.abort_event < t.nev)
			fprintf(stderr, " [%s:%u]", a.trace, t.ev[r.abort_event].line);
		fputc('\n', stderr);
	}
	if (!a.o.strict_context) /* strict: the panic above named the first one */
		report_ctx(a.trace, &t, &r);
	if (rc == 0 || r.aborted)
		if (emit(&a, &r) != 0 || write_samples(a.samples, &r) != 0)
			rc = 1;
	kmb_replay_result_free(&r);
	kmb_plan_free(&plan);
	kmb_trace_free(&t);
	return rc == 0 ? 0 : 1;
}
