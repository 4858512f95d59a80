#!/usr/bin/env bash
# Shows the daemon serving a host folder to a Linux guest. Without --daemon
# it first installs what is missing (Debian 12) and builds the daemon.
#
# usage: contrib/demo.sh [--daemon CMD] [--shared-dir DIR] [--build-dir DIR]
#
# Boots the test guest under QEMU with the folder shared as virtio-fs tag
# "myfs". Inside, a short script mounts it at /mnt, lists the host's files,
# reads one, writes /mnt/from-guest.txt and shows it. With a terminal on
# stdin you then get a shell in the guest (the share is at /mnt; leave with
# exit or Ctrl-D, or Ctrl-A x to quit QEMU at once); without one the guest
# powers off. Last, the host shows the file the guest wrote.
#
#   --daemon CMD      the daemon (default: $VFS_DAEMON, else
#                     <build>/daemon/virtiofsd); "qemu-virtiofsd" is QEMU's C
#                     virtiofsd. {socket} and {dir} as for
#                     tests/guest/run-guest.sh --help.
#   --shared-dir DIR  the folder to share (default: a new temporary one with a
#                     few files, removed afterwards)
#   --build-dir DIR   meson build directory (default: $VFS_BUILD_DIR or ./build)
#
# Needs root (QEMU's virtiofsd sandboxes itself with namespaces), QEMU, and
# what tests/guest/prepare-guest.sh needs (busybox-static, gcc, apt-get).
set -eu
set -o pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
vfsg_note_prefix='demo: '
# shellcheck source=tests/guest/guest-lib.sh
. "$top/tests/guest/guest-lib.sh"

daemon=
shared=
while [ $# -gt 0 ]; do
	case $1 in
	--daemon) daemon=$2; shift 2 ;;
	--daemon=*) daemon=${1#*=}; shift ;;
	--shared-dir) shared=$2; shift 2 ;;
	--shared-dir=*) shared=${1#*=}; shift ;;
	--build-dir) VFS_BUILD_DIR=$2; shift 2 ;;
	--build-dir=*) VFS_BUILD_DIR=${1#*=}; shift ;;
	-h | --help) sed -n '2,/^set -eu/{/^set/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) vfsg_die "unknown option: $1 (see --help)" ;;
	esac
done
vfsg_init_paths
export VFS_BUILD_DIR VFS_GUEST_OUT VFS_GUEST_KERNEL_CACHE
if [ -z "$daemon" ] && [ -z "${VFS_DAEMON:-}" ]; then
	# Our own daemon: install what is missing and build it first.
	bash "$top/contrib/install-deps.sh"
	[ -d "$VFS_BUILD_DIR" ] || meson setup "$VFS_BUILD_DIR" "$top" >/dev/null
	ninja -C "$VFS_BUILD_DIR" >/dev/null
fi
: "${daemon:=${VFS_DAEMON:-$VFS_BUILD_DIR/daemon/virtiofsd --xattr}}"

vfsg_daemon_argv "$daemon" /SOCKET /SHARED
[ -x "${vfsg_daemon_cmd[0]}" ] || command -v "${vfsg_daemon_cmd[0]}" >/dev/null ||
	vfsg_die "no daemon at ${vfsg_daemon_cmd[0]}: build it, or try --daemon qemu-virtiofsd"
command -v "$VFS_GUEST_QEMU" >/dev/null || vfsg_die "$VFS_GUEST_QEMU not found: install qemu-system-x86"

interactive=0
[ -t 0 ] && [ -t 1 ] && interactive=1

daemon_pid=
qemu_pid=
run=
own_shared=0
cleanup() {
	local status=$?
	trap - EXIT INT TERM HUP
	[ -z "$qemu_pid" ] || vfsg_stop "$qemu_pid" qemu 5
	[ -z "$daemon_pid" ] || vfsg_stop "$daemon_pid" daemon 10
	# QEMU puts the terminal in raw mode; a killed QEMU leaves it so.
	[ "$interactive" = 0 ] || stty sane 2>/dev/null || true
	[ "$own_shared" = 0 ] || rm -rf "$shared"
	[ -z "$run" ] || rm -rf "$run"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

initramfs=$VFS_GUEST_OUT/initramfs-demo.cpio.gz
vfsg_note "preparing the guest (kernel, initramfs)"
"$vfsg_dir/prepare-guest.sh" --add "$top/contrib/guest/demo.sh" --initramfs "$initramfs" 2>&1 |
	sed "s/^/$vfsg_note_prefix/"

run=$(vfsg_make_run_dir)
if [ -z "$shared" ]; then
	shared=$run/shared
	own_shared=1
	mkdir -p "$shared/notes"
	printf 'Hello from the host (%s).\nThis file was written before the guest booted.\n' \
		"$(uname -n)" >"$shared/hello-from-host.txt"
	printf 'try: ls -l /mnt; echo hi > /mnt/x; cat /mnt/x\n' >"$shared/notes/ideas.txt"
else
	[ -d "$shared" ] || vfsg_die "--shared-dir $shared is not a folder"
	shared=$(cd "$shared" && pwd)
	[ -e "$shared/hello-from-host.txt" ] ||
		printf 'Hello from the host (%s).\n' "$(uname -n)" >"$shared/hello-from-host.txt"
fi
sock=$run/vhost-user-fs.sock

vfsg_daemon_argv "$daemon" "$sock" "$shared"
vfsg_note "host: sharing $shared"
vfsg_note "host: $(vfsg_quote_cmd "${vfsg_daemon_cmd[@]}")"
"${vfsg_daemon_cmd[@]}" >"$run/daemon.log" 2>&1 </dev/null &
daemon_pid=$!
if ! vfsg_wait_socket "$sock" "$daemon_pid" 15; then
	cat "$run/daemon.log" >&2
	vfsg_die "the daemon did not come up"
fi

if [ "$interactive" = 1 ]; then
	cmdline=$(vfsg_kernel_cmdline demo vfs.shell=1)
	console=stdio-monitor
	limit=0
else
	cmdline=$(vfsg_kernel_cmdline demo)
	console=stdio,signal=off
	limit=${VFS_GUEST_TIMEOUT:-120}
fi
vfsg_qemu_argv "$sock" "$initramfs" "$cmdline" "$console" null
vfsg_note "host: booting the guest (TCG, about 10 s)"
vfsg_note "host: $(vfsg_quote_cmd "${vfsg_qemu_cmd[@]}")"
# A background job gets /dev/null for stdin unless told otherwise: hand it
# the terminal through another descriptor.
exec 3<&0
"${vfsg_qemu_cmd[@]}" <&3 &
qemu_pid=$!
exec 3<&-
start=$SECONDS
while vfsg_alive "$qemu_pid"; do
	if [ "$limit" != 0 ] && [ $((SECONDS - start)) -ge "$limit" ]; then
		vfsg_note "host: the guest is still running after $limit s: stopping it"
		break
	fi
	sleep 0.2
done
vfsg_stop "$qemu_pid" qemu 5
qemu_pid=
[ "$interactive" = 0 ] || stty sane 2>/dev/null || true
vfsg_stop "$daemon_pid" daemon 10
daemon_pid=

echo
vfsg_note "host: the guest powered off; the shared folder on the host now holds:"
ls -la "$shared"
if [ -f "$shared/from-guest.txt" ]; then
	vfsg_note "host: cat $shared/from-guest.txt"
	cat "$shared/from-guest.txt"
else
	vfsg_note "host: the guest wrote no from-guest.txt"
	exit 1
fi
