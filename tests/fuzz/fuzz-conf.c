/*
 * fuzz-conf.c - fuzz the lfbvncd.conf parser (daemon/conf.c).
 *
 * The input is a whole configuration file.  Whatever the parser accepts
 * must hold: at most CONF_MAX_GUESTS guests, each with a valid name and
 * terminated strings, and each guest's block from conf_guest_format
 * must parse back to the same guest (the master hands workers their
 * settings this way).  A rejection must come with a terminated message
 * naming the file.  The input is also tried as one "key=value" override.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A few hundred KiB each: static, not on the stack. */
static struct conf c, c2;

static void
check_guest(const struct conf_guest *g)
{
	char text[CONF_FORMAT_MAX], why[256];
	const struct conf_guest *p;
	int n;

	if (!conf_guest_name_ok(g->name) ||
	    memchr(g->socket, '\0', sizeof(g->socket)) == NULL ||
	    memchr(g->listen, '\0', sizeof(g->listen)) == NULL ||
	    memchr(g->password_file, '\0', sizeof(g->password_file)) == NULL)
		abort();
	if ((n = conf_guest_format(g, text, sizeof(text))) < 0)
		abort();
	conf_init(&c2);
	if (conf_parse(&c2, "fmt", text, (size_t)n, why, sizeof(why)) != 0 ||
	    c2.nguests != 1 || (p = conf_find(&c2, g->name)) == NULL)
		abort();
	if (strcmp(p->socket, g->socket) != 0 ||
	    strcmp(p->listen, g->listen) != 0 ||
	    strcmp(p->password_file, g->password_file) != 0 ||
	    p->backend != g->backend || p->port != g->port ||
	    p->web != g->web || p->web_port != g->web_port ||
	    p->unsafe_no_auth != g->unsafe_no_auth ||
	    p->max_clients != g->max_clients || p->tile != g->tile ||
	    p->force_compare != g->force_compare ||
	    memcmp(&p->policy, &g->policy, sizeof(p->policy)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256], *opt;
	size_t i;

	memset(why, 0x5a, sizeof(why));
	conf_init(&c);
	if (conf_parse(&c, "fuzz", (const char *)data, size, why,
	    sizeof(why)) != 0) {
		if (memchr(why, '\0', sizeof(why)) == NULL ||
		    strncmp(why, "fuzz:", 5) != 0)
			abort();
	} else {
		if (c.nguests > CONF_MAX_GUESTS ||
		    memchr(c.control, '\0', sizeof(c.control)) == NULL ||
		    memchr(c.web_dir, '\0', sizeof(c.web_dir)) == NULL ||
		    memchr(c.user, '\0', sizeof(c.user)) == NULL)
			abort();
		for (i = 0; i < c.nguests; i++)
			check_guest(&c.guests[i]);
		memset(why, 0x5a, sizeof(why));
		if (conf_check(&c, why, sizeof(why)) != 0 &&
		    memchr(why, '\0', sizeof(why)) == NULL)
			abort();
	}

	/* The same bytes as one override (a C string: up to a NUL). */
	if (size < 2048 && (opt = malloc(size + 1)) != NULL) {
		memcpy(opt, data, size);
		opt[size] = '\0';
		conf_init(&c);
		memset(why, 0x5a, sizeof(why));
		if (conf_set_option(&c, NULL, opt, why, sizeof(why)) != 0 &&
		    memchr(why, '\0', sizeof(why)) == NULL)
			abort();
		free(opt);
	}
	return 0;
}
