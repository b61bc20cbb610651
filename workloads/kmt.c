/*
 * workloads/kmt.c - .kmt, kmbench's binary trace format: written once from any trace,
 * read from one copy of the file with no text parsing and no pointer hashing.
 *
 * Theory: a trace's facts and replay plan depend on its pointers only through identity:
 * which events name the same live object.  So a .kmt stores, instead of a pointer, an
 * identity slot: the index of the object among those live, a freed slot being reused
 * first (LIFO, as the replay plan does).  An allocation returning a pointer that is
 * still live frees its slot and takes it again, so the implicit free survives; a free of
 * a pointer not live is "unmatched".  Objects (kmalloc, kmem_cache) and pages (pfns) have
 * separate slot spaces, as they have separate maps in facts.c and plan.c.  The reader
 * turns slots back into pointers ((slot + 1) << 4 for objects, slot + 1 for pfns, one
 * never-allocated value for unmatched frees), which gives exactly the same facts and the
 * same plan, op for op; a reader that wants arrays instead can index by slot directly
 * (the header says how many slots there are).
 *
 * Layout.  Integers are little-endian; "varint" is unsigned LEB128 (at most 10 bytes),
 * "zigzag" maps a signed v to (v << 1) ^ (v >> 63) before the varint.
 *
 *   header, 160 bytes
 *     0   8  magic "\x89KMT\r\n\x1a\n" (a text transfer or truncation mangles it)
 *     8   4  version, 2 (1 is still read)  12  4  header size, 160
 *     16  8  file size
 *     24  4  CRC-32C (Castagnoli) of the body: bytes [header size, file size)
 *     28  4  CRC-32C of the header, computed with this field 0
 *     32  8  events                      40  4  streams (CPUs that have events)
 *     44  4  strings (string 0, "", is implicit and not stored)
 *     48  8  string table offset         56  8  string table size
 *     64  8  stream directory offset
 *     72  4  object slots               76  4  page slots (largest slot + 1)
 *     80  8  source lines, then 3 x 8: lines skipped as syntax, field, other events
 *     112 8  lost events                120 8  lost-event reports
 *     128 4  source format (enum kmb_trace_format)   132 4 flags (0)   136 24 zero
 *   stream directory: per stream, ascending CPU: u32 cpu, u32 0, u64 events, u64 offset,
 *     u64 size
 *   string table: per string 1..strings: varint length, the bytes
 *   streams: one per CPU, its events in trace order, each:
 *     varint  gap: events of other CPUs since this CPU's previous one (or since the start)
 *     u8      tag: kind (bits 0-2, enum kmb_event_kind), bit 3 node present, bit 4 cache
 *             present, bit 5 timestamp changed, bit 6 all fields present, bit 7 context
 *             present (version 2; zero in version 1)
 *     u8      context (if bit 7): KMB_ECTX_* bits, not 0 (interrupt context, version 2)
 *     zigzag  timestamp - previous timestamp of this stream (if bit 5)
 *     varint  ref: 0 = NULL, 1 = unmatched (frees only), slot + 2
 *     varint  call site (string index)
 *     varint  cache (string index; if bit 4)      zigzag node (if bit 3)
 *     then by kind, unless bit 6: kmalloc, kmem_cache_alloc: varint bytes_req,
 *     zigzag bytes_alloc - bytes_req, varint flags; mm_page_alloc: varint order, varint
 *     flags; mm_page_free: varint order; frees: nothing.  With bit 6, for any kind:
 *     bytes_req, bytes_alloc - bytes_req, flags, order.
 *
 * The gaps put every event back at its place in the global order, so each CPU's stream
 * decodes on its own.  An event's line, in a loaded .kmt, is its ordinal.
 *
 * Reading trusts nothing: sizes and offsets are checked against the file size (with
 * overflow-safe arithmetic) before any access, both checksums before any decoding, every
 * varint against its stream's end, every index against its table, every event position
 * against the event count (each used once).  Then every event's values are checked as the
 * text parser checks them (bad_values: M_* flags a replay would panic on, sizes that wrap
 * the sums): the checksums only say the file is the one written, not that its writer was
 * kmbench.  Errors name the file, the event (its ordinal) and what is wrong.
 *
 * Memory.  A decoded event is a 56-byte struct kmb_event and a record takes at least 4
 * bytes (gap, tag, ref, call site: a free on the same CPU at the same time), so the event
 * array is at most 14 times the stream bytes, whatever the header claims (the event count
 * is bounded by them); the file's copy (tracefmt.c load_kmt) adds 1x while decoding.
 * Measured peak RSS over the file, trace stat: 15.1x for 10 MB of 4-byte frees (the worst
 * case), 8.3x for a 17 MB larson trace (8.6 bytes a record).  Strings cost about 80 bytes
 * each (copy, pointer, hash, length, hash slot) for at least 2 bytes of file, but a trace
 * has hundreds, not millions.  Less needs a smaller struct kmb_event, not a different
 * reader.
 */
#include "workloads/trace.h"

#include <kmbench/kmalloc.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define HDR_SIZE       160
#define DIR_ENTRY      32
#define MIN_RECORD     4
#define MAX_ORDER      10
#define MAX_STRING     (1u << 20)
#define TAG_KIND       0x07u
#define TAG_NODE       0x08u
#define TAG_CACHE      0x10u
#define TAG_TS         0x20u
#define TAG_FULL       0x40u
#define TAG_CTX        0x80u /* version 2; reserved (zero) in version 1 */
#define REF_NULL       0
#define REF_UNMATCH    1
#define UNMATCHED_OBJ  (1ULL << 63)
#define UNMATCHED_PAGE (1ULL << 62)

/* ---- CRC-32C, slice-by-8 ------------------------------------------------------------ */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
			                  crc_table[0][crc_table[t - 1][i] & 0xff];
}

uint32_t kmb__crc32c(uint32_t crc, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	for (; n >= 8; n -= 8, p += 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		                     (uint32_t)p[3] << 24);
		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^
		      crc_table[0][p[7]];
	}
	while (n--)
		crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

/* ---- little-endian fields ----------------------------------------------------------- */

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint64_t zigzag(uint64_t v)
{
	return (v << 1) ^ (0 - (v >> 63));
}

static uint64_t unzigzag(uint64_t v)
{
	return (v >> 1) ^ (0 - (v & 1));
}

/* ---- writing ------------------------------------------------------------------------ */

struct buf {
	uint8_t *p;
	size_t n, cap;
	int err;
};

static void put_bytes(struct buf *b, const void *src, size_t n)
{
	if (b->err || n == 0)
		return;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *q;

		while (cap < b->n + n)
			cap *= 2;
		if (!(q = realloc(b->p, cap))) {
			b->err = -ENOMEM;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, src, n);
	b->n += n;
}

static void put_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	int n = 0;

	do {
		tmp[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	put_bytes(b, tmp, (size_t)n);
}

struct stream {
	struct buf b;
	uint64_t events, prev_idx, prev_ts; /* prev_idx: index + 1 of the last event, 0 = none */
};

/* Identity slots of one space (objects or pages): pointer -> slot, LIFO free slots. */
struct slots {
	struct kmb__ptrmap map;
	uint32_t *free;
	size_t nfree, cap;
	uint32_t next;
};

static int slot_take(struct slots *s, uint32_t *slot)
{
	if (s->nfree) {
		*slot = s->free[--s->nfree];
		return 0;
	}
	if (s->next == UINT32_MAX - 2)
		return -ENOMEM;
	*slot = s->next++;
	return 0;
}

static int slot_give(struct slots *s, uint32_t slot)
{
	if (s->nfree == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		uint32_t *f = realloc(s->free, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		s->free = f;
		s->cap = cap;
	}
	s->free[s->nfree++] = slot;
	return 0;
}

/* The ref of an event, updating the slots as the trace goes. */
static int event_ref(struct slots *s, const struct kmb_event *e, uint64_t *ref)
{
	uint64_t old = 0;
	uint32_t slot;
	bool live;
	int rc;

	*ref = REF_NULL;
	if (!e->ptr)
		return 0;
	live = kmb__ptrmap_remove(&s->map, e->ptr, &old);
	if (live && (rc = slot_give(s, (uint32_t)old)) < 0)
		return rc;
	if (!kmb_event_is_alloc(e->kind)) {
		*ref = live ? old + 2 : REF_UNMATCH;
		return 0;
	}
	if ((rc = slot_take(s, &slot)) < 0)
		return rc;
	*ref = (uint64_t)slot + 2;
	return kmb__ptrmap_put(&s->map, e->ptr, slot);
}

/* Fields a kind stores itself; anything else set needs TAG_FULL. */
static bool canonical(const struct kmb_event *e)
{
	switch (e->kind) {
	case KMB_EV_KMALLOC:
	case KMB_EV_CACHE_ALLOC:
		return e->order == 0;
	case KMB_EV_PAGE_ALLOC:
		return e->bytes_req == 0 && e->bytes_alloc == 0;
	case KMB_EV_PAGE_FREE:
		return e->bytes_req == 0 && e->bytes_alloc == 0 && e->flags == 0;
	default:
		return e->bytes_req == 0 && e->bytes_alloc == 0 && e->flags == 0 && e->order == 0;
	}
}

static void put_kind_fields(struct buf *b, const struct kmb_event *e, bool full)
{
	bool slab_alloc = e->kind == KMB_EV_KMALLOC || e->kind == KMB_EV_CACHE_ALLOC;

	if (full || slab_alloc) {
		put_varint(b, e->bytes_req);
		put_varint(b, zigzag(e->bytes_alloc - e->bytes_req));
	}
	if (full || slab_alloc || e->kind == KMB_EV_PAGE_ALLOC)
		put_varint(b, (uint32_t)e->flags);
	if (full || e->kind == KMB_EV_PAGE_ALLOC || e->kind == KMB_EV_PAGE_FREE)
		put_varint(b, e->order);
}

static void put_record(struct stream *s, const struct kmb_event *e, size_t idx, uint64_t ref)
{
	bool full = !canonical(e);
	uint8_t tag = (uint8_t)(e->kind | (e->node != -1 ? TAG_NODE : 0) |
	                        (e->cache ? TAG_CACHE : 0) | (e->ts_ns != s->prev_ts ? TAG_TS : 0) |
	                        (full ? TAG_FULL : 0) | (e->ctx ? TAG_CTX : 0));

	put_varint(&s->b, idx - s->prev_idx);
	put_bytes(&s->b, &tag, 1);
	if (tag & TAG_CTX)
		put_bytes(&s->b, &e->ctx, 1);
	if (tag & TAG_TS)
		put_varint(&s->b, zigzag(e->ts_ns - s->prev_ts));
	put_varint(&s->b, ref);
	put_varint(&s->b, e->site);
	if (tag & TAG_CACHE)
		put_varint(&s->b, e->cache);
	if (tag & TAG_NODE)
		put_varint(&s->b, zigzag((uint64_t)(int64_t)e->node));
	put_kind_fields(&s->b, e, full);
	s->prev_idx = idx + 1;
	s->prev_ts = e->ts_ns;
	s->events++;
}

struct writer {
	const struct kmb_trace *t;
	struct slots obj, page;
	struct stream *stream; /* per CPU, made on first use */
	uint32_t *sidx;        /* CPU -> stream index + 1 */
	size_t nstreams;
};

/*
 * Values a replay cannot take, though the format can hold them: an allocation's M_* flags
 * must pass kmb_flags_problem (kmalloc.h: kmb__check_flags would stop the replay with a
 * usage panic); a slab request
 * above KMB_TRACE_MAX_BYTES or a live block smaller than its request would wrap the sums,
 * as the text parser says (ftrace.c check_sizes).  NULL, or what is wrong.
 */
static const char *bad_values(const struct kmb_event *e)
{
	int f = e->flags;
	const char *why;

	if (!kmb_event_is_alloc(e->kind))
		return NULL;
	if ((why = kmb_flags_problem(f)) != NULL)
		return why;
	if (e->kind == KMB_EV_PAGE_ALLOC)
		return NULL;
	if (e->bytes_req > KMB_TRACE_MAX_BYTES)
		return "bytes_req above the 1 TiB any kernel allocation can be";
	if (e->ptr != 0 && e->bytes_alloc < e->bytes_req)
		return "bytes_alloc below bytes_req on a live block";
	return NULL;
}

static int check_event(const struct kmb_trace *t, const struct kmb_event *e, size_t i, char *err,
                       size_t errlen)
{
	const char *why = bad_values(e);

	if (why) {
		kmb__seterr(err, errlen,
		            "%s:%u: event %zu: %s (flags 0x%x, bytes_req %" PRIu64
		            ", bytes_alloc %" PRIu64 ")",
		            t->path ? t->path : "<trace>", e->line, i, why, (unsigned)e->flags,
		            e->bytes_req, e->bytes_alloc);
		return -EINVAL;
	}
	if (e->kind < KMB_EV_KMALLOC || e->kind > KMB_EV_PAGE_FREE || e->order > MAX_ORDER ||
	    e->site >= t->nstr || e->cache >= t->nstr) {
		kmb__seterr(err, errlen,
		            "event %zu: kind %u, order %u or string index out of range", i, e->kind,
		            e->order);
		return -EINVAL;
	}
	return 0;
}

static struct stream *stream_of(struct writer *w, uint16_t cpu)
{
	if (!w->sidx[cpu]) {
		struct stream *s = realloc(w->stream, (w->nstreams + 1) * sizeof(*s));

		if (!s)
			return NULL;
		w->stream = s;
		memset(&s[w->nstreams], 0, sizeof(*s));
		w->sidx[cpu] = (uint32_t)++w->nstreams;
	}
	return &w->stream[w->sidx[cpu] - 1];
}

static int encode_events(struct writer *w, char *err, size_t errlen)
{
	const struct kmb_trace *t = w->t;

	for (size_t i = 0; i < t->nev; i++) {
		const struct kmb_event *e = &t->ev[i];
		bool page = e->kind == KMB_EV_PAGE_ALLOC || e->kind == KMB_EV_PAGE_FREE;
		struct stream *s;
		uint64_t ref;
		int rc;

		if ((rc = check_event(t, e, i, err, errlen)) < 0)
			return rc;
		if ((rc = event_ref(page ? &w->page : &w->obj, e, &ref)) < 0 ||
		    !(s = stream_of(w, e->cpu))) {
			kmb__seterr(err, errlen, "out of memory");
			return -ENOMEM;
		}
		put_record(s, e, i, ref);
		if (s->b.err) {
			kmb__seterr(err, errlen, "out of memory");
			return s->b.err;
		}
	}
	return 0;
}

static void encode_strings(const struct kmb_trace *t, struct buf *b)
{
	for (size_t i = 1; i < t->nstr; i++) {
		size_t len = strlen(t->str[i]);

		put_varint(b, len);
		put_bytes(b, t->str[i], len);
	}
}

static void encode_directory(struct writer *w, struct buf *dir, uint64_t off)
{
	for (uint32_t cpu = 0; cpu <= UINT16_MAX; cpu++) {
		const struct stream *s;
		uint8_t ent[DIR_ENTRY] = {0};

		if (!w->sidx[cpu])
			continue;
		s = &w->stream[w->sidx[cpu] - 1];
		put_le(ent, cpu, 4);
		put_le(ent + 8, s->events, 8);
		put_le(ent + 16, off, 8);
		put_le(ent + 24, s->b.n, 8);
		put_bytes(dir, ent, sizeof(ent));
		off += s->b.n;
	}
}

static void encode_header(const struct writer *w, uint8_t *h, uint64_t size, uint64_t strtab,
                          uint64_t strsize, uint32_t body_crc)
{
	const struct kmb_trace *t = w->t;

	memset(h, 0, HDR_SIZE);
	memcpy(h, KMB_KMT_MAGIC, KMB_KMT_MAGIC_LEN);
	put_le(h + 8, KMB_KMT_VERSION, 4);
	put_le(h + 12, HDR_SIZE, 4);
	put_le(h + 16, size, 8);
	put_le(h + 24, body_crc, 4);
	put_le(h + 32, t->nev, 8);
	put_le(h + 40, w->nstreams, 4);
	put_le(h + 44, t->nstr ? t->nstr - 1 : 0, 4);
	put_le(h + 48, strtab, 8);
	put_le(h + 56, strsize, 8);
	put_le(h + 64, HDR_SIZE, 8); /* the directory comes first */
	put_le(h + 72, w->obj.next, 4);
	put_le(h + 76, w->page.next, 4);
	put_le(h + 80, t->lines, 8);
	for (int r = 0; r < KMB_SKIP_NREASONS; r++)
		put_le(h + 88 + 8 * r, t->skipped[r], 8);
	put_le(h + 112, t->lost_events, 8);
	put_le(h + 120, t->lost_reports, 8);
	put_le(h + 128, (uint32_t)(t->format == KMB_FMT_KMT ? t->source_format : t->format), 4);
	put_le(h + 28, kmb__crc32c(0, h, HDR_SIZE), 4);
}

static void put_file(const void *p, size_t n, FILE *out)
{
	if (n)
		fwrite(p, 1, n, out);
}

static int emit(struct writer *w, FILE *out, char *err, size_t errlen)
{
	struct buf dir = {0}, str = {0};
	uint8_t hdr[HDR_SIZE];
	uint64_t strtab, size;
	uint32_t crc;
	int rc = 0;

	encode_strings(w->t, &str);
	strtab = HDR_SIZE + (uint64_t)w->nstreams * DIR_ENTRY;
	encode_directory(w, &dir, strtab + str.n);
	if (dir.err || str.err) {
		rc = -ENOMEM;
		kmb__seterr(err, errlen, "out of memory");
		goto out;
	}
	crc = kmb__crc32c(kmb__crc32c(0, dir.p, dir.n), str.p, str.n);
	size = strtab + str.n;
	for (size_t c = 0; c <= UINT16_MAX; c++)
		if (w->sidx[c]) {
			const struct buf *b = &w->stream[w->sidx[c] - 1].b;

			crc = kmb__crc32c(crc, b->p, b->n);
			size += b->n;
		}
	encode_header(w, hdr, size, strtab, str.n, crc);
	put_file(hdr, HDR_SIZE, out);
	put_file(dir.p, dir.n, out);
	put_file(str.p, str.n, out);
	for (size_t c = 0; c <= UINT16_MAX; c++)
		if (w->sidx[c])
			put_file(w->stream[w->sidx[c] - 1].b.p, w->stream[w->sidx[c] - 1].b.n, out);
	if (ferror(out)) {
		rc = -EIO;
		kmb__seterr(err, errlen, "write error");
	}
out:
	free(dir.p);
	free(str.p);
	return rc;
}

static void writer_free(struct writer *w)
{
	kmb__ptrmap_free(&w->obj.map);
	kmb__ptrmap_free(&w->page.map);
	free(w->obj.free);
	free(w->page.free);
	for (size_t i = 0; i < w->nstreams; i++)
		free(w->stream[i].b.p);
	free(w->stream);
	free(w->sidx);
}

int kmb_kmt_write(const struct kmb_trace *t, FILE *out, char *err, size_t errlen)
{
	struct writer w = {.t = t};
	int rc;

	if (t->nev > UINT32_MAX) {
		kmb__seterr(err, errlen, "more than %u events", UINT32_MAX);
		return -EFBIG;
	}
	for (size_t i = 1; i < t->nstr; i++) {
		size_t len = strlen(t->str[i]);

		if (kmb__ctrl_byte(t->str[i], len) < len) {
			kmb__seterr(err, errlen, "string %zu holds a control character", i);
			return -EINVAL;
		}
	}
	kmb__ptrmap_init(&w.obj.map);
	kmb__ptrmap_init(&w.page.map);
	if (!(w.sidx = calloc((size_t)UINT16_MAX + 1, sizeof(*w.sidx)))) {
		kmb__seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = encode_events(&w, err, errlen);
	if (rc == 0)
		rc = emit(&w, out, err, errlen);
	writer_free(&w);
	return rc;
}

/* ---- reading ------------------------------------------------------------------------ */

struct rd {
	const uint8_t *p;
	size_t i, n;
};

static bool get_varint(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned shift = 0; shift <= 63; shift += 7) {
		uint8_t c;

		if (r->i >= r->n)
			return false;
		c = r->p[r->i++];
		if (shift == 63 && c > 1)
			return false;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

struct header {
	uint64_t size, events, strtab, strsize, dir, lines, skipped[KMB_SKIP_NREASONS];
	uint64_t lost, lost_reports;
	uint32_t streams, strings, obj_slots, page_slots, source_format;
};

struct reader {
	const uint8_t *p;
	size_t n;
	uint32_t version; /* of the file: 1 (no contexts) or 2 */
	struct header h;
	struct kmb_trace *t;
	uint32_t *remap; /* string index in the file -> index in t */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int corrupt(struct reader *r, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	kmb__seterr(r->err, r->errlen, "%s: corrupt .kmt: %s", r->t->path ? r->t->path : "<kmt>",
	            why);
	return -EINVAL;
}

/* [off, off + len) lies in the body. */
static bool in_body(const struct reader *r, uint64_t off, uint64_t len)
{
	return off >= HDR_SIZE && off <= r->n && len <= r->n - off;
}

static int check_header(struct reader *r)
{
	const uint8_t *p = r->p;
	struct header *h = &r->h;
	uint8_t copy[HDR_SIZE];
	uint32_t v;

	if (r->n < HDR_SIZE || memcmp(p, KMB_KMT_MAGIC, KMB_KMT_MAGIC_LEN) != 0)
		return corrupt(r, "%s",
		               r->n < HDR_SIZE ? "shorter than its 160-byte header"
		                               : "no .kmt magic");
	if ((v = (uint32_t)get_le(p + 8, 4)) != KMB_KMT_VERSION && v != 1) {
		kmb__seterr(r->err, r->errlen,
		            "%s: .kmt version %u is not supported (this kmbench reads 1 to %u)",
		            r->t->path ? r->t->path : "<kmt>", v, KMB_KMT_VERSION);
		return -EINVAL;
	}
	r->version = v;
	if (get_le(p + 12, 4) != HDR_SIZE)
		return corrupt(r, "header size %u, expected %u", (unsigned)get_le(p + 12, 4),
		               HDR_SIZE);
	memcpy(copy, p, HDR_SIZE);
	memset(copy + 28, 0, 4);
	if (kmb__crc32c(0, copy, HDR_SIZE) != (uint32_t)get_le(p + 28, 4))
		return corrupt(r, "header checksum mismatch");
	if ((h->size = get_le(p + 16, 8)) != r->n)
		return corrupt(r,
		               "the header says %" PRIu64 " bytes, the file has %zu (truncated?)",
		               h->size, r->n);
	if (kmb__crc32c(0, p + HDR_SIZE, r->n - HDR_SIZE) != (uint32_t)get_le(p + 24, 4))
		return corrupt(r, "body checksum (CRC-32C) mismatch");
	return 0;
}

static int read_header(struct reader *r)
{
	const uint8_t *p = r->p;
	struct header *h = &r->h;
	uint64_t body = r->n - HDR_SIZE;

	h->events = get_le(p + 32, 8);
	h->streams = (uint32_t)get_le(p + 40, 4);
	h->strings = (uint32_t)get_le(p + 44, 4);
	h->strtab = get_le(p + 48, 8);
	h->strsize = get_le(p + 56, 8);
	h->dir = get_le(p + 64, 8);
	h->obj_slots = (uint32_t)get_le(p + 72, 4);
	h->page_slots = (uint32_t)get_le(p + 76, 4);
	h->lines = get_le(p + 80, 8);
	for (int i = 0; i < KMB_SKIP_NREASONS; i++)
		h->skipped[i] = get_le(p + 88 + 8 * i, 8);
	h->lost = get_le(p + 112, 8);
	h->lost_reports = get_le(p + 120, 8);
	h->source_format = (uint32_t)get_le(p + 128, 4);
	if (h->streams > (uint32_t)UINT16_MAX + 1 ||
	    !in_body(r, h->dir, (uint64_t)h->streams * DIR_ENTRY))
		return corrupt(r, "stream directory (%u streams at %" PRIu64 ") outside the file",
		               h->streams, h->dir);
	if (!in_body(r, h->strtab, h->strsize) || h->strings > h->strsize)
		return corrupt(r,
		               "string table (%u strings, %" PRIu64 " bytes at %" PRIu64
		               ") outside the file",
		               h->strings, h->strsize, h->strtab);
	if (h->events > body / MIN_RECORD || h->events > UINT32_MAX)
		return corrupt(r, "%" PRIu64 " events cannot fit in %" PRIu64 " bytes", h->events,
		               body);
	if (h->source_format > KMB_FMT_KMT)
		return corrupt(r, "unknown source format %u", h->source_format);
	return 0;
}

static int read_strings(struct reader *r)
{
	struct rd s = {r->p + r->h.strtab, 0, r->h.strsize};

	if (!(r->remap = calloc((size_t)r->h.strings + 1, sizeof(*r->remap))))
		return -ENOMEM;
	for (uint32_t i = 1; i <= r->h.strings; i++) {
		uint64_t len;

		size_t c;

		if (!get_varint(&s, &len) || len > s.n - s.i || len > MAX_STRING)
			return corrupt(r, "string %u: bad length", i);
		if ((c = kmb__ctrl_byte((const char *)s.p + s.i, (size_t)len)) < len)
			return corrupt(r, "string %u: control character 0x%02x at byte %zu", i,
			               s.p[s.i + c], c);
		r->remap[i] = kmb_trace_intern(r->t, (const char *)s.p + s.i, (size_t)len);
		if (r->remap[i] == KMB_STR_NOMEM)
			return -ENOMEM;
		s.i += (size_t)len;
	}
	if (s.i != s.n)
		return corrupt(r, "%zu stray bytes after the string table", s.n - s.i);
	return 0;
}

/* A pointer again, from a ref. */
static int ref_ptr(struct reader *r, const struct kmb_event *e, uint64_t ref, uint64_t *ptr)
{
	bool page = e->kind == KMB_EV_PAGE_ALLOC || e->kind == KMB_EV_PAGE_FREE;
	uint32_t nslots = page ? r->h.page_slots : r->h.obj_slots;

	if (ref == REF_NULL) {
		*ptr = 0;
		return 0;
	}
	if (ref == REF_UNMATCH) {
		*ptr = page ? UNMATCHED_PAGE : UNMATCHED_OBJ;
		return kmb_event_is_alloc(e->kind) ? -EINVAL : 0;
	}
	if (ref - 2 >= nslots)
		return -EINVAL;
	*ptr = page ? ref - 1 : (ref - 1) << 4;
	return 0;
}

static bool get_string(struct reader *r, struct rd *s, uint32_t *idx)
{
	uint64_t v;

	if (!get_varint(s, &v) || v > r->h.strings)
		return false;
	*idx = r->remap[v];
	return true;
}

static bool get_kind_fields(struct rd *s, struct kmb_event *e, bool full)
{
	bool slab_alloc = e->kind == KMB_EV_KMALLOC || e->kind == KMB_EV_CACHE_ALLOC;
	uint64_t v, d;

	if (full || slab_alloc) {
		if (!get_varint(s, &e->bytes_req) || !get_varint(s, &d))
			return false;
		e->bytes_alloc = e->bytes_req + unzigzag(d);
	}
	if (full || slab_alloc || e->kind == KMB_EV_PAGE_ALLOC) {
		if (!get_varint(s, &v) || v > UINT32_MAX)
			return false;
		e->flags = (int)(uint32_t)v;
	}
	if (full || e->kind == KMB_EV_PAGE_ALLOC || e->kind == KMB_EV_PAGE_FREE) {
		if (!get_varint(s, &v) || v > MAX_ORDER)
			return false;
		e->order = (uint8_t)v;
	}
	return true;
}

/* One record into e; false if it is malformed. */
static bool get_record(struct reader *r, struct rd *s, struct kmb_event *e, uint64_t *prev_ts,
                       uint64_t *ref)
{
	uint64_t v = 0;
	uint8_t tag;

	if (s->i >= s->n)
		return false;
	tag = s->p[s->i++];
	e->kind = tag & TAG_KIND;
	if (e->kind < KMB_EV_KMALLOC || e->kind > KMB_EV_PAGE_FREE)
		return false;
	if (tag & TAG_CTX) { /* version 2 only; one byte of KMB_ECTX_* bits, not 0 */
		if (r->version < 2 || s->i >= s->n || s->p[s->i] == 0 ||
		    (s->p[s->i] & ~KMB_ECTX_ALL) != 0)
			return false;
		e->ctx = s->p[s->i++];
	}
	if ((tag & TAG_TS) && !get_varint(s, &v))
		return false;
	e->ts_ns = *prev_ts += (tag & TAG_TS) ? unzigzag(v) : 0;
	if (!get_varint(s, ref) || !get_string(r, s, &e->site))
		return false;
	if ((tag & TAG_CACHE) && !get_string(r, s, &e->cache))
		return false;
	e->node = -1;
	if (tag & TAG_NODE) {
		int64_t node;

		if (!get_varint(s, &v) || (node = (int64_t)unzigzag(v)) < INT16_MIN ||
		    node > INT16_MAX)
			return false;
		e->node = (int16_t)node;
	}
	return get_kind_fields(s, e, tag & TAG_FULL);
}

/* An event the checksums let through but a replay could not take: its index, what. */
static int check_values(struct reader *r, const struct kmb_event *e, uint64_t idx)
{
	const char *why = bad_values(e);

	if (!why)
		return 0;
	kmb__seterr(r->err, r->errlen,
	            "%s: event %" PRIu64 " (CPU %u): %s (flags 0x%x, bytes_req %" PRIu64
	            ", bytes_alloc %" PRIu64 ")",
	            r->t->path ? r->t->path : "<kmt>", idx + 1, e->cpu, why, (unsigned)e->flags,
	            e->bytes_req, e->bytes_alloc);
	return -EINVAL;
}

static int read_stream(struct reader *r, uint16_t cpu, uint64_t nev, struct rd *s)
{
	struct kmb_trace *t = r->t;
	uint64_t next = 0, ts = 0; /* next: the lowest index this stream may use */

	for (uint64_t k = 0; k < nev; k++) {
		struct kmb_event e = {.cpu = cpu};
		uint64_t gap, idx, ref;
		int rc;

		if (!get_varint(s, &gap) || gap >= r->h.events - next)
			return corrupt(r, "CPU %u event %" PRIu64 ": position outside the trace",
			               cpu, k);
		idx = next + gap;
		if (!get_record(r, s, &e, &ts, &ref))
			return corrupt(r, "CPU %u event %" PRIu64 ": malformed record at byte %zu",
			               cpu, k, s->i);
		if (ref_ptr(r, &e, ref, &e.ptr) < 0)
			return corrupt(r, "CPU %u event %" PRIu64 ": bad object reference %" PRIu64,
			               cpu, k, ref);
		if (t->ev[idx].kind)
			return corrupt(r, "event %" PRIu64 " stored twice", idx);
		e.line = idx < UINT32_MAX ? (uint32_t)(idx + 1) : UINT32_MAX;
		if ((rc = check_values(r, &e, idx)) < 0)
			return rc;
		t->ev[idx] = e;
		next = idx + 1;
	}
	if (s->i != s->n)
		return corrupt(r, "CPU %u: %zu stray bytes after its %" PRIu64 " events", cpu,
		               s->n - s->i, nev);
	return 0;
}

static int read_streams(struct reader *r)
{
	uint64_t total = 0;
	long prev_cpu = -1;

	for (uint32_t k = 0; k < r->h.streams; k++) {
		const uint8_t *d = r->p + r->h.dir + (uint64_t)k * DIR_ENTRY;
		uint64_t cpu = get_le(d, 4), nev = get_le(d + 8, 8), off = get_le(d + 16, 8),
		         size = get_le(d + 24, 8);
		struct rd s;
		int rc;

		if (cpu > UINT16_MAX || (long)cpu <= prev_cpu)
			return corrupt(r, "stream %u: CPU %" PRIu64 " out of order or range", k,
			               cpu);
		if (!in_body(r, off, size) || nev > size / MIN_RECORD || nev > r->h.events - total)
			return corrupt(r,
			               "stream %u (CPU %" PRIu64 "): %" PRIu64 " events in %" PRIu64
			               " bytes at %" PRIu64 " do not fit",
			               k, cpu, nev, size, off);
		s = (struct rd){r->p + off, 0, (size_t)size};
		if ((rc = read_stream(r, (uint16_t)cpu, nev, &s)) < 0)
			return rc;
		total += nev;
		prev_cpu = (long)cpu;
	}
	if (total != r->h.events)
		return corrupt(r, "the streams hold %" PRIu64 " events, the header says %" PRIu64,
		               total, r->h.events);
	return 0;
}

static void set_source(struct reader *r)
{
	struct kmb_trace *t = r->t;

	t->nev = (size_t)r->h.events;
	t->lines = r->h.lines;
	for (int i = 0; i < KMB_SKIP_NREASONS; i++)
		t->skipped[i] = r->h.skipped[i];
	t->lost_events = r->h.lost;
	t->lost_reports = r->h.lost_reports;
	t->format = KMB_FMT_KMT;
	t->source_format = (int)r->h.source_format;
}

int kmb_kmt_read(const void *buf, size_t n, struct kmb_trace *t, char *err, size_t errlen)
{
	struct reader r = {.p = buf, .n = n, .t = t, .err = err, .errlen = errlen};
	int rc;

	if ((rc = check_header(&r)) < 0 || (rc = read_header(&r)) < 0)
		return rc;
	t->ev = calloc(r.h.events ? (size_t)r.h.events : 1, sizeof(*t->ev));
	if (!t->ev) {
		rc = -ENOMEM;
	} else {
		t->cap = (size_t)r.h.events;
		if ((rc = read_strings(&r)) == 0 && (rc = read_streams(&r)) == 0)
			set_source(&r);
	}
	if (rc == -ENOMEM)
		kmb__seterr(err, errlen, "%s: out of memory", t->path ? t->path : "<kmt>");
	free(r.remap);
	return rc;
}
