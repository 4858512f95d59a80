#!/bin/bash
# Installs what is missing, builds, and runs every test suite: unit,
# integration, stress and the guest end-to-end tests; then builds twice
# more with sanitizers (AddressSanitizer + UndefinedBehaviorSanitizer, and
# ThreadSanitizer) and runs the unit, integration and stress suites again
# with the daemon under them. Ends with "N passed, N failed".
# Environment: BUILD_DIR (default build-test; the sanitizer builds go to
# BUILD_DIR-asan and BUILD_DIR-tsan), SUITES (default all, for the plain
# build), SANITIZERS (default "address thread"; empty to skip those builds),
# SANITIZER_SUITES (default "unit integration stress"), and CI (when set,
# warnings are errors).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD_DIR:-build-test}
sanitizers=${SANITIZERS-address thread}
san_suites=${SANITIZER_SUITES:-unit integration stress}

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

logs=("$build/meson-logs/testlog.json")
extra_failures=0

# Reports from inside the daemon's sandbox cannot be symbolized there (no
# /proc, the binary out of reach), so the daemon's frames read
# "(virtiofsd+0x1234)": resolve them against the build's binary.
symbolize() {
    local dir=$1
    grep -ohE '\(([^ ()]*/)?virtiofsd\+0x[0-9a-f]+\)' "$dir/meson-logs/testlog.txt" 2>/dev/null |
        sort -u | while read -r frame; do
            local off=${frame##*+}
            off=${off%)}
            echo "$frame $(addr2line -f -i -p -e "$dir/daemon/virtiofsd" "$off" | tr '\n' ' ')"
        done
}

# GCC 12's ThreadSanitizer cannot lay out its shadow memory on kernels that
# randomize mmap with more bits than it expects (vm.mmap_rnd_bits 32 on
# some distributions' kernels): "unexpected memory mapping". Then run its
# tests with address randomization off; setarch's personality is inherited
# by the daemon the tests start.
tsan_wrapper() {
    local dir rc=0
    dir=$(mktemp -d)
    printf '#include <pthread.h>\nstatic void *f(void *a) { return a; }\n%s\n' \
        'int main(void) { pthread_t t; pthread_create(&t, 0, f, 0); return pthread_join(t, 0); }' \
        > "$dir/probe.c"
    if ! cc -fsanitize=thread -pthread "$dir/probe.c" -o "$dir/probe" 2>"$dir/err"; then
        cat "$dir/err" >&2
        rc=1
    elif "$dir/probe" >/dev/null 2>&1; then
        echo ""
    elif setarch "$(uname -m)" -R "$dir/probe" >/dev/null 2>&1; then
        echo "setarch $(uname -m) -R"
    else
        "$dir/probe" 2>&1 | head -3 >&2
        rc=1
    fi
    rm -rf "$dir"
    return $rc
}

for san in $sanitizers; do
    case $san in
    address)
        dir=$build-asan
        setup_args=(-Db_sanitize=address,undefined)
        # halt at the first report with a status of its own; leaks too (the
        # suites turn LeakSanitizer off where the sandbox keeps it from working)
        export ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:exitcode=99:detect_leaks=1
        export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=98
        wrapper=()
        ;;
    thread)
        dir=$build-tsan
        setup_args=(-Db_sanitize=thread)
        # report every race of a run, then exit with a status of its own
        export TSAN_OPTIONS=halt_on_error=0:exitcode=66:second_deadlock_stack=1
        if ! w=$(tsan_wrapper); then
            echo "ThreadSanitizer cannot run on this machine"
            extra_failures=$((extra_failures + 1))
            status=1
            continue
        fi
        wrapper=()
        [ -n "$w" ] && wrapper=(--wrapper "$w") && echo "ThreadSanitizer runs under: $w"
        ;;
    *)
        echo "unknown sanitizer '$san'"
        extra_failures=$((extra_failures + 1))
        status=1
        continue
        ;;
    esac
    echo "=== $san sanitizer build: $dir"
    # b_lundef=false: the sanitizer runtimes resolve some symbols at run time.
    if [ ! -d "$dir" ] && ! meson setup "$dir" -Dwerror=$werror -Dguest_tests=false \
            -Db_lundef=false "${setup_args[@]}" >/dev/null; then
        echo "meson setup of $dir failed"
        extra_failures=$((extra_failures + 1))
        status=1
        continue
    fi
    if ! ninja -C "$dir"; then
        echo "$san sanitizer build failed"
        extra_failures=$((extra_failures + 1))
        status=1
        continue
    fi
    san_args=()
    for s in $san_suites; do
        san_args+=(--suite "$s")
    done
    meson test -C "$dir" --print-errorlogs --num-processes 1 --timeout-multiplier 3 \
        "${wrapper[@]}" "${san_args[@]}"
    rc=$?
    logs+=("$dir/meson-logs/testlog.json")
    if [ $rc -ne 0 ]; then
        status=$rc
        echo "--- daemon frames in the $san sanitizer reports:"
        symbolize "$dir"
    fi
done

python3 - "$extra_failures" "${logs[@]}" <<'PY'
import json, sys
passed = skipped = 0
failed = int(sys.argv[1])
for path in sys.argv[2:]:
    try:
        with open(path) as f:
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
        failed += 1
if skipped:
    print(f"({skipped} skipped)")
print(f"{passed} passed, {failed} failed")
PY
exit $status
