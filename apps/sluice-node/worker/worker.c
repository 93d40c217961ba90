/*
 * libsluiceworker (see sluice-worker.h): worker protocol v1 over the node's unix socket,
 * with the protocol library for framing, headers, errors and channel states.
 *
 * The session is the mirror of the runtime's: the runtime opens channels on our
 * `sl_proto_worker_rpc` (invoke), we open channel 1 on its `sl_proto_worker` (handshake).
 * Frames that the state machine refuses are dropped with a line on stderr rather than
 * ending the worker (12a.7: a worker drops a new channel that does not start with invoke).
 */
#include "sluice-worker.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "native.h"

#define SLW_RBUF_INIT (64u * 1024u)
#define SLW_WBUF_MAX (64u << 20)
#define SLW_CHANNELS 4096
#define SLW_HEARTBEAT_MS 5000
#define SLW_DISOWN_MS 30000
#define SLW_FLUSH_MS 1000 /* bound on the final flush after terminate */

struct slw_event {
	char *name;
	size_t len;
	struct slw_handler h;
	void *arg;
};

struct slw_req {
	struct slw *w;
	uint64_t ch;
	const struct slw_event *ev; /* NULL: no handler (error sent) */
	char *event;
	void *data;
	bool tx_done, rx_done, reaping;
	struct slw_req *reap_next;
};

struct slw_timer {
	struct slw_timer *next;
	uint64_t at_ms;
	void (*fn)(void *arg);
	void *arg;
};

struct slw {
	char *app, *endpoint, *locator, *uuid;
	struct slw_event *evs;
	uint32_t nevs;
	int fd;
	uint8_t *rbuf;
	uint32_t rlen, rcap;
	uint8_t *wbuf;
	size_t wlen, woff, wcap;
	struct sl_frame_dec dec;
	struct sl_hdrs *hdrs;
	struct sl_sess sess;
	struct sl_chan *tab;
	uint64_t ctl;
	struct slw_timer *timers; /* sorted by at_ms */
	struct slw_req *reap;	  /* requests whose both sides are done */
	uint64_t hb_ms, disown_ms, last_rx_ms, next_hb_ms;
	bool terminated;
};

static uint64_t
slw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t
slw_env_ms(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long n;

	if (v == NULL || *v == '\0')
		return def;
	n = strtoull(v, &end, 10);
	return *end == '\0' && n > 0 ? n : def;
}

struct slw *
slw_new(int argc, char **argv)
{
	struct slw *w = calloc(1, sizeof(*w));
	const char *protocol = "1";
	int i;

	if (w == NULL)
		return NULL;
	w->fd = -1;
	for (i = 1; i + 1 < argc; i += 2) {
		char **dst = NULL;

		if (strcmp(argv[i], "--app") == 0)
			dst = &w->app;
		else if (strcmp(argv[i], "--endpoint") == 0)
			dst = &w->endpoint;
		else if (strcmp(argv[i], "--locator") == 0)
			dst = &w->locator;
		else if (strcmp(argv[i], "--uuid") == 0)
			dst = &w->uuid;
		else if (strcmp(argv[i], "--protocol") == 0)
			protocol = argv[i + 1];
		if (dst != NULL) {
			free(*dst);
			*dst = strdup(argv[i + 1]);
			if (*dst == NULL)
				goto nomem;
		}
	}
	if (w->endpoint == NULL || w->uuid == NULL || strcmp(protocol, "1") != 0) {
		slw_free(w);
		errno = EINVAL;
		return NULL;
	}
	if (w->app == NULL && (w->app = strdup("")) == NULL)
		goto nomem;
	if (w->locator == NULL && (w->locator = strdup("127.0.0.1:10053")) == NULL)
		goto nomem;
	/* a list "host:port,[v6]:port": the first one */
	if (strchr(w->locator, ',') != NULL)
		*strchr(w->locator, ',') = '\0';
	w->hb_ms = slw_env_ms("SLUICE_WORKER_HEARTBEAT_MS", SLW_HEARTBEAT_MS);
	w->disown_ms = slw_env_ms("SLUICE_WORKER_DISOWN_MS", SLW_DISOWN_MS);
	return w;
nomem:
	slw_free(w);
	errno = ENOMEM;
	return NULL;
}

void
slw_free(struct slw *w)
{
	uint32_t i;

	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	while (w->timers != NULL) {
		struct slw_timer *t = w->timers;

		w->timers = t->next;
		free(t);
	}
	for (i = 0; i < w->nevs; i++)
		free(w->evs[i].name);
	free(w->evs);
	free(w->app);
	free(w->endpoint);
	free(w->locator);
	free(w->uuid);
	free(w->rbuf);
	free(w->wbuf);
	free(w->hdrs);
	free(w->tab);
	free(w);
}

int
slw_on(struct slw *w, const char *event, const struct slw_handler *h, void *arg)
{
	struct slw_event *evs = realloc(w->evs, (w->nevs + 1) * sizeof(*evs));

	if (evs == NULL)
		return -ENOMEM;
	w->evs = evs;
	evs[w->nevs].name = strdup(event);
	if (evs[w->nevs].name == NULL)
		return -ENOMEM;
	evs[w->nevs].len = strlen(event);
	evs[w->nevs].h = *h;
	evs[w->nevs].arg = arg;
	w->nevs++;
	return 0;
}

const char *
slw_app(const struct slw *w)
{
	return w->app;
}

const char *
slw_uuid(const struct slw *w)
{
	return w->uuid;
}

const char *
slw_locator(const struct slw *w)
{
	return w->locator;
}

struct slw *
slw_req_worker(const struct slw_req *r)
{
	return r->w;
}

const char *
slw_req_event(const struct slw_req *r)
{
	return r->event;
}

void *
slw_req_arg(const struct slw_req *r)
{
	return r->ev != NULL ? r->ev->arg : NULL;
}

void *
slw_req_data(const struct slw_req *r)
{
	return r->data;
}

void
slw_req_set_data(struct slw_req *r, void *data)
{
	r->data = data;
}

/*
 * Output
 */

static int
slw_out_begin(struct slw *w, size_t n, struct sl_mp_w *mw)
{
	if (w->wcap - w->wlen < n) {
		size_t need, cap;
		uint8_t *p;

		if (w->woff > 0) {
			memmove(w->wbuf, w->wbuf + w->woff, w->wlen - w->woff);
			w->wlen -= w->woff;
			w->woff = 0;
		}
		need = w->wlen + n;
		if (need > SLW_WBUF_MAX)
			return -ENOBUFS;
		cap = w->wcap > 0 ? w->wcap : 65536;
		while (cap < need)
			cap *= 2;
		if (cap != w->wcap) {
			p = realloc(w->wbuf, cap);
			if (p == NULL)
				return -ENOMEM;
			w->wbuf = p;
			w->wcap = cap;
		}
	}
	sl_mp_w_init(mw, w->wbuf + w->wlen,
		     (uint32_t)(w->wcap - w->wlen > UINT32_MAX ? UINT32_MAX : w->wcap - w->wlen));
	return 0;
}

static void
slw_out_end(struct slw *w, const struct sl_mp_w *mw)
{
	if (mw->err == 0)
		w->wlen += mw->len;
}

/* Write what the socket takes. @return 0, or -errno when the connection is gone. */
static int
slw_flush(struct slw *w)
{
	while (w->woff < w->wlen) {
		ssize_t n = send(w->fd, w->wbuf + w->woff, w->wlen - w->woff, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		w->woff += (size_t)n;
	}
	w->woff = w->wlen = 0;
	return 0;
}

static void
slw_reap_later(struct slw_req *r)
{
	if (r->reaping || !r->tx_done || !r->rx_done)
		return;
	r->reaping = true;
	r->reap_next = r->w->reap;
	r->w->reap = r;
}

static void
slw_reap(struct slw *w)
{
	while (w->reap != NULL) {
		struct slw_req *r = w->reap;

		w->reap = r->reap_next;
		if (r->ev != NULL && r->ev->h.on_free != NULL)
			r->ev->h.on_free(r);
		free(r->event);
		free(r);
	}
}

/* Account a message of ours on a request channel. */
static int
slw_req_send(struct slw_req *r, uint64_t type)
{
	struct sl_chan_ev ev;
	int rc;

	if (r->tx_done)
		return -EPIPE;
	rc = sl_sess_send(&r->w->sess, r->ch, type, &ev);
	if (rc < 0)
		return rc;
	if (ev.tx_done) {
		r->tx_done = true;
		slw_reap_later(r);
	}
	return 0;
}

int
slw_write(struct slw_req *r, const void *data, size_t len)
{
	struct sl_mp_w mw;
	int rc;

	if (len > SLW_WBUF_MAX)
		return -ENOBUFS;
	if (r->tx_done)
		return -EPIPE;
	rc = slw_out_begin(r->w, len + 32, &mw);
	if (rc < 0)
		return rc;
	rc = slw_req_send(r, SL_STREAM_WRITE);
	if (rc < 0)
		return rc;
	sl_frame_enc_raw1(&mw, r->ch, SL_STREAM_WRITE, data, (uint32_t)len, NULL,
			  SL_FRAME_NO_HEADERS);
	slw_out_end(r->w, &mw);
	return 0;
}

int
slw_close(struct slw_req *r)
{
	struct sl_mp_w mw;
	int rc;

	if (r->tx_done)
		return -EPIPE;
	rc = slw_out_begin(r->w, 32, &mw);
	if (rc < 0)
		return rc;
	rc = slw_req_send(r, SL_STREAM_CLOSE);
	if (rc < 0)
		return rc;
	sl_frame_enc_empty(&mw, r->ch, SL_STREAM_CLOSE, NULL, SL_FRAME_NO_HEADERS);
	slw_out_end(r->w, &mw);
	return 0;
}

int
slw_error(struct slw_req *r, int64_t cat, int64_t code, const char *msg)
{
	struct sl_err e = {.cat = cat, .code = code};
	size_t n = strlen(msg);
	struct sl_mp_w mw;
	int rc;

	if (r->tx_done)
		return -EPIPE;
	if (n > 4096)
		n = 4096;
	rc = slw_out_begin(r->w, n + 64, &mw);
	if (rc < 0)
		return rc;
	rc = slw_req_send(r, SL_STREAM_ERROR);
	if (rc < 0)
		return rc;
	sl_frame_enc_error(&mw, r->ch, SL_STREAM_ERROR, &e, msg, (uint32_t)n, NULL,
			   SL_FRAME_NO_HEADERS);
	slw_out_end(r->w, &mw);
	return 0;
}

/* A control message on channel 1 (heartbeat [], terminate [code, reason] echoed). */
static void
slw_send_ctl(struct slw *w, uint64_t type, const struct sl_frame *echo)
{
	struct sl_chan_ev ev;
	struct sl_mp_w mw;
	size_t n = echo != NULL ? echo->args_obj.left : 1;

	if (sl_sess_send(&w->sess, w->ctl, type, &ev) < 0 || slw_out_begin(w, n + 32, &mw) < 0)
		return;
	if (echo == NULL) {
		sl_frame_enc_empty(&mw, w->ctl, type, NULL, SL_FRAME_NO_HEADERS);
	} else {
		sl_mp_w_array(&mw, 3);
		sl_mp_w_uint(&mw, w->ctl);
		sl_mp_w_uint(&mw, type);
		if (mw.err == 0 && mw.cap - mw.len >= n &&
		    sl_mp_cur_copy(&echo->args_obj, mw.p + mw.len, (uint32_t)n) == 0)
			mw.len += (uint32_t)n;
	}
	slw_out_end(w, &mw);
}

/*
 * Timers
 */

struct slw_timer *
slw_timer_add(struct slw *w, uint64_t ms, void (*fn)(void *arg), void *arg)
{
	struct slw_timer *t = calloc(1, sizeof(*t)), **pp = &w->timers;

	if (t == NULL)
		return NULL;
	t->at_ms = slw_now_ms() + ms;
	t->fn = fn;
	t->arg = arg;
	while (*pp != NULL && (*pp)->at_ms <= t->at_ms)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	return t;
}

void
slw_timer_cancel(struct slw *w, struct slw_timer *t)
{
	struct slw_timer **pp = &w->timers;

	while (*pp != NULL && *pp != t)
		pp = &(*pp)->next;
	if (*pp != NULL) {
		*pp = t->next;
		free(t);
	}
}

static void
slw_run_timers(struct slw *w, uint64_t now)
{
	while (w->timers != NULL && w->timers->at_ms <= now) {
		struct slw_timer *t = w->timers;

		w->timers = t->next;
		t->fn(t->arg);
		free(t);
	}
}

/*
 * Input
 */

static const struct slw_event *
slw_find_event(const struct slw *w, const char *name, size_t len)
{
	uint32_t i;

	for (i = 0; i < w->nevs; i++)
		if (w->evs[i].len == len && memcmp(w->evs[i].name, name, len) == 0)
			return &w->evs[i];
	return NULL;
}

static void
slw_invoke(struct slw *w, const struct sl_frame *f, uint64_t ch)
{
	struct sl_mp_cur args = f->args;
	struct sl_chan *chan = sl_sess_find(&w->sess, ch);
	struct sl_mp_raw name;
	struct slw_req *r;
	char msg[160];
	int n;

	r = calloc(1, sizeof(*r));
	if (r == NULL || chan == NULL || f->nargs < 1 || sl_mp_read_raw(&args, &name) < 0 ||
	    (r->event = malloc(name.len + 1)) == NULL) {
		free(r);
		sl_sess_forget(&w->sess, ch);
		fprintf(stderr, "slw: channel %llu: bad invoke, dropped\n", (unsigned long long)ch);
		return;
	}
	n = sl_mp_raw_copy(&name, r->event, name.len);
	r->event[n < 0 ? 0 : n] = '\0';
	r->w = w;
	r->ch = ch;
	r->ev = slw_find_event(w, r->event, (size_t)(n < 0 ? 0 : n));
	chan->user = r;
	if (r->ev == NULL) {
		/* 12a.7: the error goes out before the body is read */
		snprintf(msg, sizeof(msg), "there is no handler for event '%.100s'", r->event);
		slw_error(r, SL_ECAT_WORKER, SL_EWORKER_EVENT_NOT_FOUND, msg);
		return;
	}
	if (r->ev->h.on_invoke != NULL)
		r->ev->h.on_invoke(r);
}

static void
slw_req_msg(struct slw_req *r, const struct sl_frame *f, const struct sl_chan_ev *ev)
{
	const struct slw_handler *h = r->ev != NULL ? &r->ev->h : NULL;
	struct sl_mp_cur args = f->args;

	if (ev->rx_done)
		r->rx_done = true;
	switch (ev->slot->id) {
	case SL_STREAM_WRITE: {
		struct sl_mp_raw chunk;
		uint8_t *copy = NULL;
		const void *p;

		if (h == NULL || h->on_chunk == NULL || f->nargs < 1 ||
		    sl_mp_read_raw(&args, &chunk) < 0)
			break;
		p = chunk.p;
		if (p == NULL) {
			copy = malloc(chunk.len > 0 ? chunk.len : 1);
			if (copy == NULL)
				break;
			sl_mp_raw_copy(&chunk, copy, chunk.len);
			p = copy;
		}
		h->on_chunk(r, p, chunk.len);
		free(copy);
		break;
	}
	case SL_STREAM_CLOSE:
		if (h != NULL && h->on_close != NULL)
			h->on_close(r);
		break;
	default: {
		struct sl_err e;
		struct sl_mp_raw m;
		char msg[256] = "";

		if (sl_err_dec_args(&f->args, f->nargs, &e, &m) == 0) {
			int n = sl_mp_raw_copy(&m, msg, sizeof(msg) - 1);

			msg[n > 0 ? n : 0] = '\0';
		} else {
			e.cat = SL_ECAT_UNKNOWN;
			e.code = 0;
		}
		if (h != NULL && h->on_error != NULL)
			h->on_error(r, e.cat, e.code, msg);
		else
			slw_close(r);
		break;
	}
	}
	slw_reap_later(r);
}

static void
slw_frame(struct slw *w, const struct sl_frame *f)
{
	struct sl_chan_ev ev;
	int rc;

	rc = sl_sess_recv(&w->sess, f->channel, f->type, &ev);
	if (rc < 0) {
		fprintf(stderr, "slw: channel %llu message %llu: %s, dropped\n",
			(unsigned long long)f->channel, (unsigned long long)f->type, strerror(-rc));
		return;
	}
	if (ev.id == w->ctl) {
		if (ev.slot->id == SL_CONTROL_TERMINATE) {
			/* 12a.7: echoed, then the worker exits */
			slw_send_ctl(w, SL_CONTROL_TERMINATE, f);
			w->terminated = true;
		}
		return;
	}
	if (ev.opened) {
		slw_invoke(w, f, ev.id);
		return;
	}
	if (ev.user != NULL)
		slw_req_msg(ev.user, f, &ev);
}

/* Read and dispatch. @return 0; -errno or -EPIPE (EOF) when the connection is gone. */
static int
slw_read(struct slw *w)
{
	struct sl_seg seg;
	uint32_t off = 0;
	ssize_t n;

	if (w->rlen == w->rcap) {
		uint32_t cap = w->rcap * 2;
		uint8_t *p;

		if (cap > SL_MP_DEFAULT_MAX_FRAME + 64u)
			return -EMSGSIZE;
		p = realloc(w->rbuf, cap);
		if (p == NULL)
			return -ENOMEM;
		w->rbuf = p;
		w->rcap = cap;
	}
	n = recv(w->fd, w->rbuf + w->rlen, w->rcap - w->rlen, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -EPIPE;
	w->rlen += (uint32_t)n;
	w->last_rx_ms = slw_now_ms();
	seg.p = w->rbuf;
	seg.len = w->rlen;
	while (off < w->rlen && !w->terminated) {
		struct sl_frame f;
		int rc = sl_frame_dec_next(&w->dec, &seg, 1, off, &f, w->hdrs);

		if (rc == -EAGAIN)
			break;
		if (rc < 0)
			return rc;
		off += (uint32_t)rc;
		slw_frame(w, &f);
	}
	memmove(w->rbuf, w->rbuf + off, w->rlen - off);
	w->rlen -= off;
	return 0;
}

static int
slw_connect(struct slw *w)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct sl_chan_ev ev;
	struct sl_mp_w mw;
	int rc;

	if (strlen(w->endpoint) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, w->endpoint, strlen(w->endpoint) + 1);
	w->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w->fd < 0)
		return -errno;
	if (connect(w->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return -errno;
	w->rbuf = malloc(SLW_RBUF_INIT);
	w->hdrs = malloc(sizeof(*w->hdrs));
	w->tab = calloc(SLW_CHANNELS, sizeof(*w->tab));
	if (w->rbuf == NULL || w->hdrs == NULL || w->tab == NULL)
		return -ENOMEM;
	w->rcap = SLW_RBUF_INIT;
	sl_frame_dec_init(&w->dec, NULL);
	sl_sess_init(&w->sess, &sl_proto_worker_rpc, &sl_proto_worker, w->tab, SLW_CHANNELS);
	/* 5.3: handshake [uuid] opens channel 1, which then carries the control protocol */
	rc = sl_sess_open(&w->sess, SL_WORKER_HANDSHAKE, NULL, &ev);
	if (rc < 0)
		return rc;
	w->ctl = ev.id;
	rc = slw_out_begin(w, strlen(w->uuid) + 32, &mw);
	if (rc < 0)
		return rc;
	sl_frame_enc_raw1(&mw, w->ctl, SL_WORKER_HANDSHAKE, w->uuid, (uint32_t)strlen(w->uuid),
			  NULL, SL_FRAME_NO_HEADERS);
	slw_out_end(w, &mw);
	return 0;
}

/* Free every request (the connection is gone). */
static void
slw_drop_all(struct slw *w)
{
	struct sl_chan *c;
	uint32_t pos = 0;

	while ((c = sl_sess_next(&w->sess, &pos)) != NULL) {
		struct slw_req *r = c->user;

		if (r == NULL || r->reaping)
			continue;
		r->tx_done = r->rx_done = true;
		slw_reap_later(r);
	}
	slw_reap(w);
}

int
slw_run(struct slw *w)
{
	uint64_t now;
	int rc;

	rc = slw_connect(w);
	if (rc < 0)
		return rc;
	now = slw_now_ms();
	w->last_rx_ms = now;
	w->next_hb_ms = now; /* the first heartbeat goes with the handshake */
	while (!w->terminated) {
		struct pollfd pfd = {.fd = w->fd, .events = POLLIN};
		uint64_t until;

		now = slw_now_ms();
		if (now >= w->next_hb_ms) {
			slw_send_ctl(w, SL_CONTROL_HEARTBEAT, NULL);
			w->next_hb_ms = now + w->hb_ms;
		}
		if (now - w->last_rx_ms >= w->disown_ms) {
			fprintf(stderr, "slw: the runtime has been silent for %llu ms: disowned\n",
				(unsigned long long)(now - w->last_rx_ms));
			rc = -ETIMEDOUT;
			break;
		}
		slw_run_timers(w, now);
		slw_reap(w);
		rc = slw_flush(w);
		if (rc < 0)
			break;
		until = w->next_hb_ms;
		if (w->last_rx_ms + w->disown_ms < until)
			until = w->last_rx_ms + w->disown_ms;
		if (w->timers != NULL && w->timers->at_ms < until)
			until = w->timers->at_ms;
		if (w->wlen > w->woff)
			pfd.events |= POLLOUT;
		rc = poll(&pfd, 1, until > now ? (int)(until - now) : 0);
		if (rc < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		rc = 0;
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			rc = slw_read(w);
			if (rc < 0)
				break;
		}
	}
	if (w->terminated) {
		/* flush the echoed terminate and whatever replies are pending */
		uint64_t end = slw_now_ms() + SLW_FLUSH_MS;

		rc = 0;
		while (w->wlen > w->woff && slw_now_ms() < end) {
			struct pollfd pfd = {.fd = w->fd, .events = POLLOUT};

			if (slw_flush(w) < 0)
				break;
			poll(&pfd, 1, 50);
		}
	}
	slw_drop_all(w);
	return rc;
}
