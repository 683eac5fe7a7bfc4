#!/bin/sh
# Fuzz the consumer target with libFuzzer for FUZZ_SECONDS (default 20).
exec "$top_srcdir/tests/fuzz/run-fuzz.sh" \
    "$top_builddir/tests/fuzz/fuzz-consumer-libfuzzer" \
    "$top_srcdir/tests/fuzz/corpus/consumer"
