/*
 * kmbench/kmem.h - NetBSD's kmem(9): the general-purpose allocator whose free takes the size.
 *
 *   kmem_alloc(size, kmflags)    size > 0 ("unlike Solaris", kmem_alloc(0) is illegal);
 *                                exactly one of KM_SLEEP / KM_NOSLEEP.  The memory is
 *                                not initialised.
 *   kmem_zalloc(size, kmflags)   the same, zeroed.
 *   kmem_free(p, size)           p != NULL, from kmem_alloc or kmem_zalloc, and size the
 *                                size it was allocated with: the caller passes the size back,
 *                                so an allocator needs no lookup to find it (a backend's
 *                                sized free, kmbench/backend.h 3.).
 *
 * Flags (km_flag_t, NetBSD's values):
 *   KM_SLEEP     may sleep until another thread frees memory; never returns NULL.  A
 *                request that can never be met panics (as M_WAITOK does without M_FAILOK).
 *   KM_NOSLEEP   returns NULL at once when memory is short (NetBSD: "strongly discouraged",
 *                it fails transiently under pressure).
 *
 * Illegal calls panic (kmbench/kmalloc.h): neither or both of the flags, an unknown flag
 * bit, a zero size, kmem_free(NULL, ...) or with size 0.  With INVARIANTS, kmem_free with
 * a size other than the allocation's panics (KMB_PANIC_WRONG_SIZE), and so does freeing a
 * kmem block with kfree or a kmalloc block with kmem_free (KMB_PANIC_WRONG_TYPE); both
 * messages name the allocating site.
 *
 * kmem(9) has no malloc type: its calls are counted under the one type M_KMEM ("kmem") in
 * the `vmstat -m` statistics.  It runs through the same front end as kmalloc (M_WAITOK
 * sleeping, deadlock detection, INVARIANTS).
 */
#ifndef KMBENCH_KMEM_H
#define KMBENCH_KMEM_H

#include <stddef.h>

#include "kmalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned int km_flag_t;

#define KM_SLEEP   0x00000001 /* can sleep */
#define KM_NOSLEEP 0x00000002 /* don't sleep */

MALLOC_DECLARE(M_KMEM); /* "kmem": every kmem_alloc and kmem_zalloc */

void *kmem_alloc(size_t size, km_flag_t kmflags);
void *kmem_zalloc(size_t size, km_flag_t kmflags);
void kmem_free(void *p, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* KMBENCH_KMEM_H */
