/*
 * conf.c - lfbvncd.conf; see conf.h and docs/CONFIGURATION.md.
 *
 * One table of keywords drives parsing, conf_set, inheritance and
 * conf_guest_format, so a keyword added to it is read, overridden,
 * inherited and handed to workers alike.
 *
 * Lexical rules, per line: bytes below 0x20 (except tab) and 0x7f are
 * errors anywhere; bytes above 0x7f only in comments.  A token is "{",
 * "}", a "quoted string" (\" and \\ are the only escapes) or a bare word
 * (up to a blank or a brace).  "#" at the start of a token begins a
 * comment, as in the shell.
 */
#include "config.h"

#include "conf.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "paths.h"

#define SUN_PATH_MAX	sizeof(((struct sockaddr_un *)0)->sun_path)
#define MAXTOK		4	/* "guest NAME {" plus one to see extras */
#define ERR_MAX		192

enum kw_type {
	KW_PATH,	/* absolute path */
	KW_ID,		/* user or group name */
	KW_ADDR,	/* numeric IPv4 or IPv6 address */
	KW_INT,		/* int, min..max */
	KW_U32,		/* uint32_t, min..max */
	KW_BOOL,	/* yes | no */
	KW_BACKEND,	/* lfbshm | xen */
	KW_TILE,	/* 16 | 32 | 64 | 128 */
	KW_RATE,	/* Hz, min..max, stored as 1000 / Hz ms */
	KW_MODE,	/* WxHxBPP[@stride]: digits, 'x' and '@' only */
	KW_PATHLIST,	/* absolute paths separated by ':' */
	KW_LISTEN,	/* PORT | IPV4:PORT | [IPV6]:PORT */
};

#define KW_GLOBAL	0x01	/* a field of struct conf, not of a guest */
#define KW_EMPTY_OK	0x02	/* "" is allowed and means none / off */
#define KW_SOCKET	0x04	/* must fit in sockaddr_un.sun_path */
#define KW_ALIAS	0x08	/* another spelling: not written by format */

struct keyword {
	const char *name;
	enum kw_type type;
	unsigned int flags;
	size_t off, size;	/* in struct conf or struct conf_guest */
	uint32_t min, max;
	uint32_t bit;		/* in conf_guest.given; 0 for globals */
};

#define C_(f)	offsetof(struct conf, f), sizeof(((struct conf *)0)->f)
#define G_(f)	offsetof(struct conf_guest, f), \
		sizeof(((struct conf_guest *)0)->f)

static const struct keyword keywords[] = {
	{ "control", KW_PATH, KW_GLOBAL | KW_SOCKET, C_(control), 0, 0, 0 },
	{ "control-group", KW_ID, KW_GLOBAL | KW_EMPTY_OK,
	    C_(control_group), 0, 0, 0 },
	{ "watch-dir", KW_PATH, KW_GLOBAL | KW_EMPTY_OK, C_(watch_dir),
	    0, 0, 0 },
	{ "watch-port-base", KW_INT, KW_GLOBAL, C_(watch_port_base),
	    1, 65535, 0 },
	{ "web-dir", KW_PATH, KW_GLOBAL, C_(web_dir), 0, 0, 0 },
	{ "user", KW_ID, KW_GLOBAL | KW_EMPTY_OK, C_(user), 0, 0, 0 },
	{ "xl-config-dirs", KW_PATHLIST, KW_GLOBAL | KW_EMPTY_OK,
	    C_(xl_config_dirs), 0, 0, 0 },
	{ "metrics-listen", KW_LISTEN, KW_GLOBAL | KW_EMPTY_OK,
	    C_(metrics_listen), 0, 0, 0 },

	{ "backend", KW_BACKEND, 0, G_(backend), 0, 0, 1u << 0 },
	{ "socket", KW_PATH, KW_EMPTY_OK | KW_SOCKET, G_(socket),
	    0, 0, 1u << 1 },
	{ "listen", KW_ADDR, 0, G_(listen), 0, 0, 1u << 2 },
	{ "port", KW_INT, 0, G_(port), 0, 65535, 1u << 3 },
	{ "password-file", KW_PATH, KW_EMPTY_OK, G_(password_file),
	    0, 0, 1u << 4 },
	{ "web", KW_BOOL, 0, G_(web), 0, 0, 1u << 5 },
	{ "web-port", KW_INT, 0, G_(web_port), 0, 65535, 1u << 6 },
	{ "unsafe-no-auth", KW_BOOL, 0, G_(unsafe_no_auth), 0, 0, 1u << 7 },
	{ "max-clients", KW_U32, 0, G_(max_clients), 0, 65535, 1u << 8 },
	{ "tile", KW_TILE, 0, G_(tile), 16, 128, 1u << 9 },
	{ "force-compare", KW_BOOL, 0, G_(force_compare), 0, 0, 1u << 10 },
	{ "max-stall", KW_U32, 0, G_(max_stall_ms), 100, 600000, 1u << 16 },
	{ "mode", KW_MODE, KW_EMPTY_OK, G_(mode), 0, 0, 1u << 17 },
	{ "domid", KW_U32, 0, G_(domid), 0, 0x7fef, 1u << 18 },
	/* max-rate is the friendly spelling; min-interval is exact. */
	{ "min-interval", KW_U32, 0, G_(policy.min_interval_ms),
	    1, 10000, 1u << 11 },
	{ "max-rate", KW_RATE, KW_ALIAS, G_(policy.min_interval_ms),
	    1, 1000, 1u << 11 },
	{ "max-interval", KW_U32, 0, G_(policy.max_interval_ms),
	    1, 60000, 1u << 12 },
	{ "clean-scans", KW_U32, 0, G_(policy.clean_scans),
	    1, 100000, 1u << 13 },
	{ "backoff-interval", KW_U32, 0, G_(policy.backoff_interval_ms),
	    1, 600000, 1u << 14 },
	{ "fallback-interval", KW_U32, 0, G_(policy.fallback_interval_ms),
	    1, 600000, 1u << 15 },
};

#define NKEYWORDS	(sizeof(keywords) / sizeof(keywords[0]))

struct token {
	const char *s;
	bool quoted;
};

struct parser {
	struct conf *c;
	const char *file;
	unsigned int line;
	char *why;
	size_t whylen;
};

static void say(char *why, size_t whylen, const char *fmt, ...)
    LOG_PRINTF(3, 4);

static void
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* "FILE:LINE: " then the message. */
static int
perr(struct parser *p, const char *fmt, ...) LOG_PRINTF(2, 3);

static int
perr(struct parser *p, const char *fmt, ...)
{
	char msg[ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say(p->why, p->whylen, "%s:%u: %s", p->file, p->line, msg);
	return -EINVAL;
}

static const struct keyword *
kw_find(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYWORDS; i++)
		if (strcmp(keywords[i].name, name) == 0)
			return &keywords[i];
	return NULL;
}

static const char *
backend_name(enum conf_backend b)
{
	switch (b) {
	case CONF_BACKEND_LFBSHM:
		return "lfbshm";
	case CONF_BACKEND_XEN:
		return "xen";
	}
	return "?";
}

/* Decimal digits only: strtoul alone would take blanks, signs and 0x. */
static int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

static bool
id_ok(const char *s)
{
	size_t i;

	if (s[0] == '-')
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

bool
conf_guest_name_ok(const char *name)
{
	size_t n;

	if (name == NULL)
		return false;
	/* No leading '.' or '-': names end up in file names and argv. */
	n = strnlen(name, CONF_NAME_MAX + 1);
	return n >= 1 && n <= CONF_NAME_MAX && name[0] != '.' && id_ok(name);
}

/*
 * Parse value for kw and store it at base + kw->off; base is a struct
 * conf or a struct conf_guest as kw->flags say.  Nothing is stored on
 * error.  The message (err) has no prefix.
 */
static int
kw_store(const struct keyword *kw, void *base, const char *v, char *err,
    size_t errlen)
{
	unsigned char *field = (unsigned char *)base + kw->off;
	struct in6_addr a6;
	struct in_addr a4;
	uint32_t u;
	size_t i, len;
	int rc;

	len = strlen(v);
	for (i = 0; i < len; i++) {
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e) {
			say(err, errlen, "non-printable byte 0x%02x in the value",
			    (unsigned char)v[i]);
			return -EINVAL;
		}
	}

	switch (kw->type) {
	case KW_PATH:
		if (len == 0) {
			if (!(kw->flags & KW_EMPTY_OK)) {
				say(err, errlen, "needs a path");
				return -EINVAL;
			}
		} else if (v[0] != '/') {
			say(err, errlen, "must be an absolute path");
			return -EINVAL;
		} else if (len >= kw->size) {
			say(err, errlen, "path too long (at most %zu octets)",
			    kw->size - 1);
			return -ENAMETOOLONG;
		} else if ((kw->flags & KW_SOCKET) && len >= SUN_PATH_MAX) {
			say(err, errlen, "path too long for a unix socket "
			    "(at most %zu octets)", SUN_PATH_MAX - 1);
			return -ENAMETOOLONG;
		}
		memcpy(field, v, len + 1);
		return 0;
	case KW_ID:
		if (len >= kw->size) {
			say(err, errlen, "name too long (at most %zu octets)",
			    kw->size - 1);
			return -ENAMETOOLONG;
		}
		if (len == 0 && !(kw->flags & KW_EMPTY_OK)) {
			say(err, errlen, "needs a name");
			return -EINVAL;
		}
		if (!id_ok(v)) {
			say(err, errlen, "not a valid user or group name "
			    "(letters, digits, '.', '_', '-')");
			return -EINVAL;
		}
		memcpy(field, v, len + 1);
		return 0;
	case KW_ADDR:
		if (len >= kw->size) {
			say(err, errlen, "address too long (at most %zu octets)",
			    kw->size - 1);
			return -ENAMETOOLONG;
		}
		if (inet_pton(AF_INET, v, &a4) != 1 &&
		    inet_pton(AF_INET6, v, &a6) != 1) {
			say(err, errlen, "not a numeric IPv4 or IPv6 address");
			return -EINVAL;
		}
		memcpy(field, v, len + 1);
		return 0;
	case KW_INT:
	case KW_U32:
	case KW_RATE:
		rc = parse_u32(v, kw->min, kw->max, &u);
		if (rc == -EINVAL) {
			say(err, errlen, "not a decimal number");
			return rc;
		} else if (rc != 0) {
			say(err, errlen, "out of range (%u..%u)", kw->min,
			    kw->max);
			return rc;
		}
		if (kw->type == KW_INT) {
			int iv = (int)u;

			memcpy(field, &iv, sizeof(iv));
		} else {
			if (kw->type == KW_RATE)
				u = 1000 / u;
			memcpy(field, &u, sizeof(u));
		}
		return 0;
	case KW_TILE:
		if (parse_u32(v, kw->min, kw->max, &u) != 0 ||
		    (u != 16 && u != 32 && u != 64 && u != 128)) {
			say(err, errlen, "must be 16, 32, 64 or 128");
			return -EINVAL;
		}
		memcpy(field, &u, sizeof(u));
		return 0;
	case KW_BOOL: {
		bool b;

		if (strcmp(v, "yes") == 0)
			b = true;
		else if (strcmp(v, "no") == 0)
			b = false;
		else {
			say(err, errlen, "must be yes or no");
			return -EINVAL;
		}
		memcpy(field, &b, sizeof(b));
		return 0;
	}
	case KW_PATHLIST: {
		const char *p;

		if (len >= kw->size) {
			say(err, errlen, "list too long (at most %zu octets)",
			    kw->size - 1);
			return -ENAMETOOLONG;
		}
		for (p = v; len > 0 && *p != '\0'; p = strchr(p, ':') + 1) {
			if (*p != '/') {
				say(err, errlen, "every directory must be an "
				    "absolute path (separate them with ':')");
				return -EINVAL;
			}
			if (strchr(p, ':') == NULL)
				break;
		}
		memcpy(field, v, len + 1);
		return 0;
	}
	case KW_LISTEN: {
		char addr[CONF_ADDR_MAX];
		int family, port;

		if (len >= kw->size) {
			say(err, errlen, "too long (at most %zu octets)",
			    kw->size - 1);
			return -ENAMETOOLONG;
		}
		if (len > 0 && conf_listen_parse(v, addr, &family, &port, err,
		    errlen) != 0)
			return -EINVAL;
		memcpy(field, v, len + 1);
		return 0;
	}
	case KW_MODE:
		if (len >= kw->size) {
			say(err, errlen, "mode too long (at most %zu octets)",
			    kw->size - 1);
			return -ENAMETOOLONG;
		}
		if (strspn(v, "0123456789x@") != len) {
			say(err, errlen, "mode must look like 1024x768x32 or "
			    "1024x768x32@4096");
			return -EINVAL;
		}
		memcpy(field, v, len + 1);
		return 0;
	case KW_BACKEND: {
		enum conf_backend b;

		if (strcmp(v, "lfbshm") == 0)
			b = CONF_BACKEND_LFBSHM;
		else if (strcmp(v, "xen") == 0)
			b = CONF_BACKEND_XEN;
		else {
			say(err, errlen, "must be lfbshm or xen");
			return -EINVAL;
		}
		memcpy(field, &b, sizeof(b));
		return 0;
	}
	}
	say(err, errlen, "internal error: keyword type %d", (int)kw->type);
	return -EINVAL;
}

/*
 * Set kw on guest g, or on the globals (g == NULL).  A global guest
 * setting is copied to every guest that did not give its own, which is
 * what makes globals apply regardless of their place in the file.
 */
static int
apply(struct conf *c, struct conf_guest *g, const struct keyword *kw,
    const char *value, char *err, size_t errlen)
{
	size_t i;
	int rc;

	if (kw->flags & KW_GLOBAL) {
		if (g != NULL) {
			say(err, errlen, "a global setting, not allowed in "
			    "a guest block");
			return -EINVAL;
		}
		return kw_store(kw, c, value, err, errlen);
	}
	if (g != NULL) {
		if ((rc = kw_store(kw, g, value, err, errlen)) == 0)
			g->given |= kw->bit;
		return rc;
	}
	if ((rc = kw_store(kw, &c->defaults, value, err, errlen)) != 0)
		return rc;
	for (i = 0; i < c->nguests && i < CONF_MAX_GUESTS; i++)
		if (!(c->guests[i].given & kw->bit))
			memcpy((unsigned char *)&c->guests[i] + kw->off,
			    (unsigned char *)&c->defaults + kw->off, kw->size);
	return 0;
}

void
conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->control, sizeof(c->control), "%s", LFBVNC_CONTROL_PATH);
	c->watch_port_base = 5910;
	snprintf(c->xl_config_dirs, sizeof(c->xl_config_dirs), "%s",
	    "/etc/xen:/etc/xen/auto");
	snprintf(c->web_dir, sizeof(c->web_dir), "%s", NOVNC_DIR);
	c->defaults.backend = CONF_BACKEND_LFBSHM;
	snprintf(c->defaults.listen, sizeof(c->defaults.listen), "127.0.0.1");
	c->defaults.port = 5900;
	c->defaults.web = false;
	c->defaults.web_port = 5800;
	c->defaults.unsafe_no_auth = false;
	c->defaults.max_clients = 0;
	c->defaults.tile = 32;
	c->defaults.force_compare = false;
	c->defaults.max_stall_ms = 10000;
	policy_defaults(&c->defaults.policy);
	c->defaults.given = 0;
	c->nguests = 0;
}

int
conf_set(struct conf *c, struct conf_guest *guest, const char *key,
    const char *value, char *why, size_t whylen)
{
	const struct keyword *kw;
	char err[ERR_MAX];
	int rc;

	if (key == NULL || value == NULL) {
		say(why, whylen, "missing key or value");
		return -EINVAL;
	}
	if ((kw = kw_find(key)) == NULL) {
		say(why, whylen, "unknown setting '%.*s'", 32, key);
		return -EINVAL;
	}
	/* Bounded before any copy: the caller's string may be anything. */
	if (strnlen(value, CONF_LINE_MAX + 1) > CONF_LINE_MAX) {
		say(why, whylen, "%s: value too long", kw->name);
		return -ENAMETOOLONG;
	}
	if ((rc = apply(c, guest, kw, value, err, sizeof(err))) != 0)
		say(why, whylen, "%s: %s", kw->name, err);
	return rc;
}

int
conf_set_option(struct conf *c, struct conf_guest *guest, const char *option,
    char *why, size_t whylen)
{
	char key[32];
	const char *eq;
	size_t n;

	if (option == NULL || (eq = strchr(option, '=')) == NULL) {
		say(why, whylen, "expected key=value");
		return -EINVAL;
	}
	n = (size_t)(eq - option);
	if (n == 0 || n >= sizeof(key)) {
		say(why, whylen, "unknown setting '%.*s'", 32, option);
		return -EINVAL;
	}
	memcpy(key, option, n);
	key[n] = '\0';
	return conf_set(c, guest, key, eq + 1, why, whylen);
}

/*
 * Split one line (no newline) into tokens decoded into buf, which holds
 * CONF_LINE_MAX + MAXTOK + 1 octets (decoding only shrinks text, and each
 * token adds one NUL).  Returns the count; MAXTOK means "and more".
 */
static int
tokenize(struct parser *p, const char *line, size_t len, char *buf,
    struct token *tok)
{
	size_t i = 0, o = 0;
	int n = 0;
	unsigned char ch;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)line[i];
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return perr(p, "non-printable byte 0x%02x", ch);
	}
	i = 0;
	while (i < len) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len || line[i] == '#')
			break;
		if (n == MAXTOK)
			return n;
		tok[n].s = buf + o;
		tok[n].quoted = false;
		if (line[i] == '{' || line[i] == '}') {
			buf[o++] = line[i++];
		} else if (line[i] == '"') {
			tok[n].quoted = true;
			for (i++; i < len && line[i] != '"'; i++) {
				ch = (unsigned char)line[i];
				if (ch == '\\') {
					if (++i == len)
						break;
					if (line[i] != '"' && line[i] != '\\')
						return perr(p, "unknown escape "
						    "\\%c in a quoted string "
						    "(only \\\" and \\\\)",
						    line[i]);
					ch = (unsigned char)line[i];
				} else if (ch > 0x7e)
					return perr(p, "non-ASCII byte 0x%02x "
					    "(allowed in comments only)", ch);
				buf[o++] = (char)ch;
			}
			if (i >= len)
				return perr(p, "unterminated quoted string");
			i++;
			if (i < len && line[i] != ' ' && line[i] != '\t')
				return perr(p, "a quoted string must be "
				    "followed by a blank");
		} else {
			for (; i < len && line[i] != ' ' && line[i] != '\t' &&
			    line[i] != '{' && line[i] != '}'; i++) {
				ch = (unsigned char)line[i];
				if (ch == '"')
					return perr(p, "quote inside a word");
				if (ch > 0x7e)
					return perr(p, "non-ASCII byte 0x%02x "
					    "(allowed in comments only)", ch);
				buf[o++] = (char)ch;
			}
		}
		buf[o++] = '\0';
		n++;
	}
	return n;
}

static bool
is_brace(const struct token *t, char b)
{
	return !t->quoted && t->s[0] == b && t->s[1] == '\0';
}

static int
parse_line(struct parser *p, struct conf_guest **gp, unsigned int *gline,
    const char *line, size_t len)
{
	char buf[CONF_LINE_MAX + MAXTOK + 1];
	struct token tok[MAXTOK];
	struct conf *c = p->c;
	const struct keyword *kw;
	struct conf_guest *g;
	char err[ERR_MAX];
	int n;

	if ((n = tokenize(p, line, len, buf, tok)) < 0)
		return n;
	if (n == 0)
		return 0;

	if (is_brace(&tok[0], '}')) {
		if (n > 1)
			return perr(p, "unexpected text after }");
		if (*gp == NULL)
			return perr(p, "} without a guest block");
		*gp = NULL;
		return 0;
	}
	if (tok[0].quoted || is_brace(&tok[0], '{'))
		return perr(p, "expected a keyword");

	if (strcmp(tok[0].s, "guest") == 0) {
		if (*gp != NULL)
			return perr(p, "guest blocks do not nest "
			    "(missing } before this line?)");
		if (n < 2 || is_brace(&tok[1], '{'))
			return perr(p, "guest: missing name");
		if (!conf_guest_name_ok(tok[1].s))
			return perr(p, "guest: bad name '%.*s' (1..%d of "
			    "letters, digits, '.', '_', '-', not starting "
			    "with '.' or '-')", 32, tok[1].s, CONF_NAME_MAX);
		if (n < 3 || !is_brace(&tok[2], '{'))
			return perr(p, "guest %s: expected { after the name",
			    tok[1].s);
		if (n > 3)
			return perr(p, "guest %s: unexpected text after {",
			    tok[1].s);
		if (conf_find(c, tok[1].s) != NULL)
			return perr(p, "guest %s: defined twice", tok[1].s);
		if (c->nguests >= CONF_MAX_GUESTS)
			return perr(p, "too many guests (at most %d)",
			    CONF_MAX_GUESTS);
		g = &c->guests[c->nguests];
		*g = c->defaults;
		g->given = 0;
		memcpy(g->name, tok[1].s, strlen(tok[1].s) + 1);
		gline[c->nguests] = p->line;
		c->nguests++;
		*gp = g;
		return 0;
	}

	if ((kw = kw_find(tok[0].s)) == NULL)
		return perr(p, "unknown keyword '%.*s'", 32, tok[0].s);
	if (n < 2)
		return perr(p, "%s: missing value", kw->name);
	if (is_brace(&tok[1], '{') || is_brace(&tok[1], '}'))
		return perr(p, "%s: expected a value, not %s", kw->name,
		    tok[1].s);
	if (n > 2)
		return perr(p, "%s: unexpected text after the value "
		    "(quote a value with blanks)", kw->name);
	if (apply(c, *gp, kw, tok[1].s, err, sizeof(err)) != 0)
		return perr(p, "%s: %s", kw->name, err);
	return 0;
}

/* A numeric address: family and 16 octets (IPv4 in the first 4). */
struct addr {
	int family;
	unsigned char a[16];
};

static bool
addr_parse(const char *s, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->a) == 1) {
		a->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, a->a) == 1) {
		a->family = AF_INET6;
		return true;
	}
	return false;
}

static bool
addr_any(const struct addr *a)
{
	static const unsigned char zero[16];

	return memcmp(a->a, zero, a->family == AF_INET ? 4 : 16) == 0;
}

/*
 * Could two listeners on a and b collide in bind()?  Equal addresses do;
 * so does a wildcard with any address of its family, and "::" with IPv4
 * (Linux binds it dual-stack unless bindv6only is set).
 */
static bool
addr_overlap(const struct addr *a, const struct addr *b)
{
	if (a->family == b->family)
		return addr_any(a) || addr_any(b) ||
		    memcmp(a->a, b->a, sizeof(a->a)) == 0;
	if (a->family == AF_INET6)
		return addr_any(a);
	return addr_any(b);
}

/*
 * The ports a guest binds: port, and web-port when web is on.  0 binds
 * none (or an ephemeral one), and an xl guest's -1 is not allocated yet:
 * neither can collide.
 */
static int
guest_ports(const struct conf_guest *g, int ports[2])
{
	int n = 0;

	if (g->port > 0)
		ports[n++] = g->port;
	if (g->web && g->web_port > 0)
		ports[n++] = g->web_port;
	return n;
}

/*
 * Does guest a's listener collide with b's (or, for a == b, with its own
 * other port)?  Sets *port.  Unparsable addresses never collide here;
 * the keyword checks reject them.
 */
static bool
guest_conflict(const struct conf_guest *a, const struct conf_guest *b,
    int *port)
{
	struct addr aa, ba;
	int ap[2], bp[2], na, nb, i, j;

	if (!addr_parse(a->listen, &aa) || !addr_parse(b->listen, &ba))
		return false;
	na = guest_ports(a, ap);
	nb = guest_ports(b, bp);
	if (a == b) {
		if (na == 2 && ap[0] == ap[1]) {
			*port = ap[0];
			return true;
		}
		return false;
	}
	if (!addr_overlap(&aa, &ba))
		return false;
	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (ap[i] == bp[j]) {
				*port = ap[i];
				return true;
			}
	return false;
}

int
conf_parse(struct conf *c, const char *name, const char *text, size_t len,
    char *why, size_t whylen)
{
	unsigned int gline[CONF_MAX_GUESTS];
	struct parser p;
	struct conf_guest *g = NULL;
	const char *nl;
	size_t pos = 0, n, first, i, j;
	unsigned int open_line = 0;
	int port, rc;

	p.c = c;
	p.file = name != NULL ? name : "(config)";
	p.line = 0;
	p.why = why;
	p.whylen = whylen;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (text == NULL && len > 0)
		return perr(&p, "no text");
	if (c->nguests > CONF_MAX_GUESTS)
		return perr(&p, "corrupt configuration (%zu guests)",
		    c->nguests);
	first = c->nguests;

	while (pos < len) {
		p.line++;
		nl = memchr(text + pos, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		if (n > CONF_LINE_MAX)
			return perr(&p, "line too long (more than %d octets)",
			    CONF_LINE_MAX);
		if (g == NULL)
			open_line = p.line;
		if ((rc = parse_line(&p, &g, gline, text + pos, n)) != 0)
			return rc;
		pos += n + (nl != NULL);
	}
	if (g != NULL) {
		p.line = open_line;
		return perr(&p, "guest %s: block not closed with }", g->name);
	}

	/* Now that every global is known, the effective listeners are. */
	for (i = first; i < c->nguests; i++) {
		p.line = gline[i];
		for (j = 0; j <= i; j++) {
			if (!guest_conflict(&c->guests[i], &c->guests[j],
			    &port))
				continue;
			if (i == j)
				return perr(&p, "guest %s: port and web-port "
				    "are both %d", c->guests[i].name, port);
			return perr(&p, "guest %s: port %d on %s is already "
			    "used by guest %s", c->guests[i].name, port,
			    c->guests[i].listen, c->guests[j].name);
		}
	}
	return 0;
}

int
conf_load(struct conf *c, const char *path, char *why, size_t whylen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		rc = -errno;
		say(why, whylen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) == -1) {
		rc = -errno;
		say(why, whylen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		say(why, whylen, "%s: not a regular file", path);
		goto out;
	}
	/* It names sockets to trust and a user to run as. */
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		rc = -EPERM;
		say(why, whylen, "%s: writable by group or others", path);
		goto out;
	}
	if (st.st_size > CONF_FILE_MAX) {
		rc = -EFBIG;
		say(why, whylen, "%s: larger than %d octets", path,
		    CONF_FILE_MAX);
		goto out;
	}
	/* One more octet than allowed, to notice a file that grew. */
	if ((buf = malloc(CONF_FILE_MAX + 1)) == NULL) {
		rc = -ENOMEM;
		say(why, whylen, "%s: out of memory", path);
		goto out;
	}
	while (len <= CONF_FILE_MAX) {
		r = read(fd, buf + len, CONF_FILE_MAX + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = -errno;
			say(why, whylen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > CONF_FILE_MAX) {
		rc = -EFBIG;
		say(why, whylen, "%s: larger than %d octets", path,
		    CONF_FILE_MAX);
		goto out;
	}
	rc = conf_parse(c, path, buf, len, why, whylen);
out:
	free(buf);
	close(fd);
	return rc;
}

int
conf_guest_check(const struct conf_guest *g, char *why, size_t whylen)
{
	char err[ERR_MAX];
	int port;

	/* A bad name is not printed: it may hold anything. */
	if (!conf_guest_name_ok(g->name)) {
		say(why, whylen, "a guest has a bad name");
		return -EINVAL;
	}
	if (policy_params_check(&g->policy, err, sizeof(err)) != 0) {
		say(why, whylen, "guest %s: %s", g->name, err);
		return -EINVAL;
	}
	if (g->backend == CONF_BACKEND_LFBSHM && g->socket[0] == '\0') {
		say(why, whylen, "guest %s: backend lfbshm needs a socket",
		    g->name);
		return -EINVAL;
	}
	if (guest_conflict(g, g, &port)) {
		say(why, whylen, "guest %s: port and web-port are both %d",
		    g->name, port);
		return -EADDRINUSE;
	}
	return 0;
}

int
conf_check(const struct conf *c, char *why, size_t whylen)
{
	const struct conf_guest *g;
	char err[ERR_MAX];
	size_t i, j;
	int port, rc;

	if (c->nguests > CONF_MAX_GUESTS) {
		say(why, whylen, "too many guests (%zu, at most %d)",
		    c->nguests, CONF_MAX_GUESTS);
		return -EINVAL;
	}
	if (policy_params_check(&c->defaults.policy, err, sizeof(err)) != 0) {
		say(why, whylen, "global settings: %s", err);
		return -EINVAL;
	}
	for (i = 0; i < c->nguests; i++) {
		g = &c->guests[i];
		if ((rc = conf_guest_check(g, why, whylen)) < 0)
			return rc;
		for (j = 0; j < i; j++) {
			if (strcmp(g->name, c->guests[j].name) == 0) {
				say(why, whylen, "guest %s: defined twice",
				    g->name);
				return -EINVAL;
			}
			if (!guest_conflict(g, &c->guests[j], &port))
				continue;
			say(why, whylen, "guest %s: port %d on %s is already "
			    "used by guest %s", g->name, port, g->listen,
			    c->guests[j].name);
			return -EADDRINUSE;
		}
	}
	return 0;
}

int
conf_listen_parse(const char *spec, char addr[CONF_ADDR_MAX], int *family,
    int *port, char *why, size_t whylen)
{
	unsigned char a[16];
	const char *colon, *a0, *a1, *portstr;
	uint32_t u;
	size_t n;

	if (spec[0] >= '0' && spec[0] <= '9' && strchr(spec, ':') == NULL &&
	    strchr(spec, '.') == NULL) {
		a0 = "127.0.0.1";
		a1 = a0 + strlen(a0);
		portstr = spec;
	} else if (spec[0] == '[') {
		a0 = spec + 1;
		if ((a1 = strchr(a0, ']')) == NULL || a1[1] != ':') {
			say(why, whylen, "expected [IPV6]:PORT");
			return -EINVAL;
		}
		portstr = a1 + 2;
	} else {
		a0 = spec;
		if ((colon = strrchr(spec, ':')) == NULL ||
		    memchr(spec, ':', (size_t)(colon - spec)) != NULL) {
			say(why, whylen, "expected PORT, IPV4:PORT or "
			    "[IPV6]:PORT");
			return -EINVAL;
		}
		a1 = colon;
		portstr = colon + 1;
	}
	n = (size_t)(a1 - a0);
	if (n == 0 || n >= CONF_ADDR_MAX) {
		say(why, whylen, "expected a numeric address before the port");
		return -EINVAL;
	}
	memcpy(addr, a0, n);
	addr[n] = '\0';
	if (parse_u32(portstr, 1, 65535, &u) != 0) {
		say(why, whylen, "the port must be 1..65535");
		return -EINVAL;
	}
	if (spec[0] != '[' && inet_pton(AF_INET, addr, a) == 1)
		*family = AF_INET;
	else if (spec[0] == '[' && inet_pton(AF_INET6, addr, a) == 1)
		*family = AF_INET6;
	else {
		say(why, whylen, "\"%s\" is not a numeric %s address", addr,
		    spec[0] == '[' ? "IPv6" : "IPv4");
		return -EINVAL;
	}
	*port = (int)u;
	return 0;
}

const struct conf_guest *
conf_find(const struct conf *c, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < c->nguests && i < CONF_MAX_GUESTS; i++)
		if (strcmp(c->guests[i].name, name) == 0)
			return &c->guests[i];
	return NULL;
}

struct out {
	char *buf;
	size_t len, off;
	bool full;
};

static void
out_printf(struct out *o, const char *fmt, ...) LOG_PRINTF(2, 3);

static void
out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->off, o->len - o->off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->off)
		o->full = true;
	else
		o->off += (size_t)n;
}

/* A quoted string: bounded by the field, so a missing NUL stays inside. */
static void
out_quoted(struct out *o, const char *s, size_t max)
{
	size_t i;

	out_printf(o, "\"");
	for (i = 0; i < max && s[i] != '\0'; i++) {
		if (s[i] == '"' || s[i] == '\\')
			out_printf(o, "\\%c", s[i]);
		else
			out_printf(o, "%c", s[i]);
	}
	out_printf(o, "\"");
}

int
conf_guest_format(const struct conf_guest *g, char *buf, size_t len)
{
	const struct keyword *kw;
	const unsigned char *field;
	struct out o = { buf, len, 0, false };
	uint32_t u;
	size_t i;
	bool b;
	int iv;
	enum conf_backend be;

	if (!conf_guest_name_ok(g->name))
		return -EINVAL;
	if (len == 0)
		return -ENOSPC;
	out_printf(&o, "guest %s {\n", g->name);
	for (i = 0; i < NKEYWORDS; i++) {
		kw = &keywords[i];
		if (kw->flags & (KW_GLOBAL | KW_ALIAS))
			continue;
		field = (const unsigned char *)g + kw->off;
		out_printf(&o, "\t%s ", kw->name);
		switch (kw->type) {
		case KW_PATH:
		case KW_ID:
		case KW_ADDR:
		case KW_MODE:
		case KW_PATHLIST:
		case KW_LISTEN:
			out_quoted(&o, (const char *)field, kw->size);
			break;
		case KW_INT:
			memcpy(&iv, field, sizeof(iv));
			out_printf(&o, "%d", iv);
			break;
		case KW_U32:
		case KW_TILE:
		case KW_RATE:
			memcpy(&u, field, sizeof(u));
			out_printf(&o, "%u", u);
			break;
		case KW_BOOL:
			memcpy(&b, field, sizeof(b));
			out_printf(&o, "%s", b ? "yes" : "no");
			break;
		case KW_BACKEND:
			memcpy(&be, field, sizeof(be));
			out_printf(&o, "%s", backend_name(be));
			break;
		}
		out_printf(&o, "\n");
	}
	out_printf(&o, "}\n");
	if (o.full)
		return -ENOSPC;
	return (int)o.off;
}
