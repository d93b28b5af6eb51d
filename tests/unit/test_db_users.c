/* test_db_users.c: the users table on a real SQLite file made by db_open's migrations. */
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

#include "db.h"
#include "db_users.h"
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
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_db_users.XXXXXX", tmp);
	(void)mkdir(tmp, 0700);
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

static void
test_create_get(void **state)
{
	struct fx *fx = *state;
	struct db_user *u = NULL;
	int64_t id = 0, id2 = 0, n;

	assert_int_equal(db_users_create(fx->db, "alice", "alice@example.test", "admin",
	    "scrypt$x", 1, &id), 0);
	assert_true(id > 0);
	assert_int_equal(db_users_create(fx->db, "alice", NULL, "operator", NULL, 0, &id2), HSMCA_E_EXISTS);
	assert_int_equal(db_users_get_by_name(fx->db, "alice", &u), 0);
	assert_int_equal(u->id, id);
	assert_string_equal(u->email, "alice@example.test");
	assert_string_equal(u->role, "admin");
	assert_string_equal(u->password_hash, "scrypt$x");
	assert_int_equal(u->must_change_password, 1);
	assert_int_equal(u->enabled, 1);
	assert_null(u->totp_secret);
	db_user_free(u);
	assert_int_equal(db_users_get(fx->db, id + 100, &u), HSMCA_E_NOTFOUND);
	assert_null(u);
	/* The CHECK constraint refuses a role outside the enumeration. */
	assert_int_not_equal(db_users_create(fx->db, "bob", NULL, "root", NULL, 0, &id2), 0);
	/* SQL metacharacters are data. */
	assert_int_equal(db_users_create(fx->db, "x'; DROP TABLE users; --", NULL, "auditor", NULL, 0, &id2), 0);
	assert_int_equal(db_users_count(fx->db, &n), 0);
	assert_int_equal(n, 2);
}

static void
test_update_lockout_totp(void **state)
{
	struct fx *fx = *state;
	struct db_user *u = NULL, **list = NULL;
	unsigned char secret[20];
	int64_t id = 0, id2 = 0, n;
	size_t nl = 0;
	int locked = -1, i;

	assert_int_equal(db_users_create(fx->db, "carol", "c@x", "operator", "h1", 0, &id), 0);
	assert_int_equal(db_users_create(fx->db, "dave", NULL, "admin", "h2", 0, &id2), 0);
	assert_int_equal(db_users_update(fx->db, id, "", "auditor", 0), 0);
	assert_int_equal(db_users_get(fx->db, id, &u), 0);
	assert_null(u->email);
	assert_string_equal(u->role, "auditor");
	assert_int_equal(u->enabled, 0);
	db_user_free(u);
	assert_int_equal(db_users_update(fx->db, id, NULL, NULL, 1), 0);
	assert_int_equal(db_users_get(fx->db, id, &u), 0);
	assert_string_equal(u->role, "auditor");
	assert_int_equal(u->enabled, 1);
	db_user_free(u);
	assert_int_equal(db_users_update(fx->db, 9999, NULL, NULL, 1), HSMCA_E_NOTFOUND);

	for (i = 1; i <= 3; i++) {
		assert_int_equal(db_users_login_failed(fx->db, id, 3, &locked), 0);
		assert_int_equal(locked, i == 3);
	}
	assert_int_equal(db_users_get(fx->db, id, &u), 0);
	assert_int_equal(u->failed_logins, 3);
	assert_int_equal(u->locked, 1);
	db_user_free(u);
	/* A success does not unlock: only the admin reset does. */
	assert_int_equal(db_users_login_succeeded(fx->db, id, "127.0.0.1", 1234), 0);
	assert_int_equal(db_users_get(fx->db, id, &u), 0);
	assert_int_equal(u->locked, 1);
	assert_int_equal(u->last_login_at, 1234);
	assert_string_equal(u->last_login_ip, "127.0.0.1");
	db_user_free(u);
	assert_int_equal(db_users_reset_login_attempts(fx->db, id), 0);
	assert_int_equal(db_users_get(fx->db, id, &u), 0);
	assert_int_equal(u->locked, 0);
	assert_int_equal(u->failed_logins, 0);
	db_user_free(u);

	memset(secret, 0xa5, sizeof(secret));
	assert_int_equal(db_users_set_totp(fx->db, id, secret, sizeof(secret), 0), 0);
	assert_int_equal(db_users_get(fx->db, id, &u), 0);
	assert_int_equal(u->totp_secret_len, sizeof(secret));
	assert_memory_equal(u->totp_secret, secret, sizeof(secret));
	assert_int_equal(u->totp_enabled, 0);
	db_user_free(u);
	assert_int_equal(db_users_set_totp(fx->db, id, NULL, 0, 1), 0);
	assert_int_equal(db_users_get(fx->db, id, &u), 0);
	assert_null(u->totp_secret);
	assert_int_equal(u->totp_enabled, 0);
	db_user_free(u);

	assert_int_equal(db_users_set_password(fx->db, id, "h3", 1), 0);
	assert_int_equal(db_users_count_enabled_admins(fx->db, &n), 0);
	assert_int_equal(n, 1);

	assert_int_equal(db_users_list(fx->db, 0, 1, &list, &nl), 0);
	assert_int_equal(nl, 1);
	assert_int_equal(list[0]->id, id);
	db_users_list_free(list, nl);
	assert_int_equal(db_users_list(fx->db, id, 10, &list, &nl), 0);
	assert_int_equal(nl, 1);
	assert_int_equal(list[0]->id, id2);
	db_users_list_free(list, nl);
	assert_int_equal(db_users_list(fx->db, 0, 0, &list, &nl), HSMCA_E_INVALID);

	assert_int_equal(db_users_delete(fx->db, id), 0);
	assert_int_equal(db_users_delete(fx->db, id), HSMCA_E_NOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_lockout_totp, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
