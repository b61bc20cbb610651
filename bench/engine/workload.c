/*
 * bench/engine/workload.c - a workload argument into its trace, facts and replay plan: the
 * one way the kmbench commands, the micro suite and the tests load a workload.
 *
 * 1. Names.  KMB_BUNDLED_TRACE ("linux-3.6-boot") is the bundled trace; any generator's
 *    name (kmbench list) is generated in memory with the given options (0s: the
 *    generator's defaults, seed as given), so that two runs replay the same events;
 *    anything else is a trace file (any format workloads/ reads, or .kmt).
 * 2. Source.  The result names where the trace came from: the file, or the `kmbench trace
 *    gen` command that makes the same trace - what results record.
 * 3. A file's skipped lines and lost events are reported on stderr, as every error.
 * 4. Geometry.  A trace file's TRACE.slabinfo, when there is one (or the file given to
 *    replay --geometry), gives its named caches the traced kernel's order and objects
 *    per slab (workloads/geometry.c); a bad one is an error, as a bad trace is.
 * 5. Symbols.  A trace file's raw call sites ("c1187838") are named from the symbols of
 *    --kallsyms/--system-map FILE (kmb_workload_set_symbols), or else of TRACE.syms
 *    beside the trace (what `trace record` saves) if there is one (workloads/syms.c).
 */
#include "engine.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_TRACE "workloads/traces/linux-3.6-i386-boot/kmem_SLUB.log"

/* From the working directory, else the build's source tree or the installed data
 * (paths.c). */
const char *kmb_default_trace(void)
{
	static char path[512]; /* shorter than a workload's source (struct kmb_workload_src) */

	if (access(DEFAULT_TRACE, R_OK) == 0)
		return DEFAULT_TRACE;
	if (path[0] || kmb_data_path(DEFAULT_TRACE, path, sizeof(path)) == 0)
		return path;
	return DEFAULT_TRACE;
}

static const char *symbols_file; /* --kallsyms / --system-map */

void kmb_workload_set_symbols(const char *path)
{
	symbols_file = path;
}

/* Raw call sites named from --kallsyms/--system-map, else from TRACE.syms if there (4.). */
static int symbolize(const char *path, struct kmb_trace *t)
{
	char beside[PATH_MAX], err[600];
	const char *file = symbols_file;
	struct kmb_syms y;
	long n;
	int rc;

	if (!file && (snprintf(beside, sizeof(beside), "%s.syms", path) >= (int)sizeof(beside) ||
	              access(beside, R_OK) != 0))
		return 0;
	if ((rc = kmb_syms_load(file ? file : beside, &y, err, sizeof(err))) != 0) {
		fprintf(stderr, "kmbench: %s%s\n", err, file ? "" : ": ignored");
		return file ? rc : 0; /* asked for, or only found */
	}
	n = kmb_syms_apply(&y, t);
	kmb_syms_free(&y);
	if (n < 0)
		fprintf(stderr, "kmbench: %s: %s\n", path, strerror((int)-n));
	return n < 0 ? (int)n : 0;
}

static void report_skips(const struct kmb_trace *t)
{
	static const char *const why[KMB_SKIP_NREASONS] = {
	        [KMB_SKIP_SYNTAX] = "not an event line",
	        [KMB_SKIP_FIELD] = "bad or missing field",
	        [KMB_SKIP_OTHER_EVENT] = "other events (not replayed)",
	};

	if (t->lost_reports)
		fprintf(stderr,
		        "kmbench: %s: the trace reports %" PRIu64 " lost events (%" PRIu64
		        " reports): frees may look unmatched\n",
		        t->path, t->lost_events, t->lost_reports);
	if (t->skipped[KMB_SKIP_SYNTAX] + t->skipped[KMB_SKIP_FIELD] == 0)
		return;
	fprintf(stderr, "kmbench: %s: skipped lines:", t->path);
	for (int i = 0; i < KMB_SKIP_NREASONS; i++)
		if (t->skipped[i])
			fprintf(stderr, " %" PRIu64 " %s;", t->skipped[i], why[i]);
	fprintf(stderr, " the first %u (--strict stops at the first):\n", t->nerrors);
	for (unsigned i = 0; i < t->nerrors; i++)
		fprintf(stderr, "  %s\n", t->errors[i]);
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
	if ((rc = symbolize(path, t)) != 0) {
		kmb_trace_free(t);
		return rc;
	}
	if ((rc = kmb_trace_facts(t, facts)) != 0 ||
	    (plan && (rc = kmb_trace_plan(t, plan)) != 0)) {
		fprintf(stderr, "kmbench: %s: %s\n", path, strerror(-rc));
		kmb_trace_free(t);
		return rc;
	}
	return 0;
}

int kmb_workload_geometry(const char *trace, const char *file, struct kmb_plan *plan)
{
	char path[4096], err[512];
	struct kmb_geometry g;
	int rc;

	snprintf(path, sizeof(path), "%s%s", trace, KMB_GEOMETRY_SUFFIX);
	rc = kmb_geometry_load(file ? file : path, &g, err, sizeof(err));
	if (rc == -ENOENT && file == NULL)
		return 0;
	if (rc != 0) {
		fprintf(stderr, "kmbench: geometry %s\n", err);
		return rc;
	}
	kmb_geometry_apply(&g, plan);
	kmb_geometry_free(&g);
	return 0;
}

/* A generator's trace (1.); its source is the command that makes it (2.). */
static int open_gen(const char *arg, struct kmb_workload_src *src, struct kmb_trace *t, char *err,
                    size_t errlen)
{
	const struct kmb_workload *g = kmb_workload_find(arg);
	int rc, n;

	src->gen = g;
	memset(t, 0, sizeof(*t));
	if ((rc = kmb_workload_resolve(g, &src->gopt, err, errlen)) == 0)
		rc = kmb_workload_generate(g, &src->gopt, t, err, errlen);
	if (rc != 0)
		return rc;
	n = snprintf(src->source, sizeof(src->source),
	             "kmbench trace gen %s --events %" PRIu64 " --cpus %u --seed %" PRIu64, g->name,
	             src->gopt.events, src->gopt.cpus, src->gopt.seed);
	if (g->default_mem && n > 0 && (size_t)n < sizeof(src->source))
		snprintf(src->source + n, sizeof(src->source) - (size_t)n, " --mem %" PRIu64 "M",
		         src->gopt.mem_bytes >> 20);
	return 0;
}

int kmb_workload_open(const char *arg, bool strict, struct kmb_workload_src *src,
                      struct kmb_trace *t, struct kmb_trace_facts *facts, struct kmb_plan *plan)
{
	char err[512];
	int rc;

	if (strcmp(arg, KMB_BUNDLED_TRACE) == 0)
		arg = kmb_default_trace();
	if (kmb_workload_find(arg) == NULL) {
		src->gen = NULL;
		snprintf(src->source, sizeof(src->source), "%s", arg);
		if ((rc = kmb_workload_load(arg, strict, t, facts, plan)) != 0)
			return rc;
		if (plan && (rc = kmb_workload_geometry(arg, src->geometry, plan)) != 0) {
			kmb_plan_free(plan);
			kmb_trace_free(t);
		}
		return rc;
	}
	if ((rc = open_gen(arg, src, t, err, sizeof(err))) == 0 &&
	    ((rc = kmb_trace_facts(t, facts)) != 0 ||
	     (plan && (rc = kmb_trace_plan(t, plan)) != 0)))
		snprintf(err, sizeof(err), "%s", strerror(-rc));
	if (rc != 0) {
		fprintf(stderr, "kmbench: workload %s: %s\n", arg, err);
		kmb_trace_free(t);
	}
	return rc;
}
