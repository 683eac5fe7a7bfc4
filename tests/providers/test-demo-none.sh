#!/bin/sh
# test-demo-none.sh - lfbvnc-demo with --tracker none, end to end through the
# consumer API (test-demo.c says what is checked; exit 77 when the
# tracker does not work on this machine).
exec "${top_builddir:-.}/tests/providers/test-demo" none
