// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers for the VFIO PCI selftests; see vfio_pci_util.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/pci_regs.h>

#include "vfio_pci_util.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *vfio_selftests_bdf(void)
{
	const char *bdf = getenv(VFIO_SELFTESTS_BDF_ENV);

	if (!bdf || !*bdf)
		return NULL;
	return bdf;
}

bool vfio_selftests_hold_mode(int argc, char **argv)
{
	return argc >= 2 && !strcmp(argv[1], "hold");
}

const char *vfio_selftests_hold_bdf(void)
{
	const char *bdf = vfio_selftests_bdf();

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!bdf)
		fprintf(stderr, "hold: set %s\n", VFIO_SELFTESTS_BDF_ENV);
	return bdf;
}

static int bdf_group_id(const char *bdf, int *group_id)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	char *end;
	ssize_t n;
	long id;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';

	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	errno = 0;
	id = strtol(base, &end, 10);
	if (errno || end == base || *end || id < 0 || id > INT_MAX)
		return -EINVAL;
	*group_id = (int)id;
	return 0;
}

int vfio_pci_dev_open(struct vfio_pci_dev *dev, const char *bdf,
		      char *err, size_t errlen)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int ret, api;

	memset(dev, 0, sizeof(*dev));
	dev->container_fd = -1;
	dev->group_fd = -1;
	dev->device_fd = -1;

	if (!bdf) {
		set_err(err, errlen, "%s is not set", VFIO_SELFTESTS_BDF_ENV);
		return -1;
	}
	if (snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf) >=
	    (int)sizeof(dev->bdf)) {
		set_err(err, errlen, "BDF '%s' is too long", bdf);
		return -1;
	}

	ret = bdf_group_id(bdf, &dev->group_id);
	if (ret) {
		set_err(err, errlen, "%s: no iommu_group link: %s", bdf,
			strerror(-ret));
		return -1;
	}

	dev->container_fd = open("/dev/vfio/vfio", O_RDWR);
	if (dev->container_fd < 0) {
		set_err(err, errlen, "open /dev/vfio/vfio: %s", strerror(errno));
		goto fail;
	}
	api = ioctl(dev->container_fd, VFIO_GET_API_VERSION);
	if (api != VFIO_API_VERSION) {
		set_err(err, errlen, "VFIO_GET_API_VERSION returned %d", api);
		goto fail;
	}
	if (ioctl(dev->container_fd, VFIO_CHECK_EXTENSION,
		  VFIO_TYPE1v2_IOMMU) <= 0) {
		set_err(err, errlen, "container lacks VFIO_TYPE1v2_IOMMU");
		goto fail;
	}

	snprintf(path, sizeof(path), "/dev/vfio/%d", dev->group_id);
	dev->group_fd = open(path, O_RDWR);
	if (dev->group_fd < 0) {
		set_err(err, errlen, "open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (ioctl(dev->group_fd, VFIO_GROUP_GET_STATUS, &status)) {
		set_err(err, errlen, "VFIO_GROUP_GET_STATUS: %s",
			strerror(errno));
		goto fail;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		set_err(err, errlen,
			"group %d is not viable (bind every device in it to vfio-pci)",
			dev->group_id);
		goto fail;
	}
	if (ioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER,
		  &dev->container_fd)) {
		set_err(err, errlen, "VFIO_GROUP_SET_CONTAINER: %s",
			strerror(errno));
		goto fail;
	}
	if (ioctl(dev->container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		set_err(err, errlen, "VFIO_SET_IOMMU(TYPE1v2): %s",
			strerror(errno));
		goto fail;
	}
	dev->device_fd = ioctl(dev->group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dev->device_fd < 0) {
		set_err(err, errlen, "VFIO_GROUP_GET_DEVICE_FD(%s): %s", bdf,
			strerror(errno));
		goto fail;
	}

	dev->info.argsz = sizeof(dev->info);
	if (ioctl(dev->device_fd, VFIO_DEVICE_GET_INFO, &dev->info)) {
		set_err(err, errlen, "VFIO_DEVICE_GET_INFO: %s",
			strerror(errno));
		goto fail;
	}
	return 0;

fail:
	vfio_pci_dev_close(dev);
	return -1;
}

void vfio_pci_dev_close(struct vfio_pci_dev *dev)
{
	if (dev->device_fd >= 0)
		close(dev->device_fd);
	if (dev->group_fd >= 0)
		close(dev->group_fd);
	if (dev->container_fd >= 0)
		close(dev->container_fd);
	dev->device_fd = -1;
	dev->group_fd = -1;
	dev->container_fd = -1;
}

int vfio_region_info(int device_fd, uint32_t index,
		     struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	if (ioctl(device_fd, VFIO_DEVICE_GET_REGION_INFO, info))
		return -errno;
	return 0;
}

int vfio_irq_info(int device_fd, uint32_t index, struct vfio_irq_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	if (ioctl(device_fd, VFIO_DEVICE_GET_IRQ_INFO, info))
		return -errno;
	return 0;
}

static int region_pos(const struct vfio_pci_dev *dev, uint32_t index,
		      uint64_t off, off_t *pos)
{
	struct vfio_region_info info;
	int ret;

	ret = vfio_region_info(dev->device_fd, index, &info);
	if (ret) {
		errno = -ret;
		return -1;
	}
	*pos = (off_t)(info.offset + off);
	return 0;
}

ssize_t vfio_region_read(const struct vfio_pci_dev *dev, uint32_t index,
			 uint64_t off, void *buf, size_t len)
{
	off_t pos;

	if (region_pos(dev, index, off, &pos))
		return -1;
	return pread(dev->device_fd, buf, len, pos);
}

ssize_t vfio_region_write(const struct vfio_pci_dev *dev, uint32_t index,
			  uint64_t off, const void *buf, size_t len)
{
	off_t pos;

	if (region_pos(dev, index, off, &pos))
		return -1;
	return pwrite(dev->device_fd, buf, len, pos);
}

static int sysfs_path(char *path, size_t len, const char *bdf,
		      const char *attr)
{
	int n = snprintf(path, len, "/sys/bus/pci/devices/%s/%s", bdf, attr);

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int sysfs_read_u64(const char *bdf, const char *attr, uint64_t *val)
{
	char path[PATH_MAX], buf[64], *end;
	unsigned long long v;
	ssize_t n;
	int fd, ret;

	ret = sysfs_path(path, sizeof(path), bdf, attr);
	if (ret)
		return ret;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	ret = -errno;
	close(fd);
	if (n < 0)
		return ret;
	buf[n] = '\0';

	errno = 0;
	v = strtoull(buf, &end, 0);
	if (errno || end == buf || (*end && *end != '\n'))
		return -EINVAL;
	*val = v;
	return 0;
}

int sysfs_read_resources(const char *bdf,
			 struct sysfs_resource res[VFIO_UTIL_NUM_RES])
{
	char path[PATH_MAX];
	unsigned long long s, e, f;
	FILE *fp;
	int i, ret;

	ret = sysfs_path(path, sizeof(path), bdf, "resource");
	if (ret)
		return ret;
	fp = fopen(path, "r");
	if (!fp)
		return -errno;
	for (i = 0; i < VFIO_UTIL_NUM_RES; i++) {
		if (fscanf(fp, "%llx %llx %llx", &s, &e, &f) != 3) {
			fclose(fp);
			return -EINVAL;
		}
		res[i].start = s;
		res[i].end = e;
		res[i].flags = f;
		res[i].size = (s || e) ? e - s + 1 : 0;
	}
	fclose(fp);
	return 0;
}

ssize_t sysfs_read_config(const char *bdf, off_t off, void *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, saved;

	if (sysfs_path(path, sizeof(path), bdf, "config"))
		return -1;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = pread(fd, buf, len, off);
	saved = errno;
	close(fd);
	errno = saved;
	return n;
}

ssize_t sysfs_write_config(const char *bdf, off_t off, const void *buf,
			   size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, saved;

	if (sysfs_path(path, sizeof(path), bdf, "config"))
		return -1;
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = pwrite(fd, buf, len, off);
	saved = errno;
	close(fd);
	errno = saved;
	return n;
}

int sysfs_config_size(const char *bdf, uint64_t *size)
{
	char path[PATH_MAX];
	struct stat st;
	int ret;

	ret = sysfs_path(path, sizeof(path), bdf, "config");
	if (ret)
		return ret;
	if (stat(path, &st))
		return -errno;
	*size = (uint64_t)st.st_size;
	return 0;
}

unsigned int pci_find_cap(const uint8_t *cfg, unsigned int cap_id)
{
	unsigned int pos, ttl = 48;	/* bounded walk: at most 48 caps */

	if (!(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
		return 0;
	pos = cfg[PCI_CAPABILITY_LIST] & ~3u;
	while (pos >= PCI_STD_HEADER_SIZEOF && ttl--) {
		if (cfg[pos + PCI_CAP_LIST_ID] == cap_id)
			return pos;
		pos = cfg[pos + PCI_CAP_LIST_NEXT] & ~3u;
	}
	return 0;
}

/*
 * One VFIO_DEVICE_FEATURE call with @len bytes of payload: sent from @in
 * if given, copied back to @out on success if given.
 */
static int vfio_device_feature_call(int device_fd, uint32_t flags,
				    const void *in, void *out, size_t len)
{
	struct vfio_device_feature *f;
	int ret;

	f = calloc(1, sizeof(*f) + len);
	if (!f)
		return -ENOMEM;
	f->argsz = sizeof(*f) + len;
	f->flags = flags;
	if (in && len)
		memcpy(f->data, in, len);
	ret = ioctl(device_fd, VFIO_DEVICE_FEATURE, f) ? -errno : 0;
	if (!ret && out && len)
		memcpy(out, f->data, len);
	free(f);
	return ret;
}

int vfio_device_feature(int device_fd, uint32_t flags, const void *data,
			size_t len)
{
	return vfio_device_feature_call(device_fd, flags, data, NULL, len);
}

int vfio_device_feature_get(int device_fd, uint32_t feature, void *data,
			    size_t len)
{
	return vfio_device_feature_call(device_fd,
					VFIO_DEVICE_FEATURE_GET | feature,
					NULL, data, len);
}

int vfio_mig_state_get(int device_fd, uint32_t *state)
{
	struct vfio_device_feature_mig_state mig = { .data_fd = -1 };
	int ret;

	ret = vfio_device_feature_get(device_fd,
				      VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
				      &mig, sizeof(mig));
	if (!ret)
		*state = mig.device_state;
	return ret;
}

int vfio_mig_state_set(int device_fd, uint32_t state, int *data_fd)
{
	/* The feature header and its payload, 8-byte aligned. */
	uint64_t buf[(sizeof(struct vfio_device_feature) +
		      sizeof(struct vfio_device_feature_mig_state) + 7) / 8];
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_mig_state *mig = (void *)f->data;
	int ret;

	memset(buf, 0, sizeof(buf));
	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_SET |
		   VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	mig->device_state = state;
	mig->data_fd = -1;
	ret = ioctl(device_fd, VFIO_DEVICE_FEATURE, f) ? -errno : 0;
	*data_fd = ret ? -1 : mig->data_fd;
	return ret;
}

static const char * const mig_state_names[VFIO_DEVICE_STATE_NR] = {
	[VFIO_DEVICE_STATE_ERROR] = "error",
	[VFIO_DEVICE_STATE_STOP] = "stop",
	[VFIO_DEVICE_STATE_RUNNING] = "running",
	[VFIO_DEVICE_STATE_STOP_COPY] = "stop_copy",
	[VFIO_DEVICE_STATE_RESUMING] = "resuming",
	[VFIO_DEVICE_STATE_RUNNING_P2P] = "running_p2p",
	[VFIO_DEVICE_STATE_PRE_COPY] = "pre_copy",
	[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "pre_copy_p2p",
};

const char *vfio_mig_state_name(uint32_t state)
{
	static __thread char other[24];

	if (state < VFIO_DEVICE_STATE_NR)
		return mig_state_names[state];
	snprintf(other, sizeof(other), "state-%u", state);
	return other;
}

int vfio_mig_state_parse(const char *name)
{
	int i;

	for (i = 0; i < VFIO_DEVICE_STATE_NR; i++)
		if (!strcmp(name, mig_state_names[i]))
			return i;
	return -1;
}

uint64_t vfio_eventfd_wait(int efd, int ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t cnt = 0;

	if (poll(&pfd, 1, ms) != 1)
		return 0;
	if (read(efd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return 0;
	return cnt;
}

__thread sigjmp_buf vfio_sigbus_jmp;
/* Read by the signal handler: accessed with atomics only. */
static __thread int vfio_sigbus_armed;

static void vfio_sigbus_handler(int sig)
{
	if (!__atomic_load_n(&vfio_sigbus_armed, __ATOMIC_SEQ_CST)) {
		/* Not expected here: die of it as if nobody had caught it. */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	siglongjmp(vfio_sigbus_jmp, 1);
}

void vfio_sigbus_catch(void)
{
	struct sigaction sa = { .sa_handler = vfio_sigbus_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

void vfio_sigbus_arm(bool armed)
{
	__atomic_store_n(&vfio_sigbus_armed, armed, __ATOMIC_SEQ_CST);
}

int vfio_reset_hooks_read(const char *bdf, struct vfio_reset_hooks *hooks)
{
	int ret;

	ret = sysfs_read_u64(bdf, "reset_prepare_count", &hooks->prepare);
	if (!ret)
		ret = sysfs_read_u64(bdf, "reset_done_count", &hooks->done);
	return ret;
}

bool vfio_reset_hooks_wanted(void)
{
	const char *v = getenv("VFIO_SELFTESTS_RESET_HOOKS");

	return v && !strcmp(v, "1");
}

int vfio_fd_region_rw(int device_fd, uint32_t index, uint64_t off, void *buf,
		      size_t len, bool write)
{
	struct vfio_region_info info;
	ssize_t n;

	if (vfio_region_info(device_fd, index, &info))
		return -1;
	if (write)
		n = pwrite(device_fd, buf, len, info.offset + off);
	else
		n = pread(device_fd, buf, len, info.offset + off);
	return n == (ssize_t)len ? 0 : -1;
}
