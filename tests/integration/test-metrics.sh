#!/bin/bash
# test-metrics.sh - the Prometheus endpoint (metrics-listen): what it
# serves is well formed and true, it refuses what it must, and the
# process that parses HTTP is confined and restarted.
#
# Two demos (a: blink, b: idle) served by one lfbvncd with
# metrics-listen on a free port (as root: user=nobody), scraped with curl.
#  1. GET /metrics: 200, Content-Type "text/plain; version=0.0.4;
#     charset=utf-8"; every line passes well_formed (an awk checker:
#     every sample in a family announced by # HELP and # TYPE, families
#     not split, counters named _total, label syntax, numeric values);
#     the checker refuses three broken copies (negative controls).
#     lfbvnc_up 1, lfbvnc_guests 2, lfbvnc_workers_running 2.
#  2. With a viewer on a: between two "lfbvncctl status --json" taken
#     before and after a scrape, each counter of the scrape lies between
#     the two statuses' figures, and width, height, clients and state
#     equal theirs; lfbvnc_clients{guest="a"} is 1.  A second scrape 1 s
#     later has more scans, changed tiles, updates and octets sent for a
#     (the demo draws).  The viewer leaves: clients goes to 0.
#  3. HEAD: 200 without a body; POST: 405 with "Allow: GET, HEAD"; DELETE:
#     405; /other and /: 404; a 20 kB header: 400 (or 413); the child's log has no
#     crash and it is the same process afterwards.  Garbage, a request
#     line that never ends, and 24 idle connections (more than the child
#     takes, 16 plus a little: it logs "connections open, the most
#     allowed") do not stop it: once they go, a scrape works at once.
#  4. The child (the daemon's child with "-M" in its command line):
#     Seccomp 2 and NoNewPrivs 1 in /proc/PID/status, and as root the
#     uid and gid of nobody; it is not the master.
#  5. SIGKILL to the child: the master logs it, starts another within
#     the back-off, and scraping works again; the workers are the same
#     processes (the guests were not disturbed) and the viewer-less
#     guests still attached.
#
# How it fails: malformed exposition (the checker), numbers that do not
# match the status (step 2), a child that dies or hangs on bad input or
# on many connections (steps 3), one that runs unconfined or as root
# (step 4), a master that does not restart it or disturbs the workers
# when it dies (step 5).  Checked against a build whose renderer wrote
# lfbvnc_scans_total without its # TYPE line (step 1 fails: "sample outside
# a family with HELP and TYPE") and one whose child skipped
# sandbox_apply (step 4 fails: Seccomp 0).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-multi.sh"
it_init metrics 60 "$@"
command -v curl >/dev/null 2>&1 || skip "curl is missing"
if declare -F valgrind_skip >/dev/null; then
	valgrind_skip "SIGKILLs the metrics child (no valgrind summary)"
fi

opts=()
if [ "$(id -u)" = 0 ]; then
	nobody_uid=$(id -u nobody 2>/dev/null) || skip "no user nobody"
	nobody_gid=$(id -g nobody)
	opts=(-o user=nobody)
fi

# well_formed FILE: the Prometheus text exposition format, as above.
well_formed() {
	awk '
	function bad(msg) {
		printf "line %d: %s: %s\n", NR, msg, $0
		err = 1
		exit 1
	}
	function family(n) {
		if (n == cur)
			return
		if (n in seen)
			bad("family given twice")
		seen[n] = 1
		cur = n
		help = 0
		type = 0
	}
	/^# HELP / {
		family($3)
		if (help)
			bad("second HELP")
		help = 1
		next
	}
	/^# TYPE / {
		family($3)
		if (type || NF != 4 || ($4 != "counter" && $4 != "gauge"))
			bad("second TYPE, or not counter or gauge")
		if ($4 == "counter" && $3 !~ /_total$/)
			bad("a counter not named _total")
		type = 1
		next
	}
	/^#/ { bad("a comment that is not HELP or TYPE") }
	{
		if (!match($0, /^[a-zA-Z_:][a-zA-Z0-9_:]*/))
			bad("no metric name")
		name = substr($0, 1, RLENGTH)
		rest = substr($0, RLENGTH + 1)
		if (name != cur || !help || !type)
			bad("sample outside a family with HELP and TYPE")
		if (name !~ /^lfbvnc_/)
			bad("name without the lfbvnc_ prefix")
		if (substr(rest, 1, 1) == "{") {
			if (!match(rest, /^\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\[\\"n])*")*\}/))
				bad("bad labels")
			rest = substr(rest, RLENGTH + 1)
		}
		if (rest !~ /^ -?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/)
			bad("value not a number")
		samples++
	}
	END {
		if (err)
			exit 1
		if (samples == 0) {
			print "no samples"
			exit 1
		}
	}' "$1" && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ]
}

MURL=
NS=0
# scrape [CURL ARGS...]: $MURL/metrics (or what ARGS say) into
# $WORK/scrape-N.prom (SCRAPE); HTTP is "CODE CONTENT-TYPE", HDRS the
# response headers' file; true for 200.
scrape() {
	NS=$((NS + 1))
	SCRAPE=$WORK/scrape-$NS.prom
	HDRS=$WORK/scrape-$NS.hdr
	HTTP=$(curl -sS --max-time 5 -o "$SCRAPE" -D "$HDRS" \
	    -w '%{http_code} %{content_type}' "$@" 2>>"$WORK/curl.err") ||
	    true
	[ "${HTTP%% *}" = 200 ]
}

# want CODE CURL ARGS...: curl gets HTTP status CODE (000: no answer).
want() {
	local c=$1 what
	shift
	scrape "$@" || true
	what="curl $*"
	[ "${HTTP%% *}" = "$c" ] ||
	    fail "${what:0:100}: HTTP ${HTTP%% *}, want $c"
}

# mval SERIES [FILE]: the value of one series in a scrape ($SCRAPE).
mval() {
	awk -v s="$1" '$1 == s { print $2; exit }' "${2:-$SCRAPE}"
}

# metrics_pid: the daemon's child started with -M (the metrics child).
metrics_pid() {
	local p
	for p in $(pgrep -P "$D_PID"); do
		if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null |
		    grep -q -- ' -M 3 '; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

pfield_of() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}

multi_demo a --workload blink
multi_demo b --workload idle
mport=$(free_port)
MURL=http://127.0.0.1:$mport/metrics
multi_daemon a b -- -o "metrics-listen=$mport" "${opts[@]}"
wait_until 15 "both guests to attach" eval 'guest_attached a && guest_attached b'
wait_until 10 "the metrics endpoint" scrape "$MURL"
log_has "$D_LOG" "metrics on http://127.0.0.1:$mport/metrics" ||
    fail "the master does not log where metrics are served"
log_has "$D_LOG" 'metrics: sandbox on: [0-9]+ system calls refused' ||
    fail "the metrics child does not say its sandbox is on"

log "1. the exposition"
[ "${HTTP#* }" = "text/plain; version=0.0.4; charset=utf-8" ] ||
    fail "Content-Type: ${HTTP#* }"
well_formed "$SCRAPE" || fail "malformed exposition ($SCRAPE)"
# Negative controls: the checker refuses a lost TYPE line, a bad label
# and a value that is not a number.
grep -v '^# TYPE lfbvnc_scans_total ' "$SCRAPE" >"$WORK/bad1.prom"
sed '0,/^lfbvnc_clients{guest="/s//lfbvnc_clients{guest=/' "$SCRAPE" \
    >"$WORK/bad2.prom"
sed '0,/^\(lfbvnc_guests\) [0-9]*$/s//\1 two/' "$SCRAPE" >"$WORK/bad3.prom"
for i in 1 2 3; do
	! cmp -s "$SCRAPE" "$WORK/bad$i.prom" ||
	    fail "negative control $i changed nothing"
	if well_formed "$WORK/bad$i.prom" >"$WORK/bad$i.out"; then
		fail "the checker accepted broken copy $i"
	fi
done
log "checker: $(grep -c -v '^#' "$SCRAPE") samples well formed; refused: $(cat "$WORK"/bad?.out | tr '\n' ';')"
[ "$(mval lfbvnc_up)" = 1 ] || fail "lfbvnc_up $(mval lfbvnc_up)"
[ "$(mval lfbvnc_guests)" = 2 ] || fail "lfbvnc_guests $(mval lfbvnc_guests)"
[ "$(mval lfbvnc_workers_running)" = 2 ] ||
    fail "lfbvnc_workers_running $(mval lfbvnc_workers_running)"

log "2. the figures, against lfbvncctl status --json"
use_guest a
watcher w1
wait_until 10 "lfbvnc_clients{guest=\"a\"} 1" eval \
    'scrape "$MURL" && [ "$(mval "lfbvnc_clients{guest=\"a\"}")" = 1 ]'
S1=$(status)
scrape "$MURL" || fail "scrape: $HTTP"
S2=$(status)
well_formed "$SCRAPE" || fail "malformed exposition ($SCRAPE)"
for pair in scans:scans_total scans_skipped:scans_skipped_total \
    dirty_requests:dirty_requests_total dirty_pages:dirty_pages_total \
    tiles:tiles_changed_total rects:rects_total \
    updates_sent:updates_sent_total bytes_sent:sent_bytes_total \
    clients_total:client_connections_total wakeups:wakeups_total \
    traps_armed:traps_armed_total traps_fired:traps_fired_total \
    full_compares:full_compares_total input_events:input_events_total; do
	k=${pair%%:*}
	for g in a b; do
		v=$(mval "lfbvnc_${pair#*:}{guest=\"$g\"}")
		lo=$(ggf "$S1" "$g" "$k") hi=$(ggf "$S2" "$g" "$k")
		[ -n "$v" ] && [ -n "$lo" ] && [ -n "$hi" ] &&
		    [ "$lo" -le "$v" ] && [ "$v" -le "$hi" ] ||
		    fail "$g: lfbvnc_${pair#*:} $v, not within status $k $lo..$hi"
	done
done
for pair in width:screen_width_pixels height:screen_height_pixels \
    clients:clients; do
	k=${pair%%:*}
	for g in a b; do
		v=$(mval "lfbvnc_${pair#*:}{guest=\"$g\"}")
		[ "$v" = "$(ggf "$S1" "$g" "$k")" ] &&
		    [ "$v" = "$(ggf "$S2" "$g" "$k")" ] ||
		    fail "$g: lfbvnc_${pair#*:} $v, status $k $(ggf "$S1" "$g" "$k")/$(ggf "$S2" "$g" "$k")"
	done
done
for g in a b; do
	st=$(awk -v p="lfbvnc_state{guest=\"$g\",state=\"" \
	    'index($0, p) == 1 && $2 == 1 { s = substr($1, length(p) + 1);
	    sub(/"}$/, "", s); print s }' "$SCRAPE")
	[ "$st" = "$(ggf "$S1" "$g" state)" ] ||
	    [ "$st" = "$(ggf "$S2" "$g" state)" ] ||
	    fail "$g: state $st in the scrape, $(ggf "$S1" "$g" state)/$(ggf "$S2" "$g" state) in the status"
	awk -v g="$g" '$1 ~ "^lfbvnc_worker_cpu_seconds_total\\{guest=\"" g "\"\\}$" &&
	    $2 > 0 { ok = 1 } END { exit !ok }' "$SCRAPE" ||
	    fail "$g: no CPU time"
done
[ "$(awk '/^lfbvnc_state\{guest="a",/ { n += $2 } END { print n }' "$SCRAPE")" = 1 ] ||
    fail "guest a: not exactly one state is 1"
log "a: scans $(mval 'lfbvnc_scans_total{guest="a"}'), state $(awk '/^lfbvnc_state\{guest="a",/ && $2 == 1' "$SCRAPE"), within the status before and after"
first=$SCRAPE
sleep 1
scrape "$MURL" || fail "scrape: $HTTP"
for m in scans_total tiles_changed_total updates_sent_total \
    sent_bytes_total wakeups_total; do
	a0=$(mval "lfbvnc_$m{guest=\"a\"}" "$first")
	a1=$(mval "lfbvnc_$m{guest=\"a\"}")
	gt "$a1" "$a0" || fail "a: lfbvnc_$m did not grow in 1 s ($a0 -> $a1)"
done
log "a, 1 s later: scans $(mval 'lfbvnc_scans_total{guest="a"}' "$first") -> $(mval 'lfbvnc_scans_total{guest="a"}'), octets sent $(mval 'lfbvnc_sent_bytes_total{guest="a"}' "$first") -> $(mval 'lfbvnc_sent_bytes_total{guest="a"}')"
probe_stop "$W_PID" w1
wait_until 10 "lfbvnc_clients{guest=\"a\"} 0" eval \
    'scrape "$MURL" && [ "$(mval "lfbvnc_clients{guest=\"a\"}")" = 0 ]'
log "a: clients 1 -> 0 when the viewer left"

log "3. what the endpoint refuses, and bad peers"
mpid=$(metrics_pid) || fail "no metrics child among the daemon's children"
# HEAD by hand: curl -I would take the headers for the body.
exec {hfd}<>"/dev/tcp/127.0.0.1/$mport"
printf 'HEAD /metrics HTTP/1.0\r\n\r\n' >&"$hfd"
timeout 5 cat <&"$hfd" >"$WORK/head.out" || true
exec {hfd}>&-
head -n 1 "$WORK/head.out" | grep -q '^HTTP/1\.[01] 200 ' ||
    fail "HEAD: $(head -n 1 "$WORK/head.out")"
grep -q -i '^content-length: [1-9]' "$WORK/head.out" || fail "HEAD: no length"
[ -z "$(awk 'body { print } /^\r$/ { body = 1 }' "$WORK/head.out")" ] ||
    fail "HEAD: a body"
want 405 -X POST "$MURL"
grep -q -i '^allow: GET, HEAD' "$HDRS" || fail "405 without Allow"
want 405 -X DELETE "$MURL"
want 404 "http://127.0.0.1:$mport/other"
want 404 "http://127.0.0.1:$mport/"
big=$(head -c 20000 /dev/zero | tr '\0' x)
# libevent 2.1 answers 400 to headers over the bound, later ones 413.
scrape -H "X-Big: $big" "$MURL" || true
[ "${HTTP%% *}" = 400 ] || [ "${HTTP%% *}" = 413 ] ||
    fail "a 20 kB header: HTTP ${HTTP%% *}, want 400 or 413"
bigcode=${HTTP%% *}
# Garbage, then a request line that never ends, kept open.
exec {gfd}<>"/dev/tcp/127.0.0.1/$mport"
(printf '\x00\xff\xfe GARBAGE \r\n\r\n\x01\x02' >&"$gfd") 2>/dev/null || true
exec {sfd}<>"/dev/tcp/127.0.0.1/$mport"
printf 'GET /metr' >&"$sfd"
scrape "$MURL" || fail "scrape beside a garbage and a slow connection: $HTTP"
exec {gfd}>&- {sfd}>&-
# More idle connections than the child takes.
fds=()
for i in $(seq 24); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$mport" || fail "connect $i"
	fds+=("$fd")
done
wait_until 5 "the child to say it is at its bound" \
    log_has "$D_LOG" 'metrics: [0-9]+ connections open, the most allowed'
for fd in "${fds[@]}"; do
	exec {fd}>&-
done
wait_until 5 "a scrape after the idle connections closed" scrape "$MURL"
well_formed "$SCRAPE" || fail "malformed exposition ($SCRAPE)"
[ "$(metrics_pid)" = "$mpid" ] || fail "the metrics child $mpid was replaced"
log_has "$D_LOG" 'metrics: child [0-9]+ (killed|exited)' &&
    fail "the metrics child died: $(grep 'metrics: child' "$D_LOG")"
log "405, 404, $bigcode for the big header as due; child $mpid survived garbage, a slow request and 24 idle connections"

log "4. the child's confinement"
[ "$mpid" != "$D_PID" ] || fail "the master serves HTTP itself"
[ "$(pfield_of "$mpid" Seccomp)" = 2 ] ||
    fail "metrics child: Seccomp $(pfield_of "$mpid" Seccomp), want 2"
[ "$(pfield_of "$mpid" NoNewPrivs)" = 1 ] ||
    fail "metrics child: NoNewPrivs $(pfield_of "$mpid" NoNewPrivs)"
[ "$(pfield_of "$D_PID" Seccomp)" = 0 ] || fail "the master has a filter"
if [ -n "${nobody_uid:-}" ]; then
	for f in Uid Gid; do
		want=$nobody_uid
		[ "$f" = Gid ] && want=$nobody_gid
		[ "$(pfield_of "$mpid" "$f" | tr -s '\t ' '\n' | sort -u)" = "$want" ] ||
		    fail "metrics child: $f $(pfield_of "$mpid" "$f"), want $want x4"
	done
	[ "$(pfield_of "$mpid" CapEff)" = 0000000000000000 ] ||
	    fail "metrics child: CapEff $(pfield_of "$mpid" CapEff)"
	log_has "$D_LOG" 'metrics: running as nobody$' ||
	    fail "the child does not say it runs as nobody"
	log "child $mpid: uid/gid $nobody_uid/$nobody_gid, Seccomp 2, NoNewPrivs 1"
else
	log "child $mpid: Seccomp 2, NoNewPrivs 1 (not root: no user to drop to)"
fi

log "5. the child killed"
S=$(status)
wa=$(ggf "$S" a pid) wb=$(ggf "$S" b pid)
kill -KILL "$mpid"
wait_until 5 "the master to see the child die" \
    log_has "$D_LOG" "metrics: child $mpid killed by signal 9"
wait_until 10 "a new metrics child" eval \
    '[ -n "$(metrics_pid)" ] && [ "$(metrics_pid)" != "$mpid" ]'
wait_until 10 "a scrape from the new child" scrape "$MURL"
well_formed "$SCRAPE" || fail "malformed exposition ($SCRAPE)"
S=$(status)
[ "$(ggf "$S" a pid)" = "$wa" ] && [ "$(ggf "$S" b pid)" = "$wb" ] ||
    fail "workers changed: $wa $wb -> $(ggf "$S" a pid) $(ggf "$S" b pid)"
for g in a b; do
	[ "$(mval "lfbvnc_worker_restarts_total{guest=\"$g\"}")" = 0 ] ||
	    fail "$g: worker restarts $(mval "lfbvnc_worker_restarts_total{guest=\"$g\"}")"
	[ "$(mval "lfbvnc_provider_up{guest=\"$g\"}")" = 1 ] ||
	    fail "$g: provider down"
done
log "child $mpid -> $(metrics_pid); workers $wa $wb unchanged, scraping again"
stop_daemon
log_has "$D_LOG" '^lfbvncd: stopped$' || fail "lfbvncd did not stop cleanly"
