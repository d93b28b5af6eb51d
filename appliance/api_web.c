/*
 * api_web.c: serves the console's static files (api_web.h).
 * May call: http.h response builders, the file system (read-only, inside the web root). Must
 * never: open a path built from an unchecked client string, follow a symlink out of the web
 * root, or serve anything without the console's security headers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_web.h"
#include "err.h"
#include "log.h"

#define AN HTTP_AUTH_NONE
#define J HTTP_LISTEN_TLS

/* Documented in docs/openapi.yaml (the route test checks both ways). */
const struct http_route api_web_routes[] = {
	{ "GET", "/", api_web_index, J, AN, 0 },
	{ "GET", "/static/{file}", api_web_static, J, AN, 0 },
};

#undef AN
#undef J

const size_t api_web_routes_n = sizeof(api_web_routes) / sizeof(api_web_routes[0]);

#define WEB_NAME_MAX 64

static const struct {
	const char *ext;
	const char *type;
} content_types[] = {
	{ "html", "text/html; charset=utf-8" },
	/* JavaScript modules must carry a JavaScript MIME type or the browser refuses them. */
	{ "js", "text/javascript; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "ico", "image/x-icon" },
	{ "json", "application/json" },
	{ "txt", "text/plain; charset=utf-8" },
};

static pthread_once_t root_once = PTHREAD_ONCE_INIT;
static char web_root[PATH_MAX];

static int
has_index(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;

	if (dir == NULL || dir[0] == '\0' || strlen(dir) + sizeof("/index.html") > sizeof(p))
		return 0;
	snprintf(p, sizeof(p), "%s/index.html", dir);
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The source tree's web/ folder: this file sits in <src>/appliance/ and CMake compiles it by its
 * absolute path, so __FILE__ names the tree. A relative __FILE__ (another build system) gives a
 * path that simply fails has_index(). */
static void
source_web_dir(char *out, size_t cap)
{
	const char *f = __FILE__, *slash;
	size_t n;

	out[0] = '\0';
	slash = strrchr(f, '/');
	if (slash == NULL)
		return;
	n = (size_t)(slash - f);
	while (n > 0 && f[n - 1] != '/')   /* drop "appliance" */
		n--;
	if (n == 0 || n + sizeof("web") > cap)
		return;
	memcpy(out, f, n);
	snprintf(out + n, cap - n, "web");
}

static void
root_resolve(void)
{
	const char *env = getenv("HSMCA_WEB_ROOT");
	char src[PATH_MAX];

	web_root[0] = '\0';
	if (env != NULL && env[0] != '\0') {
		/* An explicit choice is kept even when wrong, so the log names it instead of silently
		 * serving another tree. */
		snprintf(web_root, sizeof(web_root), "%s", env);
		if (!has_index(web_root))
			log_msg(LOGL_WARNING, "web", "web.root_missing", "HSMCA_WEB_ROOT=%s has no index.html", env);
		return;
	}
#ifdef HSMCA_WEB_DIR
	if (has_index(HSMCA_WEB_DIR)) {
		snprintf(web_root, sizeof(web_root), "%s", HSMCA_WEB_DIR);
		return;
	}
#endif
	source_web_dir(src, sizeof(src));
	if (has_index(src)) {
		snprintf(web_root, sizeof(web_root), "%s", src);
		return;
	}
	if (has_index("/usr/share/hsmca/web")) {
		snprintf(web_root, sizeof(web_root), "/usr/share/hsmca/web");
		return;
	}
	log_msg(LOGL_WARNING, "web", "web.root_missing", "no web console files found; set HSMCA_WEB_ROOT");
}

const char *
api_web_root(void)
{
	pthread_once(&root_once, root_resolve);
	return web_root;
}

const char *
api_web_content_type(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot == NULL)
		return NULL;
	for (i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++)
		if (strcmp(dot + 1, content_types[i].ext) == 0)
			return content_types[i].type;
	return NULL;
}

/* [A-Za-z0-9][A-Za-z0-9_-]*.ext with exactly one dot: no "..", no "/", no hidden files, no
 * percent or backslash spellings, so no name can leave the static folder. */
static int
name_ok(const char *name)
{
	size_t i, n = strlen(name), dots = 0;

	if (n == 0 || n > WEB_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = name[i];

		if (ch == '.') {
			if (i == 0 || ++dots > 1)
				return 0;
		} else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ((ch == '-' || ch == '_') && i > 0))) {
			return 0;
		}
	}
	return dots == 1 && api_web_content_type(name) != NULL;
}

static int
not_found(struct resp *resp)
{
	return resp_error(resp, 404, "not_found", "no such file");
}

static int
security_headers(struct resp *resp, const char *etag)
{
	int rc;

	if ((rc = resp_header(resp, "Content-Security-Policy", API_WEB_CSP)) != 0 ||
	    (rc = resp_header(resp, "Referrer-Policy", "no-referrer")) != 0 ||
	    (rc = resp_header(resp, "X-Frame-Options", "DENY")) != 0 ||
	    /* Revalidate every time (ETag makes that a 304), so an upgrade never mixes old and new
	     * modules. */
	    (rc = resp_header(resp, "Cache-Control", "no-cache")) != 0)
		return rc;
	if (etag != NULL && (rc = resp_header(resp, "ETag", etag)) != 0)
		return rc;
	return 0;
}

/* Serves rel (a checked name relative to the web root). */
static int
serve_file(struct req *req, struct resp *resp, const char *rel, const char *type)
{
	const char *root = api_web_root(), *inm;
	char path[PATH_MAX], etag[64];
	struct stat st;
	uint8_t *data = NULL;
	size_t got = 0;
	ssize_t r;
	int fd = -1, rc = HSMCA_E_INTERNAL;

	if (root[0] == '\0' || (size_t)snprintf(path, sizeof(path), "%s/%s", root, rel) >= sizeof(path))
		return not_found(resp);
	/* O_NOFOLLOW: a symlink planted in the web root does not lead out of it. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
			return not_found(resp);
		return err_set(HSMCA_E_IO, "open %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = err_set(HSMCA_E_IO, "fstat %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = not_found(resp);
		goto out;
	}
	if (st.st_size > API_WEB_MAX_FILE_BYTES) {
		rc = err_set(HSMCA_E_TOOLARGE, "console file %s is larger than %d bytes", rel, API_WEB_MAX_FILE_BYTES);
		goto out;
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx-%lx\"", (unsigned long long)st.st_size,
	    (unsigned long long)st.st_mtim.tv_sec, (unsigned long)st.st_mtim.tv_nsec);
	if ((rc = security_headers(resp, etag)) != 0)
		goto out;
	inm = req_header(req, "If-None-Match");
	if (inm != NULL && strcmp(inm, etag) == 0) {
		rc = resp_bytes(resp, 304, NULL, "", 0);
		goto out;
	}
	if ((data = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, data + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = err_set(HSMCA_E_IO, "read %s: %s", path, r < 0 ? strerror(errno) : "file shrank");
			goto out;
		}
		got += (size_t)r;
	}
	if (resp->body != NULL)
		free(resp->body);
	/* http.c owns and frees the body from here. */
	resp->body = data;
	resp->body_len = got;
	resp->status = 200;
	resp->content_type = type;
	data = NULL;
	rc = 0;
out:
	free(data);
	if (fd >= 0)
		close(fd);
	return rc;
}

int
api_web_index(struct req *req, struct resp *resp)
{
	return serve_file(req, resp, "index.html", api_web_content_type("index.html"));
}

int
api_web_static(struct req *req, struct resp *resp)
{
	const char *name = req_param(req, "file");
	char rel[WEB_NAME_MAX + sizeof("static/")];

	if (name == NULL || !name_ok(name))
		return not_found(resp);
	snprintf(rel, sizeof(rel), "static/%s", name);
	return serve_file(req, resp, rel, api_web_content_type(name));
}
