/*
 * db.c: open the SQLite store, set its pragmas, run migrations, wrap transactions (see db.h).
 *
 * May call: sqlite3, err.h. Must never: hold SQL for one aggregate (that lives in db_<x>.c).
 *
 * Durability: journal_mode=WAL with synchronous=FULL. In WAL mode NORMAL is safe against an
 * application crash but a power loss or kernel panic may roll back the last commits; FULL syncs
 * the WAL on every commit. hsmca promises that a certificate row is committed before the
 * certificate is handed out (and that an audit row exists for each change), so a commit must
 * survive power loss: FULL it is. The cost is one fsync per commit, which is why the issue
 * path batches the certificate, the order and the audit row into one transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "err.h"

#define DB_BUSY_TIMEOUT_MS 5000
/* Prepared statements kept per connection. The appliance has about 150 distinct statements;
 * list queries built from filters add variants, which simply stop being cached once it is full. */
#define DB_STMT_SLOTS 512
#define DB_STMT_MAX 384

/* One cached statement. busy: handed out by db_prepare and not yet given back by db_finalize
 * (a second db_prepare of the same SQL meanwhile, e.g. from a nested call, gets its own). */
struct db_stmt_slot {
	sqlite3_stmt *st;
	uint32_t hash;
	int busy;
};

struct db {
	sqlite3 *h;
	struct db_stmt_slot stmts[DB_STMT_SLOTS];
	int n_stmts;
	int writing;             /* this connection holds the process's writer turn */
	int unsynced;            /* synchronous=NORMAL set by db_begin_unsynced, not yet restored */
	int wal;                 /* journal_mode is WAL (db_begin_unsynced and db_sync rely on it) */
};

/*
 * The writer turn: one write transaction at a time per process, queued here. SQLite allows one
 * writer per file anyway, but a connection that finds the lock taken waits in SQLite's busy
 * handler, which sleeps 1, 2, 5… ms between attempts; under parallel SCEP load that left a core
 * idle on most enrollments. Waiting here wakes up the moment the previous writer ends. Other
 * processes (the CLI) still meet SQLite's lock and busy_timeout. A flag and a condition, not a
 * mutex held across the transaction, so the turn has no owner thread to get wrong.
 */
static pthread_mutex_t writer_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t writer_cv = PTHREAD_COND_INITIALIZER;
static int writer_busy;

static int
writer_acquire(void)
{
	struct timespec deadline;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += DB_BUSY_TIMEOUT_MS / 1000;
	pthread_mutex_lock(&writer_mu);
	while (writer_busy && rc == 0)
		rc = pthread_cond_timedwait(&writer_cv, &writer_mu, &deadline);
	if (!writer_busy) {
		writer_busy = 1;
		rc = 0;
	}
	pthread_mutex_unlock(&writer_mu);
	return rc == 0 ? 0 : err_set(HSMCA_E_BUSY, "database: begin transaction: another write took too long");
}

static void
writer_release(struct db *db)
{
	if (!db->writing)
		return;
	db->writing = 0;
	pthread_mutex_lock(&writer_mu);
	writer_busy = 0;
	pthread_cond_signal(&writer_cv);
	pthread_mutex_unlock(&writer_mu);
}

/*
 * Migration 1: the whole data model of DESIGN.md, so later issues only add db_<aggregate>.c
 * files. Conventions: times are INTEGER milliseconds since the epoch (UTC); booleans are
 * INTEGER 0/1 with a CHECK; enumerations are TEXT with a CHECK listing the values; JSON is TEXT;
 * every foreign key column has an index (SQLite does not make one, and deletes/joins need it).
 * A certificate's status (active/expired/revoked) is NOT stored: it is derived when read from
 * revoked_at and not_after, so it can never go stale.
 */
static const char migration_1[] =
"CREATE TABLE cas ("
"  id INTEGER PRIMARY KEY,"
"  name TEXT NOT NULL UNIQUE,"
"  slug TEXT NOT NULL UNIQUE,"
"  parent_id INTEGER REFERENCES cas(id),"
"  kind TEXT NOT NULL CHECK (kind IN ('root','intermediate','imported')),"
"  subject TEXT NOT NULL,"
"  cert_der BLOB NOT NULL,"
"  fingerprint_sha256 TEXT NOT NULL UNIQUE,"
"  keyref TEXT NOT NULL,"
"  key_spec TEXT NOT NULL,"
"  not_before INTEGER NOT NULL,"
"  not_after INTEGER NOT NULL,"
"  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','disabled','retired')),"
"  crl_number INTEGER NOT NULL DEFAULT 0,"
"  crl_validity_days INTEGER,"             /* NULL: configuration default */
"  crl_next_update INTEGER,"
"  scep_enabled INTEGER NOT NULL DEFAULT 0 CHECK (scep_enabled IN (0,1)),"
"  scep_profile TEXT NOT NULL DEFAULT 'client',"
"  scep_validity_days INTEGER,"
"  created_at INTEGER NOT NULL"
");"
"CREATE INDEX cas_parent_id ON cas(parent_id);"

"CREATE TABLE orders ("
"  id INTEGER PRIMARY KEY,"
"  type TEXT NOT NULL CHECK (type IN ('local','csr','scep','renewal')),"
"  status TEXT NOT NULL CHECK (status IN ('pending','processing','complete','failed')),"
"  ca_id INTEGER REFERENCES cas(id),"
"  common_name TEXT,"
"  requested_by TEXT NOT NULL,"              /* 'user:<name>', 'token:<id>', 'scep:<peer>', 'cli' */
"  params TEXT NOT NULL DEFAULT '{}',"       /* JSON, never a secret */
"  error TEXT,"
"  certificate_id INTEGER REFERENCES certificates(id),"
"  created_at INTEGER NOT NULL,"
"  started_at INTEGER,"
"  finished_at INTEGER"
");"
"CREATE INDEX orders_ca_id ON orders(ca_id);"
"CREATE INDEX orders_certificate_id ON orders(certificate_id);"
"CREATE INDEX orders_status_created ON orders(status, created_at);"

"CREATE TABLE certificates ("
"  id INTEGER PRIMARY KEY,"
"  ca_id INTEGER REFERENCES cas(id),"        /* NULL for a discovered certificate of another issuer */
"  serial TEXT NOT NULL UNIQUE,"             /* uppercase hex, no colons */
"  subject TEXT NOT NULL,"                   /* RFC 2253 */
"  issuer TEXT NOT NULL,"
"  common_name TEXT,"
"  sans TEXT NOT NULL DEFAULT '[]',"         /* JSON array of \"DNS:x\", \"IP:y\" */
"  not_before INTEGER NOT NULL,"
"  not_after INTEGER NOT NULL,"
"  key_algorithm TEXT NOT NULL,"             /* rsa-2048, ec-256, ... */
"  digest TEXT NOT NULL,"                    /* sha256, sha384, ... */
"  fingerprint_sha256 TEXT NOT NULL UNIQUE,"
"  source TEXT NOT NULL CHECK (source IN ('managed','discovered')),"
"  profile TEXT,"
"  revoked_at INTEGER,"
"  revocation_reason INTEGER,"
"  keyref TEXT,"                             /* pkcs11: URI when the key is on the token */
"  order_id INTEGER REFERENCES orders(id),"
"  tags TEXT NOT NULL DEFAULT '[]',"
"  der BLOB NOT NULL,"
"  created_at INTEGER NOT NULL"
");"
"CREATE INDEX certificates_ca_id ON certificates(ca_id);"
"CREATE INDEX certificates_order_id ON certificates(order_id);"
"CREATE INDEX certificates_not_after ON certificates(not_after);"
"CREATE INDEX certificates_common_name ON certificates(common_name);"
"CREATE INDEX certificates_revoked ON certificates(ca_id, revoked_at);"

"CREATE TABLE crls ("
"  id INTEGER PRIMARY KEY,"
"  ca_id INTEGER NOT NULL REFERENCES cas(id),"
"  number INTEGER NOT NULL,"
"  this_update INTEGER NOT NULL,"
"  next_update INTEGER NOT NULL,"
"  entry_count INTEGER NOT NULL,"
"  der BLOB NOT NULL,"
"  created_at INTEGER NOT NULL,"
"  UNIQUE (ca_id, number)"
");"

"CREATE TABLE scep_auth ("
"  id INTEGER PRIMARY KEY,"
"  name TEXT NOT NULL,"
"  ca_id INTEGER NOT NULL REFERENCES cas(id),"
"  secret_hash TEXT NOT NULL,"
"  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0,1)),"
"  reusable INTEGER NOT NULL DEFAULT 0 CHECK (reusable IN (0,1)),"
"  expires_at INTEGER,"
"  used_at INTEGER,"
"  use_count INTEGER NOT NULL DEFAULT 0,"
"  created_by TEXT,"
"  created_at INTEGER NOT NULL,"
"  UNIQUE (ca_id, name)"
");"

"CREATE TABLE scep_logs ("
"  id INTEGER PRIMARY KEY,"
"  at INTEGER NOT NULL,"
"  peer TEXT,"
"  ca_id INTEGER REFERENCES cas(id),"
"  message_type TEXT,"
"  transaction_id TEXT,"
"  result TEXT NOT NULL,"                    /* success, failure, pending */
"  fail_info TEXT,"
"  order_id INTEGER REFERENCES orders(id),"
"  request_der BLOB"
");"
"CREATE INDEX scep_logs_ca_id_at ON scep_logs(ca_id, at);"
"CREATE INDEX scep_logs_order_id ON scep_logs(order_id);"
"CREATE INDEX scep_logs_transaction_id ON scep_logs(transaction_id);"

"CREATE TABLE users ("
"  id INTEGER PRIMARY KEY,"
"  username TEXT NOT NULL UNIQUE,"
"  email TEXT,"
"  role TEXT NOT NULL CHECK (role IN ('admin','operator','auditor')),"
"  password_hash TEXT,"
"  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0,1)),"
"  must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0,1)),"
"  failed_logins INTEGER NOT NULL DEFAULT 0,"
"  locked INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0,1)),"
"  totp_secret_enc BLOB,"
"  totp_enabled INTEGER NOT NULL DEFAULT 0 CHECK (totp_enabled IN (0,1)),"
"  last_login_at INTEGER,"
"  last_login_ip TEXT,"
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER"
");"

"CREATE TABLE teams ("
"  id INTEGER PRIMARY KEY,"
"  name TEXT NOT NULL UNIQUE,"
"  description TEXT,"
"  created_at INTEGER NOT NULL"
");"

"CREATE TABLE team_members ("
"  team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,"
"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
"  PRIMARY KEY (team_id, user_id)"
");"
"CREATE INDEX team_members_user_id ON team_members(user_id);"

"CREATE TABLE team_cas ("
"  team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,"
"  ca_id INTEGER NOT NULL REFERENCES cas(id) ON DELETE CASCADE,"
"  PRIMARY KEY (team_id, ca_id)"
");"
"CREATE INDEX team_cas_ca_id ON team_cas(ca_id);"

"CREATE TABLE api_tokens ("
"  id INTEGER PRIMARY KEY,"
"  name TEXT NOT NULL,"
"  token_hash TEXT NOT NULL UNIQUE,"
"  prefix TEXT NOT NULL,"                    /* first characters, to name a token in logs */
"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
"  created_at INTEGER NOT NULL,"
"  expires_at INTEGER,"
"  last_used_at INTEGER,"
"  revoked_at INTEGER"
");"
"CREATE INDEX api_tokens_user_id ON api_tokens(user_id);"

"CREATE TABLE sessions ("
"  id INTEGER PRIMARY KEY,"
"  token_hash TEXT NOT NULL UNIQUE,"
"  csrf_hash TEXT,"
"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
"  created_at INTEGER NOT NULL,"
"  expires_at INTEGER NOT NULL,"
"  last_seen_at INTEGER,"
"  ip TEXT,"
"  user_agent TEXT,"
"  totp_verified INTEGER NOT NULL DEFAULT 0 CHECK (totp_verified IN (0,1))"
");"
"CREATE INDEX sessions_user_id ON sessions(user_id);"
"CREATE INDEX sessions_expires_at ON sessions(expires_at);"

"CREATE TABLE login_attempts ("
"  id INTEGER PRIMARY KEY,"
"  at INTEGER NOT NULL,"
"  username TEXT NOT NULL,"
"  ip TEXT,"
"  result TEXT NOT NULL CHECK (result IN ('success','failure')),"
"  reason TEXT"
");"
"CREATE INDEX login_attempts_username_at ON login_attempts(username, at);"
"CREATE INDEX login_attempts_ip_at ON login_attempts(ip, at);"

"CREATE TABLE revocation_codes ("
"  id INTEGER PRIMARY KEY,"
"  code_hash TEXT NOT NULL,"
"  certificate_id INTEGER NOT NULL REFERENCES certificates(id) ON DELETE CASCADE,"
"  user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,"
"  reason INTEGER,"
"  attempts INTEGER NOT NULL DEFAULT 0,"
"  created_at INTEGER NOT NULL,"
"  expires_at INTEGER NOT NULL,"
"  used_at INTEGER"
");"
"CREATE INDEX revocation_codes_certificate_id ON revocation_codes(certificate_id);"
"CREATE INDEX revocation_codes_user_id ON revocation_codes(user_id);"
"CREATE INDEX revocation_codes_expires_at ON revocation_codes(expires_at);"

/* No foreign keys on purpose: the audit trail outlives the objects it names. */
"CREATE TABLE audit ("
"  id INTEGER PRIMARY KEY,"
"  at INTEGER NOT NULL,"
"  actor TEXT NOT NULL,"
"  ip TEXT,"
"  event TEXT NOT NULL,"
"  object TEXT,"
"  details TEXT NOT NULL DEFAULT '{}',"
"  prev_hash TEXT NOT NULL,"
"  hash TEXT NOT NULL UNIQUE"
");"
"CREATE INDEX audit_at ON audit(at);"
"CREATE INDEX audit_event ON audit(event);"

"CREATE TABLE endpoints ("
"  id INTEGER PRIMARY KEY,"
"  host TEXT NOT NULL,"
"  port INTEGER NOT NULL DEFAULT 0,"         /* 0 with a path: a file on the appliance's host */
"  path TEXT NOT NULL DEFAULT '',"
"  category TEXT NOT NULL CHECK (category IN ('automatable','unsecured','discovered')),"
"  last_scan_at INTEGER,"
"  last_error TEXT,"
"  certificate_id INTEGER REFERENCES certificates(id) ON DELETE SET NULL,"
"  tags TEXT NOT NULL DEFAULT '[]',"
"  created_at INTEGER NOT NULL,"
"  UNIQUE (host, port, path)"
");"
"CREATE INDEX endpoints_certificate_id ON endpoints(certificate_id);";

/*
 * Migration 2 (SCEP, issue #6; owned by scep.c's author): per-CA SCEP settings and RA (the RA key
 * lives on the token, its certificate here); SCEP transactions (binds a transactionID to the
 * requester's key, holds requests awaiting manual approval as the still-encrypted pkiMessage, so
 * no challengePassword is ever stored in clear); the decoded summary of each logged exchange.
 * A CA without a scep_cas row has SCEP enabled with automatic approval.
 */
static const char migration_2[] =
"CREATE TABLE scep_cas ("
"  ca_id INTEGER PRIMARY KEY REFERENCES cas(id) ON DELETE CASCADE,"
"  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0,1)),"
"  approval TEXT NOT NULL DEFAULT 'auto' CHECK (approval IN ('auto','manual')),"
"  ra_keyref TEXT,"
"  ra_cert_der BLOB,"
"  ra_created_at INTEGER,"
"  updated_at INTEGER NOT NULL"
");"
"CREATE TABLE scep_transactions ("
"  id INTEGER PRIMARY KEY,"
"  ca_id INTEGER NOT NULL REFERENCES cas(id) ON DELETE CASCADE,"
"  transaction_id TEXT NOT NULL,"
"  message_type TEXT NOT NULL,"
"  key_sha256 TEXT NOT NULL,"                /* SHA-256 of the requested SubjectPublicKeyInfo */
"  status TEXT NOT NULL CHECK (status IN ('processing','pending','issued','rejected','failed')),"
"  peer TEXT,"
"  subject TEXT,"
"  request_der BLOB,"                        /* the pkiMessage, still enveloped to the RA */
"  auth_id INTEGER REFERENCES scep_auth(id) ON DELETE SET NULL,"
"  order_id INTEGER REFERENCES orders(id),"
"  certificate_id INTEGER REFERENCES certificates(id),"
"  error TEXT,"
"  decided_by TEXT,"
"  created_at INTEGER NOT NULL,"
"  updated_at INTEGER NOT NULL,"
"  UNIQUE (ca_id, transaction_id)"
");"
"CREATE INDEX scep_transactions_status ON scep_transactions(status, id);"
"CREATE INDEX scep_transactions_auth_id ON scep_transactions(auth_id);"
"CREATE INDEX scep_transactions_order_id ON scep_transactions(order_id);"
"CREATE INDEX scep_transactions_certificate_id ON scep_transactions(certificate_id);"
"ALTER TABLE scep_logs ADD COLUMN details TEXT NOT NULL DEFAULT '{}';"
"ALTER TABLE scep_logs ADD COLUMN http_status INTEGER;";

/* The last TOTP time step accepted per user, so a code cannot be replayed within its window. */
static const char migration_3[] =
"ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;";

/*
 * Migration 4 (CA certificate rollover, issue #6 GetNextCACert; ca_rollover.c): ca_next holds at
 * most one pending "next" certificate per CA with its token key and the next RA, written in one
 * transaction after both keys and certificates exist (a key made by a run that died before the
 * commit is named by no row: an orphan on the token, never a half-written rollover). On
 * activation the CA's previous certificate, key and RA move to ca_cert_history, so what was
 * issued under them can still be looked up.
 */
static const char migration_4[] =
"CREATE TABLE ca_next ("
"  ca_id INTEGER PRIMARY KEY REFERENCES cas(id) ON DELETE CASCADE,"
"  cert_der BLOB NOT NULL,"
"  serial TEXT NOT NULL,"
"  fingerprint_sha256 TEXT NOT NULL UNIQUE,"
"  keyref TEXT NOT NULL,"
"  key_spec TEXT NOT NULL,"
"  not_before INTEGER NOT NULL,"
"  not_after INTEGER NOT NULL,"
"  ra_keyref TEXT NOT NULL,"
"  ra_cert_der BLOB NOT NULL,"
"  created_by TEXT NOT NULL,"
"  created_at INTEGER NOT NULL"
");"
"CREATE TABLE ca_cert_history ("
"  id INTEGER PRIMARY KEY,"
"  ca_id INTEGER NOT NULL REFERENCES cas(id) ON DELETE CASCADE,"
"  cert_der BLOB NOT NULL,"
"  fingerprint_sha256 TEXT NOT NULL,"
"  keyref TEXT NOT NULL,"
"  key_spec TEXT NOT NULL,"
"  not_before INTEGER NOT NULL,"
"  not_after INTEGER NOT NULL,"
"  ra_keyref TEXT,"
"  ra_cert_der BLOB,"
"  retired_at INTEGER NOT NULL"
");"
"CREATE INDEX ca_cert_history_ca_id ON ca_cert_history(ca_id);";

/*
 * Migration 5 (key generations after a rollover; ca_rollover.h): a CA's keys are numbered from 1
 * (cas.key_gen is the current one, each ca_cert_history row keeps the one it had), every
 * certificate records the generation of the key that signed it, and every CRL the generation
 * whose key signed it, so that each key keeps its own CRL (at its own CDP URL) and OCSP answers
 * with the key that issued the certificate asked about. CRL numbers stay one per-CA sequence
 * (cas.crl_number): each generation's CRLs take increasing numbers from it, which keeps every
 * generation's numbers monotonic (RFC 5280 5.2.3) and crls' UNIQUE (ca_id, number) valid.
 * Rows from before this migration are numbered by time (a certificate or CRL made after a
 * rollover's retired_at belongs to the later key); only databases that activated a rollover
 * before this migration have any to number.
 */
static const char migration_5[] =
"ALTER TABLE cas ADD COLUMN key_gen INTEGER NOT NULL DEFAULT 1;"
"ALTER TABLE ca_cert_history ADD COLUMN key_gen INTEGER NOT NULL DEFAULT 1;"
"ALTER TABLE certificates ADD COLUMN ca_key_gen INTEGER NOT NULL DEFAULT 1;"
"ALTER TABLE crls ADD COLUMN key_gen INTEGER NOT NULL DEFAULT 1;"
"UPDATE ca_cert_history SET key_gen = (SELECT count(*) FROM ca_cert_history h "
"  WHERE h.ca_id = ca_cert_history.ca_id AND h.id <= ca_cert_history.id);"
"UPDATE cas SET key_gen = 1 + (SELECT count(*) FROM ca_cert_history h WHERE h.ca_id = cas.id);"
"UPDATE certificates SET ca_key_gen = 1 + (SELECT count(*) FROM ca_cert_history h "
"  WHERE h.ca_id = certificates.ca_id AND h.retired_at <= certificates.created_at) "
"  WHERE ca_id IN (SELECT ca_id FROM ca_cert_history);"
"UPDATE crls SET key_gen = 1 + (SELECT count(*) FROM ca_cert_history h "
"  WHERE h.ca_id = crls.ca_id AND h.retired_at <= crls.created_at) "
"  WHERE ca_id IN (SELECT ca_id FROM ca_cert_history);"
"CREATE UNIQUE INDEX ca_cert_history_ca_gen ON ca_cert_history(ca_id, key_gen);"
"CREATE INDEX crls_ca_gen_number ON crls(ca_id, key_gen, number);";

static const char *const migrations[] = {
	migration_1,
	migration_2,
	migration_3,
	migration_4,
	migration_5,
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
db_schema_version(void)
{
	return N_MIGRATIONS;
}

int64_t
db_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

sqlite3 *
db_handle(struct db *db)
{
	return db->h;
}

int
db_fail(struct db *db, const char *what)
{
	int ext = sqlite3_extended_errcode(db->h);

	if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
		return err_set(HSMCA_E_EXISTS, "database: %s: %s", what, sqlite3_errmsg(db->h));
	if ((ext & 0xff) == SQLITE_BUSY)
		return err_set(HSMCA_E_BUSY, "database: %s: %s", what, sqlite3_errmsg(db->h));
	return err_set(HSMCA_E_DB, "database: %s: %s", what, sqlite3_errmsg(db->h));
}

static uint32_t
sql_hash(const char *sql)
{
	uint32_t h = 2166136261u;        /* FNV-1a */

	for (; *sql != '\0'; sql++)
		h = (h ^ (uint8_t)*sql) * 16777619u;
	return h;
}

/* The slot holding sql's statement, or the empty slot where it would go (open addressing,
 * linear probing; slots are never emptied before db_close, so probing stops at an empty one). */
static struct db_stmt_slot *
stmt_slot(struct db *db, const char *sql, uint32_t h)
{
	struct db_stmt_slot *s;
	size_t i;

	for (i = 0; i < DB_STMT_SLOTS; i++) {
		s = &db->stmts[(h + i) % DB_STMT_SLOTS];
		if (s->st == NULL)
			return s;
		if (s->hash == h && strcmp(sqlite3_sql(s->st), sql) == 0)
			return s;
	}
	return NULL;
}

int
db_prepare(struct db *db, const char *sql, sqlite3_stmt **st)
{
	uint32_t h = sql_hash(sql);
	struct db_stmt_slot *s = stmt_slot(db, sql, h);

	*st = NULL;
	if (s != NULL && s->st != NULL && !s->busy) {
		s->busy = 1;
		*st = s->st;
		return 0;
	}
	/* Parsing and planning a statement costs more than running most of ours: keep it. */
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return db_fail(db, "prepare");
	}
	/* Only a statement whose text sqlite keeps whole can be found again by db_finalize (SQL of
	 * only blanks or comments gives no statement at all). */
	if (*st != NULL && s != NULL && s->st == NULL && db->n_stmts < DB_STMT_MAX &&
	    strcmp(sqlite3_sql(*st), sql) == 0) {
		s->st = *st;
		s->hash = h;
		s->busy = 1;
		db->n_stmts++;
	}
	return 0;
}

void
db_finalize(struct db *db, sqlite3_stmt *st)
{
	struct db_stmt_slot *s;
	const char *sql;

	if (st == NULL)
		return;
	sql = sqlite3_sql(st);
	s = sql != NULL ? stmt_slot(db, sql, sql_hash(sql)) : NULL;
	if (s == NULL || s->st != st) {
		sqlite3_finalize(st);
		return;
	}
	/* reset ends the statement's read (a kept statement must not pin a WAL snapshot) and
	 * clear_bindings drops pointers bound with SQLITE_STATIC that are about to be freed. */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	s->busy = 0;
}

int
db_col_strdup(sqlite3_stmt *st, int col, char **out)
{
	const unsigned char *t;
	int n;

	*out = NULL;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return 0;
	t = sqlite3_column_text(st, col);
	n = sqlite3_column_bytes(st, col);
	if (t == NULL)
		return HSMCA_E_NOMEM;
	*out = malloc((size_t)n + 1);
	if (*out == NULL)
		return HSMCA_E_NOMEM;
	memcpy(*out, t, (size_t)n);
	(*out)[n] = '\0';
	return 0;
}

static int
db_exec(struct db *db, const char *sql, const char *what)
{
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, what);
	return 0;
}

/* One cached single statement run to completion (sqlite3_exec would parse it every time). */
static int
db_run(struct db *db, const char *sql, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, sql, &st)) != 0)
		return rc;
	return db_step_done(db, st, what);
}

/* Takes the writer turn and opens the write transaction. */
static int
begin_tx(struct db *db)
{
	int rc;

	if (db->writing)
		return err_set(HSMCA_E_INTERNAL, "database: begin transaction: one is already open");
	if ((rc = writer_acquire()) != 0)
		return rc;
	db->writing = 1;
	/* IMMEDIATE takes the write lock now, so busy_timeout applies here and not at a later
	 * statement where a SQLITE_BUSY could not be retried. */
	if ((rc = db_run(db, "BEGIN IMMEDIATE", "begin transaction")) != 0)
		writer_release(db);
	return rc;
}

/* Back to synchronous=FULL after an unsynced transaction. A pragma takes effect when it is
 * compiled, so it goes through sqlite3_exec, never the statement cache. On failure the flag
 * stays, and db_begin refuses to start a transaction until the restore works. */
static int
restore_sync(struct db *db)
{
	if (!db->unsynced)
		return 0;
	if (db_exec(db, "PRAGMA synchronous=FULL", "restore synchronous=FULL") != 0)
		return HSMCA_E_DB;
	db->unsynced = 0;
	return 0;
}

int
db_begin(struct db *db)
{
	int rc;

	if (!db->writing && (rc = restore_sync(db)) != 0)
		return rc;
	return begin_tx(db);
}

int
db_begin_unsynced(struct db *db)
{
	int rc;

	if (db->writing)
		return err_set(HSMCA_E_INTERNAL, "database: begin transaction: one is already open");
	/* Without WAL (a medium without shared memory) a NORMAL commit is not covered by a later
	 * sync of one file, so every commit stays synced. */
	if (!db->wal)
		return db_begin(db);
	if ((rc = db_exec(db, "PRAGMA synchronous=NORMAL", "set synchronous=NORMAL")) != 0)
		return rc;
	db->unsynced = 1;
	if ((rc = begin_tx(db)) != 0)
		(void)restore_sync(db);
	return rc;
}

int
db_commit(struct db *db)
{
	int rc = db_run(db, "COMMIT", "commit");

	/* A failed COMMIT can leave the transaction open; end it here so the writer turn is
	 * never held past this call (the caller's db_rollback then finds nothing to do). */
	if (rc != 0 && !sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	writer_release(db);
	(void)restore_sync(db);        /* committed either way; db_begin insists on the restore */
	return rc;
}

void
db_rollback(struct db *db)
{
	if (db == NULL)
		return;
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	writer_release(db);
	(void)restore_sync(db);
}

int
db_sync(struct db *db)
{
	const char *path;
	char wal[4096];
	int fd, rc = 0;

	if (!db->wal)
		return 0;        /* every commit was synced (db_begin_unsynced fell back to db_begin) */
	path = sqlite3_db_filename(db->h, "main");
	if (path == NULL || path[0] == '\0' || snprintf(wal, sizeof(wal), "%s-wal", path) >= (int)sizeof(wal))
		return err_set(HSMCA_E_IO, "database: no file name to sync");
	/* Opened by name each time: SQLite deletes the WAL when the last connection closes and makes
	 * a new one later, and a kept descriptor would sync a file nobody writes any more. fsync
	 * works on the file, not the descriptor: this one flushes what every connection wrote. */
	do
		fd = open(wal, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return err_set(HSMCA_E_IO, "database: cannot open %s to sync it: %s", wal, strerror(errno));
	if (fdatasync(fd) != 0)
		rc = err_set(HSMCA_E_IO, "database: cannot sync %s: %s", wal, strerror(errno));
	close(fd);
	return rc;
}

int
db_in_transaction(struct db *db)
{
	return !sqlite3_get_autocommit(db->h);
}

static int
db_user_version(struct db *db, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "read user_version");
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_fail(db, "read user_version");
		sqlite3_finalize(st);
		return rc;
	}
	*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* Each migration and its user_version bump commit together, so a crash mid-way leaves the
 * previous version intact. The version is re-read inside the write lock: two processes opening
 * a fresh database at once must not both apply migration 1. */
static int
db_migrate(struct db *db, const char *path)
{
	char sql[64];
	int version = 0, rc;

	for (;;) {
		if ((rc = db_begin(db)) != 0)
			return rc;
		if ((rc = db_user_version(db, &version)) != 0)
			goto fail;
		if (version > N_MIGRATIONS) {
			rc = err_set(HSMCA_E_CONFLICT, "database %s has schema version %d, newer than this "
			    "hsmca (%d); use a newer hsmca", path, version, N_MIGRATIONS);
			goto fail;
		}
		if (version < 0) {
			rc = err_set(HSMCA_E_DB, "database %s has an invalid schema version %d", path, version);
			goto fail;
		}
		if (version == N_MIGRATIONS) {
			db_rollback(db);
			return 0;
		}
		if ((rc = db_exec(db, migrations[version], "apply migration")) != 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
		if ((rc = db_exec(db, sql, "set user_version")) != 0)
			goto fail;
		if ((rc = db_commit(db)) != 0)
			goto fail;
	}
fail:
	db_rollback(db);
	return rc;
}

/* Asks for WAL and reads back what the database really uses. */
static int
db_journal_wal(struct db *db, int *wal)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	*wal = 0;
	if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "journal_mode");
	if (sqlite3_step(st) == SQLITE_ROW)
		*wal = sqlite3_column_text(st, 0) != NULL &&
		    strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	else
		rc = db_fail(db, "journal_mode");
	sqlite3_finalize(st);
	return rc;
}

int
db_open(const char *path, struct db **out)
{
	struct db *db = NULL;
	int rc = HSMCA_E_INTERNAL;

	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return HSMCA_E_NOMEM;
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = err_set(HSMCA_E_DB, "cannot open database %s: %s", path,
		    db->h != NULL ? sqlite3_errmsg(db->h) : "out of memory");
		goto out;
	}
	sqlite3_extended_result_codes(db->h, 1);
	if (sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS) != SQLITE_OK) {
		rc = db_fail(db, "busy_timeout");
		goto out;
	}
	/* A read-only medium or an old file system without shared memory stays in rollback mode,
	 * which is still safe: db->wal then keeps every commit synced. */
	if ((rc = db_journal_wal(db, &db->wal)) != 0 ||
	    (rc = db_exec(db, "PRAGMA synchronous=FULL", "synchronous")) != 0 ||
	    (rc = db_exec(db, "PRAGMA foreign_keys=ON", "foreign_keys")) != 0)
		goto out;
	if ((rc = db_migrate(db, path)) != 0)
		goto out;
	*out = db;
	db = NULL;
	rc = 0;
out:
	db_close(db);
	return rc;
}

void
db_close(struct db *db)
{
	size_t i;

	if (db == NULL)
		return;
	db_rollback(db);        /* a transaction left open by a bug must not keep the writer turn */
	for (i = 0; i < DB_STMT_SLOTS; i++)
		sqlite3_finalize(db->stmts[i].st);
	/* close_v2: a statement leaked by a bug must not keep the file open forever. */
	sqlite3_close_v2(db->h);
	free(db);
}

int
db_step_done(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = 0;

	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, what);
	db_finalize(db, st);
	return rc;
}
