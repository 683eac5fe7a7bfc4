# bench: benchmarks.  They are built with everything else (so they keep
# compiling) but run only by hand or by `make bench', never by `make check':
# timings on a shared machine are no assertion.  `make bench' runs each
# benchmark and rewrites its section of docs/BENCHMARKS.md in the source
# tree; further benchmarks add their own run target to `bench'.
#
# bench-trackers: the write trackers (proto/tracker.h) against a full-frame
# memcmp.  Its guest (bench-guest.c) is built with the providers/guest
# runtime, see providers/guest/local.mk.
noinst_PROGRAMS += bench/bench-trackers
bench_bench_trackers_SOURCES = bench/bench-trackers.c bench/bench-guest.h
nodist_bench_bench_trackers_SOURCES = bench/bench-guest-image.S
bench_bench_trackers_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/providers/guest -I$(top_srcdir)/bench
bench_bench_trackers_LDADD = proto/liblfbshm.a common/libcommon.a \
	-lpthread -lm

BENCH_GUEST_OBJS = bench/bench-guest.guest.o
bench/bench-guest.guest.o: $(srcdir)/bench/bench-guest.c \
	$(srcdir)/bench/bench-guest.h $(GUEST_HDRS)
	$(AM_V_CC)$(MKDIR_P) bench && \
	$(GUEST_COMPILE) -c -o $@ $(srcdir)/bench/bench-guest.c
bench/bench-guest.elf: $(GUEST_LINK_DEPS) $(BENCH_GUEST_OBJS)
	$(AM_V_CCLD)$(GUEST_LINK) -o $@ $(GUEST_RUNTIME) $(BENCH_GUEST_OBJS) \
	$(GUEST_LD_LIBS)
bench/bench-guest.bin: bench/bench-guest.elf
	$(AM_V_GEN)$(OBJCOPY) -O binary bench/bench-guest.elf $@
bench/bench-guest-image.S: bench/bench-guest.bin $(GUEST_EMBED_DEPS)
	$(AM_V_GEN)$(GUEST_EMBED) bench_guest_image \
	bench/bench-guest.bin > $@.tmp && mv $@.tmp $@

EXTRA_DIST += bench/bench-guest.c bench/run-trackers.sh
CLEANFILES += $(BENCH_GUEST_OBJS) bench/bench-guest.elf \
	bench/bench-guest.bin bench/bench-guest-image.S

# BENCH_TRACKERS_FLAGS: extra options, e.g. `make bench
# BENCH_TRACKERS_FLAGS="-r 61"'.
BENCH_TRACKERS_FLAGS =
bench: bench-trackers
bench-trackers: bench/bench-trackers$(EXEEXT)
	$(SHELL) $(srcdir)/bench/run-trackers.sh \
	    ./bench/bench-trackers$(EXEEXT) $(srcdir)/docs/BENCHMARKS.md \
	    $(BENCH_TRACKERS_FLAGS)
.PHONY: bench bench-trackers

# bench-daemon: lfbvncd (tracked, and forced to compare the whole
# framebuffer) against the oracle server (the demo renderer in process,
# handed exact damage: the lower bound on server work) and x11vnc -rawfb,
# on every demo workload at 1920x1080, plus lfbvncd's idle cost with 0, 1,
# 16 and 64 guests.  About 85 minutes; x11vnc is skipped if missing.
noinst_PROGRAMS += bench/oracle-server
bench_oracle_server_SOURCES = bench/oracle-server.c \
	providers/demo/render.c providers/demo/render.h providers/demo/font.h
bench_oracle_server_CPPFLAGS = $(AM_CPPFLAGS) $(VNCSERVER_CFLAGS) \
	-I$(top_srcdir)/providers/demo
bench_oracle_server_LDADD = common/libcommon.a $(VNCSERVER_LIBS) -lpthread
EXTRA_DIST += bench/bench-daemon.sh

# BENCH_DAEMON_FLAGS: extra options, e.g. `make bench
# BENCH_DAEMON_FLAGS="--reps 1 --seconds 5"'.
BENCH_DAEMON_FLAGS =
bench: bench-daemon
bench-daemon: bench/oracle-server$(EXEEXT) providers/demo/lfbvnc-demo$(EXEEXT) \
	    daemon/lfbvncd$(EXEEXT) clients/lfbvncctl$(EXEEXT) \
	    clients/lfbvnc-probe$(EXEEXT)
	$(SHELL) $(srcdir)/bench/bench-daemon.sh --build . \
	    --doc $(srcdir)/docs/BENCHMARKS.md $(BENCH_DAEMON_FLAGS)
.PHONY: bench-daemon

# bench-host-scale: the seed's experiment at host scale.  N guests (lfbvnc-demo
# at 1920x1080, mostly idle, some typing and blinking, one or two videos),
# each with a connected lfbvnc-probe, beside bench/corunner (a STREAM triad
# plus integer work on every CPU, in operations per second); for each N the
# co-runner's throughput with no displays, lfbvncd, lfbvncd forced to full
# compare and x11vnc per guest, plus server CPU, scans, wake-ups, latency
# and memory per guest; plots (gnuplot) into docs/.  About 35 minutes.
noinst_PROGRAMS += bench/corunner
bench_corunner_SOURCES = bench/corunner.c
bench_corunner_LDADD = -lpthread
EXTRA_DIST += bench/lib.sh bench/host-scale bench/active-guests

# BENCH_HOST_SCALE_FLAGS: extra options, e.g. `make bench-host-scale
# BENCH_HOST_SCALE_FLAGS="--guests '1 4 8' --reps 1 --seconds 8"'.
BENCH_HOST_SCALE_FLAGS =
bench: bench-host-scale
bench-host-scale: bench/corunner$(EXEEXT) providers/demo/lfbvnc-demo$(EXEEXT) \
	    daemon/lfbvncd$(EXEEXT) clients/lfbvncctl$(EXEEXT) \
	    clients/lfbvnc-probe$(EXEEXT)
	$(SHELL) $(srcdir)/bench/host-scale --build . \
	    --doc $(srcdir)/docs/BENCHMARKS.md $(BENCH_HOST_SCALE_FLAGS)
.PHONY: bench-host-scale

# bench-active-guests: where the CPU goes with 4 typing and 4 blinking
# guests (lfbvncd's workers, the guests' cost of being tracked, the
# viewers), for the default policy, clean-scans=2 and full compare.  It
# prints its lines; BENCHMARKS.md's "Host scale, mostly idle guests"
# section quotes a run of it.
bench-active-guests: providers/demo/lfbvnc-demo$(EXEEXT) \
	daemon/lfbvncd$(EXEEXT) clients/lfbvncctl$(EXEEXT) \
	clients/lfbvnc-probe$(EXEEXT)
	$(SHELL) $(srcdir)/bench/active-guests --build . default= \
	    cs2='-o clean-scans=2' cmp='-o force-compare=yes'
.PHONY: bench-active-guests
