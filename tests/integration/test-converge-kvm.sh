#!/bin/sh
# test-converge-kvm.sh - test-converge.sh with the kvm tracker only (one file
# per tracker so that make -j runs them in parallel).
exec bash "$(dirname "$0")/test-converge.sh" kvm
