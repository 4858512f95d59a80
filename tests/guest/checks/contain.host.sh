#!/usr/bin/env bash
# Host side of the contain check (contain.c runs in the guest).
#
#   contain.host.sh setup  SHARED   before boot: a canary beside the share
#                                   (SHARED/../outside), symlinks in the share
#                                   pointing at it, the directories and
#                                   set-id file the guest's user works with
#   contain.host.sh verify SHARED   after poweroff: the canary is unchanged,
#                                   owners and modes of what the guest made
#
# The names are a contract with contain.c: change them together.
set -eu

# shellcheck source=tests/guest/lib/host-tap.sh
. "$(dirname "$0")/../lib/host-tap.sh"

canary_state() {
	(cd "$1" && find . -printf '%p %M %U:%G %n %s %T@ %C@ %l\n' | sort &&
		find . -type f -exec sha256sum {} + | sort)
}

setup() {
	local s=$1 out
	out=$(cd "$s/.." && pwd)/outside
	mkdir -p "$out/dir"
	printf 'the canary outside the share\n' >"$out/secret"
	chmod 0640 "$out/secret"
	printf 'inner\n' >"$out/dir/inner"
	ln -s "$out" "$s/abs-dir"
	ln -s ../outside "$s/rel-dir"
	ln -s "$out/secret" "$s/abs-file"
	ln -s ../outside/secret "$s/rel-file"
	mkdir "$s/d"
	printf 'inside\n' >"$s/d/secret"
	ln -s "$out" "$s/s"
	mkdir "$s/home"
	chown 1000:1000 "$s/home"
	mkdir "$s/sgid-dir"
	chown 0:0 "$s/sgid-dir"
	chmod 02777 "$s/sgid-dir"
	printf '#!/bin/sh\n' >"$s/root-suid"
	chown 0:0 "$s/root-suid"
	chmod 06777 "$s/root-suid"
	canary_state "$out" >"$s/../canary-before"
}

verify() {
	local s=$1 out
	out=$(cd "$s/.." && pwd)/outside
	host_check_eq "the canary beside the share is unchanged (content, modes, owners, links, times)" \
		"$(canary_state "$out")" "$(cat "$s/../canary-before")"
	host_check_eq "the share's links to it are still the host's links" \
		"$(readlink "$s/abs-dir") $(readlink "$s/rel-file")" "$out ../outside/secret"
	host_check_eq "home/suid belongs to 1000:1000 with mode 4755: set-uid 1000, not root" \
		"$(stat -c '%u:%g %a' "$s/home/suid" 2>&1)" "1000:1000 4755"
	host_check_eq "sgid-dir/f belongs to 1000, group root, without S_ISGID" \
		"$(stat -c '%u:%g %a' "$s/sgid-dir/f" 2>&1)" "1000:0 755"
	host_check_eq "root-suid lost S_ISUID and S_ISGID when user 1000 wrote to it" \
		"$(stat -c '%u:%g %a' "$s/root-suid")" "0:0 777"
	host_check_absent "no device node was made by user 1000" "$s/home/node"
	host_check_eq "guest-link is the guest's symlink to /etc/passwd" \
		"$(readlink "$s/guest-link")" /etc/passwd
	host_check_eq "fifo is a fifo on the host" "$(stat -c %F "$s/fifo")" fifo
	host_check_content "d/secret (or s/secret after an odd number of swaps) is the share's file" \
		"$( [ ! -L "$s/d" ] && echo "$s/d/secret" || echo "$s/s/secret")" 'inside\n'
}

case ${1-} in
setup | verify)
	[ $# -eq 2 ] || { echo "usage: $0 setup|verify SHARED_DIR" >&2; exit 2; }
	"$1" "$2"
	;;
*)
	echo "usage: $0 setup|verify SHARED_DIR" >&2
	exit 2
	;;
esac
