/**
 * @file
 * Logging: levels, a component tag per message, stderr always and syslog when enabled.
 * Each component defines a local wrapper, e.g. `#define NET_LOG(l, ...) SL_LOG(l, "net",
 * __VA_ARGS__)`. Not for the hot path: workers log only on rare events (start, stop, errors that
 * are counted).
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdarg.h>

enum sl_log_level {
	SL_LOG_ERR = 3,
	SL_LOG_WARNING = 4,
	SL_LOG_NOTICE = 5,
	SL_LOG_INFO = 6,
	SL_LOG_DEBUG = 7,
};

/** Set the highest level printed (default SL_LOG_INFO). */
void sl_log_set_level(enum sl_log_level level);
enum sl_log_level sl_log_get_level(void);

/** Also send messages to syslog(3) with the given identity. */
void sl_log_open_syslog(const char *ident);

/**
 * Parse a level name ("err", "warning", "notice", "info", "debug").
 * @return the level, or -EINVAL.
 */
int sl_log_level_parse(const char *name);

void sl_log(enum sl_log_level level, const char *comp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sl_vlog(enum sl_log_level level, const char *comp, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define SL_LOG(lvl, comp, ...)                                                                     \
	do {                                                                                       \
		if (SL_LOG_##lvl <= sl_log_get_level())                                            \
			sl_log(SL_LOG_##lvl, comp, __VA_ARGS__);                                   \
	} while (0)

#endif /* SL_LOG_H */
