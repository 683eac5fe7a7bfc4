/*
 * test-json: the daemon's JSON writer (daemon/json.c) read back by
 * lfbvncctl's reader (common/json-read.c), and the reader against
 * hostile documents.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "json-read.h"
#include "json.h"
#include "policy.h"
#include "status.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

/* The buffer's text, NUL-terminated; the caller frees it. */
static char *
text_of(struct evbuffer *b, size_t *len)
{
	char *s;

	*len = evbuffer_get_length(b);
	if ((s = malloc(*len + 1)) == NULL)
		return NULL;
	evbuffer_remove(b, s, *len);
	s[*len] = '\0';
	return s;
}

/* Write s with json_strn, read it back, expect want. */
static void
str_round(const char *s, size_t max, const char *want, const char *label)
{
	struct evbuffer *b = evbuffer_new();
	struct jr_doc *d = NULL;
	char why[128] = "", *t;
	const char *got;
	size_t len;

	if (b == NULL)
		return;
	json_strn(b, s, max);
	t = text_of(b, &len);
	CHECK(t != NULL && memchr(t, '\n', len) == NULL, "%s: one line",
	    label);
	CHECK(t != NULL && jr_parse(t, len, &d, why, sizeof(why)) == 0,
	    "%s: parse: %s (%s)", label, why, t ? t : "");
	got = jr_string(jr_root(d));
	CHECK(got != NULL && strcmp(got, want) == 0, "%s: got \"%s\"", label,
	    got ? got : "(null)");
	jr_free(d);
	free(t);
	evbuffer_free(b);
}

static void
test_strings(void)
{
	char all[256], want[256 * 3 + 1];
	size_t i, o = 0;

	str_round("", 10, "", "empty");
	str_round("plain", SIZE_MAX, "plain", "plain");
	str_round("q\"b\\s/\n\t\r", SIZE_MAX, "q\"b\\s/\n\t\r", "escapes");
	str_round("caf\xc3\xa9 \xf0\x9f\x98\x80", SIZE_MAX,
	    "caf\xc3\xa9 \xf0\x9f\x98\x80", "valid UTF-8 passes");
	str_round("abcdef", 3, "abc", "bounded by max");
	/* Invalid UTF-8 becomes U+FFFD, octet by octet. */
	str_round("a\xff" "b\xc3" "c\xed\xa0\x80", SIZE_MAX,
	    "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd"
	    "\xef\xbf\xbd", "invalid UTF-8");
	str_round("\xc0\xaf", SIZE_MAX, "\xef\xbf\xbd\xef\xbf\xbd",
	    "overlong");
	/* Every octet 1..255 in one string. */
	for (i = 1; i < 256; i++) {
		all[i - 1] = (char)i;
		if (i < 0x80)
			want[o++] = (char)i;
		else {
			memcpy(want + o, "\xef\xbf\xbd", 3);
			o += 3;
		}
	}
	all[255] = '\0';
	want[o] = '\0';
	str_round(all, SIZE_MAX, want, "all octets");
}

static void
test_status(void)
{
	struct worker_status ws;
	struct evbuffer *b = evbuffer_new();
	struct jr_doc *d = NULL;
	const struct jr_value *r;
	char why[128] = "", *t;
	size_t len;
	uint64_t u;
	double x;
	bool first = true, up = false;

	if (b == NULL)
		return;
	memset(&ws, 0, sizeof(ws));
	ws.state = POLICY_TRAPPED;
	ws.interval_ms = 250;
	ws.bytes_sent = UINT64_MAX;
	ws.scans_per_sec_milli = 59999;
	ws.provider_up = 1;
	/* Unterminated arrays: read only to their end. */
	memset(ws.backend, 'b', sizeof(ws.backend));
	memcpy(ws.last_error, "bad \"thing\"\n", 12);
	evbuffer_add(b, "{", 1);
	json_kv_str(b, &first, "name", "g");
	json_kv_i64(b, &first, "pid", -1);
	json_worker_status(b, &first, &ws);
	json_kv_bool(b, &first, "extra", false);
	evbuffer_add(b, "}", 1);
	t = text_of(b, &len);
	CHECK(t != NULL && jr_parse(t, len, &d, why, sizeof(why)) == 0,
	    "status parses: %s", why);
	r = jr_root(d);
	CHECK(jr_type(r) == JR_OBJECT, "object");
	CHECK(strcmp(jr_string(jr_get(r, "state")) ?: "", "trapped") == 0,
	    "state");
	CHECK(jr_u64(jr_get(r, "interval_ms"), &u) && u == 250, "interval");
	CHECK(jr_u64(jr_get(r, "bytes_sent"), &u) && u == UINT64_MAX,
	    "u64 max survives");
	CHECK(jr_number(jr_get(r, "scans_per_sec"), &x) && x > 59.99 &&
	    x < 60.0, "rate %f", x);
	CHECK(jr_bool(jr_get(r, "provider_up"), &up) && up, "bool");
	CHECK(strlen(jr_string(jr_get(r, "backend")) ?: "") ==
	    sizeof(ws.backend), "bounded backend");
	CHECK(strcmp(jr_string(jr_get(r, "last_error")) ?: "",
	    "bad \"thing\"\n") == 0, "last_error");
	CHECK(!jr_u64(jr_get(r, "pid"), &u) && jr_number(jr_get(r, "pid"),
	    &x) && x == -1, "negative is not u64");
	CHECK(jr_get(r, "nope") == NULL && jr_get(NULL, "x") == NULL,
	    "missing keys");
	CHECK(jr_count(r) == 32, "member count %zu", jr_count(r));
	jr_free(d);
	free(t);
	evbuffer_free(b);
}

static void
good(const char *s, const char *label)
{
	struct jr_doc *d = NULL;
	char why[128] = "";

	CHECK(jr_parse(s, strlen(s), &d, why, sizeof(why)) == 0,
	    "%s: %s", label, why);
	jr_free(d);
}

static void
bad(const char *s, size_t len, int want, const char *label)
{
	struct jr_doc *d = (struct jr_doc *)1;
	char why[128] = "";
	int rc;

	rc = jr_parse(s, len, &d, why, sizeof(why));
	CHECK(rc == want && d == NULL && why[0] != '\0',
	    "%s: rc %d (%s)", label, rc, why);
}
#define BAD(s, want)	bad(s, sizeof(s) - 1, want, s)

static void
test_reader(void)
{
	struct jr_doc *d = NULL;
	const struct jr_value *v;
	char *deep;
	size_t i;
	uint64_t u;
	char why[128];

	good(" {\"a\":[1,-2.5e3,true,false,null,\"\\u00e9\\ud83d\\ude00\"]}\n",
	    "mixed");
	good("[]", "empty array");
	good("{}", "empty object");
	good("0", "bare zero");
	good("\"\\/\\b\\f\"", "rare escapes");

	BAD("", -EINVAL);
	BAD("{", -EINVAL);
	BAD("{\"a\"}", -EINVAL);
	BAD("{\"a\":1,}", -EINVAL);
	BAD("[1,]", -EINVAL);
	BAD("[1 2]", -EINVAL);
	BAD("{a:1}", -EINVAL);
	BAD("01", -EINVAL);
	BAD("1.", -EINVAL);
	BAD("-", -EINVAL);
	BAD("1e", -EINVAL);
	BAD("+1", -EINVAL);
	BAD("tru", -EINVAL);
	BAD("nul", -EINVAL);
	BAD("{} x", -EINVAL);
	BAD("\"a", -EINVAL);
	BAD("\"a\\", -EINVAL);
	BAD("\"\\x\"", -EINVAL);
	BAD("\"\\u12\"", -EINVAL);
	BAD("\"\\u12g4\"", -EINVAL);
	BAD("\"\\u0000\"", -EINVAL);
	BAD("\"\\ud800\"", -EINVAL);
	BAD("\"\\ud800\\u0041\"", -EINVAL);
	BAD("\"\\udc00\"", -EINVAL);
	BAD("\"tab\there\"", -EINVAL);
	BAD("\"\xff\"", -EINVAL);
	BAD("\"\xc3\"", -EINVAL);
	BAD("\"\xed\xa0\x80\"", -EINVAL);
	BAD("\"\xf4\x90\x80\x80\"", -EINVAL);
	BAD("1\0", -EINVAL);
	BAD("11111111111111111111111111111111111111111111111111111111111111111"
	    "1111", -E2BIG);

	/* Depth: JR_MAX_DEPTH levels are fine, one more is not. */
	if ((deep = malloc(2 * JR_MAX_DEPTH + 3)) != NULL) {
		for (i = 0; i < JR_MAX_DEPTH; i++) {
			deep[i] = '[';
			deep[JR_MAX_DEPTH + i] = ']';
		}
		deep[2 * JR_MAX_DEPTH] = '\0';
		good(deep, "max depth");
		memmove(deep + 1, deep, 2 * JR_MAX_DEPTH + 1);
		deep[0] = '[';
		strcat(deep, "]");
		bad(deep, strlen(deep), -E2BIG, "too deep");
		free(deep);
	}
	/* Values: a flat array of too many. */
	if ((deep = malloc(2 * JR_MAX_VALUES + 8)) != NULL) {
		deep[0] = '[';
		for (i = 0; i < JR_MAX_VALUES; i++) {
			deep[1 + 2 * i] = '0';
			deep[2 + 2 * i] = ',';
		}
		deep[2 * JR_MAX_VALUES] = ']';
		bad(deep, 2 * JR_MAX_VALUES + 1, -E2BIG, "too many values");
		free(deep);
	}
	bad("[]", (size_t)JR_MAX_TEXT + 1, -E2BIG, "too large");

	/* Accessors on the wrong type answer NULL / false. */
	CHECK(jr_parse("[\"s\",7]", 7, &d, why, sizeof(why)) == 0, "arr");
	v = jr_first(jr_root(d));
	CHECK(jr_string(v) != NULL && !jr_u64(v, &u) && jr_first(v) == NULL &&
	    jr_key(v) == NULL && jr_count(v) == 0, "string accessors");
	v = jr_next(v);
	CHECK(jr_u64(v, &u) && u == 7 && jr_string(v) == NULL &&
	    jr_next(v) == NULL, "number accessors");
	CHECK(jr_get(jr_root(d), "x") == NULL, "jr_get on an array");
	jr_free(d);
	jr_free(NULL);
}

int
main(void)
{
	test_strings();
	test_status();
	test_reader();
	if (failures != 0) {
		fprintf(stderr, "test-json: %d failures\n", failures);
		return 1;
	}
	printf("test-json: ok\n");
	return 0;
}
