/*
 * libFuzzer target: our HTTP/1.1 response parser against libhttp-parser 2.9 in HTTP_RESPONSE
 * mode (Debian's libhttp-parser-dev).
 *
 * Byte 0: bit 0 set, the responses answer HEAD requests (ours is told so by
 * sl_http1_resp_reset(), http_parser by on_headers_complete returning 1). The rest is one
 * upstream connection's byte stream, then the upstream closes it: ours reads it with a
 * reset after each DONE and sl_http1_resp_eof() at the end, http_parser in one
 * http_parser_execute() and then one of length 0 (its EOF). Only the responses that BOTH
 * complete are compared, in order, up to the first one either refuses: status-code,
 * reason-phrase, version (1.0, or 1.x taken as 1.1), fields in order, trailers, the
 * de-chunked (or close-delimited) body and keep-alive. abort() on any difference.
 *
 * Known differences that are not compared (tests/fuzz/README.md):
 *  - a 1xx, 204 or 304 response with a Content-Length above 0 or a Transfer-Encoding:
 *    http_parser reads a body, RFC 9112 6.3 rule 1 says there is none; that response's
 *    head is compared and nothing after it (the streams part there). http_parser takes any
 *    field name that starts with "Transfer-Encoding" as one (has_te());
 *  - a chunked body where http_parser's Transfer-Encoding matcher (hp_te_model(), checked
 *    against its F_CHUNKED) does not see the list as ours does: "chunked<HTAB>",
 *    "x,<HTAB>chunked", "chunked" then a line "gzip, chunked"...; that response's head is
 *    compared and nothing after it;
 *  - keep-alive where http_parser's Connection matcher differs from a list parse
 *    (hp_conn_model(), as in http1_diff.c), HTTP/1.0 with both "close" and "keep-alive",
 *    and with a Transfer-Encoding trailer field (http_parser applies it: a coding other
 *    than chunked there makes it say the connection is not kept).
 */
#include <strings.h>

#include "http1-diff.h"

/* RFC 9112 6.3 rule 1: the statuses without a body */
static int
no_body_status(unsigned s)
{
	return s < 200 || s == 204 || s == 304;
}

/* A field of the header section (or of the trailer section: `trailers`) http_parser takes
 * as Transfer-Encoding: its name matcher sets uses_transfer_encoding once the name's first
 * 17 bytes are "transfer-encoding", even when the name goes on ("Transfer-Encodingx"). */
static int
has_te(const struct sl_http1_parser *p, const uint8_t *base, int trailers)
{
	for (unsigned i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &p->hdrs[i];

		if (((h->flags & SL_HTTP1_HF_TRAILER) != 0) == (trailers != 0) &&
		    h->name_len >= 17 &&
		    strncasecmp((const char *)base + h->name_off, "transfer-encoding", 17) == 0)
			return 1;
	}
	return 0;
}

/*
 * Whether http_parser 2.9 sets F_CHUNKED for one Transfer-Encoding value `v` (leading
 * whitespace skipped, trailing kept): the first byte 'c' starts matching "chunked", else a
 * token; a token ends at ','; after ',' SP is skipped, a 'c' matches again, a tchar starts
 * a token, other bytes (HTAB too: it compares ch | 0x20, and '_' becomes DEL) end the
 * matching for the line; a whole "chunked" followed by anything but SP is a token
 * ("chunked<HTAB>", "chunked,"). F_CHUNKED is set when a line ends matched.
 */
enum { T_TOKEN, T_START, T_MATCH, T_CHUNKED, T_OFF };

static int
hp_te_model(const uint8_t *v, uint32_t len)
{
	unsigned st, idx = 0;
	uint32_t i;

	if (len == 0)
		return 0;
	st = (v[0] | 0x20) == 'c' ? T_MATCH : T_TOKEN;
	for (i = 1; i < len && st != T_OFF; i++) {
		uint8_t ch = v[i], c = (uint8_t)(ch | 0x20);

		switch (st) {
		case T_START:
			if (c == 'c') {
				st = T_MATCH;
				idx = 0;
			} else if (hp_tchar(c)) {
				st = T_TOKEN;
			} else if (c != ' ') {
				st = T_OFF;
			}
			break;
		case T_MATCH:
			idx++;
			if (c != (uint8_t) "chunked"[idx])
				st = T_TOKEN;
			else if (idx == 6)
				st = T_CHUNKED;
			break;
		case T_CHUNKED:
			if (ch != ' ')
				st = T_TOKEN;
			break;
		default: /* T_TOKEN */
			if (ch == ',') {
				st = T_START;
				idx = 0;
			}
			break;
		}
	}
	return st == T_CHUNKED;
}

/* hp_te_model() of the last Transfer-Encoding line of the header section: each line clears
 * F_CHUNKED when its name matches (an empty value too, and a longer name that starts with
 * "Transfer-Encoding", whose value is then not matched). */
static int
hp_chunked(const struct sl_http1_parser *p, const uint8_t *base)
{
	int chunked = 0;

	for (unsigned i = 0; i < p->n_hdrs; i++) {
		const struct sl_http1_hdr *h = &p->hdrs[i];
		uint32_t end = h->val_off + h->val_len;

		if ((h->flags & SL_HTTP1_HF_TRAILER) || h->name_len < 17 ||
		    strncasecmp((const char *)base + h->name_off, "transfer-encoding", 17) != 0)
			continue;
		if (h->name_len > 17) {
			chunked = 0; /* a longer name: its value is not matched */
			continue;
		}
		while (base[end] != '\r')
			end++; /* http_parser sees the trailing whitespace */
		chunked = hp_te_model(base + h->val_off, end - h->val_off);
	}
	return chunked;
}

static void
run_ours(const uint8_t *data, size_t size, enum sl_http1_method method)
{
	static struct sl_http1_hdr hdrs[MAX_FIELDS];
	struct sl_http1_parser p;
	size_t off = 0, base = 0;
	struct msg *m = &us.m[0];
	struct sl_http1_span sp;
	int rc;

	us.n = 0;
	us.used = 0;
	if (sl_http1_resp_init(&p, NULL, hdrs) != 0)
		abort();
	sl_http1_resp_reset(&p, method);
	memset(m, 0, sizeof(*m));
	for (;;) {
		size_t used = 0;

		rc = sl_http1_feed(&p, data + off, size - off, &used, &sp);
		off += used;
		if (rc == SL_HTTP1_MORE)
			rc = sl_http1_resp_eof(&p); /* all was read: the upstream closes */
		if (rc < 0)
			return;
		if (rc == SL_HTTP1_HEAD) {
			const struct sl_http1_resp *r = &p.resp;

			m->status = r->status;
			m->url = us_put(data + base + r->reason.off, r->reason.len);
			m->url_len = r->reason.len;
			m->major = 1;
			m->minor = r->minor;
			us_fields(m, &p, data + base, 0);
			m->body = us.used;
			continue;
		}
		if (rc == SL_HTTP1_BODY) {
			us_put(data + base + sp.off, sp.len);
			m->body_len += sp.len;
			continue;
		}
		/* DONE */
		us_fields(m, &p, data + base, 1);
		m->keep_alive = (p.resp.flags & SL_HTTP1_R_KEEP_ALIVE) != 0;
		m->complete = 1;
		m->hpf = hp_conn_flags(&p, data + base);
		if (m->hpf != our_conn_flags(p.resp.flags))
			m->ka_unsure = 1;
		if (p.resp.minor == 0 && (p.resp.flags & SL_HTTP1_R_CONN_CLOSE) &&
		    (p.resp.flags & SL_HTTP1_R_CONN_KEEPALIVE))
			m->ka_unsure = 1;
		/* http_parser applies a Transfer-Encoding trailer to keep-alive (trailers cannot
		 * change the framing, RFC 9110 6.5.1) */
		if (has_te(&p, data + base, 1))
			m->ka_unsure = 1;
		/* RFC 9112 6.3 rule 1 where http_parser reads a body: the streams part here */
		if (method != SL_HTTP1_M_HEAD && no_body_status(p.resp.status) &&
		    (p.resp.content_length > 0 || has_te(&p, data + base, 0)))
			m->upgrade = 1;
		/* http_parser's Transfer-Encoding matcher is not a list parse: where it does not
		 * find the chunked we find last (or finds one we do not), the streams part */
		m->chunked = hp_chunked(&p, data + base);
		if ((p.resp.body == SL_HTTP1_B_CHUNKED || p.resp.body == SL_HTTP1_B_EOF) &&
		    has_te(&p, data + base, 0) && m->chunked != (p.resp.body == SL_HTTP1_B_CHUNKED))
			m->upgrade = 1;
		if (++us.n == MAX_MSGS || m->upgrade || off == size)
			return;
		m = &us.m[us.n];
		memset(m, 0, sizeof(*m));
		sl_http1_resp_reset(&p, method);
		base = off;
	}
}

static void
compare(unsigned k, const struct msg *o, const struct msg *t)
{
	DIFF(o->status != t->status, "status");
	DIFF(!same(us.arena + o->url, o->url_len, hp.arena + t->url, t->url_len), "reason");
	DIFF(t->major != 1 || (o->minor == 0) != (t->minor == 0), "version");
	compare_fields(k, o, t, o->upgrade);
	/* the model must say what http_parser says, so the exclusion hides nothing else */
	DIFF(o->chunked != t->chunked, "chunked of the http_parser model");
	if (o->upgrade)
		return; /* http_parser reads a body where RFC 9112 6.3 rule 1 has none */
	DIFF(!same(us.arena + o->body, o->body_len, hp.arena + t->body, t->body_len), "body");
	/* the model must say what http_parser says, so the exclusion hides nothing else
	 * (a close-delimited body is never kept alive, by either) */
	if (!o->ka_unsure)
		DIFF(o->keep_alive != t->keep_alive, "keep-alive");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum sl_http1_method method;
	http_parser p;
	unsigned i, n;

	if (size < 1 || size > 65536)
		return 0;
	method = (data[0] & 1) ? SL_HTTP1_M_HEAD : SL_HTTP1_M_GET;
	data++;
	size--;
	run_ours(data, size, method);

	hp.n = 0;
	hp.used = 0;
	hp.overflow = 0;
	hp.skip_body = method == SL_HTTP1_M_HEAD;
	http_parser_init(&p, HTTP_RESPONSE);
	if (http_parser_execute(&p, &hp_settings, (const char *)data, size) == size &&
	    HTTP_PARSER_ERRNO(&p) == HPE_OK)
		http_parser_execute(&p, &hp_settings, NULL, 0); /* EOF */
	if (hp.overflow)
		return 0;

	n = us.n;
	for (i = 0; i < n && i < hp.n; i++) {
		if (!hp.m[i].complete)
			break;
		compare(i, &us.m[i], &hp.m[i]);
		if (us.m[i].upgrade)
			break;
	}
	return 0;
}
