/*
 * Unit tests of control/nodes: parsing of resolve and info replies from msgpack bytes (the
 * resolve bytes follow cocaine-protocol.md 2.3), error replies, malformed, incomplete and
 * oversized replies.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "nodes.h"

#define ERRLEN 128

/* [1, 0, [[["10.0.0.1", 53000]], 1, {0: ["read", {}, {0: ["value", {}], 1: ["error", {}]}]}]] */
static const unsigned char resolve_ok[] = {
	0x93, 0x01, 0x00, 0x93, 0x91, 0x92, 0xa8, '1',	'0',  '.',  '0',  '.',
	'0',  '.',  '1',  0xcd, 0xcf, 0x08, 0x01, 0x81, 0x00, 0x93, 0xa4, 'r',
	'e',  'a',  'd',  0x80, 0x82, 0x00, 0x92, 0xa5, 'v',  'a',  'l',  'u',
	'e',  0x80, 0x01, 0x92, 0xa5, 'e',  'r',  'r',	'o',  'r',  0x80};

static void
pk_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

Test(resolve, golden_bytes)
{
	struct sl_snap_app a = {0};
	char err[ERRLEN] = "";

	cr_assert_eq(sl_nodes_parse_resolve(resolve_ok, sizeof(resolve_ok), &a, err, sizeof(err)),
		     SL_REPLY_VALUE, "%s", err);
	cr_expect_eq(a.state, SL_APP_PRESENT);
	cr_expect_eq(a.n_endpoints, 1);
	cr_expect_eq(a.endpoints[0].addr.v, 0x0a000001);
	cr_expect_eq(a.endpoints[0].port, 53000);
	cr_expect_eq(a.version, 1);
}

Test(resolve, incomplete_needs_more)
{
	struct sl_snap_app a = {0};

	for (size_t n = 0; n < sizeof(resolve_ok); n++)
		cr_expect_eq(sl_nodes_parse_resolve(resolve_ok, n, &a, NULL, 0), -EAGAIN, "n=%zu",
			     n);
}

Test(resolve, several_endpoints_ipv6_skipped_headers_accepted)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct sl_snap_app a = {0};
	char err[ERRLEN] = "";

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint64(&pk, 1);
	msgpack_pack_uint64(&pk, 0);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_array(&pk, 2);
	pk_str(&pk, "::1");
	msgpack_pack_uint16(&pk, 1);
	msgpack_pack_array(&pk, 2);
	pk_str(&pk, "198.18.0.11");
	msgpack_pack_uint16(&pk, 40000);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_bin(&pk, 11);
	msgpack_pack_bin_body(&pk, "198.18.0.12", 11);
	msgpack_pack_uint16(&pk, 40001);
	msgpack_pack_uint64(&pk, 7);
	msgpack_pack_map(&pk, 0);
	msgpack_pack_array(&pk, 0);
	cr_assert_eq(sl_nodes_parse_resolve(sb.data, sb.size, &a, err, sizeof(err)), SL_REPLY_VALUE,
		     "%s", err);
	cr_expect_eq(a.n_endpoints, 2);
	cr_expect_eq(a.endpoints[0].addr.v, 0xc612000b);
	cr_expect_eq(a.endpoints[1].port, 40001);
	cr_expect_eq(a.version, 7);
	msgpack_sbuffer_destroy(&sb);
}

/* [1, 1, [[cat, code], "msg"]] */
static size_t
error_frame(unsigned char *b, unsigned int cat, unsigned int code)
{
	size_t n = 0;

	b[n++] = 0x93;
	b[n++] = 0x01;
	b[n++] = 0x01;
	b[n++] = 0x92;
	b[n++] = 0x92;
	b[n++] = (unsigned char)cat;
	b[n++] = (unsigned char)code;
	b[n++] = 0xa3;
	memcpy(b + n, "bad", 3);
	return n + 3;
}

Test(resolve, not_found_and_errors)
{
	struct sl_snap_app a = {0};
	unsigned char b[32];
	char err[ERRLEN] = "";
	size_t n;

	n = error_frame(b, 0x0A, 1);
	cr_expect_eq(sl_nodes_parse_resolve(b, n, &a, err, sizeof(err)), SL_REPLY_NOT_FOUND);
	cr_expect_str_eq(err, "error [10, 1]: bad");
	n = error_frame(b, 0x7F, 1); /* fixint: not a registered category */
	cr_expect_eq(sl_nodes_parse_resolve(b, n, &a, err, sizeof(err)), SL_REPLY_ERROR);
	cr_expect_str_eq(err, "error [127, 1]: bad");
	n = error_frame(b, 0x0A, 2);
	cr_expect_eq(sl_nodes_parse_resolve(b, n, &a, err, sizeof(err)), SL_REPLY_ERROR);
}

struct malformed {
	const char *name;
	unsigned char b[24];
	size_t n;
	const char *err;
};

Test(resolve, malformed)
{
	static const struct malformed cases[] = {
		{"not an array", {0x01}, 1, "malformed reply: not a frame [channel, type, [args]]"},
		{"two elements",
		 {0x92, 0x01, 0x00},
		 3,
		 "malformed reply: not a frame [channel, type, [args]]"},
		{"args not array",
		 {0x93, 0x01, 0x00, 0x01},
		 4,
		 "malformed reply: not a frame [channel, type, [args]]"},
		{"unknown type",
		 {0x93, 0x01, 0x05, 0x90},
		 4,
		 "malformed reply: unexpected message type"},
		{"empty value",
		 {0x93, 0x01, 0x00, 0x90},
		 4,
		 "malformed reply: resolve value is not [[[host, port]...], version, graph]"},
		{"no endpoints",
		 {0x93, 0x01, 0x00, 0x93, 0x90, 0x01, 0x80},
		 7,
		 "malformed reply: no endpoints"},
		{"port zero",
		 {0x93, 0x01, 0x00, 0x93, 0x91, 0x92, 0xa1, 'x', 0x00, 0x01, 0x80},
		 11,
		 "malformed reply: bad endpoint [host, port]"},
		{"only a name",
		 {0x93, 0x01, 0x00, 0x93, 0x91, 0x92, 0xa1, 'x', 0x01, 0x01, 0x80},
		 11,
		 "malformed reply: no IPv4 endpoint"},
		{"bad error",
		 {0x93, 0x01, 0x01, 0x91, 0x01},
		 5,
		 "malformed reply: bad error [[category, code], message]"},
		{"bad msgpack", {0xc1}, 1, "malformed reply: Bad message"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sl_snap_app a = {0};
		char err[ERRLEN] = "";

		cr_expect_eq(sl_nodes_parse_resolve(cases[i].b, cases[i].n, &a, err, sizeof(err)),
			     -EBADMSG, "%s", cases[i].name);
		cr_expect_str_eq(err, cases[i].err, "%s: %s", cases[i].name, err);
		cr_expect_neq(a.state, SL_APP_PRESENT, "%s", cases[i].name);
	}
}

Test(resolve, oversized)
{
	/* a raw32 of 2 MiB announced, 1 MiB + 1 bytes received: refused, not waited for */
	size_t n = SL_NODES_REPLY_MAX + 1;
	unsigned char *b = calloc(1, n);
	struct sl_snap_app a = {0};

	cr_assert_not_null(b);
	memcpy(b, "\x93\x01\x00\x91\xdb\x00\x20\x00\x00", 9);
	cr_expect_eq(sl_nodes_parse_resolve(b, n, &a, NULL, 0), -EMSGSIZE);
	cr_expect_eq(sl_nodes_parse_resolve(b, SL_NODES_REPLY_MAX, &a, NULL, 0), -EAGAIN);
	free(b);
}

static void
pack_info(msgpack_sbuffer *sb, bool timings)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint64(&pk, 1);
	msgpack_pack_uint64(&pk, 0);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, timings ? 5 : 4);
	pk_str(&pk, "state");
	pk_str(&pk, "running");
	pk_str(&pk, "requests");
	msgpack_pack_map(&pk, 2);
	pk_str(&pk, "accepted");
	msgpack_pack_uint64(&pk, 120);
	pk_str(&pk, "rejected");
	msgpack_pack_uint64(&pk, 3);
	pk_str(&pk, "queue");
	msgpack_pack_map(&pk, 3);
	pk_str(&pk, "capacity");
	msgpack_pack_uint64(&pk, 100);
	pk_str(&pk, "depth");
	msgpack_pack_uint64(&pk, 7);
	pk_str(&pk, "depth_average");
	msgpack_pack_double(&pk, 1.5);
	pk_str(&pk, "pool");
	msgpack_pack_map(&pk, 2);
	pk_str(&pk, "active");
	msgpack_pack_uint64(&pk, 2);
	pk_str(&pk, "capacity");
	msgpack_pack_uint64(&pk, 4);
	if (timings) {
		pk_str(&pk, "timings");
		msgpack_pack_map(&pk, 2);
		pk_str(&pk, "50.00%");
		msgpack_pack_uint64(&pk, 3);
		pk_str(&pk, "99.95%");
		msgpack_pack_double(&pk, 12.5);
	}
	msgpack_pack_array(&pk, 0);
}

Test(info, figures)
{
	msgpack_sbuffer sb;
	struct sl_snap_info in;
	char err[ERRLEN] = "";

	pack_info(&sb, true);
	cr_assert_eq(sl_nodes_parse_info(sb.data, sb.size, &in, err, sizeof(err)), SL_REPLY_VALUE,
		     "%s", err);
	cr_expect(in.valid);
	cr_expect_eq(in.accepted, 120);
	cr_expect_eq(in.rejected, 3);
	cr_expect_eq(in.queue_depth, 7);
	cr_expect_eq(in.queue_capacity, 100);
	cr_expect_eq(in.pool_active, 2);
	cr_expect_eq(in.pool_capacity, 4);
	cr_expect_float_eq(in.timings_ms[0], 3.0, 1e-9);
	cr_expect_float_eq(in.timings_ms[1], -1.0, 1e-9, "75%% not reported");
	cr_expect_float_eq(in.timings_ms[6], 12.5, 1e-9);
	for (size_t n = 0; n < sb.size; n++)
		cr_expect_eq(sl_nodes_parse_info(sb.data, n, &in, NULL, 0), -EAGAIN);
	msgpack_sbuffer_destroy(&sb);

	pack_info(&sb, false);
	cr_assert_eq(sl_nodes_parse_info(sb.data, sb.size, &in, err, sizeof(err)), SL_REPLY_VALUE);
	for (int i = 0; i < SL_SNAP_QUANTILES; i++)
		cr_expect_float_eq(in.timings_ms[i], -1.0, 1e-9);
	msgpack_sbuffer_destroy(&sb);
}

Test(info, malformed_and_error)
{
	static const unsigned char not_map[] = {0x93, 0x01, 0x00, 0x91, 0x90};
	static const unsigned char two[] = {0x93, 0x01, 0x00, 0x92, 0x80, 0x80};
	struct sl_snap_info in;
	unsigned char b[32];
	char err[ERRLEN] = "";

	cr_expect_eq(sl_nodes_parse_info(not_map, sizeof(not_map), &in, err, sizeof(err)),
		     -EBADMSG);
	cr_expect_str_eq(err, "malformed reply: info value is not [{...}]");
	cr_expect_eq(sl_nodes_parse_info(two, sizeof(two), &in, err, sizeof(err)), -EBADMSG);
	cr_expect_eq(sl_nodes_parse_info(b, error_frame(b, 0x2A, 0x64), &in, err, sizeof(err)),
		     SL_REPLY_ERROR);
	cr_expect_str_eq(err, "error [42, 100]: bad");
}

/*
 * The state machine over loopback sockets: a locator that never answers (timeout), a port
 * with nothing listening (refused), and a small server thread that answers resolve with its
 * own address and info with figures.
 */

struct fake {
	int lfd;
	uint16_t port;
	pthread_t thr;
};

static int
listen_local(uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t l = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 16), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &l), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void *
fake_serve(void *arg)
{
	struct fake *f = arg;

	for (;;) {
		unsigned char req[256];
		msgpack_sbuffer sb;
		msgpack_packer pk;
		ssize_t n;
		int c = accept(f->lfd, NULL, NULL);

		if (c < 0)
			return NULL;
		n = read(c, req, sizeof(req));
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		if (n >= 3 && req[2] == 0x00) { /* resolve: [1, 0, [name], []] */
			msgpack_pack_array(&pk, 3);
			msgpack_pack_uint64(&pk, 1);
			msgpack_pack_uint64(&pk, 0);
			msgpack_pack_array(&pk, 3);
			msgpack_pack_array(&pk, 1);
			msgpack_pack_array(&pk, 2);
			pk_str(&pk, "127.0.0.1");
			msgpack_pack_uint16(&pk, f->port);
			msgpack_pack_uint64(&pk, 1);
			msgpack_pack_map(&pk, 0);
		} else { /* info */
			msgpack_pack_array(&pk, 3);
			msgpack_pack_uint64(&pk, 1);
			msgpack_pack_uint64(&pk, 0);
			msgpack_pack_array(&pk, 1);
			msgpack_pack_map(&pk, 1);
			pk_str(&pk, "queue");
			msgpack_pack_map(&pk, 2);
			pk_str(&pk, "depth");
			msgpack_pack_uint64(&pk, 5);
			pk_str(&pk, "capacity");
			msgpack_pack_uint64(&pk, 10);
		}
		/* in two pieces, then close: the reader must reassemble */
		if (n > 0 && (send(c, sb.data, 3, MSG_NOSIGNAL) != 3 ||
			      send(c, sb.data + 3, sb.size - 3, MSG_NOSIGNAL) < 0))
			cr_log_warn("fake: short write");
		close(c);
		msgpack_sbuffer_destroy(&sb);
	}
}

static bool
drive(struct sl_nodes *n, bool (*done)(const struct sl_cluster_snap *), int limit_ms)
{
	struct timespec ts;
	uint64_t t0, now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (;;) {
		struct pollfd p = {.fd = sl_nodes_fd(n), .events = POLLIN};

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
		sl_nodes_run(n, now);
		if (done(sl_nodes_snapshot(n)))
			return true;
		if (now - t0 > (uint64_t)limit_ms)
			return false;
		int to = sl_nodes_timeout_ms(n, now);

		poll(&p, 1, to < 0 || to > 20 ? 20 : to);
	}
}

static bool
all_settled(const struct sl_cluster_snap *s)
{
	return s->nodes[0].state == SL_NODE_DOWN && s->nodes[1].state == SL_NODE_DOWN &&
	       s->nodes[2].state == SL_NODE_UP && s->nodes[2].apps[0].info.valid;
}

Test(nodes, loopback_states)
{
	static struct sl_config cfg;
	struct fake f;
	uint16_t silent_port, refused_port;
	int silent = listen_local(&silent_port), gone = listen_local(&refused_port);
	struct sl_nodes *n;
	const struct sl_cluster_snap *s;

	close(gone);
	f.lfd = listen_local(&f.port);
	cr_assert_eq(pthread_create(&f.thr, NULL, fake_serve, &f), 0);
	cfg.n_nodes = 3;
	cfg.nodes[0] = (struct sl_cfg_node){{INADDR_LOOPBACK}, silent_port};
	cfg.nodes[1] = (struct sl_cfg_node){{INADDR_LOOPBACK}, refused_port};
	cfg.nodes[2] = (struct sl_cfg_node){{INADDR_LOOPBACK}, f.port};
	cfg.n_apps = 1;
	strcpy(cfg.apps[0].name, "echo");
	cfg.discovery.resolve_interval_ms = 100;
	cfg.discovery.info_interval_ms = 50;
	cfg.discovery.timeout_ms = 100;
	cfg.discovery.down_after = 2;
	n = sl_nodes_create(&cfg, 1);
	cr_assert_not_null(n);
	cr_assert(drive(n, all_settled, 3000), "states did not settle");
	s = sl_nodes_snapshot(n);
	cr_expect_str_eq(s->nodes[0].last_error, "reply timed out after 100 ms");
	cr_expect_str_eq(s->nodes[1].last_error, "connect: connection refused");
	cr_expect_str_eq(s->nodes[2].last_error, "");
	cr_expect_eq(s->nodes[2].apps[0].state, SL_APP_PRESENT);
	cr_expect_eq(s->nodes[2].apps[0].endpoints[0].port, f.port);
	cr_expect_eq(s->nodes[2].apps[0].info.queue_depth, 5);
	cr_expect_eq(s->nodes[2].apps[0].info.queue_capacity, 10);
	cr_expect_gt(s->generation, 1);
	cr_expect_eq(s->nodes[0].ok_seq, 0);
	cr_expect_eq(s->nodes[1].ok_seq, 0);
	cr_expect_geq(s->nodes[2].ok_seq, 1);
	{
		static struct sl_cluster cl;

		sl_nodes_view(n, &cfg, &cl);
		cr_expect_eq(cl.generation, s->generation);
		cr_expect_eq(cl.n_nodes, 3);
		cr_expect_not(cl.nodes[0].up);
		cr_expect_not(cl.nodes[1].up);
		cr_expect(cl.nodes[2].up);
		cr_expect_eq(cl.nodes[2].ok_seq, s->nodes[2].ok_seq);
		cr_assert_eq(cl.n_apps, 1);
		cr_assert_eq(cl.apps[0].n_eps, 1);
		cr_expect_eq(cl.apps[0].eps[0].node, 2);
		cr_expect_eq(cl.apps[0].eps[0].addr.v, INADDR_LOOPBACK);
		cr_expect_eq(cl.apps[0].eps[0].port, f.port);
	}
	sl_nodes_free(n);
	close(silent);
	shutdown(f.lfd, SHUT_RDWR);
	close(f.lfd);
	pthread_join(f.thr, NULL);
}

/* The view from a hand-made snapshot: every field, exactly. */
Test(view, from_snapshot)
{
	static struct sl_config cfg;
	static struct sl_cluster_snap snap;
	static struct sl_cluster cl;

	cfg.n_nodes = 3;
	cfg.n_apps = 2;
	strcpy(cfg.apps[0].name, "echo");
	cfg.apps[0].deadline_ms = 5000;
	cfg.apps[0].retries = 1;
	strcpy(cfg.apps[1].name, "app@2");
	cfg.apps[1].deadline_ms = 30000;
	cfg.apps[1].retries = 2;
	cfg.n_routes = 2;
	strcpy(cfg.routes[0].host, "api.example.com");
	strcpy(cfg.routes[0].prefix, "/v1/");
	cfg.routes[0].app = 1;
	strcpy(cfg.routes[0].event, "handle");
	strcpy(cfg.routes[1].prefix, "/");
	cfg.routes[1].app = 0;
	strcpy(cfg.routes[1].event, "http");
	cfg.dispatch.node_header = true;

	snap.generation = 42;
	snap.n_nodes = 3;
	snap.n_apps = 2;
	for (unsigned int i = 0; i < 3; i++) {
		snap.nodes[i].id = i;
		snap.nodes[i].locator.v = 0xc612000b + i; /* 198.18.0.11.. */
		snap.nodes[i].locator_port = 10053;
		snap.nodes[i].ok_seq = 10 * i;
	}
	snap.nodes[0].state = SL_NODE_UP;
	snap.nodes[1].state = SL_NODE_DOWN;
	snap.nodes[2].state = SL_NODE_UNKNOWN;
	/* echo: present on 0 (two endpoints) and on 1 (down), absent on 2 */
	snap.nodes[0].apps[0] =
		(struct sl_snap_app){.state = SL_APP_PRESENT,
				     .n_endpoints = 2,
				     .endpoints = {{{0xc612000b}, 40001}, {{0xc612000b}, 40002}}};
	snap.nodes[1].apps[0] = (struct sl_snap_app){
		.state = SL_APP_PRESENT, .n_endpoints = 1, .endpoints = {{{0xc612000c}, 40003}}};
	snap.nodes[2].apps[0].state = SL_APP_ABSENT;
	/* app@2: only on node 2, not resolved yet elsewhere */
	snap.nodes[2].apps[1] = (struct sl_snap_app){
		.state = SL_APP_PRESENT, .n_endpoints = 1, .endpoints = {{{0x0a000001}, 1}}};

	memset(&cl, 0xa5, sizeof(cl));
	sl_nodes_view_from(&snap, &cfg, &cl);
	cr_expect_eq(cl.generation, 42);
	cr_expect(cl.node_header);
	cr_assert_eq(cl.n_nodes, 3);
	cr_expect_eq(cl.nodes[0].locator.v, 0xc612000b);
	cr_expect_eq(cl.nodes[0].locator_port, 10053);
	cr_expect(cl.nodes[0].up);
	cr_expect_not(cl.nodes[1].up);
	cr_expect_not(cl.nodes[2].up);
	cr_expect_eq(cl.nodes[0].ok_seq, 0);
	cr_expect_eq(cl.nodes[2].ok_seq, 20);
	cr_expect_str_eq(cl.nodes[0].name, "198.18.0.11:10053");
	cr_expect_str_eq(cl.nodes[1].name, "198.18.0.12:10053");
	cr_expect_str_eq(cl.nodes[2].name, "198.18.0.13:10053");

	cr_assert_eq(cl.n_apps, 2);
	cr_expect_str_eq(cl.apps[0].name, "echo");
	cr_expect_eq(cl.apps[0].name_len, 4);
	cr_expect_eq(cl.apps[0].deadline_ms, 5000);
	cr_expect_eq(cl.apps[0].retries, 1);
	cr_assert_eq(cl.apps[0].n_eps, 2);
	cr_expect_eq(cl.apps[0].eps[0].node, 0);
	cr_expect_eq(cl.apps[0].eps[0].addr.v, 0xc612000b);
	cr_expect_eq(cl.apps[0].eps[0].port, 40001, "the first endpoint");
	cr_expect_eq(cl.apps[0].eps[1].node, 1, "a node that is down keeps its endpoint");
	cr_expect_eq(cl.apps[0].eps[1].addr.v, 0xc612000c);
	cr_expect_eq(cl.apps[0].eps[1].port, 40003);
	cr_expect_str_eq(cl.apps[1].name, "app@2");
	cr_expect_eq(cl.apps[1].name_len, 5);
	cr_expect_eq(cl.apps[1].deadline_ms, 30000);
	cr_expect_eq(cl.apps[1].retries, 2);
	cr_assert_eq(cl.apps[1].n_eps, 1);
	cr_expect_eq(cl.apps[1].eps[0].node, 2);
	cr_expect_eq(cl.apps[1].eps[0].addr.v, 0x0a000001);
	cr_expect_eq(cl.apps[1].eps[0].port, 1);

	cr_assert_eq(cl.n_routes, 2);
	cr_expect_str_eq(cl.routes[0].host, "api.example.com");
	cr_expect_eq(cl.routes[0].host_len, 15);
	cr_expect_str_eq(cl.routes[0].prefix, "/v1/");
	cr_expect_eq(cl.routes[0].prefix_len, 4);
	cr_expect_eq(cl.routes[0].app, 1);
	cr_expect_str_eq(cl.routes[0].event, "handle");
	cr_expect_eq(cl.routes[0].event_len, 6);
	cr_expect_str_eq(cl.routes[1].host, "");
	cr_expect_eq(cl.routes[1].host_len, 0);
	cr_expect_str_eq(cl.routes[1].prefix, "/");
	cr_expect_eq(cl.routes[1].prefix_len, 1);
	cr_expect_eq(cl.routes[1].app, 0);
	cr_expect_str_eq(cl.routes[1].event, "http");
	cr_expect_eq(cl.routes[1].event_len, 4);
	/* nothing beyond the counts: zeroed */
	cr_expect_eq(cl.nodes[3].locator.v, 0);
	cr_expect_eq(cl.apps[2].n_eps, 0);
	cr_expect_eq(cl.routes[2].prefix[0], '\0');
}
