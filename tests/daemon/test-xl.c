/*
 * test-xl: reading a guest's xl file.  Which guests are served, which
 * are refused and why, and how the lfbvnc_* keys map onto the daemon's
 * settings.  libxlutil is xl's own parser, so the syntax is xl's.  Then
 * the directory scan: every refused file is logged once, with its path,
 * whatever its name, and again when it changes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static const char hvm[] = "type=\"hvm\"\nvnc=0\nlfbvnc=1\n";

static void
test_intervals(void)
{
	struct conf_guest g;
	char text[512];

	/* Each key is in range, but not with the others (or the globals):
	   refused as a guest block of lfbvncd.conf is, with the reason. */
	snprintf(text, sizeof(text), "name=\"a\"\n%slfbvnc_max_rate=1\n",
	    hvm);		/* 1000 ms > max-interval 250 */
	CHECK(parse(text, &g) == -EINVAL && strstr(why, "t.cfg: ") == why &&
	    strstr(why, "maximum interval") != NULL);
	snprintf(text, sizeof(text), "name=\"a\"\n%s"
	    "lfbvnc_backoff_interval=10\n", hvm);	/* < 16 ms (60 Hz) */
	CHECK(parse(text, &g) == -EINVAL && strstr(why, "t.cfg: ") == why &&
	    strstr(why, "back-off interval") != NULL);
	snprintf(text, sizeof(text), "name=\"a\"\n%slfbvnc_web=1\n"
	    "lfbvnc_port=5905\nlfbvnc_web_port=5905\n", hvm);
	CHECK(parse(text, &g) == -EADDRINUSE &&
	    strstr(why, "are both 5905") != NULL);
	/* 200 ms > the global fallback-interval (100 ms) */
	snprintf(text, sizeof(text), "name=\"a\"\n%slfbvnc_max_rate=5\n"
	    "lfbvnc_max_interval=500\nlfbvnc_backoff_interval=2000\n", hvm);
	CHECK(parse(text, &g) == -EINVAL &&
	    strstr(why, "fallback interval") != NULL);
	/* consistent: served */
	snprintf(text, sizeof(text), "name=\"a\"\n%slfbvnc_max_rate=5\n"
	    "lfbvnc_max_interval=500\nlfbvnc_backoff_interval=2000\n"
	    "lfbvnc_fallback_interval=300\n", hvm);
	CHECK(parse(text, &g) == 1 && g.policy.min_interval_ms == 200 &&
	    g.policy.fallback_interval_ms == 300);
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

static struct xendisco_refused refused;

/* Look `name' up in dir; what was logged meanwhile into log. */
static int
find(const char *name, char *log, size_t loglen)
{
	struct conf_guest g;
	char tmpl[] = "/tmp/lfbvnc-xl-log-XXXXXX";
	int fd, saved, rc;
	ssize_t n;

	fflush(stderr);
	if ((fd = mkstemp(tmpl)) == -1 || (saved = dup(2)) == -1) {
		CHECK(!"log capture");
		return -1;
	}
	unlink(tmpl);
	dup2(fd, 2);
	rc = xendisco_find_xl(&conf, &refused, name, &g);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, log, loglen - 1, 0);
	log[n > 0 ? n : 0] = '\0';
	close(fd);
	return rc;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

static void
test_scan(void)
{
	char dir[] = "/tmp/lfbvnc-xl-XXXXXX", bad[64], noname[64], slow[64];
	char good[64], text[512], log[4096];

	if (mkdtemp(dir) == NULL) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(conf.xl_config_dirs, sizeof(conf.xl_config_dirs), "%s", dir);
	/* None of the paths holds the guest's name. */
	snprintf(bad, sizeof(bad), "%s/one.cfg", dir);
	snprintf(noname, sizeof(noname), "%s/two.cfg", dir);
	snprintf(slow, sizeof(slow), "%s/three.cfg", dir);
	snprintf(good, sizeof(good), "%s/four.cfg", dir);
	snprintf(text, sizeof(text), "name=\"vm1\"\n%slfbvnc_port=70000\n",
	    hvm);
	put(bad, text);
	put(noname, hvm);
	snprintf(text, sizeof(text), "name=\"vm3\"\n%slfbvnc_max_rate=1\n",
	    hvm);
	put(slow, text);
	snprintf(text, sizeof(text), "name=\"vm4\"\n%s", hvm);
	put(good, text);

	/* Looking for any guest logs every refusal, each once. */
	CHECK(find("vm1", log, sizeof(log)) == 0);
	CHECK(count(log, "\n") == 3);
	CHECK(strstr(log, bad) != NULL && strstr(log, "lfbvnc_port") != NULL);
	CHECK(strstr(log, noname) != NULL && strstr(log, "no name") != NULL);
	CHECK(strstr(log, slow) != NULL &&
	    strstr(log, "maximum interval") != NULL);
	/* The next scans are quiet, and still find good files. */
	CHECK(find("vm1", log, sizeof(log)) == 0 && log[0] == '\0');
	CHECK(find("vm4", log, sizeof(log)) == 1 && log[0] == '\0');
	/* A changed file is logged again (still bad), the others not. */
	snprintf(text, sizeof(text), "name=\"vm1\"\n%slfbvnc_port=700000\n",
	    hvm);
	put(bad, text);
	CHECK(find("vm1", log, sizeof(log)) == 0 && count(log, "\n") == 1 &&
	    strstr(log, bad) != NULL);
	/* SIGHUP's reset: all again. */
	refused.n = refused.next = 0;
	CHECK(find("vm4", log, sizeof(log)) == 1 && count(log, "\n") == 3);

	unlink(bad);
	unlink(noname);
	unlink(slow);
	unlink(good);
	rmdir(dir);
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
	test_intervals();
	test_scan();
	if (failures) {
		fprintf(stderr, "test-xl: %d failures\n", failures);
		return 1;
	}
	printf("test-xl: ok\n");
	return 0;
}
