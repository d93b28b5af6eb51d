# api_lib.sh: start a real `hsmca serve` on free loopback ports and talk to it with curl.
# Source after lib.sh. Provides: serve_start DIR, serve_stop, api METHOD PATH [BODY|@FILE] [TOKEN]
# (sets STATUS and BODY), jget EXPR (reads $BODY with python3), expect STATUS [CODE],
# login USER PASS [TOTP] (sets TOKEN_OUT).

SERVE_PID=
serve_stop() {
	if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
		kill -TERM "$SERVE_PID"
		local i
		for i in $(seq 1 100); do
			kill -0 "$SERVE_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$SERVE_PID" 2>/dev/null && { kill -KILL "$SERVE_PID"; echo "serve did not stop on SIGTERM" >&2; }
	fi
	SERVE_PID=
}
at_exit serve_stop

# serve_start DIR: starts the daemon; HTTP_URL and HTTPS_URL point at it; its log is $T/serve.log.
serve_start() {
	local dir=$1 i
	HTTP_PORT=$(free_port)
	HTTPS_PORT=$(free_port)
	while [ "$HTTPS_PORT" = "$HTTP_PORT" ]; do HTTPS_PORT=$(free_port); done
	HTTP_URL=http://127.0.0.1:$HTTP_PORT
	HTTPS_URL=https://127.0.0.1:$HTTPS_PORT
	CACERT=$dir/tls/ca.pem
	"$HSMCA_BIN" serve --state "$dir" --http "127.0.0.1:$HTTP_PORT" --https "127.0.0.1:$HTTPS_PORT" \
		>>"$T/serve.log" 2>&1 &
	SERVE_PID=$!
	for i in $(seq 1 150); do
		if curl -s -o /dev/null "$HTTP_URL/healthz"; then return 0; fi
		kill -0 "$SERVE_PID" 2>/dev/null || { cat "$T/serve.log"; fail "serve exited at start"; }
		sleep 0.1
	done
	cat "$T/serve.log"
	fail "serve not ready after 15 s"
}

# api METHOD PATH [BODY|@FILE|-] [TOKEN]: HTTPS request; STATUS and BODY are set.
api() {
	local method=$1 path=$2 data=${3:-} token=${4:-}
	local args=(-s -S --path-as-is --cacert "$CACERT" -X "$method" -o "$T/body" -w '%{http_code}' --max-time 30)
	[ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
	if [ -n "$data" ]; then
		args+=(-H 'Content-Type: application/json')
		if [ "${data:0:1}" = @ ]; then args+=(--data-binary "$data"); else args+=(--data-binary "$data"); fi
	fi
	STATUS=$(curl "${args[@]}" "$HTTPS_URL$path" 2>"$T/curl.err") || STATUS=${STATUS:-000}
	BODY=$(cat "$T/body" 2>/dev/null || true)
}

# jget PYEXPR: evaluates a Python expression on j = the parsed $BODY; prints the result.
jget() {
	printf '%s' "$BODY" | python3 -c "import json,sys
j=json.load(sys.stdin)
v=$1
print('' if v is None else (json.dumps(v) if isinstance(v,(dict,list,bool)) else v))"
}

# expect STATUS [ERROR_CODE]: checks the last answer; for 4xx/5xx, also the error shape.
expect() {
	local want=$1 code=${2:-}
	[ "$STATUS" = "$want" ] || fail "expected HTTP $want, got $STATUS: $BODY"
	if [ "${want:0:1}" = 4 ] || [ "${want:0:1}" = 5 ]; then
		printf '%s' "$BODY" | python3 -c '
import json, re, sys
j = json.load(sys.stdin)
assert list(j.keys()) == ["error"], j
e = j["error"]
assert sorted(e.keys()) == ["code", "message"], e
assert re.fullmatch(r"[a-z][a-z0-9_]*", e["code"]), e
assert e["message"][:1].isupper() and e["message"].endswith("."), e
' || fail "error body has the wrong shape: $BODY"
		if [ -n "$code" ]; then
			[ "$(jget 'j["error"]["code"]')" = "$code" ] || fail "expected error code $code: $BODY"
		fi
	fi
}

# login USER PASS [TOTP]: TOKEN_OUT gets the session token (the call must succeed).
login() {
	local body
	body=$(python3 -c 'import json,sys; d={"username":sys.argv[1],"password":sys.argv[2]}
if len(sys.argv) > 3: d["totp"] = sys.argv[3]
print(json.dumps(d))' "$@")
	api POST /api/v1/auth/login "$body"
	expect 200
	TOKEN_OUT=$(jget 'j["token"]')
	[ -n "$TOKEN_OUT" ] || fail "login returned no token"
}

# db SQL: one query on the state's database.
db() { sqlite3 "$S/hsmca.db" "$1"; }
