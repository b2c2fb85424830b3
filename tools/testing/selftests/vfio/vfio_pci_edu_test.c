// SPDX-License-Identifier: GPL-2.0-only
/*
 * Functional tests of vfio-pci against QEMU's "edu" educational device
 * (PCI 1234:11e8), whose behaviour is fully specified, so that BAR
 * accesses through VFIO can be checked value by value:
 *
 *   BAR0 (1 MiB MMIO)
 *   0x00  identification, reads 0xRRrr00ed (major, minor, 0, 0xed)
 *   0x04  liveness check: reads back the bitwise inverse of what was written
 *   0x08  factorial: write n, read n! (32-bit) once computing is done
 *   0x20  status: bit 0 set while the factorial is being computed
 *   0x24  interrupt status
 *   0x60  interrupt raise (write), 0x64 interrupt acknowledge (write)
 *   0x80  DMA source address (the only registers that accept 8-byte access)
 *
 * Below 0x80 the device only implements 4-byte accesses; QEMU refuses
 * narrower ones and edu itself ignores wider ones (reads all ones, writes
 * dropped).  That lets the tests see whether VFIO forwards each access with
 * the width the user asked for.
 *
 * The device is named by $VFIO_SELFTESTS_BDF and must be bound to vfio-pci.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_BAR0_SIZE		(1024 * 1024)

#define EDU_REG_ID		0x00
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_FACTORIAL	0x08
#define EDU_REG_STATUS		0x20
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80

#define EDU_STATUS_COMPUTING	0x01
#define EDU_TEST_IRQ		0x00010000u	/* an otherwise unused bit */

FIXTURE(edu) {
	struct vfio_pci_dev dev;
	struct vfio_region_info bar0;
};

FIXTURE_SETUP(edu)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	const char *bdf = vfio_selftests_bdf();
	uint16_t ids[2];

	if (!bdf)
		SKIP(return, "%s is not set", VFIO_SELFTESTS_BDF_ENV);

	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, bdf, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(4, vfio_region_read(&self->dev, VFIO_PCI_CONFIG_REGION_INDEX,
				      PCI_VENDOR_ID, ids, sizeof(ids)));
	if (ids[0] != EDU_VENDOR || ids[1] != EDU_DEVICE)
		SKIP(return, "%s is %04x:%04x, not an edu device", bdf,
		     ids[0], ids[1]);
	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd,
				      VFIO_PCI_BAR0_REGION_INDEX, &self->bar0));
}

FIXTURE_TEARDOWN(edu)
{
	vfio_pci_dev_close(&self->dev);
}

static int bar0_read(struct vfio_pci_dev *dev, uint64_t off, void *val,
		     size_t len)
{
	ssize_t n = vfio_region_read(dev, VFIO_PCI_BAR0_REGION_INDEX, off, val,
				     len);

	return n == (ssize_t)len ? 0 : -1;
}

static int bar0_write(struct vfio_pci_dev *dev, uint64_t off,
		      const void *val, size_t len)
{
	ssize_t n = vfio_region_write(dev, VFIO_PCI_BAR0_REGION_INDEX, off,
				      val, len);

	return n == (ssize_t)len ? 0 : -1;
}

static int rd32(struct vfio_pci_dev *dev, uint64_t off, uint32_t *val)
{
	return bar0_read(dev, off, val, sizeof(*val));
}

static int wr32(struct vfio_pci_dev *dev, uint64_t off, uint32_t val)
{
	return bar0_write(dev, off, &val, sizeof(val));
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait for the factorial unit to go idle; 0 when idle, -1 on timeout. */
static int edu_wait_idle(struct vfio_pci_dev *dev, uint32_t *status)
{
	uint64_t deadline = now_ms() + 5000;

	do {
		if (rd32(dev, EDU_REG_STATUS, status))
			return -1;
		if (!(*status & EDU_STATUS_COMPUTING))
			return 0;
		usleep(100);
	} while (now_ms() < deadline);
	return -1;
}

static uint32_t factorial32(uint32_t n)
{
	uint32_t r = 1;

	while (n > 1)
		r *= n--;
	return r;
}

TEST_F(edu, bar0_region_info)
{
	struct vfio_region_info info;
	uint32_t bar;

	EXPECT_EQ((uint64_t)EDU_BAR0_SIZE, self->bar0.size);
	EXPECT_EQ((uint32_t)(VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE |
			     VFIO_REGION_INFO_FLAG_MMAP),
		  self->bar0.flags & (VFIO_REGION_INFO_FLAG_READ |
				      VFIO_REGION_INFO_FLAG_WRITE |
				      VFIO_REGION_INFO_FLAG_MMAP));
	/* edu has a single BAR. */
	for (bar = VFIO_PCI_BAR1_REGION_INDEX;
	     bar <= VFIO_PCI_BAR5_REGION_INDEX; bar++) {
		ASSERT_EQ(0, vfio_region_info(self->dev.device_fd, bar, &info));
		EXPECT_EQ(0ULL, info.size) TH_LOG("BAR%u", bar);
	}
}

TEST_F(edu, identification)
{
	uint32_t id;

	ASSERT_EQ(0, rd32(&self->dev, EDU_REG_ID, &id));
	EXPECT_EQ(0xedu, id & 0xff) TH_LOG("id %#x", id);
	EXPECT_EQ(0u, (id >> 8) & 0xff) TH_LOG("id %#x", id);
	EXPECT_GE(id >> 24, 1u) TH_LOG("id %#x", id);
}

TEST_F(edu, liveness)
{
	const uint32_t vals[] = { 0, 1, 0x12345678, 0xdeadbeef, 0xffffffff,
				  0x80000000 };
	unsigned int i;
	uint32_t got;

	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		ASSERT_EQ(0, wr32(&self->dev, EDU_REG_LIVENESS, vals[i]));
		ASSERT_EQ(0, rd32(&self->dev, EDU_REG_LIVENESS, &got));
		EXPECT_EQ(~vals[i], got) TH_LOG("wrote %#x", vals[i]);
	}
}

TEST_F(edu, factorial)
{
	const uint32_t ns[] = { 0, 1, 2, 3, 5, 8, 10, 12, 13, 20, 33 };
	uint32_t status, got;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ns); i++) {
		ASSERT_EQ(0, edu_wait_idle(&self->dev, &status));
		ASSERT_EQ(0, wr32(&self->dev, EDU_REG_FACTORIAL, ns[i]));
		ASSERT_EQ(0, edu_wait_idle(&self->dev, &status))
			TH_LOG("factorial of %u never finished", ns[i]);
		ASSERT_EQ(0, rd32(&self->dev, EDU_REG_FACTORIAL, &got));
		EXPECT_EQ(factorial32(ns[i]), got) TH_LOG("%u!", ns[i]);
	}
}

/*
 * Byte and word accesses must reach the device as byte and word accesses:
 * edu refuses them, so a correct pass-through never returns the 0xed that a
 * 4-byte access to the same address yields, and a byte write must not
 * become a read-modify-write of the whole register.
 */
TEST_F(edu, narrow_access_width)
{
	uint32_t before, after;
	uint16_t w = 0;
	uint8_t b = 0;

	ASSERT_EQ(0, bar0_read(&self->dev, EDU_REG_ID, &b, 1));
	EXPECT_NE(0xed, b) TH_LOG("1-byte read was widened");
	ASSERT_EQ(0, bar0_read(&self->dev, EDU_REG_ID, &w, 2));
	EXPECT_NE(0x00ed, w) TH_LOG("2-byte read was widened");

	ASSERT_EQ(0, wr32(&self->dev, EDU_REG_LIVENESS, 0x0f0f0f0f));
	ASSERT_EQ(0, rd32(&self->dev, EDU_REG_LIVENESS, &before));
	ASSERT_EQ(0xf0f0f0f0u, before);
	b = 0x55;
	ASSERT_EQ(0, bar0_write(&self->dev, EDU_REG_LIVENESS, &b, 1));
	w = 0xaaaa;
	ASSERT_EQ(0, bar0_write(&self->dev, EDU_REG_LIVENESS + 2, &w, 2));
	ASSERT_EQ(0, rd32(&self->dev, EDU_REG_LIVENESS, &after));
	EXPECT_EQ(before, after) TH_LOG("narrow write changed the register");
}

/*
 * An aligned 8-byte access is one 64-bit access: edu holds the full 64-bit
 * DMA address at 0x80, but rejects 64-bit reads of the 32-bit registers.
 * Split into two 4-byte accesses, both checks would see different values.
 */
TEST_F(edu, qword_access)
{
	const uint64_t pattern = 0x0123456789abcdefULL;
	uint64_t q = 0, saved;
	uint32_t low;

	ASSERT_EQ(0, bar0_read(&self->dev, EDU_REG_DMA_SRC, &saved, 8));
	ASSERT_EQ(0, bar0_write(&self->dev, EDU_REG_DMA_SRC, &pattern, 8));
	ASSERT_EQ(0, bar0_read(&self->dev, EDU_REG_DMA_SRC, &q, 8));
	EXPECT_EQ(pattern, q);
	ASSERT_EQ(0, rd32(&self->dev, EDU_REG_DMA_SRC, &low));
	EXPECT_EQ((uint32_t)pattern, low);
	EXPECT_EQ(0, bar0_write(&self->dev, EDU_REG_DMA_SRC, &saved, 8));

	ASSERT_EQ(0, bar0_read(&self->dev, EDU_REG_ID, &q, 8));
	EXPECT_EQ(~0ULL, q) TH_LOG("8-byte read of the id register: %#llx",
				   (unsigned long long)q);
}

/*
 * A read spanning several registers is split into the widest naturally
 * aligned accesses: at 4 a dword, then at 8 a qword (which edu answers
 * with all ones below 0x80); 8 bytes at 4 are two dword accesses.
 */
TEST_F(edu, multi_register_read)
{
	uint32_t regs[3], status;

	ASSERT_EQ(0, wr32(&self->dev, EDU_REG_LIVENESS, 0x00ff00ff));
	ASSERT_EQ(0, edu_wait_idle(&self->dev, &status));
	ASSERT_EQ(0, wr32(&self->dev, EDU_REG_FACTORIAL, 4));
	ASSERT_EQ(0, edu_wait_idle(&self->dev, &status));

	ASSERT_EQ(0, bar0_read(&self->dev, EDU_REG_LIVENESS, regs, 8));
	EXPECT_EQ(0xff00ff00u, regs[0]);
	EXPECT_EQ(24u, regs[1]);

	ASSERT_EQ(0, bar0_read(&self->dev, EDU_REG_LIVENESS, regs, 12));
	EXPECT_EQ(0xff00ff00u, regs[0]);
	EXPECT_EQ(0xffffffffu, regs[1]);
	EXPECT_EQ(0xffffffffu, regs[2]);
}

TEST_F(edu, access_past_bar_end)
{
	uint32_t v = 0;
	uint64_t buf[2];
	ssize_t n;

	errno = 0;
	EXPECT_EQ(-1, vfio_region_read(&self->dev, VFIO_PCI_BAR0_REGION_INDEX,
				       self->bar0.size, &v, 4));
	EXPECT_EQ(EINVAL, errno);

	errno = 0;
	EXPECT_EQ(-1, vfio_region_write(&self->dev, VFIO_PCI_BAR0_REGION_INDEX,
					self->bar0.size + 4096, &v, 4));
	EXPECT_EQ(EINVAL, errno);

	/* A read running over the end is cut short at the end. */
	n = vfio_region_read(&self->dev, VFIO_PCI_BAR0_REGION_INDEX,
			     self->bar0.size - 4, buf, sizeof(buf));
	EXPECT_EQ(4, n);

	/* Nothing is implemented behind the last dword: edu reads all ones. */
	EXPECT_EQ(0, rd32(&self->dev, self->bar0.size - 4, &v));
	EXPECT_EQ(0xffffffffu, v);
}

/*
 * Single 32-bit loads and stores through a mapping of the BAR; relaxed
 * atomics keep the compiler from merging, splitting or dropping them.
 */
static uint32_t mmio_rd32(void *base, uint64_t off)
{
	return __atomic_load_n((uint32_t *)((char *)base + off),
			       __ATOMIC_RELAXED);
}

static void mmio_wr32(void *base, uint64_t off, uint32_t val)
{
	__atomic_store_n((uint32_t *)((char *)base + off), val,
			 __ATOMIC_RELAXED);
}

TEST_F(edu, mmap_bar0)
{
	uint32_t got;
	void *bar;

	ASSERT_TRUE(self->bar0.flags & VFIO_REGION_INFO_FLAG_MMAP);
	bar = mmap(NULL, self->bar0.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->dev.device_fd, (off_t)self->bar0.offset);
	ASSERT_NE(MAP_FAILED, bar) TH_LOG("mmap: %s", strerror(errno));

	EXPECT_EQ(0xedu, mmio_rd32(bar, EDU_REG_ID) & 0xff);

	/* Written through the mapping, read back through pread, and back. */
	mmio_wr32(bar, EDU_REG_LIVENESS, 0xcafef00d);
	ASSERT_EQ(0, rd32(&self->dev, EDU_REG_LIVENESS, &got));
	EXPECT_EQ(~0xcafef00du, got);
	ASSERT_EQ(0, wr32(&self->dev, EDU_REG_LIVENESS, 0x13572468));
	EXPECT_EQ(~0x13572468u, mmio_rd32(bar, EDU_REG_LIVENESS));

	/* Factorial through the mapping alone. */
	while (mmio_rd32(bar, EDU_REG_STATUS) & EDU_STATUS_COMPUTING)
		usleep(100);
	mmio_wr32(bar, EDU_REG_FACTORIAL, 7);
	while (mmio_rd32(bar, EDU_REG_STATUS) & EDU_STATUS_COMPUTING)
		usleep(100);
	EXPECT_EQ(5040u, mmio_rd32(bar, EDU_REG_FACTORIAL));

	EXPECT_EQ(0, munmap(bar, self->bar0.size));
}

/* Mapping more than the BAR, or at an offset past it, is refused. */
TEST_F(edu, mmap_bad_range)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	p = mmap(NULL, self->bar0.size + page, PROT_READ, MAP_SHARED,
		 self->dev.device_fd, (off_t)self->bar0.offset);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, self->bar0.size + page);

	p = mmap(NULL, page, PROT_READ, MAP_SHARED, self->dev.device_fd,
		 (off_t)(self->bar0.offset + self->bar0.size));
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, page);
}

static int set_irq_eventfd(int device_fd, uint32_t index, int efd)
{
	struct {
		struct vfio_irq_set set;
		int32_t fd;
	} req;

	memset(&req, 0, sizeof(req));
	req.set.argsz = sizeof(req);
	req.set.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	req.set.index = index;
	req.set.start = 0;
	req.set.count = 1;
	req.fd = efd;
	return ioctl(device_fd, VFIO_DEVICE_SET_IRQS, &req);
}

static int irq_action(int device_fd, uint32_t index, uint32_t action,
		      uint32_t count)
{
	struct vfio_irq_set set;

	memset(&set, 0, sizeof(set));
	set.argsz = sizeof(set);
	set.flags = VFIO_IRQ_SET_DATA_NONE | action;
	set.index = index;
	set.start = 0;
	set.count = count;
	return ioctl(device_fd, VFIO_DEVICE_SET_IRQS, &set);
}

static void edu_irq_roundtrip(struct __test_metadata *_metadata,
			      struct vfio_pci_dev *dev, uint32_t index)
{
	struct vfio_irq_info info;
	uint16_t cmd;
	uint32_t st;
	int efd;

	ASSERT_EQ(0, vfio_irq_info(dev->device_fd, index, &info));
	ASSERT_GE(info.count, 1u);

	/* MSIs are memory writes: the device needs to be a bus master. */
	ASSERT_EQ(2, vfio_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX,
				      PCI_COMMAND, &cmd, 2));
	cmd |= PCI_COMMAND_MASTER;
	ASSERT_EQ(2, vfio_region_write(dev, VFIO_PCI_CONFIG_REGION_INDEX,
				       PCI_COMMAND, &cmd, 2));

	/* Start from a quiet device. */
	ASSERT_EQ(0, wr32(dev, EDU_REG_IRQ_ACK, 0xffffffffu));

	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_GE(efd, 0);
	ASSERT_EQ(0, set_irq_eventfd(dev->device_fd, index, efd))
		TH_LOG("SET_IRQS trigger: %s", strerror(errno));

	/* Nothing is pending before the device raises an interrupt. */
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, 50));

	ASSERT_EQ(0, wr32(dev, EDU_REG_IRQ_RAISE, EDU_TEST_IRQ));
	EXPECT_GE(vfio_eventfd_wait(efd, 2000), 1ULL) TH_LOG("no interrupt");
	ASSERT_EQ(0, rd32(dev, EDU_REG_IRQ_STATUS, &st));
	EXPECT_TRUE(st & EDU_TEST_IRQ);
	ASSERT_EQ(0, wr32(dev, EDU_REG_IRQ_ACK, EDU_TEST_IRQ));
	ASSERT_EQ(0, rd32(dev, EDU_REG_IRQ_STATUS, &st));
	EXPECT_FALSE(st & EDU_TEST_IRQ);

	if (index == VFIO_PCI_INTX_IRQ_INDEX)	/* automasked: unmask */ {
		ASSERT_EQ(0, irq_action(dev->device_fd, index,
					VFIO_IRQ_SET_ACTION_UNMASK, 1));
	}

	/* A second interrupt is delivered as well. */
	ASSERT_EQ(0, wr32(dev, EDU_REG_IRQ_RAISE, EDU_TEST_IRQ));
	EXPECT_GE(vfio_eventfd_wait(efd, 2000), 1ULL) TH_LOG("no 2nd interrupt");
	ASSERT_EQ(0, wr32(dev, EDU_REG_IRQ_ACK, EDU_TEST_IRQ));

	/* Tear down: count 0 with DATA_NONE disables the index. */
	EXPECT_EQ(0, irq_action(dev->device_fd, index,
				VFIO_IRQ_SET_ACTION_TRIGGER, 0));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, 100)) TH_LOG("irq after disable");
	close(efd);
}

TEST_F(edu, intx_interrupt)
{
	edu_irq_roundtrip(_metadata, &self->dev, VFIO_PCI_INTX_IRQ_INDEX);
}

TEST_F(edu, msi_interrupt)
{
	edu_irq_roundtrip(_metadata, &self->dev, VFIO_PCI_MSI_IRQ_INDEX);
}

TEST_HARNESS_MAIN
