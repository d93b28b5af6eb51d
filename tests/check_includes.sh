#!/bin/bash
# Fails when a header that belongs to one folder is included outside it (STYLE.md §1):
# libp11.h / pkcs11.h only in pkcs11/, sqlite3.h only in appliance/db*.c, microhttpd.h only in appliance/http*.c.
set -u
src=$1
bad=0
check() {
	local header=$1 allowed=$2
	while IFS= read -r f; do
		rel=${f#"$src"/}
		[[ $rel =~ $allowed ]] && continue
		echo "forbidden include of $header in $rel"
		bad=1
	done < <(grep -rlE "#include *[<\"]([a-z0-9_/-]*/)?$header[>\"]" "$src/appliance" "$src/pkcs11" "$src/common" "$src/tests" "$src/bench" 2>/dev/null)
}
check 'libp11\.h' '^(pkcs11/|tests/unit/test_tok|bench/)'
check 'pkcs11\.h' '^(pkcs11/|tests/unit/test_tok|bench/)'
check 'sqlite3\.h' '^(appliance/db[a-z_]*\.c|tests/)'
check 'microhttpd\.h' '^appliance/http[a-z_]*\.c$'
exit $bad
