/*
 * audit.h: the audit trail, a hash chain in the audit table.
 *
 * Each row stores prev_hash (the previous row's hash; 64 zeros for the first row) and
 * hash = SHA-256(prev_hash || canonical encoding of id, at, actor, ip, event, object, details).
 * Editing, inserting or deleting a row breaks the chain at that row (or at the next one), which
 * audit_verify() finds. Deleting the newest rows cannot be seen from the chain alone.
 * Rows are written in the caller's transaction, so the audit row and the change it records
 * commit (or roll back) together.
 */
#ifndef HSMCA_AUDIT_H
#define HSMCA_AUDIT_H

#include <stdint.h>

struct db;

/*
 * Appends one row. Must be called inside a transaction (db_begin); HSMCA_E_INTERNAL otherwise.
 * event: "object.action.outcome" in [a-z0-9_.] (e.g. "ca.created"); actor e.g. "cli",
 * "user:alice"; ip and object may be NULL; details_json NULL means "{}". Never put a secret in
 * any field.
 */
int audit_write(struct db *db, const char *actor, const char *ip, const char *event,
    const char *object, const char *details_json);

/* Walks the whole chain. Returns 0 with *first_bad_id = 0 when intact, or 0 with the id of the
 * first row whose prev_hash or hash does not match; a negative code when the walk itself failed. */
int audit_verify(struct db *db, int64_t *first_bad_id);

#endif
