/*
 * api_public.c: the CA certificates on the plain-HTTP listener: /ca/{slug}.crt (DER, the AIA
 * caIssuers URL written into every issued certificate, RFC 5280 4.2.2.1) and /ca/{slug}.pem.
 * Public by design: a CA certificate is not a secret. May call: db_cas.h, slug.h.
 * Must never: answer anything but a CA certificate.
 */
#include "api.h"
#include "api_resources.h"
#include "db_cas.h"
#include "err.h"
#include "slug.h"

static int
load(struct req *req, struct db_ca **ca)
{
	const char *slug = req_param(req, "slug");

	*ca = NULL;
	/* A malformed slug (dots, %2e%2e, NUL) names no CA: answer as for an unknown one. */
	if (slug == NULL || !slug_valid(slug))
		return err_set(HSMCA_E_NOTFOUND, "no such CA");
	if (db_cas_get_by_slug(req->db, slug, ca) != 0)
		return err_set(HSMCA_E_NOTFOUND, "no such CA");
	return 0;
}

int
api_public_ca_der(struct req *req, struct resp *resp)
{
	struct db_ca *ca = NULL;
	int rc;

	if ((rc = load(req, &ca)) != 0)
		return rc;
	/* RFC 5280 4.2.2.1: a single DER certificate served as application/pkix-cert. */
	rc = resp_bytes(resp, 200, "application/pkix-cert", ca->cert_der.data, ca->cert_der.len);
	db_ca_free(ca);
	return rc;
}

int
api_public_ca_pem(struct req *req, struct resp *resp)
{
	struct db_ca *ca = NULL;
	struct buf pem = { 0 };
	int rc;

	if ((rc = load(req, &ca)) != 0)
		return rc;
	if ((rc = api_der_to_pem(ca->cert_der.data, ca->cert_der.len, &pem)) == 0)
		rc = resp_bytes(resp, 200, "application/x-pem-file", pem.data, pem.len);
	buf_free(&pem);
	db_ca_free(ca);
	return rc;
}
