/*
 * issue.h: issuing end-entity (and sub-CA) certificates from a CA of the appliance.
 *
 * Flow (every issuance is an order):
 *   1. check everything that can be checked without writing: the CA (known, active, not expired),
 *      the CSR (csr.h: signature, key policy, SANs), the profile and the validity. Bad input fails
 *      here and the database is unchanged;
 *   2. insert the order ("processing") and commit it;
 *   3. build the TBSCertificate and have the token sign it with the CA key;
 *   4. in ONE transaction: the certificate row, the order "complete" and an audit row;
 *   5. only then hand the certificate out.
 * A failure in 3 or 4 marks the order "failed" with the error text.
 *
 * Certificates: serial = 16 random bytes (positive, unique in the database); notBefore = now
 * minus 5 minutes (clock skew of clients); notAfter = now + days, clipped to the CA's notAfter
 * (and notBefore never before the CA's notBefore); SKI, AKI, CRL distribution point <base>/crl/<slug>.crl, AIA caIssuers
 * <base>/ca/<slug>.crt and OCSP <base>/ocsp/<slug>, base = cfg.public_base_url.
 * Profiles:
 *   server  serverAuth; DNS and IP SANs of the CSR, or the CN as a DNS SAN when the CSR has no
 *           SAN and the CN looks like a host name; keyUsage digitalSignature + keyEncipherment
 *           (RSA) or digitalSignature (EC); basicConstraints CA:FALSE.
 *   client  clientAuth; DNS, IP and email SANs of the CSR; key usages as for server.
 *   subca   basicConstraints critical CA:TRUE, pathlen 0; keyUsage keyCertSign + cRLSign (+
 *           digitalSignature); no SANs. Refused when the CA itself has pathlen 0.
 */
#ifndef HSMCA_ISSUE_H
#define HSMCA_ISSUE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ctx.h"
#include "x509_build.h"

enum issue_profile {
	ISSUE_PROFILE_SERVER,
	ISSUE_PROFILE_CLIENT,
	ISSUE_PROFILE_SUBCA,
	ISSUE_PROFILE__MAX
};

#define ISSUE_MAX_DAYS 3650

/* "server", "client", "subca" <-> enum; HSMCA_E_INVALID naming the accepted values. */
int issue_profile_parse(const char *name, enum issue_profile *out);
const char *issue_profile_name(enum issue_profile p);

struct issue_req {
	const char *ca_slug;
	const uint8_t *csr_der;    /* DER (csr_to_der converts PEM) */
	size_t csr_len;
	enum issue_profile profile;
	int days;                  /* <= 0: cfg.default_leaf_days; at most ISSUE_MAX_DAYS */
	const char *requested_by;  /* "cli", "user:alice", "token:7", "scep:10.0.0.5"; NULL: "cli" */
	const char *order_type;    /* "csr" (NULL), "scep", "renewal" */
	const char *ip;            /* requester's address for the audit row, or NULL */
};

struct issue_result {
	int64_t certificate_id;
	int64_t order_id;
	char serial[X509B_SERIAL_HEX];   /* uppercase hex */
	struct buf cert_der;             /* owned: issue_result_free */
	char *keyref;                    /* issue_with_token_key only: the key's URI; owned */
};

void issue_result_free(struct issue_result *res);

/* Issues from a PKCS#10 CSR (see above). res is cleared on entry; on success the certificate is
 * committed in the database before this returns. HSMCA_E_NOTFOUND (unknown CA),
 * HSMCA_E_INVALID/HSMCA_E_POLICY (CSR, profile, validity), HSMCA_E_TOKEN, HSMCA_E_DB. */
int issue_from_csr(struct hsmca_ctx *ctx, const struct issue_req *req, struct issue_result *res);

struct issue_key_req {
	const char *ca_slug;
	const char *key_spec;            /* "rsa-2048" ... "ec-384" */
	const char *key_label;           /* CKA_LABEL of the new key */
	const char *subject;             /* "CN=x,O=y" or "/CN=x/O=y" */
	const char *const *sans;         /* "DNS:x", "IP:y"; may be NULL */
	size_t n_sans;
	enum issue_profile profile;
	int days;
	const char *requested_by;
	const char *ip;
};

/* Server-side key generation: an EXPORTABLE key pair on the token (for a later PFX), a CSR made
 * by the token with it, then the same path as issue_from_csr with order type "local"; the
 * keyref is stored on the certificate row and returned in res->keyref. The key is deleted again
 * when issuance fails. */
int issue_with_token_key(struct hsmca_ctx *ctx, const struct issue_key_req *req, struct issue_result *res);

#endif
