#!/bin/sh
# The guest's half of contrib/bench/guest-fio.sh (busybox sh, run by the
# guest's /init as vfs.check=fio): mounts the share, runs the fio job file the
# host left in fio/jobs.fio, and leaves fio's JSON report next to it.
export PATH=/bin:/usr/bin
tag=${VFS_GUEST_TAG:-myfs}
mnt=${VFS_GUEST_MNT:-/mnt}

mount -t virtiofs "$tag" "$mnt" || { echo "fio: mount failed"; exit 1; }
cd "$mnt/fio" || exit 1
echo "fio: $(fio --version) on $(uname -r), $(grep -c ^processor /proc/cpuinfo) vCPU"
fio --output-format=json --output=result.json jobs.fio >fio.log 2>&1
status=$?
echo "fio: exited $status"
cd /
umount "$mnt"
exit $status
