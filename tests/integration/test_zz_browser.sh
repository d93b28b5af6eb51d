#!/bin/bash
# The web console in a real browser (tests/browser/run.sh: Playwright + Debian's chromium against
# the real daemon). Screenshots of every section: $HSMCA_TEST_TMP/browser-screenshots.
set -euo pipefail
: "${HSMCA_BIN:?run through ctest (HSMCA_BIN is the hsmca binary)}"
: "${HSMCA_SRC:?run through ctest}"
export HSMCA_TEST_TMP=${HSMCA_TEST_TMP:-$PWD/tmp}
rc=0
"$HSMCA_SRC/tests/browser/run.sh" || rc=$?
if [ $rc -eq 77 ]; then
	echo "SKIPPED: the browser test cannot run here (see the message above)" >&2
fi
exit $rc
