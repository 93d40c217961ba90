/*
 * Framed connections (see conn.h). Reads go straight into the read buffer; frames are
 * decoded in place and handed to the owner; a partial frame left at the end is moved to the
 * front (the decoder's state is relative to the frame's first byte, so it resumes there).
 */
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sl_log.h"
#include "sl_util.h"

#define CONN_LOG(l, ...) SL_LOG(l, "conn", __VA_ARGS__)
#define CONN_RBUF_INIT (64u * 1024u)
#define CONN_WBUF_INIT (64u * 1024u)
#define CONN_WBUF_KEEP (1u << 20) /* a larger idle write buffer is given back */
#define CONN_READS_PER_EVENT 4	  /* fairness between connections */

struct sl_hdrs conn_scratch_hdrs;

static void conn_on_io(struct loop_io *io, uint32_t events);
static void conn_flush_task(struct loop_task *t);

uint32_t
conn_pow2(uint32_t n)
{
	uint32_t p = 2;

	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

static void
conn_free(struct loop_grave *g)
{
	struct conn *c = SL_CONTAINER_OF(g, struct conn, grave);

	free(c->rbuf);
	free(c->wbuf);
	free(c->tab);
	free(c);
}

struct conn *
conn_new(struct loop *l, int fd, const struct conn_ops *ops, const struct conn_limits *lim,
	 const struct sl_gnode *serve, const struct sl_gnode *call, uint32_t channels, void *owner,
	 const char *name)
{
	struct sl_mp_limits ml;
	struct conn *c;
	int rc;

	if (channels == 0)
		channels = lim->channels;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto fail;
	c->rbuf = malloc(CONN_RBUF_INIT);
	c->tab = calloc(channels, sizeof(*c->tab));
	if (c->rbuf == NULL || c->tab == NULL)
		goto fail;
	c->rcap = CONN_RBUF_INIT;
	c->io.fd = fd;
	c->io.cb = conn_on_io;
	c->flush.fn = conn_flush_task;
	c->grave.free_fn = conn_free;
	c->loop = l;
	c->ops = ops;
	c->lim = lim;
	c->owner = owner;
	c->born_ms = loop_now_ms(l);
	snprintf(c->name, sizeof(c->name), "%s", name);
	sl_mp_limits_default(&ml);
	ml.max_frame = lim->frame_bytes;
	sl_frame_dec_init(&c->dec, &ml);
	if (sl_sess_init(&c->sess, serve, call, c->tab, channels) < 0) {
		errno = EINVAL;
		goto fail;
	}
	rc = loop_add(l, &c->io, EPOLLIN);
	if (rc < 0) {
		errno = -rc;
		goto fail;
	}
	return c;
fail:
	rc = errno;
	close(fd);
	if (c != NULL) {
		free(c->rbuf);
		free(c->tab);
		free(c);
	}
	errno = rc;
	return NULL;
}

void
conn_close(struct conn *c, int err)
{
	if (c->closed)
		return;
	c->closed = true;
	loop_del(c->loop, &c->io);
	loop_cancel(c->loop, &c->flush);
	if (c->ops->on_close != NULL)
		c->ops->on_close(c, err);
	close(c->io.fd);
	c->io.fd = -1;
	loop_bury(c->loop, &c->grave);
}

/* Write what is pending; EPOLLOUT only while the socket is full. */
void
conn_fail(struct conn *c, int err)
{
	if (c->closed || c->failing)
		return;
	c->failing = true;
	c->fail_err = err;
	loop_post(c->loop, &c->flush);
}

static int
conn_write(struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = write(c->io.fd, c->wbuf + c->woff, c->wlen - c->woff);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				if (!c->want_out &&
				    loop_mod(c->loop, &c->io, EPOLLIN | EPOLLOUT) == 0)
					c->want_out = true;
				return 0;
			}
			return -errno;
		}
		c->woff += (size_t)n;
	}
	c->woff = c->wlen = 0;
	if (c->wcap > CONN_WBUF_KEEP) {
		free(c->wbuf);
		c->wbuf = NULL;
		c->wcap = 0;
	}
	if (c->want_out && loop_mod(c->loop, &c->io, EPOLLIN) == 0)
		c->want_out = false;
	return 0;
}

static void
conn_flush_task(struct loop_task *t)
{
	struct conn *c = SL_CONTAINER_OF(t, struct conn, flush);
	int rc;

	if (c->closed)
		return;
	if (c->failing) {
		conn_close(c, c->fail_err);
		return;
	}
	rc = conn_write(c);
	if (rc < 0) {
		CONN_LOG(DEBUG, "%s: write: %s", c->name, strerror(-rc));
		conn_close(c, rc);
	}
}

int
conn_out_begin(struct conn *c, size_t n, struct sl_mp_w *w)
{
	if (c->closed || c->failing)
		return -EPIPE;
	if (c->wcap - c->wlen < n) {
		size_t need, cap;
		uint8_t *p;

		/* drop what was written before growing */
		if (c->woff > 0) {
			memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
			c->wlen -= c->woff;
			c->woff = 0;
		}
		need = c->wlen + n;
		if (need > c->lim->write_buffer_bytes + c->lim->frame_bytes)
			return -ENOBUFS;
		if (c->wcap < need) {
			cap = c->wcap > 0 ? c->wcap : CONN_WBUF_INIT;
			while (cap < need)
				cap *= 2;
			p = realloc(c->wbuf, cap);
			if (p == NULL)
				return -ENOMEM;
			c->wbuf = p;
			c->wcap = cap;
		}
	}
	if (c->wlen - c->woff > c->lim->write_buffer_bytes)
		return -ENOBUFS;
	sl_mp_w_init(w, c->wbuf + c->wlen,
		     (uint32_t)(c->wcap - c->wlen > UINT32_MAX ? UINT32_MAX : c->wcap - c->wlen));
	return 0;
}

int
conn_out_end(struct conn *c, const struct sl_mp_w *w)
{
	if (w->err < 0)
		return w->err;
	c->wlen += w->len;
	if (w->len > 0)
		loop_post(c->loop, &c->flush);
	return 0;
}

/* Decode and dispatch every complete frame in the read buffer. */
static int
conn_decode(struct conn *c)
{
	struct sl_seg seg = {.p = c->rbuf, .len = c->rlen};

	while (c->roff < c->rlen && !c->closed && !c->failing) {
		struct sl_chan_ev ev;
		struct sl_frame f;
		int rc;

		rc = sl_frame_dec_next(&c->dec, &seg, 1, c->roff, &f, &conn_scratch_hdrs);
		if (rc == -EAGAIN)
			break;
		if (rc < 0) {
			struct sl_err e = sl_err_from_errno(rc);

			CONN_LOG(NOTICE, "%s: bad frame (%s %lld): %s, disconnecting", c->name,
				 sl_err_cat_name(e.cat), (long long)e.code, strerror(-rc));
			return rc;
		}
		c->roff += (uint32_t)rc;
		rc = sl_sess_recv(&c->sess, f.channel, f.type, &ev);
		if (rc < 0) {
			struct sl_err e = sl_err_from_errno(rc);

			CONN_LOG(NOTICE,
				 "%s: channel %llu message %llu: %s (%s %lld), disconnecting",
				 c->name, (unsigned long long)f.channel, (unsigned long long)f.type,
				 strerror(-rc), sl_err_cat_name(e.cat), (long long)e.code);
			return rc;
		}
		rc = c->ops->on_frame(c, &f, &conn_scratch_hdrs, &ev);
		if (rc < 0)
			return rc;
	}
	if (c->roff == c->rlen) {
		c->roff = c->rlen = 0;
	} else if (c->roff > 0) {
		memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
		c->rlen -= c->roff;
		c->roff = 0;
	}
	return 0;
}

/* Room to read: grow (up to one frame's worth) when the buffer holds a partial frame. */
static int
conn_rbuf_room(struct conn *c)
{
	uint32_t cap;
	uint8_t *p;

	if (c->rlen < c->rcap)
		return 0;
	if (c->rcap >= c->lim->frame_bytes + 64u)
		return -EMSGSIZE; /* the decoder would have refused it: defensive */
	cap = c->rcap < CONN_RBUF_INIT ? CONN_RBUF_INIT : c->rcap * 2;
	if (cap > c->lim->frame_bytes + 64u)
		cap = c->lim->frame_bytes + 64u;
	p = realloc(c->rbuf, cap);
	if (p == NULL)
		return -ENOMEM;
	c->rbuf = p;
	c->rcap = cap;
	return 0;
}

static int
conn_read(struct conn *c)
{
	int i, rc;

	for (i = 0; i < CONN_READS_PER_EVENT && !c->closed && !c->failing; i++) {
		ssize_t n;

		rc = conn_rbuf_room(c);
		if (rc < 0)
			return rc;
		n = read(c->io.fd, c->rbuf + c->rlen, c->rcap - c->rlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		if (n == 0)
			return 1; /* EOF */
		c->rlen += (uint32_t)n;
		rc = conn_decode(c);
		if (rc < 0)
			return rc;
		if (c->rlen < c->rcap)
			return 0; /* short read: the socket is empty */
	}
	return 0;
}

static void
conn_on_io(struct loop_io *io, uint32_t events)
{
	struct conn *c = SL_CONTAINER_OF(io, struct conn, io);
	int rc;

	if (c->failing)
		return; /* the flush task closes it */
	if (events & EPOLLOUT) {
		rc = conn_write(c);
		if (rc < 0) {
			conn_close(c, rc);
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		rc = conn_read(c);
		if (rc != 0 && !c->closed)
			conn_close(c, rc > 0 ? 0 : rc);
	}
}
