/*
 * log.h: one-line key=value events on stderr (journald adds its own timestamp, we keep ours so
 * files and tests read the same).
 *
 *   2026-01-02T03:04:05.678Z level=info comp=http event=request rid=1a2b... method=GET status=200
 *
 * A line is built in a fixed 1 KiB buffer and written with one write(2), so concurrent threads
 * never interleave. Values are escaped (quotes, backslashes, control and non-ASCII bytes as \xNN)
 * and capped at LOG_VALUE_MAX bytes, so client bytes can neither forge a line nor flood the log.
 * Never pass a secret (password, token, PIN, TOTP code, cookie) as a value.
 * Thread safety: every function may be called from any thread.
 */
#ifndef HSMCA_LOG_H
#define HSMCA_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level {
	LOGL_ERROR,    /* an operator must act: token gone, database write failed */
	LOGL_WARNING,  /* degraded */
	LOGL_NOTICE,   /* a client's mistake: bad input, failed login */
	LOGL_INFO,     /* normal events */
	LOGL_DEBUG,
	LOGL__MAX
};

#define LOG_LINE_MAX 1024
#define LOG_VALUE_MAX 256

struct log_line {
	char buf[LOG_LINE_MAX];
	size_t len;
	int level;     /* -1: suppressed by the threshold, every call is a no-op */
	int truncated;
};

/* Lines above this level are dropped (default LOGL_INFO; HSMCA_LOG_LEVEL=debug etc. at start). */
void log_set_level(enum log_level level);
/* Parses "error".."debug"; HSMCA_E_INVALID otherwise. */
int log_level_parse(const char *name, enum log_level *out);
/* Redirects output to fd (default 2). For tests. */
void log_set_fd(int fd);

/* The request id of the current thread, added to every line as rid=; NULL clears it. The string
 * is copied. */
void log_set_request_id(const char *rid);

/* Builds a line: log_begin, then any number of log_str/log_int, then log_end writes it. */
void log_begin(struct log_line *l, enum log_level level, const char *component, const char *event);
void log_str(struct log_line *l, const char *key, const char *value);      /* NULL: key=- */
void log_mem(struct log_line *l, const char *key, const void *value, size_t len);
void log_int(struct log_line *l, const char *key, int64_t value);
void log_end(struct log_line *l);

/* Shorthand for a line with one msg= value (printf-style, then escaped). */
void log_msg(enum log_level level, const char *component, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Escapes value (len bytes) into out (cap bytes, NUL-terminated), quoting it when needed and
 * cutting it at max_value bytes of input with a trailing "...". Exposed for the unit test. */
size_t log_escape(char *out, size_t cap, const void *value, size_t len, size_t max_value);

#endif
