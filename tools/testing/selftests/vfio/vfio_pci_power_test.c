// SPDX-License-Identifier: GPL-2.0-only
/*
 * Power management of a device bound to vfio-pci: runtime PM while the
 * device is open, and the VFIO_DEVICE_FEATURE_LOW_POWER_* features.
 *
 * The device ($VFIO_SELFTESTS_BDF) must have a PCI power management
 * capability (QEMU's e1000e does, edu does not), a mappable memory BAR0, and
 * be bound to vfio-pci with runtime PM not disabled (disable_idle_d3=0).
 * What the tests look at is the PCI core's own view in sysfs: power_state
 * (the D-state it last set) and power/runtime_status.
 *
 * Semantics being checked (those of the upstream driver):
 *   - an open device is awake;
 *   - LOW_POWER_ENTRY lets the device suspend to D3hot under an open file,
 *     and zaps its BAR mappings: faults get SIGBUS until the mode ends;
 *   - any device ioctl, read() or write() wakes it for its duration (the
 *     vfio core holds a runtime PM reference around ioctls, the driver
 *     around region access), and so does the host (here: power/control);
 *     without a wake-up eventfd it suspends again afterwards;
 *   - with LOW_POWER_ENTRY_WITH_WAKEUP, the first wake-up (the user's
 *     access or the host's) signals the eventfd and ends the low-power mode;
 *   - LOW_POWER_EXIT ends the mode and is harmless when it is not engaged;
 *   - region access from another thread while the mode is entered and left
 *     always succeeds and reads what the device holds; the device does not
 *     suspend under an access in flight, however long it takes;
 *   - D3hot written to PMCSR by the user: a NoSoftRst- device gets back the
 *     config state it had, a NoSoftRst+ one is left alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
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
#include <sys/syscall.h>

#include <linux/pci_regs.h>
#include <linux/userfaultfd.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

/* How long the PCI core may take to suspend or resume under TCG. */
#define PM_TIMEOUT_MS	5000

/* PMCSR PowerState values. */
#define PMCSR_D0	0
#define PMCSR_D3HOT	3

FIXTURE(power) {
	struct vfio_pci_dev dev;
	unsigned int pm_cap;
};

FIXTURE_SETUP(power)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	const char *bdf = vfio_selftests_bdf();
	uint8_t cfg[256];

	if (!bdf)
		SKIP(return, "%s is not set", VFIO_SELFTESTS_BDF_ENV);
	ASSERT_EQ(0, vfio_pci_dev_open(&self->dev, bdf, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(sizeof(cfg), sysfs_read_config(bdf, 0, cfg, sizeof(cfg)));
	self->pm_cap = pci_find_cap(cfg, PCI_CAP_ID_PM);
	if (!self->pm_cap)
		SKIP(return, "%s has no power management capability", bdf);
}

FIXTURE_TEARDOWN(power)
{
	vfio_pci_dev_close(&self->dev);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read a one-line sysfs attribute of the device, newline stripped. */
static int sysfs_attr(const char *bdf, const char *attr, char *buf,
		      size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static bool attr_is(const char *bdf, const char *attr, const char *want)
{
	char val[64];

	return !sysfs_attr(bdf, attr, val, sizeof(val)) && !strcmp(val, want);
}

/*
 * Wait up to @ms until power/runtime_status reads @status and, if @state is
 * given, power_state reads @state.  Returns true if that happened in time.
 */
static bool wait_pm_for(const char *bdf, const char *status,
			const char *state, unsigned int ms)
{
	uint64_t end = now_ms() + ms;

	do {
		if (attr_is(bdf, "power/runtime_status", status) &&
		    (!state || attr_is(bdf, "power_state", state)))
			return true;
		usleep(20 * 1000);
	} while (now_ms() < end);
	return false;
}

static bool wait_pm(const char *bdf, const char *status, const char *state)
{
	return wait_pm_for(bdf, status, state, PM_TIMEOUT_MS);
}

/* Log where the device is, for failures. */
static void log_pm(struct __test_metadata *_metadata, const char *bdf)
{
	char status[64] = "?", state[64] = "?";

	sysfs_attr(bdf, "power/runtime_status", status, sizeof(status));
	sysfs_attr(bdf, "power_state", state, sizeof(state));
	TH_LOG("%s: runtime_status %s, power_state %s", bdf, status, state);
}

static int enter_low_power(int fd)
{
	return vfio_device_feature(fd, VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, NULL, 0);
}

static int enter_low_power_wakeup(int fd, int efd)
{
	struct vfio_device_low_power_entry_with_wakeup entry = {
		.wakeup_eventfd = efd,
	};

	return vfio_device_feature(fd, VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
				   &entry, sizeof(entry));
}

static int exit_low_power(int fd)
{
	return vfio_device_feature(fd, VFIO_DEVICE_FEATURE_SET |
				   VFIO_DEVICE_FEATURE_LOW_POWER_EXIT, NULL, 0);
}

/* Has the eventfd been signalled within @ms?  Consumes the count. */
static bool eventfd_fired(int efd, int ms)
{
	return vfio_eventfd_wait(efd, ms) > 0;
}

/*
 * Put @dev into low-power mode with @efd as its wake-up eventfd and wait
 * until it has runtime suspended to D3hot; the test fails if it does not.
 */
static void suspend_with_wakeup(struct __test_metadata *_metadata,
				struct vfio_pci_dev *dev, int efd)
{
	ASSERT_EQ(0, enter_low_power_wakeup(dev->device_fd, efd));
	if (!wait_pm(dev->bdf, "suspended", "D3hot"))
		log_pm(_metadata, dev->bdf);
	ASSERT_TRUE(attr_is(dev->bdf, "power_state", "D3hot"));
}

/*
 * After a wake-up, the device must be up and stay up: check it is still
 * runtime active in D0 half a second later.
 */
static void expect_stays_awake(struct __test_metadata *_metadata,
			       const char *bdf)
{
	usleep(500 * 1000);
	EXPECT_TRUE(attr_is(bdf, "power/runtime_status", "active"));
	EXPECT_TRUE(attr_is(bdf, "power_state", "D0"));
}

static int sysfs_write(const char *bdf, const char *attr, const char *val)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -errno;
}

/*
 * The host wants the device: forbidding runtime PM (power/control "on", as
 * an admin would) resumes it synchronously; then allow it again.  (Host
 * config space reads do not resume a device in D3hot, which answers them.)
 */
static int host_wake(const char *bdf)
{
	int ret = sysfs_write(bdf, "power/control", "on");

	if (ret)
		return ret;
	if (!attr_is(bdf, "power/runtime_status", "active"))
		ret = -EIO;
	sysfs_write(bdf, "power/control", "auto");
	return ret;
}

static int get_info(int fd)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	return ioctl(fd, VFIO_DEVICE_GET_INFO, &info) ? -errno : 0;
}

static sigjmp_buf sigbus_jmp;

static void sigbus_handler(int sig)
{
	(void)sig;
	siglongjmp(sigbus_jmp, 1);
}

/*
 * Read a 32-bit word through a mapping; false if that raised SIGBUS.  The
 * atomic load makes sure the access really happens, here and once.
 */
static bool mmap_read(const uint32_t *p, uint32_t *val)
{
	struct sigaction sa = { .sa_handler = sigbus_handler }, old;
	bool ok = false;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	if (!sigsetjmp(sigbus_jmp, 1)) {
		*val = __atomic_load_n(p, __ATOMIC_RELAXED);
		ok = true;
	}
	sigaction(SIGBUS, &old, NULL);
	return ok;
}

TEST_F(power, open_device_is_awake)
{
	if (!wait_pm(self->dev.bdf, "active", "D0"))
		log_pm(_metadata, self->dev.bdf);
	ASSERT_TRUE(attr_is(self->dev.bdf, "power/runtime_status", "active"));
	ASSERT_TRUE(attr_is(self->dev.bdf, "power_state", "D0"));
}

TEST_F(power, feature_flags)
{
	int fd = self->dev.device_fd;
	struct vfio_device_low_power_entry_with_wakeup entry = { 0 };
	uint8_t uuid[16] = { 0 };
	int efd;

	/* PROBE answers for exactly the operations a feature supports. */
	EXPECT_EQ(0, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_PROBE |
					 VFIO_DEVICE_FEATURE_SET |
					 VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, NULL, 0));
	EXPECT_EQ(0, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_PROBE |
					 VFIO_DEVICE_FEATURE_SET |
					 VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
					 NULL, 0));
	EXPECT_EQ(0, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_PROBE |
					 VFIO_DEVICE_FEATURE_SET |
					 VFIO_DEVICE_FEATURE_LOW_POWER_EXIT, NULL, 0));
	EXPECT_EQ(-EINVAL, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_PROBE |
					       VFIO_DEVICE_FEATURE_GET |
					       VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
					       NULL, 0));
	EXPECT_EQ(-EINVAL, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_GET |
					       VFIO_DEVICE_FEATURE_LOW_POWER_EXIT,
					       NULL, 0));
	EXPECT_EQ(-EINVAL, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_GET |
					       VFIO_DEVICE_FEATURE_SET |
					       VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
					       NULL, 0));
	/* Neither GET nor SET nor PROBE. */
	EXPECT_EQ(-EINVAL, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
					       NULL, 0));

	/* Features this device does not have. */
	EXPECT_EQ(-ENOTTY, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_PROBE |
					       VFIO_DEVICE_FEATURE_SET | 0xfff0, NULL, 0));
	EXPECT_EQ(-ENOTTY, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_PROBE |
					       VFIO_DEVICE_FEATURE_GET |
					       VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0));
	/* Only a PF has a VF token. */
	EXPECT_EQ(-ENOTTY, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_PROBE |
					       VFIO_DEVICE_FEATURE_SET |
					       VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
					       uuid, sizeof(uuid)));

	/* The wake-up variant needs its payload and a real eventfd. */
	EXPECT_EQ(-EINVAL, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_SET |
					       VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
					       &entry, sizeof(entry) - 1));
	entry.wakeup_eventfd = -1;
	EXPECT_EQ(-EINVAL, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_SET |
					       VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
					       &entry, sizeof(entry)));
	entry.wakeup_eventfd = fd;	/* a file, but not an eventfd */
	EXPECT_EQ(-EINVAL, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_SET |
					       VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
					       &entry, sizeof(entry)));
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	close(efd);			/* now a number that is no file */
	entry.wakeup_eventfd = efd;
	EXPECT_EQ(-EBADF, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_SET |
					      VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
					      &entry, sizeof(entry)));

	/* None of the refused requests engaged low power. */
	usleep(300 * 1000);
	EXPECT_TRUE(attr_is(self->dev.bdf, "power/runtime_status", "active"));
	/* Exit without entry is no error. */
	EXPECT_EQ(0, exit_low_power(fd));
}

TEST_F(power, low_power_entry)
{
	int fd = self->dev.device_fd;
	struct vfio_region_info bar0, cfg;
	const uint32_t *map;
	uint32_t val, before;
	uint16_t pmcsr;

	/*
	 * Region offsets are looked up now: GET_REGION_INFO is an ioctl, and
	 * would wake the device below.  pread() does not.
	 */
	ASSERT_EQ(0, vfio_region_info(fd, VFIO_PCI_BAR0_REGION_INDEX, &bar0));
	ASSERT_EQ(0, vfio_region_info(fd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg));
	if (!(bar0.flags & VFIO_REGION_INFO_FLAG_MMAP))
		SKIP(return, "BAR0 cannot be mmapped");
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, bar0.offset);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_TRUE(mmap_read(map, &before));

	ASSERT_EQ(0, enter_low_power(fd));
	if (!wait_pm(self->dev.bdf, "suspended", "D3hot"))
		log_pm(_metadata, self->dev.bdf);
	ASSERT_TRUE(attr_is(self->dev.bdf, "power_state", "D3hot"));

	/* The mapping is dead while the mode is engaged. */
	EXPECT_FALSE(mmap_read(map, &val));
	EXPECT_TRUE(attr_is(self->dev.bdf, "power_state", "D3hot"));

	/*
	 * Config and BAR access wake it: the user sees D0 and live BARs, and
	 * it goes back to sleep afterwards.
	 */
	ASSERT_EQ(2, pread(fd, &pmcsr, sizeof(pmcsr),
			   cfg.offset + self->pm_cap + PCI_PM_CTRL));
	EXPECT_EQ(0, pmcsr & PCI_PM_CTRL_STATE_MASK);
	EXPECT_TRUE(wait_pm(self->dev.bdf, "suspended", "D3hot"));
	ASSERT_EQ(sizeof(val), pread(fd, &val, sizeof(val), bar0.offset));
	EXPECT_EQ(before, val);
	EXPECT_TRUE(wait_pm(self->dev.bdf, "suspended", "D3hot"));
	EXPECT_FALSE(mmap_read(map, &val));

	/* An ioctl wakes it only for its duration; a second entry fails. */
	EXPECT_EQ(-EINVAL, enter_low_power(fd));
	EXPECT_TRUE(wait_pm(self->dev.bdf, "suspended", "D3hot"));

	/* The host may wake it; it goes back to sleep afterwards. */
	EXPECT_EQ(0, host_wake(self->dev.bdf));
	EXPECT_TRUE(wait_pm(self->dev.bdf, "suspended", "D3hot"));

	/* Exit: awake for good, BAR and mapping work again. */
	ASSERT_EQ(0, exit_low_power(fd));
	EXPECT_TRUE(attr_is(self->dev.bdf, "power/runtime_status", "active"));
	EXPECT_TRUE(attr_is(self->dev.bdf, "power_state", "D0"));
	EXPECT_EQ(sizeof(val), pread(fd, &val, sizeof(val), bar0.offset));
	ASSERT_TRUE(mmap_read(map, &val));
	EXPECT_EQ(before, val);
	usleep(300 * 1000);
	EXPECT_TRUE(attr_is(self->dev.bdf, "power/runtime_status", "active"));
	munmap((void *)map, 4096);
}

TEST_F(power, wakeup_by_user_ioctl)
{
	int fd = self->dev.device_fd;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	ASSERT_LE(0, efd);
	suspend_with_wakeup(_metadata, &self->dev, efd);
	EXPECT_FALSE(eventfd_fired(efd, 0));

	/* Any ioctl resumes it, which is a wake-up. */
	ASSERT_EQ(0, get_info(fd));
	EXPECT_TRUE(eventfd_fired(efd, PM_TIMEOUT_MS));

	/* The wake-up ended low-power mode: the device stays up. */
	expect_stays_awake(_metadata, self->dev.bdf);
	EXPECT_FALSE(eventfd_fired(efd, 0));
	EXPECT_EQ(0, exit_low_power(fd));

	/* The mode can be entered again, and left without a wake-up. */
	ASSERT_EQ(0, enter_low_power_wakeup(fd, efd));
	EXPECT_TRUE(wait_pm(self->dev.bdf, "suspended", "D3hot"));
	EXPECT_EQ(0, exit_low_power(fd));
	/* The exit ioctl's own wake-up still counts as one. */
	EXPECT_TRUE(eventfd_fired(efd, PM_TIMEOUT_MS));
	EXPECT_TRUE(attr_is(self->dev.bdf, "power/runtime_status", "active"));
	close(efd);
}

TEST_F(power, wakeup_by_user_read)
{
	int fd = self->dev.device_fd;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct vfio_region_info cfg;
	uint16_t vendor;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vfio_region_info(fd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg));
	suspend_with_wakeup(_metadata, &self->dev, efd);

	ASSERT_EQ(2, pread(fd, &vendor, sizeof(vendor),
			   cfg.offset + PCI_VENDOR_ID));
	EXPECT_TRUE(eventfd_fired(efd, PM_TIMEOUT_MS));
	expect_stays_awake(_metadata, self->dev.bdf);
	EXPECT_EQ(0, exit_low_power(fd));
	close(efd);
}

TEST_F(power, wakeup_by_host)
{
	int fd = self->dev.device_fd;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	ASSERT_LE(0, efd);
	suspend_with_wakeup(_metadata, &self->dev, efd);

	EXPECT_EQ(0, host_wake(self->dev.bdf));
	EXPECT_TRUE(eventfd_fired(efd, PM_TIMEOUT_MS));
	expect_stays_awake(_metadata, self->dev.bdf);
	EXPECT_EQ(0, exit_low_power(fd));
	close(efd);
}

TEST_F(power, close_in_low_power)
{
	int fd;

	ASSERT_EQ(0, enter_low_power(self->dev.device_fd));
	ASSERT_TRUE(wait_pm(self->dev.bdf, "suspended", "D3hot"));

	/* The last close must cope with a suspended device. */
	close(self->dev.device_fd);
	self->dev.device_fd = -1;

	fd = ioctl(self->dev.group_fd, VFIO_GROUP_GET_DEVICE_FD,
		   self->dev.bdf);
	ASSERT_LE(0, fd);
	self->dev.device_fd = fd;
	EXPECT_TRUE(attr_is(self->dev.bdf, "power/runtime_status", "active"));
	EXPECT_TRUE(attr_is(self->dev.bdf, "power_state", "D0"));
	EXPECT_EQ(0, get_info(fd));
	usleep(300 * 1000);
	EXPECT_TRUE(attr_is(self->dev.bdf, "power/runtime_status", "active"));
}

/* ---- region access racing the low-power features ---- */

/* Entry/exit rounds of the race test, and how long it may take at most. */
#define RACE_ROUNDS	200
#define RACE_MAX_MS	20000
/* The long read: many chunks, with a chance to be preempted between them. */
#define RACE_LONG_READ	4096

/*
 * What the accessing thread reads and what it found.  @stop is set by the
 * main thread; the rest is written by the accessing thread only and read
 * after it has been joined.
 */
struct access_race {
	int fd;
	off_t bar0;
	off_t cfg;
	uint32_t bar_val;
	uint16_t vendor;
	bool stop;
	unsigned long rounds;
	unsigned long wrong;
	int err;
};

static void *access_loop(void *arg)
{
	static uint8_t buf[RACE_LONG_READ];
	struct access_race *r = arg;
	uint32_t val;
	uint16_t vendor;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		if (pread(r->fd, &val, sizeof(val), r->bar0) != sizeof(val) ||
		    pread(r->fd, buf, sizeof(buf), r->bar0) != sizeof(buf) ||
		    pread(r->fd, &vendor, sizeof(vendor),
			  r->cfg + PCI_VENDOR_ID) != sizeof(vendor)) {
			r->err = errno ? errno : EIO;
			break;
		}
		if (val != r->bar_val || vendor != r->vendor)
			r->wrong++;
		r->rounds++;
	}
	return NULL;
}

/*
 * Accesses in flight when the user engages low-power mode rely on the
 * open file keeping the device in D0; entry must wait for them before it
 * hands that count back, and accesses after it must wake the device.
 * Either way every read reaches a device in D0: a read that slipped past
 * the entry into a suspending or suspended device would fail with EIO
 * (BARs do not decode in D3hot) or return what a D3hot device answers.
 * A second thread reads BAR0 (a word, then a page: the driver copies a
 * page out in chunks, and may be preempted between them) and the vendor
 * ID through the file without pause, while this one enters and leaves the
 * mode, with and without a wake-up eventfd, at varying intervals.  Under
 * lockdep (the debug kernel runs this test) it also checks the lock order
 * of both paths.
 */
TEST_F(power, access_races_low_power_entry)
{
	struct access_race r = { .fd = self->dev.device_fd };
	struct vfio_region_info bar0, cfg;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t deadline;
	pthread_t thread;
	unsigned int i;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vfio_region_info(r.fd, VFIO_PCI_BAR0_REGION_INDEX, &bar0));
	ASSERT_LE(RACE_LONG_READ, bar0.size);
	ASSERT_EQ(0, vfio_region_info(r.fd, VFIO_PCI_CONFIG_REGION_INDEX,
				      &cfg));
	r.bar0 = bar0.offset;
	r.cfg = cfg.offset;
	ASSERT_EQ(sizeof(r.bar_val),
		  pread(r.fd, &r.bar_val, sizeof(r.bar_val), r.bar0));
	ASSERT_EQ(sizeof(r.vendor),
		  pread(r.fd, &r.vendor, sizeof(r.vendor),
			r.cfg + PCI_VENDOR_ID));

	ASSERT_EQ(0, pthread_create(&thread, NULL, access_loop, &r));
	deadline = now_ms() + RACE_MAX_MS;
	for (i = 0; i < RACE_ROUNDS && now_ms() < deadline; i++) {
		int ret = i % 2 ? enter_low_power_wakeup(r.fd, efd) :
				  enter_low_power(r.fd);

		EXPECT_EQ(0, ret);
		usleep((i % 5) * 500);
		EXPECT_EQ(0, exit_low_power(r.fd));
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	TH_LOG("%u entries, %lu read rounds on the other thread", i, r.rounds);

	EXPECT_EQ(0, r.err) TH_LOG("read failed: %s", strerror(r.err));
	EXPECT_EQ(0, r.wrong);
	EXPECT_LT(0, r.rounds);
	EXPECT_LT(0, i);
	/* Left awake, and it stays so. */
	expect_stays_awake(_metadata, self->dev.bdf);
	EXPECT_EQ(0, get_info(r.fd));
	close(efd);
}

/*
 * How long the stalled-access test gives the device to suspend under the
 * stalled read: ample for a device that nothing holds up (a driver whose
 * entry neither waits for the read nor has the read hold the device
 * suspended it well within this here).
 */
#define STALL_MS	2000

/* A BAR read into a buffer whose second page is not there yet. */
struct stalled_read {
	int fd;
	off_t bar0;
	uint8_t *dst;
	ssize_t got;
	int err;
};

static void *stalled_read_fn(void *arg)
{
	struct stalled_read *s = arg;

	s->got = pread(s->fd, s->dst, RACE_LONG_READ, s->bar0);
	s->err = s->got < 0 ? errno : 0;
	return NULL;
}

struct entry_call {
	int fd;
	int ret;
};

static void *entry_fn(void *arg)
{
	struct entry_call *e = arg;

	e->ret = enter_low_power(e->fd);
	return NULL;
}

/*
 * A userfaultfd whose missing pages are @len bytes at @addr; -1 with errno
 * set if that cannot be had.
 */
static int uffd_missing(void *addr, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (uffd < 0)
		return -1;
	if (ioctl(uffd, UFFDIO_API, &api) || ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		int err = errno;

		close(uffd);
		errno = err;
		return -1;
	}
	return uffd;
}

/*
 * The same contract, made deterministic: an access in flight when the mode
 * is entered must keep the device in D0 until it ends, however long that
 * is.  The read's user buffer runs into a page that is not there, caught
 * by a userfaultfd (as a postcopy-migrating VMM's memory would be), so the
 * read stops in the middle, between two device accesses, until this test
 * supplies the page.  Meanwhile LOW_POWER_ENTRY is issued on a third
 * thread.  The driver may let the entry wait for the read or let it return
 * (ours waits; the upstream driver holds a usage count per access), but
 * the device must not suspend while the read is stalled, and the read must
 * then finish whole.  After that the device does suspend.
 */
TEST_F(power, access_in_flight_keeps_device_awake)
{
	struct stalled_read s = { .fd = self->dev.device_fd };
	struct entry_call e = { .fd = self->dev.device_fd, .ret = -1 };
	size_t page = sysconf(_SC_PAGESIZE);
	struct vfio_region_info bar0;
	struct uffdio_zeropage zero;
	struct uffd_msg msg;
	pthread_t reader, entry;
	struct pollfd pfd;
	bool suspended;
	uint8_t *buf;
	uint32_t first;

	ASSERT_EQ(0, vfio_region_info(s.fd, VFIO_PCI_BAR0_REGION_INDEX, &bar0));
	ASSERT_LE(RACE_LONG_READ, bar0.size);
	s.bar0 = bar0.offset;
	ASSERT_EQ(sizeof(first), pread(s.fd, &first, sizeof(first), s.bar0));

	/*
	 * Page 0 is there, page 1 is missing; the read starts 512 bytes
	 * before the end of page 0.
	 */
	buf = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 0, page);
	s.dst = buf + page - 512;
	/* The sysctl is there exactly when the kernel has userfaultfd. */
	if (access("/proc/sys/vm/unprivileged_userfaultfd", F_OK))
		SKIP(return, "kernel without userfaultfd (CONFIG_USERFAULTFD)");
	pfd.fd = uffd_missing(buf + page, page);
	ASSERT_LE(0, pfd.fd) TH_LOG("userfaultfd: %s", strerror(errno));
	pfd.events = POLLIN;

	ASSERT_EQ(0, pthread_create(&reader, NULL, stalled_read_fn, &s));
	ASSERT_EQ(1, poll(&pfd, 1, PM_TIMEOUT_MS)) TH_LOG("the read never stalled");
	ASSERT_EQ(sizeof(msg), read(pfd.fd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	ASSERT_EQ(0, pthread_create(&entry, NULL, entry_fn, &e));
	suspended = wait_pm_for(self->dev.bdf, "suspended", NULL, STALL_MS);
	EXPECT_FALSE(suspended) TH_LOG("suspended under a read in flight");

	zero.range.start = (uintptr_t)buf + page;
	zero.range.len = page;
	zero.mode = 0;
	ASSERT_EQ(0, ioctl(pfd.fd, UFFDIO_ZEROPAGE, &zero));
	ASSERT_EQ(0, pthread_join(reader, NULL));
	ASSERT_EQ(0, pthread_join(entry, NULL));
	EXPECT_EQ(RACE_LONG_READ, s.got)
		TH_LOG("read returned %zd (%s)", s.got, strerror(s.err));
	EXPECT_EQ(0, memcmp(&first, s.dst, sizeof(first)));
	EXPECT_EQ(0, e.ret);

	/* Nothing holds it up any more. */
	EXPECT_TRUE(wait_pm(self->dev.bdf, "suspended", "D3hot"));
	EXPECT_EQ(0, exit_low_power(s.fd));
	EXPECT_TRUE(attr_is(self->dev.bdf, "power/runtime_status", "active"));
	close(pfd.fd);
	munmap(buf, 2 * page);
}

/* ---- D3hot written to PMCSR by the user ---- */

static int host_cfg_write(const char *bdf, unsigned int off, const void *buf,
			  size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = pwrite(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static int user_set_pmcsr_state(struct vfio_pci_dev *dev, unsigned int pm_cap,
				uint16_t state)
{
	unsigned int off = pm_cap + PCI_PM_CTRL;
	uint16_t pmcsr;

	if (vfio_region_read(dev, VFIO_PCI_CONFIG_REGION_INDEX, off, &pmcsr,
			     2) != 2)
		return -1;
	pmcsr = (pmcsr & ~PCI_PM_CTRL_STATE_MASK) | state;
	return vfio_region_write(dev, VFIO_PCI_CONFIG_REGION_INDEX, off, &pmcsr,
				 2) == 2 ? 0 : -1;
}

/*
 * A device whose PMCSR has NoSoftRst clear loses its configuration on
 * D3hot->D0; the driver saves it when the user writes D3hot to PMCSR and
 * restores it on the way back to D0.  QEMU's devices do not actually reset
 * there, so the test stands in for the device: while it is in D3hot, the
 * host clears COMMAND and changes the cache line size, as a soft reset
 * would.  After the user's D0 both must be back on a NoSoftRst- device
 * (e1000e), and stay as the host left them on a NoSoftRst+ one (nvme),
 * where the driver has no business rewriting config space.
 */
TEST_F(power, pmcsr_d3hot_restores_lost_state)
{
	struct vfio_pci_dev *dev = &self->dev;
	uint8_t cls, lost_cls, now_cls;
	uint16_t pmcsr, cmd, now_cmd, zero = 0;
	bool nosoftrst;
	uint32_t reg;

	ASSERT_EQ(2, sysfs_read_config(dev->bdf, self->pm_cap + PCI_PM_CTRL,
				       &pmcsr, 2));
	nosoftrst = pmcsr & PCI_PM_CTRL_NO_SOFT_RESET;
	TH_LOG("%s: NoSoftRst%c", dev->bdf, nosoftrst ? '+' : '-');
	ASSERT_EQ(2, sysfs_read_config(dev->bdf, PCI_COMMAND, &cmd, 2));
	ASSERT_EQ(1, sysfs_read_config(dev->bdf, PCI_CACHE_LINE_SIZE, &cls, 1));
	ASSERT_TRUE(cmd & PCI_COMMAND_MEMORY) TH_LOG("COMMAND %#06x", cmd);
	lost_cls = cls ^ 0x10;

	ASSERT_EQ(0, user_set_pmcsr_state(dev, self->pm_cap, PMCSR_D3HOT));
	ASSERT_TRUE(attr_is(dev->bdf, "power_state", "D3hot"))
		log_pm(_metadata, dev->bdf);
	ASSERT_EQ(0, host_cfg_write(dev->bdf, PCI_COMMAND, &zero, 2));
	ASSERT_EQ(0, host_cfg_write(dev->bdf, PCI_CACHE_LINE_SIZE, &lost_cls,
				    1));

	ASSERT_EQ(0, user_set_pmcsr_state(dev, self->pm_cap, PMCSR_D0));
	EXPECT_TRUE(attr_is(dev->bdf, "power_state", "D0"))
		log_pm(_metadata, dev->bdf);
	ASSERT_EQ(2, sysfs_read_config(dev->bdf, PCI_COMMAND, &now_cmd, 2));
	ASSERT_EQ(1, sysfs_read_config(dev->bdf, PCI_CACHE_LINE_SIZE, &now_cls,
				       1));
	if (nosoftrst) {
		EXPECT_EQ(0, now_cmd) TH_LOG("COMMAND rewritten");
		EXPECT_EQ(lost_cls, now_cls) TH_LOG("cache line size rewritten");
		/* Put back what the test took away. */
		ASSERT_EQ(0, host_cfg_write(dev->bdf, PCI_COMMAND, &cmd, 2));
		ASSERT_EQ(0, host_cfg_write(dev->bdf, PCI_CACHE_LINE_SIZE,
					    &cls, 1));
	} else {
		EXPECT_EQ(cmd, now_cmd) TH_LOG("COMMAND not restored");
		EXPECT_EQ(cls, now_cls) TH_LOG("cache line size not restored");
	}
	/* The BAR answers again. */
	EXPECT_EQ(4, vfio_region_read(dev, VFIO_PCI_BAR0_REGION_INDEX, 0, &reg,
				      4));
}

TEST_HARNESS_MAIN
