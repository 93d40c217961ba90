/*
 * Access log lines (logfmt) from the workers' records. The control thread formats them; the
 * workers only fill struct sl_access_rec (backend-t.h).
 */
#include "ctl-dispatch.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sl_addr.h"

struct out {
	char *buf;
	size_t len, o;
	bool full;
};

static void
put(struct out *w, const char *s, size_t n)
{
	if (w->full || w->o + n >= w->len) {
		w->full = true;
		return;
	}
	memcpy(w->buf + w->o, s, n);
	w->o += n;
}

static void
puts_(struct out *w, const char *s)
{
	put(w, s, strlen(s));
}

static void putf(struct out *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
putf(struct out *w, const char *fmt, ...)
{
	char tmp[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		w->full = true;
		return;
	}
	put(w, tmp, (size_t)n);
}

static bool
needs_quotes(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '=' || c == '\\')
			return true;
	}
	return false;
}

/* " key=value": "-" when empty, quoted and escaped when it must be. */
static void
put_kv(struct out *w, const char *key, const char *s, size_t n)
{
	put(w, " ", 1);
	puts_(w, key);
	put(w, "=", 1);
	if (n == 0) {
		put(w, "-", 1);
		return;
	}
	if (!needs_quotes(s, n)) {
		put(w, s, n);
		return;
	}
	put(w, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};

			put(w, e, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			putf(w, "\\x%02x", c);
		} else {
			put(w, &s[i], 1);
		}
	}
	put(w, "\"", 1);
}

static size_t
clamp(size_t n, size_t max)
{
	return n < max ? n : max;
}

int
sl_alog_format(char *buf, size_t len, const struct sl_access_rec *r, uint64_t utc_offset_us,
	       const struct sl_cluster *cl)
{
	struct out w = {.buf = buf, .len = len};
	uint64_t utc = r->mono_us + utc_offset_us;
	time_t sec = (time_t)(utc / 1000000);
	char a[SL_IP4_STRLEN], idx[16];
	struct tm tm;

	if (len == 0)
		return -ENOSPC;
	gmtime_r(&sec, &tm);
	putf(&w, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
	     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned int)(utc % 1000000));
	sl_ip4_str(r->client, a);
	putf(&w, " client=%s:%u", a, r->client_port);
	put_kv(&w, "method", r->method, clamp(r->method_len, sizeof(r->method)));
	put_kv(&w, "uri", r->uri, clamp(r->uri_len, sizeof(r->uri)));
	if (r->app == SL_CL_NONE) {
		put_kv(&w, "app", "", 0);
	} else if (cl != NULL && r->app < cl->n_apps) {
		put_kv(&w, "app", cl->apps[r->app].name,
		       strnlen(cl->apps[r->app].name, sizeof(cl->apps[0].name)));
	} else {
		snprintf(idx, sizeof(idx), "#%u", r->app);
		put_kv(&w, "app", idx, strlen(idx));
	}
	put_kv(&w, "event", r->event, clamp(r->event_len, sizeof(r->event)));
	if (r->node == SL_CL_NONE) {
		put_kv(&w, "node", "", 0);
	} else if (cl != NULL && r->node < cl->n_nodes) {
		put_kv(&w, "node", cl->nodes[r->node].name,
		       strnlen(cl->nodes[r->node].name, sizeof(cl->nodes[0].name)));
	} else {
		snprintf(idx, sizeof(idx), "#%u", r->node);
		put_kv(&w, "node", idx, strlen(idx));
	}
	putf(&w, " status=%u in=%llu out=%llu latency_us=%u retries=%u", r->status,
	     (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out, r->latency_us,
	     r->retries);
	put_kv(&w, "reqid", r->reqid, clamp(r->reqid_len, sizeof(r->reqid)));
	putf(&w, " worker=%u\n", r->worker);
	if (w.full)
		return -ENOSPC;
	buf[w.o] = '\0';
	return (int)w.o;
}
