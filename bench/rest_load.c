/*
 * rest_load: REST issuance load generator (issue #3 benchmark, not a test).
 *
 *   rest_load --port P --token T --ca SLUG --csrs FILE [--host 127.0.0.1] [--cafile PEM]
 *             [--clients N] [--seconds S] [--days D]
 *
 * N threads, each one keep-alive HTTPS connection (OpenSSL SSL_connect, hand-written HTTP/1.1),
 * POST /api/v1/certificates {"ca","csr","profile":"server","days"} in a loop for S seconds,
 * cycling through the pre-made CSRs in FILE (concatenated PEM requests). A request counts only
 * when the answer is 201. Prints one line of key: value pairs, certificates_per_s among them.
 * A connection the server closes is reopened (and counted).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_CSRS 4096
#define MAX_CLIENTS 256
#define RESP_MAX (256 * 1024)
#define MAX_SAMPLES 200000

struct load {
	const char *host;
	int port;
	const char *token;
	const char *ca;
	int days;
	double seconds;
	SSL_CTX *ctx;
	char **bodies;          /* one JSON body per CSR */
	size_t n_bodies;
	double t_end;
	atomic_long ok;
	atomic_long errors;
	atomic_long reconnects;
	atomic_long n_samples;
	atomic_long next_start;   /* spreads the clients over the CSRs */
	double *lat_ms;         /* per-request latency samples */
	char first_error[512];
	pthread_mutex_t mu;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* JSON string literal of s (CSR PEM: ASCII with newlines). Caller frees. */
static char *
json_quote(const char *s)
{
	size_t n = strlen(s), i, o = 0;
	char *out = malloc(2 * n + 3);

	if (out == NULL)
		return NULL;
	out[o++] = '"';
	for (i = 0; i < n; i++) {
		if (s[i] == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (s[i] == '"' || s[i] == '\\') {
			out[o++] = '\\';
			out[o++] = s[i];
		} else if ((unsigned char)s[i] >= 0x20) {
			out[o++] = s[i];
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

/* Splits FILE into PEM requests and makes one request body per CSR. */
static int
load_bodies(struct load *ld, const char *path)
{
	static const char end_marker[] = "-----END CERTIFICATE REQUEST-----";
	FILE *f = fopen(path, "r");
	char *all = NULL, *p, *e, *one, *q;
	long len;
	size_t n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (all = calloc(1, (size_t)len + 1)) == NULL || fread(all, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "rest_load: cannot read %s\n", path);
		if (f != NULL)
			fclose(f);
		free(all);
		return -1;
	}
	fclose(f);
	ld->bodies = calloc(MAX_CSRS, sizeof(char *));
	for (p = all; ld->bodies != NULL && ld->n_bodies < MAX_CSRS && (p = strstr(p, "-----BEGIN")) != NULL;) {
		if ((e = strstr(p, end_marker)) == NULL)
			break;
		e += sizeof(end_marker) - 1;
		n = (size_t)(e - p);
		if ((one = malloc(n + 2)) == NULL)
			break;
		memcpy(one, p, n);
		one[n] = '\n';
		one[n + 1] = '\0';
		q = json_quote(one);
		free(one);
		if (q == NULL)
			break;
		n = strlen(q) + strlen(ld->ca) + 128;
		if ((ld->bodies[ld->n_bodies] = malloc(n)) == NULL) {
			free(q);
			break;
		}
		snprintf(ld->bodies[ld->n_bodies], n, "{\"ca\":\"%s\",\"csr\":%s,\"profile\":\"server\",\"days\":%d}",
		    ld->ca, q, ld->days);
		free(q);
		ld->n_bodies++;
		p = e;
	}
	free(all);
	if (ld->n_bodies == 0) {
		fprintf(stderr, "rest_load: no CSR in %s\n", path);
		return -1;
	}
	return 0;
}

struct conn {
	int fd;
	SSL *ssl;
};

static void
conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
}

static int
conn_open(struct load *ld, struct conn *c)
{
	struct sockaddr_in sa;
	int one = 1;

	c->ssl = NULL;
	if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)ld->port);
	if (inet_pton(AF_INET, ld->host, &sa.sin_addr) != 1 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		goto fail;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((c->ssl = SSL_new(ld->ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, "localhost") != 1 || SSL_connect(c->ssl) != 1)
		goto fail;
	return 0;
fail:
	ERR_clear_error();
	conn_close(c);
	return -1;
}

static int
write_all(SSL *ssl, const char *buf, size_t len)
{
	int n;

	while (len > 0) {
		if ((n = SSL_write(ssl, buf, (int)len)) <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one response; *status and *keep_alive set. Body left in buf (NUL-terminated). */
static int
read_response(SSL *ssl, char *buf, size_t cap, int *status, int *keep_alive, char **body)
{
	size_t have = 0, hdr_len = 0, clen = 0;
	char *hend = NULL, *p;
	int n;

	*status = 0;
	*keep_alive = 1;
	for (;;) {
		if (have + 1 >= cap)
			return -1;
		if ((n = SSL_read(ssl, buf + have, (int)(cap - have - 1))) <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		if (hend == NULL && (hend = strstr(buf, "\r\n\r\n")) != NULL) {
			hdr_len = (size_t)(hend - buf) + 4;
			if (sscanf(buf, "HTTP/1.%*d %d", status) != 1)
				return -1;
			for (p = buf; p < hend; p = strstr(p, "\r\n") + 2) {
				if (strncasecmp(p, "Content-Length:", 15) == 0)
					clen = strtoul(p + 15, NULL, 10);
				else if (strncasecmp(p, "Connection:", 11) == 0 && strstr(p, "close") != NULL &&
				    strstr(p, "close") < strstr(p, "\r\n"))
					*keep_alive = 0;
				if (strstr(p, "\r\n") == NULL)
					break;
			}
		}
		if (hend != NULL && have >= hdr_len + clen) {
			*body = buf + hdr_len;
			return 0;
		}
	}
}

static void *
client(void *arg)
{
	struct load *ld = arg;
	struct conn c = { -1, NULL };
	char *resp = malloc(RESP_MAX), *req = NULL, *body;
	size_t i = 0, req_cap = 0, need;
	int status, keep, len;
	double t0;
	long k;

	if (resp == NULL)
		return NULL;
	i = (size_t)atomic_fetch_add(&ld->next_start, 7) % ld->n_bodies;
	while (now_s() < ld->t_end) {
		if (c.ssl == NULL) {
			if (conn_open(ld, &c) != 0) {
				atomic_fetch_add(&ld->errors, 1);
				usleep(10000);
				continue;
			}
			atomic_fetch_add(&ld->reconnects, 1);
		}
		need = strlen(ld->bodies[i]) + 512;
		if (need > req_cap) {
			free(req);
			req_cap = need;
			if ((req = malloc(req_cap)) == NULL)
				break;
		}
		len = snprintf(req, req_cap, "POST /api/v1/certificates HTTP/1.1\r\nHost: %s:%d\r\n"
		    "Authorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		    "Connection: keep-alive\r\n\r\n%s", ld->host, ld->port, ld->token, strlen(ld->bodies[i]),
		    ld->bodies[i]);
		t0 = now_s();
		if (write_all(c.ssl, req, (size_t)len) != 0 ||
		    read_response(c.ssl, resp, RESP_MAX, &status, &keep, &body) != 0) {
			atomic_fetch_add(&ld->errors, 1);
			conn_close(&c);
			continue;
		}
		if (status == 201) {
			atomic_fetch_add(&ld->ok, 1);
			if ((k = atomic_fetch_add(&ld->n_samples, 1)) < MAX_SAMPLES)
				ld->lat_ms[k] = (now_s() - t0) * 1000.0;
		} else {
			atomic_fetch_add(&ld->errors, 1);
			pthread_mutex_lock(&ld->mu);
			if (ld->first_error[0] == '\0')
				snprintf(ld->first_error, sizeof(ld->first_error), "HTTP %d %.400s", status, body);
			pthread_mutex_unlock(&ld->mu);
		}
		if (!keep)
			conn_close(&c);
		i = (i + 1) % ld->n_bodies;
	}
	conn_close(&c);
	free(req);
	free(resp);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
usage(void)
{
	fprintf(stderr, "usage: rest_load --port P --token T --ca SLUG --csrs FILE [--host 127.0.0.1] "
	    "[--cafile PEM] [--clients N] [--seconds S] [--days D]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'h' }, { "port", required_argument, NULL, 'p' },
		{ "token", required_argument, NULL, 't' }, { "ca", required_argument, NULL, 'a' },
		{ "csrs", required_argument, NULL, 'r' }, { "cafile", required_argument, NULL, 'f' },
		{ "clients", required_argument, NULL, 'c' }, { "seconds", required_argument, NULL, 's' },
		{ "days", required_argument, NULL, 'd' }, { NULL, 0, NULL, 0 }
	};
	struct load ld;
	pthread_t th[MAX_CLIENTS];
	const char *csrs = NULL, *cafile = NULL;
	int clients = 4, i, o;
	long n, ok;
	double t0, t1;

	memset(&ld, 0, sizeof(ld));
	ld.host = "127.0.0.1";
	ld.seconds = 10;
	ld.days = 30;
	pthread_mutex_init(&ld.mu, NULL);
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'h': ld.host = optarg; break;
		case 'p': ld.port = atoi(optarg); break;
		case 't': ld.token = optarg; break;
		case 'a': ld.ca = optarg; break;
		case 'r': csrs = optarg; break;
		case 'f': cafile = optarg; break;
		case 'c': clients = atoi(optarg); break;
		case 's': ld.seconds = atof(optarg); break;
		case 'd': ld.days = atoi(optarg); break;
		default: usage();
		}
	}
	if (ld.port <= 0 || ld.token == NULL || ld.ca == NULL || csrs == NULL || clients < 1 || clients > MAX_CLIENTS ||
	    ld.seconds <= 0)
		usage();
	if (load_bodies(&ld, csrs) != 0)
		return 1;
	if ((ld.lat_ms = calloc(MAX_SAMPLES, sizeof(double))) == NULL)
		return 1;
	if ((ld.ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return 1;
	SSL_CTX_set_min_proto_version(ld.ctx, TLS1_2_VERSION);
	if (cafile != NULL) {
		if (SSL_CTX_load_verify_locations(ld.ctx, cafile, NULL) != 1) {
			fprintf(stderr, "rest_load: cannot load %s\n", cafile);
			return 1;
		}
		SSL_CTX_set_verify(ld.ctx, SSL_VERIFY_PEER, NULL);
	}
	t0 = now_s();
	ld.t_end = t0 + ld.seconds;
	for (i = 0; i < clients; i++)
		if (pthread_create(&th[i], NULL, client, &ld) != 0)
			return 1;
	for (i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	t1 = now_s();
	ok = atomic_load(&ld.ok);
	n = atomic_load(&ld.n_samples);
	if (n > MAX_SAMPLES)
		n = MAX_SAMPLES;
	qsort(ld.lat_ms, (size_t)n, sizeof(double), cmp_double);
	printf("ca: %s clients: %d seconds: %.2f certificates: %ld errors: %ld connections: %ld "
	    "p50_ms: %.1f p99_ms: %.1f certificates_per_s: %.1f\n", ld.ca, clients, t1 - t0, ok,
	    atomic_load(&ld.errors), atomic_load(&ld.reconnects), n > 0 ? ld.lat_ms[n / 2] : 0.0,
	    n > 0 ? ld.lat_ms[(size_t)((double)n * 0.99)] : 0.0, (double)ok / (t1 - t0));
	if (ld.first_error[0] != '\0')
		fprintf(stderr, "rest_load: first error: %s\n", ld.first_error);
	for (size_t b = 0; b < ld.n_bodies; b++)
		free(ld.bodies[b]);
	free(ld.bodies);
	free(ld.lat_ms);
	SSL_CTX_free(ld.ctx);
	return ok > 0 ? 0 : 1;
}
