/*
 * csr.h: PKCS#10 certificate requests: parse, verify, policy. PURE (bytes in, struct out; no
 * I/O, globals, database or token), so unit tests and fuzz_csr link it directly.
 *
 * Policy applied by csr_parse():
 *   - DER only, exactly one CertificationRequest, no trailing bytes, at most CSR_MAX_BYTES;
 *   - version 1 (0); the signature verifies with the enclosed public key;
 *   - keys: RSA 2048..8192 bits, EC P-256 or P-384 (named curves); anything else (RSA-PSS keys,
 *     Ed25519, Ed448, other curves, explicit curve parameters, DSA, ...) is refused with a message
 *     naming the key; the key must be DER (RSA: a positive odd modulus, an odd exponent of 3 up
 *     to 256 bits, nothing after the RSAPublicKey; EC: a point on the named curve);
 *   - subjectAltName from the extensionRequest: DNS (syntax-checked), IP (v4/v6), email and URI;
 *     other name types and a repeated SAN extension are refused; at most CSR_MAX_SANS;
 *   - a subject or at least one SAN must be present.
 * Other requested extensions are ignored: the profile decides the certificate's extensions.
 * Refusals return HSMCA_E_INVALID (malformed) or HSMCA_E_POLICY (well-formed but refused) with
 * a one-line detail that starts with "CSR".
 */
#ifndef HSMCA_CSR_H
#define HSMCA_CSR_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"

#define CSR_MAX_BYTES (64 * 1024)
#define CSR_MAX_SANS 100

enum csr_key_type {
	CSR_KEY_RSA,
	CSR_KEY_EC,
	CSR_KEY__MAX
};

struct csr {
	X509_REQ *req;              /* owned; signature verified. Its X509_PUBKEY holds the key as
	                             * sent but is not decoded (X509_REQ_get0_pubkey answers NULL):
	                             * use pkey */
	EVP_PKEY *pkey;             /* owned; the public key of req, checked against the policy */
	char *subject;              /* RFC 2253 (UTF-8), "" for an empty subject */
	char *common_name;          /* UTF-8 CN (the last one), or NULL */
	enum csr_key_type key_type;
	int key_bits;               /* RSA modulus bits, EC field bits */
	char key_algorithm[16];     /* "rsa-2048", "ec-256", "ec-384" */
	GENERAL_NAMES *sans;        /* owned; checked DNS/IP/email/URI names; may be empty, never NULL */
	char *challenge;            /* challengePassword (UTF-8) or NULL; wiped on free; never log it */
};

/* Parses and checks DER (see above). *out is owned by the caller: csr_free(). Thread-safe. */
int csr_parse(const uint8_t *der, size_t len, struct csr **out);
void csr_free(struct csr *csr);

/* Accepts a CSR as PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST") or DER and gives its
 * DER in der (caller frees with buf_free). Does not check the DER itself: csr_parse does. */
int csr_to_der(const uint8_t *data, size_t len, struct buf *der);

/* 1 when name is an acceptable DNS name for a certificate: LDH labels of 1..63 characters joined
 * by dots, 253 characters at most, optionally "*." as the whole first label, not all-numeric at
 * the end (so "10.0.0.1" is not a host name). */
int csr_dns_name_ok(const char *name, size_t len);

#endif
