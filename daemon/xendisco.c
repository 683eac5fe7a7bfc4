/* xendisco.c - Xen guests from xl files and xenstore; see xendisco.h. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <libxlutil.h>
#include <xenstore.h>

#include "log.h"
#include "xendisco.h"
#include "xenmode.h"

#define XL_FILE_MAX	(256 * 1024)
#define MAX_SERVED	CONF_MAX_GUESTS
#define MODE_KEY	XENMODE_KEY
#define MODE_TOKEN	"mode"

struct served {
	char name[CONF_NAME_MAX + 1];
	uint32_t domid;
};

struct xendisco {
	struct conf *c;
	const struct xendisco_ops *ops;
	void *arg;
	struct xs_handle *xs;
	struct event *ev;
	struct served served[MAX_SERVED];
	size_t nserved;
	/* Every watch event rescans: a bad file is logged once. */
	struct xendisco_refused refused;
};

bool
xendisco_is_dom0(void)
{
	char buf[128];
	ssize_t n;
	int fd;

	fd = open("/proc/xen/capabilities", O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, "control_d") != NULL;
}

/* xl key -> lfbvncd.conf key, and whether its value is a string. */
static const struct {
	const char *xl, *conf;
	bool string;
} xl_keys[] = {
	{ "lfbvnc_listen", "listen", true },
	{ "lfbvnc_port", "port", false },
	{ "lfbvnc_passwordfile", "password-file", true },
	{ "lfbvnc_mode", "mode", true },
	{ "lfbvnc_web", "web", false },
	{ "lfbvnc_web_port", "web-port", false },
	{ "lfbvnc_max_rate", "max-rate", false },
	{ "lfbvnc_clean_scans", "clean-scans", false },
	{ "lfbvnc_max_interval", "max-interval", false },
	{ "lfbvnc_backoff_interval", "backoff-interval", false },
	/* Without it, a guest slower than the global fallback-interval
	   (100 ms: 10 Hz) could never pass conf_guest_check. */
	{ "lfbvnc_fallback_interval", "fallback-interval", false },
	{ "lfbvnc_max_clients", "max-clients", false },
};

int
xendisco_parse_xl(struct conf *c, struct conf_guest *g, const char *text,
    size_t len, const char *file, char *why, size_t whylen)
{
	XLU_Config *cfg;
	const char *s;
	char *report = NULL, num[32], inner[256];
	size_t reportlen = 0, i;
	FILE *rf;
	long v;
	int rc;

	if (len > XL_FILE_MAX) {
		snprintf(why, whylen, "%s: larger than %d octets", file,
		    XL_FILE_MAX);
		return -EFBIG;
	}
	/* libxlutil reports syntax errors to a stream: keep them for why. */
	rf = open_memstream(&report, &reportlen);
	if (rf == NULL) {
		snprintf(why, whylen, "%s: out of memory", file);
		return -ENOMEM;
	}
	cfg = xlu_cfg_init(rf, file);
	if (cfg == NULL) {
		fclose(rf);
		free(report);
		snprintf(why, whylen, "%s: out of memory", file);
		return -ENOMEM;
	}
	rc = xlu_cfg_readdata(cfg, text, (int)len);
	fflush(rf);
	if (rc != 0) {
		snprintf(why, whylen, "%s: %s", file, reportlen ?
		    report : "syntax error");
		rc = -EINVAL;
		goto out;
	}
	if (xlu_cfg_get_long(cfg, "lfbvnc", &v, 1) != 0 || v != 1) {
		rc = 0;		/* not ours */
		goto out;
	}
	if (xlu_cfg_get_string(cfg, "name", &s, 1) != 0) {
		snprintf(why, whylen, "%s: lfbvnc = 1 but no name", file);
		rc = -EINVAL;
		goto out;
	}
	if (!conf_guest_name_ok(s)) {
		snprintf(why, whylen, "%s: guest name \"%.64s\" is not usable "
		    "(letters, digits, '.', '_', '-', at most %d)", file, s,
		    CONF_NAME_MAX);
		rc = -EINVAL;
		goto out;
	}
	snprintf(g->name, sizeof(g->name), "%s", s);
	if ((xlu_cfg_get_string(cfg, "type", &s, 1) == 0 &&
	    strcmp(s, "hvm") != 0) ||
	    (xlu_cfg_get_string(cfg, "builder", &s, 1) == 0 &&
	    strcmp(s, "hvm") != 0)) {
		snprintf(why, whylen, "%s: guest %s is not an HVM guest "
		    "(type = \"hvm\")", file, g->name);
		rc = -EINVAL;
		goto out;
	}
	/* libxl turns QEMU's VNC on for HVM guests unless vnc = 0. */
	if (xlu_cfg_get_long(cfg, "vnc", &v, 1) != 0 || v != 0) {
		snprintf(why, whylen, "%s: guest %s must set vnc = 0: QEMU's "
		    "own VNC server would steal the dirty-VRAM bits", file,
		    g->name);
		rc = -EBUSY;
		goto out;
	}
	if ((xlu_cfg_get_long(cfg, "sdl", &v, 1) == 0 && v != 0) ||
	    (xlu_cfg_get_long(cfg, "spice", &v, 1) == 0 && v != 0)) {
		snprintf(why, whylen, "%s: guest %s enables QEMU's sdl or spice "
		    "display, which would steal the dirty-VRAM bits", file,
		    g->name);
		rc = -EBUSY;
		goto out;
	}
	g->backend = CONF_BACKEND_XEN;
	g->socket[0] = '\0';
	g->port = -1;		/* allocated by the master unless given */
	g->web_port = -1;
	for (i = 0; i < sizeof(xl_keys) / sizeof(xl_keys[0]); i++) {
		const char *val;

		if (xl_keys[i].string) {
			if (xlu_cfg_get_string(cfg, xl_keys[i].xl, &val, 1) != 0)
				continue;
		} else {
			if (xlu_cfg_get_long(cfg, xl_keys[i].xl, &v, 1) != 0)
				continue;
			if (strcmp(xl_keys[i].conf, "web") == 0)
				snprintf(num, sizeof(num), "%s", v ? "yes" :
				    "no");
			else
				snprintf(num, sizeof(num), "%ld", v);
			val = num;
		}
		if ((rc = conf_set(c, g, xl_keys[i].conf, val, inner,
		    sizeof(inner))) < 0) {
			snprintf(why, whylen, "%s: %s: %s", file,
			    xl_keys[i].xl, inner);
			goto out;
		}
	}
	/* Each key was checked alone; what a guest block must satisfy as a
	   whole (the intervals' relations) is checked here, by the same
	   code as for lfbvncd.conf. */
	if ((rc = conf_guest_check(g, inner, sizeof(inner))) < 0) {
		snprintf(why, whylen, "%s: %s", file, inner);
		goto out;
	}
	rc = 1;
out:
	xlu_cfg_destroy(cfg);
	fclose(rf);
	free(report);
	return rc;
}

static int
read_file(const char *path, char **out, size_t *len, struct stat *stp)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return -errno;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > XL_FILE_MAX) {
		close(fd);
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		free(buf);
		return -EIO;
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	*stp = st;
	return 0;
}

static bool
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/*
 * Was this refusal of the file at path, as *st describes it, logged
 * already?  If not, remember it (a changed file replaces its entry).
 */
static bool
was_logged(struct xendisco_refused *r, const char *path,
    const struct stat *st)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->f[i].path, path) == 0)
			break;
	if (i < r->n && r->f[i].dev == st->st_dev &&
	    r->f[i].ino == st->st_ino && r->f[i].size == st->st_size &&
	    same_time(&r->f[i].mtime, &st->st_mtim) &&
	    same_time(&r->f[i].ctime, &st->st_ctim))
		return true;
	if (i == r->n) {
		if (r->n < XENDISCO_REFUSED_MAX)
			r->n++;
		else {
			i = r->next;
			r->next = (r->next + 1) % XENDISCO_REFUSED_MAX;
		}
	}
	snprintf(r->f[i].path, sizeof(r->f[i].path), "%s", path);
	r->f[i].dev = st->st_dev;
	r->f[i].ino = st->st_ino;
	r->f[i].size = st->st_size;
	r->f[i].mtime = st->st_mtim;
	r->f[i].ctime = st->st_ctim;
	return false;
}

int
xendisco_find_xl(struct conf *c, struct xendisco_refused *r,
    const char *name, struct conf_guest *g)
{
	char dirs[CONF_PATH_MAX], path[CONF_PATH_MAX * 2], why[512];
	char *dir, *save = NULL, *text = NULL;
	struct dirent *de;
	struct stat st = { 0 };	/* read_file sets it; gcc cannot tell */
	size_t len = 0;
	DIR *dp;
	int rc, found = 0;

	snprintf(dirs, sizeof(dirs), "%s", c->xl_config_dirs);
	for (dir = strtok_r(dirs, ":", &save); dir != NULL && !found;
	    dir = strtok_r(NULL, ":", &save)) {
		if ((dp = opendir(dir)) == NULL)
			continue;
		while (!found && (de = readdir(dp)) != NULL) {
			size_t n = strlen(de->d_name);

			if (de->d_name[0] == '.' || (n > 1 &&
			    de->d_name[n - 1] == '~'))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (read_file(path, &text, &len, &st) < 0)
				continue;
			/* Cheap filter before parsing.  Not on the name: a
			   refused file may lack it, and must still be logged. */
			if (strstr(text, "lfbvnc") == NULL) {
				free(text);
				continue;
			}
			*g = c->defaults;
			g->given = 0;
			rc = xendisco_parse_xl(c, g, text, len, path, why,
			    sizeof(why));
			free(text);
			if (rc == 1 && strcmp(g->name, name) == 0)
				found = 1;
			else if (rc < 0 && !was_logged(r, path, &st))
				log_warnx("%s", why);
		}
		closedir(dp);
	}
	return found;
}

static bool
is_served(struct xendisco *d, const char *name, uint32_t domid)
{
	size_t i;

	for (i = 0; i < d->nserved; i++)
		if (d->served[i].domid == domid &&
		    strcmp(d->served[i].name, name) == 0)
			return true;
	return false;
}

/* Watch (or stop watching) a served guest's mode key. */
static void
mode_watch(struct xendisco *d, uint32_t domid, bool on)
{
	char path[96];

	snprintf(path, sizeof(path), "/local/domain/%u/" MODE_KEY, domid);
	if (on && !xs_watch(d->xs, path, MODE_TOKEN))
		log_warn("domain %u: cannot watch %s: its mode is read once",
		    domid, path);
	if (!on)
		(void)xs_unwatch(d->xs, path, MODE_TOKEN);
}

/*
 * A served guest's mode key changed (a watch also fires once when set):
 * pass a copy, cut at XENDISCO_MODE_MAX, to the master for its worker.
 */
static void
mode_changed(struct xendisco *d, const char *path)
{
	char *v, *end;
	unsigned int len = 0;
	uint32_t domid;
	size_t k;

	if (strncmp(path, "/local/domain/", 14) != 0)
		return;
	domid = (uint32_t)strtoul(path + 14, &end, 10);
	if (strcmp(end, "/" MODE_KEY) != 0)
		return;
	for (k = 0; k < d->nserved; k++)
		if (d->served[k].domid == domid)
			break;
	if (k == d->nserved)
		return;
	v = xs_read(d->xs, XBT_NULL, path, &len);
	d->ops->mode(d->arg, d->served[k].name, domid, v != NULL ? v : "",
	    v == NULL ? 0 : len > XENDISCO_MODE_MAX ? XENDISCO_MODE_MAX : len);
	free(v);
}

/* List running domains; attach new lfbvnc guests; detach gone ones. */
static void
rescan(struct xendisco *d)
{
	struct conf_guest g;
	char path[96], **doms, *name, *vram;
	unsigned int n = 0, i, len;
	bool present[MAX_SERVED] = { false };
	size_t k;
	uint32_t domid;

	doms = xs_directory(d->xs, XBT_NULL, "/local/domain", &n);
	for (i = 0; doms != NULL && i < n; i++) {
		char *end;

		domid = (uint32_t)strtoul(doms[i], &end, 10);
		if (*end != '\0' || domid == 0 || domid >= 0x7ff0)
			continue;
		snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
		name = xs_read(d->xs, XBT_NULL, path, &len);
		if (name == NULL)
			continue;
		/* HVM guests with emulated VGA have a videoram size. */
		snprintf(path, sizeof(path), "/local/domain/%u/memory/videoram",
		    domid);
		vram = xs_read(d->xs, XBT_NULL, path, &len);
		for (k = 0; k < d->nserved; k++)
			if (d->served[k].domid == domid &&
			    strcmp(d->served[k].name, name) == 0)
				present[k] = true;
		if (vram != NULL && conf_guest_name_ok(name) &&
		    !is_served(d, name, domid) &&
		    xendisco_find_xl(d->c, &d->refused, name, &g)) {
			g.domid = domid;
			if (d->nserved < MAX_SERVED &&
			    d->ops->attach(d->arg, &g) == 0) {
				present[d->nserved] = true;
				snprintf(d->served[d->nserved].name,
				    CONF_NAME_MAX + 1, "%s", name);
				d->served[d->nserved++].domid = domid;
				mode_watch(d, domid, true);
			}
		}
		free(vram);
		free(name);
	}
	free(doms);
	/* Served guests whose domain is gone (destroyed, or rebooted with
	   another domid) are detached. */
	for (k = 0; k < d->nserved;) {
		if (present[k]) {
			k++;
			continue;
		}
		mode_watch(d, d->served[k].domid, false);
		d->ops->detach(d->arg, d->served[k].name, d->served[k].domid);
		d->served[k] = d->served[d->nserved - 1];
		present[k] = present[d->nserved - 1];
		d->nserved--;
	}
}

static void
on_xs(evutil_socket_t fd, short what, void *arg)
{
	struct xendisco *d = arg;
	char **w;
	bool any = false;

	while ((w = xs_check_watch(d->xs)) != NULL) {
		if (strcmp(w[XS_WATCH_TOKEN], MODE_TOKEN) == 0)
			mode_changed(d, w[XS_WATCH_PATH]);
		else
			any = true;
		free(w);
	}
	if (any)
		rescan(d);
}

void
xendisco_rescan(struct xendisco *d)
{
	if (d == NULL)
		return;
	/* After SIGHUP every refusal is logged again, for whoever asks. */
	d->refused.n = d->refused.next = 0;
	rescan(d);
}

int
xendisco_open(struct event_base *base, struct conf *c,
    const struct xendisco_ops *ops, void *arg, struct xendisco **out)
{
	struct xendisco *d;

	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	d->c = c;
	d->ops = ops;
	d->arg = arg;
	d->xs = xs_open(0);
	if (d->xs == NULL) {
		log_warn("xenstore");
		free(d);
		return -ENODEV;
	}
	if (!xs_watch(d->xs, "@introduceDomain", "introduce") ||
	    !xs_watch(d->xs, "@releaseDomain", "release")) {
		log_warn("xenstore watch");
		xendisco_close(d);
		return -EIO;
	}
	d->ev = event_new(base, xs_fileno(d->xs), EV_READ | EV_PERSIST, on_xs,
	    d);
	if (d->ev == NULL || event_add(d->ev, NULL) == -1) {
		xendisco_close(d);
		return -ENOMEM;
	}
	log_info("Xen: serving guests whose xl file in %s says lfbvnc = 1",
	    c->xl_config_dirs);
	rescan(d);
	*out = d;
	return 0;
}

void
xendisco_close(struct xendisco *d)
{
	if (d == NULL)
		return;
	if (d->ev != NULL)
		event_free(d->ev);
	if (d->xs != NULL)
		xs_close(d->xs);
	free(d);
}
