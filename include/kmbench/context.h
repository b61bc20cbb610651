/*
 * kmbench/context.h - the calling thread's context, checked on every allocation.
 *
 * A kernel knows whether it runs in a process, in a soft interrupt, in a hard interrupt or
 * in an NMI (Linux: the SOFTIRQ, HARDIRQ and NMI fields of preempt_count), and which locks
 * the thread holds.  An allocation that may sleep is a bug in interrupt context (Linux:
 * "BUG: sleeping function called from invalid context", from might_sleep()) and suspect
 * under a lock (FreeBSD's WITNESS: "Sleeping on ... with the following non-sleepable locks
 * held"; NetBSD kmem(9): a KM_SLEEP allocation under a mutex may block others
 * unboundedly).  kmbench keeps the same thread-local context:
 *
 *   kmb_intr_enter(KMB_SOFTIRQ | KMB_HARDIRQ | KMB_NMI)   enter one interrupt level
 *   kmb_intr_exit()                                        leave the innermost one
 *       Nestable like preempt_count: a hard interrupt may arrive in a soft one, an NMI in
 *       either; up to KMB_INTR_DEPTH_MAX levels.  Exactly one kind per enter.
 *   kmb_lock_acquire(name) / kmb_lock_release()
 *       annotate a lock the caller takes and drops (innermost first); kmbench's own locks
 *       (kmbench/lock.h, kmb_lock_self) count as held locks too, unnamed.
 *
 * The rules the core applies to every kmalloc, krealloc, kmem_cache_alloc and kmem_alloc
 * (core/context.c):
 *   - a sleeping allocation (M_WAITOK without M_INTWAIT, M_NOFAIL; kmem's KM_SLEEP) in
 *     interrupt context is a context violation: it panics (KMB_PANIC_CONTEXT) naming the
 *     call, its arguments and the context;
 *   - kmem_alloc, kmem_zalloc and kmem_free in interrupt context are violations whatever
 *     the flags: NetBSD's kmem(9) "cannot be used from interrupt context" (its
 *     implementation asserts !cpu_intr_p() && !cpu_softintr_p(); pool_cache(9) is for that);
 *   - a sleeping allocation with a lock held is a lock violation: counted per call site
 *     and warned about once per site on stderr (WITNESS's default), a panic under
 *     KMB_CTX_STRICT;
 *   - M_NOWAIT is legal everywhere, and M_INTWAIT (kmbench/kmalloc.h) is the interrupt's
 *     waiting kind: in interrupt context it may dig into the reserve and never sleeps nor
 *     returns NULL (if even the reserve is exhausted it panics, KMB_PANIC_RESERVE).
 * The policy (kmb_context_set_policy) says what a violation does; the default panics for
 * interrupt context and warns for locks.  Violations are counted per call site (the
 * caller's return address) whatever the policy; kmb_context_sites() lists them.
 *
 * Reading the context costs the allocation fast path one thread-local load: the core
 * takes its full path only for a request that may sleep (or a kmem(9) call) while the
 * thread is in interrupt context or holds a lock.
 */
#ifndef KMBENCH_CONTEXT_H
#define KMBENCH_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Interrupt kinds (one per kmb_intr_enter). */
#define KMB_SOFTIRQ 0x1u
#define KMB_HARDIRQ 0x2u
#define KMB_NMI     0x4u

/* Deepest interrupt nesting: process, softirq, hardirq, NMI, with room for nested hard
 * interrupts (Linux allows up to 15 in its 4-bit HARDIRQ field). */
#define KMB_INTR_DEPTH_MAX 16
/* Deepest nesting of annotated locks (as kmb_lock's KMB_LOCK_HELD_MAX). */
#define KMB_CTX_LOCKS_MAX 16

/*
 * The thread's context.  count is preempt_count's layout: bits 0-7 annotated locks held
 * (a spin_lock raises Linux's PREEMPT field), 8-15 soft interrupt nesting, 16-19 hard
 * interrupt nesting, 20-23 NMI nesting; 0 in process context without locks.
 */
#define KMB_CTX_LOCK_SHIFT    0
#define KMB_CTX_SOFTIRQ_SHIFT 8
#define KMB_CTX_HARDIRQ_SHIFT 16
#define KMB_CTX_NMI_SHIFT     20
#define KMB_CTX_IRQ_MASK      0x00ffff00u

struct kmb_context {
	uint32_t count;
	uint32_t stack;                       /* kinds entered: 2 bits per level, innermost low */
	unsigned depth;                       /* interrupt levels entered */
	unsigned nlocks;                      /* annotated locks */
	const char *locks[KMB_CTX_LOCKS_MAX]; /* their names, in the order taken */
};
extern __thread struct kmb_context kmb_context_self;

void kmb_intr_enter(unsigned kind); /* panics on a bad kind or too deep a nesting */
void kmb_intr_exit(void);           /* panics in process context */
/* The innermost interrupt kind (KMB_NMI, KMB_HARDIRQ, KMB_SOFTIRQ), 0 in process context. */
unsigned kmb_intr_context(void);
/* "process", "softirq", "hardirq", "NMI" (for a kind as kmb_intr_context returns). */
const char *kmb_context_name(unsigned kind);

void kmb_lock_acquire(const char *name); /* name: a string that outlives the hold */
void kmb_lock_release(void);             /* the innermost annotated lock; panics if none */

/* Whether an allocation with these M_* flags may sleep (the context rules' "sleeping"). */
static inline bool kmb_flags_may_sleep(int flags)
{
	return (flags & M_NOFAIL) != 0 || (flags & (M_WAITOK | M_INTWAIT_BIT)) == M_WAITOK;
}

enum kmb_context_policy {
	KMB_CTX_DEFAULT, /* interrupt context: panic; lock held: count and warn once per site */
	KMB_CTX_STRICT,  /* both panic (kmbench replay/run --strict-context) */
	KMB_CTX_REPORT,  /* both counted, neither panics nor prints (replay reports them) */
};
void kmb_context_set_policy(enum kmb_context_policy policy);
enum kmb_context_policy kmb_context_policy(void);

enum kmb_context_violation {
	KMB_CTXV_INTR = 1, /* sleeping allocation, or kmem(9), in interrupt context */
	KMB_CTXV_LOCK,     /* sleeping allocation with a lock held */
};

/* One call site that violated a rule. */
struct kmb_context_site {
	const void *site; /* the caller's return address (NULL: not known) */
	unsigned kind;    /* enum kmb_context_violation */
	uint64_t count;   /* violations at this site */
	char first[160];  /* the first one: "kmalloc(64, temp, M_WAITOK) in hardirq" */
};
/* Copies up to max sites into out (in no particular order); returns how many exist. */
size_t kmb_context_sites(struct kmb_context_site *out, size_t max);
/* Violations of a kind since the last reset, all sites. */
uint64_t kmb_context_violations(unsigned kind);
void kmb_context_reset(void); /* forget the sites and counts (not thread-safe) */

#ifdef __cplusplus
}
#endif
#endif /* KMBENCH_CONTEXT_H */
