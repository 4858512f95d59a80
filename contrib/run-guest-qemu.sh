#!/usr/bin/env bash
# Boots the test guest by hand, against a daemon you started yourself.
#
# usage: contrib/run-guest-qemu.sh --socket PATH [--check NAME] [--no-shell]
#                                  [--print] [--build-dir DIR]
#
# 1. Start a daemon on a socket, e.g. ours:
#        build/daemon/virtiofsd --socket-path=/tmp/vfs.sock --shared-dir=/srv/share
#    or QEMU's C virtiofsd (Debian 12: its thread pool dies in its own
#    seccomp filter, hence --thread-pool-size=0):
#        /usr/lib/qemu/virtiofsd --socket-path=/tmp/vfs.sock -o source=/srv/share \
#            -o cache=auto -o xattr --thread-pool-size=0
# 2. contrib/run-guest-qemu.sh --socket /tmp/vfs.sock
#    boots (about 10 s under TCG) into a shell with the share mounted at /mnt.
#    Leave the shell (exit, Ctrl-D) to power off; Ctrl-A x quits QEMU at once,
#    Ctrl-A c switches to QEMU's monitor.
#
#   --check NAME  run /checks/NAME first (a program from tests/guest/checks,
#                 e.g. foundation, which mounts the share itself), then the shell
#   --no-shell    power off after the check instead of starting a shell
#   --print       print the QEMU command instead of running it
#
# The guest kernel and initramfs come from tests/guest/prepare-guest.sh (run
# here first). The QEMU command line is built in tests/guest/guest-lib.sh,
# shared with the test runner and contrib/demo.sh; --print shows it exactly.
# Option by option:
#
#   qemu-system-x86_64
#     -accel tcg -cpu max     TCG: nested KVM hangs where this was made
#     -smp 1 -m 1G
#     -object memory-backend-memfd,id=mem,size=1G,share=on -numa node,memdev=mem
#                             guest RAM in a memfd that can be shared: the
#                             vhost-user daemon maps all of it
#     -chardev socket,id=vfs,path=SOCKET
#     -device vhost-user-fs-pci,chardev=vfs,tag=myfs,queue-size=1024
#                             the virtio-fs device, its queues served by the
#                             daemon on SOCKET; the guest mounts it by its tag:
#                             mount -t virtiofs myfs /mnt
#     -nodefaults -display none -no-reboot
#                             no NIC, VGA or default ports; reboot, poweroff
#                             or a panic end QEMU
#     -chardev stdio,id=con,mux=on,signal=off -serial chardev:con
#     -mon chardev=con,mode=readline
#                             ttyS0, the console, on this terminal, with the
#                             monitor behind Ctrl-A c
#     -chardev null,id=res -serial chardev:res
#                             ttyS1, where the test runner collects TAP
#     -kernel vmlinuz -initrd initramfs.cpio.gz
#     -append 'console=ttyS0 quiet panic=-1 rdinit=/init vfs.check=none
#              vfs.tag=myfs vfs.mnt=/mnt vfs.mount=1 vfs.shell=1'
#                             the vfs.* words are read by the guest's /init
#                             (tests/guest/init.sh)
#
# Environment: VFS_GUEST_MEM, VFS_GUEST_SMP, VFS_GUEST_TAG, VFS_GUEST_APPEND,
# VFS_GUEST_KERNEL and the others listed in tests/guest/guest-lib.sh.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/guest/guest-lib.sh
. "$top/tests/guest/guest-lib.sh"

sock=
check=none
shell=1
print=0
while [ $# -gt 0 ]; do
	case $1 in
	--socket) sock=$2; shift 2 ;;
	--socket=*) sock=${1#*=}; shift ;;
	--check) check=$2; shift 2 ;;
	--check=*) check=${1#*=}; shift ;;
	--no-shell) shell=0; shift ;;
	--print) print=1; shift ;;
	--build-dir) VFS_BUILD_DIR=$2; shift 2 ;;
	--build-dir=*) VFS_BUILD_DIR=${1#*=}; shift ;;
	-h | --help) sed -n '2,/^set -eu/{/^set/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) vfsg_die "unknown option: $1 (see --help)" ;;
	esac
done
vfsg_init_paths
export VFS_BUILD_DIR VFS_GUEST_OUT VFS_GUEST_KERNEL_CACHE

if [ -z "$sock" ]; then
	[ "$print" = 1 ] || vfsg_die "--socket PATH is needed: the daemon's vhost-user socket (see --help)"
	sock=SOCKET
elif [ "$print" = 0 ] && [ ! -S "$sock" ]; then
	vfsg_die "$sock is not a socket: start the daemon first (see --help)"
fi

words=()
[ "$check" = none ] && words+=(vfs.mount=1)
[ "$shell" = 1 ] && words+=(vfs.shell=1)
cmdline=$(vfsg_kernel_cmdline "$check" ${words[@]+"${words[@]}"})
if [ -t 0 ]; then
	console=stdio-monitor
else
	console=stdio,signal=off
fi
vfsg_qemu_argv "$sock" "$vfsg_initramfs" "$cmdline" "$console" null

if [ "$print" = 1 ]; then
	vfsg_quote_cmd "${vfsg_qemu_cmd[@]}"
	echo
	exit 0
fi
"$vfsg_dir/prepare-guest.sh"
exec "${vfsg_qemu_cmd[@]}"
