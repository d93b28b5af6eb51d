/* buf.c: owned blobs and whole-file I/O (see buf.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "err.h"

int
buf_set(struct buf *out, const void *data, size_t len)
{
	uint8_t *p;

	p = malloc(len + 1);
	if (p == NULL)
		return HSMCA_E_NOMEM;
	if (len > 0)
		memcpy(p, data, len);
	p[len] = '\0';
	buf_free(out);
	out->data = p;
	out->len = len;
	return 0;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL)
		OPENSSL_clear_free(b->data, b->len + 1);
	b->data = NULL;
	b->len = 0;
}

int
buf_read_file(const char *path, size_t max_bytes, struct buf *out)
{
	int fd = -1, rc = HSMCA_E_IO;
	struct stat st;
	uint8_t *data = NULL;
	size_t got = 0;
	ssize_t n;

	out->data = NULL;
	out->len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = err_set(HSMCA_E_IO, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = err_set(HSMCA_E_IO, "%s is not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max_bytes) {
		rc = err_set(HSMCA_E_TOOLARGE, "%s is larger than %zu bytes", path, max_bytes);
		goto out;
	}
	data = malloc((size_t)st.st_size + 1);
	if (data == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = err_set(HSMCA_E_IO, "cannot read %s: %s", path, n < 0 ? strerror(errno) : "short read");
			goto out;
		}
		got += (size_t)n;
	}
	data[got] = '\0';
	out->data = data;
	out->len = got;
	data = NULL;
	rc = 0;
out:
	if (data != NULL)
		OPENSSL_clear_free(data, (size_t)st.st_size + 1);
	if (fd >= 0)
		close(fd);
	return rc;
}

int
buf_write_file(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[4096];
	int fd = -1, rc = HSMCA_E_IO;
	size_t done = 0;
	ssize_t n;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
		return err_set(HSMCA_E_IO, "path too long: %s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = err_set(HSMCA_E_IO, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (done < len) {
		n = write(fd, (const uint8_t *)data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	return 0;
fail:
	rc = err_set(HSMCA_E_IO, "cannot write %s: %s", path, strerror(errno));
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
