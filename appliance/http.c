/*
 * http.c: both libmicrohttpd daemons, their limits, the routing table, per-request state, the
 * error mapping and the request log line (see http.h).
 *
 * May call: libmicrohttpd (the only file that does), db.h (one connection per worker thread),
 * auth.h (to resolve the caller), log.h, metrics.h, the api_*.c handlers. Must never: parse a body
 * before its size is known to be within the route's cap, or put a client's bytes in a log line
 * without log.c's escaping.
 *
 * Request life cycle (MHD calls the access handler several times per request):
 *   1st call: allocate struct conn, match the route (404/405 at once), refuse a Content-Length
 *             over the cap (413 at once, nothing read).
 *   next calls: append upload bytes; past the cap the body is dropped and 413 answered at the
 *             end (MHD only lets a response be queued before or after the upload). A client that
 *             keeps streaming far past the cap is cut off.
 *   last call: authenticate, run the handler, queue the response.
 *   completed: one log line, metrics, free everything (NOTIFY_COMPLETED).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "api.h"
#include "api_web.h"
#include "api_issue4.h"
#include "api_resources.h"
#include "api_rollover.h"
#include "api_scep.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

static size_t unescape_no_nul(void *cls, struct MHD_Connection *conn, char *s);

/* Per-connection memory for headers and URL: a request line or header block beyond it is refused
 * by MHD itself (431/414), before any handler runs. */
#define HTTP_CONN_MEMORY_LIMIT (64 * 1024)
/* A client streaming a chunked body past its cap is disconnected once this much more has come. */
#define HTTP_DRAIN_SLACK (256 * 1024)
#define HTTP_MAX_SEGMENTS 12

#define J HTTP_LISTEN_TLS
#define P HTTP_LISTEN_PLAIN
#define B HTTP_LISTEN_BOTH
#define AN HTTP_AUTH_NONE
#define AP HTTP_AUTH_PENDING
#define AE HTTP_AUTH_ENROL
#define AU HTTP_AUTH_USER

/* The core routing table; resource files add their own tables (route_tables below). Every
 * entry is documented in docs/openapi.yaml (a test checks both ways). */
static const struct http_route core_routes[] = {
	{ "GET", "/healthz", api_healthz, B, AN, 0 },
	{ "GET", "/metrics", api_metrics, B, AN, 0 },

	{ "POST", "/api/v1/auth/login", api_auth_login, J, AN, 16 * 1024 },
	{ "POST", "/api/v1/auth/logout", api_auth_logout, J, AP, 0 },
	{ "GET", "/api/v1/auth/me", api_auth_me, J, AP, 0 },
	{ "POST", "/api/v1/auth/password", api_auth_password, J, AP, 16 * 1024 },
	{ "POST", "/api/v1/auth/totp/enroll", api_auth_totp_enroll, J, AE, 0 },
	{ "POST", "/api/v1/auth/totp/confirm", api_auth_totp_confirm, J, AE, 0 },

	{ "GET", "/api/v1/users", api_users_list, J, AU, 0 },
	{ "POST", "/api/v1/users", api_users_create, J, AU, 0 },
	{ "GET", "/api/v1/users/{id}", api_users_get, J, AU, 0 },
	{ "PATCH", "/api/v1/users/{id}", api_users_update, J, AU, 0 },
	{ "DELETE", "/api/v1/users/{id}", api_users_delete, J, AU, 0 },
	{ "POST", "/api/v1/users/{id}/reset-login-attempts", api_users_reset_login_attempts, J, AU, 0 },
	{ "POST", "/api/v1/users/{id}/reset-totp", api_users_reset_totp, J, AU, 0 },
	{ "GET", "/api/v1/users/{id}/tokens", api_tokens_list, J, AU, 0 },
	{ "POST", "/api/v1/users/{id}/tokens", api_tokens_create, J, AU, 0 },
	{ "DELETE", "/api/v1/users/{id}/tokens/{token_id}", api_tokens_delete, J, AU, 0 },

	{ "GET", "/api/v1/teams", api_teams_list, J, AU, 0 },
	{ "POST", "/api/v1/teams", api_teams_create, J, AU, 0 },
	{ "GET", "/api/v1/teams/{id}", api_teams_get, J, AU, 0 },
	{ "PATCH", "/api/v1/teams/{id}", api_teams_update, J, AU, 0 },
	{ "DELETE", "/api/v1/teams/{id}", api_teams_delete, J, AU, 0 },
	{ "PUT", "/api/v1/teams/{id}/members/{user_id}", api_teams_add_member, J, AU, 0 },
	{ "DELETE", "/api/v1/teams/{id}/members/{user_id}", api_teams_remove_member, J, AU, 0 },
	{ "PUT", "/api/v1/teams/{id}/cas/{ca_id}", api_teams_add_ca, J, AU, 0 },
	{ "DELETE", "/api/v1/teams/{id}/cas/{ca_id}", api_teams_remove_ca, J, AU, 0 },

	{ "GET", "/api/v1/logs/login-attempts", api_logs_login_attempts, J, AU, 0 },
};

#undef J
#undef P
#undef B
#undef AN
#undef AP
#undef AE
#undef AU

/* Every table the router knows, in match order: one line per resource file. */
static const struct {
	const struct http_route *routes;
	const size_t *n;
} route_tables[] = {
	{ api_resources_routes, &api_resources_routes_n },
	{ api_web_routes, &api_web_routes_n },
	{ api_issue4_routes, &api_issue4_routes_n },
	{ scep_routes, &scep_routes_n },
	{ api_rollover_routes, &api_rollover_routes_n },
};

static const size_t core_routes_n = sizeof(core_routes) / sizeof(core_routes[0]);
static struct http_route routes[HTTP_MAX_ROUTES];
static size_t n_routes;
static pthread_once_t routes_once = PTHREAD_ONCE_INIT;

/* Joins the tables once, before any thread can route (http_server_start calls it first). */
static void
routes_build(void)
{
	size_t t, i;

	for (i = 0; i < core_routes_n && n_routes < HTTP_MAX_ROUTES; i++)
		routes[n_routes++] = core_routes[i];
	for (t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++)
		for (i = 0; i < *route_tables[t].n && n_routes < HTTP_MAX_ROUTES; i++)
			routes[n_routes++] = route_tables[t].routes[i];
}

const struct http_route *
http_routes(size_t *n)
{
	pthread_once(&routes_once, routes_build);
	*n = n_routes;
	return routes;
}

#define N_ROUTES n_routes

/* --- error mapping: the one table --- */

static const struct {
	int code;
	int status;
	const char *name;
} error_map[] = {
	{ HSMCA_E_INVALID, 400, "invalid_request" },
	{ HSMCA_E_AUTH, 401, "unauthenticated" },
	{ HSMCA_E_PERM, 403, "forbidden" },
	{ HSMCA_E_NOTFOUND, 404, "not_found" },
	{ HSMCA_E_EXISTS, 409, "already_exists" },
	{ HSMCA_E_CONFLICT, 409, "conflict" },
	{ HSMCA_E_TOOLARGE, 413, "too_large" },
	{ HSMCA_E_POLICY, 422, "policy_refused" },
	{ HSMCA_E_TOKEN, 503, "token_unavailable" },
	{ HSMCA_E_PIN, 503, "token_unavailable" },
	{ HSMCA_E_BUSY, 503, "busy" },
	{ HSMCA_E_NOMEM, 500, "internal_error" },
	{ HSMCA_E_DB, 500, "internal_error" },
	{ HSMCA_E_IO, 500, "internal_error" },
	{ HSMCA_E_INTERNAL, 500, "internal_error" },
};

int
http_status_of(int code, const char **code_name)
{
	size_t i;

	for (i = 0; i < sizeof(error_map) / sizeof(error_map[0]); i++)
		if (error_map[i].code == code) {
			*code_name = error_map[i].name;
			return error_map[i].status;
		}
	*code_name = "internal_error";
	return 500;
}

/* --- per-thread database --- */

struct http_server;

struct http_daemon {
	struct MHD_Daemon *mhd;
	struct http_server *srv;
	int tls;
};

struct http_server {
	struct http_daemon plain, tls;
	const struct config *cfg;
	struct tok *tok;
	int in_flight;          /* atomic */
	char *cert_pem, *key_pem;
};

static pthread_key_t db_key;
static pthread_once_t db_key_once = PTHREAD_ONCE_INIT;

static void
db_key_destroy(void *p)
{
	db_close(p);
}

static void
db_key_make(void)
{
	pthread_key_create(&db_key, db_key_destroy);
}

/* This worker's connection, opened on first use; closed by the key destructor at thread exit. */
static int
thread_db(const struct config *cfg, struct db **out)
{
	struct db *db;
	int rc;

	pthread_once(&db_key_once, db_key_make);
	db = pthread_getspecific(db_key);
	if (db == NULL) {
		if ((rc = db_open(cfg->db_path, &db)) != 0)
			return rc;
		if (pthread_setspecific(db_key, db) != 0) {
			db_close(db);
			return err_set(HSMCA_E_INTERNAL, "pthread_setspecific failed");
		}
	}
	*out = db;
	return 0;
}

/* --- per-request state --- */

struct conn {
	struct req req;
	struct MHD_Connection *mc;
	struct http_daemon *d;
	int route_index;
	size_t max_body;
	uint8_t *body;
	size_t body_len, body_cap, dropped;
	int too_large;
	int started;
	int status;
	struct timespec t0;
	char method[16];
	char *path;
};

static int64_t
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

const char *
req_param(const struct req *req, const char *name)
{
	int i;

	for (i = 0; i < req->n_params; i++)
		if (strcmp(req->param_names[i], name) == 0)
			return req->params[i];
	return NULL;
}

int
req_param_id(const struct req *req, const char *name, int64_t *out)
{
	const char *s = req_param(req, name);
	int64_t v = 0;
	size_t i;

	*out = 0;
	if (s == NULL || s[0] == '\0' || strlen(s) > 18)
		return err_set(HSMCA_E_NOTFOUND, "no object has the id given in the path");
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return err_set(HSMCA_E_NOTFOUND, "no object has the id given in the path");
		v = v * 10 + (s[i] - '0');
	}
	if (v <= 0)
		return err_set(HSMCA_E_NOTFOUND, "no object has the id given in the path");
	*out = v;
	return 0;
}

const char *
req_query(const struct req *req, const char *name)
{
	const struct conn *c = req->conn_;

	return c != NULL ? MHD_lookup_connection_value(c->mc, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

const char *
req_header(const struct req *req, const char *name)
{
	const struct conn *c = req->conn_;

	return c != NULL ? MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND, name) : NULL;
}

const char *
req_cookie(const struct req *req, const char *name)
{
	const struct conn *c = req->conn_;

	return c != NULL ? MHD_lookup_connection_value(c->mc, MHD_COOKIE_KIND, name) : NULL;
}

static int
parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || s[0] == '\0' || !(isdigit((unsigned char)s[0]) || s[0] == '-'))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
req_page(const struct req *req, int dflt, int max, int *limit, int64_t *after)
{
	const char *l = req_query(req, "limit"), *a = req_query(req, "after");
	int64_t v;

	*limit = dflt;
	*after = 0;
	if (l != NULL) {
		if (parse_i64(l, 1, max, &v) != 0)
			return err_set(HSMCA_E_INVALID, "query parameter 'limit' must be an integer from 1 to %d", max);
		*limit = (int)v;
	}
	if (a != NULL) {
		if (parse_i64(a, 0, INT64_MAX, &v) != 0)
			return err_set(HSMCA_E_INVALID, "query parameter 'after' must be a cursor from a previous 'next'");
		*after = v;
	}
	return 0;
}

/* --- responses --- */

void
resp_free(struct resp *resp)
{
	int i;

	if (resp == NULL)
		return;
	if (resp->body != NULL)
		OPENSSL_clear_free(resp->body, resp->body_len);
	resp->body = NULL;
	resp->body_len = 0;
	for (i = 0; i < resp->n_headers; i++) {
		free(resp->headers[i].name);
		/* Set-Cookie carries the session token. */
		if (resp->headers[i].value != NULL)
			OPENSSL_clear_free(resp->headers[i].value, strlen(resp->headers[i].value));
	}
	resp->n_headers = 0;
}

int
resp_bytes(struct resp *resp, int status, const char *content_type, const void *data, size_t len)
{
	uint8_t *p;

	p = malloc(len > 0 ? len : 1);
	if (p == NULL)
		return HSMCA_E_NOMEM;
	if (len > 0)
		memcpy(p, data, len);
	if (resp->body != NULL)
		OPENSSL_clear_free(resp->body, resp->body_len);
	resp->body = p;
	resp->body_len = len;
	resp->status = status;
	resp->content_type = content_type;
	return 0;
}

int
resp_json(struct resp *resp, int status, json_t *obj)
{
	char *s;
	int rc;

	if (obj == NULL)
		return HSMCA_E_NOMEM;
	s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (s == NULL)
		return HSMCA_E_NOMEM;
	rc = resp_bytes(resp, status, "application/json", s, strlen(s));
	/* The body may hold a freshly made token. */
	OPENSSL_clear_free(s, strlen(s));
	return rc;
}

int
resp_header(struct resp *resp, const char *name, const char *value)
{
	struct http_header *h;

	if (resp->n_headers >= HTTP_MAX_HEADERS)
		return err_set(HSMCA_E_INTERNAL, "too many response headers");
	h = &resp->headers[resp->n_headers];
	h->name = strdup(name);
	h->value = strdup(value);
	if (h->name == NULL || h->value == NULL) {
		free(h->name);
		free(h->value);
		h->name = h->value = NULL;
		return HSMCA_E_NOMEM;
	}
	resp->n_headers++;
	return 0;
}

/* "the user does not exist" -> "The user does not exist." */
static void
sentence(const char *in, char *out, size_t cap)
{
	size_t n;

	snprintf(out, cap, "%s", in);
	if (out[0] >= 'a' && out[0] <= 'z')
		out[0] = (char)(out[0] - 'a' + 'A');
	n = strlen(out);
	if (n > 0 && n + 1 < cap && out[n - 1] != '.' && out[n - 1] != '?' && out[n - 1] != '!') {
		out[n] = '.';
		out[n + 1] = '\0';
	}
}

static int
error_body(struct resp *resp, int status, const char *code, const char *message)
{
	char msg[600];
	json_t *o;

	sentence(message, msg, sizeof(msg));
	o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	return resp_json(resp, status, o);
}

int
resp_error(struct resp *resp, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_body(resp, status, code, msg);
}

int
resp_error_code(struct resp *resp, int code, const char *request_id)
{
	const char *name;
	char msg[256];
	int status = http_status_of(code, &name);

	if (status >= 500 && code != HSMCA_E_TOKEN && code != HSMCA_E_PIN && code != HSMCA_E_BUSY) {
		/* Internal details (SQL, paths) stay in the log. */
		snprintf(msg, sizeof(msg), "internal error; the log has the details under request id %s",
		    request_id != NULL ? request_id : "-");
		return error_body(resp, status, name, msg);
	}
	if (code == HSMCA_E_TOKEN || code == HSMCA_E_PIN)
		return error_body(resp, status, name, "the key store (token) is unavailable; try again later");
	return error_body(resp, status, name, err_msg(code));
}

/* --- routing --- */

/* Matches one path segment against one pattern segment: literal, or prefix{name}suffix. */
static int
match_segment(const char *pat, size_t plen, const char *seg, size_t slen, struct req *req)
{
	const char *open, *close;
	size_t pre, suf, vlen;

	open = memchr(pat, '{', plen);
	if (open == NULL)
		return plen == slen && memcmp(pat, seg, slen) == 0;
	close = memchr(open, '}', plen - (size_t)(open - pat));
	if (close == NULL || req->n_params >= HTTP_MAX_PARAMS)
		return 0;
	pre = (size_t)(open - pat);
	suf = plen - (size_t)(close - pat) - 1;
	if (slen < pre + suf + 1 || memcmp(seg, pat, pre) != 0 ||
	    memcmp(seg + slen - suf, close + 1, suf) != 0)
		return 0;
	vlen = slen - pre - suf;
	if (vlen > HTTP_PARAM_MAX)
		return 0;
	memcpy(req->params[req->n_params], seg + pre, vlen);
	req->params[req->n_params][vlen] = '\0';
	if ((size_t)(close - open - 1) >= sizeof(req->param_names[0]))
		return 0;
	memcpy(req->param_names[req->n_params], open + 1, (size_t)(close - open - 1));
	req->param_names[req->n_params][close - open - 1] = '\0';
	req->n_params++;
	return 1;
}

static int
match_path(const char *pattern, const char *path, struct req *req)
{
	const char *p = pattern, *s = path, *pe, *se;

	req->n_params = 0;
	for (;;) {
		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		pe = strchr(p, '/');
		se = strchr(s, '/');
		if (pe == NULL)
			pe = p + strlen(p);
		if (se == NULL)
			se = s + strlen(s);
		if (*pe == '\0' && pe - p > 5 && memcmp(pe - 4, "...}", 4) == 0) {
			/* The rest of the path, whatever its slashes, is the last parameter's value; it is
			 * not copied (it may be longer than HTTP_PARAM_MAX): the handler reads req->path. */
			return *p == '{' && pe[-1] == '}' && *s != '\0';
		}
		if (!match_segment(p, (size_t)(pe - p), s, (size_t)(se - s), req))
			return 0;
		p = pe;
		s = se;
		if (*p == '\0' && *s == '\0')
			return 1;
		if (*p == '\0' || *s == '\0')
			return 0;
	}
}

/* Index of the route for method+path on this listener; -1 with *path_known when the path
 * matched under another method (405), -1 otherwise (404). */
static int
find_route(const char *method, const char *path, int tls, struct req *req, int *path_known)
{
	size_t i;
	int lst = tls ? HTTP_LISTEN_TLS : HTTP_LISTEN_PLAIN;
	int head = strcmp(method, "HEAD") == 0;

	*path_known = 0;
	for (i = 0; i < N_ROUTES; i++) {
		if (!(routes[i].listener & lst) || !match_path(routes[i].pattern, path, req))
			continue;
		if (strcmp(routes[i].method, method) == 0 || (head && strcmp(routes[i].method, "GET") == 0))
			return (int)i;
		*path_known = 1;
	}
	req->n_params = 0;
	return -1;
}

/* --- MHD glue --- */

static enum MHD_Result
queue(struct conn *c, struct resp *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	int i;

	r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	if (resp->content_type != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	for (i = 0; i < resp->n_headers; i++)
		MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
	MHD_add_response_header(r, "X-Request-Id", c->req.request_id);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (c->d->tls) {
		MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
		/* The console's static files set their own (no-cache with an ETag). */
		if (MHD_get_response_header(r, "Cache-Control") == NULL)
			MHD_add_response_header(r, "Cache-Control", "no-store");
	}
	c->status = resp->status;
	ret = MHD_queue_response(c->mc, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
queue_error(struct conn *c, int status, const char *code, const char *msg)
{
	struct resp resp;
	enum MHD_Result ret;

	memset(&resp, 0, sizeof(resp));
	if (error_body(&resp, status, code, msg) != 0)
		return MHD_NO;
	ret = queue(c, &resp);
	resp_free(&resp);
	return ret;
}

static void
peer_ip(struct MHD_Connection *mc, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci;
	socklen_t len;

	snprintf(out, cap, "-");
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (getnameinfo(ci->client_addr, len, out, (socklen_t)cap, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(out, cap, "-");
}

/* Resolves the caller: Authorization: Bearer first (API clients), else the console's cookie
 * (with its CSRF header for writes). */
static int
authenticate(struct conn *c, const struct http_route *route)
{
	struct req *req = &c->req;
	const char *h = req_header(req, MHD_HTTP_HEADER_AUTHORIZATION), *cookie;
	int rc;

	if (h != NULL) {
		if (strncasecmp(h, "Bearer ", 7) != 0)
			return err_set(HSMCA_E_AUTH, "the Authorization header must be 'Bearer <token>'");
		h += 7;
		while (*h == ' ')
			h++;
		rc = auth_bearer(req->db, req->cfg, h, &req->actor);
	} else if ((cookie = req_cookie(req, AUTH_SESSION_COOKIE)) != NULL) {
		rc = auth_cookie(req->db, req->cfg, cookie, req->method, req_header(req, AUTH_CSRF_HEADER),
		    &req->actor);
	} else {
		return err_set(HSMCA_E_AUTH, "authentication required: send 'Authorization: Bearer <token>'");
	}
	if (rc != 0)
		return rc;
	req->authenticated = 1;
	auth_actor_label(&req->actor, req->actor_label, sizeof(req->actor_label));
	if (req->actor.must_change_password && route->auth != HTTP_AUTH_PENDING)
		return err_set(HSMCA_E_PERM, "the password must be changed first (POST /api/v1/auth/password)");
	if (req->actor.totp_enrollment_required && route->auth == HTTP_AUTH_USER)
		return err_set(HSMCA_E_PERM, "two-factor authentication must be set up first "
		    "(POST /api/v1/auth/totp/enroll)");
	return 0;
}

static enum MHD_Result
run_handler(struct conn *c)
{
	const struct http_route *route = &routes[c->route_index];
	struct resp resp;
	enum MHD_Result ret;
	int rc;

	memset(&resp, 0, sizeof(resp));
	err_clear();
	c->req.body = c->body;
	c->req.body_len = c->body_len;
	rc = thread_db(c->d->srv->cfg, &c->req.db);
	if (rc == 0 && route->auth != HTTP_AUTH_NONE)
		rc = authenticate(c, route);
	if (rc == 0)
		rc = route->handler(&c->req, &resp);
	if (rc != 0) {
		resp_free(&resp);
		if (rc <= HSMCA_E_INTERNAL && rc > HSMCA_E__MIN) {
			const char *name;
			int status = http_status_of(rc, &name);
			struct log_line l;

			log_begin(&l, status >= 500 ? LOGL_ERROR : LOGL_NOTICE, "http", "request.failed");
			log_str(&l, "route", route->pattern);
			log_str(&l, "code", name);
			log_str(&l, "detail", err_msg(rc));
			log_end(&l);
		}
		if (resp_error_code(&resp, rc, c->req.request_id) != 0)
			return MHD_NO;
	}
	ret = queue(c, &resp);
	resp_free(&resp);
	return ret;
}

static struct conn *
conn_new(struct http_daemon *d, struct MHD_Connection *mc, const char *url, const char *method)
{
	struct conn *c;
	uint8_t rnd[8];
	int i;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	c->mc = mc;
	c->d = d;
	c->route_index = -1;
	c->path = strdup(url);
	if (c->path == NULL) {
		free(c);
		return NULL;
	}
	snprintf(c->method, sizeof(c->method), "%s", method);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	for (i = 0; i < 8; i++)
		snprintf(c->req.request_id + 2 * i, 3, "%02x", rnd[i]);
	c->req.method = c->method;
	c->req.path = c->path;
	c->req.route = "-";
	c->req.tls = d->tls;
	c->req.tok = d->srv->tok;
	c->req.cfg = d->srv->cfg;
	c->req.conn_ = c;
	snprintf(c->req.actor_label, sizeof(c->req.actor_label), "-");
	peer_ip(mc, c->req.peer_ip, sizeof(c->req.peer_ip));
	__atomic_add_fetch(&d->srv->in_flight, 1, __ATOMIC_SEQ_CST);
	return c;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_daemon *d = cls;
	struct conn *c = *con_cls;
	const char *cl;
	int64_t clen;
	int path_known;
	size_t n;

	(void)version;
	if (c == NULL) {
		c = conn_new(d, mc, url, method);
		if (c == NULL)
			return MHD_NO;
		*con_cls = c;
		log_set_request_id(c->req.request_id);
		c->route_index = find_route(method, url, d->tls, &c->req, &path_known);
		if (c->route_index < 0)
			return path_known ? queue_error(c, 405, "method_not_allowed",
			    "this method is not allowed on this path") :
			    queue_error(c, 404, "not_found", "no such endpoint");
		c->req.route = routes[c->route_index].pattern;
		c->max_body = routes[c->route_index].max_body_bytes != 0 ?
		    routes[c->route_index].max_body_bytes : d->srv->cfg->max_json_body_bytes;
		cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && (parse_i64(cl, 0, INT64_MAX, &clen) != 0 || (uint64_t)clen > c->max_body)) {
			/* A body a little over the cap is read and dropped before the 413, so the client is
			 * not reset mid-upload and sees the answer; a far larger one is refused at once. */
			if (cl != NULL && clen >= 0 && (uint64_t)clen <= c->max_body + HTTP_DRAIN_SLACK) {
				c->too_large = 1;
				return MHD_YES;
			}
			return queue_error(c, 413, "too_large", "the request body is larger than this endpoint accepts");
		}
		return MHD_YES;
	}
	log_set_request_id(c->req.request_id);
	if (*upload_data_size > 0) {
		n = *upload_data_size;
		*upload_data_size = 0;
		if (c->too_large || c->body_len + n > c->max_body) {
			/* Past the cap: drop what we hold and what comes, answer 413 at the end; a client that
			 * does not stop is disconnected. */
			c->too_large = 1;
			if (c->body != NULL)
				OPENSSL_clear_free(c->body, c->body_cap);
			c->body = NULL;
			c->body_len = c->body_cap = 0;
			c->dropped += n;
			return c->dropped > HTTP_DRAIN_SLACK + c->max_body ? MHD_NO : MHD_YES;
		}
		if (c->body_len + n > c->body_cap) {
			size_t cap = c->body_cap == 0 ? 4096 : c->body_cap;
			uint8_t *nb;

			while (cap < c->body_len + n)
				cap *= 2;
			if (cap > c->max_body)
				cap = c->max_body;
			nb = malloc(cap + 1);
			if (nb == NULL)
				return MHD_NO;
			if (c->body != NULL) {
				memcpy(nb, c->body, c->body_len);
				OPENSSL_clear_free(c->body, c->body_cap);
			}
			c->body = nb;
			c->body_cap = cap;
		}
		memcpy(c->body + c->body_len, upload_data, n);
		c->body_len += n;
		return MHD_YES;
	}
	if (c->started)
		return MHD_YES;
	c->started = 1;
	if (c->too_large)
		return queue_error(c, 413, "too_large", "the request body is larger than this endpoint accepts");
	return run_handler(c);
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_daemon *d = cls;
	struct conn *c = *con_cls;
	struct log_line l;

	(void)mc;
	if (c == NULL)
		return;
	*con_cls = NULL;
	metrics_observe_request(c->route_index, c->status);
	log_set_request_id(c->req.request_id);
	log_begin(&l, LOGL_INFO, "http", "request");
	log_str(&l, "method", c->method);
	/* The path may carry an id a client made up: escaped by log.c, and the query is never logged
	 * (it is not part of c->path) because SCEP puts messages and secrets there. */
	log_str(&l, "path", c->path);
	log_int(&l, "status", c->status);
	log_int(&l, "duration_ms", ms_since(&c->t0));
	log_str(&l, "actor", c->req.actor_label);
	log_str(&l, "ip", c->req.peer_ip);
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_int(&l, "aborted", (int64_t)toe);
	log_end(&l);
	log_set_request_id(NULL);
	if (c->body != NULL)
		OPENSSL_clear_free(c->body, c->body_cap);
	free(c->path);
	OPENSSL_cleanse(&c->req.actor, sizeof(c->req.actor));
	free(c);
	__atomic_sub_fetch(&d->srv->in_flight, 1, __ATOMIC_SEQ_CST);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[300];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_msg(LOGL_NOTICE, "mhd", "mhd.message", "%s", msg);
}
#pragma GCC diagnostic pop

int
http_parse_listen(const char *spec, void *sockaddr_out, unsigned *len_out)
{
	char host[128];
	const char *colon, *h;
	int64_t port;
	struct sockaddr_in *sin = sockaddr_out;
	struct sockaddr_in6 *sin6 = sockaddr_out;
	size_t hl;

	if (spec == NULL || (colon = strrchr(spec, ':')) == NULL ||
	    parse_i64(colon + 1, 0, 65535, &port) != 0)
		return err_set(HSMCA_E_INVALID, "listen address '%.100s' must be ADDR:PORT", spec ? spec : "");
	h = spec;
	hl = (size_t)(colon - spec);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return err_set(HSMCA_E_INVALID, "listen address '%.100s' is too long", spec);
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(sockaddr_out, 0, sizeof(struct sockaddr_in6));
	if (hl == 0 || strcmp(host, "*") == 0)
		snprintf(host, sizeof(host), "0.0.0.0");
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len_out = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len_out = sizeof(*sin6);
		return 0;
	}
	return err_set(HSMCA_E_INVALID, "listen address '%.100s': '%s' is not an IP address", spec, host);
}

static int
start_daemon(struct http_server *srv, struct http_daemon *d, const char *listen, int tls)
{
	struct sockaddr_storage ss;
	unsigned sslen;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	const struct config *cfg = srv->cfg;
	int rc;

	d->srv = srv;
	d->tls = tls;
	if ((rc = http_parse_listen(listen, &ss, &sslen)) != 0)
		return rc;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (tls)
		flags |= MHD_USE_TLS;
	if (tls)
		d->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, d,
		    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->worker_threads,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_connections_per_ip,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout_s,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY_LIMIT,
		    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, d,
		    MHD_OPTION_UNESCAPE_CALLBACK, unescape_no_nul, NULL,
		    MHD_OPTION_HTTPS_MEM_KEY, srv->key_pem,
		    MHD_OPTION_HTTPS_MEM_CERT, srv->cert_pem,
		    /* TLS 1.2 and 1.3 only. */
		    MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1",
		    MHD_OPTION_END);
	else
		d->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, d,
		    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->worker_threads,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_connections_per_ip,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout_s,
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY_LIMIT,
		    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, d,
		    MHD_OPTION_UNESCAPE_CALLBACK, unescape_no_nul, NULL,
		    MHD_OPTION_END);
	if (d->mhd == NULL)
		return err_set(HSMCA_E_IO, "cannot listen on %s (%s): address in use, not permitted, or bad "
		    "TLS key/certificate", listen, tls ? "https" : "http");
	return 0;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decoding of paths and query arguments, as libmicrohttpd does, except that "%00" stays
 * as it is: a decoded NUL would cut the C string short, so "/certificates/1%00" would name
 * certificate 1. Left encoded, it names nothing (404) and cannot hide a suffix. */
static size_t
unescape_no_nul(void *cls, struct MHD_Connection *conn, char *s)
{
	char *r = s, *w = s;
	int hi, lo;

	(void)cls, (void)conn;
	while (*r != '\0') {
		if (r[0] == '%' && (hi = hex_digit(r[1])) >= 0 && (lo = hex_digit(r[2])) >= 0 && (hi | lo) != 0) {
			*w++ = (char)(hi << 4 | lo);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

int
http_server_start(const struct http_server_config *hc, struct http_server **out)
{
	struct http_server *srv = NULL;
	int rc = HSMCA_E_INTERNAL;

	*out = NULL;
	pthread_once(&db_key_once, db_key_make);
	pthread_once(&routes_once, routes_build);
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return HSMCA_E_NOMEM;
	srv->cfg = hc->cfg;
	srv->tok = hc->tok;
	if (hc->https_listen != NULL) {
		if (hc->tls_cert_pem == NULL || hc->tls_key_pem == NULL) {
			rc = err_set(HSMCA_E_INVALID, "HTTPS needs a certificate and a key");
			goto out;
		}
		srv->cert_pem = strdup(hc->tls_cert_pem);
		srv->key_pem = strdup(hc->tls_key_pem);
		if (srv->cert_pem == NULL || srv->key_pem == NULL) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		if ((rc = start_daemon(srv, &srv->tls, hc->https_listen, 1)) != 0)
			goto out;
	}
	if (hc->http_listen != NULL && (rc = start_daemon(srv, &srv->plain, hc->http_listen, 0)) != 0)
		goto out;
	*out = srv;
	srv = NULL;
	rc = 0;
out:
	http_server_stop(srv, 0);
	return rc;
}

void
http_server_stop(struct http_server *srv, int grace_ms)
{
	MHD_socket s_tls = MHD_INVALID_SOCKET, s_plain = MHD_INVALID_SOCKET;
	int waited = 0;

	if (srv == NULL)
		return;
	/* Stop accepting on both listeners first, then let requests in flight finish. The listening
	 * sockets are ours to close, but only after MHD_stop_daemon: worker threads may still poll
	 * them until then. */
	if (srv->tls.mhd != NULL)
		s_tls = MHD_quiesce_daemon(srv->tls.mhd);
	if (srv->plain.mhd != NULL)
		s_plain = MHD_quiesce_daemon(srv->plain.mhd);
	while (__atomic_load_n(&srv->in_flight, __ATOMIC_SEQ_CST) > 0 && waited < grace_ms) {
		usleep(10 * 1000);
		waited += 10;
	}
	/* Joins the worker threads; their pthread key destructors close their databases. */
	if (srv->tls.mhd != NULL)
		MHD_stop_daemon(srv->tls.mhd);
	if (srv->plain.mhd != NULL)
		MHD_stop_daemon(srv->plain.mhd);
	if (s_tls != MHD_INVALID_SOCKET)
		close(s_tls);
	if (s_plain != MHD_INVALID_SOCKET)
		close(s_plain);
	if (srv->key_pem != NULL)
		OPENSSL_clear_free(srv->key_pem, strlen(srv->key_pem));
	free(srv->cert_pem);
	free(srv);
}
