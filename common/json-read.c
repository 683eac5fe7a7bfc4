/* json-read.c - a bounded JSON reader; see json-read.h. */
#include "json-read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_MAX		64	/* octets in one number */
#define NONE		UINT32_MAX

/*
 * While parsing, values refer to each other by index (the array grows);
 * once it is final, the indices become pointers for the accessors.
 */
struct jr_value {
	enum jr_type type;
	uint32_t next_i, child_i;
	const struct jr_value *next, *child;
	uint32_t count;
	const char *key;	/* member of an object; else NULL */
	const char *str;
	size_t key_off, str_off;	/* into strs, while parsing */
	bool has_key, b, is_u64;
	double num;
	uint64_t u64;
};

struct jr_doc {
	struct jr_value *v;
	uint32_t n, cap;
	char *strs;
	size_t soff;
};

struct p {
	const unsigned char *s;
	size_t len, pos;
	struct jr_doc *d;
	int depth;
	int err;
	char *why;
	size_t whylen;
};

static int
fail(struct p *p, int err, const char *what)
{
	if (p->err == 0) {
		p->err = err;
		if (p->why != NULL && p->whylen > 0)
			snprintf(p->why, p->whylen, "%s at octet %zu", what,
			    p->pos);
	}
	return -1;
}

static void
ws(struct p *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' ||
	    p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
	    p->s[p->pos] == '\r'))
		p->pos++;
}

static int64_t
new_value(struct p *p, enum jr_type t)
{
	struct jr_value *nv;
	uint32_t ncap;

	if (p->d->n >= JR_MAX_VALUES)
		return fail(p, -E2BIG, "too many values");
	if (p->d->n == p->d->cap) {
		ncap = p->d->cap == 0 ? 64 : p->d->cap * 2;
		if (ncap > JR_MAX_VALUES)
			ncap = JR_MAX_VALUES;
		nv = realloc(p->d->v, (size_t)ncap * sizeof(*nv));
		if (nv == NULL)
			return fail(p, -ENOMEM, "out of memory");
		p->d->v = nv;
		p->d->cap = ncap;
	}
	memset(&p->d->v[p->d->n], 0, sizeof(p->d->v[0]));
	p->d->v[p->d->n].type = t;
	p->d->v[p->d->n].next_i = NONE;
	p->d->v[p->d->n].child_i = NONE;
	return p->d->n++;
}

/* Length of the valid UTF-8 sequence at s (n octets left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

static int
hex4(struct p *p, uint32_t *out)
{
	uint32_t v = 0;
	int i, c;

	if (p->len - p->pos < 4)
		return fail(p, -EINVAL, "short \\u escape");
	for (i = 0; i < 4; i++) {
		c = p->s[p->pos + (size_t)i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return fail(p, -EINVAL, "bad \\u escape");
	}
	p->pos += 4;
	*out = v;
	return 0;
}

/*
 * A string at p->pos (the opening quote), decoded into the arena.  The
 * decoded form is never longer than the text, and the arena is as long
 * as the whole text, so it cannot overflow.
 */
static int
string(struct p *p, size_t *off)
{
	char *o = p->d->strs + p->d->soff;
	size_t start = p->d->soff, n = 0, u;
	uint32_t cp, lo;
	unsigned char c;

	p->pos++;
	for (;;) {
		if (p->pos >= p->len)
			return fail(p, -EINVAL, "unterminated string");
		c = p->s[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c < 0x20)
			return fail(p, -EINVAL, "control character in a string");
		if (c >= 0x80) {
			if ((u = utf8_len(p->s + p->pos, p->len - p->pos)) == 0)
				return fail(p, -EINVAL, "invalid UTF-8");
			memcpy(o + n, p->s + p->pos, u);
			n += u;
			p->pos += u;
			continue;
		}
		if (c != '\\') {
			o[n++] = (char)c;
			p->pos++;
			continue;
		}
		if (++p->pos >= p->len)
			return fail(p, -EINVAL, "unterminated string");
		c = p->s[p->pos++];
		switch (c) {
		case '"': case '\\': case '/':
			o[n++] = (char)c;
			continue;
		case 'b': o[n++] = '\b'; continue;
		case 'f': o[n++] = '\f'; continue;
		case 'n': o[n++] = '\n'; continue;
		case 'r': o[n++] = '\r'; continue;
		case 't': o[n++] = '\t'; continue;
		case 'u':
			break;
		default:
			return fail(p, -EINVAL, "bad escape");
		}
		if (hex4(p, &cp) != 0)
			return -1;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return fail(p, -EINVAL, "lone low surrogate");
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
			    p->s[p->pos + 1] != 'u')
				return fail(p, -EINVAL, "lone high surrogate");
			p->pos += 2;
			if (hex4(p, &lo) != 0)
				return -1;
			if (lo < 0xdc00 || lo > 0xdfff)
				return fail(p, -EINVAL, "bad surrogate pair");
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (cp == 0)
			return fail(p, -EINVAL, "NUL in a string");
		/* Each form is shorter than the escape it came from. */
		if (cp < 0x80) {
			o[n++] = (char)cp;
		} else if (cp < 0x800) {
			o[n++] = (char)(0xc0 | (cp >> 6));
			o[n++] = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			o[n++] = (char)(0xe0 | (cp >> 12));
			o[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			o[n++] = (char)(0x80 | (cp & 0x3f));
		} else {
			o[n++] = (char)(0xf0 | (cp >> 18));
			o[n++] = (char)(0x80 | ((cp >> 12) & 0x3f));
			o[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			o[n++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	o[n] = '\0';
	p->d->soff += n + 1;
	*off = start;
	return 0;
}

static int
number(struct p *p, struct jr_value *v)
{
	size_t start = p->pos, i;
	char buf[NUM_MAX + 1];
	bool integer = true;
	uint64_t u = 0;
	char *end;

#define DIGIT(q)	((q)->pos < (q)->len && (q)->s[(q)->pos] >= '0' && \
			    (q)->s[(q)->pos] <= '9')
	if (p->s[p->pos] == '-') {
		integer = false;
		p->pos++;
	}
	if (!DIGIT(p))
		return fail(p, -EINVAL, "bad number");
	if (p->s[p->pos] == '0')
		p->pos++;
	else
		while (DIGIT(p))
			p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '.') {
		integer = false;
		p->pos++;
		if (!DIGIT(p))
			return fail(p, -EINVAL, "bad number");
		while (DIGIT(p))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		integer = false;
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' ||
		    p->s[p->pos] == '-'))
			p->pos++;
		if (!DIGIT(p))
			return fail(p, -EINVAL, "bad number");
		while (DIGIT(p))
			p->pos++;
	}
#undef DIGIT
	if (p->pos - start > NUM_MAX)
		return fail(p, -E2BIG, "number too long");
	memcpy(buf, p->s + start, p->pos - start);
	buf[p->pos - start] = '\0';
	v->num = strtod(buf, &end);
	if (integer) {
		v->is_u64 = true;
		for (i = 0; buf[i] != '\0'; i++) {
			if (u > (UINT64_MAX - (uint64_t)(buf[i] - '0')) / 10) {
				v->is_u64 = false;
				break;
			}
			u = u * 10 + (uint64_t)(buf[i] - '0');
		}
		v->u64 = u;
	}
	return 0;
}

static int value(struct p *p, uint32_t *out);

static int
literal(struct p *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return fail(p, -EINVAL, "unexpected text");
	p->pos += n;
	return 0;
}

/* Array or object at p->pos; children are linked in order. */
static int
container(struct p *p, uint32_t self, bool object)
{
	uint32_t child, last = NONE;
	size_t koff = 0;
	char close = object ? '}' : ']';

	if (++p->depth > JR_MAX_DEPTH)
		return fail(p, -E2BIG, "nested too deeply");
	p->pos++;
	ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		ws(p);
		if (object) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, -EINVAL, "expected a key");
			if (string(p, &koff) != 0)
				return -1;
			ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return fail(p, -EINVAL, "expected ':'");
			p->pos++;
		}
		if (value(p, &child) != 0)
			return -1;
		if (object) {
			p->d->v[child].has_key = true;
			p->d->v[child].key_off = koff;
		}
		if (last == NONE)
			p->d->v[self].child_i = child;
		else
			p->d->v[last].next_i = child;
		last = child;
		p->d->v[self].count++;
		ws(p);
		if (p->pos >= p->len)
			return fail(p, -EINVAL, "unterminated array or object");
		if (p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos] == close) {
			p->pos++;
			break;
		}
		return fail(p, -EINVAL, object ? "expected ',' or '}'" :
		    "expected ',' or ']'");
	}
	p->depth--;
	return 0;
}

static int
value(struct p *p, uint32_t *out)
{
	int64_t i;
	size_t off;

	ws(p);
	if (p->pos >= p->len)
		return fail(p, -EINVAL, "expected a value");
	switch (p->s[p->pos]) {
	case '{':
	case '[':
		if ((i = new_value(p, p->s[p->pos] == '{' ? JR_OBJECT :
		    JR_ARRAY)) < 0)
			return -1;
		*out = (uint32_t)i;
		return container(p, (uint32_t)i, p->s[p->pos] == '{');
	case '"':
		if ((i = new_value(p, JR_STRING)) < 0 || string(p, &off) != 0)
			return -1;
		p->d->v[i].str_off = off;
		*out = (uint32_t)i;
		return 0;
	case 't':
	case 'f':
		if ((i = new_value(p, JR_BOOL)) < 0)
			return -1;
		p->d->v[i].b = p->s[p->pos] == 't';
		*out = (uint32_t)i;
		return literal(p, p->s[p->pos] == 't' ? "true" : "false");
	case 'n':
		if ((i = new_value(p, JR_NULL)) < 0)
			return -1;
		*out = (uint32_t)i;
		return literal(p, "null");
	default:
		if ((i = new_value(p, JR_NUMBER)) < 0)
			return -1;
		*out = (uint32_t)i;
		return number(p, &p->d->v[i]);
	}
}

int
jr_parse(const char *text, size_t len, struct jr_doc **out, char *why,
    size_t whylen)
{
	struct p p;
	struct jr_doc *d;
	struct jr_value *v;
	uint32_t root, i;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.why = why;
	p.whylen = whylen;
	if (len > JR_MAX_TEXT) {
		fail(&p, -E2BIG, "document too large");
		return p.err;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->strs = malloc(len + 1)) == NULL) {
		free(d);
		fail(&p, -ENOMEM, "out of memory");
		return p.err;
	}
	p.s = (const unsigned char *)text;
	p.len = len;
	p.d = d;
	if (value(&p, &root) != 0)
		goto fail;
	ws(&p);
	if (p.pos != p.len) {
		fail(&p, -EINVAL, "text after the document");
		goto fail;
	}
	for (i = 0; i < d->n; i++) {
		v = &d->v[i];
		v->next = v->next_i == NONE ? NULL : &d->v[v->next_i];
		v->child = v->child_i == NONE ? NULL : &d->v[v->child_i];
		v->key = v->has_key ? d->strs + v->key_off : NULL;
		v->str = v->type == JR_STRING ? d->strs + v->str_off : NULL;
	}
	*out = d;
	return 0;
fail:
	jr_free(d);
	return p.err != 0 ? p.err : -EINVAL;
}

void
jr_free(struct jr_doc *doc)
{
	if (doc == NULL)
		return;
	free(doc->v);
	free(doc->strs);
	free(doc);
}

const struct jr_value *
jr_root(const struct jr_doc *doc)
{
	return doc != NULL && doc->n > 0 ? &doc->v[0] : NULL;
}

enum jr_type
jr_type(const struct jr_value *v)
{
	return v != NULL ? v->type : JR_NULL;
}

size_t
jr_count(const struct jr_value *v)
{
	return v != NULL && (v->type == JR_ARRAY || v->type == JR_OBJECT) ?
	    v->count : 0;
}

const struct jr_value *
jr_first(const struct jr_value *v)
{
	return v != NULL && (v->type == JR_ARRAY || v->type == JR_OBJECT) ?
	    v->child : NULL;
}

const struct jr_value *
jr_next(const struct jr_value *v)
{
	return v != NULL ? v->next : NULL;
}

const char *
jr_key(const struct jr_value *member)
{
	return member != NULL ? member->key : NULL;
}

const struct jr_value *
jr_get(const struct jr_value *obj, const char *key)
{
	const struct jr_value *m;

	if (obj == NULL || obj->type != JR_OBJECT || key == NULL)
		return NULL;
	for (m = obj->child; m != NULL; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m;
	return NULL;
}

const char *
jr_string(const struct jr_value *v)
{
	return v != NULL && v->type == JR_STRING ? v->str : NULL;
}

bool
jr_bool(const struct jr_value *v, bool *out)
{
	if (v == NULL || v->type != JR_BOOL)
		return false;
	*out = v->b;
	return true;
}

bool
jr_number(const struct jr_value *v, double *out)
{
	if (v == NULL || v->type != JR_NUMBER)
		return false;
	*out = v->num;
	return true;
}

bool
jr_u64(const struct jr_value *v, uint64_t *out)
{
	if (v == NULL || v->type != JR_NUMBER || !v->is_u64)
		return false;
	*out = v->u64;
	return true;
}
