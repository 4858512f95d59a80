# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables set here are read by the scripts sourcing this
# Shared by tests/guest/run-guest.sh, tests/guest/prepare-guest.sh,
# contrib/demo.sh and contrib/run-guest-qemu.sh: where the guest's files
# live, the daemon and QEMU command lines (built here and nowhere else), and
# starting and stopping the processes a script owns.
#
# Sourced by bash scripts that run with `set -eu`. Call vfsg_init_paths after
# option parsing, since options may set VFS_BUILD_DIR.
#
# Environment (all optional):
#   VFS_BUILD_DIR           meson build directory (default: <source>/build)
#   VFS_GUEST_OUT           built guest files (default: $VFS_BUILD_DIR/tests/guest)
#   VFS_GUEST_KERNEL_CACHE  downloaded Debian kernel (default: $VFS_GUEST_OUT/kernel)
#   VFS_GUEST_KERNEL        use this kernel image instead of Debian's
#   VFS_GUEST_MODULES_DIR   with VFS_GUEST_KERNEL: folder with the .ko files
#                           (none needed if virtio-pci and virtiofs are built in)
#   VFS_GUEST_QEMU          QEMU binary (default: qemu-system-x86_64)
#   VFS_GUEST_MEM           guest memory, shared with the daemon (default: 1G)
#   VFS_GUEST_SMP           guest CPUs (default: 1)
#   VFS_GUEST_TAG           virtio-fs tag (default: myfs)
#   VFS_GUEST_MNT           mount point in the guest (default: /mnt)
#   VFS_GUEST_APPEND        extra kernel command line words
#   VFS_GUEST_RUN_PARENT    where run folders (socket, logs, shared folder)
#                           are made (default: $TMPDIR or /tmp)

vfsg_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vfsg_top=$(cd "$vfsg_dir/../.." && pwd)

# Load order of the guest modules (Debian builds them all as modules).
vfsg_modules=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci fuse virtiofs)

# QEMU's C virtiofsd as Debian 12 ships it. Its thread pool is killed by its
# own seccomp filter there, hence --thread-pool-size=0.
vfsg_qemu_virtiofsd_template='/usr/lib/qemu/virtiofsd --socket-path={socket} -o source={dir} -o cache=auto -o xattr --thread-pool-size=0'

# Prefix of the notes the helpers print; TAP comments by default.
: "${vfsg_note_prefix:=# }"

vfsg_note() {
	printf '%s%s\n' "$vfsg_note_prefix" "$*"
}

vfsg_die() {
	printf '%s: %s\n' "${0##*/}" "$*" >&2
	exit 1
}

vfsg_init_paths() {
	: "${VFS_BUILD_DIR:=$vfsg_top/build}"
	: "${VFS_GUEST_OUT:=$VFS_BUILD_DIR/tests/guest}"
	: "${VFS_GUEST_KERNEL_CACHE:=$VFS_GUEST_OUT/kernel}"
	: "${VFS_GUEST_QEMU:=qemu-system-x86_64}"
	: "${VFS_GUEST_MEM:=1G}"
	: "${VFS_GUEST_SMP:=1}"
	: "${VFS_GUEST_TAG:=myfs}"
	: "${VFS_GUEST_MNT:=/mnt}"
	: "${VFS_GUEST_APPEND:=}"
	vfsg_initramfs=$VFS_GUEST_OUT/initramfs.cpio.gz
	if [ -n "${VFS_GUEST_KERNEL:-}" ]; then
		vfsg_kernel=$VFS_GUEST_KERNEL
		vfsg_modules_dir=${VFS_GUEST_MODULES_DIR:-}
	else
		vfsg_kernel=$VFS_GUEST_KERNEL_CACHE/vmlinuz
		vfsg_modules_dir=$VFS_GUEST_KERNEL_CACHE/modules
	fi
}

# vfsg_daemon_argv TEMPLATE SOCKET DIR: sets the array vfsg_daemon_cmd.
#
# TEMPLATE is the daemon's command, split at white space; {socket} and {dir}
# in it are replaced by SOCKET and DIR (after splitting, so those two may
# contain spaces). Without {socket}, --socket-path={socket} is appended;
# without {dir}, --shared-dir={dir}. The word "qemu-virtiofsd" stands for
# QEMU's C virtiofsd with the options it needs.
vfsg_daemon_argv() {
	local template=$1 sock=$2 dir=$3 w
	local -a words

	[ "$template" = qemu-virtiofsd ] && template=$vfsg_qemu_virtiofsd_template
	read -r -a words <<<"$template"
	case $template in *'{socket}'*) ;; *) words+=('--socket-path={socket}') ;; esac
	case $template in *'{dir}'*) ;; *) words+=('--shared-dir={dir}') ;; esac
	vfsg_daemon_cmd=()
	for w in "${words[@]}"; do
		w=${w//'{socket}'/"$sock"}
		w=${w//'{dir}'/"$dir"}
		vfsg_daemon_cmd+=("$w")
	done
}

# QEMU splits option values at commas; a literal comma is written twice.
vfsg_qemu_escape() {
	printf '%s' "${1//,/,,}"
}

# vfsg_kernel_cmdline CHECK [WORDS...]: the guest kernel's command line. The
# guest's /init reads the vfs.* words (see init.sh).
vfsg_kernel_cmdline() {
	local check=$1
	shift
	# quiet: kernel messages on the serial console cost time under TCG.
	# panic=-1: a panic reboots at once, and -no-reboot turns that into
	# QEMU exiting instead of a hang until the time limit.
	printf '%s' "console=ttyS0 quiet panic=-1 rdinit=/init" \
		" vfs.check=$check vfs.tag=$VFS_GUEST_TAG vfs.mnt=$VFS_GUEST_MNT" \
		"${VFS_GUEST_APPEND:+ $VFS_GUEST_APPEND}" "${*:+ $*}"
}

# vfsg_qemu_argv SOCKET INITRAMFS CMDLINE CONSOLE RESULTS: sets the array
# vfsg_qemu_cmd, the one QEMU command line every script here uses.
#
# CONSOLE is the QEMU character device behind the guest's ttyS0 (kernel
# console, shell), RESULTS the one behind ttyS1 (where /init copies the
# check's TAP output). Each is a -chardev backend with its options but no id,
# e.g. "file,path=/tmp/console.log", "stdio,signal=off" or "null"; the
# CONSOLE "stdio-monitor" is the terminal with QEMU's monitor on it
# (Ctrl-A x quits, Ctrl-A c switches to the monitor).
vfsg_qemu_argv() {
	local sock=$1 initrd=$2 cmdline=$3 console=$4 results=$5
	local -a con

	# shellcheck disable=SC2054 # the commas are QEMU's
	if [ "$console" = stdio-monitor ]; then
		con=(-chardev stdio,id=con,mux=on,signal=off -serial chardev:con
			-mon chardev=con,mode=readline)
	else
		con=(-chardev "$console,id=con" -serial chardev:con)
	fi
	# shellcheck disable=SC2054 # the commas are QEMU's
	vfsg_qemu_cmd=(
		"$VFS_GUEST_QEMU"
		# Nested KVM hangs on the machines this runs on; TCG works anywhere.
		-accel tcg -cpu max
		-smp "$VFS_GUEST_SMP"
		# vhost-user maps all guest memory into the daemon: it has to be
		# a shareable memfd, tied to the guest's NUMA node.
		-m "$VFS_GUEST_MEM"
		-object "memory-backend-memfd,id=mem,size=$VFS_GUEST_MEM,share=on"
		-numa node,memdev=mem
		-chardev "socket,id=vfs,path=$(vfsg_qemu_escape "$sock")"
		-device "vhost-user-fs-pci,chardev=vfs,tag=$VFS_GUEST_TAG,queue-size=1024"
		# No NIC, VGA, parallel port or default serial: less to boot.
		-nodefaults -display none -no-reboot
		"${con[@]}"
		-chardev "$results,id=res" -serial chardev:res
		-kernel "$vfsg_kernel" -initrd "$initrd"
		-append "$cmdline"
	)
}

# A readable one-line rendering of a command array, for logs.
vfsg_quote_cmd() {
	local out='' w
	for w in "$@"; do
		case $w in
		*[!A-Za-z0-9_./=:,+@%-]* | '') out+=" '${w//\'/\'\\\'\'}'" ;;
		*) out+=" $w" ;;
		esac
	done
	printf '%s' "${out# }"
}

# True while PID exists and is not a zombie waiting to be reaped.
vfsg_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# vfsg_wait_exit PID SECONDS: waits up to SECONDS for PID to exit; true if it did.
vfsg_wait_exit() {
	local pid=$1 tenths=$(($2 * 10))
	while vfsg_alive "$pid"; do
		[ "$tenths" -gt 0 ] || return 1
		sleep 0.1
		tenths=$((tenths - 1))
	done
}

# vfsg_stop PID NAME [GRACE]: stops a child of this shell: SIGTERM, then
# SIGKILL if it is still there after GRACE seconds (default 10); reaps it.
# Sets vfsg_stop_status to its wait status and vfsg_stop_how to "exited",
# "sigterm" or "sigkill". Only ever signals PID, which cannot have been
# reused: it stays a zombie of ours until the wait below.
vfsg_stop() {
	local pid=$1 name=$2 grace=${3:-10}

	vfsg_stop_how=exited
	if vfsg_alive "$pid"; then
		vfsg_stop_how=sigterm
		kill -TERM "$pid" 2>/dev/null || true
		if ! vfsg_wait_exit "$pid" "$grace"; then
			vfsg_note "$name (pid $pid) still running ${grace} s after SIGTERM: sending SIGKILL"
			vfsg_stop_how=sigkill
			kill -KILL "$pid" 2>/dev/null || true
			vfsg_wait_exit "$pid" 5 || vfsg_note "$name (pid $pid) survived SIGKILL"
		fi
	fi
	vfsg_stop_status=0
	wait "$pid" 2>/dev/null || vfsg_stop_status=$?
}

# vfsg_wait_socket SOCKET PID SECONDS: waits until SOCKET exists, as long as
# PID lives. Returns 0 (ready), 1 (PID exited) or 2 (timed out).
vfsg_wait_socket() {
	local sock=$1 pid=$2 tenths=$(($3 * 10))
	until [ -S "$sock" ]; do
		vfsg_alive "$pid" || return 1
		[ "$tenths" -gt 0 ] || return 2
		sleep 0.1
		tenths=$((tenths - 1))
	done
}

# A private directory for sockets, logs and the shared folder. Under /tmp by
# default: a socket path must stay below 108 bytes.
vfsg_make_run_dir() {
	mktemp -d "${VFS_GUEST_RUN_PARENT:-${TMPDIR:-/tmp}}/vfs-guest.XXXXXX"
}
