// SPDX-License-Identifier: GPL-2.0-only
/*
 * Error paths under injected allocation failures: each operation below is
 * repeated with the 1st, 2nd, 3rd, ... fault-injectable call of the
 * calling thread made to fail (/proc/thread-self/fail-nth, which reaches
 * failslab and fail_page_alloc; harness/tests/78-fault-inject.sh sets them
 * up to fail any allocation), until a run completes without an injected
 * failure.  Every run must succeed, or fail with an errno the kernel's own
 * interfaces give for a failed allocation (see clean_errno()), or, for
 * SET_IRQS enabling MSI or MSI-X, return the smaller number of vectors it
 * could have, as the uAPI allows; and the device must work normally
 * afterwards.  Leaks and lock or memory errors are the debug kernel's to
 * report (kmemleak, KASAN, lockdep).
 *
 *   open        VFIO_GROUP_GET_DEVICE_FD of $VFIO_SELFTESTS_BDF (edu)
 *   msi         SET_IRQS enabling MSI on edu; a real interrupt arrives after
 *   ioeventfd   VFIO_DEVICE_IOEVENTFD on edu's liveness register
 *   mmap        mmap() of edu's BAR0
 *   msix        SET_IRQS enabling four MSI-X vectors on
 *               $VFIO_SELFTESTS_MSIX_BDF (nvme)
 *   region      the open of $VFIO_SELFTESTS_REGION_BDF, bound to the variant
 *               fixture with region_pages set: the open registers a
 *               device-specific region
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_sanity.h"
#include "vfio_pci_util.h"

/* More injectable calls than any one of these operations makes. */
#define MAX_NTH			400

#define EDU_ID			0x00
#define EDU_LIVENESS		0x04
#define EDU_IRQ_RAISE		0x60
#define EDU_IRQ_ACK		0x64

/* ---- fail-nth ---- */

static int fail_nth_open(struct __test_metadata *_metadata)
{
	int fd = open("/proc/thread-self/fail-nth", O_RDWR);

	if (fd < 0 && errno == ENOENT)
		SKIP(return -1, "no fail-nth: kernel without CONFIG_FAULT_INJECTION");
	ASSERT_LE(0, fd) TH_LOG("fail-nth: %s", strerror(errno));
	return fd;
}

/* Make the @n-th injectable call of this thread from now on fail. */
static void fail_nth_arm(int fd, int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	if (pwrite(fd, buf, len, 0) != len)
		abort();
}

/* Disarm; true if the failure was injected since arming. */
static bool fail_nth_fired(int fd)
{
	char buf[16] = "";
	bool fired;

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		abort();
	fired = atoi(buf) == 0;
	if (pwrite(fd, "0", 1, 0) != 1)
		abort();
	return fired;
}

/*
 * The operation under test, its undo and the check that the device still
 * works.  run() returns 0 or -errno and must make no injectable call of
 * its own outside the operation: the count starts when the thread is
 * armed.
 */
struct fault_op {
	const char *name;
	int (*run)(void *ctx);
	void (*undo)(void *ctx);	/* also harmless after a failed run */
	int (*works)(void *ctx);	/* 0 if the device still works */
};

/*
 * What a failed allocation may turn into: ENOMEM; ENOSPC from the
 * interrupt domains, which report any failure to set up a vector as no
 * room for it; EBUSY from pci_request_region(), which cannot tell a failed
 * allocation from a region someone else holds.
 */
static bool clean_errno(int err)
{
	return err == ENOMEM || err == ENOSPC || err == EBUSY;
}

/*
 * Run @op with the 1st, 2nd, ... injectable call failing until a run
 * sees no failure.  Page faults of this thread would count (and fail) as
 * well, so everything it touches is locked in memory first.
 */
static void inject_each(struct __test_metadata *_metadata,
			const struct fault_op *op, void *ctx)
{
	int fd, n, ret, failed = 0;
	bool fired = true;

	fd = fail_nth_open(_metadata);
	if (fd < 0)
		return;
	ASSERT_EQ(0, mlockall(MCL_CURRENT | MCL_FUTURE));

	for (n = 1; fired && n <= MAX_NTH; n++) {
		fail_nth_arm(fd, n);
		ret = op->run(ctx);
		fired = fail_nth_fired(fd);
		if (ret < 0 && !clean_errno(-ret)) {
			TH_LOG("%s, call %d failing: %s", op->name, n,
			       strerror(-ret));
			failed++;
		}
		op->undo(ctx);
		ret = op->works(ctx);
		EXPECT_EQ(0, ret) TH_LOG("%s, call %d failing: device broken",
					 op->name, n);
		if (ret)
			break;
	}
	munlockall();
	close(fd);
	EXPECT_EQ(0, failed) TH_LOG("errors a failed allocation should not give");
	EXPECT_FALSE(fired) TH_LOG("%s still failing after %d calls",
				   op->name, MAX_NTH);
	EXPECT_LT(2, n) TH_LOG("%s made no injectable call", op->name);
	TH_LOG("%s: %d injectable calls", op->name, n - 2);
}

/* ---- edu ---- */

struct edu {
	struct vfio_pci_dev dev;
	uint64_t bar0;		/* file offset of BAR0 */
	int fd;			/* a device fd opened by the operation */
	int efd;
	void *map;
};

static int cfg_cmd(struct vfio_pci_dev *dev, uint16_t set)
{
	uint16_t cmd;

	if (vfio_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND,
			     &cmd, 2) != 2)
		return -1;
	cmd |= set;
	return vfio_region_write(dev, VFIO_PCI_CONFIG_REGION_INDEX,
				 PCI_COMMAND, &cmd, 2) == 2 ? 0 : -1;
}

static int bar_rd(int fd, uint64_t off, uint32_t *val)
{
	return pread(fd, val, 4, off) == 4 ? 0 : -1;
}

static int bar_wr(int fd, uint64_t off, uint32_t val)
{
	return pwrite(fd, &val, 4, off) == 4 ? 0 : -1;
}

/* The edu answers on a device fd: ID and liveness registers. */
static int edu_answers(int fd, uint64_t bar0)
{
	uint32_t id, v;

	if (bar_rd(fd, bar0 + EDU_ID, &id) || (id & 0xffff) != 0xed)
		return -1;
	if (bar_wr(fd, bar0 + EDU_LIVENESS, 0x1234) ||
	    bar_rd(fd, bar0 + EDU_LIVENESS, &v))
		return -1;
	return v == (uint32_t)~0x1234 ? 0 : -1;
}

FIXTURE(edu) {
	struct edu e;
};

FIXTURE_SETUP(edu)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	struct vfio_region_info info;

	self->e.fd = -1;
	self->e.map = MAP_FAILED;
	ASSERT_NE(NULL, vfio_selftests_bdf());
	ASSERT_EQ(0, vfio_pci_dev_open(&self->e.dev, vfio_selftests_bdf(), err,
				       sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(0, vfio_region_info(self->e.dev.device_fd,
				      VFIO_PCI_BAR0_REGION_INDEX, &info));
	self->e.bar0 = info.offset;
	ASSERT_EQ(0, cfg_cmd(&self->e.dev, PCI_COMMAND_MEMORY |
					    PCI_COMMAND_MASTER));
	self->e.efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, self->e.efd);
}

FIXTURE_TEARDOWN(edu)
{
	char msg[256];

	close(self->e.efd);
	vfio_pci_dev_close(&self->e.dev);
	if (vfio_pci_sanity_check(vfio_selftests_bdf(), msg, sizeof(msg)))
		TH_LOG("sanity check after the test: %s", msg);
}

static int edu_works(void *ctx)
{
	struct edu *e = ctx;

	return edu_answers(e->dev.device_fd, e->bar0);
}

/* open: a second device fd, through the group the fixture holds */

static int open_run(void *ctx)
{
	struct edu *e = ctx;

	e->fd = ioctl(e->dev.group_fd, VFIO_GROUP_GET_DEVICE_FD, e->dev.bdf);
	return e->fd < 0 ? -errno : 0;
}

static void open_undo(void *ctx)
{
	struct edu *e = ctx;

	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
}

/* A fresh device fd answers, with memory decode turned on. */
static int open_works(void *ctx)
{
	struct edu *e = ctx;
	struct vfio_pci_dev probe = e->dev;
	int ret;

	if (open_run(e))
		return -1;
	probe.device_fd = e->fd;
	ret = cfg_cmd(&probe, PCI_COMMAND_MEMORY) ||
	      edu_answers(e->fd, e->bar0) ? -1 : 0;
	open_undo(e);
	return ret;
}

/*
 * With the fixture's own device fd closed, every run is a first open:
 * enable, reset, config space, state saved.
 */
TEST_F_TIMEOUT(edu, open, 1200)
{
	static const struct fault_op op = {
		"open", open_run, open_undo, open_works,
	};

	close(self->e.dev.device_fd);
	self->e.dev.device_fd = -1;
	inject_each(_metadata, &op, &self->e);
}

/* msi */

static int set_irqs(int fd, uint32_t index, uint32_t flags, uint32_t count,
		    const int32_t *fds)
{
	char buf[sizeof(struct vfio_irq_set) + 8 * sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	int ret;

	memset(buf, 0, sizeof(buf));
	set->argsz = sizeof(*set) + count * sizeof(int32_t);
	set->flags = flags | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = index;
	set->count = count;
	if (count)
		memcpy(set->data, fds, count * sizeof(int32_t));
	/* > 0: only that many vectors could be had, and none are enabled. */
	ret = ioctl(fd, VFIO_DEVICE_SET_IRQS, set);
	return ret < 0 ? -errno : ret;
}

static int irqs_off(int fd, uint32_t index)
{
	return set_irqs(fd, index, VFIO_IRQ_SET_DATA_NONE, 0, NULL);
}

static int msi_run(void *ctx)
{
	struct edu *e = ctx;

	return set_irqs(e->dev.device_fd, VFIO_PCI_MSI_IRQ_INDEX,
			VFIO_IRQ_SET_DATA_EVENTFD, 1, &e->efd);
}

static void msi_undo(void *ctx)
{
	struct edu *e = ctx;

	irqs_off(e->dev.device_fd, VFIO_PCI_MSI_IRQ_INDEX);
}

/* MSI can be enabled again and edu's interrupt arrives. */
static int msi_works(void *ctx)
{
	struct edu *e = ctx;
	uint64_t n;
	int ret;

	if (msi_run(e))
		return -1;
	ret = bar_wr(e->dev.device_fd, e->bar0 + EDU_IRQ_RAISE, 1) ||
	      !vfio_eventfd_wait(e->efd, 2000);
	bar_wr(e->dev.device_fd, e->bar0 + EDU_IRQ_ACK, 1);
	while (read(e->efd, &n, sizeof(n)) > 0)
		;
	msi_undo(e);
	return ret || edu_works(e) ? -1 : 0;
}

TEST_F_TIMEOUT(edu, msi, 1200)
{
	static const struct fault_op op = {
		"MSI enable", msi_run, msi_undo, msi_works,
	};

	inject_each(_metadata, &op, &self->e);
}

/* ioeventfd */

static int ioeventfd_set(struct edu *e, int32_t fd)
{
	struct vfio_device_ioeventfd req = {
		.argsz = sizeof(req),
		.flags = VFIO_DEVICE_IOEVENTFD_32,
		.offset = e->bar0 + EDU_LIVENESS,
		.data = 0x5555aaaa,
		.fd = fd,
	};

	return ioctl(e->dev.device_fd, VFIO_DEVICE_IOEVENTFD, &req) ? -errno :
									0;
}

static int ioeventfd_run(void *ctx)
{
	struct edu *e = ctx;

	return ioeventfd_set(e, e->efd);
}

static void ioeventfd_undo(void *ctx)
{
	struct edu *e = ctx;

	ioeventfd_set(e, -1);
}

/* A registration works: signalling it writes the liveness register. */
static int ioeventfd_works(void *ctx)
{
	struct edu *e = ctx;
	uint64_t one = 1;
	uint32_t v = 0;
	int i;

	if (edu_works(e) || ioeventfd_run(e))
		return -1;
	if (write(e->efd, &one, sizeof(one)) != sizeof(one))
		return -1;
	for (i = 0; i < 100 && v != (uint32_t)~0x5555aaaa; i++) {
		usleep(10000);
		bar_rd(e->dev.device_fd, e->bar0 + EDU_LIVENESS, &v);
	}
	ioeventfd_undo(e);
	return v == (uint32_t)~0x5555aaaa ? 0 : -1;
}

TEST_F_TIMEOUT(edu, ioeventfd, 1200)
{
	static const struct fault_op op = {
		"ioeventfd", ioeventfd_run, ioeventfd_undo, ioeventfd_works,
	};

	inject_each(_metadata, &op, &self->e);
}

/* mmap */

static int mmap_run(void *ctx)
{
	struct edu *e = ctx;

	e->map = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE, MAP_SHARED,
		      e->dev.device_fd, e->bar0);
	return e->map == MAP_FAILED ? -errno : 0;
}

static void mmap_undo(void *ctx)
{
	struct edu *e = ctx;

	if (e->map != MAP_FAILED)
		munmap(e->map, getpagesize());
	e->map = MAP_FAILED;
}

static int mmap_works(void *ctx)
{
	struct edu *e = ctx;
	uint32_t id;

	if (mmap_run(e))
		return -1;
	id = __atomic_load_n((uint32_t *)e->map + EDU_ID / 4,
			     __ATOMIC_SEQ_CST);
	mmap_undo(e);
	return (id & 0xffff) == 0xed ? edu_works(e) : -1;
}

TEST_F_TIMEOUT(edu, mmap, 1200)
{
	static const struct fault_op op = {
		"mmap", mmap_run, mmap_undo, mmap_works,
	};

	inject_each(_metadata, &op, &self->e);
}

/* ---- msix: nvme ---- */

struct msix {
	struct vfio_pci_dev dev;
	int32_t efd[4];
};

static int msix_run(void *ctx)
{
	struct msix *m = ctx;

	return set_irqs(m->dev.device_fd, VFIO_PCI_MSIX_IRQ_INDEX,
			VFIO_IRQ_SET_DATA_EVENTFD, 4, m->efd);
}

static void msix_undo(void *ctx)
{
	struct msix *m = ctx;

	irqs_off(m->dev.device_fd, VFIO_PCI_MSIX_IRQ_INDEX);
}

static int msix_works(void *ctx)
{
	struct msix *m = ctx;
	int ret = msix_run(m);

	msix_undo(m);
	return ret;
}

FIXTURE(msix) {
	struct msix m;
};

FIXTURE_SETUP(msix)
{
	const char *bdf = getenv("VFIO_SELFTESTS_MSIX_BDF");
	char err[VFIO_UTIL_ERRLEN] = "";
	int i;

	ASSERT_NE(NULL, bdf) TH_LOG("VFIO_SELFTESTS_MSIX_BDF is not set");
	ASSERT_EQ(0, vfio_pci_dev_open(&self->m.dev, bdf, err, sizeof(err)))
		TH_LOG("%s", err);
	for (i = 0; i < 4; i++) {
		self->m.efd[i] = eventfd(0, EFD_NONBLOCK);
		ASSERT_LE(0, self->m.efd[i]);
	}
}

FIXTURE_TEARDOWN(msix)
{
	int i;

	for (i = 0; i < 4; i++)
		close(self->m.efd[i]);
	vfio_pci_dev_close(&self->m.dev);
}

TEST_F_TIMEOUT(msix, enable, 1200)
{
	static const struct fault_op op = {
		"MSI-X enable", msix_run, msix_undo, msix_works,
	};

	inject_each(_metadata, &op, &self->m);
}

/* ---- region: the variant fixture's device-specific region ---- */

struct region {
	struct vfio_pci_dev dev;
	int fd;
};

static int region_open_run(void *ctx)
{
	struct region *r = ctx;

	r->fd = ioctl(r->dev.group_fd, VFIO_GROUP_GET_DEVICE_FD, r->dev.bdf);
	return r->fd < 0 ? -errno : 0;
}

static void region_open_undo(void *ctx)
{
	struct region *r = ctx;

	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* A fresh open has the extra region, and it reads. */
static int region_works(void *ctx)
{
	struct region *r = ctx;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info reg;
	uint32_t v;
	int ret = -1;

	if (region_open_run(r))
		return -1;
	if (!ioctl(r->fd, VFIO_DEVICE_GET_INFO, &info) &&
	    info.num_regions > VFIO_PCI_NUM_REGIONS &&
	    !vfio_region_info(r->fd, VFIO_PCI_NUM_REGIONS, &reg) &&
	    pread(r->fd, &v, sizeof(v), reg.offset) == sizeof(v))
		ret = 0;
	region_open_undo(r);
	return ret;
}

FIXTURE(region) {
	struct region r;
};

FIXTURE_SETUP(region)
{
	const char *bdf = getenv("VFIO_SELFTESTS_REGION_BDF");
	char err[VFIO_UTIL_ERRLEN] = "";

	self->r.fd = -1;
	ASSERT_NE(NULL, bdf) TH_LOG("VFIO_SELFTESTS_REGION_BDF is not set");
	ASSERT_EQ(0, vfio_pci_dev_open(&self->r.dev, bdf, err, sizeof(err)))
		TH_LOG("%s", err);
	/* Every run below is then a first open, which adds the region. */
	close(self->r.dev.device_fd);
	self->r.dev.device_fd = -1;
}

FIXTURE_TEARDOWN(region)
{
	vfio_pci_dev_close(&self->r.dev);
}

TEST_F_TIMEOUT(region, open_adds_region, 1200)
{
	static const struct fault_op op = {
		"open with a device region", region_open_run,
		region_open_undo, region_works,
	};

	inject_each(_metadata, &op, &self->r);
}

TEST_HARNESS_MAIN
