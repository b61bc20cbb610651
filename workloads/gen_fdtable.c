/*
 * workloads/gen_fdtable.c - `fdtable`: a descriptor table doubled until memory runs out.
 *
 * Theory.  A process that keeps opening descriptors (a server accepting connections, a
 * test raising RLIMIT_NOFILE and sysctl fs.nr_open towards their maximum) makes the
 * kernel grow its descriptor table.  Linux's expand_fdtable() (fs/file.c) allocates a
 * new table for the larger size - alloc_fdtable(): kmalloc of struct fdtable (56 bytes),
 * kvmalloc of the fd array (nr * 8 bytes) and of one block holding the open_fds and
 * close_on_exec bitmaps plus full_fds_bits (nr / 4 + 8 * ceil(nr / 4096) bytes, at least
 * L1_CACHE_BYTES) - copies the old one into it, publishes it, and frees the old one with
 * call_rcu() (free_fdtable_rcu: kvfree, kvfree, kfree), i.e. on the same CPU once a grace
 * period has passed.  There is no krealloc event: a realloc is a kmalloc and a later
 * kfree in the trace.  The size doubles, so a process whose table keeps filling goes
 * 64, 128, ... entries; here from 64 entries (512 bytes) up to the first size beyond
 * twice --mem (default 256 MiB: a 512 MiB fd array of 64 Mi entries, which
 * sysctl_nr_open_max allows).
 *
 * This is the case behind the proposal of a failable M_WAITOK (NetBSD's M_FAILOK, which
 * OpenBSD has as M_CANFAIL): a sleeping allocation of a size the allocator can never
 * give.  Without a way to fail it panics or sleeps forever; with one the caller gets
 * NULL and returns EMFILE/ENOMEM.  Linux answers with kvmalloc: above a page, its kmalloc
 * attempt adds __GFP_NOWARN and, unless the caller asked for __GFP_RETRY_MAYFAIL,
 * __GFP_NORETRY (mm/util.c, kmalloc_gfp_adjust in 6.x) and falls back to vmalloc; here
 * __GFP_NORETRY maps to M_WAITOK | M_NORETRY (fails without sleeping when memory is short,
 * and when the request is impossible) and __GFP_RETRY_MAYFAIL to M_WAITOK | M_FAILOK.  FreeBSD's
 * fdgrowtable() instead calls malloc(M_ZERO | M_WAITOK), which cannot fail.
 *
 * Variants (--variant):
 *   failok (default)  arrays above a page: half the processes GFP_KERNEL_ACCOUNT|
 *                     __GFP_NOWARN|__GFP_NORETRY (M_WAITOK|M_NORETRY), half
 *                     ...|__GFP_RETRY_MAYFAIL (M_WAITOK|M_FAILOK).  Replayed, every request larger
 * than the backend's largest block (4 MiB for buddy and bucket: 8 MiB up, and the bitmaps of 16 Mi
 * entries up) fails cleanly: failed_allocs counts them, frees_of_failed_allocs the kfree of those
 * tables, the replay completes. waitok            the same arrays with
 * GFP_KERNEL_ACCOUNT|__GFP_ZERO (M_WAITOK|M_ZERO, FreeBSD's shape): the first impossible request
 * panics (IMPOSSIBLE) and the replay aborts with that message, exit status 1. mixed processes
 * alternate: NORETRY, waitok, RETRY_MAYFAIL, waitok, ... (the brief's half and half); it aborts at
 * the first waitok process that reaches 8 MiB, after the failok ones before it have failed. The
 * default is failok because a default trace should replay to the end on every backend; waitok
 * exists to show the panic.
 *
 * Every allocation is recorded as satisfied (the trace is the demand of a machine with
 * memory to spare): a NULL would be dropped by the replay plan and test nothing.  At most
 * min(--cpus, 4) processes run at once, one per CPU; at each step one of them (chosen at
 * random) expands, and the table it replaced is freed on the next step (its grace
 * period) or at exit.  Replayed, a process holds at most a 4 MiB array, its bitmaps and
 * the 2 MiB array awaiting RCU: about 7 MiB, 26 MiB for four, so no sleep is ever needed
 * on the default 256 MiB and a single-thread replay cannot deadlock.
 */
#include "workloads/gen.h"

#include <errno.h>
#include <kmbench/kmalloc.h>

#define NR_START   64ULL
#define MAX_PROCS  4
#define PAGE_SIZE  4096u
#define PROC_EVENT 140 /* events of one process, roughly: for the budget */

enum { ROLE_TASK, ROLE_RCU };

static const struct kmb__role roles[] = {
        [ROLE_TASK] = {"fd-stress", 4000, 1, "....."},
        [ROLE_RCU] = {"fd-stress", 4000, 1, "..s1."}, /* call_rcu callbacks in softirq */
};

struct table {
	uint64_t fdt, fd, bits; /* 0: none */
};

struct proc {
	unsigned cpu, kind; /* kind: a gfp spelling index for the arrays above a page */
	unsigned k;         /* expansions done: the table has NR_START << k entries */
	struct table cur, rcu;
	bool active;
};

struct fdgen {
	struct kmb__gen *g;
	uint32_t site_fdt, site_fd, site_bits, site_kvfree, site_fdt_free;
	unsigned gfp_small, gfp_failok[2], gfp_waitok;
	unsigned kmax; /* last expansion */
	uint64_t nproc;
	struct proc p[MAX_PROCS];
	unsigned nslots;
};

static uint64_t bitmap_bytes(uint64_t nr)
{
	uint64_t b = nr / 4 + 8 * ((nr + 4095) / 4096);

	return b < 64 ? 64 : b;
}

static unsigned big_gfp(const struct fdgen *f, uint64_t nproc)
{
	switch (f->g->variant) {
	case 0:
		return f->gfp_failok[nproc % 2];
	case 1:
		return f->gfp_waitok;
	default: /* mixed: NORETRY, waitok, RETRY_MAYFAIL, waitok */
		return nproc % 2 ? f->gfp_waitok : f->gfp_failok[nproc / 2 % 2];
	}
}

static uint64_t array_alloc(struct fdgen *f, struct proc *p, uint32_t site, uint64_t size)
{
	unsigned gfp = size > PAGE_SIZE ? p->kind : f->gfp_small;

	return kmb__gen_kmalloc(f->g, p->cpu, ROLE_TASK, site, size, gfp);
}

static void table_free(struct fdgen *f, struct proc *p, struct table *t, unsigned role)
{
	if (!t->fdt)
		return;
	kmb__gen_kfree(f->g, p->cpu, role, f->site_kvfree, t->fd);
	kmb__gen_kfree(f->g, p->cpu, role, f->site_kvfree, t->bits);
	kmb__gen_kfree(f->g, p->cpu, role, f->site_fdt_free, t->fdt);
	*t = (struct table){0, 0, 0};
}

/* expand_fdtable(): the new table, then the one replaced two steps ago leaves RCU. */
static void expand(struct fdgen *f, struct proc *p)
{
	uint64_t nr = NR_START << p->k;
	struct table t;

	t.fdt = kmb__gen_kmalloc(f->g, p->cpu, ROLE_TASK, f->site_fdt, 56, f->gfp_small);
	t.fd = array_alloc(f, p, f->site_fd, nr * 8);
	t.bits = array_alloc(f, p, f->site_bits, bitmap_bytes(nr));
	table_free(f, p, &p->rcu, ROLE_RCU);
	p->rcu = p->cur;
	p->cur = t;
	p->k++;
}

static bool cpu_busy(const struct fdgen *f, unsigned cpu)
{
	for (unsigned i = 0; i < f->nslots; i++)
		if (f->p[i].active && f->p[i].cpu == cpu)
			return true;
	return false;
}

static void start(struct fdgen *f, struct proc *p)
{
	unsigned cpu;

	do
		cpu = (unsigned)kmb__gen_below(f->g, f->g->o.cpus);
	while (cpu_busy(f, cpu));
	*p = (struct proc){.cpu = cpu, .kind = big_gfp(f, f->nproc++), .active = true};
}

/* One step of process p: expand, or exit (put_files_struct frees both tables). */
static void step(struct fdgen *f, struct proc *p)
{
	if (p->k <= f->kmax) {
		expand(f, p);
		return;
	}
	table_free(f, p, &p->rcu, ROLE_TASK);
	table_free(f, p, &p->cur, ROLE_TASK);
	p->active = false;
	kmb__gen_idle(f->g, kmb__gen_range(f->g, 10000, 200000));
	if (kmb__gen_more(f->g, PROC_EVENT * f->nslots))
		start(f, p);
}

static int setup(struct fdgen *f)
{
	struct kmb__gen *g = f->g;
	uint64_t want = 2 * g->o.mem_bytes;

	for (f->kmax = 0; (NR_START << f->kmax) * 8 < want; f->kmax++)
		;
	g->roles = roles;
	g->nroles = sizeof(roles) / sizeof(roles[0]);
	f->site_fdt = kmb__gen_site(g, "alloc_fdtable+0x4b/0x120");
	f->site_fd = kmb__gen_site(g, "alloc_fdtable+0x79/0x120");
	f->site_bits = kmb__gen_site(g, "alloc_fdtable+0xb0/0x120");
	f->site_kvfree = kmb__gen_site(g, "kvfree+0x2c/0x40");
	f->site_fdt_free = kmb__gen_site(g, "free_fdtable_rcu+0x2a/0x40");
	f->gfp_small = kmb__gen_gfp(g, "GFP_KERNEL_ACCOUNT", M_WAITOK);
	f->gfp_failok[0] = kmb__gen_gfp(g, "GFP_KERNEL_ACCOUNT|__GFP_NOWARN|__GFP_NORETRY",
	                                M_WAITOK | M_NORETRY);
	f->gfp_failok[1] = kmb__gen_gfp(g, "GFP_KERNEL_ACCOUNT|__GFP_NOWARN|__GFP_RETRY_MAYFAIL",
	                                M_WAITOK | M_FAILOK);
	f->gfp_waitok = kmb__gen_gfp(g, "GFP_KERNEL_ACCOUNT|__GFP_ZERO", M_WAITOK | M_ZERO);
	f->nslots = g->o.cpus < MAX_PROCS ? g->o.cpus : MAX_PROCS;
	return g->rc;
}

int kmb__gen_fdtable(struct kmb__gen *g)
{
	struct fdgen f = {.g = g};
	unsigned active;

	if (setup(&f) < 0)
		return g->rc;
	for (unsigned i = 0; i < f.nslots; i++)
		start(&f, &f.p[i]);
	do {
		struct proc *p = &f.p[kmb__gen_below(g, f.nslots)];

		if (p->active)
			step(&f, p);
		active = 0;
		for (unsigned i = 0; i < f.nslots; i++)
			active += f.p[i].active;
	} while (active && g->rc == 0);
	return g->rc;
}
