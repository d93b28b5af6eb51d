/*
 * db_revocation.c: SQL for revocation codes, certificate revocation and the CRL due mark
 * (see db_revocation.h).
 */
#include <stdlib.h>

#include <sqlite3.h>

#include "db.h"
#include "db_revocation.h"
#include "err.h"

void
db_revocation_code_clear(struct db_revocation_code *c)
{
	if (c == NULL)
		return;
	free(c->code_hash);
	c->code_hash = NULL;
}

static void
bind_user(sqlite3_stmt *st, int idx, int64_t user_id)
{
	if (user_id > 0)
		sqlite3_bind_int64(st, idx, user_id);
	else
		sqlite3_bind_null(st, idx);
}

/* Runs a prepared statement that returns no row. */
int
db_revocation_codes_insert(struct db *db, int64_t cert_id, int64_t user_id, const char *code_hash,
    int64_t created_ms, int64_t expires_ms, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*id = 0;
	if ((rc = db_prepare(db, "UPDATE revocation_codes SET expires_at = ?3 WHERE certificate_id = ?1 "
	    "AND user_id IS ?2 AND used_at IS NULL AND expires_at > ?3", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, cert_id);
	bind_user(st, 2, user_id);
	sqlite3_bind_int64(st, 3, created_ms);
	if ((rc = db_step_done(db, st, "void older revocation codes")) != 0)
		return rc;
	if ((rc = db_prepare(db, "INSERT INTO revocation_codes (code_hash, certificate_id, user_id, "
	    "attempts, created_at, expires_at) VALUES (?1, ?2, ?3, 0, ?4, ?5)", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, code_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, cert_id);
	bind_user(st, 3, user_id);
	sqlite3_bind_int64(st, 4, created_ms);
	sqlite3_bind_int64(st, 5, expires_ms);
	if ((rc = db_step_done(db, st, "insert revocation code")) != 0)
		return rc;
	*id = sqlite3_last_insert_rowid(db_handle(db));
	return 0;
}

int
db_revocation_codes_live(struct db *db, int64_t cert_id, int64_t user_id, int64_t now_ms,
    int max_attempts, struct db_revocation_code *out)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	out->id = 0;
	out->code_hash = NULL;
	if ((rc = db_prepare(db, "SELECT id, code_hash, attempts, expires_at FROM revocation_codes "
	    "WHERE certificate_id = ?1 AND user_id IS ?2 AND used_at IS NULL AND expires_at > ?3 "
	    "AND attempts < ?4 ORDER BY id DESC LIMIT 1", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, cert_id);
	bind_user(st, 2, user_id);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_int(st, 4, max_attempts);
	s = sqlite3_step(st);
	if (s == SQLITE_DONE) {
		rc = HSMCA_E_NOTFOUND;
	} else if (s != SQLITE_ROW) {
		rc = db_fail(db, "read revocation code");
	} else {
		out->id = sqlite3_column_int64(st, 0);
		out->attempts = sqlite3_column_int(st, 2);
		out->expires_at_ms = sqlite3_column_int64(st, 3);
		if ((rc = db_col_strdup(st, 1, &out->code_hash)) == 0 && out->code_hash == NULL)
			rc = err_set(HSMCA_E_DB, "revocation code %lld has no hash", (long long)out->id);
	}
	db_finalize(db, st);
	if (rc != 0)
		db_revocation_code_clear(out);
	return rc;
}

int
db_revocation_codes_fail(struct db *db, int64_t code_id, int *attempts)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	*attempts = 0;
	if ((rc = db_prepare(db, "UPDATE revocation_codes SET attempts = attempts + 1 WHERE id = ?1 "
	    "RETURNING attempts", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, code_id);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		*attempts = sqlite3_column_int(st, 0);
		s = sqlite3_step(st);
	}
	rc = s == SQLITE_DONE ? 0 : db_fail(db, "count a wrong revocation code");
	db_finalize(db, st);
	return rc;
}

int
db_revocation_codes_use(struct db *db, int64_t code_id, int reason, int64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "UPDATE revocation_codes SET used_at = ?2, reason = ?3 "
	    "WHERE id = ?1 AND used_at IS NULL", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, code_id);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_int(st, 3, reason);
	if ((rc = db_step_done(db, st, "use revocation code")) != 0)
		return rc;
	if (sqlite3_changes(db_handle(db)) != 1)
		return err_set(HSMCA_E_CONFLICT, "the revocation code was already used");
	return 0;
}

int
db_revocation_codes_prune(struct db *db, int64_t older_than_ms, int64_t *deleted)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*deleted = 0;
	if ((rc = db_prepare(db, "DELETE FROM revocation_codes WHERE expires_at < ?1 OR used_at < ?1",
	    &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, older_than_ms);
	if ((rc = db_step_done(db, st, "prune revocation codes")) != 0)
		return rc;
	*deleted = sqlite3_changes(db_handle(db));
	return 0;
}

int
db_revocation_mark_revoked(struct db *db, int64_t cert_id, int64_t at_ms, int reason)
{
	sqlite3_stmt *st = NULL;
	int rc, s, revoked;

	if ((rc = db_prepare(db, "SELECT revoked_at IS NOT NULL FROM certificates WHERE id = ?1", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, cert_id);
	s = sqlite3_step(st);
	revoked = s == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	db_finalize(db, st);
	if (s == SQLITE_DONE)
		return err_set(HSMCA_E_NOTFOUND, "unknown certificate id %lld", (long long)cert_id);
	if (s != SQLITE_ROW)
		return db_fail(db, "read certificate");
	if (revoked)
		return err_set(HSMCA_E_CONFLICT, "the certificate is already revoked; revocation is permanent");
	if ((rc = db_prepare(db, "UPDATE certificates SET revoked_at = ?2, revocation_reason = ?3 "
	    "WHERE id = ?1 AND revoked_at IS NULL", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, cert_id);
	sqlite3_bind_int64(st, 2, at_ms);
	sqlite3_bind_int(st, 3, reason);
	if ((rc = db_step_done(db, st, "revoke certificate")) != 0)
		return rc;
	if (sqlite3_changes(db_handle(db)) != 1)
		return err_set(HSMCA_E_CONFLICT, "the certificate is already revoked; revocation is permanent");
	return 0;
}

int
db_revocation_mark_crl_due(struct db *db, int64_t ca_id, int64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "UPDATE cas SET crl_next_update = CASE WHEN crl_next_update IS NOT NULL "
	    "AND crl_next_update <= ?2 THEN crl_next_update - 1 ELSE ?2 END WHERE id = ?1", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	sqlite3_bind_int64(st, 2, now_ms);
	if ((rc = db_step_done(db, st, "mark CRL due")) != 0)
		return rc;
	if (sqlite3_changes(db_handle(db)) != 1)
		return err_set(HSMCA_E_NOTFOUND, "unknown CA id %lld", (long long)ca_id);
	return 0;
}

int
db_revocation_status(struct db *db, int64_t ca_id, int64_t key_gen, const char *serial_hex, int *found,
    int64_t *revoked_at_ms, int *reason)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	*found = 0;
	*revoked_at_ms = 0;
	*reason = 0;
	if ((rc = db_prepare(db, "SELECT revoked_at, revocation_reason FROM certificates "
	    "WHERE serial = ?1 AND ca_id = ?2 AND ca_key_gen = ?3", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, serial_hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ca_id);
	sqlite3_bind_int64(st, 3, key_gen);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		*found = 1;
		if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
			*revoked_at_ms = sqlite3_column_int64(st, 0);
			*reason = sqlite3_column_int(st, 1);
		}
		rc = 0;
	} else {
		rc = s == SQLITE_DONE ? 0 : db_fail(db, "read certificate status");
	}
	db_finalize(db, st);
	return rc;
}
