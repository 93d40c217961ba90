/*
 * Routing groups (cocaine-protocol.md 7.4): a group maps a name that clients resolve
 * ("echo") to weighted members ("echo@1": 3, "echo@2": 1). Groups live in the storage
 * collection "groups" (key = group name, tags ["group", "active"], value = msgpack map
 * {member: weight}); they are loaded at start and re-read by the locator's refresh.
 *
 * Each group is a ketama ring, point for point the one of Cocaine 0.12's locator: for each
 * member in name order, steps = round(weight / total x 64 x members); for each step the MD5
 * of the member's name followed by the step as an 8-byte little-endian integer gives four
 * little-endian 32-bit points. A seed maps to the XOR of the four words of its own MD5, a
 * keyless resolve to a uniformly random point; the member is that of the first ring point
 * strictly above (wrapping to the first). The `routing` stream sends the rings as they
 * are, so a client-side balancer (the Tornado proxy's X-Cocaine-Sticky) picks the same.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md5.h"
#include "node.h"
#include "sl_log.h"
#include "sl_util.h"

#define RG_LOG(l, ...) SL_LOG(l, "routing", __VA_ARGS__)
#define RG_COLLECTION "groups"

static const char *const rg_tags[] = {"group", "active"};

static void
rgroup_free(struct rgroup *g)
{
	if (g == NULL)
		return;
	free(g->members);
	free(g->weights);
	free(g->points);
	free(g);
}

static void
rgroup_bury(struct loop_grave *g)
{
	rgroup_free(SL_CONTAINER_OF(g, struct rgroup, grave));
}

static const struct rgroup *rg_sorting; /* qsort context (single-threaded) */

static int
point_cmp(const void *x, const void *y)
{
	const struct rg_point *a = x, *b = y;

	if (a->point != b->point)
		return a->point < b->point ? -1 : 1;
	return strcmp(rg_sorting->members[a->member], rg_sorting->members[b->member]);
}

static int
member_cmp(const void *x, const void *y)
{
	return strcmp(x, y);
}

/* Build the ring of a group whose members and weights are set. @return 0 or -errno. */
static int
rgroup_build(struct rgroup *g, char *err, size_t errlen)
{
	double total = 0;
	uint32_t i, steps, n = 0;
	uint64_t step;

	for (i = 0; i < g->nmembers; i++)
		total += g->weights[i];
	if (g->nmembers == 0 || total <= 0) {
		snprintf(err, errlen, "group %s: the total weight must be positive", g->name);
		return -EINVAL;
	}
	for (i = 0; i < g->nmembers; i++)
		n += (uint32_t)lround(g->weights[i] / total * 64.0 * g->nmembers);
	g->points = calloc((size_t)n * 4 + 1, sizeof(*g->points));
	if (g->points == NULL) {
		snprintf(err, errlen, "group %s: out of memory", g->name);
		return -ENOMEM;
	}
	g->npoints = 0;
	for (i = 0; i < g->nmembers; i++) {
		const char *name = g->members[i];

		steps = (uint32_t)lround(g->weights[i] / total * 64.0 * g->nmembers);
		for (step = 0; step < steps; step++) {
			struct md5_ctx m;
			uint8_t d[16], le[8];
			unsigned int k;

			for (k = 0; k < 8; k++)
				le[k] = (uint8_t)(step >> (8 * k));
			md5_init(&m);
			md5_update(&m, name, strlen(name));
			md5_update(&m, le, sizeof(le));
			md5_final(&m, d);
			for (k = 0; k < 4; k++) {
				struct rg_point *p = &g->points[g->npoints++];

				p->point = (uint32_t)d[4 * k] | (uint32_t)d[4 * k + 1] << 8 |
					   (uint32_t)d[4 * k + 2] << 16 |
					   (uint32_t)d[4 * k + 3] << 24;
				p->member = i;
			}
		}
	}
	if (g->npoints == 0) {
		snprintf(err, errlen, "group %s: no member has a weight", g->name);
		return -EINVAL;
	}
	rg_sorting = g;
	qsort(g->points, g->npoints, sizeof(*g->points), point_cmp);
	return 0;
}

/* A group from its stored value: msgpack {member: weight}. */
static struct rgroup *
rgroup_parse(const char *name, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct sl_seg seg = {.p = buf, .len = (uint32_t)len};
	struct sl_mp_limits lim;
	struct rgroup *g;
	struct sl_mp_cur c;
	uint32_t n, i, j;

	sl_mp_limits_default(&lim);
	if (len > UINT32_MAX || sl_mp_scan_flat(buf, (uint32_t)len, &lim) != (int)len ||
	    sl_mp_cur_init(&c, &seg, 1, 0, (uint32_t)len) < 0 || sl_mp_read_map(&c, &n) < 0) {
		snprintf(err, errlen, "group %s: the stored value is not a msgpack map", name);
		return NULL;
	}
	if (n == 0 || n > NODE_RG_MEMBERS_MAX) {
		snprintf(err, errlen, "group %s: must have 1..%d members (has %u)", name,
			 NODE_RG_MEMBERS_MAX, n);
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (g != NULL) {
		g->members = calloc(n, sizeof(*g->members));
		g->weights = calloc(n, sizeof(*g->weights));
	}
	if (g == NULL || g->members == NULL || g->weights == NULL) {
		rgroup_free(g);
		snprintf(err, errlen, "group %s: out of memory", name);
		return NULL;
	}
	snprintf(g->name, sizeof(g->name), "%s", name);
	for (i = 0; i < n; i++) {
		struct sl_mp_raw r;
		uint64_t w;

		if (sl_mp_read_raw(&c, &r) < 0 || r.len == 0 || r.len >= NODE_SVC_NAME_MAX ||
		    sl_mp_read_uint(&c, &w) < 0 || w > UINT32_MAX) {
			snprintf(err, errlen,
				 "group %s: member %u: must be \"name\": weight (an unsigned "
				 "integer)",
				 name, i);
			rgroup_free(g);
			return NULL;
		}
		sl_mp_raw_copy(&r, g->members[i], r.len);
		g->members[i][r.len] = '\0';
		g->weights[i] = (uint32_t)w;
	}
	g->nmembers = n;
	/* members in name order, as the peers' std::map (weights follow their member) */
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			if (member_cmp(g->members[j], g->members[i]) < 0) {
				char tmp[NODE_SVC_NAME_MAX];
				uint32_t tw = g->weights[i];

				memcpy(tmp, g->members[i], sizeof(tmp));
				memcpy(g->members[i], g->members[j], sizeof(tmp));
				memcpy(g->members[j], tmp, sizeof(tmp));
				g->weights[i] = g->weights[j];
				g->weights[j] = tw;
			} else if (strcmp(g->members[j], g->members[i]) == 0) {
				snprintf(err, errlen, "group %s: member %s twice", name,
					 g->members[i]);
				rgroup_free(g);
				return NULL;
			}
		}
	}
	if (rgroup_build(g, err, errlen) < 0) {
		rgroup_free(g);
		return NULL;
	}
	return g;
}

static struct rgroup *
rgroup_load(struct node *n, const char *name, char *err, size_t errlen)
{
	struct rgroup *g;
	uint8_t *buf = NULL;
	size_t len = 0;

	if (strlen(name) == 0 || strlen(name) >= NCONF_NAME_MAX) {
		snprintf(err, errlen, "group \"%.64s\": the name must have 1..%d bytes", name,
			 NCONF_NAME_MAX - 1);
		return NULL;
	}
	if (storage_read(n, RG_COLLECTION, name, (uint32_t)strlen(name), &buf, &len, err, errlen) <
	    0)
		return NULL;
	g = rgroup_parse(name, buf, len, err, errlen);
	free(buf);
	if (g != NULL)
		RG_LOG(INFO, "group %s: %u members, %u ring points", g->name, g->nmembers,
		       g->npoints);
	return g;
}

struct rgroup *
routing_find(struct node *n, const char *name, uint32_t len)
{
	struct rgroup *g;

	for (g = NL_FIRST(&n->groups); g != NULL; g = NL_NEXT(g, link))
		if (strlen(g->name) == len && memcmp(g->name, name, len) == 0)
			return g;
	return NULL;
}

const char *
routing_pick(struct node *n, const struct rgroup *g, const void *seed, uint32_t seed_len)
{
	uint32_t point, lo = 0, hi = g->npoints;

	if (seed != NULL) {
		struct md5_ctx m;
		uint8_t d[16];
		unsigned int k;

		md5_init(&m);
		md5_update(&m, seed, seed_len);
		md5_final(&m, d);
		point = 0;
		for (k = 0; k < 4; k++)
			point ^= (uint32_t)d[4 * k] | (uint32_t)d[4 * k + 1] << 8 |
				 (uint32_t)d[4 * k + 2] << 16 | (uint32_t)d[4 * k + 3] << 24;
	} else {
		point = (uint32_t)(node_rand(n) >> 32);
	}
	/* upper bound: the first point > point */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (g->points[mid].point <= point)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == g->npoints)
		lo = 0;
	return g->members[g->points[lo].member];
}

void
routing_pack(struct node *n, msgpack_packer *pk)
{
	struct rgroup *g;
	uint32_t i;

	msgpack_pack_map(pk, n->ngroups);
	for (g = NL_FIRST(&n->groups); g != NULL; g = NL_NEXT(g, link)) {
		sl_mpc_pack_raw(pk, g->name, strlen(g->name));
		msgpack_pack_array(pk, g->npoints);
		for (i = 0; i < g->npoints; i++) {
			const char *m = g->members[g->points[i].member];

			msgpack_pack_array(pk, 2);
			msgpack_pack_uint32(pk, g->points[i].point);
			sl_mpc_pack_raw(pk, m, strlen(m));
		}
	}
}

static bool
name_in(char **keys, uint32_t nkeys, const char *name)
{
	uint32_t i;

	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i], name) == 0)
			return true;
	return false;
}

void
routing_load(struct node *n)
{
	char err[NCONF_ERR_MAX];
	char **keys = NULL;
	uint32_t nkeys = 0, i;

	NL_INIT(&n->groups);
	n->ngroups = 0;
	if (n->storage.io.fd < 0)
		return;
	if (storage_find(n, RG_COLLECTION, rg_tags, 2, &keys, &nkeys, err, sizeof(err)) < 0) {
		RG_LOG(ERR, "routing groups: %s", err);
		return;
	}
	for (i = 0; i < nkeys; i++) {
		struct rgroup *g;

		if (n->ngroups >= NODE_RG_MAX) {
			RG_LOG(ERR, "more than %d routing groups: the rest ignored", NODE_RG_MAX);
			break;
		}
		g = rgroup_load(n, keys[i], err, sizeof(err));
		if (g == NULL) {
			RG_LOG(ERR, "routing group ignored: %s", err);
			continue;
		}
		NL_INSERT_TAIL(&n->groups, g, link);
		n->ngroups++;
	}
	storage_free_keys(keys, nkeys);
}

int
routing_refresh(struct node *n, char **names, uint32_t count, char *err, size_t errlen)
{
	struct rgroup *fresh[NODE_RG_MAX] = {NULL};
	char **keys = NULL;
	uint32_t nkeys = 0, i, total;
	int rc = 0;

	if (count == 0)
		return 0;
	if (count > NODE_RG_MAX) {
		snprintf(err, errlen, "refresh: more than %d groups", NODE_RG_MAX);
		return -E2BIG;
	}
	if (n->storage.io.fd < 0) {
		snprintf(err, errlen, "routing groups need the storage service (storage.path)");
		return -ENOTSUP;
	}
	rc = storage_find(n, RG_COLLECTION, rg_tags, 2, &keys, &nkeys, err, errlen);
	if (rc < 0)
		return rc;
	/* a name given twice is refreshed once (else it would count twice below) */
	for (i = 1; i < count; i++)
		if (name_in(names, i, names[i]))
			names[i][0] = '\0';
	/* everything is read first: on any error nothing changes (as Cocaine's refresh) */
	for (i = 0; i < count && rc == 0; i++) {
		if (names[i][0] == '\0')
			continue; /* a duplicate, or empty: no such group */
		if (!name_in(keys, nkeys, names[i]))
			continue; /* not active in storage any more: removed */
		fresh[i] = rgroup_load(n, names[i], err, errlen);
		if (fresh[i] == NULL)
			rc = -EINVAL;
	}
	total = n->ngroups;
	for (i = 0; i < count && rc == 0; i++) {
		total -= routing_find(n, names[i], (uint32_t)strlen(names[i])) != NULL;
		total += fresh[i] != NULL;
	}
	if (rc == 0 && total > NODE_RG_MAX) {
		snprintf(err, errlen, "refresh: more than %d routing groups", NODE_RG_MAX);
		rc = -E2BIG;
	}
	if (rc < 0) {
		for (i = 0; i < count; i++)
			rgroup_free(fresh[i]);
		storage_free_keys(keys, nkeys);
		return rc;
	}
	for (i = 0; i < count; i++) {
		struct rgroup *old = routing_find(n, names[i], (uint32_t)strlen(names[i]));

		if (old != NULL) {
			NL_REMOVE(&n->groups, old, link);
			n->ngroups--;
			old->grave.free_fn = rgroup_bury;
			loop_bury(&n->loop, &old->grave);
		}
		if (fresh[i] != NULL) {
			NL_INSERT_TAIL(&n->groups, fresh[i], link);
			n->ngroups++;
		} else if (old != NULL) {
			RG_LOG(INFO, "group %s removed", names[i]);
		}
	}
	storage_free_keys(keys, nkeys);
	return 0;
}

void
routing_free(struct node *n)
{
	struct rgroup *g = NL_FIRST(&n->groups), *next;

	NL_INIT(&n->groups);
	n->ngroups = 0;
	for (; g != NULL; g = next) {
		next = NL_NEXT(g, link);
		rgroup_free(g);
	}
}
