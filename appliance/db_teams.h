/*
 * db_teams.h: teams, their members and the CAs granted to them (teams, team_members, team_cas).
 * Conventions as in db_users.h.
 */
#ifndef HSMCA_DB_TEAMS_H
#define HSMCA_DB_TEAMS_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define DB_TEAMS_NAME_MAX 64
#define DB_TEAMS_DESC_MAX 512

struct db_team {
	int64_t id;
	char name[DB_TEAMS_NAME_MAX + 1];
	char description[DB_TEAMS_DESC_MAX + 1];
	int64_t created_at;
};

/* A member or a CA of a team: id and its name (username / CA slug). */
struct db_team_ref {
	int64_t id;
	char name[129];
};

int db_teams_create(struct db *db, const char *name, const char *description, int64_t *id_out);
int db_teams_get(struct db *db, int64_t id, struct db_team *out);
int db_teams_list(struct db *db, int64_t after_id, int limit, struct db_team **out, size_t *n_out);
/* NULL leaves a column unchanged. HSMCA_E_EXISTS when the new name is taken. */
int db_teams_update(struct db *db, int64_t id, const char *name, const char *description);
int db_teams_delete(struct db *db, int64_t id);

/* Idempotent. HSMCA_E_NOTFOUND when the team or the user / CA does not exist. */
int db_teams_add_member(struct db *db, int64_t team_id, int64_t user_id);
int db_teams_remove_member(struct db *db, int64_t team_id, int64_t user_id);
int db_teams_add_ca(struct db *db, int64_t team_id, int64_t ca_id);
int db_teams_remove_ca(struct db *db, int64_t team_id, int64_t ca_id);

/* Members (users) / CAs of a team, or teams of a user. *out malloc'd array, free(). */
int db_teams_members(struct db *db, int64_t team_id, struct db_team_ref **out, size_t *n_out);
int db_teams_cas(struct db *db, int64_t team_id, struct db_team_ref **out, size_t *n_out);
int db_teams_of_user(struct db *db, int64_t user_id, struct db_team_ref **out, size_t *n_out);

/* *yes = 1 when one of user_id's teams is granted ca_id. */
int db_teams_user_has_ca(struct db *db, int64_t user_id, int64_t ca_id, int *yes);

#endif
