/*
 * test-conf: lfbvncd.conf parsing, inheritance, overrides, checks, and
 * the guest block round trip.  One negative test per error rule: each
 * must fail, and name the file and the right line.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "paths.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* Large (a few hundred KiB): never on the stack. */
static struct conf C, C2;

static int
parse(struct conf *c, const char *text, char *why, size_t whylen)
{
	conf_init(c);
	return conf_parse(c, "t.conf", text, strlen(text), why, whylen);
}

/* text must fail at line with a message containing what. */
static void
bad_at(int srcline, const char *text, unsigned int line, const char *what)
{
	char why[256], prefix[32];
	int rc;

	memset(why, 0, sizeof(why));
	rc = parse(&C, text, why, sizeof(why));
	snprintf(prefix, sizeof(prefix), "t.conf:%u: ", line);
	if (rc != -EINVAL || strncmp(why, prefix, strlen(prefix)) != 0 ||
	    strstr(why, what) == NULL) {
		failures++;
		fprintf(stderr, "FAIL %s:%d: rc %d, wanted \"%s...%s\", got "
		    "\"%s\"\n", __FILE__, srcline, rc, prefix, what, why);
	}
}
#define BAD(text, line, what)	bad_at(__LINE__, text, line, what)

static const char full[] =
    "# lfbvncd.conf: every keyword\n"
    "control /run/lfbvnc/ctl.sock\n"
    "control-group lfbvnc\n"
    "watch-dir /run/lfbvnc/providers\n"
    "watch-port-base 6000\n"
    "web-dir \"/usr/share/novnc\"\n"
    "user _lfbvnc\n"
    "\n"
    "guest alpha {\n"
    "\tbackend lfbshm\n"
    "\tsocket \"/run/lfbvnc/alpha.sock\"   # trailing comment\n"
    "\tlisten ::1\n"
    "\tport 5901\n"
    "\tpassword-file /etc/lfbvnc/alpha.pw\n"
    "\tweb yes\n"
    "\tweb-port 5801\n"
    "\tunsafe-no-auth no\n"
    "\tmax-clients 4\n"
    "\ttile 64\n"
    "\tforce-compare yes\n"
    "\tmax-rate 30\n"
    "\tmax-interval 500\n"
    "\tclean-scans 3\n"
    "\tbackoff-interval 2000\n"
    "\tfallback-interval 200\n"
    "}\n"
    "guest beta{\n"
    "  backend xen\n"
    "  port 5902\n"
    "}\n"
    /* Globals after the blocks still reach beta (order-free). */
    "listen 0.0.0.0\n"
    "password-file /etc/lfbvnc/default.pw\n"
    "max-rate 50\n"
    "tile 16\n"
    "web-port 0\n"
    "max-clients 2\n"
    "clean-scans 5";		/* no final newline */

static void
test_full(void)
{
	const struct conf_guest *a, *b;
	char why[256] = "";
	int rc;

	rc = parse(&C, full, why, sizeof(why));
	CHECK(rc == 0, "full example: %s", why);
	if (rc != 0)
		return;
	CHECK(strcmp(C.control, "/run/lfbvnc/ctl.sock") == 0, "control");
	CHECK(strcmp(C.control_group, "lfbvnc") == 0, "control-group");
	CHECK(strcmp(C.watch_dir, "/run/lfbvnc/providers") == 0, "watch-dir");
	CHECK(C.watch_port_base == 6000, "watch-port-base");
	CHECK(strcmp(C.web_dir, "/usr/share/novnc") == 0, "web-dir");
	CHECK(strcmp(C.user, "_lfbvnc") == 0, "user");
	CHECK(C.nguests == 2, "two guests, got %zu", C.nguests);

	a = conf_find(&C, "alpha");
	b = conf_find(&C, "beta");
	CHECK(a != NULL && b != NULL, "conf_find");
	CHECK(conf_find(&C, "gamma") == NULL, "conf_find absent");
	if (a == NULL || b == NULL)
		return;
	CHECK(a->backend == CONF_BACKEND_LFBSHM, "alpha backend");
	CHECK(strcmp(a->socket, "/run/lfbvnc/alpha.sock") == 0, "socket");
	CHECK(strcmp(a->listen, "::1") == 0, "alpha listen");
	CHECK(a->port == 5901 && a->web && a->web_port == 5801, "ports");
	CHECK(strcmp(a->password_file, "/etc/lfbvnc/alpha.pw") == 0, "pw");
	CHECK(!a->unsafe_no_auth && a->max_clients == 4 && a->tile == 64 &&
	    a->force_compare, "alpha flags");
	CHECK(a->policy.min_interval_ms == 1000 / 30 &&
	    a->policy.max_interval_ms == 500 && a->policy.clean_scans == 3 &&
	    a->policy.backoff_interval_ms == 2000 &&
	    a->policy.fallback_interval_ms == 200, "alpha policy");

	/* Inherited from globals, including ones written after it. */
	CHECK(b->backend == CONF_BACKEND_XEN && b->port == 5902, "beta own");
	CHECK(strcmp(b->listen, "0.0.0.0") == 0, "beta inherits listen");
	CHECK(strcmp(b->password_file, "/etc/lfbvnc/default.pw") == 0,
	    "beta inherits password-file");
	CHECK(b->policy.min_interval_ms == 20, "beta inherits max-rate 50");
	CHECK(b->tile == 16 && b->web_port == 0 && b->max_clients == 2 &&
	    b->policy.clean_scans == 5, "beta inherits the rest");
	CHECK(!b->web && b->policy.max_interval_ms == 250,
	    "beta keeps built-in defaults");
	/* The globals did not override what alpha gave itself. */
	CHECK(a->tile == 64 && a->max_clients == 4 &&
	    strcmp(a->listen, "::1") == 0, "alpha keeps its own");
	CHECK(conf_check(&C, why, sizeof(why)) == 0, "check: %s", why);
}

static void
test_defaults(void)
{
	const struct conf_guest *g;
	char why[256] = "";

	CHECK(parse(&C, "guest d {\nsocket /s\n}\n", why, sizeof(why)) == 0,
	    "minimal: %s", why);
	CHECK(strcmp(C.control, LFBVNC_CONTROL_PATH) == 0, "control default");
	CHECK(strcmp(C.web_dir, NOVNC_DIR) == 0, "web-dir default");
	CHECK(C.watch_port_base == 5910 && C.watch_dir[0] == '\0' &&
	    C.user[0] == '\0' && C.control_group[0] == '\0',
	    "global defaults");
	g = conf_find(&C, "d");
	CHECK(g != NULL, "guest d");
	if (g == NULL)
		return;
	CHECK(strcmp(g->listen, "127.0.0.1") == 0 && g->port == 5900 &&
	    g->web_port == 5800 && !g->web && g->tile == 32 &&
	    g->max_clients == 0 && !g->unsafe_no_auth && !g->force_compare &&
	    g->backend == CONF_BACKEND_LFBSHM &&
	    g->password_file[0] == '\0', "guest defaults");
	CHECK(g->policy.min_interval_ms == 16 &&
	    g->policy.max_interval_ms == 250, "policy defaults");
	CHECK(conf_check(&C, why, sizeof(why)) == 0, "check: %s", why);

	/* Empty text and comments only are fine. */
	CHECK(parse(&C, "", why, sizeof(why)) == 0, "empty: %s", why);
	CHECK(parse(&C, "# x\n\n   \t# y \xc3\xa9\n", why, sizeof(why)) == 0,
	    "comments (UTF-8 allowed there): %s", why);
	/* max-rate edges, min-interval exact. */
	CHECK(parse(&C, "max-rate 1000\n", why, sizeof(why)) == 0 &&
	    C.defaults.policy.min_interval_ms == 1, "max-rate 1000");
	CHECK(parse(&C, "max-rate 1\n", why, sizeof(why)) == 0 &&
	    C.defaults.policy.min_interval_ms == 1000, "max-rate 1");
	CHECK(parse(&C, "min-interval 7\n", why, sizeof(why)) == 0 &&
	    C.defaults.policy.min_interval_ms == 7, "min-interval");
	/* Escapes in quoted strings. */
	CHECK(parse(&C, "web-dir \"/a b/\\\"q\\\"/\\\\\"\n", why,
	    sizeof(why)) == 0 && strcmp(C.web_dir, "/a b/\"q\"/\\") == 0,
	    "escapes: %s / %s", why, C.web_dir);
	/* Empty quoted values mean none. */
	CHECK(parse(&C, "password-file \"\"\nuser \"\"\n", why,
	    sizeof(why)) == 0 && C.defaults.password_file[0] == '\0',
	    "empty values: %s", why);
	/* A later setting wins. */
	CHECK(parse(&C, "port 1\nport 2\n", why, sizeof(why)) == 0 &&
	    C.defaults.port == 2, "last wins");
}

static void
test_errors(void)
{
	char big[CONF_LINE_MAX + 64], *many;
	size_t i, off;

	/* unknown keyword */
	BAD("port 1\nfrobnicate yes\n", 2, "unknown keyword 'frobnicate'");
	/* missing value */
	BAD("\n\nport\n", 3, "port: missing value");
	BAD("guest g {\nsocket\n}\n", 2, "socket: missing value");
	/* extra tokens */
	BAD("port 5900 5901\n", 1, "unexpected text after the value");
	BAD("guest g { x\n}\n", 1, "unexpected text after {");
	BAD("guest g {\n} }\n", 2, "unexpected text after }");
	/* bad numbers: not digits, trailing junk, sign, blank, range */
	BAD("port x\n", 1, "not a decimal number");
	BAD("port 59x\n", 1, "not a decimal number");
	BAD("port -1\n", 1, "not a decimal number");
	BAD("port +1\n", 1, "not a decimal number");
	BAD("port 0x10\n", 1, "not a decimal number");
	BAD("port \" 1\"\n", 1, "not a decimal number");
	BAD("port 65536\n", 1, "out of range (0..65535)");
	BAD("port 99999999999999999999999999\n", 1, "out of range");
	BAD("max-rate 0\n", 1, "out of range (1..1000)");
	BAD("max-rate 1001\n", 1, "out of range (1..1000)");
	BAD("clean-scans 0\n", 1, "out of range");
	BAD("watch-port-base 0\n", 1, "out of range");
	BAD("tile 48\n", 1, "must be 16, 32, 64 or 128");
	BAD("web maybe\n", 1, "must be yes or no");
	BAD("backend qemu\n", 1, "must be lfbshm or xen");
	BAD("listen localhost\n", 1, "not a numeric IPv4 or IPv6 address");
	BAD("socket relative.sock\n", 1, "must be an absolute path");
	BAD("web-dir \"\"\n", 1, "needs a path");
	BAD("user \"bad name\"\n", 1, "not a valid user or group name");
	/* unterminated quote, bad escape, quote placement */
	BAD("web-dir \"/x\n", 1, "unterminated quoted string");
	BAD("web-dir \"/x\\\n", 1, "unterminated quoted string");
	BAD("web-dir \"/x\\n\"\n", 1, "unknown escape");
	BAD("web-dir \"/x\"y\n", 1, "followed by a blank");
	BAD("web-dir /x\"y\"\n", 1, "quote inside a word");
	/* unterminated block: reported at the block's first line */
	BAD("port 1\nguest g {\nsocket /s\n", 2, "block not closed");
	/* blocks: nesting, stray braces, names, global-only keywords */
	BAD("guest a {\nguest b {\n}\n}\n", 2, "do not nest");
	BAD("}\n", 1, "} without a guest block");
	BAD("{\n", 1, "expected a keyword");
	BAD("\"port\" 1\n", 1, "expected a keyword");
	BAD("guest\n", 1, "guest: missing name");
	BAD("guest {\n", 1, "guest: missing name");
	BAD("guest g\n", 1, "expected { after the name");
	BAD("guest g x {\n", 1, "expected { after the name");
	BAD("guest b@d {\n}\n", 1, "bad name");
	BAD("guest g {\ncontrol /c\n}\n", 2, "a global setting");
	BAD("port {\n", 1, "expected a value");
	/* duplicate guest name */
	BAD("guest a {\nport 1\n}\nguest a {\nport 2\n}\n", 4,
	    "guest a: defined twice");
	/* duplicate port on the same address */
	BAD("guest a {\nport 5900\n}\nguest b {\nport 5900\n}\n", 4,
	    "port 5900 on 127.0.0.1 is already used by guest a");
	/* ... also when the clash comes from a later global */
	BAD("guest a {\nsocket /a\n}\nguest b {\nport 5901\n"
	    "listen 0.0.0.0\n}\nport 5901\n", 4, "already used by guest a");
	/* ... and a guest's own web port */
	BAD("guest a {\nweb yes\nweb-port 5900\n}\n", 1,
	    "port and web-port are both 5900");
	BAD("guest a {\nlisten ::\nport 7000\n}\nguest b {\nlisten 10.0.0.1\n"
	    "port 7000\n}\n", 5, "already used by guest a");
	/* too many guests */
	many = malloc((CONF_MAX_GUESTS + 1) * 48);
	if (many != NULL) {
		for (i = 0, off = 0; i <= CONF_MAX_GUESTS; i++)
			off += (size_t)sprintf(many + off,
			    "guest g%zu {\nport %zu\n}\n", i, 10000 + i);
		BAD(many, 3 * CONF_MAX_GUESTS + 1, "too many guests");
		free(many);
	}
	/* too-long line */
	memset(big, 'x', sizeof(big));
	memcpy(big, "# ", 2);
	big[CONF_LINE_MAX + 1] = '\n';
	big[CONF_LINE_MAX + 2] = '\0';
	BAD(big, 1, "line too long");
	big[CONF_LINE_MAX] = '\n';	/* exactly the maximum: fine */
	big[CONF_LINE_MAX + 1] = '\0';
	{
		char why[128] = "";

		CHECK(parse(&C, big, why, sizeof(why)) == 0,
		    "a line of exactly CONF_LINE_MAX: %s", why);
	}
	/* too-long values */
	memcpy(big, "socket /", 8);
	memset(big + 8, 'a', 300);
	big[308] = '\0';
	BAD(big, 1, "path too long");
	memcpy(big, "socket /", 8);
	memset(big + 8, 'a', 200);
	big[208] = '\0';
	BAD(big, 1, "too long for a unix socket");
	memcpy(big, "user ", 5);
	memset(big + 5, 'u', 65);
	big[70] = '\0';
	BAD(big, 1, "name too long");
	memcpy(big, "guest ", 6);
	memset(big + 6, 'g', 65);
	memcpy(big + 71, " {\n}\n", 6);
	BAD(big, 1, "bad name");
	BAD("listen 1111:2222:3333:4444:5555:6666:7777:8888:9999:0000:"
	    "aaaa:bbbb:cccc:dddd\n", 1, "address too long");
	/* non-printable bytes */
	BAD("port 1\nport 2\x01\n", 2, "non-printable byte 0x01");
	BAD("port 1\r\n", 1, "non-printable byte 0x0d");
	BAD("web-dir /caf\xc3\xa9\n", 1, "non-ASCII byte 0xc3");
	BAD("# \x7f\n", 1, "non-printable byte 0x7f");
	{
		static const char nul[] = "port 1\nport\0 2\n";
		char why[128] = "";

		conf_init(&C);
		CHECK(conf_parse(&C, "t.conf", nul, sizeof(nul) - 1, why,
		    sizeof(why)) == -EINVAL &&
		    strstr(why, "t.conf:2: non-printable byte 0x00") != NULL,
		    "NUL byte: %s", why);
	}
}

static void
test_set(void)
{
	struct conf_guest g;
	char why[256] = "";

	CHECK(parse(&C, "guest a {\ntile 64\nsocket /a\n}\n"
	    "guest b {\nsocket /b\nport 5901\n}\n", why, sizeof(why)) == 0,
	    "set base: %s", why);
	/* A global override reaches guests that did not give it. */
	CHECK(conf_set(&C, NULL, "tile", "128", why, sizeof(why)) == 0,
	    "set tile: %s", why);
	CHECK(C.guests[0].tile == 64 && C.guests[1].tile == 128 &&
	    C.defaults.tile == 128, "tile propagation");
	CHECK(conf_set_option(&C, NULL, "max-rate=10", why, sizeof(why)) == 0,
	    "set_option: %s", why);
	CHECK(C.guests[0].policy.min_interval_ms == 100 &&
	    C.guests[1].policy.min_interval_ms == 100, "max-rate propagation");
	CHECK(conf_set(&C, NULL, "control", "/tmp/c.sock", why,
	    sizeof(why)) == 0 && strcmp(C.control, "/tmp/c.sock") == 0,
	    "set global-only");
	/* On one guest: sticks, and is no longer overridden. */
	CHECK(conf_set(&C, &C.guests[1], "port", "6000", why,
	    sizeof(why)) == 0 && C.guests[1].port == 6000, "guest set");
	CHECK(conf_set(&C, &C.guests[1], "max-clients", "3", why,
	    sizeof(why)) == 0, "guest set max-clients");
	CHECK(conf_set(&C, NULL, "max-clients", "9", why, sizeof(why)) == 0 &&
	    C.guests[1].max_clients == 3 && C.guests[0].max_clients == 9,
	    "own setting survives a global");
	/* A guest outside the conf (attach builds one like this). */
	g = C.defaults;
	snprintf(g.name, sizeof(g.name), "new");
	CHECK(conf_set(&C, &g, "socket", "/run/x.sock", why, sizeof(why)) ==
	    0 && strcmp(g.socket, "/run/x.sock") == 0, "detached guest");
	/* Errors, each named by key. */
	CHECK(conf_set(&C, NULL, "nope", "1", why, sizeof(why)) == -EINVAL &&
	    strstr(why, "unknown setting 'nope'") != NULL, "unknown: %s", why);
	CHECK(conf_set(&C, &g, "user", "x", why, sizeof(why)) == -EINVAL &&
	    strstr(why, "user: a global setting") != NULL, "global on guest");
	CHECK(conf_set(&C, NULL, "guest", "x", why, sizeof(why)) == -EINVAL,
	    "guest is not a setting");
	CHECK(conf_set(&C, NULL, "port", "70000", why, sizeof(why)) ==
	    -ERANGE && strstr(why, "port: out of range") != NULL,
	    "range: %s", why);
	CHECK(conf_set(&C, NULL, "listen", "1.2.3.4\n", why, sizeof(why)) ==
	    -EINVAL && strstr(why, "non-printable") != NULL, "newline");
	CHECK(conf_set_option(&C, NULL, "port", why, sizeof(why)) == -EINVAL &&
	    strstr(why, "key=value") != NULL, "option without =");
	CHECK(conf_set_option(&C, NULL, "=1", why, sizeof(why)) == -EINVAL,
	    "option without key");
	{
		char *huge = malloc(CONF_LINE_MAX + 10);

		if (huge != NULL) {
			memset(huge, '1', CONF_LINE_MAX + 9);
			huge[CONF_LINE_MAX + 9] = '\0';
			CHECK(conf_set(&C, NULL, "port", huge, why,
			    sizeof(why)) < 0, "huge value");
			free(huge);
		}
	}
	/* A failed set changes nothing. */
	CHECK(C.defaults.port == 5900 && C.guests[0].port == 5900,
	    "failed sets leave values");
}

static void
test_check(void)
{
	char why[256] = "";

	CHECK(parse(&C, "guest a {\nbackend lfbshm\n}\n", why,
	    sizeof(why)) == 0, "parse: %s", why);
	CHECK(conf_check(&C, why, sizeof(why)) == -EINVAL &&
	    strstr(why, "guest a: backend lfbshm needs a socket") != NULL,
	    "lfbshm socket: %s", why);
	CHECK(parse(&C, "guest a {\nbackend xen\n}\n", why, sizeof(why)) ==
	    0 && conf_check(&C, why, sizeof(why)) == 0, "xen needs none");

	CHECK(parse(&C, "guest a {\nsocket /a\nmax-interval 5\n}\n", why,
	    sizeof(why)) == 0, "parse: %s", why);
	CHECK(conf_check(&C, why, sizeof(why)) == -EINVAL &&
	    strstr(why, "guest a: maximum interval") != NULL,
	    "policy: %s", why);
	CHECK(parse(&C, "backoff-interval 10\n", why, sizeof(why)) == 0 &&
	    conf_check(&C, why, sizeof(why)) == -EINVAL &&
	    strstr(why, "global settings:") != NULL, "global policy: %s", why);

	/* Built by hand, as lfbvncd -g and attach do. */
	CHECK(parse(&C, "guest a {\nsocket /a\n}\n", why, sizeof(why)) == 0,
	    "parse");
	C.guests[1] = C.guests[0];
	C.nguests = 2;
	C.guests[1].port = 5901;
	CHECK(conf_check(&C, why, sizeof(why)) == -EINVAL &&
	    strstr(why, "guest a: defined twice") != NULL, "names: %s", why);
	snprintf(C.guests[1].name, sizeof(C.guests[1].name), "b");
	CHECK(conf_check(&C, why, sizeof(why)) == 0, "distinct: %s", why);
	C.guests[1].port = 5900;
	CHECK(conf_check(&C, why, sizeof(why)) == -EADDRINUSE &&
	    strstr(why, "guest b: port 5900") != NULL, "ports: %s", why);
	C.guests[0].port = C.guests[1].port = 0;
	CHECK(conf_check(&C, why, sizeof(why)) == 0, "port 0 twice is fine");
	C.guests[0].port = C.guests[1].port = 5900;
	snprintf(C.guests[1].listen, sizeof(C.guests[1].listen), "127.0.0.2");
	CHECK(conf_check(&C, why, sizeof(why)) == 0,
	    "same port, other address");
	snprintf(C.guests[1].listen, sizeof(C.guests[1].listen), "0.0.0.0");
	CHECK(conf_check(&C, why, sizeof(why)) == -EADDRINUSE,
	    "wildcard overlaps");
	snprintf(C.guests[1].listen, sizeof(C.guests[1].listen), "::1");
	CHECK(conf_check(&C, why, sizeof(why)) == 0, "IPv6 loopback apart");
	snprintf(C.guests[1].listen, sizeof(C.guests[1].listen),
	    "0:0:0:0:0:0:0:1");
	snprintf(C.guests[0].listen, sizeof(C.guests[0].listen), "::1");
	CHECK(conf_check(&C, why, sizeof(why)) == -EADDRINUSE,
	    "addresses compared as numbers");
	C.guests[0].web = true;
	C.guests[0].web_port = 5901;
	C.guests[1].port = 5901;
	CHECK(conf_check(&C, why, sizeof(why)) == -EADDRINUSE,
	    "web port against another's port");
	snprintf(C.guests[1].name, sizeof(C.guests[1].name), "%s", "bad name");
	CHECK(conf_check(&C, why, sizeof(why)) == -EINVAL, "bad name");
}

static bool
guest_equal(const struct conf_guest *a, const struct conf_guest *b)
{
	return strcmp(a->name, b->name) == 0 && a->backend == b->backend &&
	    strcmp(a->socket, b->socket) == 0 &&
	    strcmp(a->listen, b->listen) == 0 && a->port == b->port &&
	    strcmp(a->password_file, b->password_file) == 0 &&
	    a->web == b->web && a->web_port == b->web_port &&
	    a->unsafe_no_auth == b->unsafe_no_auth &&
	    a->max_clients == b->max_clients && a->tile == b->tile &&
	    a->force_compare == b->force_compare &&
	    memcmp(&a->policy, &b->policy, sizeof(a->policy)) == 0;
}

static void
round_trip(const struct conf_guest *g)
{
	char text[CONF_FORMAT_MAX], text2[CONF_FORMAT_MAX], why[256] = "";
	const struct conf_guest *p;
	int n, n2;

	n = conf_guest_format(g, text, sizeof(text));
	CHECK(n > 0 && (size_t)n == strlen(text), "format %s: %d", g->name, n);
	if (n <= 0)
		return;
	/* Globals on the reading side must not matter. */
	conf_init(&C2);
	C2.defaults.port = 1234;
	C2.defaults.tile = 128;
	snprintf(C2.defaults.listen, sizeof(C2.defaults.listen), "10.1.1.1");
	CHECK(conf_parse(&C2, "worker", text, (size_t)n, why,
	    sizeof(why)) == 0, "reparse %s: %s\n%s", g->name, why, text);
	p = conf_find(&C2, g->name);
	CHECK(p != NULL && guest_equal(g, p), "round trip %s:\n%s", g->name,
	    text);
	if (p == NULL)
		return;
	n2 = conf_guest_format(p, text2, sizeof(text2));
	CHECK(n2 == n && memcmp(text, text2, (size_t)n) == 0,
	    "format is stable for %s", g->name);
}

static void
test_round_trip(void)
{
	struct conf_guest g;
	char why[256] = "", small[64];
	static const char *vals[][2] = {
		{ "socket", "/run/with space/\"q\"/back\\slash.sock" },
		{ "listen", "fe80::1" },
		{ "port", "0" },
		{ "password-file", "/etc/p w" },
		{ "web", "yes" },
		{ "web-port", "65535" },
		{ "unsafe-no-auth", "yes" },
		{ "max-clients", "65535" },
		{ "tile", "128" },
		{ "force-compare", "yes" },
		{ "min-interval", "333" },
		{ "max-interval", "60000" },
		{ "clean-scans", "100000" },
		{ "backoff-interval", "600000" },
		{ "fallback-interval", "1" },
		{ "backend", "xen" },
	};
	size_t i;

	conf_init(&C);
	g = C.defaults;
	snprintf(g.name, sizeof(g.name), "plain");
	round_trip(&g);

	g = C.defaults;
	snprintf(g.name, sizeof(g.name), "A.b_c-9");
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		CHECK(conf_set(&C, &g, vals[i][0], vals[i][1], why,
		    sizeof(why)) == 0, "set %s: %s", vals[i][0], why);
	round_trip(&g);

	/* Values no max-rate can give survive: format writes min-interval. */
	for (i = 1; i <= 10000; i += 97) {
		g = C.defaults;
		snprintf(g.name, sizeof(g.name), "i%zu", i);
		g.policy.min_interval_ms = (uint32_t)i;
		round_trip(&g);
	}

	/* The longest possible guest fits CONF_FORMAT_MAX. */
	g = C.defaults;
	memset(g.name, 'n', CONF_NAME_MAX);
	g.name[CONF_NAME_MAX] = '\0';
	memset(g.socket, '"', 100);
	g.socket[0] = '/';
	g.socket[100] = '\0';
	memset(g.password_file, '\\', sizeof(g.password_file) - 1);
	g.password_file[0] = '/';
	g.password_file[sizeof(g.password_file) - 1] = '\0';
	snprintf(g.listen, sizeof(g.listen), "ffff:ffff:ffff:ffff:ffff:ffff:"
	    "255.255.255.255");
	g.port = g.web_port = 65535;
	g.policy.fallback_interval_ms = 600000;
	round_trip(&g);

	CHECK(conf_guest_format(&g, small, sizeof(small)) == -ENOSPC,
	    "ENOSPC");
	CHECK(conf_guest_format(&g, small, 0) == -ENOSPC, "ENOSPC at 0");
	snprintf(g.name, sizeof(g.name), "bad/name");
	CHECK(conf_guest_format(&g, small, sizeof(small)) == -EINVAL,
	    "bad name");
	CHECK(!conf_guest_name_ok("") && !conf_guest_name_ok(NULL) &&
	    !conf_guest_name_ok("a b") && !conf_guest_name_ok("-x") &&
	    !conf_guest_name_ok("..") && !conf_guest_name_ok(".x") &&
	    conf_guest_name_ok("x"), "names");
}

static int
write_file(const char *path, const char *text, mode_t mode)
{
	int fd;
	ssize_t n;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return -1;
	n = write(fd, text, strlen(text));
	if (fchmod(fd, mode) == -1)
		n = -1;
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static void
test_load(void)
{
	char dir[] = "/tmp/test-conf.XXXXXX", path[64], why[256] = "";
	char *big;
	int fd;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/lfbvncd.conf", dir);
	CHECK(write_file(path, "guest a {\nsocket /a\n}\n", 0640) == 0,
	    "write");
	conf_init(&C);
	CHECK(conf_load(&C, path, why, sizeof(why)) == 0 && C.nguests == 1,
	    "load: %s", why);
	CHECK(write_file(path, "port x\n", 0600) == 0, "write");
	conf_init(&C);
	CHECK(conf_load(&C, path, why, sizeof(why)) == -EINVAL &&
	    strncmp(why, path, strlen(path)) == 0 &&
	    strstr(why, ":1: port: not a decimal number") != NULL,
	    "errors name the file: %s", why);
	CHECK(write_file(path, "port 1\n", 0620) == 0, "write");
	conf_init(&C);
	CHECK(conf_load(&C, path, why, sizeof(why)) == -EPERM &&
	    strstr(why, "writable by group or others") != NULL,
	    "group-writable: %s", why);
	conf_init(&C);
	CHECK(conf_load(&C, dir, why, sizeof(why)) == -EINVAL &&
	    strstr(why, "not a regular file") != NULL, "directory: %s", why);
	unlink(path);
	conf_init(&C);
	CHECK(conf_load(&C, path, why, sizeof(why)) == -ENOENT, "missing");
	if ((big = malloc(CONF_FILE_MAX + 2)) != NULL) {
		memset(big, '\n', CONF_FILE_MAX + 1);
		big[CONF_FILE_MAX + 1] = '\0';
		CHECK(write_file(path, big, 0600) == 0, "write big");
		conf_init(&C);
		CHECK(conf_load(&C, path, why, sizeof(why)) == -EFBIG,
		    "too large: %s", why);
		free(big);
	}
	unlink(path);
	/* /dev/null is a character device: refused like a directory. */
	if ((fd = open("/dev/null", O_RDONLY)) != -1) {
		close(fd);
		conf_init(&C);
		CHECK(conf_load(&C, "/dev/null", why, sizeof(why)) == -EINVAL,
		    "device");
	}
	rmdir(dir);
}

int
main(void)
{
	test_full();
	test_defaults();
	test_errors();
	test_set();
	test_check();
	test_round_trip();
	test_load();
	if (failures != 0) {
		fprintf(stderr, "test-conf: %d failures\n", failures);
		return 1;
	}
	printf("test-conf: ok\n");
	return 0;
}
