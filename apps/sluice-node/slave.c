/*
 * Worker processes and worker protocol v1 (cocaine-protocol.md 5, 5.3, 12a.1, 12a.7).
 *
 * A worker is started as `<slave> --app NAME --endpoint SOCKET --locator HOST:PORT
 * --uuid UUID --protocol 1` in the app's directory, with the manifest's environment on top
 * of the node's, stdin from /dev/null and stdout/stderr into one pipe that is logged line by
 * line (and the last crashlog-limit lines kept for a crash report). It connects to the app's
 * unix socket and opens channel 1 with handshake [uuid]; channel 1 then carries heartbeat
 * (id 0, answered at once) and terminate (id 1) both ways. The runtime opens invocation
 * channels 2, 3, ... with invoke [event]. Any frame from the worker proves it alive; none
 * for heartbeat-timeout gets it killed. Worker frames have 3 elements; ours have 4.
 *
 * Timeline: SPAWNED (until the handshake, bounded by the startup timeout) -> ACTIVE ->
 * SEALING (manual target) -> TERMINATING (terminate sent or received; SIGKILL after the
 * termination timeout) -> DEAD (killed) -> reaped (SIGCHLD): freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"
#include "sl_log.h"
#include "sl_util.h"

#define SLAVE_LOG(l, ...) SL_LOG(l, "worker", __VA_ARGS__)
#define WCONN_PENDING 0 /* accepted, no handshake yet: owner = app */
#define WCONN_BOUND 1	/* owner = slave */
#define SLAVE_ARGS 16

extern char **environ;

static int worker_on_frame(struct conn *c, const struct sl_frame *f, const struct sl_hdrs *h,
			   const struct sl_chan_ev *ev);
static void worker_on_close(struct conn *c, int err);

static const struct conn_ops worker_ops = {
	.on_frame = worker_on_frame,
	.on_close = worker_on_close,
};

const char *
slave_state_name(enum slave_state st)
{
	switch (st) {
	case SLAVE_SPAWNED:
		return "spawning";
	case SLAVE_ACTIVE:
		return "active";
	case SLAVE_SEALING:
		return "sealing";
	case SLAVE_TERMINATING:
		return "terminating";
	case SLAVE_DEAD:
		return "dead";
	}
	return "unknown";
}

/*
 * Output
 */

static void
slave_out_line(struct slave *s, const char *line, uint32_t n)
{
	struct app *a = s->app;

	if (a->prof.log_output)
		SLAVE_LOG(INFO, "%s/%.8s: %.*s", a->name, s->uuid, (int)n, line);
	else
		SLAVE_LOG(DEBUG, "%s/%.8s: %.*s", a->name, s->uuid, (int)n, line);
	if (a->prof.crashlog_limit == 0 || s->crashlog == NULL)
		return;
	{
		uint32_t slot = (s->crash_head + s->crash_n) % a->prof.crashlog_limit;
		char *copy = strndup(line, n);

		if (copy == NULL)
			return;
		if (s->crash_n == a->prof.crashlog_limit) {
			slot = s->crash_head;
			s->crash_head = (s->crash_head + 1) % a->prof.crashlog_limit;
		} else {
			s->crash_n++;
		}
		free(s->crashlog[slot]);
		s->crashlog[slot] = copy;
	}
}

static void
slave_out_close(struct slave *s)
{
	if (s->out.fd < 0)
		return;
	loop_del(&s->app->node->loop, &s->out);
	close(s->out.fd);
	s->out.fd = -1;
	if (s->outlen > 0)
		slave_out_line(s, s->outbuf, s->outlen);
	s->outlen = 0;
}

/* Read what the pipe holds; lines are logged, a line longer than the buffer is cut. */
static void
slave_out_read(struct slave *s)
{
	for (;;) {
		ssize_t n = read(s->out.fd, s->outbuf + s->outlen, sizeof(s->outbuf) - s->outlen);
		uint32_t start = 0, i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN)
				slave_out_close(s);
			return;
		}
		s->outlen += (uint32_t)n;
		for (i = 0; i < s->outlen; i++) {
			if (s->outbuf[i] == '\n') {
				slave_out_line(s, s->outbuf + start, i - start);
				start = i + 1;
			}
		}
		if (start == 0 && s->outlen == sizeof(s->outbuf)) {
			slave_out_line(s, s->outbuf, s->outlen);
			start = s->outlen;
		}
		memmove(s->outbuf, s->outbuf + start, s->outlen - start);
		s->outlen -= start;
	}
}

static void
slave_out_on_io(struct loop_io *io, uint32_t events)
{
	struct slave *s = SL_CONTAINER_OF(io, struct slave, out);

	(void)events;
	slave_out_read(s);
}

/*
 * Spawning
 */

/* envp: the node's environment with the manifest's variables on top. */
static char **
slave_envp(const struct nd_manifest *m)
{
	uint32_t n = 0, i, k = 0;
	char **envp;

	while (environ[n] != NULL)
		n++;
	envp = calloc(n + m->nenv + 1, sizeof(*envp));
	if (envp == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t klen = eq != NULL ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		bool over = false;
		uint32_t j;

		for (j = 0; j < m->nenv && !over; j++)
			over = strncmp(m->env[j], environ[i], klen) == 0 && m->env[j][klen] == '=';
		if (!over)
			envp[k++] = environ[i];
	}
	for (i = 0; i < m->nenv; i++)
		envp[k++] = m->env[i];
	envp[k] = NULL;
	return envp;
}

/* In the child: only async-signal-safe calls from here to execve(). */
static void __attribute__((noreturn))
slave_child(const struct app *a, char *const argv[], char *const envp[], int devnull, int out,
	    pid_t parent)
{
	static const char fail_exec[] = "sluice-node: cannot execute the worker\n";
	static const char fail_dir[] = "sluice-node: cannot enter the app directory\n";
	struct sigaction sa;
	sigset_t none;

	dup2(devnull, STDIN_FILENO);
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL); /* ignored in the node: exec would keep that */
	sigaction(SIGTERM, &sa, NULL); /* caught in the node: not ours until exec */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	/* a worker never outlives its node (even a SIGKILLed one) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	setpgid(0, 0);
	if (chdir(a->man.dir) < 0) {
		if (write(STDERR_FILENO, fail_dir, sizeof(fail_dir) - 1) < 0)
			_exit(126);
		_exit(126);
	}
	execve(a->man.slave, argv, envp);
	if (write(STDERR_FILENO, fail_exec, sizeof(fail_exec) - 1) < 0)
		_exit(127);
	_exit(127);
}

struct slave *
slave_spawn(struct app *a)
{
	/* execve() takes char *const[]: writable copies of the option names */
	static char opt_app[] = "--app", opt_endpoint[] = "--endpoint", opt_locator[] = "--locator",
		    opt_uuid[] = "--uuid", opt_protocol[] = "--protocol", protocol_v1[] = "1";
	struct node *n = a->node;
	char *argv[SLAVE_ARGS];
	char app_arg[NCONF_NAME_MAX];
	int pfd[2] = {-1, -1}, devnull = -1, err, i = 0;
	char **envp = NULL;
	struct slave *s;
	pid_t pid, self = getpid();

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->app = a;
	s->out.fd = -1;
	s->out.cb = slave_out_on_io;
	node_uuid_gen(s->uuid);
	if (a->prof.crashlog_limit > 0) {
		s->crashlog = calloc(a->prof.crashlog_limit, sizeof(*s->crashlog));
		if (s->crashlog == NULL)
			goto fail;
	}
	snprintf(app_arg, sizeof(app_arg), "%s", a->name);
	argv[i++] = a->man.slave;
	argv[i++] = opt_app;
	argv[i++] = app_arg;
	argv[i++] = opt_endpoint;
	argv[i++] = a->sock_path;
	argv[i++] = opt_locator;
	argv[i++] = n->locator_arg;
	argv[i++] = opt_uuid;
	argv[i++] = s->uuid;
	argv[i++] = opt_protocol;
	argv[i++] = protocol_v1;
	argv[i] = NULL;
	envp = slave_envp(&a->man);
	if (envp == NULL)
		goto fail;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || pipe2(pfd, O_CLOEXEC) < 0)
		goto fail;
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0)
		slave_child(a, argv, envp, devnull, pfd[1], self);
	close(pfd[1]);
	close(devnull);
	free(envp);
	fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);
	s->out.fd = pfd[0];
	if (loop_add(&n->loop, &s->out, EPOLLIN) < 0) {
		close(s->out.fd);
		s->out.fd = -1;
	}
	s->pid = pid;
	s->state = SLAVE_SPAWNED;
	s->spawned_ms = loop_now_ms(&n->loop);
	NL_INSERT_TAIL(&a->slaves, s, link);
	a->st.spawned++;
	SLAVE_LOG(INFO, "%s/%.8s: spawned pid %d (%s)", a->name, s->uuid, (int)pid, a->man.slave);
	return s;
fail:
	err = errno;
	if (pfd[0] >= 0) {
		close(pfd[0]);
		close(pfd[1]);
	}
	if (devnull >= 0)
		close(devnull);
	free(envp);
	free(s->crashlog);
	free(s);
	errno = err;
	return NULL;
}

/*
 * Protocol
 */

static void
slave_send_ctl(struct slave *s, uint64_t type, int64_t code, const char *reason)
{
	uint8_t buf[256];
	struct sl_mp_w w;

	if (s->conn == NULL)
		return;
	sl_mp_w_init(&w, buf, sizeof(buf));
	if (type == SL_CONTROL_TERMINATE) {
		/* 5.3: terminate [code, reason] */
		sl_mp_w_int(&w, code);
		sl_mp_w_raw(&w, reason, (uint32_t)strnlen(reason, 200));
	}
	svc_send(s->conn, s->ctl_ch, type, buf, w.len, type == SL_CONTROL_TERMINATE ? 2 : 0, NULL);
}

static int
slave_handshake(struct conn *c, const struct sl_frame *f, const struct sl_chan_ev *ev)
{
	struct app *a = c->owner;
	struct sl_mp_cur args = f->args;
	char uuid[NODE_UUID_LEN];
	struct sl_mp_raw raw;
	struct slave *s;
	int n;

	if (!ev->opened || ev->slot->id != SL_WORKER_HANDSHAKE || f->nargs < 1 ||
	    sl_mp_read_raw(&args, &raw) < 0 ||
	    (n = sl_mp_raw_copy(&raw, uuid, sizeof(uuid) - 1)) < 0) {
		SLAVE_LOG(NOTICE, "%s: a worker connection did not start with handshake [uuid]",
			  a->name);
		return -EPROTO;
	}
	uuid[n] = '\0';
	for (s = NL_FIRST(&a->slaves); s != NULL; s = NL_NEXT(s, link))
		if (s->state == SLAVE_SPAWNED && s->conn == NULL && strcmp(s->uuid, uuid) == 0)
			break;
	if (s == NULL) {
		SLAVE_LOG(NOTICE, "%s: handshake from unknown worker %s", a->name, uuid);
		return -ENOENT;
	}
	NL_REMOVE(&a->pending, c, link);
	c->tag = WCONN_BOUND;
	c->owner = s;
	snprintf(c->name, sizeof(c->name), "worker %s/%.8s", a->name, s->uuid);
	s->conn = c;
	s->ctl_ch = ev->id;
	s->state = SLAVE_ACTIVE;
	s->active_ms = s->last_rx_ms = s->idle_since_ms = loop_now_ms(c->loop);
	SLAVE_LOG(INFO, "%s/%.8s: active (pid %d, handshake after %llu ms)", a->name, s->uuid,
		  (int)s->pid, (unsigned long long)(s->active_ms - s->spawned_ms));
	pool_pump(a);
	return 0;
}

static int
worker_on_frame(struct conn *c, const struct sl_frame *f, const struct sl_hdrs *h,
		const struct sl_chan_ev *ev)
{
	struct slave *s;

	if (c->tag == WCONN_PENDING)
		return slave_handshake(c, f, ev);
	s = c->owner;
	s->last_rx_ms = loop_now_ms(c->loop);
	if (ev->opened) {
		/* the worker may open only the control channel, once */
		SLAVE_LOG(NOTICE, "%s/%.8s: opened channel %llu: protocol violation", s->app->name,
			  s->uuid, (unsigned long long)ev->id);
		return -EPROTO;
	}
	if (ev->id == s->ctl_ch) {
		if (ev->slot->id == SL_CONTROL_HEARTBEAT) {
			slave_send_ctl(s, SL_CONTROL_HEARTBEAT, 0, NULL);
		} else if (s->state != SLAVE_TERMINATING && s->state != SLAVE_DEAD) {
			struct sl_mp_cur args = f->args;
			struct sl_mp_raw why = {.len = 0};
			char reason[128] = "";

			/* [code, reason] (or [[cat, code], reason]): the reason is logged */
			if (f->nargs >= 2 && sl_mp_skip(&args) == 0 &&
			    sl_mp_read_raw(&args, &why) == 0) {
				int n = sl_mp_raw_copy(&why, reason, sizeof(reason) - 1);

				reason[n > 0 ? n : 0] = '\0';
			}
			SLAVE_LOG(INFO, "%s/%.8s: the worker terminates itself: %s", s->app->name,
				  s->uuid, reason);
			snprintf(s->reason, sizeof(s->reason), "the worker terminated itself");
			s->state = SLAVE_TERMINATING;
			s->deadline_ms = loop_now_ms(c->loop) + s->app->prof.terminate_ms;
		}
		return 0;
	}
	if (ev->user != NULL)
		req_worker_msg(ev->user, f, h, ev);
	return 0;
}

/* Fail every invocation of a worker whose connection is gone. */
static void
slave_fail_channels(struct slave *s, struct conn *c)
{
	/* (0x0C, EPIPE) is what clients retry as "app restarted" (6.3, 12.5) */
	int64_t cat = s->fail_cat != 0 ? s->fail_cat : SL_ECAT_GENERIC;
	int64_t code = s->fail_cat != 0 ? s->fail_code : EPIPE;
	const char *msg = s->reason[0] != '\0' ? s->reason : "the worker has died";
	struct sl_chan *ch;
	uint32_t pos = 0;

	while ((ch = sl_sess_next(&c->sess, &pos)) != NULL) {
		struct req *r = ch->user;

		ch->user = NULL;
		if (ch->id != s->ctl_ch && r != NULL)
			req_worker_gone(r, cat, code, msg);
	}
	s->load = 0;
}

static void
worker_on_close(struct conn *c, int err)
{
	struct slave *s;

	if (c->tag == WCONN_PENDING) {
		NL_REMOVE(&((struct app *)c->owner)->pending, c, link);
		return;
	}
	s = c->owner;
	s->conn = NULL;
	if (s->state != SLAVE_TERMINATING && s->state != SLAVE_DEAD) {
		/* it went away without being asked: a crash, whatever its exit status says */
		SLAVE_LOG(WARNING, "%s/%.8s: connection lost (%s)", s->app->name, s->uuid,
			  err < 0 ? strerror(-err) : "closed by the worker");
		if (s->reason[0] == '\0')
			snprintf(s->reason, sizeof(s->reason), "the worker has died");
		s->crashed = true;
		pool_note_crash(s->app, loop_now_ms(c->loop));
		s->state = SLAVE_TERMINATING;
		s->deadline_ms = loop_now_ms(c->loop) + s->app->prof.terminate_ms;
	}
	slave_fail_channels(s, c);
	pool_rebalance(s->app);
	pool_pump(s->app);
}

void
slave_worker_accept(struct listener *ls, int fd)
{
	struct app *a = ls->owner;
	char name[128];
	struct conn *c;

	snprintf(name, sizeof(name), "worker %s (handshake)", a->name);
	c = conn_new(&a->node->loop, fd, &worker_ops, &a->worker_lim, &sl_proto_worker,
		     &sl_proto_worker_rpc, a->worker_channels, a, name);
	if (c == NULL) {
		SLAVE_LOG(WARNING, "%s: worker connection: %s", a->name, strerror(errno));
		return;
	}
	c->tag = WCONN_PENDING;
	NL_INSERT_TAIL(&a->pending, c, link);
}

void
slave_channel_done(struct slave *s)
{
	if (s->load > 0)
		s->load--;
	if (s->load == 0)
		s->idle_since_ms = loop_now_ms(&s->app->node->loop);
	if (s->state == SLAVE_SEALING && s->load == 0)
		slave_terminate(s, SL_ESLAVE_SEALING, "the worker is sealed");
	pool_pump(s->app);
}

void
slave_terminate(struct slave *s, int code, const char *reason)
{
	uint64_t now = loop_now_ms(&s->app->node->loop);

	if (s->state == SLAVE_TERMINATING || s->state == SLAVE_DEAD)
		return;
	if (s->conn == NULL) {
		/* no handshake yet: nothing to talk to */
		slave_kill(s, SL_ECAT_SLAVE, code, reason, false);
		return;
	}
	SLAVE_LOG(INFO, "%s/%.8s: terminate: %s", s->app->name, s->uuid, reason);
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	slave_send_ctl(s, SL_CONTROL_TERMINATE, code, reason);
	s->state = SLAVE_TERMINATING;
	s->deadline_ms = now + s->app->prof.terminate_ms;
}

/* Mark a worker dead: its requests will fail with [[cat, code], reason]. */
static void
slave_mark_dead(struct slave *s, int64_t cat, int64_t code, const char *reason, bool crash)
{
	if (reason != s->reason)
		snprintf(s->reason, sizeof(s->reason), "%s", reason);
	s->fail_cat = cat;
	s->fail_code = code;
	if (crash && !s->crashed) {
		s->crashed = true;
		pool_note_crash(s->app, loop_now_ms(&s->app->node->loop));
	}
	s->state = SLAVE_DEAD;
	if (s->conn != NULL)
		conn_close(s->conn, -ECONNABORTED);
}

void
slave_kill(struct slave *s, int64_t cat, int64_t code, const char *reason, bool crash)
{
	if (s->state == SLAVE_DEAD)
		return;
	if (s->pid > 0) {
		SLAVE_LOG(WARNING, "%s/%.8s: killing pid %d: %s", s->app->name, s->uuid,
			  (int)s->pid, reason);
		kill(s->pid, SIGKILL);
	}
	slave_mark_dead(s, cat, code, reason, crash);
}

void
slave_tick(struct slave *s, uint64_t now_ms)
{
	const struct nd_profile *p = &s->app->prof;
	char why[96];

	switch (s->state) {
	case SLAVE_SPAWNED:
		if (now_ms - s->spawned_ms >= p->startup_ms)
			slave_kill(s, SL_ECAT_SLAVE, SL_ESLAVE_SPAWN_TIMEOUT,
				   "no handshake within the startup timeout", true);
		break;
	case SLAVE_ACTIVE:
	case SLAVE_SEALING:
		if (now_ms - s->last_rx_ms >= p->heartbeat_ms) {
			snprintf(why, sizeof(why), "heartbeat timeout (nothing for %llu ms)",
				 (unsigned long long)(now_ms - s->last_rx_ms));
			slave_kill(s, SL_ECAT_SLAVE, SL_ESLAVE_HEARTBEAT_TIMEOUT, why, true);
		}
		break;
	case SLAVE_TERMINATING:
		if (now_ms >= s->deadline_ms)
			slave_kill(s, SL_ECAT_GENERIC, EPIPE,
				   "did not exit within the termination timeout", false);
		break;
	case SLAVE_DEAD:
		break;
	}
}

static void
slave_grave_free(struct loop_grave *g)
{
	struct slave *s = SL_CONTAINER_OF(g, struct slave, grave);
	uint32_t i;

	if (s->crashlog != NULL) {
		for (i = 0; i < s->app->prof.crashlog_limit; i++)
			free(s->crashlog[i]);
		free(s->crashlog);
	}
	free(s);
}

void
slave_free(struct slave *s)
{
	slave_out_close(s);
	s->grave.free_fn = slave_grave_free;
	loop_bury(&s->app->node->loop, &s->grave);
}

void
slave_reaped(struct node *n, pid_t pid, int status)
{
	struct slave *s = NULL;
	struct app *a;
	char how[64];

	for (a = NL_FIRST(&n->apps); a != NULL; a = NL_NEXT(a, link)) {
		for (s = NL_FIRST(&a->slaves); s != NULL; s = NL_NEXT(s, link))
			if (s->pid == pid)
				break;
		if (s != NULL)
			break;
	}
	if (s == NULL)
		return;
	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	s->pid = 0;
	if (s->state == SLAVE_SPAWNED || s->state == SLAVE_ACTIVE || s->state == SLAVE_SEALING) {
		char why[sizeof(s->reason)];

		snprintf(why, sizeof(why), "the worker has died (%s)", how);
		slave_mark_dead(s, SL_ECAT_GENERIC, EPIPE, why, true);
	}
	if (s->out.fd >= 0)
		slave_out_read(s);
	slave_out_close(s);
	if (s->crashed) {
		SLAVE_LOG(WARNING, "%s/%.8s: %s (%s)", a->name, s->uuid, how, s->reason);
		if (!a->prof.log_output && s->crashlog != NULL) {
			uint32_t i;

			for (i = 0; i < s->crash_n; i++)
				SLAVE_LOG(
					WARNING, "%s/%.8s: crashlog: %s", a->name, s->uuid,
					s->crashlog[(s->crash_head + i) % a->prof.crashlog_limit]);
		}
	} else {
		SLAVE_LOG(INFO, "%s/%.8s: %s", a->name, s->uuid, how);
	}
	s->state = SLAVE_DEAD;
	if (s->conn != NULL)
		conn_close(s->conn, -EPIPE);
	NL_REMOVE(&a->slaves, s, link);
	slave_free(s);
	pool_rebalance(a);
	pool_pump(a);
}
