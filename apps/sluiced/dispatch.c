/*
 * The control thread's dispatch plumbing (issue 11): publish the view (control/nodes ->
 * struct sl_cluster -> workers, RCU), free old views, drain the workers' access log rings into
 * the access log file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl-dispatch.h"
#include "sl_log.h"
#include "sluiced.h"

#define DISP_LOG(l, ...) SL_LOG(l, "dispatch", __VA_ARGS__)
#define DISP_TICK_MS 100 /* access log drain and view reclamation */
#define DISP_ALOG_BUF (64 * 1024)

/* Build and publish the view if the picture changed. */
static void
publish(struct app *app)
{
	const struct sl_cluster_snap *s = sl_nodes_snapshot(app->nodes);
	struct sl_cluster *cl;
	int rc;

	if (app->view_published && s->generation == app->view_gen)
		return;
	cl = malloc(sizeof(*cl));
	if (cl == NULL) {
		DISP_LOG(WARNING, "view generation %llu: out of memory, retrying",
			 (unsigned long long)s->generation);
		return;
	}
	sl_nodes_view(app->nodes, &app->cfg, cl);
	rc = sl_dp_cluster_publish(app->dp, cl);
	if (rc < 0) {
		DISP_LOG(WARNING, "view generation %llu: %s", (unsigned long long)s->generation,
			 strerror(-rc));
		return;
	}
	app->view_gen = s->generation;
	app->view_published = true;
	app->views_published++;
}

static void
alog_drain(struct app *app)
{
	static struct sl_access_rec recs[64];
	char line[SL_ALOG_LINE_MAX];
	const struct sl_cluster *cl = sl_dp_cluster(app->dp);
	unsigned int n, total = 0;

	while ((n = sl_dp_alog_poll(app->dp, recs, SL_ARRAY_SIZE(recs))) > 0) {
		for (unsigned int i = 0; i < n; i++) {
			int len = sl_alog_format(line, sizeof(line), &recs[i], app->utc_offset_us,
						 cl);

			if (len > 0 && app->alog != NULL)
				fwrite(line, 1, (size_t)len, app->alog);
		}
		total += n;
	}
	if (total == 0 || app->alog == NULL)
		return;
	app->alog_lines += total;
	if (fflush(app->alog) != 0 || ferror(app->alog)) {
		if (app->alog_errors++ == 0)
			DISP_LOG(ERR, "dispatch.access_log %s: %s", app->cfg.dispatch.access_log,
				 strerror(errno));
		clearerr(app->alog);
	}
}

int
app_dispatch_start(struct app *app)
{
	struct timespec ts;

	/* the workers' clock (TSC microseconds) to UTC: one offset, taken now */
	clock_gettime(CLOCK_REALTIME, &ts);
	app->utc_offset_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000 -
			     sl_dp_clock_us(app->dp);
	if (app->cfg.dispatch.access_log[0] != '\0') {
		app->alog = fopen(app->cfg.dispatch.access_log, "ae");
		if (app->alog == NULL) {
			int rc = -errno;

			DISP_LOG(ERR, "dispatch.access_log %s: %s", app->cfg.dispatch.access_log,
				 strerror(-rc));
			return rc;
		}
		setvbuf(app->alog, NULL, _IOFBF, DISP_ALOG_BUF);
	}
	publish(app);
	if (!app->view_published)
		return -ENOMEM;
	app->dispatch_next_ms = app_now_ms() + DISP_TICK_MS;
	return 0;
}

int
app_dispatch_tick(struct app *app, uint64_t now_ms)
{
	publish(app);
	if (now_ms >= app->dispatch_next_ms) {
		alog_drain(app);
		sl_dp_cluster_reclaim(app->dp);
		app->dispatch_next_ms = now_ms + DISP_TICK_MS;
	}
	return (int)(app->dispatch_next_ms - now_ms);
}

void
app_dispatch_stop(struct app *app)
{
	alog_drain(app); /* the workers have stopped: the rings hold the last records */
	if (app->alog != NULL)
		fclose(app->alog);
	app->alog = NULL;
}
