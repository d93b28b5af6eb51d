/* cli_user.h: `hsmca user ...` and `hsmca token ...`, provisioning without the console. */
#ifndef HSMCA_CLI_USER_H
#define HSMCA_CLI_USER_H

/*
 * hsmca user add --state DIR --username U --role admin|operator|auditor [--email E]
 *                [--password-file F] [--must-change]
 *     Without --password-file a random password is generated and printed once ("password: X").
 * hsmca user passwd --state DIR --username U [--password-file F] [--must-change]
 * hsmca user disable|enable --state DIR --username U
 * hsmca user list --state DIR
 */
int cli_user(int argc, char **argv);

/* hsmca token create --state DIR --username U --days N [--name NAME]
 *     Prints the token alone on one line, once; only its hash is stored. */
int cli_token(int argc, char **argv);

#endif
