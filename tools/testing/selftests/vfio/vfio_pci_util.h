/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small helpers shared by the VFIO PCI selftests: open a device that is
 * already bound to vfio-pci through the legacy group/container interface,
 * look up its regions, and read the same device's attributes from sysfs so
 * that what VFIO reports can be compared with what the PCI core knows.
 */
#ifndef VFIO_PCI_SELFTEST_UTIL_H
#define VFIO_PCI_SELFTEST_UTIL_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/vfio.h>

/* Environment variable naming the device under test, e.g. 0000:00:03.0. */
#define VFIO_SELFTESTS_BDF_ENV	"VFIO_SELFTESTS_BDF"

/* Size of an error message buffer used by the helpers below. */
#define VFIO_UTIL_ERRLEN	256

/* Number of resources described by the sysfs "resource" file we look at. */
#define VFIO_UTIL_NUM_RES	(VFIO_PCI_ROM_REGION_INDEX + 1)

struct vfio_pci_dev {
	char bdf[32];
	int group_id;
	int container_fd;
	int group_fd;
	int device_fd;
	struct vfio_device_info info;
};

struct sysfs_resource {
	uint64_t start;
	uint64_t end;
	uint64_t flags;
	uint64_t size;		/* 0 when the resource is not implemented */
};

/* Returns the BDF from the environment, or NULL when it is not set. */
const char *vfio_selftests_bdf(void);

/*
 * Tests with a "hold" mode (argv[1] "hold") keep a device open in some
 * state for the VM script that started them and talk to it line by line.
 * vfio_selftests_hold_bdf() sets stdout line-buffered for that script and
 * returns the BDF, or NULL after saying on stderr that it is not set.
 */
bool vfio_selftests_hold_mode(int argc, char **argv);
const char *vfio_selftests_hold_bdf(void);

/*
 * Open @bdf: group, container (type1v2 IOMMU) and device fd, then fetch
 * VFIO_DEVICE_GET_INFO.  Returns 0, or -1 with a message in @err.
 */
int vfio_pci_dev_open(struct vfio_pci_dev *dev, const char *bdf,
		      char *err, size_t errlen);
void vfio_pci_dev_close(struct vfio_pci_dev *dev);

/* VFIO_DEVICE_GET_REGION_INFO / GET_IRQ_INFO; return 0 or -errno. */
int vfio_region_info(int device_fd, uint32_t index,
		     struct vfio_region_info *info);
int vfio_irq_info(int device_fd, uint32_t index, struct vfio_irq_info *info);

/*
 * pread()/pwrite() of exactly @len bytes at @off inside region @index.
 * Returns the syscall's result (bytes transferred, or -1 with errno set).
 */
/*
 * The same on a bare device fd: exactly @len bytes at @off of region
 * @index, in or out.  Returns 0, or -1 on any error or short transfer.
 */
int vfio_fd_region_rw(int device_fd, uint32_t index, uint64_t off, void *buf,
		      size_t len, bool write);
ssize_t vfio_region_read(const struct vfio_pci_dev *dev, uint32_t index,
			 uint64_t off, void *buf, size_t len);
ssize_t vfio_region_write(const struct vfio_pci_dev *dev, uint32_t index,
			  uint64_t off, const void *buf, size_t len);

/* Read a sysfs attribute of the device as an unsigned number (any base). */
int sysfs_read_u64(const char *bdf, const char *attr, uint64_t *val);

/* Parse the first VFIO_UTIL_NUM_RES lines of the sysfs "resource" file. */
int sysfs_read_resources(const char *bdf,
			 struct sysfs_resource res[VFIO_UTIL_NUM_RES]);

/*
 * Read @len bytes of the device's real config space through sysfs (root
 * sees all of it).  Returns bytes read or -1.
 */
ssize_t sysfs_read_config(const char *bdf, off_t off, void *buf, size_t len);

/*
 * Write @len bytes of the device's real config space through sysfs, past
 * whatever driver owns it: what a reset or a tool outside vfio would do.
 * Returns bytes written or -1.
 */
ssize_t sysfs_write_config(const char *bdf, off_t off, const void *buf,
			   size_t len);

/* Size of the sysfs config file: the kernel's cfg_size (256 or 4096). */
int sysfs_config_size(const char *bdf, uint64_t *size);

/*
 * Walk the standard capability list of a 256-byte config image and return
 * the offset of capability @cap_id, or 0 when it is absent.
 */
unsigned int pci_find_cap(const uint8_t *cfg, unsigned int cap_id);

/*
 * VFIO_DEVICE_FEATURE with @flags and a payload of @len bytes from @data
 * (none when @len is 0).  Returns 0 or -errno.
 */
int vfio_device_feature(int device_fd, uint32_t flags, const void *data,
			size_t len);

/*
 * VFIO_DEVICE_FEATURE_GET of @feature, its payload of @len bytes copied
 * back to @data.  Returns 0 or -errno.
 */
int vfio_device_feature_get(int device_fd, uint32_t feature, void *data,
			    size_t len);

/*
 * Migration v2 (VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE).  The getter stores
 * the device's state; the setter requests @state and stores in @data_fd
 * the data transfer fd the arc returned, or -1 (also on failure).  Both
 * return 0 or -errno.
 */
int vfio_mig_state_get(int device_fd, uint32_t *state);
int vfio_mig_state_set(int device_fd, uint32_t state, int *data_fd);

/*
 * Names of enum vfio_device_mig_state values ("running", "stop_copy",
 * ...; "state-N" past the last one) and back (-1 for an unknown name).
 */
const char *vfio_mig_state_name(uint32_t state);
int vfio_mig_state_parse(const char *name);

/*
 * Wait up to @ms milliseconds for @efd to be signalled and read it.
 * Returns the counter read, or 0 when nothing arrived in time.
 */
uint64_t vfio_eventfd_wait(int efd, int ms);

/*
 * Touching a BAR mapping may raise SIGBUS (memory decode off, a reset or
 * a removal in progress), which tests that race such events count as an
 * outcome.  vfio_sigbus_catch() installs a handler that, while the calling
 * thread has armed it, jumps back to the thread's vfio_sigbus_jmp; a
 * SIGBUS while it is not armed still kills the program.  Usage:
 *
 *	vfio_sigbus_arm(true);
 *	if (sigsetjmp(vfio_sigbus_jmp, 1))
 *		... the access raised SIGBUS ...
 *	else
 *		... the access ...
 *	vfio_sigbus_arm(false);
 */
extern __thread sigjmp_buf vfio_sigbus_jmp;
void vfio_sigbus_catch(void);
void vfio_sigbus_arm(bool armed);

/*
 * How often the driver bound to a device had its reset_prepare() and
 * reset_done() error handlers called: the test-only variant driver of
 * harness/tests/variant-fixture counts them in sysfs.
 */
struct vfio_reset_hooks {
	uint64_t prepare;
	uint64_t done;
};

/* Read the counts of @bdf; 0, or -errno when the driver keeps none. */
int vfio_reset_hooks_read(const char *bdf, struct vfio_reset_hooks *hooks);

/*
 * Must the counts be checked?  Set VFIO_SELFTESTS_RESET_HOOKS=1 when the
 * devices under test are bound to the counting driver; a test that wants
 * them then fails if they cannot be read.
 */
bool vfio_reset_hooks_wanted(void);

#endif /* VFIO_PCI_SELFTEST_UTIL_H */
