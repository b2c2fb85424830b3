// SPDX-License-Identifier: GPL-2.0-only
/*
 * A user's COMMAND write against INTx masking, on QEMU's edu device.
 *
 * With DisINTx masking, the INTx hard-irq handler sets INTX_DISABLE in the
 * device's COMMAND register when an interrupt arrives, and it stays set
 * until the user unmasks.  A user write of COMMAND that leaves INTX_DISABLE
 * alone must leave that mask in place, even when the interrupt arrives in
 * the middle of the write, between the driver's read of COMMAND and its
 * write-back; otherwise the line is unmasked behind the driver and the
 * still-asserted level interrupt storms.  The hardware register is read
 * through sysfs.
 *
 *   command_write_keeps_mask  the interrupt arrives before the write;
 *   interrupt_inside_write    the interrupt arrives inside the write: the
 *                             intx_inject test module (harness/tests/
 *                             intx-inject), loaded for this device, raises
 *                             it when the next COMMAND write starts.  Its
 *                             sysfs directory is $VFIO_INTX_INJECT (the
 *                             test skips without it).
 *
 * In both, once the user unmasks, the still-pending interrupt is delivered
 * exactly once, and after the device is acknowledged, not again.
 *
 * The device is named by $VFIO_SELFTESTS_BDF and must be bound to vfio-pci
 * with DisINTx masking (not nointxmask).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_TEST_IRQ		0x00010000u
/* The status bit intx_inject raises. */
#define EDU_INJECT_IRQ		0x00040000u

#define EVENT_MS		2000
#define QUIET_MS		200

FIXTURE(intx_cmd) {
	struct vfio_pci_dev dev;
	int efd;
};

static int intx_set(int fd, uint32_t action, int32_t *efd)
{
	struct {
		struct vfio_irq_set hdr;
		int32_t fd;
	} req = {
		.hdr = {
			.argsz = sizeof(req),
			.index = VFIO_PCI_INTX_IRQ_INDEX,
			.start = 0,
			.count = 1,
		},
	};

	req.hdr.flags = action | (efd ? VFIO_IRQ_SET_DATA_EVENTFD :
				  VFIO_IRQ_SET_DATA_NONE);
	if (efd)
		req.fd = *efd;
	else
		req.hdr.argsz = sizeof(req.hdr);
	return ioctl(fd, VFIO_DEVICE_SET_IRQS, &req) ? -errno : 0;
}

static int edu_write(struct vfio_pci_dev *dev, unsigned int reg, uint32_t v)
{
	return vfio_region_write(dev, VFIO_PCI_BAR0_REGION_INDEX, reg, &v,
				 4) == 4 ? 0 : -1;
}

static int user_cmd(struct vfio_pci_dev *dev, uint16_t *cmd, bool wr)
{
	ssize_t n;

	if (wr)
		n = vfio_region_write(dev, VFIO_PCI_CONFIG_REGION_INDEX,
				      PCI_COMMAND, cmd, 2);
	else
		n = vfio_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX,
				     PCI_COMMAND, cmd, 2);
	return n == 2 ? 0 : -1;
}

static uint16_t hw_cmd(struct __test_metadata *_metadata,
		       struct vfio_pci_dev *dev)
{
	uint16_t cmd = 0;

	EXPECT_EQ(2, sysfs_read_config(dev->bdf, PCI_COMMAND, &cmd, 2));
	return cmd;
}

FIXTURE_SETUP(intx_cmd)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	const char *bdf = vfio_selftests_bdf();
	uint16_t vendor = 0, device = 0, cmd;

	self->efd = -1;
	if (!bdf)
		SKIP(return, "%s is not set", VFIO_SELFTESTS_BDF_ENV);
	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, bdf, err, sizeof(err)))
		TH_LOG("%s", err);
	vfio_region_read(&self->dev, VFIO_PCI_CONFIG_REGION_INDEX,
			 PCI_VENDOR_ID, &vendor, 2);
	vfio_region_read(&self->dev, VFIO_PCI_CONFIG_REGION_INDEX,
			 PCI_DEVICE_ID, &device, 2);
	if (vendor != EDU_VENDOR || device != EDU_DEVICE)
		SKIP(return, "not an edu device");

	/* Decode and bus mastering on, INTx not disabled by the user. */
	ASSERT_EQ(0, user_cmd(&self->dev, &cmd, false));
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	cmd &= ~PCI_COMMAND_INTX_DISABLE;
	ASSERT_EQ(0, user_cmd(&self->dev, &cmd, true));
	ASSERT_EQ(0, edu_write(&self->dev, EDU_REG_IRQ_ACK, ~0u));

	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_GE(self->efd, 0);
	ASSERT_EQ(0, intx_set(self->dev.device_fd, VFIO_IRQ_SET_ACTION_TRIGGER,
			      &self->efd));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(self->efd, QUIET_MS))
		TH_LOG("INTx before any was raised");
	EXPECT_FALSE(hw_cmd(_metadata, &self->dev) & PCI_COMMAND_INTX_DISABLE)
		TH_LOG("INTx masked in hardware before any was raised");
}

FIXTURE_TEARDOWN(intx_cmd)
{
	int32_t none = -1;

	if (self->efd >= 0) {
		intx_set(self->dev.device_fd, VFIO_IRQ_SET_ACTION_TRIGGER,
			 &none);
		close(self->efd);
	}
	if (self->dev.device_fd > 0)
		vfio_pci_dev_close(&self->dev);
}

/*
 * The interrupt was delivered and is automasked, and the device still
 * asserts it: hardware DisINTx must be set, nothing more may arrive, and
 * unmasking must deliver the pending interrupt once; acknowledged, it must
 * not come back.
 */
static void expect_masked_then_once(struct __test_metadata *_metadata,
				    struct vfio_pci_dev *dev, int efd,
				    uint32_t bit)
{
	uint16_t hw = hw_cmd(_metadata, dev);

	EXPECT_TRUE(hw & PCI_COMMAND_INTX_DISABLE)
		TH_LOG("hardware COMMAND %#06x: INTx unmasked behind the driver",
		       hw);
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS))
		TH_LOG("interrupts while automasked");

	ASSERT_EQ(0, intx_set(dev->device_fd, VFIO_IRQ_SET_ACTION_UNMASK,
			      NULL));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS))
		TH_LOG("the pending interrupt after unmask");
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS))
		TH_LOG("more than one interrupt after unmask");
	EXPECT_TRUE(hw_cmd(_metadata, dev) & PCI_COMMAND_INTX_DISABLE);

	ASSERT_EQ(0, edu_write(dev, EDU_REG_IRQ_ACK, bit));
	ASSERT_EQ(0, intx_set(dev->device_fd, VFIO_IRQ_SET_ACTION_UNMASK,
			      NULL));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS))
		TH_LOG("interrupt after acknowledge");
	EXPECT_FALSE(hw_cmd(_metadata, dev) & PCI_COMMAND_INTX_DISABLE)
		TH_LOG("still masked in hardware after unmask");
}

TEST_F(intx_cmd, command_write_keeps_mask)
{
	uint16_t cmd;

	ASSERT_EQ(0, edu_write(&self->dev, EDU_REG_IRQ_RAISE, EDU_TEST_IRQ));
	ASSERT_EQ(1ULL, vfio_eventfd_wait(self->efd, EVENT_MS));
	ASSERT_TRUE(hw_cmd(_metadata, &self->dev) & PCI_COMMAND_INTX_DISABLE);

	/*
	 * The user's own view has INTX_DISABLE clear, and it is written back
	 * so.  Parity response flips, so that the write has something to do.
	 */
	ASSERT_EQ(0, user_cmd(&self->dev, &cmd, false));
	EXPECT_FALSE(cmd & PCI_COMMAND_INTX_DISABLE);
	cmd ^= PCI_COMMAND_PARITY;
	ASSERT_EQ(0, user_cmd(&self->dev, &cmd, true));
	expect_masked_then_once(_metadata, &self->dev, self->efd,
				EDU_TEST_IRQ);
}

static int inject_param(const char *name, char *val, size_t len, bool wr)
{
	const char *dir = getenv("VFIO_INTX_INJECT");
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/parameters/%s", dir, name);
	fd = open(path, wr ? O_WRONLY : O_RDONLY);
	if (fd < 0)
		return -1;
	n = wr ? pwrite(fd, val, len, 0) : pread(fd, val, len - 1, 0);
	close(fd);
	if (n < 0)
		return -1;
	if (!wr)
		val[n] = '\0';
	return 0;
}

static unsigned long injected(void)
{
	char buf[32] = "";

	if (inject_param("fired", buf, sizeof(buf), false))
		return ~0UL;
	return strtoul(buf, NULL, 10);
}

TEST_F(intx_cmd, interrupt_inside_write)
{
	unsigned long before;
	uint16_t cmd;

	if (!getenv("VFIO_INTX_INJECT"))
		SKIP(return, "VFIO_INTX_INJECT is not set (intx_inject.ko)");
	before = injected();
	ASSERT_NE(~0UL, before);

	ASSERT_EQ(0, user_cmd(&self->dev, &cmd, false));
	EXPECT_FALSE(cmd & PCI_COMMAND_INTX_DISABLE);
	cmd ^= PCI_COMMAND_PARITY;
	ASSERT_EQ(0, inject_param("armed", "1", 1, true));
	ASSERT_EQ(0, user_cmd(&self->dev, &cmd, true));
	EXPECT_EQ(before + 1, injected())
		TH_LOG("the COMMAND write did not reach a probed accessor");
	EXPECT_EQ(1ULL, vfio_eventfd_wait(self->efd, EVENT_MS))
		TH_LOG("the interrupt raised inside the write");
	expect_masked_then_once(_metadata, &self->dev, self->efd,
				EDU_INJECT_IRQ);
}

TEST_HARNESS_MAIN
