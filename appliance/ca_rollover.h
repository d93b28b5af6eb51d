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
 * Known limit (XXX #6): after a root's activation, subordinate CAs still carry certificates from
 * the old root key and ca_chain() pairs them with the new root certificate; re-issue or roll
 * them over too. OCSP answers for certificates issued under the old key are "unknown" after the
 * switch (the issuerKeyHash no longer matches).
 */
#ifndef HSMCA_CA_ROLLOVER_H
#define HSMCA_CA_ROLLOVER_H

#include <stddef.h>

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

#endif
