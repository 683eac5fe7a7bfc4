/*
 * test-metrics: the Prometheus text of the metrics endpoint
 * (daemon/metrics.c), checked line by line against the exposition
 * format 0.0.4: every sample belongs to a family announced by # HELP and
 * # TYPE, each family's samples are together, labels are well formed,
 * values are numbers.  The checker itself is shown to reject bad texts
 * (negative controls), then the renderer's values, its escaping of
 * hostile strings from a worker's page, and its size bound; and the
 * syntax of metrics-listen (conf_listen_parse).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <event2/buffer.h>

#include "conf.h"
#include "metrics.h"
#include "policy.h"
#include "status.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

#define MAXFAM	128

static bool
name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != ':')
			return false;
	return true;
}

/* Labels from just after '{' up to and including '}'; returns the
   position after '}', or NULL. */
static const char *
labels_ok(const char *p)
{
	const char *q;

	for (;;) {
		for (q = p; isalnum((unsigned char)*q) || *q == '_'; q++)
			;
		if (!name_ok(p, (size_t)(q - p)) || q[0] != '=' || q[1] != '"')
			return NULL;
		for (p = q + 2; *p != '"'; p++) {
			if (*p == '\0' || *p == '\n')
				return NULL;
			if (*p == '\\') {
				p++;
				if (*p != '\\' && *p != '"' && *p != 'n')
					return NULL;
			}
		}
		p++;
		if (*p == '}')
			return p + 1;
		if (*p != ',')
			return NULL;
		p++;
	}
}

/*
 * 0 when text is a valid exposition (see the file's comment), else -1
 * with the reason and line on stderr.  *nsamples: sample lines seen.
 */
static int
well_formed(const char *text, int *nsamples, bool quiet)
{
	char fam[MAXFAM][96], cur[96] = "", line[4096];
	bool have_help = false, have_type = false;
	const char *p = text, *nl, *q;
	int nfam = 0, i, ln = 0;
	size_t n;
	char *end;

	*nsamples = 0;
#define BAD(...) do { if (!quiet) { fprintf(stderr, "line %d: ", ln); \
	fprintf(stderr, __VA_ARGS__); fprintf(stderr, ": %s\n", line); } \
	return -1; } while (0)
	while (*p != '\0') {
		ln++;
		if ((nl = strchr(p, '\n')) == NULL) {
			snprintf(line, sizeof(line), "%s", p);
			BAD("no newline at the end");
		}
		n = (size_t)(nl - p);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;
		if (strncmp(line, "# HELP ", 7) == 0 ||
		    strncmp(line, "# TYPE ", 7) == 0) {
			q = strchr(line + 7, ' ');
			if (q == NULL || !name_ok(line + 7,
			    (size_t)(q - line - 7)))
				BAD("bad metric name");
			if (strncmp(cur, line + 7, strlen(cur)) != 0 ||
			    line[7 + strlen(cur)] != ' ') {
				for (i = 0; i < nfam; i++)
					if (strncmp(fam[i], line + 7,
					    (size_t)(q - line - 7)) == 0 &&
					    fam[i][q - line - 7] == '\0')
						BAD("family given twice");
				if (nfam == MAXFAM)
					BAD("too many families");
				snprintf(cur, sizeof(cur), "%.*s",
				    (int)(q - line - 7), line + 7);
				snprintf(fam[nfam++], sizeof(fam[0]), "%s",
				    cur);
				have_help = have_type = false;
			}
			if (line[2] == 'H') {
				if (have_help)
					BAD("second HELP");
				have_help = true;
			} else {
				if (have_type || (strcmp(q + 1, "counter") != 0 &&
				    strcmp(q + 1, "gauge") != 0))
					BAD("second TYPE, or not counter or "
					    "gauge");
				if (strcmp(q + 1, "counter") == 0 &&
				    (strlen(cur) < 6 || strcmp(cur +
				    strlen(cur) - 6, "_total") != 0))
					BAD("a counter not ending in _total");
				have_type = true;
			}
			continue;
		}
		if (line[0] == '#')
			BAD("a comment that is not HELP or TYPE");
		for (q = line; *q != '\0' && *q != '{' && *q != ' '; q++)
			;
		if (!name_ok(line, (size_t)(q - line)))
			BAD("bad sample name");
		if (strncmp(line, cur, strlen(cur)) != 0 ||
		    (size_t)(q - line) != strlen(cur) || cur[0] == '\0')
			BAD("sample outside its family (\"%s\")", cur);
		if (!have_help || !have_type)
			BAD("family without HELP and TYPE");
		if (strncmp(cur, "lfbvnc_", 7) != 0)
			BAD("name without the lfbvnc_ prefix");
		if (*q == '{' && (q = labels_ok(q + 1)) == NULL)
			BAD("bad labels");
		if (*q != ' ' || q[1] == '\0')
			BAD("no value");
		errno = 0;
		(void)strtod(q + 1, &end);
		if (errno != 0 || *end != '\0' || end == q + 1)
			BAD("value not a number");
		(*nsamples)++;
	}
#undef BAD
	return 0;
}

static char *
render(const struct metrics_guest *g, size_t n, size_t max, int *rc)
{
	struct evbuffer *b = evbuffer_new();
	size_t len;
	char *s;

	if (b == NULL)
		abort();
	*rc = metrics_render(b, g, n, max);
	len = evbuffer_get_length(b);
	if ((s = malloc(len + 1)) == NULL)
		abort();
	evbuffer_remove(b, s, len);
	s[len] = '\0';
	evbuffer_free(b);
	return s;
}

static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p += n)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

/* Lines that start with prefix and end with suffix. */
static int
count_lines(const char *text, const char *prefix, const char *suffix)
{
	const char *p, *nl;
	size_t sl = strlen(suffix);
	int n = 0;

	for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if (strncmp(p, prefix, strlen(prefix)) == 0 &&
		    (size_t)(nl - p) >= sl && memcmp(nl - sl, suffix, sl) == 0)
			n++;
	return n;
}

static void
test_checker(void)
{
	static const char *const bad[] = {
		"lfbvnc_x 1\n",					/* no family */
		"# HELP lfbvnc_x h\nlfbvnc_x 1\n",		/* no TYPE */
		"# HELP lfbvnc_x h\n# TYPE lfbvnc_x gauge\nlfbvnc_x{a=\"b} 1\n",
		"# HELP lfbvnc_x h\n# TYPE lfbvnc_x gauge\nlfbvnc_x{a=b} 1\n",
		"# HELP lfbvnc_x h\n# TYPE lfbvnc_x gauge\nlfbvnc_x one\n",
		"# HELP lfbvnc_x h\n# TYPE lfbvnc_x gauge\nlfbvnc_x 1",
		"# HELP lfbvnc_x h\n# TYPE lfbvnc_x counter\nlfbvnc_x 1\n",
		"# HELP lfbvnc_x h\n# TYPE lfbvnc_x gauge\nlfbvnc_x 1\n"
		    "# HELP lfbvnc_y h\n# TYPE lfbvnc_y gauge\nlfbvnc_x 2\n",
		"# HELP lfbvnc_x h\n# TYPE lfbvnc_x gauge\nlfbvnc_x 1\n"
		    "# HELP lfbvnc_x h\n# TYPE lfbvnc_x gauge\n",
		"# HELP lfbvnc_x h\n# TYPE lfbvnc_x gauge\n"
		    "lfbvnc_x{a=\"\\q\"} 1\n",
	};
	const char *good = "# HELP lfbvnc_x h\n# TYPE lfbvnc_x gauge\n"
	    "lfbvnc_x{a=\"\\\"\\\\\\n\",b=\"\"} 1.5\nlfbvnc_x 2\n";
	size_t i;
	int n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(well_formed(bad[i], &n, true) == -1,
		    "the checker accepts bad text %zu", i);
	CHECK(well_formed(good, &n, false) == 0 && n == 2,
	    "the checker refuses good text");
}

static void
fill(struct worker_status *s)
{
	memset(s, 0, sizeof(*s));
	s->state = POLICY_TRAPPED;
	s->interval_ms = 16;
	s->clients = 2;
	s->width = 1024;
	s->height = 768;
	s->provider_up = 1;
	snprintf(s->backend, sizeof(s->backend), "lfbshm");
	snprintf(s->tracker, sizeof(s->tracker), "kvm");
	s->scans = 1234;
	s->scans_skipped = 5;
	s->dirty_requests = 1200;
	s->dirty_pages = 98765;
	s->tiles = 4321;
	s->rects = 321;
	s->updates_sent = 300;
	s->bytes_sent = 18446744073709551615u;
	s->clients_total = 7;
	s->wakeups = 2000;
	s->traps_armed = 11;
	s->traps_fired = 10;
	s->full_compares = 3;
	s->input_events = 42;
	s->uptime_ms = 61234;
	s->scans_per_sec_milli = 59500;
	s->cpu_usec = 1500001;
}

static void
test_values(void)
{
	struct metrics_guest g[3];
	char *t;
	int rc, n;

	memset(g, 0, sizeof(g));
	g[0].name = "vm-1";
	g[0].running = true;
	g[0].have_status = true;
	g[0].restarts = 2;
	fill(&g[0].status);
	g[1].name = "vm.2";		/* not running */
	g[1].restarts = 9;
	g[2].name = "vm_3";		/* running, no status yet */
	g[2].running = true;
	t = render(g, 3, 1 << 20, &rc);
	CHECK(rc == 0, "render: %d", rc);
	CHECK(well_formed(t, &n, false) == 0, "malformed:\n%s", t);
	CHECK(has_line(t, "lfbvnc_up 1"), "lfbvnc_up");
	CHECK(has_line(t, "lfbvnc_guests 3"), "lfbvnc_guests");
	CHECK(has_line(t, "lfbvnc_workers_running 2"), "workers_running");
	CHECK(has_line(t, "lfbvnc_worker_up{guest=\"vm.2\"} 0"), "worker_up");
	CHECK(has_line(t, "lfbvnc_worker_restarts_total{guest=\"vm.2\"} 9"),
	    "restarts");
	CHECK(has_line(t, "lfbvnc_scans_total{guest=\"vm-1\"} 1234"), "scans");
	CHECK(has_line(t, "lfbvnc_dirty_pages_total{guest=\"vm-1\"} 98765"),
	    "dirty pages");
	CHECK(has_line(t, "lfbvnc_sent_bytes_total{guest=\"vm-1\"} "
	    "18446744073709551615"), "a 64-bit counter, exactly");
	CHECK(has_line(t, "lfbvnc_worker_cpu_seconds_total{guest=\"vm-1\"} "
	    "1.500001"), "cpu seconds");
	CHECK(has_line(t, "lfbvnc_scan_interval_seconds{guest=\"vm-1\"} 0.016"),
	    "interval");
	CHECK(has_line(t, "lfbvnc_scans_per_second{guest=\"vm-1\"} 59.500"),
	    "scans per second");
	CHECK(has_line(t, "lfbvnc_worker_uptime_seconds{guest=\"vm-1\"} "
	    "61.234"), "uptime");
	CHECK(has_line(t, "lfbvnc_screen_width_pixels{guest=\"vm-1\"} 1024"),
	    "width");
	CHECK(has_line(t, "lfbvnc_clients{guest=\"vm-1\"} 2"), "clients");
	CHECK(has_line(t, "lfbvnc_provider_up{guest=\"vm-1\"} 1"), "provider");
	CHECK(has_line(t, "lfbvnc_guest_info{guest=\"vm-1\",backend=\"lfbshm\","
	    "tracker=\"kvm\"} 1"), "info");
	CHECK(has_line(t, "lfbvnc_state{guest=\"vm-1\",state=\"trapped\"} 1"),
	    "state trapped");
	CHECK(has_line(t, "lfbvnc_state{guest=\"vm-1\",state=\"polling\"} 0"),
	    "state polling");
	CHECK(has_line(t, "lfbvnc_state{guest=\"vm.2\",state=\"stopped\"} 1"),
	    "state stopped");
	CHECK(has_line(t, "lfbvnc_state{guest=\"vm_3\",state=\"starting\"} 1"),
	    "state starting");
	/* No stale or invented counters for guests without a status. */
	CHECK(strstr(t, "lfbvnc_scans_total{guest=\"vm.2\"") == NULL &&
	    strstr(t, "lfbvnc_scans_total{guest=\"vm_3\"") == NULL &&
	    strstr(t, "lfbvnc_guest_info{guest=\"vm_3\"") == NULL,
	    "counters for a guest without status");
	/* 3 daemon + 3 worker_up + 3 restarts + 21 state + 1 info + 22
	   fields of one guest. */
	CHECK(n == 3 + 3 + 3 + 21 + 1 + 22, "%d samples", n);
	free(t);

	/* Nothing but the daemon's families, and their headers. */
	t = render(NULL, 0, 1 << 20, &rc);
	CHECK(rc == 0 && well_formed(t, &n, false) == 0 && n == 3,
	    "no guests: rc %d, %d samples:\n%s", rc, n, t);
	CHECK(has_line(t, "lfbvnc_guests 0"), "no guests");
	free(t);
}

/* What a worker wrote is not trusted: quotes, newlines, no NUL. */
static void
test_hostile(void)
{
	struct metrics_guest g;
	char *t;
	int rc, n;

	memset(&g, 0, sizeof(g));
	g.name = "we\"ird\\";
	g.running = true;
	g.have_status = true;
	fill(&g.status);
	g.status.state = 77;
	memcpy(g.status.backend, "a\"b\\c\nd} 1\n\xff\xfe\x01", 15);
	memset(g.status.tracker, 'x', sizeof(g.status.tracker));
	t = render(&g, 1, 1 << 20, &rc);
	CHECK(rc == 0, "render: %d", rc);
	CHECK(well_formed(t, &n, false) == 0, "malformed:\n%s", t);
	CHECK(strstr(t, "lfbvnc_guest_info{guest=\"we\\\"ird\\\\\","
	    "backend=\"a\\\"b\\\\c\\nd} 1\\n???\",tracker=\"xxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxx\"} 1\n") != NULL, "escaping:\n%s", t);
	/* A state out of range: no state is 1. */
	CHECK(count_lines(t, "lfbvnc_state{", "} 0") == 7 &&
	    count_lines(t, "lfbvnc_state{", "} 1") == 0,
	    "state out of range");
	free(t);
}

static void
test_bound(void)
{
	static struct metrics_guest g[256];
	static char names[256][16];
	struct evbuffer *b = evbuffer_new();
	size_t i, full;
	int rc, n;
	char *t;

	for (i = 0; i < 256; i++) {
		snprintf(names[i], sizeof(names[i]), "guest-%03zu", i);
		g[i].name = names[i];
		g[i].running = g[i].have_status = true;
		fill(&g[i].status);
	}
	t = render(g, 256, 1 << 30, &rc);
	full = strlen(t);
	CHECK(rc == 0 && well_formed(t, &n, false) == 0,
	    "256 guests: rc %d", rc);
	printf("256 guests: %zu octets, %d samples\n", full, n);
	free(t);
	/* One octet short: refused, and nothing added. */
	evbuffer_add(b, "x", 1);
	rc = metrics_render(b, g, 256, full - 1);
	CHECK(rc == -E2BIG && evbuffer_get_length(b) == 1,
	    "bound: rc %d, %zu octets", rc, evbuffer_get_length(b));
	rc = metrics_render(b, g, 256, full);
	CHECK(rc == 0 && evbuffer_get_length(b) == full + 1,
	    "exactly at the bound: rc %d", rc);
	evbuffer_free(b);
}

/* metrics-listen's syntax (conf_listen_parse), which the master binds. */
static void
test_listen(void)
{
	static const struct {
		const char *spec, *addr;
		int family, port;
	} good[] = {
		{ "9900", "127.0.0.1", AF_INET, 9900 },
		{ "1", "127.0.0.1", AF_INET, 1 },
		{ "127.0.0.1:65535", "127.0.0.1", AF_INET, 65535 },
		{ "0.0.0.0:80", "0.0.0.0", AF_INET, 80 },
		{ "[::1]:9900", "::1", AF_INET6, 9900 },
		{ "[::]:9900", "::", AF_INET6, 9900 },
	};
	static const char *const bad[] = {
		"0", "65536", "99999999999", "-1", "+9900", "9900x", " 9900",
		"::1:9900", "[::1]9900", "[::1]:", "[::1", "[127.0.0.1]:9900",
		"::1", "localhost:9900", "127.0.0.1", "127.0.0.1:", ":9900",
		"1.2.3.4:0x10", "[fe80::1%eth0]:9900", "1.2.3:9900",
	};
	static const char in_guest[] = "guest g {\n\tmetrics-listen 9900\n}\n";
	static struct conf c;
	char addr[CONF_ADDR_MAX], why[128];
	int family, port;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(conf_listen_parse(good[i].spec, addr, &family, &port, why,
		    sizeof(why)) == 0 && strcmp(addr, good[i].addr) == 0 &&
		    family == good[i].family && port == good[i].port,
		    "\"%s\" refused or misread", good[i].spec);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		CHECK(conf_listen_parse(bad[i], addr, &family, &port, why,
		    sizeof(why)) == -EINVAL && why[0] != '\0',
		    "\"%s\" accepted", bad[i]);
	}
	/* The key: global, off by default, checked when set. */
	conf_init(&c);
	CHECK(c.metrics_listen[0] == '\0', "metrics-listen is on by default");
	CHECK(conf_set(&c, NULL, "metrics-listen", "[::1]:9900", why,
	    sizeof(why)) == 0 && strcmp(c.metrics_listen, "[::1]:9900") == 0,
	    "metrics-listen [::1]:9900: %s", why);
	CHECK(conf_set(&c, NULL, "metrics-listen", "host:9900", why,
	    sizeof(why)) < 0 && strcmp(c.metrics_listen, "[::1]:9900") == 0,
	    "metrics-listen host:9900 accepted");
	CHECK(conf_set(&c, NULL, "metrics-listen", "", why, sizeof(why)) ==
	    0 && c.metrics_listen[0] == '\0', "metrics-listen \"\": %s", why);
	CHECK(conf_parse(&c, "t", in_guest, strlen(in_guest), why,
	    sizeof(why)) < 0, "metrics-listen accepted in a guest block");
}

int
main(void)
{
	test_listen();
	test_checker();
	test_values();
	test_hostile();
	test_bound();
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("test-metrics: ok\n");
	return 0;
}
