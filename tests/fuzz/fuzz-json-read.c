/*
 * fuzz-json-read.c - fuzz lfbvncctl's JSON reader (common/json-read.c),
 * which parses whatever the daemon (or anything at the socket's path)
 * sends.  An accepted document is walked whole through the accessors;
 * every string must be a C string of valid length.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
walk(const struct jr_value *v, int depth)
{
	const struct jr_value *c;
	size_t n = 1, kids = 0;
	uint64_t u;
	double d;
	bool b;

	if (depth > JR_MAX_DEPTH + 1)
		abort();
	switch (jr_type(v)) {
	case JR_STRING:
		if (jr_string(v) == NULL)
			abort();
		(void)strlen(jr_string(v));
		break;
	case JR_NUMBER:
		if (!jr_number(v, &d))
			abort();
		(void)jr_u64(v, &u);
		break;
	case JR_BOOL:
		if (!jr_bool(v, &b))
			abort();
		break;
	case JR_ARRAY:
	case JR_OBJECT:
		for (c = jr_first(v); c != NULL; c = jr_next(c)) {
			if (jr_type(v) == JR_OBJECT && (jr_key(c) == NULL ||
			    jr_get(v, jr_key(c)) == NULL))
				abort();
			n += walk(c, depth + 1);
			kids++;
		}
		if (kids != jr_count(v))
			abort();
		break;
	case JR_NULL:
		break;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jr_doc *d = NULL;
	char why[128];

	memset(why, 0x5a, sizeof(why));
	if (jr_parse((const char *)data, size, &d, why, sizeof(why)) != 0) {
		if (d != NULL || memchr(why, '\0', sizeof(why)) == NULL)
			abort();
		return 0;
	}
	if (walk(jr_root(d), 0) > size)
		abort();	/* every value takes at least one octet */
	jr_free(d);
	return 0;
}
