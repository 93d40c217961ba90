/*
 * The port impairment stage: rates of loss and duplication, reordering as adjacent swaps,
 * delay and jitter that keep order, the bound of the delay line, nothing leaked.
 * Packets are small integers cast to pointers; copies get 1,000,000 added.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "impair.h"

static long live; /* packets alive: pushed + copies - freed - delivered */

static void *
t_copy(void *user, void *pkt)
{
	(void)user;
	live++;
	return (void *)((uintptr_t)pkt + 1000000);
}

static void
t_free(void *user, void *pkt)
{
	(void)user;
	(void)pkt;
	live--;
}

static const struct sl_impair_ops ops = {.copy = t_copy, .free = t_free};
static struct sl_impair im;

static unsigned int
push_one(uintptr_t id, void **out, uint64_t now)
{
	void *p = (void *)id;

	live++;
	return sl_impair_push(&im, &p, 1, out, 64, now);
}

Test(impair, off_is_identity)
{
	struct sl_impair_conf c = {.enabled = true};
	void *out[64];

	cr_assert_eq(sl_impair_init(&im, &c, &ops, NULL, 1), 0);
	for (uintptr_t i = 1; i <= 100; i++) {
		cr_assert_eq(push_one(i, out, 0), 1);
		cr_assert_eq((uintptr_t)out[0], i);
	}
	cr_expect_eq(im.stats.impaired, 100);
	cr_expect_eq(im.stats.dropped + im.stats.delayed + im.stats.reordered, 0);
}

Test(impair, loss_rate)
{
	struct sl_impair_conf c = {.enabled = true, .loss = sl_impair_pct(1.0)};
	void *out[64];
	unsigned int got = 0;

	live = 0;
	cr_assert_eq(sl_impair_init(&im, &c, &ops, NULL, 42), 0);
	for (uintptr_t i = 1; i <= 100000; i++)
		got += push_one(i, out, 0);
	live -= got;
	cr_expect(im.stats.dropped > 800 && im.stats.dropped < 1200, "dropped %lu of 100000",
		  (unsigned long)im.stats.dropped);
	cr_expect_eq(got + im.stats.dropped, 100000);
	cr_expect_eq(live, 0);
}

Test(impair, duplication)
{
	struct sl_impair_conf c = {.enabled = true, .duplicate = sl_impair_pct(10)};
	void *out[64];
	unsigned int got = 0, copies = 0;

	live = 0;
	cr_assert_eq(sl_impair_init(&im, &c, &ops, NULL, 7), 0);
	for (uintptr_t i = 1; i <= 10000; i++) {
		unsigned int n = push_one(i, out, 0);

		cr_assert((uintptr_t)out[0] == i, "the original goes first");
		if (n == 2) {
			cr_assert_eq((uintptr_t)out[1], i + 1000000);
			copies++;
		}
		got += n;
	}
	live -= got;
	cr_expect_eq(copies, im.stats.duplicated);
	cr_expect(copies > 800 && copies < 1200, "%u copies", copies);
	cr_expect_eq(live, 0);
}

Test(impair, reorder_swaps_neighbours)
{
	struct sl_impair_conf c = {.enabled = true, .reorder = sl_impair_pct(5)};
	void *out[64];
	uintptr_t seq[20001];
	unsigned int n = 0;

	live = 0;
	cr_assert_eq(sl_impair_init(&im, &c, &ops, NULL, 3), 0);
	for (uintptr_t i = 1; i <= 20000; i++) {
		unsigned int k = push_one(i, out, 0);

		for (unsigned int j = 0; j < k; j++)
			seq[n++] = (uintptr_t)out[j];
	}
	n += sl_impair_poll(&im, out, 64, SL_IMPAIR_HOLD_US); /* the last one, if held */
	cr_expect_eq(n, 20000, "every packet comes out once: %u", n);
	cr_expect(im.stats.reordered > 800 && im.stats.reordered < 1200, "%lu reordered",
		  (unsigned long)im.stats.reordered);
	/* Every packet appears once; a displaced packet is exactly one place late. */
	for (unsigned int i = 0; i + 1 < 20000 && i + 1 < n; i++) {
		if (seq[i] == i + 1)
			continue;
		cr_assert(seq[i] == i + 2 && seq[i + 1] == i + 1, "at %u: %lu %lu", i,
			  (unsigned long)seq[i], (unsigned long)seq[i + 1]);
		i++;
	}
	sl_impair_flush(&im);
}

Test(impair, delay_and_jitter_keep_order)
{
	struct sl_impair_conf c = {.enabled = true, .delay_us = 20000, .jitter_us = 5000};
	void *out[64];
	uintptr_t last = 0;
	unsigned int total = 0;

	live = 0;
	cr_assert_eq(sl_impair_init(&im, &c, &ops, NULL, 9), 0);
	for (uint64_t t = 0; t < 200000; t += 100) {
		unsigned int n;

		if (t < 100000) {
			n = push_one(t / 100 + 1, out, t);
		} else {
			n = sl_impair_poll(&im, out, 64, t);
		}
		for (unsigned int j = 0; j < n; j++) {
			uintptr_t id = (uintptr_t)out[j];
			uint64_t sent = (id - 1) * 100;

			cr_assert(id == last + 1, "order: %lu after %lu", (unsigned long)id,
				  (unsigned long)last);
			cr_assert(t >= sent + 15000, "packet %lu out after %lu us",
				  (unsigned long)id, (unsigned long)(t - sent));
			last = id;
			total++;
		}
	}
	cr_expect_eq(total, 1000);
	cr_expect_eq(im.stats.delayed, 1000);
	live -= total;
	cr_expect_eq(live, 0);
}

Test(impair, line_bound_and_flush)
{
	struct sl_impair_conf c = {.enabled = true, .delay_us = 1000000};
	void *out[64];

	live = 0;
	cr_assert_eq(sl_impair_init(&im, &c, &ops, NULL, 1), 0);
	for (uintptr_t i = 1; i <= SL_IMPAIR_LINE + 10; i++)
		cr_assert_eq(push_one(i, out, 0), 0);
	cr_expect_eq(im.stats.overflow, 10);
	cr_expect(sl_impair_pending(&im));
	sl_impair_flush(&im);
	cr_expect_eq(live, 0);
	cr_expect(!sl_impair_pending(&im));
}

Test(impair, bad_conf)
{
	struct sl_impair_conf c = {.enabled = true, .delay_us = 10, .jitter_us = 20};

	cr_expect_eq(sl_impair_init(&im, &c, &ops, NULL, 1), -EINVAL);
}
