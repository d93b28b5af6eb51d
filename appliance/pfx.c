/*
 * pfx.c: PKCS#12 export glue (see pfx.h).
 *
 * May call: db_certs.h, ca.h (chain), tok.h (tok_export_pkcs12), audit.h.
 * Must never: store, log or err_set the password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "audit.h"
#include "ca.h"
#include "db.h"
#include "db_certs.h"
#include "err.h"
#include "pfx.h"
#include "tok.h"

/* No 0/O, 1/l/I: the password is read off a screen and typed into Windows' import wizard. */
static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

int
pfx_password_new(char **out)
{
	const unsigned n = sizeof(alphabet) - 1;
	/* Largest multiple of n below 256: rejection keeps every symbol equally likely. */
	const unsigned limit = 256 / n * n;
	unsigned char b[64];
	char *pw;
	size_t i, k = 0;

	*out = NULL;
	if ((pw = OPENSSL_zalloc(PFX_PASSWORD_LEN + 1)) == NULL)
		return HSMCA_E_NOMEM;
	while (k < PFX_PASSWORD_LEN) {
		if (RAND_bytes(b, sizeof(b)) != 1) {
			OPENSSL_clear_free(pw, PFX_PASSWORD_LEN + 1);
			return err_set(HSMCA_E_INTERNAL, "random number generator failed");
		}
		for (i = 0; i < sizeof(b) && k < PFX_PASSWORD_LEN; i++)
			if (b[i] < limit)
				pw[k++] = alphabet[b[i] % n];
	}
	OPENSSL_cleanse(b, sizeof(b));
	*out = pw;
	return 0;
}

int
pfx_export(struct hsmca_ctx *ctx, int64_t cert_id, const char *actor, const char *ip, int legacy,
    char **password_out, struct buf *pfx_der)
{
	struct db_cert *cert = NULL;
	struct db_ca *ca = NULL;
	struct buf *chain = NULL, pfx = { 0 };
	size_t n_chain = 0;
	char *pw = NULL, details[96];
	int rc;

	*password_out = NULL;
	pfx_der->data = NULL;
	pfx_der->len = 0;
	if (actor == NULL)
		actor = "cli";
	if (ctx->tok == NULL)
		return err_set(HSMCA_E_TOKEN, "PFX: the token is not open");
	if ((rc = db_certs_get_by_id(ctx->db, cert_id, &cert)) != 0)
		goto out;
	if (cert->keyref == NULL || cert->keyref[0] == '\0') {
		rc = err_set(HSMCA_E_CONFLICT, "no PFX for certificate %s: the key was never held by the "
		    "appliance (it was issued from a CSR)", cert->serial);
		goto out;
	}
	if (cert->ca_id != 0) {
		if ((rc = db_cas_get_by_id(ctx->db, cert->ca_id, &ca)) != 0 ||
		    (rc = ca_chain(ctx, ca, &chain, &n_chain)) != 0)
			goto out;
	}
	if ((rc = pfx_password_new(&pw)) != 0)
		goto out;
	rc = tok_export_pkcs12(ctx->tok, cert->keyref, &cert->der, chain, n_chain,
	    cert->common_name != NULL ? cert->common_name : cert->serial, pw, legacy, &pfx);
	if (rc == HSMCA_E_CONFLICT) {
		rc = err_set(HSMCA_E_CONFLICT, "no PFX for certificate %s: its key on the token is not exportable",
		    cert->serial);
		goto out;
	}
	/* The certificate exists; its key was deleted from the token behind the appliance's back. */
	if (rc == HSMCA_E_NOTFOUND) {
		rc = err_set(HSMCA_E_CONFLICT, "no PFX for certificate %s: its private key (%s) is not on the token",
		    cert->serial, cert->keyref);
		goto out;
	}
	if (rc != 0)
		goto out;
	snprintf(details, sizeof(details), "{\"certificate_id\":%lld,\"legacy\":%s}", (long long)cert_id,
	    legacy ? "true" : "false");
	if ((rc = db_begin(ctx->db)) != 0 ||
	    (rc = audit_write(ctx->db, actor, ip, "certificate.download_pfx.success", cert->serial, details)) != 0 ||
	    (rc = db_commit(ctx->db)) != 0)
		goto out;
	*password_out = pw;
	pw = NULL;
	*pfx_der = pfx;
	pfx.data = NULL;
	pfx.len = 0;
	rc = 0;
out:
	db_rollback(ctx->db);
	if (pw != NULL)
		OPENSSL_clear_free(pw, strlen(pw));
	buf_free(&pfx);
	ca_chain_free(chain, n_chain);
	db_ca_free(ca);
	db_cert_free(cert);
	return rc;
}
