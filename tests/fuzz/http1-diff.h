/*
 * What the differential targets against libhttp-parser 2.9 share (http1_diff.c for requests,
 * http1_resp_diff.c for responses): each message of either parser is recorded into an arena
 * (start line, fields, trailers, de-chunked body, keep-alive); http_parser's callbacks, our
 * field index, the model of http_parser's Connection matcher and the field comparison.
 */
#ifndef SL_FUZZ_HTTP1_DIFF_H
#define SL_FUZZ_HTTP1_DIFF_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <http_parser.h>

#include "http1.h"

#define MAX_MSGS 32
#define MAX_FIELDS 100
#define ARENA (1 << 20)

struct field {
	uint32_t name, name_len, val, val_len; /* in the message's arena */
	int trailer;
};

struct msg {
	char method[40];
	uint32_t url, url_len; /* request-target; a response's reason-phrase */
	unsigned status;       /* a response's status-code */
	unsigned major, minor;
	struct field f[MAX_FIELDS + 1];
	unsigned nf;
	uint32_t body, body_len; /* body bytes are contiguous in the arena */
	int keep_alive;
	int upgrade;
	int connect;
	int complete;
	int ka_unsure; /* keep-alive not compared */
	int chunked;   /* http_parser's F_CHUNKED at the head; ours: hp_te_model() */
	unsigned hpf;  /* Connection flags by hp_conn_model() */
};

/* ---- http_parser side ---- */

static struct {
	struct msg m[MAX_MSGS];
	unsigned n; /* messages begun */
	uint8_t arena[ARENA];
	uint32_t used;
	int last; /* 0 none, 1 field, 2 value */
	int in_trailer;
	int in_body;
	int overflow;
	int skip_body; /* responses to HEAD: on_headers_complete says there is no body */
} hp;

static uint32_t
hp_put(const char *p, size_t n)
{
	uint32_t at = hp.used;

	if (n > ARENA - hp.used) {
		hp.overflow = 1;
		return at;
	}
	memcpy(hp.arena + hp.used, p, n);
	hp.used += (uint32_t)n;
	return at;
}

static struct msg *
hp_cur(void)
{
	return &hp.m[hp.n - 1];
}

static int
on_begin(http_parser *p)
{
	(void)p;
	if (hp.n == MAX_MSGS)
		return -1;
	memset(&hp.m[hp.n], 0, sizeof(hp.m[0]));
	hp.m[hp.n].url = hp.used;
	hp.n++;
	hp.last = 0;
	hp.in_trailer = 0;
	hp.in_body = 0;
	return 0;
}

static int
on_url(http_parser *p, const char *at, size_t len)
{
	(void)p;
	/* pieces arrive in order and nothing else is stored in between */
	hp_put(at, len);
	hp_cur()->url_len += (uint32_t)len;
	return 0;
}

static int
on_field(http_parser *p, const char *at, size_t len)
{
	struct msg *m = hp_cur();
	struct field *f;

	(void)p;
	if (hp.last != 1) {
		if (m->nf == MAX_FIELDS + 1)
			return -1;
		f = &m->f[m->nf++];
		memset(f, 0, sizeof(*f));
		f->name = hp.used;
		f->trailer = hp.in_trailer;
		hp.last = 1;
	}
	f = &m->f[m->nf - 1];
	hp_put(at, len);
	f->name_len += (uint32_t)len;
	return 0;
}

static int
on_value(http_parser *p, const char *at, size_t len)
{
	struct msg *m = hp_cur();
	struct field *f = &m->f[m->nf - 1];

	(void)p;
	if (hp.last != 2) {
		f->val = hp.used;
		f->val_len = 0;
		hp.last = 2;
	}
	hp_put(at, len);
	f->val_len += (uint32_t)len;
	return 0;
}

static int
on_headers(http_parser *p)
{
	struct msg *m = hp_cur();

	if (p->type == HTTP_REQUEST)
		snprintf(m->method, sizeof(m->method), "%s",
			 http_method_str((enum http_method)p->method));
	else
		m->status = p->status_code;
	m->chunked = (p->flags & F_CHUNKED) != 0;
	m->major = p->http_major;
	m->minor = p->http_minor;
	m->body = hp.used;
	m->connect = p->method == HTTP_CONNECT;
	hp.last = 0;
	hp.in_trailer = 1;
	hp.in_body = 1;
	return hp.skip_body; /* 1: no body (http_parser's way for HEAD responses) */
}

static int
on_body(http_parser *p, const char *at, size_t len)
{
	struct msg *m = hp_cur();

	(void)p;
	/* chunked bodies: trailers come after the whole body, so the body stays contiguous */
	hp_put(at, len);
	m->body_len += (uint32_t)len;
	return 0;
}

static int
on_complete(http_parser *p)
{
	struct msg *m = hp_cur();

	m->keep_alive = http_should_keep_alive(p) != 0;
	m->upgrade = p->upgrade;
	m->complete = 1;
	hp.last = 0;
	return 0;
}

static const http_parser_settings hp_settings = {
	.on_message_begin = on_begin,
	.on_url = on_url,
	.on_status = on_url,
	.on_header_field = on_field,
	.on_header_value = on_value,
	.on_headers_complete = on_headers,
	.on_body = on_body,
	.on_message_complete = on_complete,
};

/* ---- our side ---- */

static struct {
	struct msg m[MAX_MSGS];
	unsigned n; /* messages completed */
	uint8_t arena[ARENA];
	uint32_t used;
} us;

static uint32_t
us_put(const uint8_t *p, size_t n)
{
	uint32_t at = us.used;

	if (n > ARENA - us.used)
		abort(); /* inputs are far smaller */
	memcpy(us.arena + us.used, p, n);
	us.used += (uint32_t)n;
	return at;
}

static void
us_fields(struct msg *m, const struct sl_http1_parser *p, const uint8_t *base, int trailers)
{
	uint16_t i;

	for (i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &p->hdrs[i];
		struct field *f;

		if (((h->flags & SL_HTTP1_HF_TRAILER) != 0) != (trailers != 0))
			continue;
		f = &m->f[m->nf++];
		f->name = us_put(base + h->name_off, h->name_len);
		f->name_len = h->name_len;
		f->val = us_put(base + h->val_off, h->val_len);
		f->val_len = h->val_len;
		f->trailer = trailers;
	}
}

/* tchar (RFC 9110 5.6.2), http_parser's tokens[] without SP */
static int
hp_tchar(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * The Connection flags http_parser 2.9 derives from one value, modelled on its
 * s_header_value_start and s_header_value states for h_connection: bit 0 close, bit 1
 * keep-alive, bit 2 upgrade. It compares `ch | 0x20` (so HTAB reads as ')' and '_' as DEL
 * at a token start, which stops all further matching), takes the first byte as a token
 * start whatever it is (a leading ',' hides the next element), swallows a ',' that ends a
 * strict prefix of one of the three words ("U, close"), stops at an empty element in the
 * middle (",,"), and drops a matched word followed by HTAB. `v` is the value as http_parser
 * sees it: leading whitespace skipped, trailing whitespace kept.
 */
enum { M_START, M_TOKEN, M_MATCH, M_FULL, M_OFF };

static unsigned
hp_conn_model(const uint8_t *v, uint32_t len)
{
	static const char *const words[] = {"close", "keep-alive", "upgrade"};
	unsigned st = M_TOKEN, w = 0, idx = 0, flags = 0;
	uint32_t i;

	for (i = 0; i < len && st != M_OFF; i++) {
		uint8_t ch = v[i], c = (uint8_t)(ch | 0x20);

		if (i == 0 || st == M_START) {
			for (w = 0; w < 3 && c != (uint8_t)words[w][0]; w++)
				;
			if (w < 3) {
				st = M_MATCH;
				idx = 0;
			} else if (i == 0 || (c != ' ' && hp_tchar(c))) {
				st = M_TOKEN;
			} else if (c != ' ') {
				st = M_OFF;
			}
			continue;
		}
		switch (st) {
		case M_MATCH:
			idx++;
			if (c != (uint8_t)words[w][idx])
				st = M_TOKEN; /* the byte, even a ',', is part of the token */
			else if (words[w][idx + 1] == '\0')
				st = M_FULL;
			break;
		case M_FULL:
			if (ch == ',') {
				flags |= 1u << w;
				st = M_START;
			} else if (ch != ' ') {
				st = M_TOKEN;
			}
			break;
		default: /* M_TOKEN */
			if (ch == ',')
				st = M_START;
			break;
		}
	}
	if (st == M_FULL)
		flags |= 1u << w;
	return flags;
}

/* ---- comparison ---- */

/* A difference: say what it is (the crash log shows it), then abort. */
#define DIFF(cond, what)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			fprintf(stderr, "http1 diff: message %u: %s differs\n", k, (what));        \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static int
same(const uint8_t *a, uint32_t al, const uint8_t *b, uint32_t bl)
{
	return al == bl && memcmp(a, b, al) == 0;
}

/* The fields and trailers of message k of both parsers: names, values (http_parser's
 * trailing whitespace trimmed), sections; with head_only, only the header sections (where
 * the two read different bodies, and trailers). */
static void
compare_fields(unsigned k, const struct msg *o, const struct msg *t, int head_only)
{
	unsigned i, on = o->nf, tn = t->nf;
	uint32_t l;

	while (head_only && on > 0 && o->f[on - 1].trailer)
		on--;
	while (head_only && tn > 0 && t->f[tn - 1].trailer)
		tn--;
	DIFF(on != tn, "field count");
	for (i = 0; i < on; i++) {
		const struct field *a = &o->f[i], *b = &t->f[i];

		DIFF(a->trailer != b->trailer, "field section");
		DIFF(!same(us.arena + a->name, a->name_len, hp.arena + b->name, b->name_len),
		     "field name");
		/* http_parser keeps trailing whitespace (and strips the leading one) */
		l = b->val_len;
		while (l > 0 &&
		       (hp.arena[b->val + l - 1] == ' ' || hp.arena[b->val + l - 1] == '\t'))
			l--;
		DIFF(!same(us.arena + a->val, a->val_len, hp.arena + b->val, l), "field value");
	}
}

/* What http_parser's Connection matcher makes of the Connection (and Proxy-Connection)
 * lines of our parser's field index, trailers included (bits of hp_conn_model()). */
static unsigned
hp_conn_flags(const struct sl_http1_parser *p, const uint8_t *base)
{
	unsigned hpf = 0;

	for (unsigned i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &p->hdrs[i];
		uint32_t end = h->val_off + h->val_len;

		if (h->id != SL_HTTP1_H_CONNECTION && h->id != SL_HTTP1_H_PROXY_CONNECTION)
			continue;
		while (base[end] != '\r')
			end++; /* http_parser keeps the trailing whitespace */
		hpf |= hp_conn_model(base + h->val_off, end - h->val_off);
	}
	return hpf;
}

/* Our Connection flags in hp_conn_model()'s bits. */
static unsigned
our_conn_flags(uint32_t flags)
{
	return ((flags & SL_HTTP1_R_CONN_CLOSE) ? 1u : 0u) |
	       ((flags & SL_HTTP1_R_CONN_KEEPALIVE) ? 2u : 0u) |
	       ((flags & SL_HTTP1_R_CONN_UPGRADE) ? 4u : 0u);
}

#endif /* SL_FUZZ_HTTP1_DIFF_H */
