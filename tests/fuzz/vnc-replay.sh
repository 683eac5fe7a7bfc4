#!/bin/sh
# Replay the VNC client-message fuzz target's seed corpus.
exec "$top_srcdir/tests/fuzz/run-fuzz.sh" \
    "$top_builddir/tests/fuzz/replay-vnc" \
    "$top_srcdir/tests/fuzz/corpus/vnc"
