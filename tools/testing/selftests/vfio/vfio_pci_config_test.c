// SPDX-License-Identifier: GPL-2.0-only
/*
 * The config space a vfio-pci user sees, and what writes to it do.
 *
 * Besides asserting properties that hold for any vfio-pci driver, the
 * "view" test records what it saw in the file named by $VFIO_CONFIG_DUMP
 * (if set): the initial view, an all-ones write to every dword with what
 * reads back, the view after everything was written back, and targeted
 * writes to COMMAND, PMCSR and the MSI capability.  Run against the
 * distro's vfio-pci and against ours, the two dumps must be identical but
 * for the differences harness/tests/40-config-diff.sh explains.
 *
 * Bits whose write starts a reset or a power state change (PMCSR power
 * state, PCIe and AF Initiate FLR, the VPD flag) are left out of the
 * all-ones writes; the power state is exercised on its own.
 *
 * The device is named by $VFIO_SELFTESTS_BDF and must already be bound to
 * vfio-pci.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

#define CFG_MAX		4096
#define CFG_IDX		VFIO_PCI_CONFIG_REGION_INDEX

static int cfg_rd(struct vfio_pci_dev *dev, unsigned int off, void *buf,
		  size_t len)
{
	return vfio_region_read(dev, CFG_IDX, off, buf, len) == (ssize_t)len ?
	       0 : -errno;
}

static int cfg_wr(struct vfio_pci_dev *dev, unsigned int off,
		  const void *buf, size_t len)
{
	return vfio_region_write(dev, CFG_IDX, off, buf, len) == (ssize_t)len ?
	       0 : -errno;
}

static uint32_t cfg_rd32(struct vfio_pci_dev *dev, unsigned int off)
{
	uint32_t v = 0xdeadbeef;

	cfg_rd(dev, off, &v, 4);
	return v;
}

static uint16_t cfg_rd16(struct vfio_pci_dev *dev, unsigned int off)
{
	uint16_t v = 0xdead;

	cfg_rd(dev, off, &v, 2);
	return v;
}

static void cfg_wr32(struct vfio_pci_dev *dev, unsigned int off, uint32_t v)
{
	cfg_wr(dev, off, &v, 4);
}

static void cfg_wr16(struct vfio_pci_dev *dev, unsigned int off, uint16_t v)
{
	cfg_wr(dev, off, &v, 2);
}

/*
 * First memory BAR (region index) of at least 4 bytes that does not hold
 * the MSI-X table (whose accesses never reach the device), or -1.
 */
static int first_mem_bar(struct vfio_pci_dev *dev)
{
	struct vfio_region_info info;
	uint8_t cfg[256];
	int i, msix_bar = -1;
	unsigned int msix;
	uint32_t bar;

	if (!cfg_rd(dev, 0, cfg, sizeof(cfg))) {
		msix = pci_find_cap(cfg, PCI_CAP_ID_MSIX);
		if (msix)
			msix_bar = cfg[msix + PCI_MSIX_TABLE] &
				   PCI_MSIX_TABLE_BIR;
	}
	for (i = 0; i < VFIO_PCI_ROM_REGION_INDEX; i++) {
		if (i == msix_bar)
			continue;
		if (vfio_region_info(dev->device_fd, i, &info) || info.size < 4)
			continue;
		if (cfg_rd(dev, PCI_BASE_ADDRESS_0 + 4 * i, &bar, 4))
			continue;
		if (!(bar & PCI_BASE_ADDRESS_SPACE_IO))
			return i;
	}
	return -1;
}

/* Dword mask of bits an all-ones write must not set at @off. */
static uint32_t dangerous_bits(const uint8_t *cfg, unsigned int off)
{
	unsigned int pm = pci_find_cap(cfg, PCI_CAP_ID_PM);
	unsigned int exp = pci_find_cap(cfg, PCI_CAP_ID_EXP);
	unsigned int af = pci_find_cap(cfg, PCI_CAP_ID_AF);
	unsigned int vpd = pci_find_cap(cfg, PCI_CAP_ID_VPD);

	if (pm && off == pm + PCI_PM_CTRL)
		return PCI_PM_CTRL_STATE_MASK;
	if (exp && off == exp + PCI_EXP_DEVCTL)
		return PCI_EXP_DEVCTL_BCR_FLR;
	if (af && off == af + 4)
		return PCI_AF_CTRL_FLR;
	if (vpd && off == vpd)
		return (uint32_t)PCI_VPD_ADDR_F << 16;
	return 0;
}

FIXTURE(cfg) {
	struct vfio_pci_dev dev;
	unsigned int size;
	uint8_t init[CFG_MAX];
	FILE *dump;
};

FIXTURE_SETUP(cfg)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	const char *bdf = vfio_selftests_bdf();
	const char *path = getenv("VFIO_CONFIG_DUMP");
	struct vfio_region_info info;

	if (!bdf)
		SKIP(return, "%s is not set", VFIO_SELFTESTS_BDF_ENV);
	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, bdf, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd, CFG_IDX, &info));
	ASSERT_TRUE(info.size == 256 || info.size == 4096);
	self->size = info.size;
	ASSERT_EQ(0, cfg_rd(&self->dev, 0, self->init, self->size));
	self->dump = NULL;
	if (path) {
		self->dump = fopen(path, "a");
		ASSERT_NE(NULL, self->dump);
	}
}

FIXTURE_TEARDOWN(cfg)
{
	if (self->dump)
		fclose(self->dump);
	vfio_pci_dev_close(&self->dev);
}

static void dump_view(FILE *f, const char *tag, const uint8_t *cfg,
		      unsigned int size)
{
	unsigned int off;
	uint32_t v;

	if (!f)
		return;
	for (off = 0; off < size; off += 4) {
		memcpy(&v, cfg + off, 4);
		fprintf(f, "%s %03x %08x\n", tag, off, v);
	}
}

/*
 * All-ones to each dword, read back, write back what was there; then the
 * whole view must be what it was.
 */
TEST_F(cfg, view)
{
	struct vfio_pci_dev *dev = &self->dev;
	uint8_t after[CFG_MAX];
	unsigned int off;

	dump_view(self->dump, "init", self->init, self->size);
	for (off = 0; off < self->size; off += 4) {
		uint32_t orig, ones, back = 0;

		memcpy(&orig, self->init + off, 4);
		ones = ~dangerous_bits(self->init, off) |
		       (orig & dangerous_bits(self->init, off));
		ASSERT_EQ(0, cfg_wr(dev, off, &ones, 4)) TH_LOG("off %#x", off);
		ASSERT_EQ(0, cfg_rd(dev, off, &back, 4));
		ASSERT_EQ(0, cfg_wr(dev, off, &orig, 4));
		if (self->dump)
			fprintf(self->dump, "ones %03x %08x %08x\n", off, ones,
				back);
	}
	ASSERT_EQ(0, cfg_rd(dev, 0, after, self->size));
	dump_view(self->dump, "final", after, self->size);
	for (off = 0; off < self->size; off += 4)
		EXPECT_EQ(0, memcmp(self->init + off, after + off, 4))
			TH_LOG("dword %#x not restored", off);
}

/* BAR sizing: all-ones reads back the size mask and the type bits. */
TEST_F(cfg, bar_sizing)
{
	struct vfio_pci_dev *dev = &self->dev;
	struct vfio_region_info info;
	uint32_t ones = ~0U, v, orig;
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		ASSERT_EQ(0, vfio_region_info(dev->device_fd, i, &info));
		orig = cfg_rd32(dev, PCI_BASE_ADDRESS_0 + 4 * i);
		ASSERT_EQ(0, cfg_wr(dev, PCI_BASE_ADDRESS_0 + 4 * i, &ones, 4));
		v = cfg_rd32(dev, PCI_BASE_ADDRESS_0 + 4 * i);
		cfg_wr32(dev, PCI_BASE_ADDRESS_0 + 4 * i, orig);
		if (!info.size) {
			continue;
		} else if (orig & PCI_BASE_ADDRESS_SPACE_IO) {
			EXPECT_EQ((uint32_t)info.size,
				  (uint32_t)-(v & PCI_BASE_ADDRESS_IO_MASK));
		} else if (info.size < (1ULL << 32)) {
			EXPECT_EQ((uint32_t)info.size,
				  (uint32_t)-(v & PCI_BASE_ADDRESS_MEM_MASK));
		}
		EXPECT_EQ(orig & 0xf, v & 0xf);
		if (!(orig & PCI_BASE_ADDRESS_SPACE_IO) &&
		    (orig & PCI_BASE_ADDRESS_MEM_TYPE_64))
			i++;
	}
}

/*
 * COMMAND: memory decode off blocks BAR access with EIO; the INTx disable
 * bit is the user's own.
 */
TEST_F(cfg, command)
{
	struct vfio_pci_dev *dev = &self->dev;
	uint16_t orig = cfg_rd16(dev, PCI_COMMAND), v;
	int bar = first_mem_bar(dev);
	uint32_t val;

	cfg_wr16(dev, PCI_COMMAND, 0);
	v = cfg_rd16(dev, PCI_COMMAND);
	if (self->dump)
		fprintf(self->dump, "cmd-0 %04x\n", v);
	EXPECT_EQ(0, v & (PCI_COMMAND_MEMORY | PCI_COMMAND_IO |
			  PCI_COMMAND_INTX_DISABLE));
	if (bar >= 0) {
		errno = 0;
		EXPECT_EQ(-1, vfio_region_read(dev, bar, 0, &val, 4));
		EXPECT_EQ(EIO, errno);
	}
	cfg_wr16(dev, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO |
		 PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	v = cfg_rd16(dev, PCI_COMMAND);
	if (self->dump)
		fprintf(self->dump, "cmd-on %04x\n", v);
	EXPECT_EQ(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		  PCI_COMMAND_INTX_DISABLE,
		  v & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		       PCI_COMMAND_INTX_DISABLE));
	if (bar >= 0)
		EXPECT_EQ(4, vfio_region_read(dev, bar, 0, &val, 4));
	cfg_wr16(dev, PCI_COMMAND, orig);
	EXPECT_EQ(orig, cfg_rd16(dev, PCI_COMMAND));
}

/* PMCSR: D3hot blocks BAR access; D0 gives it back. */
TEST_F(cfg, pmcsr)
{
	struct vfio_pci_dev *dev = &self->dev;
	unsigned int pm = pci_find_cap(self->init, PCI_CAP_ID_PM);
	uint16_t cmd = cfg_rd16(dev, PCI_COMMAND), pmcsr, v;
	int bar = first_mem_bar(dev);
	uint32_t val;

	if (!pm)
		SKIP(return, "no power management capability");
	cfg_wr16(dev, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
	pmcsr = cfg_rd16(dev, pm + PCI_PM_CTRL);
	EXPECT_EQ(0, pmcsr & PCI_PM_CTRL_STATE_MASK);

	cfg_wr16(dev, pm + PCI_PM_CTRL, (pmcsr & ~PCI_PM_CTRL_STATE_MASK) | 3);
	v = cfg_rd16(dev, pm + PCI_PM_CTRL);
	if (self->dump)
		fprintf(self->dump, "pm-d3 %04x\n", v);
	EXPECT_EQ(3, v & PCI_PM_CTRL_STATE_MASK);
	if (bar >= 0) {
		errno = 0;
		EXPECT_EQ(-1, vfio_region_read(dev, bar, 0, &val, 4));
		EXPECT_EQ(EIO, errno);
	}

	cfg_wr16(dev, pm + PCI_PM_CTRL, pmcsr & ~PCI_PM_CTRL_STATE_MASK);
	v = cfg_rd16(dev, pm + PCI_PM_CTRL);
	if (self->dump)
		fprintf(self->dump, "pm-d0 %04x cmd %04x\n", v,
			cfg_rd16(dev, PCI_COMMAND));
	EXPECT_EQ(0, v & PCI_PM_CTRL_STATE_MASK);
	if (bar >= 0)
		EXPECT_EQ(4, vfio_region_read(dev, bar, 0, &val, 4));
	cfg_wr16(dev, PCI_COMMAND, cmd);
}

/* MSI: address and data are the user's; enable only through SET_IRQS. */
TEST_F(cfg, msi)
{
	struct vfio_pci_dev *dev = &self->dev;
	unsigned int msi = pci_find_cap(self->init, PCI_CAP_ID_MSI);
	uint16_t flags, v;
	unsigned int data;
	uint32_t a;

	if (!msi)
		SKIP(return, "no MSI capability");
	flags = cfg_rd16(dev, msi + PCI_MSI_FLAGS);
	data = msi + ((flags & PCI_MSI_FLAGS_64BIT) ? PCI_MSI_DATA_64 :
						      PCI_MSI_DATA_32);
	cfg_wr32(dev, msi + PCI_MSI_ADDRESS_LO, 0xfee01234);
	cfg_wr16(dev, data, 0x4321);
	cfg_wr16(dev, msi + PCI_MSI_FLAGS, flags | PCI_MSI_FLAGS_ENABLE |
		 PCI_MSI_FLAGS_QSIZE);
	a = cfg_rd32(dev, msi + PCI_MSI_ADDRESS_LO);
	v = cfg_rd16(dev, msi + PCI_MSI_FLAGS);
	if (self->dump)
		fprintf(self->dump, "msi %08x %04x %04x\n", a,
			cfg_rd16(dev, data), v);
	EXPECT_EQ(0xfee01234, a);
	EXPECT_EQ(0x4321, cfg_rd16(dev, data));
	EXPECT_EQ(0, v & PCI_MSI_FLAGS_ENABLE);
	cfg_wr16(dev, msi + PCI_MSI_FLAGS, flags);
}

/* Accesses of every size at every offset of the header. */
TEST_F(cfg, sizes)
{
	struct vfio_pci_dev *dev = &self->dev;
	unsigned int off, len;
	uint8_t buf[8];

	for (len = 1; len <= 8; len++)
		for (off = 0; off + len <= 0x40; off++) {
			ASSERT_EQ(0, cfg_rd(dev, off, buf, len))
				TH_LOG("read %u at %#x", len, off);
			if (off >= 0x10 || len > 4)
				continue;
			/* IDs and COMMAND/STATUS compare with the start. */
			EXPECT_EQ(0, memcmp(buf, self->init + off, len));
		}
}

/* Bad input gets the errno upstream vfio-pci gives. */
TEST_F(cfg, bad_input)
{
	struct vfio_pci_dev *dev = &self->dev;
	struct vfio_region_info info;
	uint8_t buf[8] = { 0 };
	void *p;
	int i;

	EXPECT_EQ(-EFAULT, cfg_rd(dev, self->size, buf, 1));
	EXPECT_EQ(-EFAULT, cfg_rd(dev, self->size - 2, buf, 4));
	EXPECT_EQ(-EFAULT, cfg_wr(dev, self->size - 1, buf, 2));

	/* Config space cannot be mapped. */
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, dev->device_fd,
		 (off_t)VFIO_PCI_CONFIG_REGION_INDEX << 40);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	/* The ROM is read-only and cannot be mapped. */
	ASSERT_EQ(0, vfio_region_info(dev->device_fd,
				      VFIO_PCI_ROM_REGION_INDEX, &info));
	if (info.size) {
		errno = 0;
		EXPECT_EQ(-1, vfio_region_write(dev, VFIO_PCI_ROM_REGION_INDEX,
						0, buf, 4));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(4, vfio_region_read(dev, VFIO_PCI_ROM_REGION_INDEX,
					      0, buf, 4));
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, dev->device_fd,
			 (off_t)VFIO_PCI_ROM_REGION_INDEX << 40);
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(EINVAL, errno);
	}

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		ASSERT_EQ(0, vfio_region_info(dev->device_fd, i, &info));
		if (!info.size)
			continue;
		/* Past the end of a BAR. */
		errno = 0;
		EXPECT_EQ(-1, vfio_region_read(dev, i, info.size, buf, 1));
		EXPECT_EQ(EINVAL, errno);
		/* A mapping larger than the BAR. */
		p = mmap(NULL, ((info.size + 4095) & ~4095ULL) + 4096,
			 PROT_READ, MAP_SHARED, dev->device_fd,
			 (off_t)info.offset);
		EXPECT_EQ(MAP_FAILED, p);
		if (p != MAP_FAILED)
			munmap(p, ((info.size + 4095) & ~4095ULL) + 4096);
		/* A BAR without the mmap flag (I/O ports) cannot be mapped. */
		if (!(info.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
			p = mmap(NULL, 4096, PROT_READ, MAP_SHARED,
				 dev->device_fd, (off_t)info.offset);
			EXPECT_EQ(MAP_FAILED, p);
			EXPECT_EQ(EINVAL, errno);
		} else {
			/* Private mappings of device memory make no sense. */
			p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE,
				 dev->device_fd, (off_t)info.offset);
			EXPECT_EQ(MAP_FAILED, p);
			EXPECT_EQ(EINVAL, errno);
		}
	}
	/* The device still answers. */
	EXPECT_EQ(0, cfg_rd(dev, 0, buf, 4));
	EXPECT_EQ(0, memcmp(buf, self->init, 4));
}

TEST_HARNESS_MAIN
