# Helpers for the host-side halves of guest checks (CHECK.host.sh).
#
# They print "ok - what" / "not ok - what" / "# note" lines; the runner
# numbers them and merges them with the guest's results, so a script only
# says what it checked. Sourced by bash scripts.

host_ok() {
	printf 'ok - %s\n' "$1"
}

host_not_ok() {
	printf 'not ok - %s\n' "$1"
	shift
	for note in "$@"; do
		printf '#   %s\n' "$note"
	done
}

host_skip() {
	printf 'ok - %s # SKIP %s\n' "$1" "$2"
}

# host_check WHAT COMMAND...: ok when COMMAND succeeds.
host_check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		host_ok "$what"
	else
		host_not_ok "$what" "failed: $*" ${out:+"$(printf '%s' "$out" | head -n 5 | tr '\n' ' ')"}
	fi
}

# host_check_eq WHAT GOT WANT
host_check_eq() {
	if [ "$2" = "$3" ]; then
		host_ok "$1"
	else
		host_not_ok "$1" "got:  '$2'" "want: '$3'"
	fi
}

# host_check_content WHAT FILE FORMAT [ARGS...]: FILE holds exactly the bytes
# printf FORMAT ARGS... gives (so trailing newlines count).
host_check_content() {
	local what=$1 file=$2
	shift 2
	if [ ! -f "$file" ]; then
		host_not_ok "$what" "$file is missing or not a regular file"
	elif printf "$@" | cmp -s - "$file"; then
		host_ok "$what"
	else
		host_not_ok "$what" "$file differs: $(head -c 80 "$file" | od -An -c | head -n 2 | tr -s ' \n' ' ')"
	fi
}

# host_check_absent WHAT PATH: PATH does not exist (not even as a dangling link).
host_check_absent() {
	if [ -e "$2" ] || [ -L "$2" ]; then
		host_not_ok "$1" "$2 still exists"
	else
		host_ok "$1"
	fi
}
