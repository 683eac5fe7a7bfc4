#!/bin/sh
# Replay the control request parser's fuzz target seed corpus.
exec "$top_srcdir/tests/fuzz/run-fuzz.sh" \
    "$top_builddir/tests/fuzz/replay-control" \
    "$top_srcdir/tests/fuzz/corpus/control"
