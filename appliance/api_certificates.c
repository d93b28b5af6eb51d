/*
 * api_certificates.c: /api/v1/certificates — issue from a CSR or with a key generated on the
 * token, list the inventory with filters and keyset pagination, show one certificate with every
 * field of the console's detail table, download it as PEM.
 * May call: issue.h (the only way a certificate is made), ca.h (chains), db_certs.h,
 * db_certs_query.h, auth.h, audit.h, json_in.h. Must never: issue on a CA the caller may not
 * issue on, or hand out a certificate before issue.h has committed it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "api.h"
#include "api_resources.h"
#include "audit.h"
#include "auth.h"
#include "ca.h"
#include "csr.h"
#include "db.h"
#include "db_cas.h"
#include "db_certs.h"
#include "db_certs_query.h"
#include "err.h"
#include "issue.h"
#include "json_in.h"
#include "tok.h"

#define API_CERTS_MAX_TAGS 32
#define API_CERTS_TAG_MAX 64
#define API_CERTS_SUBJECT_MAX 1024
#define API_CERTS_SAN_MAX 256
#define API_CERTS_Q_MAX 256
#define DAY_MS 86400000LL

static const char *const profiles[] = { "server", "client", "subca", NULL };
static const char *const key_specs[] = { "rsa-2048", "rsa-3072", "rsa-4096", "ec-256", "ec-384", NULL };

/* Whole days from now to t, rounded down (negative once expired). */
static int64_t
days_until(int64_t t_ms, int64_t now_ms)
{
	int64_t d = t_ms - now_ms;

	return d >= 0 ? d / DAY_MS : -((-d + DAY_MS - 1) / DAY_MS);
}

/* A JSON array stored as text, or an empty array when the text is not one. */
static json_t *
json_array_text(const char *text)
{
	json_t *a = text != NULL ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;

	if (a != NULL && json_is_array(a))
		return a;
	json_decref(a);
	return json_array();
}

static json_t *
cert_json(const struct db_cert *c, const char *ca_slug, int64_t now_ms)
{
	return json_pack("{s:I,s:s,s:o,s:s,s:o,s:s,s:o,s:o,s:s,s:s,s:o,s:o,s:I,s:s,s:s,s:s,s:b,s:o,s:o,"
	    "s:o,s:o,s:o,s:o}",
	    "id", (json_int_t)c->id, "serial", c->serial,
	    "common_name", api_str_or_null(c->common_name), "subject", c->subject,
	    "sans", json_array_text(c->sans), "issuer", c->issuer,
	    "ca", api_str_or_null(ca_slug), "ca_id", c->ca_id > 0 ? json_integer(c->ca_id) : json_null(),
	    "algorithm", c->key_algorithm, "digest", c->digest,
	    "valid_from", api_time_json(c->not_before_ms), "valid_to", api_time_json(c->not_after_ms),
	    "days_until_expiry", (json_int_t)days_until(c->not_after_ms, now_ms),
	    "status", db_cert_status(c, now_ms), "source", c->source,
	    "fingerprint_sha256", c->fingerprint_sha256, "key_on_token", c->keyref != NULL,
	    "profile", api_str_or_null(c->profile), "tags", json_array_text(c->tags),
	    "order_id", c->order_id > 0 ? json_integer(c->order_id) : json_null(),
	    "revoked_at", api_time_json(c->revoked_at_ms),
	    "revocation_reason", c->revoked_at_ms != 0 ? json_integer(c->revocation_reason) : json_null(),
	    "created_at", api_time_json(c->created_at_ms));
}

/* The slug of ca_id, remembered across one list (one small cache per request). */
struct slug_cache {
	int64_t ids[16];
	char *slugs[16];
	size_t n;
};

static const char *
slug_of(struct req *req, struct slug_cache *sc, int64_t ca_id)
{
	struct db_ca *ca = NULL;
	const char *s;
	size_t i;

	if (ca_id <= 0)
		return NULL;
	for (i = 0; i < sc->n; i++)
		if (sc->ids[i] == ca_id)
			return sc->slugs[i];
	if (db_cas_get_by_id(req->db, ca_id, &ca) != 0)
		return NULL;
	if (sc->n < sizeof(sc->ids) / sizeof(sc->ids[0]) && (sc->slugs[sc->n] = strdup(ca->slug)) != NULL) {
		sc->ids[sc->n] = ca_id;
		s = sc->slugs[sc->n++];
	} else {
		s = NULL;
	}
	db_ca_free(ca);
	return s;
}

static void
slug_cache_free(struct slug_cache *sc)
{
	size_t i;

	for (i = 0; i < sc->n; i++)
		free(sc->slugs[i]);
	sc->n = 0;
}

/* A CA named in a body or query: a JSON/text slug, or a numeric id. */
static int
find_ca(struct req *req, const char *slug, int64_t id, struct db_ca **out)
{
	int rc = slug != NULL ? db_cas_get_by_slug(req->db, slug, out) : db_cas_get_by_id(req->db, id, out);

	if (rc == HSMCA_E_NOTFOUND && slug != NULL)
		err_set(rc, "unknown CA '%s'", slug);
	else if (rc == HSMCA_E_NOTFOUND)
		err_set(rc, "no CA has id %lld", (long long)id);
	return rc;
}

int
api_certs_list(struct req *req, struct resp *resp)
{
	static const char *const sources[] = { "managed", "discovered", NULL };
	static const char *const statuses[] = { "active", "expired", "revoked", NULL };
	struct db_certs_filter f;
	struct slug_cache sc = { .n = 0 };
	struct db_cert *c = NULL;
	struct db_ca *ca = NULL;
	const char *v, *const *e;
	char *tag_json = NULL;
	int64_t *ids = NULL, after, days, last = 0;
	size_t n = 0, i;
	json_t *items = NULL, *t;
	int limit, rc;

	memset(&f, 0, sizeof(f));
	f.now_ms = db_now_ms();
	f.expiring_within_ms = -1;
	if ((rc = req_page(req, 50, 500, &limit, &after)) != 0)
		return rc;
	/* Enumerations are checked here so a typo is a 400, not an empty list. */
	if ((f.source = req_query(req, "source")) != NULL) {
		for (e = sources; *e != NULL && strcmp(*e, f.source) != 0; e++)
			;
		if (*e == NULL)
			return err_set(HSMCA_E_INVALID, "query parameter 'source' must be managed or discovered");
	}
	if ((f.status = req_query(req, "status")) != NULL) {
		for (e = statuses; *e != NULL && strcmp(*e, f.status) != 0; e++)
			;
		if (*e == NULL)
			return err_set(HSMCA_E_INVALID, "query parameter 'status' must be active, expired or revoked");
	}
	if ((rc = api_query_int("expiring_within_days", req_query(req, "expiring_within_days"), 0, 36500, -1,
	    &days)) != 0)
		return rc;
	if (days >= 0)
		f.expiring_within_ms = days * DAY_MS;
	if ((f.q = req_query(req, "q")) != NULL && (strlen(f.q) == 0 || strlen(f.q) > API_CERTS_Q_MAX))
		return err_set(HSMCA_E_INVALID, "query parameter 'q' must have 1 to %d characters", API_CERTS_Q_MAX);
	if ((v = req_query(req, "tag")) != NULL) {
		if (strlen(v) == 0 || strlen(v) > API_CERTS_TAG_MAX)
			return err_set(HSMCA_E_INVALID, "query parameter 'tag' must have 1 to %d characters",
			    API_CERTS_TAG_MAX);
		/* Tags are stored as a JSON array: match the tag's exact JSON encoding. */
		if ((t = json_string(v)) == NULL)
			return err_set(HSMCA_E_INVALID, "query parameter 'tag' must be UTF-8 text");
		tag_json = json_dumps(t, JSON_ENCODE_ANY | JSON_COMPACT);
		json_decref(t);
		if (tag_json == NULL)
			return HSMCA_E_NOMEM;
		f.tag_json = tag_json;
	}
	if ((v = req_query(req, "ca")) != NULL) {
		int64_t id = 0;

		rc = v[0] >= '0' && v[0] <= '9' && api_query_int("ca", v, 1, INT64_MAX / 2, 0, &id) == 0 ?
		    find_ca(req, NULL, id, &ca) : find_ca(req, v, 0, &ca);
		if (rc != 0 || (rc = auth_check_ca(req->db, &req->actor, ca->id, AUTH_READ)) != 0)
			goto out;
		f.ca_id = ca->id;
	}
	if (!auth_reads_all(&req->actor))
		f.visible_to_user = req->actor.user_id;
	if ((rc = db_certs_query_ids(req->db, &f, after, limit + 1, &ids, &n)) != 0)
		goto out;
	if ((items = json_array()) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	/* One row more than asked says whether a next page exists. */
	for (i = 0; i < n && i < (size_t)limit; i++) {
		if ((rc = db_certs_get_by_id(req->db, ids[i], &c)) != 0)
			goto out;
		if (json_array_append_new(items, cert_json(c, slug_of(req, &sc, c->ca_id), f.now_ms)) != 0) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		last = c->id;
		db_cert_free(c);
		c = NULL;
	}
	rc = api_list_resp(resp, items, n > (size_t)limit ? last : 0);
	items = NULL;
out:
	json_decref(items);
	db_cert_free(c);
	db_ca_free(ca);
	slug_cache_free(&sc);
	free(ids);
	free(tag_json);
	return rc;
}

/* The PEM of a certificate followed, with chain, by its issuer chain. */
static int
cert_pem(struct req *req, const struct db_cert *c, const struct db_ca *ca, int chain, struct buf *pem)
{
	struct hsmca_ctx *ctx = NULL;
	struct buf *ders = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = api_der_to_pem(c->der.data, c->der.len, pem)) != 0 || !chain || ca == NULL)
		return rc;
	if ((ctx = api_ctx_new(req)) == NULL)
		return HSMCA_E_NOMEM;
	if ((rc = ca_chain(ctx, ca, &ders, &n)) == 0)
		for (i = 0; i < n && rc == 0; i++)
			rc = api_der_to_pem(ders[i].data, ders[i].len, pem);
	ca_chain_free(ders, n);
	api_ctx_free(ctx);
	return rc;
}

/* A tags array as JSON text, each tag 1..API_CERTS_TAG_MAX characters. */
static int
read_tags(const json_t *body, char **out)
{
	const char **tags = NULL;
	size_t n = 0, i;
	json_t *a;
	int rc;

	*out = NULL;
	if ((rc = json_in_str_array(body, "tags", 0, API_CERTS_MAX_TAGS, API_CERTS_TAG_MAX, &tags, &n)) != 0)
		return rc;
	if (tags == NULL)
		return 0;
	if ((a = json_array()) == NULL) {
		free(tags);
		return HSMCA_E_NOMEM;
	}
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(tags[i]));
	*out = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	free(tags);
	return *out != NULL ? 0 : HSMCA_E_NOMEM;
}

int
api_certs_create(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "ca", "csr", "profile", "days", "tags", "key", "subject", "sans",
		"key_label", NULL };
	const char *ca_slug = NULL, *csr_pem, *profile_s, *key_spec, *subject, *key_label, **sans = NULL;
	struct hsmca_ctx *ctx = NULL;
	struct issue_result res;
	struct db_ca *ca = NULL;
	struct db_cert *c = NULL;
	struct buf csr_der = { 0 }, pem = { 0 };
	enum issue_profile profile;
	char *tags = NULL, label[40];
	unsigned char rnd[6];
	int64_t days, ca_id = 0;
	size_t n_sans = 0, i;
	json_t *body = NULL, *o, *jca;
	int rc;

	memset(&res, 0, sizeof(res));
	/* An auditor changes nothing: refused before the body is even read. */
	if (req->actor.role == AUTH_ROLE_AUDITOR)
		return err_set(HSMCA_E_PERM, "auditors cannot request certificates");
	if ((rc = api_body(req, keys, &body)) != 0)
		return rc;
	jca = json_object_get(body, "ca");
	if (json_is_integer(jca) && json_integer_value(jca) > 0)
		ca_id = json_integer_value(jca);
	else if ((rc = json_in_str(body, "ca", 1, 1, 63, 0, &ca_slug)) != 0)
		goto out;
	if ((rc = json_in_str(body, "csr", 0, 1, 2 * CSR_MAX_BYTES, 1, &csr_pem)) != 0 ||
	    (rc = json_in_enum(body, "profile", 0, profiles, &profile_s)) != 0 ||
	    (rc = json_in_int(body, "days", 0, 1, ISSUE_MAX_DAYS, 0, &days)) != 0 ||
	    (rc = read_tags(body, &tags)) != 0 ||
	    (rc = json_in_enum(body, "key", 0, key_specs, &key_spec)) != 0 ||
	    (rc = json_in_str(body, "subject", 0, 1, API_CERTS_SUBJECT_MAX, 0, &subject)) != 0 ||
	    (rc = json_in_str_array(body, "sans", 0, CSR_MAX_SANS, API_CERTS_SAN_MAX, &sans, &n_sans)) != 0 ||
	    (rc = json_in_str(body, "key_label", 0, 1, 64, 0, &key_label)) != 0)
		goto out;
	if ((csr_pem != NULL) == (key_spec != NULL)) {
		rc = err_set(HSMCA_E_INVALID, "give either 'csr' (a PEM request) or 'key' (server-side key generation)");
		goto out;
	}
	if (csr_pem != NULL && (subject != NULL || sans != NULL || key_label != NULL)) {
		rc = err_set(HSMCA_E_INVALID, "'subject', 'sans' and 'key_label' go with 'key', not with 'csr'");
		goto out;
	}
	if (key_spec != NULL && subject == NULL && n_sans == 0) {
		rc = err_set(HSMCA_E_INVALID, "field 'subject' is required with 'key'");
		goto out;
	}
	if ((rc = issue_profile_parse(profile_s != NULL ? profile_s : "server", &profile)) != 0)
		goto out;
	/* Which CA, and may the caller issue there: before any parsing work or token key. */
	if ((rc = find_ca(req, ca_slug, ca_id, &ca)) != 0 ||
	    (rc = auth_check_ca(req->db, &req->actor, ca->id, AUTH_ISSUE)) != 0)
		goto out;
	if (req->tok == NULL) {
		rc = err_set(HSMCA_E_TOKEN, "the token is not open");
		goto out;
	}
	if ((ctx = api_ctx_new(req)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if (csr_pem != NULL) {
		struct issue_req ir;

		if ((rc = csr_to_der((const uint8_t *)csr_pem, strlen(csr_pem), &csr_der)) != 0)
			goto out;
		memset(&ir, 0, sizeof(ir));
		ir.ca_slug = ca->slug;
		ir.ca = ca;
		ir.csr_der = csr_der.data;
		ir.csr_len = csr_der.len;
		ir.profile = profile;
		ir.days = (int)days;
		ir.requested_by = api_actor(req);
		ir.order_type = "csr";
		ir.ip = req->peer_ip;
		rc = issue_from_csr(ctx, &ir, &res);
	} else {
		struct issue_key_req kr;

		if (key_label == NULL) {
			if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
				rc = HSMCA_E_INTERNAL;
				goto out;
			}
			snprintf(label, sizeof(label), "ee-");
			for (i = 0; i < sizeof(rnd); i++)
				snprintf(label + 3 + 2 * i, 3, "%02x", rnd[i]);
			key_label = label;
		}
		memset(&kr, 0, sizeof(kr));
		kr.ca_slug = ca->slug;
		kr.key_spec = key_spec;
		kr.key_label = key_label;
		kr.subject = subject != NULL ? subject : "";
		kr.sans = sans;
		kr.n_sans = n_sans;
		kr.profile = profile;
		kr.days = (int)days;
		kr.requested_by = api_actor(req);
		kr.ip = req->peer_ip;
		rc = issue_with_token_key(ctx, &kr, &res);
	}
	if (rc != 0)
		goto out;
	/* The certificate is committed (issue.c counts it in the metrics); tags are a label on the
	 * inventory row, set right after. */
	if (tags != NULL && (rc = db_certs_query_set_tags(req->db, res.certificate_id, tags)) != 0)
		goto out;
	if ((rc = db_certs_get_by_id(req->db, res.certificate_id, &c)) != 0 ||
	    (rc = cert_pem(req, c, ca, 0, &pem)) != 0)
		goto out;
	o = cert_json(c, ca->slug, db_now_ms());
	if (o == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	json_object_set_new(o, "certificate", json_stringn((const char *)pem.data, pem.len));
	buf_free(&pem);
	if ((rc = cert_pem(req, c, ca, 1, &pem)) == 0)
		json_object_set_new(o, "chain", json_stringn((const char *)pem.data, pem.len));
	rc = resp_json(resp, 201, o);
out:
	buf_free(&pem);
	db_cert_free(c);
	issue_result_free(&res);
	buf_free(&csr_der);
	api_ctx_free(ctx);
	db_ca_free(ca);
	free(sans);
	free(tags);
	json_decref(body);
	return rc;
}

/* Loads {id} and checks the caller may read it: through its CA, or read-all for a certificate
 * with no CA of ours (discovered). */
static int
load_cert(struct req *req, struct db_cert **out, struct db_ca **ca_out)
{
	struct db_cert *c = NULL;
	int64_t id;
	int rc;

	*out = NULL;
	*ca_out = NULL;
	if ((rc = req_param_id(req, "id", &id)) != 0)
		return err_set(rc, "no certificate has id '%s'", req_param(req, "id") != NULL ? req_param(req, "id") : "");
	if ((rc = db_certs_get_by_id(req->db, id, &c)) != 0)
		return rc;
	if (c->ca_id > 0)
		rc = auth_check_ca(req->db, &req->actor, c->ca_id, AUTH_READ);
	else if (!auth_reads_all(&req->actor))
		rc = err_set(HSMCA_E_PERM, "only administrators and auditors see certificates of other issuers");
	if (rc == 0 && c->ca_id > 0 && db_cas_get_by_id(req->db, c->ca_id, ca_out) != 0)
		*ca_out = NULL;
	if (rc != 0) {
		db_cert_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* One audit row in its own transaction (views and downloads change nothing else). */
static int
audit_one(struct req *req, const char *event, const struct db_cert *c)
{
	char det[128];
	int rc;

	snprintf(det, sizeof(det), "{\"certificate_id\":%lld}", (long long)c->id);
	if ((rc = db_begin(req->db)) != 0)
		return rc;
	if ((rc = audit_write(req->db, api_actor(req), req->peer_ip, event, c->serial, det)) != 0 ||
	    (rc = db_commit(req->db)) != 0)
		db_rollback(req->db);
	return rc;
}

int
api_certs_get(struct req *req, struct resp *resp)
{
	struct db_cert *c = NULL;
	struct db_ca *ca = NULL;
	int rc;

	if ((rc = load_cert(req, &c, &ca)) != 0)
		return rc;
	if ((rc = audit_one(req, "certificate.view.accessed", c)) == 0)
		rc = resp_json(resp, 200, cert_json(c, ca != NULL ? ca->slug : NULL, db_now_ms()));
	db_ca_free(ca);
	db_cert_free(c);
	return rc;
}

int
api_certs_pem(struct req *req, struct resp *resp)
{
	struct db_cert *c = NULL;
	struct db_ca *ca = NULL;
	struct buf pem = { 0 };
	const char *chain = req_query(req, "chain");
	int rc;

	if (chain != NULL && strcmp(chain, "true") != 0 && strcmp(chain, "false") != 0)
		return err_set(HSMCA_E_INVALID, "query parameter 'chain' must be true or false");
	if ((rc = load_cert(req, &c, &ca)) != 0)
		return rc;
	if ((rc = cert_pem(req, c, ca, chain != NULL && strcmp(chain, "true") == 0, &pem)) == 0 &&
	    (rc = audit_one(req, "certificate.download.success", c)) == 0)
		rc = resp_bytes(resp, 200, "application/x-pem-file", pem.data, pem.len);
	buf_free(&pem);
	db_ca_free(ca);
	db_cert_free(c);
	return rc;
}
