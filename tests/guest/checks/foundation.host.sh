#!/usr/bin/env bash
# Host side of the foundation check (foundation.c runs in the guest).
#
#   foundation.host.sh setup  SHARED   before boot: write SHARED/host/, the files
#                                      the guest reads and checks
#   foundation.host.sh verify SHARED   after poweroff: check what the guest left
#                                      in SHARED/guest/, with the host's own
#                                      tools (stat, cmp, getfattr, sha256sum)
#
# The expected names, contents, modes and owners are a contract with
# foundation.c: change the two files together.
set -eu

# shellcheck source=tests/guest/lib/host-tap.sh
. "$(dirname "$0")/../lib/host-tap.sh"

setup() {
	local h=$1/host

	mkdir -p "$h/sub/dir"
	printf 'hello from the host\n' >"$h/hello.txt"
	printf 'nested two levels down\n' >"$h/sub/dir/nested.txt"
	printf 'only for root and group\n' >"$h/private.txt"
	chmod 0640 "$h/private.txt"
	chown 4321:8765 "$h/private.txt"
	: >"$h/empty"
	ln -s hello.txt "$h/link-to-hello"
	printf 'two names\n' >"$h/hardlink-1"
	ln "$h/hardlink-1" "$h/hardlink-2"
	# Random data at an odd size: a wrong offset or a short read shows up
	# as a different digest.
	head -c $((3 * 1048576 + 123)) /dev/urandom >"$h/random.bin"
	(cd "$h" && sha256sum random.bin >random.bin.sha256)
	printf 'xattrs\n' >"$h/xattr.txt"
	if ! setfattr -n user.host.note -v 'set on the host' "$h/xattr.txt" 2>/dev/null; then
		echo "the host's filesystem takes no user xattrs" >"$h/xattr-unsupported"
	fi
	# Kept for verify: the guest must not have changed any of this.
	(cd "$h" && find . -type f ! -name host-manifest.sha256 -print0 | sort -z |
		xargs -0 sha256sum >"$1/host-manifest.sha256")
}

verify() {
	local s=$1 g=$1/guest

	printf '# the files the host wrote before boot\n'
	host_check "host files are unchanged after the guest ran (sha256sum -c)" \
		sh -c 'cd "$1/host" && sha256sum --quiet -c ../host-manifest.sha256' sh "$s"

	if [ ! -d "$g" ]; then
		host_not_ok "the guest's folder guest/ exists in the shared directory" "$g is missing"
		return 0
	fi
	host_ok "the guest's folder guest/ exists in the shared directory"
	host_check_eq "guest/ has mode 755" "$(stat -c %a "$g")" 755

	printf '# create, write, append, truncate\n'
	host_check_content "guest/write.txt has the content the guest wrote" "$g/write.txt" 'hello, virtio-fs\n'
	host_check_eq "guest/write.txt: size 17, mode 644, owner 0:0, one link" \
		"$(stat -c '%s %a %u:%g %h' "$g/write.txt")" "17 644 0:0 1"
	host_check_content "guest/append.txt has both the written and the appended lines" \
		"$g/append.txt" 'first line\nsecond line\n'
	host_check_eq "guest/truncate.txt was shrunk then extended to 8192 bytes" \
		"$(stat -c %s "$g/truncate.txt")" 8192
	host_check "guest/truncate.txt is its first 10 bytes followed by zeros" \
		sh -c '{ printf 0123456789; head -c 8182 /dev/zero; } | cmp -s - "$1"' sh "$g/truncate.txt"

	printf '# rename\n'
	host_check_content "guest/renamed.txt has the renamed file's content" "$g/renamed.txt" 'rename me\n'
	host_check_absent "the old name guest/rename-src.txt is gone" "$g/rename-src.txt"
	host_check_content "guest/victim.txt has the content of the file renamed over it" \
		"$g/victim.txt" 'new content\n'
	host_check_absent "guest/replacement.txt (renamed over victim.txt) is gone" "$g/replacement.txt"
	host_check_content "the renamed directory guest/dir-b holds inside.txt" "$g/dir-b/inside.txt" 'inside\n'
	host_check_absent "the old directory name guest/dir-a is gone" "$g/dir-a"

	printf '# hard links and symbolic links\n'
	host_check_eq "guest/link-target.txt and guest/link-name.txt both have link count 2" \
		"$(stat -c %h "$g/link-target.txt") $(stat -c %h "$g/link-name.txt")" "2 2"
	host_check_eq "guest/link-target.txt and guest/link-name.txt are the same inode" \
		"$(stat -c %i "$g/link-target.txt")" "$(stat -c %i "$g/link-name.txt")"
	host_check_content "data appended through one link name is in the file" \
		"$g/link-target.txt" 'linked\nmore\n'
	host_check_eq "guest/link-tmp-a has link count 1 after its second name was unlinked" \
		"$(stat -c %h "$g/link-tmp-a")" 1
	host_check_absent "guest/link-tmp-b is gone" "$g/link-tmp-b"
	host_check_eq "guest/symlink is a symbolic link to write.txt" \
		"$(stat -c %F "$g/symlink") -> $(readlink "$g/symlink")" "symbolic link -> write.txt"
	host_check_eq "guest/dangling is a symbolic link to does-not-exist" \
		"$(readlink "$g/dangling")" does-not-exist
	host_check_eq "the link guest/symlink-owned itself is owned by 1111:2222" \
		"$(stat -c %u:%g "$g/symlink-owned")" 1111:2222

	printf '# directories\n'
	host_check_absent "guest/tmp-dir was removed" "$g/tmp-dir"
	host_check_eq "guest/kept-dir is a directory with mode 750" \
		"$(stat -c '%F %a' "$g/kept-dir")" "directory 750"
	host_check_eq "guest/kept-dir/sub is a directory with mode 700" \
		"$(stat -c '%F %a' "$g/kept-dir/sub")" "directory 700"
	host_check_eq "guest/many holds 1000 entries" "$(ls -A "$g/many" | wc -l)" 1000
	host_check "guest/many holds exactly entry-0000 .. entry-0999, all regular files" \
		bash -c 'find "$1" -mindepth 1 -maxdepth 1 -type f -printf "%f\n" | sort |
			cmp -s - <(seq -f "entry-%04g" 0 999)' sh "$g/many"

	printf '# modes, owners, timestamps\n'
	host_check_eq "guest/perm.txt has mode 751 and owner 1234:4321 (chmod, fchmod, chown, fchown)" \
		"$(stat -c '%a %u:%g' "$g/perm.txt")" "751 1234:4321"
	host_check_eq "guest/mtime.txt has the mtime set by utimensat (1234567890)" \
		"$(stat -c %Y "$g/mtime.txt")" 1234567890

	printf '# extended attributes\n'
	if [ -e "$g/xattr-unsupported" ]; then
		host_skip "xattrs set in the guest are on the host file" "the guest found no xattr support"
	else
		host_check_eq "guest/xattr.txt has user.vfs.kept = kept-value (getfattr)" \
			"$(getfattr --absolute-names --only-values -n user.vfs.kept "$g/xattr.txt" 2>&1)" kept-value
		host_check_eq "guest/xattr.txt has user.vfs.binary = 0x000102ff (getfattr -e hex)" \
			"$(getfattr --absolute-names -e hex -n user.vfs.binary "$g/xattr.txt" 2>&1 | sed -n 's/^user.vfs.binary=//p')" \
			0x000102ff
		host_check_eq "guest/xattr.txt has exactly those two user.* xattrs; user.vfs.test was removed" \
			"$(getfattr --absolute-names -m '^user\.' "$g/xattr.txt" 2>&1 | grep '^user\.' | sort | tr '\n' ' ')" \
			"user.vfs.binary user.vfs.kept "
	fi

	printf '# the 64 MiB file\n'
	host_check_eq "guest/big.bin is 67108864 bytes" "$(stat -c %s "$g/big.bin")" 67108864
	if [ -f "$g/big.bin.sha256" ]; then
		printf '# SHA-256 recorded by the guest: %s\n' "$(cut -d' ' -f1 "$g/big.bin.sha256")"
		host_check "sha256sum of guest/big.bin on the host equals the SHA-256 the guest computed" \
			sh -c 'cd "$1" && sha256sum --quiet -c big.bin.sha256' sh "$g"
	else
		host_not_ok "sha256sum of guest/big.bin on the host equals the SHA-256 the guest computed" \
			"the guest recorded no digest (guest/big.bin.sha256 is missing)"
	fi
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
