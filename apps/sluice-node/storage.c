/*
 * The storage service (cocaine-protocol.md 10) with a files backend, as Cocaine's core
 * storage: read [collection, key] -> value [blob]; write [collection, key, blob, tags?] ->
 * value []; remove [collection, key] -> value []; find [collection, tags] -> value [[keys]]
 * (the keys carrying every tag, sorted). Values are opaque bytes (by convention msgpack).
 *
 * Layout under storage.path: <collection>/<key> holds an object; <collection>/.tags/<tag>/
 * <key> is an empty marker of a tag. Names (collections, keys, tags: any bytes but NUL) are
 * escaped into file names: bytes outside [A-Za-z0-9_.,=+@-], and a leading '.', become %XX,
 * so no name can leave its directory or collide with .tags. A write goes to a temporary
 * file renamed over the object (readers never see half an object) and replaces the
 * object's tags; a remove drops the object and its markers; markers of objects removed
 * behind our back are purged by find (as Cocaine's files backend). Nothing is fsync'd.
 *
 * Errors are `[[0x0C, errno], message]` (generic category): ENOENT for a missing object,
 * EFBIG over limits.storage_value_bytes, EINVAL for a bad name, ENAMETOOLONG, and the
 * errno of the file system otherwise.
 *
 * The files are local and the values bounded (limits.storage_value_bytes), so each call
 * runs to completion in the node's loop: the loop does not wait on any peer, but a slow
 * disk delays it (see docs/sluice-node.md).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node.h"
#include "sl_log.h"

#define ST_LOG(l, ...) SL_LOG(l, "storage", __VA_ARGS__)
#define ST_NAME_MAX 255	      /* an escaped name is one file name */
#define ST_PATH_MAX 4096      /* root + collection + .tags + tag + key */
#define ST_FIND_MAX 65536     /* keys in one find reply */
#define ST_TAGS_MAX 64	      /* tags of one write or find */
#define ST_TAG_DIR ".tags"    /* never an escaped name: those never start with '.' */
#define ST_TMP_PREFIX ".tmp-" /* temporary objects */

static uint32_t st_tmp_seq;

static bool
name_byte_ok(uint8_t c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	if (c == '.')
		return !first;
	return c == '_' || c == '-' || c == ',' || c == '=' || c == '+' || c == '@';
}

/* Escape a name into a file name. @return 0, -EINVAL (empty, NUL), -ENAMETOOLONG. */
static int
name_enc(const void *p, uint32_t len, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const uint8_t *s = p;
	uint32_t i, o = 0;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] == '\0')
			return -EINVAL;
		if (name_byte_ok(s[i], i == 0)) {
			if (o + 1 > ST_NAME_MAX)
				return -ENAMETOOLONG;
			out[o++] = (char)s[i];
		} else {
			if (o + 3 > ST_NAME_MAX)
				return -ENAMETOOLONG;
			out[o++] = '%';
			out[o++] = hex[s[i] >> 4];
			out[o++] = hex[s[i] & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A file name back into a name (NUL-terminated). @return 0, or -EINVAL (not ours). */
static int
name_dec(const char *f, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	if (f[0] == '\0' || f[0] == '.')
		return -EINVAL;
	while (f[i] != '\0') {
		if (o + 1 >= cap)
			return -EINVAL;
		if (f[i] == '%') {
			int hi = hexval(f[i + 1]), lo = hi >= 0 ? hexval(f[i + 2]) : -1;

			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			out[o++] = (char)(hi << 4 | lo);
			i += 3;
		} else {
			out[o++] = f[i++];
		}
	}
	out[o] = '\0';
	return 0;
}

static int
st_path(char *out, const struct node *n, const char *coll, const char *a, const char *b,
	const char *c)
{
	int len;

	if (b == NULL)
		len = snprintf(out, ST_PATH_MAX, "%s/%s%s%s", n->cfg.storage_path, coll,
			       a != NULL ? "/" : "", a != NULL ? a : "");
	else
		len = snprintf(out, ST_PATH_MAX, "%s/%s/%s/%s%s%s", n->cfg.storage_path, coll, a, b,
			       c != NULL ? "/" : "", c != NULL ? c : "");
	return len < 0 || len >= ST_PATH_MAX ? -ENAMETOOLONG : 0;
}

static void
name_err(char *err, size_t errlen, const char *what, int rc)
{
	if (rc == -ENAMETOOLONG)
		snprintf(err, errlen, "storage: the %s is too long (%d bytes once escaped)", what,
			 ST_NAME_MAX);
	else
		snprintf(err, errlen, "storage: the %s must be 1 or more bytes, none of them NUL",
			 what);
}

int
storage_read(struct node *n, const char *coll, const void *key, uint32_t klen, uint8_t **out,
	     size_t *outlen, char *err, size_t errlen)
{
	char ecoll[ST_NAME_MAX + 1], ekey[ST_NAME_MAX + 1], path[ST_PATH_MAX];
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd, rc;

	*out = NULL;
	*outlen = 0;
	rc = name_enc(coll, (uint32_t)strlen(coll), ecoll);
	if (rc < 0) {
		name_err(err, errlen, "collection", rc);
		return rc;
	}
	rc = name_enc(key, klen, ekey);
	if (rc < 0) {
		name_err(err, errlen, "key", rc);
		return rc;
	}
	rc = st_path(path, n, ecoll, ekey, NULL, NULL);
	if (rc < 0) {
		snprintf(err, errlen, "storage: path too long");
		return rc;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			snprintf(err, errlen, "storage: no object '%.*s' in collection '%s'",
				 klen > 128 ? 128 : (int)klen, (const char *)key, coll);
		else
			snprintf(err, errlen, "storage: read %s/%.*s: %s", coll,
				 klen > 128 ? 128 : (int)klen, (const char *)key, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "storage: %s/%s is not a regular file", coll, ekey);
		return -EIO;
	}
	if ((uint64_t)st.st_size > n->cfg.storage_value_bytes) {
		close(fd);
		snprintf(err, errlen,
			 "storage: %s/%s has %lld bytes, over limits.storage_value_bytes (%u)",
			 coll, ekey, (long long)st.st_size, n->cfg.storage_value_bytes);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		snprintf(err, errlen, "storage: out of memory");
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*out = buf;
	*outlen = got;
	return 0;
}

/* Write all of b to fd. @return 0 or -errno. */
static int
write_all(int fd, const uint8_t *b, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, b, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		b += w;
		len -= (size_t)w;
	}
	return 0;
}

static bool
tag_listed(const char *etag, char (*etags)[ST_NAME_MAX + 1], uint32_t ntags)
{
	uint32_t i;

	for (i = 0; i < ntags; i++)
		if (strcmp(etag, etags[i]) == 0)
			return true;
	return false;
}

/* Drop the key's markers in every tag directory not listed. */
static void
untag(const struct node *n, const char *ecoll, const char *ekey, char (*keep)[ST_NAME_MAX + 1],
      uint32_t nkeep)
{
	char path[ST_PATH_MAX];
	struct dirent *d;
	DIR *dir;

	if (st_path(path, n, ecoll, ST_TAG_DIR, NULL, NULL) < 0)
		return;
	dir = opendir(path);
	if (dir == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.' || tag_listed(d->d_name, keep, nkeep))
			continue;
		if (st_path(path, n, ecoll, ST_TAG_DIR, d->d_name, ekey) == 0)
			unlink(path);
	}
	closedir(dir);
}

static int
mkdir_ok(const char *path)
{
	return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

static int
storage_write(struct node *n, const char *ecoll, const char *ekey, const uint8_t *blob, size_t len,
	      char (*etags)[ST_NAME_MAX + 1], uint32_t ntags, char *err, size_t errlen)
{
	char path[ST_PATH_MAX], tmp[ST_PATH_MAX], tname[64];
	uint32_t i;
	int fd, rc;

	rc = st_path(path, n, ecoll, NULL, NULL, NULL);
	if (rc == 0)
		rc = mkdir_ok(path);
	if (rc < 0) {
		snprintf(err, errlen, "storage: collection %s: %s", ecoll, strerror(-rc));
		return rc;
	}
	snprintf(tname, sizeof(tname), ST_TMP_PREFIX "%d-%u", (int)getpid(), ++st_tmp_seq);
	if (st_path(tmp, n, ecoll, tname, NULL, NULL) < 0 ||
	    st_path(path, n, ecoll, ekey, NULL, NULL) < 0) {
		snprintf(err, errlen, "storage: path too long");
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "storage: write %s/%s: %s", ecoll, ekey, strerror(-rc));
		return rc;
	}
	rc = write_all(fd, blob, len);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		snprintf(err, errlen, "storage: write %s/%s: %s", ecoll, ekey, strerror(-rc));
		return rc;
	}
	/* the object's tags are the ones given now */
	untag(n, ecoll, ekey, etags, ntags);
	for (i = 0; i < ntags; i++) {
		rc = st_path(path, n, ecoll, ST_TAG_DIR, NULL, NULL);
		if (rc == 0)
			rc = mkdir_ok(path);
		if (rc == 0)
			rc = st_path(path, n, ecoll, ST_TAG_DIR, etags[i], NULL);
		if (rc == 0)
			rc = mkdir_ok(path);
		if (rc == 0)
			rc = st_path(path, n, ecoll, ST_TAG_DIR, etags[i], ekey);
		if (rc == 0) {
			fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
			if (fd < 0)
				rc = -errno;
			else
				close(fd);
		}
		if (rc < 0) {
			snprintf(err, errlen, "storage: tag %.64s of %.64s/%.64s: %s", etags[i],
				 ecoll, ekey, strerror(-rc));
			return rc;
		}
	}
	ST_LOG(DEBUG, "wrote %s/%s: %zu bytes, %u tags", ecoll, ekey, len, ntags);
	return 0;
}

static int
storage_remove(struct node *n, const char *ecoll, const char *ekey, char *err, size_t errlen)
{
	char path[ST_PATH_MAX];

	if (st_path(path, n, ecoll, ekey, NULL, NULL) < 0) {
		snprintf(err, errlen, "storage: path too long");
		return -ENAMETOOLONG;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		int rc = -errno;

		snprintf(err, errlen, "storage: remove %s/%s: %s", ecoll, ekey, strerror(-rc));
		return rc;
	}
	untag(n, ecoll, ekey, NULL, 0);
	ST_LOG(DEBUG, "removed %s/%s", ecoll, ekey);
	return 0;
}

void
storage_free_keys(char **keys, uint32_t nkeys)
{
	uint32_t i;

	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
}

static int
str_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* find with escaped names: the keys (decoded) in every tag's directory whose object exists. */
static int
find_enc(struct node *n, const char *ecoll, char (*etags)[ST_NAME_MAX + 1], uint32_t ntags,
	 char ***keys, uint32_t *nkeys, char *err, size_t errlen)
{
	char path[ST_PATH_MAX], name[ST_NAME_MAX + 1];
	uint32_t count = 0, cap = 0, i;
	char **out = NULL;
	struct dirent *d;
	struct stat st;
	DIR *dir;

	*keys = NULL;
	*nkeys = 0;
	if (ntags == 0)
		return 0;
	if (st_path(path, n, ecoll, ST_TAG_DIR, etags[0], NULL) < 0)
		return 0;
	dir = opendir(path);
	if (dir == NULL)
		return 0; /* no such collection or tag: nothing carries it */
	while ((d = readdir(dir)) != NULL) {
		bool all = true;
		char **grown;

		if (d->d_name[0] == '.' || name_dec(d->d_name, name, sizeof(name)) < 0)
			continue;
		if (st_path(path, n, ecoll, d->d_name, NULL, NULL) < 0)
			continue;
		if (stat(path, &st) < 0) {
			/* the object is gone: purge its stale marker */
			if (errno == ENOENT &&
			    st_path(path, n, ecoll, ST_TAG_DIR, etags[0], d->d_name) == 0)
				unlink(path);
			continue;
		}
		for (i = 1; i < ntags && all; i++)
			all = st_path(path, n, ecoll, ST_TAG_DIR, etags[i], d->d_name) == 0 &&
			      stat(path, &st) == 0;
		if (!all)
			continue;
		if (count == ST_FIND_MAX) {
			closedir(dir);
			storage_free_keys(out, count);
			snprintf(err, errlen, "storage: find: more than %d keys", ST_FIND_MAX);
			return -EFBIG;
		}
		if (count == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			grown = realloc(out, cap * sizeof(*out));
			if (grown == NULL) {
				closedir(dir);
				storage_free_keys(out, count);
				snprintf(err, errlen, "storage: out of memory");
				return -ENOMEM;
			}
			out = grown;
		}
		out[count] = strdup(name);
		if (out[count] == NULL) {
			closedir(dir);
			storage_free_keys(out, count);
			snprintf(err, errlen, "storage: out of memory");
			return -ENOMEM;
		}
		count++;
	}
	closedir(dir);
	if (count > 1)
		qsort(out, count, sizeof(*out), str_cmp);
	*keys = out;
	*nkeys = count;
	return 0;
}

int
storage_find(struct node *n, const char *coll, const char *const *tags, uint32_t ntags,
	     char ***keys, uint32_t *nkeys, char *err, size_t errlen)
{
	char ecoll[ST_NAME_MAX + 1], etags[ST_TAGS_MAX][ST_NAME_MAX + 1];
	uint32_t i;
	int rc;

	*keys = NULL;
	*nkeys = 0;
	if (ntags > ST_TAGS_MAX) {
		snprintf(err, errlen, "storage: more than %d tags", ST_TAGS_MAX);
		return -E2BIG;
	}
	rc = name_enc(coll, (uint32_t)strlen(coll), ecoll);
	for (i = 0; i < ntags && rc == 0; i++)
		rc = name_enc(tags[i], (uint32_t)strlen(tags[i]), etags[i]);
	if (rc < 0) {
		name_err(err, errlen, "collection or tag", rc);
		return rc;
	}
	return find_enc(n, ecoll, etags, ntags, keys, nkeys, err, errlen);
}

/* A msgpack object as JSON (for profiles and manifests). NULL when it has no JSON form. */
static json_t *
mp_to_json(const msgpack_object *o, int depth)
{
	json_t *j = NULL;
	uint32_t i;

	if (depth > 32)
		return NULL;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return json_null();
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return o->via.u64 > INT64_MAX ? NULL : json_integer((json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer((json_int_t)o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_STR:
		return json_stringn(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_BIN:
		return json_stringn(o->via.bin.ptr, o->via.bin.size);
	case MSGPACK_OBJECT_ARRAY:
		j = json_array();
		for (i = 0; j != NULL && i < o->via.array.size; i++) {
			json_t *e = mp_to_json(&o->via.array.ptr[i], depth + 1);

			if (e == NULL || json_array_append_new(j, e) < 0) {
				json_decref(j);
				j = NULL;
			}
		}
		return j;
	case MSGPACK_OBJECT_MAP:
		j = json_object();
		for (i = 0; j != NULL && i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;
			json_t *v = NULL;

			if (k->type == MSGPACK_OBJECT_STR &&
			    memchr(k->via.str.ptr, '\0', k->via.str.size) == NULL)
				v = mp_to_json(&o->via.map.ptr[i].val, depth + 1);
			if (v == NULL ||
			    json_object_setn_new(j, k->via.str.ptr, k->via.str.size, v) < 0) {
				json_decref(j);
				j = NULL;
			}
		}
		return j;
	default:
		return NULL;
	}
}

int
storage_read_json(struct node *n, const char *coll, const char *key, struct json_t **out, char *err,
		  size_t errlen)
{
	msgpack_object obj;
	msgpack_zone zone;
	uint8_t *buf;
	size_t len;
	int rc;

	*out = NULL;
	rc = storage_read(n, coll, key, (uint32_t)strlen(key), &buf, &len, err, errlen);
	if (rc < 0)
		return rc;
	msgpack_zone_init(&zone, 4096);
	rc = sl_mpc_unpack(buf, len, NULL, &zone, &obj);
	if (rc > 0 && (size_t)rc == len && obj.type == MSGPACK_OBJECT_MAP)
		*out = mp_to_json(&obj, 0);
	msgpack_zone_destroy(&zone);
	free(buf);
	if (*out == NULL) {
		snprintf(err, errlen,
			 "storage %s/%s: not a msgpack map of JSON values (UTF-8 strings as keys)",
			 coll, key);
		return -EINVAL;
	}
	return 0;
}

/*
 * The service
 */

static void
st_error(struct conn *c, uint64_t ch, int rc, const char *msg)
{
	ST_LOG(DEBUG, "%s", msg);
	svc_send_error(c, ch, SL_ECAT_GENERIC, -rc, msg, NULL);
}

/* A name argument, escaped. @return 0; -EINVAL (not a string: drop); 1 (error sent). */
static int
arg_enc(struct conn *c, uint64_t ch, struct sl_mp_cur *args, const char *what, char *out, char *dec,
	size_t deccap)
{
	char err[160];
	struct sl_mp_raw r;
	int rc;

	if (sl_mp_read_raw(args, &r) < 0)
		return -EINVAL;
	if (r.p == NULL)
		return -EINVAL; /* frames are read into one buffer: always contiguous */
	rc = name_enc(r.p, r.len, out);
	if (rc < 0) {
		name_err(err, sizeof(err), what, rc);
		st_error(c, ch, rc, err);
		return 1;
	}
	if (dec != NULL) {
		uint32_t k = r.len < deccap - 1 ? r.len : (uint32_t)deccap - 1;

		memcpy(dec, r.p, k);
		dec[k] = '\0';
	}
	return 0;
}

/* [tag, ...] escaped. @return as arg_enc(). */
static int
arg_tags(struct conn *c, uint64_t ch, struct sl_mp_cur *args, char (*etags)[ST_NAME_MAX + 1],
	 uint32_t *ntags)
{
	uint32_t n, i;
	int rc;

	if (sl_mp_read_array(args, &n) < 0)
		return -EINVAL;
	if (n > ST_TAGS_MAX) {
		st_error(c, ch, -E2BIG, "storage: more than 64 tags");
		return 1;
	}
	for (i = 0; i < n; i++) {
		rc = arg_enc(c, ch, args, "tag", etags[i], NULL, 0);
		if (rc != 0)
			return rc;
	}
	*ntags = n;
	return 0;
}

static int
st_read(struct node *n, struct conn *c, uint64_t ch, const struct sl_frame *f)
{
	struct sl_mp_cur args = f->args;
	char coll[ST_NAME_MAX + 1], ecoll[ST_NAME_MAX + 1], err[NCONF_ERR_MAX];
	struct sl_mp_raw key;
	struct sl_mp_w w;
	uint8_t *blob, *reply;
	size_t len;
	int rc;

	if (f->nargs < 2)
		return -EINVAL;
	rc = arg_enc(c, ch, &args, "collection", ecoll, coll, sizeof(coll));
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (sl_mp_read_raw(&args, &key) < 0 || key.p == NULL)
		return -EINVAL;
	rc = storage_read(n, coll, key.p, key.len, &blob, &len, err, sizeof(err));
	if (rc < 0) {
		st_error(c, ch, rc, err);
		return 0;
	}
	reply = malloc(len + 8);
	if (reply == NULL) {
		free(blob);
		st_error(c, ch, -ENOMEM, "storage: out of memory");
		return 0;
	}
	sl_mp_w_init(&w, reply, (uint32_t)len + 8);
	sl_mp_w_raw(&w, blob, (uint32_t)len);
	svc_send(c, ch, SL_PRIM_VALUE, reply, w.len, 1, NULL);
	free(reply);
	free(blob);
	return 0;
}

static int
st_write(struct node *n, struct conn *c, uint64_t ch, const struct sl_frame *f)
{
	struct sl_mp_cur args = f->args;
	char ecoll[ST_NAME_MAX + 1], ekey[ST_NAME_MAX + 1], err[NCONF_ERR_MAX];
	static char etags[ST_TAGS_MAX][ST_NAME_MAX + 1];
	struct sl_mp_raw blob;
	uint32_t ntags = 0;
	int rc;

	if (f->nargs < 3)
		return -EINVAL;
	rc = arg_enc(c, ch, &args, "collection", ecoll, NULL, 0);
	if (rc == 0)
		rc = arg_enc(c, ch, &args, "key", ekey, NULL, 0);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (sl_mp_read_raw(&args, &blob) < 0 || (blob.p == NULL && blob.len > 0))
		return -EINVAL;
	if (f->nargs >= 4) {
		rc = arg_tags(c, ch, &args, etags, &ntags);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	}
	if (blob.len > n->cfg.storage_value_bytes) {
		snprintf(err, sizeof(err),
			 "storage: write %s/%s: %u bytes, over limits.storage_value_bytes (%u)",
			 ecoll, ekey, blob.len, n->cfg.storage_value_bytes);
		st_error(c, ch, -EFBIG, err);
		return 0;
	}
	rc = storage_write(n, ecoll, ekey, blob.p, blob.len, etags, ntags, err, sizeof(err));
	if (rc < 0) {
		ST_LOG(WARNING, "%s", err);
		st_error(c, ch, rc, err);
		return 0;
	}
	svc_send_empty(c, ch, SL_PRIM_VALUE, NULL);
	return 0;
}

static int
st_remove(struct node *n, struct conn *c, uint64_t ch, const struct sl_frame *f)
{
	struct sl_mp_cur args = f->args;
	char ecoll[ST_NAME_MAX + 1], ekey[ST_NAME_MAX + 1], err[NCONF_ERR_MAX];
	int rc;

	if (f->nargs < 2)
		return -EINVAL;
	rc = arg_enc(c, ch, &args, "collection", ecoll, NULL, 0);
	if (rc == 0)
		rc = arg_enc(c, ch, &args, "key", ekey, NULL, 0);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	rc = storage_remove(n, ecoll, ekey, err, sizeof(err));
	if (rc < 0)
		st_error(c, ch, rc, err);
	else
		svc_send_empty(c, ch, SL_PRIM_VALUE, NULL);
	return 0;
}

static int
st_find(struct node *n, struct conn *c, uint64_t ch, const struct sl_frame *f)
{
	struct sl_mp_cur args = f->args;
	char ecoll[ST_NAME_MAX + 1], err[NCONF_ERR_MAX];
	static char etags[ST_TAGS_MAX][ST_NAME_MAX + 1];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t ntags = 0, nkeys = 0, i;
	char **keys = NULL;
	int rc;

	if (f->nargs < 2)
		return -EINVAL;
	rc = arg_enc(c, ch, &args, "collection", ecoll, NULL, 0);
	if (rc == 0)
		rc = arg_tags(c, ch, &args, etags, &ntags);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	rc = find_enc(n, ecoll, etags, ntags, &keys, &nkeys, err, sizeof(err));
	if (rc < 0) {
		st_error(c, ch, rc, err);
		return 0;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, nkeys);
	for (i = 0; i < nkeys; i++)
		sl_mpc_pack_raw(&pk, keys[i], strlen(keys[i]));
	svc_send(c, ch, SL_PRIM_VALUE, sb.data, sb.size, 1, NULL);
	msgpack_sbuffer_destroy(&sb);
	storage_free_keys(keys, nkeys);
	return 0;
}

static int
storage_frame(struct conn *c, const struct sl_frame *f, const struct sl_hdrs *h,
	      const struct sl_chan_ev *ev)
{
	struct node *n = c->owner;

	(void)h;
	if (!ev->opened)
		return 0;
	switch (ev->slot->id) {
	case SL_STORAGE_READ:
		return st_read(n, c, ev->id, f);
	case SL_STORAGE_WRITE:
		return st_write(n, c, ev->id, f);
	case SL_STORAGE_REMOVE:
		return st_remove(n, c, ev->id, f);
	case SL_STORAGE_FIND:
		return st_find(n, c, ev->id, f);
	default:
		return -ENOENT;
	}
}

static void
storage_close(struct conn *c, int err)
{
	(void)err;
	node_client_closed(c->owner, c);
}

static const struct conn_ops storage_ops = {
	.on_frame = storage_frame,
	.on_close = storage_close,
};

void
storage_accept(struct listener *ls, int fd)
{
	struct node *n = ls->owner;
	struct conn *c;

	if (!node_client_admit(n)) {
		close(fd);
		return;
	}
	c = conn_new(&n->loop, fd, &storage_ops, &n->cfg.client_limits, &sl_proto_storage, NULL, 0,
		     n, "storage client");
	if (c == NULL) {
		ST_LOG(WARNING, "client connection: %s", strerror(errno));
		return;
	}
	NL_INSERT_TAIL(&n->conns, c, link);
	n->nclients++;
}

int
storage_init(struct node *n)
{
	char path[ST_PATH_MAX];
	size_t i, len = strlen(n->cfg.storage_path);
	int rc;

	n->storage.io.fd = -1;
	if (len == 0)
		return 0;
	/* mkdir -p */
	snprintf(path, sizeof(path), "%s", n->cfg.storage_path);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			ST_LOG(ERR, "storage.path %s: %s", path, strerror(-rc));
			return rc;
		}
		path[i] = n->cfg.storage_path[i];
	}
	if (access(n->cfg.storage_path, R_OK | W_OK | X_OK) < 0) {
		rc = -errno;
		ST_LOG(ERR, "storage.path %s: %s", n->cfg.storage_path, strerror(-rc));
		return rc;
	}
	n->storage.owner = n;
	n->storage.on_accept = storage_accept;
	rc = listener_tcp(&n->loop, &n->storage, n->cfg.address, n->cfg.storage_port);
	if (rc < 0) {
		ST_LOG(ERR, "storage service on %s:%u: %s", n->cfg.address, n->cfg.storage_port,
		       strerror(-rc));
		return rc;
	}
	ST_LOG(NOTICE, "storage service on %s:%u, files in %s", n->cfg.address, n->storage.port,
	       n->cfg.storage_path);
	return 0;
}
