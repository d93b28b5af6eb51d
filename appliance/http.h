/*
 * http.h: the appliance's HTTP layer as handlers see it. Only http.c includes microhttpd.h.
 *
 * http.c runs two libmicrohttpd daemons (plain HTTP for public protocol endpoints, HTTPS for the
 * console and /api/v1), each with an internal thread pool, connection/IP/timeout/memory limits,
 * and a routing table of {method, pattern, handler, listener, auth, body cap}. Bodies are capped
 * before anything is parsed (Content-Length up front, bytes counted as they arrive) -> 413.
 * Each worker thread opens its own SQLite connection lazily and closes it when the thread exits.
 *
 * A handler gets a struct req (never an MHD type), fills a struct resp, and returns 0; or it
 * returns a negative HSMCA_E_* and http.c answers the one error shape of DESIGN.md,
 * {"error":{"code":"snake_case","message":"Human sentence."}}, with the status from one table and
 * the message from err_msg() (for 5xx a generic sentence naming the request id instead: internal
 * details go to the log only).
 */
#ifndef HSMCA_HTTP_H
#define HSMCA_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth.h"

struct config;
struct db;
struct tok;
struct http_server;

enum http_listener {
	HTTP_LISTEN_PLAIN = 1,   /* public: SCEP, CRL, CA certificates, OCSP, health, metrics */
	HTTP_LISTEN_TLS = 2,     /* console and REST API */
	HTTP_LISTEN_BOTH = 3
};

enum http_auth {
	HTTP_AUTH_NONE,          /* public */
	HTTP_AUTH_PENDING,       /* any valid session or token, even one whose user must first change
	                            the password or enrol TOTP (auth/me, auth/password, logout) */
	HTTP_AUTH_ENROL,         /* as USER, but also allowed while TOTP enrolment is required */
	HTTP_AUTH_USER           /* a fully authenticated user; roles are checked by the handler */
};

#define HTTP_MAX_ROUTES 256
#define HTTP_MAX_PARAMS 4
#define HTTP_PARAM_MAX 128
#define HTTP_MAX_HEADERS 6

struct req {
	const char *method;               /* "GET", ... */
	const char *path;                 /* decoded path without the query */
	const char *route;                /* the matched pattern, for logs and metrics */
	char param_names[HTTP_MAX_PARAMS][32];
	char params[HTTP_MAX_PARAMS][HTTP_PARAM_MAX + 1];
	int n_params;
	const uint8_t *body;              /* NULL when none; owned by http.c */
	size_t body_len;
	char peer_ip[64];
	char request_id[24];
	int tls;                          /* arrived on the HTTPS listener */
	struct auth_actor actor;          /* valid when authenticated */
	int authenticated;
	char actor_label[96];             /* "user:alice", "token:12:alice", "-" */
	struct db *db;                    /* this worker thread's connection */
	struct tok *tok;                  /* shared, thread-safe; NULL in tests without a token */
	const struct config *cfg;
	void *conn_;                      /* http.c's own; handlers do not touch it */
};

struct http_header {
	char *name;
	char *value;
};

struct resp {
	int status;
	const char *content_type;         /* static string */
	uint8_t *body;                    /* owned; freed (wiped) by http.c */
	size_t body_len;
	struct http_header headers[HTTP_MAX_HEADERS];
	int n_headers;
};

typedef int (*http_handler_fn)(struct req *req, struct resp *resp);

struct http_route {
	const char *method;
	const char *pattern;              /* "/api/v1/users/{id}", "/ca/{slug}.crt" */
	http_handler_fn handler;
	enum http_listener listener;
	enum http_auth auth;
	size_t max_body_bytes;            /* 0: the configured JSON cap (max_json_body_bytes) */
};
/* A pattern ending in "{name...}" lets that last parameter take the rest of the path, '/'
 * included (OCSP GET: base64 holds '/'); its value is not copied: the handler reads req->path.
 * `hsmca serve --routes` prints it without the "..." (as openapi.yaml documents it). */

/* --- request accessors (all borrowed, valid during the handler) --- */

/* A path parameter by its name in the pattern ("id"), or NULL. */
const char *req_param(const struct req *req, const char *name);
/* A path parameter that must be a positive decimal id; HSMCA_E_NOTFOUND otherwise (an id like
 * "../x" or "1;DROP" names no object). */
int req_param_id(const struct req *req, const char *name, int64_t *out);
/* A query-string argument (decoded), or NULL. */
const char *req_query(const struct req *req, const char *name);
/* A request header (case-insensitive name), or NULL. */
const char *req_header(const struct req *req, const char *name);
/* A cookie value, or NULL. */
const char *req_cookie(const struct req *req, const char *name);

/* Keyset pagination from the query: limit (1..max, default dflt) and after (the cursor, an id). */
int req_page(const struct req *req, int dflt, int max, int *limit, int64_t *after);

/* --- response builders --- */

/* Takes ownership of obj (decref'd even on failure). Content type application/json. */
int resp_json(struct resp *resp, int status, json_t *obj);
/* Copies data. */
int resp_bytes(struct resp *resp, int status, const char *content_type, const void *data, size_t len);
/* Adds a header (copied). At most HTTP_MAX_HEADERS. */
int resp_header(struct resp *resp, const char *name, const char *value);
/* An error with an explicit code string (for codes finer than the HSMCA_E_* table, such as
 * "account_locked"). Returns 0 so a handler can `return resp_error(...)`. */
int resp_error(struct resp *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An error from a HSMCA_E_* code through the table; message from err_msg(). */
int resp_error_code(struct resp *resp, int code, const char *request_id);
void resp_free(struct resp *resp);

/* HTTP status and snake_case code for a HSMCA_E_* code (the one mapping table). */
int http_status_of(int code, const char **code_name);

/* --- server --- */

struct http_server_config {
	const struct config *cfg;         /* limits, worker_threads, db_path */
	struct tok *tok;                  /* may be NULL (health reports the token missing) */
	const char *http_listen;          /* "ADDR:PORT" or NULL for none */
	const char *https_listen;         /* "ADDR:PORT" or NULL for none */
	const char *tls_cert_pem;         /* required with https_listen */
	const char *tls_key_pem;
};

/* Starts both daemons. The caller must have blocked SIGPIPE (and whatever signals it waits for)
 * before, so worker threads inherit the mask. */
int http_server_start(const struct http_server_config *hc, struct http_server **out);
/* Stops accepting, waits up to grace_ms for in-flight requests, stops the daemons (joining the
 * workers, which close their databases). NULL is a no-op. */
void http_server_stop(struct http_server *srv, int grace_ms);

/* Parses "ADDR:PORT", "[v6]:PORT" or ":PORT" into a sockaddr (storage of at least 128 bytes). */
int http_parse_listen(const char *spec, void *sockaddr_out, unsigned *len_out);

/* The routing table, for `hsmca serve --routes` and the OpenAPI check. */
const struct http_route *http_routes(size_t *n);

#endif
