#!/bin/sh
# Installs every Debian package hsmca needs to build, run and test. Idempotent, and quick when
# everything is present (it only asks apt when a package is missing). Run as root.
#   scripts/setup.sh          build and run dependencies
#   scripts/setup.sh --test   plus what the test suite drives (clients, sanitizer runtime, ...)
set -eu
pkgs="build-essential cmake pkg-config libssl-dev openssl libp11-dev libp11-kit-dev softhsm2 opensc
libsqlite3-dev sqlite3 libmicrohttpd-dev libjansson-dev libcmocka-dev ca-certificates"
if [ "${1:-}" = "--test" ]; then
	# Sanitizer runtime and fuzzer; the clients the suite drives (certmonger and Go for the SCEP
	# peers, Java for keytool, Chromium and Node.js for the console).
	pkgs="$pkgs clang libclang-rt-14-dev curl python3 python3-yaml procps
certmonger dbus golang-go golang-github-micromdm-scep-dev default-jre-headless chromium"
	# A machine may carry its own Node.js (Debian's npm conflicts with it): use it when present.
	command -v npm >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
fi
need=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup.sh: missing packages:$need (run as root to install them)" >&2
		exit 1
	fi
	echo "setup.sh: installing$need"
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need >/dev/null
fi
