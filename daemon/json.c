/* json.c - JSON output for the control socket; see json.h. */
#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "policy.h"
#include "status.h"

/* Length of the valid UTF-8 sequence at s (n octets left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		if (s[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else
		return 0;
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

void
json_strn(struct evbuffer *out, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	char buf[256];
	size_t n, i = 0, o = 0, u;

	if (s == NULL) {
		evbuffer_add(out, "null", 4);
		return;
	}
	n = strnlen(str, max);
	buf[o++] = '"';
	while (i < n) {
		/* Room for the longest item (6) and the closing quote. */
		if (o > sizeof(buf) - 8) {
			evbuffer_add(out, buf, o);
			o = 0;
		}
		if (s[i] == '"' || s[i] == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)s[i++];
		} else if (s[i] == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
			i++;
		} else if (s[i] == '\t') {
			buf[o++] = '\\';
			buf[o++] = 't';
			i++;
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			o += (size_t)snprintf(buf + o, 7, "\\u%04x", s[i]);
			i++;
		} else if (s[i] < 0x80) {
			buf[o++] = (char)s[i++];
		} else if ((u = utf8_len(s + i, n - i)) != 0) {
			memcpy(buf + o, s + i, u);
			o += u;
			i += u;
		} else {
			memcpy(buf + o, "\\ufffd", 6);
			o += 6;
			i++;
		}
	}
	buf[o++] = '"';
	evbuffer_add(out, buf, o);
}

void
json_str(struct evbuffer *out, const char *s)
{
	json_strn(out, s, SIZE_MAX);
}

void
json_key(struct evbuffer *out, bool *first, const char *key)
{
	if (!*first)
		evbuffer_add(out, ",", 1);
	*first = false;
	json_str(out, key);
	evbuffer_add(out, ":", 1);
}

void
json_kv_str(struct evbuffer *out, bool *first, const char *key,
    const char *s)
{
	json_key(out, first, key);
	json_str(out, s);
}

void
json_kv_u64(struct evbuffer *out, bool *first, const char *key, uint64_t v)
{
	json_key(out, first, key);
	evbuffer_add_printf(out, "%" PRIu64, v);
}

void
json_kv_i64(struct evbuffer *out, bool *first, const char *key, int64_t v)
{
	json_key(out, first, key);
	evbuffer_add_printf(out, "%" PRId64, v);
}

void
json_kv_bool(struct evbuffer *out, bool *first, const char *key, bool v)
{
	json_key(out, first, key);
	if (v)
		evbuffer_add(out, "true", 4);
	else
		evbuffer_add(out, "false", 5);
}

static void
kv_strn(struct evbuffer *out, bool *first, const char *key, const char *s,
    size_t max)
{
	json_key(out, first, key);
	json_strn(out, s, max);
}

void
json_worker_status(struct evbuffer *out, bool *first,
    const struct worker_status *ws)
{
	/* policy_state_name answers "?" for a value out of range. */
	json_kv_str(out, first, "state",
	    policy_state_name((enum policy_state)ws->state));
	kv_strn(out, first, "backend", ws->backend, sizeof(ws->backend));
	kv_strn(out, first, "tracker", ws->tracker, sizeof(ws->tracker));
	kv_strn(out, first, "last_error", ws->last_error,
	    sizeof(ws->last_error));
	json_kv_bool(out, first, "provider_up", ws->provider_up != 0);
	json_kv_u64(out, first, "interval_ms", ws->interval_ms);
	json_kv_u64(out, first, "clients", ws->clients);
	json_kv_u64(out, first, "width", ws->width);
	json_kv_u64(out, first, "height", ws->height);
	json_kv_u64(out, first, "format", ws->format);
	json_kv_u64(out, first, "vnc_port", ws->vnc_port);
	json_kv_u64(out, first, "web_port", ws->web_port);
	json_kv_u64(out, first, "scans", ws->scans);
	json_kv_u64(out, first, "scans_skipped", ws->scans_skipped);
	json_kv_u64(out, first, "dirty_requests", ws->dirty_requests);
	json_kv_u64(out, first, "dirty_pages", ws->dirty_pages);
	json_kv_u64(out, first, "tiles", ws->tiles);
	json_kv_u64(out, first, "rects", ws->rects);
	json_kv_u64(out, first, "updates_sent", ws->updates_sent);
	json_kv_u64(out, first, "bytes_sent", ws->bytes_sent);
	json_kv_u64(out, first, "clients_total", ws->clients_total);
	json_kv_u64(out, first, "wakeups", ws->wakeups);
	json_kv_u64(out, first, "traps_armed", ws->traps_armed);
	json_kv_u64(out, first, "traps_fired", ws->traps_fired);
	json_kv_u64(out, first, "full_compares", ws->full_compares);
	json_kv_u64(out, first, "input_events", ws->input_events);
	json_kv_u64(out, first, "uptime_ms", ws->uptime_ms);
	json_kv_u64(out, first, "cpu_usec", ws->cpu_usec);
	json_key(out, first, "scans_per_sec");
	evbuffer_add_printf(out, "%" PRIu64 ".%03" PRIu64,
	    ws->scans_per_sec_milli / 1000, ws->scans_per_sec_milli % 1000);
}
