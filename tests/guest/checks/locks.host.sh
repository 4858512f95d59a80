#!/usr/bin/env bash
# Host side of the locks check (locks.c runs in the guest).
#
#   locks.host.sh setup  SHARED   before boot: nothing to prepare
#   locks.host.sh verify SHARED   after poweroff: what the guest left in
#                                 SHARED/locks/, seen with the host's tools
#
# The names, contents, modes and device numbers are a contract with
# locks.c: change the two files together.
set -eu

# shellcheck source=tests/guest/lib/host-tap.sh
. "$(dirname "$0")/../lib/host-tap.sh"

verify() {
	local l=$1/locks

	if [ ! -d "$l" ]; then
		host_not_ok "the guest's folder locks/ exists in the shared directory" "$l is missing"
		return 0
	fi
	host_ok "the guest's folder locks/ exists in the shared directory"

	printf '# the files the guest locked\n'
	host_check_eq "locks/record is a regular file of 4096 bytes" \
		"$(stat -c '%F %s' "$l/record")" "regular file 4096"
	host_check "locks/flock is a regular file" test -f "$l/flock" -a ! -L "$l/flock"
	host_check "no lock is left on locks/record or locks/flock once the daemon is gone" \
		sh -c 'flock -n -x "$1/record" true && flock -n -x "$1/flock" true' sh "$l"

	printf '# O_TMPFILE\n'
	host_check_content "locks/tmpfile-linked has what the guest wrote before naming it" \
		"$l/tmpfile-linked" 'written before it had a name\n'
	host_check_eq "locks/tmpfile-linked: mode 640, one link" \
		"$(stat -c '%a %h' "$l/tmpfile-linked")" "640 1"
	host_check_content "locks/tmpfile-proc (named through /proc/self/fd) has its data" \
		"$l/tmpfile-proc" 'by proc\n'
	host_check_eq "locks/tmpfile-proc: mode 600" "$(stat -c %a "$l/tmpfile-proc")" 600
	host_check_absent "the O_EXCL temporary file never got a name" "$l/tmpfile-excl"
	host_check_eq "no unnamed file is left behind in locks/ (only the guest's names)" \
		"$(find "$l" -maxdepth 1 -name '*tmp*' -printf '%f\n' | sort | tr '\n' ' ')" \
		"tmpfile-linked tmpfile-proc "

	printf '# special files\n'
	host_check_eq "locks/fifo is a fifo with mode 620" \
		"$(stat -c '%F %a' "$l/fifo")" "fifo 620"
	host_check_eq "locks/null is the character device 1:3 with mode 666" \
		"$(stat -c '%F %t:%T %a' "$l/null")" "character special file 1:3 666"
	host_check_eq "locks/blk is the block device 7:300 (hex 7:12c) with mode 660" \
		"$(stat -c '%F %t:%T %a' "$l/blk")" "block special file 7:12c 660"
	host_check_eq "locks/sock is a socket" "$(stat -c %F "$l/sock")" "socket"

	printf '# the directory that changed while it was read\n'
	host_check_eq "locks/changing still holds its 200 keep-* entries" \
		"$(find "$l/changing" -name 'keep-*' | wc -l)" 200
	host_check_eq "locks/changing has no gone-* entry left" \
		"$(find "$l/changing" -name 'gone-*' | wc -l)" 0
}

case ${1-} in
setup)
	[ $# -eq 2 ] || { echo "usage: $0 setup|verify SHARED_DIR" >&2; exit 2; }
	;;
verify)
	[ $# -eq 2 ] || { echo "usage: $0 setup|verify SHARED_DIR" >&2; exit 2; }
	verify "$2"
	;;
*)
	echo "usage: $0 setup|verify SHARED_DIR" >&2
	exit 2
	;;
esac
