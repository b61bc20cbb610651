/*
 * workloads/record.c - `kmbench trace record`: capture kmem events from tracefs.
 *
 * Theory: tracefs is /sys/kernel/tracing (or the older /sys/kernel/debug/tracing, or
 * --tracefs DIR, which is also how the tests point it at a fake tree).  The capture
 * touches only what it must and puts it back: tracing_on, the enable file of each event
 * it turns on, and buffer_size_kb when asked to change it; their previous contents are
 * saved first and written back on every way out (end of the duration, SIGINT/SIGTERM/
 * SIGHUP through *stop, or an error after the first change).
 *
 * Reading: one thread per CPU reads per_cpu/cpuN/trace_pipe (text; trace_pipe_raw is the
 * binary ring-buffer pages) non-blocking, with poll, into a spool file beside the output,
 * so that a busy CPU is drained by its own reader and nothing waits on another CPU.  A
 * reader that sees end of file (a regular file, a FIFO without writer) sleeps briefly and
 * tries again, until the capture ends; then it drains what is left and stops.  Per-CPU
 * pipes give no global order, so the spools are merged at the end by timestamp (a heap
 * over the CPUs; lines without a timestamp, such as "CPU:N [LOST M EVENTS]", keep their
 * place in their CPU's stream) into the output, written atomically.  The order across
 * CPUs is as good as the trace clock's (the default "local" clock is per CPU; the global
 * trace_pipe merges by the same timestamps).
 *
 * Ring buffer.  Reading trace_pipe as text costs the kernel a formatting per event, so a
 * busy machine fills the buffer faster than the readers drain it, and the kernel drops
 * what overflows ("CPU:N [LOST M EVENTS]").  Measured here (Linux 6.18, 2 CPUs, `find /`
 * and `tar c /usr/share/doc /usr/lib` for 5 s, every default event, other builds running):
 * about 790 000 events/s produced, the readers drain about 350 000/s; lost of the 3.9
 * million: 1408 KiB per CPU (the kernel's default) 743 046, 4 MiB 1 417 337, 16 MiB
 * 1 462 579, 64 MiB 501 498, 128 MiB none (the drain after the 5 s then took 18 s).  An
 * event is about 40 bytes in the ring buffer, so a CPU producing 400 000/s fills 16 MB/s
 * and 128 MiB holds some 8 s of what its reader could not take.  So by default the
 * buffer is grown (never shrunk) to DEFAULT_BUFFER_KB per CPU, but to no more than 1/8 of
 * MemAvailable over all CPUs (a 64-CPU machine with 16 GiB available gets 32 MiB each);
 * --buffer-kb sets it exactly.  The lost count goes in the message and in the trace's
 * header comment.
 *
 * Own events.  The readers' writes to the spools allocate (page cache, ext4 journal), so
 * each event gets the filter "common_pid != P && ..." over the process and its reader
 * threads (an event that already has a filter is left alone), restored ("0") after.
 */
#include "workloads/trace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "results/results.h"

#define MAX_EVENTS        32
#define READ_CHUNK        (64u << 10)
#define IDLE_NS           50000000L    /* a reader's sleep at end of file */
#define DEFAULT_BUFFER_KB (128u << 10) /* per CPU (Ring buffer, above) */
#define MIN_BUFFER_KB     1408u        /* the kernel's default: never below */
#define FILTER_MAX        8192u        /* "common_pid != N && " is at most 30 bytes: 270 */

const char *const kmb_record_default_events[] = {
        "kmalloc",
        "kmalloc_node",
        "kfree",
        "kmem_cache_alloc",
        "kmem_cache_alloc_node",
        "kmem_cache_free",
        "mm_page_alloc",
        "mm_page_free",
        "mm_page_free_batched",
        "mm_page_free_direct",
        "mm_pagevec_free",
        NULL,
};

/* snprintf that says whether it fit (a path too long is then treated as missing). */
__attribute__((format(printf, 3, 4))) static bool fmt(char *dst, size_t len, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = vsnprintf(dst, len, f, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < len;
}

/* ---- small tracefs files -------------------------------------------------------------- */

struct saved {
	char path[PATH_MAX];
	char value[64]; /* the contents before, without the newline */
	bool changed;   /* written by us: to restore */
};

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Write value and a newline in one write (a tracefs file takes each write whole), as echo
 * does. */
static int write_small(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	char line[FILTER_MAX + 2];
	size_t len = (size_t)snprintf(line, sizeof(line), "%.*s\n", FILTER_MAX, value);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, line, len);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	return close(fd) == 0 && (size_t)n == len ? 0 : -EIO;
}

static int save(struct saved *s, const char *dir, const char *name, char *err, size_t errlen)
{
	int rc;

	s->changed = false;
	rc = fmt(s->path, sizeof(s->path), "%s/%s", dir, name) ? 0 : -ENAMETOOLONG;
	if (rc < 0 || (rc = read_small(s->path, s->value, sizeof(s->value))) < 0)
		kmb__seterr(err, errlen, "cannot read %s: %s", s->path, strerror(-rc));
	return rc;
}

static int change(struct saved *s, const char *value, char *err, size_t errlen)
{
	int rc = write_small(s->path, value);

	if (rc < 0) {
		kmb__seterr(err, errlen, "cannot write %s: %s%s", s->path, strerror(-rc),
		            rc == -EACCES || rc == -EPERM ? " (tracing needs root)" : "");
		return rc;
	}
	s->changed = true;
	return 0;
}

/* Restore; the first failure is reported in err (if it is still empty). */
static void restore(struct saved *s, char *err, size_t errlen)
{
	int rc;

	if (!s->changed)
		return;
	if ((rc = write_small(s->path, s->value)) < 0 && err && !err[0])
		kmb__seterr(err, errlen, "cannot restore %s to '%s': %s", s->path, s->value,
		            strerror(-rc));
	s->changed = false;
}

/* ---- the capture ---------------------------------------------------------------------- */

struct cpu_reader {
	struct rec *rec;
	unsigned cpu;
	int fd;
	FILE *spool;
	char spool_path[PATH_MAX];
	pthread_t th;
	bool started;
	int err;
	atomic_long tid; /* the reader thread's, once it runs (the events filter) */
};

struct rec {
	const struct kmb_record_opts *o;
	char root[PATH_MAX];
	struct saved tracing_on, buffer_kb, ev[MAX_EVENTS], filter[MAX_EVENTS];
	size_t nev;
	struct cpu_reader *cpu;
	size_t ncpu;
	unsigned kb;      /* per-CPU ring buffer while capturing, KiB (0: unknown) */
	size_t nfiltered; /* events whose filter leaves out our own threads */
	atomic_bool done;
	atomic_uint_least64_t lines, bytes;
};

static bool tracefs_at(const char *dir, int *why)
{
	char p[PATH_MAX];

	if (!fmt(p, sizeof(p), "%s/tracing_on", dir))
		return false;
	if (access(p, F_OK) == 0)
		return true;
	if (errno == EACCES || errno == EPERM)
		*why = errno;
	return false;
}

static int find_tracefs(struct rec *r, char *err, size_t errlen)
{
	static const char *const where[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
	int why = 0;

	if (r->o->tracefs) {
		if (fmt(r->root, sizeof(r->root) - 64, "%s", r->o->tracefs) &&
		    tracefs_at(r->root, &why))
			return 0;
		kmb__seterr(err, errlen, "%s: %s", r->root,
		            why ? "permission denied (tracing needs root)"
		                : "not a tracefs directory (no tracing_on)");
		return why ? -EACCES : -ENOENT;
	}
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (tracefs_at(where[i], &why)) {
			fmt(r->root, sizeof(r->root), "%s", where[i]);
			return 0;
		}
	if (why) {
		kmb__seterr(err, errlen,
		            "cannot look into /sys/kernel/tracing: permission denied "
		            "(tracing needs root, or CAP_SYS_ADMIN)");
		return -EACCES;
	}
	kmb__seterr(err, errlen,
	            "tracefs is not mounted: neither /sys/kernel/tracing nor "
	            "/sys/kernel/debug/tracing has tracing_on (mount -t tracefs nodev "
	            "/sys/kernel/tracing, or --tracefs DIR)");
	return -ENOENT;
}

static bool event_exists(const struct rec *r, const char *name)
{
	char p[PATH_MAX];

	return fmt(p, sizeof(p), "%s/events/kmem/%s/enable", r->root, name) && access(p, F_OK) == 0;
}

static int add_event(struct rec *r, const char *name, size_t len, char *err, size_t errlen)
{
	char rel[PATH_MAX], nm[128];

	if (len > 5 && strncmp(name, "kmem:", 5) == 0)
		name += 5, len -= 5;
	if (len == 0 || len >= sizeof(nm) || r->nev == MAX_EVENTS) {
		kmb__seterr(err, errlen, "bad event list");
		return -EINVAL;
	}
	memcpy(nm, name, len);
	nm[len] = '\0';
	if (!event_exists(r, nm)) {
		kmb__seterr(err, errlen,
		            "no event kmem:%s in %s/events/kmem (this kernel lacks it?)", nm,
		            r->root);
		return -ENOENT;
	}
	fmt(rel, sizeof(rel), "events/kmem/%s/enable", nm);
	return save(&r->ev[r->nev++], r->root, rel, err, errlen);
}

static int choose_events(struct rec *r, char *err, size_t errlen)
{
	const char *s = r->o->events;
	int rc;

	if (s) {
		while (*s) {
			size_t len = strcspn(s, ",");

			if ((rc = add_event(r, s, len, err, errlen)) < 0)
				return rc;
			s += len + (s[len] == ',');
		}
		return 0;
	}
	for (int i = 0; kmb_record_default_events[i]; i++) {
		const char *e = kmb_record_default_events[i];

		if (event_exists(r, e) && (rc = add_event(r, e, strlen(e), err, errlen)) < 0)
			return rc;
	}
	if (r->nev == 0) {
		kmb__seterr(err, errlen,
		            "%s/events/kmem has no kmem event (a kernel without "
		            "CONFIG_TRACEPOINTS, or tracefs not fully mounted)",
		            r->root);
		return -ENOENT;
	}
	return 0;
}

static int cmp_reader(const void *a, const void *b)
{
	const struct cpu_reader *x = a, *y = b;

	return (x->cpu > y->cpu) - (x->cpu < y->cpu);
}

static int add_cpu(struct rec *r, unsigned cpu)
{
	struct cpu_reader *c = realloc(r->cpu, (r->ncpu + 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	r->cpu = c;
	memset(&c[r->ncpu], 0, sizeof(*c));
	c[r->ncpu].cpu = cpu;
	c[r->ncpu].fd = -1;
	r->ncpu++;
	return 0;
}

static int find_cpus(struct rec *r, char *err, size_t errlen)
{
	char dir[PATH_MAX], p[PATH_MAX + 64];
	struct dirent *d;
	DIR *dp;
	int rc = 0;

	fmt(dir, sizeof(dir), "%s/per_cpu", r->root); /* root is short: find_tracefs */
	if (!(dp = opendir(dir))) {
		rc = -errno;
		kmb__seterr(err, errlen, "cannot list %s: %s", dir, strerror(-rc));
		return rc;
	}
	while (rc == 0 && (d = readdir(dp)) != NULL) {
		char *end;
		unsigned long cpu;

		if (strncmp(d->d_name, "cpu", 3) != 0)
			continue;
		cpu = strtoul(d->d_name + 3, &end, 10);
		if (*end == '\0' && end != d->d_name + 3 && cpu <= UINT16_MAX &&
		    fmt(p, sizeof(p), "%s/%s/trace_pipe", dir, d->d_name) && access(p, F_OK) == 0)
			rc = add_cpu(r, (unsigned)cpu);
	}
	closedir(dp);
	if (rc == 0 && r->ncpu == 0) {
		kmb__seterr(err, errlen, "no per_cpu/cpuN/trace_pipe under %s", r->root);
		rc = -ENOENT;
	}
	if (r->ncpu > 1)
		qsort(r->cpu, r->ncpu, sizeof(*r->cpu), cmp_reader);
	return rc;
}

static int open_spools(struct rec *r, char *err, size_t errlen)
{
	for (size_t i = 0; i < r->ncpu; i++) {
		struct cpu_reader *c = &r->cpu[i];
		char p[PATH_MAX + 64];
		int fd;

		if (!fmt(c->spool_path, sizeof(c->spool_path), "%s.cpu%u.XXXXXX", r->o->out_path,
		         c->cpu)) {
			kmb__seterr(err, errlen, "%s: path too long", r->o->out_path);
			c->spool_path[0] = '\0';
			return -ENAMETOOLONG;
		}
		if ((fd = mkstemp(c->spool_path)) < 0 || !(c->spool = fdopen(fd, "w+"))) {
			int e = errno;

			kmb__seterr(err, errlen, "cannot write next to %s: %s", r->o->out_path,
			            strerror(e));
			if (fd >= 0) {
				close(fd);
				unlink(c->spool_path);
			}
			c->spool_path[0] = '\0';
			return -e;
		}
		fmt(p, sizeof(p), "%s/per_cpu/cpu%u/trace_pipe", r->root, c->cpu);
		if ((c->fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
			int e = errno;

			kmb__seterr(err, errlen, "cannot open %s: %s%s", p, strerror(e),
			            e == EACCES || e == EPERM ? " (tracing needs root)" : "");
			return -e;
		}
	}
	return 0;
}

static uint64_t count_nl(const char *p, size_t n)
{
	uint64_t k = 0;

	for (const char *q = p; (q = memchr(q, '\n', n - (size_t)(q - p))) != NULL; q++)
		k++;
	return k;
}

static void nap(long ns)
{
	struct timespec ts = {0, ns};

	nanosleep(&ts, NULL);
}

static void *reader_main(void *arg)
{
	struct cpu_reader *c = arg;
	struct rec *r = c->rec;
	char *buf = malloc(READ_CHUNK);

	atomic_store(&c->tid, (long)syscall(SYS_gettid));
	if (!buf) {
		c->err = -ENOMEM;
		return NULL;
	}
	for (;;) {
		bool done = atomic_load(&r->done);
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		ssize_t n;

		if (!done && poll(&pfd, 1, 100) == 0)
			continue;
		n = read(c->fd, buf, READ_CHUNK);
		if (n > 0) {
			if (fwrite(buf, 1, (size_t)n, c->spool) != (size_t)n) {
				c->err = -EIO;
				break;
			}
			atomic_fetch_add(&r->bytes, (uint64_t)n);
			atomic_fetch_add(&r->lines, count_nl(buf, (size_t)n));
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			c->err = -errno;
			break;
		}
		if (done)
			break;
		if (n == 0)
			nap(IDLE_NS);
	}
	free(buf);
	return NULL;
}

static int start_readers(struct rec *r, char *err, size_t errlen)
{
	sigset_t block, old;
	int rc = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old); /* the signals go to the main thread */
	for (size_t i = 0; i < r->ncpu && rc == 0; i++) {
		r->cpu[i].rec = r;
		if ((rc = -pthread_create(&r->cpu[i].th, NULL, reader_main, &r->cpu[i])) == 0)
			r->cpu[i].started = true;
		else
			kmb__seterr(err, errlen, "cannot start a reader thread: %s", strerror(-rc));
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int stop_readers(struct rec *r, char *err, size_t errlen)
{
	int rc = 0;

	atomic_store(&r->done, true);
	for (size_t i = 0; i < r->ncpu; i++) {
		struct cpu_reader *c = &r->cpu[i];

		if (c->started)
			pthread_join(c->th, NULL);
		c->started = false;
		if (c->err && rc == 0) {
			rc = c->err;
			kmb__seterr(err, errlen, "reading CPU %u: %s", c->cpu, strerror(-rc));
		}
	}
	return rc;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(struct rec *r, double t0, bool last)
{
	FILE *f = r->o->progress;

	if (!f)
		return;
	fprintf(f, "\rkmbench trace record: %.1f s, %" PRIu64 " lines, %.1f MiB from %zu CPUs%s",
	        now_s() - t0, (uint64_t)atomic_load(&r->lines),
	        (double)atomic_load(&r->bytes) / 1048576.0, r->ncpu, last ? "\n" : "   ");
	fflush(f);
}

static void wait_capture(struct rec *r, double t0)
{
	double last = 0, d = r->o->duration_s;

	while (!(r->o->stop && *r->o->stop) && !(d > 0 && now_s() - t0 >= d)) {
		nap(20000000L);
		if (now_s() - last >= 0.5) {
			progress(r, t0, false);
			last = now_s();
		}
	}
	progress(r, t0, true);
}

/* ---- the ring buffer's size and the events' filter (Ring buffer, Own events) ----------- */

static uint64_t mem_available_kb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;
	char line[128];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* The per-CPU size to set without --buffer-kb, or 0 to keep the current (larger) one. */
static unsigned default_buffer_kb(const struct rec *r)
{
	uint64_t avail = mem_available_kb(), kb = DEFAULT_BUFFER_KB;
	unsigned long cur = strtoul(r->buffer_kb.value, NULL, 10);

	if (avail && r->ncpu && avail / 8 / r->ncpu < kb)
		kb = avail / 8 / r->ncpu;
	if (kb < MIN_BUFFER_KB)
		kb = MIN_BUFFER_KB;
	return kb > cur ? (unsigned)kb : 0;
}

/* A buffer not yet allocated reads "7 (expanded: 1408)" (kernel/trace/trace.c
 * tracing_entries_read): the size it gets when used, the one to restore. */
static void expanded_size(struct saved *s)
{
	const char *e = strstr(s->value, "(expanded: ");
	unsigned long kb = strtoul(e ? e + 11 : s->value, NULL, 10);

	snprintf(s->value, sizeof(s->value), "%lu", kb);
}

static int set_buffer(struct rec *r, char *err, size_t errlen)
{
	unsigned want = r->o->buffer_kb;
	char kb[32], p[PATH_MAX];
	int rc;

	if (!want && (!fmt(p, sizeof(p), "%s/buffer_size_kb", r->root) || access(p, F_OK) != 0))
		return 0; /* no buffer to size (an old or a fake tracefs) */
	if ((rc = save(&r->buffer_kb, r->root, "buffer_size_kb", err, errlen)) < 0)
		return rc;
	expanded_size(&r->buffer_kb);
	if (!want && !(want = default_buffer_kb(r))) {
		r->kb = (unsigned)strtoul(r->buffer_kb.value, NULL, 10);
		return 0;
	}
	snprintf(kb, sizeof(kb), "%u", want);
	r->kb = want;
	return change(&r->buffer_kb, kb, err, errlen);
}

/* The reader threads' ids, once they run (at most a second). */
static bool reader_tids(struct rec *r)
{
	for (int tries = 0; tries < 1000; tries++) {
		size_t i = 0;

		while (i < r->ncpu && atomic_load(&r->cpu[i].tid) != 0)
			i++;
		if (i == r->ncpu)
			return true;
		nap(1000000L);
	}
	return false;
}

/* Each event's filter: not this process nor its readers, unless it has one already. */
static int set_filters(struct rec *r, char *err, size_t errlen)
{
	char f[FILTER_MAX], rel[PATH_MAX];
	size_t n = (size_t)snprintf(f, sizeof(f), "common_pid != %ld", (long)getpid());
	int rc = 0;

	if (!reader_tids(r))
		return 0; /* a reader that does not run records nothing either */
	for (size_t i = 0; i < r->ncpu && n < sizeof(f); i++)
		n += (size_t)snprintf(f + n, sizeof(f) - n, " && common_pid != %ld",
		                      (long)atomic_load(&r->cpu[i].tid));
	for (size_t i = 0; i < r->nev && rc == 0 && n < sizeof(f); i++) {
		const char *enable = r->ev[i].path + strlen(r->root) + 1;

		fmt(rel, sizeof(rel), "%.*sfilter", (int)(strlen(enable) - 6), enable);
		if (!fmt(r->filter[i].path, sizeof(r->filter[i].path), "%s/%s", r->root, rel) ||
		    access(r->filter[i].path, W_OK) != 0)
			continue;
		if ((rc = save(&r->filter[i], r->root, rel, err, errlen)) < 0)
			return rc;
		if (strcmp(r->filter[i].value, "none") != 0)
			continue; /* the user's: left alone */
		snprintf(r->filter[i].value, sizeof(r->filter[i].value), "0"); /* clears it */
		if (write_small(r->filter[i].path, f) == 0) { /* a kernel refusing it: unfiltered */
			r->filter[i].changed = true;
			r->nfiltered++;
		}
	}
	return rc;
}

/* ---- merging the spools by timestamp ---------------------------------------------------- */

struct src {
	FILE *f;
	char *line;
	size_t cap;
	ssize_t len;
	uint64_t ts;
	unsigned cpu;
};

static bool src_next(struct src *s)
{
	uint64_t ts;

	if ((s->len = getline(&s->line, &s->cap, s->f)) < 0)
		return false;
	if (kmb__line_ts(s->line, (size_t)s->len, &ts))
		s->ts = ts;
	return true;
}

static bool src_before(const struct src *a, const struct src *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->cpu < b->cpu);
}

static void sift_down(struct src **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct src *t;

		if (l < n && src_before(h[l], h[m]))
			m = l;
		if (l + 1 < n && src_before(h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		t = h[i], h[i] = h[m], h[m] = t;
		i = m;
	}
}

static void count_lost(struct kmb_record_result *res, const char *line)
{
	unsigned long long m;
	unsigned cpu;

	if (sscanf(line, "CPU:%u [LOST %llu EVENTS]", &cpu, &m) == 2)
		res->lost_events += m;
}

/* The lost events the spools report (for the header, before the merge). */
static void count_all_lost(struct src *s, size_t n, struct kmb_record_result *res)
{
	for (size_t i = 0; i < n; i++) {
		while (src_next(&s[i]))
			if (s[i].line[0] == 'C')
				count_lost(res, s[i].line);
		rewind(s[i].f);
		s[i].ts = 0;
	}
}

static int merge_into(struct rec *r, struct src *s, FILE *out, struct kmb_record_result *res)
{
	struct src **heap = calloc(r->ncpu, sizeof(*heap));
	size_t n = 0;

	if (!heap)
		return -ENOMEM;
	for (size_t i = 0; i < r->ncpu; i++)
		if (src_next(&s[i]))
			heap[n++] = &s[i];
	for (size_t i = n; i-- > 0;)
		sift_down(heap, n, i);
	while (n) {
		struct src *top = heap[0];

		fwrite(top->line, 1, (size_t)top->len, out);
		if (top->len && top->line[top->len - 1] != '\n')
			fputc('\n', out);
		res->lines++;
		if (!src_next(top))
			heap[0] = heap[--n];
		sift_down(heap, n, 0);
	}
	free(heap);
	return ferror(out) ? -EIO : 0;
}

static int merge(struct rec *r, struct kmb_record_result *res, char *err, size_t errlen)
{
	struct src *s = calloc(r->ncpu, sizeof(*s));
	struct kmb_file kf;
	FILE *out;
	int rc;

	if (!s)
		return -ENOMEM;
	if (!(out = kmb_file_create(r->o->out_path, &kf))) {
		rc = -errno;
		kmb__seterr(err, errlen, "cannot write %s: %s", r->o->out_path, strerror(errno));
		free(s);
		return rc;
	}
	for (size_t i = 0; i < r->ncpu; i++) {
		s[i].f = r->cpu[i].spool;
		s[i].cpu = r->cpu[i].cpu;
		fflush(s[i].f);
		rewind(s[i].f);
	}
	count_all_lost(s, r->ncpu, res);
	fprintf(out,
	        "# tracer: nop\n# kmbench trace record from %s: %zu events enabled, %zu CPUs, "
	        "%u KiB ring buffer per CPU, %zu events filter out its own threads, %" PRIu64
	        " events lost\n",
	        r->root, r->nev, r->ncpu, r->kb, r->nfiltered, res->lost_events);
	rc = merge_into(r, s, out, res);
	for (size_t i = 0; i < r->ncpu; i++)
		free(s[i].line);
	free(s);
	if (rc == 0 && (rc = kmb_file_commit(&kf)) < 0)
		kmb__seterr(err, errlen, "cannot write %s: %s", r->o->out_path, strerror(-rc));
	else if (rc < 0)
		kmb_file_abort(&kf);
	if (rc == -EIO)
		kmb__seterr(err, errlen, "cannot write %s: %s", r->o->out_path, strerror(EIO));
	return rc;
}

/* ---- the whole ------------------------------------------------------------------------ */

static void cleanup(struct rec *r)
{
	for (size_t i = 0; i < r->ncpu; i++) {
		struct cpu_reader *c = &r->cpu[i];

		if (c->fd >= 0)
			close(c->fd);
		if (c->spool)
			fclose(c->spool);
		if (c->spool_path[0])
			unlink(c->spool_path);
	}
	free(r->cpu);
}

static void restore_all(struct rec *r, char *err, size_t errlen)
{
	for (size_t i = 0; i < r->nev; i++)
		restore(&r->ev[i], err, errlen);
	restore(&r->tracing_on, err, errlen);
	for (size_t i = 0; i < r->nev; i++)
		restore(&r->filter[i], err, errlen);
}

/* Save the state, then change it: buffer size, filters, events, tracing_on. */
static int enable(struct rec *r, char *err, size_t errlen)
{
	int rc = 0;

	if ((rc = save(&r->tracing_on, r->root, "tracing_on", err, errlen)) < 0 ||
	    (rc = set_buffer(r, err, errlen)) < 0 || (rc = set_filters(r, err, errlen)) < 0)
		return rc;
	for (size_t i = 0; i < r->nev && rc == 0; i++)
		rc = change(&r->ev[i], "1", err, errlen);
	return rc ? rc : change(&r->tracing_on, "1", err, errlen);
}

static int prepare(struct rec *r, char *err, size_t errlen)
{
	int rc;

	if ((rc = find_tracefs(r, err, errlen)) < 0 || (rc = choose_events(r, err, errlen)) < 0 ||
	    (rc = find_cpus(r, err, errlen)) < 0)
		return rc;
	return open_spools(r, err, errlen);
}

static int capture(struct rec *r, struct kmb_record_result *res, char *err, size_t errlen)
{
	double t0;
	int rc = start_readers(r, err, errlen), rc2; /* first: their ids go in the filter */

	if (rc == 0 && (rc = enable(r, err, errlen)) == 0) {
		t0 = now_s();
		wait_capture(r, t0);
		res->seconds = now_s() - t0;
	}
	restore_all(r, rc ? NULL : err, errlen); /* events stop, then the readers drain */
	rc2 = stop_readers(r, rc ? NULL : err, errlen);
	restore(&r->buffer_kb, rc ? NULL : err, errlen);
	if (rc == 0 && err && err[0])
		rc = rc2 ? rc2 : -EIO;
	return rc;
}

int kmb_trace_record(const struct kmb_record_opts *o, struct kmb_record_result *res, char *err,
                     size_t errlen)
{
	struct rec r = {.o = o};
	int rc;

	memset(res, 0, sizeof(*res));
	kmb__seterr(err, errlen, "%s", "");
	atomic_init(&r.done, false);
	atomic_init(&r.lines, 0);
	atomic_init(&r.bytes, 0);
	if ((rc = prepare(&r, err, errlen)) == 0 && (rc = capture(&r, res, err, errlen)) == 0)
		rc = merge(&r, res, err, errlen);
	fmt(res->tracefs, sizeof(res->tracefs), "%s", r.root);
	res->ncpus = (unsigned)r.ncpu;
	res->buffer_kb = r.kb;
	res->nevents = (unsigned)r.nev;
	res->bytes = atomic_load(&r.bytes);
	cleanup(&r);
	return rc;
}
