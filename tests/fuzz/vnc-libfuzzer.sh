#!/bin/sh
# Fuzz our RFB-side hooks with libFuzzer for FUZZ_SECONDS; the daemon's
# per-client log lines are dropped (-close_fd_mask=2).
exec "$top_srcdir/tests/fuzz/run-fuzz.sh" \
    "$top_builddir/tests/fuzz/fuzz-vnc-libfuzzer" \
    "$top_srcdir/tests/fuzz/corpus/vnc" -close_fd_mask=2
