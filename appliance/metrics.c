/*
 * metrics.c: counters behind /metrics (see metrics.h).
 *
 * May call: http.h (the route list, for labels), libc. Must never: allocate per observation.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "http.h"
#include "metrics.h"

#define METRICS_MAX_ROUTES 256

/* Statuses we count separately; everything else lands in "other". */
static const int statuses[] = { 200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 405, 409, 413,
	415, 422, 429, 500, 503 };
#define N_STATUS (sizeof(statuses) / sizeof(statuses[0]))

static uint64_t req_counts[METRICS_MAX_ROUTES + 1][N_STATUS + 1];
static uint64_t certs_issued;

/* Token signature latency buckets, seconds (RSA-2048 on SoftHSM is ~0.6 ms; a network HSM tens). */
static const double sign_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
	0.5, 1.0, 2.5 };
#define N_SIGN (sizeof(sign_bounds) / sizeof(sign_bounds[0]))
static uint64_t sign_buckets[N_SIGN + 1];
static uint64_t sign_count;
static uint64_t sign_sum_us;

void
metrics_observe_request(int route_index, int status)
{
	size_t r = (route_index < 0 || route_index >= METRICS_MAX_ROUTES) ? METRICS_MAX_ROUTES :
	    (size_t)route_index;
	size_t s;

	for (s = 0; s < N_STATUS; s++)
		if (statuses[s] == status)
			break;
	__atomic_add_fetch(&req_counts[r][s], 1, __ATOMIC_RELAXED);
}

void
metrics_inc_certificates_issued(void)
{
	__atomic_add_fetch(&certs_issued, 1, __ATOMIC_RELAXED);
}

void
metrics_observe_token_sign(double seconds)
{
	size_t b;

	if (!(seconds >= 0))
		seconds = 0;
	for (b = 0; b < N_SIGN; b++)
		if (seconds <= sign_bounds[b])
			break;
	__atomic_add_fetch(&sign_buckets[b], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sign_count, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sign_sum_us, (uint64_t)(seconds * 1e6), __ATOMIC_RELAXED);
}

struct sb {
	char *p;
	size_t len, cap;
	int oom;
};

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *np;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		np = realloc(b->p, b->cap * 2 + (size_t)n);
		if (np == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

int
metrics_render(char **out, size_t *len)
{
	const struct http_route *routes;
	struct sb b = { NULL, 0, 4096, 0 };
	size_t n_routes, r, s;
	uint64_t v, cum = 0;
	char st[8];

	*out = NULL;
	*len = 0;
	b.p = malloc(b.cap);
	if (b.p == NULL)
		return HSMCA_E_NOMEM;
	b.p[0] = '\0';
	routes = http_routes(&n_routes);
	if (n_routes > METRICS_MAX_ROUTES)
		n_routes = METRICS_MAX_ROUTES;
	sb_printf(&b, "# HELP hsmca_http_requests_total HTTP requests answered, by route and status.\n"
	    "# TYPE hsmca_http_requests_total counter\n");
	for (r = 0; r <= METRICS_MAX_ROUTES; r++) {
		if (r < METRICS_MAX_ROUTES && r >= n_routes)
			continue;
		for (s = 0; s <= N_STATUS; s++) {
			v = __atomic_load_n(&req_counts[r][s], __ATOMIC_RELAXED);
			if (v == 0)
				continue;
			if (s < N_STATUS)
				snprintf(st, sizeof(st), "%d", statuses[s]);
			else
				snprintf(st, sizeof(st), "other");
			/* Patterns are ours ([a-z0-9/{}._-]), so they need no label escaping. */
			sb_printf(&b, "hsmca_http_requests_total{route=\"%s %s\",status=\"%s\"} %llu\n",
			    r < METRICS_MAX_ROUTES ? routes[r].method : "ANY",
			    r < METRICS_MAX_ROUTES ? routes[r].pattern : "unrouted", st, (unsigned long long)v);
		}
	}
	sb_printf(&b, "# HELP hsmca_certificates_issued_total Certificates issued since start.\n"
	    "# TYPE hsmca_certificates_issued_total counter\n"
	    "hsmca_certificates_issued_total %llu\n",
	    (unsigned long long)__atomic_load_n(&certs_issued, __ATOMIC_RELAXED));
	sb_printf(&b, "# HELP hsmca_token_sign_seconds Latency of one signature on the token.\n"
	    "# TYPE hsmca_token_sign_seconds histogram\n");
	for (s = 0; s <= N_SIGN; s++) {
		cum += __atomic_load_n(&sign_buckets[s], __ATOMIC_RELAXED);
		if (s < N_SIGN)
			sb_printf(&b, "hsmca_token_sign_seconds_bucket{le=\"%g\"} %llu\n", sign_bounds[s],
			    (unsigned long long)cum);
		else
			sb_printf(&b, "hsmca_token_sign_seconds_bucket{le=\"+Inf\"} %llu\n",
			    (unsigned long long)cum);
	}
	sb_printf(&b, "hsmca_token_sign_seconds_sum %.6f\nhsmca_token_sign_seconds_count %llu\n",
	    (double)__atomic_load_n(&sign_sum_us, __ATOMIC_RELAXED) / 1e6,
	    (unsigned long long)__atomic_load_n(&sign_count, __ATOMIC_RELAXED));
	if (b.oom) {
		free(b.p);
		return HSMCA_E_NOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
