#!/bin/sh
# test-demo-uffd.sh - lfbvnc-demo with --tracker uffd, end to end through the
# consumer API (test-demo.c says what is checked; exit 77 when the
# tracker does not work on this machine).
exec "${top_builddir:-.}/tests/providers/test-demo" uffd
