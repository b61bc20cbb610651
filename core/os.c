/*
 * core/os.c - the one file of the core that calls the operating system.
 *
 * Everything kmbench needs from the OS for the allocator itself goes through here:
 * mapping the simulated physical memory, the monotonic clock, thread ids, the CPU
 * count, the futex under kmbench's locks (core/lock.c), and a memory barrier on every
 * running thread of the process (wait.c 3.).  (Topology and thread placement with hwloc
 * live in the replay layer.)
 */
#include "internal.h"

#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void *kmb__os_map(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Simulated physical memory must not page-fault when a backend first touches a page: a
 * kernel's memory is resident, and a first-touch fault (~1-2 us) would be charged to
 * whichever allocation touched it.  So the mapping is faulted in up front, asking for
 * transparent huge pages first, as the kernel's direct map uses large pages.
 */
void *kmb__os_map_resident(size_t bytes)
{
	char *p = kmb__os_map(bytes);

	if (p == NULL)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, bytes, MADV_HUGEPAGE);
#endif
	for (size_t off = 0; off < bytes; off += 4096)
		p[off] = 0;
	return p;
}

void kmb__os_unmap(void *addr, size_t bytes)
{
	if (addr != NULL)
		munmap(addr, bytes);
}

uint64_t kmb__os_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

long kmb__os_tid(void)
{
	return (long)syscall(SYS_gettid);
}

unsigned kmb__os_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

/*
 * A full memory barrier on every thread of the process that is running now (a thread that
 * is not running passed one when it was switched out): the heavy side of an asymmetric
 * Dekker handshake, whose light side is a compiler barrier (folly's asymmetric fences,
 * userspace RCU).  membarrier(PRIVATE_EXPEDITED) (Linux 4.14; ~1 us: an IPI to the CPUs
 * running our threads); without it, the write-protection of a page every CPU of ours has
 * mapped, whose TLB shootdown interrupts them all (CoreCLR's FlushProcessWriteBuffers).
 */
static int barrier_mode; /* 1 membarrier, 2 mprotect */
static char *barrier_page;
static pthread_mutex_t barrier_lock = PTHREAD_MUTEX_INITIALIZER;

static void barrier_init(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0) {
		barrier_mode = 1;
		return;
	}
	barrier_page = kmb__os_map(4096);
	barrier_mode = 2;
}

void kmb__os_barrier_all(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, barrier_init);
	if (barrier_mode == 1 &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
		return;
	pthread_mutex_lock(&barrier_lock);
	if (barrier_page == NULL)
		barrier_page = kmb__os_map(4096);
	if (barrier_page == NULL || mprotect(barrier_page, 4096, PROT_READ | PROT_WRITE) != 0)
		kmb_panic(KMB_PANIC_CORRUPT, NULL,
		          "kmb__os_barrier_all(): no membarrier and no "
		          "page to write-protect");
	__atomic_add_fetch(barrier_page, 1, __ATOMIC_SEQ_CST); /* in this CPU's TLB */
	mprotect(barrier_page, 4096, PROT_READ);               /* shoot it down everywhere */
	pthread_mutex_unlock(&barrier_lock);
}

/* Sleep while *word == val (or until woken; spurious returns are the caller's to check). */
void kmb__os_futex_wait(uint32_t *word, uint32_t val)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

void kmb__os_futex_wake(uint32_t *word, int nwake)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, nwake, NULL, NULL, 0);
}
