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
if "$top/build/hsmca" serve --help >/dev/null 2>&1; then
	exec "$top/build/hsmca" serve --state "$state" "$@"
fi
echo "run.sh: this build has no 'serve' command yet; the state folder $state is ready."
