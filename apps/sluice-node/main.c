/*
 * sluice-node: a Cocaine 0.12 node on one machine (docs/sluice-node.md). One process, one
 * thread, one epoll loop: the locator (TCP 10053), the node service, one app service per
 * running app, and the workers' unix sockets; timers are a 100 ms tick.
 *
 * Signals: SIGTERM/SIGINT drain (apps stop accepting, finish what they hold, terminate
 * their workers; whatever remains at the termination timeout is failed and killed), a
 * second one kills at once; SIGCHLD reaps workers.
 *
 * Exit status: 0 after a clean stop, 1 when start-up fails, 2 for a bad command line or an
 * invalid configuration.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"
#include "sl_log.h"
#include "sl_util.h"

#define MAIN_LOG(l, ...) SL_LOG(l, "main", __VA_ARGS__)
#define EXIT_CONFIG 2
#define STOP_GRACE_MS 2000 /* after the longest app deadline, before giving up on children */

/* Signals are turned into bytes on a pipe that the loop reads (the self-pipe trick: unlike a
 * signalfd it also works under valgrind, which the benchmark runs the node with). */
static int sig_pipe_w = -1;

static void
sig_handler(int signo)
{
	int saved = errno;
	uint8_t b = (uint8_t)signo;

	if (write(sig_pipe_w, &b, 1) < 0) {
		/* a full pipe already holds a wake-up (and one SIGCHLD reaps every child) */
	}
	errno = saved;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: sluice-node --config FILE [--log-level LEVEL]\n"
		   "       sluice-node --check-config FILE\n"
		   "       sluice-node --version\n");
}

/* mkdir -p for the runtime directory. */
static int
mkdir_p(const char *path)
{
	char tmp[NCONF_PATH_MAX];
	size_t i, n = strlen(path);

	if (n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		tmp[i] = path[i];
	}
	return 0;
}

static void
node_begin_stop(struct node *n, const char *why)
{
	uint64_t longest = 0;
	struct app *a;

	if (n->stopping)
		return;
	MAIN_LOG(NOTICE, "stopping (%s)", why);
	n->stopping = true;
	listener_close(&n->locator);
	listener_close(&n->nodesvc);
	listener_close(&n->storage);
	/* peers learn at once (their streams close) rather than after 3 silent intervals */
	locator_stop(n);
	cluster_stop(n);
	for (a = NL_FIRST(&n->apps); a != NULL; a = NL_NEXT(a, link)) {
		if (a->prof.terminate_ms > longest)
			longest = a->prof.terminate_ms;
		app_stop(a, why);
	}
	n->stop_deadline_ms = loop_now_ms(&n->loop) + longest + STOP_GRACE_MS;
}

/* Kill every worker now (second signal, or the stop deadline). */
static void
node_kill_all(struct node *n)
{
	struct app *a;
	struct slave *s;

	for (a = NL_FIRST(&n->apps); a != NULL; a = NL_NEXT(a, link)) {
		a->stop_deadline_ms = 0;
		for (s = NL_FIRST(&a->slaves); s != NULL; s = NL_NEXT(s, link))
			slave_kill(s, SL_ECAT_NODE, SL_ENODE_NOT_RUNNING, "the node is exiting",
				   false);
	}
}

static void
node_reap(struct node *n)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid <= 0)
			return;
		slave_reaped(n, pid, status);
	}
}

static void
node_on_signal(struct loop_io *io, uint32_t events)
{
	struct node *n = SL_CONTAINER_OF(io, struct node, sig);
	uint8_t sigs[64];
	ssize_t got, i;

	(void)events;
	while ((got = read(io->fd, sigs, sizeof(sigs))) > 0) {
		for (i = 0; i < got; i++) {
			switch (sigs[i]) {
			case SIGCHLD:
				node_reap(n);
				break;
			case SIGTERM:
			case SIGINT:
				if (n->signals++ == 0) {
					node_begin_stop(n,
							sigs[i] == SIGTERM ? "SIGTERM" : "SIGINT");
				} else {
					MAIN_LOG(NOTICE, "second signal: killing the workers");
					node_kill_all(n);
				}
				break;
			default:
				break;
			}
		}
	}
}

static void
node_tick(struct node *n)
{
	uint64_t now = loop_now_ms(&n->loop);
	struct app *a, *next;

	n->last_tick_ms = now;
	for (a = NL_FIRST(&n->apps); a != NULL; a = next) {
		next = NL_NEXT(a, link);
		app_tick(a, now);
	}
	cluster_tick(n, now);
	if (n->stopping && now >= n->stop_deadline_ms)
		node_kill_all(n);
}

static int
node_init(struct node *n)
{
	struct sigaction sa;
	struct rlimit rl;
	int pfd[2], rc;

	NL_INIT(&n->apps);
	NL_INIT(&n->conns);
	NL_INIT(&n->published);
	NL_INIT(&n->syncs);
	NL_INIT(&n->routers);
	NL_INIT(&n->groups);
	NL_INIT(&n->peers);
	n->locator.io.fd = -1;
	n->nodesvc.io.fd = -1;
	n->storage.io.fd = -1;
	n->mcast.fd = -1;
	n->sig.fd = -1;
	rc = loop_init(&n->loop);
	if (rc < 0)
		return rc;
	if (n->cfg.uuid[0] != '\0')
		snprintf(n->uuid, sizeof(n->uuid), "%.36s", n->cfg.uuid);
	else
		node_uuid_gen(n->uuid);
	if (strchr(n->cfg.hostname, ':') != NULL)
		snprintf(n->locator_arg, sizeof(n->locator_arg), "[%s]:%u", n->cfg.hostname,
			 n->cfg.locator_port);
	else
		snprintf(n->locator_arg, sizeof(n->locator_arg), "%s:%u", n->cfg.hostname,
			 n->cfg.locator_port);
	/* limits.connections clients plus workers: take every descriptor we may */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	rc = mkdir_p(n->cfg.runtime_dir);
	if (rc < 0) {
		MAIN_LOG(ERR, "paths.runtime %s: %s", n->cfg.runtime_dir, strerror(-rc));
		return rc;
	}
	/* signals arrive as bytes on a pipe; workers get default handlers back (slave.c) */
	if (pipe2(pfd, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	n->sig.fd = pfd[0];
	n->sig.cb = node_on_signal;
	sig_pipe_w = pfd[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	rc = loop_add(&n->loop, &n->sig, EPOLLIN);
	if (rc < 0)
		return rc;
	n->locator.owner = n;
	n->locator.on_accept = locator_accept;
	rc = listener_tcp(&n->loop, &n->locator, n->cfg.address, n->cfg.locator_port);
	if (rc < 0) {
		MAIN_LOG(ERR, "locator on %s:%u: %s", n->cfg.address, n->cfg.locator_port,
			 strerror(-rc));
		return rc;
	}
	n->nodesvc.owner = n;
	n->nodesvc.on_accept = nodesvc_accept;
	rc = listener_tcp(&n->loop, &n->nodesvc, n->cfg.address, n->cfg.node_port);
	if (rc < 0) {
		MAIN_LOG(ERR, "node service on %s:%u: %s", n->cfg.address, n->cfg.node_port,
			 strerror(-rc));
		return rc;
	}
	n->next_port = n->cfg.port_min;
	rc = storage_init(n);
	if (rc < 0)
		return rc;
	routing_load(n);
	rc = cluster_init(n);
	if (rc < 0)
		return rc;
	return 0;
}

static void
node_fini(struct node *n)
{
	struct conn *c;
	struct app *a;

	while ((a = NL_FIRST(&n->apps)) != NULL)
		app_destroy(a);
	locator_stop(n);
	cluster_stop(n);
	while ((c = NL_FIRST(&n->conns)) != NULL)
		conn_close(c, 0);
	routing_free(n);
	listener_close(&n->locator);
	listener_close(&n->nodesvc);
	listener_close(&n->storage);
	if (n->sig.fd >= 0)
		close(n->sig.fd);
	if (sig_pipe_w >= 0)
		close(sig_pipe_w);
	sig_pipe_w = -1;
	loop_fini(&n->loop);
	nconf_free(&n->cfg);
}

static int
node_run(struct node *n)
{
	uint32_t i;

	for (i = 0; i < n->cfg.nrunlist; i++) {
		char err[NCONF_ERR_MAX];
		int rc;

		if (app_start(n, n->cfg.runlist[i].app, n->cfg.runlist[i].profile, err, sizeof(err),
			      &rc) == NULL)
			MAIN_LOG(ERR, "runlist.%s: %s", n->cfg.runlist[i].app, err);
	}
	MAIN_LOG(NOTICE, "sluice-node %s (uuid %s): locator %s:%u, node service port %u, %u apps",
		 SL_VERSION, n->uuid, n->cfg.address, n->locator.port, n->nodesvc.port,
		 n->cfg.nrunlist);
	n->last_tick_ms = loop_now_ms(&n->loop);
	for (;;) {
		uint64_t now = loop_now_ms(&n->loop);
		int wait = 0;

		if (now < n->last_tick_ms + NODE_TICK_MS)
			wait = (int)(n->last_tick_ms + NODE_TICK_MS - now);
		if (loop_run_once(&n->loop, wait) < 0)
			return -errno;
		if (loop_now_ms(&n->loop) >= n->last_tick_ms + NODE_TICK_MS)
			node_tick(n);
		if (n->stopping && NL_EMPTY(&n->apps))
			break;
		if (n->stopping && loop_now_ms(&n->loop) >= n->stop_deadline_ms + STOP_GRACE_MS) {
			MAIN_LOG(WARNING, "workers did not exit in time; leaving");
			break;
		}
	}
	MAIN_LOG(NOTICE, "stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", required_argument, NULL, 'C'},
		{"log-level", required_argument, NULL, 'l'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct node node;
	const char *file = NULL, *level = NULL;
	char err[NCONF_ERR_MAX];
	bool check = false;
	int o, rc;

	while ((o = getopt_long(argc, argv, "c:l:Vh", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			file = optarg;
			break;
		case 'C':
			file = optarg;
			check = true;
			break;
		case 'l':
			level = optarg;
			break;
		case 'V':
			printf("sluice-node %s\n", SL_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (file == NULL || optind != argc) {
		usage(stderr);
		return EXIT_CONFIG;
	}
	if (level != NULL && sl_log_level_parse(level) < 0) {
		fprintf(stderr, "sluice-node: --log-level: unknown level \"%s\"\n", level);
		return EXIT_CONFIG;
	}
	rc = nconf_load(&node.cfg, file, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "sluice-node: %s\n", err);
		return EXIT_CONFIG;
	}
	if (check) {
		printf("%s: ok\n", file);
		nconf_free(&node.cfg);
		return 0;
	}
	sl_log_set_level(level != NULL ? (enum sl_log_level)sl_log_level_parse(level)
				       : (enum sl_log_level)node.cfg.log_level);
	rc = node_init(&node);
	if (rc == 0)
		rc = node_run(&node);
	node_fini(&node);
	return rc < 0 ? 1 : 0;
}
