/*
 * log.c: the log line format, escaping and caps (see log.h).
 *
 * May call: libc only. Must never: allocate (a logging call must work when memory is short), or
 * emit a byte the client chose without escaping it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

static int log_threshold = LOGL_INFO;
static int log_fd = 2;
static _Thread_local char log_rid[40];

static const char *const level_names[LOGL__MAX] = { "error", "warning", "notice", "info", "debug" };

void
log_set_level(enum log_level level)
{
	if ((int)level >= 0 && level < LOGL__MAX)
		log_threshold = (int)level;
}

int
log_level_parse(const char *name, enum log_level *out)
{
	int i;

	for (i = 0; i < LOGL__MAX; i++)
		if (name != NULL && strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return err_set(HSMCA_E_INVALID, "log level must be error, warning, notice, info or debug");
}

void
log_set_fd(int fd)
{
	log_fd = fd;
}

void
log_set_request_id(const char *rid)
{
	if (rid == NULL)
		log_rid[0] = '\0';
	else
		snprintf(log_rid, sizeof(log_rid), "%s", rid);
}

static int
needs_quote(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '=';
}

size_t
log_escape(char *out, size_t cap, const void *value, size_t len, size_t max_value)
{
	const unsigned char *v = value;
	size_t i, o = 0, limit, plen, n = len < max_value ? len : max_value;
	int quote = len == 0, cut = len > max_value;
	char esc[5];
	const char *piece;

	if (cap < 8) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	/* Room kept at the end for "...", the closing quote and the NUL. */
	limit = cap - 6;
	for (i = 0; i < n && !quote; i++)
		quote = needs_quote(v[i]);
	if (quote)
		out[o++] = '"';
	for (i = 0; i < n; i++) {
		switch (v[i]) {
		case '"': piece = "\\\""; plen = 2; break;
		case '\\': piece = "\\\\"; plen = 2; break;
		case '\n': piece = "\\n"; plen = 2; break;
		case '\r': piece = "\\r"; plen = 2; break;
		case '\t': piece = "\\t"; plen = 2; break;
		default:
			if (v[i] < 0x20 || v[i] >= 0x7f) {
				snprintf(esc, sizeof(esc), "\\x%02x", v[i]);
				piece = esc;
				plen = 4;
			} else {
				piece = (const char *)&v[i];
				plen = 1;
			}
		}
		if (o + plen > limit) {
			cut = 1;
			break;
		}
		memcpy(out + o, piece, plen);
		o += plen;
	}
	if (cut) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	if (quote)
		out[o++] = '"';
	out[o] = '\0';
	return o;
}

static void
append(struct log_line *l, const char *s, size_t n)
{
	/* Reserve one byte for the newline. */
	if (l->len + n + 1 > sizeof(l->buf)) {
		l->truncated = 1;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void
append_key(struct log_line *l, const char *key)
{
	char k[64];
	size_t i, n = 0;

	/* Keys are ours, but keep them to [a-z0-9_] so a slip cannot break the format. */
	k[n++] = ' ';
	for (i = 0; key[i] != '\0' && n < sizeof(k) - 2; i++) {
		char c = key[i];
		k[n++] = ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') ? c : '_';
	}
	k[n++] = '=';
	append(l, k, n);
}

void
log_begin(struct log_line *l, enum log_level level, const char *component, const char *event)
{
	struct timespec ts;
	struct tm tm;
	int n;

	l->len = 0;
	l->truncated = 0;
	l->level = ((int)level < 0 || level >= LOGL__MAX || (int)level > log_threshold) ? -1 : (int)level;
	if (l->level < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(l->buf, sizeof(l->buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000, level_names[level]);
	l->len = n > 0 ? (size_t)n : 0;
	log_str(l, "comp", component);
	log_str(l, "event", event);
	if (log_rid[0] != '\0')
		log_str(l, "rid", log_rid);
}

void
log_mem(struct log_line *l, const char *key, const void *value, size_t len)
{
	char esc[LOG_VALUE_MAX * 4 + 8];
	size_t n;

	if (l->level < 0)
		return;
	append_key(l, key);
	if (value == NULL) {
		append(l, "-", 1);
		return;
	}
	n = log_escape(esc, sizeof(esc), value, len, LOG_VALUE_MAX);
	append(l, esc, n);
}

void
log_str(struct log_line *l, const char *key, const char *value)
{
	log_mem(l, key, value, value != NULL ? strlen(value) : 0);
}

void
log_int(struct log_line *l, const char *key, int64_t value)
{
	char v[32];
	int n;

	if (l->level < 0)
		return;
	append_key(l, key);
	n = snprintf(v, sizeof(v), "%lld", (long long)value);
	append(l, v, (size_t)n);
}

void
log_end(struct log_line *l)
{
	size_t off = 0;
	ssize_t w;

	if (l->level < 0)
		return;
	if (l->truncated && l->len + 16 < sizeof(l->buf)) {
		memcpy(l->buf + l->len, " truncated=1", 12);
		l->len += 12;
	}
	l->buf[l->len++] = '\n';
	while (off < l->len) {
		w = write(log_fd, l->buf + off, l->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	l->level = -1;
}

void
log_msg(enum log_level level, const char *component, const char *event, const char *fmt, ...)
{
	struct log_line l;
	char msg[512];
	va_list ap;

	log_begin(&l, level, component, event);
	if (l.level < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_str(&l, "msg", msg);
	log_end(&l);
}
