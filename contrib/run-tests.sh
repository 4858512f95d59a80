#!/bin/bash
# Installs what is missing, builds, and runs every test suite: unit,
# integration and the guest end-to-end tests. Ends with "N passed, N failed".
# Environment: BUILD_DIR (default build-test), SUITES (default all), and CI
# (when set, warnings are errors).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD_DIR:-build-test}

bash contrib/install-deps.sh || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }

werror=false
[ -n "${CI:-}" ] && werror=true
if [ ! -d "$build" ]; then
    meson setup "$build" -Dwerror=$werror -Dguest_tests=true >/dev/null || {
        echo "meson setup failed"; echo "0 passed, 1 failed"; exit 1; }
fi
if ! ninja -C "$build"; then
    echo "build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

suite_args=()
for s in ${SUITES:-}; do
    suite_args+=(--suite "$s")
done
meson test -C "$build" --print-errorlogs --num-processes 1 "${suite_args[@]}"
status=$?

python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
try:
    with open(sys.argv[1]) as f:
        for line in f:
            t = json.loads(line)
            r = t.get("result")
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
except FileNotFoundError:
    failed = 1
if skipped:
    print(f"({skipped} skipped)")
print(f"{passed} passed, {failed} failed")
PY
exit $status
