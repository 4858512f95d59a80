#!/usr/bin/env bash
# Host side of the xsec check (xsec.c runs in the guest; the daemon has
# --xattrmap=:map:user.:user.virtiofs.: --posix-acl --killpriv-v2
# --security-label).
#
#   xsec.host.sh setup  SHARED   before boot: SHARED/host/attrs with a host-only
#                                user.* xattr and one the map shows the guest
#   xsec.host.sh verify SHARED   after poweroff: what the guest left in
#                                SHARED/xsec/, as the host sees it
set -eu

# shellcheck source=tests/guest/lib/host-tap.sh
. "$(dirname "$0")/../lib/host-tap.sh"

setup() {
	mkdir -p "$1/host"
	printf 'attrs\n' >"$1/host/attrs"
	setfattr -n user.hostonly -v h "$1/host/attrs"
	setfattr -n user.virtiofs.user.fromhost -v hv "$1/host/attrs"
}

# xattr_value FILE NAME: the value, or nothing when absent.
xattr_value() {
	getfattr --absolute-names --only-values -n "$2" "$1" 2>/dev/null || true
}

verify() {
	local x=$1/xsec

	if [ ! -d "$x" ]; then
		host_not_ok "the guest's folder xsec/ exists" "$x is missing"
		return 0
	fi

	printf '# xattr mapping\n'
	host_check_eq "xsec/x: the guest's user.foo is stored as user.virtiofs.user.foo=bar" \
		"$(xattr_value "$x/x" user.virtiofs.user.foo)" bar
	host_check_eq "xsec/x: there is no unprefixed user.foo on the host" \
		"$(xattr_value "$x/x" user.foo)" ""
	host_check_eq "host/attrs keeps the host's user.hostonly" \
		"$(xattr_value "$1/host/attrs" user.hostonly)" h

	printf '# POSIX ACLs\n'
	host_check_eq "xsec/acl/f: mode 664 (default ACL, no umask)" "$(stat -c %a "$x/acl/f")" 664
	host_check "xsec/acl/f carries an inherited access ACL" \
		getfattr --absolute-names -n system.posix_acl_access "$x/acl/f"
	host_check_eq "xsec/acl/d: mode 775" "$(stat -c %a "$x/acl/d")" 775
	host_check_eq "xsec/plain: mode 644 (umask 022 applied)" "$(stat -c %a "$x/plain")" 644
	host_check_eq "xsec/acldir/byuser: created by uid 1000 through the ACL" \
		"$(stat -c %u "$x/acldir/byuser")" 1000
	host_check_absent "xsec/noacldir/byuser was not created" "$x/noacldir/byuser"
	host_check_eq "xsec/secret: user 1000's write reached the file" \
		"$(tail -c 1 "$x/secret")" "+"

	printf '# killpriv\n'
	host_check_eq "xsec/kp-write: mode 755 after the user's write" "$(stat -c %a "$x/kp-write")" 755
	host_check_eq "xsec/kp-trunc: mode 755 after the user's truncate" \
		"$(stat -c '%a %s' "$x/kp-trunc")" "755 0"
	host_check_eq "xsec/kp-root: mode 4755 after root's write" "$(stat -c %a "$x/kp-root")" 4755
	host_check_eq "xsec/kp-cap: no security.capability after the user's write" \
		"$(getfattr --absolute-names -m - "$x/kp-cap" 2>/dev/null | grep -c '^security.capability' || true)" 0

	printf '# CVE-2022-0358\n'
	host_check_eq "xsec/cve/exe: uid 1000, gid 0, mode 755 (no S_ISGID)" \
		"$(stat -c '%u %g %a' "$x/cve/exe")" "1000 0 755"
	host_check_eq "xsec/cve/sub: mode 2755 (directories inherit S_ISGID)" \
		"$(stat -c %a "$x/cve/sub")" 2755
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
