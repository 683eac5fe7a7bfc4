#!/bin/sh
# Fuzz the lfbvncd.conf parser with libFuzzer for FUZZ_SECONDS (default 20).
exec "$top_srcdir/tests/fuzz/run-fuzz.sh" \
    "$top_builddir/tests/fuzz/fuzz-conf-libfuzzer" \
    "$top_srcdir/tests/fuzz/corpus/conf"
