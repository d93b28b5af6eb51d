/* test_db.c: db.c (open, pragmas, migrations, transactions) and the cas/certificates/orders SQL
 * on a real SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "db.h"
#include "db_cas.h"
#include "db_certs.h"
#include "db_orders.h"
#include "err.h"

struct fx {
	char dir[256];
	char path[300];
	struct db *db;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("HSMCA_TEST_TMP");

	if (fx == NULL)
		return -1;
	if (tmp == NULL)
		tmp = "/tmp";
	(void)mkdir(tmp, 0700);
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_db.XXXXXX", tmp);
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/hsmca.db", fx->dir);
	if (db_open(fx->path, &fx->db) != 0)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char p[400];

	db_close(fx->db);
	snprintf(p, sizeof(p), "%s-wal", fx->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", fx->path);
	unlink(p);
	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static int64_t
scalar(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *
text(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	char *v = NULL;

	assert_int_equal(sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static void
fill_ca(struct db_ca *ca, const char *name, const char *slug, const char *fpr)
{
	static uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

	memset(ca, 0, sizeof(*ca));
	ca->name = (char *)name;
	ca->slug = (char *)slug;
	ca->kind = "root";
	ca->subject = "CN=x";
	ca->cert_der.data = der;
	ca->cert_der.len = sizeof(der);
	ca->fingerprint_sha256 = (char *)fpr;
	ca->keyref = "pkcs11:object=x";
	ca->key_spec = "ec-384";
	ca->not_before_ms = 1000;
	ca->not_after_ms = 2000;
}

static void
fill_cert(struct db_cert *c, int64_t ca_id, const char *serial, const char *fpr)
{
	static uint8_t der[] = { 0x30, 0x00 };

	memset(c, 0, sizeof(*c));
	c->ca_id = ca_id;
	c->serial = (char *)serial;
	c->subject = "CN=leaf";
	c->issuer = "CN=x";
	c->common_name = "leaf";
	c->not_before_ms = 1000;
	c->not_after_ms = 5000;
	c->key_algorithm = "ec-256";
	c->digest = "sha256";
	c->fingerprint_sha256 = (char *)fpr;
	c->der.data = der;
	c->der.len = sizeof(der);
}

static void
test_schema_and_pragmas(void **state)
{
	struct fx *fx = *state;
	static const char *tables[] = { "cas", "certificates", "crls", "orders", "scep_auth", "scep_logs", "users",
		"teams", "team_members", "team_cas", "api_tokens", "sessions", "login_attempts", "revocation_codes",
		"audit", "endpoints" };
	char sql[200], *mode;
	size_t i;

	assert_int_equal(scalar(fx->db, "PRAGMA user_version"), db_schema_version());
	assert_true(db_schema_version() >= 1);
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'", tables[i]);
		assert_int_equal(scalar(fx->db, sql), 1);
	}
	mode = text(fx->db, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	free(mode);
	assert_int_equal(scalar(fx->db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(scalar(fx->db, "PRAGMA synchronous"), 2);   /* FULL */
	assert_int_equal(scalar(fx->db, "PRAGMA busy_timeout"), 5000);
	/* Every foreign key column is indexed: it leads an index (or a primary key / unique
	 * constraint), or it is the table's INTEGER PRIMARY KEY (the rowid itself). */
	assert_int_equal(scalar(fx->db,
	    "SELECT count(*) FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
	    "WHERE m.type='table' AND NOT EXISTS (SELECT 1 FROM pragma_index_list(m.name) il, "
	    "pragma_index_info(il.name) ii WHERE ii.seqno = 0 AND ii.name = f.\"from\") "
	    "AND NOT EXISTS (SELECT 1 FROM pragma_table_info(m.name) ti WHERE ti.name = f.\"from\" "
	    "AND ti.pk = 1 AND upper(ti.type) = 'INTEGER' "
	    "AND (SELECT count(*) FROM pragma_table_info(m.name) WHERE pk > 0) = 1)"), 0);
}

static void
test_reopen_idempotent(void **state)
{
	struct fx *fx = *state;
	struct db *db2 = NULL;
	struct db_ca ca;
	int64_t id;

	fill_ca(&ca, "Root", "root", "aa");
	assert_int_equal(db_cas_insert(fx->db, &ca, &id), 0);
	db_close(fx->db);
	assert_int_equal(db_open(fx->path, &fx->db), 0);
	assert_int_equal(db_open(fx->path, &db2), 0);   /* a second connection alongside */
	assert_int_equal(scalar(db2, "PRAGMA user_version"), db_schema_version());
	assert_int_equal(scalar(fx->db, "PRAGMA user_version"), db_schema_version());
	assert_int_equal(scalar(fx->db, "SELECT count(*) FROM cas"), 1);
	assert_int_equal(scalar(db2, "SELECT count(*) FROM cas"), 1);
	db_close(db2);
}

static void
test_newer_refused(void **state)
{
	struct fx *fx = *state;
	struct db *db2 = NULL;
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", db_schema_version() + 1);
	assert_int_equal(sqlite3_exec(db_handle(fx->db), sql, NULL, NULL, NULL), SQLITE_OK);
	err_clear();
	assert_int_equal(db_open(fx->path, &db2), HSMCA_E_CONFLICT);
	assert_null(db2);
	assert_non_null(strstr(err_msg(HSMCA_E_CONFLICT), "newer"));
	/* Put it back so teardown's connection is the only state left. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", db_schema_version());
	assert_int_equal(sqlite3_exec(db_handle(fx->db), sql, NULL, NULL, NULL), SQLITE_OK);
}

static void
test_not_a_database(void **state)
{
	struct fx *fx = *state;
	struct db *db2 = NULL;
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/garbage.db", fx->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("this is not an SQLite database, not at all, no header here................", f);
	fclose(f);
	assert_int_not_equal(db_open(path, &db2), 0);
	assert_null(db2);
	unlink(path);
}

static void
test_constraints(void **state)
{
	struct fx *fx = *state;
	struct db_ca ca;
	struct db_cert c;
	int64_t ca_id, id;
	int exists;

	fill_ca(&ca, "Root", "root", "aa");
	assert_int_equal(db_cas_insert(fx->db, &ca, &ca_id), 0);
	fill_ca(&ca, "Root 2", "root", "bb");                 /* slug taken */
	assert_int_equal(db_cas_insert(fx->db, &ca, &id), HSMCA_E_EXISTS);
	fill_ca(&ca, "Root", "root-2", "cc");                 /* name taken */
	assert_int_equal(db_cas_insert(fx->db, &ca, &id), HSMCA_E_EXISTS);
	assert_int_equal(db_cas_exists(fx->db, "Root", "zzz", &exists), 0);
	assert_int_equal(exists, 1);
	assert_int_equal(db_cas_exists(fx->db, "nope", "nope", &exists), 0);
	assert_int_equal(exists, 0);

	fill_cert(&c, ca_id, "0A", "f1");
	assert_int_equal(db_certs_insert(fx->db, &c, &id), 0);
	fill_cert(&c, ca_id, "0A", "f2");                     /* serial taken */
	assert_int_equal(db_certs_insert(fx->db, &c, &id), HSMCA_E_EXISTS);
	fill_cert(&c, ca_id, "0B", "f1");                     /* fingerprint taken */
	assert_int_equal(db_certs_insert(fx->db, &c, &id), HSMCA_E_EXISTS);
	fill_cert(&c, ca_id + 100, "0C", "f3");               /* no such CA: foreign key */
	assert_int_equal(db_certs_insert(fx->db, &c, &id), HSMCA_E_DB);
	assert_int_equal(db_certs_serial_exists(fx->db, "0A", &exists), 0);
	assert_int_equal(exists, 1);
	assert_int_equal(scalar(fx->db, "SELECT count(*) FROM certificates"), 1);

	/* CHECK constraints. */
	assert_int_not_equal(sqlite3_exec(db_handle(fx->db), "INSERT INTO users (username, role, created_at) "
	    "VALUES ('a', 'root', 1)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db_handle(fx->db), "INSERT INTO users (username, role, created_at) "
	    "VALUES ('a', 'admin', 1)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db_handle(fx->db), "INSERT INTO users (username, role, created_at) "
	    "VALUES ('a', 'operator', 1)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db_handle(fx->db), "INSERT INTO orders (type, status, requested_by, "
	    "created_at) VALUES ('csr', 'done', 'x', 1)", NULL, NULL, NULL), SQLITE_OK);
}

static void
test_cert_rows_and_status(void **state)
{
	struct fx *fx = *state;
	struct db_ca ca, *got = NULL, **list = NULL;
	struct db_cert c, *cert = NULL;
	size_t n = 0;
	int64_t ca_id, id;

	fill_ca(&ca, "Root", "root", "aa");
	assert_int_equal(db_cas_insert(fx->db, &ca, &ca_id), 0);
	assert_int_equal(db_cas_get_by_slug(fx->db, "root", &got), 0);
	assert_string_equal(got->name, "Root");
	assert_int_equal(got->cert_der.len, 5);
	assert_int_equal(got->parent_id, 0);
	db_ca_free(got);
	assert_int_equal(db_cas_get_by_slug(fx->db, "none", &got), HSMCA_E_NOTFOUND);
	assert_non_null(strstr(err_msg(HSMCA_E_NOTFOUND), "none"));
	assert_int_equal(db_cas_list(fx->db, &list, &n), 0);
	assert_int_equal(n, 1);
	db_ca_list_free(list, n);

	fill_cert(&c, ca_id, "0A", "f1");
	c.sans = "[\"DNS:a\"]";
	assert_int_equal(db_certs_insert(fx->db, &c, &id), 0);
	assert_int_equal(db_certs_get_by_serial(fx->db, "0A", &cert), 0);
	assert_string_equal(cert->sans, "[\"DNS:a\"]");
	assert_string_equal(cert->tags, "[]");
	assert_string_equal(cert->source, "managed");
	assert_null(cert->keyref);
	assert_string_equal(db_cert_status(cert, 4000), "active");
	assert_string_equal(db_cert_status(cert, 5000), "expired");
	cert->revoked_at_ms = 4500;
	assert_string_equal(db_cert_status(cert, 4000), "revoked");
	db_cert_free(cert);
	/* No status column: it can never go stale. */
	assert_int_equal(scalar(fx->db, "SELECT count(*) FROM pragma_table_info('certificates') WHERE name='status'"), 0);
}

static void
test_orders(void **state)
{
	struct fx *fx = *state;
	struct db_order *o = NULL;
	struct db_cert c;
	struct db_ca ca;
	int64_t ca_id, oid, cid;

	fill_ca(&ca, "Root", "root", "aa");
	assert_int_equal(db_cas_insert(fx->db, &ca, &ca_id), 0);
	assert_int_equal(db_orders_insert(fx->db, "csr", "processing", ca_id, "leaf", "cli", NULL, &oid), 0);
	fill_cert(&c, ca_id, "0A", "f1");
	c.order_id = oid;
	assert_int_equal(db_certs_insert(fx->db, &c, &cid), 0);
	assert_int_equal(db_orders_complete(fx->db, oid, cid), 0);
	assert_int_equal(db_orders_complete(fx->db, oid, cid), HSMCA_E_CONFLICT);
	assert_int_equal(db_orders_fail(fx->db, oid, "late"), HSMCA_E_CONFLICT);
	assert_int_equal(db_orders_get(fx->db, oid, &o), 0);
	assert_string_equal(o->status, "complete");
	assert_int_equal(o->certificate_id, cid);
	assert_true(o->started_at_ms > 0 && o->finished_at_ms >= o->started_at_ms);
	assert_string_equal(o->params, "{}");
	db_order_free(o);

	assert_int_equal(db_orders_insert(fx->db, "csr", "pending", ca_id, NULL, "cli", "{\"a\":1}", &oid), 0);
	assert_int_equal(db_orders_fail(fx->db, oid, "token gone"), 0);
	assert_int_equal(db_orders_get(fx->db, oid, &o), 0);
	assert_string_equal(o->status, "failed");
	assert_string_equal(o->error, "token gone");
	db_order_free(o);
	assert_int_equal(db_orders_get(fx->db, 9999, &o), HSMCA_E_NOTFOUND);
}

static void
test_transactions(void **state)
{
	struct fx *fx = *state;
	struct db_ca ca;
	int64_t id;

	assert_int_equal(db_in_transaction(fx->db), 0);
	assert_int_equal(db_begin(fx->db), 0);
	assert_int_equal(db_in_transaction(fx->db), 1);
	fill_ca(&ca, "Root", "root", "aa");
	assert_int_equal(db_cas_insert(fx->db, &ca, &id), 0);
	db_rollback(fx->db);
	db_rollback(fx->db);   /* harmless without a transaction */
	assert_int_equal(db_in_transaction(fx->db), 0);
	assert_int_equal(scalar(fx->db, "SELECT count(*) FROM cas"), 0);
	assert_int_equal(db_begin(fx->db), 0);
	assert_int_equal(db_cas_insert(fx->db, &ca, &id), 0);
	assert_int_equal(db_commit(fx->db), 0);
	assert_int_equal(scalar(fx->db, "SELECT count(*) FROM cas"), 1);
	assert_true(db_now_ms() > 1700000000000LL);
}

/* db_prepare keeps statements per connection: the same SQL comes back reset with no bindings,
 * a nested use of the same SQL gets its own statement, and a full cache still prepares. */
static void
test_statement_cache(void **state)
{
	struct fx *fx = *state;
	static const char sql[] = "SELECT ?1";
	sqlite3_stmt *a = NULL, *b = NULL, *c = NULL;
	char dyn[64];
	int i;

	assert_int_equal(db_prepare(fx->db, sql, &a), 0);
	assert_int_equal(sqlite3_bind_int(a, 1, 7), SQLITE_OK);
	assert_int_equal(sqlite3_step(a), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(a, 0), 7);
	/* a is still stepping: the nested prepare must not hand it out again */
	assert_int_equal(db_prepare(fx->db, sql, &b), 0);
	assert_ptr_not_equal(a, b);
	assert_int_equal(sqlite3_step(b), SQLITE_ROW);
	assert_int_equal(sqlite3_column_type(b, 0), SQLITE_NULL);
	db_finalize(fx->db, b);
	db_finalize(fx->db, a);
	/* given back: the same statement, reset and with its binding cleared */
	assert_int_equal(db_prepare(fx->db, sql, &c), 0);
	assert_ptr_equal(c, a);
	assert_int_equal(sqlite3_step(c), SQLITE_ROW);
	assert_int_equal(sqlite3_column_type(c, 0), SQLITE_NULL);
	db_finalize(fx->db, c);
	/* many distinct statements (filters build SQL): past the cache's size they are still
	 * prepared, used and freed (ASan checks nothing is leaked or freed twice) */
	for (i = 0; i < 700; i++) {
		snprintf(dyn, sizeof(dyn), "SELECT %d", i);
		assert_int_equal(db_prepare(fx->db, dyn, &a), 0);
		assert_int_equal(sqlite3_step(a), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(a, 0), i);
		db_finalize(fx->db, a);
	}
	/* an error still reads as one, and leaves nothing behind */
	assert_int_equal(db_prepare(fx->db, "SELECT FROM nowhere", &a), HSMCA_E_DB);
	assert_null(a);
	/* a transaction still commits through the kept BEGIN/COMMIT statements, twice */
	for (i = 0; i < 2; i++) {
		assert_int_equal(db_begin(fx->db), 0);
		assert_true(db_in_transaction(fx->db));
		assert_int_equal(db_commit(fx->db), 0);
		assert_false(db_in_transaction(fx->db));
	}
}

static int
synchronous_level(struct db *db)
{
	sqlite3_stmt *st = NULL;
	int level = -1;

	assert_int_equal(sqlite3_prepare_v2(db_handle(db), "PRAGMA synchronous", -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		level = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return level;
}

/* db_begin_unsynced: NORMAL for that one transaction only; FULL again after its commit or its
 * rollback, and for a plain db_begin; nesting is refused. */
static void
test_unsynced_transaction(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(synchronous_level(fx->db), 2);
	assert_int_equal(db_begin_unsynced(fx->db), 0);
	assert_int_equal(synchronous_level(fx->db), 1);
	assert_int_equal(db_begin(fx->db), HSMCA_E_INTERNAL);
	assert_int_equal(db_begin_unsynced(fx->db), HSMCA_E_INTERNAL);
	assert_int_equal(db_commit(fx->db), 0);
	assert_int_equal(synchronous_level(fx->db), 2);
	assert_int_equal(db_begin_unsynced(fx->db), 0);
	db_rollback(fx->db);
	assert_int_equal(synchronous_level(fx->db), 2);
	assert_int_equal(db_begin(fx->db), 0);
	assert_int_equal(synchronous_level(fx->db), 2);
	assert_int_equal(db_commit(fx->db), 0);
	/* db_sync flushes the WAL, found by the database's name */
	assert_int_equal(db_begin_unsynced(fx->db), 0);
	assert_int_equal(db_commit(fx->db), 0);
	assert_int_equal(db_sync(fx->db), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_and_pragmas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_constraints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_rows_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statement_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsynced_transaction, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
