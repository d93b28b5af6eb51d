/*
 * api_issue4.h: the HTTP glue of issue #4: two-step revocation, CRL download and history, the
 * OCSP responder and PFX export. The work itself is in revoke.c, crl.c, ocsp.c and pfx.c; these
 * handlers only check who may do it, read the request and shape the answer.
 *
 * http.c routes these through api_issue4_routes (one line in its route_tables[]).
 *   TLS, user:     POST /api/v1/certificates/{id}/revocation   (AUTH_REVOKE on the certificate's CA)
 *                  POST /api/v1/certificates/{id}/revoke       (AUTH_REVOKE)
 *                  POST /api/v1/certificates/{id}/pfx          (AUTH_ISSUE: a private key leaves)
 *                  POST /api/v1/cas/{id}/crl                   (AUTH_REVOKE: admin, operator of the CA)
 *                  GET  /api/v1/cas/{id}/crls, GET /api/v1/crls/{id}   (AUTH_READ)
 *   plain, public: GET /crl/{slug}.crl, POST /ocsp/{slug}, GET /ocsp/{slug}/{request...}
 */
#ifndef HSMCA_API_ISSUE4_H
#define HSMCA_API_ISSUE4_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

extern const struct http_route api_issue4_routes[];
extern const size_t api_issue4_routes_n;

/* api_revoke.c */
int api_revoke_request(struct req *req, struct resp *resp);
int api_revoke_confirm(struct req *req, struct resp *resp);

/* Loads the certificate named by the {id} path parameter and checks action on its CA for the
 * caller (a certificate without a CA of ours: the system-wide check). HSMCA_E_NOTFOUND,
 * HSMCA_E_PERM. *out: db_cert_free(). Shared by api_revoke.c and api_pfx.c. */
struct db_cert;
int api_issue4_load_cert(struct req *req, int action, struct db_cert **out);

/* api_crl.c */
int api_crl_download(struct req *req, struct resp *resp);
int api_crl_publish(struct req *req, struct resp *resp);
int api_crl_list(struct req *req, struct resp *resp);
int api_crl_get(struct req *req, struct resp *resp);

/* api_ocsp.c */
int api_ocsp_post(struct req *req, struct resp *resp);
int api_ocsp_get(struct req *req, struct resp *resp);

/* api_pfx.c */
int api_pfx_export(struct req *req, struct resp *resp);

#endif
