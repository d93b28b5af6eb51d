/*
 * cli_user.c: local provisioning of users and API tokens (see cli_user.h). Every change is
 * audited with actor "cli", in the change's own transaction.
 *
 * May call: ctx.h, db_users.h, db_sessions.h, auth.h, passwd.h, audit.h, buf.h. Must never: take
 * a password on the command line (argv is visible in ps and shell history), or print a secret
 * anywhere but stdout, once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "auth.h"
#include "buf.h"
#include "cli_user.h"
#include "ctx.h"
#include "db.h"
#include "db_sessions.h"
#include "db_users.h"
#include "err.h"
#include "passwd.h"

struct opts {
	const char *state, *username, *role, *email, *password_file, *name, *days;
	int must_change;
};

static int
parse(int argc, char **argv, int first, struct opts *o, const char *cmd)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = first; i < argc; i++) {
		if (strcmp(argv[i], "--must-change") == 0) {
			o->must_change = 1;
			continue;
		}
		if (i + 1 >= argc)
			goto bad;
		if (strcmp(argv[i], "--state") == 0)
			o->state = argv[++i];
		else if (strcmp(argv[i], "--username") == 0)
			o->username = argv[++i];
		else if (strcmp(argv[i], "--role") == 0)
			o->role = argv[++i];
		else if (strcmp(argv[i], "--email") == 0)
			o->email = argv[++i];
		else if (strcmp(argv[i], "--password-file") == 0)
			o->password_file = argv[++i];
		else if (strcmp(argv[i], "--name") == 0)
			o->name = argv[++i];
		else if (strcmp(argv[i], "--days") == 0)
			o->days = argv[++i];
		else
			goto bad;
	}
	return 0;
bad:
	fprintf(stderr, "hsmca %s: unknown or incomplete option '%s'\n", cmd, argv[i]);
	return -1;
}

/* The first line of the file, without its line ending. *out: passwd_free(). */
static int
read_password(const char *path, char **out)
{
	struct buf b = { NULL, 0 };
	size_t n;
	int rc;

	*out = NULL;
	if ((rc = buf_read_file(path, PASSWD_MAX_LEN + 2, &b)) != 0)
		return rc;
	if (strlen((const char *)b.data) != b.len) {
		buf_free(&b);
		return err_set(HSMCA_E_INVALID, "%s holds a NUL byte", path);
	}
	n = strcspn((const char *)b.data, "\r\n");
	if (strspn((const char *)b.data + n, "\r\n") != b.len - n) {
		buf_free(&b);
		return err_set(HSMCA_E_INVALID, "%s: the password must be the only line of the file", path);
	}
	*out = strndup((const char *)b.data, n);
	buf_free(&b);
	return *out != NULL ? 0 : HSMCA_E_NOMEM;
}

/* Password from the file, or a fresh one (then *generated = 1). Checked against the policy. */
static int
get_password(const struct opts *o, char **pw, int *generated)
{
	int rc;

	*generated = 0;
	if (o->password_file == NULL) {
		*generated = 1;
		return passwd_generate(pw);
	}
	if ((rc = read_password(o->password_file, pw)) != 0)
		return rc;
	if ((rc = passwd_check_policy(*pw)) != 0) {
		passwd_free(*pw);
		*pw = NULL;
	}
	return rc;
}

static char *
detail_json(const char *k, const char *v)
{
	json_t *o = json_pack("{s:s}", k, v);
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

static int
user_add(struct hsmca_ctx *ctx, const struct opts *o)
{
	char *pw = NULL, *hash = NULL, *det = NULL;
	enum auth_role role;
	int generated = 0, rc;
	int64_t id = 0;

	if (o->username == NULL || o->role == NULL)
		return err_set(HSMCA_E_INVALID, "--username and --role are required");
	if ((rc = auth_check_username(o->username)) != 0 || (rc = auth_role_parse(o->role, &role)) != 0 ||
	    (o->email != NULL && (rc = auth_check_email(o->email)) != 0))
		return rc;
	if ((rc = get_password(o, &pw, &generated)) != 0 || (rc = passwd_hash(pw, &hash)) != 0)
		goto out;
	det = detail_json("role", auth_role_name(role));
	if ((rc = db_begin(ctx->db)) != 0)
		goto out;
	if ((rc = db_users_create(ctx->db, o->username, o->email, auth_role_name(role), hash, o->must_change,
	    &id)) != 0 || (rc = audit_write(ctx->db, "cli", NULL, "user.created", o->username, det)) != 0 ||
	    (rc = db_commit(ctx->db)) != 0) {
		db_rollback(ctx->db);
		goto out;
	}
	printf("user %s created (id %lld, role %s)\n", o->username, (long long)id, auth_role_name(role));
	if (generated)
		printf("password: %s\n", pw);
out:
	free(det);
	free(hash);
	passwd_free(pw);
	return rc;
}

static int
user_passwd(struct hsmca_ctx *ctx, const struct opts *o)
{
	struct db_user *u = NULL;
	char *pw = NULL, *hash = NULL;
	int generated = 0, rc;

	if (o->username == NULL)
		return err_set(HSMCA_E_INVALID, "--username is required");
	if ((rc = db_users_get_by_name(ctx->db, o->username, &u)) != 0) {
		if (rc == HSMCA_E_NOTFOUND)
			err_set(rc, "no user named '%s'", o->username);
		return rc;
	}
	if ((rc = get_password(o, &pw, &generated)) != 0 || (rc = passwd_hash(pw, &hash)) != 0)
		goto out;
	if ((rc = db_begin(ctx->db)) != 0)
		goto out;
	if ((rc = db_users_set_password(ctx->db, u->id, hash, o->must_change)) != 0 ||
	    (rc = db_sessions_delete_user(ctx->db, u->id, 0)) != 0 ||
	    (rc = audit_write(ctx->db, "cli", NULL, "user.password.reset", u->username, NULL)) != 0 ||
	    (rc = db_commit(ctx->db)) != 0) {
		db_rollback(ctx->db);
		goto out;
	}
	printf("password of %s changed\n", u->username);
	if (generated)
		printf("password: %s\n", pw);
out:
	free(hash);
	passwd_free(pw);
	db_user_free(u);
	return rc;
}

static int
user_enable(struct hsmca_ctx *ctx, const struct opts *o, int enable)
{
	struct db_user *u = NULL;
	int rc;

	if (o->username == NULL)
		return err_set(HSMCA_E_INVALID, "--username is required");
	if ((rc = db_users_get_by_name(ctx->db, o->username, &u)) != 0) {
		if (rc == HSMCA_E_NOTFOUND)
			err_set(rc, "no user named '%s'", o->username);
		return rc;
	}
	if ((rc = db_begin(ctx->db)) != 0)
		goto out;
	if ((rc = db_users_update(ctx->db, u->id, NULL, NULL, enable)) != 0 ||
	    (!enable && (rc = db_sessions_delete_user(ctx->db, u->id, 0)) != 0) ||
	    (rc = audit_write(ctx->db, "cli", NULL, enable ? "user.enabled" : "user.disabled", u->username,
	    NULL)) != 0 || (rc = db_commit(ctx->db)) != 0) {
		db_rollback(ctx->db);
		goto out;
	}
	printf("user %s %s\n", u->username, enable ? "enabled" : "disabled");
out:
	db_user_free(u);
	return rc;
}

static int
user_list(struct hsmca_ctx *ctx)
{
	struct db_user **v = NULL;
	size_t n = 0, i;
	int64_t after = 0;
	int rc;

	printf("%-6s %-24s %-9s %-8s %s\n", "ID", "USERNAME", "ROLE", "STATE", "EMAIL");
	do {
		if ((rc = db_users_list(ctx->db, after, 500, &v, &n)) != 0)
			return rc;
		for (i = 0; i < n; i++)
			printf("%-6lld %-24s %-9s %-8s %s\n", (long long)v[i]->id, v[i]->username, v[i]->role,
			    !v[i]->enabled ? "disabled" : v[i]->locked ? "locked" : "active",
			    v[i]->email != NULL ? v[i]->email : "-");
		if (n > 0)
			after = v[n - 1]->id;
		db_users_list_free(v, n);
	} while (n == 500);
	return 0;
}

static int
run(int argc, char **argv, int is_token)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	struct hsmca_ctx *ctx = NULL;
	struct opts o;
	int rc;

	if (argc < 2 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		fprintf(argc < 2 ? stderr : stdout, is_token ?
		    "usage: hsmca token create --state DIR --username U --days N [--name NAME]\n" :
		    "usage: hsmca user add --state DIR --username U --role admin|operator|auditor [--email E] "
		    "[--password-file F] [--must-change]\n"
		    "       hsmca user passwd --state DIR --username U [--password-file F] [--must-change]\n"
		    "       hsmca user disable|enable --state DIR --username U\n"
		    "       hsmca user list --state DIR\n");
		return argc < 2 ? 2 : 0;
	}
	if (parse(argc, argv, 2, &o, is_token ? "token" : "user") != 0)
		return 2;
	if (is_token ? strcmp(cmd, "create") != 0 :
	    (strcmp(cmd, "add") != 0 && strcmp(cmd, "passwd") != 0 && strcmp(cmd, "disable") != 0 &&
	    strcmp(cmd, "enable") != 0 && strcmp(cmd, "list") != 0)) {
		fprintf(stderr, "hsmca %s: unknown subcommand '%s'\n", is_token ? "token" : "user", cmd);
		return 2;
	}
	err_clear();
	if ((rc = ctx_open(o.state, 0, &ctx)) != 0)
		goto out;
	if (is_token) {
		struct db_user *u = NULL;
		char *token = NULL, *end = NULL;
		int64_t tid = 0;
		long days;

		if (o.username == NULL || o.days == NULL) {
			rc = err_set(HSMCA_E_INVALID, "--username and --days are required");
			goto out;
		}
		days = strtol(o.days, &end, 10);
		if (end == o.days || *end != '\0' || days < 1 || days > 3650) {
			rc = err_set(HSMCA_E_INVALID, "--days must be a whole number from 1 to 3650");
			goto out;
		}
		if ((rc = db_users_get_by_name(ctx->db, o.username, &u)) != 0) {
			if (rc == HSMCA_E_NOTFOUND)
				err_set(rc, "no user named '%s'", o.username);
			goto out;
		}
		rc = auth_token_create(ctx->db, "cli", NULL, u->id, o.name != NULL ? o.name : "cli", (int)days,
		    &token, &tid);
		db_user_free(u);
		if (rc == 0)
			printf("%s\n", token);
		passwd_free(token);
	} else if (strcmp(cmd, "add") == 0) {
		rc = user_add(ctx, &o);
	} else if (strcmp(cmd, "passwd") == 0) {
		rc = user_passwd(ctx, &o);
	} else if (strcmp(cmd, "list") == 0) {
		rc = user_list(ctx);
	} else {
		rc = user_enable(ctx, &o, strcmp(cmd, "enable") == 0);
	}
out:
	if (rc != 0)
		fprintf(stderr, "hsmca %s %s: %s\n", is_token ? "token" : "user", cmd, err_msg(rc));
	ctx_close(ctx);
	return rc == 0 ? 0 : 1;
}

int
cli_user(int argc, char **argv)
{
	return run(argc, argv, 0);
}

int
cli_token(int argc, char **argv)
{
	return run(argc, argv, 1);
}
