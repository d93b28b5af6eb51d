/*
 * tok_uri.c: RFC 7512 pkcs11: URI parse and format (see tok_uri.h).
 *
 * Pure: may call only libc and err_set(); never touches a token, a file or a global.
 * Strict where it matters to us (the attributes we act on, escapes, lengths) and tolerant where
 * the RFC says to be (unknown attributes, the query component).
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "tok_uri.h"

#define SCHEME "pkcs11:"

/* Attributes seen so far, to refuse repeats (RFC 7512 2.3: "MUST NOT appear more than once"). */
#define SEEN_TOKEN  0x1
#define SEEN_OBJECT 0x2
#define SEEN_ID     0x4
#define SEEN_TYPE   0x8

static int
valid_type(const char *t)
{
	return strcmp(t, "private") == 0 || strcmp(t, "public") == 0 || strcmp(t, "cert") == 0;
}

static int
is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 7512 section 2.3: pk11-pchar = unreserved / pk11-subdelims / ":" / "[" / "]" / "@" / "&",
 * pk11-subdelims = "!" / "$" / "'" / "(" / ")" / "*" / "+" / "," / "=". ';' separates path
 * attributes and '?' starts the query, so neither may appear unescaped in a path value. */
static int
is_path_char(unsigned char c)
{
	return is_unreserved(c) || (c != '\0' && strchr("!$'()*+,=:[]@&", c) != NULL);
}

/* Query values additionally allow '/' and '?'; '&' separates query attributes. */
static int
is_query_char(unsigned char c)
{
	return is_unreserved(c) || (c != '\0' && strchr("!$'()*+,=:[]@/?|", c) != NULL);
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Attribute names: RFC 7512 uses lower-case letters, digits and '-' (vendor ones "x-..."). */
static int
valid_attr_name(const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
			return 0;
	}
	return 1;
}

/*
 * Decodes the n bytes at p into out (at most cap bytes). query selects the character set.
 * Returns the decoded length, or -1 for bad syntax, -2 when over cap.
 */
static long
pct_decode(const char *p, size_t n, int query, uint8_t *out, size_t cap)
{
	size_t i, len = 0;
	int hi, lo;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			hi = hexval((unsigned char)p[i + 1]);
			lo = hexval((unsigned char)p[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (!(query ? is_query_char(c) : is_path_char(c))) {
			return -1;
		}
		if (len >= cap)
			return -2;
		if (out != NULL)
			out[len] = c;
		len++;
	}
	return (long)len;
}

/* Decodes a text value (token, object): no embedded NUL, NUL-terminated in out[cap + 1]. */
static int
decode_text(const char *name, const char *p, size_t n, char *out, size_t cap)
{
	long len;

	len = pct_decode(p, n, 0, (uint8_t *)out, cap);
	if (len == -2)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: %s is longer than %zu bytes", name, cap);
	if (len < 0)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: bad character or %%-escape in %s", name);
	if (memchr(out, '\0', (size_t)len) != NULL)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: %s contains a NUL byte", name);
	out[len] = '\0';
	return 0;
}

static int
parse_path_attr(const char *p, size_t n, struct tok_uri *u, unsigned *seen)
{
	const char *eq = memchr(p, '=', n);
	const char *v;
	size_t nlen, vlen;
	long len;
	char tbuf[16];

	if (eq == NULL)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: path attribute without '='");
	nlen = (size_t)(eq - p);
	v = eq + 1;
	vlen = n - nlen - 1;
	if (!valid_attr_name(p, nlen))
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: bad attribute name");
	if (nlen == 5 && memcmp(p, "token", 5) == 0) {
		if (*seen & SEEN_TOKEN)
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: token given twice");
		*seen |= SEEN_TOKEN;
		return decode_text("token", v, vlen, u->token, TOK_URI_TOKEN_MAX);
	}
	if (nlen == 6 && memcmp(p, "object", 6) == 0) {
		if (*seen & SEEN_OBJECT)
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: object given twice");
		*seen |= SEEN_OBJECT;
		return decode_text("object", v, vlen, u->object, TOK_URI_LABEL_MAX);
	}
	if (nlen == 2 && memcmp(p, "id", 2) == 0) {
		if (*seen & SEEN_ID)
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: id given twice");
		len = pct_decode(v, vlen, 0, u->id, TOK_URI_ID_MAX);
		if (len == -2)
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: id is longer than %d bytes", TOK_URI_ID_MAX);
		if (len < 0)
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: bad character or %%-escape in id");
		*seen |= SEEN_ID;
		u->id_len = (size_t)len;
		return 0;
	}
	if (nlen == 4 && memcmp(p, "type", 4) == 0) {
		if (*seen & SEEN_TYPE)
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: type given twice");
		*seen |= SEEN_TYPE;
		len = pct_decode(v, vlen, 0, (uint8_t *)tbuf, sizeof(tbuf) - 1);
		if (len < 0)
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: type must be private, public or cert");
		tbuf[len] = '\0';
		if (!valid_type(tbuf))
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: type must be private, public or cert");
		memcpy(u->type, tbuf, (size_t)len + 1);
		return 0;
	}
	/* Any other attribute (manufacturer, serial, slot-id, x-...): syntax only (RFC 7512 2.3). */
	if (pct_decode(v, vlen, 0, NULL, TOK_URI_MAX) < 0)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: bad character or %%-escape in an attribute");
	return 0;
}

/* The query (pin-source, module-path ...): "name=value" pairs separated by '&', syntax only. We
 * never take a PIN or a module from a stored key reference. */
static int
check_query(const char *p, size_t n)
{
	const char *end = p + n, *amp, *eq;
	size_t len;

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		len = amp != NULL ? (size_t)(amp - p) : (size_t)(end - p);
		eq = memchr(p, '=', len);
		if (eq == NULL || !valid_attr_name(p, (size_t)(eq - p)) ||
		    pct_decode(eq + 1, len - (size_t)(eq - p) - 1, 1, NULL, TOK_URI_MAX) < 0)
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: malformed query attribute");
		p += len + (amp != NULL ? 1 : 0);
		if (amp != NULL && p == end)
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: empty query attribute");
	}
	return 0;
}

int
tok_uri_parse(const char *s, struct tok_uri *out)
{
	const char *p, *end, *semi, *q;
	size_t n, len;
	unsigned seen = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: missing");
	n = strnlen(s, TOK_URI_MAX + 1);
	if (n > TOK_URI_MAX)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: longer than %d bytes", TOK_URI_MAX);
	/* RFC 3986 would allow "PKCS11:"; key references are ours and always lower case. */
	if (n < strlen(SCHEME) || strncmp(s, SCHEME, strlen(SCHEME)) != 0)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: the key reference does not start with pkcs11:");
	p = s + strlen(SCHEME);
	end = s + n;
	q = memchr(p, '?', (size_t)(end - p));
	if (q != NULL) {
		if ((rc = check_query(q + 1, (size_t)(end - q - 1))) != 0)
			goto fail;
		end = q;
	}
	while (p < end) {
		semi = memchr(p, ';', (size_t)(end - p));
		len = semi != NULL ? (size_t)(semi - p) : (size_t)(end - p);
		if (len == 0) {
			rc = err_set(HSMCA_E_INVALID, "pkcs11 URI: empty path attribute");
			goto fail;
		}
		if ((rc = parse_path_attr(p, len, out, &seen)) != 0)
			goto fail;
		p += len;
		if (semi != NULL) {
			p++;
			if (p == end) {
				rc = err_set(HSMCA_E_INVALID, "pkcs11 URI: trailing ';'");
				goto fail;
			}
		}
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return rc;
}

/* Appends "name=" and the %-encoded value; all_hex encodes every byte (used for id). */
static int
append_attr(char *buf, size_t cap, size_t *used, const char *name, const uint8_t *v, size_t vlen,
    int all_hex)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, need;

	need = (*used > strlen(SCHEME) ? 1 : 0) + strlen(name) + 1;
	if (*used + need >= cap)
		return -1;
	if (*used > strlen(SCHEME))
		buf[(*used)++] = ';';
	memcpy(buf + *used, name, strlen(name));
	*used += strlen(name);
	buf[(*used)++] = '=';
	for (i = 0; i < vlen; i++) {
		if (!all_hex && is_unreserved(v[i])) {
			if (*used + 1 >= cap)
				return -1;
			buf[(*used)++] = (char)v[i];
		} else {
			if (*used + 3 >= cap)
				return -1;
			buf[(*used)++] = '%';
			buf[(*used)++] = hex[v[i] >> 4];
			buf[(*used)++] = hex[v[i] & 0x0f];
		}
	}
	buf[*used] = '\0';
	return 0;
}

int
tok_uri_format(const struct tok_uri *u, char **out)
{
	char *buf = NULL, *small;
	size_t used, tlen, olen;
	int rc = HSMCA_E_INVALID;

	*out = NULL;
	if ((tlen = strnlen(u->token, sizeof(u->token))) > TOK_URI_TOKEN_MAX)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: token label too long");
	if ((olen = strnlen(u->object, sizeof(u->object))) > TOK_URI_LABEL_MAX)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: object label too long");
	if (u->id_len > TOK_URI_ID_MAX)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: id too long");
	if (strnlen(u->type, sizeof(u->type)) >= sizeof(u->type) || (u->type[0] != '\0' && !valid_type(u->type)))
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: type must be private, public or cert");
	if ((buf = malloc(TOK_URI_MAX + 1)) == NULL)
		return HSMCA_E_NOMEM;
	memcpy(buf, SCHEME, strlen(SCHEME) + 1);
	used = strlen(SCHEME);
	if (tlen > 0 && append_attr(buf, TOK_URI_MAX + 1, &used, "token", (const uint8_t *)u->token, tlen, 0) != 0)
		goto toolong;
	if (u->id_len > 0 && append_attr(buf, TOK_URI_MAX + 1, &used, "id", u->id, u->id_len, 1) != 0)
		goto toolong;
	if (olen > 0 && append_attr(buf, TOK_URI_MAX + 1, &used, "object", (const uint8_t *)u->object, olen, 0) != 0)
		goto toolong;
	if (u->type[0] != '\0' &&
	    append_attr(buf, TOK_URI_MAX + 1, &used, "type", (const uint8_t *)u->type, strlen(u->type), 0) != 0)
		goto toolong;
	/* Shrink the working buffer to the URI (keyrefs are kept in lists and rows). */
	small = realloc(buf, used + 1);
	*out = small != NULL ? small : buf;
	return 0;
toolong:
	rc = err_set(HSMCA_E_INVALID, "pkcs11 URI: longer than %d bytes", TOK_URI_MAX);
	free(buf);
	return rc;
}
