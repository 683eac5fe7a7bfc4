#!/bin/sh
# Fuzz lfbvncctl's JSON reader with libFuzzer for FUZZ_SECONDS (default 20).
exec "$top_srcdir/tests/fuzz/run-fuzz.sh" \
    "$top_builddir/tests/fuzz/fuzz-json-read-libfuzzer" \
    "$top_srcdir/tests/fuzz/corpus/json-read"
