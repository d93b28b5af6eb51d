/*
 * ca_rollover.h: CA certificate rollover (RFC 8894 §4.7 GetNextCACert; issue #6).
 *
 * A rollover gives a CA a NEW non-extractable key pair on the token and a "next" certificate with
 * the SAME subject (self-signed for a root, signed by the parent's token key for an
 * intermediate), valid from now, plus a next SCEP RA (RSA-2048 on the token, issued by the next
 * key) so clients that fetched the next chain with GetNextCACert can verify CertReps after the
 * switch. The pair waits in ca_next (db_cas.h) until an administrator activates it (the CA then
 * signs new certificates and CRLs with the new key; the old certificate, key and RA move to
 * ca_cert_history) or cancels it (keys deleted from the token, row deleted, an intermediate's
 * next certificate revoked at its parent: cessationOfOperation).
 *
 * Consistency: keys are made first, then certificates, then ONE transaction writes the ca_next
 * row (with, for an intermediate, the next certificate in the parent's inventory) and the audit
 * row; any failure before that commit deletes the keys this call made. A process that dies
 * between key generation and commit leaves only unnamed keys on the token (labels
 * "ca-<slug>-next", "ra-<slug>-next"), never a row without its key.
 *
 * Audit events: ca.rollover.created, ca.rollover.activated, ca.rollover.cancelled.
 * Errors: HSMCA_E_CONFLICT (a rollover is already pending), HSMCA_E_NOTFOUND (none pending),
 * HSMCA_E_POLICY (the CA cannot roll over here: retired, an imported CA whose issuer is not on
 * this appliance, a parent that expired or may not sign CAs), HSMCA_E_INVALID (bad key or days),
 * HSMCA_E_TOKEN, HSMCA_E_DB.
 *
 * Key generations (db.c migration 5): a CA's first key is generation 1; each activation retires
 * the current key to ca_cert_history with its generation and makes the next one current with
 * generation + 1. Old keys stay on the token and go on serving what they issued, as Microsoft AD
 * CS does after a key renewal:
 *   - chains: ca_chain() pairs each certificate with the parent certificate whose SKI is its AKI
 *     (ca_rollover_issuer_cert), so an intermediate signed by a retired root key still chains,
 *     and ca_import() finds such a parent by its retired keys too;
 *   - OCSP (ocsp.c): a CertID naming a retired certificate (issuer name and key hashes) is
 *     answered from the certificates that key issued, signed by that key, with that certificate;
 *   - CRLs (crl.c): every generation with an unexpired certificate keeps its own CRL, signed by its
 *     key, listing what it issued, at the URL its certificates carry: <base>/crl/<slug>.crl for
 *     generation 1 and <base>/crl/<slug>.g<N>.crl after (slug_gen_name); the CA certificate of each
 *     generation is at <base>/ca/<slug>[.g<N>].crt (the AIA caIssuers of what it signed).
 */
#ifndef HSMCA_CA_ROLLOVER_H
#define HSMCA_CA_ROLLOVER_H

#include <stddef.h>

#include <openssl/x509.h>

#include "buf.h"
#include "ctx.h"
#include "db_cas.h"

struct ca_rollover_req {
	const char *key_spec;     /* NULL: the CA's current key type */
	int days;                 /* <= 0: CA_ROOT_DEFAULT_DAYS or CA_INTERMEDIATE_DEFAULT_DAYS */
	const char *actor;        /* audit actor; NULL: "cli" */
	const char *ip;           /* audit IP; may be NULL */
};

/* Starts a rollover of ca. *out (may be NULL) gets the stored next row (db_ca_next_free). */
int ca_rollover_start(struct hsmca_ctx *ctx, const struct db_ca *ca, const struct ca_rollover_req *req,
    struct db_ca_next **out);

/* Makes the pending next certificate, key and RA current. *out (may be NULL) gets the CA as it is
 * now (db_ca_free). Old keys stay on the token, named by ca_cert_history. */
int ca_rollover_activate(struct hsmca_ctx *ctx, const struct db_ca *ca, const char *actor, const char *ip,
    struct db_ca **out);

/* Cancels the pending rollover: row deleted first (one transaction with the audit row), then
 * both keys deleted from the token (a failed delete is logged; the key is then an orphan). */
int ca_rollover_cancel(struct hsmca_ctx *ctx, const struct db_ca *ca, const char *actor, const char *ip);

/*
 * The certificates GetNextCACert carries (RFC 8894 §4.7), in GetCACert's order: the next RA
 * certificate, the next CA certificate, then (intermediates) the parent's chain up to the root.
 * HSMCA_E_NOTFOUND when ca has no pending rollover. Free with ca_chain_free(*certs, *n).
 */
int ca_rollover_next_certs(struct hsmca_ctx *ctx, const struct db_ca *ca, struct buf **certs, size_t *n);

/* One key generation of a CA. Fields are borrowed from the struct ca_gens they came from. */
struct ca_gen {
	int64_t gen;
	const struct buf *cert_der;
	const char *keyref;
	const char *key_spec;
	int64_t not_after_ms;     /* of the CA certificate */
	int current;              /* 1 for the CA's current key */
};

struct ca_gens {
	struct ca_gen *g;         /* [0] is the current key, then retired ones, newest first */
	size_t n;
	struct db_ca_history *hist;
	size_t n_hist;
};

/* Every key generation of ca (which must outlive *out). Free with ca_gens_free. */
int ca_gens_read(struct hsmca_ctx *ctx, const struct db_ca *ca, struct ca_gens *out);
void ca_gens_free(struct ca_gens *g);

/* The generation numbered gen, or NULL. */
const struct ca_gen *ca_gens_find(const struct ca_gens *g, int64_t gen);

/*
 * For ca_chain(): the certificate of parent whose key signed child (borrowed), copied into *out
 * (buf_free) and, decoded, into *out_x (X509_free): among parent's current and retired
 * certificates the one whose subjectKeyIdentifier (or, lacking one, SHA-1 of its key, as
 * x509_build.c writes AKIs) equals child's authorityKeyIdentifier; lacking an AKI, the one whose
 * key verifies child's signature; the current one when none does (an imported chain the
 * appliance did not build). The current certificate comes from ca_cert_get (no decoding).
 */
int ca_rollover_issuer_cert(struct hsmca_ctx *ctx, const struct db_ca *parent, X509 *child, struct buf *out,
    X509 **out_x);

/*
 * Token keys a CA deletion would leave behind, read BEFORE the delete (its rows cascade): the
 * pending rollover's CA and RA keys and the retired keys of ca_cert_history.
 * ca_rollover_keys_delete, after the delete committed, deletes the pending ones always (the delete
 * cancels the rollover, as ca_rollover_cancel would) and the retired ones when with_retired (the
 * caller asked for the CA's keys to go), except a key another CA still names. It logs each
 * failure and returns the number deleted.
 */
struct ca_rollover_keys {
	char **keyrefs;
	size_t n_pending;         /* keyrefs[0 .. n_pending) */
	size_t n;
};
int ca_rollover_keys_read(struct hsmca_ctx *ctx, int64_t ca_id, struct ca_rollover_keys *out);

/* Whether a CA (after a deleted one's row is gone) still signs with keyref: an imported CA can
 * name a key already on the token. On a read failure 1: keeping a key is the safe side. */
int ca_key_in_use(struct hsmca_ctx *ctx, const char *keyref);
size_t ca_rollover_keys_delete(struct hsmca_ctx *ctx, const struct ca_rollover_keys *k, int with_retired);
void ca_rollover_keys_free(struct ca_rollover_keys *k);

#endif
