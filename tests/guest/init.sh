#!/bin/sh
# /init of the test guest (busybox sh): loads the virtio-fs modules, runs the
# program /checks/NAME picked by the kernel command line, copies its output to
# the results port, and powers off.
#
# Kernel command line words it reads:
#   vfs.check=NAME     program to run (default: foundation); "none" runs nothing
#   vfs.args=A,B       arguments for it, comma-separated
#   vfs.tag=TAG        virtio-fs tag (default: myfs)       -> $VFS_GUEST_TAG
#   vfs.mnt=DIR        mount point (default: /mnt)         -> $VFS_GUEST_MNT
#   vfs.results=TTY    where the program's output is copied (default: ttyS1;
#                      the console, ttyS0, always gets it too)
#   vfs.mount=1        mount the share before running the program (a check
#                      normally mounts it itself, to test the mount)
#   vfs.shell=1        afterwards, a shell on the console; poweroff when it exits
#
# After it, "# vfs-guest: check NAME exited with status N" goes to both ports:
# the host runner knows from it that the program ran to its end.

/bin/busybox mount -t devtmpfs devtmpfs /dev
# The kernel found no /dev/console when it started us: open it now.
exec 0<>/dev/console 1>&0 2>&0
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp

check=foundation
args=
tag=myfs
mnt=/mnt
results=ttyS1
premount=0
shell=0
set -f
# shellcheck disable=SC2013 # the command line is a list of words
for word in $(cat /proc/cmdline); do
	case $word in
	vfs.check=*) check=${word#*=} ;;
	vfs.args=*) args=$(echo "${word#*=}" | tr , ' ') ;;
	vfs.tag=*) tag=${word#*=} ;;
	vfs.mnt=*) mnt=${word#*=} ;;
	vfs.results=*) results=${word#*=} ;;
	vfs.mount=*) premount=${word#*=} ;;
	vfs.shell=*) shell=${word#*=} ;;
	esac
done
set +f
export VFS_GUEST_TAG="$tag" VFS_GUEST_MNT="$mnt" HOME=/root
mkdir -p "$mnt"
hostname vfs-guest

while read -r module; do
	insmod "/lib/modules/$module.ko" || echo "init: insmod $module failed"
done </lib/modules/load-order

if [ "$premount" = 1 ]; then
	mount -t virtiofs "$tag" "$mnt" && echo "init: mounted virtio-fs $tag on $mnt"
fi

out=/dev/$results
if [ -c "$out" ]; then
	# Raw: no \r added to each line, nothing echoed back.
	stty -F "$out" raw -echo 2>/dev/null
else
	echo "init: no $out: results go to the console only"
	out=/dev/null
fi

case $check in
none) ;;
*)
	if [ -x "/checks/$check" ]; then
		echo "init: running /checks/$check $args"
		{
			# shellcheck disable=SC2086 # args are split on purpose
			"/checks/$check" $args 2>&1
			echo "# vfs-guest: check $check exited with status $?"
		} | tee "$out"
	else
		echo "Bail out! no program /checks/$check in the guest; there are:" /checks/* |
			tee "$out"
	fi
	;;
esac

if [ "$shell" = 1 ]; then
	echo "init: starting a shell; leave it (exit or Ctrl-D) to power off"
	export PS1='guest:\w# '
	setsid cttyhack sh
fi

sync
umount "$mnt" 2>/dev/null
poweroff -f
