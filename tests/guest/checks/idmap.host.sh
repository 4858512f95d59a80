#!/usr/bin/env bash
# Host side of the idmap check (idmap.c runs in the guest; the daemon has
# --translate-uid=map:1000:3000:1 --translate-gid=map:1000:3000:1
# --translate-uid=forbid-guest:1500:10 --translate-uid=squash-host:5000:65534:100).
#
#   idmap.host.sh setup  SHARED   before boot: SHARED/host/own-* with host owners
#   idmap.host.sh verify SHARED   after poweroff: the host owners of what the
#                                 guest created and chowned in SHARED/idmap/
set -eu

# shellcheck source=tests/guest/lib/host-tap.sh
. "$(dirname "$0")/../lib/host-tap.sh"

setup() {
	mkdir -p "$1/host"
	for owner in 3000:3000 5042:4000 4000:4000; do
		f=$1/host/own-${owner%%:*}
		printf 'owned\n' >"$f"
		chown "$owner" "$f"
	done
}

verify() {
	local d=$1/idmap

	if [ ! -d "$d" ]; then
		host_not_ok "the guest's folder idmap/ exists" "$d is missing"
		return 0
	fi
	host_check_eq "idmap/by-1000 belongs to host 3000:3000 (guest 1000 mapped)" \
		"$(stat -c %u:%g "$d/by-1000")" 3000:3000
	host_check_eq "idmap/chowned belongs to host 3000:3000 (chown 1000:1000 mapped)" \
		"$(stat -c %u:%g "$d/chowned")" 3000:3000
	host_check_eq "idmap/by-root belongs to host 0:0 (not mapped)" \
		"$(stat -c %u:%g "$d/by-root")" 0:0
	host_check_absent "idmap/by-1505 was never created (forbidden guest uid)" "$d/by-1505"
	host_check_eq "host/own-3000 still belongs to 3000:3000" \
		"$(stat -c %u:%g "$1/host/own-3000")" 3000:3000
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
