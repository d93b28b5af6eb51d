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
 * A failure in 3 or 4 marks the order "failed" with the error text. Two commits per certificate:
 * the order in 2, everything else in 4. issue_from_csr runs the whole flow; the staged functions
 * below run it step by step for a caller (SCEP) that records its own rows in those same two
 * commits instead of adding commits of its own.
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
#include "csr.h"
#include "ctx.h"
#include "db_cas.h"
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
	const struct db_ca *ca;    /* or the CA row the caller has just read (borrowed); then ca_slug
	                              is not looked up */
	const uint8_t *csr_der;    /* DER (csr_to_der converts PEM) */
	size_t csr_len;
	const struct csr *csr;     /* or a CSR already through csr_parse (borrowed: the caller frees
	                              it after the issuance); then csr_der is not read */
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

/*
 * Staged issuance: issue_from_csr's steps for a caller that adds rows to its transactions.
 *
 *   issue_job_new    step 1: every check, nothing written. req and all it points to are
 *                    borrowed until issue_job_free. *job: issue_job_free().
 *   issue_job_open   step 2 INSIDE the caller's transaction (db_begin): the order "processing";
 *                    the caller commits before issue_job_sign. *order_id: the order.
 *   issue_job_sign   step 3, outside any transaction: the token signs. *cert_der and *serial
 *                    are the job's (valid until issue_job_free), for preparing an answer that
 *                    must not leave before issue_job_store returned 0.
 *   issue_job_store  steps 4-5 in its own transaction: the certificate row, the order
 *                    "complete", the audit row, then hook(arg, db, res) for the caller's rows
 *                    (res has every field but cert_der yet); a non-zero hook rolls it all back.
 *                    The commit does not wait for the disk; the WAL is synced right after it,
 *                    outside the write lock (db_sync). Only after the sync is res filled
 *                    (cert_der moved out of the job).
 * A failure of sign or store (hook and commit included) marks the order "failed" and returns the
 * error. A failed sync after the commit returns the error too (the certificate must not be
 * handed out) but leaves the committed rows as they are. A job given up between open and store (issue_job_free) leaves its order "processing",
 * as a crash would: call issue_job_abandon first to mark it failed.
 */
struct issue_job;
typedef int (*issue_store_hook)(void *arg, struct db *db, const struct issue_result *res);

int issue_job_new(struct hsmca_ctx *ctx, const struct issue_req *req, struct issue_job **job);
int issue_job_open(struct hsmca_ctx *ctx, struct issue_job *job, int64_t *order_id);
int issue_job_sign(struct hsmca_ctx *ctx, struct issue_job *job, const struct buf **cert_der,
    const char **serial);
int issue_job_store(struct hsmca_ctx *ctx, struct issue_job *job, issue_store_hook hook, void *arg,
    struct issue_result *res);
void issue_job_abandon(struct hsmca_ctx *ctx, struct issue_job *job, const char *why);
void issue_job_free(struct issue_job *job);

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
