// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupt tests of vfio-pci: VFIO_DEVICE_GET_IRQ_INFO and SET_IRQS on
 * every index, with every action and data type, bad input, and real
 * interrupts raised by emulated devices:
 *
 *   any device   info flags and counts against the config space, loopback
 *                (DATA_NONE/BOOL) delivery on every index, errnos
 *   edu          INTx automasking and unmasking (ioctl, eventfd, COMMAND),
 *                INTx held masked while runtime suspended,
 *                MSI, and a storm of concurrent reconfiguration while the
 *                device raises interrupts (edu raises one when 0x60 is
 *                written and holds INTx until 0x64 acknowledges it)
 *   virtio-net   real MSI-X on every vector: a modern virtio device sends a
 *                configuration interrupt on the vector named in msix_config
 *                when its link changes, and the link is toggled through the
 *                VM's own QEMU monitor (QMP over the virtio-serial port
 *                "qmp"); vectors are added while others are live, and
 *                must show up one by one among the vectors the PCI core
 *                allocated (msi_irqs in sysfs); vectors whose MSI-X table
 *                entry the user clobbered through the BAR mapping deliver
 *                again once given an eventfd
 *
 * Opt-in tests (they need the VM's monitor or give the device away):
 *   VFIO_IRQ_TEST_NETDEV=ID  QEMU id of the virtio-net device, for set_link
 *   VFIO_IRQ_TEST_AER_ID=ID  QEMU id of the device: inject an AER error and
 *                            expect the ERR eventfd
 *   VFIO_IRQ_TEST_REQ=1      unbind the device while it is held, expect the
 *                            REQ eventfd, release it, check the unbind ends
 *   VFIO_IRQ_STORM_SECONDS   length of the storm (default 4)
 *   VFIO_IRQ_EXPECT_NOINTX=1 the device has an interrupt pin but is one
 *                            whose INTx vfio-pci hides (no working
 *                            Interrupt Status bit): expect no INTx at all
 *
 * The device is named by $VFIO_SELFTESTS_BDF and must be bound to vfio-pci.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <linux/virtio_pci.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_TEST_IRQ		0x00020000u

#define VIRTIO_VENDOR		0x1af4
#define VIRTIO_NET_MODERN	0x1041

#define MAX_VECTORS		64
#define QUIET_MS		150	/* how long "no interrupt" is awaited */
#define EVENT_MS		3000	/* how long an interrupt is awaited */

FIXTURE(irq) {
	struct vfio_pci_dev dev;
	uint8_t cfg[256];
	uint16_t vendor, device;
	bool edu, virtio_net;
};

FIXTURE_SETUP(irq)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	const char *bdf = vfio_selftests_bdf();

	if (!bdf)
		SKIP(return, "%s is not set", VFIO_SELFTESTS_BDF_ENV);
	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, bdf, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(256, sysfs_read_config(bdf, 0, self->cfg, 256));
	memcpy(&self->vendor, self->cfg + PCI_VENDOR_ID, 2);
	memcpy(&self->device, self->cfg + PCI_DEVICE_ID, 2);
	self->edu = self->vendor == EDU_VENDOR && self->device == EDU_DEVICE;
	self->virtio_net = self->vendor == VIRTIO_VENDOR &&
			   self->device == VIRTIO_NET_MODERN;
}

FIXTURE_TEARDOWN(irq)
{
	vfio_pci_dev_close(&self->dev);
}

/* ---- SET_IRQS and eventfd helpers ---- */

/* SET_IRQS with a payload of @len bytes; returns the ioctl's result. */
static int set_irqs(int fd, uint32_t index, uint32_t flags, uint32_t start,
		    uint32_t count, const void *data, size_t len)
{
	struct vfio_irq_set *set;
	size_t sz = sizeof(*set) + len;
	int ret, err;

	set = calloc(1, sz);
	if (!set)
		return -1;
	set->argsz = sz;
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	if (len)
		memcpy(set->data, data, len);
	ret = ioctl(fd, VFIO_DEVICE_SET_IRQS, set);
	err = errno;
	free(set);
	errno = err;
	return ret;
}

/* 0 or -errno, for comparing errnos. */
static int set_irqs_err(int fd, uint32_t index, uint32_t flags,
			uint32_t start, uint32_t count, const void *data,
			size_t len)
{
	return set_irqs(fd, index, flags, start, count, data, len) ? -errno : 0;
}

/* Attach eventfd @efd to vector 0 of @index; 0 or -errno. */
static int enable_err(int fd, uint32_t index, int32_t efd)
{
	return set_irqs_err(fd, index,
			    VFIO_IRQ_SET_DATA_EVENTFD |
			    VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &efd, 4);
}

static int set_eventfds(int fd, uint32_t index, uint32_t start,
			uint32_t count, const int32_t *fds)
{
	return set_irqs(fd, index,
			VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			start, count, fds, count * sizeof(*fds));
}

static int set_eventfd(int fd, uint32_t index, int32_t efd)
{
	return set_eventfds(fd, index, 0, 1, &efd);
}

static int irq_none(int fd, uint32_t index, uint32_t action,
		    uint32_t start, uint32_t count)
{
	return set_irqs(fd, index, VFIO_IRQ_SET_DATA_NONE | action, start,
			count, NULL, 0);
}

static int irq_disable(int fd, uint32_t index)
{
	return irq_none(fd, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0);
}

static int irq_bool(int fd, uint32_t index, uint32_t action, uint8_t val)
{
	return set_irqs(fd, index, VFIO_IRQ_SET_DATA_BOOL | action, 0, 1,
			&val, 1);
}

static int new_efd(void)
{
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- config space and BAR helpers ---- */

static int cfg_rd16(struct vfio_pci_dev *dev, unsigned int off, uint16_t *v)
{
	return vfio_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, off, v,
				2) == 2 ? 0 : -1;
}

static int cfg_wr16(struct vfio_pci_dev *dev, unsigned int off, uint16_t v)
{
	return vfio_region_write(dev, VFIO_PCI_CONFIG_REGION_INDEX, off, &v,
				 2) == 2 ? 0 : -1;
}

static int cmd_update(struct vfio_pci_dev *dev, uint16_t set, uint16_t clr)
{
	uint16_t cmd;

	if (cfg_rd16(dev, PCI_COMMAND, &cmd))
		return -1;
	return cfg_wr16(dev, PCI_COMMAND, (cmd | set) & ~clr);
}

static int bar_wr32(struct vfio_pci_dev *dev, unsigned int bar,
		    uint64_t off, uint32_t v)
{
	return vfio_region_write(dev, bar, off, &v, 4) == 4 ? 0 : -1;
}

static int edu_raise(struct vfio_pci_dev *dev)
{
	return bar_wr32(dev, VFIO_PCI_BAR0_REGION_INDEX, EDU_REG_IRQ_RAISE,
			EDU_TEST_IRQ);
}

static int edu_ack(struct vfio_pci_dev *dev)
{
	return bar_wr32(dev, VFIO_PCI_BAR0_REGION_INDEX, EDU_REG_IRQ_ACK,
			0xffffffffu);
}

/* ---- the VM's own QEMU monitor ---- */

/* Device node of the virtio-serial port named "qmp", or -1. */
static int qmp_open(void)
{
	char path[300], name[64], node[300];
	struct dirent *de;
	int fd = -1;
	DIR *d;
	FILE *f;

	d = opendir("/sys/class/virtio-ports");
	if (!d)
		return -1;
	while (fd < 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name",
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) && !strncmp(name, "qmp", 3) &&
		    (name[3] == '\n' || !name[3])) {
			snprintf(node, sizeof(node), "/dev/%s", de->d_name);
			fd = open(node, O_RDWR | O_NOCTTY | O_CLOEXEC);
		}
		fclose(f);
	}
	closedir(d);
	return fd;
}

/*
 * Send one QMP command carrying a unique id and wait for the answer with
 * that id; others (greeting, events, stale answers) are skipped.  Returns
 * 0 for a "return", -1 otherwise; the answer line is copied to @ans.
 */
static int qmp_cmd(int fd, const char *execute, const char *args,
		   char *ans, size_t anslen)
{
	static unsigned int seq;
	char cmd[1024], buf[8192], tag[48];
	uint64_t deadline = now_ms() + 30000;
	size_t have = 0;
	char *nl, *line;

	snprintf(tag, sizeof(tag), "\"vfio-irq-%d-%u\"", getpid(), ++seq);
	snprintf(cmd, sizeof(cmd), "{\"execute\":\"%s\"%s%s,\"id\":%s}\n",
		 execute, args ? ",\"arguments\":" : "", args ? args : "",
		 tag);
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		return -1;
	while (now_ms() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 1000) != 1)
			continue;
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0) {
			usleep(50000);
			continue;
		}
		have += n;
		buf[have] = 0;
		while ((nl = strchr(buf, '\n'))) {
			*nl = 0;
			line = buf;
			if (strstr(line, tag)) {
				if (ans && anslen) {
					size_t l = strlen(line);

					if (l >= anslen)
						l = anslen - 1;
					memcpy(ans, line, l);
					ans[l] = 0;
				}
				return strstr(line, "\"return\"") ? 0 : -1;
			}
			have -= nl + 1 - buf;
			memmove(buf, nl + 1, have + 1);
		}
		if (have == sizeof(buf) - 1)
			have = 0;	/* an overlong line: drop it */
	}
	return -1;
}

static int qmp_session(void)
{
	int fd = qmp_open();

	if (fd < 0)
		return -1;
	/* Negotiation; later users of the port get an error, also fine. */
	qmp_cmd(fd, "qmp_capabilities", NULL, NULL, 0);
	return fd;
}

/* Vectors the PCI core has allocated to the device: its msi_irqs files. */
static int msi_irqs_count(const char *bdf)
{
	struct dirent *de;
	char path[128];
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/msi_irqs", bdf);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* ---- GET_IRQ_INFO ---- */

static unsigned int cfg_find_cap(const uint8_t *cfg, unsigned int id)
{
	return pci_find_cap(cfg, id);
}

TEST_F(irq, info_flags_and_counts)
{
	unsigned int msi = cfg_find_cap(self->cfg, PCI_CAP_ID_MSI);
	unsigned int msix = cfg_find_cap(self->cfg, PCI_CAP_ID_MSIX);
	bool pcie = cfg_find_cap(self->cfg, PCI_CAP_ID_EXP);
	const uint32_t common = VFIO_IRQ_INFO_EVENTFD;
	struct vfio_irq_info info;
	uint16_t flags;

	ASSERT_EQ(VFIO_PCI_NUM_IRQS, self->dev.info.num_irqs);
	ASSERT_EQ(0, vfio_irq_info(self->dev.device_fd,
				   VFIO_PCI_INTX_IRQ_INDEX, &info));
	EXPECT_EQ(common | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED,
		  info.flags);
	EXPECT_EQ(self->cfg[PCI_INTERRUPT_PIN] &&
		  !getenv("VFIO_IRQ_EXPECT_NOINTX") ? 1u : 0u, info.count);

	ASSERT_EQ(0, vfio_irq_info(self->dev.device_fd,
				   VFIO_PCI_MSI_IRQ_INDEX, &info));
	EXPECT_EQ(common | VFIO_IRQ_INFO_NORESIZE, info.flags);
	flags = msi ? self->cfg[msi + PCI_MSI_FLAGS] : 0;
	EXPECT_EQ(msi ? 1u << ((flags & PCI_MSI_FLAGS_QMASK) >> 1) : 0u,
		  info.count);

	ASSERT_EQ(0, vfio_irq_info(self->dev.device_fd,
				   VFIO_PCI_MSIX_IRQ_INDEX, &info));
	/* NORESIZE depends on the host's irq domain: only logged. */
	EXPECT_EQ(common, info.flags & ~VFIO_IRQ_INFO_NORESIZE);
	TH_LOG("MSI-X: %u vectors, %s", info.count,
	       info.flags & VFIO_IRQ_INFO_NORESIZE ? "NORESIZE" :
	       "resizable (dynamic MSI-X)");
	memcpy(&flags, self->cfg + msix + PCI_MSIX_FLAGS, 2);
	EXPECT_EQ(msix ? (flags & PCI_MSIX_FLAGS_QSIZE) + 1u : 0u, info.count);

	if (pcie) {
		ASSERT_EQ(0, vfio_irq_info(self->dev.device_fd,
					   VFIO_PCI_ERR_IRQ_INDEX, &info));
		EXPECT_EQ(common | VFIO_IRQ_INFO_NORESIZE, info.flags);
		EXPECT_EQ(1u, info.count);
	} else {
		EXPECT_EQ(-EINVAL, vfio_irq_info(self->dev.device_fd,
						 VFIO_PCI_ERR_IRQ_INDEX,
						 &info));
	}
	ASSERT_EQ(0, vfio_irq_info(self->dev.device_fd,
				   VFIO_PCI_REQ_IRQ_INDEX, &info));
	EXPECT_EQ(common | VFIO_IRQ_INFO_NORESIZE, info.flags);
	EXPECT_EQ(1u, info.count);

	EXPECT_EQ(-EINVAL, vfio_irq_info(self->dev.device_fd,
					 VFIO_PCI_NUM_IRQS, &info));
}

/* ---- INTx hidden on devices without a working status bit ---- */

static bool host_intx_disabled(struct __test_metadata *_metadata,
			       const char *bdf)
{
	uint16_t cmd = 0;

	EXPECT_EQ(2, sysfs_read_config(bdf, PCI_COMMAND, &cmd, 2));
	return cmd & PCI_COMMAND_INTX_DISABLE;
}

/*
 * The device has a pin, yet the user sees none: the INTx count is 0, the
 * pin reads 0, INTx cannot be enabled, and the device is kept from
 * asserting its line (DisINTx set in the real COMMAND register) whatever
 * the user writes to COMMAND and after MSI or MSI-X, whose teardown
 * clears DisINTx, comes and goes.
 */
TEST_F(irq, intx_hidden)
{
	int fd = self->dev.device_fd, efd = new_efd();
	struct vfio_irq_info info;
	uint32_t index;
	uint8_t pin = 0xff;

	if (!getenv("VFIO_IRQ_EXPECT_NOINTX"))
		SKIP(return, "VFIO_IRQ_EXPECT_NOINTX is not set");
	ASSERT_GE(efd, 0);
	ASSERT_NE(0, self->cfg[PCI_INTERRUPT_PIN])
		TH_LOG("the device has no pin to hide");

	ASSERT_EQ(0, vfio_irq_info(fd, VFIO_PCI_INTX_IRQ_INDEX, &info));
	EXPECT_EQ(0u, info.count);
	EXPECT_EQ(1, vfio_region_read(&self->dev, VFIO_PCI_CONFIG_REGION_INDEX,
				      PCI_INTERRUPT_PIN, &pin, 1));
	EXPECT_EQ(0, pin);
	EXPECT_TRUE(host_intx_disabled(_metadata, self->dev.bdf));
	EXPECT_EQ(-EINVAL, enable_err(fd, VFIO_PCI_INTX_IRQ_INDEX, efd));

	/* The user clearing DisINTx changes nothing on the device. */
	ASSERT_EQ(0, cmd_update(&self->dev, PCI_COMMAND_MEMORY,
				PCI_COMMAND_INTX_DISABLE));
	EXPECT_TRUE(host_intx_disabled(_metadata, self->dev.bdf));

	for (index = VFIO_PCI_MSI_IRQ_INDEX;
	     index <= VFIO_PCI_MSIX_IRQ_INDEX; index++) {
		ASSERT_EQ(0, vfio_irq_info(fd, index, &info));
		if (!info.count)
			continue;
		ASSERT_EQ(0, set_eventfd(fd, index, efd)) TH_LOG("index %u", index);
		ASSERT_EQ(0, irq_disable(fd, index));
		EXPECT_TRUE(host_intx_disabled(_metadata, self->dev.bdf))
			TH_LOG("DisINTx clear after index %u was disabled",
			       index);
	}
	EXPECT_EQ(-EINVAL, enable_err(fd, VFIO_PCI_INTX_IRQ_INDEX, efd));
	close(efd);
}

/* ---- loopback on every index ---- */

static void loopback_single(struct __test_metadata *_metadata, int fd,
			    uint32_t index)
{
	int efd = new_efd();

	ASSERT_GE(efd, 0);
	ASSERT_EQ(0, set_eventfd(fd, index, efd)) TH_LOG("index %u", index);
	EXPECT_EQ(0, irq_none(fd, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS)) TH_LOG("index %u", index);
	EXPECT_EQ(0, irq_bool(fd, index, VFIO_IRQ_SET_ACTION_TRIGGER, 1));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS)) TH_LOG("index %u", index);
	EXPECT_EQ(0, irq_bool(fd, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS)) TH_LOG("index %u", index);
	EXPECT_EQ(0, irq_disable(fd, index));
	close(efd);
}

/* Enable @n vectors, fire each alone, then a BOOL pattern. */
static void loopback_vectors(struct __test_metadata *_metadata, int fd,
			     uint32_t index, uint32_t n)
{
	int32_t efds[MAX_VECTORS];
	uint8_t bools[MAX_VECTORS];
	uint32_t i, j;

	if (n > MAX_VECTORS)
		n = MAX_VECTORS;
	for (i = 0; i < n; i++) {
		efds[i] = new_efd();
		ASSERT_GE(efds[i], 0);
	}
	ASSERT_EQ(0, set_eventfds(fd, index, 0, n, efds))
		TH_LOG("index %u, %u vectors: %s", index, n, strerror(errno));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, irq_none(fd, index, VFIO_IRQ_SET_ACTION_TRIGGER,
				      i, 1));
		for (j = 0; j < n; j++)
			EXPECT_EQ(i == j ? 1ULL : 0ULL,
				  vfio_eventfd_wait(efds[j], i == j ? EVENT_MS : 0))
				TH_LOG("index %u: fired %u, looked at %u",
				       index, i, j);
	}
	for (i = 0; i < n; i++)
		bools[i] = i % 3 == 1;
	ASSERT_EQ(0, set_irqs(fd, index,
			      VFIO_IRQ_SET_DATA_BOOL |
			      VFIO_IRQ_SET_ACTION_TRIGGER, 0, n, bools, n));
	for (i = 0; i < n; i++)
		EXPECT_EQ(bools[i] ? 1ULL : 0ULL,
			  vfio_eventfd_wait(efds[i], bools[i] ? EVENT_MS : 0));
	EXPECT_EQ(0, irq_disable(fd, index));
	EXPECT_EQ(-EINVAL, irq_none(fd, index, VFIO_IRQ_SET_ACTION_TRIGGER,
				    0, 1) ? -errno : 0)
		TH_LOG("loopback after disable must fail");
	for (i = 0; i < n; i++)
		close(efds[i]);
}

TEST_F(irq, loopback_every_index)
{
	int fd = self->dev.device_fd;
	struct vfio_irq_info info;
	uint32_t index;

	for (index = 0; index < VFIO_PCI_NUM_IRQS; index++) {
		if (vfio_irq_info(fd, index, &info) || !info.count)
			continue;
		if (index == VFIO_PCI_MSI_IRQ_INDEX ||
		    index == VFIO_PCI_MSIX_IRQ_INDEX)
			loopback_vectors(_metadata, fd, index, info.count);
		else
			loopback_single(_metadata, fd, index);
	}
}

/* ---- one interrupt index at a time ---- */

TEST_F(irq, indexes_exclude_each_other)
{
	int fd = self->dev.device_fd;
	struct vfio_irq_info intx, msi, msix;
	int efd = new_efd(), efd2 = new_efd();

	ASSERT_GE(efd, 0);
	ASSERT_GE(efd2, 0);
	ASSERT_EQ(0, vfio_irq_info(fd, VFIO_PCI_INTX_IRQ_INDEX, &intx));
	ASSERT_EQ(0, vfio_irq_info(fd, VFIO_PCI_MSI_IRQ_INDEX, &msi));
	ASSERT_EQ(0, vfio_irq_info(fd, VFIO_PCI_MSIX_IRQ_INDEX, &msix));

	if (intx.count && (msi.count || msix.count)) {
		uint32_t other = msi.count ? VFIO_PCI_MSI_IRQ_INDEX :
					     VFIO_PCI_MSIX_IRQ_INDEX;

		ASSERT_EQ(0, set_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, efd));
		EXPECT_EQ(-EINVAL, enable_err(fd, other, efd2));
		/* Nor can it be "disabled" while INTx owns the device. */
		EXPECT_EQ(-EINVAL, irq_disable(fd, other) ? -errno : 0);
		EXPECT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX,
				      VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
		EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS));
		/* An eventfd of -1 keeps INTx enabled, without a signal. */
		EXPECT_EQ(0, set_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, -1));
		EXPECT_EQ(-EINVAL, enable_err(fd, other, efd2));
		EXPECT_EQ(0, irq_disable(fd, VFIO_PCI_INTX_IRQ_INDEX));
		EXPECT_EQ(-EINVAL, irq_disable(fd, VFIO_PCI_INTX_IRQ_INDEX) ?
				   -errno : 0)
			TH_LOG("INTx disable twice");

		ASSERT_EQ(0, set_eventfd(fd, other, efd2));
		EXPECT_EQ(-EINVAL, enable_err(fd, VFIO_PCI_INTX_IRQ_INDEX, efd));
		EXPECT_EQ(-EINVAL, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX,
					    VFIO_IRQ_SET_ACTION_UNMASK, 0, 1)
			  ? -errno : 0);
		EXPECT_EQ(0, irq_disable(fd, other));
	}
	if (msi.count && msix.count) {
		ASSERT_EQ(0, set_eventfd(fd, VFIO_PCI_MSIX_IRQ_INDEX, efd));
		EXPECT_EQ(-EINVAL, enable_err(fd, VFIO_PCI_MSI_IRQ_INDEX, efd2));
		EXPECT_EQ(0, irq_disable(fd, VFIO_PCI_MSIX_IRQ_INDEX));
		EXPECT_EQ(0, set_eventfd(fd, VFIO_PCI_MSI_IRQ_INDEX, efd2));
		EXPECT_EQ(0, irq_disable(fd, VFIO_PCI_MSI_IRQ_INDEX));
	}
	close(efd);
	close(efd2);
}

/* ---- vectors sharing or changing eventfds ---- */

TEST_F(irq, vector_eventfd_changes)
{
	int fd = self->dev.device_fd;
	struct vfio_irq_info info;
	int32_t fds[2];
	uint32_t index = VFIO_PCI_MSIX_IRQ_INDEX;
	int a = new_efd(), b = new_efd();

	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	ASSERT_EQ(0, vfio_irq_info(fd, index, &info));
	if (info.count < 2) {
		index = VFIO_PCI_MSI_IRQ_INDEX;
		ASSERT_EQ(0, vfio_irq_info(fd, index, &info));
	}
	if (info.count < 2)
		SKIP(goto out, "no MSI or MSI-X with two vectors");

	/* One eventfd on two vectors; tearing both down must be clean. */
	fds[0] = a;
	fds[1] = a;
	ASSERT_EQ(0, set_eventfds(fd, index, 0, 2, fds));
	EXPECT_EQ(0, irq_none(fd, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2));
	EXPECT_EQ(2ULL, vfio_eventfd_wait(a, EVENT_MS));
	/* Swap vector 1 to its own eventfd, then drop vector 0 with -1. */
	fds[0] = -1;
	fds[1] = b;
	ASSERT_EQ(0, set_eventfds(fd, index, 0, 2, fds));
	EXPECT_EQ(0, irq_none(fd, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(a, QUIET_MS));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(b, EVENT_MS));
	/* Any negative fd leaves a vector without eventfd, as upstream. */
	fds[0] = -2;
	EXPECT_EQ(0, set_eventfds(fd, index, 1, 1, fds));
	EXPECT_EQ(0, irq_none(fd, index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, 2));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(b, QUIET_MS));
	EXPECT_EQ(0, irq_disable(fd, index));
out:
	close(a);
	close(b);
}

/* ---- bad input ---- */

struct bad_case {
	const char *what;
	uint32_t index, flags, start, count;
	int32_t fd;		/* payload when EVENTFD, BOOL value when BOOL */
	int argsz_cut;		/* bytes taken off the natural argsz */
	int err;		/* expected -errno, 0 for success */
};

static int run_bad_case(int fd, const struct bad_case *c, int evt)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 4] = { 0 };
	struct vfio_irq_set *set = (void *)buf;
	uint32_t type = c->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	int32_t v = c->fd == -1000 ? evt : c->fd;

	set->argsz = sizeof(buf) - c->argsz_cut;
	set->flags = c->flags;
	set->index = c->index;
	set->start = c->start;
	set->count = c->count;
	if (type == VFIO_IRQ_SET_DATA_BOOL)
		set->data[0] = c->fd;
	else
		memcpy(set->data, &v, 4);
	return ioctl(fd, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}

#define EV	(VFIO_IRQ_SET_DATA_EVENTFD)
#define NONE	(VFIO_IRQ_SET_DATA_NONE)
#define BOOLT	(VFIO_IRQ_SET_DATA_BOOL)
#define TRIG	(VFIO_IRQ_SET_ACTION_TRIGGER)
#define MASK	(VFIO_IRQ_SET_ACTION_MASK)
#define UNMASK	(VFIO_IRQ_SET_ACTION_UNMASK)
#define GOODFD	(-1000)		/* replaced by a real eventfd */
#define NOTEFD	(-1001)		/* replaced by a file that is no eventfd */
#define CLOSEDFD (-1002)	/* replaced by a closed descriptor */
#define INTX	VFIO_PCI_INTX_IRQ_INDEX
#define MSI	VFIO_PCI_MSI_IRQ_INDEX
#define MSIX	VFIO_PCI_MSIX_IRQ_INDEX
#define REQ	VFIO_PCI_REQ_IRQ_INDEX
#define NUM_IRQS VFIO_PCI_NUM_IRQS

/* Cases valid for any device with INTx and an MSI or MSI-X index. */
static const struct bad_case bad_cases[] = {
	{ "index past the end", NUM_IRQS, NONE | TRIG, 0, 0, 0, 0, -EINVAL },
	{ "unknown flag bit", REQ, NONE | TRIG | 0x80, 0, 1, 0, 0, -EINVAL },
	{ "two data types", REQ, NONE | BOOLT | TRIG, 0, 1, 1, 0, -EINVAL },
	{ "no action", REQ, NONE, 0, 0, 0, 0, -ENOTTY },
	{ "two actions", INTX, NONE | MASK | UNMASK, 0, 1, 0, 0, -ENOTTY },
	{ "start past count", REQ, NONE | TRIG, 1, 0, 0, 0, -EINVAL },
	{ "count past end", REQ, NONE | TRIG, 0, 2, 0, 0, -EINVAL },
	{ "start+count wraps u32", REQ, NONE | TRIG, 1, 0xffffffffu, 0, 0, -EINVAL },
	{ "count u32 max", REQ, NONE | TRIG, 0, 0xffffffffu, 0, 0, -EINVAL },
	{ "argsz short of payload", REQ, EV | TRIG, 0, 1, GOODFD, 1, -EINVAL },
	{ "argsz short of header", REQ, NONE | TRIG, 0, 1, 0, 5, -EINVAL },
	{ "REQ signal without eventfd", REQ, NONE | TRIG, 0, 1, 0, 0, -EINVAL },
	{ "REQ remove without eventfd", REQ, NONE | TRIG, 0, 0, 0, 0, -EINVAL },
	{ "REQ BOOL count 0", REQ, BOOLT | TRIG, 0, 0, 1, 0, -EINVAL },
	{ "REQ eventfd count 0", REQ, EV | TRIG, 0, 0, GOODFD, 0, -EINVAL },
	{ "REQ fd -2", REQ, EV | TRIG, 0, 1, -2, 0, -EINVAL },
	{ "REQ fd not an eventfd", REQ, EV | TRIG, 0, 1, NOTEFD, 0, -EINVAL },
	{ "REQ fd closed", REQ, EV | TRIG, 0, 1, CLOSEDFD, 0, -EBADF },
	{ "REQ mask", REQ, NONE | MASK, 0, 1, 0, 0, -ENOTTY },
	{ "REQ unmask", REQ, NONE | UNMASK, 0, 1, 0, 0, -ENOTTY },
	{ "INTx mask while disabled", INTX, NONE | MASK, 0, 1, 0, 0, -EINVAL },
	{ "INTx unmask while disabled", INTX, NONE | UNMASK, 0, 1, 0, 0, -EINVAL },
	{ "INTx disable while disabled", INTX, NONE | TRIG, 0, 0, 0, 0, -EINVAL },
	{ "INTx signal while disabled", INTX, NONE | TRIG, 0, 1, 0, 0, -EINVAL },
	{ "INTx BOOL count 0", INTX, BOOLT | TRIG, 0, 0, 1, 0, -EINVAL },
	{ "INTx eventfd count 0", INTX, EV | TRIG, 0, 0, GOODFD, 0, -EINVAL },
	{ "INTx BOOL unmask count 0", INTX, BOOLT | UNMASK, 0, 0, 1, 0, -EINVAL },
	{ "INTx fd not an eventfd", INTX, EV | TRIG, 0, 1, NOTEFD, 0, -EINVAL },
	{ "INTx fd closed", INTX, EV | TRIG, 0, 1, CLOSEDFD, 0, -EBADF },
	{ "MSI-X mask", MSIX, NONE | MASK, 0, 0, 0, 0, -ENOTTY },
	{ "MSI unmask", MSI, NONE | UNMASK, 0, 0, 0, 0, -ENOTTY },
	{ "MSI-X disable while disabled", MSIX, NONE | TRIG, 0, 0, 0, 0, -EINVAL },
};

/* Cases that need INTx enabled (with an eventfd) first. */
static const struct bad_case bad_cases_intx_on[] = {
	{ "INTx mask count 0", INTX, NONE | MASK, 0, 0, 0, 0, -EINVAL },
	{ "INTx unmask count 0", INTX, NONE | UNMASK, 0, 0, 0, 0, -EINVAL },
	{ "INTx mask by eventfd", INTX, EV | MASK, 0, 1, GOODFD, 0, -ENOTTY },
	{ "INTx unmask fd not an eventfd", INTX, EV | UNMASK, 0, 1, NOTEFD, 0, -EINVAL },
	{ "INTx unmask fd closed", INTX, EV | UNMASK, 0, 1, CLOSEDFD, 0, -EBADF },
	{ "INTx unmask fd -2 (detach)", INTX, EV | UNMASK, 0, 1, -2, 0, 0 },
	{ "INTx trigger fd -2 (no signal)", INTX, EV | TRIG, 0, 1, -2, 0, 0 },
	{ "INTx trigger fd closed", INTX, EV | TRIG, 0, 1, CLOSEDFD, 0, -EBADF },
	{ "MSI-X enable while INTx", MSIX, EV | TRIG, 0, 1, GOODFD, 0, -EINVAL },
	{ "MSI enable while INTx", MSI, EV | TRIG, 0, 1, GOODFD, 0, -EINVAL },
};

static void run_cases(struct __test_metadata *_metadata, int fd,
		      const struct bad_case *cases, size_t n, int evt,
		      int notefd, int closedfd)
{
	struct vfio_irq_info info;
	struct bad_case c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = cases[i];
		if (c.index < VFIO_PCI_NUM_IRQS &&
		    (vfio_irq_info(fd, c.index, &info) || !info.count))
			continue;	/* the device lacks this index */
		if (c.fd == NOTEFD)
			c.fd = notefd;
		else if (c.fd == CLOSEDFD)
			c.fd = closedfd;
		EXPECT_EQ(c.err, run_bad_case(fd, &c, evt))
			TH_LOG("%s", c.what);
	}
}

TEST_F(irq, bad_input)
{
	int fd = self->dev.device_fd;
	int efd = new_efd(), notefd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int closedfd = new_efd();
	struct vfio_irq_info info;
	int32_t big[MAX_VECTORS + 1];
	uint32_t i;

	ASSERT_GE(efd, 0);
	ASSERT_GE(notefd, 0);
	ASSERT_GE(closedfd, 0);
	close(closedfd);

	run_cases(_metadata, fd, bad_cases, ARRAY_SIZE(bad_cases), efd,
		  notefd, closedfd);

	ASSERT_EQ(0, vfio_irq_info(fd, VFIO_PCI_INTX_IRQ_INDEX, &info));
	if (info.count) {
		ASSERT_EQ(0, set_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, efd));
		run_cases(_metadata, fd, bad_cases_intx_on,
			  ARRAY_SIZE(bad_cases_intx_on), efd, notefd, closedfd);
		ASSERT_EQ(0, set_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, efd));
		EXPECT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX, TRIG, 0, 1));
		EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS));
		EXPECT_EQ(0, irq_disable(fd, VFIO_PCI_INTX_IRQ_INDEX));
	}

	/*
	 * A bad eventfd in the middle of the first MSI/MSI-X enable leaves
	 * the index disabled, so INTx can be had afterwards.
	 */
	ASSERT_EQ(0, vfio_irq_info(fd, VFIO_PCI_MSIX_IRQ_INDEX, &info));
	if (info.count >= 2) {
		big[0] = efd;
		big[1] = notefd;
		EXPECT_EQ(-EINVAL, set_irqs_err(fd, VFIO_PCI_MSIX_IRQ_INDEX,
						EV | TRIG, 0, 2, big, 8));
		EXPECT_EQ(-EINVAL, irq_none(fd, VFIO_PCI_MSIX_IRQ_INDEX, TRIG,
					    0, 1) ? -errno : 0)
			TH_LOG("MSI-X must be off after a failed enable");
		/* The same on a live index: earlier vectors of the call go. */
		ASSERT_EQ(0, set_eventfds(fd, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
					  &efd));
		big[0] = efd;
		big[1] = closedfd;
		EXPECT_EQ(-EBADF, set_irqs_err(fd, VFIO_PCI_MSIX_IRQ_INDEX,
					       EV | TRIG, 0, 2, big, 8));
		EXPECT_EQ(0, irq_none(fd, VFIO_PCI_MSIX_IRQ_INDEX, TRIG, 0,
				      2));
		EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS));
		/* count past the table */
		for (i = 0; i <= MAX_VECTORS; i++)
			big[i] = -1;
		EXPECT_EQ(-EINVAL, set_irqs_err(fd, VFIO_PCI_MSIX_IRQ_INDEX,
						EV | TRIG, info.count - 1, 2,
						big, 8));
		EXPECT_EQ(0, irq_disable(fd, VFIO_PCI_MSIX_IRQ_INDEX));
	}

	/* Interrupts still work after all of the above. */
	loopback_single(_metadata, fd, VFIO_PCI_REQ_IRQ_INDEX);
	ASSERT_EQ(0, vfio_irq_info(fd, VFIO_PCI_INTX_IRQ_INDEX, &info));
	if (info.count)
		loopback_single(_metadata, fd, VFIO_PCI_INTX_IRQ_INDEX);
	if (self->edu) {
		ASSERT_EQ(0, cmd_update(&self->dev, PCI_COMMAND_MEMORY, 0));
		ASSERT_EQ(0, edu_ack(&self->dev));
		ASSERT_EQ(0, set_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, efd));
		ASSERT_EQ(0, edu_raise(&self->dev));
		EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS));
		ASSERT_EQ(0, edu_ack(&self->dev));
		EXPECT_EQ(0, irq_disable(fd, VFIO_PCI_INTX_IRQ_INDEX));
	}
	close(notefd);
	close(efd);
}

/* ---- edu: INTx masking ---- */

static void edu_prepare(struct __test_metadata *_metadata,
			struct vfio_pci_dev *dev)
{
	ASSERT_EQ(0, cmd_update(dev, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER,
				PCI_COMMAND_INTX_DISABLE));
	ASSERT_EQ(0, edu_ack(dev));
}

enum unmask_how { BY_IOCTL, BY_BOOL, BY_EVENTFD };

static void unmask(struct __test_metadata *_metadata, int fd,
		   enum unmask_how how, int unmask_efd)
{
	uint64_t one = 1;

	switch (how) {
	case BY_IOCTL:
		ASSERT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX, UNMASK,
				      0, 1));
		break;
	case BY_BOOL:
		ASSERT_EQ(0, irq_bool(fd, VFIO_PCI_INTX_IRQ_INDEX, UNMASK, 1));
		break;
	case BY_EVENTFD:
		ASSERT_EQ(8, write(unmask_efd, &one, 8));
		break;
	}
}

/*
 * While automasked, how is the device masked?  With DisINTx (PCI 2.3) the
 * real COMMAND register has INTX_DISABLE set; with nointxmask=1
 * (VFIO_IRQ_EXPECT_NOINTXMASK=1) the line is masked at the interrupt
 * controller and the bit stays clear.
 */
static void check_mask_mechanism(struct __test_metadata *_metadata,
				 struct vfio_pci_dev *dev)
{
	bool at_controller = getenv("VFIO_IRQ_EXPECT_NOINTXMASK");
	uint16_t cmd;

	ASSERT_EQ(2, sysfs_read_config(dev->bdf, PCI_COMMAND, &cmd, 2));
	EXPECT_EQ(!at_controller, !!(cmd & PCI_COMMAND_INTX_DISABLE))
		TH_LOG("host COMMAND %#06x while automasked", cmd);
}

/*
 * Raise, see one interrupt; raise again without acknowledging (the line
 * stays asserted): nothing, since INTx is automasked.  Unmasking finds the
 * line asserted and delivers it as the second interrupt.  Once the device
 * is acknowledged, unmasking delivers nothing.
 */
static void edu_automask(struct __test_metadata *_metadata,
			 struct vfio_pci_dev *dev, enum unmask_how how)
{
	int fd = dev->device_fd, efd = new_efd(), uefd = new_efd();
	int round;

	ASSERT_GE(efd, 0);
	ASSERT_GE(uefd, 0);
	edu_prepare(_metadata, dev);
	ASSERT_EQ(0, set_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, efd));
	if (how == BY_EVENTFD)
		ASSERT_EQ(0, set_irqs(fd, VFIO_PCI_INTX_IRQ_INDEX, EV | UNMASK,
				      0, 1, &uefd, 4));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS)) TH_LOG("spurious INTx");

	for (round = 0; round < 3; round++) {
		ASSERT_EQ(0, edu_raise(dev));
		EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS))
			TH_LOG("round %d: first interrupt", round);
		check_mask_mechanism(_metadata, dev);
		ASSERT_EQ(0, edu_raise(dev));
		EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS))
			TH_LOG("round %d: delivered while automasked", round);
		unmask(_metadata, fd, how, uefd);
		EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS))
			TH_LOG("round %d: pending interrupt after unmask",
			       round);
		ASSERT_EQ(0, edu_ack(dev));
		unmask(_metadata, fd, how, uefd);
		EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS))
			TH_LOG("round %d: interrupt after ack", round);
	}
	EXPECT_EQ(0, irq_disable(fd, VFIO_PCI_INTX_IRQ_INDEX));
	close(efd);
	close(uefd);
}

TEST_F(irq, edu_intx_automask_unmask_ioctl)
{
	if (!self->edu)
		SKIP(return, "not an edu device");
	edu_automask(_metadata, &self->dev, BY_IOCTL);
}

TEST_F(irq, edu_intx_automask_unmask_bool)
{
	if (!self->edu)
		SKIP(return, "not an edu device");
	edu_automask(_metadata, &self->dev, BY_BOOL);
}

TEST_F(irq, edu_intx_automask_unmask_eventfd)
{
	if (!self->edu)
		SKIP(return, "not an edu device");
	edu_automask(_metadata, &self->dev, BY_EVENTFD);
}

/* MASK, BOOL MASK 0, and the user's COMMAND.INTX_DISABLE. */
TEST_F(irq, edu_intx_mask_and_command)
{
	int fd = self->dev.device_fd, efd = new_efd();

	if (!self->edu)
		SKIP(return, "not an edu device");
	ASSERT_GE(efd, 0);
	edu_prepare(_metadata, &self->dev);
	ASSERT_EQ(0, set_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, efd));

	/* Masked by the user before anything happened. */
	ASSERT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX, MASK, 0, 1));
	ASSERT_EQ(0, edu_raise(&self->dev));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS)) TH_LOG("delivered while masked");
	/* Loopback ignores the mask. */
	ASSERT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX, TRIG, 0, 1));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS));
	ASSERT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX, UNMASK, 0, 1));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS)) TH_LOG("pending after unmask");
	ASSERT_EQ(0, edu_ack(&self->dev));
	ASSERT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX, UNMASK, 0, 1));

	/* BOOL 0 masks nothing. */
	ASSERT_EQ(0, irq_bool(fd, VFIO_PCI_INTX_IRQ_INDEX, MASK, 0));
	ASSERT_EQ(0, edu_raise(&self->dev));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS));
	ASSERT_EQ(0, edu_ack(&self->dev));
	ASSERT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX, UNMASK, 0, 1));

	/* BOOL 1 masks. */
	ASSERT_EQ(0, irq_bool(fd, VFIO_PCI_INTX_IRQ_INDEX, MASK, 1));
	ASSERT_EQ(0, edu_raise(&self->dev));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS));
	ASSERT_EQ(0, edu_ack(&self->dev));
	ASSERT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX, UNMASK, 0, 1));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS)) TH_LOG("acked, yet delivered");

	/* COMMAND.INTX_DISABLE set by the user holds the interrupt back. */
	ASSERT_EQ(0, cmd_update(&self->dev, PCI_COMMAND_INTX_DISABLE, 0));
	ASSERT_EQ(0, edu_raise(&self->dev));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS)) TH_LOG("delivered with DisINTx");
	ASSERT_EQ(0, cmd_update(&self->dev, 0, PCI_COMMAND_INTX_DISABLE));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS)) TH_LOG("not delivered on clear");
	ASSERT_EQ(0, edu_ack(&self->dev));
	ASSERT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX, UNMASK, 0, 1));

	/* A new eventfd replaces the old one on live INTx. */
	{
		int efd2 = new_efd();

		ASSERT_GE(efd2, 0);
		ASSERT_EQ(0, set_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, efd2));
		ASSERT_EQ(0, edu_raise(&self->dev));
		EXPECT_EQ(1ULL, vfio_eventfd_wait(efd2, EVENT_MS));
		EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, 0));
		ASSERT_EQ(0, edu_ack(&self->dev));
		close(efd2);
	}
	EXPECT_EQ(0, irq_disable(fd, VFIO_PCI_INTX_IRQ_INDEX));
	close(efd);
}

/* ---- edu: INTx while the device is runtime suspended ---- */

static int low_power(int fd, uint32_t feature)
{
	struct vfio_device_feature hdr = {
		.argsz = sizeof(hdr),
		.flags = VFIO_DEVICE_FEATURE_SET | feature,
	};

	return ioctl(fd, VFIO_DEVICE_FEATURE, &hdr);
}

/* Wait until sysfs says whether the device is runtime suspended. */
static bool wait_runtime_suspended(const char *bdf, bool want)
{
	char path[128], buf[32] = "";
	uint64_t deadline = now_ms() + 5000;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/power/runtime_status", bdf);
	do {
		f = fopen(path, "r");
		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = 0;
			fclose(f);
		}
		if (!strcmp(buf, "suspended\n") == want)
			return true;
		usleep(20000);
	} while (now_ms() < deadline);
	return false;
}

/*
 * The user's unmask eventfd does not wake a device in low-power mode, so
 * the driver must keep INTx masked while it is suspended: an interrupt
 * left pending by the user stays held back (and the device untouched)
 * until the device is awake again, and is delivered then.  edu has no PM
 * capability, so it stays in D0, but runtime suspend and resume run all
 * the same.  A mask the user set holds across suspend and resume.
 */
TEST_F(irq, edu_intx_masked_while_suspended)
{
	int fd = self->dev.device_fd, efd = new_efd(), uefd = new_efd();
	const char *bdf = self->dev.bdf;
	uint64_t one = 1;

	if (!self->edu)
		SKIP(return, "not an edu device");
	ASSERT_GE(efd, 0);
	ASSERT_GE(uefd, 0);
	edu_prepare(_metadata, &self->dev);
	ASSERT_EQ(0, set_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, efd));
	ASSERT_EQ(0, set_irqs(fd, VFIO_PCI_INTX_IRQ_INDEX, EV | UNMASK, 0, 1,
			      &uefd, 4));

	/* Live and unmasked: masked by the suspend, unmasked by the resume. */
	ASSERT_EQ(0, low_power(fd, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY));
	ASSERT_TRUE(wait_runtime_suspended(bdf, true))
		TH_LOG("edu did not runtime suspend in low-power mode");
	check_mask_mechanism(_metadata, &self->dev);
	ASSERT_EQ(0, low_power(fd, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	ASSERT_EQ(0, edu_raise(&self->dev));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS)) TH_LOG("not unmasked on resume");

	/* Automasked and still asserted when the device goes to sleep. */
	ASSERT_EQ(0, low_power(fd, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY));
	ASSERT_TRUE(wait_runtime_suspended(bdf, true))
		TH_LOG("edu did not runtime suspend in low-power mode");

	ASSERT_EQ(8, write(uefd, &one, 8));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS))
		TH_LOG("unmasked and delivered while suspended");
	check_mask_mechanism(_metadata, &self->dev);
	EXPECT_TRUE(wait_runtime_suspended(bdf, true))
		TH_LOG("the unmask eventfd woke the device");

	ASSERT_EQ(0, low_power(fd, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS))
		TH_LOG("the pending interrupt was not delivered on resume");
	ASSERT_EQ(0, edu_ack(&self->dev));
	ASSERT_EQ(8, write(uefd, &one, 8));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS)) TH_LOG("interrupt after ack");

	/* The user's MASK outlives a suspend and resume. */
	ASSERT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX, MASK, 0, 1));
	ASSERT_EQ(0, edu_raise(&self->dev));
	ASSERT_EQ(0, low_power(fd, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY));
	ASSERT_TRUE(wait_runtime_suspended(bdf, true));
	ASSERT_EQ(0, low_power(fd, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS))
		TH_LOG("resume unmasked what the user masked");
	ASSERT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX, UNMASK, 0, 1));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS)) TH_LOG("pending after unmask");
	ASSERT_EQ(0, edu_ack(&self->dev));

	EXPECT_EQ(0, irq_disable(fd, VFIO_PCI_INTX_IRQ_INDEX));
	close(efd);
	close(uefd);
}

TEST_F(irq, edu_msi_every_raise)
{
	int fd = self->dev.device_fd, efd = new_efd(), i;

	if (!self->edu)
		SKIP(return, "not an edu device");
	ASSERT_GE(efd, 0);
	edu_prepare(_metadata, &self->dev);
	ASSERT_EQ(0, set_eventfd(fd, VFIO_PCI_MSI_IRQ_INDEX, efd));
	/* MSI is edge-like: every raise is one message, no masking. */
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, edu_raise(&self->dev));
		EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS)) TH_LOG("raise %d", i);
		ASSERT_EQ(0, edu_ack(&self->dev));
	}
	EXPECT_EQ(0, irq_disable(fd, VFIO_PCI_MSI_IRQ_INDEX));
	ASSERT_EQ(0, edu_raise(&self->dev));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS)) TH_LOG("MSI after disable");
	ASSERT_EQ(0, edu_ack(&self->dev));
	close(efd);
}

/* ---- edu: a storm of reconfiguration while the device fires ---- */

struct storm {
	struct vfio_pci_dev *dev;
	bool stop;		/* read with __atomic_load_n */
	int efd[2], uefd;
	unsigned long ops, bad;
	int bad_errno;
	pthread_mutex_t lock;
};

static void storm_note(struct storm *s, int ret)
{
	pthread_mutex_lock(&s->lock);
	s->ops++;
	/*
	 * EINVAL: the index changed under us, which is what we provoke.
	 * EBUSY: an unmask eventfd is attached already (the other thread).
	 */
	if (ret && errno != EINVAL && errno != EBUSY) {
		s->bad++;
		s->bad_errno = errno;
	}
	pthread_mutex_unlock(&s->lock);
}

static void *storm_raiser(void *arg)
{
	struct storm *s = arg;

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		edu_raise(s->dev);
		usleep(200);
		edu_ack(s->dev);
	}
	return NULL;
}

static void *storm_unmasker(void *arg)
{
	struct storm *s = arg;
	int fd = s->dev->device_fd;
	uint64_t one = 1, cnt;
	unsigned int i = 0;

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		if (read(s->efd[i & 1], &cnt, 8) < 0)
			usleep(100);
		if (i % 3 == 0) {
			if (write(s->uefd, &one, 8) != 8)
				storm_note(s, -1);
		} else {
			storm_note(s, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX,
					       UNMASK, 0, 1));
		}
		if (i % 5 == 0)
			storm_note(s, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX,
					       MASK, 0, 1));
		i++;
	}
	return NULL;
}

static void *storm_command(void *arg)
{
	struct storm *s = arg;
	unsigned int i = 0;

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		cmd_update(s->dev, i & 1 ? PCI_COMMAND_INTX_DISABLE : 0,
			   i & 1 ? 0 : PCI_COMMAND_INTX_DISABLE);
		usleep(300);
		i++;
	}
	return NULL;
}

static void *storm_config(void *arg)
{
	struct storm *s = arg;
	int fd = s->dev->device_fd;
	unsigned int i = 0;
	int32_t v;

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		switch (i % 8) {
		case 0: case 1: case 2:
			/* swap the trigger, enabling INTx if needed */
			storm_note(s, set_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX,
						  s->efd[i & 1]));
			break;
		case 3:
			v = s->uefd;
			storm_note(s, set_irqs(fd, VFIO_PCI_INTX_IRQ_INDEX,
					       EV | UNMASK, 0, 1, &v, 4));
			break;
		case 4:
			storm_note(s, irq_disable(fd, VFIO_PCI_INTX_IRQ_INDEX));
			break;
		case 5:
			storm_note(s, set_eventfd(fd, VFIO_PCI_MSI_IRQ_INDEX,
						  s->efd[0]));
			break;
		case 6:
			storm_note(s, irq_none(fd, VFIO_PCI_MSI_IRQ_INDEX, TRIG,
					       0, 1));
			storm_note(s, irq_disable(fd, VFIO_PCI_MSI_IRQ_INDEX));
			break;
		case 7:
			v = -1;
			storm_note(s, set_irqs(fd, VFIO_PCI_INTX_IRQ_INDEX,
					       EV | UNMASK, 0, 1, &v, 4));
			storm_note(s, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX,
					       TRIG, 0, 1));
			break;
		}
		i++;
	}
	return NULL;
}

typedef void *(*storm_fn)(void *);
static const storm_fn fns[] = {
	storm_raiser, storm_unmasker, storm_command, storm_config, storm_config
};

TEST_F(irq, edu_storm)
{
	const char *env = getenv("VFIO_IRQ_STORM_SECONDS");
	int secs = env ? atoi(env) : 4, fd = self->dev.device_fd, i, efd;
	pthread_t th[ARRAY_SIZE(fns)];

	struct storm s = { .dev = &self->dev };

	if (!self->edu)
		SKIP(return, "not an edu device");
	edu_prepare(_metadata, &self->dev);
	pthread_mutex_init(&s.lock, NULL);
	s.efd[0] = new_efd();
	s.efd[1] = new_efd();
	s.uefd = new_efd();
	ASSERT_GE(s.efd[0], 0);
	ASSERT_GE(s.efd[1], 0);
	ASSERT_GE(s.uefd, 0);

	for (i = 0; i < (int)ARRAY_SIZE(fns); i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, fns[i], &s));
	sleep(secs);
	__atomic_store_n(&s.stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < (int)ARRAY_SIZE(fns); i++)
		pthread_join(th[i], NULL);
	TH_LOG("%lu SET_IRQS calls in %d s, %lu unexpected errors (last %s)",
	       s.ops, secs, s.bad, s.bad ? strerror(s.bad_errno) : "-");
	EXPECT_EQ(0UL, s.bad);
	EXPECT_GT(s.ops, 20UL);

	/* Nothing is stuck: a clean INTx set-up delivers the next raise. */
	efd = new_efd();
	ASSERT_GE(efd, 0);
	irq_disable(fd, VFIO_PCI_INTX_IRQ_INDEX);
	irq_disable(fd, VFIO_PCI_MSI_IRQ_INDEX);
	edu_prepare(_metadata, &self->dev);
	ASSERT_EQ(0, set_eventfd(fd, VFIO_PCI_INTX_IRQ_INDEX, efd));
	/*
	 * QEMU's IOAPIC does not follow a pin's input while the pin is
	 * programmed edge-triggered, which is how Linux leaves the pin of a
	 * freed irq.  Under nointxmask nothing masks edu itself, so when the
	 * storm freed INTx with edu asserting and edu was acknowledged
	 * before INTx was requested again, the pin still looks asserted
	 * and fires until edu drives it high and low once more (both
	 * drivers alike; real IOAPICs sample the level).  Do that once,
	 * masked, and drop what it delivered; from then on nothing may be
	 * pending.
	 */
	ASSERT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX, MASK, 0, 1));
	ASSERT_EQ(0, edu_raise(&self->dev));
	ASSERT_EQ(0, edu_ack(&self->dev));
	vfio_eventfd_wait(efd, 0);
	ASSERT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX, UNMASK, 0, 1));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efd, QUIET_MS)) TH_LOG("stale INTx");
	ASSERT_EQ(0, edu_raise(&self->dev));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS)) TH_LOG("final INTx lost");
	ASSERT_EQ(0, edu_ack(&self->dev));
	ASSERT_EQ(0, irq_none(fd, VFIO_PCI_INTX_IRQ_INDEX, UNMASK, 0, 1));
	ASSERT_EQ(0, edu_raise(&self->dev));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS)) TH_LOG("second INTx lost");
	ASSERT_EQ(0, edu_ack(&self->dev));
	ASSERT_EQ(0, irq_disable(fd, VFIO_PCI_INTX_IRQ_INDEX));
	ASSERT_EQ(0, set_eventfd(fd, VFIO_PCI_MSI_IRQ_INDEX, efd));
	ASSERT_EQ(0, edu_raise(&self->dev));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(efd, EVENT_MS)) TH_LOG("final MSI lost");
	ASSERT_EQ(0, edu_ack(&self->dev));
	ASSERT_EQ(0, irq_disable(fd, VFIO_PCI_MSI_IRQ_INDEX));
	close(efd);
	close(s.efd[0]);
	close(s.efd[1]);
	close(s.uefd);
}

/* ---- virtio-net: device-raised MSI-X on every vector ---- */

struct vnet {
	struct vfio_pci_dev *dev;
	unsigned int bar;
	uint64_t off;		/* of struct virtio_pci_common_cfg */
	int qmp;
	const char *id;
	bool link_up;
};

/* Locate the common configuration structure from the vendor caps. */
static int vnet_find_common(const uint8_t *cfg, struct vnet *v)
{
	unsigned int pos = cfg[PCI_CAPABILITY_LIST] & ~3u, guard = 0;

	while (pos && guard++ < 48) {
		if (cfg[pos] == PCI_CAP_ID_VNDR &&
		    cfg[pos + offsetof(struct virtio_pci_cap, cfg_type)] ==
		    VIRTIO_PCI_CAP_COMMON_CFG) {
			uint32_t off;

			memcpy(&off, cfg + pos +
			       offsetof(struct virtio_pci_cap, offset), 4);
			v->bar = cfg[pos + offsetof(struct virtio_pci_cap, bar)];
			v->off = off;
			return 0;
		}
		pos = cfg[pos + 1] & ~3u;
	}
	return -1;
}

#define VCOM(f)	offsetof(struct virtio_pci_common_cfg, f)

static int vnet_wr(struct vnet *v, unsigned int f, const void *val,
		   size_t len)
{
	return vfio_region_write(v->dev, v->bar, v->off + f, val, len) ==
	       (ssize_t)len ? 0 : -1;
}

static int vnet_rd(struct vnet *v, unsigned int f, void *val, size_t len)
{
	return vfio_region_read(v->dev, v->bar, v->off + f, val, len) ==
	       (ssize_t)len ? 0 : -1;
}

/*
 * Reset, negotiate VERSION_1 (and ACCESS_PLATFORM when offered, which an
 * iommu_platform device insists on), and go DRIVER_OK with no queues: all
 * a device needs to send configuration interrupts.
 */
static int vnet_driver_ok(struct vnet *v)
{
	uint8_t st = 0;
	uint32_t sel, hi, want;
	uint64_t deadline = now_ms() + 2000;

	if (vnet_wr(v, VCOM(device_status), &st, 1))
		return -1;
	do {
		if (vnet_rd(v, VCOM(device_status), &st, 1))
			return -1;
	} while (st && now_ms() < deadline);
	st = 1 | 2;	/* ACKNOWLEDGE | DRIVER */
	sel = 1;
	if (vnet_wr(v, VCOM(device_status), &st, 1) ||
	    vnet_wr(v, VCOM(device_feature_select), &sel, 4) ||
	    vnet_rd(v, VCOM(device_feature), &hi, 4))
		return -1;
	want = hi & 3;	/* bit 32 VERSION_1, bit 33 ACCESS_PLATFORM */
	if (!(want & 1))
		return -1;
	sel = 0;
	if (vnet_wr(v, VCOM(guest_feature_select), &sel, 4) ||
	    vnet_wr(v, VCOM(guest_feature), &sel, 4))
		return -1;
	sel = 1;
	if (vnet_wr(v, VCOM(guest_feature_select), &sel, 4) ||
	    vnet_wr(v, VCOM(guest_feature), &want, 4))
		return -1;
	st |= 8;	/* FEATURES_OK */
	if (vnet_wr(v, VCOM(device_status), &st, 1) ||
	    vnet_rd(v, VCOM(device_status), &st, 1) || !(st & 8))
		return -1;
	st |= 4;	/* DRIVER_OK */
	return vnet_wr(v, VCOM(device_status), &st, 1);
}

static int vnet_config_vector(struct vnet *v, uint16_t vec)
{
	uint16_t back;

	if (vnet_wr(v, VCOM(msix_config), &vec, 2) ||
	    vnet_rd(v, VCOM(msix_config), &back, 2))
		return -1;
	return back == vec ? 0 : -1;
}

/* Flip the link: the device sends a configuration interrupt. */
static int vnet_toggle_link(struct vnet *v)
{
	char args[160], ans[512];

	v->link_up = !v->link_up;
	snprintf(args, sizeof(args), "{\"name\":\"%s\",\"up\":%s}", v->id,
		 v->link_up ? "true" : "false");
	return qmp_cmd(v->qmp, "set_link", args, ans, sizeof(ans));
}

static void vnet_setup(struct __test_metadata *_metadata,
		       struct vfio_pci_dev *dev, const uint8_t *cfg,
		       struct vnet *v)
{
	memset(v, 0, sizeof(*v));
	v->dev = dev;
	v->qmp = -1;
	v->link_up = true;
	v->id = getenv("VFIO_IRQ_TEST_NETDEV");
	ASSERT_EQ(0, vnet_find_common(cfg, v));
	v->bar += VFIO_PCI_BAR0_REGION_INDEX;
	ASSERT_EQ(0, cmd_update(dev, PCI_COMMAND_MEMORY |
				PCI_COMMAND_MASTER, 0));
	v->qmp = qmp_session();
	ASSERT_GE(v->qmp, 0) TH_LOG("no QMP port");
}

/*
 * vnet_setup(), then fetch the MSI-X index's info into @info and return
 * how many of its vectors a test drives: all of them, up to MAX_VECTORS.
 * Fails the test unless there are at least two.
 */
static unsigned int vnet_setup_msix(struct __test_metadata *_metadata,
				    struct vfio_pci_dev *dev,
				    const uint8_t *cfg, struct vnet *v,
				    struct vfio_irq_info *info)
{
	unsigned int n;

	vnet_setup(_metadata, dev, cfg, v);
	ASSERT_EQ(0, vfio_irq_info(dev->device_fd, VFIO_PCI_MSIX_IRQ_INDEX,
				   info));
	n = info->count < MAX_VECTORS ? info->count : MAX_VECTORS;
	ASSERT_GE(n, 2u);
	return n;
}

static void vnet_fire_expect(struct __test_metadata *_metadata,
			     struct vnet *v, const int32_t *efds,
			     unsigned int n, unsigned int vec)
{
	unsigned int j;

	ASSERT_EQ(0, vnet_config_vector(v, vec));
	ASSERT_EQ(0, vnet_toggle_link(v));
	EXPECT_EQ(1ULL, vfio_eventfd_wait(efds[vec], EVENT_MS))
		TH_LOG("vector %u: no interrupt from the device", vec);
	for (j = 0; j < n; j++)
		if (j != vec && efds[j] >= 0)
			EXPECT_EQ(0ULL, vfio_eventfd_wait(efds[j], 0))
				TH_LOG("vector %u fired for %u", j, vec);
}

TEST_F(irq, virtio_msix_device_every_vector)
{
	int fd = self->dev.device_fd;
	struct vfio_irq_info info;
	int32_t efds[MAX_VECTORS];
	struct vnet v;
	unsigned int i, n;

	if (!self->virtio_net || !getenv("VFIO_IRQ_TEST_NETDEV"))
		SKIP(return, "needs a modern virtio-net and VFIO_IRQ_TEST_NETDEV");
	n = vnet_setup_msix(_metadata, &self->dev, self->cfg, &v, &info);
	for (i = 0; i < n; i++) {
		efds[i] = new_efd();
		ASSERT_GE(efds[i], 0);
	}
	ASSERT_EQ(0, set_eventfds(fd, VFIO_PCI_MSIX_IRQ_INDEX, 0, n, efds));
	ASSERT_EQ(0, vnet_driver_ok(&v));
	for (i = 0; i < n; i++)
		vnet_fire_expect(_metadata, &v, efds, n, i);
	/* Back in the other order, each twice. */
	for (i = n; i-- > 0;) {
		vnet_fire_expect(_metadata, &v, efds, n, i);
		vnet_fire_expect(_metadata, &v, efds, n, i);
	}
	EXPECT_EQ(0, irq_disable(fd, VFIO_PCI_MSIX_IRQ_INDEX));
	ASSERT_EQ(0, vnet_toggle_link(&v));
	for (i = 0; i < n; i++)
		EXPECT_EQ(0ULL, vfio_eventfd_wait(efds[i], i ? 0 : QUIET_MS));
	if (!v.link_up)
		vnet_toggle_link(&v);
	for (i = 0; i < n; i++)
		close(efds[i]);
	close(v.qmp);
}

/*
 * Start MSI-X with one vector and add the others one by one while it is
 * live.  With dynamic MSI-X (no NORESIZE) each addition must work and the
 * vectors already there must keep delivering; without it, growing past
 * the first enable is refused.
 */
TEST_F(irq, virtio_msix_grow_live)
{
	int fd = self->dev.device_fd;
	struct vfio_irq_info info;
	int32_t efds[MAX_VECTORS];
	struct vnet v;
	unsigned int i, k, n;

	if (!self->virtio_net || !getenv("VFIO_IRQ_TEST_NETDEV"))
		SKIP(return, "needs a modern virtio-net and VFIO_IRQ_TEST_NETDEV");
	n = vnet_setup_msix(_metadata, &self->dev, self->cfg, &v, &info);
	for (i = 0; i < n; i++)
		efds[i] = -1;
	efds[0] = new_efd();
	ASSERT_GE(efds[0], 0);
	ASSERT_EQ(0, set_eventfds(fd, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, efds));
	/* Enabling with one vector allocates just that one. */
	EXPECT_EQ(1, msi_irqs_count(self->dev.bdf));
	ASSERT_EQ(0, vnet_driver_ok(&v));
	vnet_fire_expect(_metadata, &v, efds, n, 0);

	for (k = 1; k < n; k++) {
		int32_t e = new_efd();

		ASSERT_GE(e, 0);
		if (info.flags & VFIO_IRQ_INFO_NORESIZE) {
			EXPECT_EQ(-EINVAL,
				  set_irqs_err(fd, MSIX, EV | TRIG, k, 1, &e, 4));
			close(e);
			EXPECT_EQ(1, msi_irqs_count(self->dev.bdf));
			TH_LOG("NORESIZE: growing refused as it should be");
			break;
		}
		ASSERT_EQ(0, set_eventfds(fd, VFIO_PCI_MSIX_IRQ_INDEX, k, 1,
					  &e)) TH_LOG("add vector %u", k);
		efds[k] = e;
		/*
		 * The vector was allocated now, with MSI-X live: the core's
		 * list of the device's vectors grew by exactly one.  Only
		 * dynamic allocation can do that without disabling MSI-X.
		 */
		EXPECT_EQ((int)k + 1, msi_irqs_count(self->dev.bdf))
			TH_LOG("vector %u not allocated dynamically", k);
		/* Adding disturbed nobody... */
		for (i = 0; i < k; i++)
			EXPECT_EQ(0ULL, vfio_eventfd_wait(efds[i], 0));
		/* ...the new vector and the oldest both deliver. */
		vnet_fire_expect(_metadata, &v, efds, n, k);
		vnet_fire_expect(_metadata, &v, efds, n, 0);
	}
	/* Finally every vector, old and new, once more. */
	for (i = 0; i < n; i++)
		if (efds[i] >= 0)
			vnet_fire_expect(_metadata, &v, efds, n, i);
	EXPECT_EQ(0, irq_disable(fd, VFIO_PCI_MSIX_IRQ_INDEX));
	if (!v.link_up)
		vnet_toggle_link(&v);
	for (i = 0; i < n; i++)
		if (efds[i] >= 0)
			close(efds[i]);
	close(v.qmp);
}

/*
 * Zero the address and data of MSI-X table entry @vec through @map, a
 * mapping of the table's BAR: the device then sends that vector's
 * message to address 0, which is no interrupt.
 */
static void msix_clobber(uint8_t *map, uint32_t table, unsigned int vec)
{
	uint32_t *e = (uint32_t *)(map + table + vec * PCI_MSIX_ENTRY_SIZE);

	/* Atomic accesses: one 32-bit MMIO access each, none elided. */
	__atomic_store_n(&e[PCI_MSIX_ENTRY_LOWER_ADDR / 4], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&e[PCI_MSIX_ENTRY_UPPER_ADDR / 4], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&e[PCI_MSIX_ENTRY_DATA / 4], 0, __ATOMIC_RELAXED);
	/* Reading back flushes the posted writes. */
	(void)__atomic_load_n(&e[PCI_MSIX_ENTRY_DATA / 4], __ATOMIC_RELAXED);
}

static void replace_efd(struct __test_metadata *_metadata, int fd,
			int32_t *efds, unsigned int vec)
{
	int32_t none = -1;

	ASSERT_EQ(0, set_eventfds(fd, VFIO_PCI_MSIX_IRQ_INDEX, vec, 1, &none));
	close(efds[vec]);
	efds[vec] = new_efd();
	ASSERT_GE(efds[vec], 0);
	ASSERT_EQ(0, set_eventfds(fd, VFIO_PCI_MSIX_IRQ_INDEX, vec, 1,
				  &efds[vec]));
}

/*
 * The user owns the MSI-X table's BAR and may map it (MSIX_MAPPABLE), so it
 * can clobber table entries, as a device reset the driver does not see
 * would.  Giving a vector an eventfd must make its entry valid again:
 * a vector allocated without an eventfd, one clobbered while detached,
 * and one clobbered while live then detached all deliver once attached.
 */
TEST_F(irq, virtio_msix_table_clobbered)
{
	unsigned int msix = cfg_find_cap(self->cfg, PCI_CAP_ID_MSIX);
	int fd = self->dev.device_fd;
	struct vfio_region_info ri;
	struct vfio_irq_info info;
	int32_t efds[2];
	uint32_t table;
	uint8_t *map;
	struct vnet v;

	if (!self->virtio_net || !getenv("VFIO_IRQ_TEST_NETDEV"))
		SKIP(return, "needs a modern virtio-net and VFIO_IRQ_TEST_NETDEV");
	vnet_setup_msix(_metadata, &self->dev, self->cfg, &v, &info);
	memcpy(&table, self->cfg + msix + PCI_MSIX_TABLE, 4);
	ASSERT_EQ(0, vfio_region_info(fd, VFIO_PCI_BAR0_REGION_INDEX +
				      (table & PCI_MSIX_TABLE_BIR), &ri));
	ASSERT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP)
		TH_LOG("the MSI-X table's BAR cannot be mapped");
	map = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   ri.offset);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap: %s", strerror(errno));
	table &= PCI_MSIX_TABLE_OFFSET;

	/* Vector 1 is allocated, but has no eventfd yet. */
	efds[0] = new_efd();
	efds[1] = -1;
	ASSERT_GE(efds[0], 0);
	ASSERT_EQ(0, set_eventfds(fd, VFIO_PCI_MSIX_IRQ_INDEX, 0, 2, efds));
	ASSERT_EQ(0, vnet_driver_ok(&v));
	vnet_fire_expect(_metadata, &v, efds, 2, 0);

	/* A clobbered entry really is dead while nothing rewrites it. */
	msix_clobber(map, table, 0);
	ASSERT_EQ(0, vnet_toggle_link(&v));
	EXPECT_EQ(0ULL, vfio_eventfd_wait(efds[0], QUIET_MS))
		TH_LOG("a clobbered entry still delivers");
	replace_efd(_metadata, fd, efds, 0);
	TH_LOG("vector clobbered while live, then given a new eventfd");
	vnet_fire_expect(_metadata, &v, efds, 2, 0);

	msix_clobber(map, table, 1);
	efds[1] = new_efd();
	ASSERT_GE(efds[1], 0);
	ASSERT_EQ(0, set_eventfds(fd, VFIO_PCI_MSIX_IRQ_INDEX, 1, 1,
				  &efds[1]));
	TH_LOG("vector allocated without eventfd, clobbered, attached");
	vnet_fire_expect(_metadata, &v, efds, 2, 1);

	/* Vector 0: detached, clobbered, attached again. */
	{
		int32_t none = -1;

		ASSERT_EQ(0, set_eventfds(fd, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
					  &none));
		msix_clobber(map, table, 0);
		ASSERT_EQ(0, set_eventfds(fd, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
					  &efds[0]));
	}
	TH_LOG("vector detached, clobbered, attached");
	vnet_fire_expect(_metadata, &v, efds, 2, 0);

	/* Vector 1: clobbered while live, detached, a new eventfd. */
	msix_clobber(map, table, 1);
	replace_efd(_metadata, fd, efds, 1);
	TH_LOG("vector clobbered, detached, attached");
	vnet_fire_expect(_metadata, &v, efds, 2, 1);
	vnet_fire_expect(_metadata, &v, efds, 2, 0);

	EXPECT_EQ(0, irq_disable(fd, VFIO_PCI_MSIX_IRQ_INDEX));
	if (!v.link_up)
		vnet_toggle_link(&v);
	munmap(map, ri.size);
	close(efds[0]);
	close(efds[1]);
	close(v.qmp);
}

/* ---- ERR: an AER error injected into the device ---- */

TEST_F(irq, err_on_aer_injection)
{
	const char *id = getenv("VFIO_IRQ_TEST_AER_ID");
	int fd = self->dev.device_fd, efd, qmp;
	char args[256], ans[1024];
	unsigned int exp;
	uint16_t devctl;

	if (!id)
		SKIP(return, "VFIO_IRQ_TEST_AER_ID is not set");
	efd = new_efd();
	ASSERT_GE(efd, 0);
	ASSERT_EQ(0, set_eventfd(fd, VFIO_PCI_ERR_IRQ_INDEX, efd));
	/*
	 * The device only sends error messages it is told to report, as
	 * a guest driver would tell it through Device Control.
	 */
	exp = cfg_find_cap(self->cfg, PCI_CAP_ID_EXP);
	ASSERT_NE(0u, exp);
	ASSERT_EQ(0, cfg_rd16(&self->dev, exp + PCI_EXP_DEVCTL, &devctl));
	devctl |= PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE |
		  PCI_EXP_DEVCTL_FERE | PCI_EXP_DEVCTL_URRE;
	ASSERT_EQ(0, cfg_wr16(&self->dev, exp + PCI_EXP_DEVCTL, devctl));
	ASSERT_EQ(2, sysfs_read_config(self->dev.bdf, exp + PCI_EXP_DEVCTL,
				       &devctl, 2));
	/*
	 * QEMU keeps these bits read-only zero on devices that do not model
	 * error reporting (e1000e in 7.2), and then never sends the message.
	 */
	if (!(devctl & PCI_EXP_DEVCTL_NFERE)) {
		close(efd);
		SKIP(return, "DevCtl %#06x: the device cannot report errors",
		     devctl);
	}
	qmp = qmp_session();
	ASSERT_GE(qmp, 0);
	/* Poisoned TLP: uncorrectable, non-fatal by default severity. */
	snprintf(args, sizeof(args),
		 "{\"command-line\":\"pcie_aer_inject_error %s POISON_TLP\"}",
		 id);
	ASSERT_EQ(0, qmp_cmd(qmp, "human-monitor-command", args, ans,
			     sizeof(ans)));
	TH_LOG("monitor: %s", ans);
	EXPECT_EQ(NULL, strstr(ans, "rror")) TH_LOG("injection failed");
	EXPECT_GE(vfio_eventfd_wait(efd, 20000), 1ULL) TH_LOG("no ERR event");
	EXPECT_EQ(0, set_eventfd(fd, VFIO_PCI_ERR_IRQ_INDEX, -1));
	close(qmp);
	close(efd);
}

/* ---- REQ: the kernel asks for the device back ---- */

static int driver_bound(const char *bdf)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	return lstat(path, &st) == 0;
}

TEST_F(irq, req_on_unbind)
{
	const char *bdf = self->dev.bdf;
	int fd = self->dev.device_fd, efd, status, i;
	char path[256];
	pid_t child;

	if (!getenv("VFIO_IRQ_TEST_REQ"))
		SKIP(return, "VFIO_IRQ_TEST_REQ is not set (gives the device away)");
	efd = new_efd();
	ASSERT_GE(efd, 0);
	ASSERT_EQ(0, set_eventfd(fd, VFIO_PCI_REQ_IRQ_INDEX, efd));

	child = fork();
	ASSERT_GE(child, 0);
	if (!child) {
		int u;

		/* The child must not hold the device itself. */
		vfio_pci_dev_close(&self->dev);
		close(efd);

		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		u = open(path, O_WRONLY);
		if (u < 0 || write(u, bdf, strlen(bdf)) != (ssize_t)strlen(bdf))
			_exit(1);
		_exit(0);
	}
	EXPECT_GE(vfio_eventfd_wait(efd, 20000), 1ULL) TH_LOG("no REQ event");
	/* The unbind waits for us. */
	usleep(200000);
	EXPECT_EQ(0, waitpid(child, &status, WNOHANG))
		TH_LOG("unbind finished while the device was held");

	vfio_pci_dev_close(&self->dev);
	for (i = 0; i < 200; i++) {
		if (waitpid(child, &status, WNOHANG) == child)
			break;
		usleep(100000);
	}
	ASSERT_LT(i, 200) TH_LOG("unbind did not finish after release");
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_FALSE(driver_bound(bdf));
	close(efd);
}

TEST_HARNESS_MAIN
