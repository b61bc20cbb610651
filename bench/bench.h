/*
 * bench/bench.h - the runners behind the kmbench command: replay engine, run, trace
 * commands, and the small command-line helpers they share.  Grouped by defining file.
 */
#ifndef KMB_BENCH_BENCH_H
#define KMB_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <kmbench/kmbench.h>

#include "bench/engine/engine.h"

/* ---- cli.c ----------------------------------------------------------------------------- */
extern const char *kmb_prog; /* "kmbench" */
/* Print "kmbench CMD: message" and a usage hint on stderr; returns 2 (the exit code). */
int kmb_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parse "256M", "1G", "4096" (bytes, K/M/G suffixes, powers of 1024). */
int kmb_parse_size(const char *s, size_t *out);
int kmb_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out);
/* 0, or the exit code 2 after printing why the backend spec is bad. */
int kmb_cli_check_backend(const char *cmd, const char *spec);
/* The next spec of a comma-separated list, split at commas outside parentheses
 * ("slab,slab(magsize=1,x=2)@vmem" is two); NUL-terminates it in place, NULL at the end. */
char *kmb_cli_next_spec(char **cursor);
/* 0, or the exit code 2 after printing why the --topology value is bad. */
int kmb_cli_check_topology(const char *cmd, const char *spec);
bool kmb_progress_enabled(void); /* stderr is a terminal */

/* ---- commands (one function per subcommand) -------------------------------------------- */
int kmb_cmd_replay(int argc, char **argv);
int kmb_cmd_run(int argc, char **argv);
int kmb_cmd_trace(int argc, char **argv);
/* `kmbench trace gen WORKLOAD ...` (bench/trace_gen_cmd.c), dispatched by kmb_cmd_trace */
int kmb_cmd_trace_gen(int argc, char **argv);
int kmb_cmd_list(int argc, char **argv);
int kmb_cmd_plot(int argc, char **argv);    /* bench/plot_cmd.c: re-render a results dir */
int kmb_cmd_compare(int argc, char **argv); /* bench/compare_cmd.c: two runs, Mann-Whitney */
int kmb_cmd_merge(int argc, char **argv);   /* bench/merge_cmd.c: the shards of a run */

#endif /* KMB_BENCH_BENCH_H */
