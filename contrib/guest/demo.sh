#!/bin/sh
# The guest's half of contrib/demo.sh (busybox sh, run by the guest's /init as
# vfs.check=demo): mounts the share and shows it at work, saying each command.
tag=${VFS_GUEST_TAG:-myfs}
mnt=${VFS_GUEST_MNT:-/mnt}

say() {
	printf '\nguest# %s\n' "$*"
}

run() {
	say "$*"
	"$@"
}

echo
echo "=== inside the guest: $(uname -sr), virtio-fs tag '$tag' ==="
run mount -t virtiofs "$tag" "$mnt" || exit 1
say "grep virtiofs /proc/mounts"
grep virtiofs /proc/mounts
run ls -la "$mnt"
run cat "$mnt/hello-from-host.txt"
say "echo \"written in the guest at \$(date)\" > $mnt/from-guest.txt"
echo "written in the guest at $(date -u '+%Y-%m-%d %H:%M:%S UTC')" >"$mnt/from-guest.txt"
run cat "$mnt/from-guest.txt"
run ls -l "$mnt/from-guest.txt"
run df -h "$mnt"
echo
echo "=== end of the guest's demo ==="
