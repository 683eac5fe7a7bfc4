# lib.sh - sourced by the tests/thirdparty tests.  Starts lfbvnc-demo
# (one or more) and lfbvncd serving it, finds the demo's framebuffer memfd
# for the comparisons, finds headless Chromium and playwright-core for the
# browser tests and runs browser.js, and cleans up.  Every wait is
# bounded, and a watchdog stops the test after $LFBVNC_TEST_LIMIT seconds
# (default 58) whatever it is doing.
#
# Set LFBVNC_TEST_KEEP=1 to keep the work directory (pictures, logs).

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
demo_bin=$top_builddir/providers/demo/lfbvnc-demo
daemon_bin=$top_builddir/daemon/lfbvncd
ctl_bin=$top_builddir/clients/lfbvncctl
imgdiff=$top_builddir/tests/thirdparty/imgdiff

skip() { echo "SKIP: $*"; exit 77; }
fail() {
	echo "FAIL: $*"
	diagnostics
	exit 1
}

command -v timeout >/dev/null 2>&1 || skip "timeout(1) is missing"
for b in "$demo_bin" "$daemon_bin" "$ctl_bin" "$imgdiff"; do
	[ -x "$b" ] || { echo "FAIL: $b is not built"; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/lfbvnc-3p.XXXXXX") || {
	echo "FAIL: mktemp"; exit 1; }
demo_pid=
demo_pids=
daemon_pid=
fb=
strays=
watchdog_pid=
# Other processes a test starts (a gateway): stopped first.
other_pids=
cleanup() {
	for pid in $other_pids $daemon_pid $demo_pids $watchdog_pid; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# With $strays set, anything else still using the work directory (a
	# browser whose driver was killed), found by its command line.
	for p in ${strays:+/proc/[0-9]*}; do
		case $(tr '\0' ' ' 2>/dev/null <"$p/cmdline") in
		*"$work/"*) kill "${p#/proc/}" 2>/dev/null ;;
		esac
	done
	if [ -n "${LFBVNC_TEST_KEEP:-}" ]; then
		echo "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT
trap 'echo "FAIL: terminated"; diagnostics; exit 1' TERM
# Output to a closed pipe (| head): clean up all the same.
trap 'trap "" PIPE; exit 1' PIPE

# The watchdog: TERM to this shell (whose trap cleans up) after $limit s.
# It kills its own sleep when it is killed, so nothing outlives the test.
limit=${LFBVNC_TEST_LIMIT:-58}
main_pid=$$
(
	s=
	trap 'kill $s 2>/dev/null; exit 0' TERM
	sleep "$limit" &
	s=$!
	wait $s && {
		echo "FAIL: still running after $limit s (watchdog)"
		kill -TERM "$main_pid"
	}
) &
watchdog_pid=$!

# What the logs say, for a failure.
diagnostics() {
	for f in "$work"/*.log; do
		[ -s "$f" ] || continue
		echo "--- $(basename "$f") (last 25 lines)"
		tail -25 "$f"
	done
	if [ -S "$work/ctl" ]; then
		echo "--- lfbvncctl status"
		timeout 5 "$ctl_bin" -s "$work/ctl" status 2>&1
	fi
}

# since_start: seconds since the test began (for the log); elapsed: the
# same, whole seconds.
t0=$(date +%s.%N)
t0s=$(date +%s)
elapsed() { echo $(($(date +%s) - t0s)); }
since_start() {
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds; 1 after
# SECONDS.
wait_for() {
	wf_n=$(($1 * 10))
	shift
	while [ "$wf_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		wf_n=$((wf_n - 1))
	done
	return 1
}

# start_demo WORKLOAD WxH [NAME]: lfbvnc-demo on $work/NAME.sock (NAME:
# "demo" by default), its log in $work/NAME.log; sets $demo_pid,
# $demo_log, $fb (its framebuffer memfd as a /proc path), $width and
# $height, which freeze, thaw and snapshot use: a test with several demos
# keeps what it needs of them before starting the next.
start_demo() {
	width=${2%x*}
	height=${2#*x}
	demo_log=$work/${3:-demo}.log
	: >"$demo_log"
	"$demo_bin" --socket "$work/${3:-demo}.sock" --workload "$1" \
	    --seed 7 --size "$2" --tracker auto >"$demo_log" 2>&1 &
	demo_pid=$!
	demo_pids="$demo_pids $demo_pid"
	npaused=0
	wait_for 10 grep -q "^lfbvnc-demo: mode $2" "$demo_log" ||
		fail "lfbvnc-demo did not start"
	fb=
	for f in /proc/"$demo_pid"/fd/*; do
		case $(readlink "$f") in
		/memfd:lfbvnc-demo-fb*) fb=$f; break ;;
		esac
	done
	[ -n "$fb" ] || fail "no lfbvnc-demo-fb memfd in /proc/$demo_pid/fd"
	echo "demo${3:+ $3}: pid $demo_pid, $1 at $2, $(sed -n \
	    's/^lfbvnc-demo: tracker //p' "$demo_log" | head -1), framebuffer $fb"
}

# freeze / thaw: SIGUSR2 toggles the demo's drawing.  After the log says
# so, a frame already being drawn may still finish: wait a little.
npaused=0
freeze() {
	kill -USR2 "$demo_pid"
	npaused=$((npaused + 1))
	wait_for 5 sh -c "[ \$(grep -c '^lfbvnc-demo: paused' \
	    '$demo_log') -ge $npaused ]" || fail "the demo did not pause"
	sleep 0.3
}
thaw() {
	kill -USR2 "$demo_pid"
	sleep 0.1
}

# snapshot NAME: copy the visible frame into $work/NAME.raw (a file the
# test keeps when it passes the frame to imgdiff after a change).
snapshot() {
	dd if="$fb" of="$work/$1.raw" bs=$((width * 4)) count="$height" \
	    status=none || fail "cannot read $fb"
}

# status_field NAME [GUEST]: a number or string from lfbvncctl --json
# status, of guest GUEST ("demo" by default).
status_field() {
	timeout 5 "$ctl_bin" -s "$work/ctl" --json status 2>/dev/null |
	    tr '{' '\n' | grep "^\"name\":\"${2:-demo}\"," |
	    sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"
}

# start_daemon [web] [GUEST...] [-o KEY=VALUE]...: lfbvncd serving the
# demos $work/GUEST.sock as guests GUEST ("demo" when none is named), each
# on an ephemeral RFB port (the first one's in $vnc_port, the others'
# from "status_field vnc_port GUEST"), with the options given; with
# "web" (one guest only: they would share the port), noVNC on $web_port
# too (a port picked here: retried when it is taken).
start_daemon() {
	sd_web=
	sd_guests=
	sd_n=$#
	# The arguments for lfbvncd, rotated into "$@" (values may hold
	# blanks).
	while [ $sd_n -gt 0 ]; do
		case $1 in
		web) sd_web=web ;;
		-o) set -- "$@" -o "$2"; shift; sd_n=$((sd_n - 1)) ;;
		*) sd_guests="$sd_guests $1"
		   set -- "$@" -g "$1=$work/$1.sock" ;;
		esac
		shift
		sd_n=$((sd_n - 1))
	done
	if [ -z "$sd_guests" ]; then
		sd_guests=" demo"
		set -- "$@" -g "demo=$work/demo.sock"
	fi
	sd_first=${sd_guests# }
	sd_first=${sd_first%% *}
	sd_try=0
	while [ $sd_try -lt 5 ]; do
		sd_webopts=
		if [ "$sd_web" = web ]; then
			web_port=$((20000 + ($$ * 7 + sd_try * 331) % 20000))
			sd_webopts="-o web=yes -o web-port=$web_port"
		fi
		# shellcheck disable=SC2086 # $sd_webopts is options
		"$daemon_bin" -c "$work/ctl" -o port=0 $sd_webopts "$@" \
		    >"$work/lfbvncd.log" 2>&1 &
		daemon_pid=$!
		sd_i=0
		while [ $sd_i -lt 100 ]; do
			sd_up=yes
			for sd_g in $sd_guests; do
				sd_p=$(status_field vnc_port "$sd_g")
				[ -n "$sd_p" ] && [ "$sd_p" -gt 0 ] &&
				    grep -q "$sd_g: attached to" \
				    "$work/lfbvncd.log" || sd_up=no
			done
			[ "$sd_up" = yes ] && break
			grep -q "cannot serve the web viewer" \
			    "$work/lfbvncd.log" && break
			kill -0 "$daemon_pid" 2>/dev/null || break
			sleep 0.1
			sd_i=$((sd_i + 1))
		done
		if [ "$sd_up" = yes ]; then
			vnc_port=$(status_field vnc_port "$sd_first")
			echo "lfbvncd: pid $daemon_pid, guests$sd_guests, RFB port $vnc_port${sd_web:+, web port $web_port}"
			return 0
		fi
		grep -q "cannot serve the web viewer" "$work/lfbvncd.log" ||
			fail "lfbvncd did not start"
		kill "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
		daemon_pid=
		sd_try=$((sd_try + 1))
	done
	fail "lfbvncd: no free web port after $sd_try tries"
}

# landing_url [GUEST]: sets $url to the web viewer's address as lfbvncd
# prints it in its log ("GUEST: browser viewer at URL"), which must be
# the guest's listen address and web port in lfbvncctl status.
landing_url() {
	lu_guest=${1:-demo}
	url=$(sed -n "s|^[^ ]*: $lu_guest: browser viewer at \(http://[^ ]*\)\$|\1|p" \
	    "$work/lfbvncd.log" | tail -n 1)
	[ -n "$url" ] || fail "lfbvncd printed no browser viewer URL for $lu_guest"
	lu_addr=$(status_field listen "$lu_guest")
	lu_port=$(status_field web_port "$lu_guest")
	case $lu_addr in
	*:*) lu_addr="[$lu_addr]" ;;
	esac
	[ "$url" = "http://$lu_addr:$lu_port/" ] ||
	    fail "lfbvncd printed $url, its status says $lu_addr port $lu_port"
}

# compare IMAGE REF [imgdiff options]: imgdiff, with a diff picture kept
# in $work on failure.  Returns imgdiff's status.
compare() {
	cm_a=$1 cm_b=$2
	shift 2
	"$imgdiff" -d "$work/diff.png" "$@" "$cm_a" "$cm_b"
}

# need_browser: headless Chromium, node and noVNC (Debian packages), and
# playwright-core from npm, or skip (77) saying what is missing.  Sets
# $chromium and exports NODE_PATH.  playwright-core is taken from
# $PLAYWRIGHT_CORE_DIR (a node_modules directory) if set, else from
# tests/thirdparty/node_modules in the build tree, where the first run
# installs it with "npm install" (network needed once; the directory is
# not part of the sources, "make distclean" removes it).
need_browser() {
	chromium=${CHROMIUM:-/usr/bin/chromium}
	[ -x "$chromium" ] ||
		skip "$chromium is not installed (apt-get install chromium)"
	command -v node >/dev/null 2>&1 ||
		skip "node is not installed (apt-get install nodejs)"
	[ -f /usr/share/novnc/vnc.html ] ||
		skip "noVNC is not installed (apt-get install novnc)"

	# playwright-core: never a browser download, only the library.
	nb_spec=${PLAYWRIGHT_CORE_SPEC:-playwright-core@1}
	nb_dir=$top_builddir/tests/thirdparty
	if [ -n "${PLAYWRIGHT_CORE_DIR:-}" ]; then
		NODE_PATH=$PLAYWRIGHT_CORE_DIR
	elif [ -f "$nb_dir/node_modules/playwright-core/package.json" ]; then
		NODE_PATH=$nb_dir/node_modules
	else
		[ -z "${LFBVNC_TEST_NO_NPM:-}" ] ||
			skip "playwright-core is not installed, and LFBVNC_TEST_NO_NPM is set"
		command -v npm >/dev/null 2>&1 ||
			skip "playwright-core is not installed and npm is missing (apt-get install npm)"
		echo "installing $nb_spec into $nb_dir/node_modules with npm"
		# Into a directory of our own, then renamed: a run in
		# parallel never sees half an installation.
		nb_tmp=$nb_dir/.npm-$$
		mkdir -p "$nb_tmp" || fail "mkdir $nb_tmp"
		if ! PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 25 npm install \
		    --prefix "$nb_tmp" --no-save --no-package-lock --no-audit \
		    --no-fund --fetch-retries=1 --fetch-retry-mintimeout=2000 \
		    --fetch-retry-maxtimeout=5000 --loglevel=error "$nb_spec" \
		    >"$work/npm.log" 2>&1; then
			tail -5 "$work/npm.log"
			rm -rf "$nb_tmp"
			skip "cannot install $nb_spec with npm (no network?)"
		fi
		# (-T: when a parallel run got there first, keep its copy)
		mv -T "$nb_tmp/node_modules" "$nb_dir/node_modules" 2>/dev/null
		rm -rf "$nb_tmp"
		NODE_PATH=$nb_dir/node_modules
		echo "installed in $(since_start) s"
	fi
	export NODE_PATH
	nb_version=$(node -e 'console.log(require("playwright-core/package.json").version)' 2>/dev/null) ||
		skip "playwright-core is not usable from NODE_PATH=$NODE_PATH"
	echo "playwright-core $nb_version from $NODE_PATH, $("$chromium" --version 2>/dev/null)"
}

# run_browser VAR=VALUE...: browser.js with these in its environment
# (OUT, CHROMIUM and DEADLINE_MS are set here), bounded by its own
# deadline and by timeout(1), within what is left of the watchdog's time
# (an npm install took some); its output is shown, and kept in
# $work/browser.log.  Fails the test when browser.js fails.
run_browser() {
	rb_left=$((limit - 6 - $(elapsed)))
	[ $rb_left -ge 15 ] || fail "only $rb_left s left for the browser"
	# A browser outliving a killed browser.js is found by its profile
	# directory, in $work.
	strays=yes
	rb_ok=yes
	env "$@" OUT="$work" CHROMIUM="$chromium" \
	    DEADLINE_MS=$(((rb_left - 3) * 1000)) \
	    timeout "$rb_left" node "$(dirname "$0")/browser.js" \
	    >"$work/browser.log" 2>&1 || rb_ok=no
	cat "$work/browser.log"
	[ $rb_ok = yes ] || fail "browser.js failed"
}
