/*
 * buf.h: an owned byte blob (DER, PEM, file contents) with its length.
 * buf_free() wipes before freeing, so a buf may hold key material or a secret.
 */
#ifndef HSMCA_BUF_H
#define HSMCA_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
};

/* Copies len bytes into a fresh allocation owned by out. Returns 0 or HSMCA_E_NOMEM. */
int buf_set(struct buf *out, const void *data, size_t len);

/* Wipes and frees data; the struct becomes empty. buf_free(NULL) and double calls are no-ops. */
void buf_free(struct buf *b);

/* Reads a whole file of at most max_bytes. HSMCA_E_IO (detail names the file) or
 * HSMCA_E_TOOLARGE. A trailing NUL is kept after data (not counted in len) for text use. */
int buf_read_file(const char *path, size_t max_bytes, struct buf *out);

/* Writes data to path atomically (temp file, fsync, rename) with the given mode. */
int buf_write_file(const char *path, const void *data, size_t len, unsigned mode);

#endif
