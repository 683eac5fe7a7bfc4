#!/bin/sh
# Replay the Xen parsers' fuzz target seed corpus (always built).
exec "$top_srcdir/tests/fuzz/run-fuzz.sh" \
    "$top_builddir/tests/fuzz/replay-xen" \
    "$top_srcdir/tests/fuzz/corpus/xen"
