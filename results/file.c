/*
 * results/file.c - atomic result files and unique run directories.
 *
 * A result file is written to "<path>.tmp.<pid>" and, once complete, flushed, fsynced
 * and renamed over <path>.  rename(2) is atomic within a file system, so a reader (or a
 * crash) sees the old file or the whole new one, never a prefix; the pid keeps two
 * concurrent writers of the same path from sharing a temporary.  The directory is then
 * fsynced too, so the rename itself survives a crash (best effort: some file systems
 * refuse fsync on directories).  A path that exists and is not a regular file or a
 * directory - `-o /dev/null`, `-o /dev/stdout`, a FIFO - is written in place: a rename
 * would replace the device with a regular file (as root, /dev/null itself), and there is
 * no old content to keep whole.
 *
 * The stream writes through write(2) itself (fopencookie) to keep the errno of a failed
 * write: stdio keeps only an error flag, and a full disk would read "Input/output error".
 *
 * Run directories are named by local time to the second; mkdir(2) is the arbiter of
 * uniqueness (EEXIST -> try the next suffix), so two runs started in the same second,
 * even in different processes, get different directories without a lock.
 */
#include "results/results.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KMB_RUN_DIR_TRIES 10000

/* The stream's writes: write(2), the first failure's errno kept (stdio keeps only a flag). */
static ssize_t cookie_write(void *cookie, const char *buf, size_t n)
{
	struct kmb_file *f = cookie;
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(f->fd, buf + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (f->werr == 0)
				f->werr = w < 0 ? errno : EIO;
			return 0; /* fopencookie: 0 is the error */
		}
		done += (size_t)w;
	}
	return (ssize_t)n;
}

static int cookie_close(void *cookie)
{
	(void)cookie; /* the fd is closed by file_close, after its fsync */
	return 0;
}

FILE *kmb_file_create(const char *path, struct kmb_file *f)
{
	static const cookie_io_functions_t io = {.write = cookie_write, .close = cookie_close};
	int n;

	struct stat st;

	f->fp = NULL;
	f->fd = -1;
	f->werr = 0;
	f->direct = stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
	n = snprintf(f->path, sizeof(f->path), "%s", path);
	if (n >= 0 && (size_t)n < sizeof(f->path))
		n = snprintf(f->tmp, sizeof(f->tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(f->tmp)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	f->fd = f->direct ? open(path, O_WRONLY | O_CLOEXEC)
	                  : open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (f->fd < 0)
		return NULL;
	f->fp = fopencookie(f, "w", io);
	if (f->fp == NULL) {
		int e = errno;

		close(f->fd);
		if (!f->direct)
			unlink(f->tmp);
		errno = e;
	}
	return f->fp;
}

static void fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

/* fflush + fsync + fclose: the first error as -errno (a write's own), the file closed. */
static int file_close(struct kmb_file *f)
{
	int err = 0;

	if (fflush(f->fp) != 0 || ferror(f->fp))
		err = f->werr ? -f->werr : -EIO;
	else if (!f->direct && fsync(f->fd) != 0) /* a device or pipe has nothing to sync */
		err = -errno;
	fclose(f->fp);
	if (close(f->fd) != 0 && err == 0)
		err = -errno;
	f->fp = NULL;
	return err;
}

int kmb_file_commit(struct kmb_file *f)
{
	int err;

	if (f->fp == NULL)
		return -EBADF;
	err = file_close(f);
	if (f->direct)
		return err;
	if (err == 0 && rename(f->tmp, f->path) != 0)
		err = -errno;
	if (err != 0) {
		unlink(f->tmp);
		return err;
	}
	fsync_parent(f->path);
	return 0;
}

void kmb_file_abort(struct kmb_file *f)
{
	if (f->fp == NULL)
		return;
	fclose(f->fp);
	close(f->fd);
	f->fp = NULL;
	if (!f->direct)
		unlink(f->tmp);
}

int kmb_file_finish(struct kmb_file *f, int rc)
{
	if (rc == 0)
		return kmb_file_commit(f);
	if (f->fp != NULL && rc == -EIO) {
		fflush(f->fp); /* what is still buffered: its write's errno */
		if (f->werr)
			rc = -f->werr;
	}
	kmb_file_abort(f);
	return rc;
}

static int mkdir_one(const char *path)
{
	struct stat st;

	if (mkdir(path, 0777) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int kmb_mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0)
		return -ENOENT;
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1;; p++) {
		char c = *p;
		int err;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		err = mkdir_one(buf);
		if (err != 0 || c == '\0')
			return err;
		*p = c;
	}
}

int kmb_run_dir_create(const char *root, char *out, size_t outlen)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int rootlen = (int)strlen(root), err = kmb_mkdir_p(root);

	if (err != 0)
		return err;
	while (rootlen > 1 && root[rootlen - 1] == '/')
		rootlen--;
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm) == 0)
		return -EINVAL;
	for (unsigned i = 1; i <= KMB_RUN_DIR_TRIES; i++) {
		int n = i == 1 ? snprintf(out, outlen, "%.*s/%s", rootlen, root, stamp)
		               : snprintf(out, outlen, "%.*s/%s-%u", rootlen, root, stamp, i);

		if (n < 0 || (size_t)n >= outlen)
			return -ENAMETOOLONG;
		if (mkdir(out, 0777) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}
