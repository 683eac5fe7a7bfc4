/*
 * test-xl: reading a guest's xl file.  Which guests are served, which
 * are refused and why, and how the lfbvnc_* keys map onto the daemon's
 * settings.  libxlutil is xl's own parser, so the syntax is xl's.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "xendisco.h"

static int failures;
#define CHECK(c) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } \
	while (0)

static struct conf conf;
static char why[512];

static int
parse(const char *text, struct conf_guest *g)
{
	*g = conf.defaults;
	g->given = 0;
	why[0] = '\0';
	return xendisco_parse_xl(&conf, g, text, strlen(text), "t.cfg", why,
	    sizeof(why));
}

int
main(void)
{
	struct conf_guest g;

	conf_init(&conf);
	CHECK(parse("name = \"win\"\ntype = \"hvm\"\nvnc = 0\nlfbvnc = 1\n"
	    "lfbvnc_port = 5905\nlfbvnc_mode = \"1024x768x32\"\n"
	    "lfbvnc_web = 1\nlfbvnc_listen = \"127.0.0.2\"\n"
	    "lfbvnc_max_rate = 30\nlfbvnc_clean_scans = 4\n", &g) == 1);
	CHECK(strcmp(g.name, "win") == 0 && g.backend == CONF_BACKEND_XEN);
	CHECK(g.port == 5905 && g.web && g.web_port == -1);
	CHECK(strcmp(g.mode, "1024x768x32") == 0);
	CHECK(strcmp(g.listen, "127.0.0.2") == 0);
	CHECK(g.policy.min_interval_ms == 33 && g.policy.clean_scans == 4);
	/* builder = "hvm" is the old spelling */
	CHECK(parse("name=\"a\"\nbuilder=\"hvm\"\nvnc=0\nlfbvnc=1\n", &g) == 1);
	CHECK(g.port == -1);		/* the master allocates one */
	/* not ours */
	CHECK(parse("name=\"a\"\ntype=\"hvm\"\nvnc=0\n", &g) == 0);
	CHECK(parse("name=\"a\"\ntype=\"hvm\"\nvnc=0\nlfbvnc=0\n", &g) == 0);
	/* refused, each with its reason */
	CHECK(parse("name=\"a\"\ntype=\"hvm\"\nlfbvnc=1\n", &g) == -EBUSY &&
	    strstr(why, "vnc = 0") != NULL);
	CHECK(parse("name=\"a\"\ntype=\"hvm\"\nvnc=1\nlfbvnc=1\n", &g) ==
	    -EBUSY);
	CHECK(parse("name=\"a\"\ntype=\"hvm\"\nvnc=0\nsdl=1\nlfbvnc=1\n", &g)
	    == -EBUSY && strstr(why, "sdl") != NULL);
	CHECK(parse("name=\"a\"\ntype=\"hvm\"\nvnc=0\nspice=1\nlfbvnc=1\n",
	    &g) == -EBUSY);
	CHECK(parse("name=\"a\"\ntype=\"pv\"\nvnc=0\nlfbvnc=1\n", &g) ==
	    -EINVAL && strstr(why, "HVM") != NULL);
	CHECK(parse("type=\"hvm\"\nvnc=0\nlfbvnc=1\n", &g) == -EINVAL &&
	    strstr(why, "no name") != NULL);
	CHECK(parse("name=\"a b\"\ntype=\"hvm\"\nvnc=0\nlfbvnc=1\n", &g) ==
	    -EINVAL);
	CHECK(parse("name=\"a\"\ntype=\"hvm\"\nvnc=0\nlfbvnc=1\n"
	    "lfbvnc_mode=\"big\"\n", &g) == -EINVAL &&
	    strstr(why, "lfbvnc_mode") != NULL);
	CHECK(parse("name=\"a\"\ntype=\"hvm\"\nvnc=0\nlfbvnc=1\n"
	    "lfbvnc_port=70000\n", &g) < 0 && strstr(why, "lfbvnc_port"));
	CHECK(parse("name=\"a\"\ntype=\"hvm\"\nvnc=0\nlfbvnc=1\n"
	    "lfbvnc_passwordfile=\"relative\"\n", &g) == -EINVAL);
	CHECK(parse("name = \"a\n", &g) == -EINVAL);	/* syntax */
	if (failures) {
		fprintf(stderr, "test-xl: %d failures\n", failures);
		return 1;
	}
	printf("test-xl: ok\n");
	return 0;
}
