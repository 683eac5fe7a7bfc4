#!/bin/sh
# Fuzz the control request parser with libFuzzer for FUZZ_SECONDS.
exec "$top_srcdir/tests/fuzz/run-fuzz.sh" \
    "$top_builddir/tests/fuzz/fuzz-control-libfuzzer" \
    "$top_srcdir/tests/fuzz/corpus/control"
