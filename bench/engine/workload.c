/*
 * bench/engine/workload.c - a workload file (any trace format, .kmt) into its trace, facts
 * and replay plan, with the parser's skipped lines and lost events reported on stderr.
 */
#include "engine.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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
	if ((rc = kmb_trace_facts(t, facts)) != 0 ||
	    (plan && (rc = kmb_trace_plan(t, plan)) != 0)) {
		fprintf(stderr, "kmbench: %s: %s\n", path, strerror(-rc));
		kmb_trace_free(t);
		return rc;
	}
	return 0;
}
