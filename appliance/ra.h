/*
 * ra.h: the SCEP registration authority of each CA (RFC 8894 §2.2, §3.1).
 *
 * Every SCEP-enabled CA has an RA: an RSA-2048 key generated on the token, non-exportable (label
 * "ra-<slug>"), and a certificate for it issued by that CA with keyUsage digitalSignature +
 * keyEncipherment, basicConstraints CA:FALSE and no extendedKeyUsage (certmonger checks CertRep
 * signatures with PKCS7_verify, whose S/MIME purpose check refuses a signer whose EKU lacks
 * emailProtection; no EKU passes). The RA opens clients' envelopes and signs every CertRep; it
 * is RSA even for EC CAs, because SCEP envelopes need RSA key transport. Stored in scep_cas
 * (db_scep.h).
 *
 * Thread safety: ra_ensure may run in several threads or nodes at once for one CA: the first RA
 * stored wins and the others delete the key they made.
 */
#ifndef HSMCA_RA_H
#define HSMCA_RA_H

#include "buf.h"
#include "ctx.h"
#include "db_cas.h"

/* An RA certificate this close to its notAfter is replaced on the next ra_ensure. XXX(#6): not
 * yet: a renewed RA needs GetNextCACert-style rollover for clients that pinned the old one. */
#define RA_VALIDITY_DAYS 1095

struct ra_info {
	char *keyref;            /* pkcs11: URI of the RA private key */
	struct buf cert_der;
};

void ra_info_clear(struct ra_info *ra);

/*
 * The RA of ca, created (key on the token, certificate signed by the CA key on the token, audit
 * row "scep.ra.created") when the CA has none yet. CA creation paths may call it right after the
 * CA is made; the SCEP handler calls it lazily on a CA's first request. out is cleared on entry;
 * free its fields with ra_info_clear. HSMCA_E_TOKEN, HSMCA_E_DB, HSMCA_E_POLICY (an expired CA).
 */
int ra_ensure(struct hsmca_ctx *ctx, const struct db_ca *ca, struct ra_info *out);

/*
 * Builds and signs (with ca->keyref, on the token) an RA certificate for the RSA token key keyref,
 * as ra_ensure does, without storing anything: ca_rollover.c uses it for the next RA, passing the
 * next CA as ca. *der: buf_free(). HSMCA_E_POLICY when ca has expired.
 */
int ra_issue_certificate(struct hsmca_ctx *ctx, const struct db_ca *ca, const char *keyref, struct buf *der);

#endif
