/*
 * Control socket commands of sluiced. Handlers run on the control thread; they read the
 * workers' counters (relaxed loads of per-lcore copies, summed here) and talk to workers only
 * through messages.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "ctl-dispatch.h"
#include "nfront.h"
#include "sl_log.h"
#include "sl_addr.h"
#include "sluiced.h"

static json_t *
ip4_json(struct sl_ip4 a)
{
	char s[SL_IP4_STRLEN];

	sl_ip4_str(a, s);
	return json_string(s);
}

static int
parse_ip4(const char *s, struct sl_ip4 *out)
{
	struct in_addr in;

	/* inet_pton with AF_INET takes only the four-part dotted decimal form. */
	if (inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	out->v = ntohl(in.s_addr);
	return 0;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

uint64_t
app_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
cmd_help(void *a, struct sl_ctl_req *req, int argc, char **argv)
{
	struct app *app = a;
	json_t *cmds = json_array();
	const struct sl_ctl_cmd *t;
	unsigned int n;

	(void)argc;
	(void)argv;
	t = sl_ctl_cmds(app->ctl, &n);
	for (unsigned int i = 0; i < n; i++)
		json_array_append_new(
			cmds, json_pack("{s:s,s:s}", "usage", t[i].usage, "help", t[i].help));
	sl_ctl_reply_ok(req, json_pack("{s:o}", "commands", cmds));
	return 0;
}

static json_t *
port_json(const struct app *app, unsigned int p)
{
	const struct sl_port *port = &app->ports[p];
	const struct sl_cfg_port *cp = &app->cfg.ports[p];
	struct rte_eth_link link;
	char mac[18], addr[24];
	json_t *j;

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", port->mac.b[0], port->mac.b[1],
		 port->mac.b[2], port->mac.b[3], port->mac.b[4], port->mac.b[5]);
	snprintf(addr, sizeof(addr), "%u.%u.%u.%u/%u", cp->addr.v >> 24, (cp->addr.v >> 16) & 0xff,
		 (cp->addr.v >> 8) & 0xff, cp->addr.v & 0xff, cp->prefix_len);
	memset(&link, 0, sizeof(link));
	rte_eth_link_get_nowait(port->port_id, &link);
	j = json_pack("{s:s,s:i,s:s,s:s,s:s,s:s,s:i,s:i,s:b,s:b}", "name", port->name, "port_id",
		      port->port_id, "driver", port->driver, "vdev", cp->vdev, "mac", mac,
		      "address", addr, "mtu", port->mtu, "queues", port->n_queues, "scatter",
		      port->scatter, "link_up", link.link_status == RTE_ETH_LINK_UP);
	json_object_set_new(j, "gateway", cp->has_gateway ? ip4_json(cp->gateway) : json_null());
	return j;
}

/* `state` (running, draining, stopping); while a graceful stop drains, what it waits for. */
static void
stop_state_json(const struct app *app, json_t *obj)
{
	struct app_drain_left left;
	uint64_t now = app_now_ms();

	json_object_set_new(obj, "state", json_string(app_run_state(app)));
	if (!app->stopping)
		return;
	app_drain_left(app, &left);
	json_object_set_new(
		obj, "drain",
		json_pack(
			"{s:I,s:I,s:I,s:I,s:I}", "elapsed_ms", (json_int_t)(now - app->stop_t0_ms),
			"timeout_in_ms",
			(json_int_t)(app->stop_deadline_ms > now ? app->stop_deadline_ms - now : 0),
			"inflight", (json_int_t)left.inflight, "http_conns",
			(json_int_t)left.http_conns, "tcp_closing", (json_int_t)left.tcp_closing));
}

static int
cmd_show_info(void *a, struct sl_ctl_req *req, int argc, char **argv)
{
	struct app *app = a;
	json_t *lcores = json_array(), *ports = json_array(), *info;
	struct timespec now;
	unsigned int lcore;

	(void)argv;
	if (argc != 0) {
		sl_ctl_reply_err(req, "show info: takes no arguments");
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	json_array_append_new(lcores, json_pack("{s:i,s:s,s:n}", "lcore", rte_get_main_lcore(),
						"role", "control", "worker"));
	for (unsigned int w = 0; w < app->dp->n_workers; w++) {
		lcore = app->dp->workers[w]->lcore_id;
		json_array_append_new(lcores, json_pack("{s:i,s:s,s:i}", "lcore", lcore, "role",
							"worker", "worker", w));
	}
	for (unsigned int p = 0; p < app->n_ports; p++)
		json_array_append_new(ports, port_json(app, p));
	info = json_pack("{s:s,s:i,s:I,s:I,s:i,s:o,s:o,s:s}", "version", SL_VERSION, "pid",
			 (int)getpid(), "uptime_s", (json_int_t)(now.tv_sec - app->started.tv_sec),
			 "tsc_hz", (json_int_t)app->dp->tsc_hz, "workers", app->dp->n_workers,
			 "lcores", lcores, "ports", ports, "control_socket",
			 app->cfg.control.socket);
	stop_state_json(app, info);
	sl_ctl_reply_ok(req, info);
	return 0;
}

/* Set `n` counters on `obj`, named prefix + names[i]: one table drives every stats section. */
static void
counters_json(json_t *obj, const char *prefix, const char *const *names, const void *vals, size_t n)
{
	const uint64_t *v = vals;
	char key[64];

	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s%s", prefix, names[i]);
		json_object_set_new(obj, key, json_integer((json_int_t)v[i]));
	}
}

/* Connections by TCP state, from SYN_RCVD on (listeners are not connections). */
static json_t *
tcp_states_json(const uint64_t *by_state)
{
	json_t *j = json_object();

	for (unsigned int s = SL_TCP_SYN_RCVD; s < SL_TCP_NSTATES; s++)
		json_object_set_new(j, sl_tcp_state_names[s],
				    json_integer((json_int_t)by_state[s]));
	return j;
}

static json_t *
lcore_stats_json(const struct app *app, unsigned int w, struct sl_lcore_stats *tot)
{
	struct sl_lcore_stats st;
	const uint64_t *v;
	uint64_t *t = (uint64_t *)tot;
	json_t *j;
	uint64_t all;

	sl_dp_lcore_stats(app->dp, w, &st);
	v = (const uint64_t *)&st;
	j = json_pack("{s:i,s:i}", "worker", w, "lcore", app->dp->workers[w]->lcore_id);
	counters_json(j, "", sl_lcore_stats_names, &st, SL_LCORE_STATS_COUNT);
	for (size_t i = 0; i < SL_LCORE_STATS_COUNT; i++)
		t[i] += v[i];
	all = st.busy_cycles + st.idle_cycles;
	json_object_set_new(j, "busy_pct",
			    json_real(all ? 100.0 * (double)st.busy_cycles / (double)all : 0.0));
	/* the view this worker saw last (a published generation reaches every worker) */
	json_object_set_new(j, "cluster_generation",
			    json_integer((json_int_t)sl_dp_cluster_gen(app->dp, w)));
	return j;
}

/* One worker's TCP counters, connections by state (current and peak), connection slots;
 * added into `tot`. */
static json_t *
tcp_stats_json(const struct app *app, unsigned int w, struct sl_tcp_stats *tot)
{
	struct sl_tcp_stats st;
	const uint64_t *v;
	uint64_t *t = (uint64_t *)tot;
	json_t *j;
	unsigned int free_n, total;

	sl_dp_tcp_stats(app->dp, w, &st);
	v = (const uint64_t *)&st;
	j = json_pack("{s:i}", "worker", w);
	counters_json(j, "", sl_tcp_stats_names, &st, SL_TCP_STATS_COUNT);
	for (size_t i = 0; i < sizeof(st) / sizeof(uint64_t); i++)
		t[i] += v[i];
	sl_dp_conn_pool(app->dp, w, &free_n, &total);
	json_object_set_new(j, "conn_slots_free", json_integer(free_n));
	json_object_set_new(j, "conn_slots", json_integer(total));
	json_object_set_new(j, "bytes_per_conn", json_integer(sl_dp_conn_bytes(app->dp, w)));
	json_object_set_new(j, "conns", tcp_states_json(st.conns));
	json_object_set_new(j, "conns_peak", tcp_states_json(st.conns_peak));
	return j;
}

/* Per-worker HTTP counters, and their sum in *tot (with the drain state). */
static json_t *
http_stats_json(const struct app *app, json_t **tot)
{
	struct sl_http_stats hs, htot;
	json_t *http = json_array();

	memset(&htot, 0, sizeof(htot));
	for (unsigned int w = 0; w < app->dp->n_workers; w++) {
		json_t *j = json_pack("{s:i}", "worker", w);

		sl_dp_http_stats(app->dp, w, &hs);
		counters_json(j, "", sl_http_stats_names, &hs, SL_HTTP_STATS_COUNT);
		for (size_t i = 0; i < SL_HTTP_STATS_COUNT; i++)
			((uint64_t *)&htot)[i] += ((const uint64_t *)&hs)[i];
		json_array_append_new(http, j);
	}
	*tot = json_object();
	counters_json(*tot, "", sl_http_stats_names, &htot, SL_HTTP_STATS_COUNT);
	json_object_set_new(*tot, "draining", json_boolean(app->draining));
	return http;
}

/* The native front's counters (nfront.h), summed over workers. */
static json_t *
native_stats_json(const struct app *app)
{
	struct sl_nf_stats tot;
	json_t *j = json_object();

	memset(&tot, 0, sizeof(tot));
	for (unsigned int w = 0; w < app->dp->n_workers; w++)
		sl_dp_nf_stats(app->dp, w, (uint64_t *)&tot, SL_NF_STATS_COUNT);
	counters_json(j, "", sl_nf_stats_names, &tot, SL_NF_STATS_COUNT);
	return j;
}

/*
 * Dispatch counters (backend-t.h): summed over workers, with the workers that marked each
 * node down on their own.
 */
struct be_read {
	struct sl_be_stats tot, one;
	uint64_t down_workers[SL_CL_MAX_NODES]; /* bit w: worker w has the node marked down */
};

static struct be_read *
be_read(const struct app *app)
{
	struct be_read *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	for (unsigned int w = 0; w < app->dp->n_workers; w++) {
		memset(&b->one, 0, sizeof(b->one));
		sl_dp_be_stats(app->dp, w, &b->one);
		for (unsigned int i = 0; i < SL_CL_MAX_NODES; i++)
			if (b->one.node_state[i].down)
				b->down_workers[i] |= UINT64_C(1) << w;
		sl_be_stats_add(&b->tot, &b->one);
	}
	return b;
}

/* The counters of one app or node, and p50/p90/p99 as bucket bounds: "pNN_us_le": latency
 * <= that many us; null without samples, -1 above the last bound (2^24 us). */
static void
be_counters_json(json_t *j, const struct sl_be_counters *c)
{
	static const struct {
		const char *key;
		double q;
	} qs[] = {{"p50_us_le", 0.50}, {"p90_us_le", 0.90}, {"p99_us_le", 0.99}};

	counters_json(j, "", sl_be_counter_names, c, SL_BE_N_COUNTERS);
	for (size_t i = 0; i < SL_ARRAY_SIZE(qs); i++) {
		uint64_t le;
		json_t *v;

		if (sl_lat_quantile(c->lat, qs[i].q, &le) < 0)
			v = json_null();
		else
			v = json_integer(le == UINT64_MAX ? -1 : (json_int_t)le);
		json_object_set_new(j, qs[i].key, v);
	}
}

static void
be_node_json(json_t *j, const struct be_read *b, const struct app *app, unsigned int i)
{
	const struct sl_be_node_state *ns = &b->tot.node_state[i];
	json_t *down = json_array();

	be_counters_json(j, &b->tot.nodes[i]);
	json_object_set_new(j, "conns", json_integer(ns->conns));
	json_object_set_new(j, "inflight", json_integer(ns->inflight));
	json_object_set_new(j, "conns_opened", json_integer((json_int_t)ns->conns_opened));
	json_object_set_new(j, "conn_failures", json_integer((json_int_t)ns->conn_failures));
	json_object_set_new(j, "passive_down", json_integer((json_int_t)ns->passive_down));
	for (unsigned int w = 0; w < app->dp->n_workers; w++)
		if (b->down_workers[i] >> w & 1)
			json_array_append_new(down, json_integer(w));
	json_object_set_new(j, "down_on_workers", down);
}

/* show stats: totals over apps, the published view, the access log. */
static json_t *
dispatch_stats_json(const struct app *app)
{
	struct be_read *b = be_read(app);
	struct sl_be_counters sum;
	json_t *j;

	if (b == NULL)
		return json_null();
	memset(&sum, 0, sizeof(sum));
	for (unsigned int k = 0; k < SL_CL_MAX_APPS; k++)
		for (size_t i = 0; i < sizeof(sum) / sizeof(uint64_t); i++)
			((uint64_t *)&sum)[i] += ((const uint64_t *)&b->tot.apps[k])[i];
	j = json_pack("{s:I,s:I}", "view_generation", (json_int_t)app->view_gen, "views_published",
		      (json_int_t)app->views_published);
	be_counters_json(j, &sum);
	json_object_set_new(j, "inflight", json_integer((json_int_t)b->tot.inflight));
	json_object_set_new(j, "protocol_errors", json_integer((json_int_t)b->tot.protocol_errors));
	json_object_set_new(j, "alog_dropped", json_integer((json_int_t)b->tot.alog_dropped));
	json_object_set_new(j, "alog_lines", json_integer((json_int_t)app->alog_lines));
	json_object_set_new(j, "alog_errors", json_integer((json_int_t)app->alog_errors));
	json_object_set_new(j, "access_log", json_string(app->cfg.dispatch.access_log));
	free(b);
	return j;
}

static int
cmd_show_stats(void *a, struct sl_ctl_req *req, int argc, char **argv)
{
	struct app *app = a;
	json_t *lcores = json_array(), *ports = json_array(), *tcp = json_array(), *tot_j,
	       *tcp_tot_j, *http, *http_tot_j = NULL;
	struct sl_lcore_stats tot;
	struct sl_tcp_stats tcp_tot;
	struct sl_ctl_stats cs;

	(void)argv;
	if (argc != 0) {
		sl_ctl_reply_err(req, "show stats: takes no arguments");
		return 0;
	}
	memset(&tot, 0, sizeof(tot));
	memset(&tcp_tot, 0, sizeof(tcp_tot));
	for (unsigned int w = 0; w < app->dp->n_workers; w++) {
		json_array_append_new(lcores, lcore_stats_json(app, w, &tot));
		json_array_append_new(tcp, tcp_stats_json(app, w, &tcp_tot));
	}
	for (unsigned int p = 0; p < app->n_ports; p++) {
		struct sl_net_stats ns;
		struct rte_eth_stats es;
		json_t *j;

		memset(&ns, 0, sizeof(ns));
		for (unsigned int w = 0; w < app->dp->n_workers; w++)
			sl_dp_net_stats_add(app->dp, w, p, &ns);
		memset(&es, 0, sizeof(es));
		rte_eth_stats_get(app->ports[p].port_id, &es);
		j = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "name", app->ports[p].name,
			      "ipackets", (json_int_t)es.ipackets, "opackets",
			      (json_int_t)es.opackets, "ibytes", (json_int_t)es.ibytes, "obytes",
			      (json_int_t)es.obytes, "imissed", (json_int_t)es.imissed, "ierrors",
			      (json_int_t)es.ierrors, "oerrors", (json_int_t)es.oerrors,
			      "rx_nombuf", (json_int_t)es.rx_nombuf);
		{
			struct sl_impair_stats irx, itx;

			memset(&irx, 0, sizeof(irx));
			memset(&itx, 0, sizeof(itx));
			for (unsigned int w = 0; w < app->dp->n_workers; w++)
				sl_dp_impair_stats_add(app->dp, w, p, &irx, &itx);
			counters_json(j, "impair_rx_", sl_impair_stats_names, &irx,
				      SL_IMPAIR_STATS_COUNT);
			counters_json(j, "impair_tx_", sl_impair_stats_names, &itx,
				      SL_IMPAIR_STATS_COUNT);
		}
		json_object_set_new(j, "mbufs_free",
				    json_integer(rte_mempool_avail_count(app->ports[p].pool)));
		json_object_set_new(j, "mbufs", json_integer(app->ports[p].pool->size));
		counters_json(j, "", sl_net_stats_names, &ns, SL_NET_STATS_COUNT);
		json_array_append_new(ports, j);
	}
	tot_j = json_object();
	counters_json(tot_j, "", sl_lcore_stats_names, &tot, SL_LCORE_STATS_COUNT);
	tcp_tot_j = json_object();
	counters_json(tcp_tot_j, "", sl_tcp_stats_names, &tcp_tot, SL_TCP_STATS_COUNT);
	{
		uint64_t open = 0;

		for (unsigned int s = SL_TCP_SYN_RCVD; s < SL_TCP_NSTATES; s++)
			open += tcp_tot.conns[s];
		json_object_set_new(tcp_tot_j, "conns", tcp_states_json(tcp_tot.conns));
		json_object_set_new(tcp_tot_j, "conns_open", json_integer((json_int_t)open));
		/* Peaks are per worker; their sum bounds the true peak from above. */
		json_object_set_new(
			tcp_tot_j, "established_peak_sum",
			json_integer((json_int_t)tcp_tot.conns_peak[SL_TCP_ESTABLISHED]));
	}
	json_object_set_new(tcp_tot_j, "bytes_per_conn",
			    json_integer(sl_dp_conn_bytes(app->dp, 0)));
	json_object_set_new(tcp_tot_j, "heap_allocated_bytes",
			    json_integer((json_int_t)sl_dp_heap_allocated()));
	http = http_stats_json(app, &http_tot_j);
	sl_ctl_get_stats(app->ctl, &cs);
	{
		json_t *st = json_pack(
			"{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:{s:I,s:I,s:I,s:I},s:o}", "lcores", lcores,
			"workers_total", tot_j, "tcp", tcp, "tcp_total", tcp_tot_j, "http", http,
			"http_total", http_tot_j, "ports", ports, "control", "accepted",
			(json_int_t)cs.accepted, "commands", (json_int_t)cs.commands, "errors",
			(json_int_t)cs.errors, "clients", (json_int_t)cs.clients, "dispatch",
			dispatch_stats_json(app));

		json_object_set_new(st, "native_total", native_stats_json(app));
		stop_state_json(app, st);
		sl_ctl_reply_ok(req, st);
	}
	return 0;
}

static int
cmd_drain(void *a, struct sl_ctl_req *req, int argc, char **argv)
{
	struct app *app = a;
	bool on;
	int ret;

	if (argc != 1 || (strcmp(argv[0], "on") != 0 && strcmp(argv[0], "off") != 0)) {
		sl_ctl_reply_err(req, "drain: takes one argument, on or off");
		return 0;
	}
	on = strcmp(argv[0], "on") == 0;
	if (app->stopping) {
		sl_ctl_reply_err(req, "drain: sluiced is stopping (SIGTERM): the drain stays on");
		return 0;
	}
	ret = sl_dp_drain(app->dp, on);
	if (ret != 0) {
		sl_ctl_reply_err(req, "drain: could not reach every worker: %s", strerror(-ret));
		return 0;
	}
	app->draining = on;
	SL_LOG(NOTICE, "main", "draining %s", on ? "started" : "stopped");
	sl_ctl_reply_ok(req, json_pack("{s:b}", "draining", on));
	return 0;
}

static int
cmd_shutdown(void *a, struct sl_ctl_req *req, int argc, char **argv)
{
	struct app *app = a;

	(void)argv;
	if (argc != 0) {
		sl_ctl_reply_err(req, "shutdown: takes no arguments");
		return 0;
	}
	SL_LOG(NOTICE, "main", "shutdown requested on the control socket");
	app->stop = 1;
	sl_ctl_reply_ok(req, json_pack("{s:s}", "state", "stopping"));
	return 0;
}

/* ---- ping ---- */

static struct app_ping *
ping_by_seq(struct app *app, uint16_t seq)
{
	for (unsigned int i = 0; i < SLUICED_MAX_PINGS; i++) {
		struct app_ping *p = &app->pings[i];

		if (p->req != NULL && (uint16_t)(seq - p->seq0) < p->sent)
			return p;
	}
	return NULL;
}

static void
ping_finish(struct app *app, struct app_ping *p)
{
	json_t *data;
	char dst[SL_IP4_STRLEN];

	(void)app;
	sl_ip4_str(p->dst, dst);
	if (p->received == 0) {
		if (p->last_error != 0)
			sl_ctl_reply_err(p->req, "ping %s from worker %u: %s", dst, p->worker,
					 strerror(-p->last_error));
		else
			sl_ctl_reply_err(p->req, "ping %s from worker %u: no reply (%u sent)", dst,
					 p->worker, p->sent);
		json_decref(p->replies);
	} else {
		data = json_pack("{s:s,s:i,s:i,s:i,s:f,s:o}", "address", dst, "worker", p->worker,
				 "sent", p->sent, "received", p->received, "loss_pct",
				 100.0 * (p->count - p->received) / p->count, "replies",
				 p->replies);
		sl_ctl_reply_ok(p->req, data);
	}
	memset(p, 0, sizeof(*p));
}

void
app_ping_result(struct app *app, const struct sl_msg *msg)
{
	struct app_ping *p = ping_by_seq(app, msg->ping_result.seq);

	if (p == NULL || msg->ping_result.from.v != p->dst.v)
		return; /* late reply of a finished ping */
	if (msg->ping_result.status != 0) {
		p->last_error = msg->ping_result.status;
		p->failed++;
	} else {
		json_array_append_new(
			p->replies, json_pack("{s:i,s:f,s:i,s:i}", "seq",
					      (uint16_t)(msg->ping_result.seq - p->seq0), "rtt_us",
					      (double)msg->ping_result.rtt_cycles * 1e6 /
						      (double)app->dp->tsc_hz,
					      "sent_by", msg->ping_result.sender, "received_by",
					      msg->ping_result.receiver));
		p->received++;
	}
	if (p->received + p->failed == p->count)
		ping_finish(app, p);
}

int
app_pings_tick(struct app *app)
{
	uint64_t now = app_now_ms();
	int64_t wait = -1;

	for (unsigned int i = 0; i < SLUICED_MAX_PINGS; i++) {
		struct app_ping *p = &app->pings[i];
		int64_t d;

		if (p->req == NULL)
			continue;
		while (p->sent < p->count && now >= p->next_send_ms) {
			int ret = sl_dp_ping(app->dp, p->worker, p->dst,
					     (uint16_t)(p->seq0 + p->sent));

			p->sent++;
			if (ret != 0) {
				p->last_error = ret;
				p->failed++;
			}
			p->next_send_ms = now + p->interval_ms;
			p->deadline_ms = now + p->timeout_ms;
		}
		if (now >= p->deadline_ms || p->received + p->failed == p->count) {
			ping_finish(app, p);
			continue;
		}
		d = (int64_t)((p->sent < p->count ? p->next_send_ms : p->deadline_ms) - now);
		if (wait < 0 || d < wait)
			wait = d;
	}
	return (int)wait;
}

void
app_pings_abort(struct app *app)
{
	for (unsigned int i = 0; i < SLUICED_MAX_PINGS; i++) {
		struct app_ping *p = &app->pings[i];

		if (p->req == NULL)
			continue;
		sl_ctl_reply_err(p->req, "sluiced is stopping");
		json_decref(p->replies);
		memset(p, 0, sizeof(*p));
	}
}

static int
cmd_ping(void *a, struct sl_ctl_req *req, int argc, char **argv)
{
	struct app *app = a;
	struct app_ping *p = NULL;
	struct sl_ip4 dst;
	unsigned long worker = 0, count = 1, interval = 100, timeout = 1000;

	if (argc < 1 || parse_ip4(argv[0], &dst) != 0) {
		sl_ctl_reply_err(req,
				 "ping: usage: ping ADDR [--worker N] [--count C] "
				 "[--interval MS] [--timeout MS]%s%s%s",
				 argc >= 1 ? " (not an IPv4 address: \"" : "",
				 argc >= 1 ? argv[0] : "", argc >= 1 ? "\")" : "");
		return 0;
	}
	/* Options come in pairs: NAME VALUE. */
	for (int i = 1; i < argc; i += 2) {
		unsigned long *dstv = NULL, max = 0;

		if (strcmp(argv[i], "--worker") == 0) {
			dstv = &worker;
			max = app->dp->n_workers - 1;
		} else if (strcmp(argv[i], "--count") == 0) {
			dstv = &count;
			max = 1000;
		} else if (strcmp(argv[i], "--interval") == 0) {
			dstv = &interval;
			max = 10000;
		} else if (strcmp(argv[i], "--timeout") == 0) {
			dstv = &timeout;
			max = 60000;
		}
		if (dstv == NULL) {
			sl_ctl_reply_err(req, "ping: unknown option \"%s\"", argv[i]);
			return 0;
		}
		if (i + 1 >= argc || parse_uint(argv[i + 1], max, dstv) != 0) {
			sl_ctl_reply_err(req, "ping: %s needs an integer from %d to %lu", argv[i],
					 dstv == &worker ? 0 : 1, max);
			return 0;
		}
	}
	if (count == 0 || timeout == 0) {
		sl_ctl_reply_err(req, "ping: --count and --timeout must be at least 1");
		return 0;
	}
	for (unsigned int i = 0; i < SLUICED_MAX_PINGS && p == NULL; i++)
		if (app->pings[i].req == NULL)
			p = &app->pings[i];
	if (p == NULL) {
		sl_ctl_reply_err(req, "ping: too many pings in flight (%d)", SLUICED_MAX_PINGS);
		return 0;
	}
	p->req = req;
	p->dst = dst;
	p->worker = (unsigned int)worker;
	p->count = (unsigned int)count;
	p->interval_ms = interval;
	p->timeout_ms = timeout;
	p->seq0 = app->next_seq;
	app->next_seq = (uint16_t)(app->next_seq + count);
	p->next_send_ms = app_now_ms();
	p->deadline_ms = p->next_send_ms + timeout;
	p->replies = json_array();
	/* The control loop sends when it next computes its timeout (right after we return). */
	return SL_CTL_PENDING;
}

/* ---- test connect ---- */

#define TEST_IN_FLIGHT 256 /* active opens asked of the workers at once */

static void
test_finish(struct app *app, const char *why)
{
	struct app_test *t = &app->test;
	char dst[SL_IP4_STRLEN];
	json_t *by = json_array();
	double secs = (double)(app_now_ms() - t->t0_ms) / 1000.0;

	sl_ip4_str(t->dst, dst);
	for (unsigned int w = 0; w < app->dp->n_workers; w++)
		json_array_append_new(by, json_integer(t->by_worker[w]));
	if (t->verified == 0 && t->count > 0) {
		sl_ctl_reply_err(t->req, "test connect %s:%u: none verified of %u (%s)%s%s", dst,
				 t->port, t->count, why != NULL ? why : "failed",
				 json_object_size(t->errors) ? ", errors: " : "",
				 json_object_size(t->errors) ? json_dumps(t->errors, JSON_COMPACT)
							     : "");
		json_decref(t->errors);
		json_decref(by);
	} else {
		sl_ctl_reply_ok(
			t->req,
			json_pack("{s:s,s:i,s:I,s:i,s:i,s:i,s:o,s:o,s:f,s:f,s:s?}", "address", dst,
				  "port", t->port, "bytes", (json_int_t)t->bytes, "count", t->count,
				  "verified", t->verified, "failed", t->count - t->verified,
				  "verified_by_worker", by, "errors", t->errors, "seconds", secs,
				  "mean_ms",
				  t->verified ? (double)t->cycles_sum * 1e3 /
							(double)app->dp->tsc_hz / t->verified
					      : 0.0,
				  "note", why));
	}
	memset(t, 0, sizeof(*t));
}

static void
test_error(struct app_test *t, int status)
{
	const char *e = strerror(-status);
	json_t *n = json_object_get(t->errors, e);

	json_object_set_new(t->errors, e, json_integer(n ? json_integer_value(n) + 1 : 1));
}

void
app_test_result(struct app *app, const struct sl_msg *msg)
{
	struct app_test *t = &app->test;
	uint32_t k = msg->connect_result.id - t->id0;

	if (t->req == NULL || k >= t->posted)
		return; /* a late result of a finished test */
	t->done++;
	if (msg->connect_result.status == 0 && msg->connect_result.bytes == t->bytes) {
		t->verified++;
		t->cycles_sum += msg->connect_result.cycles;
		if (msg->connect_result.worker < SL_MAX_WORKERS)
			t->by_worker[msg->connect_result.worker]++;
	} else {
		test_error(t, msg->connect_result.status ? msg->connect_result.status : -EBADMSG);
	}
	if (t->done == t->count)
		test_finish(app, NULL);
}

int
app_test_tick(struct app *app)
{
	struct app_test *t = &app->test;
	uint64_t now = app_now_ms();

	if (t->req == NULL)
		return -1;
	while (t->posted < t->count && t->posted - t->done < t->in_flight_max) {
		unsigned int w =
			t->worker >= 0 ? (unsigned int)t->worker : t->posted % app->dp->n_workers;
		int ret = sl_dp_test_connect(app->dp, w, t->dst, t->port, t->bytes,
					     t->id0 + t->posted);

		if (ret == -ENOBUFS)
			break; /* the rings are full: later */
		t->posted++;
		if (ret != 0) {
			t->done++;
			test_error(t, ret);
		}
	}
	if (t->done == t->count) {
		test_finish(app, NULL);
		return -1;
	}
	if (now >= t->deadline_ms) {
		for (unsigned int i = t->done; i < t->count; i++)
			test_error(t, -ETIMEDOUT);
		t->done = t->count;
		test_finish(app, "timed out");
		return -1;
	}
	return 10;
}

void
app_test_abort(struct app *app)
{
	if (app->test.req == NULL)
		return;
	sl_ctl_reply_err(app->test.req, "sluiced is stopping");
	json_decref(app->test.errors);
	memset(&app->test, 0, sizeof(app->test));
}

static int
cmd_test_connect(void *a, struct sl_ctl_req *req, int argc, char **argv)
{
	struct app *app = a;
	struct app_test *t = &app->test;
	struct sl_ip4 dst;
	unsigned long port = 0, bytes = 0, count = 1, worker = ULONG_MAX, timeout = 30000;

	if (argc < 3 || parse_ip4(argv[0], &dst) != 0 || parse_uint(argv[1], 65535, &port) != 0 ||
	    port == 0 || parse_uint(argv[2], 1ul << 30, &bytes) != 0) {
		sl_ctl_reply_err(req, "test connect: usage: test connect ADDR PORT BYTES "
				      "[--count N] [--worker W] [--timeout MS] (ADDR an IPv4 "
				      "address, PORT 1..65535, BYTES 0..1073741824)");
		return 0;
	}
	for (int i = 3; i < argc; i += 2) {
		unsigned long *dstv = NULL, max = 0;

		if (strcmp(argv[i], "--count") == 0) {
			dstv = &count;
			max = 100000;
		} else if (strcmp(argv[i], "--worker") == 0) {
			dstv = &worker;
			max = app->dp->n_workers - 1;
		} else if (strcmp(argv[i], "--timeout") == 0) {
			dstv = &timeout;
			max = 600000;
		}
		if (dstv == NULL) {
			sl_ctl_reply_err(req, "test connect: unknown option \"%s\"", argv[i]);
			return 0;
		}
		if (i + 1 >= argc || parse_uint(argv[i + 1], max, dstv) != 0) {
			sl_ctl_reply_err(req, "test connect: %s needs an integer from %d to %lu",
					 argv[i], dstv == &worker ? 0 : 1, max);
			return 0;
		}
	}
	if (count == 0 || timeout == 0) {
		sl_ctl_reply_err(req, "test connect: --count and --timeout must be at least 1");
		return 0;
	}
	if (t->req != NULL) {
		sl_ctl_reply_err(req, "test connect: another test is running");
		return 0;
	}
	memset(t, 0, sizeof(*t));
	t->req = req;
	t->dst = dst;
	t->port = (uint16_t)port;
	t->bytes = (uint32_t)bytes;
	t->count = (unsigned int)count;
	t->worker = worker == ULONG_MAX ? -1 : (int)worker;
	t->in_flight_max = TEST_IN_FLIGHT;
	t->id0 = app->next_test_id;
	app->next_test_id += (uint32_t)count;
	t->t0_ms = app_now_ms();
	t->deadline_ms = t->t0_ms + timeout;
	t->errors = json_object();
	return SL_CTL_PENDING;
}

/*
 * show nodes, show apps: the discovery picture (docs/nodes.md)
 */

static const char *
node_state_str(uint8_t st)
{
	return st == SL_NODE_UP ? "up" : st == SL_NODE_DOWN ? "down" : "unknown";
}

static const char *
app_state_str(uint8_t st)
{
	return st == SL_APP_PRESENT ? "present" : st == SL_APP_ABSENT ? "absent" : "unknown";
}

static json_t *
addr_port_json(struct sl_ip4 a, uint16_t port)
{
	char s[INET_ADDRSTRLEN + 8];

	snprintf(s, sizeof(s), "%u.%u.%u.%u:%u", a.v >> 24, (a.v >> 16) & 0xff, (a.v >> 8) & 0xff,
		 a.v & 0xff, port);
	return json_string(s);
}

static json_t *
snap_info_json(const struct sl_snap_app *sa, uint64_t now)
{
	static const char *const q[SL_SNAP_QUANTILES] = {"50", "75", "90",   "95",
							 "98", "99", "99.95"};
	const struct sl_snap_info *in = &sa->info;
	json_t *t = json_object(), *j;

	if (!in->valid)
		return json_null();
	for (int i = 0; i < SL_SNAP_QUANTILES; i++)
		if (in->timings_ms[i] >= 0)
			json_object_set_new(t, q[i], json_real(in->timings_ms[i]));
	j = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:f,s:I}", "queue_depth",
		      (json_int_t)in->queue_depth, "queue_capacity", (json_int_t)in->queue_capacity,
		      "accepted", (json_int_t)in->accepted, "rejected", (json_int_t)in->rejected,
		      "pool_active", (json_int_t)in->pool_active, "pool_capacity",
		      (json_int_t)in->pool_capacity, "timings_ms", t, "rtt_ms",
		      sa->info_rtt_us / 1000.0, "age_ms", (json_int_t)(now - sa->info_at_ms));
	return j;
}

static int
cmd_show_nodes(void *a, struct sl_ctl_req *req, int argc, char **argv)
{
	struct app *app = a;
	const struct sl_cluster_snap *cs = sl_nodes_snapshot(app->nodes);
	json_t *nodes = json_array();
	uint64_t now = app_now_ms();
	struct be_read *b;

	(void)argv;
	if (argc != 0) {
		json_decref(nodes);
		sl_ctl_reply_err(req, "show nodes: takes no arguments");
		return 0;
	}
	b = be_read(app);
	if (b == NULL) {
		json_decref(nodes);
		sl_ctl_reply_err(req, "show nodes: out of memory");
		return 0;
	}
	for (unsigned int i = 0; i < cs->n_nodes; i++) {
		const struct sl_snap_node *sn = &cs->nodes[i];
		json_t *apps = json_object(), *n;

		for (unsigned int k = 0; k < cs->n_apps; k++) {
			const struct sl_snap_app *sa = &sn->apps[k];
			json_t *eps = json_array();

			for (unsigned int e = 0; e < sa->n_endpoints; e++)
				json_array_append_new(eps, addr_port_json(sa->endpoints[e].addr,
									  sa->endpoints[e].port));
			json_object_set_new(apps, cs->app_names[k],
					    json_pack("{s:s,s:o,s:I,s:o,s:s}", "state",
						      app_state_str(sa->state), "endpoints", eps,
						      "version", (json_int_t)sa->version, "info",
						      snap_info_json(sa, now), "info_error",
						      sa->info_error));
		}
		n = json_pack("{s:i,s:o,s:s,s:I,s:i,s:s,s:f,s:o}", "id", (int)sn->id, "locator",
			      addr_port_json(sn->locator, sn->locator_port), "state",
			      node_state_str(sn->state), "since_ms",
			      (json_int_t)(now - sn->since_ms), "failures", (int)sn->failures,
			      "last_error", sn->last_error, "rtt_ms", sn->rtt_us / 1000.0, "apps",
			      apps);
		json_object_set_new(n, "ok_seq", json_integer((json_int_t)sn->ok_seq));
		if (i < SL_CL_MAX_NODES) {
			json_t *d = json_object();

			be_node_json(d, b, app, i);
			json_object_set_new(n, "counters", d);
		}
		json_array_append_new(nodes, n);
	}
	free(b);
	sl_ctl_reply_ok(req,
			json_pack("{s:I,s:I,s:o}", "generation", (json_int_t)cs->generation,
				  "view_generation", (json_int_t)app->view_gen, "nodes", nodes));
	return 0;
}

static int
cmd_show_apps(void *a, struct sl_ctl_req *req, int argc, char **argv)
{
	struct app *app = a;
	const struct sl_cluster_snap *cs = sl_nodes_snapshot(app->nodes);
	json_t *apps = json_array();
	struct be_read *b;

	(void)argv;
	if (argc != 0) {
		json_decref(apps);
		sl_ctl_reply_err(req, "show apps: takes no arguments");
		return 0;
	}
	b = be_read(app);
	if (b == NULL) {
		json_decref(apps);
		sl_ctl_reply_err(req, "show apps: out of memory");
		return 0;
	}
	for (unsigned int k = 0; k < cs->n_apps; k++) {
		const struct sl_cfg_app *ca = &app->cfg.apps[k];
		json_t *up = json_array(), *absent = json_array(), *j;
		unsigned int eps = 0;

		for (unsigned int i = 0; i < cs->n_nodes; i++) {
			const struct sl_snap_node *sn = &cs->nodes[i];
			const struct sl_snap_app *sa = &sn->apps[k];

			if (sa->state == SL_APP_ABSENT)
				json_array_append_new(
					absent, addr_port_json(sn->locator, sn->locator_port));
			if (sn->state != SL_NODE_UP || sa->state != SL_APP_PRESENT)
				continue;
			json_array_append_new(up, addr_port_json(sn->locator, sn->locator_port));
			eps += sa->n_endpoints;
		}
		j = json_pack("{s:s,s:o,s:i,s:o,s:i,s:i}", "app", ca->name, "nodes", up,
			      "endpoints", (int)eps, "absent_on", absent, "deadline_ms",
			      (int)ca->deadline_ms, "retries", (int)ca->retries);
		if (k < SL_CL_MAX_APPS) {
			json_t *d = json_object();

			be_counters_json(d, &b->tot.apps[k]);
			json_object_set_new(j, "counters", d);
		}
		json_array_append_new(apps, j);
	}
	free(b);
	sl_ctl_reply_ok(req, json_pack("{s:o}", "apps", apps));
	return 0;
}

const struct sl_ctl_cmd app_cmds[] = {
	{"help", "help", "list the commands", cmd_help},
	{"show info", "show info", "version, uptime, lcores, ports, addresses", cmd_show_info},
	{"show stats", "show stats",
	 "per-port and per-lcore counters, busy and idle cycles, summed over workers",
	 cmd_show_stats},
	{"show nodes", "show nodes",
	 "nodes: locator, state, failures, last error, rtt; per app endpoints, version, info; "
	 "dispatch counters, latency, backend connections, workers that marked it down",
	 cmd_show_nodes},
	{"show apps", "show apps",
	 "apps: the up nodes that run each, endpoints, deadline, retries; dispatch counters, "
	 "latency",
	 cmd_show_apps},
	{"ping", "ping ADDR [--worker N] [--count C] [--interval MS] [--timeout MS]",
	 "send ICMP echo requests from sluiced itself, from worker N", cmd_ping},
	{"test connect", "test connect ADDR PORT BYTES [--count N] [--worker W] [--timeout MS]",
	 "active opens from sluiced: each sends BYTES of a pattern and verifies the echo",
	 cmd_test_connect},
	{"drain", "drain on|off",
	 "draining: /-/health answers 503 and keep-alive connections close after their reply",
	 cmd_drain},
	{"shutdown", "shutdown",
	 "stop sluiced cleanly, at once (SIGTERM stops after a drain, see docs/http.md)",
	 cmd_shutdown},
};
const unsigned int app_n_cmds = SL_ARRAY_SIZE(app_cmds);
