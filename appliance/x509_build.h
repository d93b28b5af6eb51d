/*
 * x509_build.h: helpers to build a TBSCertificate and describe certificates. PURE: OpenSSL
 * objects in, objects or text out; no I/O, database or token (RAND_bytes is the only entropy).
 *
 * Callers (ca.c, issue.c) assemble an X509 with these, take its TBS DER with x509b_tbs_der()
 * and hand that to tok_sign_certificate(): the key never enters this file.
 * Every function returns 0 or a negative HSMCA_E_* with a detail; out-parameters are owned by
 * the caller as stated.
 */
#ifndef HSMCA_X509_BUILD_H
#define HSMCA_X509_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"

#define X509B_SERIAL_BYTES 16
#define X509B_SERIAL_HEX (2 * X509B_SERIAL_BYTES + 1)
#define X509B_SHA256_HEX 65
/* Clock skew allowance: notBefore is backdated so that a client whose clock is a little behind
 * does not reject a certificate issued "in the future". */
#define X509B_BACKDATE_SECONDS (5 * 60)

/* 16 random bytes, top bit cleared (a positive INTEGER) and a non-zero first byte (so the DER
 * INTEGER keeps all 16 bytes: no leading-zero trimming). hex gets the uppercase hex. */
int x509b_random_serial(ASN1_INTEGER **serial, char hex[X509B_SERIAL_HEX]);

/* Uppercase hex of a serial, no colons (at most 20 bytes as RFC 5280 allows; HSMCA_E_INVALID
 * otherwise). */
int x509b_serial_hex(const ASN1_INTEGER *serial, char *out, size_t outsz);

/* RFC 2253 text (UTF-8 kept). Caller frees *out with free(). */
int x509b_name_text(const X509_NAME *name, char **out);

/* The last CN of name as UTF-8, or *out = NULL when there is none. Caller frees with free(). */
int x509b_name_cn(const X509_NAME *name, char **out);

/* "DNS:x", "IP:192.0.2.1", "IP:2001:db8::1", "email:x", "URI:x"; HSMCA_E_INVALID for others. */
int x509b_general_name_text(const GENERAL_NAME *gn, char *out, size_t outsz);

/* JSON array text of the names' x509b_general_name_text (NULL or empty: "[]"). free(). */
int x509b_sans_json(const GENERAL_NAMES *names, char **out);

/* "rsa-2048", "ec-256", "ec-384", "ec-521", "ed25519", ... */
int x509b_key_algorithm(const EVP_PKEY *pk, char *out, size_t outsz);

/* Lowercase hex SHA-256 of der. */
int x509b_sha256_hex(const uint8_t *der, size_t len, char out[X509B_SHA256_HEX]);

/* An ASN1_TIME as milliseconds since the epoch. */
int x509b_time_ms(const ASN1_TIME *t, int64_t *ms);

/* Adds one extension from OpenSSL's config syntax ("critical,CA:TRUE", "serverAuth", ...).
 * issuer may be NULL. Only for values built by us, never from client input. */
int x509b_add_ext(X509 *cert, X509 *issuer, int nid, const char *value);

/* SKI = SHA-1 of the certificate's subjectPublicKey (RFC 5280 4.2.1.2 method 1). */
int x509b_add_ski(X509 *cert);

/* AKI keyIdentifier = the issuer's SKI, or SHA-1 of the issuer's key when it has none. */
int x509b_add_aki(X509 *cert, const X509 *issuer);

/* 1 when url is usable in certificate URLs: http:// or https://, then printable ASCII without
 * spaces, commas, quotes or backslashes (commas would split OpenSSL's extension syntax). */
int x509b_url_ok(const char *url);

/*
 * CRL distribution point <base>/crl/<name>.crl and AIA caIssuers <base>/ca/<name>.crt, plus
 * AIA OCSP <base>/ocsp/<slug> when with_ocsp. slug is the ISSUER's slug and key_gen the
 * generation of the issuer key that signs (db_ca.key_gen); name is slug_gen_name(slug, key_gen):
 * the slug for generation 1, "<slug>.g<N>" after a rollover, so each key keeps its own CRL and
 * certificate URL. A trailing '/' on base is ignored. HSMCA_E_INVALID when base fails
 * x509b_url_ok.
 */
int x509b_add_ca_urls(X509 *cert, const char *base_url, const char *issuer_slug, int64_t key_gen,
    int with_ocsp);

/*
 * DER of the TBSCertificate. Sets the TBS signature AlgorithmIdentifier to a placeholder that
 * fits key_spec ("rsa-*": sha256WithRSAEncryption, "ec-256": ecdsa-with-SHA256, "ec-384":
 * ecdsa-with-SHA384); tok_sign_certificate() replaces it with the one it really uses.
 */
int x509b_tbs_der(X509 *cert, const char *key_spec, struct buf *out);

/* A fresh v3 certificate skeleton: serial (copied), subject and issuer names (copied), validity
 * [not_before, not_after] in seconds since the epoch, and the public key pub (reference taken).
 * Extensions are added by the caller. Caller frees *out with X509_free(). */
int x509b_new_cert(const ASN1_INTEGER *serial, const X509_NAME *subject, const X509_NAME *issuer,
    int64_t not_before, int64_t not_after, EVP_PKEY *pub, X509 **out);

/* As x509b_new_cert, with the subject's SubjectPublicKeyInfo copied as it is (algorithm, its
 * parameters and the key bits) instead of re-encoded from an EVP_PKEY. Same DER for the keys we
 * accept, without OpenSSL 3's encoder round trip (the costliest step of building a TBS): use it
 * when the key comes from a parsed CSR. spki is only read. */
int x509b_new_cert_spki(const ASN1_INTEGER *serial, const X509_NAME *subject, const X509_NAME *issuer,
    int64_t not_before, int64_t not_after, const X509_PUBKEY *spki, X509 **out);

/* Parses DER as one certificate with no trailing bytes. Caller frees with X509_free(). */
int x509b_parse_cert(const uint8_t *der, size_t len, X509 **out);

/* PEM or DER certificate (first PEM CERTIFICATE block, or the whole input as DER) to X509. */
int x509b_read_cert(const uint8_t *data, size_t len, X509 **out);

/* The signature's digest ("sha256", "sha384", ...). */
int x509b_digest_name(const X509 *cert, char *out, size_t outsz);

/*
 * Checks a signed Certificate DER without decoding it into an X509 (d2i_X509 decodes the public
 * key through OpenSSL 3's provider decoders, which costs more than an ECDSA signature): the DER
 * is exactly SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING } with no trailing bytes, its
 * TBSCertificate is byte for byte tbs, the algorithm is one we sign with (sha256WithRSA,
 * ecdsa-with-SHA256/384) and the signature verifies with pub. digest gets the digest's name as
 * x509b_digest_name gives it. HSMCA_E_INVALID when any of it fails.
 */
int x509b_check_signed(const uint8_t *der, size_t len, const struct buf *tbs, EVP_PKEY *pub, char *digest,
    size_t digestsz);

/* PEM text of a DER certificate, appended to out (a growing, NUL-terminated string). */
int x509b_der_to_pem(const uint8_t *der, size_t len, struct buf *out);

#endif
