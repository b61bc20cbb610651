/*
 * results/script_tag.c - which gnuplot scripts kmbench wrote: keyed tags in run.json.
 *
 * gnuplot scripts run commands (system(), `!`, "< cmd" data, "|cmd" outputs), and results
 * directories are shared between people, so `kmbench plot DIR` renders only the .gp
 * files kmbench itself wrote for this user:
 *
 * 1. The tag of a script is SipHash-2-4 of its bytes under a 128-bit key private to the
 *    user ($XDG_CONFIG_HOME/kmbench/script.key, else ~/.config/kmbench/script.key,
 *    16 random bytes from getrandom(2), mode 0600, created by the first run).  A plain
 *    hash (FNV-1a, even SHA-256) would not do: whoever hands over the directory can
 *    rewrite run.json with the hash of their own script.  A MAC under a key they do not
 *    have cannot be forged, and SipHash is a MAC made for short inputs that fits in 40
 *    lines without a crypto library (a 64-bit tag: one guess in 2^64 passes).
 * 2. The key is used only if it is a regular file owned by the user and readable by no
 *    one else; otherwise nothing is tagged and nothing is trusted.
 * 3. kmbench run records the tag of each .gp of its directory under "scripts" in
 *    run.json; kmbench plot recomputes each and refuses the directory if one is missing
 *    or differs (so a script the user edited needs --trust-scripts too).
 */
#include "results/results.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCRIPT_MAX_BYTES ((size_t)16 << 20) /* kmbench's scripts are a few KiB */

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void sipround(uint64_t v[4])
{
	v[0] += v[1], v[1] = rotl(v[1], 13), v[1] ^= v[0], v[0] = rotl(v[0], 32);
	v[2] += v[3], v[3] = rotl(v[3], 16), v[3] ^= v[2];
	v[0] += v[3], v[3] = rotl(v[3], 21), v[3] ^= v[0];
	v[2] += v[1], v[1] = rotl(v[1], 17), v[1] ^= v[2], v[2] = rotl(v[2], 32);
}

static uint64_t le64(const uint8_t *p, size_t n)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n; i++)
		x |= (uint64_t)p[i] << (8 * i);
	return x;
}

static void sip_word(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
}

uint64_t kmb_siphash24(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t k0 = le64(key, 8), k1 = le64(key + 8, 8);
	uint64_t v[4] = {0x736f6d6570736575ULL ^ k0, 0x646f72616e646f6dULL ^ k1,
	                 0x6c7967656e657261ULL ^ k0, 0x7465646279746573ULL ^ k1};
	size_t i;

	for (i = 0; i + 8 <= len; i += 8)
		sip_word(v, le64(p + i, 8));
	sip_word(v, ((uint64_t)len << 56) | le64(p + i, len - i));
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static int key_path(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/kmbench", xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.config/kmbench", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len - sizeof("/script.key") ? -ENAMETOOLONG : 0;
}

/* Reads the key; -EPERM if another user owns it or may read or write it. */
static int key_read(const char *path, uint8_t key[16])
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		rc = -EPERM;
	else if (read(fd, key, 16) != 16)
		rc = -EINVAL;
	close(fd);
	return rc;
}

/* A new key, written whole under a temporary name and linked into place (first wins). */
static int key_create(const char *dir, const char *path)
{
	char tmp[PATH_MAX + 32];
	uint8_t key[16];
	int fd, rc = kmb_mkdir_p(dir);

	if (rc != 0)
		return rc;
	if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key))
		return -EIO;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -errno;
	if (write(fd, key, sizeof(key)) != (ssize_t)sizeof(key))
		rc = -EIO;
	else if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && link(tmp, path) != 0 && errno != EEXIST)
		rc = -errno;
	unlink(tmp);
	return rc;
}

int kmb_script_key(uint8_t key[16], bool create, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int rc = key_path(dir, sizeof(dir));

	if (rc != 0) {
		snprintf(err, errlen,
		         "no key: neither XDG_CONFIG_HOME nor HOME is an absolute path");
		return rc;
	}
	snprintf(path, sizeof(path), "%s/script.key", dir);
	rc = key_read(path, key);
	if (rc == -ENOENT && create && (rc = key_create(dir, path)) == 0)
		rc = key_read(path, key);
	if (rc == -EPERM)
		snprintf(err, errlen, "%s: not a private file of this user (chmod 600 it)", path);
	else if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

int kmb_script_tag(const uint8_t key[16], const char *path, char hex[17])
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	int rc = 0;

	if (f == NULL)
		return -errno;
	if ((buf = malloc(SCRIPT_MAX_BYTES + 1)) == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, SCRIPT_MAX_BYTES + 1, f);
	if (ferror(f))
		rc = -EIO;
	else if (n > SCRIPT_MAX_BYTES)
		rc = -EFBIG;
	else
		snprintf(hex, 17, "%016" PRIx64, kmb_siphash24(key, buf, n));
	fclose(f);
	free(buf);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_name(char ***out, size_t *n, size_t *cap, const char *name)
{
	if (*n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		char **nl = realloc(*out, ncap * sizeof(*nl));

		if (nl == NULL)
			return -ENOMEM;
		*out = nl;
		*cap = ncap;
	}
	if (((*out)[*n] = strdup(name)) == NULL)
		return -ENOMEM;
	(*n)++;
	return 0;
}

int kmb_list_scripts(const char *dir, char ***out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL)
		return -errno;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len >= 4 && strcmp(e->d_name + len - 3, ".gp") == 0)
			rc = add_name(out, n, &cap, e->d_name);
	}
	closedir(d);
	if (rc != 0) {
		kmb_free_names(*out, *n);
		*out = NULL;
		*n = 0;
		return rc;
	}
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), cmp_str);
	return 0;
}

void kmb_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void kmb_json_script_tags(struct kmb_json *j, const char *dir, const uint8_t key[16])
{
	char **names, path[PATH_MAX], hex[17];
	size_t n;

	kmb_json_obj_begin(j, "scripts");
	if (key != NULL && kmb_list_scripts(dir, &names, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) <
			            sizeof(path) &&
			    kmb_script_tag(key, path, hex) == 0)
				kmb_json_str(j, names[i], hex);
		kmb_free_names(names, n);
	}
	kmb_json_obj_end(j);
}
