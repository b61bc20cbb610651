/*
 * core/kmem.c - NetBSD's kmem(9) over the kmalloc front end.
 *
 * 1. kmem_alloc(size, kmflags) is a kmalloc of type M_KMEM ("kmem") with KM_SLEEP as
 *    M_WAITOK and KM_NOSLEEP as M_NOWAIT (kmem_zalloc adds M_ZERO): the same fast path,
 *    slow path (sleeping, deadlock detection), limits and INVARIANTS (kmalloc.c).  kmem(9)
 *    has no malloc type, so every kmem call is counted under M_KMEM.
 * 2. Checks first, with kmem's own messages: exactly one of KM_SLEEP and KM_NOSLEEP and no
 *    other bit (NetBSD KASSERTs the same), size > 0 ("unlike Solaris"), kmem_free of a
 *    non-NULL pointer with a size > 0.  Each violation panics naming the call.
 * 3. kmem_free(p, size) calls the backend's sized free (backend.h 3.: free_sized, or free
 *    for a backend without one) with the size the backend was asked for - size, plus the
 *    redzone with INVARIANTS - so a backend may find the block's size class from it
 *    instead of looking the block up.  Without INVARIANTS a wrong size is the caller's bug
 *    and what follows is the backend's (vmem panics, as NetBSD's vmem_free does); with
 *    INVARIANTS the size is checked against the allocation first (invariants.c 1.).
 * 4. kmem(9) is not for interrupt context (NetBSD asserts !cpu_intr_p() in kmem_alloc and
 *    kmem_free, whatever the flags): both are context violations there (context.c).
 */
#include "internal.h"

#include <kmbench/kmem.h>

#include <stdio.h>

MALLOC_DEFINE(M_KMEM, "kmem", "kmem_alloc(9) and kmem_zalloc(9): kmem has no malloc type");

#define KM_ALLFLAGS (KM_SLEEP | KM_NOSLEEP)

static const char *km_flags_str(km_flag_t kmflags, char *buf, size_t len)
{
	if (kmflags == KM_SLEEP || kmflags == KM_NOSLEEP)
		snprintf(buf, len, "%s", kmflags == KM_SLEEP ? "KM_SLEEP" : "KM_NOSLEEP");
	else
		snprintf(buf, len, "%#x", kmflags);
	return buf;
}

__attribute__((noreturn)) static void km_panic(const char *func, size_t size, km_flag_t kmflags,
                                               const char *why)
{
	char fl[32];

	kmb__panic_full(KMB_PANIC_USAGE, NULL, size, M_KMEM, "%s(%zu, %s): %s", func, size,
	                km_flags_str(kmflags, fl, sizeof(fl)), why);
}

static void km_check(const char *func, size_t size, km_flag_t kmflags)
{
	if (kmflags & ~(km_flag_t)KM_ALLFLAGS)
		km_panic(func, size, kmflags, "unknown flag bits");
	if ((kmflags & KM_ALLFLAGS) == 0)
		km_panic(func, size, kmflags, "neither KM_SLEEP nor KM_NOSLEEP");
	if ((kmflags & KM_ALLFLAGS) == KM_ALLFLAGS)
		km_panic(func, size, kmflags, "both KM_SLEEP and KM_NOSLEEP");
	if (size == 0)
		km_panic(func, size, kmflags, "zero size (illegal, unlike Solaris)");
}

static inline void *km_alloc(const char *func, size_t size, km_flag_t kmflags, int zero,
                             const void *site)
{
	struct kmb__request rq = {func, size, M_KMEM, NULL, 0, site, KMB__API_KMEM};
	size_t usable;

	if (kmb__unlikely((kmflags != KM_SLEEP && kmflags != KM_NOSLEEP) || size == 0))
		km_check(func, size, kmflags);
	rq.flags = (kmflags == KM_SLEEP ? M_WAITOK : M_NOWAIT) | zero;
	/* in interrupt context even KM_NOSLEEP breaks a rule (4.); the test is the fast path's
	 * own (kmb__ctx_clear), so the compiler loads the context once */
	if (kmb__unlikely(!kmb__ctx_clear()))
		return kmb__alloc_checked(&rq);
	return kmb__alloc_fast(rq, &usable);
}

void *kmem_alloc(size_t size, km_flag_t kmflags)
{
	return km_alloc("kmem_alloc", size, kmflags, 0, KMB__RETURN_ADDRESS);
}

void *kmem_zalloc(size_t size, km_flag_t kmflags)
{
	return km_alloc("kmem_zalloc", size, kmflags, M_ZERO, KMB__RETURN_ADDRESS);
}

static void km_check_free(const void *p, size_t size)
{
	if (!kmb__sys.booted)
		kmb__panic_full(KMB_PANIC_USAGE, p, size, M_KMEM,
		                "kmem_free(%p, %zu): no backend booted", p, size);
	if (p == NULL)
		kmb__panic_full(KMB_PANIC_USAGE, p, size, M_KMEM,
		                "kmem_free(NULL, %zu): free of NULL", size);
	if (size == 0)
		kmb__panic_full(KMB_PANIC_USAGE, p, size, M_KMEM, "kmem_free(%p, 0): zero size", p);
}

void kmem_free(void *p, size_t size)
{
	struct kmb__request rq = {"kmem_free", size, M_KMEM, NULL, 0, NULL, KMB__API_KMEM};

	if (kmb__likely(kmb__sys.fast && p != NULL && size != 0 && !kmb__in_intr())) {
		kmb__type_freed(M_KMEM, kmb__backend_free_sized(p, size));
		kmb__wake_waiters();
		return;
	}
	km_check_free(p, size);
	kmb__ctx_check_kmem_free(p, size);
	kmb__free(p, &rq);
}
