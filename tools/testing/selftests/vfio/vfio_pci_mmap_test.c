// SPDX-License-Identifier: GPL-2.0-only
/*
 * BAR mmap on QEMU's ivshmem-plain: BAR0 is a 256-byte register BAR (a
 * sub-page BAR), BAR2 a large shared-memory BAR (1 GiB in harness/vm).
 *
 *  - data written through a mapping of BAR2 reads back through the region
 *    (pread) and the other way round;
 *  - with memory decode turned off in COMMAND, touching the mapping gets
 *    SIGBUS and region reads fail with EIO; once decode is back on, the
 *    same addresses work again and the data is intact;
 *  - with decode turned off in hardware behind vfio's back, access still
 *    follows the user's COMMAND, and its next write of it restores decode;
 *  - a 1 GiB-aligned mapping of the BAR faults in with huge entries: the
 *    number of page faults it takes to touch every 4K page of its first
 *    4 MiB and one byte of every 2 MiB after that is counted, and must stay
 *    far below the 4K-page count (it is printed for the report);
 *  - the sub-page BAR0 is mappable as one page and reads the same
 *    registers as pread;
 *  - region reads and writes of many lengths at unaligned offsets, across
 *    the driver's internal chunks, move exactly the bytes asked for, as
 *    the mapping shows;
 *  - a region access whose user buffer ends in an unmapped page moves the
 *    bytes before it and says how many; one that starts there is EFAULT.
 *
 * The device is named by $VFIO_SELFTESTS_BDF and must already be bound to
 * vfio-pci.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

#define SZ_2M		0x200000UL
#define SZ_1G		0x40000000UL

static sigjmp_buf bus_jmp;
static int bus_errors;

static uint8_t peek(const uint8_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void on_sigbus(int sig)
{
	(void)sig;
	__atomic_add_fetch(&bus_errors, 1, __ATOMIC_RELAXED);
	siglongjmp(bus_jmp, 1);
}

/* Read a byte through the mapping; -1 if that raised SIGBUS. */
static int touch(const uint8_t *p)
{
	if (sigsetjmp(bus_jmp, 1))
		return -1;
	return peek(p);
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* Map @len bytes of region @info at an address aligned to @align. */
static uint8_t *map_aligned(int fd, const struct vfio_region_info *info,
			    size_t len, size_t align)
{
	uint8_t *hole, *p;

	hole = mmap(NULL, len + align, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (hole == MAP_FAILED)
		return MAP_FAILED;
	p = (uint8_t *)(((uintptr_t)hole + align - 1) & ~(align - 1));
	p = mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
		 (off_t)info->offset);
	if (p == MAP_FAILED)
		munmap(hole, len + align);
	return p;
}

FIXTURE(mmap) {
	struct vfio_pci_dev dev;
	struct vfio_region_info bar0, bar2;
};

FIXTURE_SETUP(mmap)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	const char *bdf = vfio_selftests_bdf();
	uint16_t cmd;

	if (!bdf)
		SKIP(return, "%s is not set", VFIO_SELFTESTS_BDF_ENV);
	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, bdf, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd, 0, &self->bar0));
	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd, 2, &self->bar2));
	ASSERT_EQ(256, self->bar0.size) TH_LOG("not an ivshmem BAR0?");
	ASSERT_GE(self->bar2.size, SZ_2M);
	ASSERT_TRUE(self->bar2.flags & VFIO_REGION_INFO_FLAG_MMAP);
	/* Memory decode on. */
	ASSERT_EQ(2, vfio_region_read(&self->dev, VFIO_PCI_CONFIG_REGION_INDEX,
				      PCI_COMMAND, &cmd, 2));
	cmd |= PCI_COMMAND_MEMORY;
	ASSERT_EQ(2, vfio_region_write(&self->dev,
				       VFIO_PCI_CONFIG_REGION_INDEX,
				       PCI_COMMAND, &cmd, 2));
	signal(SIGBUS, on_sigbus);
}

FIXTURE_TEARDOWN(mmap)
{
	signal(SIGBUS, SIG_DFL);
	vfio_pci_dev_close(&self->dev);
}

static void set_mem(struct vfio_pci_dev *dev, int on)
{
	uint16_t cmd = 0;

	vfio_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND,
			 &cmd, 2);
	cmd = on ? cmd | PCI_COMMAND_MEMORY : cmd & ~PCI_COMMAND_MEMORY;
	vfio_region_write(dev, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND,
			  &cmd, 2);
}

TEST_F(mmap, data_both_ways)
{
	size_t len = SZ_2M;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			  self->dev.device_fd, (off_t)self->bar2.offset);
	uint64_t v, w;
	unsigned int i;

	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < 64; i++) {
		v = 0x0123456789abcdefULL ^ ((uint64_t)i << 32) ^ i;
		memcpy(p + i * 4096 + 8, &v, 8);
		ASSERT_EQ(8, vfio_region_read(&self->dev, 2, i * 4096 + 8,
					      &w, 8));
		EXPECT_EQ(v, w);
		v = ~v;
		ASSERT_EQ(8, vfio_region_write(&self->dev, 2, i * 4096 + 16,
					       &v, 8));
		memcpy(&w, p + i * 4096 + 16, 8);
		EXPECT_EQ(v, w);
	}
	/* 1, 2 and 4 byte region accesses see the same bytes. */
	for (i = 1; i <= 4; i <<= 1) {
		w = 0;
		ASSERT_EQ(i, vfio_region_read(&self->dev, 2, 8, &w, i));
		EXPECT_EQ(0, memcmp(&w, p + 8, i));
	}
	munmap(p, len);
}

TEST_F(mmap, decode_off_sigbus)
{
	size_t len = SZ_2M;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			  self->dev.device_fd, (off_t)self->bar2.offset);
	uint32_t v;

	ASSERT_NE(MAP_FAILED, p);
	p[100] = 0x5a;
	ASSERT_EQ(0x5a, touch(p + 100));

	set_mem(&self->dev, 0);
	bus_errors = 0;
	EXPECT_EQ(-1, touch(p + 100));
	EXPECT_EQ(-1, touch(p + 8192));
	EXPECT_EQ(2, __atomic_load_n(&bus_errors, __ATOMIC_RELAXED));
	errno = 0;
	EXPECT_EQ(-1, vfio_region_read(&self->dev, 2, 0, &v, 4));
	EXPECT_EQ(EIO, errno);

	set_mem(&self->dev, 1);
	EXPECT_EQ(0x5a, touch(p + 100));
	EXPECT_EQ(2, __atomic_load_n(&bus_errors, __ATOMIC_RELAXED));
	munmap(p, len);
}

/*
 * Memory decode turned off in hardware behind vfio's back, as a reset that
 * vfio did not see would leave it, while the user still has it on.  Access
 * to the BAR is decided from the user's view of COMMAND, not from a config
 * read per access: region reads and new faults still go through (to a
 * device that does not answer), and the user's next COMMAND write with
 * memory enable set turns decode back on, data intact.
 */
TEST_F(mmap, decode_lost_behind_back)
{
	size_t len = 2 * SZ_2M;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			  self->dev.device_fd, (off_t)self->bar2.offset);
	uint16_t hw = 0;
	uint32_t v;

	ASSERT_NE(MAP_FAILED, p);
	p[100] = 0xa5;
	ASSERT_EQ(2, sysfs_read_config(self->dev.bdf, PCI_COMMAND, &hw, 2));
	ASSERT_TRUE(hw & PCI_COMMAND_MEMORY);
	hw &= ~PCI_COMMAND_MEMORY;
	ASSERT_EQ(2, sysfs_write_config(self->dev.bdf, PCI_COMMAND, &hw, 2));

	bus_errors = 0;
	errno = 0;
	EXPECT_EQ(4, vfio_region_read(&self->dev, 2, 0, &v, 4))
		TH_LOG("region read with decode lost: %s", strerror(errno));
	/* Past any 2M block the first fault may have mapped. */
	EXPECT_NE(-1, touch(p + SZ_2M + 4096));
	EXPECT_EQ(0, __atomic_load_n(&bus_errors, __ATOMIC_RELAXED));

	set_mem(&self->dev, 1);
	ASSERT_EQ(2, sysfs_read_config(self->dev.bdf, PCI_COMMAND, &hw, 2));
	EXPECT_TRUE(hw & PCI_COMMAND_MEMORY);
	EXPECT_EQ(0xa5, touch(p + 100));
	EXPECT_EQ(4, vfio_region_read(&self->dev, 2, 100, &v, 4));
	EXPECT_EQ(0xa5, v & 0xff);
	EXPECT_EQ(0, __atomic_load_n(&bus_errors, __ATOMIC_RELAXED));
	munmap(p, len);
}

TEST_F(mmap, huge_faults)
{
	size_t len = self->bar2.size;
	size_t align = len >= SZ_1G ? SZ_1G : SZ_2M;
	uint8_t *p;
	long before, faults;
	size_t off;
	unsigned long pages = 0;

	/*
	 * x86 maps PFNs with PMD/PUD entries only in kernels built with
	 * transparent huge pages; without them every 4K page faults alone.
	 */
	if (access("/sys/kernel/mm/transparent_hugepage", F_OK))
		SKIP(return, "kernel without transparent huge pages");
	p = map_aligned(self->dev.device_fd, &self->bar2, len, align);
	ASSERT_NE(MAP_FAILED, p);
	before = minflt();
	for (off = 0; off < 4 * SZ_2M && off < len; off += 4096, pages++)
		peek(p + off);
	for (; off < len; off += SZ_2M, pages++)
		peek(p + off);
	faults = minflt() - before;
	printf("# huge_faults: %lu pages touched in a %zu MiB BAR took %ld faults\n",
	       pages, len >> 20, faults);
	/* 4K faults would take one per page touched. */
	EXPECT_LT(faults, (long)pages / 8);
	munmap(p, len);
}

TEST_F(mmap, subpage_bar)
{
	uint8_t *p;
	uint32_t a, b;
	unsigned int off;

	ASSERT_TRUE(self->bar0.flags & VFIO_REGION_INFO_FLAG_MMAP);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->dev.device_fd, (off_t)self->bar0.offset);
	ASSERT_NE(MAP_FAILED, p);
	/* ivshmem-plain registers: mask, status, IV position, doorbell. */
	for (off = 0; off < 16; off += 4) {
		ASSERT_EQ(4, vfio_region_read(&self->dev, 0, off, &a, 4));
		b = __atomic_load_n((uint32_t *)(p + off), __ATOMIC_RELAXED);
		EXPECT_EQ(a, b) TH_LOG("register %#x", off);
	}
	munmap(p, 4096);
	/* Two pages of a 256-byte BAR is past its end. */
	p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, self->dev.device_fd,
		 (off_t)self->bar0.offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

/* A byte pattern that differs for every offset and every @seed. */
static void fill_pattern(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed * 31 + (i >> 8));
}

TEST_F(mmap, unaligned_lengths)
{
	static const size_t offs[] = { 0, 1, 3, 6, 250, 4093 };
	static const size_t lens[] = { 1, 7, 9, 255, 256, 257, 1000, 4099 };
	const size_t win = 3 * 4096;
	uint8_t *map, *want, *got;
	unsigned int seed = 0;
	size_t o, l;

	map = mmap(NULL, win, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->dev.device_fd, (off_t)self->bar2.offset);
	ASSERT_NE(MAP_FAILED, map);
	want = malloc(win);
	got = malloc(win);
	ASSERT_TRUE(want && got);

	for (o = 0; o < ARRAY_SIZE(offs); o++) {
		for (l = 0; l < ARRAY_SIZE(lens); l++) {
			size_t off = offs[o], len = lens[l];

			/* A write lands exactly on its bytes, not beyond. */
			fill_pattern(want, win, ++seed);
			memcpy(map, want, win);
			fill_pattern(want + off, len, ++seed);
			ASSERT_EQ((ssize_t)len,
				  vfio_region_write(&self->dev, 2, off,
						    want + off, len));
			EXPECT_EQ(0, memcmp(map, want, win))
				TH_LOG("write of %zu at %zu", len, off);

			/* A read returns exactly the mapping's bytes. */
			fill_pattern(map, win, ++seed);
			memset(got, 0, win);
			ASSERT_EQ((ssize_t)len,
				  vfio_region_read(&self->dev, 2, off,
						   got, len));
			EXPECT_EQ(0, memcmp(got, map + off, len))
				TH_LOG("read of %zu at %zu", len, off);
		}
	}
	free(want);
	free(got);
	munmap(map, win);
}

TEST_F(mmap, user_buffer_fault)
{
	const size_t page = 4096, head = 24, len = 64, off = 0x1000;
	uint8_t *map, *buf, want[64];
	ssize_t n;

	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->dev.device_fd, (off_t)self->bar2.offset);
	ASSERT_NE(MAP_FAILED, map);
	/* Two pages, the second unmapped: the buffer runs into it. */
	buf = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, munmap(buf + page, page));

	/* A write moves the bytes before the hole and stops there. */
	memset(map + off, 0x11, len);
	fill_pattern(buf + page - head, head, 5);
	n = vfio_region_write(&self->dev, 2, off, buf + page - head, len);
	EXPECT_EQ((ssize_t)head, n) TH_LOG("errno %d", errno);
	memset(want, 0x11, len);
	memcpy(want, buf + page - head, head);
	EXPECT_EQ(0, memcmp(map + off, want, len));

	/* A read delivers the bytes that fit before the hole. */
	fill_pattern(map + off, len, 6);
	memset(buf + page - head, 0, head);
	n = vfio_region_read(&self->dev, 2, off, buf + page - head, len);
	EXPECT_EQ((ssize_t)head, n) TH_LOG("errno %d", errno);
	EXPECT_EQ(0, memcmp(buf + page - head, map + off, head));

	/* Nothing to move at all: EFAULT, and the BAR is untouched. */
	memset(map + off, 0x22, len);
	errno = 0;
	EXPECT_EQ(-1, vfio_region_write(&self->dev, 2, off, buf + page, len));
	EXPECT_EQ(EFAULT, errno);
	memset(want, 0x22, len);
	EXPECT_EQ(0, memcmp(map + off, want, len));
	errno = 0;
	EXPECT_EQ(-1, vfio_region_read(&self->dev, 2, off, buf + page, len));
	EXPECT_EQ(EFAULT, errno);

	munmap(buf, page);
	munmap(map, 2 * page);
}

TEST_HARNESS_MAIN
