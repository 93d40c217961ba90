/*
 * The graceful stop (SIGTERM): the workers drain (HTTP: /-/health answers 503, connections
 * close after their current answer) and refuse new TCP connections (RST,ACK to a SYN); the
 * control loop keeps serving and polls the workers' gauges every STOP_POLL_MS until nothing
 * is left to finish, or limits.drain_timeout_ms passes; then it stops. docs/http.md, "Drain".
 *
 * "Nothing left" is read from the counters each worker writes for itself, summed:
 *   - HTTP `inflight`: requests from their head to their answer queued;
 *   - HTTP `active`: connections the HTTP front still holds (an answer queued but not yet
 *     handed to TCP, a lingering close waiting for the peer's FIN, an idle keep-alive one);
 *   - TCP connections in FIN_WAIT_1, CLOSING and LAST_ACK: closed by the application, their
 *     last bytes or FIN not yet acknowledged by the peer. In FIN_WAIT_2 and TIME_WAIT the
 *     peer has acknowledged everything we sent, so a complete answer has reached it.
 * The HTTP gauges are read before the TCP ones (a connection is closed in TCP before the
 * HTTP front lets go of it), and the condition must hold on two polls in a row.
 */
#include <signal.h>
#include <string.h>

#include "sl_log.h"
#include "sluiced.h"
#include "tcp-t.h"

#define STOP_LOG(l, ...) SL_LOG(l, "main", __VA_ARGS__)
#define STOP_POLL_MS 10
#define STOP_QUIET_POLLS 2

void
app_drain_left(const struct app *app, struct app_drain_left *left)
{
	struct sl_http_stats hs;
	struct sl_tcp_stats ts;

	memset(left, 0, sizeof(*left));
	for (unsigned int w = 0; w < app->dp->n_workers; w++) {
		sl_dp_http_stats(app->dp, w, &hs);
		left->inflight += hs.inflight;
		left->http_conns += hs.active;
	}
	for (unsigned int w = 0; w < app->dp->n_workers; w++) {
		sl_dp_tcp_stats(app->dp, w, &ts);
		left->tcp_closing += ts.conns[SL_TCP_FIN_WAIT_1] + ts.conns[SL_TCP_CLOSING] +
				     ts.conns[SL_TCP_LAST_ACK];
	}
}

const char *
app_run_state(const struct app *app)
{
	if (app->stop || app->stopping)
		return "stopping";
	return app->draining ? "draining" : "running";
}

/* Tell every worker to drain and refuse; a worker that could not be told is told again at
 * the next poll (both messages are idempotent). */
static void
stop_post(struct app *app)
{
	int r1 = sl_dp_drain(app->dp, true);
	int r2 = sl_dp_refuse(app->dp, true);

	app->draining = true;
	if (r1 == 0 && r2 == 0) {
		app->stop_posted = true;
		return;
	}
	if (!app->stop_post_warned)
		STOP_LOG(WARNING, "drain: could not reach every worker (%s): trying again",
			 strerror(-(r1 != 0 ? r1 : r2)));
	app->stop_post_warned = true;
}

static void
stop_now(struct app *app, const char *why)
{
	struct app_drain_left left;

	app->stop = 1;
	if (!app->stopping)
		return;
	app_drain_left(app, &left);
	if (left.inflight != 0 || left.http_conns != 0 || left.tcp_closing != 0)
		STOP_LOG(WARNING,
			 "%s after %llu ms of drain: %llu requests still in flight cut, %llu HTTP "
			 "connections and %llu closing TCP connections left",
			 why, (unsigned long long)(app_now_ms() - app->stop_t0_ms),
			 (unsigned long long)left.inflight, (unsigned long long)left.http_conns,
			 (unsigned long long)left.tcp_closing);
	else
		STOP_LOG(NOTICE, "%s after %llu ms of drain: nothing left in flight", why,
			 (unsigned long long)(app_now_ms() - app->stop_t0_ms));
}

void
app_signal(struct app *app, int signo)
{
	if (signo == SIGTERM && !app->stopping) {
		STOP_LOG(NOTICE,
			 "signal %s: stopping after a drain: new connections refused, requests in "
			 "flight finish (at most %u ms; SIGINT or another SIGTERM stops at once)",
			 strsignal(signo), app->cfg.limits.drain_timeout_ms);
		app->stopping = true;
		app->stop_quiet = 0;
		app->stop_t0_ms = app_now_ms();
		app->stop_deadline_ms = app->stop_t0_ms + app->cfg.limits.drain_timeout_ms;
		stop_post(app);
		return;
	}
	STOP_LOG(NOTICE, "signal %s: stopping%s", strsignal(signo),
		 app->stopping ? " at once" : "");
	stop_now(app, "stopped at once");
}

int
app_stop_tick(struct app *app)
{
	struct app_drain_left left;
	uint64_t now;

	if (!app->stopping || app->stop)
		return -1;
	if (!app->stop_posted)
		stop_post(app);
	now = app_now_ms();
	app_drain_left(app, &left);
	if (app->stop_posted && left.inflight == 0 && left.http_conns == 0 &&
	    left.tcp_closing == 0) {
		if (++app->stop_quiet >= STOP_QUIET_POLLS) {
			STOP_LOG(NOTICE, "drained in %llu ms: stopping",
				 (unsigned long long)(now - app->stop_t0_ms));
			app->stop = 1;
			return 0;
		}
	} else {
		app->stop_quiet = 0;
	}
	if (now >= app->stop_deadline_ms) {
		STOP_LOG(WARNING, "drain timeout (limits.drain_timeout_ms %u) reached",
			 app->cfg.limits.drain_timeout_ms);
		stop_now(app, "stopping");
		return 0;
	}
	return (int)(app->stop_deadline_ms - now < STOP_POLL_MS ? app->stop_deadline_ms - now
								: STOP_POLL_MS);
}
