#!/bin/sh
# test-converge-uffd.sh - test-converge.sh with the uffd tracker only (one file
# per tracker so that make -j runs them in parallel).
exec bash "$(dirname "$0")/test-converge.sh" uffd
