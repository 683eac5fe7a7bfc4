#!/bin/sh
# Replay the consumer fuzz target's seed corpus (always built).
exec "$top_srcdir/tests/fuzz/run-fuzz.sh" \
    "$top_builddir/tests/fuzz/replay-consumer" \
    "$top_srcdir/tests/fuzz/corpus/consumer"
