/*
 * core/os.c - the one file of the core that calls the operating system.
 *
 * Everything kmbench needs from the OS for the allocator itself goes through here:
 * mapping the simulated physical memory, the monotonic clock, thread ids, the CPU
 * count and the futex under kmbench's locks (core/lock.c).  (Topology and thread
 * placement with hwloc live in the replay layer.)
 */
#include "internal.h"

#include <linux/futex.h>
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

/* Sleep while *word == val (or until woken; spurious returns are the caller's to check). */
void kmb__os_futex_wait(uint32_t *word, uint32_t val)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

void kmb__os_futex_wake(uint32_t *word, int nwake)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, nwake, NULL, NULL, 0);
}
