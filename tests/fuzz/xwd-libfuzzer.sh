#!/bin/sh
# Fuzz the XWD header parser with libFuzzer for FUZZ_SECONDS (default 20).
exec "$top_srcdir/tests/fuzz/run-fuzz.sh" \
    "$top_builddir/tests/fuzz/fuzz-xwd-libfuzzer" \
    "$top_srcdir/tests/fuzz/corpus/xwd"
