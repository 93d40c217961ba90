/*
 * Listening sockets (TCP for services, unix for workers). Accepted sockets are
 * non-blocking and close-on-exec (workers must not inherit them).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "node.h"
#include "sl_log.h"
#include "sl_util.h"

#define LISTEN_LOG(l, ...) SL_LOG(l, "listen", __VA_ARGS__)
#define LISTEN_BACKLOG 1024
#define LISTEN_ACCEPTS_PER_EVENT 64

/* A descriptor kept in reserve: out of descriptors, a pending connection is accepted with it
 * and closed at once, rather than left to wake the (level-triggered) loop forever. */
static int reserve_fd = -1;

static void
listener_shed(struct listener *ls)
{
	int fd;

	if (reserve_fd >= 0) {
		close(reserve_fd);
		reserve_fd = -1;
	}
	fd = accept4(ls->io.fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
listener_on_io(struct loop_io *io, uint32_t events)
{
	struct listener *ls = SL_CONTAINER_OF(io, struct listener, io);
	int i;

	(void)events;
	if (reserve_fd < 0)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (i = 0; i < LISTEN_ACCEPTS_PER_EVENT && ls->io.fd >= 0; i++) {
		int fd = accept4(ls->io.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				LISTEN_LOG(WARNING, "accept: %s: connection dropped",
					   strerror(errno));
				listener_shed(ls);
				continue;
			}
			if (errno != EAGAIN)
				LISTEN_LOG(WARNING, "accept: %s", strerror(errno));
			return;
		}
		ls->on_accept(ls, fd);
	}
}

int
listener_tcp(struct loop *l, struct listener *ls, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1, rc;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			return -EINVAL;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			return -EINVAL;
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
		goto fail;
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		goto fail;
	ls->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						  : ((struct sockaddr_in *)&ss)->sin_port);
	ls->io.fd = fd;
	ls->io.cb = listener_on_io;
	ls->loop = l;
	rc = loop_add(l, &ls->io, EPOLLIN);
	if (rc < 0) {
		close(fd);
		ls->io.fd = -1;
		return rc;
	}
	return 0;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

int
listener_unix(struct loop *l, struct listener *ls, const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	ls->io.fd = fd;
	ls->io.cb = listener_on_io;
	ls->loop = l;
	ls->port = 0;
	rc = loop_add(l, &ls->io, EPOLLIN);
	if (rc < 0) {
		close(fd);
		ls->io.fd = -1;
	}
	return rc;
}

void
listener_close(struct listener *ls)
{
	if (ls->io.fd < 0)
		return;
	loop_del(ls->loop, &ls->io);
	close(ls->io.fd);
	ls->io.fd = -1;
}
