/*
 * workloads/ftrace.c - one line of kernel allocation trace text: ftrace (every era),
 * trace-cmd report and perf script.
 *
 * Theory: an event line is
 *
 *     TASK-PID [(TGID)] [CPU] [FLAGS] SECONDS.MICROS: EVENT: key=value key=value ...
 *
 * (ftrace, from 2.6.3x without FLAGS to 6.x with 5 of them; `trace-cmd report`, whose
 * event names are padded to 20 columns), or one of two relatives:
 *
 *     TASK PID[/TID] [CPU] SECONDS.MICROS: kmem:EVENT: ...   (perf script)
 *     TASK-PID CPU<latency flags> SECONDS.MICROS: EVENT: ...   (trace-cmd report -l)
 *
 * The task name may hold spaces, dashes and colons, so a line is anchored on its CPU
 * column: the first "[digits]" preceded and followed by whitespace, with a task and a pid
 * before it ("-PID" or " PID").  Without one, the trace-cmd -l shape is tried: a token of
 * digits and flags followed by a timestamp.  The irq-flags column may be absent: the
 * token after the CPU is the timestamp if it parses as one followed by ':', otherwise it
 * is the flags.  A timestamp without a fraction is a raw clock count (counter clocks).
 * Fields are key=value tokens; a following token without '=' continues the value
 * ("ptr=  (null)", "call_site=foo+0x1/0x2 [mod]").  Unknown keys are ignored.
 *
 * The irq-flags column (the latency format: "d.h1" in 3.x, "d..1." in 6.x, "0d..1." after
 * trace-cmd -l's CPU) gives each event its context in its third character, which every
 * era that has the column prints the same way (kernel/trace/trace_output.c,
 * trace_print_lat_fmt): 'Z' NMI inside a hard interrupt, 'z' NMI, 'H' hard interrupt
 * inside a soft one, 'h' hard interrupt, 's' soft interrupt, '.' process context.  A
 * column shorter than 4 characters, or without one of these there, says nothing (process).
 *
 * Other lines are comments ('#', "##### CPU 2 buffer started ####"), headers of
 * trace-cmd ("cpus=4", "version = 6", "CPU 3 is empty"), reports of lost events
 * ("CPU:3 [LOST 42 EVENTS]", trace-cmd's "CPU:3 [42 EVENTS DROPPED]") and, in perf
 * output, call-chain lines (an indented address).
 *
 * The line is scanned once, with no allocation except when a new string is interned or
 * the event array grows; every access is bounded by the length, so NUL bytes and invalid
 * UTF-8 are ordinary bytes (a NUL inside an interned name is a field error).  Numbers are
 * parsed by hand with explicit overflow checks.  Problems are counted by reason
 * (KMB_SKIP_*); the first few are kept as "file:line: reason".
 *
 * gfp_flags are mapped to kmbench M_* flags by kmb_gfp_to_flags(), at the end, behind a
 * small cache of the strings seen (a trace repeats a handful of them).
 */
#include "workloads/trace.h"

#include <kmbench/kmalloc.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define KMB_MAX_NAME  4096 /* longest call site or cache name interned */
#define KMB_MAX_ORDER 10   /* Linux's largest page order (MAX_ORDER - 1, MAX_PAGE_ORDER) */

struct span {
	const char *p;
	size_t n;
};

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static size_t skip_ws(const char *p, size_t i, size_t n)
{
	while (i < n && is_ws(p[i]))
		i++;
	return i;
}

static size_t token_end(const char *p, size_t i, size_t n)
{
	while (i < n && !is_ws(p[i]))
		i++;
	return i;
}

static size_t skip_digits(const char *p, size_t i, size_t n)
{
	while (i < n && is_digit(p[i]))
		i++;
	return i;
}

static bool span_eq(struct span s, const char *lit, size_t litlen)
{
	return s.n == litlen && memcmp(s.p, lit, litlen) == 0;
}

static bool has_prefix(const char *p, size_t i, size_t n, const char *lit, size_t litlen)
{
	return n - i >= litlen && memcmp(p + i, lit, litlen) == 0;
}

/* ---- numbers ------------------------------------------------------------------------ */

static int parse_dec(struct span s, uint64_t *out)
{
	uint64_t v = 0;

	if (s.n == 0)
		return -EINVAL;
	for (size_t i = 0; i < s.n; i++) {
		unsigned d = (unsigned)((unsigned char)s.p[i] - '0');

		if (d > 9)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Hex digits with an optional 0x prefix. */
static int parse_hex(struct span s, uint64_t *out)
{
	uint64_t v = 0;

	if (s.n > 2 && s.p[0] == '0' && (s.p[1] | 0x20) == 'x') {
		s.p += 2;
		s.n -= 2;
	}
	if (s.n == 0)
		return -EINVAL;
	for (size_t i = 0; i < s.n; i++) {
		int d = hex_digit((unsigned char)s.p[i]);

		if (d < 0)
			return -EINVAL;
		if (v >> 60)
			return -ERANGE;
		v = v << 4 | (unsigned)d;
	}
	*out = v;
	return 0;
}

/* "0x..." is hex, anything else decimal (pfn=, a bare gfp number). */
static int parse_num(struct span s, uint64_t *out)
{
	if (s.n > 2 && s.p[0] == '0' && (s.p[1] | 0x20) == 'x')
		return parse_hex(s, out);
	return parse_dec(s, out);
}

/* ---- reasons ------------------------------------------------------------------------ */

/* Copy at most 40 bytes of s into dst, printable ASCII only, "..." when cut. */
static void excerpt(char *dst, size_t dstlen, struct span s)
{
	size_t n = s.n < 40 ? s.n : 40, j = 0;

	for (size_t i = 0; i < n && j + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)s.p[i];

		dst[j++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	for (size_t i = 0; n < s.n && i < 3 && j + 1 < dstlen; i++)
		dst[j++] = '.';
	if (dstlen)
		dst[j] = '\0';
}

/* "key=value: why" with the value excerpted. */
static void field_reason(char *r, size_t rlen, const char *key, struct span v, const char *why)
{
	char ex[48];

	excerpt(ex, sizeof(ex), v);
	kmb__seterr(r, rlen, "%s=%s: %s", key, ex, why);
}

/* ---- the line head: task-pid, CPU, flags, timestamp, event name --------------------- */

struct head {
	uint16_t cpu;
	uint8_t ctx; /* KMB_ECTX_* from the irq-flags column, 0 without one */
	uint64_t ts_ns;
	struct span event; /* without a "kmem:" prefix */
	bool foreign;      /* "sched:sched_switch": another subsystem's event */
	size_t rest;       /* index of the first field */
};

/* The first "[digits]" preceded and followed by whitespace; returns the '[' or n. */
static size_t find_cpu(const char *p, size_t i, size_t n, size_t *close)
{
	while (i < n) {
		const char *b = memchr(p + i, '[', n - i);
		size_t j, k;

		if (!b)
			return n;
		j = (size_t)(b - p);
		k = skip_digits(p, j + 1, n);
		if (j > 0 && is_ws(p[j - 1]) && k > j + 1 && k < n && p[k] == ']' &&
		    (k + 1 == n || is_ws(p[k + 1]))) {
			*close = k;
			return j;
		}
		i = j + 1;
	}
	return n;
}

/* Strip a trailing "(TGID)" group from p[i..j); returns the new end or SIZE_MAX. */
static size_t strip_tgid(const char *p, size_t i, size_t j)
{
	while (j > i && is_ws(p[j - 1]))
		j--;
	if (j > i && p[j - 1] == ')') {
		while (j > i && p[j - 1] != '(')
			j--;
		if (j == i)
			return SIZE_MAX;
		j--;
		while (j > i && is_ws(p[j - 1]))
			j--;
	}
	return j;
}

/*
 * TASK-PID (ftrace, trace-cmd) or TASK PID[/TID] (perf), optionally followed by
 * "(TGID)", in p[i..j).
 */
static bool valid_task_pid(const char *p, size_t i, size_t j)
{
	size_t k;

	if ((j = strip_tgid(p, i, j)) == SIZE_MAX)
		return false;
	for (k = j; k > i && is_digit(p[k - 1]); k--)
		;
	if (k == j || k == i)
		return false;
	if (p[k - 1] == '/') { /* perf's PID/TID */
		for (j = --k; k > i && is_digit(p[k - 1]); k--)
			;
		if (k == j || k == i || !is_ws(p[k - 1]))
			return false;
	}
	if (p[k - 1] == '-')
		return true;
	while (k > i && is_ws(p[k - 1]))
		k--;
	return k > i && k < j && is_ws(p[k]); /* perf: a task name, blanks, the pid */
}

/* "SECONDS[.FRACTION]:", or "COUNT:" (a raw clock: taken as is). */
static bool parse_ts(const char *p, size_t i, size_t e, uint64_t *ns)
{
	uint64_t sec = 0, frac = 0, scale = 1000000000ULL;
	size_t k = i;

	if (e - i < 2 || p[e - 1] != ':')
		return false;
	e--;
	for (; k < e && is_digit(p[k]); k++) {
		if (sec > (UINT64_MAX - 9) / 10)
			return false;
		sec = sec * 10 + (uint64_t)(p[k] - '0');
	}
	if (k == i)
		return false;
	if (k == e) { /* no fraction: a counter clock */
		*ns = sec;
		return true;
	}
	if (p[k] != '.' || sec > UINT64_MAX / 1000000000ULL - 1)
		return false;
	for (k++; k < e && is_digit(p[k]); k++)
		if (scale > 1) {
			scale /= 10;
			frac += (uint64_t)(p[k] - '0') * scale;
		}
	if (k != e)
		return false;
	*ns = sec * 1000000000ULL + frac;
	return true;
}

/* The context in the irq-flags column p[a..b) (see the theory statement). */
static uint8_t lat_ctx(const char *p, size_t a, size_t b)
{
	if (b - a < 4)
		return 0;
	switch (p[a + 2]) {
	case 'Z':
		return KMB_ECTX_HARDIRQ | KMB_ECTX_NMI;
	case 'z':
		return KMB_ECTX_NMI;
	case 'H':
		return KMB_ECTX_SOFTIRQ | KMB_ECTX_HARDIRQ;
	case 'h':
		return KMB_ECTX_HARDIRQ;
	case 's':
		return KMB_ECTX_SOFTIRQ;
	}
	return 0;
}

uint8_t kmb_irqflags_ctx(const char *flags, size_t len)
{
	return lat_ctx(flags, 0, len);
}

const char *kmb_event_ctx_name(unsigned ctx)
{
	return (ctx & KMB_ECTX_NMI)       ? "NMI"
	       : (ctx & KMB_ECTX_HARDIRQ) ? "hardirq"
	       : (ctx & KMB_ECTX_SOFTIRQ) ? "softirq"
	                                  : "process";
}

/* A trace-cmd -l CPU token: digits, then at most 8 latency-flag characters. */
static bool lat_cpu_token(const char *p, size_t a, size_t b, uint64_t *cpu)
{
	size_t d = skip_digits(p, a, b);

	if (d == a || b - d > 8 || parse_dec((struct span){p + a, d - a}, cpu) < 0)
		return false;
	for (; d < b; d++)
		if (!(p[d] == '.' || is_digit(p[d]) ||
		      ((p[d] | 0x20) >= 'a' && (p[d] | 0x20) <= 'z')))
			return false;
	return true;
}

/*
 * trace-cmd report -l: "TASK-PID CPUflags TIMESTAMP:"; the CPU token is the one before
 * the first timestamp.  Returns the index after it, or 0.
 */
static size_t find_lat_cpu(const char *p, size_t i, size_t n, uint64_t *cpu)
{
	size_t pa = n, pb = n, a = skip_ws(p, i, n);
	uint64_t ts;

	for (int tok = 0; a < n && tok < 16; tok++) {
		size_t b = token_end(p, a, n);

		if (pa < n && parse_ts(p, a, b, &ts))
			return lat_cpu_token(p, pa, pb, cpu) && p[pb - 1] != ':' &&
			                       valid_task_pid(p, i, pa)
			               ? pb
			               : 0;
		pa = a;
		pb = b;
		a = skip_ws(p, b, n);
	}
	return 0;
}

/* The event token "NAME:" or "SUBSYSTEM:NAME:" at [a, b). */
static void event_name(const char *p, size_t a, size_t b, struct head *h)
{
	const char *colon = memchr(p + a, ':', b - 1 - a);

	h->foreign = false;
	h->event = (struct span){p + a, b - a - 1};
	if (colon) {
		size_t c = (size_t)(colon - p);

		h->foreign = !(c - a == 4 && memcmp(p + a, "kmem", 4) == 0);
		h->event = (struct span){colon + 1, b - 1 - c - 1};
	}
}

static int parse_head(const char *p, size_t i, size_t n, struct head *h, const char **why)
{
	size_t close, lb = find_cpu(p, i, n, &close), a, b;
	uint64_t cpu = 0;

	*why = "no CPU column \"[NNN]\"";
	if (lb < n) {
		*why = "no TASK-PID before the CPU column";
		if (!valid_task_pid(p, i, lb))
			return -EINVAL;
		*why = "CPU number out of range";
		if (parse_dec((struct span){p + lb + 1, close - lb - 1}, &cpu) < 0)
			return -EINVAL;
		a = close + 1;
	} else if ((a = find_lat_cpu(p, i, n, &cpu)) == 0) {
		return -EINVAL;
	}
	h->ctx = 0;
	if (lb == n) { /* trace-cmd -l: the flags follow the CPU's digits */
		size_t t0 = skip_ws(p, i, a), d;

		for (d = a; d > t0 && !is_ws(p[d - 1]); d--)
			;
		d = skip_digits(p, d, a);
		h->ctx = lat_ctx(p, d, a);
	}
	*why = "CPU number out of range";
	if (cpu > UINT16_MAX)
		return -EINVAL;
	h->cpu = (uint16_t)cpu;
	a = skip_ws(p, a, n);
	b = token_end(p, a, n);
	if (!parse_ts(p, a, b, &h->ts_ns)) { /* a flags column */
		h->ctx = lat_ctx(p, a, b);
		a = skip_ws(p, b, n);
		b = token_end(p, a, n);
		*why = "no timestamp \"SECONDS.MICROS:\"";
		if (!parse_ts(p, a, b, &h->ts_ns))
			return -EINVAL;
	}
	a = skip_ws(p, b, n);
	b = token_end(p, a, n);
	if (b - a > 2 && p[a] == '(' && p[a + 1] == '+') { /* trace-cmd --ts-diff "(+123)" */
		a = skip_ws(p, b, n);
		b = token_end(p, a, n);
	}
	*why = "no event name \"EVENT:\"";
	if (b - a < 2 || p[b - 1] != ':')
		return -EINVAL;
	event_name(p, a, b, h);
	h->rest = b;
	return 0;
}

/* ---- events and fields -------------------------------------------------------------- */

/* The kind of a kmem event by name; 0 for others.  One compare after a switch. */
static unsigned event_kind(struct span ev)
{
	static const struct {
		const char *name;
		uint8_t kind;
	} by_len[22][2] = {
	        [5] = {{"kfree", KMB_EV_KFREE}},
	        [7] = {{"kmalloc", KMB_EV_KMALLOC}},
	        [12] = {{"kmalloc_node", KMB_EV_KMALLOC}, {"mm_page_free", KMB_EV_PAGE_FREE}},
	        [13] = {{"mm_page_alloc", KMB_EV_PAGE_ALLOC}},
	        [15] = {{"kmem_cache_free", KMB_EV_CACHE_FREE},
	                {"mm_pagevec_free", KMB_EV_PAGE_FREE}}, /* 2.6.3x: batched frees */
	        [16] = {{"kmem_cache_alloc", KMB_EV_CACHE_ALLOC}},
	        [19] = {{"mm_page_free_direct", KMB_EV_PAGE_FREE}}, /* 2.6.3x-3.2 mm_page_free */
	        [20] = {{"mm_page_free_batched", KMB_EV_PAGE_FREE}},
	        [21] = {{"kmem_cache_alloc_node", KMB_EV_CACHE_ALLOC}},
	};

	if (ev.n >= 22)
		return 0;
	for (int k = 0; k < 2 && by_len[ev.n][k].name; k++)
		if (memcmp(ev.p, by_len[ev.n][k].name, ev.n) == 0)
			return by_len[ev.n][k].kind;
	return 0;
}

/* Frees without an order= of their own (order 0): the batched ones. */
static bool batched_free(struct span ev)
{
	return span_eq(ev, "mm_page_free_batched", 20) || span_eq(ev, "mm_pagevec_free", 15);
}

enum field_id {
	F_CALL_SITE,
	F_PTR,
	F_BYTES_REQ,
	F_BYTES_ALLOC,
	F_GFP,
	F_NODE,
	F_NAME,
	F_PFN,
	F_ORDER,
	F_PAGE,
	F_NFIELDS
};

static const struct {
	const char *key;
	uint8_t len;
} field_keys[F_NFIELDS] = {
        [F_CALL_SITE] = {"call_site", 9}, [F_PTR] = {"ptr", 3},
        [F_BYTES_REQ] = {"bytes_req", 9}, [F_BYTES_ALLOC] = {"bytes_alloc", 11},
        [F_GFP] = {"gfp_flags", 9},       [F_NODE] = {"node", 4},
        [F_NAME] = {"name", 4},           [F_PFN] = {"pfn", 3},
        [F_ORDER] = {"order", 5},         [F_PAGE] = {"page", 4},
};

struct fields {
	struct span v[F_NFIELDS];
	unsigned seen; /* bit per enum field_id */
};

/* The key's field, or -1: one candidate picked by length and first byte, then compared. */
static int field_id(const char *k, size_t n)
{
	int id;

	switch (n) {
	case 3:
		id = k[0] == 'p' && k[1] == 't' ? F_PTR : F_PFN;
		break;
	case 4:
		id = k[0] == 'p' ? F_PAGE : k[2] == 'd' ? F_NODE : F_NAME;
		break;
	case 5:
		id = F_ORDER;
		break;
	case 9:
		id = k[0] == 'c' ? F_CALL_SITE : k[0] == 'b' ? F_BYTES_REQ : F_GFP;
		break;
	case 11:
		id = F_BYTES_ALLOC;
		break;
	default:
		return -1;
	}
	return memcmp(k, field_keys[id].key, n) == 0 ? id : -1;
}

/* Does p[i..) start a key=value token? */
static bool starts_pair(const char *p, size_t i, size_t n)
{
	for (; i < n && !is_ws(p[i]); i++)
		if (p[i] == '=')
			return true;
	return false;
}

/* Split p[i..n) into the known key=value fields; other tokens are ignored. */
static void split_fields(const char *p, size_t i, size_t n, struct fields *f)
{
	f->seen = 0;
	for (i = skip_ws(p, i, n); i < n;) {
		size_t k = i, e, vs, ve;
		int id;

		while (k < n && !is_ws(p[k]) && p[k] != '=')
			k++;
		if (k == n || p[k] != '=') { /* a stray token */
			i = skip_ws(p, k, n);
			continue;
		}
		vs = k + 1;
		ve = e = token_end(p, vs, n);
		for (e = skip_ws(p, e, n); e < n && !starts_pair(p, e, n); e = skip_ws(p, e, n))
			ve = e = token_end(p, e, n); /* a continuation: "ptr=  (null)" */
		vs = skip_ws(p, vs, ve);
		id = field_id(p + i, k - i);
		if (id >= 0) {
			f->v[id] = (struct span){p + vs, ve - vs};
			f->seen |= 1u << id;
		}
		i = e;
	}
}

/* ptr: hex, "(null)" (%p of NULL) or "(nil)" (glibc's, in perf and trace-cmd) = 0. */
static int parse_ptr(struct span s, uint64_t *out)
{
	if (span_eq(s, "(null)", 6) || span_eq(s, "(nil)", 5)) {
		*out = 0;
		return 0;
	}
	return parse_hex(s, out);
}

static int parse_node(struct span s, int16_t *node)
{
	bool neg = s.n > 0 && s.p[0] == '-';
	uint64_t v;

	if (parse_dec((struct span){s.p + neg, s.n - neg}, &v) < 0 || v > (neg ? 32768u : 32767u))
		return -EINVAL;
	*node = (int16_t)(neg ? -(int64_t)v : (int64_t)v);
	return 0;
}

static const char *num_why(int rc)
{
	return rc == -ERANGE ? "value overflows uint64" : "not a number";
}

/* A required numeric field; on error writes the reason. */
static int get_num(const struct fields *f, int id, int (*parse)(struct span, uint64_t *),
                   uint64_t *out, char *r, size_t rlen)
{
	int rc;

	if (!(f->seen & (1u << id))) {
		kmb__seterr(r, rlen, "missing %s=", field_keys[id].key);
		return -EINVAL;
	}
	rc = parse(f->v[id], out);
	if (rc < 0)
		field_reason(r, rlen, field_keys[id].key, f->v[id], num_why(rc));
	return rc < 0 ? -EINVAL : 0;
}

/* Intern an optional name field (call_site=, name=) into *idx. */
static int get_name(struct kmb_trace *t, const struct fields *f, int id, uint32_t *idx, char *r,
                    size_t rlen)
{
	struct span v = f->v[id];
	char why[48];
	size_t c;

	*idx = 0;
	if (!(f->seen & (1u << id)))
		return 0;
	if (v.n > KMB_MAX_NAME) {
		field_reason(r, rlen, field_keys[id].key, v, "longer than 4096 bytes");
		return -EINVAL;
	}
	if ((c = kmb__ctrl_byte(v.p, v.n)) < v.n) {
		snprintf(why, sizeof(why), "control character 0x%02x (NUL, ESC...)",
		         (unsigned char)v.p[c]);
		field_reason(r, rlen, field_keys[id].key, v, why);
		return -EINVAL;
	}
	*idx = kmb_trace_intern(t, v.p, v.n);
	return *idx == KMB_STR_NOMEM ? -ENOMEM : 0;
}

/* ---- gfp cache: the last strings mapped, direct-mapped by a hash of their bytes ----- */

#define GFP_CACHE     64
#define GFP_CACHE_LEN 56

static _Thread_local struct gfp_cached {
	uint8_t len; /* 0 = empty */
	char s[GFP_CACHE_LEN];
	int flags;
} gfp_cache[GFP_CACHE];

static int cached_gfp(struct span s, int *flags)
{
	uint32_t h = 2166136261u;
	struct gfp_cached *c;

	if (s.n == 0 || s.n > GFP_CACHE_LEN)
		return kmb_gfp_to_flags(s.p, s.n, flags);
	for (size_t i = 0; i < s.n; i++)
		h = (h ^ (unsigned char)s.p[i]) * 16777619u;
	c = &gfp_cache[(h ^ (h >> 16)) & (GFP_CACHE - 1)];
	if (c->len == s.n && memcmp(c->s, s.p, s.n) == 0) {
		*flags = c->flags;
		return 0;
	}
	if (kmb_gfp_to_flags(s.p, s.n, flags) < 0)
		return -EINVAL;
	c->len = (uint8_t)s.n;
	memcpy(c->s, s.p, s.n);
	c->flags = *flags;
	return 0;
}

static int get_gfp(const struct fields *f, int *flags, char *r, size_t rlen)
{
	if (!(f->seen & (1u << F_GFP))) {
		kmb__seterr(r, rlen, "missing gfp_flags=");
		return -EINVAL;
	}
	if (cached_gfp(f->v[F_GFP], flags) < 0) {
		field_reason(r, rlen, "gfp_flags", f->v[F_GFP], "malformed");
		return -EINVAL;
	}
	return 0;
}

/*
 * Sizes no kernel can have traced: a request above KMB_TRACE_MAX_BYTES (trace.h), or a
 * live block smaller than its request (the kernel's bytes_alloc is the slot it gave: never
 * less; fragmentation would print below zero).  A failed allocation (ptr=0) may carry any
 * bytes_alloc.
 */

static int check_sizes(const struct fields *f, const struct kmb_event *e, char *r, size_t rlen)
{
	if (e->bytes_req > KMB_TRACE_MAX_BYTES) {
		field_reason(r, rlen, "bytes_req", f->v[F_BYTES_REQ],
		             "more than the 1 TiB any kernel allocation can be");
		return -EINVAL;
	}
	if (e->ptr != 0 && e->bytes_alloc < e->bytes_req) {
		field_reason(r, rlen, "bytes_alloc", f->v[F_BYTES_ALLOC],
		             "less than bytes_req (a kernel's slot is never smaller)");
		return -EINVAL;
	}
	return 0;
}

static int slab_event(struct kmb_trace *t, const struct fields *f, struct kmb_event *e, char *r,
                      size_t rlen)
{
	int rc;

	if (!(f->seen & (1u << F_CALL_SITE))) {
		kmb__seterr(r, rlen, "missing call_site=");
		return -EINVAL;
	}
	if ((rc = get_num(f, F_PTR, parse_ptr, &e->ptr, r, rlen)) < 0)
		return rc;
	if (kmb_event_is_alloc(e->kind) &&
	    ((rc = get_num(f, F_BYTES_REQ, parse_dec, &e->bytes_req, r, rlen)) < 0 ||
	     (rc = get_num(f, F_BYTES_ALLOC, parse_dec, &e->bytes_alloc, r, rlen)) < 0 ||
	     (rc = get_gfp(f, &e->flags, r, rlen)) < 0 || (rc = check_sizes(f, e, r, rlen)) < 0))
		return rc;
	if ((f->seen & (1u << F_NODE)) && parse_node(f->v[F_NODE], &e->node) < 0) {
		field_reason(r, rlen, "node", f->v[F_NODE], "not a node number");
		return -EINVAL;
	}
	if ((rc = get_name(t, f, F_CALL_SITE, &e->site, r, rlen)) < 0)
		return rc;
	return get_name(t, f, F_NAME, &e->cache, r, rlen);
}

/* A NULL page: page=(null)/0 or pfn = -1 (32 or 64 bits). */
static bool null_page(const struct fields *f, uint64_t pfn)
{
	uint64_t page = 1;

	if ((f->seen & (1u << F_PAGE)) && parse_ptr(f->v[F_PAGE], &page) == 0 && page == 0)
		return true;
	return pfn == UINT64_MAX || pfn == UINT32_MAX;
}

/* order=: 0..KMB_MAX_ORDER; negative or larger orders are field errors. */
static int get_order(const struct fields *f, uint8_t *order, char *r, size_t rlen)
{
	struct span v = f->v[F_ORDER];
	uint64_t o;
	int rc;

	if (!(f->seen & (1u << F_ORDER))) {
		kmb__seterr(r, rlen, "missing order=");
		return -EINVAL;
	}
	if (v.n > 1 && v.p[0] == '-' && parse_dec((struct span){v.p + 1, v.n - 1}, &o) != -EINVAL) {
		field_reason(r, rlen, "order", v, "negative order");
		return -EINVAL;
	}
	if ((rc = parse_dec(v, &o)) < 0) {
		field_reason(r, rlen, "order", v, num_why(rc));
		return -EINVAL;
	}
	if (o > KMB_MAX_ORDER) {
		field_reason(r, rlen, "order", v, "order out of range (0..10)");
		return -EINVAL;
	}
	*order = (uint8_t)o;
	return 0;
}

static int page_event(const struct fields *f, struct kmb_event *e, bool batched, char *r,
                      size_t rlen)
{
	int rc;

	if ((rc = get_num(f, F_PFN, parse_num, &e->ptr, r, rlen)) < 0)
		return rc;
	e->order = 0;
	if ((!batched || (f->seen & (1u << F_ORDER))) &&
	    (rc = get_order(f, &e->order, r, rlen)) < 0)
		return rc;
	if (null_page(f, e->ptr))
		e->ptr = 0;
	if (e->kind == KMB_EV_PAGE_ALLOC)
		return get_gfp(f, &e->flags, r, rlen);
	return 0;
}

static int push_event(struct kmb_trace *t, const struct kmb_event *e)
{
	if (t->nev == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		struct kmb_event *ev = realloc(t->ev, cap * sizeof(*ev));

		if (!ev)
			return -ENOMEM;
		t->ev = ev;
		t->cap = cap;
	}
	t->ev[t->nev++] = *e;
	return 0;
}

/* ---- lines that are not events -------------------------------------------------------- */

/* Digits at p[*k..) then the literal tail; the number goes to m. */
static bool count_then(const char *p, size_t *k, size_t n, const char *tail, size_t tlen,
                       uint64_t *m)
{
	size_t d = *k, e = skip_digits(p, d, n);

	if (e == d || parse_dec((struct span){p + d, e - d}, m) < 0 ||
	    !has_prefix(p, e, n, tail, tlen))
		return false;
	*k = e + tlen;
	return true;
}

/*
 * "CPU:N [LOST M EVENTS]" (ftrace), "CPU:N [M EVENTS DROPPED]", "CPU:N [EVENTS DROPPED]"
 * and "CPU:N [SUBBUFFER START]" (trace-cmd).
 */
static bool cpu_report_line(struct kmb_trace *t, const char *p, size_t i, size_t n)
{
	uint64_t cpu, m = 0;
	size_t k = i + 4, d;

	if (!has_prefix(p, i, n, "CPU:", 4))
		return false;
	d = k;
	k = skip_digits(p, k, n);
	if (parse_dec((struct span){p + d, k - d}, &cpu) < 0)
		return false;
	k = skip_ws(p, k, n);
	if (has_prefix(p, k, n, "[SUBBUFFER START]", 17))
		return true;
	if (has_prefix(p, k, n, "[LOST ", 6))
		k += 6;
	else if (has_prefix(p, k, n, "[", 1))
		k += 1;
	else
		return false;
	if (!(p[k - 1] == ' ' && count_then(p, &k, n, " EVENTS]", 8, &m)) &&
	    !(p[k - 1] == '[' && count_then(p, &k, n, " EVENTS DROPPED]", 16, &m)) &&
	    !(p[k - 1] == '[' && has_prefix(p, k, n, "EVENTS DROPPED]", 15)))
		return false;
	t->lost_events = kmb__sat_add(t->lost_events, m); /* two 2^64-1 reports gave 2 */
	t->lost_reports++;
	return true;
}

/* trace-cmd headers: "cpus=4", "version = 6", "CPU 3 is empty". */
static bool trace_cmd_header(const char *p, size_t i, size_t n)
{
	size_t k;

	if (has_prefix(p, i, n, "cpus=", 5))
		return (k = skip_digits(p, i + 5, n)) > i + 5 && skip_ws(p, k, n) == n;
	if (has_prefix(p, i, n, "version = ", 10))
		return (k = skip_digits(p, i + 10, n)) > i + 10 && skip_ws(p, k, n) == n;
	if (has_prefix(p, i, n, "CPU ", 4) && (k = skip_digits(p, i + 4, n)) > i + 4)
		return has_prefix(p, k, n, " is empty", 9) && skip_ws(p, k + 9, n) == n;
	return false;
}

/* perf script call-chain lines: indented "ADDRESS symbol (dso)". */
static bool perf_callchain_line(const struct kmb_trace *t, const char *p, size_t i, size_t n)
{
	size_t k = i;

	if (t->format != KMB_FMT_PERF || i == 0)
		return false;
	while (k < n && hex_digit((unsigned char)p[k]) >= 0)
		k++;
	return k - i >= 4 && (k == n || is_ws(p[k]));
}

static bool ignored_line(struct kmb_trace *t, const char *p, size_t i, size_t n)
{
	return i == n || p[i] == '#' || cpu_report_line(t, p, i, n) || trace_cmd_header(p, i, n) ||
	       perf_callchain_line(t, p, i, n);
}

/* ---- lines -------------------------------------------------------------------------- */

static void keep_error(struct kmb_trace *t, uint32_t lineno, const char *why)
{
	if (t->nerrors >= KMB_TRACE_MAX_ERRORS)
		return;
	kmb__seterr(t->errors[t->nerrors], sizeof(t->errors[0]), "%s:%u: %s",
	            t->path ? t->path : "<input>", lineno, why);
	if (t->nerrors++ == 0)
		memcpy(t->first_error, t->errors[0], sizeof(t->first_error));
}

int kmb__trace_skip(struct kmb_trace *t, int reason, uint32_t lineno, const char *why, char *err,
                    size_t errlen)
{
	t->skipped[reason]++;
	if (reason == KMB_SKIP_OTHER_EVENT)
		return -ENOENT;
	kmb__seterr(err, errlen, "%s", why);
	keep_error(t, lineno, why);
	return -EINVAL;
}

static int parse_event(struct kmb_trace *t, const char *p, size_t n, const struct head *h,
                       struct kmb_event *e, char *r, size_t rlen)
{
	struct fields f;
	int rc;

	split_fields(p, h->rest, n, &f);
	if (e->kind == KMB_EV_PAGE_ALLOC || e->kind == KMB_EV_PAGE_FREE)
		rc = page_event(&f, e, batched_free(h->event), r, rlen);
	else
		rc = slab_event(t, &f, e, r, rlen);
	if (rc == -EINVAL) { /* prefix the event name */
		char ev[48], why[256];

		excerpt(ev, sizeof(ev), h->event);
		snprintf(why, sizeof(why), "%s", r);
		kmb__seterr(r, rlen, "%s: %s", ev, why);
	}
	return rc;
}

int kmb_trace_parse_line(struct kmb_trace *t, const char *line, size_t len, uint32_t lineno,
                         char *err, size_t errlen)
{
	struct kmb_event e = {.node = -1, .line = lineno};
	char reason[256];
	const char *why;
	struct head h;
	size_t i;
	int rc;

	t->lines++;
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	i = skip_ws(line, 0, len);
	if (ignored_line(t, line, i, len))
		return 0;
	if (parse_head(line, i, len, &h, &why) < 0)
		return kmb__trace_skip(t, KMB_SKIP_SYNTAX, lineno, why, err, errlen);
	e.kind = h.foreign ? 0 : (uint8_t)event_kind(h.event);
	if (!e.kind)
		return kmb__trace_skip(t, KMB_SKIP_OTHER_EVENT, lineno, "", err, errlen);
	e.cpu = h.cpu;
	e.ctx = h.ctx;
	e.ts_ns = h.ts_ns;
	rc = parse_event(t, line, len, &h, &e, reason, sizeof(reason));
	if (rc == -EINVAL)
		return kmb__trace_skip(t, KMB_SKIP_FIELD, lineno, reason, err, errlen);
	if (rc == 0)
		rc = push_event(t, &e);
	if (rc < 0) {
		kmb__seterr(err, errlen, "out of memory");
		return rc;
	}
	return 1;
}

/* ---- shapes, for sniffing and merging -------------------------------------------------- */

int kmb__line_shape(const char *line, size_t len)
{
	size_t i = skip_ws(line, 0, len), close, a;
	const char *why;
	struct head h;

	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (trace_cmd_header(line, i, len))
		return KMB_FMT_TRACE_CMD;
	if (has_prefix(line, i, len, "# tracer:", 9))
		return KMB_FMT_FTRACE;
	if (i == len || line[i] == '#' || parse_head(line, i, len, &h, &why) < 0)
		return KMB_FMT_UNKNOWN;
	if (h.event.p - line >= 5 && memcmp(h.event.p - 5, "kmem:", 5) == 0)
		return KMB_FMT_PERF;
	if (find_cpu(line, i, len, &close) == len)
		return KMB_FMT_TRACE_CMD; /* trace-cmd report -l */
	a = h.rest;
	return a + 2 < len && is_ws(line[a]) && is_ws(line[a + 1]) ? KMB_FMT_TRACE_CMD
	                                                           : KMB_FMT_FTRACE;
}

bool kmb__line_ts(const char *line, size_t len, uint64_t *ts)
{
	size_t i = skip_ws(line, 0, len);
	const char *why;
	struct head h;

	if (i == len || line[i] == '#' || parse_head(line, i, len, &h, &why) < 0)
		return false;
	*ts = h.ts_ns;
	return true;
}

/* ---- gfp_flags ---------------------------------------------------------------------- */

/*
 * Names, compared without their leading underscores (GFP_ZERO == __GFP_ZERO).  "sleeps":
 * the allocation may sleep (direct reclaim), so it maps to M_WAITOK; an allocation where
 * no name sleeps maps to M_NOWAIT.  GFP_NOWAIT and GFP_NOWARN add nothing; unknown names
 * are ignored.  __GFP_NORETRY is M_NORETRY (fail rather than sleep), __GFP_RETRY_MAYFAIL
 * M_FAILOK (sleep, but fail where it can never succeed); __GFP_NOFAIL overrides both, as
 * in Linux (README "GFP flags in replay" has the whole table).  GFP_KERNEL_ACCOUNT and
 * GFP_TRANSHUGE include __GFP_DIRECT_RECLAIM.
 */
static const struct {
	const char *name;
	uint8_t len, sleeps;
	int flags;
} gfp_names[] = {
        {"GFP_KERNEL", 10, 1, 0},
        {"GFP_USER", 8, 1, 0},
        {"GFP_ZERO", 8, 0, M_ZERO},
        {"GFP_ATOMIC", 10, 0, M_USE_RESERVE},
        {"GFP_NOWARN", 10, 0, 0},
        {"GFP_NOWAIT", 10, 0, 0},
        {"GFP_KERNEL_ACCOUNT", 18, 1, 0},
        {"GFP_NOFS", 8, 1, 0},
        {"GFP_NOIO", 8, 1, 0},
        {"GFP_HIGHUSER", 12, 1, 0},
        {"GFP_HIGHUSER_MOVABLE", 20, 1, 0},
        {"GFP_TEMPORARY", 13, 1, 0},
        {"GFP_TRANSHUGE", 13, 1, 0},
        {"GFP_WAIT", 8, 1, 0},
        {"GFP_DIRECT_RECLAIM", 18, 1, 0},
        {"GFP_RECLAIM", 11, 1, 0},
        {"GFP_HIGH", 8, 0, M_USE_RESERVE},
        {"GFP_NOFAIL", 10, 0, M_NOFAIL},
        {"GFP_NORETRY", 11, 0, M_NORETRY},
        {"GFP_RETRY_MAYFAIL", 17, 0, M_FAILOK},
};

/*
 * Raw gfp bits, from include/linux/gfp_types.h of Linux 6.4 and later (torvalds/linux;
 * the same values are generated by the ___GFP_*_BIT enum since 6.10).  0x200 was
 * ___GFP_ATOMIC until 6.3 and is unused since, so it is still read as ATOMIC.  Older
 * kernels (3.x: ___GFP_WAIT 0x10, ___GFP_ZERO 0x8000) print names, not numbers.
 */
#define LX_GFP_HIGH           0x20u
#define LX_GFP_ZERO           0x100u
#define LX_GFP_ATOMIC         0x200u
#define LX_GFP_DIRECT_RECLAIM 0x400u
#define LX_GFP_RETRY_MAYFAIL  0x4000u
#define LX_GFP_NOFAIL         0x8000u
#define LX_GFP_NORETRY        0x10000u

static void gfp_bits(uint64_t v, bool *sleeps, int *flags)
{
	if (v & LX_GFP_DIRECT_RECLAIM)
		*sleeps = true;
	if (v & (LX_GFP_HIGH | LX_GFP_ATOMIC))
		*flags |= M_USE_RESERVE;
	if (v & LX_GFP_ZERO)
		*flags |= M_ZERO;
	if (v & LX_GFP_NOFAIL)
		*flags |= M_NOFAIL;
	if (v & LX_GFP_NORETRY)
		*flags |= M_NORETRY;
	if (v & LX_GFP_RETRY_MAYFAIL)
		*flags |= M_FAILOK;
}

static bool gfp_word_char(char c)
{
	return is_digit(c) || c == '_' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* One name or number between '|'. */
static int gfp_token(struct span s, bool *sleeps, int *flags)
{
	uint64_t v;

	for (size_t i = 0; i < s.n; i++)
		if (!gfp_word_char(s.p[i]))
			return -EINVAL;
	if (s.n && is_digit(s.p[0])) {
		if (parse_num(s, &v) < 0)
			return -EINVAL;
		gfp_bits(v, sleeps, flags);
		return 0;
	}
	while (s.n && s.p[0] == '_') {
		s.p++;
		s.n--;
	}
	if (s.n == 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(gfp_names) / sizeof(gfp_names[0]); i++)
		if (span_eq(s, gfp_names[i].name, gfp_names[i].len)) {
			*sleeps |= gfp_names[i].sleeps;
			*flags |= gfp_names[i].flags;
			break;
		}
	return 0;
}

int kmb_gfp_to_flags(const char *gfp, size_t len, int *flags)
{
	bool sleeps = false;
	int f = 0;
	size_t i = 0;

	if (!gfp || len == 0)
		return -EINVAL;
	for (;;) {
		const char *bar = memchr(gfp + i, '|', len - i);
		size_t e = bar ? (size_t)(bar - gfp) : len;

		if (e == i || gfp_token((struct span){gfp + i, e - i}, &sleeps, &f) < 0)
			return -EINVAL;
		if (!bar)
			break;
		i = e + 1;
	}
	if (f & M_NOFAIL) /* Linux: __GFP_NOFAIL overrides the may-fail modifiers */
		f &= ~(M_NORETRY | M_FAILOK);
	*flags = f | (sleeps ? M_WAITOK : M_NOWAIT);
	return 0;
}
