/*
 * sluiced: the appliance. The EAL main lcore runs the control loop (blocking in epoll on the
 * control socket, the workers' doorbell, signals and a timer); every other lcore runs a
 * worker loop (dataplane/lcore). Configuration is validated whole before DPDK is touched.
 *
 * Signals: SIGTERM stops gracefully (drain.c: new connections refused, requests in flight
 * finish, at most limits.drain_timeout_ms); SIGINT, SIGHUP, a second SIGTERM and the control
 * socket's `shutdown` stop at once.
 *
 * Exit status: 0 after a clean stop (a drain cut by its timeout included), 1 when start-up
 * fails, 2 for a bad command line or an invalid configuration.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "config.h"
#include "ctl.h"
#include "port.h"
#include "sl_log.h"
#include "sluiced.h"
#include "worker.h"

#define MAIN_LOG(l, ...) SL_LOG(l, "main", __VA_ARGS__)
#define EXIT_CONFIG 2

static void
usage(FILE *f)
{
	fprintf(f, "usage: sluiced --config FILE\n"
		   "       sluiced --check-config FILE\n"
		   "       sluiced --version\n");
}

/* EAL arguments: the configured ones, then what other fields imply. */
static int
build_eal_args(const struct sl_config *cfg, char **argv, char store[][SL_CFG_VDEV_MAX + 16],
	       int max)
{
	int argc = 0, s = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	static char prog[] = "sluiced", loglevel[] = "--log-level=*:notice";

	argv[argc++] = prog;
	argv[argc++] = loglevel;
	for (int i = 0; i < cfg->eal_argc && argc < max - 8; i++)
		argv[argc++] = cfg->eal_argv[i];
	snprintf(store[s], sizeof(store[s]), "--file-prefix=%s", cfg->file_prefix);
	argv[argc++] = store[s++];
	if (cfg->lcores[0] != '\0') {
		snprintf(store[s], sizeof(store[s]), "--lcores=%s", cfg->lcores);
	} else {
		/* lcore i on CPU i mod ncpu: 1 control + N workers on however many CPUs exist. */
		int n = snprintf(store[s], sizeof(store[s]), "--lcores=");

		for (unsigned int l = 0; l <= cfg->workers && n < (int)sizeof(store[s]) - 12; l++)
			n += snprintf(store[s] + n, sizeof(store[s]) - (size_t)n, "%s%u@%ld",
				      l ? "," : "", l, ncpu > 0 ? (long)l % ncpu : 0);
	}
	argv[argc++] = store[s++];
	for (unsigned int p = 0; p < cfg->n_ports && argc < max - 1; p++) {
		const char *vdev = cfg->ports[p].vdev;

		/* af_packet takes its queue count from the vdev string, not from configure(). */
		if (strncmp(vdev, "net_af_packet", 13) == 0 && strstr(vdev, "qpairs=") == NULL)
			snprintf(store[s], sizeof(store[s]), "--vdev=%s,qpairs=%u", vdev,
				 cfg->workers);
		else
			snprintf(store[s], sizeof(store[s]), "--vdev=%s", vdev);
		argv[argc++] = store[s++];
	}
	argv[argc] = NULL;
	return argc;
}

static int
start_ports(struct app *app)
{
	const struct sl_config *cfg = &app->cfg;

	for (unsigned int p = 0; p < cfg->n_ports; p++) {
		const struct sl_cfg_port *cp = &cfg->ports[p];
		struct sl_port_conf pc = {
			.vdev = cp->vdev,
			.n_queues = (uint16_t)cfg->workers,
			.rx_desc = cfg->dataplane.rx_desc,
			.tx_desc = cfg->dataplane.tx_desc,
			.n_mbufs = cfg->dataplane.mbufs_per_port,
			.priv_size = sizeof(struct sl_tcp_seg),
			.mtu = cp->mtu,
			.has_mac = cp->has_mac,
			.mac = cp->mac,
		};
		int ret;

		snprintf(pc.name, sizeof(pc.name), "%s", cp->name);
		ret = sl_port_start(&app->ports[p], &pc);
		if (ret != 0) {
			MAIN_LOG(ERR, "ports[%u] (%s): cannot start: %s", p, cp->name,
				 strerror(-ret));
			return ret;
		}
		app->n_ports = p + 1;
		app->l3[p].addr = cp->addr;
		app->l3[p].prefix_len = cp->prefix_len;
		app->l3[p].routes = &cp->routes;
		app->l3[p].impair_rx = cp->impair_rx;
		app->l3[p].impair_tx = cp->impair_tx;
		if (cp->impair_rx.enabled || cp->impair_tx.enabled)
			MAIN_LOG(WARNING,
				 "ports[%u] (%s): impairment stage on: this port drops, "
				 "delays or reorders traffic on purpose",
				 p, cp->name);
	}
	return 0;
}

static void
stop_ports(struct app *app)
{
	for (unsigned int p = 0; p < app->n_ports; p++)
		sl_port_stop(&app->ports[p]);
	app->n_ports = 0;
}

static void
drain_worker_msgs(struct app *app)
{
	struct sl_msg *msgs[32];
	unsigned int n;

	while ((n = sl_dp_ctl_poll(app->dp, msgs, SL_ARRAY_SIZE(msgs))) > 0) {
		for (unsigned int i = 0; i < n; i++) {
			if (msgs[i]->op == SL_MSG_PING_RESULT)
				app_ping_result(app, msgs[i]);
			else if (msgs[i]->op == SL_MSG_CONNECT_RESULT)
				app_test_result(app, msgs[i]);
			sl_dp_msg_free(app->dp, msgs[i]);
		}
	}
}

/* The control loop: sleep in epoll until a client, a worker, a signal or a ping timer. */
static int
control_loop(struct app *app, int sfd)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN};

	if (epfd < 0)
		return -errno;
	ev.data.fd = sl_ctl_fd(app->ctl);
	epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = app->dp->ctl_efd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = sl_nodes_fd(app->nodes);
	epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);

	while (!app->stop) {
		struct epoll_event evs[8];
		int timeout = app_pings_tick(app);
		int t2 = app_test_tick(app);

		if (t2 >= 0 && (timeout < 0 || t2 < timeout))
			timeout = t2;
		t2 = app_stop_tick(app);
		if (app->stop)
			break;
		if (t2 >= 0 && (timeout < 0 || t2 < timeout))
			timeout = t2;
		sl_nodes_run(app->nodes, app_now_ms());
		t2 = sl_nodes_timeout_ms(app->nodes, app_now_ms());
		if (t2 >= 0 && (timeout < 0 || t2 < timeout))
			timeout = t2;
		t2 = app_dispatch_tick(app, app_now_ms()); /* view, access log, old views */
		if (timeout < 0 || t2 < timeout)
			timeout = t2;
		int n = epoll_wait(epfd, evs, 8, timeout);

		if (n < 0 && errno != EINTR) {
			MAIN_LOG(ERR, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					app_signal(app, (int)si.ssi_signo);
			} else if (fd == app->dp->ctl_efd) {
				drain_worker_msgs(app);
			} else if (fd == sl_nodes_fd(app->nodes)) {
				/* handled by sl_nodes_run() at the top of the loop */
			} else {
				sl_ctl_process(app->ctl);
			}
		}
	}
	close(epfd);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", required_argument, NULL, 'k'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct app app;
	static char store[SL_CFG_MAX_PORTS + 4][SL_CFG_VDEV_MAX + 16];
	char *eal_argv[SL_CFG_MAX_EAL_ARGS + SL_CFG_MAX_PORTS + 8];
	const char *path = NULL;
	char err[512];
	int check = 0, opt, eal_argc, ret, sfd = -1, status = 1;
	sigset_t sigs;

	while ((opt = getopt_long(argc, argv, "c:k:Vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			path = optarg;
			check = 1;
			break;
		case 'V':
			printf("sluiced %s\n", SL_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return EXIT_CONFIG;
	}
	ret = sl_config_load(path, &app.cfg, err, sizeof(err));
	if (ret != 0) {
		fprintf(stderr, "sluiced: %s\n", err);
		return EXIT_CONFIG;
	}
	if (check) {
		printf("%s: ok\n", path);
		sl_config_free(&app.cfg);
		return 0;
	}
	sl_log_set_level((enum sl_log_level)app.cfg.log.level);
	if (app.cfg.log.syslog)
		sl_log_open_syslog("sluiced");

	/* Open the control socket first: a second sluiced on the same socket stops here,
	 * before it can disturb the running one's ports. */
	app.ctl = sl_ctl_open(app.cfg.control.socket, app_cmds, app_n_cmds, &app);
	if (app.ctl == NULL) {
		MAIN_LOG(ERR, "control.socket %s: %s", app.cfg.control.socket,
			 errno == EADDRINUSE ? "another sluiced is serving it" : strerror(errno));
		goto out_cfg;
	}

	/* Signals are taken by the control loop through a signalfd; block them before EAL
	 * creates the lcore threads so that every thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);

	eal_argc = build_eal_args(&app.cfg, eal_argv, store, (int)SL_ARRAY_SIZE(eal_argv));
	ret = rte_eal_init(eal_argc, eal_argv);
	if (ret < 0) {
		MAIN_LOG(ERR, "EAL init failed: %s", rte_strerror(rte_errno));
		goto out_ctl;
	}
	if (rte_lcore_count() < app.cfg.workers + 1) {
		MAIN_LOG(ERR, "workers: %u workers need %u lcores, EAL has %u (eal.lcores)",
			 app.cfg.workers, app.cfg.workers + 1, rte_lcore_count());
		goto out_eal;
	}
	if (start_ports(&app) != 0)
		goto out_ports;
	{
		struct sl_dp_params params = {
			.burst = app.cfg.dataplane.burst,
			.tx_drain_us = app.cfg.dataplane.tx_drain_us,
			.idle_spin_us = app.cfg.dataplane.idle_spin_us,
			.idle_sleep_us = app.cfg.dataplane.idle_sleep_us,
			.neigh = app.cfg.neigh,
			.tcp = app.cfg.tcp,
			.max_conns = app.cfg.limits.connections_per_worker,
			.access_log = app.cfg.dispatch.access_log[0] != '\0',
			.be = {.pool_size = (uint16_t)app.cfg.dispatch.pool_size,
			       .connect_timeout_ms = app.cfg.dispatch.connect_timeout_ms,
			       .backoff_max_ms = app.cfg.dispatch.backoff_max_ms},
			.native_conns = app.cfg.dispatch.native_connections,
			.http =
				{
					.lim =
						{
							.head_bytes = app.cfg.limits.header_bytes,
							.uri_bytes = app.cfg.limits.uri_bytes,
							.fields = (uint16_t)app.cfg.limits
									  .header_fields,
							.body_bytes = app.cfg.limits.body_bytes,
							.chunk_line =
								app.cfg.limits.chunk_line_bytes,
						},
					.header_timeout_ms = app.cfg.limits.header_timeout_ms,
					.body_timeout_ms = app.cfg.limits.body_timeout_ms,
					.keepalive_ms = app.cfg.limits.keepalive_ms,
					.max_conns = app.cfg.limits.http_connections,
				},
			.n_listeners = app.cfg.n_listeners,
		};

		for (unsigned int i = 0; i < app.cfg.n_listeners; i++) {
			const struct sl_cfg_listener *l = &app.cfg.listeners[i];

			/* Protocols map one to one onto the data plane's test services. */
			params.listeners[i] = (struct sl_dp_listener){
				.addr = l->addr,
				.port = l->port,
				.service = l->protocol,
				.health = l->health,
				.mirror = l->mirror,
				.backlog = l->backlog,
				.app_ports = l->app_ports,
				.n_apps = (uint16_t)app.cfg.n_apps,
			};
		}

		app.dp = sl_dp_create(app.ports, app.l3, app.n_ports, app.cfg.workers, &params);
	}
	if (app.dp == NULL) {
		MAIN_LOG(ERR, "data plane: %s", strerror(errno));
		goto out_ports;
	}
	app.nodes = sl_nodes_create(&app.cfg, app_now_ms());
	if (app.nodes == NULL) {
		MAIN_LOG(ERR, "nodes: %s", strerror(errno));
		goto out_dp;
	}
	if (app_dispatch_start(&app) != 0)
		goto out_dp;
	clock_gettime(CLOCK_MONOTONIC, &app.started);
	ret = sl_dp_launch(app.dp);
	if (ret != 0) {
		MAIN_LOG(ERR, "cannot launch workers: %s", strerror(-ret));
		sl_dp_stop(app.dp);
		goto out_dp;
	}
	MAIN_LOG(NOTICE, "ready: %u workers, %u ports, control socket %s", app.cfg.workers,
		 app.n_ports, app.cfg.control.socket);

	control_loop(&app, sfd);

	sl_dp_stop(app.dp);
	app_pings_abort(&app);
	app_test_abort(&app);
	status = 0;
out_dp:
	app_dispatch_stop(&app); /* workers stopped: the last access log records */
	sl_nodes_free(app.nodes);
	sl_dp_free(app.dp);
out_ports:
	stop_ports(&app);
out_eal:
	rte_eal_cleanup();
out_ctl:
	sl_ctl_close(app.ctl);
	if (sfd >= 0)
		close(sfd);
out_cfg:
	sl_config_free(&app.cfg);
	if (status == 0)
		MAIN_LOG(NOTICE, "stopped");
	return status;
}
