/*
 * Helpers shared by the services: replies on a channel (4-element frames with an empty
 * header array, what 0.12.2+ clients send and expect, 12a.1), errors in the
 * `[[category, code], message]` form (12a.6), and forwarding a frame's args and headers
 * from one connection to another in the old msgpack spec (1.1: str8/bin received from a
 * modern client become raw before they reach a worker that may be msgpack-c 0.5).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>

#include "node.h"
#include "sl_log.h"
#include "sl_util.h"

#define SVC_FRAME_HEAD 32 /* array + channel + type + args array header + empty headers */

int
svc_send(struct conn *c, uint64_t ch, uint64_t type, const void *args, size_t len, uint32_t nargs,
	 struct sl_chan_ev *ev)
{
	struct sl_chan_ev lev;
	struct sl_mp_w w;
	int rc;

	rc = sl_sess_send(&c->sess, ch, type, ev != NULL ? ev : &lev);
	if (rc < 0)
		return rc;
	rc = conn_out_begin(c, len + SVC_FRAME_HEAD, &w);
	if (rc < 0) {
		conn_fail(c, rc);
		return rc;
	}
	sl_frame_enc_begin(&w, ch, type, nargs, 0);
	sl_mp_w_bytes(&w, args, (uint32_t)len);
	sl_frame_enc_headers(&w, NULL, 0);
	return conn_out_end(c, &w);
}

int
svc_send_empty(struct conn *c, uint64_t ch, uint64_t type, struct sl_chan_ev *ev)
{
	return svc_send(c, ch, type, NULL, 0, 0, ev);
}

int
svc_send_error(struct conn *c, uint64_t ch, int64_t cat, int64_t code, const char *msg,
	       struct sl_chan_ev *ev)
{
	uint8_t buf[512];
	struct sl_err e = {.cat = cat, .code = code};
	struct sl_mp_w w;
	size_t n = strlen(msg);

	if (n > sizeof(buf) - 32)
		n = sizeof(buf) - 32;
	sl_mp_w_init(&w, buf, sizeof(buf));
	sl_err_enc_args(&w, &e, msg, (uint32_t)n);
	/* the error message id is 1 in both the primitive and the streaming protocols */
	return svc_send(c, ch, SL_STREAM_ERROR, buf, w.len, 2, ev);
}

size_t
fwd_args_bound(const struct sl_frame *f)
{
	/* a string grows by at most one header byte and takes at least two: x 1.5 */
	return (size_t)f->args_obj.left * 3 / 2 + 16;
}

size_t
fwd_hdrs_bound(const struct sl_hdrs *h)
{
	size_t n = 5;
	uint32_t i;

	for (i = 0; i < h->n; i++)
		n += 2 + 5 + h->h[i].name_len + 5 + h->h[i].value_len;
	return n;
}

static void
fwd_raw_body(struct sl_mp_w *w, struct sl_mp_raw *r)
{
	const uint8_t *p;
	uint32_t n;

	if (r->p != NULL) {
		sl_mp_w_bytes(w, r->p, r->len);
		return;
	}
	while (sl_mp_raw_piece(r, &p, &n))
		sl_mp_w_bytes(w, p, n);
}

int
mp_copy_obj(struct sl_mp_w *w, struct sl_mp_cur *cur)
{
	struct sl_mp_cur c = *cur;
	uint64_t owed = 1;

	while (owed > 0) {
		struct sl_mp_cur before = c;
		uint8_t hdr[16];
		struct sl_mp_obj o;
		struct sl_mp_raw r;
		uint32_t n;

		if (sl_mp_read(&c, &o, &r) < 0) {
			w->err = -EBADMSG;
			return -EBADMSG;
		}
		owed--;
		switch (o.type) {
		case SL_MP_STR:
		case SL_MP_BIN:
			sl_mp_w_raw_hdr(w, r.len);
			fwd_raw_body(w, &r);
			break;
		case SL_MP_ARRAY:
			sl_mp_w_array(w, o.v.n);
			owed += o.v.n;
			break;
		case SL_MP_MAP:
			sl_mp_w_map(w, o.v.n);
			owed += 2ull * o.v.n;
			break;
		case SL_MP_EXT:
			/* no old-spec form: passed as is (header, then body) */
			n = o.hdr;
			if (n > sizeof(hdr) || sl_mp_cur_copy(&before, hdr, n) < 0) {
				w->err = -EBADMSG;
				return -EBADMSG;
			}
			sl_mp_w_bytes(w, hdr, n);
			fwd_raw_body(w, &r);
			break;
		default:
			/* scalars: o.hdr is their whole encoding */
			n = o.hdr;
			if (n > sizeof(hdr) || sl_mp_cur_copy(&before, hdr, n) < 0) {
				w->err = -EBADMSG;
				return -EBADMSG;
			}
			sl_mp_w_bytes(w, hdr, n);
			break;
		}
	}
	*cur = c;
	return 0;
}

void
fwd_args(struct sl_mp_w *w, const struct sl_frame *f)
{
	struct sl_mp_cur c = f->args_obj;

	mp_copy_obj(w, &c);
}

int
svc_forward(struct conn *c, uint64_t ch, const struct sl_frame *f, const struct sl_hdrs *h,
	    struct sl_chan_ev *ev)
{
	struct sl_mp_w w;
	int rc;

	rc = sl_sess_send(&c->sess, ch, f->type, ev);
	if (rc < 0)
		return rc;
	rc = conn_out_begin(c, SVC_FRAME_HEAD + fwd_args_bound(f) + fwd_hdrs_bound(h), &w);
	if (rc < 0) {
		conn_fail(c, rc);
		return rc;
	}
	sl_mp_w_array(&w, 4);
	sl_mp_w_uint(&w, ch);
	sl_mp_w_uint(&w, f->type);
	fwd_args(&w, f);
	sl_frame_enc_headers(&w, h->h, (int)h->n);
	rc = conn_out_end(c, &w);
	if (rc < 0)
		conn_fail(c, rc);
	return rc;
}

void
node_uuid_gen(char out[NODE_UUID_LEN])
{
	uint8_t b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* variant 1 */
	snprintf(out, NODE_UUID_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

bool
node_id_bytes_ok(const void *p, uint32_t len)
{
	const uint8_t *s = p;
	uint32_t i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

uint64_t
node_rand(struct node *n)
{
	uint64_t x = n->rng;

	if (x == 0) {
		if (getrandom(&x, sizeof(x), 0) != sizeof(x) || x == 0)
			x = n->loop.now_us | 1;
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	n->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

void
svc_meta_clear(struct svc_meta *m)
{
	free(m->graph);
	m->graph = NULL;
	m->graph_len = 0;
	m->nep = 0;
}

/* Arena for validating graphs received from peers and publishers (single-threaded). */
static struct sl_gnode meta_nodes[128];
static struct sl_gslot meta_slots[512];
static char meta_names[8192];
static uint8_t meta_graph[NODE_GRAPH_MAX];

/* [[ip, port]...] */
static int
meta_read_eps(struct sl_mp_cur *c, struct svc_meta *m)
{
	uint32_t n, i, k;

	if (sl_mp_read_array(c, &n) < 0)
		return -EPROTO;
	if (n > NODE_EP_MAX)
		return -ENOBUFS;
	for (i = 0; i < n; i++) {
		struct sl_mp_raw host;
		uint64_t port;

		if (sl_mp_read_array(c, &k) < 0 || k != 2 || sl_mp_read_raw(c, &host) < 0 ||
		    host.len == 0 || host.len >= sizeof(m->ep[i].host) ||
		    sl_mp_read_uint(c, &port) < 0 || port > UINT16_MAX)
			return -EPROTO;
		sl_mp_raw_copy(&host, m->ep[i].host, host.len);
		m->ep[i].host[host.len] = '\0';
		if (memchr(m->ep[i].host, '\0', host.len) != NULL)
			return -EPROTO;
		m->ep[i].port = (uint16_t)port;
	}
	m->nep = n;
	return 0;
}

int
svc_meta_read_graph(struct sl_mp_cur *c, struct svc_meta *m)
{
	struct sl_graph_arena a;
	const struct sl_gnode *root;
	struct sl_mp_w w;
	int rc;

	sl_graph_arena_init(&a, meta_nodes, SL_ARRAY_SIZE(meta_nodes), meta_slots,
			    SL_ARRAY_SIZE(meta_slots), meta_names, sizeof(meta_names));
	rc = sl_graph_dec_root(c, &a, &root);
	if (rc < 0)
		return rc == -ENOBUFS || rc == -ELOOP ? -ENOBUFS : -EPROTO;
	sl_mp_w_init(&w, meta_graph, sizeof(meta_graph));
	sl_graph_enc_root(&w, root);
	if (w.err < 0)
		return -ENOBUFS;
	free(m->graph);
	m->graph = malloc(w.len);
	if (m->graph == NULL)
		return -ENOMEM;
	memcpy(m->graph, meta_graph, w.len);
	m->graph_len = w.len;
	return 0;
}

int
svc_meta_read_eps(struct sl_mp_cur *c, struct svc_meta *m)
{
	return meta_read_eps(c, m);
}

int
svc_meta_read(struct sl_mp_cur *c, struct svc_meta *m)
{
	int rc;

	memset(m, 0, sizeof(*m));
	rc = meta_read_eps(c, m);
	if (rc == 0 && sl_mp_read_uint(c, &m->version) < 0)
		rc = -EPROTO;
	if (rc == 0)
		rc = svc_meta_read_graph(c, m);
	if (rc < 0)
		svc_meta_clear(m);
	return rc;
}
