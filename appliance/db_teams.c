/*
 * db_teams.c: SQL for teams, team_members and team_cas (see db_teams.h).
 * May call: sqlite3, db.h, err.h. Must never: decide who may do what (auth.c does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_teams.h"
#include "err.h"

static void
text(sqlite3_stmt *st, int i, char *out, size_t cap)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	snprintf(out, cap, "%s", s != NULL ? (const char *)s : "");
}

static void
team_from_row(sqlite3_stmt *st, struct db_team *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	text(st, 1, t->name, sizeof(t->name));
	text(st, 2, t->description, sizeof(t->description));
	t->created_at = sqlite3_column_int64(st, 3);
}

static int
check_text(const char *name, const char *description)
{
	if (name != NULL && strlen(name) > DB_TEAMS_NAME_MAX)
		return err_set(HSMCA_E_INVALID, "team name longer than %d bytes", DB_TEAMS_NAME_MAX);
	if (description != NULL && strlen(description) > DB_TEAMS_DESC_MAX)
		return err_set(HSMCA_E_INVALID, "team description longer than %d bytes", DB_TEAMS_DESC_MAX);
	return 0;
}

int
db_teams_create(struct db *db, const char *name, const char *description, int64_t *id_out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*id_out = 0;
	if ((rc = check_text(name, description)) != 0)
		return rc;
	if (db_prepare(db, "INSERT INTO teams (name, description, created_at) "
	    "VALUES (?, ?, ?)", &st) != 0)
		return db_fail(db, "prepare insert team");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (description != NULL)
		sqlite3_bind_text(st, 2, description, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, db_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, "insert team");
		if (rc == HSMCA_E_EXISTS)
			err_set(rc, "a team named '%s' already exists", name);
	} else {
		*id_out = sqlite3_last_insert_rowid(db_handle(db));
	}
	db_finalize(db, st);
	return rc;
}

int
db_teams_get(struct db *db, int64_t id, struct db_team *out)
{
	sqlite3_stmt *st = NULL;
	int rc = 0, s;

	memset(out, 0, sizeof(*out));
	if (db_prepare(db, "SELECT id, name, description, created_at FROM teams "
	    "WHERE id = ?", &st) != 0)
		return db_fail(db, "prepare get team");
	sqlite3_bind_int64(st, 1, id);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		team_from_row(st, out);
	else if (s == SQLITE_DONE)
		rc = err_set(HSMCA_E_NOTFOUND, "no such team");
	else
		rc = db_fail(db, "get team");
	db_finalize(db, st);
	return rc;
}

int
db_teams_list(struct db *db, int64_t after_id, int limit, struct db_team **out, size_t *n_out)
{
	sqlite3_stmt *st = NULL;
	struct db_team *v = NULL;
	size_t n = 0;
	int rc = 0, s;

	*out = NULL;
	*n_out = 0;
	if (limit < 1 || limit > 1000)
		return err_set(HSMCA_E_INVALID, "limit must be 1..1000");
	v = calloc((size_t)limit, sizeof(*v));
	if (v == NULL)
		return HSMCA_E_NOMEM;
	if (db_prepare(db, "SELECT id, name, description, created_at FROM teams "
	    "WHERE id > ? ORDER BY id LIMIT ?", &st) != 0) {
		rc = db_fail(db, "prepare list teams");
		goto out;
	}
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int(st, 2, limit);
	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		team_from_row(st, &v[n++]);
	if (s != SQLITE_DONE) {
		rc = db_fail(db, "list teams");
		goto out;
	}
	*out = v;
	*n_out = n;
	v = NULL;
out:
	free(v);
	db_finalize(db, st);
	return rc;
}

/* Runs a statement binding up to two ids (and optional texts); HSMCA_E_NOTFOUND when it changed
 * nothing and must_change. */
static int
exec2(struct db *db, const char *sql, int64_t a, int64_t b, int must_change, const char *what,
    const char *notfound)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (db_prepare(db, sql, &st) != 0)
		return db_fail(db, what);
	sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int64(st, 2, b);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, what);
	else if (must_change && sqlite3_changes(db_handle(db)) == 0)
		rc = err_set(HSMCA_E_NOTFOUND, "%s", notfound);
	db_finalize(db, st);
	return rc;
}

int
db_teams_update(struct db *db, int64_t id, const char *name, const char *description)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if ((rc = check_text(name, description)) != 0)
		return rc;
	if (db_prepare(db, "UPDATE teams SET name = COALESCE(?1, name), "
	    "description = COALESCE(?2, description) WHERE id = ?3", &st) != 0)
		return db_fail(db, "prepare update team");
	if (name != NULL)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (description != NULL)
		sqlite3_bind_text(st, 2, description, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, "update team");
		if (rc == HSMCA_E_EXISTS)
			err_set(rc, "a team with that name already exists");
	} else if (sqlite3_changes(db_handle(db)) == 0) {
		rc = err_set(HSMCA_E_NOTFOUND, "no such team");
	}
	db_finalize(db, st);
	return rc;
}

int
db_teams_delete(struct db *db, int64_t id)
{
	return exec2(db, "DELETE FROM teams WHERE id = ?", id, 0, 1, "delete team", "no such team");
}

/* The foreign keys would refuse a missing team, user or CA with a generic constraint error;
 * checking first gives the client a 404 that names what is missing. */
static int
exists(struct db *db, const char *sql, int64_t id, const char *notfound)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	if (db_prepare(db, sql, &st) != 0)
		return db_fail(db, "prepare exists");
	sqlite3_bind_int64(st, 1, id);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		rc = 0;
	else if (s == SQLITE_DONE)
		rc = err_set(HSMCA_E_NOTFOUND, "%s", notfound);
	else
		rc = db_fail(db, "exists");
	db_finalize(db, st);
	return rc;
}

int
db_teams_add_member(struct db *db, int64_t team_id, int64_t user_id)
{
	int rc;

	if ((rc = exists(db, "SELECT 1 FROM teams WHERE id = ?", team_id, "no such team")) != 0 ||
	    (rc = exists(db, "SELECT 1 FROM users WHERE id = ?", user_id, "no such user")) != 0)
		return rc;
	return exec2(db, "INSERT OR IGNORE INTO team_members (team_id, user_id) VALUES (?, ?)", team_id,
	    user_id, 0, "add team member", NULL);
}

int
db_teams_remove_member(struct db *db, int64_t team_id, int64_t user_id)
{
	return exec2(db, "DELETE FROM team_members WHERE team_id = ? AND user_id = ?", team_id, user_id, 1,
	    "remove team member", "that user is not a member of this team");
}

int
db_teams_add_ca(struct db *db, int64_t team_id, int64_t ca_id)
{
	int rc;

	if ((rc = exists(db, "SELECT 1 FROM teams WHERE id = ?", team_id, "no such team")) != 0 ||
	    (rc = exists(db, "SELECT 1 FROM cas WHERE id = ?", ca_id, "no such CA")) != 0)
		return rc;
	return exec2(db, "INSERT OR IGNORE INTO team_cas (team_id, ca_id) VALUES (?, ?)", team_id, ca_id, 0,
	    "grant CA to team", NULL);
}

int
db_teams_remove_ca(struct db *db, int64_t team_id, int64_t ca_id)
{
	return exec2(db, "DELETE FROM team_cas WHERE team_id = ? AND ca_id = ?", team_id, ca_id, 1,
	    "remove CA from team", "that CA is not granted to this team");
}

static int
refs(struct db *db, const char *sql, int64_t id, struct db_team_ref **out, size_t *n_out)
{
	sqlite3_stmt *st = NULL;
	struct db_team_ref *v = NULL, *nv;
	size_t n = 0, cap = 0;
	int rc = 0, s;

	*out = NULL;
	*n_out = 0;
	if (db_prepare(db, sql, &st) != 0)
		return db_fail(db, "prepare team refs");
	sqlite3_bind_int64(st, 1, id);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				rc = HSMCA_E_NOMEM;
				goto out;
			}
			v = nv;
		}
		v[n].id = sqlite3_column_int64(st, 0);
		text(st, 1, v[n].name, sizeof(v[n].name));
		n++;
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(db, "team refs");
		goto out;
	}
	*out = v;
	*n_out = n;
	v = NULL;
out:
	free(v);
	db_finalize(db, st);
	return rc;
}

int
db_teams_members(struct db *db, int64_t team_id, struct db_team_ref **out, size_t *n_out)
{
	return refs(db, "SELECT u.id, u.username FROM team_members m JOIN users u ON u.id = m.user_id "
	    "WHERE m.team_id = ? ORDER BY u.id", team_id, out, n_out);
}

int
db_teams_cas(struct db *db, int64_t team_id, struct db_team_ref **out, size_t *n_out)
{
	return refs(db, "SELECT c.id, c.slug FROM team_cas t JOIN cas c ON c.id = t.ca_id "
	    "WHERE t.team_id = ? ORDER BY c.id", team_id, out, n_out);
}

int
db_teams_of_user(struct db *db, int64_t user_id, struct db_team_ref **out, size_t *n_out)
{
	return refs(db, "SELECT t.id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id "
	    "WHERE m.user_id = ? ORDER BY t.id", user_id, out, n_out);
}

int
db_teams_user_has_ca(struct db *db, int64_t user_id, int64_t ca_id, int *yes)
{
	sqlite3_stmt *st = NULL;
	int rc = 0, s;

	*yes = 0;
	if (db_prepare(db, "SELECT 1 FROM team_members m JOIN team_cas c "
	    "ON c.team_id = m.team_id WHERE m.user_id = ? AND c.ca_id = ? LIMIT 1", &st) != 0)
		return db_fail(db, "prepare team CA check");
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, ca_id);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		*yes = 1;
	else if (s != SQLITE_DONE)
		rc = db_fail(db, "team CA check");
	db_finalize(db, st);
	return rc;
}
