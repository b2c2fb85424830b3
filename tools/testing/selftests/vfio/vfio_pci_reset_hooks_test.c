// SPDX-License-Identifier: GPL-2.0-only
/*
 * What every single-function reset owes the driver bound to the device and
 * the user, on any function that can be reset on its own ($VFIO_SELFTESTS_BDF;
 * harness/tests/53-reset-hooks.sh runs it on QEMU's nvme and e1000e):
 *
 *   hooks       the driver's reset_prepare() and reset_done() run exactly
 *               once, in pairs, for the reset at open, VFIO_DEVICE_RESET, an
 *               FLR written to the PCI Express capability and the reset at
 *               last close.  Needs the counting variant driver of
 *               harness/tests/variant-fixture.
 *   from_d3hot  a function the user put into D3hot through PMCSR is reset
 *               back to D0 by VFIO_DEVICE_RESET and by a hot reset of its
 *               bus, and its BARs work again.
 *               Any vfio-pci-core driver, the distro's included; counts the
 *               hooks too when VFIO_SELFTESTS_RESET_HOOKS=1.
 *
 * The Advanced Features FLR takes the same path as the PCI Express one, but
 * no emulated device here has that capability.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

static int cfg_rw(struct vfio_pci_dev *dev, unsigned int off, void *buf,
		  size_t len, bool write)
{
	ssize_t n;

	if (write)
		n = vfio_region_write(dev, VFIO_PCI_CONFIG_REGION_INDEX, off,
				      buf, len);
	else
		n = vfio_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, off,
				     buf, len);
	return n == (ssize_t)len ? 0 : -1;
}

/* Offset of capability @id in the user's view of config space, or 0. */
static unsigned int user_cap(struct vfio_pci_dev *dev, unsigned int id)
{
	uint8_t cfg[PCI_CFG_SPACE_SIZE];

	if (cfg_rw(dev, 0, cfg, sizeof(cfg), false))
		return 0;
	return pci_find_cap(cfg, id);
}

/* The counts must have grown by @n each since *@base, which moves on. */
static void expect_hooks(struct __test_metadata *_metadata, const char *bdf,
			 struct vfio_reset_hooks *base, uint64_t n,
			 const char *what)
{
	struct vfio_reset_hooks now;

	ASSERT_EQ(0, vfio_reset_hooks_read(bdf, &now))
		TH_LOG("%s: no reset counts (bound to the fixture driver?)",
		       bdf);
	EXPECT_EQ(n, now.prepare - base->prepare)
		TH_LOG("%s: reset_prepare ran %llu times", what,
		       (unsigned long long)(now.prepare - base->prepare));
	EXPECT_EQ(n, now.done - base->done)
		TH_LOG("%s: reset_done ran %llu times", what,
		       (unsigned long long)(now.done - base->done));
	EXPECT_EQ(now.prepare, now.done)
		TH_LOG("%s: a reset_prepare without its reset_done", what);
	*base = now;
}

static void open_dev(struct __test_metadata *_metadata,
		     struct vfio_pci_dev *dev)
{
	char err[VFIO_UTIL_ERRLEN] = "";

	ASSERT_NE(NULL, vfio_selftests_bdf())
		TH_LOG("VFIO_SELFTESTS_BDF is not set");
	ASSERT_EQ(0, vfio_pci_dev_open(dev, vfio_selftests_bdf(), err,
				       sizeof(err)))
		TH_LOG("%s", err);
}

/* ---- hooks ---- */

FIXTURE(hooks) {
	struct vfio_pci_dev dev;
	struct vfio_reset_hooks base;
	bool open;
};

FIXTURE_SETUP(hooks)
{
	const char *bdf = vfio_selftests_bdf();

	ASSERT_NE(NULL, bdf) TH_LOG("VFIO_SELFTESTS_BDF is not set");
	ASSERT_EQ(0, vfio_reset_hooks_read(bdf, &self->base))
		TH_LOG("%s keeps no reset counts: bind it to vfio-pci-variant-fixture",
		       bdf);
	open_dev(_metadata, &self->dev);
	self->open = true;
	ASSERT_TRUE(self->dev.info.flags & VFIO_DEVICE_FLAGS_RESET)
		TH_LOG("%s cannot be reset on its own", bdf);
	expect_hooks(_metadata, bdf, &self->base, 1, "reset at open");
}

FIXTURE_TEARDOWN(hooks)
{
	if (self->open)
		vfio_pci_dev_close(&self->dev);
}

TEST_F(hooks, reset_at_last_close)
{
	vfio_pci_dev_close(&self->dev);
	self->open = false;
	expect_hooks(_metadata, self->dev.bdf, &self->base, 1,
		     "reset at last close");
}

TEST_F(hooks, device_reset_ioctl)
{
	ASSERT_EQ(0, ioctl(self->dev.device_fd, VFIO_DEVICE_RESET));
	expect_hooks(_metadata, self->dev.bdf, &self->base, 1,
		     "VFIO_DEVICE_RESET");
	ASSERT_EQ(0, ioctl(self->dev.device_fd, VFIO_DEVICE_RESET));
	expect_hooks(_metadata, self->dev.bdf, &self->base, 1,
		     "second VFIO_DEVICE_RESET");
}

/*
 * Initiate FLR in DevCtl resets a function that has FLR, once; on one
 * without FLR (e1000e) the bit is ignored and nothing is reset.
 */
TEST_F(hooks, flr_through_config_space)
{
	unsigned int exp = user_cap(&self->dev, PCI_CAP_ID_EXP);
	uint32_t devcap;
	uint16_t devctl;
	bool flr;

	ASSERT_NE(0, exp) TH_LOG("%s has no PCI Express capability",
				 self->dev.bdf);
	ASSERT_EQ(0, cfg_rw(&self->dev, exp + PCI_EXP_DEVCAP, &devcap,
			    sizeof(devcap), false));
	flr = devcap & PCI_EXP_DEVCAP_FLR;
	TH_LOG("%s %s FLR", self->dev.bdf, flr ? "has" : "has no");

	ASSERT_EQ(0, cfg_rw(&self->dev, exp + PCI_EXP_DEVCTL, &devctl,
			    sizeof(devctl), false));
	devctl |= PCI_EXP_DEVCTL_BCR_FLR;
	ASSERT_EQ(0, cfg_rw(&self->dev, exp + PCI_EXP_DEVCTL, &devctl,
			    sizeof(devctl), true));
	expect_hooks(_metadata, self->dev.bdf, &self->base, flr ? 1 : 0,
		     "FLR written to DevCtl");

	/* Initiate FLR reads back as zero. */
	ASSERT_EQ(0, cfg_rw(&self->dev, exp + PCI_EXP_DEVCTL, &devctl,
			    sizeof(devctl), false));
	EXPECT_FALSE(devctl & PCI_EXP_DEVCTL_BCR_FLR);
}

/* A failed request resets nothing and calls nothing. */
TEST_F(hooks, other_ioctls_call_nothing)
{
	struct vfio_region_info info;

	ASSERT_EQ(0, vfio_region_info(self->dev.device_fd,
				      VFIO_PCI_CONFIG_REGION_INDEX, &info));
	EXPECT_EQ(-1, ioctl(self->dev.device_fd, VFIO_DEVICE_PCI_HOT_RESET,
			    NULL));
	EXPECT_EQ(EFAULT, errno);
	expect_hooks(_metadata, self->dev.bdf, &self->base, 0,
		     "config access and a failed hot reset");
}

/* ---- from_d3hot ---- */

FIXTURE(from_d3hot) {
	struct vfio_pci_dev dev;
	unsigned int pm;
};

FIXTURE_SETUP(from_d3hot)
{
	open_dev(_metadata, &self->dev);
	self->pm = user_cap(&self->dev, PCI_CAP_ID_PM);
	ASSERT_NE(0, self->pm) TH_LOG("%s has no PM capability",
				      self->dev.bdf);
	ASSERT_TRUE(self->dev.info.flags & VFIO_DEVICE_FLAGS_RESET);
}

FIXTURE_TEARDOWN(from_d3hot)
{
	vfio_pci_dev_close(&self->dev);
}

static bool power_state_is(const char *bdf, const char *want)
{
	char path[PATH_MAX], buf[16] = "";
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/power_state",
		 bdf);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) && !strncmp(buf, want, strlen(want)) &&
	     (buf[strlen(want)] == '\n' || !buf[strlen(want)]);
	fclose(f);
	return ok;
}

/* Put the function into D3hot through the user's PMCSR. */
static void enter_d3hot(struct __test_metadata *_metadata,
			FIXTURE_DATA(from_d3hot) * self)
{
	uint16_t pmcsr;

	ASSERT_EQ(0, cfg_rw(&self->dev, self->pm + PCI_PM_CTRL, &pmcsr,
			    sizeof(pmcsr), false));
	pmcsr = (pmcsr & ~PCI_PM_CTRL_STATE_MASK) | 3;
	ASSERT_EQ(0, cfg_rw(&self->dev, self->pm + PCI_PM_CTRL, &pmcsr,
			    sizeof(pmcsr), true));
	ASSERT_TRUE(power_state_is(self->dev.bdf, "D3hot"))
		TH_LOG("PMCSR write did not reach D3hot");
}

/*
 * A hot reset of the function's bus (it sits alone behind a root port)
 * brings it to D0 first as well.
 */
TEST_F(from_d3hot, hot_reset_brings_d0_back)
{
	struct {
		struct vfio_pci_hot_reset hdr;
		int32_t fd;
	} hr = {
		.hdr.argsz = sizeof(hr),
		.hdr.count = 1,
		.fd = self->dev.group_fd,
	};
	uint16_t cmd = PCI_COMMAND_MEMORY;
	uint32_t val;

	ASSERT_EQ(0, cfg_rw(&self->dev, PCI_COMMAND, &cmd, sizeof(cmd), true));
	enter_d3hot(_metadata, self);
	ASSERT_EQ(0, ioctl(self->dev.device_fd, VFIO_DEVICE_PCI_HOT_RESET, &hr))
		TH_LOG("VFIO_DEVICE_PCI_HOT_RESET from D3hot: %s",
		       strerror(errno));
	EXPECT_TRUE(power_state_is(self->dev.bdf, "D0"))
		TH_LOG("still not in D0 after the hot reset");
	EXPECT_EQ(sizeof(val),
		  vfio_region_read(&self->dev, VFIO_PCI_BAR0_REGION_INDEX, 0,
				   &val, sizeof(val)))
		TH_LOG("BAR0 read after the hot reset: %s", strerror(errno));
}

TEST_F(from_d3hot, reset_brings_d0_back)
{
	struct vfio_reset_hooks base = {};
	bool hooks = vfio_reset_hooks_wanted();
	uint16_t cmd = PCI_COMMAND_MEMORY;
	uint32_t val;

	ASSERT_EQ(0, cfg_rw(&self->dev, PCI_COMMAND, &cmd, sizeof(cmd), true));
	ASSERT_EQ(sizeof(val),
		  vfio_region_read(&self->dev, VFIO_PCI_BAR0_REGION_INDEX, 0,
				   &val, sizeof(val)));
	enter_d3hot(_metadata, self);

	if (hooks)
		ASSERT_EQ(0, vfio_reset_hooks_read(self->dev.bdf, &base));
	ASSERT_EQ(0, ioctl(self->dev.device_fd, VFIO_DEVICE_RESET))
		TH_LOG("VFIO_DEVICE_RESET from D3hot: %s", strerror(errno));
	if (hooks)
		expect_hooks(_metadata, self->dev.bdf, &base, 1,
			     "VFIO_DEVICE_RESET from D3hot");
	EXPECT_TRUE(power_state_is(self->dev.bdf, "D0"))
		TH_LOG("still not in D0 after the reset");

	/* The user's decode setting survives, and the BAR answers again. */
	ASSERT_EQ(0, cfg_rw(&self->dev, PCI_COMMAND, &cmd, sizeof(cmd), false));
	EXPECT_TRUE(cmd & PCI_COMMAND_MEMORY);
	EXPECT_EQ(sizeof(val),
		  vfio_region_read(&self->dev, VFIO_PCI_BAR0_REGION_INDEX, 0,
				   &val, sizeof(val)))
		TH_LOG("BAR0 read after the reset: %s", strerror(errno));
}

TEST_HARNESS_MAIN
