# apt-mirror.sh - sourced by the tests that run debootstrap
# (tests/xen/build-image.sh, tests/dist/test-deb.sh).
#
# apt_mirror SUITE: print the URIs this machine's apt configuration uses
# for SUITE, the first one first (deb822 .sources files, then one-line
# .list files); nothing when none does, and the caller falls back to
# debootstrap's default.  No archive host name is written down anywhere.
apt_mirror() {
	local suite=$1 f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v suite="$suite" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") &&
				    enabled != "no" && uris != "") { split(uris, u, " "); print u[1]; found = 1; exit }
				types = suites = uris = ""; enabled = "yes"
			}
			BEGIN { enabled = "yes" }
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			{ key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
			  if (key == "types") types = $0; else if (key == "suites") suites = $0
			  else if (key == "uris") uris = $0; else if (key == "enabled") enabled = tolower($0) }
			END { if (!found) flush() }' "$f"
	done
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
	awk -v suite="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
		if ($(i + 1) == suite) print $i }'
	return 0
}
