/*
 * api_public.c: the CA certificates on the plain-HTTP listener: /ca/{slug}.crt (DER, the AIA
 * caIssuers URL written into every issued certificate, RFC 5280 4.2.2.1) and /ca/{slug}.pem.
 * After a rollover (ca_rollover.h) each key generation's certificate has its own name, the one
 * written into the AIA of what that key signed: "<slug>" is the CA's FIRST certificate (generation
 * 1, whatever is current), "<slug>.g<N>" generation N (slug_gen_name).
 * Public by design: a CA certificate is not a secret. May call: db_cas.h, ca_rollover.h, slug.h.
 * Must never: answer anything but a CA certificate.
 */
#include <string.h>

#include "api.h"
#include "api_resources.h"
#include "ca_rollover.h"
#include "db_cas.h"
#include "err.h"
#include "slug.h"

/* The certificate the URL name in the "slug" parameter names, copied into der. */
static int
load(struct req *req, struct buf *der)
{
	const char *name = req_param(req, "slug");
	char slug[SLUG_MAX];
	struct db_ca *ca = NULL;
	struct hsmca_ctx *ctx = NULL;
	struct ca_gens gens;
	const struct ca_gen *g;
	long long gen;
	int rc;

	memset(&gens, 0, sizeof(gens));
	der->data = NULL;
	der->len = 0;
	/* A malformed name (%2e%2e, NUL, a generation the CA never had) names no CA: answer as for an
	 * unknown one. */
	if (name == NULL || slug_gen_parse(name, slug, &gen) != 0 || db_cas_get_by_slug(req->db, slug, &ca) != 0)
		return err_set(HSMCA_E_NOTFOUND, "no such CA");
	if (gen == ca->key_gen) {
		rc = buf_set(der, ca->cert_der.data, ca->cert_der.len);
		goto out;
	}
	if ((ctx = api_ctx_new(req)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = ca_gens_read(ctx, ca, &gens)) != 0)
		goto out;
	if ((g = ca_gens_find(&gens, gen)) == NULL)
		rc = err_set(HSMCA_E_NOTFOUND, "no such CA");
	else
		rc = buf_set(der, g->cert_der->data, g->cert_der->len);
out:
	ca_gens_free(&gens);
	api_ctx_free(ctx);
	db_ca_free(ca);
	return rc;
}

int
api_public_ca_der(struct req *req, struct resp *resp)
{
	struct buf der = { 0 };
	int rc;

	if ((rc = load(req, &der)) != 0)
		return rc;
	/* RFC 5280 4.2.2.1: a single DER certificate served as application/pkix-cert. */
	rc = resp_bytes(resp, 200, "application/pkix-cert", der.data, der.len);
	buf_free(&der);
	return rc;
}

int
api_public_ca_pem(struct req *req, struct resp *resp)
{
	struct buf der = { 0 }, pem = { 0 };
	int rc;

	if ((rc = load(req, &der)) != 0)
		return rc;
	if ((rc = api_der_to_pem(der.data, der.len, &pem)) == 0)
		rc = resp_bytes(resp, 200, "application/x-pem-file", pem.data, pem.len);
	buf_free(&pem);
	buf_free(&der);
	return rc;
}
