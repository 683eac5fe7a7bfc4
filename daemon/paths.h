/*
 * paths.h - fixed paths shared by lfbvncd and its tools.
 *
 * The control socket lives under /run, an absolute path on purpose rather
 * than $(localstatedir)/run: /run is a tmpfs on every Linux system we
 * target, so a stale socket never survives a reboot, and a --prefix build
 * (localstatedir = $prefix/var) still finds the system daemon.  The
 * daemon's "control" setting moves it; lfbvncctl looks at -s SOCKET, then
 * $LFBVNCD_CONTROL, then this default.
 */
#ifndef LFBVNC_PATHS_H
#define LFBVNC_PATHS_H

#define LFBVNC_RUNDIR		"/run/lfbvnc"
#define LFBVNC_CONTROL_PATH	LFBVNC_RUNDIR "/control.sock"
#define LFBVNC_CONTROL_ENV	"LFBVNCD_CONTROL"

#endif /* LFBVNC_PATHS_H */
