/*
 * scheduler.c: the periodic jobs of the daemon (see scheduler.h): CRLs that are due, pruning of
 * expired revocation codes and sessions.
 * May call: crl.h, db_crls.h, db_cas.h, db_revocation.h, db_sessions.h, db.h, log.h, pthreads.
 * Must never: share a database connection with another thread, loop without a bound, or sleep
 * in a way that delays a stop by more than the pass in progress.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "crl.h"
#include "ctx.h"
#include "db.h"
#include "db_cas.h"
#include "db_crls.h"
#include "db_revocation.h"
#include "db_sessions.h"
#include "err.h"
#include "log.h"
#include "scheduler.h"

struct scheduler {
	struct hsmca_ctx ctx;         /* own database connection, borrowed token */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;            /* CLOCK_MONOTONIC: a clock step does not stall or rush ticks */
	int stop;                     /* under mu */
	int64_t last_log_ms;
};

/* Whether the CA's newest CRL is inside the batching window (made less than batch_ms ago). A CA
 * that never published, or whose CRL cannot be read, is not: publishing is the safe side. */
static int
in_batch_window(struct db *db, int64_t ca_id, int64_t now_ms, int64_t batch_ms)
{
	struct db_crl *latest = NULL;
	int in;

	if (batch_ms <= 0 || db_crls_latest(db, ca_id, 0, &latest) != 0) {
		err_clear();
		return 0;
	}
	in = latest->created_at_ms > now_ms - batch_ms && latest->created_at_ms <= now_ms;
	db_crl_free(latest);
	return in;
}

/* crl_publish_due with the batching gate (scheduler.h): the same walk over db_crls_due, skipping
 * CAs whose newest CRL is younger than crl_batch_seconds; they stay due for a later pass. */
static int
publish_due(struct hsmca_ctx *ctx, int64_t now_ms, struct scheduler_pass *p)
{
	int64_t *ids = NULL, batch_ms = (int64_t)ctx->cfg.crl_batch_seconds * 1000;
	size_t n = 0, i;
	struct db_ca *ca;
	int rc, first = 0;

	if ((rc = db_crls_due(ctx->db, now_ms, &ids, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (in_batch_window(ctx->db, ids[i], now_ms, batch_ms)) {
			p->crls_deferred++;
			continue;
		}
		ca = NULL;
		if ((rc = db_cas_get_by_id(ctx->db, ids[i], &ca)) == 0)
			rc = crl_publish(ctx, ca, "system", NULL);
		db_ca_free(ca);
		if (rc == 0)
			p->crls_published++;
		else if (first == 0)
			first = rc;
	}
	free(ids);
	return first;
}

static int
prune(struct hsmca_ctx *ctx, int64_t now_ms, struct scheduler_pass *p)
{
	int rc;

	/* Codes that expired or were spent: nothing can use them any more; the audit trail keeps the
	 * requests and confirmations. */
	if ((rc = db_revocation_codes_prune(ctx->db, now_ms, &p->codes_pruned)) != 0)
		return rc;
	return db_sessions_prune(ctx->db, now_ms);
}

int
scheduler_run_once(struct hsmca_ctx *ctx, int64_t now_ms, int do_prune, struct scheduler_pass *out)
{
	memset(out, 0, sizeof(*out));
	if (ctx->tok != NULL)
		out->crl_rc = publish_due(ctx, now_ms, out);
	if (do_prune)
		out->prune_rc = prune(ctx, now_ms, out);
	return out->crl_rc != 0 ? out->crl_rc : out->prune_rc;
}

/* Logs a pass's failure, at most once per SCHEDULER_LOG_EVERY_MS; work done at debug level. */
static void
report(struct scheduler *s, const struct scheduler_pass *p, int rc, int64_t now_ms)
{
	struct log_line l;

	if (rc != 0 && now_ms - s->last_log_ms >= SCHEDULER_LOG_EVERY_MS) {
		s->last_log_ms = now_ms;
		log_begin(&l, LOGL_WARNING, "scheduler", "scheduler.job_failed");
		log_str(&l, "job", p->crl_rc != 0 ? "crl" : "prune");
		log_str(&l, "detail", err_msg(rc));
		log_end(&l);
	}
	if (p->crls_published > 0 || p->codes_pruned > 0) {
		log_begin(&l, LOGL_DEBUG, "scheduler", "scheduler.pass");
		log_int(&l, "crls_published", (int64_t)p->crls_published);
		log_int(&l, "crls_deferred", (int64_t)p->crls_deferred);
		log_int(&l, "codes_pruned", p->codes_pruned);
		log_end(&l);
	}
	err_clear();
}

static void *
run(void *arg)
{
	struct scheduler *s = arg;
	struct scheduler_pass pass;
	struct timespec until;
	unsigned long tick = 0;
	int rc;

	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		pthread_mutex_unlock(&s->mu);
		err_clear();
		rc = scheduler_run_once(&s->ctx, db_now_ms(), tick % SCHEDULER_PRUNE_EVERY_TICKS == 0, &pass);
		report(s, &pass, rc, db_now_ms());
		tick++;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += SCHEDULER_TICK_MS / 1000;
		until.tv_nsec += (long)(SCHEDULER_TICK_MS % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&s->mu);
		/* Bounded: each wait ends at the deadline or on scheduler_stop's signal. */
		while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void
destroy(struct scheduler *s, int sync_made)
{
	if (sync_made) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
	}
	db_close(s->ctx.db);
	free(s);
}

int
scheduler_start(const struct config *cfg, struct tok *tok, struct scheduler **out)
{
	struct scheduler *s;
	pthread_condattr_t ca;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return HSMCA_E_NOMEM;
	s->ctx.cfg = *cfg;
	s->ctx.tok = tok;
	s->last_log_ms = -SCHEDULER_LOG_EVERY_MS;
	if ((rc = db_open(cfg->db_path, &s->ctx.db)) != 0) {
		destroy(s, 0);
		return rc;
	}
	if (pthread_condattr_init(&ca) != 0) {
		destroy(s, 0);
		return err_set(HSMCA_E_INTERNAL, "scheduler: pthread_condattr_init failed");
	}
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&s->mu, NULL) != 0 || pthread_cond_init(&s->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		db_close(s->ctx.db);
		free(s);
		return err_set(HSMCA_E_INTERNAL, "scheduler: cannot make its mutex or condition variable");
	}
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		destroy(s, 1);
		return err_set(HSMCA_E_INTERNAL, "scheduler: cannot start its thread");
	}
	*out = s;
	return 0;
}

void
scheduler_stop(struct scheduler *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	destroy(s, 1);
}
