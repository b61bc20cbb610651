/*
 * workloads/syms.c - kernel symbols for call sites: a System.map or /proc/kallsyms.
 *
 * 1. Format.  Both files are lines "ADDR TYPE NAME" (kallsyms adds "[MODULE]"): ADDR in
 *    hex, TYPE one letter, NAME the symbol.  Only text symbols (t, T, w, W) can hold a
 *    call site; the rest are skipped, as are empty lines and lines starting with '#'.
 *    /proc/kallsyms read without CAP_SYSLOG gives every address as 0: such symbols say
 *    nothing and are dropped (a file of nothing else is refused: "no text symbol").
 * 2. Lookup.  A call site is a return address inside its caller, so its symbol is the
 *    nearest one at or below it (binary search over the symbols sorted by address),
 *    printed name+0xOFF as the kernel's %pS does (without the function's size, which a
 *    System.map does not give).
 * 3. Raw sites.  Kernels before 4.x (and perf script without symbols) print call sites as
 *    bare hex ("c1187838"); kmb_syms_apply renames those in the trace's string table, so
 *    every table that shows call sites (trace stat, vmstat -m, the report) shows symbols.
 *    Sites already symbolic ("putname+0x47/0x50", 6.x) are left as they are.
 * 4. Snapshot.  `trace record` keeps, beside the trace, the symbols of its call sites from
 *    /proc/kallsyms (kmb_syms_snapshot): a raw site's nearest symbol below, a symbolic
 *    site's by name, each once, sorted by address - a System.map small enough to keep,
 *    since kallsyms changes with every boot (KASLR) and module load.
 */
#include "workloads/trace.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int cmp_addr(const void *a, const void *b)
{
	const struct kmb_sym *x = a, *y = b;
	int c = (x->addr > y->addr) - (x->addr < y->addr);

	return c ? c : strcmp(x->name, y->name);
}

static bool text_type(char c)
{
	return c == 't' || c == 'T' || c == 'w' || c == 'W';
}

static int push(struct kmb_syms *y, size_t *cap, uint64_t addr, const char *name, size_t len)
{
	if (y->n == *cap) {
		size_t nc = *cap ? 2 * *cap : 1024;
		struct kmb_sym *s = realloc(y->sym, nc * sizeof(*s));

		if (!s)
			return -ENOMEM;
		y->sym = s;
		*cap = nc;
	}
	if (!(y->sym[y->n].name = strndup(name, len)))
		return -ENOMEM;
	y->sym[y->n++].addr = addr;
	return 0;
}

/* One line (1.): 0 kept or skipped, -EINVAL malformed (reason in why), -ENOMEM. */
static int parse_sym(struct kmb_syms *y, size_t *cap, const char *line, const char **why)
{
	char *end;
	const char *name;
	uint64_t addr;
	size_t len;

	while (isspace((unsigned char)*line))
		line++;
	if (*line == '\0' || *line == '#')
		return 0;
	errno = 0;
	addr = strtoull(line, &end, 16);
	if (end == line || errno || !isspace((unsigned char)*end) ||
	    !isalpha((unsigned char)end[1]) || !isspace((unsigned char)end[2])) {
		*why = "not \"ADDR TYPE NAME\" (System.map or /proc/kallsyms)";
		return -EINVAL;
	}
	name = end + 3;
	while (*name == ' ' || *name == '\t')
		name++;
	len = strcspn(name, " \t\r\n");
	if (len == 0) {
		*why = "no symbol name";
		return -EINVAL;
	}
	if (!text_type(end[1]) || addr == 0)
		return 0;
	return push(y, cap, addr, name, len);
}

int kmb_syms_load(const char *path, struct kmb_syms *y, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	const char *why = NULL;
	size_t cap = 0, len = 0;
	char *line = NULL;
	unsigned lineno = 0;
	int rc = 0;

	memset(y, 0, sizeof(*y));
	snprintf(y->path, sizeof(y->path), "%s", path);
	if (!f) {
		rc = -errno;
		kmb__seterr(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	while (rc == 0 && getline(&line, &len, f) >= 0) {
		lineno++;
		rc = parse_sym(y, &cap, line, &why);
	}
	free(line);
	fclose(f);
	if (rc == -EINVAL)
		kmb__seterr(err, errlen, "%s:%u: %s", path, lineno, why);
	else if (rc == -ENOMEM)
		kmb__seterr(err, errlen, "%s: %s", path, strerror(ENOMEM));
	else if (y->n == 0 && (rc = -EINVAL))
		kmb__seterr(err, errlen,
		            "%s: no text symbol with an address (kallsyms read without root gives "
		            "only zeros)",
		            path);
	if (rc) {
		kmb_syms_free(y);
		return rc;
	}
	qsort(y->sym, y->n, sizeof(*y->sym), cmp_addr);
	return 0;
}

void kmb_syms_free(struct kmb_syms *y)
{
	for (size_t i = 0; i < y->n; i++)
		free(y->sym[i].name);
	free(y->sym);
	y->sym = NULL;
	y->n = 0;
}

/* Index of the nearest symbol at or below addr, or y->n (2.). */
static size_t below(const struct kmb_syms *y, uint64_t addr)
{
	size_t lo = 0, hi = y->n; /* the answer is lo - 1: the last with sym.addr <= addr */

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (y->sym[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : y->n;
}

bool kmb_syms_name(const struct kmb_syms *y, uint64_t addr, char *buf, size_t len)
{
	size_t i = below(y, addr);

	if (i == y->n)
		return false;
	snprintf(buf, len, "%s+0x%" PRIx64, y->sym[i].name, addr - y->sym[i].addr);
	return true;
}

/* A bare hex call site (3.): its address. */
static bool raw_site(const char *s, uint64_t *addr)
{
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!isxdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	*addr = strtoull(s, &end, 16);
	return *end == '\0' && errno == 0 && *addr != 0;
}

/* Per string index: whether an event uses it as its call site; NULL on ENOMEM. */
static bool *site_strings(const struct kmb_trace *t)
{
	bool *used = calloc(t->nstr ? t->nstr : 1, sizeof(*used));

	for (size_t i = 0; used && i < t->nev; i++)
		if (t->ev[i].site < t->nstr)
			used[t->ev[i].site] = true;
	return used;
}

long kmb_syms_apply(const struct kmb_syms *y, struct kmb_trace *t)
{
	bool *used = site_strings(t);
	char name[320];
	uint64_t addr;
	long n = 0;

	if (!used)
		return -ENOMEM;
	for (uint32_t i = 1; i < t->nstr && n >= 0; i++)
		if (used[i] && raw_site(t->str[i], &addr) &&
		    kmb_syms_name(y, addr, name, sizeof(name)))
			n = kmb_trace_rename(t, i, name) == 0 ? n + 1 : -ENOMEM;
	free(used);
	return n;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(const struct kmb_sym *const *)a)->name,
	              (*(const struct kmb_sym *const *)b)->name);
}

/* The symbol a call site names (4.), or NULL; byname: the symbols sorted by name. */
static const struct kmb_sym *site_sym(const struct kmb_syms *y, struct kmb_sym **byname,
                                      const char *site)
{
	struct kmb_sym key, *kp = &key, **hit;
	char name[256];
	uint64_t addr;
	size_t i;

	if (raw_site(site, &addr))
		return (i = below(y, addr)) < y->n ? &y->sym[i] : NULL;
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(site, "+"), site);
	key.name = name;
	hit = bsearch(&kp, byname, y->n, sizeof(*byname), cmp_name);
	return hit ? *hit : NULL;
}

long kmb_syms_snapshot(const struct kmb_syms *y, const struct kmb_trace *t, FILE *out)
{
	struct kmb_sym **byname = malloc((y->n ? y->n : 1) * sizeof(*byname));
	bool *used = site_strings(t), *keep = calloc(y->n ? y->n : 1, sizeof(*keep));
	long n = 0;

	if (!byname || !used || !keep) {
		n = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < y->n; i++)
		byname[i] = &y->sym[i];
	qsort(byname, y->n, sizeof(*byname), cmp_name);
	for (uint32_t i = 1; i < t->nstr; i++) {
		const struct kmb_sym *s = used[i] ? site_sym(y, byname, t->str[i]) : NULL;

		if (s)
			keep[s - y->sym] = true;
	}
	for (size_t i = 0; i < y->n; i++)
		if (keep[i] && ++n)
			fprintf(out, "%016" PRIx64 " t %s\n", y->sym[i].addr, y->sym[i].name);
	if (ferror(out))
		n = -EIO;
out:
	free(byname);
	free(used);
	free(keep);
	return n;
}
