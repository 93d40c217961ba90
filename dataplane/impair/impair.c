/*
 * The port impairment stage. Order of operations for each packet: loss, then duplication,
 * then reordering (hold one packet back until the next has passed), then the delay line.
 * The delay line is a FIFO: a packet's release time is now + delay +/- jitter, raised to the
 * previous packet's release time if it would be earlier, so jitter never reorders packets;
 * reordering comes only from its own probability.
 */
#include "impair.h"

#include <errno.h>
#include <string.h>

#include "sl_util.h"

const char *const sl_impair_stats_names[] = {
#define SL_IMPAIR_STATS_NAME(n) #n,
	SL_IMPAIR_STATS(SL_IMPAIR_STATS_NAME)
#undef SL_IMPAIR_STATS_NAME
};

/* xorshift64*: small, fast and good enough for fault injection. */
static inline uint64_t
rng_next(struct sl_impair *im)
{
	uint64_t x = im->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	im->rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static inline int
chance(struct sl_impair *im, uint32_t p)
{
	return p != 0 && (uint32_t)(rng_next(im) >> 32) < p;
}

int
sl_impair_init(struct sl_impair *im, const struct sl_impair_conf *conf,
	       const struct sl_impair_ops *ops, void *user, uint64_t seed)
{
	if (ops == NULL || ops->copy == NULL || ops->free == NULL ||
	    conf->jitter_us > conf->delay_us)
		return -EINVAL;
	memset(im, 0, offsetof(struct sl_impair, line));
	im->conf = *conf;
	im->ops = ops;
	im->user = user;
	im->rng = conf->seed ? conf->seed : (seed ? seed : 0x9e3779b97f4a7c15ull);
	return 0;
}

/* Put one packet on the delay line, or into `out` when there is no delay. */
static void
line_put(struct sl_impair *im, void *pkt, void **out, unsigned int *n_out, unsigned int max_out,
	 uint64_t now_us)
{
	uint64_t due;

	if (im->conf.delay_us == 0 && im->head == im->tail) {
		if (*n_out < max_out) {
			out[(*n_out)++] = pkt;
		} else {
			im->stats.overflow++;
			im->ops->free(im->user, pkt);
		}
		return;
	}
	if (im->tail - im->head == SL_IMPAIR_LINE) {
		im->stats.overflow++;
		im->ops->free(im->user, pkt);
		return;
	}
	due = now_us + im->conf.delay_us;
	if (im->conf.jitter_us) {
		uint64_t span = 2ull * im->conf.jitter_us + 1;

		due = due - im->conf.jitter_us + rng_next(im) % span;
	}
	if (due < im->last_due)
		due = im->last_due; /* jitter keeps order */
	im->last_due = due;
	im->line[im->tail & (SL_IMPAIR_LINE - 1)] = pkt;
	im->due[im->tail & (SL_IMPAIR_LINE - 1)] = due;
	im->tail++;
	im->stats.delayed++;
}

unsigned int
sl_impair_push(struct sl_impair *im, void **pkts, unsigned int n, void **out, unsigned int max_out,
	       uint64_t now_us)
{
	unsigned int n_out = 0;

	for (unsigned int i = 0; i < n; i++) {
		void *pkt = pkts[i], *copy = NULL;

		im->stats.impaired++;
		if (chance(im, im->conf.loss)) {
			im->stats.dropped++;
			im->ops->free(im->user, pkt);
			continue;
		}
		if (chance(im, im->conf.duplicate)) {
			copy = im->ops->copy(im->user, pkt);
			if (copy != NULL)
				im->stats.duplicated++;
		}
		if (im->held == NULL && chance(im, im->conf.reorder)) {
			/* Held back: it leaves right after the next packet. */
			im->held = pkt;
			im->held_since = now_us;
			im->stats.reordered++;
		} else {
			line_put(im, pkt, out, &n_out, max_out, now_us);
			if (im->held != NULL) {
				line_put(im, im->held, out, &n_out, max_out, now_us);
				im->held = NULL;
			}
		}
		if (copy != NULL)
			line_put(im, copy, out, &n_out, max_out, now_us);
	}
	return n_out + sl_impair_poll(im, out + n_out, max_out - n_out, now_us);
}

unsigned int
sl_impair_poll(struct sl_impair *im, void **out, unsigned int max_out, uint64_t now_us)
{
	unsigned int n = 0;

	if (im->held != NULL && now_us - im->held_since >= SL_IMPAIR_HOLD_US) {
		void *pkt = im->held;

		im->held = NULL;
		line_put(im, pkt, out, &n, max_out, now_us);
	}
	while (n < max_out && im->head != im->tail &&
	       im->due[im->head & (SL_IMPAIR_LINE - 1)] <= now_us) {
		out[n++] = im->line[im->head & (SL_IMPAIR_LINE - 1)];
		im->head++;
	}
	return n;
}

void
sl_impair_flush(struct sl_impair *im)
{
	if (im->held != NULL)
		im->ops->free(im->user, im->held);
	im->held = NULL;
	while (im->head != im->tail) {
		im->ops->free(im->user, im->line[im->head & (SL_IMPAIR_LINE - 1)]);
		im->head++;
	}
}
