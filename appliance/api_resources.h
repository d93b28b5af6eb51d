/*
 * api_resources.h: the REST resources of the CA itself (issue #3 "Resources") and the public CA
 * certificate download: CAs, certificates, orders, token keys and CSRs, the audit trail.
 *
 * http.c routes these through api_resources_routes (one table here, so the resource handlers can
 * grow without touching http.c). Each api_<resource>.c holds one resource; handlers see only
 * struct req / struct resp (http.h) and check permissions through auth.h:
 *   admin    everything;
 *   operator reads, issues on, the CAs granted to one of their teams (lists are filtered to them);
 *   auditor  reads everything, changes nothing (403 on every write).
 */
#ifndef HSMCA_API_RESOURCES_H
#define HSMCA_API_RESOURCES_H

#include <stddef.h>

#include "buf.h"
#include "http.h"

/* The routes below, for http.c's router and `hsmca serve --routes`. */
extern const struct http_route api_resources_routes[];
extern const size_t api_resources_routes_n;

/* api_cas.c: /api/v1/cas */
int api_cas_list(struct req *req, struct resp *resp);
int api_cas_create(struct req *req, struct resp *resp);
int api_cas_import(struct req *req, struct resp *resp);
int api_cas_get(struct req *req, struct resp *resp);
int api_cas_update(struct req *req, struct resp *resp);
int api_cas_delete(struct req *req, struct resp *resp);
int api_cas_certificate(struct req *req, struct resp *resp);
int api_cas_chain(struct req *req, struct resp *resp);
int api_cas_private_key(struct req *req, struct resp *resp);

/* api_certificates.c: /api/v1/certificates */
int api_certs_list(struct req *req, struct resp *resp);
int api_certs_create(struct req *req, struct resp *resp);
int api_certs_get(struct req *req, struct resp *resp);
int api_certs_pem(struct req *req, struct resp *resp);

/* api_orders.c: /api/v1/orders */
int api_orders_list(struct req *req, struct resp *resp);
int api_orders_get(struct req *req, struct resp *resp);

/* api_keys.c: /api/v1/keys and /api/v1/csr */
int api_keys_list(struct req *req, struct resp *resp);
int api_keys_create(struct req *req, struct resp *resp);
int api_csr_create(struct req *req, struct resp *resp);

/* api_audit.c: /api/v1/audit */
int api_audit_list(struct req *req, struct resp *resp);

/* api_public.c: plain-HTTP CA certificates (the AIA caIssuers URL of issued certificates) */
int api_public_ca_der(struct req *req, struct resp *resp);
int api_public_ca_pem(struct req *req, struct resp *resp);

/* --- api_resources.c: the route table and helpers shared by the resource files --- */

struct hsmca_ctx;

/* A struct hsmca_ctx for the CA core (ca.h, issue.h) borrowing the request's database, token
 * and configuration. Heap-allocated because struct config is large; free with api_ctx_free(). */
struct hsmca_ctx *api_ctx_new(const struct req *req);
void api_ctx_free(struct hsmca_ctx *ctx);

/* Loads the CA named by a path parameter (numeric id) and checks action on it for the caller.
 * HSMCA_E_NOTFOUND, HSMCA_E_PERM. *out: db_ca_free(). */
struct db_ca;
int api_load_ca(struct req *req, const char *param, int action, struct db_ca **out);

/* Appends the PEM text of a DER certificate to out (growing, NUL-terminated) WITHOUT parsing it:
 * the DER comes from our own database, and a parse costs a public-key decode through OpenSSL
 * 3.0's decoder framework (the largest single cost of an issuance request when profiled). */
int api_der_to_pem(const uint8_t *der, size_t len, struct buf *out);

/* A JSON string or null. */
json_t *api_str_or_null(const char *s);

/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ" or epoch seconds into ms; HSMCA_E_INVALID naming
 * the query parameter otherwise. */
int api_query_time(const char *name, const char *value, int64_t *ms);

/* A positive integer query parameter in min..max; absent: *out = dflt. */
int api_query_int(const char *name, const char *value, int64_t min, int64_t max, int64_t dflt,
    int64_t *out);

#endif
