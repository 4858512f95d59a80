#!/bin/bash
# Installs what building, testing and the demo need on Debian 12, and nothing
# when it is all there already. Run as root (or with sudo available).
set -euo pipefail

packages=(
    # build
    gcc libc6-dev meson ninja-build pkg-config linux-libc-dev
    libfuse3-dev libglib2.0-dev libcap-ng-dev libseccomp-dev liburing-dev
    # guest tests and demo (QEMU, a busybox initramfs; QEMU's own virtiofsd for comparison)
    qemu-system-x86 qemu-system-common busybox-static cpio gzip
    # host-side checks, benchmark plots
    attr acl fuse3 gnuplot-nox fio python3
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
