// SPDX-License-Identifier: GPL-2.0-only
/*
 * Security regressions of vfio-pci, one test each, quick enough to run on
 * every device in every suite run.  Each pins down a class of bug that has
 * hit VFIO drivers before:
 *
 *   decode_off       BAR access with memory decode off must not reach the
 *                    device: read/write give EIO, an mmap touch SIGBUS.
 *   irq_set_overflow SET_IRQS with start + count wrapping 32 bits, or a
 *                    count whose data size wraps, or argsz short of the
 *                    data: EINVAL, nothing read past argsz.
 *   index_bounds     region and IRQ indexes far past the end, including
 *                    ones that only the high bits of the file offset
 *                    carry: EINVAL, never another region.
 *   msix_table       the MSI-X table inside a BAR is the kernel's: writes
 *                    through the region are dropped, reads give all ones.
 *   intx_race        INTx trigger/mask/unmask/teardown from several
 *                    threads while the device raises its interrupt; INTx
 *                    still delivers afterwards.
 *   hot_reset_fds    PCI_HOT_RESET with fds that are not groups (or not
 *                    fds) is refused without resetting anything.
 *   vf_token         the VF token feature does not exist on a device that
 *                    is not an SR-IOV PF.
 *
 * The device is $VFIO_SELFTESTS_BDF, bound to vfio-pci; tests that need
 * what the device lacks (an MSI-X table, INTx, edu) are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
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

#define REGION_SHIFT		40
#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64

FIXTURE(sec) {
	struct vfio_pci_dev dev;
	uint8_t cfg[256];
	uint16_t vendor, device;
};

FIXTURE_SETUP(sec)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	const char *bdf = vfio_selftests_bdf();

	if (!bdf)
		SKIP(return, "%s is not set", VFIO_SELFTESTS_BDF_ENV);
	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, bdf, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(sizeof(self->cfg),
		  vfio_region_read(&self->dev, VFIO_PCI_CONFIG_REGION_INDEX, 0,
				   self->cfg, sizeof(self->cfg)));
	memcpy(&self->vendor, &self->cfg[PCI_VENDOR_ID], 2);
	memcpy(&self->device, &self->cfg[PCI_DEVICE_ID], 2);
}

FIXTURE_TEARDOWN(sec)
{
	vfio_pci_dev_close(&self->dev);
}

static bool is_edu(FIXTURE_DATA(sec) * self)
{
	return self->vendor == EDU_VENDOR && self->device == EDU_DEVICE;
}

/* First memory BAR that can be mmapped, or -1. */
static int mmap_bar(struct vfio_pci_dev *dev, struct vfio_region_info *r)
{
	int i;

	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++)
		if (!vfio_region_info(dev->device_fd, i, r) &&
		    (r->flags & VFIO_REGION_INFO_FLAG_MMAP) && r->size >= 4096)
			return i;
	return -1;
}

static int write_cmd(struct vfio_pci_dev *dev, uint16_t cmd)
{
	return vfio_region_write(dev, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND,
				 &cmd, 2) == 2 ? 0 : -1;
}

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

static int got_sigbus;

/* 1 if reading *p raises SIGBUS, 0 if it returns. */
static int touch_gets_sigbus(uint32_t *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	got_sigbus = 1;
	if (!sigsetjmp(bus_jmp, 1)) {
		(void)__atomic_load_n(p, __ATOMIC_RELAXED);
		got_sigbus = 0;
	}
	sigaction(SIGBUS, &old, NULL);
	return got_sigbus;
}

TEST_F(sec, decode_off)
{
	struct vfio_region_info r;
	uint32_t *map;
	uint16_t cmd;
	uint32_t v = 0;
	int bar;

	bar = mmap_bar(&self->dev, &r);
	if (bar < 0)
		SKIP(return, "no mmap-able memory BAR");
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->dev.device_fd, r.offset);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(4, vfio_region_read(&self->dev, bar, 0, &v, 4));
	/* fault it in while decode is on */
	(void)__atomic_load_n(map, __ATOMIC_RELAXED);

	memcpy(&cmd, &self->cfg[PCI_COMMAND], 2);
	ASSERT_EQ(0, write_cmd(&self->dev, cmd & ~PCI_COMMAND_MEMORY));

	EXPECT_EQ(-1, vfio_region_read(&self->dev, bar, 0, &v, 4));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(-1, vfio_region_write(&self->dev, bar, 0, &v, 4));
	EXPECT_EQ(EIO, errno);

	EXPECT_EQ(1, touch_gets_sigbus(map))
		TH_LOG("mmap read with memory decode off did not fault");

	/* Decode back on: both paths work again. */
	ASSERT_EQ(0, write_cmd(&self->dev, cmd | PCI_COMMAND_MEMORY));
	EXPECT_EQ(4, vfio_region_read(&self->dev, bar, 0, &v, 4));
	(void)__atomic_load_n(map, __ATOMIC_RELAXED);
	munmap(map, 4096);
}

static int set_irqs(int fd, uint32_t argsz, uint32_t flags, uint32_t index,
		    uint32_t start, uint32_t count)
{
	struct {
		struct vfio_irq_set set;
		int32_t data[8];
	} s;

	memset(&s, 0, sizeof(s));
	s.set.argsz = argsz;
	s.set.flags = flags;
	s.set.index = index;
	s.set.start = start;
	s.set.count = count;
	s.data[0] = -1;
	return ioctl(fd, VFIO_DEVICE_SET_IRQS, &s) ? errno : 0;
}

TEST_F(sec, irq_set_overflow)
{
	const uint32_t efd = VFIO_IRQ_SET_DATA_EVENTFD |
			     VFIO_IRQ_SET_ACTION_TRIGGER;
	const uint32_t none = VFIO_IRQ_SET_DATA_NONE |
			      VFIO_IRQ_SET_ACTION_TRIGGER;
	const uint32_t hdr = sizeof(struct vfio_irq_set);
	struct vfio_irq_info info;
	uint32_t index;
	int fd = self->dev.device_fd;

	for (index = VFIO_PCI_INTX_IRQ_INDEX; index <= VFIO_PCI_MSIX_IRQ_INDEX;
	     index++) {
		if (vfio_irq_info(fd, index, &info) || !info.count)
			continue;
		/* start + count wraps to a small number */
		EXPECT_EQ(EINVAL, set_irqs(fd, hdr, none, index, 1, 0xffffffff));
		EXPECT_EQ(EINVAL, set_irqs(fd, hdr, none, index, 0xffffffff, 2));
		EXPECT_EQ(EINVAL, set_irqs(fd, hdr + 4, efd, index,
					   0xffffffff, 1));
		/* 0x40000001 eventfds: 4 * count wraps to 4 bytes */
		EXPECT_EQ(EINVAL, set_irqs(fd, hdr + 4, efd, index, 0,
					   0x40000001));
		/* one past the last vector */
		EXPECT_EQ(EINVAL, set_irqs(fd, hdr + 4 * 8, efd, index,
					   info.count, 1));
		/* argsz one byte short of the data */
		EXPECT_EQ(EINVAL, set_irqs(fd, hdr + 3, efd, index, 0, 1));
		/* and argsz short of the header */
		EXPECT_EQ(EINVAL, set_irqs(fd, hdr - 1, none, index, 0, 0));
	}
}

TEST_F(sec, index_bounds)
{
	static const uint32_t bad[] = { 0x80000000, 0xffffffff, 0x7fffff,
					0x10000 };
	struct vfio_region_info r;
	struct vfio_irq_info irq;
	struct vfio_device_ioeventfd ie;
	int fd = self->dev.device_fd;
	uint32_t v;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(-EINVAL, vfio_region_info(fd, bad[i], &r))
			TH_LOG("region index %#x", bad[i]);
		EXPECT_EQ(-EINVAL, vfio_irq_info(fd, bad[i], &irq))
			TH_LOG("irq index %#x", bad[i]);
		EXPECT_EQ(EINVAL, set_irqs(fd, sizeof(struct vfio_irq_set),
					   VFIO_IRQ_SET_DATA_NONE |
					   VFIO_IRQ_SET_ACTION_TRIGGER,
					   bad[i], 0, 0))
			TH_LOG("SET_IRQS index %#x", bad[i]);
	}
	EXPECT_EQ(-EINVAL, vfio_region_info(fd, self->dev.info.num_regions, &r));
	EXPECT_EQ(-EINVAL, vfio_irq_info(fd, self->dev.info.num_irqs, &irq));

	/* Indexes only the top bits of the file offset carry. */
	EXPECT_EQ(-1, pread(fd, &v, 4, (off_t)0x7fffffULL << REGION_SHIFT));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(fd, &v, 4,
			    (off_t)self->dev.info.num_regions << REGION_SHIFT));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pwrite(fd, &v, 4, (off_t)0x400000ULL << REGION_SHIFT));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(fd, &v, 4, -4));
	EXPECT_EQ(EINVAL, errno);

	memset(&ie, 0, sizeof(ie));
	ie.argsz = sizeof(ie);
	ie.flags = VFIO_DEVICE_IOEVENTFD_32;
	ie.offset = (uint64_t)0x7fffff << REGION_SHIFT;
	ie.fd = -1;
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_IOEVENTFD, &ie));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(sec, msix_table)
{
	unsigned int pos = pci_find_cap(self->cfg, PCI_CAP_ID_MSIX);
	uint32_t table, entries, bir, off, i, b, ones;
	uint8_t pattern[16], back[16];
	uint16_t ctrl;

	if (!pos)
		SKIP(return, "no MSI-X capability");
	memcpy(&ctrl, &self->cfg[pos + PCI_MSIX_FLAGS], 2);
	memcpy(&table, &self->cfg[pos + PCI_MSIX_TABLE], 4);
	entries = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;
	bir = table & PCI_MSIX_TABLE_BIR;
	off = table & PCI_MSIX_TABLE_OFFSET;

	memset(pattern, 0xa5, sizeof(pattern));
	for (i = 0; i < entries; i += entries > 1 ? entries - 1 : 1) {
		uint64_t at = off + i * PCI_MSIX_ENTRY_SIZE;

		/* Accepted (the user may write there) but dropped. */
		EXPECT_EQ(16, vfio_region_write(&self->dev, bir, at, pattern, 16))
			TH_LOG("write to MSI-X entry %u: %s", i, strerror(errno));
		memset(back, 0, sizeof(back));
		EXPECT_EQ(16, vfio_region_read(&self->dev, bir, at, back, 16));
		for (b = 0, ones = 0; b < sizeof(back); b++)
			ones += back[b] == 0xff;
		EXPECT_EQ(sizeof(back), ones)
			TH_LOG("MSI-X entry %u reads back %02x%02x%02x%02x...",
			       i, back[0], back[1], back[2], back[3]);
	}
}

struct intx_race {
	struct vfio_pci_dev *dev;
	atomic_bool stop;
	int efd;
};

static void *intx_trigger_thread(void *arg)
{
	struct intx_race *r = arg;
	unsigned int n = 0;

	while (!atomic_load(&r->stop)) {
		/* Alternately wire and tear down the trigger. */
		set_irqs(r->dev->device_fd, sizeof(struct vfio_irq_set) + 4,
			 VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			 VFIO_PCI_INTX_IRQ_INDEX, 0, 0);
		if (n++ & 1) {
			struct {
				struct vfio_irq_set set;
				int32_t fd;
			} s = { { sizeof(s), VFIO_IRQ_SET_DATA_EVENTFD |
				  VFIO_IRQ_SET_ACTION_TRIGGER,
				  VFIO_PCI_INTX_IRQ_INDEX, 0, 1 }, r->efd };
			ioctl(r->dev->device_fd, VFIO_DEVICE_SET_IRQS, &s);
		}
	}
	return NULL;
}

static void *intx_mask_thread(void *arg)
{
	struct intx_race *r = arg;
	unsigned int n = 0;

	while (!atomic_load(&r->stop))
		set_irqs(r->dev->device_fd, sizeof(struct vfio_irq_set),
			 VFIO_IRQ_SET_DATA_NONE | (n++ & 1 ?
			 VFIO_IRQ_SET_ACTION_MASK : VFIO_IRQ_SET_ACTION_UNMASK),
			 VFIO_PCI_INTX_IRQ_INDEX, 0, 1);
	return NULL;
}

static void *intx_device_thread(void *arg)
{
	struct intx_race *r = arg;
	uint32_t bit = 1, cmd_off = 0;
	uint16_t cmd;

	vfio_region_read(r->dev, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND,
			 &cmd, 2);
	while (!atomic_load(&r->stop)) {
		vfio_region_write(r->dev, VFIO_PCI_BAR0_REGION_INDEX,
				  EDU_REG_IRQ_RAISE, &bit, 4);
		vfio_region_write(r->dev, VFIO_PCI_BAR0_REGION_INDEX,
				  EDU_REG_IRQ_ACK, &bit, 4);
		/*
		 * DisINTx flips too: the user's bit and the kernel's mask
		 * must not get confused.
		 */
		cmd_off ^= PCI_COMMAND_INTX_DISABLE;
		cmd = (cmd & ~PCI_COMMAND_INTX_DISABLE) | cmd_off;
		write_cmd(r->dev, cmd);
	}
	cmd &= ~PCI_COMMAND_INTX_DISABLE;
	write_cmd(r->dev, cmd);
	return NULL;
}

TEST_F(sec, intx_race)
{
	void *(*fns[])(void *) = { intx_trigger_thread, intx_mask_thread,
				   intx_device_thread };
	struct intx_race r = { .dev = &self->dev };
	struct vfio_irq_info info;
	struct pollfd pfd;
	pthread_t tid[3];
	uint32_t bit = 1;
	uint64_t cnt;
	unsigned int i;

	if (!is_edu(self))
		SKIP(return, "needs edu to raise INTx on demand");
	if (vfio_irq_info(self->dev.device_fd, VFIO_PCI_INTX_IRQ_INDEX, &info) ||
	    !info.count)
		SKIP(return, "no INTx");
	r.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, r.efd);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, fns[i], &r));
	sleep(3);
	atomic_store(&r.stop, true);
	for (i = 0; i < 3; i++)
		pthread_join(tid[i], NULL);

	/* INTx still works: wire, ack leftovers, unmask, raise, receive. */
	ASSERT_EQ(0, set_irqs(self->dev.device_fd, sizeof(struct vfio_irq_set),
			      VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 0));
	{
		struct {
			struct vfio_irq_set set;
			int32_t fd;
		} s = { { sizeof(s), VFIO_IRQ_SET_DATA_EVENTFD |
			  VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_INTX_IRQ_INDEX,
			  0, 1 }, r.efd };
		ASSERT_EQ(0, ioctl(self->dev.device_fd, VFIO_DEVICE_SET_IRQS, &s));
	}
	ASSERT_EQ(4, vfio_region_write(&self->dev, VFIO_PCI_BAR0_REGION_INDEX,
				       EDU_REG_IRQ_ACK, &bit, 4));
	while (read(r.efd, &cnt, sizeof(cnt)) > 0)
		;
	ASSERT_EQ(0, set_irqs(self->dev.device_fd, sizeof(struct vfio_irq_set),
			      VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
			      VFIO_PCI_INTX_IRQ_INDEX, 0, 1));
	ASSERT_EQ(4, vfio_region_write(&self->dev, VFIO_PCI_BAR0_REGION_INDEX,
				       EDU_REG_IRQ_RAISE, &bit, 4));
	pfd.fd = r.efd;
	pfd.events = POLLIN;
	EXPECT_EQ(1, poll(&pfd, 1, 5000)) TH_LOG("INTx did not arrive");
	vfio_region_write(&self->dev, VFIO_PCI_BAR0_REGION_INDEX,
			  EDU_REG_IRQ_ACK, &bit, 4);
	close(r.efd);
}

static int hot_reset(int fd, int32_t group)
{
	struct {
		struct vfio_pci_hot_reset hr;
		int32_t fd;
	} h = { { sizeof(h), 0, 1 }, group };

	return ioctl(fd, VFIO_DEVICE_PCI_HOT_RESET, &h) ? errno : 0;
}

TEST_F(sec, hot_reset_fds)
{
	int efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	/* An fd that is not a VFIO group, and a number that is no fd. */
	EXPECT_EQ(EINVAL, hot_reset(self->dev.device_fd, efd));
	EXPECT_EQ(EBADF, hot_reset(self->dev.device_fd, -1));
	EXPECT_EQ(EINVAL, hot_reset(self->dev.device_fd,
				    self->dev.container_fd));
	close(efd);
}

TEST_F(sec, vf_token)
{
	struct {
		struct vfio_device_feature f;
		uint8_t uuid[16];
	} s;
	uint64_t total = 0;

	if (!sysfs_read_u64(self->dev.bdf, "sriov_totalvfs", &total) && total)
		SKIP(return, "an SR-IOV PF: the sriov tests cover the token");
	memset(&s, 0, sizeof(s));
	s.f.argsz = sizeof(s);
	s.f.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	memset(s.uuid, 0x11, sizeof(s.uuid));
	EXPECT_EQ(-1, ioctl(self->dev.device_fd, VFIO_DEVICE_FEATURE, &s));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_HARNESS_MAIN
