#!/bin/bash
# Fails when web/index.html does not preload exactly the console's modules (web/static/*.js other
# than app.js, which it loads as its entry). Without the preload each level of the import graph
# costs one more round trip before the first paint (issue #5: first paint under 200 ms).
set -u
src=$1
bad=0
listed=$(grep -o '<link rel="modulepreload" href="/static/[A-Za-z0-9_-]*\.js">' "$src/web/index.html" |
	sed 's|.*/static/\(.*\)">|\1|' | sort)
present=$(cd "$src/web/static" && ls -1 -- *.js | grep -vx 'app.js' | sort)
for m in $present; do
	grep -qx -- "$m" <<<"$listed" || { echo "web/index.html does not preload /static/$m"; bad=1; }
done
for m in $listed; do
	[ -f "$src/web/static/$m" ] || { echo "web/index.html preloads /static/$m, which does not exist"; bad=1; }
done
grep -q '<script type="module" src="/static/app.js"></script>' "$src/web/index.html" ||
	{ echo "web/index.html does not load /static/app.js as a module"; bad=1; }
[ $bad = 0 ] && echo "web/index.html preloads all $(wc -w <<<"$present") modules"
exit $bad
