/*
 * tests/fuzz/fuzz_cli.c - libFuzzer target: the command line's value parsers - sizes
 * (--mem), counts (--threads, --repetitions), backend specs (NAME@PAGESOURCE; plugin:
 * paths are left out, the fuzzer must not load libraries) and GFP flag strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[512], err[512];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1, bytes;
	unsigned u;
	int flags;

	memcpy(s, data, n);
	s[n] = '\0';
	if (kmb_parse_size(s, &bytes) == 0 && bytes == 0 && strchr(s, '0') == NULL)
		abort(); /* a size of 0 must come from a 0 */
	if (kmb_parse_uint(s, 1, 64, &u) == 0 && (u < 1 || u > 64))
		abort();
	if (strncmp(s, "plugin:", 7) != 0)
		(void)kmb_spec_check(s, err, sizeof(err));
	if (kmb_gfp_to_flags((const char *)data, size, &flags) == 0 &&
	    ((flags & (M_WAITOK | M_NOWAIT)) == 0 || (flags & (M_WAITOK | M_NOWAIT)) == (M_WAITOK | M_NOWAIT)))
		abort(); /* exactly one of M_WAITOK and M_NOWAIT */
	return 0;
}
