/* serve.h: `hsmca serve`, the appliance daemon. */
#ifndef HSMCA_SERVE_H
#define HSMCA_SERVE_H

/* hsmca serve [--state DIR] [--http ADDR:PORT] [--https ADDR:PORT] [--routes]
 * Runs until SIGTERM or SIGINT, then stops accepting, lets requests in flight finish (up to
 * 10 s) and closes the database and token. --routes prints the routing table and exits. */
int cli_serve(int argc, char **argv);

#endif
