/*
 * slug.h: a CA's URL name, derived from its display name. PURE.
 *
 * Rule: ASCII letters are lowercased, digits kept, every other byte (space, punctuation,
 * non-ASCII UTF-8) becomes '-', runs of '-' collapse to one, and leading/trailing '-' are
 * trimmed. "Test Root" -> "test-root", "ACME  Issuing CA #2" -> "acme-issuing-ca-2".
 * Duplicates are refused by the caller (HSMCA_E_EXISTS) rather than suffixed with "-2": a slug
 * is part of every CDP/AIA URL baked into certificates, so it must be predictable from the name.
 */
#ifndef HSMCA_SLUG_H
#define HSMCA_SLUG_H

#include <stddef.h>

#define SLUG_MAX 64   /* including the NUL */

/* Writes the slug of name into out. HSMCA_E_INVALID when nothing is left (name without a letter
 * or digit) or the slug would exceed SLUG_MAX - 1 characters. */
int slug_from_name(const char *name, char out[SLUG_MAX]);

/* 1 when s is a well-formed slug ([a-z0-9] runs joined by single '-', 1..SLUG_MAX-1 chars). */
int slug_valid(const char *s);

/*
 * A CA key generation's file name in CRL and CA-certificate URLs (ca_rollover.h): generation 1
 * (the CA's first key) is the slug itself, generation N >= 2 is "<slug>.g<N>". The '.' cannot
 * occur in a slug, so no CA's name can collide with another CA's generation (a "-g2" suffix
 * would: "Acme Root G2" is a common CA name). SLUG_GEN_MAX includes the NUL.
 */
#define SLUG_GEN_MAX (SLUG_MAX + 24)
void slug_gen_name(const char *slug, long long gen, char out[SLUG_GEN_MAX]);

/* Splits a URL file name made by slug_gen_name into the slug (out) and the generation. Only the
 * canonical form is accepted (no ".g1", no leading zeros); 0 on success, HSMCA_E_NOTFOUND for
 * anything else (a malformed name names no CA). */
int slug_gen_parse(const char *name, char slug[SLUG_MAX], long long *gen);

#endif
