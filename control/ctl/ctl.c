/*
 * Control socket server. One epoll set of its own (its fd is nested into the control
 * thread's epoll), non-blocking clients, one line in -> one JSON line out, in order.
 */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sl_log.h"

#define CTL_LOG(l, ...) SL_LOG(l, "ctl", __VA_ARGS__)
#define OUT_MAX (4u << 20) /* a client that does not read its replies is dropped */

struct sl_ctl_req {
	struct ctl_client *c;
	int active;   /* a command is being answered */
	int resuming; /* client_resume() is on the stack: a reply must not re-enter it */
};

struct ctl_client {
	struct sl_ctl *ctl;
	int fd; /* -1 once closed while a request is pending */
	int eof;
	int closing; /* close once the output is flushed */
	size_t in_len;
	char in[SL_CTL_LINE_MAX + 1];
	char *out;
	size_t out_len, out_cap;
	struct sl_ctl_req req;
};

struct sl_ctl {
	int lfd, epfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const struct sl_ctl_cmd *cmds;
	unsigned int n_cmds;
	void *app;
	struct ctl_client *clients[SL_CTL_MAX_CLIENTS];
	struct sl_ctl_stats stats;
};

static void client_resume(struct ctl_client *c);

static int
mkdir_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

struct sl_ctl *
sl_ctl_open(const char *path, const struct sl_ctl_cmd *cmds, unsigned int n_cmds, void *app)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	struct sl_ctl *ctl;
	mode_t old;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path) || path[0] != '/') {
		errno = EINVAL;
		return NULL;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL)
		return NULL;
	ctl->lfd = ctl->epfd = -1;
	ctl->cmds = cmds;
	ctl->n_cmds = n_cmds;
	ctl->app = app;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);

	err = mkdir_parent(path);
	if (err < 0) {
		errno = -err;
		goto fail;
	}
	/* A socket file nobody answers on is left over from a killed daemon: replace it. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		errno = EADDRINUSE;
		goto fail;
	}
	close(fd);
	unlink(path);

	ctl->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->lfd < 0)
		goto fail;
	old = umask(0177);
	err = bind(ctl->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (err != 0 || chmod(path, 0600) != 0 || listen(ctl->lfd, 16) != 0)
		goto fail;
	ctl->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctl->epfd < 0 || epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, ctl->lfd, &ev) != 0)
		goto fail;
	return ctl;
fail:
	err = errno;
	if (ctl->lfd >= 0)
		close(ctl->lfd);
	if (ctl->epfd >= 0)
		close(ctl->epfd);
	free(ctl);
	errno = err;
	return NULL;
}

int
sl_ctl_fd(const struct sl_ctl *ctl)
{
	return ctl->epfd;
}

const struct sl_ctl_cmd *
sl_ctl_cmds(const struct sl_ctl *ctl, unsigned int *n)
{
	*n = ctl->n_cmds;
	return ctl->cmds;
}

void
sl_ctl_get_stats(const struct sl_ctl *ctl, struct sl_ctl_stats *st)
{
	*st = ctl->stats;
	st->clients = 0;
	for (unsigned int i = 0; i < SL_CTL_MAX_CLIENTS; i++)
		st->clients += ctl->clients[i] != NULL;
}

static void
client_free(struct ctl_client *c)
{
	free(c->out);
	free(c);
}

/* Close the descriptor; the memory goes when no request is pending on it. */
static void
client_close(struct ctl_client *c)
{
	struct sl_ctl *ctl = c->ctl;

	if (c->fd >= 0) {
		epoll_ctl(ctl->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
		for (unsigned int i = 0; i < SL_CTL_MAX_CLIENTS; i++)
			if (ctl->clients[i] == c)
				ctl->clients[i] = NULL;
	}
	if (!c->req.active)
		client_free(c);
}

static void
client_watch(struct ctl_client *c)
{
	struct epoll_event ev = {.events = EPOLLIN | (c->out_len ? EPOLLOUT : 0u), .data.ptr = c};

	epoll_ctl(c->ctl->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write what we can; @return -1 when the client is gone. */
static int
client_flush(struct ctl_client *c)
{
	while (c->out_len > 0) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -1;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	client_watch(c);
	return 0;
}

static void
client_send(struct ctl_client *c, json_t *reply)
{
	char *s = json_dumps(reply, JSON_COMPACT | JSON_ENSURE_ASCII);
	size_t len;

	json_decref(reply);
	if (c->fd < 0 || s == NULL) {
		free(s);
		return;
	}
	len = strlen(s);
	if (c->out_len + len + 1 > OUT_MAX) {
		CTL_LOG(WARNING, "client fd %d does not read its replies: dropped", c->fd);
		c->closing = 1;
		free(s);
		return;
	}
	if (c->out_len + len + 1 > c->out_cap) {
		size_t cap = (c->out_len + len + 1) * 2;
		char *p = realloc(c->out, cap);

		if (p == NULL) {
			c->closing = 1;
			free(s);
			return;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	free(s);
	if (client_flush(c) < 0)
		c->closing = 1;
}

static void
req_finish(struct sl_ctl_req *req, json_t *reply)
{
	struct ctl_client *c = req->c;

	req->active = 0;
	client_send(c, reply);
	if (c->fd < 0) {
		client_free(c);
		return;
	}
	if (!req->resuming)
		client_resume(c);
}

void
sl_ctl_reply_ok(struct sl_ctl_req *req, json_t *data)
{
	json_t *r = json_pack("{s:b}", "ok", 1);

	json_object_set_new(r, "data", data != NULL ? data : json_null());
	req_finish(req, r);
}

void
sl_ctl_reply_err(struct sl_ctl_req *req, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	req->c->ctl->stats.errors++;
	req_finish(req, json_pack("{s:b,s:s}", "ok", 0, "error", msg));
}

/* Split on blanks in place. @return word count, or -1 when there are too many. */
static int
split_words(char *line, char **argv)
{
	int argc = 0;

	for (char *p = strtok(line, " \t"); p != NULL; p = strtok(NULL, " \t")) {
		if (argc == SL_CTL_MAX_ARGS)
			return -1;
		argv[argc++] = p;
	}
	return argc;
}

/* How many leading words of argv spell cmd->words; 0 when they do not. */
static int
cmd_match(const struct sl_ctl_cmd *cmd, int argc, char **argv)
{
	const char *w = cmd->words;
	int i = 0;

	while (*w) {
		size_t len = strcspn(w, " ");

		if (i >= argc || strlen(argv[i]) != len || strncmp(argv[i], w, len) != 0)
			return 0;
		i++;
		w += len;
		w += strspn(w, " ");
	}
	return i;
}

static int
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static void
run_line(struct ctl_client *c, char *line)
{
	struct sl_ctl *ctl = c->ctl;
	char *argv[SL_CTL_MAX_ARGS];
	int argc, best = 0, used = 0, ret;
	const struct sl_ctl_cmd *cmd = NULL;

	ctl->stats.commands++;
	c->req.c = c;
	c->req.active = 1;
	if (!printable(line)) {
		sl_ctl_reply_err(&c->req,
				 "malformed command: control characters or non-ASCII bytes");
		return;
	}
	argc = split_words(line, argv);
	if (argc < 0) {
		sl_ctl_reply_err(&c->req, "too many words (at most %d)", SL_CTL_MAX_ARGS);
		return;
	}
	if (argc == 0) {
		sl_ctl_reply_err(&c->req, "empty command (try \"help\")");
		return;
	}
	for (unsigned int i = 0; i < ctl->n_cmds; i++) {
		int n = cmd_match(&ctl->cmds[i], argc, argv);

		if (n > best) {
			best = n;
			cmd = &ctl->cmds[i];
		}
	}
	if (cmd == NULL) {
		sl_ctl_reply_err(&c->req, "unknown command: \"%s\" (try \"help\")", argv[0]);
		return;
	}
	used = best;
	ret = cmd->handler(ctl->app, &c->req, argc - used, argv + used);
	if (ret < 0 && c->req.active)
		sl_ctl_reply_err(&c->req, "%s: %s", cmd->words, strerror(-ret));
	else if (ret == 0 && c->req.active)
		sl_ctl_reply_err(&c->req, "%s: no reply", cmd->words);
}

/* Run the complete lines we hold, one at a time, stopping at a pending request. */
static void
client_resume(struct ctl_client *c)
{
	c->req.resuming = 1;
	while (!c->req.active && c->fd >= 0 && !c->closing) {
		char *nl = memchr(c->in, '\n', c->in_len);
		size_t len;

		if (nl == NULL) {
			if (c->in_len == SL_CTL_LINE_MAX) {
				c->req.c = c;
				c->req.active = 1;
				sl_ctl_reply_err(&c->req, "line too long (at most %d bytes)",
						 SL_CTL_LINE_MAX - 1);
				c->closing = 1;
			} else if (c->eof && c->in_len > 0) {
				/* The last line of a client that closed without a newline. */
				c->in[c->in_len] = '\0';
				c->in_len = 0;
				run_line(c, c->in);
				continue;
			}
			break;
		}
		len = (size_t)(nl - c->in);
		*nl = '\0';
		if (len > 0 && c->in[len - 1] == '\r')
			c->in[len - 1] = '\0';
		{
			char line[SL_CTL_LINE_MAX + 1];

			memcpy(line, c->in, len + 1);
			memmove(c->in, nl + 1, c->in_len - len - 1);
			c->in_len -= len + 1;
			run_line(c, line);
		}
	}
	c->req.resuming = 0;
	if (c->fd >= 0 && !c->req.active && (c->closing || c->eof) && c->out_len == 0)
		client_close(c);
}

static void
client_readable(struct ctl_client *c)
{
	while (c->in_len < SL_CTL_LINE_MAX && !c->eof) {
		ssize_t n = recv(c->fd, c->in + c->in_len, SL_CTL_LINE_MAX - c->in_len, 0);

		if (n == 0) {
			c->eof = 1;
			break;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			c->closing = 1;
			c->eof = 1;
			break;
		}
		c->in_len += (size_t)n;
		if (memchr(c->in + c->in_len - n, '\n', (size_t)n) != NULL)
			break;
	}
	client_resume(c);
}

static void
accept_clients(struct sl_ctl *ctl)
{
	for (;;) {
		int fd = accept4(ctl->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ctl_client *c;
		struct epoll_event ev;
		unsigned int slot;

		if (fd < 0)
			return;
		ctl->stats.accepted++;
		for (slot = 0; slot < SL_CTL_MAX_CLIENTS && ctl->clients[slot]; slot++)
			;
		c = slot < SL_CTL_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
		if (c == NULL) {
			static const char busy[] =
				"{\"ok\":false,\"error\":\"too many control clients\"}\n";

			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* it is being turned away anyway */
			}
			close(fd);
			continue;
		}
		c->ctl = ctl;
		c->fd = fd;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(ctl->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			free(c);
			continue;
		}
		ctl->clients[slot] = c;
	}
}

void
sl_ctl_process(struct sl_ctl *ctl)
{
	struct epoll_event evs[16];
	int n = epoll_wait(ctl->epfd, evs, 16, 0);

	for (int i = 0; i < n; i++) {
		struct ctl_client *c = evs[i].data.ptr;

		if (c == NULL) {
			accept_clients(ctl);
			continue;
		}
		if (c->fd < 0)
			continue;
		if ((evs[i].events & EPOLLOUT) && client_flush(c) < 0) {
			c->closing = 1;
			c->out_len = 0;
		}
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			client_readable(c);
		else
			client_resume(c);
	}
}

void
sl_ctl_close(struct sl_ctl *ctl)
{
	if (ctl == NULL)
		return;
	for (unsigned int i = 0; i < SL_CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = ctl->clients[i];

		if (c == NULL)
			continue;
		c->req.active = 0; /* the application is going away with its requests */
		client_close(c);
	}
	close(ctl->lfd);
	close(ctl->epfd);
	unlink(ctl->path);
	free(ctl);
}
