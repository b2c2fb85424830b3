// SPDX-License-Identifier: GPL-2.0-only
/*
 * Generic checks of the vfio-pci device interface that hold for any PCI
 * device: what VFIO_DEVICE_GET_INFO, GET_REGION_INFO and GET_IRQ_INFO
 * report is compared with what the PCI core exports in sysfs, config space
 * is accessed through the config region, and malformed requests must be
 * refused with the documented error codes.
 *
 * The device is named by $VFIO_SELFTESTS_BDF and must already be bound to
 * vfio-pci (together with the rest of its IOMMU group).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

/* IORESOURCE_IO as printed in the flags column of sysfs "resource". */
#define SYSFS_IORESOURCE_IO	0x00000100ULL
#define SYSFS_IORESOURCE_MEM	0x00000200ULL

/* pdev->irq value the PCI core uses for "no INTx routing". */
#define IRQ_NOTCONNECTED_VAL	0x80000000ULL

#define PCI_CLASS_VGA_DISPLAY	0x030000u

static const uint32_t rw_flags = VFIO_REGION_INFO_FLAG_READ |
				 VFIO_REGION_INFO_FLAG_WRITE;

FIXTURE(vfio_pci_device) {
	struct vfio_pci_dev dev;
	struct sysfs_resource res[VFIO_UTIL_NUM_RES];
	uint8_t cfg[PCI_CFG_SPACE_SIZE];	/* real config, from sysfs */
	uint64_t cfg_size;
	uint32_t class_code;
};

FIXTURE_SETUP(vfio_pci_device)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	const char *bdf = vfio_selftests_bdf();
	uint64_t class_code;

	if (!bdf)
		SKIP(return, "%s is not set", VFIO_SELFTESTS_BDF_ENV);

	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, bdf, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(0, sysfs_read_resources(bdf, self->res));
	ASSERT_EQ(0, sysfs_config_size(bdf, &self->cfg_size));
	ASSERT_EQ((ssize_t)sizeof(self->cfg),
		  sysfs_read_config(bdf, 0, self->cfg, sizeof(self->cfg)));
	ASSERT_EQ(0, sysfs_read_u64(bdf, "class", &class_code));
	self->class_code = (uint32_t)class_code;
}

FIXTURE_TEARDOWN(vfio_pci_device)
{
	vfio_pci_dev_close(&self->dev);
}

static int cfg_read(const struct vfio_pci_dev *dev, uint64_t off, void *buf,
		    size_t len)
{
	ssize_t n = vfio_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, off,
				     buf, len);

	return n == (ssize_t)len ? 0 : -1;
}

static uint64_t sysfs_u64(const char *bdf, const char *attr)
{
	uint64_t v = ~0ULL;

	if (sysfs_read_u64(bdf, attr, &v))
		return ~0ULL;
	return v;
}

static bool is_vga(uint32_t class_code)
{
	return (class_code & 0xffff00u) == PCI_CLASS_VGA_DISPLAY;
}

TEST_F(vfio_pci_device, get_info)
{
	struct vfio_device_info *info = &self->dev.info;

	EXPECT_TRUE(info->flags & VFIO_DEVICE_FLAGS_PCI);
	/* Only one bus type may be claimed. */
	EXPECT_FALSE(info->flags & (VFIO_DEVICE_FLAGS_PLATFORM |
				    VFIO_DEVICE_FLAGS_AMBA |
				    VFIO_DEVICE_FLAGS_CCW |
				    VFIO_DEVICE_FLAGS_AP |
				    VFIO_DEVICE_FLAGS_FSL_MC));
	EXPECT_GE(info->num_regions, (uint32_t)VFIO_PCI_NUM_REGIONS);
	EXPECT_GE(info->num_irqs, (uint32_t)VFIO_PCI_NUM_IRQS);
	EXPECT_GE(info->argsz, (uint32_t)offsetof(struct vfio_device_info,
						  num_irqs) + 4);
}

TEST_F(vfio_pci_device, get_info_minimal_argsz)
{
	struct vfio_device_info info;
	const uint32_t minsz = offsetof(struct vfio_device_info, num_irqs) +
			       sizeof(info.num_irqs);

	/* Exactly the v1 structure size must be accepted. */
	memset(&info, 0, sizeof(info));
	info.argsz = minsz;
	ASSERT_EQ(0, ioctl(self->dev.device_fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(self->dev.info.num_regions, info.num_regions);
	EXPECT_EQ(self->dev.info.num_irqs, info.num_irqs);
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
}

TEST_F(vfio_pci_device, get_info_argsz_too_small)
{
	struct vfio_device_info info;
	const uint32_t minsz = offsetof(struct vfio_device_info, num_irqs) +
			       sizeof(info.num_irqs);
	const uint32_t bad[] = { 0, 4, minsz - 1 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&info, 0, sizeof(info));
		info.argsz = bad[i];
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->dev.device_fd, VFIO_DEVICE_GET_INFO,
				    &info)) TH_LOG("argsz %u", bad[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("argsz %u", bad[i]);
	}
}

TEST_F(vfio_pci_device, unknown_ioctl)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	/* A command number VFIO does not define. */
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->dev.device_fd, _IO(VFIO_TYPE, VFIO_BASE + 99),
			    &info));
	EXPECT_EQ(ENOTTY, errno);

	/* A different ioctl type altogether. */
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->dev.device_fd, _IO('Z', 0x42), &info));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(vfio_pci_device, region_info_every_index)
{
	struct vfio_region_info info;
	uint32_t i;
	int ret;

	for (i = 0; i < self->dev.info.num_regions; i++) {
		ret = vfio_region_info(self->dev.device_fd, i, &info);
		if (i == VFIO_PCI_VGA_REGION_INDEX && !is_vga(self->class_code)) {
			/* No legacy VGA range behind a non-VGA function. */
			EXPECT_EQ(-EINVAL, ret);
			continue;
		}
		if (i == VFIO_PCI_VGA_REGION_INDEX && ret == -EINVAL)
			continue;	/* VGA support may be configured out */
		ASSERT_EQ(0, ret) TH_LOG("region %u: %s", i, strerror(-ret));
		EXPECT_EQ(i, info.index);
		EXPECT_GE(info.argsz, (uint32_t)sizeof(info));
		if (i == VFIO_PCI_VGA_REGION_INDEX) {
			EXPECT_EQ(0xc0000ULL, info.size);
			EXPECT_EQ(rw_flags, info.flags);
		}
		/* Device specific regions describe themselves. */
		EXPECT_FALSE(i >= VFIO_PCI_NUM_REGIONS &&
			     !(info.flags & VFIO_REGION_INFO_FLAG_CAPS));
	}
}

/*
 * Every region lives at its own, non-overlapping file offset.  The stride
 * is derived from two regions that always exist so that the test does not
 * depend on a particular constant; all regions must follow it.
 */
TEST_F(vfio_pci_device, region_offsets)
{
	struct vfio_region_info r0, r1, info;
	uint64_t stride;
	uint32_t i;

	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd,
				      VFIO_PCI_BAR0_REGION_INDEX, &r0));
	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd,
				      VFIO_PCI_BAR1_REGION_INDEX, &r1));
	ASSERT_GT(r1.offset, r0.offset);
	stride = r1.offset - r0.offset;
	EXPECT_EQ(0ULL, r0.offset);

	for (i = 0; i < self->dev.info.num_regions; i++) {
		if (vfio_region_info(self->dev.device_fd, i, &info))
			continue;	/* absent VGA, checked elsewhere */
		EXPECT_EQ((uint64_t)i * stride, info.offset)
			TH_LOG("region %u", i);
		EXPECT_LE(info.size, stride) TH_LOG("region %u", i);
	}
}

TEST_F(vfio_pci_device, region_info_bad_index)
{
	const uint32_t n = self->dev.info.num_regions;
	const uint32_t bad[] = { n, n + 1, n + 100, 0x7fffffff, 0xffffffff };
	struct vfio_region_info info;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, vfio_region_info(self->dev.device_fd,
						    bad[i], &info))
			TH_LOG("index %u", bad[i]);
	}
}

TEST_F(vfio_pci_device, region_info_argsz_too_small)
{
	struct vfio_region_info info;

	memset(&info, 0, sizeof(info));
	info.argsz = offsetof(struct vfio_region_info, offset) +
		     sizeof(info.offset) - 1;
	info.index = VFIO_PCI_CONFIG_REGION_INDEX;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->dev.device_fd, VFIO_DEVICE_GET_REGION_INFO,
			    &info));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0ULL, info.size);	/* nothing was written back */
}

TEST_F(vfio_pci_device, config_region_info)
{
	struct vfio_region_info info;

	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd,
				      VFIO_PCI_CONFIG_REGION_INDEX, &info));
	EXPECT_EQ(rw_flags, info.flags & (rw_flags |
					  VFIO_REGION_INFO_FLAG_MMAP));
	ASSERT_TRUE(self->cfg_size == PCI_CFG_SPACE_SIZE ||
		    self->cfg_size == PCI_CFG_SPACE_EXP_SIZE)
		TH_LOG("sysfs config size %llu",
		       (unsigned long long)self->cfg_size);
	EXPECT_EQ(self->cfg_size, info.size);
	/* Extended config space only exists on PCI Express functions. */
	EXPECT_FALSE(info.size == PCI_CFG_SPACE_EXP_SIZE &&
		     !pci_find_cap(self->cfg, PCI_CAP_ID_EXP));
}

TEST_F(vfio_pci_device, config_ids_match_sysfs)
{
	const char *bdf = self->dev.bdf;
	uint16_t vendor, device, svendor, sdevice;
	uint32_t dword;

	ASSERT_EQ(0, cfg_read(&self->dev, PCI_VENDOR_ID, &vendor, 2));
	ASSERT_EQ(0, cfg_read(&self->dev, PCI_DEVICE_ID, &device, 2));
	EXPECT_EQ(sysfs_u64(bdf, "vendor"), vendor);
	EXPECT_EQ(sysfs_u64(bdf, "device"), device);

	ASSERT_EQ(0, cfg_read(&self->dev, PCI_VENDOR_ID, &dword, 4));
	EXPECT_EQ(((uint32_t)device << 16) | vendor, dword);

	/* Revision and class share a dword. */
	ASSERT_EQ(0, cfg_read(&self->dev, PCI_CLASS_REVISION, &dword, 4));
	EXPECT_EQ(sysfs_u64(bdf, "revision"), dword & 0xff);
	EXPECT_EQ(self->class_code, dword >> 8);

	if ((self->cfg[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_NORMAL) {
		ASSERT_EQ(0, cfg_read(&self->dev, PCI_SUBSYSTEM_VENDOR_ID,
				      &svendor, 2));
		ASSERT_EQ(0, cfg_read(&self->dev, PCI_SUBSYSTEM_ID,
				      &sdevice, 2));
		EXPECT_EQ(sysfs_u64(bdf, "subsystem_vendor"), svendor);
		EXPECT_EQ(sysfs_u64(bdf, "subsystem_device"), sdevice);
	}
}

/* One large read must return the same bytes as many small ones. */
TEST_F(vfio_pci_device, config_read_widths_agree)
{
	uint8_t bulk[PCI_STD_HEADER_SIZEOF], b;
	uint16_t w;
	uint32_t d;
	unsigned int off;

	ASSERT_EQ(0, cfg_read(&self->dev, 0, bulk, sizeof(bulk)));
	for (off = 0; off < sizeof(bulk); off++) {
		ASSERT_EQ(0, cfg_read(&self->dev, off, &b, 1));
		EXPECT_EQ(bulk[off], b) TH_LOG("byte at %#x", off);
	}
	for (off = 0; off < sizeof(bulk); off += 2) {
		ASSERT_EQ(0, cfg_read(&self->dev, off, &w, 2));
		EXPECT_EQ(bulk[off] | (bulk[off + 1] << 8), w)
			TH_LOG("word at %#x", off);
	}
	for (off = 0; off < sizeof(bulk); off += 4) {
		ASSERT_EQ(0, cfg_read(&self->dev, off, &d, 4));
		EXPECT_EQ((uint32_t)bulk[off] | (uint32_t)bulk[off + 1] << 8 |
			  (uint32_t)bulk[off + 2] << 16 |
			  (uint32_t)bulk[off + 3] << 24, d)
			TH_LOG("dword at %#x", off);
	}
	/* An unaligned read straddling dwords. */
	ASSERT_EQ(0, cfg_read(&self->dev, 1, &d, 4));
	EXPECT_EQ(0, memcmp(&d, &bulk[1], 4));
}

/* The capability chain seen through VFIO ends and stays in bounds. */
TEST_F(vfio_pci_device, config_capability_chain)
{
	const unsigned int known[] = { PCI_CAP_ID_EXP, PCI_CAP_ID_MSI,
				       PCI_CAP_ID_MSIX, PCI_CAP_ID_PM };
	uint8_t cfg[PCI_CFG_SPACE_SIZE];
	unsigned int pos, i, steps = 0;

	ASSERT_EQ(0, cfg_read(&self->dev, 0, cfg, sizeof(cfg)));
	EXPECT_EQ(self->cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST,
		  cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST);
	if (!(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return;
	pos = cfg[PCI_CAPABILITY_LIST];
	while (pos) {
		ASSERT_GE(pos, (unsigned int)PCI_STD_HEADER_SIZEOF);
		ASSERT_LE(pos, (unsigned int)PCI_CFG_SPACE_SIZE - 2);
		ASSERT_LT(steps++, 48u) TH_LOG("capability loop");
		pos = cfg[pos + PCI_CAP_LIST_NEXT];
	}
	/* Capabilities VFIO understands must be visible. */
	for (i = 0; i < ARRAY_SIZE(known); i++) {
		if (!pci_find_cap(self->cfg, known[i]))
			continue;
		EXPECT_NE(0u, pci_find_cap(cfg, known[i]))
			TH_LOG("capability %#x is hidden", known[i]);
	}
}

TEST_F(vfio_pci_device, config_write)
{
	uint8_t line, val, saved;
	uint16_t vendor, junk = 0xffff, now;

	/* Interrupt line is a scratch register for the user. */
	ASSERT_EQ(0, cfg_read(&self->dev, PCI_INTERRUPT_LINE, &saved, 1));
	line = saved ^ 0x5a;
	ASSERT_EQ(1, vfio_region_write(&self->dev,
				       VFIO_PCI_CONFIG_REGION_INDEX,
				       PCI_INTERRUPT_LINE, &line, 1));
	ASSERT_EQ(0, cfg_read(&self->dev, PCI_INTERRUPT_LINE, &val, 1));
	EXPECT_EQ(line, val);
	EXPECT_EQ(1, vfio_region_write(&self->dev,
				       VFIO_PCI_CONFIG_REGION_INDEX,
				       PCI_INTERRUPT_LINE, &saved, 1));

	/* Read-only fields silently keep their value. */
	ASSERT_EQ(0, cfg_read(&self->dev, PCI_VENDOR_ID, &vendor, 2));
	EXPECT_EQ(2, vfio_region_write(&self->dev,
				       VFIO_PCI_CONFIG_REGION_INDEX,
				       PCI_VENDOR_ID, &junk, 2));
	ASSERT_EQ(0, cfg_read(&self->dev, PCI_VENDOR_ID, &now, 2));
	EXPECT_EQ(vendor, now);
}

TEST_F(vfio_pci_device, config_read_past_end)
{
	uint32_t d = 0;
	uint8_t buf[8];
	uint64_t size = self->cfg_size;

	errno = 0;
	EXPECT_EQ(-1, vfio_region_read(&self->dev,
				       VFIO_PCI_CONFIG_REGION_INDEX, size,
				       &d, 4));
	EXPECT_EQ(EFAULT, errno);

	errno = 0;
	EXPECT_EQ(-1, vfio_region_read(&self->dev,
				       VFIO_PCI_CONFIG_REGION_INDEX,
				       size + 0x100, &d, 1));
	EXPECT_EQ(EFAULT, errno);

	/* Straddling the end: nothing beyond the config space is returned. */
	errno = 0;
	EXPECT_EQ(-1, vfio_region_read(&self->dev,
				       VFIO_PCI_CONFIG_REGION_INDEX, size - 4,
				       buf, sizeof(buf)));
	EXPECT_EQ(EFAULT, errno);

	/* The last dword itself is fine. */
	EXPECT_EQ(4, vfio_region_read(&self->dev,
				      VFIO_PCI_CONFIG_REGION_INDEX, size - 4,
				      &d, 4));
}

TEST_F(vfio_pci_device, read_past_last_region)
{
	struct vfio_region_info r0, r1;
	uint64_t stride;
	uint32_t d;
	ssize_t n;

	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd,
				      VFIO_PCI_BAR0_REGION_INDEX, &r0));
	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd,
				      VFIO_PCI_BAR1_REGION_INDEX, &r1));
	stride = r1.offset - r0.offset;

	errno = 0;
	n = pread(self->dev.device_fd, &d, sizeof(d),
		  (off_t)(stride * self->dev.info.num_regions));
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EINVAL, errno);

	errno = 0;
	n = pwrite(self->dev.device_fd, &d, sizeof(d),
		   (off_t)(stride * (self->dev.info.num_regions + 3)));
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(vfio_pci_device, bar_regions_match_sysfs)
{
	struct vfio_region_info info;
	long page = sysconf(_SC_PAGESIZE);
	bool mmap_ok, big_mmio;
	uint32_t bar;

	for (bar = VFIO_PCI_BAR0_REGION_INDEX;
	     bar <= VFIO_PCI_BAR5_REGION_INDEX; bar++) {
		const struct sysfs_resource *r = &self->res[bar];

		ASSERT_EQ(0, vfio_region_info(self->dev.device_fd, bar, &info));
		EXPECT_EQ(r->size, info.size) TH_LOG("BAR%u", bar);
		if (!r->size) {
			EXPECT_EQ(0u, info.flags) TH_LOG("BAR%u", bar);
			continue;
		}
		EXPECT_EQ(rw_flags, info.flags & rw_flags) TH_LOG("BAR%u", bar);
		mmap_ok = !!(info.flags & VFIO_REGION_INFO_FLAG_MMAP);
		EXPECT_FALSE((r->flags & SYSFS_IORESOURCE_IO) && mmap_ok)
			TH_LOG("I/O port BAR%u cannot be mmapped", bar);
		big_mmio = (r->flags & SYSFS_IORESOURCE_MEM) &&
			   r->size >= (uint64_t)page;
		EXPECT_FALSE(big_mmio && !mmap_ok)
			TH_LOG("MMIO BAR%u should be mmappable", bar);
	}
}

/*
 * The host's view of the ROM image, through the sysfs "rom" attribute
 * (reads are enabled by writing 1 to it).  Returns the image size read, or
 * -1.
 */
static ssize_t sysfs_read_rom(const char *bdf, uint8_t *buf, size_t len)
{
	char path[256];
	ssize_t n, total = 0;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/rom", bdf);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -1;
	if (pwrite(fd, "1", 1, 0) != 1) {
		close(fd);
		return -1;
	}
	while ((size_t)total < len) {
		n = pread(fd, buf + total, len - total, total);
		if (n <= 0)
			break;
		total += n;
	}
	if (pwrite(fd, "0", 1, 0) != 1)
		total = -1;
	close(fd);
	return total;
}

/* Turn memory decode on: like any memory BAR, the ROM answers only then. */
static int decode_on(const struct vfio_pci_dev *dev)
{
	uint16_t cmd;

	if (vfio_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND,
			     &cmd, 2) != 2)
		return -1;
	cmd |= PCI_COMMAND_MEMORY;
	if (vfio_region_write(dev, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND,
			      &cmd, 2) != 2)
		return -1;
	return 0;
}

/*
 * What the ROM region must read: the image the host reads through sysfs,
 * then all ones to the end of the BAR.  Returns the image size, or 0 when
 * the host finds no valid image (no 0x55 0xAA header) in the ROM BAR.
 */
static ssize_t rom_expected(const struct vfio_pci_dev *dev, uint8_t *buf,
			    uint64_t bar_size)
{
	ssize_t image = sysfs_read_rom(dev->bdf, buf, bar_size);

	if (image < 2 || buf[0] != 0x55 || buf[1] != 0xaa)
		return 0;
	memset(buf + image, 0xff, bar_size - image);
	return image;
}

/*
 * Read the whole ROM region in pieces that straddle page boundaries and
 * compare it with @expect.
 */
static void check_rom_contents(struct __test_metadata *_metadata,
			       struct vfio_pci_dev *dev, const uint8_t *expect,
			       uint64_t size)
{
	uint8_t *user = calloc(1, size), b;
	uint64_t off, n;

	ASSERT_NE(NULL, user);
	for (off = 0; off < size; off += n) {
		n = size - off < 3000 ? size - off : 3000;
		ASSERT_EQ((ssize_t)n, vfio_region_read(dev,
						       VFIO_PCI_ROM_REGION_INDEX,
						       off, user + off, n))
			TH_LOG("ROM read of %llu bytes at %#llx",
			       (unsigned long long)n, (unsigned long long)off);
	}
	EXPECT_EQ(0, memcmp(expect, user, size));

	errno = 0;
	EXPECT_EQ(-1, vfio_region_read(dev, VFIO_PCI_ROM_REGION_INDEX, size,
				       &b, 1));
	EXPECT_EQ(EINVAL, errno);
	free(user);
}

/*
 * The ROM region is the ROM BAR when the host finds an image in it, and
 * empty otherwise: without a ROM BAR, and with one that holds no valid
 * image (blank flash), since every read of such a region would fail.
 */
TEST_F(vfio_pci_device, rom_region)
{
	const struct sysfs_resource *r = &self->res[VFIO_PCI_ROM_REGION_INDEX];
	struct vfio_region_info info;
	uint8_t *expect, b = 0;
	ssize_t image = 0;

	expect = calloc(1, r->size ? r->size : 1);
	ASSERT_NE(NULL, expect);
	ASSERT_EQ(0, decode_on(&self->dev));
	if (r->size)
		image = rom_expected(&self->dev, expect, r->size);
	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd,
				      VFIO_PCI_ROM_REGION_INDEX, &info));
	if (!image) {
		printf("# ROM: %s: region must be empty\n",
		       r->size ? "ROM BAR without an image" : "no ROM BAR");
		EXPECT_EQ(0ULL, info.size);
		EXPECT_EQ(0u, info.flags);
	} else {
		EXPECT_EQ(r->size, info.size);
		EXPECT_EQ((uint32_t)VFIO_REGION_INFO_FLAG_READ, info.flags);
		if (info.size == r->size)
			check_rom_contents(_metadata, &self->dev, expect,
					   info.size);
		printf("# ROM: %zd byte image in a %llu byte BAR read back\n",
		       image, (unsigned long long)r->size);
	}

	/* The ROM is never writable. */
	errno = 0;
	EXPECT_EQ(-1, vfio_region_write(&self->dev, VFIO_PCI_ROM_REGION_INDEX,
					0, &b, 1));
	EXPECT_EQ(EINVAL, errno);
	free(expect);
}

struct rom_reader {
	const struct vfio_pci_dev *dev;
	const uint8_t *expect;
	uint64_t size;
	unsigned int seed;
	unsigned int reads;
	unsigned int bad;
	char first_bad[128];
};

/* Reads of random ranges of the ROM for about two seconds. */
static void *rom_reader_loop(void *arg)
{
	struct rom_reader *rd = arg;
	uint8_t buf[8192];
	time_t end = time(NULL) + 2;
	uint64_t off;
	size_t len;
	ssize_t n;

	while (time(NULL) <= end) {
		off = (uint64_t)rand_r(&rd->seed) % rd->size;
		len = 1 + (size_t)rand_r(&rd->seed) % sizeof(buf);
		if (len > rd->size - off)
			len = rd->size - off;
		n = vfio_region_read(rd->dev, VFIO_PCI_ROM_REGION_INDEX, off,
				     buf, len);
		rd->reads++;
		if (n == (ssize_t)len && !memcmp(buf, rd->expect + off, len))
			continue;
		if (!rd->bad++)
			snprintf(rd->first_bad, sizeof(rd->first_bad),
				 "%zu bytes at %#llx: read returned %zd (%s)",
				 len, (unsigned long long)off, n,
				 n < 0 ? strerror(errno) : "data differs");
	}
	return NULL;
}

/*
 * Two threads read the ROM at once.  Each read maps the ROM and unmaps it
 * again, which turns the ROM BAR's decode off: one reader's unmap must not
 * pull the ROM from under the other.
 */
TEST_F(vfio_pci_device, rom_concurrent_reads)
{
	const struct sysfs_resource *r = &self->res[VFIO_PCI_ROM_REGION_INDEX];
	struct rom_reader rd[2];
	pthread_t tid[2];
	uint8_t *expect;
	int i;

	if (!r->size) {
		printf("# no ROM BAR: nothing to race\n");
		return;
	}
	expect = calloc(1, r->size);
	ASSERT_NE(NULL, expect);
	ASSERT_EQ(0, decode_on(&self->dev));
	if (!rom_expected(&self->dev, expect, r->size)) {
		printf("# no ROM image: nothing to race\n");
		free(expect);
		return;
	}
	for (i = 0; i < 2; i++) {
		rd[i] = (struct rom_reader) {
			.dev = &self->dev, .expect = expect, .size = r->size,
			.seed = 1234u + i,
		};
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, rom_reader_loop,
					    &rd[i]));
	}
	for (i = 0; i < 2; i++) {
		pthread_join(tid[i], NULL);
		printf("# reader %d: %u reads, %u wrong\n", i, rd[i].reads,
		       rd[i].bad);
		EXPECT_EQ(0u, rd[i].bad) TH_LOG("first: %s", rd[i].first_bad);
	}
	free(expect);
}

TEST_F(vfio_pci_device, config_region_not_mmappable)
{
	struct vfio_region_info info;
	void *p;

	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd,
				      VFIO_PCI_CONFIG_REGION_INDEX, &info));
	p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ, MAP_SHARED,
		 self->dev.device_fd, (off_t)info.offset);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, (size_t)sysconf(_SC_PAGESIZE));
	else
		EXPECT_EQ(EINVAL, errno);
}

/*
 * The BAR holding the MSI-X table announces that it may be mapped whole
 * (VFIO_REGION_INFO_CAP_MSIX_MAPPABLE); other BARs, and every BAR of a
 * device without MSI-X, do not.
 */
TEST_F(vfio_pci_device, msix_bar_mappable_cap)
{
	unsigned int pos = pci_find_cap(self->cfg, PCI_CAP_ID_MSIX);
	struct vfio_info_cap_header *hdr;
	unsigned int bir, bar, next;
	struct vfio_region_info *info;
	uint32_t table;
	bool found;

	bir = ~0u;
	if (pos) {
		memcpy(&table, self->cfg + pos + PCI_MSIX_TABLE, sizeof(table));
		bir = table & PCI_MSIX_TABLE_BIR;
	}

	info = calloc(1, 4096);
	ASSERT_NE(NULL, info);
	for (bar = 0; bar <= VFIO_PCI_BAR5_REGION_INDEX; bar++) {
		memset(info, 0, 4096);
		info->argsz = 4096;
		info->index = bar;
		ASSERT_EQ(0, ioctl(self->dev.device_fd,
				   VFIO_DEVICE_GET_REGION_INFO, info));
		found = false;
		next = (info->flags & VFIO_REGION_INFO_FLAG_CAPS) ?
		       info->cap_offset : 0;
		while (next && next + sizeof(*hdr) <= 4096) {
			hdr = (void *)((char *)info + next);
			found |= hdr->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE;
			next = hdr->next;
		}
		EXPECT_EQ(bar == bir, found) TH_LOG("BAR %u (table in %u)",
						    bar, bir);
	}
	free(info);
}

TEST_F(vfio_pci_device, irq_info_every_index)
{
	struct vfio_irq_info info;
	uint32_t i;
	int ret;

	for (i = 0; i < self->dev.info.num_irqs; i++) {
		ret = vfio_irq_info(self->dev.device_fd, i, &info);
		if (i == VFIO_PCI_ERR_IRQ_INDEX &&
		    !pci_find_cap(self->cfg, PCI_CAP_ID_EXP)) {
			/* AER reporting only exists for PCI Express. */
			EXPECT_EQ(-EINVAL, ret);
			continue;
		}
		ASSERT_EQ(0, ret) TH_LOG("irq index %u: %s", i, strerror(-ret));
		EXPECT_EQ(i, info.index);
		EXPECT_FALSE(info.count && !(info.flags & VFIO_IRQ_INFO_EVENTFD))
			TH_LOG("irq index %u", i);
	}
}

TEST_F(vfio_pci_device, irq_counts)
{
	struct vfio_irq_info info;
	unsigned int pos;
	uint64_t irq = 0;
	uint32_t expect;
	uint16_t ctl;
	uint8_t vpin;

	/* INTx: present when the function has a pin routed to an IRQ. */
	ASSERT_EQ(0, sysfs_read_u64(self->dev.bdf, "irq", &irq));
	expect = (self->cfg[PCI_INTERRUPT_PIN] && irq != IRQ_NOTCONNECTED_VAL);
	ASSERT_EQ(0, vfio_irq_info(self->dev.device_fd,
				   VFIO_PCI_INTX_IRQ_INDEX, &info));
	EXPECT_EQ(expect, info.count)
		TH_LOG("pin %u irq %llu", self->cfg[PCI_INTERRUPT_PIN],
		       (unsigned long long)irq);
	if (info.count) {
		EXPECT_TRUE(info.flags & VFIO_IRQ_INFO_MASKABLE);
		EXPECT_TRUE(info.flags & VFIO_IRQ_INFO_AUTOMASKED);
		EXPECT_FALSE(info.flags & VFIO_IRQ_INFO_NORESIZE);
	}
	/* The pin the user sees agrees with the INTx count. */
	ASSERT_EQ(0, cfg_read(&self->dev, PCI_INTERRUPT_PIN, &vpin, 1));
	EXPECT_EQ(!!info.count, !!vpin);

	/* MSI: Multiple Message Capable from the real capability. */
	pos = pci_find_cap(self->cfg, PCI_CAP_ID_MSI);
	expect = 0;
	if (pos) {
		memcpy(&ctl, &self->cfg[pos + PCI_MSI_FLAGS], 2);
		expect = 1u << ((ctl & PCI_MSI_FLAGS_QMASK) >> 1);
	}
	ASSERT_EQ(0, vfio_irq_info(self->dev.device_fd,
				   VFIO_PCI_MSI_IRQ_INDEX, &info));
	EXPECT_EQ(expect, info.count);
	EXPECT_FALSE(info.count && !(info.flags & VFIO_IRQ_INFO_NORESIZE));

	/* MSI-X: table size from the real capability. */
	pos = pci_find_cap(self->cfg, PCI_CAP_ID_MSIX);
	expect = 0;
	if (pos) {
		memcpy(&ctl, &self->cfg[pos + PCI_MSIX_FLAGS], 2);
		expect = (ctl & PCI_MSIX_FLAGS_QSIZE) + 1;
	}
	ASSERT_EQ(0, vfio_irq_info(self->dev.device_fd,
				   VFIO_PCI_MSIX_IRQ_INDEX, &info));
	EXPECT_EQ(expect, info.count);

	/*
	 * Error reporting exists for PCI Express functions only; for the
	 * others the index is not valid at all.
	 */
	if (pci_find_cap(self->cfg, PCI_CAP_ID_EXP)) {
		ASSERT_EQ(0, vfio_irq_info(self->dev.device_fd,
					   VFIO_PCI_ERR_IRQ_INDEX, &info));
		EXPECT_EQ(1u, info.count);
	} else {
		EXPECT_EQ(-EINVAL, vfio_irq_info(self->dev.device_fd,
						 VFIO_PCI_ERR_IRQ_INDEX,
						 &info));
	}

	/* Every device can be asked to let go. */
	ASSERT_EQ(0, vfio_irq_info(self->dev.device_fd,
				   VFIO_PCI_REQ_IRQ_INDEX, &info));
	EXPECT_EQ(1u, info.count);
}

TEST_F(vfio_pci_device, irq_info_bad_input)
{
	const uint32_t n = self->dev.info.num_irqs;
	const uint32_t bad[] = { n, n + 1, 0x7fffffff, 0xffffffff };
	struct vfio_irq_info info;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, vfio_irq_info(self->dev.device_fd, bad[i],
						 &info))
			TH_LOG("index %u", bad[i]);
	}

	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info) - 1;
	info.index = VFIO_PCI_REQ_IRQ_INDEX;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->dev.device_fd, VFIO_DEVICE_GET_IRQ_INFO,
			    &info));
	EXPECT_EQ(EINVAL, errno);
}

TEST_HARNESS_MAIN
