/*
 * db_scep.c: SQL for scep_cas, scep_auth, scep_transactions and scep_logs (see db_scep.h).
 * May call: sqlite3, db.h, err.h. Must never: see a SCEP secret in clear (only its hash).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_scep.h"
#include "err.h"

#define DB_SCEP_TEXT_MAX 4096

/* Binds text or NULL. */
static void
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void
bind_i64_or_null(sqlite3_stmt *st, int i, int64_t v)
{
	if (v != 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static int
col_blob(sqlite3_stmt *st, int col, struct buf *out)
{
	const void *p = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);

	if (p == NULL || n <= 0)
		return 0;
	return buf_set(out, p, (size_t)n);
}

/* Runs a prepared statement that returns no rows; finalizes it. */
/* ---------------------------------------------------------------- scep_cas */

void
db_scep_ca_clear(struct db_scep_ca *c)
{
	if (c == NULL)
		return;
	free(c->ra_keyref);
	free(c->profile);
	buf_free(&c->ra_cert_der);
	memset(c, 0, sizeof(*c));
}

int
db_scep_ca_get(struct db *db, int64_t ca_id, struct db_scep_ca *out)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int rc, s;

	memset(out, 0, sizeof(*out));
	rc = db_prepare(db, "SELECT c.id, coalesce(s.enabled, 1), coalesce(s.approval, 'auto'), s.ra_keyref, "
	    "s.ra_cert_der, c.scep_profile, coalesce(c.scep_validity_days, 0) FROM cas c "
	    "LEFT JOIN scep_cas s ON s.ca_id = c.id WHERE c.id = ?", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	s = sqlite3_step(st);
	if (s == SQLITE_DONE) {
		rc = err_set(HSMCA_E_NOTFOUND, "No CA with id %lld", (long long)ca_id);
		goto out;
	}
	if (s != SQLITE_ROW) {
		rc = db_fail(db, "read SCEP settings");
		goto out;
	}
	out->ca_id = ca_id;
	out->enabled = sqlite3_column_int(st, 1);
	t = sqlite3_column_text(st, 2);
	snprintf(out->approval, sizeof(out->approval), "%s", t != NULL ? (const char *)t : "auto");
	out->validity_days = sqlite3_column_int(st, 6);
	if ((rc = db_col_strdup(st, 3, &out->ra_keyref)) != 0 || (rc = col_blob(st, 4, &out->ra_cert_der)) != 0 ||
	    (rc = db_col_strdup(st, 5, &out->profile)) != 0)
		goto out;
	rc = 0;
out:
	db_finalize(db, st);
	if (rc != 0)
		db_scep_ca_clear(out);
	return rc;
}

int
db_scep_ca_set(struct db *db, int64_t ca_id, int enabled, const char *approval)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = db_prepare(db, "INSERT INTO scep_cas (ca_id, enabled, approval, updated_at) "
	    "VALUES (?1, coalesce(?2, 1), coalesce(?3, 'auto'), ?4) ON CONFLICT (ca_id) DO UPDATE SET "
	    "enabled = coalesce(?2, enabled), approval = coalesce(?3, approval), updated_at = ?4", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	if (enabled >= 0)
		sqlite3_bind_int(st, 2, enabled ? 1 : 0);
	bind_text(st, 3, approval);
	sqlite3_bind_int64(st, 4, db_now_ms());
	return db_step_done(db, st, "store SCEP settings");
}

int
db_scep_ra_store(struct db *db, int64_t ca_id, const char *keyref, const uint8_t *cert_der, size_t cert_len,
    int *stored)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*stored = 0;
	rc = db_prepare(db, "INSERT INTO scep_cas (ca_id, ra_keyref, ra_cert_der, ra_created_at, updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (ca_id) DO UPDATE SET ra_keyref = ?2, ra_cert_der = ?3, "
	    "ra_created_at = ?4, updated_at = ?4 WHERE scep_cas.ra_keyref IS NULL", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	sqlite3_bind_text(st, 2, keyref, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, cert_der, (int)cert_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, db_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "store SCEP RA");
	else
		*stored = sqlite3_changes(db_handle(db)) > 0;
	db_finalize(db, st);
	return rc;
}

/* ---------------------------------------------------------------- scep_auth */

#define AUTH_COLS "a.id, a.name, a.ca_id, c.slug, a.secret_hash, a.enabled, a.reusable, a.expires_at, " \
	"a.used_at, a.use_count, a.created_by, a.created_at FROM scep_auth a JOIN cas c ON c.id = a.ca_id"

void
db_scep_auth_free(struct db_scep_auth *a)
{
	if (a == NULL)
		return;
	free(a->name);
	free(a->ca_slug);
	free(a->secret_hash);
	free(a->created_by);
	free(a);
}

void
db_scep_auth_list_free(struct db_scep_auth **a, size_t n)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < n; i++)
		db_scep_auth_free(a[i]);
	free(a);
}

static int
auth_from_row(sqlite3_stmt *st, struct db_scep_auth **out)
{
	struct db_scep_auth *a;
	int rc;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return HSMCA_E_NOMEM;
	a->id = sqlite3_column_int64(st, 0);
	a->ca_id = sqlite3_column_int64(st, 2);
	a->enabled = sqlite3_column_int(st, 5);
	a->reusable = sqlite3_column_int(st, 6);
	a->expires_at_ms = sqlite3_column_int64(st, 7);
	a->used_at_ms = sqlite3_column_int64(st, 8);
	a->use_count = sqlite3_column_int64(st, 9);
	a->created_at_ms = sqlite3_column_int64(st, 11);
	if ((rc = db_col_strdup(st, 1, &a->name)) != 0 || (rc = db_col_strdup(st, 3, &a->ca_slug)) != 0 ||
	    (rc = db_col_strdup(st, 4, &a->secret_hash)) != 0 || (rc = db_col_strdup(st, 10, &a->created_by)) != 0) {
		db_scep_auth_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

/* Collects the rows of a prepared SELECT AUTH_COLS statement; finalizes it. */
static int
auth_collect(struct db *db, sqlite3_stmt *st, struct db_scep_auth ***out, size_t *n)
{
	struct db_scep_auth **v = NULL, **nv, *a;
	size_t cnt = 0, cap = 0;
	int rc = 0, s;

	*out = NULL;
	*n = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				rc = HSMCA_E_NOMEM;
				goto out;
			}
			v = nv;
		}
		if ((rc = auth_from_row(st, &a)) != 0)
			goto out;
		v[cnt++] = a;
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(db, "list SCEP authentication entries");
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
out:
	db_finalize(db, st);
	if (v != NULL)
		db_scep_auth_list_free(v, cnt);
	return rc;
}

static int
auth_one(struct db *db, sqlite3_stmt *st, struct db_scep_auth **out)
{
	int rc, s;

	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		rc = auth_from_row(st, out);
	else if (s == SQLITE_DONE)
		rc = err_set(HSMCA_E_NOTFOUND, "No such SCEP authentication entry");
	else
		rc = db_fail(db, "read SCEP authentication entry");
	db_finalize(db, st);
	return rc;
}

int
db_scep_auth_insert(struct db *db, const char *name, int64_t ca_id, const char *secret_hash, int reusable,
    int64_t expires_at_ms, const char *created_by, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*id = 0;
	if (strlen(name) > DB_SCEP_TEXT_MAX || (created_by != NULL && strlen(created_by) > DB_SCEP_TEXT_MAX))
		return err_set(HSMCA_E_INVALID, "SCEP authentication entry: text too long");
	rc = db_prepare(db, "INSERT INTO scep_auth (name, ca_id, secret_hash, enabled, reusable, expires_at, "
	    "created_by, created_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?)", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ca_id);
	sqlite3_bind_text(st, 3, secret_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, reusable ? 1 : 0);
	bind_i64_or_null(st, 5, expires_at_ms);
	bind_text(st, 6, created_by);
	sqlite3_bind_int64(st, 7, db_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, "insert SCEP authentication entry");
		if (rc == HSMCA_E_EXISTS)
			err_set(rc, "The CA already has a SCEP authentication entry named '%s'", name);
	} else {
		*id = sqlite3_last_insert_rowid(db_handle(db));
	}
	db_finalize(db, st);
	return rc;
}

int
db_scep_auth_get(struct db *db, int64_t id, struct db_scep_auth **out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_prepare(db, "SELECT " AUTH_COLS " WHERE a.id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return auth_one(db, st, out);
}

int
db_scep_auth_get_by_name(struct db *db, int64_t ca_id, const char *name, struct db_scep_auth **out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_prepare(db, "SELECT " AUTH_COLS " WHERE a.ca_id = ? AND a.name = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return auth_one(db, st, out);
}

int
db_scep_auth_list(struct db *db, int64_t ca_id, int64_t after, int limit, struct db_scep_auth ***out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(db, "SELECT " AUTH_COLS " WHERE a.id > ?1 AND (?2 = 0 OR a.ca_id = ?2) "
	    "ORDER BY a.id LIMIT ?3", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, ca_id);
	sqlite3_bind_int(st, 3, limit);
	return auth_collect(db, st, out, n);
}

int
db_scep_auth_candidates(struct db *db, int64_t ca_id, struct db_scep_auth ***out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(db, "SELECT " AUTH_COLS " WHERE a.ca_id = ? AND a.enabled = 1 ORDER BY a.id", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	return auth_collect(db, st, out, n);
}

/* Runs an UPDATE/DELETE of one row by id; HSMCA_E_NOTFOUND when nothing matched. */
static int
change_one(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = 0;

	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, what);
	else if (sqlite3_changes(db_handle(db)) == 0)
		rc = err_set(HSMCA_E_NOTFOUND, "No such SCEP authentication entry");
	db_finalize(db, st);
	return rc;
}

int
db_scep_auth_set_enabled(struct db *db, int64_t id, int enabled)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "UPDATE scep_auth SET enabled = ? WHERE id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int(st, 1, enabled ? 1 : 0);
	sqlite3_bind_int64(st, 2, id);
	return change_one(db, st, "update SCEP authentication entry");
}

int
db_scep_auth_delete(struct db *db, int64_t id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "DELETE FROM scep_auth WHERE id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return change_one(db, st, "delete SCEP authentication entry");
}

int
db_scep_auth_consume(struct db *db, int64_t id, int64_t now_ms, int *ok)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*ok = 0;
	/* One statement: the check and the count happen under SQLite's write lock, so two requests
	 * racing for a one-time secret cannot both pass. */
	if ((rc = db_prepare(db, "UPDATE scep_auth SET use_count = use_count + 1, used_at = ?1 WHERE id = ?2 "
	    "AND enabled = 1 AND (reusable = 1 OR use_count = 0) AND (expires_at IS NULL OR expires_at > ?1)",
	    &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, id);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "use SCEP authentication entry");
	else
		*ok = sqlite3_changes(db_handle(db)) == 1;
	db_finalize(db, st);
	return rc;
}

int
db_scep_auth_unconsume(struct db *db, int64_t id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "UPDATE scep_auth SET use_count = use_count - 1 WHERE id = ? AND use_count > 0",
	    &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return db_step_done(db, st, "give back a SCEP authentication use");
}

/* ---------------------------------------------------------------- scep_transactions */

#define TX_COLS "id, ca_id, transaction_id, message_type, key_sha256, status, peer, subject, auth_id, " \
	"order_id, certificate_id, error, decided_by, created_at, updated_at"

void
db_scep_tx_free(struct db_scep_tx *t)
{
	if (t == NULL)
		return;
	free(t->transaction_id);
	free(t->message_type);
	free(t->key_sha256);
	free(t->status);
	free(t->peer);
	free(t->subject);
	free(t->error);
	free(t->decided_by);
	buf_free(&t->request_der);
	free(t);
}

void
db_scep_tx_list_free(struct db_scep_tx **t, size_t n)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < n; i++)
		db_scep_tx_free(t[i]);
	free(t);
}

static int
tx_from_row(sqlite3_stmt *st, int with_der, struct db_scep_tx **out)
{
	struct db_scep_tx *t;
	int rc;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return HSMCA_E_NOMEM;
	t->id = sqlite3_column_int64(st, 0);
	t->ca_id = sqlite3_column_int64(st, 1);
	t->auth_id = sqlite3_column_int64(st, 8);
	t->order_id = sqlite3_column_int64(st, 9);
	t->certificate_id = sqlite3_column_int64(st, 10);
	t->created_at_ms = sqlite3_column_int64(st, 13);
	t->updated_at_ms = sqlite3_column_int64(st, 14);
	if ((rc = db_col_strdup(st, 2, &t->transaction_id)) != 0 || (rc = db_col_strdup(st, 3, &t->message_type)) != 0 ||
	    (rc = db_col_strdup(st, 4, &t->key_sha256)) != 0 || (rc = db_col_strdup(st, 5, &t->status)) != 0 ||
	    (rc = db_col_strdup(st, 6, &t->peer)) != 0 || (rc = db_col_strdup(st, 7, &t->subject)) != 0 ||
	    (rc = db_col_strdup(st, 11, &t->error)) != 0 || (rc = db_col_strdup(st, 12, &t->decided_by)) != 0 ||
	    (with_der && (rc = col_blob(st, 15, &t->request_der)) != 0)) {
		db_scep_tx_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

static int
tx_one(struct db *db, sqlite3_stmt *st, int with_der, struct db_scep_tx **out)
{
	int rc, s;

	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		rc = tx_from_row(st, with_der, out);
	else if (s == SQLITE_DONE)
		rc = err_set(HSMCA_E_NOTFOUND, "No such SCEP transaction");
	else
		rc = db_fail(db, "read SCEP transaction");
	db_finalize(db, st);
	return rc;
}

int
db_scep_tx_get(struct db *db, int64_t ca_id, const char *transaction_id, int with_der, struct db_scep_tx **out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_prepare(db, "SELECT " TX_COLS ", request_der FROM scep_transactions "
	    "WHERE ca_id = ? AND transaction_id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	sqlite3_bind_text(st, 2, transaction_id, -1, SQLITE_STATIC);
	return tx_one(db, st, with_der, out);
}

int
db_scep_tx_get_id(struct db *db, int64_t id, int with_der, struct db_scep_tx **out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_prepare(db, "SELECT " TX_COLS ", request_der FROM scep_transactions WHERE id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return tx_one(db, st, with_der, out);
}

int
db_scep_tx_begin(struct db *db, int64_t ca_id, const char *transaction_id, const char *message_type,
    const char *key_sha256, const char *status, const char *peer, const char *subject,
    const uint8_t *request_der, size_t request_len, int64_t auth_id, int64_t *id)
{
	struct db_scep_tx *old = NULL;
	sqlite3_stmt *st = NULL;
	int rc, s;

	*id = 0;
	/* The upsert only takes over a row with the same key that is not pending; when it changed
	 * nothing, the existing row says why (read in the same statement's aftermath: a racing
	 * writer can only have made it pending or re-keyed it, both of which are refusals too). */
	rc = db_prepare(db, "INSERT INTO scep_transactions (ca_id, transaction_id, message_type, key_sha256, status, "
	    "peer, subject, request_der, auth_id, created_at, updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?10) "
	    "ON CONFLICT (ca_id, transaction_id) DO UPDATE SET message_type = ?3, status = ?5, peer = ?6, "
	    "subject = ?7, request_der = ?8, auth_id = ?9, order_id = NULL, certificate_id = NULL, error = NULL, "
	    "decided_by = NULL, updated_at = ?10 "
	    "WHERE scep_transactions.key_sha256 = ?4 AND scep_transactions.status <> 'pending' "
	    "RETURNING id", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	sqlite3_bind_text(st, 2, transaction_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, message_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, key_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, status, -1, SQLITE_STATIC);
	bind_text(st, 6, peer);
	bind_text(st, 7, subject);
	if (request_der != NULL)
		sqlite3_bind_blob(st, 8, request_der, (int)request_len, SQLITE_STATIC);
	bind_i64_or_null(st, 9, auth_id);
	sqlite3_bind_int64(st, 10, db_now_ms());
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		while (sqlite3_step(st) == SQLITE_ROW)
			;
		db_finalize(db, st);
		return 0;
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(db, "record SCEP transaction");
		db_finalize(db, st);
		return rc;
	}
	db_finalize(db, st);
	if ((rc = db_scep_tx_get(db, ca_id, transaction_id, 0, &old)) != 0)
		return rc == HSMCA_E_NOTFOUND ? err_set(HSMCA_E_BUSY, "SCEP transaction changed meanwhile") : rc;
	if (strcmp(old->key_sha256, key_sha256) != 0)
		rc = err_set(HSMCA_E_CONFLICT, "TransactionID %s is already in use with another key", transaction_id);
	else
		rc = err_set(HSMCA_E_BUSY, "TransactionID %s is awaiting approval", transaction_id);
	db_scep_tx_free(old);
	return rc;
}

int
db_scep_tx_finish(struct db *db, int64_t id, const char *from_status, const char *status, int64_t order_id,
    int64_t certificate_id, const char *error, const char *decided_by, int *changed)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*changed = 0;
	if ((rc = db_prepare(db, "UPDATE scep_transactions SET status = ?1, order_id = coalesce(?2, order_id), "
	    "certificate_id = coalesce(?3, certificate_id), error = coalesce(?4, error), "
	    "decided_by = coalesce(?5, decided_by), updated_at = ?6 WHERE id = ?7 AND status = ?8", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	bind_i64_or_null(st, 2, order_id);
	bind_i64_or_null(st, 3, certificate_id);
	bind_text(st, 4, error);
	bind_text(st, 5, decided_by);
	sqlite3_bind_int64(st, 6, db_now_ms());
	sqlite3_bind_int64(st, 7, id);
	sqlite3_bind_text(st, 8, from_status, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "update SCEP transaction");
	else
		*changed = sqlite3_changes(db_handle(db)) == 1;
	db_finalize(db, st);
	return rc;
}

int
db_scep_tx_list(struct db *db, const char *status, int64_t ca_id, int64_t after, int limit,
    struct db_scep_tx ***out, size_t *n)
{
	struct db_scep_tx **v = NULL, **nv, *t;
	sqlite3_stmt *st = NULL;
	size_t cnt = 0, cap = 0;
	int rc, s;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(db, "SELECT " TX_COLS ", NULL FROM scep_transactions WHERE id > ?1 "
	    "AND (?2 IS NULL OR status = ?2) AND (?3 = 0 OR ca_id = ?3) ORDER BY id LIMIT ?4", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, after);
	bind_text(st, 2, status);
	sqlite3_bind_int64(st, 3, ca_id);
	sqlite3_bind_int(st, 4, limit);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				rc = HSMCA_E_NOMEM;
				goto out;
			}
			v = nv;
		}
		if ((rc = tx_from_row(st, 0, &t)) != 0)
			goto out;
		v[cnt++] = t;
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(db, "list SCEP transactions");
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
out:
	db_finalize(db, st);
	if (v != NULL)
		db_scep_tx_list_free(v, cnt);
	return rc;
}

/* ---------------------------------------------------------------- scep_logs */

#define LOG_COLS "id, at, peer, ca_id, message_type, transaction_id, result, fail_info, order_id, " \
	"http_status, details"

void
db_scep_log_free(struct db_scep_log *l)
{
	if (l == NULL)
		return;
	free(l->peer);
	free(l->message_type);
	free(l->transaction_id);
	free(l->result);
	free(l->fail_info);
	free(l->details);
	buf_free(&l->request_der);
	free(l);
}

void
db_scep_log_list_free(struct db_scep_log **l, size_t n)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < n; i++)
		db_scep_log_free(l[i]);
	free(l);
}

int
db_scep_log_insert(struct db *db, const struct db_scep_log *row, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (id != NULL)
		*id = 0;
	if ((rc = db_prepare(db, "INSERT INTO scep_logs (at, peer, ca_id, message_type, transaction_id, result, "
	    "fail_info, order_id, request_der, details, http_status) VALUES (?,?,?,?,?,?,?,?,?,?,?)", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, row->at_ms != 0 ? row->at_ms : db_now_ms());
	bind_text(st, 2, row->peer);
	bind_i64_or_null(st, 3, row->ca_id);
	bind_text(st, 4, row->message_type);
	bind_text(st, 5, row->transaction_id);
	sqlite3_bind_text(st, 6, row->result, -1, SQLITE_STATIC);
	bind_text(st, 7, row->fail_info);
	bind_i64_or_null(st, 8, row->order_id);
	if (row->request_der.data != NULL)
		sqlite3_bind_blob(st, 9, row->request_der.data, (int)row->request_der.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, row->details != NULL ? row->details : "{}", -1, SQLITE_STATIC);
	bind_i64_or_null(st, 11, row->http_status);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "insert SCEP log");
	else if (id != NULL)
		*id = sqlite3_last_insert_rowid(db_handle(db));
	db_finalize(db, st);
	return rc;
}

static int
log_from_row(sqlite3_stmt *st, int with_der, struct db_scep_log **out)
{
	struct db_scep_log *l;
	int rc;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return HSMCA_E_NOMEM;
	l->id = sqlite3_column_int64(st, 0);
	l->at_ms = sqlite3_column_int64(st, 1);
	l->ca_id = sqlite3_column_int64(st, 3);
	l->order_id = sqlite3_column_int64(st, 8);
	l->http_status = sqlite3_column_int(st, 9);
	if ((rc = db_col_strdup(st, 2, &l->peer)) != 0 || (rc = db_col_strdup(st, 4, &l->message_type)) != 0 ||
	    (rc = db_col_strdup(st, 5, &l->transaction_id)) != 0 || (rc = db_col_strdup(st, 6, &l->result)) != 0 ||
	    (rc = db_col_strdup(st, 7, &l->fail_info)) != 0 || (rc = db_col_strdup(st, 10, &l->details)) != 0 ||
	    (with_der && (rc = col_blob(st, 11, &l->request_der)) != 0)) {
		db_scep_log_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int
db_scep_log_list(struct db *db, const struct db_scep_log_filter *f, struct db_scep_log ***out, size_t *n)
{
	struct db_scep_log **v = NULL, **nv, *l;
	sqlite3_stmt *st = NULL;
	size_t cnt = 0, cap = 0;
	int rc, s;

	*out = NULL;
	*n = 0;
	if ((rc = db_prepare(db, "SELECT " LOG_COLS " FROM scep_logs WHERE (?1 = 0 OR id < ?1) "
	    "AND (?2 = 0 OR ca_id = ?2) AND (?3 IS NULL OR message_type = ?3) AND (?4 IS NULL OR result = ?4) "
	    "AND (?5 IS NULL OR transaction_id = ?5) AND (?6 = 0 OR at >= ?6) AND (?7 = 0 OR at < ?7) "
	    "ORDER BY id DESC LIMIT ?8", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, f->before);
	sqlite3_bind_int64(st, 2, f->ca_id);
	bind_text(st, 3, f->message_type);
	bind_text(st, 4, f->result);
	bind_text(st, 5, f->transaction_id);
	sqlite3_bind_int64(st, 6, f->since_ms);
	sqlite3_bind_int64(st, 7, f->until_ms);
	sqlite3_bind_int(st, 8, f->limit);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				rc = HSMCA_E_NOMEM;
				goto out;
			}
			v = nv;
		}
		if ((rc = log_from_row(st, 0, &l)) != 0)
			goto out;
		v[cnt++] = l;
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(db, "list SCEP logs");
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
out:
	db_finalize(db, st);
	if (v != NULL)
		db_scep_log_list_free(v, cnt);
	return rc;
}

int
db_scep_log_get(struct db *db, int64_t id, int with_der, struct db_scep_log **out)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	*out = NULL;
	if ((rc = db_prepare(db, "SELECT " LOG_COLS ", request_der FROM scep_logs WHERE id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		rc = log_from_row(st, with_der, out);
	else if (s == SQLITE_DONE)
		rc = err_set(HSMCA_E_NOTFOUND, "No SCEP log entry %lld", (long long)id);
	else
		rc = db_fail(db, "read SCEP log");
	db_finalize(db, st);
	return rc;
}
