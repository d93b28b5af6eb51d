/*
 * crl.h: publishing a CA's CRL, signed on the token.
 *
 * crl_publish streams the CA's revoked certificates from one database snapshot into crl_der.c,
 * has the token sign the TBSCertList bytes (tok_sign_data), checks the signature with the CA
 * certificate's public key, and stores the CertificateList in crls with the CA's next CRL number
 * and an audit row "crl.published", in one transaction. Memory: about the CRL's DER size (~50 bytes
 * per entry) plus a constant; no X509_CRL is ever built.
 *
 * When CRLs are made: crl_publish is called right after each revocation (revoke.c), on demand
 * (CLI `hsmca crl`, POST /api/v1/cas/{id}/crl), and by the scheduler through crl_publish_due for
 * every CA that is due: never published, marked by a revocation whose own publish failed or was
 * deferred, or past half its validity. Concurrent publishers are safe: the CRL number is
 * compare-and-set and the loser rebuilds from a newer snapshot.
 *
 * Key generations (ca_rollover.h): after a rollover, each retired key that issued a certificate
 * still unexpired keeps its own CRL, signed by that key and listing the revoked certificates it
 * issued, at the URL those certificates carry (slug_gen_name). crl_publish publishes those that
 * are due (none yet, past their refresh time, or a certificate they issued was revoked) before
 * the current key's CRL, whose store sets the CA's due time to the earliest refresh of them all.
 * CRL numbers come from one sequence per CA, so each key's CRL numbers increase (RFC 5280 5.2.3).
 * Thread safety: uses the caller's ctx->db (one thread) and the shared token.
 */
#ifndef HSMCA_CRL_H
#define HSMCA_CRL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ctx.h"
#include "db_cas.h"

/* A new CRL is due after this fraction of its validity (thisUpdate + validity / 2), so clients
 * always find one well before the cached one's nextUpdate. */
#define CRL_REFRESH_DIVISOR 2
/* Builds attempted when another publisher keeps winning the CRL number race. */
#define CRL_PUBLISH_ATTEMPTS 3

struct crl_info {
	int64_t crl_id;
	int64_t number;
	int64_t this_update_ms;
	int64_t next_update_ms;
	uint64_t entries;
	size_t der_len;
};

/* Builds, signs and stores a new CRL for ca's current key (and the due ones of its retired keys,
 * see above). actor: the audit actor ("cli", "user:alice", "system"); NULL means "system". info
 * (may be NULL) describes the current key's CRL. HSMCA_E_TOKEN / HSMCA_E_DB / HSMCA_E_BUSY when the
 * current key's CRL failed, with it not stored; a retired key's failure is logged and retried
 * ten minutes later. */
int crl_publish(struct hsmca_ctx *ctx, const struct db_ca *ca, const char *actor, struct crl_info *info);

/* Same, by the CA's slug (HSMCA_E_NOTFOUND naming it when unknown). */
int crl_publish_slug(struct hsmca_ctx *ctx, const char *slug, const char *actor, struct crl_info *info);

/* Marks the CA's CRL as due (in the caller's transaction: revoke.c calls it in the revocation's).
 * See db_revocation_mark_crl_due. */
int crl_mark_dirty(struct hsmca_ctx *ctx, int64_t ca_id);

/* For the scheduler (every second or so): publishes every CA whose CRL is due at now_ms. Goes on
 * after a failing CA (it stays due) and returns the first error; *n_published may be NULL. */
int crl_publish_due(struct hsmca_ctx *ctx, int64_t now_ms, size_t *n_published);

/* The newest CRL of the current key of the CA with this slug, with its DER. Caller frees
 * *out with db_crl_free(). HSMCA_E_NOTFOUND for an unknown slug or no CRL yet. */
struct db_crl;
int crl_latest(struct hsmca_ctx *ctx, const char *slug, struct db_crl **out);

/* The newest CRL of key generation gen of ca (0: its current key), with its DER. When there is
 * none yet and the generation keeps one (the current key; a retired key while a certificate it
 * issued is unexpired), it is published first: the current key's through crl_publish, a retired
 * key's alone (the CA's due time untouched). Caller frees *out with db_crl_free().
 * HSMCA_E_NOTFOUND when the generation has no CRL and gets none; crl_publish's errors. */
int crl_latest_gen(struct hsmca_ctx *ctx, const struct db_ca *ca, int64_t gen, struct db_crl **out);

/* PEM ("X509 CRL") of a DER CRL, for ?format=pem. Caller frees pem with buf_free. */
int crl_pem(const struct buf *der, struct buf *pem);

#endif
