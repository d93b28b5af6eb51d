/*
 * scep.c: SCEP over HTTP, the glue between the pure protocol layer (scep_msg.h, scep_reply.h,
 * scep_caps.h), the token (tok_cms.h through the CA's RA, ra.h), authentication (scep_auth.h),
 * issuance (issue.h) and the SCEP tables (db_scep.h). See scep.h for the behaviour.
 *
 * May call: the headers above, ca.h, crl.h, db_certs.h, log.h. Must never: log or store a
 * challengePassword or Basic secret, answer a request with a certificate before it is committed,
 * or issue anything for a request whose authentication failed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "api_resources.h"
#include "ca.h"
#include "ca_rollover.h"
#include "crl.h"
#include "csr.h"
#include "db.h"
#include "db_certs.h"
#include "db_crls.h"
#include "db_scep.h"
#include "err.h"
#include "issue.h"
#include "log.h"
#include "ra.h"
#include "scep.h"
#include "scep_auth.h"
#include "scep_caps.h"
#include "scep_msg.h"
#include "scep_reply.h"
#include "tok_cms.h"
#include "x509_build.h"

#define SCEP_CT_TEXT "text/plain; charset=utf-8"

/* Everything one exchange holds. */
struct scep_state {
	struct hsmca_ctx *ctx;
	const struct scep_request *r;
	struct db_ca *ca;
	struct db_scep_ca settings;
	struct ra_info ra;
	struct buf *chain;           /* CA certificate up to the root */
	size_t n_chain;
	struct tok_cms_key ra_key;   /* RA key + cert, CA chain as extra certificates */
	struct tok_cms_key ca_key;   /* the CA's own key (RSA CAs: envelopes addressed to the CA) */
	int ca_rsa;
	struct scep_signops signer;
	int64_t basic_auth_id;       /* valid HTTP Basic credentials, else 0 */
	/* for the log row */
	const char *message_type;
	char transaction_id[SCEP_TRANSID_MAX + 1];
	const char *result;          /* "success", "failure", "pending" */
	const char *fail_info;
	int64_t order_id;
	json_t *details;
	const uint8_t *request_der;
	size_t request_len;
	/* A failed enrollment's outcome, deferred to the exchange's last transaction
	 * (finish_exchange): the SCEP transaction "failed" and a challenge use given back. An
	 * issued one commits its outcome and log row with the certificate (op_enroll): two commits
	 * per enrollment. */
	int64_t fin_tx_id;           /* 0: nothing to finish */
	const char *fin_from, *fin_to;
	char fin_error[256];
	int64_t unuse_auth_id;       /* 0: no use to give back */
	int logged;                  /* the log row was committed with the certificate (op_enroll) */
};

void
scep_response_clear(struct scep_response *r)
{
	if (r == NULL)
		return;
	buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------- base64 */

int
scep_b64_decode(const char *s, size_t max_der, struct buf *out)
{
	size_t n = strlen(s), i, o = 0, pad;
	char *clean = NULL;
	uint8_t *der = NULL;
	int len, rc;

	out->data = NULL;
	out->len = 0;
	/* Bound before decoding: 4 characters carry 3 bytes, plus line breaks. */
	if (n / 4 * 3 > max_der + max_der / 16 + 64)
		return err_set(HSMCA_E_TOOLARGE, "The SCEP message is larger than %zu bytes", max_der);
	if ((clean = malloc(n + 4)) == NULL)
		return HSMCA_E_NOMEM;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\r' || c == '\n' || c == '\t')
			continue;
		if (c == ' ' || c == '-')          /* '+' form-decoded to ' ', or base64url */
			c = '+';
		else if (c == '_')
			c = '/';
		else if (c == '=')
			break;
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
		    c == '/')) {
			rc = err_set(HSMCA_E_INVALID, "Message= is not base64");
			goto out;
		}
		clean[o++] = c;
	}
	for (; i < n; i++)
		if (s[i] != '=' && s[i] != '\r' && s[i] != '\n') {
			rc = err_set(HSMCA_E_INVALID, "Message= has data after its base64 padding");
			goto out;
		}
	if (o % 4 == 1 || o == 0) {
		rc = err_set(HSMCA_E_INVALID, "Message= is not base64");
		goto out;
	}
	pad = (4 - o % 4) % 4;
	for (i = 0; i < pad; i++)
		clean[o++] = '=';
	if ((der = malloc(o / 4 * 3 + 1)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	len = EVP_DecodeBlock(der, (const unsigned char *)clean, (int)o);
	if (len < 0 || (size_t)len < pad) {
		ERR_clear_error();
		rc = err_set(HSMCA_E_INVALID, "Message= is not base64");
		goto out;
	}
	len -= (int)pad;
	if ((size_t)len > max_der) {
		rc = err_set(HSMCA_E_TOOLARGE, "The SCEP message is larger than %zu bytes", max_der);
		goto out;
	}
	out->data = der;
	out->len = (size_t)len;
	der = NULL;
	rc = 0;
out:
	free(der);
	free(clean);
	return rc;
}

/* ---------------------------------------------------------------- answers */

static int
answer_text(struct scep_response *out, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
answer_text(struct scep_response *out, int status, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	msg[n++] = '\n';
	buf_free(&out->body);
	out->status = status;
	out->content_type = SCEP_CT_TEXT;
	return buf_set(&out->body, msg, (size_t)n);
}

static void
detail_str(struct scep_state *st, const char *key, const char *value)
{
	if (st->details != NULL && value != NULL)
		json_object_set_new(st->details, key, json_string(value));
}

/* FAILURE CertRep with failInfo (or HTTP 400 when msg cannot be answered). why: the log reason. */
static int
reply_failure(struct scep_state *st, const struct scep_msg *msg, enum scep_fail fail, const char *why,
    struct scep_response *out)
{
	int rc;

	st->result = "failure";
	st->fail_info = scep_fail_name(fail);
	detail_str(st, "error", why);
	if (msg == NULL || !msg->replyable)
		return answer_text(out, 400, "bad SCEP request: %s", why);
	buf_free(&out->body);
	if ((rc = scep_reply_failure(msg, fail, &st->signer, &out->body)) != 0)
		return answer_text(out, 500, "cannot sign the SCEP reply");
	out->status = 200;
	out->content_type = SCEP_CT_PKI_MESSAGE;
	return 0;
}

static int
reply_pending(struct scep_state *st, const struct scep_msg *msg, struct scep_response *out)
{
	st->result = "pending";
	buf_free(&out->body);
	if (scep_reply_pending(msg, &st->signer, &out->body) != 0)
		return answer_text(out, 500, "cannot sign the SCEP reply");
	out->status = 200;
	out->content_type = SCEP_CT_PKI_MESSAGE;
	return 0;
}

static int
reply_success(struct scep_state *st, const struct scep_msg *msg, const struct buf *certs, size_t n_certs,
    const struct buf *crl, struct scep_response *out)
{
	st->result = "success";
	buf_free(&out->body);
	if (scep_reply_success(msg, certs, n_certs, crl, &st->signer, &out->body) != 0) {
		detail_str(st, "error", err_msg(HSMCA_E_INTERNAL));
		return answer_text(out, 500, "cannot build the SCEP reply");
	}
	out->status = 200;
	out->content_type = SCEP_CT_PKI_MESSAGE;
	return 0;
}

/* ---------------------------------------------------------------- helpers */

/* The RA first; an RSA CA's own key when the client addressed the envelope to the CA. */
static int
decrypt_cb(void *arg, const uint8_t *env, size_t env_len, struct buf *content)
{
	struct scep_state *st = arg;
	int rc;

	rc = tok_cms_decrypt_cb(&st->ra_key, env, env_len, content);
	if (rc == HSMCA_E_INVALID && st->ca_rsa)
		rc = tok_cms_decrypt_cb(&st->ca_key, env, env_len, content);
	return rc;
}

/* Lowercase hex SHA-256 of a public key's SubjectPublicKeyInfo, as the client encoded it.
 * i2d_X509_PUBKEY writes the parsed structure back; i2d_PUBKEY would re-encode the key through
 * OpenSSL 3's encoder machinery, which costs more than the rest of this function by far. */
static int
key_hash(X509_PUBKEY *xpk, char out[X509B_SHA256_HEX])
{
	unsigned char *der = NULL;
	int n = xpk != NULL ? i2d_X509_PUBKEY(xpk, &der) : -1, rc;

	if (n <= 0) {
		ERR_clear_error();
		return err_set(HSMCA_E_INVALID, "Cannot encode the public key");
	}
	rc = x509b_sha256_hex(der, (size_t)n, out);
	OPENSSL_free(der);
	return rc;
}

/* The request's signer certificate: scep_msg_parse's decoded one (a reference of our own, so
 * callers free it alike), else decoded from its DER. */
static int
signer_x509(const struct scep_msg *msg, X509 **out)
{
	*out = NULL;
	if (msg->signer != NULL) {
		if (X509_up_ref(msg->signer) != 1)
			return HSMCA_E_NOMEM;
		*out = msg->signer;
		return 0;
	}
	return x509b_parse_cert(msg->signer_cert.data, msg->signer_cert.len, out);
}

static int
signer_key_hash(const struct scep_msg *msg, char out[X509B_SHA256_HEX])
{
	X509 *x = NULL;
	int rc;

	if ((rc = signer_x509(msg, &x)) != 0)
		return rc;
	rc = key_hash(X509_get_X509_PUBKEY(x), out);
	X509_free(x);
	return rc;
}

/* "Show content": what the request asked, never the challenge. */
static void
describe_request(struct scep_state *st, const struct scep_msg *msg, const struct csr *csr)
{
	X509 *x = NULL;
	char *s = NULL, serial[64];
	json_t *o;

	if (st->details == NULL)
		return;
	detail_str(st, "digest", msg->digest[0] != '\0' ? msg->digest : NULL);
	detail_str(st, "cipher", msg->cipher[0] != '\0' ? msg->cipher : NULL);
	if (msg->signer_cert.len > 0 && signer_x509(msg, &x) == 0) {
		o = json_object();
		if (o != NULL) {
			if (x509b_name_text(X509_get_subject_name(x), &s) == 0)
				json_object_set_new(o, "subject", json_string(s));
			free(s);
			s = NULL;
			if (x509b_name_text(X509_get_issuer_name(x), &s) == 0)
				json_object_set_new(o, "issuer", json_string(s));
			free(s);
			s = NULL;
			if (x509b_serial_hex(X509_get0_serialNumber(x), serial, sizeof(serial)) == 0)
				json_object_set_new(o, "serial", json_string(serial));
			json_object_set_new(o, "self_signed", json_boolean(X509_check_issued(x, x) == X509_V_OK));
			json_object_set_new(st->details, "signer", o);
		}
		X509_free(x);
	}
	if (csr != NULL) {
		o = json_object();
		if (o != NULL) {
			json_object_set_new(o, "subject", json_string(csr->subject));
			json_object_set_new(o, "key", json_string(csr->key_algorithm));
			if (x509b_sans_json(csr->sans, &s) == 0)
				json_object_set_new(o, "sans", json_loads(s, 0, NULL));
			free(s);
			json_object_set_new(o, "has_challenge", json_boolean(csr->challenge != NULL));
			json_object_set_new(st->details, "csr", o);
		}
	}
	ERR_clear_error();
}

/* The log row of the exchange; *details (JSON text) is the caller's to free. */
static void
write_log_row(struct scep_state *st, const struct scep_response *out, struct db_scep_log *row, char **details)
{
	memset(row, 0, sizeof(*row));
	row->peer = (char *)st->r->peer;
	row->ca_id = st->ca != NULL ? st->ca->id : 0;
	row->message_type = (char *)(st->message_type != NULL ? st->message_type : "unknown");
	row->transaction_id = st->transaction_id[0] != '\0' ? st->transaction_id : NULL;
	row->result = (char *)(st->result != NULL ? st->result : (out->status < 400 ? "success" : "failure"));
	row->fail_info = (char *)st->fail_info;
	row->order_id = st->order_id;
	row->http_status = out->status;
	if (st->details != NULL && *details == NULL)
		*details = json_dumps(st->details, JSON_COMPACT | JSON_SORT_KEYS);
	row->details = *details;
	if (st->request_der != NULL) {
		row->request_der.data = (uint8_t *)st->request_der;
		row->request_der.len = st->request_len;
	}
}

/* Records what the exchange decided (deferred SCEP transaction outcome, a challenge use given
 * back) and, when with_row, its log row, all in one transaction: one commit (fsync) instead of
 * three. It runs before the answer leaves (scep_http sends it after scep_handle returns), and the
 * certificate row was committed by issue.c before, so a crash here loses no certificate: the
 * SCEP transaction stays "processing" and the client's retry takes it over (db_scep_tx_begin). */
static void
finish_exchange(struct scep_state *st, const struct scep_response *out, int with_row)
{
	struct db *db = st->ctx->db;
	struct db_scep_log row;
	char *details = NULL;
	struct log_line l;
	int changed, rc;

	memset(&row, 0, sizeof(row));
	if (db == NULL)
		return;
	if (!with_row && st->fin_tx_id == 0 && st->unuse_auth_id == 0)
		return;
	if (st->logged) {
		/* Outcome and log row went into the certificate's commit (enroll_store). */
		write_log_row(st, out, &row, &details);
		goto line;
	}
	if ((rc = db_begin(db)) != 0)
		goto logged;
	if (st->fin_tx_id != 0 && (rc = db_scep_tx_finish(db, st->fin_tx_id, st->fin_from, st->fin_to, 0, 0,
	    st->fin_error[0] != '\0' ? st->fin_error : NULL, NULL, &changed)) != 0)
		goto logged;
	if (st->unuse_auth_id != 0 && (rc = db_scep_auth_unconsume(db, st->unuse_auth_id)) != 0)
		goto logged;
	if (!with_row) {
		rc = db_commit(db);
		goto logged;
	}
	write_log_row(st, out, &row, &details);
	if ((rc = db_scep_log_insert(db, &row, NULL)) == 0)
		rc = db_commit(db);
logged:
	if (rc != 0) {
		db_rollback(db);
		log_msg(LOGL_WARNING, "scep", "scep.finish_failed", "%s", err_msg(rc));
		/* The outcome could not be stored; the exchange is still logged on its own. */
		if (with_row) {
			if (details == NULL)
				write_log_row(st, out, &row, &details);
			if (db_scep_log_insert(db, &row, NULL) != 0)
				log_msg(LOGL_WARNING, "scep", "scep.log_failed", "%s", err_msg(HSMCA_E_DB));
		}
	}
line:
	free(details);
	if (!with_row)
		return;
	log_begin(&l, st->result != NULL && strcmp(st->result, "failure") == 0 ? LOGL_NOTICE : LOGL_INFO, "scep",
	    "scep.exchange");
	log_str(&l, "ca", st->r->ca_slug);
	log_str(&l, "peer", st->r->peer);
	log_str(&l, "type", row.message_type);
	log_str(&l, "txid", row.transaction_id);
	log_str(&l, "result", row.result);
	log_str(&l, "fail_info", row.fail_info);
	log_int(&l, "status", out->status);
	log_end(&l);
}

/* ---------------------------------------------------------------- set-up */

static int
load_ca(struct scep_state *st, struct scep_response *out)
{
	struct hsmca_ctx *ctx = st->ctx;
	int rc;

	rc = ca_get_by_slug(ctx, st->r->ca_slug, &st->ca);
	if (rc == HSMCA_E_NOTFOUND)
		return answer_text(out, 404, "no CA named '%s'", st->r->ca_slug) == 0 ? 1 : HSMCA_E_NOMEM;
	if (rc != 0)
		return answer_text(out, 500, "cannot load the CA") == 0 ? 1 : HSMCA_E_NOMEM;
	if ((rc = db_scep_ca_get(ctx->db, st->ca->id, &st->settings)) != 0)
		return answer_text(out, 500, "cannot load the CA's SCEP settings") == 0 ? 1 : HSMCA_E_NOMEM;
	if (!st->settings.enabled || strcmp(st->ca->status, "active") != 0)
		return answer_text(out, 404, "SCEP is not enabled for CA '%s'", st->ca->slug) == 0 ? 1 : HSMCA_E_NOMEM;
	return 0;
}

static int
load_ra(struct scep_state *st, struct scep_response *out)
{
	int rc;

	/* load_ca read the scep_cas row already: its RA saves ra_ensure a second read. */
	if (st->settings.ra_keyref != NULL && st->settings.ra_cert_der.len > 0) {
		st->ra.keyref = st->settings.ra_keyref;
		st->ra.cert_der = st->settings.ra_cert_der;
		st->settings.ra_keyref = NULL;
		memset(&st->settings.ra_cert_der, 0, sizeof(st->settings.ra_cert_der));
	} else if ((rc = ra_ensure(st->ctx, st->ca, &st->ra)) != 0) {
		log_msg(LOGL_ERROR, "scep", "scep.ra_failed", "CA %s: %s", st->ca->slug, err_msg(rc));
		return answer_text(out, rc == HSMCA_E_TOKEN ? 503 : 500, "the CA's SCEP RA is unavailable") == 0 ?
		    1 : HSMCA_E_NOMEM;
	}
	if ((rc = ca_chain(st->ctx, st->ca, &st->chain, &st->n_chain)) != 0 || st->n_chain == 0)
		return answer_text(out, 500, "cannot load the CA chain") == 0 ? 1 : HSMCA_E_NOMEM;
	st->ra_key.tok = st->ctx->tok;
	st->ra_key.keyref = st->ra.keyref;
	st->ra_key.cert = &st->ra.cert_der;
	st->ra_key.extra_certs = st->chain;
	st->ra_key.n_extra = st->n_chain;
	st->ca_key.tok = st->ctx->tok;
	st->ca_key.keyref = st->ca->keyref;
	st->ca_key.cert = &st->chain[0];
	st->ca_rsa = strncmp(st->ca->key_spec, "rsa", 3) == 0;
	st->signer.sign = tok_cms_sign_cb;
	st->signer.arg = &st->ra_key;
	return 0;
}

/* ---------------------------------------------------------------- PKIOperation */

/* RenewalReq: the signer must be a current, unrevoked certificate of this CA, stored here, for
 * the same subject as the new request (RFC 8894 §3.3.1.2). */
static int
check_renewal_signer(struct scep_state *st, const struct scep_msg *msg, const struct csr *csr)
{
	struct db_cert *row = NULL;
	X509 *x = NULL;
	char serial[64];
	int rc;

	if ((rc = signer_x509(msg, &x)) != 0)
		goto out;
	if ((rc = x509b_serial_hex(X509_get0_serialNumber(x), serial, sizeof(serial))) != 0)
		goto out;
	rc = db_certs_get_by_serial(st->ctx->db, serial, &row);
	if (rc != 0) {
		rc = err_set(HSMCA_E_AUTH, "RenewalReq: the signer certificate was not issued here");
		goto out;
	}
	if (row->ca_id != st->ca->id || row->der.len != msg->signer_cert.len ||
	    memcmp(row->der.data, msg->signer_cert.data, row->der.len) != 0) {
		rc = err_set(HSMCA_E_AUTH, "RenewalReq: the signer certificate was not issued by this CA");
		goto out;
	}
	if (strcmp(db_cert_status(row, db_now_ms()), "active") != 0) {
		rc = err_set(HSMCA_E_AUTH, "RenewalReq: the signer certificate is %s", db_cert_status(row, db_now_ms()));
		goto out;
	}
	if (X509_NAME_cmp(X509_get_subject_name(x), X509_REQ_get_subject_name(csr->req)) != 0) {
		rc = err_set(HSMCA_E_AUTH, "RenewalReq: the new request's subject differs from the certificate's");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	db_cert_free(row);
	X509_free(x);
	return rc;
}

/* The issuance request of this exchange (profile and validity from the CA's SCEP settings);
 * by holds the requester text. */
static void
issue_req_for(struct scep_state *st, struct issue_req *ireq, char *by, size_t bysz)
{
	enum issue_profile profile = ISSUE_PROFILE_CLIENT;

	if (st->settings.profile != NULL && issue_profile_parse(st->settings.profile, &profile) != 0)
		profile = ISSUE_PROFILE_CLIENT;
	if (profile == ISSUE_PROFILE_SUBCA)
		profile = ISSUE_PROFILE_CLIENT;
	snprintf(by, bysz, "scep:%s", st->r->peer != NULL ? st->r->peer : "-");
	memset(ireq, 0, sizeof(*ireq));
	ireq->ca_slug = st->ca->slug;
	ireq->ca = st->ca;
	ireq->profile = profile;
	ireq->days = st->settings.validity_days;
	ireq->requested_by = by;
	ireq->order_type = "scep";
	ireq->ip = st->r->peer;
}

/* Manual approval's issuance (scep_decide): the stored request, in issue_from_csr's commits. */
static int
issue_for(struct scep_state *st, const struct scep_msg *msg, struct issue_result *res)
{
	struct issue_req ireq;
	char by[96];

	issue_req_for(st, &ireq, by, sizeof(by));
	ireq.csr_der = msg->content.data;
	ireq.csr_len = msg->content.len;
	return issue_from_csr(st->ctx, &ireq, res);
}

/* What enroll_store needs inside the certificate's transaction. */
struct enroll_commit {
	struct scep_state *st;
	const struct scep_response *out;
};

/* issue_job_store's hook: the SCEP transaction "issued" and the exchange's log row, in the same
 * commit as the certificate row (one commit where finish_exchange would add a second). */
static int
enroll_store(void *arg, struct db *db, const struct issue_result *res)
{
	struct enroll_commit *c = arg;
	struct scep_state *st = c->st;
	struct db_scep_log row;
	char *details = NULL;
	int changed, rc;

	if ((rc = db_scep_tx_finish(db, st->fin_tx_id, st->fin_from, "issued", res->order_id, res->certificate_id,
	    NULL, NULL, &changed)) != 0)
		return rc;
	write_log_row(st, c->out, &row, &details);
	rc = db_scep_log_insert(db, &row, NULL);
	free(details);
	return rc;
}

/*
 * PKCSReq / RenewalReq. Two commits when the request is issued at once: (1) the SCEP transaction,
 * the challenge use and the order, before anything is signed, so a one-time challenge cannot
 * authorise two certificates and a crash while signing leaves a visible "processing" order and
 * transaction that the client's retry takes over; (2) the certificate, its order "complete", the
 * audit row, the SCEP transaction "issued" and the log row (issue_job_store with enroll_store).
 * The CertRep is built between the two but leaves only after (2) committed; when (2) fails the
 * answer becomes a FAILURE and finish_exchange records the failed outcome as before.
 */
static int
op_enroll(struct scep_state *st, const struct scep_msg *msg, struct scep_response *out)
{
	struct db *db = st->ctx->db;
	struct csr *csr = NULL;
	struct issue_job *job = NULL;
	struct issue_result res;
	struct issue_req ireq;
	struct enroll_commit commit = { st, out };
	const struct buf *cert_der;
	const char *serial;
	char khash[X509B_SHA256_HEX], by[96], prep_error[256];
	int64_t auth_id = 0, tx_id = 0, order_id = 0;
	int manual = strcmp(st->settings.approval, "manual") == 0, ok = 0, changed, prep_rc = 0, reply_rc, rc;

	memset(&res, 0, sizeof(res));
	prep_error[0] = '\0';
	if ((rc = csr_parse(msg->content.data, msg->content.len, &csr)) != 0) {
		rc = reply_failure(st, msg, SCEP_FAIL_BADREQUEST, err_msg(rc), out);
		goto out;
	}
	describe_request(st, msg, csr);
	if ((rc = key_hash(X509_REQ_get_X509_PUBKEY(csr->req), khash)) != 0) {
		rc = reply_failure(st, msg, SCEP_FAIL_BADREQUEST, err_msg(rc), out);
		goto out;
	}
	/* Authentication: a RenewalReq by its signer certificate; a PKCSReq by HTTP Basic
	 * credentials or the challengePassword. */
	if (msg->type == SCEP_MSG_RENEWALREQ)
		rc = check_renewal_signer(st, msg, csr);
	else if (st->basic_auth_id != 0)
		auth_id = st->basic_auth_id, rc = 0;
	else
		rc = scep_auth_match_challenge(db, st->ca->id, msg->challenge, msg->challenge_len, &auth_id);
	if (rc != 0) {
		rc = reply_failure(st, msg, SCEP_FAIL_BADREQUEST, err_msg(rc), out);
		goto out;
	}
	/* Issuance's checks (CA, profile, SANs) with the CSR parsed above; writes nothing. A refusal
	 * is recorded on the SCEP transaction below, as any issuance failure is. */
	if (!manual) {
		issue_req_for(st, &ireq, by, sizeof(by));
		ireq.csr = csr;
		if ((prep_rc = issue_job_new(st->ctx, &ireq, &job)) != 0)
			snprintf(prep_error, sizeof(prep_error), "%s", err_msg(prep_rc));
	}
	/* Commit (1); a refused challenge use leaves the transaction "failed" in the same commit.
	 * Without manual approval it need not wait for the disk (db_begin_unsynced): nobody is
	 * told anything until the certificate's commit, which is synced and makes this one durable
	 * too. A PENDING answer does promise the client a record, so manual approval syncs. */
	if ((rc = manual ? db_begin(db) : db_begin_unsynced(db)) != 0) {
		rc = reply_failure(st, msg, SCEP_FAIL_BADREQUEST, err_msg(rc), out);
		goto out;
	}
	rc = db_scep_tx_begin(db, st->ca->id, msg->transaction_id, scep_msg_type_name(msg->type), khash,
	    manual ? "pending" : "processing", st->r->peer, csr->subject, manual ? st->request_der : NULL,
	    st->request_len, auth_id, &tx_id);
	if (rc != 0) {
		db_rollback(db);
		if (rc == HSMCA_E_BUSY)
			rc = reply_pending(st, msg, out);
		else
			rc = reply_failure(st, msg, SCEP_FAIL_BADREQUEST, err_msg(rc), out);
		goto out;
	}
	if (auth_id != 0) {
		if ((rc = db_scep_auth_consume(db, auth_id, db_now_ms(), &ok)) != 0)
			goto rollback;
		if (!ok) {
			if ((rc = db_scep_tx_finish(db, tx_id, manual ? "pending" : "processing", "failed", 0, 0,
			    "authentication entry expired, disabled or used", NULL, &changed)) != 0 ||
			    (rc = db_commit(db)) != 0)
				goto rollback;
			rc = err_set(HSMCA_E_AUTH, "SCEP authentication entry %lld is expired, disabled or already used",
			    (long long)auth_id);
			rc = reply_failure(st, msg, SCEP_FAIL_BADREQUEST, err_msg(rc), out);
			goto out;
		}
	}
	if (job != NULL && (rc = issue_job_open(st->ctx, job, &order_id)) != 0)
		goto rollback;
	if ((rc = db_commit(db)) != 0)
		goto rollback;
	if (manual) {
		detail_str(st, "approval", "manual");
		rc = reply_pending(st, msg, out);
		goto out;
	}
	/* From here a failure's outcome is committed with the log row (finish_exchange). */
	st->fin_tx_id = tx_id;
	st->fin_from = "processing";
	if (prep_rc != 0) {
		rc = prep_rc;
		err_set(rc, "%s", prep_error);
		goto failed;
	}
	if ((rc = issue_job_sign(st->ctx, job, &cert_der, &serial)) != 0)
		goto failed;
	detail_str(st, "serial", serial);
	st->order_id = order_id;
	reply_rc = reply_success(st, msg, cert_der, 1, NULL, out);
	/* Commit (2); enroll_store logs the answer just built, 200 or the 500 of a reply that could
	 * not be signed (the certificate is issued either way, as before). */
	if ((rc = issue_job_store(st->ctx, job, enroll_store, &commit, &res)) != 0) {
		st->order_id = 0;
		if (st->details != NULL)
			json_object_del(st->details, "serial");
		goto failed;
	}
	st->fin_tx_id = 0;
	st->logged = 1;
	rc = reply_rc;
	goto out;
failed:
	{
		const char *why = err_msg(rc);

		st->fin_to = "failed";
		snprintf(st->fin_error, sizeof(st->fin_error), "%s", why);
		st->unuse_auth_id = auth_id;
		rc = reply_failure(st, msg, SCEP_FAIL_BADREQUEST, why, out);
	}
	goto out;
rollback:
	db_rollback(db);
	rc = reply_failure(st, msg, SCEP_FAIL_BADREQUEST, err_msg(rc), out);
out:
	issue_result_free(&res);
	issue_job_free(job);
	csr_free(csr);
	return rc;
}

static int
op_certpoll(struct scep_state *st, const struct scep_msg *msg, struct scep_response *out)
{
	struct db_scep_tx *tx = NULL;
	struct db_cert *cert = NULL;
	char khash[X509B_SHA256_HEX];
	int rc;

	describe_request(st, msg, NULL);
	rc = db_scep_tx_get(st->ctx->db, st->ca->id, msg->transaction_id, 0, &tx);
	if (rc != 0) {
		rc = reply_failure(st, msg, SCEP_FAIL_BADCERTID, "no such transaction", out);
		goto out;
	}
	/* Only the key the transaction is about may poll it. */
	if ((rc = signer_key_hash(msg, khash)) != 0 || strcmp(khash, tx->key_sha256) != 0) {
		rc = reply_failure(st, msg, SCEP_FAIL_BADREQUEST, "CertPoll signed by another key than the request's",
		    out);
		goto out;
	}
	detail_str(st, "transaction_status", tx->status);
	if (strcmp(tx->status, "pending") == 0 || strcmp(tx->status, "processing") == 0) {
		rc = reply_pending(st, msg, out);
	} else if (strcmp(tx->status, "issued") == 0 &&
	    db_certs_get_by_id(st->ctx->db, tx->certificate_id, &cert) == 0) {
		st->order_id = tx->order_id;
		rc = reply_success(st, msg, &cert->der, 1, NULL, out);
	} else {
		rc = reply_failure(st, msg, SCEP_FAIL_BADREQUEST, tx->error != NULL ? tx->error : tx->status, out);
	}
out:
	db_cert_free(cert);
	db_scep_tx_free(tx);
	return rc;
}

static int
op_getcert(struct scep_state *st, const struct scep_msg *msg, struct scep_response *out)
{
	struct db_cert *cert = NULL;
	ASN1_INTEGER *serial = NULL;
	const unsigned char *p = msg->serial.data;
	char hex[64];
	int rc;

	describe_request(st, msg, NULL);
	if ((serial = d2i_ASN1_INTEGER(NULL, &p, (long)msg->serial.len)) == NULL ||
	    x509b_serial_hex(serial, hex, sizeof(hex)) != 0 ||
	    db_certs_get_by_serial(st->ctx->db, hex, &cert) != 0 || cert->ca_id != st->ca->id) {
		rc = reply_failure(st, msg, SCEP_FAIL_BADCERTID, "no certificate of this CA has that serial", out);
		goto out;
	}
	detail_str(st, "serial", hex);
	rc = reply_success(st, msg, &cert->der, 1, NULL, out);
out:
	ERR_clear_error();
	ASN1_INTEGER_free(serial);
	db_cert_free(cert);
	return rc;
}

/*
 * The key generation whose CRL a GetCRL wants. RFC 8894 §3.3.4: the content is the
 * IssuerAndSerialNumber of the certificate whose status the client wants, and after a rollover
 * only the CRL of the key that issued it lists it and verifies for it (crl.h). *gen: that
 * certificate's generation; 0 (the current key) when this CA issued no such serial: the request
 * still names this CA, and the current key's CRL is the one its newest certificates point to, as
 * before rollovers existed. HSMCA_E_NOTFOUND when the issuer is not this CA (a rollover keeps the
 * subject, so the current certificate's serves for every generation).
 */
static int
getcrl_gen(struct scep_state *st, const struct scep_msg *msg, int64_t *gen)
{
	X509_NAME *issuer = NULL;
	X509 *cacert = NULL;
	ASN1_INTEGER *serial = NULL;
	struct db_cert *cert = NULL;
	const unsigned char *p;
	char hex[64];
	int rc;

	*gen = 0;
	p = msg->issuer.data;
	if ((issuer = d2i_X509_NAME(NULL, &p, (long)msg->issuer.len)) == NULL) {
		rc = err_set(HSMCA_E_INVALID, "GetCRL: the issuer is not a Name");
		goto out;
	}
	if ((rc = ca_cert_get(st->ca, &cacert)) != 0)
		goto out;
	if (X509_NAME_cmp(issuer, X509_get_subject_name(cacert)) != 0) {
		rc = err_set(HSMCA_E_NOTFOUND, "GetCRL: the issuer is not this CA");
		goto out;
	}
	p = msg->serial.data;
	if ((serial = d2i_ASN1_INTEGER(NULL, &p, (long)msg->serial.len)) == NULL ||
	    x509b_serial_hex(serial, hex, sizeof(hex)) != 0) {
		rc = err_set(HSMCA_E_INVALID, "GetCRL: the serial number is not an INTEGER");
		goto out;
	}
	detail_str(st, "serial", hex);
	rc = db_certs_get_by_serial(st->ctx->db, hex, &cert);
	if (rc == HSMCA_E_NOTFOUND) {
		err_clear();
		rc = 0;
	} else if (rc == 0 && cert->ca_id == st->ca->id) {
		*gen = cert->ca_key_gen;
	}
out:
	ERR_clear_error();
	db_cert_free(cert);
	ASN1_INTEGER_free(serial);
	X509_free(cacert);
	X509_NAME_free(issuer);
	return rc;
}

static int
op_getcrl(struct scep_state *st, const struct scep_msg *msg, struct scep_response *out)
{
	struct db_crl *crl = NULL;
	int64_t gen = 0;
	int rc;

	describe_request(st, msg, NULL);
	if ((rc = getcrl_gen(st, msg, &gen)) == 0)
		rc = crl_latest_gen(st->ctx, st->ca, gen, &crl);
	if (rc != 0 || crl->der.len == 0) {
		rc = reply_failure(st, msg, SCEP_FAIL_BADCERTID, rc != 0 ? err_msg(rc) : "the CA has no CRL", out);
		goto out;
	}
	rc = reply_success(st, msg, NULL, 0, &crl->der, out);
out:
	db_crl_free(crl);
	return rc;
}

static int
pki_operation(struct scep_state *st, const uint8_t *der, size_t len, struct scep_response *out)
{
	struct scep_msg *msg = NULL;
	struct scep_keyops ops = { decrypt_cb, st };
	int rc;

	st->message_type = "PKIOperation";
	st->request_der = der;
	st->request_len = len;
	rc = scep_msg_parse(der, len, &ops, time(NULL), SCEP_MAX_SKEW_S, &msg);
	if (msg == NULL)
		return HSMCA_E_NOMEM;
	if (msg->transaction_id[0] != '\0')
		snprintf(st->transaction_id, sizeof(st->transaction_id), "%s", msg->transaction_id);
	if (rc != 0) {
		if ((unsigned)msg->type < SCEP_MSG__MAX && msg->replyable)
			st->message_type = scep_msg_type_name(msg->type);
		rc = reply_failure(st, msg, msg->fail, err_msg(rc), out);
		goto out;
	}
	st->message_type = scep_msg_type_name(msg->type);
	switch (msg->type) {
	case SCEP_MSG_PKCSREQ:
	case SCEP_MSG_RENEWALREQ:
		rc = op_enroll(st, msg, out);
		break;
	case SCEP_MSG_CERTPOLL:
		rc = op_certpoll(st, msg, out);
		break;
	case SCEP_MSG_GETCERT:
		rc = op_getcert(st, msg, out);
		break;
	case SCEP_MSG_GETCRL:
		rc = op_getcrl(st, msg, out);
		break;
	default:
		rc = reply_failure(st, msg, SCEP_FAIL_BADREQUEST, "unsupported message type", out);
		break;
	}
out:
	scep_msg_free(msg);
	return rc;
}

/* ---------------------------------------------------------------- dispatch */

static int
op_getcacert(struct scep_state *st, struct scep_response *out)
{
	const char *ct = NULL;
	int rc;

	st->message_type = "GetCACert";
	if ((rc = scep_cacert_body(&st->ra.cert_der, st->chain, st->n_chain, &out->body, &ct)) != 0)
		return answer_text(out, 500, "cannot build the CA certificates");
	st->result = "success";
	out->status = 200;
	out->content_type = ct;
	return 0;
}

static int
op_getcacaps(struct scep_state *st, struct scep_response *out)
{
	struct db_ca_next *next = NULL;
	unsigned flags = SCEP_CAPS_RENEWAL;
	int rc;

	st->message_type = "GetCACaps";
	/* GetNextCACert only while a rollover certificate waits (issue #6, RFC 8894 §3.5.2). */
	rc = db_cas_next_get(st->ctx->db, st->ca->id, &next);
	db_ca_next_free(next);
	if (rc == 0)
		flags |= SCEP_CAPS_GETNEXTCACERT;
	else if (rc != HSMCA_E_NOTFOUND)
		return answer_text(out, 500, "cannot read the CA's rollover state");
	if (scep_caps_text(flags, &out->body) != 0)
		return answer_text(out, 500, "cannot build the capabilities");
	st->result = "success";
	out->status = 200;
	out->content_type = SCEP_CT_CAPS;
	return 0;
}

/* RFC 8894 §4.7: the next RA and CA certificates, signed by the current RA; 404 without a
 * pending rollover (ca_rollover.h). */
static int
op_getnextcacert(struct scep_state *st, struct scep_response *out)
{
	struct buf *certs = NULL;
	size_t n = 0;
	int rc;

	st->message_type = "GetNextCACert";
	rc = ca_rollover_next_certs(st->ctx, st->ca, &certs, &n);
	if (rc == HSMCA_E_NOTFOUND) {
		st->result = "failure";
		rc = answer_text(out, 404, "CA '%s' has no rollover certificate", st->ca->slug);
		goto out;
	}
	if (rc != 0 || scep_nextcacert_body(certs, n, &st->signer, &out->body) != 0) {
		detail_str(st, "error", err_msg(rc != 0 ? rc : HSMCA_E_INTERNAL));
		rc = answer_text(out, 500, "cannot build the next CA certificates");
		goto out;
	}
	st->result = "success";
	out->status = 200;
	out->content_type = SCEP_CT_NEXT_CA_CERT;
out:
	ca_chain_free(certs, n);
	return rc;
}

int
scep_handle(struct hsmca_ctx *ctx, const struct scep_request *r, struct scep_response *out)
{
	struct scep_state st;
	struct buf msg = { 0 };
	const char *op = r->operation;
	size_t cap = ctx->cfg.max_scep_body_bytes > 0 ? ctx->cfg.max_scep_body_bytes : SCEP_MSG_MAX_BYTES;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.r = r;
	st.details = json_object();
	if (op == NULL || op[0] == '\0') {
		rc = answer_text(out, 400, "the operation= parameter is missing");
		goto log;
	}
	if ((rc = load_ca(&st, out)) != 0)
		goto log;
	/* Basic credentials, when sent, must be right whatever the operation (RFC 7617 §2). */
	if (r->basic_user != NULL) {
		rc = scep_auth_match_basic(ctx->db, st.ca->id, r->basic_user, r->basic_secret, r->basic_secret_len,
		    &st.basic_auth_id);
		if (rc != 0) {
			detail_str(&st, "error", err_msg(rc));
			st.result = "failure";
			st.message_type = op;
			rc = answer_text(out, 401, "unknown or disabled SCEP credentials");
			out->www_authenticate = 1;
			goto log;
		}
		json_object_set_new(st.details, "basic_auth_id", json_integer(st.basic_auth_id));
	}
	if (strcmp(op, "GetCACaps") == 0) {
		rc = op_getcacaps(&st, out);
		goto log;
	}
	if (strcmp(op, "GetCACert") != 0 && strcmp(op, "PKIOperation") != 0 && strcmp(op, "GetNextCACert") != 0) {
		st.message_type = "unknown";
		rc = answer_text(out, 400, "unknown SCEP operation");
		goto log;
	}
	if ((rc = load_ra(&st, out)) != 0)
		goto log;
	if (strcmp(op, "GetCACert") == 0) {
		rc = op_getcacert(&st, out);
		goto log;
	}
	if (strcmp(op, "GetNextCACert") == 0) {
		rc = op_getnextcacert(&st, out);
		goto log;
	}
	/* PKIOperation: the message from the POST body or from message= (GET). */
	if (r->is_post) {
		if (r->body_len > cap) {
			st.message_type = "PKIOperation";
			rc = answer_text(out, 413, "the SCEP message is larger than %zu bytes", cap);
			goto log;
		}
		rc = pki_operation(&st, r->body != NULL ? r->body : (const uint8_t *)"", r->body_len, out);
	} else {
		if (r->message == NULL) {
			st.message_type = "PKIOperation";
			rc = answer_text(out, 400, "PKIOperation by GET needs message=");
			goto log;
		}
		rc = scep_b64_decode(r->message, cap, &msg);
		if (rc != 0) {
			st.message_type = "PKIOperation";
			detail_str(&st, "error", err_msg(rc));
			rc = answer_text(out, rc == HSMCA_E_TOOLARGE ? 413 : 400, "%s", err_msg(rc));
			goto log;
		}
		rc = pki_operation(&st, msg.data, msg.len, out);
	}
log:
	if (rc == 1)
		rc = 0;
	/* A deferred outcome is stored even when no answer could be built (rc != 0). */
	finish_exchange(&st, out, rc == 0);
	buf_free(&msg);
	json_decref(st.details);
	ra_info_clear(&st.ra);
	ca_chain_free(st.chain, st.n_chain);
	db_scep_ca_clear(&st.settings);
	db_ca_free(st.ca);
	err_drain_openssl();
	ERR_clear_error();
	return rc;
}

/* ---------------------------------------------------------------- manual approval */

int
scep_decide(struct hsmca_ctx *ctx, int64_t tx_id, int approve, const char *reason, const char *actor,
    int64_t *certificate_id)
{
	struct scep_state st;
	struct scep_request r;
	struct scep_response dummy;
	struct scep_keyops ops;
	struct scep_msg *msg = NULL;
	struct db_scep_tx *tx = NULL;
	struct issue_result res;
	char rejection[320];
	int changed = 0, rc;

	*certificate_id = 0;
	memset(&st, 0, sizeof(st));
	memset(&r, 0, sizeof(r));
	memset(&dummy, 0, sizeof(dummy));
	memset(&res, 0, sizeof(res));
	if ((rc = db_scep_tx_get_id(ctx->db, tx_id, 1, &tx)) != 0)
		goto out;
	if (strcmp(tx->status, "pending") != 0) {
		rc = err_set(HSMCA_E_CONFLICT, "SCEP request %lld is %s, not pending", (long long)tx_id, tx->status);
		goto out;
	}
	if (!approve) {
		snprintf(rejection, sizeof(rejection), "rejected by an administrator%s%s", reason != NULL ? ": " : "",
		    reason != NULL ? reason : "");
		rc = db_scep_tx_finish(ctx->db, tx_id, "pending", "rejected", 0, 0, rejection, actor, &changed);
		if (rc == 0 && !changed)
			rc = err_set(HSMCA_E_CONFLICT, "SCEP request %lld was decided meanwhile", (long long)tx_id);
		goto out;
	}
	/* Claim it first, so two approvers cannot both issue. */
	if ((rc = db_scep_tx_finish(ctx->db, tx_id, "pending", "processing", 0, 0, NULL, actor, &changed)) != 0)
		goto out;
	if (!changed) {
		rc = err_set(HSMCA_E_CONFLICT, "SCEP request %lld was decided meanwhile", (long long)tx_id);
		goto out;
	}
	st.ctx = ctx;
	st.r = &r;
	r.peer = tx->peer;
	if ((rc = ca_get_by_id(ctx, tx->ca_id, &st.ca)) != 0 ||
	    (rc = db_scep_ca_get(ctx->db, tx->ca_id, &st.settings)) != 0)
		goto fail;
	r.ca_slug = st.ca->slug;
	if (load_ra(&st, &dummy) != 0) {
		rc = err_set(HSMCA_E_TOKEN, "The CA's SCEP RA is unavailable");
		goto fail;
	}
	/* The request was kept enveloped to the RA (no challenge in clear at rest): open it again. */
	ops.decrypt = decrypt_cb;
	ops.arg = &st;
	rc = scep_msg_parse(tx->request_der.data, tx->request_der.len, &ops, 0, 0, &msg);
	if (rc != 0 || msg == NULL) {
		rc = err_set(rc != 0 ? rc : HSMCA_E_NOMEM, "the stored SCEP request no longer parses");
		goto fail;
	}
	if ((rc = issue_for(&st, msg, &res)) != 0)
		goto fail;
	(void)db_scep_tx_finish(ctx->db, tx_id, "processing", "issued", res.order_id, res.certificate_id, NULL,
	    NULL, &changed);
	*certificate_id = res.certificate_id;
	rc = 0;
	goto out;
fail:
	{
		char why[256];

		snprintf(why, sizeof(why), "%s", err_msg(rc));
		(void)db_scep_tx_finish(ctx->db, tx_id, "processing", "failed", 0, 0, why, NULL, &changed);
		err_set(rc, "%s", why);
	}
out:
	issue_result_free(&res);
	scep_msg_free(msg);
	scep_response_clear(&dummy);
	db_scep_tx_free(tx);
	ra_info_clear(&st.ra);
	ca_chain_free(st.chain, st.n_chain);
	db_scep_ca_clear(&st.settings);
	db_ca_free(st.ca);
	return rc;
}

/* ---------------------------------------------------------------- HTTP */

/* "Basic base64(user:secret)"; the secret is wiped by the caller. */
static int
parse_basic(const char *h, char **user, uint8_t **secret, size_t *secret_len)
{
	struct buf dec = { 0 };
	uint8_t *colon;
	int rc;

	*user = NULL;
	*secret = NULL;
	*secret_len = 0;
	if (strncasecmp(h, "Basic ", 6) != 0)
		return HSMCA_E_INVALID;
	h += 6;
	while (*h == ' ')
		h++;
	if ((rc = scep_b64_decode(h, 1024, &dec)) != 0)
		return HSMCA_E_INVALID;
	colon = memchr(dec.data, ':', dec.len);
	if (colon == NULL || memchr(dec.data, '\0', dec.len) != NULL) {
		buf_free(&dec);
		return HSMCA_E_INVALID;
	}
	*colon = '\0';
	if ((*user = strdup((const char *)dec.data)) == NULL ||
	    (*secret = malloc(dec.len - (size_t)(colon + 1 - dec.data) + 1)) == NULL) {
		free(*user);
		*user = NULL;
		buf_free(&dec);
		return HSMCA_E_NOMEM;
	}
	*secret_len = dec.len - (size_t)(colon + 1 - dec.data);
	memcpy(*secret, colon + 1, *secret_len);
	(*secret)[*secret_len] = '\0';
	buf_free(&dec);
	return 0;
}

int
scep_http(struct req *req, struct resp *resp)
{
	struct scep_request r;
	struct scep_response out;
	struct hsmca_ctx *ctx = NULL;
	const char *auth = req_header(req, "Authorization");
	char *user = NULL;
	uint8_t *secret = NULL;
	size_t secret_len = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&out, 0, sizeof(out));
	r.ca_slug = req_param(req, "slug");
	r.operation = req_query(req, "operation");
	r.message = req_query(req, "message");
	r.is_post = strcmp(req->method, "POST") == 0;
	r.body = req->body;
	r.body_len = req->body_len;
	r.peer = req->peer_ip;
	if (auth != NULL) {
		rc = parse_basic(auth, &user, &secret, &secret_len);
		if (rc == HSMCA_E_NOMEM)
			return rc;
		if (rc != 0)
			return resp_bytes(resp, 401, SCEP_CT_TEXT, "malformed Authorization header\n", 31) == 0 &&
			    resp_header(resp, "WWW-Authenticate", "Basic realm=\"scep\"") == 0 ? 0 : HSMCA_E_NOMEM;
		r.basic_user = user;
		r.basic_secret = secret;
		r.basic_secret_len = secret_len;
	}
	if ((ctx = api_ctx_new(req)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = scep_handle(ctx, &r, &out)) != 0)
		goto out;
	if ((rc = resp_bytes(resp, out.status, out.content_type, out.body.data, out.body.len)) != 0)
		goto out;
	if (out.www_authenticate)
		rc = resp_header(resp, "WWW-Authenticate", "Basic realm=\"scep\"");
out:
	scep_response_clear(&out);
	api_ctx_free(ctx);
	free(user);
	if (secret != NULL)
		OPENSSL_clear_free(secret, secret_len + 1);
	return rc;
}
