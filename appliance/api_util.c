/*
 * api_util.c: small helpers shared by the api_*.c handlers (see api.h): times, list envelopes,
 * body parsing.
 * May call: json_in.h, http.h. Must never: touch MHD or SQL.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "err.h"
#include "json_in.h"

void
api_time(int64_t ms, char out[32])
{
	struct tm tm;
	time_t s;

	out[0] = '\0';
	if (ms <= 0)
		return;
	s = (time_t)(ms / 1000);
	gmtime_r(&s, &tm);
	if (strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

json_t *
api_time_json(int64_t ms)
{
	char t[32];

	if (ms <= 0)
		return json_null();
	api_time(ms, t);
	return json_string(t);
}

int
api_list_resp(struct resp *resp, json_t *items, int64_t next_after)
{
	char next[32];
	json_t *o;

	if (items == NULL)
		return HSMCA_E_NOMEM;
	snprintf(next, sizeof(next), "%lld", (long long)next_after);
	o = json_pack("{s:o,s:o}", "items", items, "next", next_after > 0 ? json_string(next) : json_null());
	return resp_json(resp, 200, o);
}

int
api_body(struct req *req, const char *const *allowed, json_t **out)
{
	json_t *o = NULL;
	int rc;

	*out = NULL;
	if ((rc = json_in_parse(req->body, req->body_len, &o)) != 0)
		return rc;
	if ((rc = json_in_only(o, allowed)) != 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

const char *
api_actor(const struct req *req)
{
	return req->actor_label;
}
