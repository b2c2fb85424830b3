// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO_DEVICE_IOEVENTFD: a signalled eventfd makes the kernel write a fixed
 * value to a BAR.  $VFIO_SELFTESTS_BDF names the device; each fixture
 * wants a particular QEMU device:
 *
 *   ioeventfd  any device (edu here): argument checking, duplicates,
 *              removal, the per-device limit
 *   edu        edu (1234:11e8): writes land in the liveness register
 *              (BAR0 0x04, reads back the inverse of the last write),
 *              stop after removal or close, are dropped while memory
 *              decode is off
 *   ivshmem    ivshmem-plain (1af4:1110): BAR2 is RAM, so writes of each
 *              width can be checked byte by byte
 *   msix       a device with MSI-X (e1000e): its vector table is refused
 *
 * Writes are done by the eventfd's wakeup or by a work item the kernel
 * queues from it, so a landed write is waited for (bounded); a write that
 * must not happen is given time to happen first.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

#define EDU_REG_LIVENESS	0x04
#define IOEVENTFD_MAX		1000	/* per device, as upstream */
#define SETTLE_US		100000	/* time a stray write gets to land */

static int ioeventfd(int device_fd, uint64_t offset, uint32_t flags,
		     uint64_t data, int32_t fd, uint32_t argsz)
{
	struct vfio_device_ioeventfd req = {
		.argsz = argsz ? argsz : sizeof(req),
		.flags = flags,
		.offset = offset,
		.data = data,
		.fd = fd,
	};

	return ioctl(device_fd, VFIO_DEVICE_IOEVENTFD, &req) ? -errno : 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int open_checked(struct __test_metadata *_metadata,
			struct vfio_pci_dev *dev, uint16_t vendor,
			uint16_t device)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	uint16_t ids[2];

	if (vfio_pci_dev_open(dev, vfio_selftests_bdf(), err, sizeof(err))) {
		TH_LOG("%s", err);
		return -1;
	}
	if (vfio_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, 0, ids,
			     sizeof(ids)) != sizeof(ids))
		return -1;
	if (vendor && (ids[0] != vendor || ids[1] != device)) {
		TH_LOG("%s is %04x:%04x, want %04x:%04x", dev->bdf, ids[0],
		       ids[1], vendor, device);
		return -1;
	}
	return 0;
}

static uint64_t region_offset(struct vfio_pci_dev *dev, uint32_t index)
{
	struct vfio_region_info info;

	if (vfio_region_info(dev->device_fd, index, &info))
		return UINT64_MAX;
	return info.offset;
}

/* ---- generic checks ---- */

FIXTURE(ioeventfd) {
	struct vfio_pci_dev dev;
	struct vfio_region_info bar0;
	int efd;
};

FIXTURE_SETUP(ioeventfd)
{
	ASSERT_EQ(0, open_checked(_metadata, &self->dev, 0, 0));
	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd,
				      VFIO_PCI_BAR0_REGION_INDEX, &self->bar0));
	ASSERT_LE(16, self->bar0.size) TH_LOG("BAR0 too small for the test");
	self->efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(ioeventfd)
{
	close(self->efd);
	vfio_pci_dev_close(&self->dev);
}

TEST_F(ioeventfd, bad_arguments)
{
	int fd = self->dev.device_fd, efd = self->efd, pipefd[2];
	uint64_t bar0 = self->bar0.offset, end = bar0 + self->bar0.size;
	uint64_t cfg = region_offset(&self->dev, VFIO_PCI_CONFIG_REGION_INDEX);
	uint64_t rom;
	struct vfio_region_info info;
	uint32_t i;

	/* argsz short of fd; no width, two widths, unknown flag; fd < -1 */
	EXPECT_EQ(-EINVAL, ioeventfd(fd, bar0, 4, 0, efd, 27));
	EXPECT_EQ(-EINVAL, ioeventfd(fd, bar0, 0, 0, efd, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(fd, bar0, 4 | 2, 0, efd, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(fd, bar0, 0x10, 0, efd, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(fd, bar0, 4 | 0x100, 0, efd, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(fd, bar0, 4, 0, -2, 0));

	/* Outside any BAR: config space, ROM, past the end, straddling it */
	EXPECT_EQ(-EINVAL, ioeventfd(fd, cfg, 4, 0, efd, 0));
	rom = region_offset(&self->dev, VFIO_PCI_ROM_REGION_INDEX);
	EXPECT_EQ(-EINVAL, ioeventfd(fd, rom, 4, 0, efd, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(fd, end, 1, 0, efd, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(fd, end - 2, 4, 0, efd, 0));
	/* A BAR the device does not implement */
	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX;
	     i++) {
		ASSERT_EQ(0, vfio_region_info(fd, i, &info));
		if (!info.size) {
			EXPECT_EQ(-EINVAL, ioeventfd(fd, info.offset, 4, 0,
						     efd, 0));
			break;
		}
	}
	EXPECT_GE(VFIO_PCI_BAR5_REGION_INDEX, i) TH_LOG("all BARs in use");

	/* fds that are not eventfds: closed, a pipe */
	EXPECT_EQ(-EBADF, ioeventfd(fd, bar0, 4, 0, 1000, 0));
	ASSERT_EQ(0, pipe(pipefd));
	EXPECT_EQ(-EINVAL, ioeventfd(fd, bar0, 4, 0, pipefd[0], 0));
	close(pipefd[0]);
	close(pipefd[1]);

	/* Nothing was registered by any of that. */
	EXPECT_EQ(-ENODEV, ioeventfd(fd, bar0, 4, 0, -1, 0));
}

/*
 * Region index -1 (the top bits of the offset all set) is no BAR.  Code
 * that takes the index as a signed number passes it as "not above BAR5"
 * and registers a write to whatever lies before the BAR arrays; if that
 * happens, the registration is removed again before anything fires it.
 */
TEST_F(ioeventfd, region_index_minus_one)
{
	int ret = ioeventfd(self->dev.device_fd, UINT64_MAX, 1, 0, self->efd,
			    0);

	if (!ret)
		ioeventfd(self->dev.device_fd, UINT64_MAX, 1, 0, -1, 0);
	EXPECT_EQ(-EINVAL, ret);
}

TEST_F(ioeventfd, duplicate_and_remove)
{
	int fd = self->dev.device_fd, efd = self->efd;
	uint64_t off = self->bar0.offset + 4;

	ASSERT_EQ(0, ioeventfd(fd, off, 4, 0x1234, efd, 0));
	EXPECT_EQ(-EEXIST, ioeventfd(fd, off, 4, 0x1234, efd, 0));
	/* Another fd makes no difference; another value or width does. */
	EXPECT_EQ(-EEXIST, ioeventfd(fd, off, 4, 0x1234, self->dev.group_fd,
				     0));
	EXPECT_EQ(0, ioeventfd(fd, off, 4, 0x4321, efd, 0));
	EXPECT_EQ(0, ioeventfd(fd, off, 2, 0x1234, efd, 0));

	/* Removal matches offset, width and value. */
	EXPECT_EQ(-ENODEV, ioeventfd(fd, off, 4, 0x9999, -1, 0));
	EXPECT_EQ(-ENODEV, ioeventfd(fd, off + 4, 4, 0x1234, -1, 0));
	EXPECT_EQ(0, ioeventfd(fd, off, 4, 0x1234, -1, 0));
	EXPECT_EQ(-ENODEV, ioeventfd(fd, off, 4, 0x1234, -1, 0));
	EXPECT_EQ(0, ioeventfd(fd, off, 4, 0x1234, efd, 0));
	EXPECT_EQ(0, ioeventfd(fd, off, 4, 0x4321, -1, 0));
	EXPECT_EQ(0, ioeventfd(fd, off, 2, 0x1234, -1, 0));
	/* The third is left for close to clean up. */
}

TEST_F(ioeventfd, limit)
{
	int fd = self->dev.device_fd, efd = self->efd;
	uint64_t off = self->bar0.offset + 4;
	uint32_t i;

	for (i = 0; i < IOEVENTFD_MAX; i++)
		ASSERT_EQ(0, ioeventfd(fd, off, 4, i, efd, 0))
			TH_LOG("registration %u", i);
	EXPECT_EQ(-ENOSPC, ioeventfd(fd, off, 4, i, efd, 0));
	/* A duplicate is still a duplicate when full. */
	EXPECT_EQ(-EEXIST, ioeventfd(fd, off, 4, 7, efd, 0));
	ASSERT_EQ(0, ioeventfd(fd, off, 4, 7, -1, 0));
	EXPECT_EQ(0, ioeventfd(fd, off, 4, i, efd, 0));
	EXPECT_EQ(-ENOSPC, ioeventfd(fd, off, 4, i + 1, efd, 0));
	/* All 1000 are torn down at close (teardown) */
}

/* ---- edu: the writes themselves ---- */

FIXTURE(edu) {
	struct vfio_pci_dev dev;
	uint64_t bar0;
	int efd;
};

FIXTURE_SETUP(edu)
{
	ASSERT_EQ(0, open_checked(_metadata, &self->dev, 0x1234, 0x11e8));
	self->bar0 = region_offset(&self->dev, VFIO_PCI_BAR0_REGION_INDEX);
	self->efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(edu)
{
	close(self->efd);
	vfio_pci_dev_close(&self->dev);
}

static int liveness_set(struct vfio_pci_dev *dev, uint32_t val)
{
	return vfio_region_write(dev, VFIO_PCI_BAR0_REGION_INDEX,
				 EDU_REG_LIVENESS, &val, 4) == 4 ? 0 : -1;
}

static uint32_t liveness(struct vfio_pci_dev *dev)
{
	uint32_t val = 0;

	if (vfio_region_read(dev, VFIO_PCI_BAR0_REGION_INDEX,
			     EDU_REG_LIVENESS, &val, 4) != 4)
		return 0xdeadbeef;
	return val;
}

/* Wait up to a second for the register to read @want. */
static bool liveness_becomes(struct vfio_pci_dev *dev, uint32_t want)
{
	uint64_t deadline = now_ms() + 1000;

	do {
		if (liveness(dev) == want)
			return true;
		usleep(1000);
	} while (now_ms() < deadline);
	return false;
}

static int signal_efd(int efd)
{
	return eventfd_write(efd, 1);
}

static int set_memory_decode(struct vfio_pci_dev *dev, bool on)
{
	uint16_t cmd;

	if (vfio_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND,
			     &cmd, 2) != 2)
		return -1;
	cmd = on ? cmd | PCI_COMMAND_MEMORY : cmd & ~PCI_COMMAND_MEMORY;
	return vfio_region_write(dev, VFIO_PCI_CONFIG_REGION_INDEX,
				 PCI_COMMAND, &cmd, 2) == 2 ? 0 : -1;
}

TEST_F(edu, write_lands)
{
	uint64_t off = self->bar0 + EDU_REG_LIVENESS;

	ASSERT_EQ(0, liveness_set(&self->dev, 0));
	ASSERT_EQ(~0u, liveness(&self->dev));
	ASSERT_EQ(0, ioeventfd(self->dev.device_fd, off, 4, 0x12345678,
			       self->efd, 0));
	usleep(SETTLE_US);
	EXPECT_EQ(~0u, liveness(&self->dev)) TH_LOG("wrote unsignalled");

	ASSERT_EQ(0, signal_efd(self->efd));
	EXPECT_TRUE(liveness_becomes(&self->dev, ~0x12345678u));

	/* Again: every signal is a write. */
	ASSERT_EQ(0, liveness_set(&self->dev, 0));
	ASSERT_EQ(0, signal_efd(self->efd));
	EXPECT_TRUE(liveness_becomes(&self->dev, ~0x12345678u));
}

/* A signal that came before the registration is acted upon at once. */
TEST_F(edu, earlier_signal_fires)
{
	ASSERT_EQ(0, liveness_set(&self->dev, 0));
	ASSERT_EQ(0, signal_efd(self->efd));
	ASSERT_EQ(0, ioeventfd(self->dev.device_fd,
			       self->bar0 + EDU_REG_LIVENESS, 4, 0x55, self->efd,
			       0));
	EXPECT_TRUE(liveness_becomes(&self->dev, ~0x55u));
}

TEST_F(edu, removed_stops_writing)
{
	uint64_t off = self->bar0 + EDU_REG_LIVENESS;

	ASSERT_EQ(0, ioeventfd(self->dev.device_fd, off, 4, 0x77, self->efd,
			       0));
	ASSERT_EQ(0, ioeventfd(self->dev.device_fd, off, 4, 0x77, -1, 0));
	ASSERT_EQ(0, liveness_set(&self->dev, 0));
	ASSERT_EQ(0, signal_efd(self->efd));
	usleep(SETTLE_US);
	EXPECT_EQ(~0u, liveness(&self->dev));
}

/* The close of the device removes what it registered. */
TEST_F(edu, close_removes)
{
	char err[VFIO_UTIL_ERRLEN] = "";

	ASSERT_EQ(0, ioeventfd(self->dev.device_fd,
			       self->bar0 + EDU_REG_LIVENESS, 4, 0x66,
			       self->efd, 0));
	vfio_pci_dev_close(&self->dev);
	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, vfio_selftests_bdf(), err,
				       sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(0, liveness_set(&self->dev, 0));
	ASSERT_EQ(0, signal_efd(self->efd));
	usleep(SETTLE_US);
	EXPECT_EQ(~0u, liveness(&self->dev));
	/* And the same registration is new again. */
	EXPECT_EQ(0, ioeventfd(self->dev.device_fd,
			       self->bar0 + EDU_REG_LIVENESS, 4, 0x66,
			       self->efd, 0));
}

/*
 * With memory decode off the write is dropped, not held back until decode
 * comes back on.  QEMU itself ignores writes to a BAR whose decode is off,
 * so this cannot tell whether the kernel or the device dropped it; that
 * the kernel never touches such a BAR is a property for real hardware,
 * where the access may be reported as an error.
 */
TEST_F(edu, dropped_while_decode_off)
{
	ASSERT_EQ(0, ioeventfd(self->dev.device_fd,
			       self->bar0 + EDU_REG_LIVENESS, 4, 0x99,
			       self->efd, 0));
	ASSERT_EQ(0, liveness_set(&self->dev, 0));
	ASSERT_EQ(0, set_memory_decode(&self->dev, false));
	ASSERT_EQ(0, signal_efd(self->efd));
	usleep(SETTLE_US);
	ASSERT_EQ(0, set_memory_decode(&self->dev, true));
	usleep(SETTLE_US);
	EXPECT_EQ(~0u, liveness(&self->dev)) TH_LOG("write went through");

	/* Still registered: decode on, the next signal writes. */
	ASSERT_EQ(0, signal_efd(self->efd));
	EXPECT_TRUE(liveness_becomes(&self->dev, ~0x99u));
}

/* ---- ivshmem: every width, byte-exact ---- */

FIXTURE(ivshmem) {
	struct vfio_pci_dev dev;
	int efd;
};

FIXTURE_SETUP(ivshmem)
{
	ASSERT_EQ(0, open_checked(_metadata, &self->dev, 0x1af4, 0x1110));
	self->efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(ivshmem)
{
	close(self->efd);
	vfio_pci_dev_close(&self->dev);
}

TEST_F(ivshmem, each_width)
{
	const uint64_t data = 0x1122334455667788ull;
	uint64_t bar2 = region_offset(&self->dev, VFIO_PCI_BAR2_REGION_INDEX);
	unsigned int width, i;
	uint8_t buf[24], want[24];
	uint64_t deadline;

	for (width = 1; width <= 8; width <<= 1) {
		/* 8 bytes of 0xaa either side of the target */
		memset(buf, 0xaa, sizeof(buf));
		ASSERT_EQ(sizeof(buf),
			  vfio_region_write(&self->dev,
					    VFIO_PCI_BAR2_REGION_INDEX, 0x100,
					    buf, sizeof(buf)));
		memcpy(want, buf, sizeof(want));
		for (i = 0; i < width; i++)
			want[8 + i] = data >> (8 * i);	/* little-endian */

		ASSERT_EQ(0, ioeventfd(self->dev.device_fd, bar2 + 0x108,
				       width, data, self->efd, 0));
		ASSERT_EQ(0, signal_efd(self->efd));
		deadline = now_ms() + 1000;
		do {
			ASSERT_EQ(sizeof(buf),
				  vfio_region_read(&self->dev,
						   VFIO_PCI_BAR2_REGION_INDEX,
						   0x100, buf, sizeof(buf)));
			if (!memcmp(buf, want, sizeof(buf)))
				break;
			usleep(1000);
		} while (now_ms() < deadline);
		EXPECT_EQ(0, memcmp(buf, want, sizeof(buf)))
			TH_LOG("width %u: wrote the wrong bytes", width);
		ASSERT_EQ(0, ioeventfd(self->dev.device_fd, bar2 + 0x108,
				       width, data, -1, 0));
	}
}

/* ---- msix: the vector table is off limits ---- */

FIXTURE(msix) {
	struct vfio_pci_dev dev;
	int efd;
};

FIXTURE_SETUP(msix)
{
	ASSERT_EQ(0, open_checked(_metadata, &self->dev, 0, 0));
	self->efd = eventfd(0, EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(msix)
{
	close(self->efd);
	vfio_pci_dev_close(&self->dev);
}

TEST_F(msix, table_refused)
{
	int fd = self->dev.device_fd, efd = self->efd;
	uint32_t table, bir, start, size;
	struct vfio_region_info bar;
	uint8_t cfg[256];
	unsigned int cap;
	uint16_t flags;

	ASSERT_EQ(sizeof(cfg), vfio_region_read(&self->dev,
						VFIO_PCI_CONFIG_REGION_INDEX,
						0, cfg, sizeof(cfg)));
	cap = pci_find_cap(cfg, PCI_CAP_ID_MSIX);
	ASSERT_NE(0, cap) TH_LOG("%s has no MSI-X", self->dev.bdf);
	memcpy(&flags, cfg + cap + PCI_MSIX_FLAGS, 2);
	memcpy(&table, cfg + cap + PCI_MSIX_TABLE, 4);
	bir = table & PCI_MSIX_TABLE_BIR;
	start = table & PCI_MSIX_TABLE_OFFSET;
	size = ((flags & PCI_MSIX_FLAGS_QSIZE) + 1) * PCI_MSIX_ENTRY_SIZE;
	ASSERT_EQ(0, vfio_region_info(fd, bir, &bar));
	TH_LOG("table in BAR%u at 0x%x, 0x%x bytes", bir, start, size);

	EXPECT_EQ(-EINVAL, ioeventfd(fd, bar.offset + start, 4, 0, efd, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(fd, bar.offset + start + size - 1, 1, 0,
				     efd, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(fd, bar.offset + start + size - 4, 8, 0,
				     efd, 0));
	if (start >= 4) {
		EXPECT_EQ(-EINVAL, ioeventfd(fd, bar.offset + start - 2, 4, 0,
					     efd, 0));
		EXPECT_EQ(0, ioeventfd(fd, bar.offset + start - 4, 4, 0, efd,
				       0));
	}
	/* Right behind the table is fair game (if the BAR goes on). */
	ASSERT_LT(start + size + 4, bar.size);
	EXPECT_EQ(0, ioeventfd(fd, bar.offset + start + size, 4, 0, efd, 0));
}

TEST_HARNESS_MAIN
