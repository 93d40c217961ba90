/**
 * @file
 * The control socket: a unix stream socket (mode 0600) served by the control thread.
 *
 * Protocol: the client sends one command per line (words separated by blanks, at most
 * SL_CTL_LINE_MAX bytes); the server answers each line, in order, with one line of JSON:
 *   {"ok": true, "data": ...}      or      {"ok": false, "error": "message"}
 * Several commands may be sent on one connection. A line that is too long gets an error
 * and the connection is closed; anything else malformed gets an error and the socket keeps
 * serving.
 *
 * Commands come from a table of handlers. A handler answers at once with sl_ctl_reply_ok()
 * or sl_ctl_reply_err(), or returns SL_CTL_PENDING and answers later (the client's next
 * commands wait). Single-threaded: everything runs on the control thread.
 */
#ifndef SL_CTL_H
#define SL_CTL_H

#include <jansson.h>

#define SL_CTL_LINE_MAX 4096
#define SL_CTL_MAX_CLIENTS 64
#define SL_CTL_MAX_ARGS 32
#define SL_CTL_PENDING 1

struct sl_ctl;
struct sl_ctl_req;

/**
 * A command handler. `argv` holds the words after the command's own words.
 * @return 0 when a reply was given, SL_CTL_PENDING to reply later; a negative value makes
 *         the server answer with a generic error.
 */
typedef int (*sl_ctl_handler_t)(void *app, struct sl_ctl_req *req, int argc, char **argv);

struct sl_ctl_cmd {
	const char *words; /* "show stats" */
	const char *usage; /* "show stats" */
	const char *help;
	sl_ctl_handler_t handler;
};

/**
 * Create the socket at `path`, creating its directory if needed. A stale socket file is
 * replaced; a live one (something answers on it) is an error.
 * @return the server, or NULL with errno set (EADDRINUSE when another server answers).
 */
struct sl_ctl *sl_ctl_open(const char *path, const struct sl_ctl_cmd *cmds, unsigned int n_cmds,
			   void *app);

/** An epoll descriptor to watch for readability; then call sl_ctl_process(). */
int sl_ctl_fd(const struct sl_ctl *ctl);

/** Accept clients, read their lines, run handlers, write replies. Never blocks. */
void sl_ctl_process(struct sl_ctl *ctl);

/** Close every client and the socket; remove the socket file. */
void sl_ctl_close(struct sl_ctl *ctl);

/** Reply to a request with `data` (reference stolen; NULL for no data). Ends the request. */
void sl_ctl_reply_ok(struct sl_ctl_req *req, json_t *data);

/** Reply with an error message. Ends the request. */
void sl_ctl_reply_err(struct sl_ctl_req *req, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** The command table, for `help`. */
const struct sl_ctl_cmd *sl_ctl_cmds(const struct sl_ctl *ctl, unsigned int *n);

/** Counters of the control socket itself. */
struct sl_ctl_stats {
	unsigned long long accepted, commands, errors, clients;
};
void sl_ctl_get_stats(const struct sl_ctl *ctl, struct sl_ctl_stats *st);

#endif /* SL_CTL_H */
