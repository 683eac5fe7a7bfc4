/*
 * fuzz-control: the control socket's request parser
 * (daemon/control.c: control_parse_request), which every line a local
 * peer sends goes through before any op runs.  The input is what the
 * peer sent before its newline.
 *
 * What the parser accepts must hold: a known command with a word count
 * it takes, every word printable ASCII and inside the request, a valid
 * guest name for attach and detach, key=value options; and the words,
 * quoted again as lfbvncctl quotes them, must parse back to the same
 * request.  A refusal must come with a short, printable reason (it goes
 * back to the peer as is).
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Some KiB each: static, not on the stack. */
static struct control_request req, req2;
static char line[4 * CONTROL_LINE_MAX + 8];

static bool
printable(const char *s, bool tab)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && !(tab && *s == '\t')) ||
		    (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* Append w, quoted when it must be; false when line is full. */
static bool
add_word(size_t *off, const char *w)
{
	bool quote = w[0] == '\0' || strpbrk(w, " \t\"\\") != NULL;
	size_t i;

	if (*off + 2 * strlen(w) + 4 >= sizeof(line))
		return false;
	if (*off > 0)
		line[(*off)++] = ' ';
	if (quote)
		line[(*off)++] = '"';
	for (i = 0; w[i] != '\0'; i++) {
		if (quote && (w[i] == '"' || w[i] == '\\'))
			line[(*off)++] = '\\';
		line[(*off)++] = w[i];
	}
	if (quote)
		line[(*off)++] = '"';
	return true;
}

static void
check_accepted(void)
{
	char why[256];
	size_t off = 0;
	int i;

	if (req.command == NULL || req.argc < 1 ||
	    req.argc > CONTROL_MAX_ARGS ||
	    strcmp(req.command, req.argv[0]) != 0)
		abort();
	for (i = 0; i < req.argc; i++) {
		if (req.argv[i] < req.line ||
		    req.argv[i] >= req.line + sizeof(req.line) ||
		    memchr(req.argv[i], '\0', (size_t)(req.line +
		    sizeof(req.line) - req.argv[i])) == NULL ||
		    !printable(req.argv[i], true))
			abort();
	}
	if (strcmp(req.command, "attach") == 0) {
		if (req.argc < 3 || !conf_guest_name_ok(req.argv[1]) ||
		    req.argv[2][0] == '\0')
			abort();
		for (i = 3; i < req.argc; i++)
			if (req.argv[i][0] == '=' ||
			    strchr(req.argv[i], '=') == NULL)
				abort();
	} else if (strcmp(req.command, "detach") == 0) {
		if (req.argc != 2 || !conf_guest_name_ok(req.argv[1]))
			abort();
	} else if (strcmp(req.command, "status") != 0 &&
	    strcmp(req.command, "reload") != 0 &&
	    strcmp(req.command, "help") != 0)
		abort();

	/* Quoted again, the words are the same request. */
	for (i = 0; i < req.argc; i++)
		if (!add_word(&off, req.argv[i]))
			return;
	if (off > CONTROL_LINE_MAX)
		return;
	if (control_parse_request(line, off, &req2, why, sizeof(why)) != 0 ||
	    req2.argc != req.argc || strcmp(req2.command, req.command) != 0)
		abort();
	for (i = 0; i < req.argc; i++)
		if (strcmp(req.argv[i], req2.argv[i]) != 0)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	size_t n;

	memset(why, 'X', sizeof(why));
	if (control_parse_request((const char *)data, size, &req, why,
	    sizeof(why)) == 0) {
		check_accepted();
		return 0;
	}
	if ((n = strnlen(why, sizeof(why))) == 0 || n == sizeof(why) ||
	    !printable(why, true) || req.command != NULL)
		abort();
	return 0;
}
