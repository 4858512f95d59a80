#!/usr/bin/env bash
# The guest benchmark: the fio matrix of the virtio-fs auto-switch study
# (ioengines psync and libaio; randread, randwrite, randrw, seqread,
# seqwrite; 1 job and 4 jobs; bs 4k; iodepth 16; direct=1), run by fio in a
# Linux guest under QEMU (TCG) against each contender's daemon, contenders
# alternating round by round. Prints medians and ratios and writes a
# markdown summary.
#
# usage: contrib/bench/guest-fio.sh [--rounds N] [--runtime S] [--size SIZE]
#                                   [--contenders LIST] [--out DIR]
#
#   --contenders  names from: inline pool auto uring qemu (default: all)
#   --rounds      rounds over all contenders (default 2)
#   --runtime     seconds per fio job (default 5, after a 1 s ramp)
#   --size        data file size per job (default 64m)
#   --out         results folder (default bench-results/guest-fio-DATE)
#
# Needs root, QEMU, fio and what tests/guest/prepare-guest.sh needs; builds
# nothing: run ninja -C build first.
set -eu
set -o pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
vfsg_note_prefix='guest-fio: '
# shellcheck source=tests/guest/guest-lib.sh
. "$top/tests/guest/guest-lib.sh"

rounds=2
runtime=5
size=64m
contenders="inline pool auto uring qemu"
out=
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--runtime) runtime=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--contenders) contenders=${2//,/ }; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -eu/{/^set/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) vfsg_die "unknown option: $1 (see --help)" ;;
	esac
done
vfsg_init_paths
export VFS_BUILD_DIR VFS_GUEST_OUT VFS_GUEST_KERNEL_CACHE
: "${out:=$top/bench-results/guest-fio-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"

ours=$VFS_BUILD_DIR/daemon/virtiofsd
[ -x "$ours" ] || vfsg_die "no daemon at $ours: build it first"
command -v fio >/dev/null || vfsg_die "fio not found: install fio"

template() {
	local common="--socket-path={socket} --shared-dir={dir} --allow-direct-io"
	case $1 in
	inline) echo "$ours $common --executor=inline" ;;
	pool) echo "$ours $common --executor=pool --thread-pool-size=4" ;;
	auto) echo "$ours $common --executor=auto --thread-pool-size=4" ;;
	uring) echo "$ours $common --executor=uring" ;;
	qemu) echo "/usr/lib/qemu/virtiofsd --socket-path={socket} -o source={dir} -o cache=auto -o allow_direct_io --thread-pool-size=0" ;;
	*) vfsg_die "unknown contender $1" ;;
	esac
}

jobs_file() {
	printf '[global]\ndirectory=%s/fio/data\nfilename_format=data.$jobnum\nsize=%s\n' \
		"$VFS_GUEST_MNT" "$size"
	printf 'bs=4k\niodepth=16\ndirect=1\ntime_based=1\nruntime=%s\nramp_time=1\n' "$runtime"
	printf 'group_reporting=1\nstonewall=1\n'
	local engine rw jobs
	for engine in psync libaio; do
		for rw in randread randwrite randrw seqread seqwrite; do
			for jobs in 1 4; do
				local fio_rw=$rw
				case $rw in seqread) fio_rw=read ;; seqwrite) fio_rw=write ;; esac
				printf '\n[%s-%s%s]\nioengine=%s\nrw=%s\nnumjobs=%s\n' "$engine" "$rw" \
					"$([ "$jobs" = 1 ] || echo -multi)" "$engine" "$fio_rw" "$jobs"
			done
		done
	done
}

initramfs=$VFS_GUEST_OUT/initramfs-fio.cpio.gz
vfsg_note "preparing the guest with fio (kernel, initramfs)"
"$vfsg_dir/prepare-guest.sh" --add "$top/contrib/guest/fio.sh" --add-binary "$(command -v fio)" \
	--initramfs "$initramfs" 2>&1 | sed "s/^/$vfsg_note_prefix/"

daemon_pid=
qemu_pid=
run=
cleanup() {
	local status=$?
	trap - EXIT INT TERM HUP
	[ -z "$qemu_pid" ] || vfsg_stop "$qemu_pid" qemu 5
	[ -z "$daemon_pid" ] || vfsg_stop "$daemon_pid" daemon 10
	[ -z "$run" ] || rm -rf "$run"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One guest boot: contender $1, round $2.
one_run() {
	local name=$1 round=$2
	run=$(vfsg_make_run_dir)
	local shared=$run/shared sock=$run/vfs.sock
	mkdir -p "$shared/fio/data"
	jobs_file >"$shared/fio/jobs.fio"
	# The data files exist before the guest starts, so fio does not lay them out.
	local i
	for i in 0 1 2 3; do
		head -c "$size" /dev/urandom >"$shared/fio/data/data.$i" 2>/dev/null ||
			dd if=/dev/urandom of="$shared/fio/data/data.$i" bs=1M \
				count=$(numfmt --from=iec "${size^^}" | awk '{ print int($1 / 1048576) }') status=none
	done
	sync
	vfsg_daemon_argv "$(template "$name")" "$sock" "$shared"
	"${vfsg_daemon_cmd[@]}" >"$out/daemon-$name-$round.log" 2>&1 </dev/null &
	daemon_pid=$!
	vfsg_wait_socket "$sock" "$daemon_pid" 15 || vfsg_die "$name did not come up"
	vfsg_qemu_argv "$sock" "$initramfs" "$(vfsg_kernel_cmdline fio)" "file,path=$out/console-$name-$round.log" null
	"${vfsg_qemu_cmd[@]}" </dev/null >/dev/null 2>&1 &
	qemu_pid=$!
	local limit=$((60 + 40 * (runtime + 2) + 120)) start=$SECONDS
	while vfsg_alive "$qemu_pid"; do
		if [ $((SECONDS - start)) -ge "$limit" ]; then
			vfsg_note "$name: the guest is still running after $limit s: stopping it"
			break
		fi
		sleep 1
	done
	vfsg_stop "$qemu_pid" qemu 5
	qemu_pid=
	vfsg_stop "$daemon_pid" daemon 10
	daemon_pid=
	if [ -s "$shared/fio/result.json" ]; then
		cp "$shared/fio/result.json" "$out/result-$name-$round.json"
		vfsg_note "$name round $round: done in $((SECONDS - start)) s"
	else
		vfsg_note "$name round $round: no fio result (see $out/console-$name-$round.log)"
		cp "$shared/fio/fio.log" "$out/fio-$name-$round.log" 2>/dev/null || true
	fi
	rm -rf "$run"
	run=
}

for round in $(seq 1 "$rounds"); do
	for name in $contenders; do
		one_run "$name" "$round"
	done
done

python3 - "$out" $contenders <<'PY'
import glob, json, os, statistics, sys
out, names = sys.argv[1], sys.argv[2:]
iops = {}  # (job, contender) -> [iops per round]
jobs = []
for name in names:
    for path in sorted(glob.glob(os.path.join(out, f"result-{name}-*.json"))):
        with open(path) as f:
            text = f.read()
        data = json.loads(text[text.index("{"):])
        for j in data["jobs"]:
            total = j["read"]["iops"] + j["write"]["iops"]
            iops.setdefault((j["jobname"], name), []).append(total)
            if j["jobname"] not in jobs:
                jobs.append(j["jobname"])
ref = "qemu" if "qemu" in names else names[0]
lines = ["| job | " + " | ".join(f"{n} IOPS" for n in names) + " | " +
         " | ".join(f"{n}/{ref}" for n in names if n != ref) + " |",
         "|---" * (1 + len(names) + len(names) - (ref in names)) + "|"]
for job in jobs:
    med = {n: statistics.median(iops[(job, n)]) if (job, n) in iops else None for n in names}
    cells = [f"{med[n]:.0f}" if med[n] is not None else "-" for n in names]
    ratios = [f"{med[n] / med[ref]:.2f}" if med[n] and med[ref] else "-" for n in names if n != ref]
    lines.append(f"| {job} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
table = "\n".join(lines)
print(table)
with open(os.path.join(out, "summary.md"), "w") as f:
    f.write(table + "\n")
PY
vfsg_note "results in $out"
