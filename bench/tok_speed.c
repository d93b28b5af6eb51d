/*
 * tok_speed: the token's own signing limit, the denominator of every hsmca throughput ratio.
 *
 *   tok_speed --state DIR (--key SPEC | --keyref URI) [--threads N] [--seconds S]
 *
 * Signs a 32-byte message through tok.h (the same path certificates take) from N threads for
 * S seconds and prints "token_signatures_per_s: X". With --key it makes a temporary key of that
 * spec on the state's token and deletes it afterwards.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctx.h"
#include "err.h"
#include "tok.h"

struct speed_run {
	struct tok *tok;
	const char *keyref;
	double seconds;
	atomic_long done;
	atomic_int failed;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *
speed_worker(void *arg)
{
	struct speed_run *run = arg;
	unsigned char msg[32] = { 0 };
	struct buf sig = { 0 }, alg = { 0 };
	double end = now_s() + run->seconds;
	long i = 0;

	while (now_s() < end) {
		msg[0] = (unsigned char)i++;
		if (tok_sign_data(run->tok, run->keyref, msg, sizeof(msg), &sig, &alg) != 0) {
			atomic_store(&run->failed, 1);
			break;
		}
		buf_free(&sig);
		buf_free(&alg);
		atomic_fetch_add(&run->done, 1);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "keyref", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state = NULL, *spec_name = NULL, *keyref = NULL;
	char *made = NULL;
	int threads = 1, c, i, rc = 1;
	double seconds = 3, t0, t1;
	struct hsmca_ctx *ctx = NULL;
	enum tok_key_spec spec;
	struct speed_run run;
	pthread_t tid[64];

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'k': spec_name = optarg; break;
		case 'r': keyref = optarg; break;
		case 't': threads = atoi(optarg); break;
		case 'S': seconds = atof(optarg); break;
		default: goto usage;
		}
	}
	if ((spec_name == NULL) == (keyref == NULL) || threads < 1 || threads > 64 || seconds <= 0)
		goto usage;
	if (ctx_open(state, CTX_NEED_TOKEN, &ctx) != 0) {
		fprintf(stderr, "tok_speed: %s\n", err_msg(HSMCA_E_INTERNAL));
		return 1;
	}
	if (spec_name != NULL) {
		if (tok_key_spec_parse(spec_name, &spec) != 0 ||
		    tok_generate_key(ctx->tok, spec, "bench-tok-speed", 0, &made) != 0) {
			fprintf(stderr, "tok_speed: %s\n", err_msg(HSMCA_E_INTERNAL));
			goto out;
		}
		keyref = made;
	}
	memset(&run, 0, sizeof(run));
	run.tok = ctx->tok;
	run.keyref = keyref;
	run.seconds = seconds;
	t0 = now_s();
	for (i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, speed_worker, &run);
	for (i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	t1 = now_s();
	if (atomic_load(&run.failed)) {
		fprintf(stderr, "tok_speed: signing failed: %s\n", err_msg(HSMCA_E_TOKEN));
		goto out;
	}
	printf("key: %s threads: %d seconds: %.2f signatures: %ld\n", spec_name ? spec_name : keyref,
	    threads, t1 - t0, atomic_load(&run.done));
	printf("token_signatures_per_s: %.1f\n", (double)atomic_load(&run.done) / (t1 - t0));
	rc = 0;
out:
	if (made != NULL)
		tok_delete_key(ctx->tok, made);
	free(made);
	ctx_close(ctx);
	return rc;
usage:
	fprintf(stderr, "usage: tok_speed --state DIR (--key SPEC | --keyref URI) [--threads N] [--seconds S]\n");
	return 2;
}
