/*
 * Logging to stderr (one write per line, so lines from several threads do not interleave)
 * and optionally to syslog.
 */
#include "sl_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static enum sl_log_level log_level = SL_LOG_INFO;
static int log_syslog;

static const char *const level_names[] = {
	[SL_LOG_ERR] = "err",	[SL_LOG_WARNING] = "warning", [SL_LOG_NOTICE] = "notice",
	[SL_LOG_INFO] = "info", [SL_LOG_DEBUG] = "debug",
};

void
sl_log_set_level(enum sl_log_level level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

enum sl_log_level
sl_log_get_level(void)
{
	return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

void
sl_log_open_syslog(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = 1;
}

int
sl_log_level_parse(const char *name)
{
	for (int l = SL_LOG_ERR; l <= SL_LOG_DEBUG; l++)
		if (strcmp(name, level_names[l]) == 0)
			return l;
	return -EINVAL;
}

void
sl_vlog(enum sl_log_level level, const char *comp, const char *fmt, va_list ap)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap2;
	int n, m;

	va_copy(ap2, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-7s %-6s ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts.tv_nsec / 1000000, level_names[level], comp);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nothing sensible to do when stderr is gone */
	}
	if (log_syslog)
		vsyslog((int)level, fmt, ap2);
	va_end(ap2);
}

void
sl_log(enum sl_log_level level, const char *comp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sl_vlog(level, comp, fmt, ap);
	va_end(ap);
}
