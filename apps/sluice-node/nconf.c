/*
 * sluice-node configuration: the node's JSON file, profiles and manifests (see nconf.h).
 *
 * Objects are read with a table of fields (name, reader, offset, range), in the manner of
 * sluiced's config (control/config): the keys of an object are walked in file order, each
 * handed to its field's reader, so the first error in the file is the one reported. The
 * walker keeps the JSON path of the value being read and every message starts with the
 * file and that path. The node's own file refuses unknown keys (typos); profiles and
 * manifests ignore them with a warning, as Cocaine does.
 */
#include "nconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_log.h"
#include "sl_util.h"

#define CONF_LOG(l, ...) SL_LOG(l, "config", __VA_ARGS__)
#define NCONF_FILE_MAX (1024 * 1024) /* bytes of one JSON file */
#define NCONF_RUNLIST_MAX 256
#define NCONF_ENV_MAX 256
#define NCONF_SECONDS_MAX (10.0 * 365 * 86400)

/* Defaults of section 5.4 (0.12 node v2 where it differs from 0.11, except as noted). */
#define PROF_POOL_LIMIT 10
#define PROF_QUEUE_LIMIT 100
#define PROF_CONCURRENCY 10
#define PROF_HEARTBEAT_MS 30000
#define PROF_STARTUP_MS 10000
#define PROF_SPAWN_MS 1000
#define PROF_HANDSHAKE_MS 5000
#define PROF_IDLE_MS 600000
#define PROF_TERMINATE_MS 5000
#define PROF_SEAL_MS 60000
#define PROF_REQUEST_MS 86400000ull
#define PROF_CRASHLOG 50

struct nctx {
	char *err;
	size_t errlen;
	const char *file;
	bool strict; /* unknown keys are errors */
	size_t plen;
	char path[256];
	const char *base; /* directory that relative paths are relative to */
	/* profile: which of the keys that interact were given */
	bool spawn_set, handshake_set, startup_set, grow_set;
	uint64_t spawn_ms, handshake_ms;
};

struct nfield {
	const char *name;
	int (*read)(struct nctx *x, json_t *v, void *obj, const struct nfield *f);
	size_t off;
	size_t size;
	long long min, max;
	const struct nfield *sub; /* rd_section: the nested object's table */
	size_t nsub;
};

static int nerr(struct nctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
nerr(struct nctx *x, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(x->err, x->errlen, "%s: %s: %s", x->file, x->plen > 0 ? x->path : "top level",
		 msg);
	return -EINVAL;
}

static size_t
npush(struct nctx *x, const char *key)
{
	size_t saved = x->plen;
	int n = snprintf(x->path + x->plen, sizeof(x->path) - x->plen, "%s%s",
			 x->plen > 0 ? "." : "", key);

	if (n > 0)
		x->plen += (size_t)n;
	if (x->plen >= sizeof(x->path))
		x->plen = sizeof(x->path) - 1;
	return saved;
}

static void
npop(struct nctx *x, size_t saved)
{
	x->plen = saved;
	x->path[saved] = '\0';
}

/* Store v into an unsigned member of `size` bytes. */
static void
nstore_uint(void *p, size_t size, unsigned long long v)
{
	switch (size) {
	case 1:
		*(uint8_t *)p = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)p = (uint16_t)v;
		break;
	case 4:
		*(uint32_t *)p = (uint32_t)v;
		break;
	default:
		*(uint64_t *)p = (uint64_t)v;
		break;
	}
}

static int
rd_uint(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	json_int_t i;

	if (!json_is_integer(v))
		return nerr(x, "must be an integer in %lld..%lld", f->min, f->max);
	i = json_integer_value(v);
	if (i < f->min || i > f->max)
		return nerr(x, "must be an integer in %lld..%lld (got %lld)", f->min, f->max,
			    (long long)i);
	nstore_uint((char *)obj + f->off, f->size, (unsigned long long)i);
	return 0;
}

/* A duration in seconds (integer or real, > 0) stored as milliseconds in a uint64_t. */
static int
rd_seconds(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	uint64_t ms;
	double s;

	if (!json_is_number(v))
		return nerr(x, "must be a number of seconds");
	s = json_number_value(v);
	if (!(s > 0) || s > NCONF_SECONDS_MAX)
		return nerr(x, "must be a number of seconds > 0 (got %g)", s);
	ms = (uint64_t)(s * 1000.0 + 0.5);
	*(uint64_t *)(void *)((char *)obj + f->off) = ms > 0 ? ms : 1;
	return 0;
}

static int
rd_bool(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	if (!json_is_boolean(v))
		return nerr(x, "must be true or false");
	*(bool *)((char *)obj + f->off) = json_is_true(v);
	return 0;
}

static int
rd_string(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	const char *s;

	if (!json_is_string(v))
		return nerr(x, "must be a string");
	s = json_string_value(v);
	if (strlen(s) == 0 || strlen(s) >= f->size)
		return nerr(x, "must be a string of 1..%zu bytes", f->size - 1);
	memcpy((char *)obj + f->off, s, strlen(s) + 1);
	return 0;
}

static int
rd_address(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	unsigned char a[16];
	int rc = rd_string(x, v, obj, f);
	const char *s = (const char *)obj + f->off;

	if (rc < 0)
		return rc;
	if (inet_pton(AF_INET, s, a) != 1 && inet_pton(AF_INET6, s, a) != 1)
		return nerr(x, "not an IPv4 or IPv6 address: \"%s\"", s);
	return 0;
}

/* A path; a relative one is taken relative to the directory of the file that names it. */
static int
rd_path(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	char *out = (char *)obj + f->off;
	const char *s;
	int n;

	if (!json_is_string(v) || json_string_length(v) == 0)
		return nerr(x, "must be a non-empty string (a path)");
	s = json_string_value(v);
	if (s[0] == '/')
		n = snprintf(out, f->size, "%s", s);
	else
		n = snprintf(out, f->size, "%s/%s", x->base, s);
	if (n < 0 || (size_t)n >= f->size)
		return nerr(x, "path too long (at most %zu bytes)", f->size - 1);
	return 0;
}

static int
nobject(struct nctx *x, json_t *o, void *obj, const struct nfield *tab, size_t n)
{
	const char *key;
	json_t *v;

	if (!json_is_object(o))
		return nerr(x, "must be an object");
	json_object_foreach(o, key, v)
	{
		const struct nfield *f = NULL;
		size_t saved, i;
		int rc;

		for (i = 0; i < n; i++)
			if (strcmp(tab[i].name, key) == 0)
				f = &tab[i];
		saved = npush(x, key);
		if (f == NULL) {
			if (x->strict)
				return nerr(x, "unknown key");
			CONF_LOG(WARNING, "%s: %s: unknown key, ignored", x->file, x->path);
			npop(x, saved);
			continue;
		}
		rc = f->read(x, v, obj, f);
		if (rc < 0)
			return rc;
		npop(x, saved);
	}
	return 0;
}

/* Read a whole JSON file (bounded) with jansson. */
static json_t *
nload_json(struct nctx *x, const char *file, int *rc)
{
	json_error_t je;
	struct stat st;
	json_t *j;

	if (stat(file, &st) < 0) {
		*rc = -errno;
		snprintf(x->err, x->errlen, "%s: %s", file, strerror(errno));
		return NULL;
	}
	if (st.st_size > NCONF_FILE_MAX) {
		*rc = -EFBIG;
		snprintf(x->err, x->errlen, "%s: larger than %d bytes", file, NCONF_FILE_MAX);
		return NULL;
	}
	j = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		*rc = -EINVAL;
		snprintf(x->err, x->errlen, "%s:%d:%d: %s", file, je.line, je.column, je.text);
	}
	return j;
}

bool
nconf_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= NCONF_NAME_MAX || name[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '@'))
			return false;
	}
	return true;
}

/*
 * Profiles
 */

static int
rd_isolate(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	json_t *t;

	(void)obj;
	(void)f;
	if (!json_is_object(v))
		return nerr(x, "must be an object {\"type\": \"process\", ...}");
	t = json_object_get(v, "type");
	if (t != NULL && (!json_is_string(t) || strcmp(json_string_value(t), "process") != 0))
		return nerr(x, "only {\"type\": \"process\"} is supported");
	return 0;
}

static int
rd_prof_seconds_mark(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	int rc = rd_seconds(x, v, obj, f);

	if (rc == 0 && f->off == offsetof(struct nd_profile, startup_ms))
		x->startup_set = true;
	return rc;
}

/* spawn-timeout and handshake-timeout (node v2) add up to the startup bound */
static int
rd_prof_spawn(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	struct {
		uint64_t ms;
	} tmp = {0};
	struct nfield g = *f;
	int rc;

	(void)obj;
	g.off = 0;
	rc = rd_seconds(x, v, &tmp, &g);
	if (rc < 0)
		return rc;
	if (strcmp(f->name, "spawn-timeout") == 0) {
		x->spawn_set = true;
		x->spawn_ms = tmp.ms;
	} else {
		x->handshake_set = true;
		x->handshake_ms = tmp.ms;
	}
	return 0;
}

static int
rd_prof_grow(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	int rc = rd_uint(x, v, obj, f);

	if (rc == 0)
		x->grow_set = true;
	return rc;
}

/* Accepted for compatibility and ignored (documented in docs/sluice-node.md). */
static int
rd_ignore(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	(void)x;
	(void)v;
	(void)obj;
	(void)f;
	return 0;
}

#define P_UINT(k, m, lo, hi)                                                                       \
	{                                                                                          \
		.name = k, .read = rd_uint, .off = offsetof(struct nd_profile, m),                 \
		.size = sizeof(((struct nd_profile *)NULL)->m), .min = lo, .max = hi               \
	}
#define P_SEC(k, m)                                                                                \
	{                                                                                          \
		.name = k, .read = rd_prof_seconds_mark, .off = offsetof(struct nd_profile, m)     \
	}
#define P_FN(k, fn)                                                                                \
	{                                                                                          \
		.name = k, .read = fn                                                              \
	}

static const struct nfield profile_fields[] = {
	P_UINT("pool-limit", pool_limit, 1, 1024),
	P_UINT("queue-limit", queue_limit, 0, 1000000),
	P_UINT("concurrency", concurrency, 1, 1024),
	{.name = "grow-threshold",
	 .read = rd_prof_grow,
	 .off = offsetof(struct nd_profile, grow_threshold),
	 .size = sizeof(uint32_t),
	 .min = 1,
	 .max = 1000000},
	P_UINT("crashlog-limit", crashlog_limit, 0, 10000),
	P_UINT("publish-on", publish_on, 0, 1024),
	P_UINT("unpublish-under", unpublish_under, 0, 1024),
	P_SEC("heartbeat-timeout", heartbeat_ms),
	P_SEC("startup-timeout", startup_ms),
	P_FN("spawn-timeout", rd_prof_spawn),
	P_FN("handshake-timeout", rd_prof_spawn),
	P_SEC("idle-timeout", idle_ms),
	P_SEC("termination-timeout", terminate_ms),
	P_SEC("terminate-timeout", terminate_ms),
	P_SEC("seal-timeout", seal_ms),
	P_SEC("request-timeout", request_ms),
	{.name = "log-output", .read = rd_bool, .off = offsetof(struct nd_profile, log_output)},
	P_FN("isolate", rd_isolate),
	P_FN("locator", rd_ignore),
};

static void
profile_defaults(struct nd_profile *p)
{
	memset(p, 0, sizeof(*p));
	p->pool_limit = PROF_POOL_LIMIT;
	p->queue_limit = PROF_QUEUE_LIMIT;
	p->concurrency = PROF_CONCURRENCY;
	p->crashlog_limit = PROF_CRASHLOG;
	p->heartbeat_ms = PROF_HEARTBEAT_MS;
	p->startup_ms = PROF_STARTUP_MS;
	p->idle_ms = PROF_IDLE_MS;
	p->terminate_ms = PROF_TERMINATE_MS;
	p->seal_ms = PROF_SEAL_MS;
	p->request_ms = PROF_REQUEST_MS;
	p->log_output = true;
}

int
nconf_profile_load_json(const struct nd_config *cfg, const char *name, const char *label,
			struct json_t *j, struct nd_profile *p, char *err, size_t errlen)
{
	struct nctx x = {.err = err, .errlen = errlen, .file = label, .base = cfg->profiles_dir};
	int rc;

	if (!nconf_name_ok(name)) {
		snprintf(err, errlen, "profile \"%s\": not a valid name", name);
		return -EINVAL;
	}
	profile_defaults(p);
	snprintf(p->name, sizeof(p->name), "%s", name);
	rc = nobject(&x, j, p, profile_fields, SL_ARRAY_SIZE(profile_fields));
	if (rc < 0)
		return rc;
	if (!x.startup_set && (x.spawn_set || x.handshake_set))
		p->startup_ms = (x.spawn_set ? x.spawn_ms : PROF_SPAWN_MS) +
				(x.handshake_set ? x.handshake_ms : PROF_HANDSHAKE_MS);
	if (!x.grow_set) {
		/* max(1, queue-limit / pool-limit / 2), 5.4 */
		p->grow_threshold = p->queue_limit / p->pool_limit / 2;
		if (p->grow_threshold == 0)
			p->grow_threshold = 1;
	}
	return 0;
}

int
nconf_profile_load(const struct nd_config *cfg, const char *name, struct nd_profile *p, char *err,
		   size_t errlen)
{
	char file[NCONF_PATH_MAX + NCONF_NAME_MAX + 8];
	struct nctx x = {.err = err, .errlen = errlen, .file = file, .base = cfg->profiles_dir};
	json_t *j;
	int rc = 0;

	if (!nconf_name_ok(name)) {
		snprintf(err, errlen, "profile \"%s\": not a valid name", name);
		return -EINVAL;
	}
	snprintf(file, sizeof(file), "%s/%s.json", cfg->profiles_dir, name);
	j = nload_json(&x, file, &rc);
	if (j == NULL)
		return rc;
	rc = nconf_profile_load_json(cfg, name, file, j, p, err, errlen);
	json_decref(j);
	return rc;
}

/*
 * Manifests
 */

struct manifest_tmp {
	char slave[NCONF_PATH_MAX];
	json_t *env;
};

static int
rd_env(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	struct manifest_tmp *t = obj;
	const char *k;
	json_t *e;

	(void)f;
	if (!json_is_object(v))
		return nerr(x, "must be an object of strings");
	if (json_object_size(v) > NCONF_ENV_MAX)
		return nerr(x, "more than %d variables", NCONF_ENV_MAX);
	json_object_foreach(v, k, e)
	{
		size_t saved = npush(x, k);

		if (!json_is_string(e))
			return nerr(x, "must be a string");
		if (k[0] == '\0' || strchr(k, '=') != NULL)
			return nerr(x, "not a variable name");
		npop(x, saved);
	}
	t->env = v;
	return 0;
}

/*
 * "slave": a path (relative to the app's directory), or a bare file name looked up in the
 * app's directory, then in the directory of the sluice-node executable (where the build
 * puts sluice-echo-worker), then in PATH.
 */
static int
rd_slave(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	struct manifest_tmp *t = obj;
	char self[NCONF_PATH_MAX], *slash;
	const char *name, *path;
	ssize_t n;

	if (!json_is_string(v) || json_string_length(v) == 0)
		return nerr(x, "must be a non-empty string (the worker executable)");
	name = json_string_value(v);
	if (strchr(name, '/') != NULL)
		return rd_path(x, v, obj, f);
	if (strlen(name) >= NCONF_NAME_MAX)
		return nerr(x, "file name too long");
	snprintf(t->slave, sizeof(t->slave), "%.*s/%s",
		 (int)(sizeof(t->slave) - NCONF_NAME_MAX - 2), x->base, name);
	if (access(t->slave, F_OK) == 0)
		return 0; /* in the app's directory, as Cocaine's spooled apps (X_OK checked later)
			   */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(t->slave, sizeof(t->slave), "%.*s/%s",
				 (int)(sizeof(t->slave) - NCONF_NAME_MAX - 2), self, name);
			if (access(t->slave, X_OK) == 0)
				return 0;
		}
	}
	path = getenv("PATH");
	while (path != NULL && *path != '\0') {
		const char *end = strchr(path, ':');
		size_t len = end != NULL ? (size_t)(end - path) : strlen(path);

		if (len > 0 && len < sizeof(t->slave) - NCONF_NAME_MAX - 2) {
			snprintf(t->slave, sizeof(t->slave), "%.*s/%s", (int)len, path, name);
			if (access(t->slave, X_OK) == 0)
				return 0;
		}
		path = end != NULL ? end + 1 : NULL;
	}
	return nerr(x, "%s: not found next to sluice-node nor in PATH", name);
}

static const struct nfield manifest_fields[] = {
	{.name = "slave",
	 .read = rd_slave,
	 .off = offsetof(struct manifest_tmp, slave),
	 .size = NCONF_PATH_MAX},
	{.name = "environment", .read = rd_env},
};

void
nconf_manifest_free(struct nd_manifest *m)
{
	uint32_t i;

	for (i = 0; i < m->nenv; i++)
		free(m->env[i]);
	free(m->env);
	m->env = NULL;
	m->nenv = 0;
}

/* A manifest from its JSON; m->dir is set (relative slave paths and the worker's cwd). */
static int
manifest_from_json(const struct nd_config *cfg, const char *label, json_t *j, struct nd_manifest *m,
		   char *err, size_t errlen)
{
	struct nctx x = {.err = err, .errlen = errlen, .file = label, .base = m->dir};
	struct manifest_tmp t = {.env = NULL};
	const char *k;
	json_t *e;
	int rc;

	(void)cfg;
	rc = nobject(&x, j, &t, manifest_fields, SL_ARRAY_SIZE(manifest_fields));
	if (rc == 0 && t.slave[0] == '\0')
		rc = nerr(&x, "slave: missing (the worker executable)");
	if (rc == 0 && access(t.slave, X_OK) < 0) {
		size_t saved = npush(&x, "slave");

		rc = nerr(&x, "%s: %s", t.slave, strerror(errno));
		npop(&x, saved);
	}
	if (rc == 0) {
		memcpy(m->slave, t.slave, sizeof(m->slave));
		if (t.env != NULL && json_object_size(t.env) > 0) {
			m->env = calloc(json_object_size(t.env), sizeof(*m->env));
			if (m->env == NULL)
				rc = -ENOMEM;
		}
		if (t.env != NULL && m->env != NULL) {
			json_object_foreach(t.env, k, e)
			{
				char *kv;

				if (asprintf(&kv, "%s=%s", k, json_string_value(e)) < 0) {
					rc = -ENOMEM;
					break;
				}
				m->env[m->nenv++] = kv;
			}
		}
	}
	if (rc < 0)
		nconf_manifest_free(m);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", label);
	return rc;
}

int
nconf_manifest_load(const struct nd_config *cfg, const char *app, struct nd_manifest *m, char *err,
		    size_t errlen)
{
	char file[sizeof(m->dir) + 16];
	struct nctx x = {.err = err, .errlen = errlen, .file = file};
	json_t *j;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	if (!nconf_name_ok(app)) {
		snprintf(err, errlen, "app \"%s\": not a valid name", app);
		return -EINVAL;
	}
	snprintf(m->dir, sizeof(m->dir), "%s/%s", cfg->apps_dir, app);
	snprintf(file, sizeof(file), "%s/manifest.json", m->dir);
	x.base = m->dir;
	j = nload_json(&x, file, &rc);
	if (j == NULL)
		return rc;
	rc = manifest_from_json(cfg, file, j, m, err, errlen);
	json_decref(j);
	return rc;
}

int
nconf_manifest_load_json(const struct nd_config *cfg, const char *app, const char *label,
			 struct json_t *j, struct nd_manifest *m, char *err, size_t errlen)
{
	struct stat st;

	memset(m, 0, sizeof(*m));
	if (!nconf_name_ok(app)) {
		snprintf(err, errlen, "app \"%s\": not a valid name", app);
		return -EINVAL;
	}
	/* the app's directory when it has one, else the runtime directory */
	snprintf(m->dir, sizeof(m->dir), "%s/%s", cfg->apps_dir, app);
	if (stat(m->dir, &st) < 0 || !S_ISDIR(st.st_mode))
		snprintf(m->dir, sizeof(m->dir), "%s", cfg->runtime_dir);
	return manifest_from_json(cfg, label, j, m, err, errlen);
}

/*
 * The node's file
 */

static int
rd_ports(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	struct nd_config *c = obj;
	json_t *lo, *hi;

	(void)f;
	if (!json_is_array(v) || json_array_size(v) != 2)
		return nerr(x, "must be [min, max]");
	lo = json_array_get(v, 0);
	hi = json_array_get(v, 1);
	if (!json_is_integer(lo) || !json_is_integer(hi) || json_integer_value(lo) < 1 ||
	    json_integer_value(hi) > 65535 || json_integer_value(lo) > json_integer_value(hi))
		return nerr(x, "must be [min, max] with 1 <= min <= max <= 65535");
	c->port_min = (uint16_t)json_integer_value(lo);
	c->port_max = (uint16_t)json_integer_value(hi);
	return 0;
}

static int
rd_runlist(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	struct nd_config *c = obj;
	const char *k;
	json_t *e;

	(void)f;
	if (!json_is_object(v))
		return nerr(x, "must be an object {app: profile}");
	if (json_object_size(v) > NCONF_RUNLIST_MAX)
		return nerr(x, "more than %d apps", NCONF_RUNLIST_MAX);
	free(c->runlist);
	c->nrunlist = 0;
	c->runlist = calloc(json_object_size(v) + 1, sizeof(*c->runlist));
	if (c->runlist == NULL)
		return nerr(x, "out of memory");
	json_object_foreach(v, k, e)
	{
		size_t saved = npush(x, k);
		struct nd_runlist_ent *r = &c->runlist[c->nrunlist];

		if (!nconf_name_ok(k))
			return nerr(x,
				    "not a valid app name (letters, digits, _ - . @; 1..63 bytes)");
		if (!json_is_string(e) || !nconf_name_ok(json_string_value(e)))
			return nerr(x, "must be a profile name (letters, digits, _ - . @)");
		/* both are shorter than NCONF_NAME_MAX (nconf_name_ok) */
		memcpy(r->app, k, strlen(k) + 1);
		memcpy(r->profile, json_string_value(e), strlen(json_string_value(e)) + 1);
		c->nrunlist++;
		npop(x, saved);
	}
	return 0;
}

static int
rd_level(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	struct nd_config *c = obj;
	int l;

	(void)f;
	if (!json_is_string(v) || (l = sl_log_level_parse(json_string_value(v))) < 0)
		return nerr(x,
			    "must be one of \"err\", \"warning\", \"notice\", \"info\", \"debug\"");
	c->log_level = l;
	return 0;
}

static int
rd_uuid(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	const char *s;
	size_t i;

	if (rd_string(x, v, obj, f) < 0)
		return -EINVAL;
	s = (const char *)obj + f->off;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F') || s[i] == '-'))
			return nerr(x, "must be a UUID (hex digits and dashes)");
	return 0;
}

#define C_UINT(k, m, lo, hi)                                                                       \
	{                                                                                          \
		.name = k, .read = rd_uint, .off = offsetof(struct nd_config, m),                  \
		.size = sizeof(((struct nd_config *)NULL)->m), .min = lo, .max = hi                \
	}
#define C_FN(k, fn)                                                                                \
	{                                                                                          \
		.name = k, .read = fn                                                              \
	}
#define C_STR(k, m, fn)                                                                            \
	{                                                                                          \
		.name = k, .read = fn, .off = offsetof(struct nd_config, m),                       \
		.size = sizeof(((struct nd_config *)NULL)->m)                                      \
	}

/* locator.restrict: service names never exported to the cluster (2.3) */
static int
rd_restrict(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	struct nd_config *c = obj;
	size_t i;
	json_t *e;

	(void)f;
	if (!json_is_array(v))
		return nerr(x, "must be an array of service names");
	if (json_array_size(v) > NCONF_RESTRICT_MAX)
		return nerr(x, "more than %d names", NCONF_RESTRICT_MAX);
	c->restricted = calloc(json_array_size(v) + 1, sizeof(*c->restricted));
	if (c->restricted == NULL)
		return nerr(x, "out of memory");
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e) || json_string_length(e) == 0 ||
		    json_string_length(e) >= NCONF_NAME_MAX)
			return nerr(x, "element %zu: must be a service name of 1..%d bytes", i,
				    NCONF_NAME_MAX - 1);
		c->restricted[i] = strdup(json_string_value(e));
		if (c->restricted[i] == NULL)
			return nerr(x, "out of memory");
		c->nrestricted++;
	}
	return 0;
}

/* Cluster args: "interface" is an IPv4 address or an interface name. */
static int
rd_iface(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	const char *s;
	size_t i;

	if (rd_string(x, v, obj, f) < 0)
		return -EINVAL;
	s = (const char *)obj + f->off;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == '/' || s[i] == ' ')
			return nerr(x, "must be an IPv4 address or an interface name");
	if (strlen(s) >= 16 && strchr(s, '.') == NULL)
		return nerr(x, "interface name too long");
	return 0;
}

/* predefine args.nodes: {uuid: "host:port"} with an IP literal host ("[v6]:port" for IPv6) */
static int
rd_static_nodes(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	struct nd_cluster *cl = obj;
	const char *k;
	json_t *e;

	(void)f;
	if (!json_is_object(v))
		return nerr(x, "must be an object {uuid: \"host:port\"}");
	if (json_object_size(v) > NCONF_STATIC_PEERS_MAX)
		return nerr(x, "more than %d nodes", NCONF_STATIC_PEERS_MAX);
	free(cl->nodes);
	cl->nnodes = 0;
	cl->nodes = calloc(json_object_size(v) + 1, sizeof(*cl->nodes));
	if (cl->nodes == NULL)
		return nerr(x, "out of memory");
	json_object_foreach(v, k, e)
	{
		struct nd_static_peer *p = &cl->nodes[cl->nnodes];
		size_t saved = npush(x, k);
		char host[NCONF_HOST_MAX];
		unsigned char a[16];
		const char *s, *colon;
		char *end;
		long port;

		if (strlen(k) == 0 || strlen(k) >= NCONF_UUID_MAX)
			return nerr(x, "the uuid must have 1..%d bytes", NCONF_UUID_MAX - 1);
		if (!json_is_string(e))
			return nerr(x, "must be \"host:port\"");
		s = json_string_value(e);
		colon = strrchr(s, ':');
		if (colon == NULL || (size_t)(colon - s) >= sizeof(host) - 1)
			return nerr(x, "must be \"host:port\" (got \"%s\")", s);
		if (s[0] == '[' && colon > s + 1 && colon[-1] == ']')
			snprintf(host, sizeof(host), "%.*s", (int)(colon - s - 2), s + 1);
		else
			snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
		port = strtol(colon + 1, &end, 10);
		if (*end != '\0' || port < 1 || port > 65535)
			return nerr(x, "bad port in \"%s\"", s);
		if (inet_pton(AF_INET, host, a) != 1 && inet_pton(AF_INET6, host, a) != 1)
			return nerr(x, "the host must be an IP address (got \"%s\")", host);
		snprintf(p->uuid, sizeof(p->uuid), "%s", k);
		snprintf(p->host, sizeof(p->host), "%s", host);
		p->port = (uint16_t)port;
		cl->nnodes++;
		npop(x, saved);
	}
	return 0;
}

/* A multicast group address (IPv4 224.0.0.0/4 or IPv6 ff00::/8). */
static int
rd_mcast_group(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	const char *s = (const char *)obj + f->off;
	struct in6_addr a6;
	struct in_addr a4;

	if (rd_address(x, v, obj, f) < 0)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &a4) == 1
		    ? !IN_MULTICAST(ntohl(a4.s_addr))
		    : inet_pton(AF_INET6, s, &a6) != 1 || !IN6_IS_ADDR_MULTICAST(&a6))
		return nerr(x, "not a multicast address: \"%s\"", s);
	return 0;
}

#define CL_FIELD(k, fn, m)                                                                         \
	{                                                                                          \
		.name = k, .read = fn, .off = offsetof(struct nd_cluster, m),                      \
		.size = sizeof(((struct nd_cluster *)NULL)->m)                                     \
	}

static const struct nfield multicast_fields[] = {
	CL_FIELD("group", rd_mcast_group, group),
	{.name = "port",
	 .read = rd_uint,
	 .off = offsetof(struct nd_cluster, port),
	 .size = sizeof(uint16_t),
	 .min = 1,
	 .max = 65535},
	CL_FIELD("interval", rd_seconds, interval_ms),
	CL_FIELD("interface", rd_iface, iface),
	CL_FIELD("loopback", rd_bool, loopback),
	{.name = "hops",
	 .read = rd_uint,
	 .off = offsetof(struct nd_cluster, hops),
	 .size = sizeof(uint32_t),
	 .min = 1,
	 .max = 255},
};

static const struct nfield predefine_fields[] = {
	{.name = "nodes", .read = rd_static_nodes},
	CL_FIELD("interval", rd_seconds, interval_ms),
};

/* locator.cluster: {"type": "multicast" | "predefine", "args": {...}} (7.3) */
static int
rd_cluster(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	struct nd_cluster *cl = &((struct nd_config *)obj)->cluster;
	json_t *type, *args;
	const char *key;
	size_t saved;
	json_t *e;
	int rc;

	(void)f;
	if (!json_is_object(v))
		return nerr(x, "must be an object {\"type\": ..., \"args\": {...}}");
	json_object_foreach(v, key, e)
	{
		if (strcmp(key, "type") != 0 && strcmp(key, "args") != 0) {
			npush(x, key);
			return nerr(x, "unknown key");
		}
	}
	type = json_object_get(v, "type");
	args = json_object_get(v, "args");
	saved = npush(x, "type");
	if (type == NULL || !json_is_string(type))
		return nerr(x, "required: \"multicast\" or \"predefine\"");
	if (strcmp(json_string_value(type), "multicast") == 0)
		cl->type = ND_CLUSTER_MULTICAST;
	else if (strcmp(json_string_value(type), "predefine") == 0)
		cl->type = ND_CLUSTER_PREDEFINE;
	else
		return nerr(x, "must be \"multicast\" or \"predefine\" (got \"%s\")",
			    json_string_value(type));
	npop(x, saved);
	saved = npush(x, "args");
	if (args == NULL)
		return nerr(x, "required (an object)");
	if (cl->type == ND_CLUSTER_MULTICAST) {
		rc = nobject(x, args, cl, multicast_fields, SL_ARRAY_SIZE(multicast_fields));
		if (rc < 0)
			return rc;
		if (cl->group[0] == '\0')
			return nerr(x, "group: required (a multicast address)");
	} else {
		rc = nobject(x, args, cl, predefine_fields, SL_ARRAY_SIZE(predefine_fields));
		if (rc < 0)
			return rc;
		if (cl->nnodes == 0)
			return nerr(x, "nodes: required ({uuid: \"host:port\"})");
	}
	npop(x, saved);
	return 0;
}

static const struct nfield locator_fields[] = {
	C_UINT("port", locator_port, 1, 65535),
	C_FN("restrict", rd_restrict),
	C_FN("cluster", rd_cluster),
};
static const struct nfield storage_fields[] = {
	C_STR("path", storage_path, rd_path),
	C_UINT("port", storage_port, 0, 65535),
};
static const struct nfield node_fields[] = {C_UINT("port", node_port, 0, 65535)};
static const struct nfield paths_fields[] = {
	C_STR("apps", apps_dir, rd_path),
	C_STR("profiles", profiles_dir, rd_path),
	C_STR("runtime", runtime_dir, rd_path),
};
static const struct nfield limits_fields[] = {
	C_UINT("frame_bytes", client_limits.frame_bytes, 1024, 1 << 30),
	C_UINT("channels", client_limits.channels, 2, 65536),
	C_UINT("write_buffer_bytes", client_limits.write_buffer_bytes, 65536, 1ll << 34),
	C_UINT("request_buffer_bytes", request_buffer_bytes, 1024, 1ll << 34),
	C_UINT("connections", max_connections, 1, 1000000),
	C_UINT("peers", max_peers, 1, 65536),
	C_UINT("services", max_services, 1, 65536),
	C_UINT("storage_value_bytes", storage_value_bytes, 1, 1 << 30),
};
static const struct nfield log_fields[] = {C_FN("level", rd_level)};

#define C_SECTION(k, tab)                                                                          \
	{                                                                                          \
		.name = k, .read = rd_section, .sub = tab, .nsub = SL_ARRAY_SIZE(tab)              \
	}

/* A nested object described by f->sub. */
static int
rd_section(struct nctx *x, json_t *v, void *obj, const struct nfield *f)
{
	return nobject(x, v, obj, f->sub, f->nsub);
}

static const struct nfield config_fields[] = {
	C_STR("address", address, rd_address),
	C_STR("hostname", hostname, rd_string),
	C_SECTION("locator", locator_fields),
	C_SECTION("node", node_fields),
	C_SECTION("storage", storage_fields), /* the storage service (10) */
	C_FN("ports", rd_ports),
	C_SECTION("paths", paths_fields),
	C_FN("runlist", rd_runlist),
	C_STR("uuid", uuid, rd_uuid),
	C_SECTION("limits", limits_fields),
	C_SECTION("log", log_fields),
};

void
nconf_free(struct nd_config *cfg)
{
	uint32_t i;

	free(cfg->runlist);
	cfg->runlist = NULL;
	cfg->nrunlist = 0;
	for (i = 0; i < cfg->nrestricted; i++)
		free(cfg->restricted[i]);
	free(cfg->restricted);
	cfg->restricted = NULL;
	cfg->nrestricted = 0;
	free(cfg->cluster.nodes);
	cfg->cluster.nodes = NULL;
	cfg->cluster.nnodes = 0;
}

int
nconf_load(struct nd_config *cfg, const char *file, char *err, size_t errlen)
{
	char base[NCONF_PATH_MAX];
	struct nctx x = {.err = err, .errlen = errlen, .file = file, .strict = true, .base = base};
	const char *slash;
	uint32_t i;
	json_t *j;
	int rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->file, sizeof(cfg->file), "%s", file);
	slash = strrchr(file, '/');
	if (slash == NULL) {
		if (getcwd(base, sizeof(base)) == NULL)
			snprintf(base, sizeof(base), ".");
	} else if (slash == file) {
		snprintf(base, sizeof(base), "/");
	} else if (file[0] == '/') {
		snprintf(base, sizeof(base), "%.*s", (int)(slash - file), file);
	} else {
		char cwd[NCONF_PATH_MAX / 2];

		if (getcwd(cwd, sizeof(cwd)) == NULL)
			snprintf(cwd, sizeof(cwd), ".");
		snprintf(base, sizeof(base), "%s/%.*s", cwd, (int)(slash - file), file);
	}
	snprintf(cfg->address, sizeof(cfg->address), "127.0.0.1");
	cfg->locator_port = 10053;
	snprintf(cfg->runtime_dir, sizeof(cfg->runtime_dir), "/run/sluice-node");
	cfg->client_limits.frame_bytes = SL_MP_DEFAULT_MAX_FRAME;
	cfg->client_limits.channels = 1024;
	cfg->client_limits.write_buffer_bytes = 64u << 20;
	cfg->request_buffer_bytes = 16u << 20;
	cfg->max_connections = 4096;
	cfg->log_level = SL_LOG_INFO;
	cfg->cluster.port = 10053;
	cfg->cluster.interval_ms = 5000;
	cfg->cluster.hops = 1;
	cfg->max_peers = 256;
	cfg->max_services = 1024;
	cfg->storage_value_bytes = 0; /* below: frame_bytes less room for the frame */

	j = nload_json(&x, file, &rc);
	if (j == NULL)
		return rc;
	rc = nobject(&x, j, cfg, config_fields, SL_ARRAY_SIZE(config_fields));
	json_decref(j);
	if (rc < 0)
		goto fail;
	if (cfg->apps_dir[0] == '\0' || cfg->profiles_dir[0] == '\0') {
		size_t saved = npush(&x, "paths");

		rc = nerr(&x, "\"apps\" and \"profiles\" are required (directories)");
		npop(&x, saved);
		goto fail;
	}
	if (cfg->hostname[0] == '\0')
		snprintf(cfg->hostname, sizeof(cfg->hostname), "%s",
			 strcmp(cfg->address, "0.0.0.0") == 0 || strcmp(cfg->address, "::") == 0
				 ? "127.0.0.1"
				 : cfg->address);
	cfg->client_limits.channels = conn_pow2(cfg->client_limits.channels);
	if (cfg->storage_value_bytes == 0 ||
	    cfg->storage_value_bytes > cfg->client_limits.frame_bytes - 1024)
		cfg->storage_value_bytes = cfg->client_limits.frame_bytes - 1024;
	/* every runlist entry must be startable: its manifest and profile are checked now */
	for (i = 0; i < cfg->nrunlist; i++) {
		struct nd_manifest m;
		struct nd_profile p;
		char sub[NCONF_ERR_MAX];

		rc = nconf_profile_load(cfg, cfg->runlist[i].profile, &p, sub, sizeof(sub));
		if (rc == 0)
			rc = nconf_manifest_load(cfg, cfg->runlist[i].app, &m, sub, sizeof(sub));
		if (rc < 0) {
			snprintf(err, errlen, "%s: runlist.%s: %s", file, cfg->runlist[i].app, sub);
			rc = -EINVAL;
			goto fail;
		}
		nconf_manifest_free(&m);
	}
	return 0;
fail:
	nconf_free(cfg);
	return rc;
}
