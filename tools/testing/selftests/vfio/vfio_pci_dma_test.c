// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA through the type1 IOMMU: QEMU's edu device ($VFIO_SELFTESTS_BDF)
 * copies between user memory mapped with VFIO_IOMMU_MAP_DMA and its own
 * 4 KiB buffer, which makes it the smallest real DMA client there is.
 *
 *   round_trip         a page goes from user memory into edu and back to
 *                      another page, byte for byte
 *   no_bus_master      with bus mastering off, edu's transfer to memory
 *                      does not land
 *   unmap_when_quiet   a mapping is removed once the device is done with
 *                      it, and a new mapping works at once
 *
 * edu's DMA registers: source 0x80, destination 0x88, count 0x90, command
 * 0x98 (bit 0 start, bit 1 direction edu-to-memory); its 4 KiB buffer
 * sits at 0x40000 in its own address space, and it addresses 28 bits.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_CNT		0x90
#define EDU_DMA_CMD		0x98
#define EDU_DMA_START		0x1
#define EDU_DMA_TO_RAM		0x2
#define EDU_BUF			0x40000
/*
 * edu's buffer is 4 KiB, but QEMU 7.2's range check is off by one and
 * stops QEMU for a transfer that ends at the buffer's last byte: stay
 * short of it.
 */
#define EDU_BUF_SIZE		4000

/* Below edu's 28-bit DMA mask, away from zero. */
#define IOVA			0x100000ULL

FIXTURE(dma) {
	struct vfio_pci_dev dev;
	uint64_t bar0;
	size_t page;
	uint8_t *mem;		/* two pages: source and destination */
	bool mapped;
};

static int map_dma(FIXTURE_DATA(dma) * self)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)self->mem,
		.iova = IOVA,
		.size = 2 * self->page,
	};

	return ioctl(self->dev.container_fd, VFIO_IOMMU_MAP_DMA, &map) ?
	       -errno : 0;
}

/* Bytes unmapped, or -errno. */
static int64_t unmap_dma(FIXTURE_DATA(dma) * self)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = IOVA,
		.size = 2 * self->page,
	};

	if (ioctl(self->dev.container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	return unmap.size;
}

static int set_master(FIXTURE_DATA(dma) * self, bool on)
{
	uint16_t cmd;

	if (vfio_region_read(&self->dev, VFIO_PCI_CONFIG_REGION_INDEX,
			     PCI_COMMAND, &cmd, 2) != 2)
		return -1;
	cmd |= PCI_COMMAND_MEMORY;
	if (on)
		cmd |= PCI_COMMAND_MASTER;
	else
		cmd &= ~PCI_COMMAND_MASTER;
	return vfio_region_write(&self->dev, VFIO_PCI_CONFIG_REGION_INDEX,
				 PCI_COMMAND, &cmd, 2) == 2 ? 0 : -1;
}

static int reg_wr64(FIXTURE_DATA(dma) * self, uint64_t off, uint64_t val)
{
	return pwrite(self->dev.device_fd, &val, 8, self->bar0 + off) == 8 ?
	       0 : -1;
}

/* Start a transfer and wait for edu to finish it (it runs on a timer). */
static int edu_dma(FIXTURE_DATA(dma) * self, uint64_t src, uint64_t dst,
		   uint64_t cmd)
{
	uint64_t v;
	int i;

	if (reg_wr64(self, EDU_DMA_SRC, src) ||
	    reg_wr64(self, EDU_DMA_DST, dst) ||
	    reg_wr64(self, EDU_DMA_CNT, EDU_BUF_SIZE) ||
	    reg_wr64(self, EDU_DMA_CMD, cmd | EDU_DMA_START))
		return -1;
	for (i = 0; i < 250; i++) {
		if (pread(self->dev.device_fd, &v, 8,
			  self->bar0 + EDU_DMA_CMD) != 8)
			return -1;
		if (!(v & EDU_DMA_START))
			return 0;
		usleep(20000);
	}
	return -1;
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

FIXTURE_SETUP(dma)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	struct vfio_region_info info;
	uint16_t ids[2];

	self->page = getpagesize();
	ASSERT_NE(NULL, vfio_selftests_bdf());
	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, vfio_selftests_bdf(), err,
				       sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(4, vfio_region_read(&self->dev, VFIO_PCI_CONFIG_REGION_INDEX,
				      0, ids, 4));
	ASSERT_EQ(0x1234, ids[0]);
	ASSERT_EQ(0x11e8, ids[1]) TH_LOG("not QEMU's edu");
	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd,
				      VFIO_PCI_BAR0_REGION_INDEX, &info));
	self->bar0 = info.offset;

	self->mem = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	memset(self->mem, 0, 2 * self->page);
	ASSERT_EQ(0, map_dma(self))
		TH_LOG("VFIO_IOMMU_MAP_DMA: %s", strerror(errno));
	self->mapped = true;
	ASSERT_EQ(0, set_master(self, true));
}

FIXTURE_TEARDOWN(dma)
{
	set_master(self, false);
	if (self->mapped)
		unmap_dma(self);
	munmap(self->mem, 2 * self->page);
	vfio_pci_dev_close(&self->dev);
}

TEST_F(dma, round_trip)
{
	uint8_t *src = self->mem, *dst = self->mem + self->page;

	fill(src, EDU_BUF_SIZE, 0x31);
	memset(dst, 0xee, EDU_BUF_SIZE);
	ASSERT_EQ(0, edu_dma(self, IOVA, EDU_BUF, 0));
	ASSERT_EQ(0, edu_dma(self, EDU_BUF, IOVA + self->page,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, memcmp(src, dst, EDU_BUF_SIZE))
		TH_LOG("the page came back different");
}

TEST_F(dma, no_bus_master)
{
	uint8_t *src = self->mem, *dst = self->mem + self->page;
	uint8_t want[EDU_BUF_SIZE];

	fill(src, EDU_BUF_SIZE, 0x77);
	ASSERT_EQ(0, edu_dma(self, IOVA, EDU_BUF, 0));

	memset(dst, 0x5a, EDU_BUF_SIZE);
	memcpy(want, dst, EDU_BUF_SIZE);
	ASSERT_EQ(0, set_master(self, false));
	ASSERT_EQ(0, edu_dma(self, EDU_BUF, IOVA + self->page,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, memcmp(want, dst, EDU_BUF_SIZE))
		TH_LOG("DMA landed with bus mastering off");

	/* On again, the same transfer lands. */
	ASSERT_EQ(0, set_master(self, true));
	ASSERT_EQ(0, edu_dma(self, EDU_BUF, IOVA + self->page,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, memcmp(src, dst, EDU_BUF_SIZE));
}

TEST_F(dma, unmap_when_quiet)
{
	uint8_t *src = self->mem, *dst = self->mem + self->page;

	fill(src, EDU_BUF_SIZE, 0x05);
	ASSERT_EQ(0, edu_dma(self, IOVA, EDU_BUF, 0));
	ASSERT_EQ(0, set_master(self, false));
	EXPECT_EQ((int64_t)(2 * self->page), unmap_dma(self));
	self->mapped = false;
	/* Gone: a second unmap finds nothing. */
	EXPECT_EQ(0, unmap_dma(self));

	ASSERT_EQ(0, map_dma(self));
	self->mapped = true;
	ASSERT_EQ(0, set_master(self, true));
	memset(dst, 0, EDU_BUF_SIZE);
	ASSERT_EQ(0, edu_dma(self, EDU_BUF, IOVA + self->page,
			     EDU_DMA_TO_RAM));
	EXPECT_EQ(0, memcmp(src, dst, EDU_BUF_SIZE));
}

TEST_HARNESS_MAIN
