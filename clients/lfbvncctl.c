/*
 * lfbvncctl - talk to lfbvncd's control socket (daemon/control.h).
 *
 * Sends one request line, reads the one-line JSON reply, checks it with
 * a bounded reader (the daemon is trusted no more than any peer: the
 * reply is validated before anything of it is shown, and strings are
 * made printable before they reach the terminal).
 *
 * Exit status: 0 ok, 1 the daemon answered with an error, 2 usage,
 * 3 no answer (cannot connect, timeout, or a malformed reply).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json-read.h"
#include "paths.h"

#define EXIT_DAEMON	1
#define EXIT_USAGE	2
#define EXIT_CONNECT	3

#define REQUEST_MAX	4096	/* CONTROL_LINE_MAX */
#define REPLY_MAX	(8 * 1024 * 1024)
#define WAIT_MS		30000	/* attach may start a worker */
#define CELL_MAX	72
#define MAX_ROWS	1024

static const char *progname = "lfbvncctl";

/* Local checks only, for an early usage error; the daemon decides. */
static const struct {
	const char *name;
	int min, max;
} commands[] = {
	{ "status", 0, 0 },
	{ "attach", 2, 2 + 32 },
	{ "detach", 1, 1 },
	{ "reload", 0, 0 },
	{ "help", 0, 0 },
};

static void __attribute__((__noreturn__))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: %s [-s SOCKET] [--json] COMMAND [ARGS]\n"
	    "commands:\n"
	    "  status                              guests, scan policy, "
	    "counters\n"
	    "  attach NAME SOCKET [key=value ...]  serve a provider\n"
	    "  detach NAME                         stop serving a guest\n"
	    "  reload                              re-read lfbvncd.conf\n"
	    "  help                                the daemon's command "
	    "list\n"
	    "SOCKET defaults to $%s, else %s.\n",
	    progname, LFBVNC_CONTROL_ENV, LFBVNC_CONTROL_PATH);
	exit(status);
}

static void msgx(const char *fmt, ...)
    __attribute__((__format__(__printf__, 1, 2)));

static void
msgx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A copy of s safe for a terminal: printable ASCII, bounded. */
static const char *
clean(const char *s, char *buf, size_t len)
{
	size_t i;

	if (s == NULL)
		return "-";
	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = ((unsigned char)s[i] >= 0x20 &&
		    (unsigned char)s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/* Append word to the request, quoted when it must be. */
static bool
add_word(char *req, size_t *off, const char *w)
{
	bool quote = w[0] == '\0';
	size_t i;

	for (i = 0; w[i] != '\0'; i++) {
		if ((unsigned char)w[i] < 0x20 || (unsigned char)w[i] > 0x7e)
			return false;
		if (w[i] == ' ' || w[i] == '"' || w[i] == '\\')
			quote = true;
	}
#define PUT(c) do { if (*off + 2 >= REQUEST_MAX) return false; \
	req[(*off)++] = (c); } while (0)
	if (*off > 0)
		PUT(' ');
	if (quote)
		PUT('"');
	for (i = 0; w[i] != '\0'; i++) {
		if (quote && (w[i] == '"' || w[i] == '\\'))
			PUT('\\');
		PUT(w[i]);
	}
	if (quote)
		PUT('"');
#undef PUT
	req[*off] = '\0';
	return true;
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * Send the request and read the reply until the daemon closes.  A peer
 * that refused us may have closed already: the send fails, and the
 * reason is still there to read.
 */
static int
exchange(int fd, const char *req, size_t reqlen, char **reply,
    size_t *replylen)
{
	struct pollfd pfd;
	size_t off = 0, cap = 0, sent = 0;
	char *buf = NULL, *nbuf;
	ssize_t n;
	int rc;

	while (sent < reqlen) {
		n = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		sent += (size_t)n;
	}
	for (;;) {
		if (cap - off < 4096) {
			if (cap >= REPLY_MAX + 4096) {
				errno = EFBIG;
				goto fail;
			}
			cap = cap == 0 ? 8192 : cap * 2;
			if ((nbuf = realloc(buf, cap)) == NULL)
				goto fail;
			buf = nbuf;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		rc = poll(&pfd, 1, WAIT_MS);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1)
			goto fail;
		if (rc == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		n = read(fd, buf + off, cap - off - 1);
		if (n == -1 && errno == EINTR)
			continue;
		/* Closed with our request unread: what came is all. */
		if (n == -1 && errno == ECONNRESET && off > 0)
			break;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		off += (size_t)n;
		if (off > REPLY_MAX) {
			errno = EFBIG;
			goto fail;
		}
	}
	if (off == 0) {
		errno = ECONNRESET;
		goto fail;
	}
	buf[off] = '\0';
	*reply = buf;
	*replylen = off;
	return 0;
fail:
	free(buf);
	return -1;
}

/* Counts: exact below 100000, then with a unit. */
static const char *
count(const struct jr_value *v, char *buf, size_t len)
{
	static const char units[] = "kMGTPE";
	uint64_t u;
	double d;
	int i;

	if (!jr_u64(v, &u))
		return "-";
	if (u < 100000) {
		snprintf(buf, len, "%" PRIu64, u);
		return buf;
	}
	d = (double)u;
	for (i = -1; d >= 1000 && i < 5; i++)
		d /= 1000;
	snprintf(buf, len, "%.1f%c", d, units[i]);
	return buf;
}

static const char *
bytes(const struct jr_value *v, char *buf, size_t len)
{
	static const char *units[] = { "KiB", "MiB", "GiB", "TiB", "PiB",
	    "EiB" };
	uint64_t u;
	double d;
	int i;

	if (!jr_u64(v, &u))
		return "-";
	if (u < 1024) {
		snprintf(buf, len, "%" PRIu64 "B", u);
		return buf;
	}
	d = (double)u;
	for (i = -1; d >= 1024 && i < 5; i++)
		d /= 1024;
	snprintf(buf, len, "%.1f%s", d, units[i]);
	return buf;
}

static const char *
state(const struct jr_value *v, char *buf, size_t len)
{
	const char *s = jr_string(v);

	if (s != NULL && strcmp(s, "no-clients") == 0)
		return "no clients";
	return clean(s, buf, len);
}

enum col {
	COL_NAME, COL_BACKEND, COL_TRACKER, COL_STATE, COL_INTERVAL,
	COL_RATE, COL_DIRTY, COL_TILES, COL_RECTS, COL_SENT, COL_CLIENTS,
	COL_WAKEUPS, COL_TRAPS, NCOLS
};

static const char *const heads[NCOLS] = {
	"NAME", "BACKEND", "TRACKER", "STATE", "INTERVAL", "SCANS/S",
	"DIRTY", "TILES", "RECTS", "SENT", "CLIENTS", "WAKEUPS",
	"TRAPS A/F",
};

static void
status_row(const struct jr_value *g, char row[NCOLS][CELL_MAX])
{
	char tmp[CELL_MAX], a[32], f[32];
	uint64_t u;
	double d;

	snprintf(row[COL_NAME], CELL_MAX, "%s",
	    clean(jr_string(jr_get(g, "name")), tmp, sizeof(tmp)));
	snprintf(row[COL_BACKEND], CELL_MAX, "%s",
	    clean(jr_string(jr_get(g, "backend")), tmp, sizeof(tmp)));
	snprintf(row[COL_TRACKER], CELL_MAX, "%s",
	    clean(jr_string(jr_get(g, "tracker")), tmp, sizeof(tmp)));
	snprintf(row[COL_STATE], CELL_MAX, "%s",
	    state(jr_get(g, "state"), tmp, sizeof(tmp)));
	if (jr_u64(jr_get(g, "interval_ms"), &u))
		snprintf(row[COL_INTERVAL], CELL_MAX, "%" PRIu64 "ms", u);
	else
		snprintf(row[COL_INTERVAL], CELL_MAX, "-");
	if (jr_number(jr_get(g, "scans_per_sec"), &d) && d >= 0 && d < 1e9)
		snprintf(row[COL_RATE], CELL_MAX, "%.1f", d);
	else
		snprintf(row[COL_RATE], CELL_MAX, "-");
	snprintf(row[COL_DIRTY], CELL_MAX, "%s",
	    count(jr_get(g, "dirty_pages"), tmp, sizeof(tmp)));
	snprintf(row[COL_TILES], CELL_MAX, "%s",
	    count(jr_get(g, "tiles"), tmp, sizeof(tmp)));
	snprintf(row[COL_RECTS], CELL_MAX, "%s",
	    count(jr_get(g, "rects"), tmp, sizeof(tmp)));
	snprintf(row[COL_SENT], CELL_MAX, "%s",
	    bytes(jr_get(g, "bytes_sent"), tmp, sizeof(tmp)));
	snprintf(row[COL_CLIENTS], CELL_MAX, "%s",
	    count(jr_get(g, "clients"), tmp, sizeof(tmp)));
	snprintf(row[COL_WAKEUPS], CELL_MAX, "%s",
	    count(jr_get(g, "wakeups"), tmp, sizeof(tmp)));
	if (jr_get(g, "traps_armed") == NULL &&
	    jr_get(g, "traps_fired") == NULL)
		snprintf(row[COL_TRAPS], CELL_MAX, "-");
	else
		snprintf(row[COL_TRAPS], CELL_MAX, "%s/%s",
		    count(jr_get(g, "traps_armed"), a, sizeof(a)),
		    count(jr_get(g, "traps_fired"), f, sizeof(f)));
}

static int
show_status(const struct jr_value *root)
{
	const struct jr_value *guests = jr_get(root, "guests"), *g;
	char (*rows)[NCOLS][CELL_MAX];
	char tmp[256], name[CELL_MAX];
	size_t width[NCOLS], n = 0, i, w;
	const char *e;
	int c;

	if (jr_type(guests) != JR_ARRAY) {
		fprintf(stderr, "%s: malformed status: no guest list\n",
		    progname);
		return EXIT_CONNECT;
	}
	if (jr_count(guests) == 0) {
		printf("no guests\n");
		return 0;
	}
	if ((rows = calloc(MAX_ROWS, sizeof(*rows))) == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return EXIT_CONNECT;
	}
	for (c = 0; c < NCOLS; c++)
		width[c] = strlen(heads[c]);
	for (g = jr_first(guests); g != NULL && n < MAX_ROWS;
	    g = jr_next(g)) {
		if (jr_type(g) != JR_OBJECT)
			continue;
		status_row(g, rows[n]);
		for (c = 0; c < NCOLS; c++)
			if ((w = strlen(rows[n][c])) > width[c])
				width[c] = w;
		n++;
	}
	for (c = 0; c < NCOLS; c++)
		printf("%-*s%s", (int)width[c], heads[c],
		    c + 1 < NCOLS ? "  " : "\n");
	for (i = 0; i < n; i++)
		for (c = 0; c < NCOLS; c++)
			/* Text left, numbers right. */
			printf(c <= COL_STATE ? "%-*s%s" : "%*s%s",
			    (int)width[c], rows[i][c],
			    c + 1 < NCOLS ? "  " : "\n");
	/* Errors under the table: they are long and usually absent. */
	for (g = jr_first(guests), i = 0; g != NULL && i < MAX_ROWS;
	    g = jr_next(g)) {
		if (jr_type(g) != JR_OBJECT)
			continue;
		i++;
		if ((e = jr_string(jr_get(g, "last_error"))) == NULL ||
		    e[0] == '\0')
			continue;
		printf("%s: last error: %s\n",
		    clean(jr_string(jr_get(g, "name")), name, sizeof(name)),
		    clean(e, tmp, sizeof(tmp)));
	}
	if (jr_count(guests) > MAX_ROWS)
		printf("(%zu more guests not shown; see --json)\n",
		    jr_count(guests) - MAX_ROWS);
	free(rows);
	return 0;
}

static int
show_help(const struct jr_value *root)
{
	const struct jr_value *cmds = jr_get(root, "commands"), *c;
	char name[64], args[128], help[256], left[200];

	if (jr_type(cmds) != JR_ARRAY) {
		fprintf(stderr, "%s: malformed help: no command list\n",
		    progname);
		return EXIT_CONNECT;
	}
	printf("commands:\n");
	for (c = jr_first(cmds); c != NULL; c = jr_next(c)) {
		clean(jr_string(jr_get(c, "args")), args, sizeof(args));
		snprintf(left, sizeof(left), "%s%s%s",
		    clean(jr_string(jr_get(c, "name")), name, sizeof(name)),
		    strcmp(args, "-") != 0 && args[0] != '\0' ? " " : "",
		    strcmp(args, "-") != 0 ? args : "");
		printf("  %-36s %s\n", left,
		    clean(jr_string(jr_get(c, "help")), help, sizeof(help)));
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *err;
	char req[REQUEST_MAX + 1], why[160], msg[256];
	char cwd[PATH_MAX], abs_path[PATH_MAX * 2];
	char *reply = NULL;
	size_t off = 0, replylen = 0, i;
	struct jr_doc *doc = NULL;
	const struct jr_value *root;
	bool json = false, ok;
	int ch, fd, nargs, rc, status;

	while ((ch = getopt_long(argc, argv, "+s:jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(0);
		default:
			usage(EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(EXIT_USAGE);
	if (path == NULL)
		path = getenv(LFBVNC_CONTROL_ENV);
	if (path == NULL || path[0] == '\0')
		path = LFBVNC_CONTROL_PATH;

	nargs = -1;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0) {
			nargs = argc - 1;
			if (nargs < commands[i].min || nargs > commands[i].max)
				usage(EXIT_USAGE);
		}
	if (nargs < 0) {
		msgx("unknown command '%s'", clean(argv[0], msg,
		    sizeof(msg)));
		usage(EXIT_USAGE);
	}
	/* The daemon has another working directory. */
	if (strcmp(argv[0], "attach") == 0 && argv[2][0] != '/' &&
	    argv[2][0] != '\0') {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			perror("getcwd");
			return EXIT_USAGE;
		}
		snprintf(abs_path, sizeof(abs_path), "%s/%s", cwd, argv[2]);
		argv[2] = abs_path;
	}
	req[0] = '\0';
	for (i = 0; i < (size_t)argc; i++) {
		if (!add_word(req, &off, argv[i])) {
			msgx("arguments must be printable ASCII, and the "
			    "request at most %d octets", REQUEST_MAX);
			return EXIT_USAGE;
		}
	}
	req[off++] = '\n';

	if ((fd = connect_to(path)) == -1) {
		msgx("cannot connect to %s: %s", clean(path, msg,
		    sizeof(msg)), strerror(errno));
		return EXIT_CONNECT;
	}
	rc = exchange(fd, req, off, &reply, &replylen);
	close(fd);
	if (rc != 0) {
		msgx("no reply from %s: %s", clean(path, msg, sizeof(msg)),
		    strerror(errno));
		return EXIT_CONNECT;
	}
	why[0] = '\0';
	if ((rc = jr_parse(reply, replylen, &doc, why, sizeof(why))) != 0 ||
	    jr_type(root = jr_root(doc)) != JR_OBJECT ||
	    !jr_bool(jr_get(root, "ok"), &ok)) {
		msgx("malformed reply from the daemon%s%s",
		    why[0] != '\0' ? ": " : "", why);
		status = EXIT_CONNECT;
		goto out;
	}
	if (json) {
		fwrite(reply, 1, replylen, stdout);
		if (reply[replylen - 1] != '\n')
			putchar('\n');
		status = ok ? 0 : EXIT_DAEMON;
		goto out;
	}
	if (!ok) {
		err = jr_string(jr_get(root, "error"));
		msgx("%s", clean(err != NULL ? err : "failed", msg,
		    sizeof(msg)));
		status = EXIT_DAEMON;
		goto out;
	}
	status = 0;
	if (strcmp(argv[0], "status") == 0)
		status = show_status(root);
	else if (strcmp(argv[0], "help") == 0)
		status = show_help(root);
	else if ((err = jr_string(jr_get(root, "message"))) != NULL &&
	    err[0] != '\0')
		printf("%s\n", clean(err, msg, sizeof(msg)));
out:
	jr_free(doc);
	free(reply);
	if (fflush(stdout) == EOF && status == 0)
		status = EXIT_CONNECT;
	return status;
}
