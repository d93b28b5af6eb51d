/*
 * tok_uri.h: PURE RFC 7512 pkcs11: URI parsing and formatting, for key references.
 *
 * Only the path attributes hsmca uses are kept (token, id, object, type); other path attributes
 * are accepted and ignored as RFC 7512 §2.3 allows, query attributes are ignored. Every value is
 * bounded; percent-encoding is decoded strictly (two hex digits) and values may not contain NUL.
 */
#ifndef HSMCA_TOK_URI_H
#define HSMCA_TOK_URI_H

#include <stddef.h>

#define TOK_URI_MAX 1024
#define TOK_URI_ID_MAX 64
#define TOK_URI_LABEL_MAX 128

struct tok_uri {
	char token[TOK_URI_LABEL_MAX + 1];   /* "" when absent */
	char object[TOK_URI_LABEL_MAX + 1];  /* "" when absent */
	char type[16];                       /* "private", "public", "cert", "secret-key", "data" or "" */
	unsigned char id[TOK_URI_ID_MAX];
	size_t id_len;                       /* 0 when absent */
};

/* 0 or HSMCA_E_INVALID with a detail naming the problem. */
int tok_uri_parse(const char *uri, struct tok_uri *out);

/* Formats u as "pkcs11:token=...;id=...;object=...;type=..." (empty fields left out), with every
 * byte outside RFC 3986 unreserved characters percent-encoded. *out: caller frees with free(). */
int tok_uri_format(const struct tok_uri *u, char **out);

#endif
