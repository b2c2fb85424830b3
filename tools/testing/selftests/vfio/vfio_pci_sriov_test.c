// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SR-IOV VF token of vfio-pci.
 *
 * $VFIO_SELFTESTS_BDF names a PF bound to vfio-pci with SR-IOV enabled
 * through vfio-pci, $VFIO_SELFTESTS_VF_BDF one of its VFs (bound to vfio-pci
 * as well), and the optional $VFIO_SELFTESTS_OTHER_BDF a vfio-pci device
 * that is neither PF nor VF.
 *
 * The rules (those of the upstream driver):
 *   - the PF user sets the token with VFIO_DEVICE_FEATURE_PCI_VF_TOKEN (SET
 *     only: a token is never read back), or by opening the PF with
 *     "vf_token=UUID" while no VF is open;
 *   - opening a VF needs "BDF vf_token=UUID" with the PF's token: none or a
 *     wrong one is -EACCES, a malformed option -EINVAL;
 *   - while a VF is open, opening the PF needs the token too;
 *   - a device that is neither PF nor VF refuses a token with -EINVAL.
 *
 * And a VF's memory enable bit in COMMAND is virtual: clearing it does not
 * stop BAR access, which the PF's SR-IOV memory space enable governs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

#define VF_BDF_ENV	"VFIO_SELFTESTS_VF_BDF"
#define OTHER_BDF_ENV	"VFIO_SELFTESTS_OTHER_BDF"

/* Two tokens, as bytes and as the strings users pass. */
static const uint8_t token_a[16] = {
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x47, 0x88,
	0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00,
};

#define TOKEN_A	"11223344-5566-4788-99aa-bbccddeeff00"
static const uint8_t token_b[16] = {
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0x46, 0xb7,
	0x88, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
};

#define TOKEN_B	"b0b1b2b3-b4b5-46b7-88b9-babbbcbdbebf"

FIXTURE(sriov) {
	struct vfio_pci_dev pf;
	const char *vf_bdf;
	int vf_group_fd;	/* may be pf.group_fd: then not ours to close */
};

static int group_of(const char *bdf)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	base = strrchr(target, '/');
	return atoi(base ? base + 1 : target);
}

FIXTURE_SETUP(sriov)
{
	char err[VFIO_UTIL_ERRLEN] = "", path[64];
	const char *bdf = vfio_selftests_bdf();
	int group;

	self->vf_group_fd = -1;
	self->vf_bdf = getenv(VF_BDF_ENV);
	if (!bdf || !self->vf_bdf)
		SKIP(return, "%s and %s must name a PF and its VF",
		     VFIO_SELFTESTS_BDF_ENV, VF_BDF_ENV);

	/* No VF is open yet, so the PF opens without a token. */
	ASSERT_EQ(0, vfio_pci_dev_open(&self->pf, bdf, err, sizeof(err)))
		TH_LOG("%s", err);

	group = group_of(self->vf_bdf);
	ASSERT_LE(0, group);
	if (group == self->pf.group_id) {
		self->vf_group_fd = self->pf.group_fd;
		return;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	self->vf_group_fd = open(path, O_RDWR);
	ASSERT_LE(0, self->vf_group_fd);
	ASSERT_EQ(0, ioctl(self->vf_group_fd, VFIO_GROUP_SET_CONTAINER,
			   &self->pf.container_fd));
}

FIXTURE_TEARDOWN(sriov)
{
	if (self->vf_group_fd >= 0 && self->vf_group_fd != self->pf.group_fd)
		close(self->vf_group_fd);
	vfio_pci_dev_close(&self->pf);
}

/* VFIO_GROUP_GET_DEVICE_FD of "@bdf@opts": the fd or -errno. */
static int get_fd(int group_fd, const char *bdf, const char *opts)
{
	char name[160];
	int fd;

	snprintf(name, sizeof(name), "%s%s", bdf, opts);
	fd = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, name);
	return fd < 0 ? -errno : fd;
}

/* Like get_fd(), but only says whether it worked, closing the fd. */
static int try_open(int group_fd, const char *bdf, const char *opts)
{
	int fd = get_fd(group_fd, bdf, opts);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int set_token(int fd, const uint8_t token[16])
{
	return vfio_device_feature(fd, VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, token, 16);
}

TEST_F(sriov, token_feature)
{
	int fd = self->pf.device_fd;

	EXPECT_EQ(0, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_PROBE |
					 VFIO_DEVICE_FEATURE_SET |
					 VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, NULL, 0));
	/* Never readable: it may be the previous user's secret. */
	EXPECT_EQ(-EINVAL, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_PROBE |
					       VFIO_DEVICE_FEATURE_GET |
					       VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, NULL, 0));
	EXPECT_EQ(-EINVAL, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_GET |
					       VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
					       token_a, 16));
	/* A UUID is 16 bytes. */
	EXPECT_EQ(-EINVAL, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_SET |
					       VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
					       token_a, 15));
	EXPECT_EQ(0, set_token(fd, token_a));
	EXPECT_EQ(0, try_open(self->vf_group_fd, self->vf_bdf,
			      " vf_token=" TOKEN_A));
}

TEST_F(sriov, vf_open_needs_token)
{
	int g = self->vf_group_fd, vf;
	const char *vf_bdf = self->vf_bdf;

	ASSERT_EQ(0, set_token(self->pf.device_fd, token_a));

	EXPECT_EQ(-EACCES, try_open(g, vf_bdf, ""));
	EXPECT_EQ(-EACCES, try_open(g, vf_bdf, " "));
	EXPECT_EQ(-EACCES, try_open(g, vf_bdf, " vf_token=" TOKEN_B));
	/* Malformed options. */
	EXPECT_EQ(-EINVAL, try_open(g, vf_bdf, " vf_token=11223344"));
	EXPECT_EQ(-EINVAL, try_open(g, vf_bdf,
				    " vf_token=11223344-5566-4788-99aa-bbccddeeffzz"));
	EXPECT_EQ(-EINVAL, try_open(g, vf_bdf, " vf_token=" TOKEN_A "0"));
	EXPECT_EQ(-EINVAL, try_open(g, vf_bdf, " vf_token=" TOKEN_A
				    " vf_token=" TOKEN_A));
	EXPECT_EQ(-EINVAL, try_open(g, vf_bdf, " token=" TOKEN_A));
	EXPECT_EQ(-EINVAL, try_open(g, vf_bdf, " vf_token=" TOKEN_A " x"));

	/* The right token, with blanks around it. */
	EXPECT_EQ(0, try_open(g, vf_bdf, "  vf_token=" TOKEN_A "  "));
	vf = get_fd(g, vf_bdf, " vf_token=" TOKEN_A);
	ASSERT_LE(0, vf);
	/* A VF has no token of its own. */
	EXPECT_EQ(-ENOTTY, vfio_device_feature(vf, VFIO_DEVICE_FEATURE_PROBE |
					       VFIO_DEVICE_FEATURE_SET |
					       VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, NULL, 0));
	close(vf);

	/* A new token replaces the old one for later opens. */
	ASSERT_EQ(0, set_token(self->pf.device_fd, token_b));
	EXPECT_EQ(-EACCES, try_open(g, vf_bdf, " vf_token=" TOKEN_A));
	EXPECT_EQ(0, try_open(g, vf_bdf, " vf_token=" TOKEN_B));
}

TEST_F(sriov, pf_open_while_vf_in_use)
{
	int pf_group = self->pf.group_fd, vf;
	const char *pf_bdf = self->pf.bdf;

	ASSERT_EQ(0, set_token(self->pf.device_fd, token_a));
	vf = get_fd(self->vf_group_fd, self->vf_bdf, " vf_token=" TOKEN_A);
	ASSERT_LE(0, vf);

	EXPECT_EQ(-EACCES, try_open(pf_group, pf_bdf, ""));
	EXPECT_EQ(-EACCES, try_open(pf_group, pf_bdf, " vf_token=" TOKEN_B));
	EXPECT_EQ(0, try_open(pf_group, pf_bdf, " vf_token=" TOKEN_A));
	close(vf);

	/* No VF open: opening the PF with a token sets it. */
	EXPECT_EQ(0, try_open(pf_group, pf_bdf, ""));
	EXPECT_EQ(0, try_open(pf_group, pf_bdf, " vf_token=" TOKEN_B));
	EXPECT_EQ(-EACCES, try_open(self->vf_group_fd, self->vf_bdf,
				    " vf_token=" TOKEN_A));
	EXPECT_EQ(0, try_open(self->vf_group_fd, self->vf_bdf,
			      " vf_token=" TOKEN_B));
}

/*
 * A VF has no memory enable bit in COMMAND: the memory space enable of its
 * PF's SR-IOV capability governs it.  The VF's user sees a virtual bit that
 * starts out set and reads back what it wrote, but clearing it does not
 * stop BAR access.
 */
TEST_F(sriov, vf_memory_enable_is_virtual)
{
	uint32_t before = 0, after = 0;
	uint16_t cmd = 0;
	int vf;

	ASSERT_EQ(0, set_token(self->pf.device_fd, token_a));
	vf = get_fd(self->vf_group_fd, self->vf_bdf, " vf_token=" TOKEN_A);
	ASSERT_LE(0, vf);

	ASSERT_EQ(0, vfio_fd_region_rw(vf, VFIO_PCI_CONFIG_REGION_INDEX,
				       PCI_COMMAND, &cmd, 2, false));
	EXPECT_TRUE(cmd & PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, vfio_fd_region_rw(vf, VFIO_PCI_BAR0_REGION_INDEX, 0,
				       &before, 4, false));

	cmd &= ~PCI_COMMAND_MEMORY;
	ASSERT_EQ(0, vfio_fd_region_rw(vf, VFIO_PCI_CONFIG_REGION_INDEX,
				       PCI_COMMAND, &cmd, 2, true));
	cmd = 0xffff;
	ASSERT_EQ(0, vfio_fd_region_rw(vf, VFIO_PCI_CONFIG_REGION_INDEX,
				       PCI_COMMAND, &cmd, 2, false));
	EXPECT_FALSE(cmd & PCI_COMMAND_MEMORY);
	EXPECT_EQ(0, vfio_fd_region_rw(vf, VFIO_PCI_BAR0_REGION_INDEX, 0,
				       &after, 4, false))
		TH_LOG("BAR0 read with the VF's memory enable clear: %s",
		       strerror(errno));
	EXPECT_EQ(before, after);

	cmd |= PCI_COMMAND_MEMORY;
	ASSERT_EQ(0, vfio_fd_region_rw(vf, VFIO_PCI_CONFIG_REGION_INDEX,
				       PCI_COMMAND, &cmd, 2, true));
	close(vf);
}

TEST(not_sriov_device_refuses_token)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	const char *bdf = getenv(OTHER_BDF_ENV);
	struct vfio_pci_dev dev;

	if (!bdf)
		SKIP(return, "%s is not set", OTHER_BDF_ENV);
	ASSERT_EQ(0, vfio_pci_dev_open(&dev, bdf, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(-EINVAL, try_open(dev.group_fd, bdf, " vf_token=" TOKEN_A));
	EXPECT_EQ(-EINVAL, try_open(dev.group_fd, bdf, " nonsense"));
	EXPECT_EQ(0, try_open(dev.group_fd, bdf, " "));
	vfio_pci_dev_close(&dev);
}

TEST_HARNESS_MAIN
