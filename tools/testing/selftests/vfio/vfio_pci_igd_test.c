// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Intel graphics (IGD) regions of vfio-pci, checked through the uAPI on
 * the fake IGD of the igd_fixture test module (harness/tests/igd-fixture):
 * region count, REGION_INFO with its type capability, flags and sizes, the
 * OpRegion byte for byte (with the version and RVDA the user is meant to
 * see), the host and LPC bridge config spaces against sysfs, refused
 * writes and mmaps, region ends, the protected ASLS register, and the
 * regions being set up afresh at every open.
 *
 * Environment:
 *   VFIO_SELFTESTS_BDF       the fake IGD, bound to vfio-pci
 *   VFIO_IGD_FIXTURE_DIR     the fixture's debugfs directory
 *                            (default /sys/kernel/debug/igd_fixture)
 *   VFIO_IGD_EXPECT          regions (default): OpRegion, host and LPC
 *                            regions; none: ASLS is 0, no extra region;
 *                            einval: bad OpRegion signature, opening the
 *                            device fails with EINVAL
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

#define IGD_OPREGION_SIZE	8192
#define IGD_VERSION		0x16
#define IGD_RVDA		0x3ba
#define IGD_ASLS		0xfc
#define IGD_NUM_EXTRA		3
#define IGD_TYPE		((uint32_t)VFIO_REGION_TYPE_PCI_VENDOR_TYPE | 0x8086U)
#define IGD_HOST_BDF		"0000:00:00.0"
#define IGD_LPC_BDF		"0000:00:1f.0"
#define IGD_DEFAULT_DIR		"/sys/kernel/debug/igd_fixture"

enum igd_expect { IGD_EXPECT_REGIONS, IGD_EXPECT_NONE, IGD_EXPECT_EINVAL };

static enum igd_expect igd_expect(void)
{
	const char *v = getenv("VFIO_IGD_EXPECT");

	if (v && !strcmp(v, "none"))
		return IGD_EXPECT_NONE;
	if (v && !strcmp(v, "einval"))
		return IGD_EXPECT_EINVAL;
	return IGD_EXPECT_REGIONS;
}

static void fixture_path(char *buf, size_t len, const char *name)
{
	const char *dir = getenv("VFIO_IGD_FIXTURE_DIR");

	snprintf(buf, len, "%s/%s", dir && *dir ? dir : IGD_DEFAULT_DIR, name);
}

/* The whole of a (sysfs or debugfs) file; NULL on error. */
static uint8_t *slurp(const char *path, size_t *len)
{
	size_t cap = 16384, n = 0;
	uint8_t *buf = malloc(cap), *nbuf;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf)
		goto fail;
	for (;;) {
		if (n == cap) {
			cap *= 2;
			nbuf = realloc(buf, cap);
			if (!nbuf)
				goto fail;
			buf = nbuf;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0)
			goto fail;
		if (!r)
			break;
		n += r;
	}
	close(fd);
	*len = n;
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int fixture_u64(const char *name, uint64_t *val)
{
	char path[512], *text, *end;
	size_t len;

	fixture_path(path, sizeof(path), name);
	text = (char *)slurp(path, &len);
	if (!text)
		return -1;
	text[len ? len - 1 : 0] = '\0';
	*val = strtoull(text, &end, 0);
	free(text);
	return end == text ? -1 : 0;
}

static uint16_t get_le16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

/*
 * REGION_INFO with room for the capability chain: *out is malloc'ed, its
 * argsz what the kernel asked for.  Returns 0 or -errno.
 */
static int region_info_caps(int fd, uint32_t index,
			    struct vfio_region_info **out)
{
	struct vfio_region_info *info = calloc(1, sizeof(*info));
	uint32_t argsz = sizeof(*info);

	for (;;) {
		if (!info)
			return -ENOMEM;
		info->argsz = argsz;
		info->index = index;
		if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, info)) {
			free(info);
			return -errno;
		}
		if (info->argsz <= argsz)
			break;
		argsz = info->argsz;
		free(info);
		info = calloc(1, argsz);
	}
	*out = info;
	return 0;
}

/* The one TYPE capability in @info's chain, or NULL (also for two). */
static const struct vfio_region_info_cap_type *
type_cap(const struct vfio_region_info *info)
{
	const struct vfio_region_info_cap_type *found = NULL;
	const struct vfio_info_cap_header *hdr;
	uint32_t off = info->cap_offset;
	int hops = 0;

	if (!(info->flags & VFIO_REGION_INFO_FLAG_CAPS))
		return NULL;
	while (off) {
		if (off < sizeof(*info) || off + sizeof(*hdr) > info->argsz ||
		    ++hops > 16)
			return NULL;
		hdr = (const void *)((const char *)info + off);
		if (hdr->id == VFIO_REGION_INFO_CAP_TYPE) {
			if (found || off + sizeof(*found) > info->argsz)
				return NULL;
			found = (const void *)hdr;
		}
		off = hdr->next;
	}
	return found;
}

struct igd_region {
	uint32_t index;
	uint64_t size;
};

FIXTURE(igd) {
	struct vfio_pci_dev dev;
	uint8_t *raw;		/* the fixture's OpRegion and raw VBT */
	uint8_t *expect;	/* what the OpRegion region must read */
	size_t len;
	/* by subtype: [1] OpRegion, [2] host bridge, [3] LPC bridge */
	struct igd_region region[IGD_NUM_EXTRA + 1];
};

/* The fixture's bytes as the user must see them. */
static int load_expected(FIXTURE_DATA(igd) * self)
{
	char path[512];
	bool vbt;

	fixture_path(path, sizeof(path), "opregion");
	self->raw = slurp(path, &self->len);
	if (!self->raw || self->len < IGD_OPREGION_SIZE)
		return -1;
	self->expect = malloc(self->len);
	if (!self->expect)
		return -1;
	memcpy(self->expect, self->raw, self->len);
	vbt = self->len > IGD_OPREGION_SIZE;
	/* The raw VBT follows the OpRegion: a 2.0 one reads as 2.1. */
	if (vbt && get_le16(self->raw + IGD_VERSION) == 0x0200)
		self->expect[IGD_VERSION] = 0x01;
	put_le64(self->expect + IGD_RVDA, vbt ? IGD_OPREGION_SIZE : 0);
	return 0;
}

/* Index and size of each extra region, by subtype; 0 or -1. */
static int find_regions(FIXTURE_DATA(igd) * self)
{
	const struct vfio_region_info_cap_type *cap;
	struct vfio_region_info *info;
	uint32_t i;

	for (i = VFIO_PCI_NUM_REGIONS; i < self->dev.info.num_regions; i++) {
		if (region_info_caps(self->dev.device_fd, i, &info))
			return -1;
		cap = type_cap(info);
		if (cap && cap->type == IGD_TYPE && cap->subtype >= 1 &&
		    cap->subtype <= IGD_NUM_EXTRA) {
			self->region[cap->subtype].index = i;
			self->region[cap->subtype].size = info->size;
		}
		free(info);
	}
	return 0;
}

FIXTURE_SETUP(igd)
{
	char err[VFIO_UTIL_ERRLEN];

	if (igd_expect() == IGD_EXPECT_EINVAL)
		SKIP(return, "VFIO_IGD_EXPECT=einval: the device does not open");
	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, vfio_selftests_bdf(), err,
				       sizeof(err)))
		TH_LOG("%s", err);
	if (igd_expect() == IGD_EXPECT_NONE)
		return;
	ASSERT_EQ(0, load_expected(self))
		TH_LOG("cannot read the fixture's opregion blob");
	ASSERT_EQ(0, find_regions(self));
}

FIXTURE_TEARDOWN(igd)
{
	vfio_pci_dev_close(&self->dev);
	free(self->raw);
	free(self->expect);
}

TEST_F(igd, num_regions)
{
	struct vfio_region_info info;
	uint32_t n = VFIO_PCI_NUM_REGIONS;

	if (igd_expect() == IGD_EXPECT_REGIONS)
		n += IGD_NUM_EXTRA;
	EXPECT_EQ(n, self->dev.info.num_regions);
	EXPECT_EQ(-EINVAL, vfio_region_info(self->dev.device_fd, n, &info));
	EXPECT_EQ(-EINVAL, vfio_region_info(self->dev.device_fd, n + 1, &info));
}

/* Sizes the kernel must report, by subtype. */
static int expected_size(FIXTURE_DATA(igd) * self, uint32_t subtype,
			 uint64_t *size)
{
	switch (subtype) {
	case VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION:
		*size = self->len;
		return 0;
	case VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG:
		return sysfs_config_size(IGD_HOST_BDF, size);
	case VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG:
		return sysfs_config_size(IGD_LPC_BDF, size);
	}
	return -1;
}

TEST_F(igd, region_info)
{
	const uint32_t need = sizeof(struct vfio_region_info) +
			      sizeof(struct vfio_region_info_cap_type);
	const struct vfio_region_info_cap_type *cap;
	int seen[IGD_NUM_EXTRA + 1] = { 0 };
	struct vfio_region_info small, *info;
	uint64_t size;
	uint32_t i;

	if (igd_expect() != IGD_EXPECT_REGIONS)
		SKIP(return, "no IGD regions in this mode");
	for (i = VFIO_PCI_NUM_REGIONS; i < self->dev.info.num_regions; i++) {
		/* Too small for the chain: told how much, no chain. */
		memset(&small, 0, sizeof(small));
		small.argsz = sizeof(small);
		small.index = i;
		ASSERT_EQ(0, ioctl(self->dev.device_fd,
				   VFIO_DEVICE_GET_REGION_INFO, &small));
		EXPECT_EQ(need, small.argsz);
		EXPECT_TRUE(small.flags & VFIO_REGION_INFO_FLAG_CAPS);
		EXPECT_EQ(0, small.cap_offset);

		ASSERT_EQ(0, region_info_caps(self->dev.device_fd, i, &info));
		EXPECT_EQ(need, info->argsz);
		EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_CAPS,
			  info->flags)
			TH_LOG("region %u: READ only, no WRITE or MMAP", i);
		EXPECT_EQ((uint64_t)i << 40, info->offset);
		cap = type_cap(info);
		ASSERT_NE(NULL, cap) TH_LOG("region %u: one TYPE capability", i);
		EXPECT_EQ(1, cap->header.version);
		EXPECT_EQ(IGD_TYPE, cap->type);
		ASSERT_GE(cap->subtype, 1);
		ASSERT_LE(cap->subtype, IGD_NUM_EXTRA);
		seen[cap->subtype]++;
		ASSERT_EQ(0, expected_size(self, cap->subtype, &size));
		EXPECT_EQ(size, info->size) TH_LOG("subtype %u", cap->subtype);
		free(info);
	}
	for (i = 1; i <= IGD_NUM_EXTRA; i++)
		EXPECT_EQ(1, seen[i]) TH_LOG("subtype %u", i);
}

/* Read [off, off + len) of an extra region and compare it with @want. */
static int read_cmp(struct __test_metadata *_metadata,
		    struct vfio_pci_dev *dev, uint32_t index, uint64_t off,
		    size_t len, const uint8_t *want)
{
	uint8_t *buf = malloc(len ? len : 1);
	ssize_t n;
	size_t i;

	if (!buf)
		return -1;
	memset(buf, 0xee, len);
	n = vfio_region_read(dev, index, off, buf, len);
	if (n != (ssize_t)len) {
		TH_LOG("region %u: read of %zu at %#llx returned %zd (%s)",
		       index, len, (unsigned long long)off, n,
		       n < 0 ? strerror(errno) : "short");
		free(buf);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (buf[i] != want[off + i]) {
			TH_LOG("region %u: read of %zu at %#llx: byte %#llx is %#x, want %#x",
			       index, len, (unsigned long long)off,
			       (unsigned long long)(off + i), buf[i],
			       want[off + i]);
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 0;
}

/* Reads that start and end anywhere, including inside rewritten fields. */
static int read_pieces(struct __test_metadata *_metadata,
		       struct vfio_pci_dev *dev, uint32_t index,
		       const uint8_t *want, size_t size)
{
	static const struct { uint64_t off; size_t len; } fixed[] = {
		{ 0, 1 }, { 1, 3 }, { 3, 6 }, { 0x0f, 2 }, { 0x10, 4 },
		{ 0x15, 1 }, { 0x15, 2 }, { 0x16, 1 }, { 0x17, 1 },
		{ 0x17, 5 }, { 0x3b, 9 }, { 0xfd, 3 }, { 0x3b9, 1 },
		{ 0x3b9, 11 }, { 0x3bb, 3 }, { 0x3bd, 2 }, { 0x3c1, 1 },
		{ 0x3c1, 6 }, { 0x3b0, 0x30 }, { 0x7ff, 0x802 },
	};
	uint32_t seed = 0x1d1dU;
	uint64_t off;
	size_t len;
	int i, bad = 0;

	for (i = 0; i < (int)ARRAY_SIZE(fixed); i++) {
		if (fixed[i].off + fixed[i].len <= size)
			bad |= read_cmp(_metadata, dev, index, fixed[i].off,
					fixed[i].len, want);
	}
	/* Around the end, and for the OpRegion across into the VBT. */
	for (len = 1; len <= 7 && len <= size; len++)
		bad |= read_cmp(_metadata, dev, index, size - len, len, want);
	if (size > IGD_OPREGION_SIZE + 3) {
		bad |= read_cmp(_metadata, dev, index, IGD_OPREGION_SIZE - 1,
				2, want);
		bad |= read_cmp(_metadata, dev, index, IGD_OPREGION_SIZE - 3,
				7, want);
	}
	for (i = 0; i < 200; i++) {
		seed = seed * 1103515245U + 12345U;
		off = (seed >> 8) % size;
		seed = seed * 1103515245U + 12345U;
		len = 1 + (seed >> 8) % 300;
		if (off + len > size)
			len = size - off;
		bad |= read_cmp(_metadata, dev, index, off, len, want);
	}
	return bad;
}

/* Reads crossing the end are cut short; at or past it they fail. */
static void check_end(struct __test_metadata *_metadata,
		      struct vfio_pci_dev *dev, uint32_t index,
		      const uint8_t *want, size_t size)
{
	uint8_t buf[16];

	EXPECT_EQ(5, vfio_region_read(dev, index, size - 5, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, want + size - 5, 5));
	errno = 0;
	EXPECT_EQ(-1, vfio_region_read(dev, index, size, buf, 1));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, vfio_region_read(dev, index, size + 4095, buf, 4));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(igd, opregion_contents)
{
	uint32_t idx = self->region[VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION].index;

	if (igd_expect() != IGD_EXPECT_REGIONS)
		SKIP(return, "no IGD regions in this mode");
	ASSERT_NE(0, idx);
	/* In one go, then in pieces. */
	EXPECT_EQ(0, read_cmp(_metadata, &self->dev, idx, 0, self->len,
			      self->expect));
	EXPECT_EQ(0, read_pieces(_metadata, &self->dev, idx, self->expect,
				 self->len));
	check_end(_metadata, &self->dev, idx, self->expect, self->len);
	TH_LOG("OpRegion region: %zu bytes, version %#06x (fixture %#06x), RVDA %llu",
	       self->len, get_le16(self->expect + IGD_VERSION),
	       get_le16(self->raw + IGD_VERSION),
	       (unsigned long long)get_le64(self->expect + IGD_RVDA));
}

static void check_bridge(struct __test_metadata *_metadata,
			 FIXTURE_DATA(igd) * self, uint32_t subtype,
			 const char *bdf)
{
	char path[128];
	uint8_t *cfg;
	size_t len;

	ASSERT_NE(0, self->region[subtype].index);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	cfg = slurp(path, &len);
	ASSERT_NE(NULL, cfg) TH_LOG("%s", path);
	EXPECT_EQ(len, self->region[subtype].size);
	EXPECT_EQ(0, read_cmp(_metadata, &self->dev,
			      self->region[subtype].index, 0, len, cfg));
	EXPECT_EQ(0, read_pieces(_metadata, &self->dev,
				 self->region[subtype].index, cfg, len));
	check_end(_metadata, &self->dev, self->region[subtype].index, cfg, len);
	free(cfg);
}

TEST_F(igd, host_bridge_config)
{
	if (igd_expect() != IGD_EXPECT_REGIONS)
		SKIP(return, "no IGD regions in this mode");
	check_bridge(_metadata, self, VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG,
		     IGD_HOST_BDF);
}

TEST_F(igd, lpc_bridge_config)
{
	if (igd_expect() != IGD_EXPECT_REGIONS)
		SKIP(return, "no IGD regions in this mode");
	check_bridge(_metadata, self, VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG,
		     IGD_LPC_BDF);
}

TEST_F(igd, writes_refused)
{
	static const uint64_t offs[] = { 0, 1, IGD_VERSION, IGD_RVDA, 0x40 };
	uint8_t buf[4] = { 0x5a, 0x5a, 0x5a, 0x5a };
	uint32_t s, k;

	if (igd_expect() != IGD_EXPECT_REGIONS)
		SKIP(return, "no IGD regions in this mode");
	for (s = 1; s <= IGD_NUM_EXTRA; s++) {
		for (k = 0; k < ARRAY_SIZE(offs); k++) {
			errno = 0;
			EXPECT_EQ(-1, vfio_region_write(&self->dev,
							self->region[s].index,
							offs[k], buf,
							1 + k % 4));
			EXPECT_EQ(EINVAL, errno)
				TH_LOG("subtype %u offset %#llx", s,
				       (unsigned long long)offs[k]);
		}
		errno = 0;
		EXPECT_EQ(-1, vfio_region_write(&self->dev,
						self->region[s].index,
						self->region[s].size, buf, 1));
		EXPECT_EQ(EINVAL, errno);
	}
	/* Nothing changed. */
	EXPECT_EQ(0, read_cmp(_metadata, &self->dev,
			      self->region[VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION].index,
			      0, self->len, self->expect));
}

TEST_F(igd, mmap_refused)
{
	struct vfio_region_info info;
	uint32_t s;
	void *p;

	if (igd_expect() != IGD_EXPECT_REGIONS)
		SKIP(return, "no IGD regions in this mode");
	for (s = 1; s <= IGD_NUM_EXTRA; s++) {
		ASSERT_EQ(0, vfio_region_info(self->dev.device_fd,
					      self->region[s].index, &info));
		errno = 0;
		p = mmap(NULL, 4096, PROT_READ, MAP_SHARED,
			 self->dev.device_fd, info.offset);
		EXPECT_EQ(MAP_FAILED, p) TH_LOG("subtype %u", s);
		EXPECT_EQ(EINVAL, errno) TH_LOG("subtype %u", s);
		if (p != MAP_FAILED)
			munmap(p, 4096);
	}
}

/* Close and open again: the regions are set up afresh, not piled up. */
TEST_F(igd, reopen)
{
	uint32_t idx = self->region[VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION].index;
	struct vfio_device_info dinfo;
	int round, fd2;

	if (igd_expect() != IGD_EXPECT_REGIONS)
		SKIP(return, "no IGD regions in this mode");
	for (round = 0; round < 3; round++) {
		close(self->dev.device_fd);
		self->dev.device_fd = ioctl(self->dev.group_fd,
					    VFIO_GROUP_GET_DEVICE_FD,
					    self->dev.bdf);
		ASSERT_LE(0, self->dev.device_fd) TH_LOG("%s", strerror(errno));
		memset(&dinfo, 0, sizeof(dinfo));
		dinfo.argsz = sizeof(dinfo);
		ASSERT_EQ(0, ioctl(self->dev.device_fd, VFIO_DEVICE_GET_INFO,
				   &dinfo));
		EXPECT_EQ(VFIO_PCI_NUM_REGIONS + IGD_NUM_EXTRA,
			  dinfo.num_regions);
		EXPECT_EQ(0, read_cmp(_metadata, &self->dev, idx, 0,
				      self->len, self->expect));
	}

	/* A second fd shares the open device; it outlives the first. */
	fd2 = ioctl(self->dev.group_fd, VFIO_GROUP_GET_DEVICE_FD,
		    self->dev.bdf);
	ASSERT_LE(0, fd2) TH_LOG("%s", strerror(errno));
	memset(&dinfo, 0, sizeof(dinfo));
	dinfo.argsz = sizeof(dinfo);
	ASSERT_EQ(0, ioctl(fd2, VFIO_DEVICE_GET_INFO, &dinfo));
	EXPECT_EQ(VFIO_PCI_NUM_REGIONS + IGD_NUM_EXTRA, dinfo.num_regions);
	close(self->dev.device_fd);
	self->dev.device_fd = fd2;
	EXPECT_EQ(0, read_cmp(_metadata, &self->dev, idx, 0, self->len,
			      self->expect));
}

static int cfg_read32(struct vfio_pci_dev *dev, uint32_t off, uint32_t *val)
{
	return vfio_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, off, val,
				4) == 4 ? 0 : -1;
}

/*
 * The user first reads ASLS as the device's own value, the OpRegion's
 * address, at every open, whether or not a raw VBT follows the OpRegion.
 */
TEST_F(igd, asls_initial_value)
{
	uint64_t asls;
	uint32_t val;

	ASSERT_EQ(0, fixture_u64("asls", &asls));
	ASSERT_EQ(0, cfg_read32(&self->dev, IGD_ASLS, &val));
	if (igd_expect() == IGD_EXPECT_NONE) {
		EXPECT_EQ(0, val);
		return;
	}
	EXPECT_EQ(asls, val);
}

/*
 * The user reads ASLS as a virtual register; its writes stay virtual and
 * never reach the device, whose ASLS vfio-pci maps at the next open.
 */
TEST_F(igd, asls_protected)
{
	uint64_t writes0, writes1;
	uint32_t first, val, poke = 0x12345678;

	ASSERT_EQ(0, cfg_read32(&self->dev, IGD_ASLS, &first));
	if (igd_expect() == IGD_EXPECT_NONE) {
		EXPECT_EQ(0, first);
		return;
	}

	ASSERT_EQ(0, fixture_u64("asls_writes", &writes0));
	EXPECT_EQ(4, vfio_region_write(&self->dev, VFIO_PCI_CONFIG_REGION_INDEX,
				       IGD_ASLS, &poke, 4));
	ASSERT_EQ(0, fixture_u64("asls_writes", &writes1));
	EXPECT_EQ(writes0, writes1) TH_LOG("a user write reached ASLS");
	ASSERT_EQ(0, cfg_read32(&self->dev, IGD_ASLS, &val));
	EXPECT_EQ(poke, val);

	/* A new open starts from the same value and maps the device's again. */
	close(self->dev.device_fd);
	self->dev.device_fd = ioctl(self->dev.group_fd,
				    VFIO_GROUP_GET_DEVICE_FD, self->dev.bdf);
	ASSERT_LE(0, self->dev.device_fd);
	ASSERT_EQ(0, cfg_read32(&self->dev, IGD_ASLS, &val));
	EXPECT_EQ(first, val);
	EXPECT_EQ(0, read_cmp(_metadata, &self->dev,
			      self->region[VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION].index,
			      0, self->len, self->expect));
}

/* A bad OpRegion signature: the device does not open, every time. */
TEST(open_einval)
{
	char err[VFIO_UTIL_ERRLEN], want[128];
	struct vfio_pci_dev dev;
	int i;

	if (igd_expect() != IGD_EXPECT_EINVAL)
		SKIP(return, "only with VFIO_IGD_EXPECT=einval");
	snprintf(want, sizeof(want), "VFIO_GROUP_GET_DEVICE_FD(%s): %s",
		 vfio_selftests_bdf(), strerror(EINVAL));
	for (i = 0; i < 2; i++) {
		err[0] = '\0';
		ASSERT_EQ(-1, vfio_pci_dev_open(&dev, vfio_selftests_bdf(), err,
						sizeof(err)));
		EXPECT_STREQ(want, err);
	}
}

TEST_HARNESS_MAIN
