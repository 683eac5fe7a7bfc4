#!/bin/sh
# Replay the seed corpus of lfbvncctl's JSON reader (always built).
exec "$top_srcdir/tests/fuzz/run-fuzz.sh" \
    "$top_builddir/tests/fuzz/replay-json-read" \
    "$top_srcdir/tests/fuzz/corpus/json-read"
