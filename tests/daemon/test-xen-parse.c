/*
 * test-xen-parse: the Xen backend's parsers and its QMP exchanges, without
 * a hypervisor.  The mode string (one negative test per rule), QEMU's
 * query-pci answer (a real QEMU 7.2 shape), keysym -> qcode, and a fake
 * QMP server on a unix socket that checks what the backend sends.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lfbshm.h"
#include "qmp.h"
#include "xenmode.h"

static int failures;
#define CHECK(c) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } \
	while (0)

static int
mode(const char *s, uint64_t vram, struct backend_mode *m)
{
	char why[160];

	return xenmode_parse(s, strlen(s), vram, m, why, sizeof(why));
}

static void
test_mode(void)
{
	struct backend_mode m;
	const uint64_t vram = 16u << 20;

	CHECK(mode("1024x768x32", vram, &m) == 0 && m.width == 1024 &&
	    m.height == 768 && m.bpp == 4 && m.stride == 4096 &&
	    m.format == LFBSHM_FORMAT_XRGB8888 && m.offset == 0);
	CHECK(mode("800x600x16@2048", vram, &m) == 0 && m.stride == 2048 &&
	    m.format == LFBSHM_FORMAT_RGB565);
	CHECK(mode("640x480x24", vram, &m) == 0 && m.bpp == 3 &&
	    m.format == LFBSHM_FORMAT_RGB888);
	CHECK(xenmode_parse("1024x768x32\0\n", 13, vram, &m, (char[64]){0},
	    64) == 0);			/* xenstore's trailing NUL */
	/* one per rule */
	CHECK(mode("", vram, &m) == -EINVAL);			/* empty */
	CHECK(mode("1024x768x321111111111111111111111111111111", vram, &m)
	    == -EINVAL);					/* too long */
	CHECK(mode("1024*768x32", vram, &m) == -EINVAL);	/* syntax */
	CHECK(mode("1024x768", vram, &m) == -EINVAL);		/* no bpp */
	CHECK(mode("-1x768x32", vram, &m) == -EINVAL);		/* sign */
	CHECK(mode("1024x768x32@", vram, &m) == -EINVAL);	/* no stride */
	CHECK(mode("1024x768x32@4096x", vram, &m) == -EINVAL);	/* trailer */
	CHECK(mode("0x768x32", vram, &m) == -EINVAL);		/* width 0 */
	CHECK(mode("1024x0x32", vram, &m) == -EINVAL);		/* height 0 */
	CHECK(mode("16385x768x32", vram, &m) == -EINVAL);	/* too wide */
	CHECK(mode("1024x768x8", vram, &m) == -EINVAL);		/* bpp */
	CHECK(mode("1024x768x32@4095", vram, &m) == -EINVAL);	/* stride */
	CHECK(mode("4096x4096x32", vram, &m) == -EINVAL);	/* > VRAM */
	CHECK(mode("1024x768x32@4294967295", vram, &m) == -EINVAL);
	CHECK(mode("9999999999x1x32", vram, &m) == -EINVAL);	/* digits */
	/* exactly the VRAM fits; one octet less does not */
	CHECK(mode("2048x2048x32", vram, &m) == 0);
	CHECK(mode("2048x2048x32", vram - 1, &m) == -EINVAL);
}

/* Shape of QEMU 7.2's query-pci, trimmed: host bridge, ISA, VGA. */
static const char query_pci[] =
"{\"return\": [{\"bus\": 0, \"devices\": ["
"{\"bus\": 0, \"qdev_id\": \"\", \"slot\": 0, \"class_info\": {\"class\": 1536,"
" \"desc\": \"Host bridge\"}, \"id\": {\"device\": 4663, \"vendor\": 32902},"
" \"function\": 0, \"regions\": []},"
"{\"bus\": 0, \"qdev_id\": \"\", \"slot\": 2, \"class_info\": {\"class\": 65280},"
" \"id\": {\"device\": 1, \"vendor\": 22611}, \"function\": 0, \"regions\":"
" [{\"prefetch\": true, \"mem_type_64\": false, \"bar\": 1, \"address\":"
" 4026531840, \"type\": \"memory\", \"size\": 16777216}]},"
"{\"bus\": 0, \"qdev_id\": \"video0\", \"slot\": 3, \"class_info\": {\"class\":"
" 768, \"desc\": \"VGA controller\"}, \"id\": {\"device\": 4369, \"vendor\":"
" 4660}, \"function\": 0, \"regions\": [{\"prefetch\": true, \"mem_type_64\":"
" false, \"bar\": 0, \"address\": 4043309056, \"type\": \"memory\", \"size\":"
" 16777216}, {\"prefetch\": false, \"mem_type_64\": false, \"bar\": 2,"
" \"address\": 4060086272, \"type\": \"memory\", \"size\": 4096}]}]}]}";

static void
test_query_pci(void)
{
	uint64_t a = 0, s = 0;
	char why[160], *bad;

	CHECK(qmp_parse_vga_bar(query_pci, strlen(query_pci), &a, &s, why,
	    sizeof(why)) == 0);
	CHECK(a == 0xf1000000 && s == 16u << 20);
	/* no display device */
	bad = strdup(query_pci);
	memcpy(strstr(bad, "768,"), "769,", 4);
	CHECK(qmp_parse_vga_bar(bad, strlen(bad), &a, &s, why, sizeof(why))
	    == 0);				/* 0x301 is still display */
	memcpy(strstr(bad, "769,"), "512,", 4);
	CHECK(qmp_parse_vga_bar(bad, strlen(bad), &a, &s, why, sizeof(why))
	    == -ENOENT);
	free(bad);
	/* unassigned BAR (address 0) is skipped */
	bad = strdup(query_pci);
	memcpy(strstr(bad, "4043309056"), "         0", 10);
	CHECK(qmp_parse_vga_bar(bad, strlen(bad), &a, &s, why, sizeof(why))
	    == -ENOENT);
	free(bad);
	CHECK(qmp_parse_vga_bar("{\"return\": [", 12, &a, &s, why,
	    sizeof(why)) == -EPROTO);
	CHECK(qmp_parse_vga_bar("[]", 2, &a, &s, why, sizeof(why)) ==
	    -ENOENT);
}

static int
videoram(const char *s, uint64_t *size)
{
	return xenmode_parse_videoram(s, strlen(s), 1ull << 30, size);
}

/* memory/videoram: KiB, whole pages, bounded, no sign, no wrap. */
static void
test_videoram(void)
{
	uint64_t sz = 0;

	CHECK(videoram("16384", &sz) == 0 && sz == 16u << 20);
	CHECK(xenmode_parse_videoram("8192\0", 5, 1ull << 30, &sz) == 0 &&
	    sz == 8u << 20);
	CHECK(videoram("1048576", &sz) == 0 && sz == 1ull << 30);
	CHECK(videoram("1048580", &sz) == -EINVAL);		/* > max */
	CHECK(videoram("0", &sz) == -EINVAL);
	CHECK(videoram("4098", &sz) == -EINVAL);		/* not pages */
	CHECK(videoram("", &sz) == -EINVAL);
	CHECK(videoram(" 16384", &sz) == -EINVAL);		/* blank */
	CHECK(videoram("+16384", &sz) == -EINVAL);		/* sign */
	CHECK(videoram("0x4000", &sz) == -EINVAL);
	CHECK(xenmode_parse_videoram("4096\0" "1", 6, 1ull << 30, &sz) ==
	    -EINVAL);						/* NUL inside */
	/* strtoull took these, and kib * 1024 wrapped to 0. */
	CHECK(videoram("18014398509481984", &sz) == -EINVAL);	/* 2^54 */
	CHECK(videoram("-18014398509481984", &sz) == -EINVAL);
	CHECK(videoram("99999999999999999999999", &sz) == -EINVAL);
}

static void
test_keysyms(void)
{
	CHECK(strcmp(qmp_keysym_qcode('a'), "a") == 0);
	CHECK(strcmp(qmp_keysym_qcode('A'), "a") == 0);
	CHECK(strcmp(qmp_keysym_qcode('7'), "7") == 0);
	CHECK(strcmp(qmp_keysym_qcode('&'), "7") == 0);
	CHECK(strcmp(qmp_keysym_qcode(0xff0d), "ret") == 0);
	CHECK(strcmp(qmp_keysym_qcode(0xffc9), "f12") == 0);
	CHECK(strcmp(qmp_keysym_qcode(0xffe1), "shift") == 0);
	CHECK(qmp_keysym_qcode(0x20ac) == NULL);	/* euro sign */
}

/* ------------------------------------------------- a fake QMP server */

struct fake {
	int lfd;
	char log[8192];		/* what the client sent */
	size_t loglen;
	int refuse_pci;
};

static void *
fake_run(void *arg)
{
	struct fake *f = arg;
	char buf[4096], *nl, line[4096];
	size_t len = 0;
	ssize_t n;
	int fd, conns;

	for (conns = 0; conns < 3; conns++) {
		if ((fd = accept(f->lfd, NULL, NULL)) == -1)
			return NULL;
		dprintf(fd, "{\"QMP\": {\"version\": {}, \"capabilities\": "
		    "[]}}\r\n");
		len = 0;
		while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			while ((nl = strchr(buf, '\n')) != NULL) {
				size_t l = (size_t)(nl - buf);

				memcpy(line, buf, l);
				line[l] = '\0';
				memmove(buf, nl + 1, len - l - 1);
				len -= l + 1;
				buf[len] = '\0';
				if (f->loglen + l + 2 < sizeof(f->log)) {
					memcpy(f->log + f->loglen, line, l);
					f->loglen += l;
					f->log[f->loglen++] = '\n';
					f->log[f->loglen] = '\0';
				}
				/* an event first: must be skipped */
				dprintf(fd, "{\"event\": \"RTC_CHANGE\"}\r\n");
				if (strstr(line, "query-pci") && f->refuse_pci)
					dprintf(fd, "{\"error\": {\"class\": "
					    "\"GenericError\", \"desc\": "
					    "\"nope\"}}\r\n");
				else if (strstr(line, "query-pci"))
					dprintf(fd, "%s\r\n", query_pci);
				else
					dprintf(fd, "{\"return\": {}}\r\n");
			}
		}
		close(fd);
	}
	return NULL;
}

static void
test_fake_qmp(void)
{
	struct fake f;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char path[] = "/tmp/lfbvnc-qmp-XXXXXX", sock[128], why[160];
	struct qmp_input ev[3];
	uint64_t a = 0, s = 0;
	size_t skipped;
	pthread_t th;

	memset(&f, 0, sizeof(f));
	if (mkdtemp(path) == NULL)
		return;
	snprintf(sock, sizeof(sock), "%s/qmp", path);
	memcpy(sun.sun_path, sock, strlen(sock) + 1);
	f.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(f.lfd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	CHECK(listen(f.lfd, 4) == 0);
	pthread_create(&th, NULL, fake_run, &f);

	CHECK(qmp_query_vga_bar(sock, 2000, &a, &s, why, sizeof(why)) == 0);
	CHECK(a == 0xf1000000 && s == 16u << 20);
	CHECK(strstr(f.log, "qmp_capabilities") != NULL);

	memset(ev, 0, sizeof(ev));
	ev[0].type = QMP_IN_KEY;
	ev[0].keysym = 'q';
	ev[0].down = true;
	ev[1].type = QMP_IN_KEY;
	ev[1].keysym = 0x20ac;		/* no qcode: skipped */
	ev[2].type = QMP_IN_POINTER;
	ev[2].x = 1023;
	ev[2].y = 0;
	ev[2].width = 1024;
	ev[2].height = 768;
	ev[2].buttons = 1;
	CHECK(qmp_send_input(sock, 2000, ev, 3, &skipped, why,
	    sizeof(why)) == 0);
	CHECK(skipped == 1);
	CHECK(strstr(f.log, "\"key\":{\"type\":\"qcode\",\"data\":\"q\"}")
	    != NULL);
	CHECK(strstr(f.log, "\"axis\":\"x\",\"value\":32767") != NULL);
	CHECK(strstr(f.log, "\"down\":true,\"button\":\"left\"") != NULL);

	f.refuse_pci = 1;
	CHECK(qmp_query_vga_bar(sock, 2000, &a, &s, why, sizeof(why)) ==
	    -EIO && strstr(why, "nope") != NULL);
	pthread_join(th, NULL);
	close(f.lfd);
	unlink(sock);
	rmdir(path);
	/* nobody listening */
	CHECK(qmp_query_vga_bar(sock, 500, &a, &s, why, sizeof(why)) < 0);
}

int
main(void)
{
	test_mode();
	test_query_pci();
	test_videoram();
	test_keysyms();
	test_fake_qmp();
	if (failures) {
		fprintf(stderr, "test-xen-parse: %d failures\n", failures);
		return 1;
	}
	printf("test-xen-parse: ok\n");
	return 0;
}
