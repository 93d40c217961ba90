/*
 * libFuzzer target: our HTTP/1.1 request parser against libhttp-parser 2.9 (Debian's
 * libhttp-parser-dev, the parser of node.js before llhttp).
 *
 * The input is one connection's byte stream. Both parsers read all of it, pipelined: ours
 * with a reset after each DONE, http_parser in one http_parser_execute() (its callbacks'
 * pieces concatenated). Ours is much stricter, so only the requests that BOTH complete are
 * compared, in order, up to the first one either refuses: method, request-target, version
 * (1.0, or 1.x taken as 1.1), header fields in order (name bytes, value bytes; http_parser
 * keeps a value's trailing whitespace, which RFC 9112 5.1 excludes, so it is trimmed
 * before comparing), trailer fields, the de-chunked body and keep-alive. abort() on any
 * difference.
 *
 * Known differences that are not compared (tests/fuzz/README.md):
 *  - keep-alive, when http_parser's Connection flags differ from our list parse: it takes
 *    Proxy-Connection as Connection (no standard field; we ignore it), applies Connection
 *    in trailers (trailers cannot change the connection, RFC 9110 6.5.1), and its token
 *    matcher has bugs with some legal lists (hp_conn_model() models it); and for HTTP/1.0
 *    with both "close" and "keep-alive" (http_parser keeps it alive; "close" wins, RFC 9112
 *    9.3);
 *  - after an upgrade (Connection: upgrade with Upgrade, or CONNECT) http_parser stops: that
 *    request's head is compared and nothing after it.
 */
#include "http1-diff.h"

static void
run_ours(const uint8_t *data, size_t size)
{
	static struct sl_http1_hdr hdrs[MAX_FIELDS];
	struct sl_http1_parser p;
	size_t off = 0, base = 0;
	struct msg *m = &us.m[0];
	struct sl_http1_span sp;
	unsigned hpf, ourf;
	int rc;

	us.n = 0;
	us.used = 0;
	if (sl_http1_init(&p, NULL, hdrs) != 0)
		abort();
	memset(m, 0, sizeof(*m));
	for (;;) {
		size_t used;

		rc = sl_http1_feed(&p, data + off, size - off, &used, &sp);
		off += used;
		if (rc < 0 || rc == SL_HTTP1_MORE)
			return;
		if (rc == SL_HTTP1_HEAD) {
			const struct sl_http1_req *r = &p.req;
			size_t l = r->method.len < sizeof(m->method) - 1 ? r->method.len
									 : sizeof(m->method) - 1;

			memcpy(m->method, data + base + r->method.off, l);
			m->method[l] = '\0';
			m->url = us_put(data + base + r->target.off, r->target.len);
			m->url_len = r->target.len;
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
		m->keep_alive = (p.req.flags & SL_HTTP1_R_KEEP_ALIVE) != 0;
		m->complete = 1;
		/* what http_parser makes of Connection (and Proxy-Connection, and in trailers
		 * too): when it is not our list parse, keep-alive is not compared */
		hpf = hp_conn_flags(&p, data + base);
		ourf = our_conn_flags(p.req.flags);
		m->hpf = hpf;
		if (hpf != ourf)
			m->ka_unsure = 1;
		if (p.req.minor == 0 && (p.req.flags & SL_HTTP1_R_CONN_CLOSE) &&
		    (p.req.flags & SL_HTTP1_R_CONN_KEEPALIVE))
			m->ka_unsure = 1;
		if (++us.n == MAX_MSGS)
			return;
		m = &us.m[us.n];
		memset(m, 0, sizeof(*m));
		sl_http1_reset(&p);
		base = off;
	}
}

static void
compare(unsigned k, const struct msg *o, const struct msg *t)
{
	DIFF(strcmp(o->method, t->method) != 0, "method");
	DIFF(!same(us.arena + o->url, o->url_len, hp.arena + t->url, t->url_len), "target");
	DIFF(t->major != 1 || (o->minor == 0) != (t->minor == 0), "version");
	compare_fields(k, o, t, 0);
	if (t->upgrade || t->connect)
		return;
	DIFF(!same(us.arena + o->body, o->body_len, hp.arena + t->body, t->body_len), "body");
	/* the model must say what http_parser says, so the exclusion hides nothing else */
	DIFF((o->minor == 0 ? (o->hpf & 2) != 0 : !(o->hpf & 1)) != t->keep_alive,
	     "keep-alive of the http_parser model");
	DIFF(!o->ka_unsure && o->keep_alive != t->keep_alive, "keep-alive");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	http_parser p;
	unsigned i, n;

	if (size > 65536)
		return 0;
	run_ours(data, size);

	hp.n = 0;
	hp.used = 0;
	hp.overflow = 0;
	http_parser_init(&p, HTTP_REQUEST);
	http_parser_execute(&p, &hp_settings, (const char *)data, size);
	if (hp.overflow)
		return 0;

	n = us.n;
	for (i = 0; i < n && i < hp.n; i++) {
		if (!hp.m[i].complete)
			break;
		compare(i, &us.m[i], &hp.m[i]);
		if (hp.m[i].upgrade || hp.m[i].connect)
			break;
	}
	return 0;
}
