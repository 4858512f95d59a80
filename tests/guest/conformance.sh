#!/usr/bin/env bash
# POSIX conformance through the daemon, compared with the host.
#
# usage: conformance.sh [--build-dir DIR] [--modes "auto never metadata always"]
#                       [--out DIR] [--keep] [ID-PREFIX...]
#
# Runs the posix suite (tests/guest/checks/posix, one static binary):
#   1. on the host, as root, in a fresh directory under $VFS_CONFORMANCE_HOST_PARENT
#      (default: where run-guest.sh puts the shared folder, so both runs sit
#      on the same kind of file system) -- the reference;
#   2. in the test guest on the virtio-fs mount, once per cache mode, the
#      daemon started as
#          DAEMON --socket-path={socket} --shared-dir={dir} --xattr --cache=MODE OPTS
#      (run-guest.sh boots it; one guest at a time);
# and compares the results case by case.
#
# Output, TAP on stdout: a "harness:" line per run, then one line per case:
#   ok       the case passes on the host and in every required mode
#   not ok   it passes on the host but fails (or skips, or is missing) in a
#            required mode -- the daemon does not give what the host gives
#   ok # SKIP  it does not pass on the host either: no reference
# Failures in the other modes are reported as "#" lines under the case and
# counted in the summary table at the end. Per-run TAP, a TSV of all
# results (summary.tsv), a Markdown report of the differences (summary.md)
# and the daemon's, console's and QEMU's logs of each boot are written to
# the --out folder. --keep keeps run-guest.sh's run folders (shared folder
# included) as well.
#
# Environment:
#   VFS_CONFORMANCE_DAEMON    daemon binary (default: <build>/daemon/virtiofsd);
#                             or, when it contains {mode}, the whole daemon
#                             command with {socket}, {dir} and {mode}, e.g. for
#                             QEMU's C virtiofsd (its modes: none auto always):
#                             '/usr/lib/qemu/virtiofsd --socket-path={socket}
#                             -o source={dir} -o cache={mode} -o xattr
#                             --thread-pool-size=0'
#   VFS_CONFORMANCE_OPTS      extra daemon options for every mode (default
#                             "--posix-acl"; host-wide locks stay off: the
#                             guest's own locking is exact between processes
#                             of one guest)
#   VFS_CONFORMANCE_KNOWN     known differences, reported as TAP TODO
#                             (default: conformance-known.tsv beside this script)
#   VFS_CONFORMANCE_MODES     cache modes to run (default: auto never metadata always)
#   VFS_CONFORMANCE_REQUIRED  modes that must match the host (default: auto never)
#   VFS_CONFORMANCE_HOST_PARENT  where the host reference runs
#   VFS_CONFORMANCE_OTHER_FS  a directory on another file system for the
#                             host's EXDEV cases (default: /dev/shm)
#   VFS_CONFORMANCE_OUT       like --out (default: $VFS_GUEST_OUT/conformance)
#   VFS_GUEST_SKIP_STATUS     exit status of a skip (default 77; meson sets 0)
# and those of run-guest.sh (VFS_BUILD_DIR, VFS_GUEST_*).
set -eu
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/guest/guest-lib.sh
. "$here/guest-lib.sh"

modes=${VFS_CONFORMANCE_MODES:-auto never metadata always}
required=${VFS_CONFORMANCE_REQUIRED:-auto never}
out=${VFS_CONFORMANCE_OUT:-}
keep=0
prefixes=()
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) VFS_BUILD_DIR=$2; shift 2 ;;
	--build-dir=*) VFS_BUILD_DIR=${1#*=}; shift ;;
	--modes) modes=$2; shift 2 ;;
	--modes=*) modes=${1#*=}; shift ;;
	--out) out=$2; shift 2 ;;
	--out=*) out=${1#*=}; shift ;;
	--keep) keep=1; shift ;;
	-h | --help) sed -n '2,/^set -eu/{/^set/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) vfsg_die "unknown option: $1 (see --help)" ;;
	*) prefixes+=("$1"); shift ;;
	esac
done
vfsg_init_paths
export VFS_BUILD_DIR VFS_GUEST_OUT VFS_GUEST_KERNEL_CACHE
: "${out:=$VFS_GUEST_OUT/conformance}"
daemon=${VFS_CONFORMANCE_DAEMON:-$VFS_BUILD_DIR/daemon/virtiofsd}
opts=${VFS_CONFORMANCE_OPTS---posix-acl}
known=${VFS_CONFORMANCE_KNOWN:-$here/conformance-known.tsv}
other_fs=${VFS_CONFORMANCE_OTHER_FS:-/dev/shm}
host_parent=${VFS_CONFORMANCE_HOST_PARENT:-${VFS_GUEST_RUN_PARENT:-${TMPDIR:-/tmp}}}
suite=$VFS_GUEST_OUT/programs/posix

skip() {
	printf '1..0 # SKIP %s\n' "$*"
	exit "${VFS_GUEST_SKIP_STATUS:-77}"
}

[ "$(id -u)" = 0 ] || skip "needs root: the suite switches users and the daemon serves chown"
daemon_bin=${daemon%% *}
[ -x "$daemon_bin" ] || skip "no daemon binary at $daemon_bin (set VFS_CONFORMANCE_DAEMON)"
command -v "$VFS_GUEST_QEMU" >/dev/null || skip "$VFS_GUEST_QEMU not found: install qemu-system-x86"

n=0
failed=0
emit() { # emit "ok"|"not ok" DESCRIPTION
	n=$((n + 1))
	printf '%s %d - %s\n' "$1" "$n" "$2"
	[ "$1" = ok ] || failed=$((failed + 1))
}

mkdir -p "$out"
rm -f "$out"/*.tap "$out"/*.tsv "$out"/*.log "$out"/summary.md

# --- the suite, built by the same script that builds the guest
if ! "$here/prepare-guest.sh" >"$out/prepare.log" 2>&1; then
	emit "not ok" "harness: guest kernel, initramfs and the posix suite built"
	sed 's/^/#   /' "$out/prepare.log" | tail -n 30
	printf '1..%d\n' "$n"
	exit 1
fi
# The cases to compare: all, or those whose id starts with a given prefix.
"$suite" --list | awk -F '\t' -v list="${prefixes[*]+${prefixes[*]}}" '
	BEGIN { n = split(list, p, " ") }
	{ for (i = 1; i <= n; i++) if (index($1, p[i]) == 1) { print; next } }
	n == 0' >"$out/cases.tsv"
printf '# %s cases; daemon %s; modes: %s (required: %s)%s\n' "$(wc -l <"$out/cases.tsv")" \
	"$daemon" "$modes" "$required" "${opts:+; extra options: $opts}"

# --- the host: the reference
run_host() {
	local dir other=()
	dir=$(mktemp -d "$host_parent/vfs-conformance.XXXXXX")
	# The suite's users (uid 1000-1004) must reach its work directory.
	chmod 755 "$dir"
	[ -d "$other_fs" ] && other=(--other-fs "$other_fs")
	"$suite" --dir "$dir" "${other[@]}" ${prefixes[@]+"${prefixes[@]}"} >"$out/host.tap" 2>&1 || true
	rm -rf "$dir"
}
start=$SECONDS
run_host
if grep -q '^1\.\.[0-9]' "$out/host.tap"; then
	emit ok "harness: the suite ran on the host ($((SECONDS - start)) s)"
else
	emit "not ok" "harness: the suite ran on the host"
	tail -n 20 "$out/host.tap" | sed 's/^/#   /'
fi

# --- the guest, once per cache mode
args="--mount,$VFS_GUEST_TAG,--dir,$VFS_GUEST_MNT,--other-fs,/tmp"
for p in ${prefixes[@]+"${prefixes[@]}"}; do
	args+=",$p"
done
for mode in $modes; do
	start=$SECONDS
	case $daemon in
	*'{mode}'*) cmd=${daemon//'{mode}'/$mode} ;;
	*) cmd="$daemon --socket-path={socket} --shared-dir={dir} --xattr --cache=$mode $opts" ;;
	esac
	VFS_GUEST_APPEND="${VFS_GUEST_APPEND:+$VFS_GUEST_APPEND }vfs.args=$args" \
		VFS_GUEST_KEEP=$keep \
		"$here/run-guest.sh" --check posix \
		--daemon "$cmd" \
		>"$out/$mode.tap" 2>&1 || true
	if grep -q "^ok .* - harness: guest check 'posix' ran to its end" "$out/$mode.tap"; then
		emit ok "harness: the suite ran in the guest with --cache=$mode ($((SECONDS - start)) s)"
	else
		emit "not ok" "harness: the suite ran in the guest with --cache=$mode"
		grep -E '^not ok .* - harness:|^# kept' "$out/$mode.tap" | sed 's/^/#   /' || true
	fi
	# run-guest.sh keeps its run folder when anything failed, which differing
	# cases always do: keep the logs with the results, not the folder.
	kept=$(sed -n 's/^# kept the run folder: //p' "$out/$mode.tap")
	if [ "$keep" = 0 ] && [ -n "$kept" ] && [ -d "$kept" ]; then
		for log in daemon console qemu; do
			[ -f "$kept/$log.log" ] && cp "$kept/$log.log" "$out/$mode.$log.log"
		done
		case ${kept##*/} in vfs-guest.*) rm -rf "$kept" ;; esac
	fi
	# A daemon that crashed or hung is a failure of its own, whatever the cases say.
	if grep -q '^not ok .* - harness: daemon' "$out/$mode.tap"; then
		emit "not ok" "harness: the daemon ended cleanly with --cache=$mode"
		grep '^not ok .* - harness: daemon' "$out/$mode.tap" | sed 's/^/#   /'
	fi
done

# --- per case: status and the first notes, as TSV (id, status, note)
parse() { # parse TAPFILE PREFIX
	awk -v prefix="$2" '
	function clean(s) { gsub(/\t/, " ", s); return s }
	/^#/ {
		d = substr($0, 3)
		# Notes about the run, not about a case.
		if (d ~ /^(kernel |work directory |fs\.|mount|largest |opened |[0-9]+ cases failed|kept |vfs-guest|guest: |check |daemon: |qemu: |[0-9]+ passed)/)
			next
		if (nd < 3)
			diag[nd++] = clean(d)
		next
	}
	/^(ok|not ok)[ \t]/ {
		line = $0
		st = (line ~ /^ok/) ? "pass" : "fail"
		sub(/^(not ok|ok)[ \t]+[0-9]*[ \t]*-?[ \t]*/, "", line)
		if (prefix != "") {
			if (index(line, prefix) != 1) { nd = 0; next }
			line = substr(line, length(prefix) + 1)
		}
		note = ""
		if (match(line, / # SKIP /)) {
			note = substr(line, RSTART + 8)
			line = substr(line, 1, RSTART - 1)
			if (st == "pass")
				st = "skip"
		}
		id = line
		sub(/:.*/, "", id)
		if (st == "fail")
			for (i = 0; i < nd; i++)
				note = note (i ? " | " : "") diag[i]
		printf "%s\t%s\t%s\n", id, st, clean(note)
		nd = 0
	}' "$1"
}
parse "$out/host.tap" "" >"$out/host.tsv"
for mode in $modes; do
	parse "$out/$mode.tap" "guest: " >"$out/$mode.tsv"
done

# --- the comparison: TAP lines, summary.tsv, summary.md
grep -v '^#' "$known" 2>/dev/null | grep . >"$out/known.tsv" || true
files=("$out/known.tsv" "$out/cases.tsv" "$out/host.tsv")
for mode in $modes; do
	files+=("$out/$mode.tsv")
done
result=$(awk -v modes="$modes" -v required="$required" -v out="$out" -v start="$n" '
	BEGIN {
		FS = "\t"
		nm = split(modes, mode, " ")
		nr = split(required, req, " ")
		for (i = 1; i <= nr; i++) isreq[req[i]] = 1
	}
	FILENAME == ARGV[1] { kmodes[$1] = $2; kwhy[$1] = $3; next }
	FILENAME == ARGV[2] { order[++ncase] = $1; desc[$1] = $2; next }
	FILENAME == ARGV[3] { st["host", $1] = $2; note["host", $1] = $3; next }
	{
		for (i = 1; i <= nm; i++)
			if (FILENAME == ARGV[i + 3]) { st[mode[i], $1] = $2; note[mode[i], $1] = $3 }
	}
	# Is every required mode where the case failed a known difference?
	function known(id, failed,   n, parts, i) {
		if (!(id in kmodes)) return 0
		if (kmodes[id] == "all") return 1
		n = split(failed, parts, ",")
		for (i = 1; i <= n; i++)
			if (("," kmodes[id] ",") !~ ("," parts[i] ",")) return 0
		return 1
	}
	function status(m, id) { return ((m, id) in st) ? st[m, id] : "missing" }
	END {
		t = start
		tsv = out "/summary.tsv"
		md = out "/summary.md"
		hdr = "id\thost"
		for (i = 1; i <= nm; i++) hdr = hdr "\t" mode[i]
		print hdr > tsv
		print "| case | host | " modes_md() " | first note where it differs |" > md
		print "|---|---|" dashes() "---|" > md
		for (c = 1; c <= ncase; c++) {
			id = order[c]
			h = status("host", id)
			line = id "\t" h
			bad = ""; other = ""; differs = 0; badmodes = ""
			for (i = 1; i <= nm; i++) {
				m = mode[i]; s = status(m, id)
				line = line "\t" s
				count[m, s]++
				if (h == "pass" && s != "pass") {
					differs = 1
					diff[m]++
					if (m in isreq) { bad = bad (bad ? ", " : "") m ": " s; badmodes = badmodes (badmodes ? "," : "") m }
					else other = other (other ? ", " : "") m ": " s
				}
			}
			count["host", h]++
			print line > tsv
			t++
			if (h != "pass") {
				printf "ok %d - %s: %s # SKIP does not pass on the host either (host: %s%s)\n", t, id, desc[id], h, note["host", id] ? "; " note["host", id] : ""
			} else if (bad != "" && known(id, badmodes)) {
				printf "not ok %d - %s: %s (%s%s) # TODO known difference: %s\n", t, id, desc[id], bad, other ? "; " other : "", kwhy[id]
				nknown++
			} else if (bad != "") {
				printf "not ok %d - %s: %s (%s%s)\n", t, id, desc[id], bad, other ? "; " other : ""
			} else {
				printf "ok %d - %s: %s\n", t, id, desc[id]
				if (other) printf "#   differs only in %s\n", other
			}
			if (differs) {
				first = ""
				for (i = 1; i <= nm; i++) {
					m = mode[i]; s = status(m, id)
					if (s != "pass") {
						printf "#   %s: %s%s\n", m, s, note[m, id] ? ": " note[m, id] : ""
						if (first == "" && note[m, id] != "") first = note[m, id]
					}
				}
				cells = ""
				for (i = 1; i <= nm; i++) cells = cells " " cell(status(mode[i], id)) " |"
				gsub(/\|/, "\\|", first)
				printf "| `%s` | %s |%s %s |\n", id, cell(h), cells, first > md
			}
		}
		# Summary table, as TAP comments.
		printf "#\n# %-10s %6s %6s %6s %8s %s\n", "run", "pass", "fail", "skip", "missing", "differs from the host"
		printf "# %-10s %6d %6d %6d %8d %s\n", "host", count["host", "pass"], count["host", "fail"], count["host", "skip"], count["host", "missing"], "-"
		for (i = 1; i <= nm; i++) {
			m = mode[i]
			printf "# %-10s %6d %6d %6d %8d %d%s\n", m, count[m, "pass"], count[m, "fail"], count[m, "skip"], count[m, "missing"], diff[m], (m in isreq) ? " (required)" : ""
		}
		print "" > md
		print "| run | pass | fail | skip | missing | differs from the host |" > md
		print "|---|---|---|---|---|---|" > md
		printf "| host | %d | %d | %d | %d | - |\n", count["host", "pass"], count["host", "fail"], count["host", "skip"], count["host", "missing"] > md
		for (i = 1; i <= nm; i++) {
			m = mode[i]
			printf "| %s | %d | %d | %d | %d | %d |\n", m, count[m, "pass"], count[m, "fail"], count[m, "skip"], count[m, "missing"], diff[m] > md
		}
		if (nknown) printf "# %d known differences (TODO above, reasons in %s)\n", nknown, "conformance-known.tsv"
		print "T " t
	}
	function cell(s) { return s == "pass" ? "ok" : s == "fail" ? "**FAIL**" : s }
	function modes_md(   i, r) { for (i = 1; i <= nm; i++) r = r (i > 1 ? " | " : "") mode[i]; return r }
	function dashes(   i, r) { for (i = 1; i <= nm; i++) r = r "---|"; return r }
' "${files[@]}")
printf '%s\n' "$result" | sed '$d'
n=$(printf '%s\n' "$result" | sed -n '$s/^T //p')
failed=$((failed + $(printf '%s\n' "$result" | grep '^not ok' | grep -vc '# TODO' || true)))
printf '# results in %s\n' "$out"
printf '1..%d\n' "$n"
[ "$failed" = 0 ]
