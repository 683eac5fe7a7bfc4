#!/bin/sh
# Replay the XWD header parser fuzz target's seed corpus (always built).
exec "$top_srcdir/tests/fuzz/run-fuzz.sh" \
    "$top_builddir/tests/fuzz/replay-xwd" \
    "$top_srcdir/tests/fuzz/corpus/xwd"
