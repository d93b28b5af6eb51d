/*
 * scheduler.h: the daemon's periodic jobs, run by one thread that `hsmca serve` starts after the
 * HTTP layer and stops before it:
 *   every second  publish every CA whose CRL is due (never published, marked by a revocation, or
 *                 past half its validity: db_crls_due), but not a CA whose newest CRL is younger
 *                 than crl_batch_seconds: revocations that arrive in a burst then share one CRL;
 *   every minute  (and at start) delete expired revocation codes and expired sessions.
 * The thread has its own database connection and shares the token. A job that fails is retried at
 * its next turn; failures are logged at most once a minute so a dead token does not flood the log.
 *
 * revoke_confirm publishes at once only when the CA's newest CRL is older than
 * crl_batch_seconds; otherwise it leaves the CA due and this thread publishes it within
 * crl_batch_seconds + SCHEDULER_TICK_MS.
 */
#ifndef HSMCA_SCHEDULER_H
#define HSMCA_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

#define SCHEDULER_TICK_MS 1000
#define SCHEDULER_PRUNE_EVERY_TICKS 60
#define SCHEDULER_LOG_EVERY_MS (60 * 1000)

struct config;
struct tok;
struct scheduler;

/* What one pass did (for tests and the debug log). */
struct scheduler_pass {
	size_t crls_published;
	size_t crls_deferred;      /* due, but inside the batching window */
	int64_t codes_pruned;
	int crl_rc;                /* first CRL failure of the pass, 0 when none */
	int prune_rc;
};

/*
 * One pass over the jobs at now_ms with ctx's database and token (no token: CRL work is skipped).
 * prune: also run the pruning jobs. Returns the first failure (the pass goes on after one).
 * Used by the thread and by tests.
 */
int scheduler_run_once(struct hsmca_ctx *ctx, int64_t now_ms, int prune, struct scheduler_pass *out);

/* Starts the thread. cfg is copied; tok is borrowed and must outlive scheduler_stop. The caller
 * blocks the signals it waits for before, so the thread inherits the mask. */
int scheduler_start(const struct config *cfg, struct tok *tok, struct scheduler **out);

/* Wakes the thread, waits for the pass in progress (if any) to end, joins it and closes its
 * database. NULL is a no-op. */
void scheduler_stop(struct scheduler *s);

#endif
