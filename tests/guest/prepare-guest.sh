#!/usr/bin/env bash
# Prepares what the test guest boots: a kernel and an initramfs.
#
# usage: prepare-guest.sh [--build-dir DIR] [--initramfs FILE] [--add FILE]...
#                         [--add-binary PATH]... [--refresh-kernel]
#
# Kernel: Debian's linux-image-amd64, fetched with `apt-get download` and
# unpacked into $VFS_GUEST_KERNEL_CACHE (vmlinuz, the virtio-fs modules, a
# version file). A complete cache is reused without asking apt anything;
# --refresh-kernel fetches the current one again. VFS_GUEST_KERNEL (and
# VFS_GUEST_MODULES_DIR) use a kernel of your own instead.
#
# Initramfs (cpio newc, gzip): busybox-static, the modules and their load
# order, /init (init.sh), and under /checks one program per entry of checks/:
#   NAME.c       compiled with gcc -static, with lib/*.c  -> /checks/NAME
#   NAME/        all its .c files, with lib/*.c            -> /checks/NAME
#   NAME.sh      a busybox sh script                       -> /checks/NAME
#   NAME.host.sh the host side of NAME: not in the guest (run-guest.sh runs it)
# --add FILE adds one more program by the same rules (used by contrib/demo.sh).
# --add-binary PATH copies a host program (e.g. /usr/bin/fio) into the same
# path in the guest with the shared libraries ldd lists for it.
# VFS_GUEST_CC is the compiler (default gcc), VFS_GUEST_BUSYBOX a static
# busybox (default: the one on PATH).
# The kernel command line word vfs.check=NAME picks the program to run.
#
# Written to $VFS_GUEST_OUT: programs/ (the compiled checks) and
# initramfs.cpio.gz, or the --initramfs FILE. Progress goes to stderr.
set -eu
set -o pipefail

# shellcheck source=tests/guest/guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"

initramfs=
refresh=0
extras=()
binaries=()
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) VFS_BUILD_DIR=$2; shift 2 ;;
	--build-dir=*) VFS_BUILD_DIR=${1#*=}; shift ;;
	--initramfs) initramfs=$2; shift 2 ;;
	--initramfs=*) initramfs=${1#*=}; shift ;;
	--add) extras+=("$2"); shift 2 ;;
	--add=*) extras+=("${1#*=}"); shift ;;
	--add-binary) binaries+=("$2"); shift 2 ;;
	--add-binary=*) binaries+=("${1#*=}"); shift ;;
	--refresh-kernel) refresh=1; shift ;;
	-h | --help) sed -n '2,/^set -eu/{/^set/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) vfsg_die "unknown option: $1 (see --help)" ;;
	esac
done
vfsg_init_paths
: "${initramfs:=$vfsg_initramfs}"

say() {
	printf 'prepare-guest: %s\n' "$*" >&2
}

cache_complete() {
	local m
	[ -s "$VFS_GUEST_KERNEL_CACHE/vmlinuz" ] && [ -s "$VFS_GUEST_KERNEL_CACHE/version" ] || return 1
	for m in "${vfsg_modules[@]}"; do
		[ -s "$VFS_GUEST_KERNEL_CACHE/modules/$m.ko" ] || return 1
	done
}

# apt-get download PACKAGE into the current folder; refreshes apt's lists
# once (as root) if they do not know the package yet.
apt_download() {
	local -a apt=(apt-get -q)
	# As root apt drops to the _apt user, who cannot write our temporary
	# folder; downloading as root is what would happen anyway, minus a warning.
	[ "$(id -u)" = 0 ] && apt+=(-o APT::Sandbox::User=root)
	if "${apt[@]}" download "$1"; then
		return 0
	fi
	[ "$(id -u)" = 0 ] || return 1
	say "apt-get download $1 failed; refreshing the package lists once"
	"${apt[@]}" update && "${apt[@]}" download "$1"
}

fetch_kernel() {
	local parent tmp meta dep pkg ver kver image m ko

	if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
		vfsg_die "apt-get and dpkg-deb are needed to fetch the guest kernel (or set VFS_GUEST_KERNEL)"
	fi
	parent=$(dirname "$VFS_GUEST_KERNEL_CACHE")
	mkdir -p "$parent"
	tmp=$(mktemp -d "$parent/.kernel-fetch.XXXXXX")
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "rm -rf '$tmp'" EXIT
	say "fetching Debian's kernel into $VFS_GUEST_KERNEL_CACHE"
	(cd "$tmp" && apt_download linux-image-amd64) >"$tmp/apt.log" 2>&1 ||
		{ cat "$tmp/apt.log" >&2; vfsg_die "cannot download linux-image-amd64"; }
	meta=$(echo "$tmp"/linux-image-amd64_*.deb)
	# The metapackage depends on the versioned image, e.g.
	# "linux-image-6.1.0-56-amd64 (= 6.1.192-2)".
	dep=$(dpkg-deb -f "$meta" Depends)
	pkg=${dep%%[ ,|]*}
	ver=
	case $dep in "$pkg (= "*) ver=${dep#"$pkg (= "}; ver=${ver%%)*} ;; esac
	case $pkg in linux-image-*) ;; *) vfsg_die "unexpected dependency of linux-image-amd64: $dep" ;; esac
	kver=${pkg#linux-image-}
	say "linux-image-amd64 depends on $pkg${ver:+ $ver}"
	(cd "$tmp" && apt_download "$pkg${ver:+=$ver}") >>"$tmp/apt.log" 2>&1 ||
		{ cat "$tmp/apt.log" >&2; vfsg_die "cannot download $pkg"; }
	image=$(echo "$tmp/${pkg}_"*.deb)
	dpkg-deb -x "$image" "$tmp/root"
	mkdir -p "$tmp/cache/modules"
	cp "$tmp/root/boot/vmlinuz-$kver" "$tmp/cache/vmlinuz"
	for m in "${vfsg_modules[@]}"; do
		ko=$(find "$tmp/root/lib/modules/$kver" -name "$m.ko" -o -name "$m.ko.xz" | head -n 1)
		[ -n "$ko" ] || vfsg_die "$pkg has no module $m"
		case $ko in
		*.xz) xz -dc "$ko" >"$tmp/cache/modules/$m.ko" ;;
		*) cp "$ko" "$tmp/cache/modules/$m.ko" ;;
		esac
	done
	printf '%s %s\n' "$pkg" "$ver" >"$tmp/cache/version"
	# Another run may have filled the cache meanwhile; a complete one stays.
	if [ "$refresh" = 1 ] || ! cache_complete; then
		rm -rf "$VFS_GUEST_KERNEL_CACHE"
		mv "$tmp/cache" "$VFS_GUEST_KERNEL_CACHE"
	fi
	rm -rf "$tmp"
	trap - EXIT
}

# build_program SRC: compiles or copies one program into $VFS_GUEST_OUT/programs
# (unless it is up to date) and prints its name; prints nothing for a host script.
build_program() {
	local src=${1%/} name out cc
	local -a sources

	case $src in
	*.host.sh) return 0 ;;
	*.sh) name=${src##*/}; name=${name%.sh} ;;
	*.c) name=${src##*/}; name=${name%.c}; sources=("$src") ;;
	*)
		[ -d "$src" ] || vfsg_die "not a .c, .sh or folder: $src"
		name=${src##*/}
		sources=("$src"/*.c)
		[ -e "${sources[0]}" ] || vfsg_die "no .c files in $src"
		;;
	esac
	out=$VFS_GUEST_OUT/programs/$name
	mkdir -p "$VFS_GUEST_OUT/programs"
	# Written under a name of this process, then renamed: two runs may
	# prepare at once.
	if [ "${src%.sh}" != "$src" ]; then
		cp "$src" "$out.tmp.$$"
		chmod 755 "$out.tmp.$$"
		mv "$out.tmp.$$" "$out"
	elif [ ! -x "$out" ] || [ -n "$(find "$src" "$vfsg_dir/lib" "$0" -newer "$out" -print -quit)" ]; then
		cc=${VFS_GUEST_CC:-gcc}
		say "compiling $name"
		"$cc" -static -O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 \
			-I"$vfsg_dir/lib" -o "$out.tmp.$$" "${sources[@]}" "$vfsg_dir"/lib/*.c
		mv "$out.tmp.$$" "$out"
	fi
	printf '%s\n' "$name"
}

find_busybox() {
	local bb=${VFS_GUEST_BUSYBOX:-}
	if [ -z "$bb" ]; then
		bb=$(command -v busybox || true)
		[ -n "$bb" ] || vfsg_die "busybox not found: install busybox-static"
	fi
	# A dynamic busybox would find no libc in the initramfs.
	if ldd "$bb" >/dev/null 2>&1; then
		vfsg_die "$bb is dynamically linked: install busybox-static (or set VFS_GUEST_BUSYBOX)"
	fi
	printf '%s\n' "$bb"
}

# --- kernel
if [ -n "${VFS_GUEST_KERNEL:-}" ]; then
	[ -r "$vfsg_kernel" ] || vfsg_die "VFS_GUEST_KERNEL=$vfsg_kernel is not readable"
	say "kernel: $vfsg_kernel (from VFS_GUEST_KERNEL)"
else
	if [ "$refresh" = 1 ] || ! cache_complete; then
		fetch_kernel
	fi
	say "kernel: $(cat "$VFS_GUEST_KERNEL_CACHE/version") from $VFS_GUEST_KERNEL_CACHE"
fi

# --- programs
programs=()
for src in "$vfsg_dir"/checks/*; do
	name=$(build_program "$src")
	[ -n "$name" ] && programs+=("$name")
done
for src in ${extras[@]+"${extras[@]}"}; do
	name=$(build_program "$src")
	[ -n "$name" ] && programs+=("$name")
done

# --- initramfs
busybox=$(find_busybox)
mkdir -p "$(dirname "$initramfs")"
stage=$(mktemp -d "$(dirname "$initramfs")/.initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,root,checks,lib/modules}
mkdir -p "$stage/${VFS_GUEST_MNT#/}"
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$vfsg_dir/init.sh" "$stage/init"
chmod 755 "$stage/init"
: >"$stage/lib/modules/load-order"
if [ -n "$vfsg_modules_dir" ]; then
	for m in "${vfsg_modules[@]}"; do
		if [ -f "$vfsg_modules_dir/$m.ko" ]; then
			cp "$vfsg_modules_dir/$m.ko" "$stage/lib/modules/"
			echo "$m" >>"$stage/lib/modules/load-order"
		fi
	done
fi
for name in "${programs[@]}"; do
	cp "$VFS_GUEST_OUT/programs/$name" "$stage/checks/$name"
done
# Host programs with their libraries (and the dynamic loader) at the same paths.
for bin in ${binaries[@]+"${binaries[@]}"}; do
	[ -x "$bin" ] || vfsg_die "--add-binary $bin: not an executable"
	for f in "$bin" $(ldd "$bin" | awk '/=>/ { print $3 } /^[[:space:]]*\// { print $1 }'); do
		[ -e "$f" ] || continue
		mkdir -p "$stage$(dirname "$f")"
		cp -L "$f" "$stage$f"
	done
done
(cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null --create --format=newc --owner=0:0 --quiet) | gzip -1 >"$stage.cpio.gz"
mv "$stage.cpio.gz" "$initramfs"
say "initramfs: $initramfs ($(du -k "$initramfs" | cut -f1) KiB; checks: ${programs[*]})"
