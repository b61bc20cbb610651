/*
 * bench/kmbench.c - the kmbench command: perf-style subcommands.
 *
 *   kmbench run       the main job: every backend on the five default workloads,
 *                     results, plots and a report in results/runs/<timestamp>/
 *   kmbench replay    replay one trace on one backend
 *   kmbench trace     trace tools: stat, convert, record, gen
 *   kmbench list      backends and workloads
 *   kmbench plot      re-render a results directory (gnuplot) and its report
 *   kmbench compare   two runs side by side: change of the medians, Mann-Whitney U
 */
#include "bench.h"

#include <kmbench/backend.h>

#include <string.h>

#include "workloads/gen.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} cmds[] = {
        {"run", kmb_cmd_run,
         "compare every backend on the five default workloads (linux-3.6-boot,\n"
         "           vfs-cache, larson, netrx, exhaust) or --trace FILE; write results,\n"
         "           plots and a report"},
        {"replay", kmb_cmd_replay, "replay a kernel allocation trace on one backend"},
        {"trace", kmb_cmd_trace,
         "trace tools: stat (facts and statistics), convert (.kmt or ftrace text),\n"
         "           record (capture from tracefs), gen (synthetic kernel workloads)"},
        {"list", kmb_cmd_list, "list backends and workloads"},
        {"plot", kmb_cmd_plot, "re-render a results directory's plots and report"},
        {"compare", kmb_cmd_compare,
         "compare two runs (or google-benchmark files): change and Mann-Whitney U"},
        {"merge", kmb_cmd_merge, "join the shards of a run (run --shard K/N) into one"},
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: kmbench COMMAND [OPTIONS]\n\n"
	             "A benchmarking framework for kernel-style memory allocators.\n\ncommands:\n");
	for (size_t i = 0; i < NCMDS; i++)
		fprintf(out, "  %-8s %s\n", cmds[i].name, cmds[i].help);
	fprintf(out, "\n'kmbench COMMAND --help' describes the options of a command;\n"
	             "'kmbench --version' prints the version and the commit it was built from.\n");
}

/* The version of CMake's project() and the commit at configure time ("unknown" outside
 * git; "+dirty": tracked files were modified). */
static void version(void)
{
	printf("kmbench %s (commit %s%s)\n", KMB_VERSION, KMB_GIT_COMMIT,
	       KMB_GIT_DIRTY ? "+dirty" : "");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		version();
		return 0;
	}
	for (size_t i = 0; i < NCMDS; i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	return kmb_cli_error(NULL, "unknown command '%s'", argv[1]);
}

/* The tunables of a backend or page source, under its line: key, default, bounds, what. */
static void list_tunables(const struct kmb_backend_info *b)
{
	for (size_t k = 0; k < b->ntunables; k++) {
		const struct kmb_tunable *t = &b->tunables[k];
		char key[64];

		snprintf(key, sizeof(key), "%s=%ld", t->name, t->def);
		printf("      %-20s [%ld..%ld] %s\n", key, t->min, t->max, t->desc);
	}
}

static void list_tunables_json(const char *kind, const struct kmb_backend_info *b, bool *first)
{
	for (size_t k = 0; k < b->ntunables; k++) {
		const struct kmb_tunable *t = &b->tunables[k];

		printf("%s{\"%s\": \"%s\", \"key\": \"%s\", \"default\": %ld, \"min\": %ld, "
		       "\"max\": %ld, \"description\": \"%s\"}",
		       *first ? "" : ", ", kind, b->name, t->name, t->def, t->min, t->max, t->desc);
		*first = false;
	}
}

int kmb_cmd_list(int argc, char **argv)
{
	bool first = true;

	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: kmbench list [--json]\n\nBackends compiled in, and the "
			       "bundled workloads.\n");
			return 0;
		} else
			return kmb_cli_error("list", "unknown option '%s'", argv[i]);
	}
	if (json) {
		printf("{\"backends\": [");
		for (size_t i = 0; i < kmb_backend_count(); i++)
			printf("%s\"%s\"", i ? ", " : "", kmb_backend_at(i)->name);
		printf("], \"page_sources\": [");
		for (size_t i = 0; i < kmb_pagesrc_count(); i++)
			printf("%s\"%s\"", i ? ", " : "", kmb_pagesrc_at(i)->name);
		printf("], \"workloads\": [\"linux-3.6-boot\"");
		for (size_t i = 0; i < kmb_workload_count(); i++)
			printf(", \"%s\"", kmb_workload_at(i)->name);
		printf("], \"tunables\": [");
		for (size_t i = 0; i < kmb_backend_count(); i++)
			list_tunables_json("backend", kmb_backend_at(i), &first);
		for (size_t i = 0; i < kmb_pagesrc_count(); i++)
			list_tunables_json("page_source", kmb_pagesrc_at(i), &first);
		printf("]}\n");
		return 0;
	}
	printf("backends (specs: NAME, NAME@PAGESOURCE, plugin:PATH.so; tunables below each, set "
	       "as NAME(KEY=VALUE,...)@PAGESOURCE(KEY=VALUE,...)):\n");
	for (size_t i = 0; i < kmb_backend_count(); i++) {
		printf("  %-14s %s\n", kmb_backend_at(i)->name, kmb_backend_at(i)->summary);
		list_tunables(kmb_backend_at(i));
	}
	printf("page sources:\n");
	for (size_t i = 0; i < kmb_pagesrc_count(); i++) {
		printf("  %-14s %s\n", kmb_pagesrc_at(i)->name, kmb_pagesrc_at(i)->summary);
		list_tunables(kmb_pagesrc_at(i));
	}
	printf("workloads (kmbench run --workloads; generated ones: kmbench trace gen NAME):\n"
	       "  %-14s %s\n",
	       "linux-3.6-boot", "real ftrace of a Linux 3.6 i386 boot (workloads/traces/)");
	for (size_t i = 0; i < kmb_workload_count(); i++)
		printf("  %-14s %s\n", kmb_workload_at(i)->name, kmb_workload_at(i)->summary);
	return 0;
}
