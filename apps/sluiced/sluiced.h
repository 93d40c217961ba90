/*
 * sluiced's application state: what the control thread owns. Only apps/sluiced sees it;
 * the data plane gets the parts it needs through struct sl_dp.
 */
#ifndef SLUICED_H
#define SLUICED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "ctl.h"
#include "nodes.h"
#include "worker.h"

#define SLUICED_MAX_PINGS 64

/* An operator's `ping` in flight. */
struct app_ping {
	struct sl_ctl_req *req; /* NULL: slot free */
	struct sl_ip4 dst;
	unsigned int worker;
	unsigned int count, sent, received, failed;
	uint16_t seq0;
	uint64_t interval_ms, timeout_ms;
	uint64_t next_send_ms, deadline_ms;
	int last_error;
	json_t *replies;
};

/* The operator's `test connect` in flight (one at a time). */
struct app_test {
	struct sl_ctl_req *req; /* NULL: none */
	struct sl_ip4 dst;
	uint16_t port;
	uint32_t bytes;
	int worker; /* -1: every worker in turn */
	unsigned int count, posted, done, verified;
	unsigned int in_flight_max;
	uint32_t id0;
	uint64_t t0_ms, deadline_ms;
	uint64_t cycles_sum;
	unsigned int by_worker[SL_MAX_WORKERS];
	json_t *errors; /* "strerror": count */
};

struct app {
	struct sl_config cfg;
	struct sl_port ports[SL_MAX_PORTS];
	struct sl_dp_port_l3 l3[SL_MAX_PORTS];
	unsigned int n_ports;
	struct sl_dp *dp;
	struct sl_ctl *ctl;
	struct sl_nodes *nodes; /* discovery: nodes, apps' endpoints and info */
	struct timespec started;
	int stop;
	bool draining; /* drain on was asked */
	/* the graceful stop (SIGTERM, drain.c): draining and refusing since stop_t0_ms */
	bool stopping;
	bool stop_posted;	 /* the drain and refuse messages reached every worker */
	bool stop_post_warned;	 /* and when they did not, it was logged */
	unsigned int stop_quiet; /* polls in a row that found nothing left */
	uint64_t stop_t0_ms, stop_deadline_ms;
	uint16_t next_seq;
	struct app_ping pings[SLUICED_MAX_PINGS];
	struct app_test test;
	uint32_t next_test_id;
	/* dispatch (dispatch.c): the published view, the access log */
	bool view_published;
	uint64_t view_gen;	  /* generation of the last view published */
	uint64_t views_published; /* how many */
	uint64_t utc_offset_us;	  /* worker clock + this = UTC */
	uint64_t dispatch_next_ms;
	FILE *alog; /* dispatch.access_log, NULL: none */
	uint64_t alog_lines, alog_errors;
};

extern const struct sl_ctl_cmd app_cmds[];
extern const unsigned int app_n_cmds;

uint64_t app_now_ms(void);
/* Control-loop work for pings: sends due, deadlines; @return ms until the next event or -1. */
int app_pings_tick(struct app *app);
void app_ping_result(struct app *app, const struct sl_msg *msg);
void app_pings_abort(struct app *app);
/* The same for `test connect`. */
int app_test_tick(struct app *app);
void app_test_result(struct app *app, const struct sl_msg *msg);
void app_test_abort(struct app *app);
/* Dispatch: publish the first view and open the access log before the workers start
 * (@return 0 or -errno); then on every control loop turn publish a new view when the
 * discovery picture changed, and every 100 ms drain the access log rings and free old views
 * (@return ms until the next tick); at the end (workers stopped) drain and close. */
int app_dispatch_start(struct app *app);
int app_dispatch_tick(struct app *app, uint64_t now_ms);
void app_dispatch_stop(struct app *app);

/* What a drain still waits for, summed over the workers (drain.c). */
struct app_drain_left {
	uint64_t inflight;    /* HTTP requests from head to answer queued */
	uint64_t http_conns;  /* HTTP connections held */
	uint64_t tcp_closing; /* TCP connections in FIN_WAIT_1, CLOSING, LAST_ACK */
};
void app_drain_left(const struct app *app, struct app_drain_left *left);
/* A signal from the signalfd: SIGTERM starts the graceful stop (the first time); SIGINT,
 * SIGHUP and a second SIGTERM stop at once. */
void app_signal(struct app *app, int signo);
/* Control-loop work of the graceful stop: @return ms until the next poll, or -1 when not
 * stopping (sets app->stop when drained or at limits.drain_timeout_ms). */
int app_stop_tick(struct app *app);
/* "running", "draining" (`drain on`) or "stopping". */
const char *app_run_state(const struct app *app);

#endif /* SLUICED_H */
