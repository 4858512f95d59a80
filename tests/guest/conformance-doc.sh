#!/usr/bin/env bash
# Regenerates the generated parts of docs/conformance.md.
#
# usage: conformance-doc.sh [--build-dir DIR] [--results] [DOC]
#
# Replaces the lines between "<!-- cases:begin -->" and "<!-- cases:end -->"
# in DOC (default: docs/conformance.md) with the case table of the posix
# suite (`posix --list-md`). With --results, also the lines between
# "<!-- results:begin -->" and "<!-- results:end -->" with the summary.md
# of the last conformance.sh run ($VFS_GUEST_OUT/conformance, or
# $VFS_CONFORMANCE_OUT). The analysis around them is written by hand.
set -eu
set -o pipefail

# shellcheck source=tests/guest/guest-lib.sh
. "$(dirname "$0")/guest-lib.sh"

results=0
doc=
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) VFS_BUILD_DIR=$2; shift 2 ;;
	--build-dir=*) VFS_BUILD_DIR=${1#*=}; shift ;;
	--results) results=1; shift ;;
	-h | --help) sed -n '2,/^set -eu/{/^set/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) vfsg_die "unknown option: $1 (see --help)" ;;
	*) doc=$1; shift ;;
	esac
done
vfsg_init_paths
: "${doc:=$vfsg_top/docs/conformance.md}"
suite=$VFS_GUEST_OUT/programs/posix
summary=${VFS_CONFORMANCE_OUT:-$VFS_GUEST_OUT/conformance}/summary.md

[ -x "$suite" ] || vfsg_die "no $suite: run tests/guest/prepare-guest.sh (or the guest tests) first"

# replace_block DOC NAME FILE: the lines between the NAME markers become FILE.
replace_block() {
	local tmp
	grep -q "^<!-- $2:begin -->$" "$1" || vfsg_die "$1 has no <!-- $2:begin --> marker"
	tmp=$(mktemp "$1.XXXXXX")
	awk -v name="$2" -v file="$3" '
		$0 == "<!-- " name ":begin -->" { print; while ((getline l < file) > 0) print l; skip = 1; next }
		$0 == "<!-- " name ":end -->" { skip = 0 }
		!skip' "$1" >"$tmp"
	mv "$tmp" "$1"
}

cases=$(mktemp)
trap 'rm -f "$cases"' EXIT
"$suite" --list-md >"$cases"
replace_block "$doc" cases "$cases"
if [ "$results" = 1 ]; then
	[ -f "$summary" ] || vfsg_die "no $summary: run tests/guest/conformance.sh first"
	replace_block "$doc" results "$summary"
fi
echo "updated $doc ($(($(wc -l <"$cases") - 2)) cases)"
