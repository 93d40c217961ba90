/*
 * bench-node-client: requests per second of a Cocaine 0.12 app through sluice-node, from one
 * connection with a fixed number of channels in flight (tools/bench/node-echo runs it).
 *
 * The client resolves the app with the locator, connects to the app service and keeps
 * --inflight channels open: each request is enqueue [event] + write [--size bytes] + close,
 * 4-element frames with an empty header array (what 0.12.2+ clients send, 12a.1); a request
 * is done when its write (the echoed chunk, length checked) and close have come back. New
 * requests are sent in batches as replies arrive; every write(2) carries all of them.
 *
 *   bench-node-client [--locator HOST:PORT] [--app NAME] [--event NAME] [--size BYTES]
 *                     [--inflight N] [--requests N] [--warmup N]
 * bench_client_loop() holds nothing but the measured run, so `valgrind --tool=callgrind
 * --toggle-collect=bench_client_loop` counts the client's own instructions.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "native.h"
#include "sl_util.h"

#define RBUF (1u << 20)
#define WBUF (1u << 20)
#define TAB 4096

struct client {
	int fd;
	struct sl_frame_dec dec;
	struct sl_sess sess;
	struct sl_chan tab[TAB];
	uint8_t rbuf[RBUF];
	uint32_t rlen;
	uint8_t wbuf[WBUF];
	uint32_t wlen;
	const char *event;
	uint8_t chunk[65536];
	uint32_t size;
	uint64_t sent, done, errors, bad;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
tcp_connect(const char *host, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd, one = 1;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* resolve `name` with the locator: the app's first endpoint. */
static int
resolve(const char *locator, const char *name, struct sl_endpoint *ep)
{
	static struct sl_gnode nodes[64];
	static struct sl_gslot slots[256];
	static char names[4096];
	static struct sl_frame_dec dec;
	static uint8_t buf[65536];
	struct sl_graph_arena arena;
	const struct sl_gnode *root;
	char host[64];
	const char *colon = strrchr(locator, ':');
	struct sl_seg seg;
	struct sl_frame f;
	struct sl_mp_w w;
	uint64_t version;
	uint32_t len = 0, nep;
	int fd, rc;

	if (colon == NULL || (size_t)(colon - locator) >= sizeof(host))
		return -EINVAL;
	memcpy(host, locator, (size_t)(colon - locator));
	host[colon - locator] = '\0';
	fd = tcp_connect(host, (uint16_t)atoi(colon + 1));
	if (fd < 0)
		return fd;
	sl_mp_w_init(&w, buf, sizeof(buf));
	sl_frame_enc_raw1(&w, 1, SL_LOCATOR_RESOLVE, name, (uint32_t)strlen(name), NULL, 0);
	if (write(fd, buf, w.len) != (ssize_t)w.len) {
		close(fd);
		return -EIO;
	}
	sl_frame_dec_init(&dec, NULL);
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n <= 0) {
			rc = -EPIPE;
			break;
		}
		len += (uint32_t)n;
		seg.p = buf;
		seg.len = len;
		rc = sl_frame_dec_next(&dec, &seg, 1, 0, &f, NULL);
		if (rc == -EAGAIN)
			continue;
		if (rc > 0) {
			if (f.type != SL_PRIM_VALUE) {
				rc = -ENOENT;
				break;
			}
			sl_graph_arena_init(&arena, nodes, SL_ARRAY_SIZE(nodes), slots,
					    SL_ARRAY_SIZE(slots), names, sizeof(names));
			rc = sl_resolve_dec_args(&f.args, f.nargs, ep, 1, &nep, &version, &arena,
						 &root);
			if (rc == 0 && sl_graph_find_name(root, "enqueue", 7) == NULL)
				rc = -EPROTO;
		}
		break;
	}
	close(fd);
	return rc;
}

/* Queue one request (3 frames) in the write buffer. */
static int
client_send_one(struct client *c)
{
	struct sl_chan_ev ev;
	struct sl_mp_w w;
	uint64_t ch;

	if (WBUF - c->wlen < c->size + 256)
		return -ENOBUFS;
	if (sl_sess_open(&c->sess, SL_APP_ENQUEUE, NULL, &ev) < 0)
		return -EPROTO;
	ch = ev.id;
	sl_mp_w_init(&w, c->wbuf + c->wlen, WBUF - c->wlen);
	sl_frame_enc_raw1(&w, ch, SL_APP_ENQUEUE, c->event, (uint32_t)strlen(c->event), NULL, 0);
	sl_sess_send(&c->sess, ch, SL_STREAM_WRITE, &ev);
	sl_frame_enc_raw1(&w, ch, SL_STREAM_WRITE, c->chunk, c->size, NULL, 0);
	sl_sess_send(&c->sess, ch, SL_STREAM_CLOSE, &ev);
	sl_frame_enc_empty(&w, ch, SL_STREAM_CLOSE, NULL, 0);
	if (w.err < 0)
		return w.err;
	c->wlen += w.len;
	c->sent++;
	return 0;
}

static int
client_flush(struct client *c)
{
	uint32_t off = 0;

	while (off < c->wlen) {
		ssize_t n = write(c->fd, c->wbuf + off, c->wlen - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (uint32_t)n;
	}
	c->wlen = 0;
	return 0;
}

/* Read what is there and account the replies. @return requests completed, or -errno. */
static int
client_read(struct client *c)
{
	struct sl_seg seg;
	uint32_t off = 0;
	int done = 0;
	ssize_t n;

	n = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
	if (n <= 0)
		return n == 0 ? -EPIPE : -errno;
	c->rlen += (uint32_t)n;
	seg.p = c->rbuf;
	seg.len = c->rlen;
	for (;;) {
		struct sl_chan_ev ev;
		struct sl_frame f;
		struct sl_mp_raw r;
		int rc = sl_frame_dec_next(&c->dec, &seg, 1, off, &f, NULL);

		if (rc == -EAGAIN)
			break;
		if (rc < 0)
			return rc;
		off += (uint32_t)rc;
		if (sl_sess_recv(&c->sess, f.channel, f.type, &ev) < 0)
			return -EPROTO;
		if (ev.slot->id == SL_STREAM_WRITE) {
			if (f.nargs != 1 || sl_mp_read_raw(&f.args, &r) < 0 || r.len != c->size)
				c->bad++;
		} else if (ev.slot->id == SL_STREAM_ERROR) {
			c->errors++;
		}
		if (ev.rx_done) {
			c->done++;
			done++;
		}
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	return done;
}

/* The measured run: `total` requests with `inflight` on the wire at any time. */
static SL_NOINLINE int
bench_client_loop(struct client *c, uint64_t total, uint32_t inflight)
{
	uint64_t target = c->done + total, start = c->sent;

	while (c->done < target) {
		while (c->sent - c->done < inflight && c->sent - start < total) {
			if (client_send_one(c) < 0)
				return -ENOBUFS;
		}
		if (client_flush(c) < 0)
			return -EPIPE;
		if (client_read(c) < 0)
			return -EPIPE;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct client cl;
	const char *locator = "127.0.0.1:10053", *app = "echo";
	uint64_t requests = 100000, warmup = 2000;
	uint32_t inflight = 1;
	struct sl_endpoint ep;
	double t0, t1;
	int i, rc;

	cl.event = "ping";
	cl.size = 64;
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--locator") == 0)
			locator = argv[i + 1];
		else if (strcmp(argv[i], "--app") == 0)
			app = argv[i + 1];
		else if (strcmp(argv[i], "--event") == 0)
			cl.event = argv[i + 1];
		else if (strcmp(argv[i], "--size") == 0)
			cl.size = (uint32_t)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--inflight") == 0)
			inflight = (uint32_t)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--requests") == 0)
			requests = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--warmup") == 0)
			warmup = strtoull(argv[i + 1], NULL, 10);
		else
			break;
	}
	if (i != argc || cl.size > sizeof(cl.chunk) || inflight == 0 || inflight >= TAB / 2 ||
	    requests == 0) {
		fprintf(stderr,
			"usage: %s [--locator HOST:PORT] [--app NAME] [--event NAME] "
			"[--size BYTES<=65536] [--inflight N<2048] [--requests N] "
			"[--warmup N]\n",
			argv[0]);
		return 2;
	}
	memset(cl.chunk, 'x', sizeof(cl.chunk));
	memset(&ep, 0, sizeof(ep));
	rc = resolve(locator, app, &ep);
	if (rc < 0) {
		fprintf(stderr, "resolve %s at %s: %s\n", app, locator, strerror(-rc));
		return 1;
	}
	cl.fd = tcp_connect(ep.host, ep.port);
	if (cl.fd < 0) {
		fprintf(stderr, "connect %s:%u: %s\n", ep.host, ep.port, strerror(-cl.fd));
		return 1;
	}
	sl_frame_dec_init(&cl.dec, NULL);
	sl_sess_init(&cl.sess, NULL, &sl_proto_app, cl.tab, TAB);
	if (warmup > 0 && bench_client_loop(&cl, warmup, inflight) < 0) {
		fprintf(stderr, "warm-up failed (connection lost)\n");
		return 1;
	}
	t0 = now_s();
	rc = bench_client_loop(&cl, requests, inflight);
	t1 = now_s();
	if (rc < 0) {
		fprintf(stderr, "run failed after %" PRIu64 " requests (connection lost)\n",
			cl.done);
		return 1;
	}
	printf("inflight %u: %" PRIu64 " requests in %.3f s: %.0f req/s, mean latency %.1f us, "
	       "errors %" PRIu64 ", bad replies %" PRIu64 "\n",
	       inflight, requests, t1 - t0, (double)requests / (t1 - t0),
	       (t1 - t0) * 1e6 / (double)requests * inflight, cl.errors, cl.bad);
	close(cl.fd);
	return cl.errors > 0 || cl.bad > 0 ? 1 : 0;
}
