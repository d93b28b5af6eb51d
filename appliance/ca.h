/*
 * ca.h: certificate authorities of the appliance: create a root, create an intermediate under
 * another CA of the appliance, import an external CA, list, look up, chain.
 *
 * Keys live on the token only (tok.h): a created CA's key is generated there, non-exportable,
 * with label "ca-<slug>"; an imported key is stored there sensitive and non-extractable.
 * Each creation writes the cas row and an audit row "ca.created" in ONE transaction; when that
 * fails, a key this call put on the token is deleted again, so nothing is half-written.
 * Slugs: see slug.h; a name or slug already in use is refused with HSMCA_E_EXISTS.
 * Returned struct db_ca records are owned by the caller (db_ca_free).
 */
#ifndef HSMCA_CA_H
#define HSMCA_CA_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "buf.h"
#include "ctx.h"
#include "db_cas.h"
#include "x509_build.h"

struct db;
struct tok;

#define CA_ROOT_DEFAULT_DAYS 3650
#define CA_INTERMEDIATE_DEFAULT_DAYS 1825
#define CA_ROOT_DEFAULT_KEY "ec-384"
#define CA_INTERMEDIATE_DEFAULT_KEY "rsa-2048"
#define CA_NAME_MAX 64            /* it becomes the CN: ub-common-name */
#define CA_MAX_DAYS 36500
#define CA_CHAIN_MAX 16           /* a deeper parent chain is a loop or a corrupt database */

struct ca_create_req {
	const char *name;         /* display name and subject CN; 1..CA_NAME_MAX characters */
	const char *key_spec;     /* "rsa-2048" ... "ec-384"; NULL: the default for the kind */
	int days;                 /* <= 0: the default for the kind */
	const char *parent_slug;  /* intermediates only */
	int pathlen;              /* < 0: none (root default); intermediates use 0 when < 0 */
	const char *actor;        /* audit actor; NULL: "cli" */
};

/* Self-signed root: basicConstraints critical CA:TRUE (no pathlen unless req->pathlen >= 0),
 * keyUsage critical keyCertSign, cRLSign, digitalSignature; SKI. */
int ca_create_root(struct hsmca_ctx *ctx, const struct ca_create_req *req, struct db_ca **out);

/*
 * Intermediate signed by the CA req->parent_slug (HSMCA_E_NOTFOUND if unknown; HSMCA_E_POLICY
 * when the parent may not sign CAs (pathlen 0) or has expired). Validity is clipped to the
 * parent's notAfter. Extensions as a root plus pathlen (default 0), AKI, CDP and AIA
 * caIssuers of the parent. The intermediate's certificate is also stored in certificates (profile
 * "subca", issued by the parent) so the parent can revoke it.
 */
int ca_create_intermediate(struct hsmca_ctx *ctx, const struct ca_create_req *req, struct db_ca **out);

struct ca_import_req {
	const char *name;
	const uint8_t *cert; size_t cert_len;        /* PEM or DER CA certificate */
	/* exactly one key source: */
	const uint8_t *key_pem; size_t key_pem_len;  /* unencrypted PEM private key */
	const uint8_t *p12; size_t p12_len;          /* PKCS#12 with p12_password */
	const char *p12_password;
	const char *keyref;                          /* a key already on the token */
	const char *actor;                           /* NULL: "cli" */
};

/*
 * Imports an external CA. Refuses a certificate that is not a CA (no basicConstraints CA:TRUE, or
 * a keyUsage without keyCertSign) or has expired, and a key whose public key (tok_public_key)
 * differs from the certificate's (HSMCA_E_POLICY "does not match"). When the issuer is one of
 * the appliance's CAs (signature verifies with its current key or one a rollover retired), it
 * becomes the parent.
 */
int ca_import(struct hsmca_ctx *ctx, const struct ca_import_req *req, struct db_ca **out);

/* All CAs by id; free with db_ca_list_free(). */
int ca_list(struct hsmca_ctx *ctx, struct db_ca ***cas, size_t *n);

/* HSMCA_E_NOTFOUND ("unknown CA 'x'") when absent. */
int ca_get_by_slug(struct hsmca_ctx *ctx, const char *slug, struct db_ca **out);
int ca_get_by_id(struct hsmca_ctx *ctx, int64_t id, struct db_ca **out);

/* The DER certificates from ca up to its root (as far as parents are known to the appliance):
 * (*ders)[0] is ca's own, then each parent's certificate whose key signed the one before it
 * (current or retired by a rollover: ca_rollover_issuer_cert). Caller frees with
 * ca_chain_free(*ders, *n). */
int ca_chain(struct hsmca_ctx *ctx, const struct db_ca *ca, struct buf **ders, size_t *n);
void ca_chain_free(struct buf *ders, size_t n);

/* Shared with issue.c. A random serial (x509b_random_serial) not yet used in certificates;
 * retries a few times on the (2^-127) chance of a collision. */
int ca_new_serial(struct db *db, ASN1_INTEGER **serial, char hex[X509B_SERIAL_HEX]);

/*
 * The CA's certificate as an X509, decoded once per process and shared (OpenSSL 3 spends more
 * on decoding a certificate's public key than on an ECDSA signature). *out takes a reference:
 * the caller frees it with X509_free and must not modify it. HSMCA_E_INVALID when the stored DER
 * does not parse.
 *
 * The cache is keyed by the certificate's bytes, not by the CA alone: a hit is exactly what
 * parsing ca->cert_der would give, so a rolled-over or re-imported CA can never be served its
 * old certificate, and nothing needs invalidating. It holds no status: callers read the CA row
 * (status, validity) every time, so a revoked or disabled CA is refused as before. One slot per
 * CA id (at most CA_CERT_CACHE_SLOTS CAs; beyond that the oldest slot is reused), guarded by a
 * mutex held only for the lookup: thread-safe, and safe in the single-threaded CLI.
 */
#define CA_CERT_CACHE_SLOTS 64
int ca_cert_get(const struct db_ca *ca, X509 **out);

/* The extensions of a CA certificate (shared by CA creation and rollover): basicConstraints
 * critical CA:TRUE (with pathlen when >= 0), keyUsage critical keyCertSign + cRLSign +
 * digitalSignature, SKI; for an intermediate (parent != NULL) also the AKI of parent_cert and the
 * parent's CRL distribution point and AIA under base_url. */
int ca_add_ca_extensions(X509 *tbs, long pathlen, const char *base_url, const struct db_ca *parent,
    X509 *parent_cert);

/*
 * rc of a token operation with a key of ca (keyref: its current key, or a key generation a
 * rollover retired). HSMCA_E_NOTFOUND, the key is not on the token (deleted behind the
 * appliance's back), becomes HSMCA_E_CONFLICT with a detail naming the CA and the key: retrying
 * cannot help, an administrator must restore the key or delete the CA. Every other code,
 * genuine token failures included, is returned unchanged with its detail.
 */
int ca_key_error(const struct db_ca *ca, const char *keyref, int rc);

/* Shared with issue.c. Takes cert's TBS DER (placeholder algorithm for key_spec), has the token
 * sign it with keyref, parses the result and checks its signature with verify_key (the issuer's
 * public key), so a token fault never yields a certificate that does not verify.
 * *der and *signed_cert belong to the caller (buf_free, X509_free). */
int ca_sign(struct tok *tok, const char *keyref, const char *key_spec, X509 *cert, EVP_PKEY *verify_key,
    struct buf *der, X509 **signed_cert);

/* As ca_sign for callers that need only the DER (issue.c): the result is checked with
 * x509b_check_signed (the token signed exactly cert's TBS, and the signature verifies with
 * verify_key) instead of being decoded, and digest gets its digest name ("sha256"). Every other
 * field of the certificate is cert's own. *der belongs to the caller (buf_free). */
int ca_sign_der(struct tok *tok, const char *keyref, const char *key_spec, X509 *cert, EVP_PKEY *verify_key,
    struct buf *der, char *digest, size_t digestsz);

#endif
