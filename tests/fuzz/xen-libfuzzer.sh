#!/bin/sh
# Fuzz the Xen mode and query-pci parsers with libFuzzer for FUZZ_SECONDS.
exec "$top_srcdir/tests/fuzz/run-fuzz.sh" \
    "$top_builddir/tests/fuzz/fuzz-xen-libfuzzer" \
    "$top_srcdir/tests/fuzz/corpus/xen"
