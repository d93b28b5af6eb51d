/*
 * api_scep.h: the SCEP routes: the protocol endpoints on the plain-HTTP listener (scep.h) and
 * the REST resources that manage SCEP: authentication entries (/api/v1/scep-auth), per-CA
 * settings (/api/v1/cas/{id}/scep), the exchange log (/api/v1/logs/scep,
 * /api/v1/cas/{id}/scep-logs) and manual approval (/api/v1/scep-requests).
 *
 * http.c routes these through scep_routes (one table here, as api_resources.h does, so SCEP can
 * grow without touching http.c). Permissions (auth.h): admin everything; operator reads and
 * changes SCEP of the CAs granted to one of their teams; auditor reads.
 */
#ifndef HSMCA_API_SCEP_H
#define HSMCA_API_SCEP_H

#include <stddef.h>

#include "http.h"

extern const struct http_route scep_routes[];
extern const size_t scep_routes_n;

int api_scep_auth_list(struct req *req, struct resp *resp);
int api_scep_auth_create(struct req *req, struct resp *resp);
int api_scep_auth_get(struct req *req, struct resp *resp);
int api_scep_auth_update(struct req *req, struct resp *resp);
int api_scep_auth_delete(struct req *req, struct resp *resp);
int api_scep_settings_get(struct req *req, struct resp *resp);
int api_scep_settings_update(struct req *req, struct resp *resp);
int api_scep_logs_list(struct req *req, struct resp *resp);
int api_scep_logs_ca(struct req *req, struct resp *resp);
int api_scep_logs_get(struct req *req, struct resp *resp);
int api_scep_requests_list(struct req *req, struct resp *resp);
int api_scep_requests_approve(struct req *req, struct resp *resp);
int api_scep_requests_reject(struct req *req, struct resp *resp);

#endif
