/* test-probe-util: lfbvnc-probe's argument parsers, keysyms, percentiles. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "probe-util.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static void
target(const char *arg, const char *host, int port)
{
	struct probe_target t;
	int r;

	r = probe_parse_target(arg, &t);
	if (host == NULL) {
		CHECK(r == -1, "\"%s\" accepted", arg);
		if (r == 0)
			probe_target_free(&t);
		return;
	}
	CHECK(r == 0 && strcmp(t.host, host) == 0 && t.port == port,
	    "\"%s\" -> %s %d, want %s %d", arg, r == 0 ? t.host : "(error)",
	    r == 0 ? t.port : -1, host, port);
	if (r == 0)
		probe_target_free(&t);
}

static void
test_targets(void)
{
	target("host", "host", 5900);
	target("host:1", "host", 5901);
	target("host:99", "host", 5999);
	target("host:5905", "host", 5905);
	target("host::1", "host", 1);
	target("host::5900", "host", 5900);
	target(":2", "localhost", 5902);
	target("::6000", "localhost", 6000);
	target("[::1]:3", "::1", 5903);
	target("[::1]::7000", "::1", 7000);
	target("[fe80::1%lo]", "fe80::1%lo", 5900);
	target("vnc://example.org", "example.org", 5900);
	target("vnc://example.org:1", "example.org", 1);
	target("vnc://example.org:5901/", "example.org", 5901);
	target("VNC://[::1]:5902?x=1", "::1", 5902);
	target("/run/lfbvnc/vm1.sock", "/run/lfbvnc/vm1.sock", 0);
	target("host:", NULL, 0);
	target("host:x", NULL, 0);
	target("host:65536", NULL, 0);
	target("host::0", NULL, 0);
	target("host:1:2", NULL, 0);
	target("[::1", NULL, 0);
	target("[::1]x", NULL, 0);
	target("vnc://host::5900", NULL, 0);
}

static void
test_values(void)
{
	struct probe_rect r;
	uint32_t x, y, v;
	double s;

	CHECK(probe_parse_xy("10,20", &x, &y) == 0 && x == 10 && y == 20,
	    "xy");
	CHECK(probe_parse_xy("10,", &x, &y) == -1, "xy short");
	CHECK(probe_parse_xy("10,20,", &x, &y) == -1, "xy trailing");
	CHECK(probe_parse_xy("65536,0", &x, &y) == -1, "xy range");
	CHECK(probe_parse_xy("-1,0", &x, &y) == -1, "xy negative");
	CHECK(probe_parse_region("1,2,3,4", &r) == 0 && r.x == 1 &&
	    r.y == 2 && r.w == 3 && r.h == 4, "region");
	CHECK(probe_parse_region("1,2,0,4", &r) == -1, "empty region");
	CHECK(probe_parse_region("1,2,3", &r) == -1, "region short");
	CHECK(probe_parse_pixel("3,4=ff0080", &x, &y, &v) == 0 && x == 3 &&
	    y == 4 && v == 0xff0080, "pixel");
	CHECK(probe_parse_pixel("3,4=#A0B0C0", &x, &y, &v) == 0 &&
	    v == 0xa0b0c0, "pixel #");
	CHECK(probe_parse_pixel("3,4=0x000001", &x, &y, &v) == 0 && v == 1,
	    "pixel 0x");
	CHECK(probe_parse_pixel("3,4=fff", &x, &y, &v) == -1, "short colour");
	CHECK(probe_parse_pixel("3,4=1234567", &x, &y, &v) == -1,
	    "long colour");
	CHECK(probe_parse_pixel("3,4", &x, &y, &v) == -1, "no colour");
	CHECK(probe_parse_pointer("5,6", &x, &y, &v) == 0 && v == 0,
	    "pointer");
	CHECK(probe_parse_pointer("5,6,4", &x, &y, &v) == 0 && x == 5 &&
	    y == 6 && v == 4, "pointer buttons");
	CHECK(probe_parse_pointer("5,6,256", &x, &y, &v) == -1,
	    "pointer mask range");
	CHECK(probe_parse_seconds("0.5", &s) == 0 && s == 0.5, "seconds");
	CHECK(probe_parse_seconds("0", &s) == -1, "zero seconds");
	CHECK(probe_parse_seconds("nan", &s) == -1, "nan seconds");
	CHECK(probe_parse_seconds("1s", &s) == -1, "seconds suffix");
}

static void
test_keys(void)
{
	uint32_t k[8], *t;
	size_t n;

	CHECK(probe_parse_keys("Return", k, 8, &n) == 0 && n == 1 &&
	    k[0] == 0xff0d, "Return");
	CHECK(probe_parse_keys("return", k, 8, &n) == 0 && k[0] == 0xff0d,
	    "names ignore case");
	CHECK(probe_parse_keys("a", k, 8, &n) == 0 && k[0] == 'a', "a");
	CHECK(probe_parse_keys("A", k, 8, &n) == 0 && k[0] == 'A', "A");
	CHECK(probe_parse_keys("\xc3\xa9", k, 8, &n) == 0 && k[0] == 0xe9,
	    "e acute (Latin-1)");
	CHECK(probe_parse_keys("\xe2\x82\xac", k, 8, &n) == 0 &&
	    k[0] == 0x010020ac, "euro (Unicode keysym)");
	CHECK(probe_parse_keys("0xff0d", k, 8, &n) == 0 && k[0] == 0xff0d,
	    "hex keysym");
	CHECK(probe_parse_keys("Control_L+Alt_L+Delete", k, 8, &n) == 0 &&
	    n == 3 && k[0] == 0xffe3 && k[1] == 0xffe9 && k[2] == 0xffff,
	    "chord");
	CHECK(probe_parse_keys("+", k, 8, &n) == 0 && n == 1 && k[0] == '+',
	    "plus alone");
	CHECK(probe_parse_keys("Shift_L++", k, 8, &n) == 0 && n == 2 &&
	    k[1] == '+', "shift plus");
	CHECK(probe_parse_keys("F12", k, 8, &n) == 0 && k[0] == 0xffc9,
	    "F12");
	CHECK(probe_parse_keys("", k, 8, &n) == -1, "empty key");
	CHECK(probe_parse_keys("a+", k, 8, &n) == -1, "dangling plus");
	CHECK(probe_parse_keys("NoSuchKey", k, 8, &n) == -1, "unknown name");
	CHECK(probe_parse_keys("a+b+c", k, 2, &n) == -1, "chord too long");
	CHECK(probe_parse_keys("\xff", k, 8, &n) == -1, "bad UTF-8");

	CHECK(probe_text_keysyms("Hi!\n", &t, &n) == 0 && n == 4 &&
	    t[0] == 'H' && t[1] == 'i' && t[2] == '!' && t[3] == 0xff0d,
	    "text");
	free(t);
	CHECK(probe_text_keysyms("", &t, &n) == 0 && n == 0, "empty text");
	free(t);
	CHECK(probe_text_keysyms("a\xc0\x80", &t, &n) == -1,
	    "overlong UTF-8");
	CHECK(probe_text_keysyms("\xed\xa0\x80", &t, &n) == -1,
	    "surrogate");
	CHECK(probe_text_keysyms("a\x01", &t, &n) == -1, "control char");
	CHECK(probe_char_keysym('\t') == 0xff09, "tab");
}

static void
test_encodings(void)
{
	char *e;

	CHECK(probe_parse_encodings("raw", &e) == 0 && strcmp(e, "raw") == 0,
	    "raw");
	free(e);
	CHECK(probe_parse_encodings("ZRLE,hextile, raw", &e) == 0 &&
	    strcmp(e, "zrle hextile raw") == 0, "list");
	free(e);
	CHECK(probe_parse_encodings("copyrect tight", &e) == 0 &&
	    strcmp(e, "copyrect tight") == 0, "blanks");
	free(e);
	CHECK(probe_parse_encodings("raw,jpeg", &e) == -1, "unknown");
	CHECK(probe_parse_encodings(" , ", &e) == -1, "empty");
}

static void
test_percentile(void)
{
	double v[100];
	int i;

	for (i = 0; i < 100; i++)
		v[i] = i + 1;
	CHECK(probe_percentile(v, 100, 50) == 50, "p50 of 1..100");
	CHECK(probe_percentile(v, 100, 90) == 90, "p90 of 1..100");
	CHECK(probe_percentile(v, 100, 99) == 99, "p99 of 1..100");
	CHECK(probe_percentile(v, 100, 100) == 100, "p100 of 1..100");
	CHECK(probe_percentile(v, 1, 50) == 1, "p50 of one");
	CHECK(probe_percentile(v, 3, 50) == 2, "p50 of three");
	CHECK(probe_percentile(v, 3, 99) == 3, "p99 of three");
}

int
main(void)
{
	log_init("test-probe-util", 0);
	test_targets();
	test_values();
	test_keys();
	test_encodings();
	test_percentile();
	if (failures > 0) {
		fprintf(stderr, "%d failures\n", failures);
		return 1;
	}
	return 0;
}
