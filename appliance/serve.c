/*
 * serve.c: `hsmca serve` — opens the state (configuration, database, token), reads the TLS key
 * and certificate, starts the HTTP layer and waits for a stop signal.
 *
 * May call: ctx.h, http.h, db_sessions.h, log.h, buf.h. Must never: take a secret from argv.
 *
 * Signals: SIGTERM and SIGINT are blocked before any thread starts, so every MHD worker inherits
 * the mask and only this thread receives them, in sigwait(); no async-signal handler runs at all.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "config.h"
#include "ctx.h"
#include "db.h"
#include "db_sessions.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "scheduler.h"
#include "serve.h"

#define SERVE_GRACE_MS 10000
#define TLS_FILE_MAX (256 * 1024)

static void
usage(FILE *f)
{
	fprintf(f, "usage: hsmca serve [--state DIR] [--http ADDR:PORT] [--https ADDR:PORT] [--routes]\n");
}

static int
print_routes(void)
{
	const struct http_route *r;
	size_t n, i;

	r = http_routes(&n);
	for (i = 0; i < n; i++) {
		/* "{name...}" (rest of the path) is documented as the plain "{name}". */
		const char *dots = strstr(r[i].pattern, "...}");
		int keep = dots != NULL ? (int)(dots - r[i].pattern) : (int)strlen(r[i].pattern);

		printf("%s %.*s%s %s\n", r[i].method, keep, r[i].pattern, dots != NULL ? "}" : "",
		    r[i].listener == HTTP_LISTEN_PLAIN ? "http" : r[i].listener == HTTP_LISTEN_TLS ? "https" : "both");
	}
	return 0;
}

/* The TLS private key must be readable by its owner only: a key readable by others is a key
 * anyone on the host may have copied. */
static int
read_tls(const struct config *cfg, struct buf *cert, struct buf *key)
{
	char cp[CONFIG_PATH_MAX + 32], kp[CONFIG_PATH_MAX + 32];
	struct stat st;
	int rc;

	snprintf(cp, sizeof(cp), "%s/tls/cert.pem", cfg->state_dir);
	snprintf(kp, sizeof(kp), "%s/tls/key.pem", cfg->state_dir);
	if (stat(kp, &st) != 0)
		return err_set(HSMCA_E_IO, "no TLS key at %s (made by `hsmca init`)", kp);
	if ((st.st_mode & 077) != 0)
		return err_set(HSMCA_E_IO, "TLS key %s is readable by group or others; chmod 600 it", kp);
	if ((rc = buf_read_file(cp, TLS_FILE_MAX, cert)) != 0)
		return rc;
	if ((rc = buf_read_file(kp, TLS_FILE_MAX, key)) != 0) {
		buf_free(cert);
		return rc;
	}
	return 0;
}

int
cli_serve(int argc, char **argv)
{
	const char *state = NULL, *http = NULL, *https = NULL, *lvl;
	struct hsmca_ctx *ctx = NULL;
	struct http_server *srv = NULL;
	struct scheduler *sched = NULL;
	struct http_server_config hc;
	struct buf cert = { NULL, 0 }, key = { NULL, 0 };
	enum log_level level;
	sigset_t set;
	int i, sig = 0, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--routes") == 0)
			return print_routes();
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (i + 1 >= argc) {
			usage(stderr);
			return 2;
		}
		if (strcmp(argv[i], "--state") == 0)
			state = argv[++i];
		else if (strcmp(argv[i], "--http") == 0)
			http = argv[++i];
		else if (strcmp(argv[i], "--https") == 0)
			https = argv[++i];
		else {
			fprintf(stderr, "hsmca serve: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if ((lvl = getenv("HSMCA_LOG_LEVEL")) != NULL) {
		if (log_level_parse(lvl, &level) != 0) {
			fprintf(stderr, "hsmca serve: HSMCA_LOG_LEVEL: %s\n", err_msg(HSMCA_E_INVALID));
			return 2;
		}
		log_set_level(level);
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	err_clear();
	if ((rc = ctx_open(state, CTX_NEED_TOKEN, &ctx)) != 0)
		goto fail;
	if ((rc = read_tls(&ctx->cfg, &cert, &key)) != 0)
		goto fail;
	(void)db_sessions_prune(ctx->db, db_now_ms());
	memset(&hc, 0, sizeof(hc));
	hc.cfg = &ctx->cfg;
	hc.tok = ctx->tok;
	hc.http_listen = http != NULL ? http : ctx->cfg.http_listen;
	hc.https_listen = https != NULL ? https : ctx->cfg.https_listen;
	hc.tls_cert_pem = (const char *)cert.data;
	hc.tls_key_pem = (const char *)key.data;
	if ((rc = http_server_start(&hc, &srv)) != 0)
		goto fail;
	if ((rc = scheduler_start(&ctx->cfg, ctx->tok, &sched)) != 0)
		goto fail;
	buf_free(&key);
	{
		struct log_line l;

		log_begin(&l, LOGL_INFO, "serve", "serve.started");
		log_str(&l, "http", hc.http_listen);
		log_str(&l, "https", hc.https_listen);
		log_str(&l, "state", ctx->cfg.state_dir);
		log_int(&l, "workers", ctx->cfg.worker_threads);
		log_end(&l);
	}
	while (sigwait(&set, &sig) != 0)
		;
	log_msg(LOGL_INFO, "serve", "serve.stopping", "signal %d: finishing requests in flight", sig);
	scheduler_stop(sched);
	http_server_stop(srv, SERVE_GRACE_MS);
	buf_free(&cert);
	ctx_close(ctx);
	log_msg(LOGL_INFO, "serve", "serve.stopped", "clean shutdown");
	return 0;
fail:
	fprintf(stderr, "hsmca serve: %s\n", err_msg(rc));
	log_msg(LOGL_ERROR, "serve", "serve.failed", "%s", err_msg(rc));
	scheduler_stop(sched);
	http_server_stop(srv, 0);
	buf_free(&cert);
	buf_free(&key);
	ctx_close(ctx);
	return 1;
}
