#!/bin/bash
# Memory over a long mixed run: drives the daemon with the concurrency
# stress client (tests/integration/test_stress: four request queues with a
# random mix of lookups, creates, reads, writes, renames, unlinks, readdirs,
# handles shared and released across queues, FORGETs racing them, queue
# stops and memory-region hotplug) for a given time, sampling the serving
# process's resident set every few seconds. Prints the samples and a
# summary: RSS after the first minute, at the end, the peak, and the growth
# from the first minute to the end.
#
# Usage: contrib/bench/rss-soak.sh [--seconds N] [--every N] [--build DIR]
#                                  [--executor MODE] [-- EXTRA DAEMON ARGS]
#   defaults: 600 s, a sample every 10 s, executor auto with a pool of 4.
# Run as root on a quiet machine. Exit status: the stress test's.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build
seconds=600
every=10
executor=auto
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds=$2; shift ;;
    --every) every=$2; shift ;;
    --build) build=$2; shift ;;
    --executor) executor=$2; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "rss-soak.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

daemon=$build/daemon/virtiofsd
stress=$build/tests/integration/test_stress
if [ ! -x "$daemon" ] || [ ! -x "$stress" ]; then
    echo "rss-soak.sh: build first (ninja -C $build)" >&2
    exit 2
fi

pool=
[ "$executor" = inline ] || [ "$executor" = uring ] || pool=--thread-pool-size=4
# (the client reads the daemon's statistics from its info-level log at the
# end: keep the default log level)
cmd="$daemon --executor=$executor $pool ${extra[*]}"

kb_of() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# The serving process: with the namespace sandbox the daemon forks and the
# child serves; take the largest resident set among the daemon's processes.
serving_rss() {
    local best=0 pid kb
    # the client inserts its own arguments (socket, shared dir) after argv[0]
    for pid in $(pgrep -f -- "^$daemon .*--executor=$executor" || true); do
        kb=$(kb_of "$pid")
        [ "${kb:-0}" -gt "$best" ] && best=$kb
    done
    echo "$best"
}

log=$(mktemp /tmp/vfsd-rss-soak.XXXXXX)
echo "daemon: $cmd"
echo "client: test_stress for $seconds s, RSS sampled every $every s"
VFSD_DAEMON="$cmd" VFSD_STRESS_SECONDS=$seconds "$stress" --tap > "$log" 2>&1 &
client=$!

start=$(date +%s)
samples=()
printf '%8s %10s\n' "t (s)" "RSS (KiB)"
while kill -0 "$client" 2>/dev/null; do
    sleep "$every"
    kb=$(serving_rss)
    [ "$kb" -gt 0 ] || continue
    t=$(( $(date +%s) - start ))
    samples+=("$t:$kb")
    printf '%8d %10d\n' "$t" "$kb"
done
rc=0
wait "$client" || rc=$?
grep -E '^(not )?ok|^# ' "$log" | tail -5
if [ "$rc" = 0 ]; then
    rm -f "$log"
else
    echo "the stress client failed (exit status $rc); its output: $log"
    grep -E 'ERROR|Bail|assert' "$log" | head -5
fi

first=
last=
peak=0
for s in "${samples[@]}"; do
    t=${s%%:*}
    kb=${s##*:}
    [ -z "$first" ] && [ "$t" -ge 60 ] && first=$kb
    last=$kb
    [ "$kb" -gt "$peak" ] && peak=$kb
done
if [ -n "$first" ] && [ -n "$last" ]; then
    echo "RSS after 1 min: $first KiB; at the end: $last KiB; peak: $peak KiB;" \
         "growth after the first minute: $(( last - first )) KiB" \
         "($(awk -v a="$first" -v b="$last" 'BEGIN { printf "%.1f", (b - a) * 100 / a }')%)"
else
    echo "too few samples for a summary (run for more than a minute)"
fi
exit "$rc"
