/*
 * sluicectl: the operator's client for sluiced's control socket.
 *
 *   sluicectl [--socket PATH] [--json] [--timeout SEC] COMMAND [ARGS...]
 *
 * Sends COMMAND as one line, reads one JSON line back. With --json (anywhere on the line)
 * the reply's data is printed as JSON; otherwise as aligned tables. Exit status: 0 when
 * sluiced answered ok, 1 when it answered with an error (printed on stderr), 2 when it could
 * not be reached or answered something that is not a reply.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define DEFAULT_SOCKET "/run/sluice/sluiced.sock"
#define LINE_MAX_LEN 4096
#define REPLY_MAX (16u << 20)

static void
usage(FILE *f)
{
	fprintf(f, "usage: sluicectl [--socket PATH] [--json] [--timeout SEC] COMMAND [ARGS...]\n"
		   "       (socket default: $SLUICE_SOCKET or " DEFAULT_SOCKET ")\n"
		   "commands: help, show info, show stats, show nodes, show apps,\n"
		   "          ping ADDR [--worker N] [--count C],\n"
		   "          test connect ADDR PORT BYTES [--count N] [--worker W],\n"
		   "          drain on|off, shutdown\n");
}

static void print_table(const char *title, json_t *arr, int indent);

static void
scalar_str(json_t *v, char *buf, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(buf, len, "%s", json_string_length(v) > 0 ? json_string_value(v) : "-");
		break;
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, len, "%.2f", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, len, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, len, "false");
		break;
	case JSON_NULL:
		snprintf(buf, len, "-");
		break;
	case JSON_ARRAY: {
		/* a list of scalars (endpoints, node addresses): comma-separated */
		size_t i, o = 0;
		json_t *e;

		snprintf(buf, len, "-");
		json_array_foreach(v, i, e)
		{
			char one[128];

			if (json_is_object(e) || json_is_array(e))
				goto dump;
			scalar_str(e, one, sizeof(one));
			if (o < len)
				o += (size_t)snprintf(buf + o, len - o, "%s%s", i > 0 ? "," : "",
						      one);
		}
		break;
	}
	default:
	dump : {
		char *s = json_dumps(v, JSON_COMPACT);

		snprintf(buf, len, "%s", s ? s : "?");
		free(s);
	}
	}
}

static int
is_table(json_t *v)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return 0;
	json_array_foreach(v, i, e) if (!json_is_object(e)) return 0;
	return 1;
}

/* Objects: one "key  value" line each, keys aligned. */
static void
print_object(json_t *obj, int indent)
{
	const char *k;
	json_t *v;
	int w = 0;
	char buf[512];

	json_object_foreach(obj, k, v) if ((int)strlen(k) > w && !json_is_object(v) && !is_table(v))
		w = (int)strlen(k);
	json_object_foreach(obj, k, v)
	{
		if (json_is_object(v)) {
			printf("%*s%s:\n", indent, "", k);
			print_object(v, indent + 2);
		} else if (is_table(v)) {
			print_table(k, v, indent);
		} else {
			scalar_str(v, buf, sizeof(buf));
			printf("%*s%-*s  %s\n", indent, "", w, k, buf);
		}
	}
}

/*
 * Arrays of objects: a table, one row per element. Wide ones (many counters) are printed
 * transposed, one row per key and one column per element, so they fit a terminal.
 */
static void
print_table(const char *title, json_t *arr, int indent)
{
	size_t n = json_array_size(arr), nkeys = json_object_size(json_array_get(arr, 0));
	json_t *first = json_array_get(arr, 0);
	char buf[256];
	const char *k;
	json_t *v;

	/* rows holding objects (show nodes: each node's apps) are printed one block each */
	json_object_foreach(first, k, v) if (json_is_object(v) || is_table(v))
	{
		for (size_t i = 0; i < n; i++) {
			printf("%*s%s[%zu]:\n", indent, "", title, i);
			print_object(json_array_get(arr, i), indent + 2);
		}
		return;
	}
	printf("%*s%s:\n", indent, "", title);
	if (nkeys > 8) {
		int kw = 0, cw = 0;

		json_object_foreach(first, k, v) if ((int)strlen(k) > kw) kw = (int)strlen(k);
		for (size_t i = 0; i < n; i++) {
			json_object_foreach(json_array_get(arr, i), k, v)
			{
				scalar_str(v, buf, sizeof(buf));
				if ((int)strlen(buf) > cw)
					cw = (int)strlen(buf);
			}
		}
		json_object_foreach(first, k, v)
		{
			printf("%*s  %-*s", indent, "", kw, k);
			for (size_t i = 0; i < n; i++) {
				scalar_str(json_object_get(json_array_get(arr, i), k), buf,
					   sizeof(buf));
				printf("  %*s", cw, buf);
			}
			printf("\n");
		}
		return;
	}
	{
		int widths[64] = {0};
		size_t c = 0;

		json_object_foreach(first, k, v)
		{
			if (c < 64)
				widths[c] = (int)strlen(k);
			c++;
		}
		for (size_t i = 0; i < n; i++) {
			c = 0;
			json_object_foreach(first, k, v)
			{
				scalar_str(json_object_get(json_array_get(arr, i), k), buf,
					   sizeof(buf));
				if (c < 64 && (int)strlen(buf) > widths[c])
					widths[c] = (int)strlen(buf);
				c++;
			}
		}
		printf("%*s ", indent, "");
		c = 0;
		json_object_foreach(first, k, v)
		{
			printf(" %*s", c < 64 ? widths[c] : 0, k);
			c++;
		}
		printf("\n");
		for (size_t i = 0; i < n; i++) {
			printf("%*s ", indent, "");
			c = 0;
			json_object_foreach(first, k, v)
			{
				scalar_str(json_object_get(json_array_get(arr, i), k), buf,
					   sizeof(buf));
				printf(" %*s", c < 64 ? widths[c] : 0, buf);
				c++;
			}
			printf("\n");
		}
	}
}

static int
connect_socket(const char *path, int timeout_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	(void)timeout_ms;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "sluicectl: socket path too long: %s\n", path);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "sluicectl: cannot reach sluiced at %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Read one line (the reply) within the timeout. @return malloc'd line or NULL. */
static char *
read_reply(int fd, int timeout_ms)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (buf != NULL) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		long spent;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		spent = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (spent >= timeout_ms || poll(&pfd, 1, (int)(timeout_ms - spent)) <= 0) {
			fprintf(stderr, "sluicectl: no reply within %d ms\n", timeout_ms);
			break;
		}
		if (len + 1 >= cap) {
			char *p = cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;

			if (p == NULL) {
				fprintf(stderr, "sluicectl: reply too large\n");
				break;
			}
			buf = p;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n <= 0) {
			fprintf(stderr, "sluicectl: connection closed before a reply\n");
			break;
		}
		len += (size_t)n;
		if (memchr(buf + len - n, '\n', (size_t)n) != NULL) {
			buf[len] = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

int
main(int argc, char **argv)
{
	const char *path = getenv("SLUICE_SOCKET");
	char line[LINE_MAX_LEN];
	int json = 0, timeout_ms = 0, fd, status = 2;
	size_t len = 0;
	json_t *reply, *data;
	json_error_t jerr;
	char *text;

	if (path == NULL || *path == '\0')
		path = DEFAULT_SOCKET;
	line[0] = '\0';
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc && len == 0) {
			path = argv[++i];
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc && len == 0) {
			timeout_ms = atoi(argv[++i]) * 1000;
			if (timeout_ms <= 0) {
				fprintf(stderr, "sluicectl: --timeout needs a positive integer\n");
				return 2;
			}
		} else if ((strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) &&
			   len == 0) {
			usage(stdout);
			return 0;
		} else {
			int n = snprintf(line + len, sizeof(line) - len, "%s%s", len ? " " : "",
					 argv[i]);

			if (n < 0 || (size_t)n >= sizeof(line) - len - 1) {
				fprintf(stderr, "sluicectl: command too long\n");
				return 2;
			}
			len += (size_t)n;
		}
	}
	if (len == 0) {
		usage(stderr);
		return 2;
	}
	/* `test` commands take as long as they were told to (their --timeout): wait 10 min */
	if (timeout_ms == 0)
		timeout_ms = strncmp(line, "test ", 5) == 0 ? 600000 : 10000;
	line[len++] = '\n';
	fd = connect_socket(path, timeout_ms);
	if (fd < 0)
		return 2;
	if (send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len) {
		fprintf(stderr, "sluicectl: send: %s\n", strerror(errno));
		close(fd);
		return 2;
	}
	text = read_reply(fd, timeout_ms);
	close(fd);
	if (text == NULL)
		return 2;
	reply = json_loads(text, 0, &jerr);
	free(text);
	if (!json_is_object(reply) || !json_is_boolean(json_object_get(reply, "ok"))) {
		fprintf(stderr, "sluicectl: not a reply from sluiced\n");
		json_decref(reply);
		return 2;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		const char *msg = json_string_value(json_object_get(reply, "error"));

		if (json) {
			json_t *e = json_pack("{s:s}", "error", msg ? msg : "error");
			char *s = json_dumps(e, JSON_INDENT(2));

			printf("%s\n", s);
			free(s);
			json_decref(e);
		}
		fprintf(stderr, "sluicectl: %s\n", msg ? msg : "error");
		json_decref(reply);
		return 1;
	}
	data = json_object_get(reply, "data");
	if (json) {
		char *s = json_dumps(data, JSON_INDENT(2) | JSON_ENCODE_ANY);

		printf("%s\n", s ? s : "null");
		free(s);
	} else if (json_is_object(data)) {
		print_object(data, 0);
	} else if (!json_is_null(data)) {
		char buf[512];

		scalar_str(data, buf, sizeof(buf));
		printf("%s\n", buf);
	}
	status = 0;
	json_decref(reply);
	return status;
}
