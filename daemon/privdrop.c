/* privdrop.c - switch a worker to an unprivileged user; see privdrop.h. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "privdrop.h"

int
privdrop(const char *user, char *why, size_t whylen)
{
	struct passwd *pw;
	uid_t r, e, s;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(why, whylen, "user %s: %s", user,
		    errno ? strerror(errno) : "no such user (create it, or "
		    "set user to \"\")");
		return -ENOENT;
	}
	if (pw->pw_uid == 0) {
		snprintf(why, whylen, "user %s is root: refusing to run the "
		    "network-facing worker as root under that name", user);
		return -EPERM;
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		snprintf(why, whylen, "cannot become %s: %s", user,
		    strerror(errno));
		return -errno;
	}
	/* Make sure there is no way back. */
	if (getresuid(&r, &e, &s) == -1 || r != pw->pw_uid ||
	    e != pw->pw_uid || s != pw->pw_uid || setuid(0) != -1) {
		snprintf(why, whylen, "dropping to %s did not stick", user);
		return -EPERM;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		snprintf(why, whylen, "prctl: %s", strerror(errno));
		return -errno;
	}
	return 0;
}
