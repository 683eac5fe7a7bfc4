/*
 * json-read.h - a small, bounded JSON reader for hostile input: the
 * daemon's replies in lfbvncctl, QMP replies in the Xen backend.
 *
 * The daemon's replies are read as hostile input: the text is bounded
 * (JR_MAX_TEXT), nesting is bounded (JR_MAX_DEPTH, so the recursive
 * descent cannot exhaust the stack), values are bounded (JR_MAX_VALUES),
 * strings must be valid UTF-8 without NUL (\u0000 is refused, so every
 * string is a C string), numbers follow RFC 8259's grammar, and nothing
 * but blanks may follow the document.  A duplicate key is kept; jr_get
 * returns the first.
 *
 * The document owns everything; values stay valid until jr_free.
 *
 * Error convention: jr_parse returns 0, -EINVAL (malformed: a reason in
 * why with the octet offset), -E2BIG (over a bound) or -ENOMEM.  The
 * accessors return NULL / false for a value of another type, so a caller
 * can chain them without checking each step.
 */
#ifndef LFBVNC_JSON_READ_H
#define LFBVNC_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JR_MAX_TEXT	(16 * 1024 * 1024)
#define JR_MAX_DEPTH	32
#define JR_MAX_VALUES	(256 * 1024)

enum jr_type {
	JR_NULL = 0,
	JR_BOOL,
	JR_NUMBER,
	JR_STRING,
	JR_ARRAY,
	JR_OBJECT,
};

struct jr_doc;
struct jr_value;

int jr_parse(const char *text, size_t len, struct jr_doc **out, char *why,
    size_t whylen);
void jr_free(struct jr_doc *doc);	/* NULL is fine */

const struct jr_value *jr_root(const struct jr_doc *doc);
enum jr_type jr_type(const struct jr_value *v);

/* Arrays and objects: children in order; for object members, jr_key. */
size_t jr_count(const struct jr_value *v);
const struct jr_value *jr_first(const struct jr_value *v);
const struct jr_value *jr_next(const struct jr_value *v);
const char *jr_key(const struct jr_value *member);
const struct jr_value *jr_get(const struct jr_value *obj, const char *key);

const char *jr_string(const struct jr_value *v);	/* NULL: not one */
bool jr_bool(const struct jr_value *v, bool *out);
bool jr_number(const struct jr_value *v, double *out);
/* Only for a number written as a non-negative integer below 2^64. */
bool jr_u64(const struct jr_value *v, uint64_t *out);

#endif /* LFBVNC_JSON_READ_H */
