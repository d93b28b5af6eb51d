/*
 * db.h: the SQLite store. Opening, pragmas, migrations, transactions.
 *
 * Only db.c and db_<aggregate>.c include sqlite3.h; everything else calls their functions.
 * One struct db is one connection: use it from one thread at a time (the daemon gives each
 * worker thread its own). Schema changes are migrations keyed by PRAGMA user_version.
 * SQL stays portable (no SQLite-only syntax beyond what a PostgreSQL port can mirror) because
 * DESIGN.md plans a shared PostgreSQL store later.
 */
#ifndef HSMCA_DB_H
#define HSMCA_DB_H

#include <stdint.h>

struct db;
struct sqlite3;
struct sqlite3_stmt;

/* Opens (creating if missing) the database at path with WAL, foreign keys on, busy_timeout, and
 * applies pending migrations in one transaction each. Refuses a database newer than this binary. */
int db_open(const char *path, struct db **out);
void db_close(struct db *db);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. db_rollback is safe to call when no transaction is open. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* BEGIN IMMEDIATE for a transaction whose COMMIT does not wait for the disk (synchronous=NORMAL
 * for this one transaction): a power cut may lose it, never corrupt it, and the next synced
 * commit or db_sync by any connection makes it durable too (one fsync of the WAL covers every
 * frame before it). Without WAL it is a plain db_begin. Only for a record that must exist before a step but that nobody is told about until a
 * later synced commit: the order opened before a certificate is signed, whose certificate is
 * then committed synced before it is returned. db_commit/db_rollback restore FULL. */
int db_begin_unsynced(struct db *db);

/* Makes every commit so far on this database file durable: one fdatasync of the WAL, which is
 * what synchronous=FULL does inside COMMIT, done by the caller after the commit so that the
 * write lock is not held while the disk works and the next writer need not wait. An answer
 * that depends on an unsynced commit is sent only after this returned 0. */
int db_sync(struct db *db);

/* 1 when a transaction is open on this connection (audit rows insist on one). */
int db_in_transaction(struct db *db);

/* The raw connection, for db_<aggregate>.c files only. */
struct sqlite3 *db_handle(struct db *db);

/* Records a detail naming what failed ("insert certificate") and sqlite's message; returns
 * HSMCA_E_DB, or HSMCA_E_EXISTS for a UNIQUE/PRIMARY KEY violation. For db_<aggregate>.c files. */
int db_fail(struct db *db, const char *what);

/* For db_<aggregate>.c files: prepares sql (db_fail detail on error), or hands out this
 * connection's kept statement for the same SQL text. Give every statement back with
 * db_finalize, never sqlite3_finalize: a kept one is reset for the next caller. */
int db_prepare(struct db *db, const char *sql, struct sqlite3_stmt **st);
void db_finalize(struct db *db, struct sqlite3_stmt *st);

/* For db_<aggregate>.c files: malloc'd copy of a text column, NULL for SQL NULL. Returns 0 or
 * HSMCA_E_NOMEM; *out is NULL for a NULL column. */
int db_col_strdup(struct sqlite3_stmt *st, int col, char **out);

/* Steps a write statement to completion and gives it back with db_finalize (always): 0, or
 * db_fail(db, what). */
int db_step_done(struct db *db, struct sqlite3_stmt *st, const char *what);

/* Current time in milliseconds since the epoch (UTC); all stored times use it. */
int64_t db_now_ms(void);

/* The schema version this binary migrates to. */
int db_schema_version(void);

#endif
