#!/usr/bin/env bash
# Boots a Linux guest under QEMU with a virtio-fs share served by a daemon,
# runs one check program in it, verifies the share on the host afterwards,
# and prints the lot as TAP.
#
# usage: run-guest.sh [--check NAME] [--guest-args A,B] [--daemon CMD]
#                     [--default-daemon CMD] [--build-dir DIR] [--timeout SECONDS]
#                     [--keep]
#
#   --check NAME     the guest program tests/guest/checks/NAME.{c,sh} (default:
#                    foundation); checks/NAME.host.sh, if present, runs on the
#                    host with "setup SHARED" before boot and "verify SHARED"
#                    after poweroff, and, if it defines a shell function
#                    during(), with "during SHARED" in the background while
#                    the guest runs (stopped at poweroff)
#   --guest-args A,B arguments for the guest program (vfs.args=A,B on the
#                    kernel command line); host scripts get them in
#                    $VFS_GUEST_ARGS, and the daemon's pid and log file in
#                    $VFS_GUEST_DAEMON_PID and $VFS_GUEST_DAEMON_LOG
#   --daemon CMD     the daemon's command (default: $VFS_DAEMON, else the
#                    --default-daemon, else <build>/daemon/virtiofsd). {socket}
#                    and {dir} in it are replaced; without them
#                    --socket-path=SOCKET and --shared-dir=DIR are appended.
#                    "qemu-virtiofsd" is QEMU's C virtiofsd with its options.
#   --build-dir DIR  meson build directory (default: $VFS_BUILD_DIR or ./build)
#   --timeout S      time the guest gets from boot to poweroff
#                    (default: $VFS_GUEST_TIMEOUT or 300)
#   --keep           keep the run folder (shared dir, logs) even on success;
#                    it is always kept on failure
#
# Steps: build the guest (prepare-guest.sh), create the shared folder and run
# the host setup, start the daemon and wait for its socket, boot QEMU with a
# time limit (serial console and results port captured to files), wait for
# poweroff, stop the daemon, run the host verification. Every process started
# here is stopped by its pid, SIGTERM then SIGKILL, also on failure or
# interruption.
#
# Output: TAP on stdout: the harness's own results, the guest's (renumbered,
# "guest:"), the host verification's ("host:"), the plan last. Exit status 0
# when all passed, 1 otherwise. Skips (no daemon binary, no QEMU, not root)
# print "1..0 # SKIP why" and exit with $VFS_GUEST_SKIP_STATUS (default 77;
# meson's TAP reader wants 0).
set -eu
set -o pipefail

# shellcheck source=tests/guest/guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"

check=foundation
guest_args=
daemon=
default_daemon=
timeout=${VFS_GUEST_TIMEOUT:-300}
keep=${VFS_GUEST_KEEP:-0}
while [ $# -gt 0 ]; do
	case $1 in
	--check) check=$2; shift 2 ;;
	--check=*) check=${1#*=}; shift ;;
	--guest-args) guest_args=$2; shift 2 ;;
	--guest-args=*) guest_args=${1#*=}; shift ;;
	--daemon) daemon=$2; shift 2 ;;
	--daemon=*) daemon=${1#*=}; shift ;;
	--default-daemon) default_daemon=$2; shift 2 ;;
	--default-daemon=*) default_daemon=${1#*=}; shift ;;
	--build-dir) VFS_BUILD_DIR=$2; shift 2 ;;
	--build-dir=*) VFS_BUILD_DIR=${1#*=}; shift ;;
	--timeout) timeout=$2; shift 2 ;;
	--timeout=*) timeout=${1#*=}; shift ;;
	--keep) keep=1; shift ;;
	-h | --help) sed -n '2,/^set -eu/{/^set/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) vfsg_die "unknown option: $1 (see --help)" ;;
	esac
done
vfsg_init_paths
export VFS_BUILD_DIR VFS_GUEST_OUT VFS_GUEST_KERNEL_CACHE
: "${daemon:=${VFS_DAEMON:-}}"
: "${daemon:=${default_daemon:-$VFS_BUILD_DIR/daemon/virtiofsd}}"
case $timeout in '' | *[!0-9]*) vfsg_die "--timeout wants whole seconds, not '$timeout'" ;; esac

skip() {
	printf '1..0 # SKIP %s\n' "$*"
	exit "${VFS_GUEST_SKIP_STATUS:-77}"
}

# --- what is needed before anything starts
vfsg_daemon_argv "$daemon" /SOCKET /SHARED
daemon_bin=${vfsg_daemon_cmd[0]}
if [ "${daemon_bin#*/}" = "$daemon_bin" ]; then
	daemon_bin=$(command -v "$daemon_bin" || echo "$daemon_bin")
fi
if [ ! -f "$daemon_bin" ] || [ ! -x "$daemon_bin" ]; then
	skip "no daemon binary at $daemon_bin (set VFS_DAEMON or --daemon)"
fi
command -v "$VFS_GUEST_QEMU" >/dev/null || skip "$VFS_GUEST_QEMU not found: install qemu-system-x86"
[ "$(id -u)" = 0 ] || skip "needs root: the daemon must serve chown and other users' files"
[ -e "$vfsg_dir/checks/$check.c" ] || [ -e "$vfsg_dir/checks/$check.sh" ] || [ -d "$vfsg_dir/checks/$check" ] ||
	vfsg_die "no check named $check in $vfsg_dir/checks"
host_script=$vfsg_dir/checks/$check.host.sh
[ -f "$host_script" ] || host_script=
host_during=0
[ -n "$host_script" ] && grep -q '^during()' "$host_script" && host_during=1
case $guest_args in *[[:space:]]*) vfsg_die "--guest-args takes no white space: '$guest_args'" ;; esac
export VFS_GUEST_ARGS=$guest_args

# --- TAP output
n=0
failed=0
skipped=0
emit() { # emit "ok"|"not ok" DESCRIPTION
	n=$((n + 1))
	printf '%s %d - %s\n' "$1" "$n" "$2"
	[ "$1" = ok ] || failed=$((failed + 1))
	case $2 in *'# SKIP'* | *'# skip'*) skipped=$((skipped + 1)) ;; esac
}
result() { # result CONDITION-STATUS DESCRIPTION: 0 is ok
	if [ "$1" = 0 ]; then emit ok "$2"; else emit "not ok" "$2"; fi
}
note() {
	printf '# %s\n' "$*"
}
dump() { # dump TITLE FILE LINES
	[ -s "$2" ] || return 0
	note "---- $1 (last $3 lines of $2) ----"
	tail -n "$3" "$2" | tr -d '\r' | sed 's/^/#   /'
}

# relay PREFIX FILE: re-emits the TAP lines of FILE with our numbering. Sets
# relay_plan (the plan's count, or empty), relay_results, relay_bailed and
# relay_status (from the guest's "exited with status N" line, or empty).
relay() {
	local prefix=$1 line re_result re_plan
	re_result='^(not ok|ok)([[:space:]]+[0-9]+)?([[:space:]]+-)?([[:space:]]+(.*))?$'
	re_plan='^1\.\.([0-9]+)'
	relay_plan=
	relay_results=0
	relay_bailed=0
	relay_status=
	[ -f "$2" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		if [[ $line =~ $re_result ]]; then
			relay_results=$((relay_results + 1))
			emit "${BASH_REMATCH[1]}" "$prefix${BASH_REMATCH[5]}"
		elif [[ $line =~ $re_plan ]]; then
			relay_plan=${BASH_REMATCH[1]}
		elif [[ $line == 'Bail out!'* ]]; then
			relay_bailed=1
			line=${line#Bail out!}
			emit "not ok" "${prefix}bailed out: ${line# }"
		elif [[ $line =~ ^'# vfs-guest: check '.*' exited with status '([0-9]+) ]]; then
			relay_status=${BASH_REMATCH[1]}
			note "$prefix${line#\# }"
		elif [[ $line == '#'* ]]; then
			printf '%s\n' "$line"
		elif [ -n "$line" ]; then
			note "$prefix$line"
		fi
	done <"$2"
}

# --- processes we own, stopped by cleanup whatever happens
qemu_pid=
daemon_pid=
helper_pid=
during_pid=
run=
cleanup() {
	local status=$?
	trap - EXIT INT TERM HUP
	[ -z "$qemu_pid" ] || vfsg_stop "$qemu_pid" qemu 5
	[ -z "$during_pid" ] || vfsg_stop "$during_pid" "host during" 5
	[ -z "$daemon_pid" ] || vfsg_stop "$daemon_pid" daemon 10
	[ -z "$helper_pid" ] || vfsg_stop "$helper_pid" helper 10
	if [ -n "$run" ] && [ -d "$run" ]; then
		if [ "$status" = 0 ] && [ "$keep" != 1 ]; then
			rm -rf "$run"
		else
			note "kept the run folder: $run"
		fi
	fi
	exit "$status"
}
trap cleanup EXIT
# An interrupted run still ends with a failed result and a plan.
interrupted() {
	emit "not ok" "harness: run interrupted by $1"
	printf '1..%d\n' "$n"
	exit "$2"
}
trap 'interrupted SIGINT 130' INT
trap 'interrupted SIGHUP 129' HUP
trap 'interrupted SIGTERM 143' TERM

# run_helper LOG SECONDS COMMAND...: runs a short-lived helper in the
# background (so a signal reaches cleanup at once) with a time limit.
run_helper() {
	local log=$1 limit=$2 status=0
	shift 2
	"$@" >"$log" 2>&1 </dev/null &
	helper_pid=$!
	if ! vfsg_wait_exit "$helper_pid" "$limit"; then
		note "$1 still running after $limit s: stopping it"
	fi
	vfsg_stop "$helper_pid" "$1" 5
	status=$vfsg_stop_status
	helper_pid=
	return "$status"
}

run=$(vfsg_make_run_dir)
shared=$run/shared
sock=$run/vhost-user-fs.sock
mkdir "$shared"
note "check '$check'; run folder $run"

# --- guest image
if run_helper "$run/prepare.log" 900 "$vfsg_dir/prepare-guest.sh"; then
	emit ok "harness: guest kernel and initramfs ready ($(sed -n 's/^prepare-guest: kernel: \([^ ]*\) .*/\1/p' "$run/prepare.log"))"
else
	emit "not ok" "harness: guest kernel and initramfs ready"
	dump "prepare-guest.sh" "$run/prepare.log" 40
	printf '1..%d\n' "$n"
	exit 1
fi

# --- host setup
if [ -n "$host_script" ]; then
	if run_helper "$run/host-setup.log" 120 "$host_script" setup "$shared"; then
		emit ok "host: wrote the files the guest will check (${host_script##*/} setup)"
	else
		emit "not ok" "host: wrote the files the guest will check (${host_script##*/} setup)"
		dump "host setup" "$run/host-setup.log" 20
	fi
fi

# --- daemon
vfsg_daemon_argv "$daemon" "$sock" "$shared"
note "daemon: $(vfsg_quote_cmd "${vfsg_daemon_cmd[@]}")"
"${vfsg_daemon_cmd[@]}" >"$run/daemon.log" 2>&1 </dev/null &
daemon_pid=$!
socket_status=0
vfsg_wait_socket "$sock" "$daemon_pid" 15 || socket_status=$?
case $socket_status in
0) emit ok "harness: daemon started and listening on its socket" ;;
1) emit "not ok" "harness: daemon started and listening on its socket (it exited)" ;;
*) emit "not ok" "harness: daemon started and listening on its socket (none after 15 s)" ;;
esac
if [ "$socket_status" != 0 ]; then
	dump daemon "$run/daemon.log" 30
	printf '1..%d\n' "$n"
	exit 1
fi

export VFS_GUEST_DAEMON_PID=$daemon_pid VFS_GUEST_DAEMON_LOG=$run/daemon.log

# --- guest
vfsg_qemu_argv "$sock" "$vfsg_initramfs" \
	"$(vfsg_kernel_cmdline "$check" ${guest_args:+"vfs.args=$guest_args"})" \
	"file,path=$(vfsg_qemu_escape "$run/console.log")" \
	"file,path=$(vfsg_qemu_escape "$run/results.log")"
note "qemu: $(vfsg_quote_cmd "${vfsg_qemu_cmd[@]}")"
start=$SECONDS
"${vfsg_qemu_cmd[@]}" >"$run/qemu.log" 2>&1 </dev/null &
qemu_pid=$!
if [ "$host_during" = 1 ]; then
	"$host_script" during "$shared" >"$run/host-during.log" 2>&1 </dev/null &
	during_pid=$!
fi
guest_end=timeout
daemon_died_at=
while vfsg_alive "$qemu_pid"; do
	if [ $((SECONDS - start)) -ge "$timeout" ]; then
		break
	fi
	# A daemon that died leaves the guest waiting forever on its requests:
	# give the guest a few seconds, then stop it.
	if [ -z "$daemon_died_at" ] && ! vfsg_alive "$daemon_pid"; then
		daemon_died_at=$SECONDS
		note "the daemon exited while the guest was running"
	fi
	if [ -n "$daemon_died_at" ] && [ $((SECONDS - daemon_died_at)) -ge 10 ]; then
		guest_end='daemon-died'
		break
	fi
	sleep 0.2
done
vfsg_alive "$qemu_pid" || guest_end=exited
vfsg_stop "$qemu_pid" qemu 5
qemu_status=$vfsg_stop_status
qemu_pid=
if [ -n "$during_pid" ]; then
	vfsg_stop "$during_pid" "host during" 5
	during_pid=
fi
elapsed=$((SECONDS - start))
case $guest_end in
exited)
	result "$qemu_status" "harness: guest powered off by itself after ${elapsed} s (QEMU exit status $qemu_status)"
	;;
timeout)
	emit "not ok" "harness: guest powered off by itself within the ${timeout} s limit (stopped it)"
	;;
daemon-died)
	emit "not ok" "harness: guest powered off by itself (stopped it ${elapsed} s in, 10 s after the daemon exited)"
	;;
esac

# --- daemon's end: it should leave by itself once QEMU disconnected, or
# at least on SIGTERM, and never by a crash.
vfsg_wait_exit "$daemon_pid" 5 || true
vfsg_stop "$daemon_pid" daemon 10
daemon_pid=
case $vfsg_stop_how:$vfsg_stop_status in
exited:0) emit ok "harness: daemon exited with status 0 after the guest disconnected" ;;
sigterm:0 | sigterm:143) emit ok "harness: daemon stopped cleanly on SIGTERM" ;;
exited:*)
	if [ "$vfsg_stop_status" -gt 128 ]; then
		emit "not ok" "harness: daemon exited cleanly (killed by signal $((vfsg_stop_status - 128)): $(kill -l $((vfsg_stop_status - 128)) 2>/dev/null))"
	else
		emit "not ok" "harness: daemon exited cleanly (exit status $vfsg_stop_status)"
	fi
	;;
sigkill:*) emit "not ok" "harness: daemon stopped on SIGTERM (needed SIGKILL)" ;;
*) emit "not ok" "harness: daemon stopped cleanly on SIGTERM (wait status $vfsg_stop_status)" ;;
esac

# --- the guest's results
relay "guest: " "$run/results.log"
if [ -n "$relay_status" ] && [ -n "$relay_plan" ] && [ "$relay_plan" = "$relay_results" ] && [ "$relay_bailed" = 0 ]; then
	emit ok "harness: guest check '$check' ran to its end ($relay_results results)"
else
	emit "not ok" "harness: guest check '$check' ran to its end (plan ${relay_plan:-missing}, $relay_results results${relay_status:+, exit status $relay_status})"
fi

# --- the host's verification
if [ -n "$host_script" ]; then
	note "host: verifying the shared folder after poweroff (${host_script##*/} verify)"
	if ! run_helper "$run/host-verify.log" 300 "$host_script" verify "$shared"; then
		emit "not ok" "host: ${host_script##*/} verify ran to its end"
	fi
	relay "host: " "$run/host-verify.log"
fi
if [ "$host_during" = 1 ]; then
	relay "host (during): " "$run/host-during.log"
fi

if [ "$failed" != 0 ]; then
	dump "guest serial console" "$run/console.log" 60
	dump "daemon output" "$run/daemon.log" 40
	dump "qemu output" "$run/qemu.log" 20
fi
note "$((n - failed - skipped)) passed, $failed failed, $skipped skipped; guest ran ${elapsed} s"
printf '1..%d\n' "$n"
[ "$failed" = 0 ]
