/*
 * replay.c - run a fuzz target's LLVMFuzzerTestOneInput over files, without
 * libFuzzer: each argument is a file, or a directory whose regular files
 * are all run (not recursively).  Arguments starting with '-' are libFuzzer
 * options and are ignored, so a libFuzzer command line also works here.
 * Link it with any fuzz-*.c.
 *
 * Exit 0 when every input ran, 1 when an input could not be read, 77 when
 * there was nothing to run.  A crash is a crash: the harness aborts.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_MAX_INPUT	(64u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int
run_file(const char *path)
{
	struct stat st;
	uint8_t *buf;
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL || fstat(fileno(fp), &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > REPLAY_MAX_INPUT) {
		fprintf(stderr, "replay: %s: larger than %u octets\n", path,
		    REPLAY_MAX_INPUT);
		fclose(fp);
		return -1;
	}
	/* One octet more than needed, so that an empty file has a buffer
	   and a run past the end is seen by AddressSanitizer. */
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		fclose(fp);
		return -1;
	}
	n = fread(buf, 1, (size_t)st.st_size, fp);
	fclose(fp);
	if (n != (size_t)st.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int
run_dir(const char *dir, int *count)
{
	struct dirent *de;
	struct stat st;
	char path[4096];
	DIR *d;
	int bad = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path) || stat(path, &st) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (run_file(path) != 0)
			bad = -1;
		else
			(*count)++;
	}
	closedir(d);
	return bad;
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i, count = 0, bad = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			bad = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count) != 0)
				bad = 1;
		} else if (run_file(argv[i]) != 0)
			bad = 1;
		else
			count++;
	}
	if (bad)
		return 1;
	if (count == 0) {
		printf("SKIP: replay: no inputs\n");
		return 77;
	}
	printf("replay: %d inputs ran\n", count);
	return 0;
}
