// SPDX-License-Identifier: GPL-2.0-only
/*
 * Micro-benchmarks of the vfio-pci uAPI, for comparing two builds of the
 * driver on the same machine (harness/bench.sh runs them under ours and
 * under the distro's in turn).  They measure and assert nothing: the
 * figures depend on the machine, so only the ratio between two drivers
 * run side by side means something.  A subcommand exits non-zero only
 * when it could not measure at all.
 *
 * The device is named by $VFIO_SELFTESTS_BDF and must be bound to
 * vfio-pci.  Each figure is printed as one line "bench NAME UNIT VALUE".
 *
 *	vfio_pci_bench config SECS          4-byte reads of all config space,
 *	                                    COMMAND and cache line size writes
 *	vfio_pci_bench bar INDEX OFF SECS   4-byte and 4 KiB pread/pwrite
 *	vfio_pci_bench mmap INDEX [SIZE]    touch each 4 KiB page of a mapping
 *	                                    of the BAR (its first SIZE bytes)
 *	vfio_pci_bench msi SECS             edu MSI raised, delivered, acked
 *	vfio_pci_bench ioeventfd INDEX OFF SECS
 *	                                    writes through an ioeventfd and
 *	                                    through pwrite
 *	vfio_pci_bench openclose SECS       device fd open + close cycles
 *	vfio_pci_bench msix SECS N...       enable + disable N MSI-X vectors
 *	vfio_pci_bench hotreset BDF2 SECS   hot reset of a two-function set
 *	vfio_pci_bench mig BDF2 ROUNDS      stop-copy save on this function,
 *	                                    resume of the stream on BDF2
 *	vfio_pci_bench slab BDF...          kernel memory per opened device:
 *	                                    Slab growth, and the bytes the
 *	                                    opens allocated and kept (kmem
 *	                                    trace events)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <linux/pci_regs.h>

#include "vfio_pci_util.h"

#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_TEST_IRQ		0x00020000u
#define IOEVENTFD_DATA		0x5a5aa5a5u
#define PAGE			4096
#define MAX_VECTORS		2048
#define SLAB_REPEAT		9
#define HUGE_ALIGN_MAX		0x40000000ULL	/* 1 GiB */
#define MAX_SLAB_DEVS		16
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define TRACE_DIR		"/sys/kernel/tracing/instances/vfio_pci_bench"
#define MAX_TRACED_ALLOCS	65536

static struct vfio_pci_dev dev = {
	.container_fd = -1, .group_fd = -1, .device_fd = -1,
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *name, const char *unit, double value)
{
	printf("bench %s %s %.6g\n", name, unit, value);
	fflush(stdout);
}

static int fail(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", dev.bdf, what, strerror(errno));
	return 1;
}

/*
 * Call @op until @secs have passed, at least once; the checks of the clock
 * cost far less than any of the syscalls measured.  Returns calls per
 * second, or a negative number when a call failed.
 */
typedef int (*bench_op)(void *arg);

static double rate(bench_op op, void *arg, double secs)
{
	double start = now(), elapsed;
	unsigned long n = 0;

	do {
		if (op(arg))
			return -1;
		n++;
		elapsed = now() - start;
	} while (elapsed < secs);
	return n / elapsed;
}

static int cfg_rw(uint32_t off, void *buf, size_t len, bool write)
{
	ssize_t ret;

	if (write)
		ret = vfio_region_write(&dev, VFIO_PCI_CONFIG_REGION_INDEX, off,
					buf, len);
	else
		ret = vfio_region_read(&dev, VFIO_PCI_CONFIG_REGION_INDEX, off,
				       buf, len);
	return ret == (ssize_t)len ? 0 : -1;
}

/*
 * BAR access through the fd and MSI need memory decode and bus mastering
 * on; a reset at open may have left COMMAND as firmware had it.
 */
static int enable_decode(void)
{
	uint16_t cmd;

	if (cfg_rw(PCI_COMMAND, &cmd, 2, false))
		return -1;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	return cfg_rw(PCI_COMMAND, &cmd, 2, true);
}

/* ---- config space ---- */

struct cfg_state {
	uint32_t size, off;
	uint16_t cmd;
	uint8_t cls;
};

static int cfg_read_op(void *arg)
{
	struct cfg_state *s = arg;
	uint32_t v;

	if (cfg_rw(s->off, &v, 4, false))
		return -1;
	s->off = (s->off + 4) % s->size;
	return 0;
}

/* COMMAND is virtualized: the driver merges the write with its own bits. */
static int cfg_cmd_op(void *arg)
{
	struct cfg_state *s = arg;

	return cfg_rw(PCI_COMMAND, &s->cmd, 2, true);
}

/* The cache line size register goes to the device as written. */
static int cfg_cls_op(void *arg)
{
	struct cfg_state *s = arg;

	return cfg_rw(PCI_CACHE_LINE_SIZE, &s->cls, 1, true);
}

static int bench_config(double secs)
{
	struct vfio_region_info info;
	struct cfg_state s = { 0 };
	double r;

	if (vfio_region_info(dev.device_fd, VFIO_PCI_CONFIG_REGION_INDEX,
			     &info) || info.size < 256)
		return fail("config region info");
	s.size = info.size;
	if (cfg_rw(PCI_COMMAND, &s.cmd, 2, false) ||
	    cfg_rw(PCI_CACHE_LINE_SIZE, &s.cls, 1, false))
		return fail("config read");
	r = rate(cfg_read_op, &s, secs);
	if (r < 0)
		return fail("config read");
	report("config-read4", "reads/s", r);
	r = rate(cfg_cmd_op, &s, secs);
	if (r < 0)
		return fail("COMMAND write");
	report("config-write-command", "writes/s", r);
	r = rate(cfg_cls_op, &s, secs);
	if (r < 0)
		return fail("cache line size write");
	report("config-write-cls", "writes/s", r);
	return 0;
}

/* ---- BAR access through the fd ---- */

struct bar_state {
	uint32_t index;
	uint64_t off;
	size_t len;
	char buf[PAGE];
};

static int bar_read_op(void *arg)
{
	struct bar_state *s = arg;

	return vfio_region_read(&dev, s->index, s->off, s->buf, s->len) ==
	       (ssize_t)s->len ? 0 : -1;
}

static int bar_write_op(void *arg)
{
	struct bar_state *s = arg;

	return vfio_region_write(&dev, s->index, s->off, s->buf, s->len) ==
	       (ssize_t)s->len ? 0 : -1;
}

static int bench_bar(uint32_t index, uint64_t off, double secs)
{
	static struct bar_state s;
	struct vfio_region_info info;
	double r;

	if (vfio_region_info(dev.device_fd, index, &info) ||
	    info.size < off + PAGE)
		return fail("region too small");
	if (enable_decode())
		return fail("enable memory decode");
	s.index = index;
	s.off = off;
	/*
	 * Each write puts back what was read, so that a RAM BAR keeps its
	 * contents and a register sees its own value.
	 */
	s.len = 4;
	r = rate(bar_read_op, &s, secs);
	if (r < 0)
		return fail("4-byte pread");
	report("pread4", "ops/s", r);
	r = rate(bar_write_op, &s, secs);
	if (r < 0)
		return fail("4-byte pwrite");
	report("pwrite4", "ops/s", r);
	s.len = PAGE;
	r = rate(bar_read_op, &s, secs);
	if (r < 0)
		return fail("4 KiB pread");
	report("pread4k", "MB/s", r * PAGE / 1e6);
	r = rate(bar_write_op, &s, secs);
	if (r < 0)
		return fail("4 KiB pwrite");
	report("pwrite4k", "MB/s", r * PAGE / 1e6);
	return 0;
}

/* ---- mmap faults ---- */

static int bench_mmap(uint32_t index, uint64_t size)
{
	struct vfio_region_info info;
	struct rusage before, after;
	uint64_t off, align;
	uint8_t *map;
	void *hole;
	double start, elapsed;
	uint8_t sum = 0;

	if (vfio_region_info(dev.device_fd, index, &info) || !info.size)
		return fail("region info");
	if (!(info.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		errno = EINVAL;
		return fail("region not mappable");
	}
	if (enable_decode())
		return fail("enable memory decode");
	/* The first @size bytes of the BAR; 0: all of it. */
	if (!size || size > info.size)
		size = info.size;
	/*
	 * Where the mapping starts decides the largest entry that fits: put
	 * it on a boundary of its size (up to 1 GiB) so that a driver able
	 * to map it whole gets the chance.
	 */
	align = size < HUGE_ALIGN_MAX ? size : HUGE_ALIGN_MAX;
	hole = mmap(NULL, size + align, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED)
		return fail("reserve address space");
	map = (uint8_t *)(((uintptr_t)hole + align - 1) & ~(align - 1));
	map = mmap(map, size, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED, dev.device_fd, info.offset);
	if (map == MAP_FAILED) {
		munmap(hole, size + align);
		return fail("mmap");
	}
	getrusage(RUSAGE_SELF, &before);
	start = now();
	for (off = 0; off < size; off += PAGE)
		sum += __atomic_load_n(&map[off], __ATOMIC_RELAXED);
	elapsed = now() - start;
	getrusage(RUSAGE_SELF, &after);
	munmap(hole, size + align);
	/* Uses the loaded bytes, whose value means nothing. */
	if (sum == 1)
		fprintf(stderr, "\n");
	report("touch-time", "ms", elapsed * 1e3);
	report("touch-faults", "faults",
	       after.ru_minflt - before.ru_minflt +
	       after.ru_majflt - before.ru_majflt);
	return 0;
}

/* ---- interrupts ---- */

static int set_irqs(uint32_t index, uint32_t flags, uint32_t count,
		    const int32_t *fds)
{
	size_t len = sizeof(struct vfio_irq_set) + count * sizeof(int32_t);
	struct vfio_irq_set *set = calloc(1, len);
	int ret;

	if (!set)
		return -1;
	set->argsz = len;
	set->flags = flags | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = index;
	set->count = count;
	if (fds)
		memcpy(set->data, fds, count * sizeof(int32_t));
	ret = ioctl(dev.device_fd, VFIO_DEVICE_SET_IRQS, set);
	free(set);
	return ret;
}

static int irqs_off(uint32_t index)
{
	return set_irqs(index, VFIO_IRQ_SET_DATA_NONE, 0, NULL);
}

static int bar0_wr32(uint64_t off, uint32_t v)
{
	return vfio_region_write(&dev, VFIO_PCI_BAR0_REGION_INDEX, off, &v,
				 4) == 4 ? 0 : -1;
}

static int msi_op(void *arg)
{
	int efd = *(int *)arg;

	if (bar0_wr32(EDU_REG_IRQ_RAISE, EDU_TEST_IRQ))
		return -1;
	/* A second is ages: a lost interrupt fails the measurement. */
	if (!vfio_eventfd_wait(efd, 1000)) {
		errno = ETIMEDOUT;
		return -1;
	}
	return bar0_wr32(EDU_REG_IRQ_ACK, EDU_TEST_IRQ);
}

static int bench_msi(double secs)
{
	int efd = eventfd(0, EFD_CLOEXEC), ret = 0;
	double r;

	if (efd < 0)
		return fail("eventfd");
	if (enable_decode() || bar0_wr32(EDU_REG_IRQ_ACK, 0xffffffffu) ||
	    set_irqs(VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_DATA_EVENTFD, 1,
		     &efd)) {
		close(efd);
		return fail("MSI setup");
	}
	r = rate(msi_op, &efd, secs);
	if (r < 0)
		ret = fail("MSI round trip");
	else
		report("msi", "irqs/s", r);
	irqs_off(VFIO_PCI_MSI_IRQ_INDEX);
	close(efd);
	return ret;
}

/* ---- ioeventfd ---- */

static int ioeventfd_set(uint32_t index, uint64_t off, int32_t fd)
{
	struct vfio_device_ioeventfd req = {
		.argsz = sizeof(req),
		.flags = VFIO_DEVICE_IOEVENTFD_32,
		.data = IOEVENTFD_DATA,
		.fd = fd,
	};
	struct vfio_region_info info;

	if (vfio_region_info(dev.device_fd, index, &info))
		return -1;
	req.offset = info.offset + off;
	return ioctl(dev.device_fd, VFIO_DEVICE_IOEVENTFD, &req);
}

static int efd_write_op(void *arg)
{
	uint64_t one = 1;

	return write(*(int *)arg, &one, 8) == 8 ? 0 : -1;
}

static int bench_ioeventfd(uint32_t index, uint64_t off, double secs)
{
	static struct bar_state s;
	uint32_t zero = 0, seen = 0;
	int efd, ret = 0, i;
	double r;

	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		return fail("eventfd");
	if (enable_decode() ||
	    vfio_region_write(&dev, index, off, &zero, 4) != 4 ||
	    ioeventfd_set(index, off, efd)) {
		close(efd);
		return fail("ioeventfd setup");
	}
	r = rate(efd_write_op, &efd, secs);
	/*
	 * Signals that come faster than the kernel writes are merged in the
	 * eventfd's counter, so the rate is of signals taken; the check is
	 * that the writes reached the device at all.  The kernel may do them
	 * from a worker: allow it a moment.
	 */
	for (i = 0; i < 100 && seen != IOEVENTFD_DATA; i++) {
		if (vfio_region_read(&dev, index, off, &seen, 4) != 4)
			break;
		if (seen != IOEVENTFD_DATA)
			usleep(10000);
	}
	ioeventfd_set(index, off, -1);
	close(efd);
	if (r < 0)
		return fail("eventfd write");
	if (seen != IOEVENTFD_DATA) {
		fprintf(stderr, "%s: ioeventfd writes never landed (%#x)\n",
			dev.bdf, seen);
		return 1;
	}
	report("ioeventfd-write", "writes/s", r);
	s.index = index;
	s.off = off;
	s.len = 4;
	r = rate(bar_write_op, &s, secs);
	if (r < 0)
		return fail("4-byte pwrite");
	report("pwrite-write", "writes/s", r);
	return ret;
}

/* ---- open + close ---- */

static int openclose_op(void *arg)
{
	int fd = ioctl(dev.group_fd, VFIO_GROUP_GET_DEVICE_FD, dev.bdf);

	(void)arg;
	if (fd < 0)
		return -1;
	return close(fd);
}

static int bench_openclose(double secs)
{
	double r;

	/*
	 * Group and container stay open: the cycle is the device's first
	 * open and last close, which enable, reset and disable it.
	 */
	close(dev.device_fd);
	dev.device_fd = -1;
	r = rate(openclose_op, NULL, secs);
	if (r < 0)
		return fail("device open");
	report("open-close", "cycles/s", r);
	return 0;
}

/* ---- MSI-X vector setup ---- */

struct msix_state {
	uint32_t count;
	int32_t *fds;
};

static int msix_op(void *arg)
{
	struct msix_state *s = arg;

	if (set_irqs(VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_DATA_EVENTFD,
		     s->count, s->fds))
		return -1;
	return irqs_off(VFIO_PCI_MSIX_IRQ_INDEX);
}

static int bench_msix(double secs, int argc, char **argv)
{
	static int32_t fds[MAX_VECTORS];
	struct vfio_irq_info info;
	struct msix_state s = { .fds = fds };
	char name[32];
	uint32_t i;
	double r;
	int a;

	if (vfio_irq_info(dev.device_fd, VFIO_PCI_MSIX_IRQ_INDEX, &info) ||
	    !info.count)
		return fail("no MSI-X");
	for (i = 0; i < info.count && i < MAX_VECTORS; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
		if (fds[i] < 0)
			return fail("eventfd");
	}
	for (a = 0; a < argc; a++) {
		s.count = strtoul(argv[a], NULL, 0);
		if (!s.count || s.count > info.count || s.count > MAX_VECTORS) {
			fprintf(stderr, "%s: %u MSI-X vectors, not %s\n",
				dev.bdf, info.count, argv[a]);
			continue;
		}
		r = rate(msix_op, &s, secs);
		if (r < 0)
			return fail("MSI-X enable/disable");
		snprintf(name, sizeof(name), "msix-%u", s.count);
		report(name, "us", 1e6 / r);
	}
	return 0;
}

/* ---- hot reset of a device set ---- */

static int hotreset_op(void *arg)
{
	size_t len = sizeof(struct vfio_pci_hot_reset) + sizeof(int32_t);
	struct vfio_pci_hot_reset *hr = calloc(1, len);
	int ret;

	(void)arg;
	if (!hr)
		return -1;
	hr->argsz = len;
	hr->count = 1;
	hr->group_fds[0] = dev.group_fd;
	ret = ioctl(dev.device_fd, VFIO_DEVICE_PCI_HOT_RESET, hr);
	free(hr);
	return ret;
}

static int bench_hotreset(const char *bdf2, double secs)
{
	int fd2;
	double r;

	/* The other function of the set, in the same group, held open too. */
	fd2 = ioctl(dev.group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf2);
	if (fd2 < 0)
		return fail("open the second function");
	r = rate(hotreset_op, NULL, secs);
	close(fd2);
	if (r < 0)
		return fail("hot reset");
	report("hot-reset", "resets/s", r);
	return 0;
}

/* ---- migration: save and resume of a stopped function ---- */

struct stream {
	uint8_t *data;
	size_t len, cap;
};

/* Read a save data fd to its end into @st. */
static int stream_read(int dfd, struct stream *st)
{
	ssize_t n;

	st->len = 0;
	for (;;) {
		if (st->cap - st->len < (1 << 20)) {
			size_t cap = st->cap ? 2 * st->cap : 4 << 20;
			uint8_t *p = realloc(st->data, cap);

			if (!p)
				return -1;
			st->data = p;
			st->cap = cap;
		}
		n = read(dfd, st->data + st->len, st->cap - st->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n)
			return 0;
		st->len += n;
	}
}

static int stream_write(int dfd, const struct stream *st)
{
	size_t off = 0;
	ssize_t n;

	while (off < st->len) {
		n = write(dfd, st->data + off, st->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += n;
	}
	return 0;
}

/* Move @fd to @to, closing the data fd the arc may return. */
static int mig_set(int fd, uint32_t to)
{
	int dfd = -1;

	if (vfio_mig_state_set(fd, to, &dfd))
		return -1;
	if (dfd >= 0)
		close(dfd);
	return 0;
}

/*
 * One round: the source's STOP -> STOP_COPY arc and the read of its stream
 * to the end (the save), then the target's STOP -> RESUMING arc, the write
 * of the stream and RESUMING -> STOP, where the device takes the state
 * (the resume).  Both functions start and end in STOP.
 */
static int mig_round(int src, int dst, struct stream *st, double *save_s,
		     double *resume_s)
{
	double t0, t1;
	int dfd, ret;

	t0 = now();
	if (vfio_mig_state_set(src, VFIO_DEVICE_STATE_STOP_COPY, &dfd) ||
	    dfd < 0)
		return -1;
	ret = stream_read(dfd, st);
	close(dfd);
	if (ret || mig_set(src, VFIO_DEVICE_STATE_STOP))
		return -1;
	t1 = now();
	*save_s = t1 - t0;

	if (vfio_mig_state_set(dst, VFIO_DEVICE_STATE_RESUMING, &dfd) ||
	    dfd < 0)
		return -1;
	ret = stream_write(dfd, st);
	close(dfd);
	if (ret || mig_set(dst, VFIO_DEVICE_STATE_STOP))
		return -1;
	*resume_s = now() - t1;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int bench_mig(const char *bdf2, int rounds)
{
	struct vfio_pci_dev dst = {
		.container_fd = -1, .group_fd = -1, .device_fd = -1,
	};
	char err[VFIO_UTIL_ERRLEN] = "";
	struct stream st = { 0 };
	double *save, *resume;
	int r, ret = 1;

	if (rounds < 1)
		return fail("mig: rounds");
	save = calloc(rounds, sizeof(*save));
	resume = calloc(rounds, sizeof(*resume));
	if (!save || !resume)
		goto out_free;
	if (vfio_pci_dev_open(&dst, bdf2, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		goto out_free;
	}
	if (mig_set(dev.device_fd, VFIO_DEVICE_STATE_STOP) ||
	    mig_set(dst.device_fd, VFIO_DEVICE_STATE_STOP)) {
		fail("mig: stop both functions");
		goto out_close;
	}
	for (r = 0; r < rounds; r++) {
		if (mig_round(dev.device_fd, dst.device_fd, &st, &save[r],
			      &resume[r])) {
			fail("mig: save and resume");
			goto out_close;
		}
	}
	qsort(save, rounds, sizeof(*save), cmp_double);
	qsort(resume, rounds, sizeof(*resume), cmp_double);
	report("stream-size", "MiB", st.len / 1048576.0);
	report("save", "MB/s", st.len / save[rounds / 2] / 1e6);
	report("resume", "MB/s", st.len / resume[rounds / 2] / 1e6);
	ret = 0;
out_close:
	vfio_pci_dev_close(&dst);
out_free:
	free(st.data);
	free(save);
	free(resume);
	return ret;
}

/* ---- kernel memory per open device ---- */

static long slab_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f;

	/*
	 * Each CPU keeps its slab counts in batches of many pages before
	 * folding them into the totals that meminfo shows; this folds them
	 * now, so that a small difference is seen at all.
	 */
	f = fopen("/proc/sys/vm/stat_refresh", "w");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/*
 * Byte-exact memory accounting, where the Slab counter only moves by whole
 * slab pages: a tracing instance of our own records the kmem allocation
 * and free events of this process while it opens the devices; what was
 * allocated and not freed again is what the opens keep.
 */
static int trace_write(const char *file, const char *val)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", TRACE_DIR, file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -1;
	close(fd);
	return ret;
}

static const char * const kmem_events[] = {
	"kmem/kmalloc", "kmem/kmem_cache_alloc", "kmem/kfree",
	"kmem/kmem_cache_free",
};

static int trace_start(void)
{
	char pid[32], file[64];
	size_t i;

	if (mkdir(TRACE_DIR, 0700) && errno != EEXIST)
		return -1;
	snprintf(pid, sizeof(pid), "%d\n", getpid());
	if (trace_write("tracing_on", "0\n") ||
	    trace_write("buffer_size_kb", "8192\n") ||
	    trace_write("set_event_pid", pid) ||
	    trace_write("trace", ""))
		return -1;
	for (i = 0; i < ARRAY_SIZE(kmem_events); i++) {
		snprintf(file, sizeof(file), "events/%s/enable", kmem_events[i]);
		if (trace_write(file, "1\n"))
			return -1;
	}
	return trace_write("tracing_on", "1\n");
}

struct traced_alloc {
	unsigned long long ptr;
	long bytes;
	char site[64];
};

/* The function name of "call_site=NAME+0x..." in a trace line. */
static void trace_site(const char *line, char *site, size_t len)
{
	const char *p = strstr(line, "call_site=");
	size_t n = 0;

	site[0] = 0;
	if (!p)
		return;
	p += strlen("call_site=");
	while (p[n] && p[n] != '+' && p[n] != ' ' && n + 1 < len)
		n++;
	memcpy(site, p, n);
	site[n] = 0;
}

/*
 * With $VFIO_BENCH_KEPT_SITES set, say on stderr which functions allocated
 * the kept bytes: "kept FUNCTION BYTES COUNT", one line per function.
 */
static void trace_print_sites(struct traced_alloc *allocs, int n)
{
	long bytes;
	int i, j, count;

	if (!getenv("VFIO_BENCH_KEPT_SITES"))
		return;
	for (i = 0; i < n; i++) {
		if (!allocs[i].bytes || !allocs[i].site[0])
			continue;
		bytes = 0;
		count = 0;
		for (j = i; j < n; j++) {
			if (!allocs[j].bytes ||
			    strcmp(allocs[j].site, allocs[i].site))
				continue;
			bytes += allocs[j].bytes;
			count++;
			if (j > i)
				allocs[j].bytes = 0;
		}
		fprintf(stderr, "kept %s %ld %d\n", allocs[i].site, bytes,
			count);
	}
}

/* The value of "KEY=" in a trace line, as a number. */
static int trace_field(const char *line, const char *key,
		       unsigned long long *val)
{
	const char *p = strstr(line, key);

	if (!p)
		return -1;
	*val = strtoull(p + strlen(key), NULL, key[0] == 'p' ? 16 : 10);
	return 0;
}

/*
 * Stop recording and sum what was allocated and not freed; -1 if the
 * trace cannot be read or lost events (its buffer overflowed).
 */
static long trace_stop_live_bytes(void)
{
	static struct traced_alloc allocs[MAX_TRACED_ALLOCS];
	unsigned long long ptr, bytes;
	char line[512];
	long live = 0;
	int n = 0, i;
	FILE *f;

	if (trace_write("tracing_on", "0\n"))
		return -1;
	f = fopen(TRACE_DIR "/trace", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "LOST") || n == MAX_TRACED_ALLOCS) {
			n = -1;
			break;
		}
		if (trace_field(line, "ptr=", &ptr))
			continue;
		if (strstr(line, " kmalloc:") ||
		    strstr(line, " kmem_cache_alloc:")) {
			if (!trace_field(line, "bytes_alloc=", &bytes)) {
				allocs[n].ptr = ptr;
				allocs[n].bytes = bytes;
				trace_site(line, allocs[n].site,
					   sizeof(allocs[n].site));
				n++;
			}
			continue;
		}
		/* A free: forget the latest allocation at that address. */
		for (i = n - 1; i >= 0; i--) {
			if (allocs[i].ptr == ptr && allocs[i].bytes) {
				allocs[i].bytes = 0;
				break;
			}
		}
	}
	fclose(f);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++)
		live += allocs[i].bytes;
	trace_print_sites(allocs, n);
	return live;
}

static void trace_cleanup(void)
{
	size_t i;
	char file[64];

	for (i = 0; i < ARRAY_SIZE(kmem_events); i++) {
		snprintf(file, sizeof(file), "events/%s/enable", kmem_events[i]);
		trace_write(file, "0\n");
	}
	rmdir(TRACE_DIR);
}

static void close_all(struct vfio_pci_dev *devs, int n)
{
	while (n--)
		vfio_pci_dev_close(&devs[n]);
}

static int bench_slab(int argc, char **argv)
{
	struct vfio_pci_dev devs[MAX_SLAB_DEVS];
	char err[VFIO_UTIL_ERRLEN] = "";
	long delta[SLAB_REPEAT], kept[SLAB_REPEAT], before;
	int n = argc < MAX_SLAB_DEVS ? argc : MAX_SLAB_DEVS, i, r;
	bool traced = true;

	/*
	 * The counter moves with everything else the kernel does, so the
	 * open is repeated and the median growth kept.
	 */
	for (r = 0; r < SLAB_REPEAT; r++) {
		if (traced && trace_start()) {
			fprintf(stderr, "no kmem trace events: %s\n",
				strerror(errno));
			traced = false;
		}
		before = slab_kib();
		for (i = 0; i < n; i++) {
			if (vfio_pci_dev_open(&devs[i], argv[i], err,
					      sizeof(err))) {
				fprintf(stderr, "%s\n", err);
				close_all(devs, i);
				trace_cleanup();
				return 1;
			}
		}
		delta[r] = slab_kib() - before;
		kept[r] = traced ? trace_stop_live_bytes() : -1;
		if (kept[r] < 0 && traced) {
			fprintf(stderr, "kmem trace unreadable or overflowed\n");
			traced = false;
		}
		close_all(devs, n);
	}
	trace_cleanup();
	qsort(delta, SLAB_REPEAT, sizeof(delta[0]), cmp_long);
	report("slab-per-device", "KiB", (double)delta[SLAB_REPEAT / 2] / n);
	if (!traced)
		return 1;
	qsort(kept, SLAB_REPEAT, sizeof(kept[0]), cmp_long);
	report("kmalloc-kept-per-device", "KiB",
	       (double)kept[SLAB_REPEAT / 2] / 1024 / n);
	return 0;
}

static int help(const char *prog)
{
	fprintf(stderr,
		"usage: %s config SECS | bar INDEX OFF SECS | mmap INDEX [SIZE] |\n"
		"       msi SECS | ioeventfd INDEX OFF SECS | openclose SECS |\n"
		"       msix SECS N... | hotreset BDF2 SECS | slab BDF... |\n"
		"       mig BDF2 ROUNDS\n",
		prog);
	return 2;
}

int main(int argc, char **argv)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	const char *cmd, *bdf;
	int ret;

	if (argc < 2)
		return help(argv[0]);
	cmd = argv[1];
	/* Opens its own devices, named on the command line. */
	if (!strcmp(cmd, "slab"))
		return argc > 2 ? bench_slab(argc - 2, argv + 2) :
				  help(argv[0]);
	bdf = vfio_selftests_bdf();
	if (!bdf) {
		fprintf(stderr, "%s is not set\n", VFIO_SELFTESTS_BDF_ENV);
		return 2;
	}
	if (vfio_pci_dev_open(&dev, bdf, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (!strcmp(cmd, "config") && argc == 3)
		ret = bench_config(strtod(argv[2], NULL));
	else if (!strcmp(cmd, "bar") && argc == 5)
		ret = bench_bar(strtoul(argv[2], NULL, 0),
				strtoull(argv[3], NULL, 0),
				strtod(argv[4], NULL));
	else if (!strcmp(cmd, "mmap") && (argc == 3 || argc == 4))
		ret = bench_mmap(strtoul(argv[2], NULL, 0),
				 argc == 4 ? strtoull(argv[3], NULL, 0) : 0);
	else if (!strcmp(cmd, "msi") && argc == 3)
		ret = bench_msi(strtod(argv[2], NULL));
	else if (!strcmp(cmd, "ioeventfd") && argc == 5)
		ret = bench_ioeventfd(strtoul(argv[2], NULL, 0),
				      strtoull(argv[3], NULL, 0),
				      strtod(argv[4], NULL));
	else if (!strcmp(cmd, "openclose") && argc == 3)
		ret = bench_openclose(strtod(argv[2], NULL));
	else if (!strcmp(cmd, "msix") && argc > 3)
		ret = bench_msix(strtod(argv[2], NULL), argc - 3, argv + 3);
	else if (!strcmp(cmd, "hotreset") && argc == 4)
		ret = bench_hotreset(argv[2], strtod(argv[3], NULL));
	else if (!strcmp(cmd, "mig") && argc == 4)
		ret = bench_mig(argv[2], atoi(argv[3]));
	else
		ret = help(argv[0]);
	vfio_pci_dev_close(&dev);
	return ret;
}
