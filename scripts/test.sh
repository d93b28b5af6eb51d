#!/bin/sh
# The README's second command: installs what is missing, then builds and runs the whole suite
# twice: a normal build, then an AddressSanitizer + UndefinedBehaviorSanitizer build; then the
# fuzz targets briefly. Any failure stops it with a non-zero exit.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
start=$(date +%s)
"$top/scripts/setup.sh" --test
if [ -x "$top/tests/setup-peers.sh" ]; then "$top/tests/setup-peers.sh"; fi
jobs=$(nproc)

echo "== normal build"
BUILD_DIR=$top/build BUILD_TYPE=RelWithDebInfo "$top/scripts/build.sh"
(cd "$top/build" && ctest --output-on-failure --no-tests=error -j"$jobs" --timeout 600)

echo "== sanitizer build (address, undefined)"
BUILD_DIR=$top/build-asan BUILD_TYPE=Debug "$top/scripts/build.sh" -DHSMCA_SANITIZE=ON
(cd "$top/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --output-on-failure --no-tests=error -j"$jobs" --timeout 900)

if ls "$top"/tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
	echo "== fuzz smoke (libFuzzer)"
	BUILD_DIR=$top/build-fuzz BUILD_TYPE=Debug CC=clang "$top/scripts/build.sh" -DHSMCA_FUZZ=ON
	(cd "$top/build-fuzz" && ctest --output-on-failure --no-tests=error -L fuzz-smoke)
fi
echo "== all tests passed in $(( $(date +%s) - start )) s"
