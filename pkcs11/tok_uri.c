/*
 * tok_uri.c: RFC 7512 pkcs11: URIs (see tok_uri.h). Pure: no I/O, no globals.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "tok_uri.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes v[0..n) into out (cap bytes); NUL bytes refused for text fields. */
static int
pct_decode(const char *v, size_t n, unsigned char *out, size_t cap, size_t *out_len, int text, const char *attr)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '%') {
			if (i + 2 >= n)
				return err_set(HSMCA_E_INVALID, "pkcs11 URI: truncated %%-escape in '%s'", attr);
			hi = hexval(v[i + 1]);
			lo = hexval(v[i + 2]);
			if (hi < 0 || lo < 0)
				return err_set(HSMCA_E_INVALID, "pkcs11 URI: bad %%-escape in '%s'", attr);
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c < 0x21 || c > 0x7e) {
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: raw control or non-ASCII byte in '%s'", attr);
		}
		if (text && c == '\0')
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: NUL byte in '%s'", attr);
		if (o >= cap)
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: '%s' is too long", attr);
		out[o++] = c;
	}
	*out_len = o;
	return 0;
}

static int
set_text(char *field, size_t cap, const char *v, size_t n, const char *attr)
{
	size_t len;
	int rc;

	rc = pct_decode(v, n, (unsigned char *)field, cap - 1, &len, 1, attr);
	if (rc != 0)
		return rc;
	field[len] = '\0';
	return 0;
}

int
tok_uri_parse(const char *uri, struct tok_uri *out)
{
	const char *p, *end, *attr_end, *eq;
	size_t len;
	int rc, seen_token = 0, seen_id = 0, seen_object = 0, seen_type = 0;

	memset(out, 0, sizeof(*out));
	if (uri == NULL)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: missing");
	len = strnlen(uri, TOK_URI_MAX + 1);
	if (len > TOK_URI_MAX)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: longer than %d characters", TOK_URI_MAX);
	if (strncmp(uri, "pkcs11:", 7) != 0)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: must start with 'pkcs11:'");
	p = uri + 7;
	end = strchr(p, '?');
	if (end == NULL)
		end = uri + len;
	while (p < end) {
		attr_end = memchr(p, ';', (size_t)(end - p));
		if (attr_end == NULL)
			attr_end = end;
		eq = memchr(p, '=', (size_t)(attr_end - p));
		if (eq == NULL || eq == p)
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: path attribute without 'name=value'");
#define IS(name) ((size_t)(eq - p) == strlen(name) && strncmp(p, name, strlen(name)) == 0)
		if (IS("token")) {
			if (seen_token++)
				return err_set(HSMCA_E_INVALID, "pkcs11 URI: 'token' given twice");
			rc = set_text(out->token, sizeof(out->token), eq + 1, (size_t)(attr_end - eq - 1), "token");
		} else if (IS("object")) {
			if (seen_object++)
				return err_set(HSMCA_E_INVALID, "pkcs11 URI: 'object' given twice");
			rc = set_text(out->object, sizeof(out->object), eq + 1, (size_t)(attr_end - eq - 1), "object");
		} else if (IS("type")) {
			if (seen_type++)
				return err_set(HSMCA_E_INVALID, "pkcs11 URI: 'type' given twice");
			rc = set_text(out->type, sizeof(out->type), eq + 1, (size_t)(attr_end - eq - 1), "type");
			if (rc == 0 && strcmp(out->type, "private") != 0 && strcmp(out->type, "public") != 0 &&
			    strcmp(out->type, "cert") != 0 && strcmp(out->type, "secret-key") != 0 &&
			    strcmp(out->type, "data") != 0)
				rc = err_set(HSMCA_E_INVALID, "pkcs11 URI: unknown type '%s'", out->type);
		} else if (IS("id")) {
			if (seen_id++)
				return err_set(HSMCA_E_INVALID, "pkcs11 URI: 'id' given twice");
			rc = pct_decode(eq + 1, (size_t)(attr_end - eq - 1), out->id, sizeof(out->id), &out->id_len, 0, "id");
		} else {
			rc = 0;   /* RFC 7512: unknown path attributes are ignored by the consumer */
		}
#undef IS
		if (rc != 0)
			return rc;
		p = attr_end < end ? attr_end + 1 : end;
	}
	return 0;
}

static int
pct_append(char *out, size_t cap, size_t *used, const unsigned char *v, size_t n, int encode_all)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = v[i];
		int plain = !encode_all && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~');

		if (*used + 4 > cap)
			return err_set(HSMCA_E_INVALID, "pkcs11 URI: too long");
		if (plain) {
			out[(*used)++] = (char)c;
		} else {
			out[(*used)++] = '%';
			out[(*used)++] = hex[c >> 4];
			out[(*used)++] = hex[c & 15];
		}
	}
	out[*used] = '\0';
	return 0;
}

static int
attr_append(char *out, size_t cap, size_t *used, const char *name, const unsigned char *v, size_t n,
    int encode_all)
{
	size_t name_len = strlen(name);

	if (*used + name_len + 3 > cap)
		return err_set(HSMCA_E_INVALID, "pkcs11 URI: too long");
	if (out[*used - 1] != ':')
		out[(*used)++] = ';';
	memcpy(out + *used, name, name_len);
	*used += name_len;
	out[(*used)++] = '=';
	return pct_append(out, cap, used, v, n, encode_all);
}

int
tok_uri_format(const struct tok_uri *u, char **out)
{
	char buf[TOK_URI_MAX + 1];
	size_t used = 7;
	int rc = 0;

	*out = NULL;
	memcpy(buf, "pkcs11:", 8);
	if (u->token[0] != '\0')
		rc = attr_append(buf, sizeof(buf), &used, "token", (const unsigned char *)u->token, strlen(u->token), 0);
	if (rc == 0 && u->id_len > 0)
		rc = attr_append(buf, sizeof(buf), &used, "id", u->id, u->id_len, 1);
	if (rc == 0 && u->object[0] != '\0')
		rc = attr_append(buf, sizeof(buf), &used, "object", (const unsigned char *)u->object, strlen(u->object), 0);
	if (rc == 0 && u->type[0] != '\0')
		rc = attr_append(buf, sizeof(buf), &used, "type", (const unsigned char *)u->type, strlen(u->type), 0);
	if (rc != 0)
		return rc;
	*out = strdup(buf);
	return *out == NULL ? HSMCA_E_NOMEM : 0;
}
