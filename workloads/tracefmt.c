/*
 * workloads/tracefmt.c - the trace front end: open a file, tell its format, read it.
 *
 * Theory: kmb_trace_load() reads the first 64 KiB of the file.  A .kmt is told by its
 * 8-byte magic and handed, copied whole with pread() (see load_kmt), to kmt.c.  Anything
 * else is text: the first lines are sniffed only to name the format (ftrace, trace-cmd,
 * perf), since one line parser (ftrace.c) reads every text shape; the name matters for
 * perf's call-chain lines and for what `trace stat` reports.
 *
 * Text is read with read(2) into one buffer and split at '\n' with memchr, so that a
 * pipe works as well as a file, NUL bytes are ordinary bytes and no line is copied.  The
 * buffer grows with the longest line up to KMB_TRACE_MAX_LINE; a longer line is skipped
 * as it streams past, unread, and counted as a syntax error, so memory stays bounded
 * whatever the input.  A file in which no line is an event but some are unparsable is
 * not a trace: an error, not an empty result.
 *
 * kmb_trace_write_ftrace() writes any trace back as ftrace text, for inspection and for
 * generators that want text.
 */
#include "workloads/trace.h"

#include <kmbench/kmalloc.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNIFF_BYTES  (64u << 10)
#define SNIFF_LINES  256
#define READ_INITIAL (1u << 20)

int kmb__seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

const char *kmb_trace_format_name(int format)
{
	switch (format) {
	case KMB_FMT_FTRACE:
		return "ftrace";
	case KMB_FMT_TRACE_CMD:
		return "trace-cmd";
	case KMB_FMT_PERF:
		return "perf";
	case KMB_FMT_KMT:
		return "kmt";
	default:
		return "unknown";
	}
}

int kmb_trace_sniff(const char *buf, size_t len)
{
	bool events = false;
	size_t i = 0;

	if (len >= KMB_KMT_MAGIC_LEN && memcmp(buf, KMB_KMT_MAGIC, KMB_KMT_MAGIC_LEN) == 0)
		return KMB_FMT_KMT;
	for (int n = 0; i < len && n < SNIFF_LINES; n++) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - buf) : len;
		int shape = kmb__line_shape(buf + i, e - i);

		if (shape == KMB_FMT_TRACE_CMD || shape == KMB_FMT_PERF)
			return shape;
		events |= shape == KMB_FMT_FTRACE;
		i = e + 1;
	}
	return events ? KMB_FMT_FTRACE : KMB_FMT_UNKNOWN;
}

/* ---- reading text ------------------------------------------------------------------- */

struct reader {
	int fd;
	char *buf;
	size_t cap, start, end; /* unread bytes: buf[start..end) */
	bool eof;
};

/* Read more into buf[end..cap); 0, or -errno. */
static int fill(struct reader *r)
{
	for (;;) {
		ssize_t got = read(r->fd, r->buf + r->end, r->cap - r->end);

		if (got > 0) {
			r->end += (size_t)got;
			return 0;
		}
		if (got == 0) {
			r->eof = true;
			return 0;
		}
		if (errno != EINTR)
			return -errno;
	}
}

/* Make room after the unread bytes: move them to the front, or grow the buffer. */
static int make_room(struct reader *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		size_t cap = 2 * r->cap;
		char *b = realloc(r->buf, cap);

		if (!b)
			return -ENOMEM;
		r->buf = b;
		r->cap = cap;
	}
	return 0;
}

/* A line longer than the limit: skip to its end without keeping it. */
static int drop_long_line(struct reader *r)
{
	for (;;) {
		const char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		int rc;

		if (nl) {
			r->start = (size_t)(nl - r->buf) + 1;
			return 0;
		}
		r->start = r->end = 0;
		if (r->eof)
			return 0;
		if ((rc = fill(r)) < 0)
			return rc;
	}
}

/*
 * The next line in line and len; 1 = a line, 2 = a line over the limit (skipped), 0 = end
 * of input, or -errno.
 */
static int next_line(struct reader *r, const char **line, size_t *len)
{
	for (;;) {
		const char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		int rc;

		if (nl || (r->eof && r->start < r->end)) {
			size_t e = nl ? (size_t)(nl - r->buf) : r->end;

			*line = r->buf + r->start;
			*len = e - r->start;
			r->start = nl ? e + 1 : e;
			return *len > KMB_TRACE_MAX_LINE ? 2 : 1;
		}
		if (r->eof)
			return 0;
		if (r->end - r->start > KMB_TRACE_MAX_LINE)
			return (rc = drop_long_line(r)) < 0 ? rc : 2;
		if ((rc = make_room(r)) < 0 || (rc = fill(r)) < 0)
			return rc;
	}
}

static int read_lines(struct reader *r, struct kmb_trace *t, bool strict, char *err, size_t errlen)
{
	char reason[256];
	uint32_t lineno = 0;
	const char *line;
	size_t len;
	int rc;

	while ((rc = next_line(r, &line, &len)) > 0) {
		if (lineno < UINT32_MAX)
			lineno++;
		if (rc == 2) {
			t->lines++;
			snprintf(reason, sizeof(reason), "line longer than %u bytes",
			         KMB_TRACE_MAX_LINE);
			rc = kmb__trace_skip(t, KMB_SKIP_SYNTAX, lineno, reason, NULL, 0);
		} else {
			rc = kmb_trace_parse_line(t, line, len, lineno, reason, sizeof(reason));
		}
		if (rc == -ENOMEM) {
			kmb__seterr(err, errlen, "%s:%u: out of memory", t->path, lineno);
			return rc;
		}
		if (rc == -EINVAL && strict) {
			kmb__seterr(err, errlen, "%s:%u: %s", t->path, lineno, reason);
			return rc;
		}
	}
	if (rc < 0)
		kmb__seterr(err, errlen, "cannot read %s: %s", t->path, strerror(-rc));
	return rc;
}

/* Not a trace: nothing parsed, something did not. */
static int check_not_trace(struct kmb_trace *t, char *err, size_t errlen)
{
	uint64_t bad = t->skipped[KMB_SKIP_SYNTAX] + t->skipped[KMB_SKIP_FIELD];

	if (t->nev || !bad)
		return 0;
	kmb__seterr(err, errlen,
	            "%s: not a kernel allocation trace: no event in %" PRIu64
	            " lines (first problem: %s)",
	            t->path, t->lines, t->first_error);
	return -EINVAL;
}

/* ---- .kmt --------------------------------------------------------------------------- */

/*
 * A .kmt is copied into memory with pread(), not mapped: a mapped file that shrinks while
 * it is read (another process truncating or rewriting it) raises SIGBUS on the first
 * access past its new end, and the only cure - a process-wide SIGBUS handler jumping out
 * of the decoder - would take the signal from the program embedding the library and be
 * unsafe with several threads loading at once.  A short read is just a shorter image,
 * which the header's file size then refuses ("truncated?").  The copy costs the file's
 * size once, as the mapped pages did, and is freed as soon as the events are decoded.
 */
int kmb__pread_upto(int fd, void *buf, size_t n, size_t *got)
{
	*got = 0;
	while (*got < n) {
		ssize_t k = pread(fd, (char *)buf + *got, n - *got, (off_t)*got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		*got += (size_t)k;
	}
	return 0;
}

static int load_kmt(int fd, const struct stat *st, struct kmb_trace *t, char *err, size_t errlen)
{
	size_t n = (size_t)st->st_size, got;
	uint8_t *buf;
	int rc;

	if (!S_ISREG(st->st_mode)) {
		kmb__seterr(err, errlen,
		            "%s: a .kmt must be a regular file (its size is read first)", t->path);
		return -EINVAL;
	}
	if (!(buf = malloc(n ? n : 1))) {
		kmb__seterr(err, errlen, "%s: out of memory for its %zu bytes", t->path, n);
		return -ENOMEM;
	}
	if ((rc = kmb__pread_upto(fd, buf, n, &got)) < 0)
		kmb__seterr(err, errlen, "cannot read %s: %s", t->path, strerror(-rc));
	else
		rc = kmb_kmt_read(buf, got, t, err, errlen);
	free(buf);
	return rc;
}

/* ---- the front end ------------------------------------------------------------------ */

static int open_trace(const char *path, int *fd, struct stat *st, char *err, size_t errlen)
{
	int rc;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		rc = -errno;
		kmb__seterr(err, errlen, "cannot open %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = fstat(*fd, st) != 0 ? -errno : S_ISDIR(st->st_mode) ? -EISDIR : 0;
	if (rc < 0) {
		kmb__seterr(err, errlen, "cannot read %s: %s", path, strerror(-rc));
		close(*fd);
		return rc;
	}
	return 0;
}

/* Fill the reader with the first bytes (up to SNIFF_BYTES, fewer at end of input). */
static int read_head(struct reader *r)
{
	int rc = 0;

	while (!r->eof && r->end < SNIFF_BYTES && (rc = fill(r)) == 0)
		;
	return rc;
}

static int load_fd(int fd, const struct stat *st, const struct kmb_trace_opts *opts,
                   struct kmb_trace *t, char *err, size_t errlen)
{
	struct reader r = {.fd = fd, .cap = READ_INITIAL};
	int rc;

	if (!(r.buf = malloc(r.cap))) {
		kmb__seterr(err, errlen, "%s: out of memory", t->path);
		return -ENOMEM;
	}
	if ((rc = read_head(&r)) < 0) {
		kmb__seterr(err, errlen, "cannot read %s: %s", t->path, strerror(-rc));
	} else if ((t->format = kmb_trace_sniff(r.buf, r.end)) == KMB_FMT_KMT) {
		rc = load_kmt(fd, st, t, err, errlen);
	} else {
		t->source_format = t->format;
		rc = read_lines(&r, t, opts && opts->strict, err, errlen);
		if (rc == 0)
			rc = check_not_trace(t, err, errlen);
	}
	free(r.buf);
	return rc;
}

int kmb_trace_load(const char *path, const struct kmb_trace_opts *opts, struct kmb_trace *t,
                   char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	kmb_trace_init(t);
	kmb__seterr(err, errlen, "%s", "");
	t->path = strdup(path);
	if (!t->path || t->nstr == 0) {
		kmb__seterr(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	if ((rc = open_trace(path, &fd, &st, err, errlen)) < 0)
		return rc;
	rc = load_fd(fd, &st, opts, t, err, errlen);
	close(fd);
	return rc;
}

/* ---- writing ftrace text ------------------------------------------------------------ */

static const char *const ev_names[] = {
        [KMB_EV_KMALLOC] = "kmalloc",
        [KMB_EV_KFREE] = "kfree",
        [KMB_EV_CACHE_ALLOC] = "kmem_cache_alloc",
        [KMB_EV_CACHE_FREE] = "kmem_cache_free",
        [KMB_EV_PAGE_ALLOC] = "mm_page_alloc",
        [KMB_EV_PAGE_FREE] = "mm_page_free",
};

/* gfp_flags that kmb_gfp_to_flags() maps back to the same M_* flags. */
static void gfp_string(int flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s%s", (flags & M_WAITOK) ? "GFP_KERNEL" : "GFP_NOWAIT",
	         (flags & M_USE_RESERVE) ? "|__GFP_HIGH" : "",
	         (flags & M_ZERO) ? "|__GFP_ZERO" : "", (flags & M_NOFAIL) ? "|__GFP_NOFAIL" : "",
	         (flags & M_FAILOK) ? "|__GFP_RETRY_MAYFAIL" : "",
	         (flags & M_NORETRY) ? "|__GFP_NORETRY" : "");
}

static void write_slab(FILE *out, const struct kmb_trace *t, const struct kmb_event *e)
{
	char gfp[96];

	fprintf(out, "call_site=%s ptr=%016" PRIx64, t->str[e->site], e->ptr);
	if (kmb_event_is_alloc(e->kind)) {
		gfp_string(e->flags, gfp, sizeof(gfp));
		fprintf(out, " bytes_req=%" PRIu64 " bytes_alloc=%" PRIu64 " gfp_flags=%s",
		        e->bytes_req, e->bytes_alloc, gfp);
	}
	if (e->node != -1)
		fprintf(out, " node=%d", e->node);
	if (e->cache)
		fprintf(out, " name=%s", t->str[e->cache]);
}

/* The irq-flags column's third character for a context (ftrace.c reads it back). */
static char ctx_char(unsigned ctx)
{
	if (ctx & KMB_ECTX_NMI)
		return (ctx & KMB_ECTX_HARDIRQ) ? 'Z' : 'z';
	if (ctx & KMB_ECTX_HARDIRQ)
		return (ctx & KMB_ECTX_SOFTIRQ) ? 'H' : 'h';
	return (ctx & KMB_ECTX_SOFTIRQ) ? 's' : '.';
}

static void write_event(FILE *out, const struct kmb_trace *t, const struct kmb_event *e)
{
	char gfp[96];

	fprintf(out,
	        "         kmbench-0       [%03u] ..%c.. %" PRIu64 ".%09" PRIu64 ": %s: ", e->cpu,
	        ctx_char(e->ctx), e->ts_ns / 1000000000u, e->ts_ns % 1000000000u,
	        ev_names[e->kind]);
	if (e->kind == KMB_EV_PAGE_ALLOC) {
		gfp_string(e->flags, gfp, sizeof(gfp));
		fprintf(out, "pfn=0x%" PRIx64 " order=%u migratetype=0 gfp_flags=%s", e->ptr,
		        e->order, gfp);
	} else if (e->kind == KMB_EV_PAGE_FREE) {
		fprintf(out, "pfn=0x%" PRIx64 " order=%u", e->ptr, e->order);
	} else {
		write_slab(out, t, e);
	}
	fputc('\n', out);
}

int kmb_trace_write_ftrace(const struct kmb_trace *t, FILE *out)
{
	fprintf(out, "# tracer: nop\n# kmbench: %s (%s), %zu events\n#\n",
	        t->path ? t->path : "<trace>", kmb_trace_format_name(t->format), t->nev);
	fprintf(out, "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
	             "#              | |         |   |||||     |         |\n");
	if (t->lost_events) /* carried as one report: the count survives, not the places */
		fprintf(out,
		        "# the source lost %" PRIu64 " events in %" PRIu64
		        " reports\nCPU:0 [LOST %" PRIu64 " EVENTS]\n",
		        t->lost_events, t->lost_reports, t->lost_events);
	for (size_t i = 0; i < t->nev; i++)
		if (t->ev[i].kind >= KMB_EV_KMALLOC && t->ev[i].kind <= KMB_EV_PAGE_FREE)
			write_event(out, t, &t->ev[i]);
	return ferror(out) ? -EIO : 0;
}
