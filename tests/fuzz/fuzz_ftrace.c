/*
 * tests/fuzz/fuzz_ftrace.c - libFuzzer target: the text trace front end.
 *
 * The input is a whole file (ftrace of any era, trace-cmd report, perf script: sniffed
 * as kmb_trace_load does), given to the loader through a memfd, then its facts and its
 * replay plan are computed.  Nothing may crash, hang or grow without bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "workloads/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmb_trace_opts opts = {.strict = size > 0 && (data[0] & 1)};
	struct kmb_trace t;
	struct kmb_trace_facts f;
	struct kmb_plan p;
	char path[64], err[512];
	int fd = memfd_create("fuzz-trace", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (kmb_trace_load(path, &opts, &t, err, sizeof(err)) == 0 && kmb_trace_facts(&t, &f) == 0 &&
	    kmb_trace_plan(&t, &p) == 0)
		kmb_plan_free(&p);
	kmb_trace_free(&t);
	close(fd);
	return 0;
}
