/*
 * ra.c: creates and loads the SCEP RA of a CA (see ra.h).
 * May call: tok.h (key generation, public key, delete), ca.h (serial, signing with the CA key),
 * x509_build.h, db_scep.h, audit.h. Must never: make the RA key exportable, or leave a token key
 * behind that no row points at.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "audit.h"
#include "ca.h"
#include "db.h"
#include "db_scep.h"
#include "err.h"
#include "log.h"
#include "ra.h"
#include "tok.h"
#include "x509_build.h"

/* The RA's CN: "<CA name> SCEP RA", cut so it stays within ub-common-name (64). */
#define RA_CN_SUFFIX " SCEP RA"
#define RA_CN_MAX 64

void
ra_info_clear(struct ra_info *ra)
{
	if (ra == NULL)
		return;
	free(ra->keyref);
	buf_free(&ra->cert_der);
	ra->keyref = NULL;
}

static int
ra_from_row(struct db_scep_ca *row, struct ra_info *out)
{
	out->keyref = row->ra_keyref;
	row->ra_keyref = NULL;
	out->cert_der = row->ra_cert_der;
	row->ra_cert_der.data = NULL;
	row->ra_cert_der.len = 0;
	return 0;
}

static int
ra_subject(const struct db_ca *ca, X509_NAME **out)
{
	char cn[RA_CN_MAX + 1];
	size_t keep = strlen(ca->name);
	X509_NAME *n;

	*out = NULL;
	if (keep > RA_CN_MAX - strlen(RA_CN_SUFFIX))
		keep = RA_CN_MAX - strlen(RA_CN_SUFFIX);
	/* Do not cut a UTF-8 sequence in half. */
	while (keep > 0 && ((unsigned char)ca->name[keep] & 0xc0) == 0x80)
		keep--;
	snprintf(cn, sizeof(cn), "%.*s%s", (int)keep, ca->name, RA_CN_SUFFIX);
	if ((n = X509_NAME_new()) == NULL ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1) {
		X509_NAME_free(n);
		ERR_clear_error();
		return err_set(HSMCA_E_NOMEM, "cannot build the RA subject");
	}
	*out = n;
	return 0;
}

/* Builds and signs the RA certificate for the token key keyref. */
static int
ra_certificate(struct hsmca_ctx *ctx, const struct db_ca *ca, const char *keyref, struct buf *der)
{
	X509 *ca_cert = NULL, *tbs = NULL, *cert = NULL;
	X509_NAME *subject = NULL;
	ASN1_INTEGER *serial = NULL;
	EVP_PKEY *pub = NULL;
	struct buf spki = { 0 };
	const unsigned char *p;
	char serial_hex[X509B_SERIAL_HEX];
	int64_t now = (int64_t)time(NULL), nb, na;
	int rc;

	if ((rc = x509b_parse_cert(ca->cert_der.data, ca->cert_der.len, &ca_cert)) != 0)
		goto out;
	if (ca->not_after_ms <= now * 1000) {
		rc = err_set(HSMCA_E_POLICY, "CA '%s' has expired; it cannot have an RA", ca->slug);
		goto out;
	}
	if ((rc = tok_public_key(ctx->tok, keyref, &spki)) != 0)
		goto out;
	p = spki.data;
	if ((pub = d2i_PUBKEY(NULL, &p, (long)spki.len)) == NULL || p != spki.data + spki.len) {
		rc = err_set(HSMCA_E_TOKEN, "the token returned a malformed RA public key");
		goto out;
	}
	nb = now - X509B_BACKDATE_SECONDS;
	na = now + (int64_t)RA_VALIDITY_DAYS * 86400;
	if (na * 1000 > ca->not_after_ms)
		na = ca->not_after_ms / 1000;
	if (nb * 1000 < ca->not_before_ms)
		nb = ca->not_before_ms / 1000;
	if ((rc = ra_subject(ca, &subject)) != 0 || (rc = ca_new_serial(ctx->db, &serial, serial_hex)) != 0)
		goto out;
	if ((rc = x509b_new_cert(serial, subject, X509_get_subject_name(ca_cert), nb, na, pub, &tbs)) != 0)
		goto out;
	/* No extendedKeyUsage on purpose (see ra.h). */
	if ((rc = x509b_add_ext(tbs, NULL, NID_basic_constraints, "critical,CA:FALSE")) != 0 ||
	    (rc = x509b_add_ext(tbs, NULL, NID_key_usage, "critical,digitalSignature,keyEncipherment")) != 0 ||
	    (rc = x509b_add_ski(tbs)) != 0 || (rc = x509b_add_aki(tbs, ca_cert)) != 0)
		goto out;
	rc = ca_key_error(ca, ca->keyref, ca_sign(ctx->tok, ca->keyref, ca->key_spec, tbs, X509_get0_pubkey(ca_cert),
	    der, &cert));
out:
	ERR_clear_error();
	X509_free(cert);
	X509_free(tbs);
	ASN1_INTEGER_free(serial);
	X509_NAME_free(subject);
	EVP_PKEY_free(pub);
	buf_free(&spki);
	X509_free(ca_cert);
	return rc;
}

int
ra_ensure(struct hsmca_ctx *ctx, const struct db_ca *ca, struct ra_info *out)
{
	struct db_scep_ca row;
	struct buf der = { 0 };
	char label[96], *keyref = NULL, details[160];
	int stored = 0, rc;

	memset(out, 0, sizeof(*out));
	memset(&row, 0, sizeof(row));
	if ((rc = db_scep_ca_get(ctx->db, ca->id, &row)) != 0)
		return rc;
	if (row.ra_keyref != NULL && row.ra_cert_der.len > 0) {
		ra_from_row(&row, out);
		db_scep_ca_clear(&row);
		return 0;
	}
	db_scep_ca_clear(&row);
	if (ctx->tok == NULL)
		return err_set(HSMCA_E_TOKEN, "creating the SCEP RA of CA '%s' needs the token", ca->slug);

	snprintf(label, sizeof(label), "ra-%s", ca->slug);
	if ((rc = tok_generate_key(ctx->tok, TOK_KEY_RSA_2048, label, 0, &keyref)) != 0)
		goto out;
	/* From here on a failure deletes the key again (see out:). */
	if ((rc = ra_certificate(ctx, ca, keyref, &der)) != 0)
		goto out;
	if ((rc = db_begin(ctx->db)) != 0)
		goto out;
	if ((rc = db_scep_ra_store(ctx->db, ca->id, keyref, der.data, der.len, &stored)) != 0)
		goto rollback;
	if (stored) {
		snprintf(details, sizeof(details), "{\"ca\":\"%s\",\"key\":\"rsa-2048\"}", ca->slug);
		if ((rc = audit_write(ctx->db, "system", NULL, "scep.ra.created", ca->slug, details)) != 0)
			goto rollback;
	}
	if ((rc = db_commit(ctx->db)) != 0)
		goto rollback;
	if (stored) {
		log_msg(LOGL_INFO, "scep", "scep.ra.created", "SCEP RA created for CA %s", ca->slug);
		out->keyref = keyref;
		out->cert_der = der;
		keyref = NULL;
		der.data = NULL;
		der.len = 0;
		rc = 0;
		goto out;
	}
	/* Another thread or node stored its RA first: use that one, drop ours. */
	if ((rc = db_scep_ca_get(ctx->db, ca->id, &row)) != 0)
		goto out;
	if (row.ra_keyref == NULL) {
		rc = err_set(HSMCA_E_INTERNAL, "SCEP RA of CA '%s' vanished", ca->slug);
		goto out;
	}
	ra_from_row(&row, out);
	rc = 0;
	goto out;
rollback:
	db_rollback(ctx->db);
out:
	db_scep_ca_clear(&row);
	if (keyref != NULL)
		(void)tok_delete_key(ctx->tok, keyref);
	free(keyref);
	buf_free(&der);
	return rc;
}

/* For ca_rollover.c: the next RA's certificate, issued by the next CA (ca names its key). */
int
ra_issue_certificate(struct hsmca_ctx *ctx, const struct db_ca *ca, const char *keyref, struct buf *der)
{
	return ra_certificate(ctx, ca, keyref, der);
}
