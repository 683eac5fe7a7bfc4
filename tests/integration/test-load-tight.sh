#!/bin/bash
# test-load-tight.sh - test-load-clients.sh with 40 clients all asking for
# Tight: the load that showed libvncserver 0.9.14's Tight encoder reading
# a rectangle's pixels twice while the worker wrote the shadow (finding 1
# of docs/RELIABILITY.md: wrong pixels in 2 to 4 runs of 5 before the
# fix, which makes such updates be sent again).  Every client's final
# screenshot must equal the frozen frame.
TIGHT_ONLY=1 exec "$(dirname "$0")/test-load-clients.sh" "$@"
