#!/bin/sh
# test-converge-none.sh - test-converge.sh with the none tracker only (one file
# per tracker so that make -j runs them in parallel).
exec bash "$(dirname "$0")/test-converge.sh" none
