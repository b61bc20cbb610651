/*
 * bench/micro/micro.h - the C side of the micro suite (micro_c.c): what the C++ benchmarks
 * need from kmbench's internals, behind a C interface (core/internal.h is C only).
 */
#ifndef KMB_BENCH_MICRO_H
#define KMB_BENCH_MICRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kmbench/backend.h>
#include <kmbench/kmalloc.h>

#ifdef __cplusplus
extern "C" {
#endif

MALLOC_DECLARE(M_MICRO); /* "micro": every kmalloc of the suite */

/* Simulated physical memory outside a booted system (for the buddy and vmem benchmarks):
 * one node, no poison.  0 or -errno. */
int kmb_micro_physmem_init(struct kmb_physmem *pm, size_t bytes);
void kmb_micro_physmem_fini(struct kmb_physmem *pm);

#ifdef __cplusplus
}
#endif
#endif /* KMB_BENCH_MICRO_H */
