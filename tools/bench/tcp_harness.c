/**
 * @file
 * bench-tcp-harness: drives the EAL-free TCP core with prebuilt client segments, for
 * callgrind instruction counts. Scenario: 1-byte request/response through the echo
 * application on 1 and on 100 connections; handshakes first, then round trips, each one
 * segment in (1 byte of data that also acknowledges the previous response) and one out (the
 * echoed byte, acknowledging the request). Segments carry real checksums, verified by TCP.
 *
 *   valgrind --tool=callgrind bench-tcp-harness      instructions per round trip
 *   bench-tcp-harness                                 nanoseconds per round trip
 *   options: --rounds N (round trips per scenario, default 20000), --smoke (1000),
 *            --ts (the SYNs offer SACK and timestamps, as Linux's do: every segment then
 *            carries timestamps, each request echoing the last response's TSval)
 *
 * Under callgrind the measured loop is bracketed by CALLGRIND_ZERO_STATS and
 * CALLGRIND_DUMP_STATS_AT; the harness reads the dump back (<out-file>.<n>: found by the
 * pid and label it records, in the working directory or /tmp, or under the base named by
 * SL_CALLGRIND_OUT, %p standing for the pid) and prints the count per round trip. The environment
 * (buffers, table) is as cheap as it can be, so the figure is the TCP core's cost plus a few
 * instructions of callbacks.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_util.h"
#include "tcp.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define RUNNING_ON_VALGRIND 0
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(x)
#endif

#define MAX_CONNS 100
#define WARMUP 8
#define PKT_ROOM 2048
#define N_PKTS 256
#define CLI_PORT0 40000

struct hseg {
	struct sl_tcp_seg seg;
	uint8_t bytes[64];
};

struct hpkt {
	struct hpkt *next;
	uint8_t frame[PKT_ROOM];
};

struct henv {
	struct sl_tcp_stack st;
	struct sl_tcp_conn pool[MAX_CONNS];
	struct sl_tcp_conn *free_conns[MAX_CONNS];
	unsigned int n_free_conns;
	struct sl_tcp_conn *table[MAX_CONNS];
	struct hpkt *free_pkts;
	unsigned long xmits, segs_freed, bad;
	uint32_t last_seq[MAX_CONNS];
	uint8_t last_byte[MAX_CONNS];
	uint16_t last_len[MAX_CONNS];
	uint8_t last_flags[MAX_CONNS];
	uint32_t last_tsval[MAX_CONNS];
};

static void *
h_pkt_alloc(void *env, uint8_t **frame, uint16_t room)
{
	struct henv *e = env;
	struct hpkt *p = e->free_pkts;

	if (SL_UNLIKELY(p == NULL || room > PKT_ROOM))
		return NULL;
	e->free_pkts = p->next;
	*frame = p->frame;
	return p;
}

static void
h_pkt_xmit(void *env, void *pkt, uint8_t *frame, uint16_t tcp_len, const struct sl_tcp_tuple *t)
{
	struct henv *e = env;
	struct hpkt *p = pkt;
	const uint8_t *h = frame + SL_TCP_L4_OFF;
	unsigned int i = (unsigned int)(t->rport - CLI_PORT0);
	unsigned int hlen = (h[12] >> 4) * 4u;

	if (SL_LIKELY(i < MAX_CONNS)) {
		e->last_seq[i] = sl_rd_be32(h + 4);
		e->last_len[i] = (uint16_t)(tcp_len - hlen);
		e->last_flags[i] = h[13];
		e->last_byte[i] = tcp_len > hlen ? h[hlen] : 0;
		e->last_tsval[i] = 0;
		for (unsigned int k = 20; k + 10 <= hlen; k++) {
			if (h[k] == 8 && h[k + 1] == 10) {
				e->last_tsval[i] = sl_rd_be32(h + k + 2);
				break;
			}
		}
	}
	e->xmits++;
	p->next = e->free_pkts;
	e->free_pkts = p;
}

static struct sl_tcp_seg *
h_seg_alloc(void *env, uint32_t room)
{
	(void)env;
	(void)room;
	return NULL; /* echo never allocates */
}

static void
h_seg_free(void *env, struct sl_tcp_seg *seg)
{
	struct henv *e = env;

	(void)seg; /* the prebuilt segments stay where they are */
	e->segs_freed++;
}

static struct sl_tcp_conn *
h_conn_alloc(void *env)
{
	struct henv *e = env;

	return e->n_free_conns != 0 ? e->free_conns[--e->n_free_conns] : NULL;
}

static void
h_conn_free(void *env, struct sl_tcp_conn *c)
{
	struct henv *e = env;

	e->free_conns[e->n_free_conns++] = c;
}

static int
h_conn_insert(void *env, struct sl_tcp_conn *c)
{
	struct henv *e = env;
	unsigned int i = (unsigned int)(c->tuple.rport - CLI_PORT0);

	if (i >= MAX_CONNS || e->table[i] != NULL)
		return -ENOSPC;
	e->table[i] = c;
	return 0;
}

static void
h_conn_remove(void *env, struct sl_tcp_conn *c)
{
	struct henv *e = env;

	e->table[c->tuple.rport - CLI_PORT0] = NULL;
}

static int with_ts; /* --ts */

static const struct sl_tcp_env_ops h_ops = {
	.pkt_alloc = h_pkt_alloc,
	.pkt_xmit = h_pkt_xmit,
	.seg_alloc = h_seg_alloc,
	.seg_free = h_seg_free,
	.conn_alloc = h_conn_alloc,
	.conn_free = h_conn_free,
	.conn_insert = h_conn_insert,
	.conn_remove = h_conn_remove,
};

static struct sl_tcp_tuple
tuple_of(unsigned int i)
{
	struct sl_tcp_tuple t = {
		.laddr = {0xc6120002}, /* 198.18.0.2 */
		.raddr = {0xc6120001},
		.lport = 7,
		.rport = (uint16_t)(CLI_PORT0 + i),
	};

	return t;
}

/*
 * Write a client segment for connection <i> into <s> (checksum computed here). SYNs carry MSS
 * and WS, with --ts also SACK-permitted and timestamps; other segments with --ts carry
 * timestamps <tsval>, <tsecr>.
 */
static void
build(struct hseg *s, unsigned int i, uint8_t flags, uint32_t seq, uint32_t ack,
      const uint8_t *payload, unsigned int len, int syn_opts, uint32_t tsval, uint32_t tsecr)
{
	struct sl_tcp_tuple t = tuple_of(i);
	unsigned int hlen = syn_opts ? (with_ts ? 40 : 28) : (with_ts ? 32 : 20);
	uint8_t *h = s->bytes;
	uint32_t ph;

	memset(h, 0, hlen);
	sl_wr_be16(h, t.rport);
	sl_wr_be16(h + 2, t.lport);
	sl_wr_be32(h + 4, seq);
	sl_wr_be32(h + 8, ack);
	h[12] = (uint8_t)((hlen / 4) << 4);
	h[13] = flags;
	sl_wr_be16(h + 14, 65535);
	if (syn_opts && with_ts) {
		static const uint8_t o[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
					      0, 0, 0,	  0,	0, 0, 1, 3,  3, 7};

		memcpy(h + 20, o, 20);
		sl_wr_be32(h + 28, tsval);
	} else if (syn_opts) {
		static const uint8_t o[8] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};

		memcpy(h + 20, o, 8);
	} else if (with_ts) {
		sl_wr_be32(h + 20, 0x0101080au);
		sl_wr_be32(h + 24, tsval);
		sl_wr_be32(h + 28, tsecr);
	}
	if (len != 0)
		memcpy(h + hlen, payload, len);
	ph = (t.raddr.v >> 16) + (t.raddr.v & 0xffff) + (t.laddr.v >> 16) + (t.laddr.v & 0xffff) +
	     6 + hlen + len;
	{
		uint64_t acc = ph;
		unsigned int k;

		for (k = 0; k + 1 < hlen + len; k += 2)
			acc += sl_rd_be16(h + k);
		if ((hlen + len) & 1)
			acc += (uint32_t)h[hlen + len - 1] << 8;
		while (acc >> 16)
			acc = (acc & 0xffff) + (acc >> 16);
		sl_wr_be16(h + 16, (uint16_t)~acc);
	}
	s->seg.next = NULL;
	s->seg.data = s->bytes;
	s->seg.len = hlen + len;
	s->seg.owner = s;
}

struct scenario {
	unsigned int conns;
	unsigned long rounds; /* round trips in total, spread over the connections */
};

static int dumps;

/* The Ir summary of the callgrind dump at <path> if it is dump <label> of this process. */
static long
dump_ir(const char *path, const char *label)
{
	char line[256], pid[32], trig[128];
	int our_pid = 0, our_label = 0;
	long v = -1;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	snprintf(pid, sizeof(pid), "pid: %d\n", (int)getpid());
	snprintf(trig, sizeof(trig), "desc: Trigger: Client Request: %s\n", label);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strcmp(line, pid) == 0)
			our_pid = 1;
		else if (strcmp(line, trig) == 0)
			our_label = 1;
		else if (strncmp(line, "summary:", 8) == 0)
			v = strtol(line + 8, NULL, 10);
	}
	fclose(f);
	return our_pid && our_label ? v : -1;
}

/*
 * Find dump number <n> (label <label>) of this process: <base>.<n> for the base named by
 * SL_CALLGRIND_OUT (%p: the pid), callgrind.out.<pid>.<n>, or any *.<n> in the working
 * directory or /tmp that says it is ours (--callgrind-out-file=... given to valgrind).
 */
static long
read_dump(int n, const char *label)
{
	static const char *const dirs[] = {".", "/tmp"};
	const char *env = getenv("SL_CALLGRIND_OUT");
	char path[1024], suffix[16];
	unsigned int d;
	long v;

	if (env != NULL) {
		const char *p = strstr(env, "%p");

		if (p != NULL)
			snprintf(path, sizeof(path), "%.*s%d%s.%d", (int)(p - env), env,
				 (int)getpid(), p + 2, n);
		else
			snprintf(path, sizeof(path), "%s.%d", env, n);
		if ((v = dump_ir(path, label)) >= 0)
			return v;
	}
	snprintf(path, sizeof(path), "callgrind.out.%d.%d", (int)getpid(), n);
	if ((v = dump_ir(path, label)) >= 0)
		return v;
	snprintf(suffix, sizeof(suffix), ".%d", n);
	for (d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;

		if (dir == NULL)
			continue;
		while ((de = readdir(dir)) != NULL) {
			size_t l = strlen(de->d_name), k = strlen(suffix);

			if (l <= k || strcmp(de->d_name + l - k, suffix) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d], de->d_name);
			if ((v = dump_ir(path, label)) >= 0) {
				closedir(dir);
				return v;
			}
		}
		closedir(dir);
	}
	return -1;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
run(const struct scenario *sc)
{
	struct henv *e = calloc(1, sizeof(*e));
	unsigned int n = sc->conns, i;
	unsigned long per = sc->rounds / n, r, total;
	struct hpkt *pkts = calloc(N_PKTS, sizeof(*pkts));
	struct hseg *segs, hs;
	uint32_t isn[MAX_CONNS], iss[MAX_CONNS], ts0[MAX_CONNS];
	struct sl_tcp_tuple tuples[MAX_CONNS];
	uint64_t now = 1000000, t0, t1;
	struct sl_tcp_params p = {0};
	char label[64];
	int rc = 0;

	segs = calloc((per + WARMUP) * n, sizeof(*segs));
	if (e == NULL || pkts == NULL || segs == NULL) {
		rc = 1;
		goto out;
	}
	for (i = 0; i < N_PKTS; i++) {
		pkts[i].next = e->free_pkts;
		e->free_pkts = &pkts[i];
	}
	for (i = 0; i < MAX_CONNS; i++)
		e->free_conns[e->n_free_conns++] = &e->pool[i];
	if (sl_tcp_stack_init(&e->st, &p, &h_ops, e, 1, now) != 0 ||
	    sl_tcp_listen(&e->st, (struct sl_ip4){0}, 7, MAX_CONNS, &sl_tcp_echo_ops, &e->st) !=
		    0) {
		rc = 1;
		goto out;
	}
	/* handshakes */
	for (i = 0; i < n; i++) {
		tuples[i] = tuple_of(i);
		isn[i] = 0x10000000u * (i % 16) + 1000u * i;
		build(&hs, i, 0x02, isn[i], 0, NULL, 0, 1, 1000, 0);
		sl_tcp_input(&e->st, NULL, &tuples[i], &hs.seg, 0, now);
		if (e->last_flags[i] != 0x12) {
			fprintf(stderr, "bench-tcp-harness: no SYN-ACK\n");
			rc = 1;
			goto out;
		}
		iss[i] = e->last_seq[i];
		/* our timestamp clock: milliseconds from an offset; learnt from the SYN-ACK */
		ts0[i] = e->last_tsval[i] - (uint32_t)(now / 1000);
		build(&hs, i, 0x10, isn[i] + 1, iss[i] + 1, NULL, 0, 0, 1001, e->last_tsval[i]);
		sl_tcp_input(&e->st, e->table[i], &tuples[i], &hs.seg, 0, now);
		if (e->table[i] == NULL || sl_tcp_state(e->table[i]) != SL_TCP_ESTABLISHED) {
			fprintf(stderr, "bench-tcp-harness: handshake failed\n");
			rc = 1;
			goto out;
		}
	}
	/* the requests: byte r of connection i acknowledges the r responses before it and
	 * echoes the timestamp of the last one (sent in round r - 1, at now + 10 r) */
	for (r = 0; r < per + WARMUP; r++) {
		for (i = 0; i < n; i++) {
			uint8_t b = (uint8_t)('a' + (r + i) % 26);
			uint32_t ecr = ts0[i] + (uint32_t)((now + 10 * r) / 1000);

			build(&segs[r * n + i], i, 0x18, isn[i] + 1 + (uint32_t)r,
			      iss[i] + 1 + (uint32_t)r, &b, 1, 0, 1002 + (uint32_t)r, ecr);
		}
	}
	for (r = 0; r < WARMUP; r++) {
		now += 10;
		for (i = 0; i < n; i++)
			sl_tcp_input(&e->st, e->table[i], &tuples[i], &segs[r * n + i].seg, 0, now);
		sl_tcp_timer(&e->st, now);
	}
	e->xmits = 0;
	t0 = mono_ns();
	CALLGRIND_ZERO_STATS;
	for (r = WARMUP; r < per + WARMUP; r++) {
		struct hseg *row = &segs[r * n];

		now += 10;
		for (i = 0; i < n; i++)
			sl_tcp_input(&e->st, e->table[i], &tuples[i], &row[i].seg, 0, now);
		sl_tcp_timer(&e->st, now);
	}
	snprintf(label, sizeof(label), "echo-%s%u-conns", with_ts ? "ts-" : "", n);
	CALLGRIND_DUMP_STATS_AT(label);
	t1 = mono_ns();
	dumps++;
	total = per * n;
	/* every request answered, the last one with the right byte and sequence */
	if (e->xmits != total)
		rc = 1;
	for (i = 0; i < n; i++) {
		unsigned long last = per + WARMUP - 1;

		if (e->last_len[i] != 1 || e->last_byte[i] != (uint8_t)('a' + (last + i) % 26) ||
		    e->last_seq[i] != iss[i] + 1 + (uint32_t)last)
			rc = 1;
	}
	if (rc != 0)
		fprintf(stderr,
			"bench-tcp-harness: %lu responses for %lu requests, or wrong ones\n",
			e->xmits, total);
	if (RUNNING_ON_VALGRIND) {
		long ir = read_dump(dumps, label);

		if (ir >= 0)
			printf("echo 1-byte round trip, %u connection%s%s: %.0f instructions per "
			       "round trip (%lu round trips, %ld instructions)\n",
			       n, n == 1 ? "" : "s", with_ts ? ", timestamps" : "",
			       (double)ir / (double)total, total, ir);
		else
			printf("echo 1-byte round trip, %u connection%s: %lu round trips; callgrind "
			       "dump %d not found (set SL_CALLGRIND_OUT to the out-file base)\n",
			       n, n == 1 ? "" : "s", total, dumps);
	} else {
		printf("echo 1-byte round trip, %u connection%s%s: %.0f ns per round trip "
		       "(%lu round trips; run under valgrind --tool=callgrind for instructions)\n",
		       n, n == 1 ? "" : "s", with_ts ? ", timestamps" : "",
		       (double)(t1 - t0) / (double)total, total);
	}
	for (i = 0; i < n; i++)
		if (e->table[i] != NULL)
			sl_tcp_conn_release(&e->st, e->table[i]);
	if (e->n_free_conns != MAX_CONNS)
		rc = 1;
out:
	free(segs);
	free(pkts);
	free(e);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned long rounds = 20000;
	struct scenario sc[2];
	int i, rc = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--smoke") == 0) {
			rounds = 1000;
		} else if (strcmp(argv[i], "--ts") == 0) {
			with_ts = 1;
		} else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
			rounds = strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "usage: %s [--rounds N] [--smoke] [--ts]\n", argv[0]);
			return 2;
		}
	}
	if (rounds < MAX_CONNS)
		rounds = MAX_CONNS;
	sc[0].conns = 1;
	sc[0].rounds = rounds;
	sc[1].conns = MAX_CONNS;
	sc[1].rounds = rounds;
	for (i = 0; i < 2; i++)
		rc |= run(&sc[i]);
	return rc;
}
