// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO DMA logging through the uAPI only: VFIO_DEVICE_FEATURE_DMA_LOGGING
 * _START, _STOP and _REPORT as include/uapi/linux/vfio.h defines them.
 * Written for mlx5-vfio-pci on the mlx5_core model of
 * harness/tests/84-mlx5-dirty-tracking.sh, whose VF can be told to write
 * guest memory by DMA: a test knows exactly which pages were written, so
 * a report must name exactly those (every one of them, and nothing else
 * inside the tracked ranges).
 *
 * Environment:
 *   VFIO_SELFTESTS_BDF     the device
 *   VFIO_DIRTY_EXPECT      "none": the device must not offer DMA logging
 *                          (every logging feature fails with ENOTTY);
 *                          anything else or unset: it must
 *   VFIO_DIRTY_WRITE       a file to which "IOVA LENGTH" makes the device
 *                          write those bytes by DMA (the model's
 *                          vfN/dma_write)
 *   VFIO_DIRTY_INJECT      a file that arms the device's fault injection
 *                          (the model's inject): "track_error" fails the
 *                          tracker at once, "track_fail_after N" fails the
 *                          next report after N messages
 *   VFIO_DIRTY_MAX_RANGES  the ranges one tracker takes (model parameter
 *                          track_max_ranges)
 *
 * "vfio_pci_dirty_test hold" is not a test: it starts logging, makes the
 * device write a page, prints "ready" and waits for a line (or EOF) on
 * stdin, then prints "report ERRNO" and "stop ERRNO" for a report and a
 * stop tried then.  The VM script disables the VF in between.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

#define PAGE		4096ULL
#define MIB		(1024ULL * 1024)
#define GIB		(1024 * MIB)
/* Ranges the tests track unless they say otherwise: two 64 MiB windows. */
#define LOW_IOVA	0ULL
#define HIGH_IOVA	GIB
#define WIN		(64 * MIB)

struct range {
	uint64_t iova;
	uint64_t length;
};

/* START with @n ranges; stores the page size the device chose. */
static int log_start(int fd, const struct range *r, unsigned int n,
		     uint64_t *page_size)
{
	struct vfio_device_feature_dma_logging_range *ranges;
	struct vfio_device_feature_dma_logging_control ctl = { 0 };
	struct {
		struct vfio_device_feature hdr;
		struct vfio_device_feature_dma_logging_control ctl;
	} arg;
	unsigned int i;
	int ret = 0;

	ranges = calloc(n ? n : 1, sizeof(*ranges));
	if (!ranges)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		ranges[i].iova = r[i].iova;
		ranges[i].length = r[i].length;
	}
	ctl.page_size = *page_size;
	ctl.num_ranges = n;
	ctl.ranges = (uintptr_t)ranges;
	memset(&arg, 0, sizeof(arg));
	arg.hdr.argsz = sizeof(arg);
	arg.hdr.flags = VFIO_DEVICE_FEATURE_SET |
			VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
	arg.ctl = ctl;
	if (ioctl(fd, VFIO_DEVICE_FEATURE, &arg))
		ret = -errno;
	else
		*page_size = arg.ctl.page_size;
	free(ranges);
	return ret;
}

static int log_stop(int fd)
{
	return vfio_device_feature(fd, VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
				   NULL, 0);
}

/* REPORT [@iova, @iova + @length) at @page granularity into @bitmap. */
static int log_report(int fd, uint64_t iova, uint64_t length, uint64_t page,
		      uint64_t *bitmap)
{
	struct vfio_device_feature_dma_logging_report rep = {
		.iova = iova,
		.length = length,
		.page_size = page,
		.bitmap = (uintptr_t)bitmap,
	};

	return vfio_device_feature(fd, VFIO_DEVICE_FEATURE_GET |
				   VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
				   &rep, sizeof(rep));
}

/* Write @text to the file the environment variable @env names. */
static int env_file_write(const char *env, const char *text)
{
	const char *path = getenv(env);
	ssize_t n;
	int fd;

	if (!path || !*path)
		return -ENOENT;
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

/* The device writes [@iova, @iova + @len) by DMA. */
static int dev_write(uint64_t iova, uint64_t len)
{
	char text[64];

	snprintf(text, sizeof(text), "%#llx %#llx", (unsigned long long)iova,
		 (unsigned long long)len);
	return env_file_write("VFIO_DIRTY_WRITE", text);
}

/*
 * What a test expects a report to hold: a bitmap of @npages tracking
 * pages from @base, filled by the writes the test makes.
 */
struct expect {
	uint64_t base;
	uint64_t npages;
	uint64_t *bits;
};

static uint64_t *bitmap_alloc(uint64_t nbits)
{
	return calloc((nbits + 63) / 64, sizeof(uint64_t));
}

static void expect_init(struct expect *e, uint64_t base, uint64_t length)
{
	e->base = base;
	e->npages = length / PAGE;
	e->bits = bitmap_alloc(e->npages);
}

/* Have the device write, and remember the pages it dirtied. */
static int write_expect(struct expect *e, uint64_t iova, uint64_t len)
{
	uint64_t p;

	for (p = iova / PAGE; p <= (iova + len - 1) / PAGE; p++)
		if (p >= e->base / PAGE && p - e->base / PAGE < e->npages)
			e->bits[(p - e->base / PAGE) / 64] |=
				1ULL << ((p - e->base / PAGE) % 64);
	return dev_write(iova, len);
}

/*
 * Report [@e->base, + @e->npages pages) at 4 KiB and compare: returns the
 * number of pages that differ, printing the first few.
 */
static uint64_t report_diff(struct __test_metadata *_metadata, int fd,
			    const struct expect *e)
{
	uint64_t *got = bitmap_alloc(e->npages), i, bad = 0;
	int ret;

	ret = log_report(fd, e->base, e->npages * PAGE, PAGE, got);
	EXPECT_EQ(0, ret) TH_LOG("report: %s", strerror(-ret));
	for (i = 0; !ret && i < e->npages; i++) {
		bool want = e->bits[i / 64] >> (i % 64) & 1;
		bool have = got[i / 64] >> (i % 64) & 1;

		if (want == have)
			continue;
		if (bad++ < 5)
			TH_LOG("page %#llx: %s", (unsigned long long)(e->base + i * PAGE),
			       want ? "written, not reported" :
				      "reported, not written");
	}
	free(got);
	return ret ? 1 : bad;
}

static void expect_clear(struct expect *e)
{
	memset(e->bits, 0, (e->npages + 63) / 64 * sizeof(uint64_t));
}

static bool expect_none(void)
{
	const char *v = getenv("VFIO_DIRTY_EXPECT");

	return v && !strcmp(v, "none");
}

FIXTURE(dirty) {
	struct vfio_pci_dev dev;
	int fd;
	uint64_t page;
	struct expect e;
};

FIXTURE_SETUP(dirty)
{
	char err[VFIO_UTIL_ERRLEN];

	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, vfio_selftests_bdf(), err,
				       sizeof(err))) TH_LOG("%s", err);
	self->fd = self->dev.device_fd;
	self->page = PAGE;
	/* One map over both windows and the gap between them. */
	expect_init(&self->e, LOW_IOVA, HIGH_IOVA + WIN);
	ASSERT_NE(NULL, self->e.bits);
}

FIXTURE_TEARDOWN(dirty)
{
	free(self->e.bits);
	vfio_pci_dev_close(&self->dev);
}

static const struct range two_windows[] = {
	{ LOW_IOVA, WIN }, { HIGH_IOVA, WIN },
};

/* Start logging the two windows at 4 KiB. */
static void start_two(struct __test_metadata *_metadata, int fd)
{
	uint64_t page = PAGE;
	int ret = log_start(fd, two_windows, 2, &page);

	ASSERT_EQ(0, ret) TH_LOG("start: %s", strerror(-ret));
	ASSERT_EQ(PAGE, page);
}

/*
 * The logging features as the device offers them: all three, or, where
 * the kernel cannot report dirty pages or the firmware cannot track,
 * none (ENOTTY).
 */
TEST_F(dirty, probe)
{
	int want = expect_none() ? -ENOTTY : 0;
	uint32_t probe = VFIO_DEVICE_FEATURE_PROBE;

	EXPECT_EQ(want, vfio_device_feature(self->fd, probe |
			VFIO_DEVICE_FEATURE_SET |
			VFIO_DEVICE_FEATURE_DMA_LOGGING_START, NULL, 0));
	EXPECT_EQ(want, vfio_device_feature(self->fd, probe |
			VFIO_DEVICE_FEATURE_SET |
			VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL, 0));
	EXPECT_EQ(want, vfio_device_feature(self->fd, probe |
			VFIO_DEVICE_FEATURE_GET |
			VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, NULL, 0));
	if (want) {
		uint64_t page = PAGE;

		EXPECT_EQ(-ENOTTY, log_start(self->fd, two_windows, 2, &page));
		EXPECT_EQ(-ENOTTY, log_stop(self->fd));
	}
}

/*
 * Known writes, reported exactly: first and last pages of each window,
 * neighbours, a write across a page boundary, one of several pages, and
 * writes outside the windows (never reported).  A second report is empty,
 * and new writes after it show up alone.
 */
TEST_F(dirty, exact)
{
	struct expect *e = &self->e;

	start_two(_metadata, self->fd);
	ASSERT_EQ(0, write_expect(e, LOW_IOVA, 1));
	ASSERT_EQ(0, write_expect(e, LOW_IOVA + WIN - 8, 8));
	ASSERT_EQ(0, write_expect(e, LOW_IOVA + 5 * PAGE, PAGE));
	ASSERT_EQ(0, write_expect(e, LOW_IOVA + 6 * PAGE, PAGE));
	ASSERT_EQ(0, write_expect(e, LOW_IOVA + 20 * PAGE - 4, 8));
	ASSERT_EQ(0, write_expect(e, HIGH_IOVA + 3 * MIB, 7 * PAGE + 1));
	ASSERT_EQ(0, write_expect(e, HIGH_IOVA + WIN - PAGE, PAGE));
	/* Outside both windows: the device does not track them. */
	ASSERT_EQ(0, dev_write(LOW_IOVA + WIN, PAGE));
	ASSERT_EQ(0, dev_write(HIGH_IOVA - PAGE, PAGE));
	ASSERT_EQ(0, dev_write(HIGH_IOVA + WIN, 4 * PAGE));
	EXPECT_EQ(0, report_diff(_metadata, self->fd, e));

	expect_clear(e);
	EXPECT_EQ(0, report_diff(_metadata, self->fd, e));

	ASSERT_EQ(0, write_expect(e, LOW_IOVA + 9 * PAGE, 3 * PAGE));
	EXPECT_EQ(0, report_diff(_metadata, self->fd, e));
	EXPECT_EQ(0, log_stop(self->fd));
}

/*
 * Over a hundred thousand dirty pages: a report of dozens of messages,
 * several times what the receive queue holds at once, assembled into one
 * bitmap; then an empty one.
 */
TEST_F_TIMEOUT(dirty, many_pages, 600)
{
	static const struct range big[] = {
		{ LOW_IOVA, 512 * MIB }, { HIGH_IOVA, WIN },
	};
	struct expect *e = &self->e;
	uint64_t i, page = PAGE;
	int ret;

	ret = log_start(self->fd, big, 2, &page);
	ASSERT_EQ(0, ret) TH_LOG("start: %s", strerror(-ret));
	/* All of the low range in one write: 131072 pages. */
	ASSERT_EQ(0, write_expect(e, LOW_IOVA, 512 * MIB));
	/* Every other page of the high one: 8192 writes. */
	for (i = 0; i < WIN / PAGE; i += 2)
		ASSERT_EQ(0, write_expect(e, HIGH_IOVA + i * PAGE, PAGE));
	EXPECT_EQ(0, report_diff(_metadata, self->fd, e));
	expect_clear(e);
	EXPECT_EQ(0, report_diff(_metadata, self->fd, e));
	EXPECT_EQ(0, log_stop(self->fd));
}

/*
 * Reports of parts of the windows, at coarser report granules: each part
 * holds only its own pages and clears only them.
 */
TEST_F(dirty, partial_reports)
{
	uint64_t *bits = bitmap_alloc(WIN / PAGE);
	uint64_t i, set;

	ASSERT_NE(NULL, bits);
	start_two(_metadata, self->fd);
	ASSERT_EQ(0, dev_write(LOW_IOVA + 1 * MIB, PAGE));
	ASSERT_EQ(0, dev_write(LOW_IOVA + 9 * MIB + PAGE, PAGE));
	ASSERT_EQ(0, dev_write(LOW_IOVA + 33 * MIB, 3 * MIB));

	/* The first 8 MiB, 2 MiB granules: one dirty granule, number 0. */
	ASSERT_EQ(0, log_report(self->fd, LOW_IOVA, 8 * MIB, 2 * MIB, bits));
	EXPECT_EQ(1, bits[0]);
	/* The same part again: cleared. */
	bits[0] = 0;
	ASSERT_EQ(0, log_report(self->fd, LOW_IOVA, 8 * MIB, 2 * MIB, bits));
	EXPECT_EQ(0, bits[0]);
	/* 8 MiB to 64 MiB at 1 MiB: granules 1 (9 MiB) and 25-27 (33-35). */
	memset(bits, 0, WIN / PAGE / 8);
	ASSERT_EQ(0, log_report(self->fd, LOW_IOVA + 8 * MIB, 56 * MIB, MIB,
				bits));
	EXPECT_EQ((1ULL << 1) | (7ULL << 25), bits[0]);
	for (i = 0, set = 0; i < WIN / PAGE / 64; i++)
		set += __builtin_popcountll(bits[i]);
	EXPECT_EQ(4, set);
	EXPECT_EQ(0, log_stop(self->fd));
	free(bits);
}

/*
 * More ranges than one tracker takes: the driver merges them, and every
 * page written inside the requested ranges is still reported (pages
 * between them may be, as the merged ranges cover them).
 */
TEST_F(dirty, merged_ranges)
{
	const char *env = getenv("VFIO_DIRTY_MAX_RANGES");
	unsigned int max = env ? atoi(env) : 4, n = 3 * max + 1, i;
	struct range *r = calloc(n, sizeof(*r));
	struct expect *e = &self->e;
	uint64_t *got, page = PAGE, p;
	int ret;

	ASSERT_NE(NULL, r);
	for (i = 0; i < n; i++) {
		r[i].iova = i * 4 * MIB;
		r[i].length = MIB;
	}
	ret = log_start(self->fd, r, n, &page);
	ASSERT_EQ(0, ret) TH_LOG("start with %u ranges: %s", n, strerror(-ret));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, write_expect(e, r[i].iova, PAGE));
		ASSERT_EQ(0, write_expect(e, r[i].iova + MIB - PAGE, PAGE));
	}
	got = bitmap_alloc(e->npages);
	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, log_report(self->fd, e->base, e->npages * PAGE, PAGE,
				got));
	for (p = 0; p < e->npages; p++)
		if (e->bits[p / 64] >> (p % 64) & 1)
			EXPECT_TRUE(got[p / 64] >> (p % 64) & 1)
				TH_LOG("page %#llx lost",
				       (unsigned long long)(p * PAGE));
	EXPECT_EQ(0, log_stop(self->fd));
	free(got);
	free(r);
}

/* The tracking page: the one asked for when the device can do it. */
TEST_F(dirty, page_sizes)
{
	static const uint64_t ask[] = { PAGE, 64 * 1024, 2 * MIB, GIB };
	struct range r = { 0, 2 * GIB };
	unsigned int i;
	uint64_t page;
	int ret;

	for (i = 0; i < ARRAY_SIZE(ask); i++) {
		page = ask[i];
		ret = log_start(self->fd, &r, 1, &page);
		ASSERT_EQ(0, ret) TH_LOG("page %#llx: %s",
					 (unsigned long long)ask[i],
					 strerror(-ret));
		EXPECT_EQ(ask[i], page);
		EXPECT_EQ(0, log_stop(self->fd));
	}
}

/*
 * Requests the device cannot do, each with its errno, none of which
 * leaves logging on: a range past the device's address space, a tracking
 * page that is no power of two, no ranges at all, a second start, a
 * report or a report cutting tracking pages.
 */
TEST_F(dirty, refused)
{
	struct range beyond = { 1ULL << 50, GIB };
	struct range one = { 0, 64 * MIB };
	uint64_t bits[8] = { 0 }, page;

	page = PAGE;
	EXPECT_EQ(-E2BIG, log_start(self->fd, &beyond, 1, &page));
	page = 3 * PAGE;
	EXPECT_EQ(-EINVAL, log_start(self->fd, &one, 1, &page));
	page = PAGE;
	EXPECT_EQ(-EINVAL, log_start(self->fd, &one, 0, &page));
	EXPECT_EQ(-EINVAL, log_report(self->fd, 0, 64 * PAGE, PAGE, bits));
	EXPECT_EQ(0, log_stop(self->fd));

	page = 2 * MIB;
	ASSERT_EQ(0, log_start(self->fd, &one, 1, &page));
	ASSERT_EQ(2 * MIB, page);
	page = PAGE;
	EXPECT_EQ(-EBUSY, log_start(self->fd, &one, 1, &page));
	/* 4 KiB report granules are fine, a range cutting 2 MiB is not. */
	EXPECT_EQ(0, log_report(self->fd, 0, 2 * MIB, PAGE, bits));
	EXPECT_EQ(-EINVAL, log_report(self->fd, PAGE, 2 * MIB, PAGE, bits));
	EXPECT_EQ(0, log_stop(self->fd));
	EXPECT_EQ(0, log_stop(self->fd));
}

/*
 * The tracker fails: at once (an error event), or in the middle of a
 * report of many messages.  The report fails with EIO, so does every
 * later one, and a stop and a new start bring logging back.
 */
TEST_F_TIMEOUT(dirty, tracker_errors, 300)
{
	static const char * const faults[] = {
		"track_error", "track_fail_after 0", "track_fail_after 2",
	};
	struct expect *e = &self->e;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(faults); i++) {
		TH_LOG("fault: %s", faults[i]);
		start_two(_metadata, self->fd);
		ASSERT_EQ(0, dev_write(HIGH_IOVA, WIN));
		ASSERT_EQ(0, env_file_write("VFIO_DIRTY_INJECT", faults[i]));
		EXPECT_EQ(-EIO, log_report(self->fd, e->base,
					   e->npages * PAGE, PAGE, e->bits));
		EXPECT_EQ(-EIO, log_report(self->fd, e->base,
					   e->npages * PAGE, PAGE, e->bits));
		ASSERT_EQ(0, env_file_write("VFIO_DIRTY_INJECT", "clear"));
		EXPECT_EQ(0, log_stop(self->fd));

		start_two(_metadata, self->fd);
		expect_clear(e);
		ASSERT_EQ(0, write_expect(e, LOW_IOVA + 7 * PAGE, PAGE));
		EXPECT_EQ(0, report_diff(_metadata, self->fd, e));
		EXPECT_EQ(0, log_stop(self->fd));
		expect_clear(e);
	}
}

/* A reset of the function does not lose what was written before it. */
TEST_F(dirty, reset_keeps_log)
{
	struct expect *e = &self->e;

	start_two(_metadata, self->fd);
	ASSERT_EQ(0, write_expect(e, LOW_IOVA + 2 * PAGE, PAGE));
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_RESET))
		TH_LOG("reset: %s", strerror(errno));
	ASSERT_EQ(0, write_expect(e, HIGH_IOVA + 2 * PAGE, PAGE));
	EXPECT_EQ(0, report_diff(_metadata, self->fd, e));
	EXPECT_EQ(0, log_stop(self->fd));
}

struct reporter {
	int fd;
	int errors;
	bool stop;		/* __atomic: set by the main thread */
};

/* Reports over and over until told to stop; counts unexpected errors. */
static void *report_loop(void *arg)
{
	struct reporter *r = arg;
	uint64_t *bits = bitmap_alloc(WIN / PAGE);
	int ret;

	while (bits && !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		dev_write(HIGH_IOVA, WIN);
		ret = log_report(r->fd, HIGH_IOVA, WIN, PAGE, bits);
		/* EINVAL: logging was stopped under us, as intended. */
		if (ret && ret != -EINVAL)
			r->errors++;
	}
	free(bits);
	return NULL;
}

/*
 * Stop and start while another thread is in the middle of reports: each
 * call either runs whole or fails cleanly, and nothing hangs.
 */
TEST_F_TIMEOUT(dirty, stop_while_reporting, 300)
{
	struct reporter r = { .fd = self->fd };
	pthread_t t;
	int i;

	start_two(_metadata, self->fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, report_loop, &r));
	for (i = 0; i < 20; i++) {
		usleep(20000);
		EXPECT_EQ(0, log_stop(self->fd));
		usleep(5000);
		start_two(_metadata, self->fd);
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	EXPECT_EQ(0, r.errors);
	EXPECT_EQ(0, log_stop(self->fd));
}

static int do_hold(const char *bdf)
{
	struct range r = { 0, WIN };
	uint64_t page = PAGE, bits[WIN / PAGE / 64];
	char err[VFIO_UTIL_ERRLEN], line[16];
	struct vfio_pci_dev dev;
	int ret;

	if (vfio_pci_dev_open(&dev, bdf, err, sizeof(err))) {
		fprintf(stderr, "hold: %s\n", err);
		return 1;
	}
	ret = log_start(dev.device_fd, &r, 1, &page);
	if (!ret)
		ret = dev_write(PAGE, PAGE);
	if (ret) {
		fprintf(stderr, "hold: start: %s\n", strerror(-ret));
		return 1;
	}
	printf("ready\n");
	if (!fgets(line, sizeof(line), stdin))
		line[0] = 0;
	ret = log_report(dev.device_fd, 0, WIN, PAGE, bits);
	printf("report %d\n", -ret);
	printf("stop %d\n", -log_stop(dev.device_fd));
	vfio_pci_dev_close(&dev);
	return 0;
}

int main(int argc, char **argv)
{
	const char *bdf;

	if (vfio_selftests_hold_mode(argc, argv)) {
		bdf = vfio_selftests_hold_bdf();
		return bdf ? do_hold(bdf) : 2;
	}
	return test_harness_run(argc, argv);
}
