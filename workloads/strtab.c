/*
 * workloads/strtab.c - the trace's string table: call sites and cache names, interned.
 *
 * Theory: a trace names few distinct call sites and caches (hundreds) in many events
 * (millions), so each name is stored once and events carry its index.  t->str[i] is the
 * string, t->str[0] is "".  The private hash (t->strhash) is an open-addressing table of
 * indices (linear probing, no deletion), kept at most half full; each string's hash and
 * length are kept beside it so that a probe compares bytes only on a real candidate.
 * Strings are compared by (bytes, length), so a string holding a NUL byte is still
 * interned consistently (it only prints truncated).
 */
#include "workloads/trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct strhash {
	uint32_t *slot; /* index + 1; 0 = empty */
	size_t cap;     /* power of two */
	uint32_t *hash; /* per string index */
	uint32_t *len;  /* per string index */
};

static uint32_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, 64 bits, folded */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return (uint32_t)(h ^ (h >> 32));
}

static int rehash(struct strhash *h, size_t nstr, size_t newcap)
{
	uint32_t *slot = calloc(newcap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t i = 0; i < nstr; i++) {
		size_t pos = h->hash[i] & (newcap - 1);

		while (slot[pos])
			pos = (pos + 1) & (newcap - 1);
		slot[pos] = (uint32_t)i + 1;
	}
	free(h->slot);
	h->slot = slot;
	h->cap = newcap;
	return 0;
}

/* Make room for one more string in t->str and the per-string arrays. */
static int grow_strings(struct kmb_trace *t, struct strhash *h)
{
	size_t cap = t->strcap ? 2 * t->strcap : 64;
	char **str;
	uint32_t *hash, *len;

	if (t->nstr < t->strcap)
		return 0;
	if (cap >= UINT32_MAX)
		return -ENOMEM;
	str = realloc(t->str, cap * sizeof(*str));
	if (!str)
		return -ENOMEM;
	t->str = str;
	hash = realloc(h->hash, cap * sizeof(*hash));
	if (!hash)
		return -ENOMEM;
	h->hash = hash;
	len = realloc(h->len, cap * sizeof(*len));
	if (!len)
		return -ENOMEM;
	h->len = len;
	t->strcap = cap;
	return 0;
}

static uint32_t lookup(const struct kmb_trace *t, const struct strhash *h, const char *s,
                       size_t len, uint32_t hv, size_t *posp)
{
	size_t pos = hv & (h->cap - 1);

	for (; h->slot[pos]; pos = (pos + 1) & (h->cap - 1)) {
		uint32_t i = h->slot[pos] - 1;

		if (h->hash[i] == hv && h->len[i] == len && memcmp(t->str[i], s, len) == 0)
			return i;
	}
	*posp = pos;
	return KMB_STR_NOMEM;
}

static uint32_t insert(struct kmb_trace *t, struct strhash *h, const char *s, size_t len,
                       uint32_t hv)
{
	char *copy;

	if (grow_strings(t, h) < 0)
		return KMB_STR_NOMEM;
	if (2 * (t->nstr + 1) > h->cap && rehash(h, t->nstr, h->cap ? 2 * h->cap : 128) < 0)
		return KMB_STR_NOMEM;
	copy = malloc(len + 1);
	if (!copy)
		return KMB_STR_NOMEM;
	memcpy(copy, s, len);
	copy[len] = '\0';
	size_t pos = hv & (h->cap - 1);

	while (h->slot[pos])
		pos = (pos + 1) & (h->cap - 1);
	h->slot[pos] = (uint32_t)t->nstr + 1;
	t->str[t->nstr] = copy;
	h->hash[t->nstr] = hv;
	h->len[t->nstr] = (uint32_t)len;
	return (uint32_t)t->nstr++;
}

size_t kmb__ctrl_byte(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (unsigned char)s[i] >= 0x20 && s[i] != 0x7f)
		i++;
	return i;
}

uint32_t kmb_trace_intern(struct kmb_trace *t, const char *s, size_t len)
{
	struct strhash *h = t->strhash;
	uint32_t hv, i;
	size_t pos = 0;

	if (len >= UINT32_MAX)
		return KMB_STR_NOMEM;
	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h)
			return KMB_STR_NOMEM;
		t->strhash = h;
	}
	if (t->nstr == 0 && len && kmb_trace_intern(t, "", 0) != 0)
		return KMB_STR_NOMEM; /* keep str[0] == "" */
	hv = hash_bytes(s, len);
	if (h->cap) {
		i = lookup(t, h, s, len, hv, &pos);
		if (i != KMB_STR_NOMEM)
			return i;
	}
	return insert(t, h, s, len, hv);
}

int kmb_trace_rename(struct kmb_trace *t, uint32_t i, const char *s)
{
	struct strhash *h = t->strhash;
	size_t len = strlen(s);
	char *copy;

	if (!h || i == 0 || i >= t->nstr || len >= UINT32_MAX)
		return -EINVAL;
	if (!(copy = strdup(s)))
		return -ENOMEM;
	free(t->str[i]);
	t->str[i] = copy;
	h->hash[i] = hash_bytes(s, len);
	h->len[i] = (uint32_t)len;
	return rehash(h, t->nstr, h->cap); /* its slot moves with its hash */
}

void kmb_trace_init(struct kmb_trace *t)
{
	memset(t, 0, sizeof(*t));
	(void)kmb_trace_intern(t, "", 0); /* on ENOMEM nstr stays 0: kmb_trace_load checks */
}

void kmb_trace_free(struct kmb_trace *t)
{
	struct strhash *h = t->strhash;

	for (size_t i = 0; i < t->nstr; i++)
		free(t->str[i]);
	free(t->str);
	if (h) {
		free(h->slot);
		free(h->hash);
		free(h->len);
		free(h);
	}
	free(t->ev);
	free(t->path);
	memset(t, 0, sizeof(*t));
}
