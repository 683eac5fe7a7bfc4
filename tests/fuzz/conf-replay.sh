#!/bin/sh
# Replay the seed corpus of the lfbvncd.conf parser (always built).
exec "$top_srcdir/tests/fuzz/run-fuzz.sh" \
    "$top_builddir/tests/fuzz/replay-conf" \
    "$top_srcdir/tests/fuzz/corpus/conf"
