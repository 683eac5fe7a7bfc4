# tests/docs: the man pages render without a groff warning and document
# every key, option and command of the code (read from the sources).  It
# needs no build, so the sanitizer build would only repeat it.
if !SANITIZERS
TESTS += tests/docs/test-man.sh
endif
EXTRA_DIST += tests/docs/test-man.sh
