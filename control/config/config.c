/*
 * sluiced's configuration: one JSON file (jansson), checked whole before anything starts.
 *
 * Each JSON object is described by a table of fields (name, parser, offset, range), in the
 * manner of nginx's ngx_command_t. cfg_object() walks an object's keys in file order and hands
 * each one to its field's parser, so the first error in the file is the one reported; checks
 * that involve several fields (a gateway on its port's subnet, unique names, duplicate routes)
 * run once their object is complete. The walker keeps the JSON path of the value being read
 * (`ports[0].routes[1].via`) in the context, and cfg_err() puts it in front of every message.
 *
 * Address literals go through cfg_inaddr_parse(), which already knows both families: IPv6
 * is recognised and refused with its own message until the data plane can use it.
 */
#include "config.h"
#include "sl_addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "impair.h"
#include "sl_log.h"
#include "sl_util.h"

#define CFG_FILE_MAX (1024 * 1024)		    /* bytes; larger files are refused unread */
#define CFG_EAL_ARGS_MAX (SL_CFG_MAX_EAL_ARGS - 16) /* room for the args sluiced adds */
#define CFG_EAL_ARG_LEN 256			    /* each eal.args entry is shorter than this */
#define CFG_JSON_PATH_LEN 256
#define CFG_QUOTE_LEN 80 /* a value quoted in a message, escapes and "..." included */
#define CFG_IP4_STRLEN 16

/* Defaults, as documented in config-t.h and docs/configuration.md. */
#define CFG_DEF_FILE_PREFIX "sluiced"
#define CFG_DEF_SOCKET "/run/sluice/sluiced.sock"
#define CFG_DEF_MTU 1500

/** Where the walker is and where errors go. */
struct cfg_ctx {
	char *err;
	size_t errlen;
	size_t plen;		      /* strlen(path) */
	char path[CFG_JSON_PATH_LEN]; /* JSON path of the value being read */
};

/** One key of a JSON object. */
struct cfg_field {
	const char *name;
	/* reads the JSON value into `obj`, the struct that the field's table describes */
	int (*parse)(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f);
	bool required;
	size_t off;  /* cfg_int, cfg_bool, cfg_section: offset of the member in obj */
	size_t size; /* cfg_int, cfg_bool: size of the member */
	long long min, max;
	unsigned long long scale;    /* cfg_int: stored value = JSON value * scale */
	const struct cfg_field *sub; /* cfg_section: the table of the nested object */
	size_t n_sub;
};

#define CFG_MEMBER_SIZE(type, member) sizeof(((type *)NULL)->member)
#define CFG_INT(key, type, member, lo, hi, mul)                                                    \
	{                                                                                          \
		.name = key, .parse = cfg_int, .off = offsetof(type, member),                      \
		.size = CFG_MEMBER_SIZE(type, member), .min = lo, .max = hi, .scale = mul          \
	}
#define CFG_BOOL(key, type, member)                                                                \
	{                                                                                          \
		.name = key, .parse = cfg_bool, .off = offsetof(type, member),                     \
		.size = CFG_MEMBER_SIZE(type, member)                                              \
	}
#define CFG_FN(key, fn, req)                                                                       \
	{                                                                                          \
		.name = key, .parse = fn, .required = req                                          \
	}
#define CFG_SECTION(key, table)                                                                    \
	{                                                                                          \
		.name = key, .parse = cfg_section, .sub = table, .n_sub = SL_ARRAY_SIZE(table)     \
	}

/*
 * Errors and the JSON path
 */

static int cfg_err(struct cfg_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Format "<path>: <message>" into the caller's buffer. Always returns -EINVAL, so that parsers
 * can `return cfg_err(ctx, ...)`.
 */
static int
cfg_err(struct cfg_ctx *ctx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ctx->err != NULL && ctx->errlen > 0)
		snprintf(ctx->err, ctx->errlen, "%s: %s", ctx->plen > 0 ? ctx->path : "top level",
			 msg);
	return -EINVAL;
}

/*
 * Write `s` (`n` bytes) into `out` with C-style escapes for quotes, backslashes and control
 * characters, so that a message stays on one line; cut with "..." when longer than `outlen`
 * allows. `quote` adds the surrounding double quotes.
 */
static void
cfg_escape(char *out, size_t outlen, const char *s, size_t n, bool quote)
{
	/* room for the text itself: not the quotes, "..." and the NUL */
	size_t max = outlen - (quote ? 2 : 0) - 4, o = 0, c = 0, i;

	if (quote)
		out[o++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char e[5];
		size_t el = 1;

		e[0] = (char)ch;
		if (ch == '"' || ch == '\\') {
			e[0] = '\\';
			e[1] = (char)ch;
			el = 2;
		} else if (ch < 0x20 || ch == 0x7f) {
			snprintf(e, sizeof(e), "\\x%02x", ch);
			el = 4;
		}
		if (c + el > max)
			break;
		memcpy(out + o, e, el);
		o += el;
		c += el;
	}
	if (quote)
		out[o++] = '"';
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static void
cfg_quote(char out[CFG_QUOTE_LEN], const char *s)
{
	cfg_escape(out, CFG_QUOTE_LEN, s, strlen(s), true);
}

/** "<why>: "<value>"" at the current path, for the first `n` bytes of `s`. */
static int
cfg_err_value(struct cfg_ctx *ctx, const char *why, const char *s, size_t n)
{
	char q[CFG_QUOTE_LEN];

	cfg_escape(q, sizeof(q), s, n, true);
	return cfg_err(ctx, "%s: %s", why, q);
}

static void
cfg_path_append(struct cfg_ctx *ctx, const char *s)
{
	size_t n = strlen(s);

	if (n > sizeof(ctx->path) - 1 - ctx->plen)
		n = sizeof(ctx->path) - 1 - ctx->plen;
	memcpy(ctx->path + ctx->plen, s, n);
	ctx->plen += n;
	ctx->path[ctx->plen] = '\0';
}

/** Descend into object member `key`; returns the length to give back to cfg_pop(). */
static size_t
cfg_push_key(struct cfg_ctx *ctx, const char *key)
{
	size_t saved = ctx->plen;
	char esc[CFG_QUOTE_LEN];

	cfg_escape(esc, sizeof(esc), key, strlen(key), false);
	if (ctx->plen > 0)
		cfg_path_append(ctx, ".");
	cfg_path_append(ctx, esc);
	return saved;
}

/** Descend into array element `i`. */
static size_t
cfg_push_index(struct cfg_ctx *ctx, size_t i)
{
	size_t saved = ctx->plen;
	char idx[24];

	snprintf(idx, sizeof(idx), "[%zu]", i);
	cfg_path_append(ctx, idx);
	return saved;
}

static void
cfg_pop(struct cfg_ctx *ctx, size_t saved)
{
	ctx->plen = saved;
	ctx->path[saved] = '\0';
}

/*
 * Addresses
 */

/*
 * Strict dotted quad, exactly `n` bytes: four decimal octets 0..255, no sign, no leading
 * zeros beyond "0", nothing before or after (inet_aton would take "1.2.3" and hex).
 */
static bool
cfg_ip4_parse(const char *s, size_t n, struct sl_ip4 *out)
{
	uint32_t v = 0;
	size_t i = 0;

	for (int octet = 0; octet < 4; octet++) {
		unsigned int o = 0;
		size_t start = i;

		if (octet > 0) {
			if (i >= n || s[i] != '.')
				return false;
			start = ++i;
		}
		while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			o = o * 10 + (unsigned int)(s[i++] - '0');
		if (i == start || o > 255 || (s[start] == '0' && i - start > 1))
			return false;
		v = v << 8 | o;
	}
	if (i != n)
		return false;
	out->v = v;
	return true;
}

/*
 * An address literal of either family, `n` bytes of `s`.
 * @return 0 (out->af says which), or -EINVAL.
 */
static int
cfg_inaddr_parse(const char *s, size_t n, struct sl_inaddr *out)
{
	char buf[INET6_ADDRSTRLEN];

	memset(out, 0, sizeof(*out));
	if (cfg_ip4_parse(s, n, &out->v4)) {
		out->af = SL_AF_INET;
		return 0;
	}
	if (n < sizeof(buf) && memchr(s, ':', n) != NULL) {
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET6, buf, out->v6) == 1) {
			out->af = SL_AF_INET6;
			return 0;
		}
	}
	return -EINVAL;
}

/** Why `ip` cannot be a host address (an interface or a next hop), or NULL if it can. */
static const char *
cfg_ip4_unusable(struct sl_ip4 ip)
{
	if (ip.v >> 24 == 0)
		return "in 0.0.0.0/8 (this network)";
	if (ip.v >> 24 == 127)
		return "a loopback address";
	if (ip.v >> 28 == 0xe)
		return "a multicast address";
	if (ip.v == UINT32_MAX)
		return "the broadcast address";
	if (ip.v >> 28 == 0xf)
		return "a reserved address (240.0.0.0/4)";
	return NULL;
}

/*
 * The IPv4 address in the first `n` bytes of `s`, for the value at the current path. A valid
 * IPv6 literal gets its own message.
 */
static int
cfg_ip4_value(struct cfg_ctx *ctx, const char *s, size_t n, struct sl_ip4 *out)
{
	struct sl_inaddr a;

	if (cfg_inaddr_parse(s, n, &a) < 0)
		return cfg_err_value(ctx, "not an IPv4 address", s, n);
	if (a.af != SL_AF_INET)
		return cfg_err_value(ctx, "IPv6 is not supported yet", s, n);
	*out = a.v4;
	return 0;
}

/*
 * "a.b.c.d/len" at the current path.
 */
static int
cfg_prefix_value(struct cfg_ctx *ctx, const char *s, struct sl_ip4 *ip, uint8_t *len)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned int l = 0;
	const char *p;
	int rc;

	rc = cfg_ip4_value(ctx, s, alen, ip);
	if (rc < 0)
		return rc;
	if (slash == NULL)
		return cfg_err_value(ctx, "missing prefix length (a.b.c.d/len)", s, strlen(s));
	p = slash + 1;
	if (*p == '\0' || strlen(p) > 2 || (p[0] == '0' && p[1] != '\0'))
		goto bad_len;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			goto bad_len;
		l = l * 10 + (unsigned int)(*p - '0');
	}
	if (l > 32)
		goto bad_len;
	*len = (uint8_t)l;
	return 0;
bad_len:
	return cfg_err_value(ctx, "prefix length must be an integer from 0 to 32", slash + 1,
			     strlen(slash + 1));
}

/*
 * A MAC address "aa:bb:cc:dd:ee:ff": exactly six pairs of hex digits (either case) joined by
 * colons.
 */
static bool
cfg_mac_parse(const char *s, struct sl_mac *out)
{
	static const char hex[] = "0123456789abcdef";

	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		const char *h = s + 3 * i;
		const char *hi, *lo;

		if (i < 5 && h[2] != ':')
			return false;
		if (h[0] == '\0' || h[1] == '\0')
			return false;
		hi = strchr(hex, h[0] | 0x20);
		lo = strchr(hex, h[1] | 0x20);
		if (hi == NULL || lo == NULL)
			return false;
		out->b[i] = (uint8_t)((hi - hex) << 4 | (lo - hex));
	}
	return true;
}

/*
 * Generic value parsers
 */

/** The string at the current path, or an error naming the type. */
static int
cfg_string(struct cfg_ctx *ctx, json_t *val, const char **s)
{
	*s = json_string_value(val); /* NULL if not a string */
	if (*s == NULL)
		return cfg_err(ctx, "must be a string");
	return 0;
}

/** Copy `s` into a fixed buffer of `size` bytes; too long is an error, never truncated. */
static int
cfg_copy(struct cfg_ctx *ctx, const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);

	if (n >= size)
		return cfg_err(ctx, "too long (%zu bytes, at most %zu)", n, size - 1);
	memcpy(buf, s, n + 1);
	return 0;
}

static void
cfg_store_uint(void *p, size_t size, unsigned long long v)
{
	switch (size) {
	case 1: {
		uint8_t x = (uint8_t)v;

		memcpy(p, &x, 1);
		break;
	}
	case 2: {
		uint16_t x = (uint16_t)v;

		memcpy(p, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;

		memcpy(p, &x, 4);
		break;
	}
	default: {
		uint64_t x = v;

		memcpy(p, &x, 8);
		break;
	}
	}
}

/** An integer in [f->min, f->max], stored times f->scale in an unsigned member. */
static int
cfg_int(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	json_int_t v;

	if (!json_is_integer(val))
		goto bad;
	v = json_integer_value(val);
	if (v < f->min || v > f->max)
		goto bad;
	cfg_store_uint((char *)obj + f->off, f->size, (unsigned long long)v * f->scale);
	return 0;
bad:
	return cfg_err(ctx, "must be an integer from %lld to %lld", f->min, f->max);
}

static int
cfg_bool(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	bool b;

	if (!json_is_boolean(val))
		return cfg_err(ctx, "must be true or false");
	b = json_is_true(val);
	memcpy((char *)obj + f->off, &b, sizeof(b));
	return 0;
}

/*
 * Walk the object `val` (already known to be one) with the table `fields`, in file order:
 * unknown keys are errors; then every required key must have been present.
 */
static int
cfg_object(struct cfg_ctx *ctx, json_t *val, const struct cfg_field *fields, size_t n_fields,
	   void *obj)
{
	/* jansson keeps keys in file order, so the first error in the file is reported */
	for (void *it = json_object_iter(val); it != NULL; it = json_object_iter_next(val, it)) {
		const char *key = json_object_iter_key(it);
		json_t *v = json_object_iter_value(it);
		const struct cfg_field *f = NULL;
		size_t saved;
		int rc;

		for (size_t i = 0; i < n_fields; i++)
			if (strcmp(fields[i].name, key) == 0)
				f = &fields[i];
		saved = cfg_push_key(ctx, key);
		if (f == NULL)
			return cfg_err(ctx, "unknown field");
		rc = f->parse(ctx, v, obj, f);
		if (rc < 0)
			return rc;
		cfg_pop(ctx, saved);
	}
	for (size_t i = 0; i < n_fields; i++) {
		if (fields[i].required && json_object_get(val, fields[i].name) == NULL) {
			cfg_push_key(ctx, fields[i].name);
			return cfg_err(ctx, "missing required field");
		}
	}
	return 0;
}

/** A nested object whose fields live in the same struct (eal, control, dataplane...). */
static int
cfg_section(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	if (!json_is_object(val))
		return cfg_err(ctx, "must be an object");
	return cfg_object(ctx, val, f->sub, f->n_sub, obj);
}

/*
 * eal
 */

/* Arguments that sluiced builds from other fields, and which field to use instead. */
static const struct cfg_eal_reserved {
	const char *opt;
	const char *use;
} cfg_eal_reserved[] = {
	{"--vdev", "use ports[].vdev instead"},
	{"--file-prefix", "use eal.file_prefix instead"},
	{"-l", "use eal.lcores or workers instead"},
	{"-c", "use eal.lcores or workers instead"},
	{"--lcores", "use eal.lcores instead"},
	{"--main-lcore", "use eal.lcores instead (its first lcore is the main one)"},
	{"--", "sluiced ends the EAL arguments itself"},
};

/*
 * The reserved option `arg` stands for, or NULL. Short options match with their value
 * attached ("-l0-3"); long ones with "=value" and as the abbreviations getopt_long accepts
 * ("--file-pref").
 */
static const struct cfg_eal_reserved *
cfg_eal_reserved_find(const char *arg)
{
	for (size_t i = 0; i < SL_ARRAY_SIZE(cfg_eal_reserved); i++) {
		const struct cfg_eal_reserved *r = &cfg_eal_reserved[i];

		if (r->opt[1] != '-') {
			if (arg[0] == '-' && arg[1] == r->opt[1])
				return r;
		} else if (r->opt[2] == '\0') {
			if (strcmp(arg, r->opt) == 0)
				return r;
		} else if (arg[0] == '-' && arg[1] == '-' && arg[2] != '\0') {
			size_t n = strcspn(arg + 2, "=");

			if (n > 0 && strncmp(arg + 2, r->opt + 2, n) == 0)
				return r;
		}
	}
	return NULL;
}

static int
cfg_eal_args(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_config *cfg = obj;
	size_t i;

	(void)f;
	if (!json_is_array(val))
		return cfg_err(ctx, "must be an array of strings");
	if (json_array_size(val) > CFG_EAL_ARGS_MAX)
		return cfg_err(ctx, "at most %d entries", CFG_EAL_ARGS_MAX);
	for (i = 0; i < json_array_size(val); i++) {
		json_t *v = json_array_get(val, i);
		const struct cfg_eal_reserved *r;
		const char *s;
		size_t saved;
		int rc;

		saved = cfg_push_index(ctx, i);
		rc = cfg_string(ctx, v, &s);
		if (rc < 0)
			return rc;
		if (s[0] == '\0')
			return cfg_err(ctx, "must not be empty");
		if (strlen(s) >= CFG_EAL_ARG_LEN)
			return cfg_err(ctx, "too long (%zu bytes, at most %d)", strlen(s),
				       CFG_EAL_ARG_LEN - 1);
		r = cfg_eal_reserved_find(s);
		if (r != NULL) {
			char q[CFG_QUOTE_LEN];

			cfg_quote(q, s);
			return cfg_err(ctx, "%s is not allowed here, %s", q, r->use);
		}
		cfg->eal_argv[cfg->eal_argc] = strdup(s);
		if (cfg->eal_argv[cfg->eal_argc] == NULL) {
			cfg_err(ctx, "out of memory");
			return -ENOMEM;
		}
		cfg->eal_argc++;
		cfg_pop(ctx, saved);
	}
	return 0;
}

static int
cfg_eal_lcores(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_config *cfg = obj;
	const char *s;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	if (s[0] == '\0' || s[strspn(s, "0123456789@,()-")] != '\0')
		return cfg_err_value(ctx, "must be a non-empty string of 0-9 @ , ( ) -", s,
				     strlen(s));
	return cfg_copy(ctx, s, cfg->lcores, sizeof(cfg->lcores));
}

static int
cfg_eal_file_prefix(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_config *cfg = obj;
	const char *s;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	rc = cfg_copy(ctx, s, cfg->file_prefix, sizeof(cfg->file_prefix));
	if (rc < 0)
		return rc;
	/* It names a directory under /var/run/dpdk: keep it a plain file name. */
	if (s[0] == '\0' || s[0] == '.' ||
	    s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")] !=
		    '\0')
		return cfg_err_value(
			ctx, "must be characters from [A-Za-z0-9_.-], not starting with '.'", s,
			strlen(s));
	return 0;
}

/*
 * ports
 */

static int
cfg_port_name(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_cfg_port *port = obj;
	const char *s;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	rc = cfg_copy(ctx, s, port->name, sizeof(port->name));
	if (rc < 0)
		return rc;
	if (s[0] == '\0' ||
	    s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")] !=
		    '\0') {
		char q[CFG_QUOTE_LEN];

		cfg_quote(q, s);
		return cfg_err(ctx, "must be 1 to %d characters from [A-Za-z0-9_-]: %s",
			       SL_CFG_NAME_MAX - 1, q);
	}
	return 0;
}

static int
cfg_port_vdev(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_cfg_port *port = obj;
	const char *s;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	rc = cfg_copy(ctx, s, port->vdev, sizeof(port->vdev));
	if (rc < 0)
		return rc;
	if (strncmp(s, "net_", 4) != 0 || strcspn(s, ",") <= 4)
		return cfg_err_value(ctx, "not a DPDK net vdev (must start with \"net_\")", s,
				     strlen(s));
	if (s[strcspn(s, " \t\n\v\f\r")] != '\0')
		return cfg_err_value(ctx, "must not contain whitespace", s, strlen(s));
	return 0;
}

static int
cfg_port_address(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_cfg_port *port = obj;
	char a[CFG_IP4_STRLEN], net[CFG_IP4_STRLEN];
	const char *s, *why;
	uint32_t mask;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	rc = cfg_prefix_value(ctx, s, &port->addr, &port->prefix_len);
	if (rc < 0)
		return rc;
	sl_ip4_str(port->addr, a);
	why = cfg_ip4_unusable(port->addr);
	if (why != NULL)
		return cfg_err(ctx, "%s is %s", a, why);
	mask = sl_ip4_mask(port->prefix_len);
	sl_ip4_str((struct sl_ip4){port->addr.v & mask}, net);
	/* RFC 3021: /31 and /32 have no network or broadcast address. */
	if (port->prefix_len < 31 && (port->addr.v & ~mask) == 0)
		return cfg_err(ctx, "%s is the network address of %s/%u", a, net, port->prefix_len);
	if (port->prefix_len < 31 && (port->addr.v & ~mask) == ~mask)
		return cfg_err(ctx, "%s is the broadcast address of %s/%u", a, net,
			       port->prefix_len);
	return 0;
}

/** A next hop (gateway, route via): a usable IPv4 host address. */
static int
cfg_nexthop_value(struct cfg_ctx *ctx, json_t *val, struct sl_ip4 *ip)
{
	const char *s, *why;
	int rc;

	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	rc = cfg_ip4_value(ctx, s, strlen(s), ip);
	if (rc < 0)
		return rc;
	why = cfg_ip4_unusable(*ip);
	if (why != NULL) {
		char a[CFG_IP4_STRLEN];

		sl_ip4_str(*ip, a);
		return cfg_err(ctx, "%s is %s", a, why);
	}
	return 0;
}

static int
cfg_port_gateway(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_cfg_port *port = obj;
	int rc;

	(void)f;
	rc = cfg_nexthop_value(ctx, val, &port->gateway);
	if (rc < 0)
		return rc;
	port->has_gateway = true;
	return 0;
}

static int
cfg_port_mac(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_cfg_port *port = obj;
	static const struct sl_mac zero;
	const char *s;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	if (!cfg_mac_parse(s, &port->mac))
		return cfg_err_value(ctx, "not a MAC address (aa:bb:cc:dd:ee:ff)", s, strlen(s));
	/* The I/G bit: group (multicast, broadcast) addresses cannot be a port's own. */
	if (port->mac.b[0] & 1)
		return cfg_err_value(ctx, "not a unicast MAC address", s, strlen(s));
	if (memcmp(&port->mac, &zero, sizeof(zero)) == 0)
		return cfg_err(ctx, "the all-zero MAC address is not allowed");
	port->has_mac = true;
	return 0;
}

static int
cfg_route_dst(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_route *r = obj;
	uint32_t mask;
	const char *s;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	rc = cfg_prefix_value(ctx, s, &r->dst, &r->prefix_len);
	if (rc < 0)
		return rc;
	mask = sl_ip4_mask(r->prefix_len);
	if ((r->dst.v & ~mask) != 0) {
		char a[CFG_IP4_STRLEN], net[CFG_IP4_STRLEN];

		sl_ip4_str(r->dst, a);
		sl_ip4_str((struct sl_ip4){r->dst.v & mask}, net);
		return cfg_err(ctx, "%s/%u has host bits set (the network is %s/%u)", a,
			       r->prefix_len, net, r->prefix_len);
	}
	return 0;
}

static int
cfg_route_via(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_route *r = obj;

	(void)f;
	return cfg_nexthop_value(ctx, val, &r->gateway);
}

static const struct cfg_field cfg_route_fields[] = {
	CFG_FN("dst", cfg_route_dst, true),
	CFG_FN("via", cfg_route_via, true),
};

static int
cfg_port_routes(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_cfg_port *port = obj;

	(void)f;
	if (!json_is_array(val))
		return cfg_err(ctx, "must be an array");
	if (json_array_size(val) > SL_ROUTES_MAX)
		return cfg_err(ctx, "at most %d entries", SL_ROUTES_MAX);
	for (size_t i = 0; i < json_array_size(val); i++) {
		json_t *v = json_array_get(val, i);
		size_t saved = cfg_push_index(ctx, i);
		int rc;

		if (!json_is_object(v))
			return cfg_err(ctx, "must be an object");
		rc = cfg_object(ctx, v, cfg_route_fields, SL_ARRAY_SIZE(cfg_route_fields),
				&port->routes.r[i]);
		if (rc < 0)
			return rc;
		cfg_pop(ctx, saved);
	}
	port->routes.n = (unsigned int)json_array_size(val);
	return 0;
}

/*
 * ports[i].impair: the impairment stage of each direction
 */

static int
cfg_pct(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	uint32_t *p = (uint32_t *)((char *)obj + f->off);
	double v;

	if (!json_is_number(val))
		return cfg_err(ctx, "must be a number from 0 to 100");
	v = json_number_value(val);
	if (!(v >= 0 && v <= 100))
		return cfg_err(ctx, "must be a number from 0 to 100");
	*p = sl_impair_pct(v);
	return 0;
}

#define CFG_PCT(key, member)                                                                       \
	{                                                                                          \
		.name = key, .parse = cfg_pct, .off = offsetof(struct sl_impair_conf, member)      \
	}

static const struct cfg_field cfg_impair_dir_fields[] = {
	CFG_PCT("loss_pct", loss),
	CFG_PCT("duplicate_pct", duplicate),
	CFG_PCT("reorder_pct", reorder),
	CFG_INT("delay_ms", struct sl_impair_conf, delay_us, 0, 10000, 1000),
	CFG_INT("jitter_ms", struct sl_impair_conf, jitter_us, 0, 10000, 1000),
	CFG_INT("seed", struct sl_impair_conf, seed, 0, INT64_MAX, 1),
};

static int
cfg_impair_dir(struct cfg_ctx *ctx, json_t *val, struct sl_impair_conf *c)
{
	int rc;

	if (!json_is_object(val))
		return cfg_err(ctx, "must be an object");
	rc = cfg_object(ctx, val, cfg_impair_dir_fields, SL_ARRAY_SIZE(cfg_impair_dir_fields), c);
	if (rc < 0)
		return rc;
	if (c->jitter_us > c->delay_us) {
		cfg_push_key(ctx, "jitter_ms");
		return cfg_err(ctx, "must not exceed delay_ms (%u)", c->delay_us / 1000);
	}
	c->enabled = c->loss || c->duplicate || c->reorder || c->delay_us;
	return 0;
}

static int
cfg_impair_rx(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	(void)f;
	return cfg_impair_dir(ctx, val, &((struct sl_cfg_port *)obj)->impair_rx);
}

static int
cfg_impair_tx(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	(void)f;
	return cfg_impair_dir(ctx, val, &((struct sl_cfg_port *)obj)->impair_tx);
}

static const struct cfg_field cfg_impair_fields[] = {
	CFG_FN("rx", cfg_impair_rx, false),
	CFG_FN("tx", cfg_impair_tx, false),
};

static int
cfg_port_impair(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	(void)f;
	if (!json_is_object(val))
		return cfg_err(ctx, "must be an object");
	return cfg_object(ctx, val, cfg_impair_fields, SL_ARRAY_SIZE(cfg_impair_fields), obj);
}

static const struct cfg_field cfg_port_fields[] = {
	CFG_FN("name", cfg_port_name, true),
	CFG_FN("vdev", cfg_port_vdev, true),
	CFG_FN("address", cfg_port_address, true),
	CFG_FN("gateway", cfg_port_gateway, false),
	CFG_INT("mtu", struct sl_cfg_port, mtu, 576, 9000, 1),
	CFG_FN("mac", cfg_port_mac, false),
	CFG_FN("routes", cfg_port_routes, false),
	CFG_FN("impair", cfg_port_impair, false),
};

/*
 * A next hop of port `p` at the current path: on the port's subnet, and neither the port's
 * own address nor the subnet's network or broadcast address.
 */
static int
cfg_check_nexthop(struct cfg_ctx *ctx, const struct sl_cfg_port *p, struct sl_ip4 ip)
{
	uint32_t mask = sl_ip4_mask(p->prefix_len);
	char a[CFG_IP4_STRLEN], net[CFG_IP4_STRLEN];

	sl_ip4_str(ip, a);
	sl_ip4_str((struct sl_ip4){p->addr.v & mask}, net);
	if ((ip.v & mask) != (p->addr.v & mask))
		return cfg_err(ctx, "%s is not on the port's subnet %s/%u", a, net, p->prefix_len);
	if (ip.v == p->addr.v)
		return cfg_err(ctx, "%s is the port's own address", a);
	if (p->prefix_len < 31 && (ip.v & ~mask) == 0)
		return cfg_err(ctx, "%s is the network address of %s/%u", a, net, p->prefix_len);
	if (p->prefix_len < 31 && (ip.v & ~mask) == ~mask)
		return cfg_err(ctx, "%s is the broadcast address of %s/%u", a, net, p->prefix_len);
	return 0;
}

/** Length of the device name of a vdev string: up to the first comma. */
static size_t
cfg_vdev_name_len(const char *vdev)
{
	return strcspn(vdev, ",");
}

/*
 * Checks of port `idx` that span its fields or other ports, then the default route is
 * appended. `ctx` is at "ports".
 */
static int
cfg_port_check(struct cfg_ctx *ctx, struct sl_config *cfg, unsigned int idx)
{
	struct sl_cfg_port *p = &cfg->ports[idx];
	struct sl_route_table *rt = &p->routes;
	char q[CFG_QUOTE_LEN], a[CFG_IP4_STRLEN];
	size_t base = ctx->plen, port_path;
	int rc;

	cfg_push_index(ctx, idx);
	port_path = ctx->plen;
	for (unsigned int j = 0; j < idx; j++) {
		const struct sl_cfg_port *o = &cfg->ports[j];
		size_t n;

		if (strcmp(o->name, p->name) == 0) {
			cfg_push_key(ctx, "name");
			cfg_quote(q, o->name);
			return cfg_err(ctx, "duplicate of ports[%u].name %s", j, q);
		}
		n = cfg_vdev_name_len(o->vdev);
		if (n == cfg_vdev_name_len(p->vdev) && strncmp(o->vdev, p->vdev, n) == 0) {
			cfg_push_key(ctx, "vdev");
			cfg_escape(q, sizeof(q), o->vdev, n, true);
			return cfg_err(ctx, "duplicate of ports[%u].vdev device %s", j, q);
		}
		if (o->addr.v == p->addr.v) {
			cfg_push_key(ctx, "address");
			sl_ip4_str(p->addr, a);
			return cfg_err(ctx, "duplicate of ports[%u].address %s", j, a);
		}
	}
	if (p->has_gateway) {
		cfg_push_key(ctx, "gateway");
		rc = cfg_check_nexthop(ctx, p, p->gateway);
		if (rc < 0)
			return rc;
		cfg_pop(ctx, port_path);
	}
	for (unsigned int i = 0; i < rt->n; i++) {
		const struct sl_route *r = &rt->r[i];
		size_t route_path;

		cfg_push_key(ctx, "routes");
		cfg_push_index(ctx, i);
		route_path = ctx->plen;
		cfg_push_key(ctx, "dst");
		for (unsigned int j = 0; j < i; j++) {
			if (rt->r[j].dst.v == r->dst.v && rt->r[j].prefix_len == r->prefix_len) {
				sl_ip4_str(r->dst, a);
				return cfg_err(ctx, "duplicate of ports[%u].routes[%u].dst %s/%u",
					       idx, j, a, r->prefix_len);
			}
		}
		if (p->has_gateway && r->prefix_len == 0)
			return cfg_err(ctx,
				       "0.0.0.0/0 duplicates the default route via "
				       "ports[%u].gateway",
				       idx);
		cfg_pop(ctx, route_path);
		cfg_push_key(ctx, "via");
		rc = cfg_check_nexthop(ctx, p, r->gateway);
		if (rc < 0)
			return rc;
		cfg_pop(ctx, port_path);
	}
	if (p->has_gateway) {
		if (rt->n >= SL_ROUTES_MAX) {
			cfg_push_key(ctx, "routes");
			return cfg_err(ctx,
				       "at most %d entries when a gateway is set (%d routes in "
				       "all)",
				       SL_ROUTES_MAX - 1, SL_ROUTES_MAX);
		}
		rt->r[rt->n++] = (struct sl_route){.gateway = p->gateway};
	}
	cfg_pop(ctx, base);
	return 0;
}

static int
cfg_ports(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_config *cfg = obj;

	(void)f;
	if (!json_is_array(val) || json_array_size(val) == 0)
		return cfg_err(ctx, "must be a non-empty array");
	if (json_array_size(val) > SL_CFG_MAX_PORTS)
		return cfg_err(ctx, "at most %d entries", SL_CFG_MAX_PORTS);
	for (size_t i = 0; i < json_array_size(val); i++) {
		json_t *v = json_array_get(val, i);
		struct sl_cfg_port *p = &cfg->ports[i];
		size_t saved = cfg_push_index(ctx, i);
		int rc;

		if (!json_is_object(v))
			return cfg_err(ctx, "must be an object");
		p->mtu = CFG_DEF_MTU;
		rc = cfg_object(ctx, v, cfg_port_fields, SL_ARRAY_SIZE(cfg_port_fields), p);
		if (rc < 0)
			return rc;
		cfg_pop(ctx, saved);
		rc = cfg_port_check(ctx, cfg, (unsigned int)i);
		if (rc < 0)
			return rc;
		cfg->n_ports = (unsigned int)i + 1;
	}
	return 0;
}

/*
 * listeners
 */

static int
cfg_listener_address(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_cfg_listener *l = obj;
	const char *s, *colon;
	char *end;
	unsigned long port;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	colon = strrchr(s, ':');
	if (colon == NULL)
		return cfg_err_value(ctx, "not an address:port", s, strlen(s));
	rc = cfg_ip4_value(ctx, s, (size_t)(colon - s), &l->addr);
	if (rc < 0)
		return rc;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || port == 0 ||
	    port > 65535)
		return cfg_err_value(ctx, "not a port from 1 to 65535", colon + 1,
				     strlen(colon + 1));
	l->port = (uint16_t)port;
	return 0;
}

static int
cfg_listener_protocol(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	static const char *const names[] = {[SL_PROTO_ECHO] = "echo",
					    [SL_PROTO_DISCARD] = "discard",
					    [SL_PROTO_CHARGEN] = "chargen",
					    [SL_PROTO_HTTP] = "http",
					    [SL_PROTO_NATIVE] = "native"};
	struct sl_cfg_listener *l = obj;
	const char *s;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	for (unsigned int i = 1; i < SL_ARRAY_SIZE(names); i++) {
		if (strcmp(s, names[i]) == 0) {
			l->protocol = (uint8_t)i;
			return 0;
		}
	}
	return cfg_err_value(ctx,
			     "not one of \"echo\", \"discard\", \"chargen\", \"http\", "
			     "\"native\"",
			     s, strlen(s));
}

static const struct cfg_field cfg_listener_fields[] = {
	CFG_FN("address", cfg_listener_address, true),
	CFG_FN("protocol", cfg_listener_protocol, true),
	CFG_INT("backlog", struct sl_cfg_listener, backlog, 1, 65535, 1),
	CFG_BOOL("health", struct sl_cfg_listener, health),
	CFG_BOOL("mirror", struct sl_cfg_listener, mirror),
	CFG_INT("app_ports", struct sl_cfg_listener, app_ports, 1, 65535, 1),
};

static int
cfg_listeners(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_config *cfg = obj;

	(void)f;
	if (!json_is_array(val))
		return cfg_err(ctx, "must be an array");
	if (json_array_size(val) > SL_CFG_MAX_LISTENERS)
		return cfg_err(ctx, "at most %d entries", SL_CFG_MAX_LISTENERS);
	for (size_t i = 0; i < json_array_size(val); i++) {
		json_t *v = json_array_get(val, i);
		struct sl_cfg_listener *l = &cfg->listeners[i];
		size_t saved = cfg_push_index(ctx, i);
		int rc;

		if (!json_is_object(v))
			return cfg_err(ctx, "must be an object");
		l->backlog = 1024;
		rc = cfg_object(ctx, v, cfg_listener_fields, SL_ARRAY_SIZE(cfg_listener_fields), l);
		if (rc < 0)
			return rc;
		cfg_push_key(ctx, "address");
		for (size_t j = 0; j < i; j++) {
			if (cfg->listeners[j].addr.v == l->addr.v &&
			    cfg->listeners[j].port == l->port) {
				char a[CFG_IP4_STRLEN];

				sl_ip4_str(l->addr, a);
				return cfg_err(ctx, "duplicate of listeners[%zu].address %s:%u", j,
					       a, l->port);
			}
		}
		cfg_pop(ctx, saved);
		cfg->n_listeners = (unsigned int)i + 1;
	}
	return 0;
}

/*
 * nodes, apps
 */

/* "a.b.c.d:port" at the current path. */
static int
cfg_addr_port_value(struct cfg_ctx *ctx, const char *s, struct sl_ip4 *ip, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	unsigned long p;
	char *end;
	int rc;

	if (colon == NULL)
		return cfg_err_value(ctx, "not an address:port", s, strlen(s));
	rc = cfg_ip4_value(ctx, s, (size_t)(colon - s), ip);
	if (rc < 0)
		return rc;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || p == 0 || p > 65535)
		return cfg_err_value(ctx, "not a port from 1 to 65535", colon + 1,
				     strlen(colon + 1));
	*port = (uint16_t)p;
	return 0;
}

static int
cfg_node_locator(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_cfg_node *n = obj;
	const char *s, *why;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	rc = cfg_addr_port_value(ctx, s, &n->addr, &n->port);
	if (rc < 0)
		return rc;
	why = cfg_ip4_unusable(n->addr);
	if (why != NULL && n->addr.v >> 24 != 127) {
		char a[CFG_IP4_STRLEN];

		sl_ip4_str(n->addr, a);
		return cfg_err(ctx, "%s is %s", a, why);
	}
	return 0;
}

static const struct cfg_field cfg_node_fields[] = {
	CFG_FN("locator", cfg_node_locator, true),
};

/*
 * An array of at most `max` objects, entry i parsed with `fields` into base + i * size (zeroed
 * first), then checked against the entries before it by `check` (may be NULL).
 * @return the number of entries, or < 0.
 */
static int
cfg_object_array(struct cfg_ctx *ctx, json_t *val, size_t max, const struct cfg_field *fields,
		 size_t nfields, void *base, size_t size,
		 int (*check)(struct cfg_ctx *ctx, void *base, size_t i))
{
	if (!json_is_array(val))
		return cfg_err(ctx, "must be an array");
	if (json_array_size(val) > max)
		return cfg_err(ctx, "at most %zu entries", max);
	for (size_t i = 0; i < json_array_size(val); i++) {
		json_t *v = json_array_get(val, i);
		void *e = (char *)base + i * size;
		size_t saved = cfg_push_index(ctx, i);
		int rc;

		if (!json_is_object(v))
			return cfg_err(ctx, "must be an object");
		memset(e, 0, size);
		rc = cfg_object(ctx, v, fields, nfields, e);
		if (rc == 0 && check != NULL)
			rc = check(ctx, base, i);
		if (rc < 0)
			return rc;
		cfg_pop(ctx, saved);
	}
	return (int)json_array_size(val);
}

static int
cfg_node_dup(struct cfg_ctx *ctx, void *base, size_t i)
{
	const struct sl_cfg_node *nodes = base, *n = &nodes[i];

	cfg_push_key(ctx, "locator");
	for (size_t j = 0; j < i; j++) {
		if (nodes[j].addr.v == n->addr.v && nodes[j].port == n->port) {
			char a[CFG_IP4_STRLEN];

			sl_ip4_str(n->addr, a);
			return cfg_err(ctx, "duplicate of nodes[%zu].locator %s:%u", j, a, n->port);
		}
	}
	return 0;
}

static int
cfg_nodes(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_config *cfg = obj;
	int n;

	(void)f;
	n = cfg_object_array(ctx, val, SL_CFG_MAX_NODES, cfg_node_fields,
			     SL_ARRAY_SIZE(cfg_node_fields), cfg->nodes, sizeof(cfg->nodes[0]),
			     cfg_node_dup);
	if (n < 0)
		return n;
	cfg->n_nodes = (unsigned int)n;
	return 0;
}

static const struct cfg_field cfg_app_fields[] = {
	CFG_INT("deadline_ms", struct sl_cfg_app, deadline_ms, 1, 600000, 1),
	CFG_INT("retries", struct sl_cfg_app, retries, 0, 10, 1),
};

static int
cfg_apps(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_config *cfg = obj;
	unsigned int i = 0;

	(void)f;
	if (!json_is_object(val))
		return cfg_err(ctx, "must be an object");
	if (json_object_size(val) > SL_CFG_MAX_APPS)
		return cfg_err(ctx, "at most %d entries", SL_CFG_MAX_APPS);
	for (void *it = json_object_iter(val); it != NULL; it = json_object_iter_next(val, it)) {
		const char *key = json_object_iter_key(it);
		json_t *v = json_object_iter_value(it);
		struct sl_cfg_app *a = &cfg->apps[i];
		size_t saved, n = strlen(key);
		int rc;

		if (n == 0)
			return cfg_err_value(ctx,
					     "an app name must be 1 to 63 characters from "
					     "[A-Za-z0-9_.@-]",
					     key, n);
		saved = cfg_push_key(ctx, key);
		if (n >= SL_CFG_APP_NAME_MAX ||
		    key[strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789_.@-")] != '\0')
			return cfg_err_value(ctx,
					     "an app name must be 1 to 63 characters from "
					     "[A-Za-z0-9_.@-]",
					     key, n);
		if (!json_is_object(v))
			return cfg_err(ctx, "must be an object");
		memcpy(a->name, key, n + 1);
		a->deadline_ms = 30000;
		a->retries = 2;
		rc = cfg_object(ctx, v, cfg_app_fields, SL_ARRAY_SIZE(cfg_app_fields), a);
		if (rc < 0)
			return rc;
		cfg_pop(ctx, saved);
		cfg->n_apps = ++i;
	}
	return 0;
}

/*
 * routes, dispatch (docs/configuration.md)
 */

#define CFG_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@-"
#define CFG_HOST_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-"

static int
cfg_route_host(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_cfg_route *r = obj;
	const char *s;
	size_t n;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	n = strlen(s);
	if (n >= SL_CFG_HOST_MAX || s[strspn(s, CFG_HOST_CHARS)] != '\0')
		return cfg_err_value(ctx,
				     "a host must be 0 to 127 characters from [A-Za-z0-9.-], "
				     "without a port",
				     s, n);
	for (size_t i = 0; i <= n; i++)
		r->host[i] = (char)tolower((unsigned char)s[i]);
	return 0;
}

static int
cfg_route_prefix(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_cfg_route *r = obj;
	const char *s;
	size_t n;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	n = strlen(s);
	if (s[0] != '/')
		return cfg_err_value(ctx, "a path prefix must start with '/'", s, n);
	if (n >= SL_CFG_PREFIX_MAX)
		return cfg_err(ctx, "too long (%zu bytes, at most %d)", n, SL_CFG_PREFIX_MAX - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == '?' || c == '#')
			return cfg_err_value(ctx,
					     "a path prefix must be printable ASCII without "
					     "spaces, '?' or '#'",
					     s, n);
	}
	memcpy(r->prefix, s, n + 1);
	return 0;
}

static int
cfg_route_app(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_cfg_route *r = obj;
	const char *s;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	/* which app: checked once apps are read (cfg_check_all), wherever they are in the file */
	if (strlen(s) >= SL_CFG_APP_NAME_MAX)
		return cfg_err_value(ctx, "no such app in apps", s, strlen(s));
	memcpy(r->app_name, s, strlen(s) + 1);
	return 0;
}

static int
cfg_route_event(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_cfg_route *r = obj;
	const char *s;
	size_t n;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	n = strlen(s);
	if (n == 0 || n >= SL_CFG_APP_NAME_MAX || s[strspn(s, CFG_NAME_CHARS)] != '\0')
		return cfg_err_value(ctx,
				     "an event name must be 1 to 63 characters from "
				     "[A-Za-z0-9_.@-]",
				     s, n);
	memcpy(r->event, s, n + 1);
	return 0;
}

static const struct cfg_field cfg_route_entry_fields[] = {
	CFG_FN("host", cfg_route_host, false),
	CFG_FN("prefix", cfg_route_prefix, true),
	CFG_FN("app", cfg_route_app, true),
	CFG_FN("event", cfg_route_event, true),
};

static int
cfg_route_dup(struct cfg_ctx *ctx, void *base, size_t i)
{
	const struct sl_cfg_route *routes = base, *r = &routes[i];

	for (size_t j = 0; j < i; j++) {
		if (strcmp(routes[j].host, r->host) == 0 &&
		    strcmp(routes[j].prefix, r->prefix) == 0) {
			cfg_push_key(ctx, "prefix");
			return cfg_err(
				ctx, "never matches: routes[%zu] has the same host and prefix", j);
		}
	}
	return 0;
}

static int
cfg_routes(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_config *cfg = obj;
	int n;

	(void)f;
	n = cfg_object_array(ctx, val, SL_CFG_MAX_ROUTES, cfg_route_entry_fields,
			     SL_ARRAY_SIZE(cfg_route_entry_fields), cfg->routes,
			     sizeof(cfg->routes[0]), cfg_route_dup);
	if (n < 0)
		return n;
	cfg->n_routes = (unsigned int)n;
	return 0;
}

static int
cfg_dispatch_access_log(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_config *cfg = obj;
	const char *s;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	if (s[0] != '/' && s[0] != '\0')
		return cfg_err(ctx, "must be an absolute path, or \"\" for none");
	return cfg_copy(ctx, s, cfg->dispatch.access_log, sizeof(cfg->dispatch.access_log));
}

/* Resolve the routes' app names, now that apps are read. */
static int
cfg_check_routes(struct cfg_ctx *ctx, struct sl_config *cfg)
{
	for (unsigned int i = 0; i < cfg->n_routes; i++) {
		struct sl_cfg_route *r = &cfg->routes[i];
		unsigned int k;

		for (k = 0; k < cfg->n_apps; k++)
			if (strcmp(cfg->apps[k].name, r->app_name) == 0)
				break;
		if (k == cfg->n_apps) {
			cfg_push_key(ctx, "routes");
			cfg_push_index(ctx, i);
			cfg_push_key(ctx, "app");
			return cfg_err_value(ctx, "no such app in apps", r->app_name,
					     strlen(r->app_name));
		}
		r->app = (uint16_t)k;
	}
	return 0;
}

/* Checks between sections, once the whole file is read: listeners on our addresses. */
static int
cfg_check_all(struct cfg_ctx *ctx, struct sl_config *cfg)
{
	int rc = cfg_check_routes(ctx, cfg);

	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < cfg->n_listeners; i++) {
		const struct sl_cfg_listener *l = &cfg->listeners[i];
		bool ours = false;

		for (unsigned int p = 0; p < cfg->n_ports; p++)
			ours |= cfg->ports[p].addr.v == l->addr.v;
		if (!ours) {
			char a[CFG_IP4_STRLEN];

			cfg_push_key(ctx, "listeners");
			cfg_push_index(ctx, i);
			cfg_push_key(ctx, "address");
			sl_ip4_str(l->addr, a);
			return cfg_err(ctx, "%s is not the address of any port", a);
		}
		if ((l->protocol == SL_PROTO_NATIVE) != (l->app_ports != 0)) {
			cfg_push_key(ctx, "listeners");
			cfg_push_index(ctx, i);
			cfg_push_key(ctx, l->app_ports != 0 ? "app_ports" : "protocol");
			return cfg_err(ctx,
				       l->app_ports != 0
					       ? "only for protocol \"native\""
					       : "a native listener needs app_ports: the port of "
						 "the first app (app i is on app_ports + i)");
		}
		if (l->protocol == SL_PROTO_NATIVE) {
			uint32_t last =
				(uint32_t)l->app_ports + (cfg->n_apps ? cfg->n_apps - 1 : 0);
			size_t saved = ctx->plen;

			cfg_push_key(ctx, "listeners");
			cfg_push_index(ctx, i);
			cfg_push_key(ctx, "app_ports");
			if (last > 65535)
				return cfg_err(ctx, "%u apps from port %u run past 65535",
					       cfg->n_apps, l->app_ports);
			if (cfg->n_listeners + cfg->n_apps > 16)
				return cfg_err(ctx,
					       "%u listeners and %u app ports: at most 16 in all",
					       cfg->n_listeners, cfg->n_apps);
			for (unsigned int j = 0; j < cfg->n_listeners; j++) {
				const struct sl_cfg_listener *o = &cfg->listeners[j];

				if (o->addr.v == l->addr.v && o->port >= l->app_ports &&
				    o->port <= last)
					return cfg_err(ctx,
						       "the app ports %u..%u take listeners[%u]'s "
						       "port %u",
						       l->app_ports, last, j, o->port);
			}
			cfg_pop(ctx, saved);
		}
		if (l->protocol != SL_PROTO_HTTP && (l->health || l->mirror)) {
			cfg_push_key(ctx, "listeners");
			cfg_push_index(ctx, i);
			cfg_push_key(ctx, l->health ? "health" : "mirror");
			return cfg_err(ctx, "only for protocol \"http\"");
		}
	}
	if (cfg->limits.http_connections == 0) {
		cfg->limits.http_connections = cfg->limits.connections_per_worker;
	} else if (cfg->limits.http_connections > cfg->limits.connections_per_worker) {
		cfg_push_key(ctx, "limits");
		cfg_push_key(ctx, "http_connections_per_worker");
		return cfg_err(ctx, "must not exceed limits.connections_per_worker (%u)",
			       cfg->limits.connections_per_worker);
	}
	if (cfg->tcp.rto_min_us > cfg->tcp.rto_max_us) {
		cfg_push_key(ctx, "tcp");
		cfg_push_key(ctx, "rto_min_ms");
		return cfg_err(ctx, "must not exceed tcp.rto_max_ms (%u)",
			       cfg->tcp.rto_max_us / 1000);
	}
	return 0;
}

/*
 * control, log
 */

static int
cfg_control_socket(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_config *cfg = obj;
	const char *s;
	int rc;

	(void)f;
	rc = cfg_string(ctx, val, &s);
	if (rc < 0)
		return rc;
	if (s[0] != '/')
		return cfg_err(ctx, "must be an absolute path");
	return cfg_copy(ctx, s, cfg->control.socket, sizeof(cfg->control.socket));
}

static int
cfg_log_level(struct cfg_ctx *ctx, json_t *val, void *obj, const struct cfg_field *f)
{
	struct sl_config *cfg = obj;
	int level = -EINVAL;

	(void)f;
	if (json_is_string(val))
		level = sl_log_level_parse(json_string_value(val));
	if (level < 0)
		return cfg_err(ctx, "must be one of \"err\", \"warning\", \"notice\", \"info\", "
				    "\"debug\"");
	cfg->log.level = level;
	return 0;
}

/*
 * The tables of sections whose fields live directly in struct sl_config.
 */

static const struct cfg_field cfg_eal_fields[] = {
	CFG_FN("args", cfg_eal_args, false),
	CFG_FN("lcores", cfg_eal_lcores, false),
	CFG_FN("file_prefix", cfg_eal_file_prefix, false),
};

static const struct cfg_field cfg_control_fields[] = {
	CFG_FN("socket", cfg_control_socket, false),
};

static const struct cfg_field cfg_dataplane_fields[] = {
	CFG_INT("mbufs_per_port", struct sl_config, dataplane.mbufs_per_port, 1024, 1048576, 1),
	CFG_INT("rx_desc", struct sl_config, dataplane.rx_desc, 64, 4096, 1),
	CFG_INT("tx_desc", struct sl_config, dataplane.tx_desc, 64, 4096, 1),
	CFG_INT("burst", struct sl_config, dataplane.burst, 1, 256, 1),
	CFG_INT("tx_drain_us", struct sl_config, dataplane.tx_drain_us, 1, 10000, 1),
	CFG_INT("idle_spin_us", struct sl_config, dataplane.idle_spin_us, 0, 100000, 1),
	CFG_INT("idle_sleep_us", struct sl_config, dataplane.idle_sleep_us, 1, 1000, 1),
};

static const struct cfg_field cfg_neighbour_fields[] = {
	CFG_INT("reachable_ms", struct sl_config, neigh.reachable_us, 1000, 86400000, 1000),
	CFG_INT("retry_ms", struct sl_config, neigh.retry_us, 10, 60000, 1000),
	CFG_INT("max_tries", struct sl_config, neigh.max_tries, 1, 20, 1),
};

static const struct cfg_field cfg_tcp_fields[] = {
	CFG_INT("mss", struct sl_config, tcp.mss, 536, 9000, 1),
	CFG_INT("wscale", struct sl_config, tcp.wscale, 0, 14, 1),
	CFG_INT("rcv_buf", struct sl_config, tcp.rcv_buf, 4096, 67108864, 1),
	CFG_INT("snd_buf", struct sl_config, tcp.snd_buf, 4096, 67108864, 1),
	CFG_INT("rto_init_ms", struct sl_config, tcp.rto_init_us, 1, 60000, 1000),
	CFG_INT("rto_min_ms", struct sl_config, tcp.rto_min_us, 1, 60000, 1000),
	CFG_INT("rto_max_ms", struct sl_config, tcp.rto_max_us, 100, 600000, 1000),
	CFG_INT("syn_retries", struct sl_config, tcp.syn_retries, 1, 20, 1),
	CFG_INT("retries", struct sl_config, tcp.retries, 1, 30, 1),
	CFG_INT("delack_ms", struct sl_config, tcp.delack_us, 1, 500, 1000),
	CFG_INT("time_wait_ms", struct sl_config, tcp.time_wait_us, 0, 240000, 1000),
	CFG_INT("fin_wait2_ms", struct sl_config, tcp.fin_wait2_us, 1000, 600000, 1000),
	CFG_BOOL("no_sack", struct sl_config, tcp.no_sack),
	CFG_BOOL("no_syncookies", struct sl_config, tcp.no_syncookies),
	CFG_BOOL("no_timestamps", struct sl_config, tcp.no_timestamps),
	CFG_INT("ooo_max_bytes", struct sl_config, tcp.ooo_max_bytes, 0, 67108864, 1),
	CFG_INT("challenge_ack_limit", struct sl_config, tcp.challenge_ack_limit, 1, 1000000, 1),
	CFG_INT("keepalive_idle_ms", struct sl_config, tcp.keepalive_idle_us, 0, 7200000, 1000),
	CFG_INT("keepalive_intvl_ms", struct sl_config, tcp.keepalive_intvl_us, 1000, 600000, 1000),
	CFG_INT("keepalive_probes", struct sl_config, tcp.keepalive_probes, 1, 30, 1),
};

static const struct cfg_field cfg_limits_fields[] = {
	CFG_INT("connections_per_worker", struct sl_config, limits.connections_per_worker, 16,
		4194304, 1),
	CFG_INT("header_bytes", struct sl_config, limits.header_bytes, 256, 1048576, 1),
	CFG_INT("header_fields", struct sl_config, limits.header_fields, 1, 4096, 1),
	CFG_INT("uri_bytes", struct sl_config, limits.uri_bytes, 16, 1048576, 1),
	CFG_INT("body_bytes", struct sl_config, limits.body_bytes, 1, 1099511627776LL, 1),
	CFG_INT("chunk_line_bytes", struct sl_config, limits.chunk_line_bytes, 16, 65536, 1),
	CFG_INT("header_timeout_ms", struct sl_config, limits.header_timeout_ms, 1000, 3600000, 1),
	CFG_INT("body_timeout_ms", struct sl_config, limits.body_timeout_ms, 1000, 3600000, 1),
	CFG_INT("keepalive_ms", struct sl_config, limits.keepalive_ms, 1000, 3600000, 1),
	CFG_INT("http_connections_per_worker", struct sl_config, limits.http_connections, 16,
		4194304, 1),
	CFG_INT("drain_timeout_ms", struct sl_config, limits.drain_timeout_ms, 100, 600000, 1),
};

static const struct cfg_field cfg_discovery_fields[] = {
	CFG_INT("resolve_interval_ms", struct sl_config, discovery.resolve_interval_ms, 100,
		3600000, 1),
	CFG_INT("info_interval_ms", struct sl_config, discovery.info_interval_ms, 100, 3600000, 1),
	CFG_INT("timeout_ms", struct sl_config, discovery.timeout_ms, 10, 60000, 1),
	CFG_INT("down_after", struct sl_config, discovery.down_after, 1, 100, 1),
};

static const struct cfg_field cfg_dispatch_fields[] = {
	CFG_BOOL("node_header", struct sl_config, dispatch.node_header),
	CFG_FN("access_log", cfg_dispatch_access_log, false),
	CFG_INT("pool_size", struct sl_config, dispatch.pool_size, 1, 16, 1),
	CFG_INT("connect_timeout_ms", struct sl_config, dispatch.connect_timeout_ms, 10, 60000, 1),
	CFG_INT("backoff_max_ms", struct sl_config, dispatch.backoff_max_ms, 100, 600000, 1),
	CFG_INT("native_connections_per_worker", struct sl_config, dispatch.native_connections, 1,
		65536, 1),
};

static const struct cfg_field cfg_log_fields[] = {
	CFG_FN("level", cfg_log_level, false),
	CFG_BOOL("syslog", struct sl_config, log.syslog),
};

static const struct cfg_field cfg_top_fields[] = {
	CFG_SECTION("eal", cfg_eal_fields),
	CFG_INT("workers", struct sl_config, workers, 1, SL_CFG_MAX_WORKERS, 1),
	CFG_FN("ports", cfg_ports, true),
	CFG_SECTION("control", cfg_control_fields),
	CFG_SECTION("dataplane", cfg_dataplane_fields),
	CFG_SECTION("neighbour", cfg_neighbour_fields),
	CFG_FN("listeners", cfg_listeners, false),
	CFG_SECTION("tcp", cfg_tcp_fields),
	CFG_SECTION("limits", cfg_limits_fields),
	CFG_SECTION("log", cfg_log_fields),
	CFG_FN("nodes", cfg_nodes, false),
	CFG_FN("apps", cfg_apps, false),
	CFG_SECTION("discovery", cfg_discovery_fields),
	CFG_FN("routes", cfg_routes, false),
	CFG_SECTION("dispatch", cfg_dispatch_fields),
};

static void
cfg_defaults(struct sl_config *cfg)
{
	memcpy(cfg->file_prefix, CFG_DEF_FILE_PREFIX, sizeof(CFG_DEF_FILE_PREFIX));
	cfg->workers = 1;
	memcpy(cfg->control.socket, CFG_DEF_SOCKET, sizeof(CFG_DEF_SOCKET));
	cfg->dataplane.mbufs_per_port = 8191;
	cfg->dataplane.rx_desc = 1024;
	cfg->dataplane.tx_desc = 1024;
	cfg->dataplane.burst = 32;
	cfg->dataplane.tx_drain_us = 100;
	cfg->dataplane.idle_spin_us = 200;
	cfg->dataplane.idle_sleep_us = 100;
	cfg->neigh.reachable_us = 300000ull * 1000;
	cfg->neigh.retry_us = 1000ull * 1000;
	cfg->neigh.max_tries = 3;
	cfg->tcp.mss = 1460;
	cfg->tcp.wscale = 7;
	cfg->tcp.rcv_buf = 262144;
	cfg->tcp.snd_buf = 262144;
	cfg->tcp.rto_init_us = 1000000;
	cfg->tcp.rto_min_us = 200000;
	cfg->tcp.rto_max_us = 60000000;
	cfg->tcp.syn_retries = 5;
	cfg->tcp.retries = 8;
	cfg->tcp.delack_us = 40000;
	cfg->tcp.time_wait_us = 2000000;
	cfg->tcp.fin_wait2_us = 60000000;
	cfg->limits.connections_per_worker = 65536;
	cfg->limits.header_bytes = 16384;
	cfg->limits.header_fields = 100;
	cfg->limits.uri_bytes = 8192;
	cfg->limits.body_bytes = 16777216;
	cfg->limits.chunk_line_bytes = 4096;
	cfg->limits.header_timeout_ms = 10000;
	cfg->limits.body_timeout_ms = 10000;
	cfg->limits.keepalive_ms = 60000;
	cfg->limits.drain_timeout_ms = 30000;
	cfg->log.level = SL_LOG_INFO;
	cfg->log.syslog = false;
	cfg->discovery.resolve_interval_ms = 5000;
	cfg->discovery.info_interval_ms = 1000;
	cfg->discovery.timeout_ms = 1000;
	cfg->discovery.down_after = 2;
	cfg->dispatch.pool_size = 2;
	cfg->dispatch.connect_timeout_ms = 1000;
	cfg->dispatch.backoff_max_ms = 5000;
	cfg->dispatch.native_connections = 1024;
}

/*
 * Parse `text` into `cfg`. `*at_line` tells a JSON syntax error with a position
 * ("line:column: ...") from other errors ("path: ..."), for sl_config_load() to put the file
 * name in front the way compilers do.
 */
static int
cfg_parse(const char *text, size_t len, struct sl_config *cfg, char *err, size_t errlen,
	  bool *at_line)
{
	struct cfg_ctx ctx = {.err = err, .errlen = errlen};
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	*at_line = false;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		*at_line = jerr.line > 0;
		if (err != NULL && errlen > 0) {
			if (*at_line)
				snprintf(err, errlen, "%d:%d: %s", jerr.line, jerr.column,
					 jerr.text);
			else
				snprintf(err, errlen, "%s", jerr.text);
		}
		return -EINVAL;
	}
	cfg_defaults(cfg);
	if (!json_is_object(root))
		rc = cfg_err(&ctx, "must be an object");
	else
		rc = cfg_object(&ctx, root, cfg_top_fields, SL_ARRAY_SIZE(cfg_top_fields), cfg);
	if (rc == 0)
		rc = cfg_check_all(&ctx, cfg);
	json_decref(root);
	if (rc < 0) {
		sl_config_free(cfg);
		memset(cfg, 0, sizeof(*cfg));
	}
	return rc;
}

int
sl_config_parse(const char *text, size_t len, struct sl_config *cfg, char *err, size_t errlen)
{
	bool at_line;

	return cfg_parse(text, len, cfg, err, errlen, &at_line);
}

/*
 * Read all of `fd` into a new buffer (*buf, *len), refusing more than CFG_FILE_MAX bytes
 * without reading past that: regular files by their size, others (pipes, devices) as they
 * come.
 * @return 0, -EFBIG, -ENOMEM or -errno of read().
 */
static int
cfg_read_fd(int fd, size_t size_hint, char **buf, size_t *len)
{
	size_t cap = size_hint + 1, n = 0;
	char *b, *nb;

	if (cap > CFG_FILE_MAX + 1)
		cap = CFG_FILE_MAX + 1;
	if (cap < 4096)
		cap = 4096;
	b = malloc(cap);
	if (b == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap > CFG_FILE_MAX) {
				free(b);
				return -EFBIG;
			}
			cap = cap * 2 > CFG_FILE_MAX + 1 ? CFG_FILE_MAX + 1 : cap * 2;
			nb = realloc(b, cap);
			if (nb == NULL) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int rc = -errno;

			free(b);
			return rc;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > CFG_FILE_MAX) {
		free(b);
		return -EFBIG;
	}
	*buf = b;
	*len = n;
	return 0;
}

int
sl_config_load(const char *path, struct sl_config *cfg, char *err, size_t errlen)
{
	char msg[512];
	struct stat st;
	size_t len = 0;
	char *buf = NULL;
	bool at_line;
	int fd, rc;

	memset(cfg, 0, sizeof(*cfg));
	if (err == NULL || errlen == 0) {
		err = msg;
		errlen = sizeof(msg);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (S_ISREG(st.st_mode) && st.st_size > CFG_FILE_MAX) {
		close(fd);
		snprintf(err, errlen, "%s: file too large (%lld bytes, at most %d)", path,
			 (long long)st.st_size, CFG_FILE_MAX);
		return -EFBIG;
	}
	rc = cfg_read_fd(fd, S_ISREG(st.st_mode) ? (size_t)st.st_size : 0, &buf, &len);
	close(fd);
	if (rc == -EFBIG) {
		snprintf(err, errlen, "%s: file too large (more than %d bytes)", path,
			 CFG_FILE_MAX);
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = cfg_parse(buf, len, cfg, msg, sizeof(msg), &at_line);
	free(buf);
	if (rc < 0)
		snprintf(err, errlen, "%s:%s%s", path, at_line ? "" : " ", msg);
	return rc;
}

void
sl_config_free(struct sl_config *cfg)
{
	for (size_t i = 0; i < SL_ARRAY_SIZE(cfg->eal_argv); i++) {
		free(cfg->eal_argv[i]);
		cfg->eal_argv[i] = NULL;
	}
	cfg->eal_argc = 0;
}
