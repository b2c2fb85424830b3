// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VGA region of a VGA device bound to vfio-pci: legacy I/O ports
 * 0x3b0-0x3bb and 0x3c0-0x3df and the 0xa0000-0xbffff memory window, at the
 * same offsets in the region as on the bus, everything else a hole.
 *
 * $VFIO_SELFTESTS_BDF names the VGA device.  With VFIO_VGA_EXPECT_NONE=1
 * (vfio-pci loaded with disable_vga=1) the region must not exist.
 *
 * Its framebuffer BAR (BAR0 of QEMU's standard VGA) can be mapped and
 * written even when a firmware framebuffer console had claimed it before
 * the device was bound (harness/tests/45-vga-framebuffer.sh boots with
 * vga=0x317 for vesafb).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <linux/pci_regs.h>

#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

#define VGA_REGION_SIZE		0xc0000
#define VGA_SEQ_INDEX		0x3c4
#define VGA_GFX_INDEX		0x3ce
/* Past the 80x25 text screen, so the console never draws over it. */
#define VGA_SCRATCH		0xbfff0

static bool vga_expect_none(void)
{
	const char *v = getenv("VFIO_VGA_EXPECT_NONE");

	return v && !strcmp(v, "1");
}

FIXTURE(vga) {
	struct vfio_pci_dev dev;
};

FIXTURE_SETUP(vga)
{
	char err[VFIO_UTIL_ERRLEN];
	const char *bdf = vfio_selftests_bdf();

	ASSERT_NE(NULL, bdf) TH_LOG("set %s", VFIO_SELFTESTS_BDF_ENV);
	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, bdf, err, sizeof(err)))
		TH_LOG("%s", err);
}

FIXTURE_TEARDOWN(vga)
{
	vfio_pci_dev_close(&self->dev);
}

TEST_F(vga, region_info)
{
	struct vfio_region_info info;
	int ret = vfio_region_info(self->dev.device_fd,
				   VFIO_PCI_VGA_REGION_INDEX, &info);

	if (vga_expect_none()) {
		EXPECT_EQ(-EINVAL, ret);
		return;
	}
	ASSERT_EQ(0, ret);
	EXPECT_EQ(VGA_REGION_SIZE, info.size);
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
		  info.flags);
}

/* Index registers read back what was written to them. */
TEST_F(vga, io_index_registers)
{
	static const uint16_t ports[] = { VGA_SEQ_INDEX, VGA_GFX_INDEX };
	uint8_t saved, v;
	unsigned int i;

	if (vga_expect_none()) {
		errno = 0;
		EXPECT_EQ(-1, vfio_region_read(&self->dev,
					       VFIO_PCI_VGA_REGION_INDEX,
					       VGA_SEQ_INDEX, &v, 1));
		EXPECT_EQ(EINVAL, errno);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(ports); i++) {
		ASSERT_EQ(1, vfio_region_read(&self->dev,
					      VFIO_PCI_VGA_REGION_INDEX,
					      ports[i], &saved, 1));
		v = 0x03;
		ASSERT_EQ(1, vfio_region_write(&self->dev,
					       VFIO_PCI_VGA_REGION_INDEX,
					       ports[i], &v, 1));
		v = 0;
		ASSERT_EQ(1, vfio_region_read(&self->dev,
					      VFIO_PCI_VGA_REGION_INDEX,
					      ports[i], &v, 1));
		EXPECT_EQ(0x03, v & 0x07) TH_LOG("port %#x", ports[i]);
		vfio_region_write(&self->dev, VFIO_PCI_VGA_REGION_INDEX,
				  ports[i], &saved, 1);
	}
}

/* The legacy frame buffer window keeps what is written to it. */
TEST_F(vga, memory_window)
{
	const uint8_t pattern[4] = { 0x5a, 0xa5, 0x3c, 0xc3 };
	uint8_t saved[4], back[4];

	if (vga_expect_none())
		SKIP(return, "VGA region disabled");
	ASSERT_EQ(4, vfio_region_read(&self->dev, VFIO_PCI_VGA_REGION_INDEX,
				      VGA_SCRATCH, saved, 4));
	ASSERT_EQ(4, vfio_region_write(&self->dev, VFIO_PCI_VGA_REGION_INDEX,
				       VGA_SCRATCH, pattern, 4));
	ASSERT_EQ(4, vfio_region_read(&self->dev, VFIO_PCI_VGA_REGION_INDEX,
				      VGA_SCRATCH, back, 4));
	EXPECT_EQ(0, memcmp(pattern, back, 4));
	vfio_region_write(&self->dev, VFIO_PCI_VGA_REGION_INDEX, VGA_SCRATCH,
			  saved, 4);
}

/* Offsets outside the three windows are holes. */
TEST_F(vga, holes)
{
	static const uint64_t holes[] = { 0, 0x3af, 0x3bc, 0x3e0, 0x9ffff };
	unsigned int i;
	uint8_t v;

	if (vga_expect_none())
		SKIP(return, "VGA region disabled");
	for (i = 0; i < ARRAY_SIZE(holes); i++) {
		errno = 0;
		EXPECT_EQ(-1, vfio_region_read(&self->dev,
					       VFIO_PCI_VGA_REGION_INDEX,
					       holes[i], &v, 1));
		EXPECT_EQ(EINVAL, errno)
			TH_LOG("offset %#llx", (unsigned long long)holes[i]);
	}
}

/* An access is cut at the end of the window it starts in. */
TEST_F(vga, access_cut_at_window_end)
{
	uint8_t buf[8];
	ssize_t n;

	if (vga_expect_none())
		SKIP(return, "VGA region disabled");
	n = vfio_region_read(&self->dev, VFIO_PCI_VGA_REGION_INDEX, 0x3dc,
			     buf, sizeof(buf));
	EXPECT_EQ(4, n);
}

/* The last page of the framebuffer takes a pattern through the mapping. */
TEST_F(vga, framebuffer_bar_mmap)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vfio_region_info bar;
	uint16_t cmd;
	uint32_t back;
	uint8_t *fb;

	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd,
				      VFIO_PCI_BAR0_REGION_INDEX, &bar));
	ASSERT_LE(page, bar.size);
	ASSERT_TRUE(bar.flags & VFIO_REGION_INFO_FLAG_MMAP);
	ASSERT_EQ(2, vfio_region_read(&self->dev, VFIO_PCI_CONFIG_REGION_INDEX,
				      PCI_COMMAND, &cmd, 2));
	cmd |= PCI_COMMAND_MEMORY;
	ASSERT_EQ(2, vfio_region_write(&self->dev,
				       VFIO_PCI_CONFIG_REGION_INDEX,
				       PCI_COMMAND, &cmd, 2));

	fb = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED,
		  self->dev.device_fd, bar.offset + bar.size - page);
	ASSERT_NE(MAP_FAILED, fb) TH_LOG("mmap of BAR0: %s", strerror(errno));
	__atomic_store_n((uint32_t *)fb, 0x5a5aa5a5, __ATOMIC_SEQ_CST);
	ASSERT_EQ(4, vfio_region_read(&self->dev, VFIO_PCI_BAR0_REGION_INDEX,
				      bar.size - page, &back, 4));
	EXPECT_EQ(0x5a5aa5a5, back);
	munmap(fb, page);
}

TEST_HARNESS_MAIN
