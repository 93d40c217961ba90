/*
 * kecho: the Linux kernel's side of the tcp-echo benchmark. A single-threaded epoll echo
 * server, as lean as a kernel-socket server gets, so that its CPU time per round trip is
 * the kernel's cost (plus a minimal loop) for the same load sluiced serves.
 *
 *   kecho ADDR PORT      runs until SIGTERM; prints nothing
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct epoll_event ev, evs[64];
	char buf[65536];
	int lfd, ep, one = 1;

	if (argc != 3 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: kecho ADDR PORT\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[2]));
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lfd, 1024) != 0) {
		perror("kecho: listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!stop) {
		int n = epoll_wait(ep, evs, 64, 200);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == lfd) {
				int c;

				while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.fd = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			for (;;) {
				ssize_t r = read(fd, buf, sizeof(buf));

				if (r > 0) {
					if (write(fd, buf, (size_t)r) != r) {
						close(fd);
						break;
					}
					continue;
				}
				if (r == 0 || errno != EAGAIN)
					close(fd);
				break;
			}
		}
	}
	return 0;
}
