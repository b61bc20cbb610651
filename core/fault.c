/*
 * core/fault.c - fault injection: page sources that fail at random (illumos vmem_mtbf,
 * Linux fail_page_alloc).
 *
 * 1. With fault_mtbf = N in the boot configuration, every page-source allocation fails
 *    with probability 1/N: the page allocators call kmb_fault_inject() first.  So every
 *    failure path - a backend's refill, its metadata allocation, the core's M_NOWAIT
 *    failure, M_NOFAIL's retry, M_WAITOK's slow path - is exercised on every backend.
 * 2. An injected failure is transient, unlike a real shortage: the core's slow path retries
 *    a M_WAITOK request at once instead of sleeping for a free that may never come (as
 *    Linux's direct reclaim would find memory), so injection never causes a deadlock
 *    report; M_NOWAIT requests fail, as they should.
 * 3. Each thread draws from its own splitmix64 stream, seeded by the boot seed and its CPU
 *    index (unattached threads share one seed): no shared state on the allocation path,
 *    and a single-threaded run injects the same faults every time.
 */
#include "internal.h"

static uint64_t fault_mtbf;
static uint64_t fault_seed;
static uint64_t faults; /* injected so far (atomic) */
static _Thread_local uint64_t fault_state;

void kmb__fault_init(uint64_t mtbf, uint64_t seed)
{
	__atomic_store_n(&fault_mtbf, mtbf, __ATOMIC_RELAXED);
	__atomic_store_n(&fault_seed, seed ? seed : 0x5eed, __ATOMIC_RELAXED);
	__atomic_store_n(&faults, 0, __ATOMIC_RELAXED);
	fault_state = 0; /* the booting thread starts its stream again */
}

uint64_t kmb__fault_count(void)
{
	return __atomic_load_n(&faults, __ATOMIC_RELAXED);
}

static uint64_t next(void)
{
	uint64_t z;

	if (fault_state == 0) /* by CPU index, not thread id: runs repeat */
		fault_state = __atomic_load_n(&fault_seed, __ATOMIC_RELAXED) ^
		              ((kmb_curthread.attached ? kmb_curthread.cpu + 1 : 1000) *
		               0x9e3779b97f4a7c15ull);
	z = (fault_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

bool kmb_fault_inject(void)
{
	uint64_t mtbf = __atomic_load_n(&fault_mtbf, __ATOMIC_RELAXED);

	if (kmb__likely(mtbf == 0) || next() % mtbf != 0)
		return false;
	kmb__self.injected = true;
	__atomic_add_fetch(&faults, 1, __ATOMIC_RELAXED);
	return true;
}
