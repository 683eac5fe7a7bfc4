#!/bin/bash
# The Xen end-to-end test on the patched hypervisor (hypervisor-patch/):
# the same dom0 and guest as run-e2e.sh, plus a shadow-paging guest, and
# the checks of the VRAM trap instead of the stock run's (see
# run-e2e.sh --patched and tests/xen/README.md).  Skips (77) when the
# patched hypervisor cannot be built here.
exec "$(dirname "$0")/run-e2e.sh" --patched "$@"
