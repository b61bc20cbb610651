/*
 * tests/fuzz/fuzz_kmt.c - libFuzzer target: the .kmt loader.
 *
 * Half of the inputs are read as they are (the checksums must reject them); for the other
 * half the fuzzer plays a forger who knows the format: magic, version, sizes and both
 * CRC-32C checksums are made right, so that every later check - offsets, lengths, varints,
 * indices, event positions - is what stands between the bytes and an out-of-bounds read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/trace.h"

uint32_t kmb__crc32c(uint32_t crc, const void *buf, size_t n);

#define HDR 160

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void forge(uint8_t *b, size_t n)
{
	memcpy(b, KMB_KMT_MAGIC, KMB_KMT_MAGIC_LEN);
	put_le(b + 8, KMB_KMT_VERSION, 4);
	put_le(b + 12, HDR, 4);
	put_le(b + 16, n, 8);
	put_le(b + 24, kmb__crc32c(0, b + HDR, n - HDR), 4);
	put_le(b + 28, 0, 4);
	put_le(b + 28, kmb__crc32c(0, b, HDR), 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);
	struct kmb_trace t;
	struct kmb_trace_facts f;
	struct kmb_plan p;
	char err[512];

	if (b == NULL)
		return 0;
	memcpy(b, data, size);
	if (size >= HDR && (size & 1))
		forge(b, size);
	kmb_trace_init(&t);
	if (kmb_kmt_read(b, size, &t, err, sizeof(err)) == 0 && kmb_trace_facts(&t, &f) == 0 &&
	    kmb_trace_plan(&t, &p) == 0)
		kmb_plan_free(&p);
	kmb_trace_free(&t);
	free(b);
	return 0;
}
