/*
 * bench/trace_gen_cmd.c - `kmbench trace gen`: write a synthetic kernel workload's trace.
 *
 * The workloads and their theory are in workloads/gen_*.c.  The output is Linux ftrace
 * text (or .kmt when the name ends in .kmt), written atomically, and replayed like any
 * captured trace; the same options give the same bytes.  Usage errors are one line and
 * exit status 2; a failure to generate or write exits 1.
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "results/results.h"
#include "workloads/gen.h"

#define CMD "trace gen"

static const char gen_usage[] =
        "usage: kmbench trace gen WORKLOAD [--events N] [--cpus C] [--seed S] [--variant V]\n"
        "                         [--mem SIZE] -o FILE\n\n"
        "Generate a synthetic kernel allocation trace, replayed like any other (kmbench replay\n"
        "--trace FILE).  The same options and seed give the same file, byte for byte.\n"
        "  WORKLOAD         one of the workloads below\n"
        "  -n, --events N   approximate number of events (default: the workload's)\n"
        "  -c, --cpus C     CPUs the trace runs on, 1..64 (default 2)\n"
        "  -s, --seed S     random seed (default 1)\n"
        "  --variant V      fdtable: failok (default), waitok, mixed\n"
        "  --mem SIZE       fdtable, exhaust: the memory the trace is designed for\n"
        "                   (fdtable grows past twice it, default 256M; exhaust default 32M)\n"
        "  -o, --output FILE  ftrace text, or kmbench's binary .kmt if FILE ends in .kmt;\n"
        "                   written atomically\n\n"
        "workloads:\n";

struct gen_args {
	struct kmb_gen_opts o;
	const char *workload, *out;
};

static void usage(FILE *out)
{
	fputs(gen_usage, out);
	for (size_t i = 0; i < kmb_workload_count(); i++) {
		const struct kmb_workload *w = kmb_workload_at(i);

		fprintf(out, "  %-10s %s\n  %-10s (%s)\n", w->name, w->summary, "", w->replay_hint);
	}
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static int parse_value(int c, const char *v, struct gen_args *a)
{
	size_t mem;

	switch (c) {
	case 'n':
		return parse_u64(v, &a->o.events) || a->o.events == 0
		               ? kmb_cli_error(CMD, "bad --events '%s' (%u..%u)", v,
		                               KMB_GEN_MIN_EVENTS, KMB_GEN_MAX_EVENTS)
		               : 0;
	case 'c':
		return kmb_parse_uint(v, 1, KMB_GEN_MAX_CPUS, &a->o.cpus)
		               ? kmb_cli_error(CMD, "bad --cpus '%s' (1..%u)", v, KMB_GEN_MAX_CPUS)
		               : 0;
	case 's':
		return parse_u64(v, &a->o.seed) ? kmb_cli_error(CMD, "bad --seed '%s'", v) : 0;
	case 'V':
		a->o.variant = v;
		return 0;
	case 'm':
		if (kmb_parse_size(v, &mem) || mem < (1u << 20))
			return kmb_cli_error(CMD,
			                     "bad --mem '%s' (a size of at least 1M, e.g. 32M)", v);
		a->o.mem_bytes = mem;
		return 0;
	default: /* 'o' */
		a->out = v;
		return 0;
	}
}

static int parse(int argc, char **argv, struct gen_args *a)
{
	static const struct option opts[] = {
	        {"events", required_argument, NULL, 'n'}, {"cpus", required_argument, NULL, 'c'},
	        {"seed", required_argument, NULL, 's'},   {"variant", required_argument, NULL, 'V'},
	        {"mem", required_argument, NULL, 'm'},    {"output", required_argument, NULL, 'o'},
	        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":n:c:s:o:", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == ':')
			return kmb_cli_error(CMD, "option '%s' needs a value", argv[optind - 1]);
		if (c == '?')
			return kmb_cli_error(CMD, "unknown option '%s'", argv[optind - 1]);
		if ((rc = parse_value(c, optarg, a)) != 0)
			return rc;
	}
	if (optind == argc)
		return kmb_cli_error(CMD, "which workload? (kmbench list)");
	if (argc - optind > 1)
		return kmb_cli_error(CMD, "one workload at a time");
	a->workload = argv[optind];
	if (!a->out)
		return kmb_cli_error(CMD, "-o FILE is required");
	return 0;
}

static bool is_kmt(const char *path)
{
	size_t n = strlen(path);

	return n >= 4 && strcmp(path + n - 4, ".kmt") == 0;
}

/* Generate, then write .kmt through kmt.c's writer. */
static int write_kmt(const struct kmb_workload *w, const struct kmb_gen_opts *o, FILE *out,
                     size_t *nev, char *err, size_t errlen)
{
	struct kmb_trace t;
	int rc = kmb_workload_generate(w, o, &t, err, errlen);

	if (rc == 0)
		rc = kmb_kmt_write(&t, out, err, errlen);
	*nev = t.nev;
	kmb_trace_free(&t);
	return rc;
}

static int generate(const struct kmb_workload *w, const struct gen_args *a, size_t *nev)
{
	struct kmb_file kf;
	char err[512];
	FILE *out;
	int rc;

	if ((out = kmb_file_create(a->out, &kf)) == NULL) {
		fprintf(stderr, "kmbench %s: cannot write %s: %s\n", CMD, a->out, strerror(errno));
		return 1;
	}
	if (is_kmt(a->out))
		rc = write_kmt(w, &a->o, out, nev, err, sizeof(err));
	else
		rc = kmb_workload_write_ftrace(w, &a->o, out, nev, err, sizeof(err));
	if (rc != 0) {
		kmb_file_abort(&kf);
		fprintf(stderr, "kmbench %s: %s: %s\n", CMD, w->name, err);
		return 1;
	}
	if ((rc = kmb_file_commit(&kf)) != 0) {
		fprintf(stderr, "kmbench %s: cannot write %s: %s\n", CMD, a->out, strerror(-rc));
		return 1;
	}
	return 0;
}

static void replay_hint(const struct kmb_workload *w, const struct gen_args *a)
{
	char mem[48] = "";

	if (w->default_mem && a->o.mem_bytes % (1u << 20))
		snprintf(mem, sizeof(mem), " --mem %" PRIu64, a->o.mem_bytes);
	else if (w->default_mem)
		snprintf(mem, sizeof(mem), " --mem %" PRIu64 "M", a->o.mem_bytes >> 20);
	printf("  replay: kmbench replay --trace %s%s  (%s)\n", a->out, mem, w->replay_hint);
}

int kmb_cmd_trace_gen(int argc, char **argv)
{
	struct gen_args a = {.o = {.seed = 1}};
	const struct kmb_workload *w;
	char err[256];
	size_t nev = 0;
	int rc;

	if ((rc = parse(argc, argv, &a)) != 0)
		return rc;
	if ((w = kmb_workload_find(a.workload)) == NULL)
		return kmb_cli_error(CMD, "unknown workload '%s' (kmbench list)", a.workload);
	if (kmb_workload_resolve(w, &a.o, err, sizeof(err)) != 0)
		return kmb_cli_error(CMD, "%s", err);
	if ((rc = generate(w, &a, &nev)) != 0)
		return rc;
	printf("%s: %zu events of %s (%u CPUs, seed %" PRIu64 "%s%s)\n", a.out, nev, w->name,
	       a.o.cpus, a.o.seed, a.o.variant ? ", variant " : "", a.o.variant ? a.o.variant : "");
	replay_hint(w, &a);
	return 0;
}
