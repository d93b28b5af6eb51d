/*
 * api_keys.c: /api/v1/keys (the token's private keys: list, generate) and /api/v1/csr
 * (HSM-based CSR generation: the token signs a PKCS#10 request with one of its keys).
 * May call: tok.h (list, generate, make_csr), db_cas.h (which CA uses a key), audit.h, json_in.h.
 * Must never: return key material; only key references, labels and attributes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api.h"
#include "api_resources.h"
#include "audit.h"
#include "auth.h"
#include "csr.h"
#include "db.h"
#include "db_cas.h"
#include "err.h"
#include "json_in.h"
#include "tok.h"

#define API_KEYS_LABEL_MAX 64
#define API_KEYS_KEYREF_MAX 1024

static const char *const key_specs[] = { "rsa-2048", "rsa-3072", "rsa-4096", "ec-256", "ec-384", NULL };

int
api_keys_list(struct req *req, struct resp *resp)
{
	struct tok_key_info *keys = NULL;
	struct db_ca **cas = NULL;
	size_t n = 0, n_cas = 0, i, j;
	const char *used_by;
	json_t *items = NULL;
	int rc;

	if ((rc = auth_check(&req->actor, AUTH_READ)) != 0)
		return rc;
	if (req->tok == NULL)
		return err_set(HSMCA_E_TOKEN, "the token is not open");
	if ((rc = tok_list_keys(req->tok, &keys, &n)) != 0 || (rc = db_cas_list(req->db, &cas, &n_cas)) != 0)
		goto out;
	if ((items = json_array()) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		used_by = NULL;
		for (j = 0; j < n_cas && used_by == NULL; j++)
			if (strcmp(cas[j]->keyref, keys[i].keyref) == 0)
				used_by = cas[j]->slug;
		if (json_array_append_new(items, json_pack("{s:s,s:s,s:s,s:b,s:b,s:o}", "keyref", keys[i].keyref,
		    "label", keys[i].label != NULL ? keys[i].label : "", "spec", keys[i].spec != NULL ? keys[i].spec : "",
		    "exportable", keys[i].exportable, "sensitive", keys[i].sensitive,
		    "ca", api_str_or_null(used_by))) != 0) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
	}
	rc = api_list_resp(resp, items, 0);
	items = NULL;
out:
	json_decref(items);
	db_ca_list_free(cas, n_cas);
	tok_key_list_free(keys, n);
	return rc;
}

int
api_keys_create(struct req *req, struct resp *resp)
{
	static const char *const fields[] = { "key", "label", "exportable", NULL };
	const char *spec_s, *label;
	enum tok_key_spec spec;
	char *keyref = NULL, *det = NULL;
	json_t *body = NULL, *o;
	int exportable, rc;

	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = api_body(req, fields, &body)) != 0)
		return rc;
	if ((rc = json_in_enum(body, "key", 1, key_specs, &spec_s)) != 0 ||
	    (rc = json_in_str(body, "label", 1, 1, API_KEYS_LABEL_MAX, 0, &label)) != 0 ||
	    (rc = json_in_bool(body, "exportable", 0, 0, &exportable)) != 0 ||
	    (rc = tok_key_spec_parse(spec_s, &spec)) != 0)
		goto out;
	if (req->tok == NULL) {
		rc = err_set(HSMCA_E_TOKEN, "the token is not open");
		goto out;
	}
	if ((rc = tok_generate_key(req->tok, spec, label, exportable, &keyref)) != 0)
		goto out;
	o = json_pack("{s:s,s:s,s:s,s:b}", "keyref", keyref, "label", label, "key", spec_s, "exportable", exportable);
	det = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (det == NULL) {
		rc = HSMCA_E_NOMEM;
		goto undo;
	}
	if ((rc = db_begin(req->db)) != 0)
		goto undo;
	if ((rc = audit_write(req->db, api_actor(req), req->peer_ip, "key.generated", label, det)) != 0 ||
	    (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		goto undo;
	}
	rc = resp_json(resp, 201, json_pack("{s:s,s:s,s:s,s:b}", "keyref", keyref, "label", label, "spec", spec_s,
	    "exportable", exportable));
	goto out;
undo:
	/* No audit row, no key: a key nobody recorded must not stay on the token. */
	tok_delete_key(req->tok, keyref);
out:
	free(det);
	free(keyref);
	json_decref(body);
	return rc;
}

int
api_csr_create(struct req *req, struct resp *resp)
{
	static const char *const fields[] = { "keyref", "subject", "sans", NULL };
	const char *keyref, *subject, **sans = NULL;
	struct buf der = { 0 };
	enum tok_key_spec spec;
	const unsigned char *p;
	X509_REQ *x = NULL;
	BIO *bio = NULL;
	BUF_MEM *bm;
	size_t n_sans = 0;
	json_t *body = NULL;
	char det[128];
	int rc;

	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = api_body(req, fields, &body)) != 0)
		return rc;
	if ((rc = json_in_str(body, "keyref", 1, 8, API_KEYS_KEYREF_MAX, 0, &keyref)) != 0 ||
	    (rc = json_in_str(body, "subject", 1, 1, 1024, 0, &subject)) != 0 ||
	    (rc = json_in_str_array(body, "sans", 0, CSR_MAX_SANS, 256, &sans, &n_sans)) != 0)
		goto out;
	if (strncmp(keyref, "pkcs11:", 7) != 0) {
		rc = err_set(HSMCA_E_INVALID, "field 'keyref' must be a pkcs11: URI from GET /api/v1/keys");
		goto out;
	}
	if (req->tok == NULL) {
		rc = err_set(HSMCA_E_TOKEN, "the token is not open");
		goto out;
	}
	/* An unknown key is the caller's mistake (404), not a token failure. */
	if (tok_key_spec_of(req->tok, keyref, &spec) != 0) {
		rc = err_set(HSMCA_E_NOTFOUND, "no usable key on the token has this keyref");
		goto out;
	}
	if ((rc = tok_make_csr(req->tok, keyref, subject, sans, n_sans, &der)) != 0)
		goto out;
	p = der.data;
	rc = HSMCA_E_INTERNAL;
	if ((x = d2i_X509_REQ(NULL, &p, (long)der.len)) == NULL || (bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509_REQ(bio, x) != 1)
		goto out;
	BIO_get_mem_ptr(bio, &bm);
	snprintf(det, sizeof(det), "{\"key\":\"%s\"}", tok_key_spec_name(spec));
	if ((rc = db_begin(req->db)) != 0)
		goto out;
	if ((rc = audit_write(req->db, api_actor(req), req->peer_ip, "csr.generated", subject, det)) != 0 ||
	    (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		goto out;
	}
	rc = resp_json(resp, 200, json_pack("{s:s%,s:s}", "csr", bm->data, (size_t)bm->length, "key",
	    tok_key_spec_name(spec)));
out:
	BIO_free(bio);
	X509_REQ_free(x);
	buf_free(&der);
	free(sans);
	json_decref(body);
	return rc;
}
