/* cli_init.h: `hsmca init`, which makes a state folder ready to serve. */
#ifndef HSMCA_CLI_INIT_H
#define HSMCA_CLI_INIT_H

int cli_init(int argc, char **argv);

#endif
