/*
 * metrics.h: process-wide counters and histograms for /metrics (Prometheus text format 0.0.4).
 *
 * Lock-free (atomic adds), callable from any thread. The set of series is fixed at build time
 * (routes x a fixed list of statuses, one histogram), so a client cannot grow memory by inventing
 * paths or labels.
 */
#ifndef HSMCA_METRICS_H
#define HSMCA_METRICS_H

#include <stddef.h>

/* One request answered. route_index is the position in http_routes() or -1 (unrouted). */
void metrics_observe_request(int route_index, int status);
/* One certificate issued (any path: REST, SCEP, CLI inside the daemon, renewal). */
void metrics_inc_certificates_issued(void);
/* One token signature took seconds (called around tok_sign_* by the CA core). */
void metrics_observe_token_sign(double seconds);

/* Renders the exposition text. *out: malloc'd, caller free()s. */
int metrics_render(char **out, size_t *len);

#endif
