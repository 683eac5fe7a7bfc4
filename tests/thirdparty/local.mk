# tests/thirdparty: lfbvncd serving lfbvnc-demo, viewed by clients we did
# not write.  test-gvnccapture.sh: gtk-vnc's gvnccapture (package
# gvncviewer) takes PNGs.  test-browser.sh: Debian's noVNC, served by
# lfbvncd's web server, in headless Chromium (browser.js, driven by
# playwright-core, which lib.sh installs with npm into the build tree on
# first use), with pointer and key input through the page;
# test-browser-password.sh, the same with a password typed into noVNC's
# prompt (and a wrong one refused).  test-gateway.sh: two guests behind
# one websockify gateway routing by token.  The pictures are compared
# with the provider's framebuffer by imgdiff (the probe's image readers):
# exactly, or within bounds for noVNC's default JPEG.  Each skips (77)
# without its programs.
check_PROGRAMS += tests/thirdparty/imgdiff
tests_thirdparty_imgdiff_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/clients
tests_thirdparty_imgdiff_LDADD = clients/libprobe.a common/libcommon.a \
	$(ZLIB_LIBS)

thirdparty_tests = tests/thirdparty/test-gvnccapture.sh \
	tests/thirdparty/test-browser.sh \
	tests/thirdparty/test-browser-password.sh \
	tests/thirdparty/test-gateway.sh
check_SCRIPTS += $(thirdparty_tests)
TESTS += $(thirdparty_tests)
EXTRA_DIST += $(thirdparty_tests) tests/thirdparty/lib.sh \
	tests/thirdparty/browser.js
# playwright-core, installed by the browser tests; never committed
distclean-local: clean-thirdparty
clean-thirdparty:
	-rm -rf tests/thirdparty/node_modules tests/thirdparty/.npm-*
.PHONY: clean-thirdparty
