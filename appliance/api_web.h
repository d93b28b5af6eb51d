/*
 * api_web.h: the web console's static files on the HTTPS listener (issue #5).
 *
 * GET / answers index.html; GET /static/{file} answers one file of the web root's static/ folder.
 * The console is a plain client of /api/v1: these handlers only read files, never the database
 * or the token, and need no authentication (the login screen is one of the files).
 *
 * Web root, resolved once per process: the environment variable HSMCA_WEB_ROOT; else the
 * compile-time HSMCA_WEB_DIR when defined; else the source tree's web/ folder (a build run from
 * its tree); else /usr/share/hsmca/web (the installed appliance). The first folder holding
 * index.html wins.
 *
 * Every answer carries the console's security headers: a Content-Security-Policy without inline
 * script or style, Referrer-Policy no-referrer, X-Frame-Options DENY and Cache-Control no-cache
 * with an ETag (If-None-Match -> 304), so a new release is picked up at once and an unchanged
 * file costs one round trip. http.c adds X-Content-Type-Options and HSTS to every answer.
 */
#ifndef HSMCA_API_WEB_H
#define HSMCA_API_WEB_H

#include <stddef.h>

#include "http.h"

/* The Content-Security-Policy of every console file. */
#define API_WEB_CSP "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/* Largest file served (the console's files are a few KiB each). */
#define API_WEB_MAX_FILE_BYTES (1024 * 1024)

/* GET /: index.html. 404 (not_found) when the web root has none. */
int api_web_index(struct req *req, struct resp *resp);
/* GET /static/{file}: a file name of letters, digits, '-' and '_' plus one known extension (js,
 * css, svg, png, ico, json, txt); anything else, including every path-traversal spelling, is 404
 * without touching the file system. */
int api_web_static(struct req *req, struct resp *resp);

/* The web root in use ("" when none was found); borrowed, valid for the process's life. */
const char *api_web_root(void);

/* The content type for a file name by its extension, or NULL when the extension is not served.
 * Pure; exposed for unit tests. */
const char *api_web_content_type(const char *name);

/* The routes above, for http.c's router. */
extern const struct http_route api_web_routes[];
extern const size_t api_web_routes_n;

#endif
