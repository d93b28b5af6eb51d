/*
 * db_certs_query.h: reading the certificates table for the REST lists (filters, keyset
 * pagination) and the few changes the API makes to a stored certificate (tags).
 * db_certs.h stays the CA core's insert/get; rows are read back with db_certs_get_by_id().
 */
#ifndef HSMCA_DB_CERTS_QUERY_H
#define HSMCA_DB_CERTS_QUERY_H

#include <stddef.h>
#include <stdint.h>

struct db;

/* Every pointer may be NULL (no filter); strings are borrowed for the call. */
struct db_certs_filter {
	const char *source;            /* "managed" | "discovered" */
	const char *status;            /* "active" | "expired" | "revoked" */
	int64_t ca_id;                 /* 0: any */
	int64_t expiring_within_ms;    /* < 0: no filter; else active and not_after <= now + this */
	const char *q;                 /* case-insensitive substring of the common name or a SAN */
	const char *tag_json;          /* a tag as a JSON string literal ("\"web\""), matched in tags */
	int64_t visible_to_user;       /* > 0: only certificates of CAs granted to this user's teams */
	int64_t now_ms;
};

/* Ids of the matching certificates, newest first (id descending), with id < before_id when
 * before_id > 0, at most limit. *ids malloc'd, caller free()s. */
int db_certs_query_ids(struct db *db, const struct db_certs_filter *f, int64_t before_id, int limit,
    int64_t **ids, size_t *n);

/* Replaces the tags (JSON array text) of certificate id. HSMCA_E_NOTFOUND when absent. */
int db_certs_query_set_tags(struct db *db, int64_t id, const char *tags_json);

/* Certificates issued by ca_id that are neither expired nor revoked at now_ms. */
int db_certs_query_count_live(struct db *db, int64_t ca_id, int64_t now_ms, int64_t *n);

#endif
