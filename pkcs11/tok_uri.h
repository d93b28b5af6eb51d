/*
 * tok_uri.h: RFC 7512 "pkcs11:" URIs, the key references hsmca stores in its database.
 *
 * Pure: bytes in, struct out; no I/O, no globals, no token. Unit-tested and fuzzed directly.
 * Only the path attributes hsmca uses are kept (token, id, object, type); other path attributes
 * (manufacturer, serial, slot-id, vendor "x-" ones) and the query part are checked for syntax and
 * otherwise ignored, as RFC 7512 section 2.3 allows.
 */
#ifndef HSMCA_TOK_URI_H
#define HSMCA_TOK_URI_H

#include <stddef.h>
#include <stdint.h>

#define TOK_URI_MAX        2048  /* longest URI accepted or produced, in bytes */
#define TOK_URI_TOKEN_MAX  32    /* CK_TOKEN_INFO.label is 32 bytes */
#define TOK_URI_LABEL_MAX  128   /* our cap on an object label (CKA_LABEL) */
#define TOK_URI_ID_MAX     64    /* our cap on CKA_ID */

/* A parsed URI. A text field is "" when the attribute is absent (an empty value, "token=", reads
 * the same); id_len is 0 when there is no id. */
struct tok_uri {
	char token[TOK_URI_TOKEN_MAX + 1];    /* decoded, no embedded NUL */
	char object[TOK_URI_LABEL_MAX + 1];   /* decoded, no embedded NUL */
	char type[16];                        /* "private", "public", "cert" or "" */
	unsigned char id[TOK_URI_ID_MAX];     /* decoded, binary */
	size_t id_len;
};

/*
 * Parses a NUL-terminated URI into *out (cleared first, and again on failure). HSMCA_E_INVALID,
 * with a detail starting "pkcs11 URI:" and naming the attribute, for: a missing "pkcs11:" scheme
 * (lower case, as hsmca writes it), a URI over TOK_URI_MAX, a bad %-escape, a
 * character RFC 7512 does not allow unescaped, an attribute without '=', a repeated attribute, a
 * value over its cap, a NUL inside token or object, a type other than private/public/cert.
 */
int tok_uri_parse(const char *s, struct tok_uri *out);

/*
 * Formats u as "pkcs11:token=..;id=..;object=..;type=.." (empty fields left out),
 * every byte outside RFC 3986 "unreserved" %-encoded, the id fully %-encoded. *out is malloc'd,
 * caller frees with free(). HSMCA_E_INVALID when a field is over its cap or the result would
 * exceed TOK_URI_MAX, or type is not "", "private", "public" or "cert".
 */
int tok_uri_format(const struct tok_uri *u, char **out);

#endif
