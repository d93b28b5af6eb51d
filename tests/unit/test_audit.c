/* test_audit.c: the audit hash chain on a real SQLite file: it verifies, and raw SQL edits,
 * deletions and insertions break it at the right row. */
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

#include "audit.h"
#include "db.h"
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
	char obj[32];
	int i;

	if (fx == NULL)
		return -1;
	if (tmp == NULL)
		tmp = "/tmp";
	(void)mkdir(tmp, 0700);
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_audit.XXXXXX", tmp);
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/hsmca.db", fx->dir);
	if (db_open(fx->path, &fx->db) != 0 || db_begin(fx->db) != 0)
		return -1;
	for (i = 1; i <= 5; i++) {
		snprintf(obj, sizeof(obj), "ca-%d", i);
		if (audit_write(fx->db, "cli", i % 2 ? NULL : "192.0.2.1", "ca.created", obj, "{\"n\":1}") != 0)
			return -1;
	}
	if (db_commit(fx->db) != 0)
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

static void
sql(struct fx *fx, const char *s)
{
	assert_int_equal(sqlite3_exec(db_handle(fx->db), s, NULL, NULL, NULL), SQLITE_OK);
}

static int64_t
verify(struct fx *fx)
{
	int64_t bad = -1;

	assert_int_equal(audit_verify(fx->db, &bad), 0);
	return bad;
}

static void
test_chain_verifies(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(verify(fx), 0);
	/* The first row links to the genesis value, each next row to its predecessor. */
	{
		sqlite3_stmt *st = NULL;

		assert_int_equal(sqlite3_prepare_v2(db_handle(fx->db), "SELECT count(*) FROM audit a JOIN audit b "
		    "ON b.id = a.id + 1 WHERE b.prev_hash = a.hash", -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 4);
		sqlite3_finalize(st);
	}
}

static void
test_edit_breaks_at_row(void **state)
{
	struct fx *fx = *state;

	sql(fx, "UPDATE audit SET details = '{\"n\":2}' WHERE id = 3");
	assert_int_equal(verify(fx), 3);
	sql(fx, "UPDATE audit SET details = '{\"n\":1}' WHERE id = 3");
	assert_int_equal(verify(fx), 0);
	sql(fx, "UPDATE audit SET actor = 'someone' WHERE id = 1");
	assert_int_equal(verify(fx), 1);
	sql(fx, "UPDATE audit SET actor = 'cli' WHERE id = 1");
	/* NULL and "" are different values. */
	sql(fx, "UPDATE audit SET ip = '' WHERE id = 5");
	assert_int_equal(verify(fx), 5);
	sql(fx, "UPDATE audit SET ip = NULL WHERE id = 5");
	assert_int_equal(verify(fx), 0);
	sql(fx, "UPDATE audit SET at = at + 1 WHERE id = 4");
	assert_int_equal(verify(fx), 4);
}

static void
test_delete_and_insert_break(void **state)
{
	struct fx *fx = *state;

	sql(fx, "DELETE FROM audit WHERE id = 2");
	assert_int_equal(verify(fx), 3);
	sql(fx, "DELETE FROM audit WHERE id = 1");
	assert_int_equal(verify(fx), 3);
}

static void
test_forged_hash_breaks(void **state)
{
	struct fx *fx = *state;

	/* A replaced hash no longer matches its row. */
	sql(fx, "UPDATE audit SET hash = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' WHERE id = 2");
	assert_int_equal(verify(fx), 2);
	/* A row with a correct-looking prev_hash but a changed predecessor: the break shows at the
	 * first changed row, never later. */
	sql(fx, "UPDATE audit SET prev_hash = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' WHERE id = 3");
	assert_int_equal(verify(fx), 2);
}

static void
test_needs_transaction_and_rolls_back(void **state)
{
	struct fx *fx = *state;

	err_clear();
	assert_int_equal(audit_write(fx->db, "cli", NULL, "ca.created", "x", NULL), HSMCA_E_INTERNAL);
	assert_int_equal(db_begin(fx->db), 0);
	assert_int_equal(audit_write(fx->db, "cli", NULL, "Bad Event", "x", NULL), HSMCA_E_INTERNAL);
	assert_int_equal(audit_write(fx->db, "cli", NULL, "ca.created", "rolled-back", NULL), 0);
	db_rollback(fx->db);
	assert_int_equal(db_begin(fx->db), 0);
	assert_int_equal(audit_write(fx->db, "user:alice", "::1", "user.login.failed", NULL, NULL), 0);
	assert_int_equal(db_commit(fx->db), 0);
	assert_int_equal(verify(fx), 0);
	sql(fx, "UPDATE audit SET details = '{}' WHERE id = 6 AND object IS NULL AND details = '{}'");
	assert_int_equal(verify(fx), 0);
	sql(fx, "UPDATE audit SET event = 'user.login.success' WHERE id = 6");
	assert_int_equal(verify(fx), 6);
}

static void
test_empty_chain(void **state)
{
	struct fx *fx = *state;

	sql(fx, "DELETE FROM audit");
	assert_int_equal(verify(fx), 0);
	assert_int_equal(db_begin(fx->db), 0);
	assert_int_equal(audit_write(fx->db, "cli", NULL, "ca.created", "x", NULL), 0);
	assert_int_equal(db_commit(fx->db), 0);
	assert_int_equal(verify(fx), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chain_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_breaks_at_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_and_insert_break, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_hash_breaks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_transaction_and_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_chain, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
