/*
 * sluice-echo-worker: the reference worker of sluice-node, on libsluiceworker.
 *
 * Events:
 *   ping    echoes each chunk as it arrives, closes when the request closes;
 *   http    takes one chunk, an HTTP request packed as cocaine-protocol.md 8.2
 *           ([method, uri, version, [[name, value]...], body]), and answers the first chunk
 *           [200, [[name, value]...]] then the request body as the response body (8.3);
 *   dump    takes an HTTP request like `http` and answers 200 with a text dump of it:
 *           "method: M\nuri: U\nversion: V\n", "header: name: value\n" per field,
 *           "body-length: N\n" (what sluiced's HTTP front forwarded, for tests);
 *   whoami  answers the node's uuid (asked of the locator named by --locator, `uuid`);
 *   sleep   waits the milliseconds it is sent (decimal text), then answers them back; sent
 *           an HTTP request (8.2), it takes them from the body and answers [200, ...] then
 *           them (so sluiced's HTTP front can dispatch to it);
 *   error   answers error [[43, 1], "requested error"];
 *   exit    exits at once with status 3 (a worker crash).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <msgpack.h>

#include "native-mpc.h"
#include "native.h"
#include "sluice-worker.h"

#define ECHO_BODY_MAX (16u << 20)
#define ECHO_SLEEP_MAX_MS 600000
#define ECHO_LOCATOR_TIMEOUT_S 2

/* A request body collected until close. */
struct body {
	uint8_t *p;
	size_t len, cap;
	struct slw_timer *timer;
	bool overflow;
	bool http; /* sleep: the request came packed as HTTP: answer as HTTP */
};

static char node_uuid[64];

static struct body *
body_of(struct slw_req *r)
{
	struct body *b = slw_req_data(r);

	if (b == NULL) {
		b = calloc(1, sizeof(*b));
		slw_req_set_data(r, b);
	}
	return b;
}

static void
body_add(struct slw_req *r, const void *data, size_t len)
{
	struct body *b = body_of(r);

	if (b == NULL || b->overflow)
		return;
	if (b->len + len > ECHO_BODY_MAX) {
		b->overflow = true;
		return;
	}
	if (b->len + len > b->cap) {
		size_t cap = b->cap > 0 ? b->cap : 256;
		uint8_t *p;

		while (cap < b->len + len)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->overflow = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void
body_free(struct slw_req *r)
{
	struct body *b = slw_req_data(r);

	if (b == NULL)
		return;
	if (b->timer != NULL)
		slw_timer_cancel(slw_req_worker(r), b->timer);
	free(b->p);
	free(b);
	slw_req_set_data(r, NULL);
}

/* The runtime aborted the request: finish our side. */
static void
any_error(struct slw_req *r, int64_t cat, int64_t code, const char *msg)
{
	(void)cat;
	(void)code;
	(void)msg;
	slw_close(r);
}

/* ping */

static void
ping_chunk(struct slw_req *r, const void *data, size_t len)
{
	slw_write(r, data, len);
}

static void
ping_close(struct slw_req *r)
{
	slw_close(r);
}

/* http */

static void
http_reply(struct slw_req *r, int code, const void *body, size_t len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char clen[24];

	snprintf(clen, sizeof(clen), "%zu", len);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_int(&pk, code);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_array(&pk, 2);
	sl_mpc_pack_raw(&pk, "Content-Type", 12);
	sl_mpc_pack_raw(&pk, "application/octet-stream", 24);
	msgpack_pack_array(&pk, 2);
	sl_mpc_pack_raw(&pk, "Content-Length", 14);
	sl_mpc_pack_raw(&pk, clen, strlen(clen));
	slw_write(r, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	if (len > 0)
		slw_write(r, body, len);
	slw_close(r);
}

static void
http_close(struct slw_req *r)
{
	static const char bad[] = "bad request: expected [method, uri, version, headers, body]";
	struct body *b = body_of(r);
	msgpack_object o;
	msgpack_zone zone;

	if (b == NULL || b->overflow) {
		http_reply(r, 413, "request too large", 17);
		return;
	}
	msgpack_zone_init(&zone, 4096);
	if (b->len == 0 || sl_mpc_unpack(b->p, b->len, NULL, &zone, &o) <= 0 ||
	    o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 5 ||
	    (o.via.array.ptr[4].type != MSGPACK_OBJECT_STR &&
	     o.via.array.ptr[4].type != MSGPACK_OBJECT_BIN)) {
		http_reply(r, 400, bad, sizeof(bad) - 1);
	} else {
		const msgpack_object *body = &o.via.array.ptr[4];

		if (body->type == MSGPACK_OBJECT_STR)
			http_reply(r, 200, body->via.str.ptr, body->via.str.size);
		else
			http_reply(r, 200, body->via.bin.ptr, body->via.bin.size);
	}
	msgpack_zone_destroy(&zone);
}

/* dump */

static void
dump_raw(msgpack_sbuffer *sb, const msgpack_object *o)
{
	if (o->type == MSGPACK_OBJECT_STR)
		msgpack_sbuffer_write(sb, o->via.str.ptr, o->via.str.size);
	else if (o->type == MSGPACK_OBJECT_BIN)
		msgpack_sbuffer_write(sb, o->via.bin.ptr, o->via.bin.size);
	else
		msgpack_sbuffer_write(sb, "?", 1);
}

static void
dump_close(struct slw_req *r)
{
	static const char bad[] = "bad request: expected [method, uri, version, headers, body]";
	struct body *b = body_of(r);
	msgpack_object o;
	msgpack_zone zone;
	msgpack_sbuffer sb;
	char line[64];

	if (b == NULL || b->overflow) {
		http_reply(r, 413, "request too large", 17);
		return;
	}
	msgpack_zone_init(&zone, 4096);
	if (b->len == 0 || sl_mpc_unpack(b->p, b->len, NULL, &zone, &o) <= 0 ||
	    o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 5 ||
	    o.via.array.ptr[3].type != MSGPACK_OBJECT_ARRAY) {
		http_reply(r, 400, bad, sizeof(bad) - 1);
		msgpack_zone_destroy(&zone);
		return;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_sbuffer_write(&sb, "method: ", 8);
	dump_raw(&sb, &o.via.array.ptr[0]);
	msgpack_sbuffer_write(&sb, "\nuri: ", 6);
	dump_raw(&sb, &o.via.array.ptr[1]);
	msgpack_sbuffer_write(&sb, "\nversion: ", 10);
	dump_raw(&sb, &o.via.array.ptr[2]);
	msgpack_sbuffer_write(&sb, "\n", 1);
	for (uint32_t i = 0; i < o.via.array.ptr[3].via.array.size; i++) {
		const msgpack_object *h = &o.via.array.ptr[3].via.array.ptr[i];

		msgpack_sbuffer_write(&sb, "header: ", 8);
		if (h->type == MSGPACK_OBJECT_ARRAY && h->via.array.size == 2) {
			dump_raw(&sb, &h->via.array.ptr[0]);
			msgpack_sbuffer_write(&sb, ": ", 2);
			dump_raw(&sb, &h->via.array.ptr[1]);
		}
		msgpack_sbuffer_write(&sb, "\n", 1);
	}
	snprintf(line, sizeof(line), "body-length: %u\n",
		 o.via.array.ptr[4].type == MSGPACK_OBJECT_STR	 ? o.via.array.ptr[4].via.str.size
		 : o.via.array.ptr[4].type == MSGPACK_OBJECT_BIN ? o.via.array.ptr[4].via.bin.size
								 : 0);
	msgpack_sbuffer_write(&sb, line, strlen(line));
	http_reply(r, 200, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	msgpack_zone_destroy(&zone);
}

/* whoami: ask the locator once for its uuid (2.3, uuid = 6) */

static int
locator_connect(const char *hostport)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
	struct timeval tv = {.tv_sec = ECHO_LOCATOR_TIMEOUT_S};
	char host[128], *colon;
	const char *port;
	int fd = -1;

	snprintf(host, sizeof(host), "%s", hostport);
	colon = strrchr(host, ':');
	if (colon == NULL)
		return -EINVAL;
	*colon = '\0';
	port = colon + 1;
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		if (strchr(host, ']') != NULL)
			*strchr(host, ']') = '\0';
	}
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -EHOSTUNREACH;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd < 0 ? -ECONNREFUSED : fd;
}

static int
locator_uuid(const char *hostport, char *out, size_t cap)
{
	static struct sl_frame_dec dec;
	uint8_t req[32], buf[512];
	struct sl_mp_w w;
	struct sl_frame f;
	struct sl_seg seg;
	struct sl_mp_raw r;
	uint32_t len = 0;
	int fd, rc = -EPROTO;

	fd = locator_connect(hostport);
	if (fd < 0)
		return fd;
	sl_mp_w_init(&w, req, sizeof(req));
	sl_frame_enc_empty(&w, 1, SL_LOCATOR_UUID, NULL, 0);
	if (write(fd, req, w.len) != (ssize_t)w.len) {
		close(fd);
		return -EIO;
	}
	sl_frame_dec_init(&dec, NULL);
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n <= 0)
			break;
		len += (uint32_t)n;
		seg.p = buf;
		seg.len = len;
		rc = sl_frame_dec_next(&dec, &seg, 1, 0, &f, NULL);
		if (rc == -EAGAIN && len < sizeof(buf))
			continue;
		if (rc > 0) {
			rc = -EPROTO;
			if (f.type == SL_PRIM_VALUE && f.nargs == 1 &&
			    sl_mp_read_raw(&f.args, &r) == 0 &&
			    sl_mp_raw_copy(&r, out, (uint32_t)cap - 1) >= 0) {
				out[r.len] = '\0';
				rc = 0;
			}
		}
		break;
	}
	close(fd);
	return rc;
}

static void
whoami_close(struct slw_req *r)
{
	if (node_uuid[0] == '\0' &&
	    locator_uuid(slw_locator(slw_req_worker(r)), node_uuid, sizeof(node_uuid)) < 0) {
		node_uuid[0] = '\0';
		slw_error(r, SL_ECAT_WORKER_USER, 2, "cannot ask the locator for the node's uuid");
		return;
	}
	slw_write(r, node_uuid, strlen(node_uuid));
	slw_close(r);
}

/* sleep */

static void
sleep_done(void *arg)
{
	struct slw_req *r = arg;
	struct body *b = slw_req_data(r);

	b->timer = NULL;
	if (b->http) {
		http_reply(r, 200, b->p, b->len);
		return;
	}
	slw_write(r, b->p, b->len);
	slw_close(r);
}

/* An HTTP-packed sleep: the body becomes the text. @return 0, or -1 when not HTTP. */
static int
sleep_unpack_http(struct body *b)
{
	msgpack_object o;
	msgpack_zone zone;
	int ret = -1;

	if (b->len == 0 || b->p[0] != 0x95)
		return -1;
	msgpack_zone_init(&zone, 4096);
	if (sl_mpc_unpack(b->p, b->len, NULL, &zone, &o) > 0 && o.type == MSGPACK_OBJECT_ARRAY &&
	    o.via.array.size == 5 &&
	    (o.via.array.ptr[4].type == MSGPACK_OBJECT_STR ||
	     o.via.array.ptr[4].type == MSGPACK_OBJECT_BIN)) {
		const msgpack_object *body = &o.via.array.ptr[4];
		const char *p =
			body->type == MSGPACK_OBJECT_STR ? body->via.str.ptr : body->via.bin.ptr;
		size_t n =
			body->type == MSGPACK_OBJECT_STR ? body->via.str.size : body->via.bin.size;

		memmove(b->p, p, n);
		b->len = n;
		b->http = true;
		ret = 0;
	}
	msgpack_zone_destroy(&zone);
	return ret;
}

static void
sleep_close(struct slw_req *r)
{
	struct body *b = body_of(r);
	char text[16];
	unsigned long ms;

	if (b != NULL && !b->overflow)
		sleep_unpack_http(b);
	if (b == NULL || b->overflow || b->len == 0 || b->len >= sizeof(text)) {
		slw_error(r, SL_ECAT_WORKER_USER, 1, "sleep: send the milliseconds as text");
		return;
	}
	memcpy(text, b->p, b->len);
	text[b->len] = '\0';
	ms = strtoul(text, NULL, 10);
	if (ms > ECHO_SLEEP_MAX_MS)
		ms = ECHO_SLEEP_MAX_MS;
	b->timer = slw_timer_add(slw_req_worker(r), ms, sleep_done, r);
	if (b->timer == NULL)
		slw_error(r, SL_ECAT_WORKER_USER, 1, "sleep: out of memory");
}

/* error, exit */

static void
error_invoke(struct slw_req *r)
{
	slw_error(r, SL_ECAT_WORKER_USER, 1, "requested error");
}

static void
exit_invoke(struct slw_req *r)
{
	(void)r;
	fprintf(stderr, "echo worker: exit requested\n");
	_exit(3);
}

static void
collect_chunk(struct slw_req *r, const void *data, size_t len)
{
	body_add(r, data, len);
}

int
main(int argc, char **argv)
{
	static const struct slw_handler ping = {
		.on_chunk = ping_chunk, .on_close = ping_close, .on_error = any_error};
	static const struct slw_handler http = {.on_chunk = collect_chunk,
						.on_close = http_close,
						.on_error = any_error,
						.on_free = body_free};
	static const struct slw_handler whoami = {.on_close = whoami_close, .on_error = any_error};
	static const struct slw_handler dump = {.on_chunk = collect_chunk,
						.on_close = dump_close,
						.on_error = any_error,
						.on_free = body_free};
	static const struct slw_handler sleeper = {.on_chunk = collect_chunk,
						   .on_close = sleep_close,
						   .on_error = any_error,
						   .on_free = body_free};
	static const struct slw_handler error = {.on_invoke = error_invoke};
	static const struct slw_handler exiter = {.on_invoke = exit_invoke};
	struct slw *w = slw_new(argc, argv);
	int rc;

	if (w == NULL) {
		fprintf(stderr,
			"usage: %s --app NAME --endpoint SOCKET --locator HOST:PORT --uuid "
			"UUID --protocol 1\n",
			argv[0]);
		return 2;
	}
	if (slw_on(w, "ping", &ping, NULL) < 0 || slw_on(w, "http", &http, NULL) < 0 ||
	    slw_on(w, "whoami", &whoami, NULL) < 0 || slw_on(w, "dump", &dump, NULL) < 0 ||
	    slw_on(w, "sleep", &sleeper, NULL) < 0 || slw_on(w, "error", &error, NULL) < 0 ||
	    slw_on(w, "exit", &exiter, NULL) < 0) {
		slw_free(w);
		return 1;
	}
	fprintf(stderr, "echo worker %s for app %s: starting\n", slw_uuid(w), slw_app(w));
	rc = slw_run(w);
	if (rc < 0)
		fprintf(stderr, "echo worker %s: %s\n", slw_uuid(w), strerror(-rc));
	slw_free(w);
	return rc < 0 ? 1 : 0;
}
