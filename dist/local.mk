# Service files: the systemd unit, a SysV init script for dom0s without
# systemd, the sysusers entry for the workers' user, an example config.
systemdsystemunitdir = $(prefix)/lib/systemd/system
systemdsystemunit_DATA = dist/lfbvncd.service
initddir = $(sysconfdir)/init.d
initd_SCRIPTS = dist/lfbvncd
sysusersdir = $(prefix)/lib/sysusers.d
sysusers_DATA = dist/lfbvnc.conf
exampledir = $(docdir)/examples
dist_example_DATA = dist/lfbvncd.conf.example

EXTRA_DIST += dist/lfbvncd.service.in dist/lfbvncd.init.in \
	dist/lfbvnc.sysusers
CLEANFILES += dist/lfbvncd.service dist/lfbvncd dist/lfbvnc.conf

dist/lfbvncd.service: $(srcdir)/dist/lfbvncd.service.in Makefile
	@$(MKDIR_P) dist
	$(AM_V_GEN)sed -e 's|@sbindir[@]|$(sbindir)|g' $< > $@
dist/lfbvncd: $(srcdir)/dist/lfbvncd.init.in Makefile
	@$(MKDIR_P) dist
	$(AM_V_GEN)sed -e 's|@sbindir[@]|$(sbindir)|g' $< > $@ && chmod +x $@
dist/lfbvnc.conf: $(srcdir)/dist/lfbvnc.sysusers
	@$(MKDIR_P) dist
	$(AM_V_GEN)cp $< $@

# The Debian packaging (dpkg-buildpackage -b; tests/dist/test-deb.sh),
# file by file: a build in the tree leaves debian/build and debian/lfbvnc,
# which must not reach the tarball.
EXTRA_DIST += debian/changelog debian/control debian/copyright \
	debian/rules debian/source/format debian/lfbvnc.install \
	debian/lfbvnc.postinst debian/lfbvncd.conf \
	debian/lfbvnc.lintian-overrides
