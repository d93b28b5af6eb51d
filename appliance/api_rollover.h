/*
 * api_rollover.h: REST glue of CA certificate rollover (ca_rollover.h). http.c routes these
 * through api_rollover_routes (one line in its route_tables[]).
 *   POST   /api/v1/cas/{id}/rollover            admin: start ({"days": N, "key": "rsa-2048"}, optional)
 *   GET    /api/v1/cas/{id}/rollover            read: {"next": {...}|null, "history": [...]}
 *   POST   /api/v1/cas/{id}/rollover/activate   admin: the next certificate becomes current
 *   DELETE /api/v1/cas/{id}/rollover            admin: cancel (keys deleted from the token)
 */
#ifndef HSMCA_API_ROLLOVER_H
#define HSMCA_API_ROLLOVER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "http.h"

struct db;

extern const struct http_route api_rollover_routes[];
extern const size_t api_rollover_routes_n;

int api_rollover_start(struct req *req, struct resp *resp);
int api_rollover_get(struct req *req, struct resp *resp);
int api_rollover_activate(struct req *req, struct resp *resp);
int api_rollover_cancel(struct req *req, struct resp *resp);

/* The "next" member of a CA's JSON (api_cas.c): serial, fingerprint, key, validity of the pending
 * next certificate, or JSON null when there is none (or it cannot be read). New reference. */
json_t *api_rollover_next_json(struct db *db, int64_t ca_id);

#endif
