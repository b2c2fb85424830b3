// SPDX-License-Identifier: GPL-2.0-only
/*
 * Resets of vfio-pci devices, checked on QEMU devices whose reset visibly
 * clears state:
 *
 *   function_reset  VFIO_DEVICE_RESET on a function with FLR (QEMU's nvme,
 *                   1b36:0010): the interrupt mask register INTMS (BAR0
 *                   0x0c, read back through 0x0c) is cleared by FLR.
 *                   $VFIO_SELFTESTS_BDF names it.
 *   no_reset        a function that cannot be reset alone (function 0 of a
 *                   two-function pci-testdev): no VFIO_DEVICE_FLAGS_RESET.
 *   hot_reset       VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and _PCI_HOT_RESET
 *                   on the two pci-testdev functions ($VFIO_SELFTESTS_BDF,
 *                   $VFIO_SELFTESTS_BDF2, one IOMMU group), with a device
 *                   in another group ($VFIO_SELFTESTS_OTHER_BDF) whose group
 *                   fd proves nothing about the pair.
 *   hot_reset_blocked  the same pair with function 1 bound to pci-stub.
 *   set_reset       the pair is reset once its last user leaves.
 *
 * pci-testdev state: writing a test number to BAR0 offset 0 selects a test,
 * after which BAR0 reads return the test's header (non-zero); a bus reset
 * deselects it and BAR0 reads as zeroes.
 *
 * Whether a mapping was zapped is seen through the page fault counter: a
 * zapped page costs a fault on the next access, a mapped one does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

#define NVME_REG_INTMS		0x0c
#define TESTDEV_HDR_LEN		32

static int rd32(int fd, uint64_t off, uint32_t *val)
{
	return vfio_fd_region_rw(fd, VFIO_PCI_BAR0_REGION_INDEX, off, val, 4,
				 false);
}

static int wr32(int fd, uint64_t off, uint32_t val)
{
	return vfio_fd_region_rw(fd, VFIO_PCI_BAR0_REGION_INDEX, off, &val, 4,
				 true);
}

static long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_minflt;
}

/*
 * Read a mapped register and count the page faults the read took.  The
 * atomic builtins only make sure the compiler does the access, once.
 *
 * The first getrusage() of a freshly forked test can itself fault after
 * it has taken its snapshot (its result lands on a stack page still
 * shared copy-on-write with the harness), which would be charged to the
 * read; one call beforehand takes those faults out of the count.
 */
static uint32_t mapped_read(uint32_t *reg, long *faults)
{
	long before;
	uint32_t val;

	minor_faults();
	before = minor_faults();
	val = __atomic_load_n(reg, __ATOMIC_SEQ_CST);

	*faults = minor_faults() - before;
	return val;
}

/*
 * With VFIO_SELFTESTS_RESET_HOOKS=1 the functions are bound to the counting
 * variant driver: remember the reset_prepare/reset_done counts of @bdf.
 */
static void hooks_mark(struct __test_metadata *_metadata, const char *bdf,
		       struct vfio_reset_hooks *mark)
{
	if (vfio_reset_hooks_wanted())
		ASSERT_EQ(0, vfio_reset_hooks_read(bdf, mark))
			TH_LOG("%s keeps no reset counts", bdf);
}

/* Both counts of @bdf grew by exactly @n since *@mark, which moves on. */
static void hooks_grew(struct __test_metadata *_metadata, const char *bdf,
		       struct vfio_reset_hooks *mark, uint64_t n)
{
	struct vfio_reset_hooks now;

	if (!vfio_reset_hooks_wanted())
		return;
	ASSERT_EQ(0, vfio_reset_hooks_read(bdf, &now));
	EXPECT_EQ(n, now.prepare - mark->prepare)
		TH_LOG("%s: reset_prepare count off", bdf);
	EXPECT_EQ(n, now.done - mark->done)
		TH_LOG("%s: reset_done count off", bdf);
	*mark = now;
}

/* ---- function_reset: nvme with FLR ---- */

FIXTURE(function_reset) {
	struct vfio_pci_dev dev;
};

FIXTURE_SETUP(function_reset)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	uint16_t ids[2];

	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, vfio_selftests_bdf(), err,
				       sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(0, vfio_fd_region_rw(self->dev.device_fd,
				       VFIO_PCI_CONFIG_REGION_INDEX, 0, ids,
				       sizeof(ids), false));
	ASSERT_EQ(0x1b36, ids[0]);
	ASSERT_EQ(0x0010, ids[1]) TH_LOG("not QEMU's nvme");
}

FIXTURE_TEARDOWN(function_reset)
{
	vfio_pci_dev_close(&self->dev);
}

TEST_F(function_reset, reset_clears_device_state)
{
	int fd = self->dev.device_fd;
	uint32_t val;

	ASSERT_TRUE(self->dev.info.flags & VFIO_DEVICE_FLAGS_RESET);
	ASSERT_EQ(0, wr32(fd, NVME_REG_INTMS, 1));
	ASSERT_EQ(0, rd32(fd, NVME_REG_INTMS, &val));
	ASSERT_EQ(1, val) TH_LOG("INTMS did not take the write");

	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(0, rd32(fd, NVME_REG_INTMS, &val));
	EXPECT_EQ(0, val) TH_LOG("INTMS survived the reset");
}

/* The user's config space (command register, BAR) outlives the reset. */
TEST_F(function_reset, reset_keeps_config)
{
	int fd = self->dev.device_fd;
	uint32_t before[6], after[6];
	uint16_t cmd = PCI_COMMAND_MEMORY;

	ASSERT_EQ(0, vfio_fd_region_rw(fd, VFIO_PCI_CONFIG_REGION_INDEX,
				       PCI_COMMAND, &cmd, sizeof(cmd), true));
	ASSERT_EQ(0, vfio_fd_region_rw(fd, VFIO_PCI_CONFIG_REGION_INDEX,
				       PCI_BASE_ADDRESS_0, before,
				       sizeof(before), false));
	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
	ASSERT_EQ(0, vfio_fd_region_rw(fd, VFIO_PCI_CONFIG_REGION_INDEX,
				       PCI_BASE_ADDRESS_0, after, sizeof(after),
				       false));
	EXPECT_EQ(0, memcmp(before, after, sizeof(before)));
	cmd = 0;
	ASSERT_EQ(0, vfio_fd_region_rw(fd, VFIO_PCI_CONFIG_REGION_INDEX,
				       PCI_COMMAND, &cmd, sizeof(cmd), false));
	EXPECT_TRUE(cmd & PCI_COMMAND_MEMORY);
}

/*
 * A mapping is zapped across the reset: the first access afterwards faults
 * the page back in and sees the post-reset register.
 */
TEST_F(function_reset, reset_zaps_mmap)
{
	int fd = self->dev.device_fd;
	struct vfio_region_info bar0;
	uint32_t *regs;
	long faults;
	void *map;

	ASSERT_EQ(0, vfio_region_info(fd, VFIO_PCI_BAR0_REGION_INDEX, &bar0));
	ASSERT_TRUE(bar0.flags & VFIO_REGION_INFO_FLAG_MMAP);
	map = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, bar0.offset);
	ASSERT_NE(MAP_FAILED, map);
	regs = map;

	__atomic_store_n(&regs[NVME_REG_INTMS / 4], 1, __ATOMIC_SEQ_CST);
	ASSERT_EQ(1, mapped_read(&regs[NVME_REG_INTMS / 4], &faults));
	ASSERT_EQ(0, faults) TH_LOG("a mapped page faulted again");

	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(0, mapped_read(&regs[NVME_REG_INTMS / 4], &faults));
	EXPECT_LE(1, faults) TH_LOG("the mapping was not zapped by the reset");
	munmap(map, getpagesize());
}

/* Whatever one user leaves behind, the next one does not see. */
TEST_F(function_reset, next_user_gets_clean_device)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	uint32_t val;

	ASSERT_EQ(0, wr32(self->dev.device_fd, NVME_REG_INTMS, 1));
	vfio_pci_dev_close(&self->dev);
	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, vfio_selftests_bdf(), err,
				       sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(0, rd32(self->dev.device_fd, NVME_REG_INTMS, &val));
	EXPECT_EQ(0, val);
}

/* ---- the pci-testdev pair ---- */

struct pair {
	struct vfio_pci_dev dev;	/* function 0, its group, container */
	int fd1;			/* function 1, same group */
	char bdf1[32];
};

static int testdev_select(int fd)
{
	uint8_t test = 0;

	return vfio_fd_region_rw(fd, VFIO_PCI_BAR0_REGION_INDEX, 0, &test, 1,
				 true);
}

/* 1: a test is selected (header readable), 0: reset state, -1: error. */
static int testdev_selected(int fd)
{
	uint8_t hdr[TESTDEV_HDR_LEN];
	unsigned int i;

	if (vfio_fd_region_rw(fd, VFIO_PCI_BAR0_REGION_INDEX, 0, hdr,
			      sizeof(hdr), false))
		return -1;
	for (i = 0; i < sizeof(hdr); i++)
		if (hdr[i])
			return 1;
	return 0;
}

static int parse_bdf(const char *bdf, unsigned int *seg, unsigned int *bus,
		     unsigned int *dev, unsigned int *fn)
{
	return sscanf(bdf, "%x:%x:%x.%x", seg, bus, dev, fn) == 4 ? 0 : -1;
}

static int pair_open(struct __test_metadata *_metadata, struct pair *p)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	const char *bdf1 = getenv("VFIO_SELFTESTS_BDF2");
	uint16_t ids[2];

	p->fd1 = -1;
	if (vfio_pci_dev_open(&p->dev, vfio_selftests_bdf(), err,
			      sizeof(err))) {
		TH_LOG("%s", err);
		return -1;
	}
	if (vfio_fd_region_rw(p->dev.device_fd, VFIO_PCI_CONFIG_REGION_INDEX, 0,
			      ids, sizeof(ids),
			      false) || ids[0] != 0x1b36 || ids[1] != 0x0005) {
		TH_LOG("%s is not a pci-testdev", p->dev.bdf);
		return -1;
	}
	if (!bdf1)
		return 0;
	snprintf(p->bdf1, sizeof(p->bdf1), "%s", bdf1);
	p->fd1 = ioctl(p->dev.group_fd, VFIO_GROUP_GET_DEVICE_FD, p->bdf1);
	if (p->fd1 < 0) {
		TH_LOG("VFIO_GROUP_GET_DEVICE_FD(%s): %s", p->bdf1,
		       strerror(errno));
		return -1;
	}
	return 0;
}

static void pair_close(struct pair *p)
{
	if (p->fd1 >= 0)
		close(p->fd1);
	p->fd1 = -1;
	vfio_pci_dev_close(&p->dev);
}

static int hot_reset(int fd, const int32_t *fds, uint32_t count,
		     uint32_t argsz, uint32_t flags)
{
	struct vfio_pci_hot_reset *hr;
	size_t len = sizeof(*hr) + 16 * sizeof(int32_t);
	int ret;

	hr = calloc(1, len);
	if (!hr)
		return -ENOMEM;
	hr->argsz = argsz ? argsz : sizeof(*hr) + count * sizeof(int32_t);
	hr->flags = flags;
	hr->count = count;
	memcpy(hr->group_fds, fds, (count < 16 ? count : 16) * sizeof(int32_t));
	ret = ioctl(fd, VFIO_DEVICE_PCI_HOT_RESET, hr) ? -errno : 0;
	free(hr);
	return ret;
}

FIXTURE(no_reset) {
	struct pair p;
};

FIXTURE_SETUP(no_reset)
{
	ASSERT_EQ(0, pair_open(_metadata, &self->p));
}

FIXTURE_TEARDOWN(no_reset)
{
	pair_close(&self->p);
}

/* Function 0 of two has no reset of its own: no FLR, no PM, no bus. */
TEST_F(no_reset, function_reset_refused)
{
	EXPECT_FALSE(self->p.dev.info.flags & VFIO_DEVICE_FLAGS_RESET);
	EXPECT_EQ(-1, ioctl(self->p.dev.device_fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(EINVAL, errno);
}

FIXTURE(hot_reset) {
	struct pair p;
	struct vfio_pci_dev other;
};

FIXTURE_SETUP(hot_reset)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	const char *other = getenv("VFIO_SELFTESTS_OTHER_BDF");

	self->other.device_fd = -1;
	self->other.group_fd = -1;
	self->other.container_fd = -1;
	ASSERT_EQ(0, pair_open(_metadata, &self->p));
	ASSERT_LE(0, self->p.fd1) TH_LOG("VFIO_SELFTESTS_BDF2 is not set");
	ASSERT_NE(NULL, other) TH_LOG("VFIO_SELFTESTS_OTHER_BDF is not set");
	ASSERT_EQ(0, vfio_pci_dev_open(&self->other, other, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_NE(self->p.dev.group_id, self->other.group_id);
}

FIXTURE_TEARDOWN(hot_reset)
{
	vfio_pci_dev_close(&self->other);
	pair_close(&self->p);
}

/* Both functions, with their segment, bus, devfn and group. */
TEST_F(hot_reset, info_lists_both_functions)
{
	size_t len = sizeof(struct vfio_pci_hot_reset_info) +
		     4 * sizeof(struct vfio_pci_dependent_device);
	struct vfio_pci_hot_reset_info *info = calloc(1, len);
	const char *bdfs[2] = { self->p.dev.bdf, self->p.bdf1 };
	unsigned int seg, bus, dev, fn, i, j;
	bool found[2] = { false, false };

	ASSERT_NE(NULL, info);
	info->argsz = len;
	ASSERT_EQ(0, ioctl(self->p.dev.device_fd,
			   VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info));
	EXPECT_EQ(0, info->flags);
	ASSERT_EQ(2, info->count);
	for (i = 0; i < info->count; i++) {
		struct vfio_pci_dependent_device *d = &info->devices[i];

		EXPECT_EQ(self->p.dev.group_id, d->group_id);
		for (j = 0; j < 2; j++) {
			ASSERT_EQ(0, parse_bdf(bdfs[j], &seg, &bus, &dev, &fn));
			if (d->segment == seg && d->bus == bus &&
			    d->devfn == ((dev << 3) | fn))
				found[j] = true;
		}
	}
	EXPECT_TRUE(found[0] && found[1]);
	free(info);
}

/* Too small: -ENOSPC with the count needed; shorter than the header: -EINVAL. */
TEST_F(hot_reset, info_too_small)
{
	struct vfio_pci_hot_reset_info info = { .argsz = sizeof(info) };

	EXPECT_EQ(-1, ioctl(self->p.fd1, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
			    &info));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(2, info.count);

	info.argsz = sizeof(info) - 1;
	EXPECT_EQ(-1, ioctl(self->p.fd1, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
			    &info));
	EXPECT_EQ(EINVAL, errno);
}

/* The owner of the group resets both functions and their mappings. */
TEST_F(hot_reset, owner_resets_both)
{
	struct vfio_reset_hooks hooks0 = {}, hooks1 = {};
	int32_t gfd = self->p.dev.group_fd;
	int32_t twice[2] = { gfd, gfd };
	struct vfio_region_info bar0;
	uint32_t *regs;
	long faults;
	void *map;

	ASSERT_EQ(0, testdev_select(self->p.dev.device_fd));
	ASSERT_EQ(0, testdev_select(self->p.fd1));
	ASSERT_EQ(1, testdev_selected(self->p.dev.device_fd));
	ASSERT_EQ(1, testdev_selected(self->p.fd1));

	ASSERT_EQ(0, vfio_region_info(self->p.dev.device_fd,
				      VFIO_PCI_BAR0_REGION_INDEX, &bar0));
	map = mmap(NULL, getpagesize(), PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->p.dev.device_fd, bar0.offset);
	ASSERT_NE(MAP_FAILED, map);
	regs = map;
	/* Header word 1, the test's offset: non-zero while selected. */
	EXPECT_NE(0, mapped_read(&regs[1], &faults));
	EXPECT_NE(0, mapped_read(&regs[1], &faults));
	EXPECT_EQ(0, faults) TH_LOG("a mapped page faulted again");

	hooks_mark(_metadata, self->p.dev.bdf, &hooks0);
	hooks_mark(_metadata, self->p.bdf1, &hooks1);
	ASSERT_EQ(0, hot_reset(self->p.dev.device_fd, &gfd, 1, 0, 0));
	hooks_grew(_metadata, self->p.dev.bdf, &hooks0, 1);
	hooks_grew(_metadata, self->p.bdf1, &hooks1, 1);
	EXPECT_EQ(0, testdev_selected(self->p.dev.device_fd));
	EXPECT_EQ(0, testdev_selected(self->p.fd1));
	EXPECT_EQ(0, mapped_read(&regs[1], &faults));
	EXPECT_LE(1, faults) TH_LOG("the mapping was not zapped by the reset");
	munmap(map, getpagesize());

	/* Either function may ask, and the same group twice is fine. */
	ASSERT_EQ(0, testdev_select(self->p.dev.device_fd));
	ASSERT_EQ(0, hot_reset(self->p.fd1, twice, 2, 0, 0));
	EXPECT_EQ(0, testdev_selected(self->p.dev.device_fd));
}

/* A group fd that does not cover the pair proves nothing: no reset. */
TEST_F(hot_reset, foreign_group_refused)
{
	int32_t gfd = self->other.group_fd;

	ASSERT_EQ(0, testdev_select(self->p.dev.device_fd));
	EXPECT_EQ(-EINVAL, hot_reset(self->p.dev.device_fd, &gfd, 1, 0, 0));
	EXPECT_EQ(1, testdev_selected(self->p.dev.device_fd));

	/* The same fd is proof enough for the device it does cover. */
	EXPECT_EQ(0, hot_reset(self->other.device_fd, &gfd, 1, 0, 0));
	EXPECT_EQ(1, testdev_selected(self->p.dev.device_fd));
}

TEST_F(hot_reset, bad_arguments)
{
	int dev_fd = self->p.dev.device_fd;
	int32_t gfd = self->p.dev.group_fd;
	int32_t fds[3] = { gfd, gfd, gfd };
	int32_t bad;
	int efd;

	ASSERT_EQ(0, testdev_select(dev_fd));
	/* argsz short of the header, flags, no fds, more fds than devices */
	EXPECT_EQ(-EINVAL, hot_reset(dev_fd, &gfd, 1, 11, 0));
	EXPECT_EQ(-EINVAL, hot_reset(dev_fd, &gfd, 1, 0, 1));
	EXPECT_EQ(-EINVAL, hot_reset(dev_fd, &gfd, 0, 0, 0));
	EXPECT_EQ(-EINVAL, hot_reset(dev_fd, fds, 3, 0, 0));
	EXPECT_EQ(-EINVAL, hot_reset(dev_fd, fds, UINT32_MAX, 16, 0));

	/* A closed fd, a negative one, and fds that are not groups. */
	bad = -1;
	EXPECT_EQ(-EBADF, hot_reset(dev_fd, &bad, 1, 0, 0));
	bad = 1000;
	EXPECT_EQ(-EBADF, hot_reset(dev_fd, &bad, 1, 0, 0));
	efd = eventfd(0, 0);
	ASSERT_LE(0, efd);
	EXPECT_EQ(-EINVAL, hot_reset(dev_fd, &efd, 1, 0, 0));
	close(efd);
	bad = self->p.dev.container_fd;
	EXPECT_EQ(-EINVAL, hot_reset(dev_fd, &bad, 1, 0, 0));
	bad = dev_fd;
	EXPECT_EQ(-EINVAL, hot_reset(dev_fd, &bad, 1, 0, 0));
	EXPECT_EQ(1, testdev_selected(dev_fd)) TH_LOG("a failed call reset");
}

/* argsz too short for the one group fd the call claims to carry. */
TEST_F(hot_reset, argsz_short_of_fds)
{
	int32_t gfd = self->p.dev.group_fd;

	ASSERT_EQ(0, testdev_select(self->p.dev.device_fd));
	EXPECT_EQ(-EINVAL, hot_reset(self->p.dev.device_fd, &gfd, 1, 12, 0));
	EXPECT_EQ(1, testdev_selected(self->p.dev.device_fd))
		TH_LOG("reset with a group fd read beyond argsz");
}

/* With function 1 bound to another driver nobody may reset the pair. */
FIXTURE(hot_reset_blocked) {
	struct pair p;
};

FIXTURE_SETUP(hot_reset_blocked)
{
	ASSERT_EQ(0, pair_open(_metadata, &self->p));
	ASSERT_GT(0, self->p.fd1) TH_LOG("VFIO_SELFTESTS_BDF2 must be unset");
}

FIXTURE_TEARDOWN(hot_reset_blocked)
{
	pair_close(&self->p);
}

TEST_F(hot_reset_blocked, foreign_driver_blocks)
{
	size_t len = sizeof(struct vfio_pci_hot_reset_info) +
		     4 * sizeof(struct vfio_pci_dependent_device);
	struct vfio_pci_hot_reset_info *info = calloc(1, len);
	int32_t gfd = self->p.dev.group_fd;

	/* It is still listed: it would be reset too. */
	ASSERT_NE(NULL, info);
	info->argsz = len;
	ASSERT_EQ(0, ioctl(self->p.dev.device_fd,
			   VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info));
	EXPECT_EQ(2, info->count);
	free(info);

	ASSERT_EQ(0, testdev_select(self->p.dev.device_fd));
	EXPECT_EQ(-EINVAL, hot_reset(self->p.dev.device_fd, &gfd, 1, 0, 0));
	EXPECT_EQ(1, testdev_selected(self->p.dev.device_fd));
}

/* ---- set_reset: the set is reset when its last user leaves ---- */

FIXTURE(set_reset) {
	struct pair p;
};

FIXTURE_SETUP(set_reset)
{
	ASSERT_EQ(0, pair_open(_metadata, &self->p));
	ASSERT_LE(0, self->p.fd1) TH_LOG("VFIO_SELFTESTS_BDF2 is not set");
}

FIXTURE_TEARDOWN(set_reset)
{
	pair_close(&self->p);
}

TEST_F(set_reset, reset_after_last_close)
{
	struct vfio_reset_hooks hooks0 = {}, hooks1 = {};
	struct pair *p = &self->p;
	int fd0;

	ASSERT_EQ(0, testdev_select(p->dev.device_fd));
	ASSERT_EQ(0, testdev_select(p->fd1));
	hooks_mark(_metadata, p->dev.bdf, &hooks0);
	hooks_mark(_metadata, p->bdf1, &hooks1);

	/* Function 1 is still open: closing function 0 resets nothing. */
	close(p->dev.device_fd);
	p->dev.device_fd = -1;
	hooks_grew(_metadata, p->dev.bdf, &hooks0, 0);
	hooks_grew(_metadata, p->bdf1, &hooks1, 0);
	fd0 = ioctl(p->dev.group_fd, VFIO_GROUP_GET_DEVICE_FD, p->dev.bdf);
	ASSERT_LE(0, fd0);
	EXPECT_EQ(1, testdev_selected(fd0)) TH_LOG("reset while in use");
	EXPECT_EQ(1, testdev_selected(p->fd1));
	/*
	 * The open tried a function reset, which the PCI core may begin
	 * (reset_prepare and reset_done run) before it finds that no method
	 * works for a function that shares its bus.
	 */
	hooks_mark(_metadata, p->dev.bdf, &hooks0);

	/* Both closed: the slot is reset, and the next user sees it. */
	close(fd0);
	close(p->fd1);
	p->fd1 = -1;
	hooks_grew(_metadata, p->dev.bdf, &hooks0, 1);
	hooks_grew(_metadata, p->bdf1, &hooks1, 1);
	fd0 = ioctl(p->dev.group_fd, VFIO_GROUP_GET_DEVICE_FD, p->dev.bdf);
	ASSERT_LE(0, fd0);
	p->fd1 = ioctl(p->dev.group_fd, VFIO_GROUP_GET_DEVICE_FD, p->bdf1);
	ASSERT_LE(0, p->fd1);
	EXPECT_EQ(0, testdev_selected(fd0)) TH_LOG("function 0 not reset");
	EXPECT_EQ(0, testdev_selected(p->fd1)) TH_LOG("function 1 not reset");
	p->dev.device_fd = fd0;
}

/* Function 0 comes and goes; function 1's user keeps its state. */
TEST_F(set_reset, no_reset_while_one_stays_open)
{
	struct pair *p = &self->p;
	int i;

	ASSERT_EQ(0, testdev_select(p->fd1));
	for (i = 0; i < 3; i++) {
		close(p->dev.device_fd);
		p->dev.device_fd = ioctl(p->dev.group_fd,
					 VFIO_GROUP_GET_DEVICE_FD, p->dev.bdf);
		ASSERT_LE(0, p->dev.device_fd);
	}
	EXPECT_EQ(1, testdev_selected(p->fd1));
}

TEST_HARNESS_MAIN
