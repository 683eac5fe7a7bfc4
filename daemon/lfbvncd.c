/*
 * lfbvncd - serve virtual machines' framebuffers over VNC, sending only
 * what the guest really changed.  See lfbvncd(8) and docs/.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "master.h"
#include "metricsd.h"
#include "worker.h"

#define DEFAULT_CONF	SYSCONFDIR "/lfbvnc/lfbvncd.conf"
#define MAX_OVERRIDES	64

/* Long options only: none of them has a letter, so that none is typed
   by mistake. */
enum { OPT_DEBUG_NO_SECCOMP = 256 };

static const struct option long_options[] = {
	{ "debug-no-seccomp", no_argument, NULL, OPT_DEBUG_NO_SECCOMP },
	{ NULL, 0, NULL, 0 }
};

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: lfbvncd [-dnsv] [-f file] [-c control-socket] [-g name=socket]...\n"
"               [-o key=value]... [--debug-no-seccomp]\n"
"  -f file          configuration (default " DEFAULT_CONF ")\n"
"  -g name=socket   serve the lfbshm provider at socket as guest name\n"
"                   (no configuration file needed)\n"
"  -o key=value     override a global setting, e.g. -o port=5901\n"
"                   -o web=yes -o max-rate=30 -o clean-scans=8\n"
"  -c path          control socket\n"
"  -n               check the configuration and exit\n"
"  -s               log to syslog instead of stderr\n"
"  -v               more verbose (twice: libvncserver's log too)\n"
"  --debug-no-seccomp\n"
"                   workers serve WITHOUT their seccomp filter: only for\n"
"                   valgrind, which cannot run it (docs/SECURITY.md)\n");
	exit(status);
}

/* Resolve our own executable once: workers are started from it. */
static const char *
self_exe(void)
{
	static char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		fatal("readlink /proc/self/exe");
	buf[n] = '\0';
	return buf;
}

int
main(int argc, char **argv)
{
	static struct conf conf;
	const char *conf_path = NULL, *control = NULL, *worker = NULL;
	const char *metrics_user = NULL;
	char *overrides[MAX_OVERRIDES], *guests[MAX_OVERRIDES];
	int noverrides = 0, nguests = 0, check = 0, use_syslog = 0;
	int verbose = 0, ipc_fd = -1, status_fd = -1, metrics_fd = -1, ch, i;
	bool debug_no_seccomp = false;
	char why[512];

	while ((ch = getopt_long(argc, argv, "c:df:g:hno:svW:I:S:M:U:",
	    long_options, NULL)) != -1) {
		switch (ch) {
		case OPT_DEBUG_NO_SECCOMP:
			debug_no_seccomp = true;
			break;
		case 'c':
			control = optarg;
			break;
		case 'd':
			use_syslog = 0;
			break;
		case 'f':
			conf_path = optarg;
			break;
		case 'g':
			if (nguests == MAX_OVERRIDES)
				fatalx("too many -g");
			guests[nguests++] = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'n':
			check = 1;
			break;
		case 'o':
			if (noverrides == MAX_OVERRIDES)
				fatalx("too many -o");
			overrides[noverrides++] = optarg;
			break;
		case 's':
			use_syslog = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'W':
			worker = optarg;
			break;
		case 'I':
			ipc_fd = atoi(optarg);
			break;
		case 'S':
			status_fd = atoi(optarg);
			break;
		case 'M':
			metrics_fd = atoi(optarg);
			break;
		case 'U':
			metrics_user = optarg;
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	log_setverbose(verbose);

	if (worker != NULL) {
		if (ipc_fd < 3 || status_fd < 3)
			fatalx("-W needs -I and -S (internal use)");
		return worker_exec_main(worker, ipc_fd, status_fd, use_syslog,
		    debug_no_seccomp);
	}
	if (metrics_fd != -1) {
		if (metrics_fd < 3 || ipc_fd < 3 || metrics_user == NULL)
			fatalx("-M needs -I and -U (internal use)");
		return metricsd_child_main(metrics_fd, ipc_fd, metrics_user,
		    use_syslog, debug_no_seccomp);
	}

	log_init(argv[0], use_syslog);
	conf_init(&conf);
	/*
	 * The default file is optional: guests may also come from -g, from
	 * watch-dir or from "lfbvncctl attach".  A file named with -f must
	 * exist.
	 */
	if (conf_path == NULL && access(DEFAULT_CONF, F_OK) == 0)
		conf_path = DEFAULT_CONF;
	if (conf_path != NULL &&
	    conf_load(&conf, conf_path, why, sizeof(why)) < 0)
		fatalx("%s", why);
	for (i = 0; i < noverrides; i++) {
		char *eq = strchr(overrides[i], '=');
		char key[CONF_LINE_MAX];

		if (eq == NULL || (size_t)(eq - overrides[i]) >= sizeof(key))
			fatalx("-o %s: expected key=value", overrides[i]);
		memcpy(key, overrides[i], (size_t)(eq - overrides[i]));
		key[eq - overrides[i]] = '\0';
		if (conf_set(&conf, NULL, key, eq + 1, why, sizeof(why)) < 0)
			fatalx("-o %s: %s", overrides[i], why);
	}
	for (i = 0; i < nguests; i++) {
		struct conf_guest *g;
		char *eq = strchr(guests[i], '=');

		if (eq == NULL)
			fatalx("-g %s: expected name=socket", guests[i]);
		if (conf.nguests == CONF_MAX_GUESTS)
			fatalx("too many guests");
		g = &conf.guests[conf.nguests];
		*g = conf.defaults;
		*eq = '\0';
		if (!conf_guest_name_ok(guests[i]))
			fatalx("-g: bad guest name \"%s\"", guests[i]);
		snprintf(g->name, sizeof(g->name), "%s", guests[i]);
		if (snprintf(g->socket, sizeof(g->socket), "%s", eq + 1) >=
		    (int)sizeof(g->socket))
			fatalx("-g %s: socket path too long", guests[i]);
		g->backend = CONF_BACKEND_LFBSHM;
		conf.nguests++;
	}
	if (control != NULL)
		snprintf(conf.control, sizeof(conf.control), "%s", control);
	if (conf_check(&conf, why, sizeof(why)) < 0)
		fatalx("%s", why);
	if (conf.nguests == 0 && conf.watch_dir[0] == '\0')
		log_info("no guests configured yet: add them with "
		    "\"lfbvncctl attach NAME SOCKET\"");
	if (check) {
		printf("configuration OK: %zu guest%s\n", conf.nguests,
		    conf.nguests == 1 ? "" : "s");
		return 0;
	}
	return master_main(&conf, conf_path, overrides, noverrides,
	    self_exe(), use_syslog != 0, debug_no_seccomp);
}
