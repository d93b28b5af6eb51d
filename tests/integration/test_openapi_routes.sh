#!/bin/bash
# Every route the router knows is in docs/openapi.yaml, and every path+method there is routed.
. "$(dirname "$0")/lib.sh"
spec=${HSMCA_SRC:?}/docs/openapi.yaml
"$HSMCA_BIN" serve --routes | awk '{print $1, $2}' | sort >"$T/routes"
[ -s "$T/routes" ] || fail "hsmca serve --routes printed nothing"
python3 - "$spec" >"$T/spec" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for path, item in d["paths"].items():
    for m in ("get", "post", "put", "patch", "delete"):
        if m in item:
            print(m.upper(), path)
PY
sort -o "$T/spec" "$T/spec"
if ! diff -u "$T/spec" "$T/routes"; then
	fail "docs/openapi.yaml (-) and the routing table (+) differ"
fi
echo "PASS: $(wc -l <"$T/routes") routes documented"
