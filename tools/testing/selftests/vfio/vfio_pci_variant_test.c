// SPDX-License-Identifier: GPL-2.0-only
/*
 * The core's device-specific regions as a variant driver sees them, on a
 * device bound to the test-only vfio-pci-variant-fixture driver
 * (harness/tests/variant-fixture), which registers at every open a region
 * of region_pages zeroed pages of kernel memory: REGION_INFO with its type
 * capability, read() and write(), and mmap(), which the core allows only
 * for shared mappings, as for BARs.
 *
 * Environment:
 *   VFIO_SELFTESTS_BDF          the device, bound to the fixture
 *   VFIO_VARIANT_REGION_PAGES   the fixture's region_pages (default 0: the
 *                               device must have no extra region)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

/* What the fixture registers; see its header comment. */
#define FIXTURE_TYPE	((uint32_t)VFIO_REGION_TYPE_PCI_VENDOR_TYPE | 0xffffU)
#define FIXTURE_SUBTYPE	1U
#define FIXTURE_INDEX	VFIO_PCI_NUM_REGIONS

static unsigned long expected_pages(void)
{
	const char *v = getenv("VFIO_VARIANT_REGION_PAGES");

	return v ? strtoul(v, NULL, 0) : 0;
}

FIXTURE(variant) {
	struct vfio_pci_dev dev;
	size_t page;
	size_t size;		/* of the fixture's region */
	uint64_t offset;	/* of the fixture's region in the device fd */
};

FIXTURE_SETUP(variant)
{
	struct vfio_region_info info = { .argsz = sizeof(info) };
	char err[VFIO_UTIL_ERRLEN];

	self->page = (size_t)sysconf(_SC_PAGESIZE);
	self->size = expected_pages() * self->page;
	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, vfio_selftests_bdf(), err,
				       sizeof(err)))
		TH_LOG("%s", err);
	if (!self->size)
		return;
	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd, FIXTURE_INDEX,
				      &info));
	self->offset = info.offset;
}

FIXTURE_TEARDOWN(variant)
{
	vfio_pci_dev_close(&self->dev);
}

/* Number of regions, and the fixture's region with its type capability. */
TEST_F(variant, region_info)
{
	struct vfio_region_info *info = calloc(1, 4096);
	const struct vfio_info_cap_header *hdr;
	const struct vfio_region_info_cap_type *type = NULL;
	uint32_t off;

	ASSERT_NE(NULL, info);
	if (!self->size) {
		EXPECT_EQ((uint32_t)VFIO_PCI_NUM_REGIONS,
			  self->dev.info.num_regions);
		free(info);
		return;
	}
	ASSERT_EQ((uint32_t)VFIO_PCI_NUM_REGIONS + 1,
		  self->dev.info.num_regions);

	info->argsz = 4096;
	info->index = FIXTURE_INDEX;
	ASSERT_EQ(0, ioctl(self->dev.device_fd, VFIO_DEVICE_GET_REGION_INFO,
			   info));
	EXPECT_EQ(self->size, info->size);
	EXPECT_EQ((uint32_t)(VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE |
			     VFIO_REGION_INFO_FLAG_MMAP |
			     VFIO_REGION_INFO_FLAG_CAPS), info->flags);
	for (off = info->cap_offset; off; off = hdr->next) {
		ASSERT_LE(off + sizeof(*type), info->argsz);
		hdr = (const void *)((const char *)info + off);
		if (hdr->id == VFIO_REGION_INFO_CAP_TYPE)
			type = (const void *)hdr;
	}
	ASSERT_NE(NULL, type);
	EXPECT_EQ(FIXTURE_TYPE, type->type);
	EXPECT_EQ(FIXTURE_SUBTYPE, type->subtype);

	/* One past the last region does not exist. */
	info->argsz = sizeof(*info);
	info->index = FIXTURE_INDEX + 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->dev.device_fd, VFIO_DEVICE_GET_REGION_INFO,
			    info));
	EXPECT_EQ(EINVAL, errno);
	free(info);
}

/* read() and write() reach the memory; nothing exists past its end. */
TEST_F(variant, read_write)
{
	uint8_t *buf, *back;
	size_t i;

	if (!self->size)
		SKIP(return, "no region (VFIO_VARIANT_REGION_PAGES=0)");
	buf = malloc(self->size);
	back = calloc(1, self->size);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, back);

	/* Every open starts from zeroed memory. */
	ASSERT_EQ((ssize_t)self->size,
		  vfio_region_read(&self->dev, FIXTURE_INDEX, 0, buf,
				   self->size));
	for (i = 0; i < self->size; i++)
		ASSERT_EQ(0, buf[i]) TH_LOG("byte %zu", i);

	for (i = 0; i < self->size; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	ASSERT_EQ((ssize_t)self->size,
		  vfio_region_write(&self->dev, FIXTURE_INDEX, 0, buf,
				    self->size));
	ASSERT_EQ((ssize_t)self->size,
		  vfio_region_read(&self->dev, FIXTURE_INDEX, 0, back,
				   self->size));
	EXPECT_EQ(0, memcmp(buf, back, self->size));

	/* An access across the end stops there; one at the end fails. */
	EXPECT_EQ(2, vfio_region_read(&self->dev, FIXTURE_INDEX,
				      self->size - 2, back, 8));
	errno = 0;
	EXPECT_EQ(-1, vfio_region_read(&self->dev, FIXTURE_INDEX, self->size,
				       back, 1));
	EXPECT_EQ(EINVAL, errno);
	free(buf);
	free(back);
}

/* A shared mapping shows what write() put there, and the other way round. */
TEST_F(variant, mmap_shared)
{
	uint8_t *map, *buf, b;
	size_t i;

	if (!self->size)
		SKIP(return, "no region (VFIO_VARIANT_REGION_PAGES=0)");
	buf = malloc(self->size);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < self->size; i++)
		buf[i] = (uint8_t)(i ^ 0x5a);
	ASSERT_EQ((ssize_t)self->size,
		  vfio_region_write(&self->dev, FIXTURE_INDEX, 0, buf,
				    self->size));

	map = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->dev.device_fd, (off_t)self->offset);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(buf, map, self->size));

	map[self->size - 1] = 0xa5;
	ASSERT_EQ(1, vfio_region_read(&self->dev, FIXTURE_INDEX,
				      self->size - 1, &b, 1));
	EXPECT_EQ(0xa5, b);
	munmap(map, self->size);

	/* The last page alone, at its offset. */
	map = mmap(NULL, self->page, PROT_READ, MAP_SHARED,
		   self->dev.device_fd,
		   (off_t)(self->offset + self->size - self->page));
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(0xa5, map[self->page - 1]);
	munmap(map, self->page);
	free(buf);
}

/*
 * A private mapping would leave the user with copies of the region's pages
 * that no longer track it: the core refuses it, as it does for BARs.
 */
TEST_F(variant, mmap_private_refused)
{
	void *map;

	if (!self->size)
		SKIP(return, "no region (VFIO_VARIANT_REGION_PAGES=0)");
	errno = 0;
	map = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		   self->dev.device_fd, (off_t)self->offset);
	EXPECT_EQ(MAP_FAILED, map);
	EXPECT_EQ(EINVAL, errno);
	if (map != MAP_FAILED)
		munmap(map, self->size);

	errno = 0;
	map = mmap(NULL, self->page, PROT_READ, MAP_PRIVATE,
		   self->dev.device_fd, (off_t)self->offset);
	EXPECT_EQ(MAP_FAILED, map);
	EXPECT_EQ(EINVAL, errno);
	if (map != MAP_FAILED)
		munmap(map, self->page);
}

/* Mappings past the end of the region are refused. */
TEST_F(variant, mmap_past_end)
{
	void *map;

	if (!self->size)
		SKIP(return, "no region (VFIO_VARIANT_REGION_PAGES=0)");
	errno = 0;
	map = mmap(NULL, self->size + self->page, PROT_READ, MAP_SHARED,
		   self->dev.device_fd, (off_t)self->offset);
	EXPECT_EQ(MAP_FAILED, map);
	EXPECT_EQ(EINVAL, errno);
	if (map != MAP_FAILED)
		munmap(map, self->size + self->page);

	errno = 0;
	map = mmap(NULL, self->page, PROT_READ, MAP_SHARED,
		   self->dev.device_fd, (off_t)(self->offset + self->size));
	EXPECT_EQ(MAP_FAILED, map);
	EXPECT_EQ(EINVAL, errno);
	if (map != MAP_FAILED)
		munmap(map, self->page);
}

TEST_HARNESS_MAIN
