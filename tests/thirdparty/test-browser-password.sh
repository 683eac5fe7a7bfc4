#!/bin/sh
# test-browser-password.sh - test-browser.sh with a password on the
# guest: noVNC's credentials prompt, a wrong password refused, the right
# one typed into the prompt (see test-browser.sh).
exec "$(dirname "$0")/test-browser.sh" password
