#!/bin/sh
# The README's first command: installs what is missing, builds, initialises ./var on first use
# (SoftHSM token, database, demo root and issuing CA, admin password printed once) and serves.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
state=${HSMCA_STATE:-$top/var}
"$top/scripts/setup.sh"
"$top/scripts/build.sh"
if [ ! -f "$state/hsmca.db" ]; then
	"$top/build/hsmca" init --state "$state"
fi
echo "serving: console and API on https://localhost:8443/ (trust $state/tls/ca.pem), SCEP/CRL/OCSP on http://localhost:8080/"
exec "$top/build/hsmca" serve --state "$state" "$@"
