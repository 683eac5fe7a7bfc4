/*
 * test-vnc-config: who may be let in, decided before anything listens
 * (vnc_config_check in daemon/vnc.c, which both the master and the worker
 * call before a guest is served).
 *
 *  - without a password, loopback addresses (127.0.0.0/8, ::1) are
 *    served; any other address (0.0.0.0, ::, a LAN address, ::ffff:
 *    127.0.0.1 written as IPv6) is refused unless unsafe-no-auth is set;
 *  - a password file is refused when it is not a regular file (a
 *    directory, a symbolic link even to a good file), when its group or
 *    others have any access to it, when it is empty, or (as root) when it
 *    is owned by another user than root or the daemon's; a good one is
 *    accepted on any address.
 *
 * tests/integration/test-auth.sh proves the same rules on the running
 * daemon (nothing listens after a refusal); this test covers the address
 * and file cases one by one.  How it fails: a refusal not happening, or
 * its reason missing from why.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnc.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

#define NOBODY		65534

static int
check(const char *listen, const char *pwfile, bool unsafe, char *why,
    size_t whylen)
{
	struct vnc_config cfg;

	vnc_config_defaults(&cfg);
	cfg.name = "t";
	cfg.listen = listen;
	cfg.port = 0;
	cfg.web_port = 0;
	cfg.password_file = pwfile;
	cfg.unsafe_no_auth = unsafe;
	why[0] = '\0';
	return vnc_config_check(&cfg, why, whylen);
}

static void
test_listen(void)
{
	static const char *const loopback[] = { "127.0.0.1", "127.1.2.3",
	    "::1" };
	static const char *const other[] = { "0.0.0.0", "::", "10.0.0.1",
	    "192.168.1.1", "fe80::1", "::ffff:127.0.0.1" };
	char why[256];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		rc = check(loopback[i], NULL, false, why, sizeof(why));
		CHECK(rc == 0, "%s without a password: %d %s", loopback[i],
		    rc, why);
	}
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		rc = check(other[i], NULL, false, why, sizeof(why));
		CHECK(rc == -EPERM && strstr(why, "refusing to listen on") !=
		    NULL, "%s without a password: %d '%s', want a refusal",
		    other[i], rc, why);
		rc = check(other[i], NULL, true, why, sizeof(why));
		CHECK(rc == 0, "%s with unsafe-no-auth: %d %s", other[i], rc,
		    why);
	}
	rc = check("localhost", NULL, false, why, sizeof(why));
	CHECK(rc == -EINVAL, "a host name: %d, want -EINVAL", rc);
}

static void
put(const char *path, const char *text, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, text, strlen(text)) !=
	    (ssize_t)strlen(text) || fchmod(fd, mode) == -1) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
}

static void
want_refused(const char *listen, const char *path, const char *reason)
{
	char why[512];
	int rc;

	rc = check(listen, path, false, why, sizeof(why));
	CHECK(rc < 0 && strstr(why, reason) != NULL,
	    "%s on %s: %d '%s', want a refusal saying '%s'", path, listen,
	    rc, why, reason);
}

static void
test_password_file(const char *dir)
{
	char pw[300], link[300], sub[300], why[512];
	mode_t modes[] = { 0640, 0604, 0610, 0601, 0660 };
	size_t i;
	int rc;

	snprintf(pw, sizeof(pw), "%s/vnc.pw", dir);
	snprintf(link, sizeof(link), "%s/link.pw", dir);
	snprintf(sub, sizeof(sub), "%s/sub", dir);

	put(pw, "s3cret\n", 0600);
	rc = check("0.0.0.0", pw, false, why, sizeof(why));
	CHECK(rc == 0, "a good password file on 0.0.0.0: %d %s", rc, why);
	rc = check("127.0.0.1", pw, false, why, sizeof(why));
	CHECK(rc == 0, "a good password file on loopback: %d %s", rc, why);

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		CHECK(chmod(pw, modes[i]) == 0, "chmod");
		want_refused("127.0.0.1", pw, "accessible by group or others");
	}
	CHECK(chmod(pw, 0600) == 0, "chmod");

	CHECK(symlink(pw, link) == 0, "symlink: %s", strerror(errno));
	want_refused("127.0.0.1", link, strerror(ELOOP));
	CHECK(mkdir(sub, 0700) == 0, "mkdir");
	want_refused("127.0.0.1", sub, "not a regular file");
	put(pw, "\n", 0600);
	want_refused("127.0.0.1", pw, "is empty");
	put(pw, "s3cret\n", 0600);
	snprintf(sub + strlen(sub), sizeof(sub) - strlen(sub), "/none");
	want_refused("127.0.0.1", sub, strerror(ENOENT));

	if (geteuid() == 0) {
		CHECK(chown(pw, NOBODY, (gid_t)-1) == 0, "chown");
		want_refused("127.0.0.1", pw,
		    "is owned by uid 65534, not by root or the daemon's user");
		CHECK(chown(pw, 0, (gid_t)-1) == 0, "chown");
		rc = check("127.0.0.1", pw, false, why, sizeof(why));
		CHECK(rc == 0, "owned by root again: %d %s", rc, why);
	}

	unlink(link);
	unlink(pw);
	sub[strlen(sub) - strlen("/none")] = '\0';
	rmdir(sub);
}

int
main(void)
{
	char dir[] = "/tmp/test-vnc-config.XXXXXX";

	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_listen();
	test_password_file(dir);
	CHECK(rmdir(dir) == 0, "rmdir %s: %s", dir, strerror(errno));
	if (failures != 0) {
		fprintf(stderr, "test-vnc-config: %d failures\n", failures);
		return 1;
	}
	if (geteuid() != 0) {
		printf("SKIP: the owner check needs root (it chowns to "
		    "nobody); everything else passed\n");
		return 77;
	}
	printf("test-vnc-config: ok\n");
	return 0;
}
