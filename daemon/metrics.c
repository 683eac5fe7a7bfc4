/* metrics.c - the Prometheus text for the metrics endpoint; see metrics.h. */
#include "config.h"

#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include <event2/buffer.h>

#include "policy.h"

#define RESET_NOTE	"; starts again from 0 when the worker restarts"

/* A per-guest family read from one field of the status page. */
struct field_family {
	const char *name;
	const char *type;	/* "counter" or "gauge" */
	const char *help;
	size_t off;		/* in struct worker_status */
	size_t size;		/* 4 or 8 */
	uint32_t div;		/* the field's unit per exposed unit: 1, 1000
				   (ms or thousandths), 1000000 (us) */
	bool boolean;		/* exposed as 0 or 1 */
};

#define F_(f)	offsetof(struct worker_status, f), \
		sizeof(((struct worker_status *)0)->f)

static const struct field_family fields[] = {
	{ "lfbvnc_scans_total", "counter",
	    "Scans of the guest's framebuffer" RESET_NOTE ".",
	    F_(scans), 1, false },
	{ "lfbvnc_scans_skipped_total", "counter",
	    "Scans that were due but skipped: no client had asked for an "
	    "update" RESET_NOTE ".", F_(scans_skipped), 1, false },
	{ "lfbvnc_dirty_requests_total", "counter",
	    "Requests for dirty pages made to the backend (GET_DIRTY "
	    "messages, hypercalls)" RESET_NOTE ".", F_(dirty_requests), 1,
	    false },
	{ "lfbvnc_dirty_pages_total", "counter",
	    "Framebuffer pages the backend reported dirty" RESET_NOTE ".",
	    F_(dirty_pages), 1, false },
	{ "lfbvnc_tiles_changed_total", "counter",
	    "Tiles the scans found changed" RESET_NOTE ".", F_(tiles), 1,
	    false },
	{ "lfbvnc_rects_total", "counter",
	    "Rectangles marked modified for the clients" RESET_NOTE ".",
	    F_(rects), 1, false },
	{ "lfbvnc_updates_sent_total", "counter",
	    "Framebuffer updates sent to VNC clients" RESET_NOTE ".",
	    F_(updates_sent), 1, false },
	{ "lfbvnc_sent_bytes_total", "counter",
	    "Octets sent to VNC clients" RESET_NOTE ".", F_(bytes_sent), 1,
	    false },
	{ "lfbvnc_client_connections_total", "counter",
	    "VNC clients that connected" RESET_NOTE ".", F_(clients_total), 1,
	    false },
	{ "lfbvnc_wakeups_total", "counter",
	    "Wake-ups of the worker's event loop, all causes" RESET_NOTE ".",
	    F_(wakeups), 1, false },
	{ "lfbvnc_traps_armed_total", "counter",
	    "Write traps armed on the framebuffer" RESET_NOTE ".",
	    F_(traps_armed), 1, false },
	{ "lfbvnc_traps_fired_total", "counter",
	    "Write traps that fired" RESET_NOTE ".", F_(traps_fired), 1,
	    false },
	{ "lfbvnc_full_compares_total", "counter",
	    "Scans that compared the whole framebuffer" RESET_NOTE ".",
	    F_(full_compares), 1, false },
	{ "lfbvnc_input_events_total", "counter",
	    "Key and pointer events from clients" RESET_NOTE ".",
	    F_(input_events), 1, false },
	{ "lfbvnc_worker_cpu_seconds_total", "counter",
	    "CPU time (user and system) of the guest's worker" RESET_NOTE ".",
	    F_(cpu_usec), 1000000, false },
	{ "lfbvnc_clients", "gauge",
	    "VNC clients connected now.", F_(clients), 1, false },
	{ "lfbvnc_scan_interval_seconds", "gauge",
	    "The scan policy's current interval.", F_(interval_ms), 1000,
	    false },
	{ "lfbvnc_scans_per_second", "gauge",
	    "Scans over the last second.", F_(scans_per_sec_milli), 1000,
	    false },
	{ "lfbvnc_screen_width_pixels", "gauge",
	    "Width of the guest's current display mode.", F_(width), 1,
	    false },
	{ "lfbvnc_screen_height_pixels", "gauge",
	    "Height of the guest's current display mode.", F_(height), 1,
	    false },
	{ "lfbvnc_provider_up", "gauge",
	    "1 while the worker is attached to the guest's framebuffer "
	    "(provider or Xen domain), else 0.", F_(provider_up), 1, true },
	{ "lfbvnc_worker_uptime_seconds", "gauge",
	    "Time since the guest's worker was started.", F_(uptime_ms), 1000,
	    false },
};

#define NFIELDS	(sizeof(fields) / sizeof(fields[0]))

/* The values of the state label: the policy's, then the master's own. */
static const char *const states[] = {
	"no-clients", "polling", "trapped", "backoff", "fallback",
	"starting", "stopped",
};

#define NSTATES	(sizeof(states) / sizeof(states[0]))

static void
family(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/*
 * A label value, quoted: at most max octets of s (a worker's array may
 * lack its NUL), escaped as the format says; what is not printable ASCII
 * becomes '?', so that the text stays valid UTF-8 and one line.
 */
static void
label_value(struct evbuffer *b, const char *s, size_t max)
{
	char buf[2 * 64 + 2];
	size_t i, o = 0, n = strnlen(s, max);
	unsigned char ch;

	evbuffer_add(b, "\"", 1);
	for (i = 0; i < n; i++) {
		if (o > sizeof(buf) - 2) {
			evbuffer_add(b, buf, o);
			o = 0;
		}
		ch = (unsigned char)s[i];
		if (ch == '\\' || ch == '"') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (ch < 0x20 || ch > 0x7e) {
			buf[o++] = '?';
		} else {
			buf[o++] = (char)ch;
		}
	}
	evbuffer_add(b, buf, o);
	evbuffer_add(b, "\"", 1);
}

/* NAME{guest="G" (the caller closes the braces). */
static void
sample_start(struct evbuffer *b, const char *name,
    const struct metrics_guest *g)
{
	evbuffer_add_printf(b, "%s{guest=", name);
	label_value(b, g->name, SIZE_MAX);
}

static uint64_t
field_value(const struct field_family *f, const struct worker_status *s)
{
	const unsigned char *p = (const unsigned char *)s + f->off;
	uint64_t v64;
	uint32_t v32;

	if (f->size == sizeof(v32)) {
		memcpy(&v32, p, sizeof(v32));
		v64 = v32;
	} else {
		memcpy(&v64, p, sizeof(v64));
	}
	return f->boolean ? v64 != 0 : v64;
}

/* v / div, exactly, as a decimal number. */
static void
decimal(struct evbuffer *b, uint64_t v, uint32_t div)
{
	if (div == 1000)
		evbuffer_add_printf(b, "%" PRIu64 ".%03" PRIu64, v / 1000,
		    v % 1000);
	else if (div == 1000000)
		evbuffer_add_printf(b, "%" PRIu64 ".%06" PRIu64, v / 1000000,
		    v % 1000000);
	else
		evbuffer_add_printf(b, "%" PRIu64, v);
}

static void
daemon_families(struct evbuffer *b, const struct metrics_guest *g, size_t n)
{
	size_t i, running = 0;

	for (i = 0; i < n; i++)
		running += g[i].running;
	family(b, "lfbvnc_up", "gauge",
	    "1: lfbvncd answered this scrape.");
	evbuffer_add_printf(b, "lfbvnc_up 1\n");
	family(b, "lfbvnc_guests", "gauge",
	    "Guests served: configured, attached or discovered.");
	evbuffer_add_printf(b, "lfbvnc_guests %zu\n", n);
	family(b, "lfbvnc_workers_running", "gauge",
	    "Guests whose worker process is running.");
	evbuffer_add_printf(b, "lfbvnc_workers_running %zu\n", running);
}

static void
guest_families(struct evbuffer *b, const struct metrics_guest *g, size_t n)
{
	const char *state;
	size_t i, k;

	family(b, "lfbvnc_worker_up", "gauge",
	    "1 while the guest's worker process runs, else 0.");
	for (i = 0; i < n; i++) {
		sample_start(b, "lfbvnc_worker_up", &g[i]);
		evbuffer_add_printf(b, "} %d\n", g[i].running ? 1 : 0);
	}
	family(b, "lfbvnc_worker_restarts_total", "counter",
	    "Times the master restarted the guest's worker; starts again "
	    "from 0 when lfbvncd restarts or the guest is attached again.");
	for (i = 0; i < n; i++) {
		sample_start(b, "lfbvnc_worker_restarts_total", &g[i]);
		evbuffer_add_printf(b, "} %" PRIu32 "\n", g[i].restarts);
	}
	family(b, "lfbvnc_state", "gauge",
	    "The guest's state, 1 for the current one: the scan policy's "
	    "(no-clients, polling, trapped, backoff, fallback), or starting "
	    "(no status yet) or stopped (no worker).");
	for (i = 0; i < n; i++) {
		if (g[i].have_status)
			state = policy_state_name(
			    (enum policy_state)g[i].status.state);
		else
			state = g[i].running ? "starting" : "stopped";
		for (k = 0; k < NSTATES; k++) {
			sample_start(b, "lfbvnc_state", &g[i]);
			evbuffer_add_printf(b, ",state=\"%s\"} %d\n", states[k],
			    strcmp(state, states[k]) == 0 ? 1 : 0);
		}
	}
	family(b, "lfbvnc_guest_info", "gauge",
	    "Always 1; the labels say where the guest's framebuffer comes "
	    "from (backend) and how its writes are tracked (tracker).");
	for (i = 0; i < n; i++) {
		if (!g[i].have_status)
			continue;
		sample_start(b, "lfbvnc_guest_info", &g[i]);
		evbuffer_add(b, ",backend=", 9);
		label_value(b, g[i].status.backend,
		    sizeof(g[i].status.backend));
		evbuffer_add(b, ",tracker=", 9);
		label_value(b, g[i].status.tracker,
		    sizeof(g[i].status.tracker));
		evbuffer_add(b, "} 1\n", 4);
	}
}

int
metrics_render(struct evbuffer *out, const struct metrics_guest *g,
    size_t n, size_t max)
{
	struct evbuffer *b;
	const struct field_family *f;
	size_t i, k;
	int rc = 0;

	if ((b = evbuffer_new()) == NULL)
		return -ENOMEM;
	daemon_families(b, g, n);
	guest_families(b, g, n);
	for (k = 0; k < NFIELDS && evbuffer_get_length(b) <= max; k++) {
		f = &fields[k];
		family(b, f->name, f->type, f->help);
		for (i = 0; i < n; i++) {
			if (!g[i].have_status)
				continue;
			sample_start(b, f->name, &g[i]);
			evbuffer_add(b, "} ", 2);
			decimal(b, field_value(f, &g[i].status), f->div);
			evbuffer_add(b, "\n", 1);
		}
	}
	if (evbuffer_get_length(b) > max)
		rc = -E2BIG;
	else if (evbuffer_add_buffer(out, b) != 0)
		rc = -ENOMEM;
	evbuffer_free(b);
	return rc;
}
