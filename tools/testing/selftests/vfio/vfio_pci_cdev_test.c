// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci through the device character device and iommufd instead of the
 * group/container pair: open /dev/vfio/devices/vfioN, check that it refuses
 * work before it is bound, VFIO_DEVICE_BIND_IOMMUFD to a fresh iommufd,
 * attach an IOAS, then GET_INFO, region info, config and BAR reads.  On
 * edu, DMA in both directions through an IOVA mapped in that IOAS proves
 * the attach is real.  Hot reset by device ID (zero group fds) is tried
 * when GET_PCI_HOT_RESET_INFO reports device IDs.
 *
 * Skipped when the kernel has no iommufd or no VFIO device cdev (Debian's
 * 6.12 build has neither; harness/debug-kernel.sh's kernel has both).
 * The device is $VFIO_SELFTESTS_BDF, bound to vfio-pci.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

/*
 * The iommufd uAPI (<linux/iommufd.h>) is not among the headers the
 * selftests are built with; these are the three calls needed here, as the
 * 6.12 uAPI defines their ABI.
 */
#define IOMMUFD_IOCTL_TYPE	';'
#define IOMMUFD_DESTROY_NR	0x80
#define IOMMUFD_IOAS_ALLOC_NR	0x81
#define IOMMUFD_IOAS_MAP_NR	0x85
#define IOMMUFD_MAP_FIXED	0x1
#define IOMMUFD_MAP_WRITE	0x2
#define IOMMUFD_MAP_READ	0x4

struct iommufd_ioas_alloc_arg {
	uint32_t size;
	uint32_t flags;
	uint32_t out_ioas_id;
};

struct iommufd_ioas_map_arg {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	uint32_t reserved;
	uint64_t user_va;
	uint64_t length;
	uint64_t iova;
};

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_REG_ID		0x00
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_START		0x1
#define EDU_DMA_TO_RAM		0x2
#define EDU_DMA_BUF		0x40000	/* edu's internal buffer */
#define EDU_IOVA		0x100000	/* below edu's 28-bit DMA mask */
#define DMA_LEN			64

FIXTURE(cdev) {
	int iommufd;
	int fd;
	uint32_t devid;
	uint32_t ioas;
	struct vfio_region_info cfg;
	struct vfio_region_info bar0;
	uint16_t vendor, device;
};

/* /dev/vfio/devices/vfioN of @bdf, from its vfio-dev/ sysfs directory. */
static int cdev_path(const char *bdf, char *path, size_t len)
{
	char dir[256];
	struct dirent *d;
	DIR *dp;
	int ret = -1;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dp = opendir(dir);
	if (!dp)
		return -1;
	while ((d = readdir(dp))) {
		if (!strncmp(d->d_name, "vfio", 4)) {
			snprintf(path, len, "/dev/vfio/devices/%s", d->d_name);
			ret = 0;
			break;
		}
	}
	closedir(dp);
	return ret;
}

static ssize_t region_rw(FIXTURE_DATA(cdev) * self,
			 const struct vfio_region_info *r, uint64_t off,
			 void *buf, size_t len, bool write)
{
	return write ? pwrite(self->fd, buf, len, r->offset + off) :
		       pread(self->fd, buf, len, r->offset + off);
}

FIXTURE_SETUP(cdev)
{
	const char *bdf = vfio_selftests_bdf();
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct iommufd_ioas_alloc_arg alloc = { .size = sizeof(alloc) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char path[300];

	self->iommufd = -1;
	self->fd = -1;
	if (!bdf)
		SKIP(return, "%s is not set", VFIO_SELFTESTS_BDF_ENV);
	if (access("/dev/iommu", R_OK | W_OK))
		SKIP(return, "no /dev/iommu: kernel without IOMMUFD");
	if (cdev_path(bdf, path, sizeof(path)))
		SKIP(return, "%s has no vfio-dev/: kernel without VFIO_DEVICE_CDEV",
		     bdf);
	self->iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_LE(0, self->iommufd);
	self->fd = open(path, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", path, strerror(errno));

	/* Unbound, the device does nothing. */
	EXPECT_EQ(-1, ioctl(self->fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);

	bind.iommufd = self->iommufd;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		TH_LOG("BIND_IOMMUFD: %s", strerror(errno));
	self->devid = bind.out_devid;
	ASSERT_EQ(0, ioctl(self->iommufd,
			   _IO(IOMMUFD_IOCTL_TYPE, IOMMUFD_IOAS_ALLOC_NR),
			   &alloc)) TH_LOG("IOAS_ALLOC: %s", strerror(errno));
	self->ioas = alloc.out_ioas_id;
	attach.pt_id = self->ioas;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		TH_LOG("ATTACH_IOMMUFD_PT: %s", strerror(errno));
	/* Attaching an IOAS hands back the page table made for it. */
	ASSERT_NE(0, attach.pt_id);

	ASSERT_EQ(0, vfio_region_info(self->fd, VFIO_PCI_CONFIG_REGION_INDEX,
				      &self->cfg));
	ASSERT_EQ(2, region_rw(self, &self->cfg, PCI_VENDOR_ID, &self->vendor,
			       2, false));
	ASSERT_EQ(2, region_rw(self, &self->cfg, PCI_DEVICE_ID, &self->device,
			       2, false));
	if (vfio_region_info(self->fd, VFIO_PCI_BAR0_REGION_INDEX, &self->bar0))
		self->bar0.size = 0;
}

FIXTURE_TEARDOWN(cdev)
{
	struct vfio_device_detach_iommufd_pt detach = { .argsz = sizeof(detach) };

	if (self->fd >= 0) {
		ioctl(self->fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach);
		close(self->fd);
	}
	if (self->iommufd >= 0)
		close(self->iommufd);
}

TEST_F(cdev, info_and_config)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint64_t vendor, device;
	uint32_t id;

	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_LE(VFIO_PCI_NUM_REGIONS, info.num_regions);
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);
	ASSERT_EQ(0, sysfs_read_u64(vfio_selftests_bdf(), "vendor", &vendor));
	ASSERT_EQ(0, sysfs_read_u64(vfio_selftests_bdf(), "device", &device));
	EXPECT_EQ(vendor, self->vendor);
	EXPECT_EQ(device, self->device);
	if (self->vendor == EDU_VENDOR && self->device == EDU_DEVICE) {
		ASSERT_EQ(4, region_rw(self, &self->bar0, EDU_REG_ID, &id, 4,
				       false));
		EXPECT_EQ(0xed, id & 0xff);
	}
}

static int edu_dma(FIXTURE_DATA(cdev) * self, uint64_t src, uint64_t dst,
		   uint64_t cmd)
{
	uint64_t cnt = DMA_LEN, v = 0;
	int i;

	if (region_rw(self, &self->bar0, EDU_REG_DMA_SRC, &src, 8, true) != 8 ||
	    region_rw(self, &self->bar0, EDU_REG_DMA_DST, &dst, 8, true) != 8 ||
	    region_rw(self, &self->bar0, EDU_REG_DMA_CNT, &cnt, 8, true) != 8 ||
	    region_rw(self, &self->bar0, EDU_REG_DMA_CMD, &cmd, 8, true) != 8)
		return -1;
	/* edu finishes a transfer on a 100 ms timer. */
	for (i = 0; i < 100; i++) {
		if (region_rw(self, &self->bar0, EDU_REG_DMA_CMD, &v, 8,
			      false) != 8)
			return -1;
		if (!(v & EDU_DMA_START))
			return 0;
		usleep(20000);
	}
	return -1;
}

TEST_F(cdev, edu_dma_through_ioas)
{
	struct iommufd_ioas_map_arg map = { .size = sizeof(map) };
	uint8_t *buf, pattern[DMA_LEN];
	uint16_t cmd;
	int i;

	if (self->vendor != EDU_VENDOR || self->device != EDU_DEVICE)
		SKIP(return, "DMA check needs edu");
	buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	for (i = 0; i < DMA_LEN; i++)
		pattern[i] = (uint8_t)(i * 7 + 1);
	memcpy(buf, pattern, DMA_LEN);

	map.flags = IOMMUFD_MAP_FIXED | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE;
	map.ioas_id = self->ioas;
	map.user_va = (uintptr_t)buf;
	map.length = 4096;
	map.iova = EDU_IOVA;
	ASSERT_EQ(0, ioctl(self->iommufd,
			   _IO(IOMMUFD_IOCTL_TYPE, IOMMUFD_IOAS_MAP_NR), &map))
		TH_LOG("IOAS_MAP: %s", strerror(errno));

	ASSERT_EQ(2, region_rw(self, &self->cfg, PCI_COMMAND, &cmd, 2, false));
	cmd |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
	ASSERT_EQ(2, region_rw(self, &self->cfg, PCI_COMMAND, &cmd, 2, true));

	/* RAM -> edu, clear RAM, edu -> RAM: the pattern must come back. */
	ASSERT_EQ(0, edu_dma(self, EDU_IOVA, EDU_DMA_BUF, EDU_DMA_START));
	memset(buf, 0, DMA_LEN);
	ASSERT_EQ(0, edu_dma(self, EDU_DMA_BUF, EDU_IOVA,
			     EDU_DMA_START | EDU_DMA_TO_RAM));
	EXPECT_EQ(0, memcmp(buf, pattern, DMA_LEN));

	cmd &= ~PCI_COMMAND_MASTER;
	region_rw(self, &self->cfg, PCI_COMMAND, &cmd, 2, true);
	munmap(buf, 4096);
}

TEST_F(cdev, hot_reset_by_devid)
{
	struct {
		struct vfio_pci_hot_reset_info info;
		struct vfio_pci_dependent_device devs[16];
	} hi = { .info.argsz = sizeof(hi) };
	struct vfio_pci_hot_reset hr = { .argsz = sizeof(hr) };
	uint32_t id;

	/* Each test device sits alone behind a root port: a bus reset works. */
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hi))
		TH_LOG("GET_PCI_HOT_RESET_INFO: %s", strerror(errno));
	EXPECT_EQ(1, hi.info.count);
	ASSERT_TRUE(hi.info.flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID)
		TH_LOG("an iommufd-bound device reports device IDs");
	EXPECT_TRUE(hi.info.flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED);
	/* Zero group fds: ownership is proven by the iommufd. */
	ASSERT_EQ(0, ioctl(self->fd, VFIO_DEVICE_PCI_HOT_RESET, &hr))
		TH_LOG("HOT_RESET by devid: %s", strerror(errno));
	if (self->vendor == EDU_VENDOR && self->device == EDU_DEVICE) {
		ASSERT_EQ(4, region_rw(self, &self->bar0, EDU_REG_ID, &id, 4,
				       false));
		EXPECT_EQ(0xed, id & 0xff);
	}
}

TEST_HARNESS_MAIN
