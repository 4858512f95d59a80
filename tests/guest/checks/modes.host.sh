#!/usr/bin/env bash
# Host side of the modes check (modes.c runs in the guest).
#
#   modes.host.sh setup  SHARED   before boot: the files modes.c reads; with
#                                 submounts=... in $VFS_GUEST_ARGS, a tmpfs on
#                                 SHARED/sub
#   modes.host.sh during SHARED   while the guest runs: does what the guest
#                                 asks for with SHARED/sync/NAME.req, then
#                                 creates SHARED/sync/NAME.done
#   modes.host.sh verify SHARED   after poweroff: what the guest wrote, the
#                                 daemon's statistics, a read-only share
#                                 unchanged; unmounts the tmpfs
#
# The names and contents are a contract with modes.c: change them together.
set -eu

# shellcheck source=tests/guest/lib/host-tap.sh
. "$(dirname "$0")/../lib/host-tap.sh"

args=",${VFS_GUEST_ARGS:-},"
has_arg() {
	case $args in *",$1,"*) return 0 ;; *) return 1 ;; esac
}

setup() {
	local s=$1 i
	mkdir -p "$s/sync" "$s/list" "$s/rdp"
	printf 'AAAAAAAA' >"$s/data.txt"
	printf '1234' >"$s/size.txt"
	printf 'soon gone\n' >"$s/gone.txt"
	for i in 1 2 3; do : >"$s/list/a$i"; done
	printf '0123456789' >"$s/append.txt"
	printf '0123456789' >"$s/wb.txt"
	printf '0123456789' >"$s/wb-append.txt"
	head -c 4096 /dev/zero | tr '\0' m >"$s/mmap.txt"
	: >"$s/dio.bin"
	for i in $(seq -w 1 50); do : >"$s/rdp/f$i"; done
	if has_arg submounts=on || has_arg submounts=off; then
		mkdir -p "$s/sub"
		mount -t tmpfs -o size=1m,mode=0755 vfs-submount "$s/sub"
		printf 'on the tmpfs\n' >"$s/sub/inner"
	fi
	if has_arg readonly; then
		(cd "$s" && find . -printf '%p %M %U:%G %n %s %T@\n' | sort &&
			find . -type f -exec sha256sum {} + | sort) >"$s/../readonly-manifest"
	fi
}

# One request: the guest's sync/NAME.req.
act() {
	local s=$1 name=$2
	case $name in
	change)
		# same size, new bytes; a longer file; a new name in a listed
		# directory; a name gone
		printf 'BBBBBBBB' | dd of="$s/data.txt" conv=notrunc status=none
		printf '5678' >>"$s/size.txt"
		: >"$s/list/new"
		rm -f "$s/gone.txt"
		;;
	append)
		printf 'host' >>"$s/append.txt"
		;;
	stats)
		# SIGUSR1 logs the statistics; wait until a new dump is there
		local before
		before=$(grep -c 'queue\|op ' "$VFS_GUEST_DAEMON_LOG" || true)
		: >"$s/../stats-requested"
		wc -l <"$VFS_GUEST_DAEMON_LOG" >"$s/../stats-from-line"
		kill -USR1 "$VFS_GUEST_DAEMON_PID"
		for _ in $(seq 50); do
			[ "$(grep -c 'queue\|op ' "$VFS_GUEST_DAEMON_LOG" || true)" -gt "$before" ] && break
			sleep 0.1
		done
		sleep 0.3
		;;
	*)
		printf 'not ok - the guest asked for "%s", which this script does not know\n' "$name"
		;;
	esac
}

during() {
	local s=$1 req name
	while :; do
		for req in "$s"/sync/*.req; do
			[ -e "$req" ] || continue
			name=${req##*/}
			name=${name%.req}
			[ -e "$s/sync/$name.done" ] && continue
			act "$s" "$name"
			: >"$s/sync/$name.done"
		done
		sleep 0.05
	done
}

# count OPNAME: the count in the daemon's last statistics dump for OPNAME
count() {
	local from
	from=$(cat "$1/../stats-from-line" 2>/dev/null || echo 0)
	tail -n "+$((from + 1))" "$VFS_GUEST_DAEMON_LOG" |
		sed -n "s/.*op $2 *count *\([0-9]*\).*/\1/p" | tail -n 1
}

verify() {
	local s=$1
	if has_arg submounts=on || has_arg submounts=off; then
		umount "$s/sub" && host_ok "unmounted the tmpfs on sub" ||
			host_not_ok "unmounted the tmpfs on sub"
	fi
	if [ -e "$s/mmap-shared" ]; then
		host_check_eq "mmap.txt starts with XY written through the shared mapping, 4096 bytes" \
			"$(head -c 2 "$s/mmap.txt") $(stat -c %s "$s/mmap.txt")" "XY 4096"
	elif has_arg mmap=ok; then
		host_not_ok "the guest wrote mmap.txt through a shared mapping"
	elif has_arg mmap=refused || has_arg mmap=allow; then
		host_check_eq "mmap.txt is as the host wrote it (no shared mapping)" \
			"$(tr -d m <"$s/mmap.txt" | wc -c) $(stat -c %s "$s/mmap.txt")" "0 4096"
	fi
	if has_arg append; then
		host_check_content "append.txt: the host's append kept, the guest's append after it, \
the page written through the mapping in place" "$s/append.txt" 'Z123456789hostG'
	fi
	if has_arg writeback; then
		host_check_content "wb.txt: 2 bytes written in place through a write-only file" \
			"$s/wb.txt" '012AB56789'
		host_check_content "wb-append.txt: appended once, not written back at the end" \
			"$s/wb-append.txt" '0123456789XY'
	fi
	if has_arg rdp=on || has_arg rdp=off; then
		if [ ! -e "$s/../stats-requested" ]; then
			host_not_ok "the daemon logged its statistics when the guest asked"
		else
			local plus plain
			plus=$(count "$s" READDIRPLUS)
			plain=$(count "$s" READDIR)
			printf '# daemon statistics: READDIRPLUS %s, READDIR %s\n' "${plus:-0}" "${plain:-0}"
			if has_arg rdp=on; then
				host_check "the daemon served READDIRPLUS (readdirplus on)" \
					test "${plus:-0}" -ge 1
			else
				host_check_eq "the daemon served no READDIRPLUS (readdirplus off)" "${plus:-0}" 0
				host_check "the daemon served READDIR instead" test "${plain:-0}" -ge 1
			fi
		fi
	fi
	if has_arg readonly; then
		host_check_eq "the read-only share is exactly as the host wrote it" \
			"$(cd "$s" && find . -printf '%p %M %U:%G %n %s %T@\n' | sort &&
				find . -type f -exec sha256sum {} + | sort)" "$(cat "$s/../readonly-manifest")"
	fi
	return 0
}

case ${1-} in
setup | verify | during)
	[ $# -eq 2 ] || { echo "usage: $0 setup|during|verify SHARED_DIR" >&2; exit 2; }
	"$1" "$2"
	;;
*)
	echo "usage: $0 setup|during|verify SHARED_DIR" >&2
	exit 2
	;;
esac
