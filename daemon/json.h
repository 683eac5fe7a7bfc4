/*
 * json.h - writing JSON into a libevent buffer, for the control socket.
 *
 * Strings are escaped so that anything (a guest's last error, a path)
 * comes out as one valid JSON string: '"', '\' and control characters
 * are escaped, valid UTF-8 passes through, and every octet that is not
 * part of valid UTF-8 becomes U+FFFD.  The output never holds a raw
 * newline, which keeps each reply on one line.
 *
 * Members: json_key() writes the separating comma itself when *first is
 * false, then sets *first = false; start an object with "{", bool first =
 * true, then the json_kv_*() calls, then "}".
 *
 * Error convention: none; these functions cannot fail except on memory
 * exhaustion in libevent, which truncates the output (a reader then
 * rejects the document rather than misreading it).
 */
#ifndef LFBVNC_JSON_H
#define LFBVNC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct worker_status;

void json_str(struct evbuffer *out, const char *s);
/* At most max octets of s, stopping at a NUL: for fixed arrays. */
void json_strn(struct evbuffer *out, const char *s, size_t max);

void json_key(struct evbuffer *out, bool *first, const char *key);
void json_kv_str(struct evbuffer *out, bool *first, const char *key,
    const char *s);
void json_kv_u64(struct evbuffer *out, bool *first, const char *key,
    uint64_t v);
void json_kv_i64(struct evbuffer *out, bool *first, const char *key,
    int64_t v);
void json_kv_bool(struct evbuffer *out, bool *first, const char *key,
    bool v);

/*
 * The members of one guest's status object, from a worker's page that
 * the caller has already copied (status.h); the strings are read only up
 * to their array size.  Keys (all optional to a reader):
 *   "state" (policy_state_name), "backend", "tracker", "last_error",
 *   "provider_up" (bool), "interval_ms", "clients", "width", "height",
 *   "format", "vnc_port", "web_port", "scans", "scans_skipped",
 *   "dirty_requests", "dirty_pages", "tiles", "rects", "updates_sent",
 *   "bytes_sent", "clients_total", "wakeups", "traps_armed",
 *   "traps_fired", "full_compares", "input_events", "uptime_ms",
 *   "cpu_usec" (integers), "scans_per_sec" (a number with 3 decimals).
 * The caller adds "name" and whatever else it knows (control.h).
 */
void json_worker_status(struct evbuffer *out, bool *first,
    const struct worker_status *ws);

#endif /* LFBVNC_JSON_H */
