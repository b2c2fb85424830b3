// SPDX-License-Identifier: GPL-2.0-only
/*
 * uAPI fuzzer for vfio-pci: several threads throw random and structured
 * operations at one device for a bounded time, then the device must still
 * work.  The kernel log (checked by the VM runner: KASAN, lockdep, WARN,
 * ...) is the other half of the verdict.
 *
 * Operations: every device ioctl with valid, boundary and garbage
 * arguments (bad pointers, short and huge argsz, out-of-range indexes,
 * start/count that wrap, invalid flag combinations, random ioctl numbers),
 * region reads and writes at any offset and size, BAR mmaps and touches
 * (SIGBUS is an accepted outcome: memory decode may be off or a reset may
 * be running), random config space writes, eventfd churn on every IRQ
 * index, ioeventfds, device features, resets, hot reset queries, and extra
 * opens and closes of the device.
 *
 * A few answers are fixed by the uAPI and checked on every call: a bad
 * pointer gives EFAULT, an unknown ioctl ENOTTY, GET_INFO and the region
 * and IRQ info of valid indexes never change, an index past the end gives
 * EINVAL, the virtual vendor ID always reads back.
 *
 * What is kept out, and why:
 *   - Bus mastering stays off (config writes have the bit cleared) except
 *     on edu.  With the IOMMU in place device DMA to unmapped IOVAs is
 *     blocked, so this is not about host safety: an emulated NIC or NVMe
 *     controller walking random descriptor rings keeps QEMU itself (the
 *     "hardware") busy, which tests QEMU, not vfio-pci.  edu's DMA engine
 *     does one bounded transfer, so there it stays allowed
 *     (--dma forces it on for any device).
 *   - No DMA mappings: the container has no IOVA mapped at all, so no
 *     device can reach guest memory.
 *   - Register ranges named with --no-write are never written (through
 *     the fd, a mapping or an ioeventfd): for emulated devices whose model
 *     aborts QEMU on some register sequences, which would test QEMU.
 *
 * Reproducibility: every thread draws from its own generator seeded from
 * the printed seed and its index, so a run's operation sequences repeat
 * with --seed; the interleaving between threads does not.
 *
 * Usage: vfio_pci_fuzz_test [--seconds N] [--threads N] [--seed N] [--dma]
 *                           [--skip OP,OP...]
 *                           [--no-write INDEX:OFFSET:LENGTH,...]
 * The device is $VFIO_SELFTESTS_BDF, bound to vfio-pci.  Env defaults:
 * VFIO_FUZZ_SECONDS (20), VFIO_FUZZ_THREADS (4), VFIO_FUZZ_SEED (time),
 * VFIO_FUZZ_SKIP (operations left out, by the names the report prints;
 * for narrowing a failure down, not for the suite), VFIO_FUZZ_NO_WRITE
 * (byte ranges of regions, by region index, that are never written).
 * Exit status 0 on success, 1 on a failed check, 4 (KSFT_SKIP) when no
 * device is named.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "vfio_pci_sanity.h"
#include "vfio_pci_util.h"

#define KSFT_SKIP		4
#define MAX_THREADS		16
#define IOBUF_SIZE		(64 * 1024)
#define POOL_SIZE		8
#define MAX_REGIONS		16
#define MAX_IRQS		8
#define REPORT_LIMIT		10	/* failures printed per thread */
#define MAX_NO_WRITE		8
#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
/* End of GET_INFO's mandatory part (num_irqs), for the argsz check. */
#define INFO_MINSZ	(offsetof(struct vfio_device_info, num_irqs) + sizeof(uint32_t))
/* End of GET_REGION_INFO's mandatory part (offset). */
#define REGION_MINSZ	(offsetof(struct vfio_region_info, offset) + sizeof(uint64_t))

/*
 * vfio-pci puts region N at file offset N << 40 (the GET_REGION_INFO
 * offset); garbage indexes are built the same way.
 */
#define REGION_SHIFT		40

/* Operations, in the order of their names in op_names[]. */
enum fuzz_op {
	OP_GET_INFO,
	OP_REGION_INFO,
	OP_IRQ_INFO,
	OP_SET_IRQS,
	OP_EVENTFD_CHURN,
	OP_REGION_RW,
	OP_CONFIG_WRITE,
	OP_MMAP_TOUCH,
	OP_RESET,
	OP_HOT_RESET,
	OP_FEATURE,
	OP_IOEVENTFD,
	OP_BAD_POINTER,
	OP_BAD_IOCTL,
	OP_REOPEN,
	OP_COUNT
};

static const char * const op_names[OP_COUNT] = {
	"get_info", "region_info", "irq_info", "set_irqs", "eventfd_churn",
	"region_rw", "config_write", "mmap_touch", "reset", "hot_reset",
	"feature", "ioeventfd", "bad_pointer", "bad_ioctl", "reopen",
};

/* Relative frequency of each operation; resets are slow under TCG. */
static unsigned int op_weight[OP_COUNT] = {
	[OP_GET_INFO] = 4, [OP_REGION_INFO] = 8, [OP_IRQ_INFO] = 6,
	[OP_SET_IRQS] = 12, [OP_EVENTFD_CHURN] = 8, [OP_REGION_RW] = 20,
	[OP_CONFIG_WRITE] = 10, [OP_MMAP_TOUCH] = 8, [OP_RESET] = 1,
	[OP_HOT_RESET] = 2, [OP_FEATURE] = 4, [OP_IOEVENTFD] = 4,
	[OP_BAD_POINTER] = 4, [OP_BAD_IOCTL] = 4, [OP_REOPEN] = 2,
};

/* Bytes [off, off + len) of region @index, which no write may touch. */
struct no_write {
	uint32_t index;
	uint64_t off;
	uint64_t len;
};

struct fuzz_ctx {
	struct vfio_pci_dev dev;
	struct vfio_region_info regions[MAX_REGIONS];
	struct vfio_irq_info irqs[MAX_IRQS];
	bool region_ok[MAX_REGIONS];	/* GET_REGION_INFO succeeded */
	bool irq_ok[MAX_IRQS];		/* GET_IRQ_INFO succeeded */
	uint32_t num_regions;
	uint32_t num_irqs;
	uint16_t vendor;
	uint16_t device;
	bool allow_dma;
	uint64_t seed;
	unsigned int seconds;
	unsigned int nthreads;
	struct no_write no_write[MAX_NO_WRITE];
	unsigned int nr_no_write;
	atomic_bool stop;
};

struct fuzz_thread {
	struct fuzz_ctx *ctx;
	pthread_t tid;
	unsigned int index;
	uint64_t rng;
	uint64_t ops[OP_COUNT];
	uint64_t errnos[256];	/* errno histogram, ok at 0 */
	uint64_t sigbus;
	unsigned int failures;
	int pool[POOL_SIZE];	/* eventfds this thread hands out */
	uint8_t *buf;		/* IOBUF_SIZE bytes */
};

/* ---- randomness ---------------------------------------------------------- */

/* splitmix64: tiny, good enough, and trivially reproducible. */
static uint64_t rnd(struct fuzz_thread *t)
{
	uint64_t z = (t->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd_below(struct fuzz_thread *t, uint32_t n)
{
	return n ? (uint32_t)(rnd(t) % n) : 0;
}

static bool chance(struct fuzz_thread *t, unsigned int percent)
{
	return rnd_below(t, 100) < percent;
}

/* A 32-bit value biased towards the ones bound checks get wrong. */
static uint32_t rnd_u32(struct fuzz_thread *t, uint32_t nearby)
{
	static const uint32_t edge[] = {
		0, 1, 2, 3, 4, 7, 8, 16, 0x7fffffff, 0x80000000,
		0xfffffffe, 0xffffffff, 0x10000, 0xffff,
	};

	switch (rnd_below(t, 4)) {
	case 0:
		return edge[rnd_below(t, ARRAY_SIZE(edge))];
	case 1:
		return nearby + rnd_below(t, 3) - 1;
	case 2:
		return rnd_below(t, nearby + 4);
	default:
		return (uint32_t)rnd(t);
	}
}

static size_t rnd_len(struct fuzz_thread *t)
{
	static const size_t lens[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 64,
				       4095, 4096, 4097 };

	if (chance(t, 85))
		return lens[rnd_below(t, ARRAY_SIZE(lens))];
	return rnd_below(t, IOBUF_SIZE + 1);
}

static void rnd_fill(struct fuzz_thread *t, void *p, size_t len)
{
	uint8_t *b = p;

	while (len) {
		uint64_t v = rnd(t);
		size_t n = len < 8 ? len : 8;

		memcpy(b, &v, n);
		b += n;
		len -= n;
	}
}

/* ---- bookkeeping ------------------------------------------------------------ */

static void note(struct fuzz_thread *t, long ret)
{
	int e = ret < 0 ? errno : 0;

	t->errnos[e > 0 && e < 256 ? e : 0]++;
}

static void failf(struct fuzz_thread *t, const char *fmt, ...)
{
	va_list ap;

	if (t->failures++ >= REPORT_LIMIT)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "FAIL [thread %u]: ", t->index);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int pool_fd(struct fuzz_thread *t)
{
	unsigned int i = rnd_below(t, POOL_SIZE);

	/* Churn: now and then the eventfd behind a slot is replaced. */
	if (t->pool[i] < 0 || chance(t, 10)) {
		if (t->pool[i] >= 0)
			close(t->pool[i]);
		t->pool[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	}
	return t->pool[i];
}

/* An fd for an IRQ slot: mostly a live eventfd, sometimes -1 or junk. */
static int32_t rnd_fd(struct fuzz_thread *t)
{
	switch (rnd_below(t, 10)) {
	case 0:
		return -1;
	case 1:
		return (int32_t)rnd_u32(t, 1000);
	case 2:
		return t->ctx->dev.device_fd;	/* an fd, not an eventfd */
	default:
		return pool_fd(t);
	}
}

/* ---- ioctls ---------------------------------------------------------------- */

static void op_get_info(struct fuzz_thread *t)
{
	struct fuzz_ctx *c = t->ctx;
	struct vfio_device_info info;
	uint32_t argsz = rnd_u32(t, sizeof(info));
	bool exact = chance(t, 50);
	long ret;

	memset(&info, 0, sizeof(info));
	info.argsz = exact ? sizeof(info) : argsz;
	if (info.argsz > sizeof(info))
		info.argsz = sizeof(info) + rnd_below(t, 16);
	ret = ioctl(c->dev.device_fd, VFIO_DEVICE_GET_INFO, &info);
	note(t, ret);
	if (info.argsz < INFO_MINSZ) {
		if (ret == 0 || errno != EINVAL)
			failf(t, "GET_INFO argsz %u: want EINVAL, got %ld/%d",
			      argsz, ret, ret ? errno : 0);
		return;
	}
	if (ret) {
		failf(t, "GET_INFO argsz %u failed: %s", info.argsz,
		      strerror(errno));
		return;
	}
	if (info.num_regions != c->num_regions ||
	    info.num_irqs != c->num_irqs)
		failf(t, "GET_INFO changed: %u regions %u irqs, was %u %u",
		      info.num_regions, info.num_irqs, c->num_regions,
		      c->num_irqs);
}

static void op_region_info(struct fuzz_thread *t)
{
	struct fuzz_ctx *c = t->ctx;
	struct {
		struct vfio_region_info info;
		uint8_t caps[512];
	} r;
	uint32_t minsz = REGION_MINSZ;
	uint32_t index = rnd_u32(t, c->num_regions);
	long ret;

	memset(&r, 0, sizeof(r));
	r.info.index = index;
	r.info.argsz = chance(t, 60) ? sizeof(r.info) : rnd_u32(t, minsz);
	if (r.info.argsz > sizeof(r))
		r.info.argsz = sizeof(r);
	ret = ioctl(c->dev.device_fd, VFIO_DEVICE_GET_REGION_INFO, &r);
	note(t, ret);
	if (index < MAX_REGIONS && index < c->num_regions &&
	    !c->region_ok[index] && r.info.argsz >= minsz)
		return;		/* absent (e.g. VGA): any error will do */
	if (r.info.argsz < minsz || index >= c->num_regions) {
		if (ret == 0 || errno != EINVAL)
			failf(t, "REGION_INFO index %u argsz %u: want EINVAL, got %ld/%d",
			      index, r.info.argsz, ret, ret ? errno : 0);
		return;
	}
	if (ret) {
		failf(t, "REGION_INFO index %u failed: %s", index,
		      strerror(errno));
		return;
	}
	if (index < MAX_REGIONS &&
	    (r.info.size != c->regions[index].size ||
	     r.info.offset != c->regions[index].offset))
		failf(t, "REGION_INFO %u changed: size %#llx offset %#llx",
		      index, (unsigned long long)r.info.size,
		      (unsigned long long)r.info.offset);
}

static void op_irq_info(struct fuzz_thread *t)
{
	struct fuzz_ctx *c = t->ctx;
	struct vfio_irq_info info;
	uint32_t index = rnd_u32(t, c->num_irqs);
	long ret;

	memset(&info, 0, sizeof(info));
	info.index = index;
	info.argsz = chance(t, 70) ? sizeof(info) : rnd_u32(t, sizeof(info));
	if (info.argsz > sizeof(info))
		info.argsz = sizeof(info);
	ret = ioctl(c->dev.device_fd, VFIO_DEVICE_GET_IRQ_INFO, &info);
	note(t, ret);
	if (index < MAX_IRQS && index < c->num_irqs && !c->irq_ok[index] &&
	    info.argsz >= sizeof(info))
		return;
	if (info.argsz < sizeof(info) || index >= c->num_irqs) {
		if (ret == 0 || errno != EINVAL)
			failf(t, "IRQ_INFO index %u argsz %u: want EINVAL, got %ld/%d",
			      index, info.argsz, ret, ret ? errno : 0);
		return;
	}
	if (ret)
		failf(t, "IRQ_INFO index %u failed: %s", index,
		      strerror(errno));
	else if (index < MAX_IRQS && info.count != c->irqs[index].count)
		failf(t, "IRQ_INFO %u count changed: %u, was %u", index,
		      info.count, c->irqs[index].count);
}

static uint32_t rnd_irq_flags(struct fuzz_thread *t)
{
	static const uint32_t data[] = { VFIO_IRQ_SET_DATA_NONE,
					 VFIO_IRQ_SET_DATA_BOOL,
					 VFIO_IRQ_SET_DATA_EVENTFD };
	static const uint32_t action[] = { VFIO_IRQ_SET_ACTION_MASK,
					   VFIO_IRQ_SET_ACTION_UNMASK,
					   VFIO_IRQ_SET_ACTION_TRIGGER };

	if (chance(t, 10))	/* anything, valid or not */
		return (uint32_t)rnd(t);
	if (chance(t, 10))	/* two data types or two actions */
		return data[rnd_below(t, 3)] | data[rnd_below(t, 3)] |
		       action[rnd_below(t, 3)] | action[rnd_below(t, 3)];
	return data[rnd_below(t, 3)] | action[rnd_below(t, 3)];
}

static void op_set_irqs(struct fuzz_thread *t)
{
	struct fuzz_ctx *c = t->ctx;
	struct vfio_irq_set *set = (struct vfio_irq_set *)t->buf;
	uint32_t index = rnd_u32(t, c->num_irqs);
	uint32_t max = index < MAX_IRQS && index < c->num_irqs ?
		       c->irqs[index].count : 4;
	uint32_t i, n, start = chance(t, 70) ? rnd_below(t, max + 1) :
						 rnd_u32(t, max);
	uint32_t count = chance(t, 70) ? rnd_below(t, max + 2) :
					 rnd_u32(t, max);
	size_t room = (IOBUF_SIZE - sizeof(*set)) / sizeof(int32_t);
	int32_t *fds = (int32_t *)set->data;
	long ret;

	memset(set, 0, sizeof(*set));
	set->index = index;
	set->start = start;
	set->count = count;
	set->flags = rnd_irq_flags(t);
	n = count < room ? count : (uint32_t)room;
	if (set->flags & VFIO_IRQ_SET_DATA_EVENTFD)
		for (i = 0; i < n; i++)
			fds[i] = rnd_fd(t);
	else
		rnd_fill(t, set->data, n * sizeof(int32_t));
	switch (rnd_below(t, 4)) {
	case 0:		/* exactly what the data needs */
		set->argsz = sizeof(*set) +
			     (set->flags & VFIO_IRQ_SET_DATA_EVENTFD ? 4 :
			      set->flags & VFIO_IRQ_SET_DATA_BOOL ? 1 : 0) * n;
		break;
	case 1:		/* short */
		set->argsz = rnd_below(t, sizeof(*set) + 8);
		break;
	default:	/* whatever the buffer holds, or garbage */
		set->argsz = chance(t, 80) ? IOBUF_SIZE : rnd_u32(t, 64);
		break;
	}
	/* The kernel must never read past argsz; keep argsz inside buf. */
	if (set->argsz > IOBUF_SIZE)
		set->argsz = IOBUF_SIZE;
	ret = ioctl(c->dev.device_fd, VFIO_DEVICE_SET_IRQS, set);
	note(t, ret);
	if (!ret && index >= c->num_irqs)
		failf(t, "SET_IRQS accepted index %u of %u", index,
		      c->num_irqs);
	if (!ret && count && (uint64_t)start + count > max)
		failf(t, "SET_IRQS accepted start %u count %u of %u", start,
		      count, max);
}

/* Wire eventfds to a valid IRQ index, fire them, and maybe tear down. */
static void op_eventfd_churn(struct fuzz_thread *t)
{
	struct fuzz_ctx *c = t->ctx;
	struct vfio_irq_set *set = (struct vfio_irq_set *)t->buf;
	uint32_t index, count, i;
	int32_t *fds = (int32_t *)set->data;
	uint64_t v;
	long ret;

	if (!c->num_irqs)
		return;
	index = rnd_below(t, c->num_irqs < MAX_IRQS ? c->num_irqs : MAX_IRQS);
	count = c->irqs[index].count;
	if (!count)
		return;
	count = 1 + rnd_below(t, count < 32 ? count : 32);

	set->argsz = sizeof(*set) + count * sizeof(int32_t);
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = index;
	set->start = 0;
	set->count = count;
	for (i = 0; i < count; i++)
		fds[i] = chance(t, 90) ? pool_fd(t) : -1;
	ret = ioctl(c->dev.device_fd, VFIO_DEVICE_SET_IRQS, set);
	note(t, ret);
	if (ret)
		return;

	/* Loopback: the kernel signals the eventfds itself. */
	set->argsz = sizeof(*set);
	set->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	note(t, ioctl(c->dev.device_fd, VFIO_DEVICE_SET_IRQS, set));
	for (i = 0; i < POOL_SIZE; i++)
		if (t->pool[i] >= 0 && read(t->pool[i], &v, sizeof(v)) < 0 &&
		    errno != EAGAIN)
			failf(t, "eventfd read: %s", strerror(errno));

	if (chance(t, 60)) {
		set->count = 0;
		note(t, ioctl(c->dev.device_fd, VFIO_DEVICE_SET_IRQS, set));
	}
}

/* ---- regions ---------------------------------------------------------------- */

static uint32_t rnd_region(struct fuzz_thread *t)
{
	uint32_t n = t->ctx->num_regions;

	if (chance(t, 90))
		return rnd_below(t, n < MAX_REGIONS ? n : MAX_REGIONS);
	return chance(t, 50) ? rnd_u32(t, n) : rnd_below(t, 1u << 23);
}

static uint64_t rnd_offset(struct fuzz_thread *t, uint64_t size)
{
	switch (rnd_below(t, 6)) {
	case 0:
		return size ? size - 1 - rnd_below(t, size < 16 ? size : 16) : 0;
	case 1:
		return size + rnd_below(t, 16);
	case 2:
		return rnd(t) & ((1ULL << REGION_SHIFT) - 1);
	default:
		return size ? rnd(t) % size : rnd_below(t, 4096);
	}
}

/* May @len bytes at @off of region @index be written (see --no-write)? */
static bool write_allowed(const struct fuzz_ctx *c, uint32_t index,
			  uint64_t off, uint64_t len)
{
	const struct no_write *nw;

	for (nw = c->no_write; nw < c->no_write + c->nr_no_write; nw++)
		if (index == nw->index && off < nw->off + nw->len &&
		    off + len > nw->off)
			return false;
	return true;
}

/* Keep Bus Master off unless DMA is allowed (see the top of the file). */
static void mask_bus_master(struct fuzz_thread *t, uint64_t off,
			    uint8_t *data, size_t len)
{
	if (t->ctx->allow_dma)
		return;
	if (off <= PCI_COMMAND && off + len > PCI_COMMAND)
		data[PCI_COMMAND - off] &= ~PCI_COMMAND_MASTER;
}

static void check_vendor(struct fuzz_thread *t)
{
	const struct vfio_region_info *cfg =
		&t->ctx->regions[VFIO_PCI_CONFIG_REGION_INDEX];
	uint16_t vendor = 0;
	ssize_t n;

	n = pread(t->ctx->dev.device_fd, &vendor, 2, cfg->offset);
	note(t, n);
	if (n != 2 || vendor != t->ctx->vendor)
		failf(t, "config vendor read: %zd bytes, %#06x (want %#06x)",
		      n, vendor, t->ctx->vendor);
}

static void op_region_rw(struct fuzz_thread *t)
{
	struct fuzz_ctx *c = t->ctx;
	/* Indexes above 2^23 would not fit a positive file offset. */
	uint32_t index = rnd_region(t) & ((1u << (63 - REGION_SHIFT)) - 1);
	uint64_t size = index < MAX_REGIONS ? c->regions[index].size : 0;
	uint64_t off = rnd_offset(t, size);
	uint64_t pos = ((uint64_t)index << REGION_SHIFT) + off;
	size_t len = rnd_len(t);
	ssize_t n;

	if (index == VFIO_PCI_CONFIG_REGION_INDEX && chance(t, 20)) {
		check_vendor(t);
		return;
	}
	if (chance(t, 60) || !write_allowed(c, index, off, len)) {
		n = pread(c->dev.device_fd, t->buf, len, pos);
	} else {
		rnd_fill(t, t->buf, len);
		if (index == VFIO_PCI_CONFIG_REGION_INDEX)
			mask_bus_master(t, off, t->buf, len);
		n = pwrite(c->dev.device_fd, t->buf, len, pos);
	}
	note(t, n);
	if (n > (ssize_t)len)
		failf(t, "region %u rw of %zu bytes returned %zd", index, len, n);
	if (n > 0 && index >= c->num_regions &&
	    (pos >> REGION_SHIFT) == index)
		failf(t, "rw of region %u of %u succeeded", index,
		      c->num_regions);
}

/* Config writes of random values to the registers that matter most. */
static void op_config_write(struct fuzz_thread *t)
{
	static const uint16_t hot[] = {
		PCI_COMMAND, PCI_STATUS, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_1,
		PCI_BASE_ADDRESS_2, PCI_BASE_ADDRESS_4, PCI_ROM_ADDRESS,
		PCI_INTERRUPT_LINE, PCI_CACHE_LINE_SIZE,
	};
	struct fuzz_ctx *c = t->ctx;
	const struct vfio_region_info *cfg =
		&c->regions[VFIO_PCI_CONFIG_REGION_INDEX];
	uint8_t data[8];
	uint64_t off;
	size_t len = 1u << rnd_below(t, 3);
	ssize_t n;

	if (chance(t, 40))
		off = hot[rnd_below(t, ARRAY_SIZE(hot))];
	else	/* capabilities, extended ones included */
		off = rnd_below(t, cfg->size ? cfg->size : 256) & ~(len - 1);
	rnd_fill(t, data, sizeof(data));
	if (off == PCI_COMMAND && chance(t, 50))	/* decode flips */
		data[0] = chance(t, 50) ? PCI_COMMAND_MEMORY | PCI_COMMAND_IO : 0;
	mask_bus_master(t, off, data, len);
	n = pwrite(c->dev.device_fd, data, len, cfg->offset + off);
	note(t, n);
}

static void op_mmap_touch(struct fuzz_thread *t)
{
	struct fuzz_ctx *c = t->ctx;
	long page = sysconf(_SC_PAGESIZE);
	uint32_t index = rnd_below(t, VFIO_PCI_ROM_REGION_INDEX);
	const struct vfio_region_info *r = &c->regions[index];
	uint64_t pages, first, len, off;
	uint32_t *p;
	unsigned int i, touches;
	void *map;

	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP) || r->size < (uint64_t)page)
		return;
	pages = r->size / page;
	first = rnd(t) % pages;
	len = (1 + rnd(t) % (pages - first < 16 ? pages - first : 16)) * page;
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		   c->dev.device_fd, r->offset + first * page);
	note(t, map == MAP_FAILED ? -1 : 0);
	if (map == MAP_FAILED)
		return;

	touches = 1 + rnd_below(t, 8);
	vfio_sigbus_arm(true);
	if (sigsetjmp(vfio_sigbus_jmp, 1)) {
		t->sigbus++;
		goto out;
	}
	/* Atomic accesses: the compiler must not merge or drop MMIO. */
	for (i = 0; i < touches; i++) {
		off = (rnd(t) % len) & ~3ULL;
		p = (uint32_t *)((uint8_t *)map + off);
		if (chance(t, 70) ||
		    !write_allowed(c, index, first * page + off, sizeof(*p)))
			(void)__atomic_load_n(p, __ATOMIC_RELAXED);
		else
			__atomic_store_n(p, (uint32_t)rnd(t), __ATOMIC_RELAXED);
	}
out:
	vfio_sigbus_arm(false);
	munmap(map, len);
}

/* ---- the rest of the uAPI ----------------------------------------------------- */

static void op_reset(struct fuzz_thread *t)
{
	note(t, ioctl(t->ctx->dev.device_fd, VFIO_DEVICE_RESET));
}

static void op_hot_reset(struct fuzz_thread *t)
{
	struct fuzz_ctx *c = t->ctx;
	struct vfio_pci_hot_reset_info *info = (void *)t->buf;
	struct vfio_pci_hot_reset *hr = (void *)t->buf;
	int32_t *fds = hr->group_fds;
	uint32_t i, count;

	if (chance(t, 70)) {
		memset(info, 0, sizeof(*info));
		info->argsz = chance(t, 50) ? IOBUF_SIZE :
			      rnd_u32(t, sizeof(*info));
		if (info->argsz > IOBUF_SIZE)
			info->argsz = IOBUF_SIZE;
		note(t, ioctl(c->dev.device_fd,
			      VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info));
		return;
	}
	count = chance(t, 80) ? rnd_below(t, 3) : rnd_u32(t, 2);
	memset(hr, 0, sizeof(*hr));
	hr->count = count;
	hr->argsz = sizeof(*hr) + 4 * (count < 64 ? count : 64);
	if (chance(t, 20))
		hr->argsz = rnd_u32(t, sizeof(*hr));
	if (hr->argsz > IOBUF_SIZE)
		hr->argsz = IOBUF_SIZE;
	for (i = 0; i < count && i < 64; i++)
		fds[i] = chance(t, 60) ? c->dev.group_fd : rnd_fd(t);
	note(t, ioctl(c->dev.device_fd, VFIO_DEVICE_PCI_HOT_RESET, hr));
}

static void op_feature(struct fuzz_thread *t)
{
	struct fuzz_ctx *c = t->ctx;
	struct vfio_device_feature *f = (void *)t->buf;
	static const uint32_t ops[] = { VFIO_DEVICE_FEATURE_PROBE,
					VFIO_DEVICE_FEATURE_GET,
					VFIO_DEVICE_FEATURE_SET };
	uint32_t payload = rnd_below(t, 64);
	long ret;

	memset(f, 0, sizeof(*f) + 64);
	f->flags = rnd_below(t, 12) | ops[rnd_below(t, 3)];
	if (chance(t, 20))
		f->flags |= ops[rnd_below(t, 3)];
	if (chance(t, 5))
		f->flags = (uint32_t)rnd(t);
	f->argsz = sizeof(*f) + payload;
	if (chance(t, 15))
		f->argsz = rnd_below(t, sizeof(*f) + 1);
	rnd_fill(t, f->data, payload);
	/* LOW_POWER_ENTRY_WITH_WAKEUP takes an eventfd first. */
	if ((f->flags & VFIO_DEVICE_FEATURE_MASK) ==
	    VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP && chance(t, 70))
		*(int32_t *)f->data = pool_fd(t);
	ret = ioctl(c->dev.device_fd, VFIO_DEVICE_FEATURE, f);
	note(t, ret);
	/*
	 * Whatever low power state that left, the next op may find the
	 * device asleep: also a case worth having, but not for long.
	 */
	if (chance(t, 50)) {
		f->argsz = sizeof(*f);
		f->flags = VFIO_DEVICE_FEATURE_SET |
			   VFIO_DEVICE_FEATURE_LOW_POWER_EXIT;
		note(t, ioctl(c->dev.device_fd, VFIO_DEVICE_FEATURE, f));
	}
}

static void op_ioeventfd(struct fuzz_thread *t)
{
	struct fuzz_ctx *c = t->ctx;
	struct vfio_device_ioeventfd ie;
	uint32_t index = chance(t, 85) ? rnd_below(t, VFIO_PCI_ROM_REGION_INDEX) :
					 rnd_region(t);
	uint64_t size = index < MAX_REGIONS ? c->regions[index].size : 0;
	uint64_t one = 1;
	long ret;

	memset(&ie, 0, sizeof(ie));
	ie.argsz = chance(t, 90) ? sizeof(ie) : rnd_u32(t, sizeof(ie));
	if (ie.argsz > sizeof(ie))
		ie.argsz = sizeof(ie);
	ie.flags = chance(t, 80) ? 1u << rnd_below(t, 4) : rnd_u32(t, 15);
	ie.offset = ((uint64_t)index << REGION_SHIFT) + rnd_offset(t, size);
	if (chance(t, 70))
		ie.offset &= ~7ULL;
	ie.data = rnd(t);
	ie.fd = chance(t, 25) ? -1 : rnd_fd(t);
	/* Whatever fires it later, it must not write where writes are kept out. */
	if (!write_allowed(c, ie.offset >> REGION_SHIFT,
			   ie.offset & ((1ULL << REGION_SHIFT) - 1), 8))
		return;
	ret = ioctl(c->dev.device_fd, VFIO_DEVICE_IOEVENTFD, &ie);
	note(t, ret);
	/* Fire it: the kernel then writes ie.data to the device itself. */
	if (!ret && ie.fd >= 0 && chance(t, 50) &&
	    write(ie.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		failf(t, "eventfd write: %s", strerror(errno));
}

static void expect_efault(struct fuzz_thread *t, unsigned long cmd,
			  void *arg, const char *what)
{
	long ret = ioctl(t->ctx->dev.device_fd, cmd, arg);

	note(t, ret);
	if (ret == 0 || errno != EFAULT)
		failf(t, "%s with pointer %p: want EFAULT, got %ld/%d", what,
		      arg, ret, ret ? errno : 0);
}

static void op_bad_pointer(struct fuzz_thread *t)
{
	static void * const bad[] = {
		NULL, (void *)1, (void *)0xffff888000000000ULL,
		(void *)0x00007ffffffff000ULL, (void *)-1L,
	};
	void *p = bad[rnd_below(t, ARRAY_SIZE(bad))];
	ssize_t n;

	switch (rnd_below(t, 6)) {
	case 0:
		expect_efault(t, VFIO_DEVICE_GET_INFO, p, "GET_INFO");
		break;
	case 1:
		expect_efault(t, VFIO_DEVICE_GET_REGION_INFO, p, "REGION_INFO");
		break;
	case 2:
		expect_efault(t, VFIO_DEVICE_GET_IRQ_INFO, p, "IRQ_INFO");
		break;
	case 3:
		expect_efault(t, VFIO_DEVICE_SET_IRQS, p, "SET_IRQS");
		break;
	case 4:	/* a config read into nowhere */
		n = pread(t->ctx->dev.device_fd, p, 4,
			  t->ctx->regions[VFIO_PCI_CONFIG_REGION_INDEX].offset);
		note(t, n);
		if (n >= 0 || errno != EFAULT)
			failf(t, "config read into %p: want EFAULT, got %zd/%d",
			      p, n, n < 0 ? errno : 0);
		break;
	default:	/* a negative file offset */
		n = pread(t->ctx->dev.device_fd, t->buf, 4,
			  (off_t)(rnd(t) | (1ULL << 63)));
		note(t, n);
		if (n >= 0)
			failf(t, "read at a negative offset returned %zd", n);
		break;
	}
}

static void op_bad_ioctl(struct fuzz_thread *t)
{
	/* Numbers around and past the VFIO ones, any direction and size. */
	unsigned int nr = chance(t, 50) ? VFIO_BASE + 22 +
					  rnd_below(t, 256 - VFIO_BASE - 22) :
					  rnd_below(t, 256);
	unsigned long cmd = _IOC(rnd_below(t, 4), VFIO_TYPE, nr,
				 rnd_below(t, 256));
	long ret;

	memset(t->buf, 0, 256);
	/*
	 * Only numbers no version of the uAPI defines have a fixed answer;
	 * the rest get garbage and any errno.
	 */
	if (nr < VFIO_BASE + 7 || nr > VFIO_BASE + 21) {
		if (nr < VFIO_BASE + 7)
			cmd = _IO(VFIO_TYPE, VFIO_BASE + 22 + rnd_below(t, 32));
		ret = ioctl(t->ctx->dev.device_fd, cmd, t->buf);
		note(t, ret);
		if (ret == 0 || errno != ENOTTY)
			failf(t, "unknown ioctl %#lx: want ENOTTY, got %ld/%d",
			      cmd, ret, ret ? errno : 0);
		return;
	}
	rnd_fill(t, t->buf, 256);
	*(uint32_t *)t->buf = rnd_below(t, 300);	/* argsz */
	cmd = _IO(VFIO_TYPE, nr);
	/*
	 * Keep off the calls with their own structured ops: a random
	 * SET_IRQS argsz could point the kernel past our buffer.
	 */
	if (cmd == VFIO_DEVICE_SET_IRQS || cmd == VFIO_DEVICE_PCI_HOT_RESET ||
	    cmd == VFIO_DEVICE_FEATURE)
		return;
	note(t, ioctl(t->ctx->dev.device_fd, cmd, t->buf));
}

static void op_reopen(struct fuzz_thread *t)
{
	struct fuzz_ctx *c = t->ctx;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int fd;

	fd = ioctl(c->dev.group_fd, VFIO_GROUP_GET_DEVICE_FD, c->dev.bdf);
	note(t, fd);
	if (fd < 0) {
		failf(t, "second device fd: %s", strerror(errno));
		return;
	}
	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info) ||
	    info.num_regions != c->num_regions)
		failf(t, "GET_INFO on a second device fd");
	close(fd);
}

typedef void (*op_fn)(struct fuzz_thread *t);

static const op_fn op_fns[OP_COUNT] = {
	op_get_info, op_region_info, op_irq_info, op_set_irqs,
	op_eventfd_churn, op_region_rw, op_config_write, op_mmap_touch,
	op_reset, op_hot_reset, op_feature, op_ioeventfd, op_bad_pointer,
	op_bad_ioctl, op_reopen,
};

static enum fuzz_op pick_op(struct fuzz_thread *t)
{
	unsigned int total = 0, r, i;

	for (i = 0; i < OP_COUNT; i++)
		total += op_weight[i];
	r = rnd_below(t, total);
	for (i = 0; i < OP_COUNT; i++) {
		if (r < op_weight[i])
			return i;
		r -= op_weight[i];
	}
	return OP_GET_INFO;
}

static void *fuzz_thread_fn(void *arg)
{
	struct fuzz_thread *t = arg;
	enum fuzz_op op;

	while (!atomic_load(&t->ctx->stop)) {
		op = pick_op(t);
		op_fns[op](t);
		t->ops[op]++;
	}
	return NULL;
}

/* ---- setup, the run, the sanity check ------------------------------------------- */

static int load_layout(struct fuzz_ctx *c)
{
	uint32_t i;
	int ret;

	c->num_regions = c->dev.info.num_regions;
	c->num_irqs = c->dev.info.num_irqs;
	if (c->num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		fprintf(stderr, "only %u regions\n", c->num_regions);
		return -1;
	}
	for (i = 0; i < c->num_regions && i < MAX_REGIONS; i++) {
		ret = vfio_region_info(c->dev.device_fd, i, &c->regions[i]);
		if (ret && ret != -EINVAL) {
			fprintf(stderr, "REGION_INFO %u: %s\n", i, strerror(-ret));
			return -1;
		}
		c->region_ok[i] = !ret;
	}
	for (i = 0; i < c->num_irqs && i < MAX_IRQS; i++) {
		ret = vfio_irq_info(c->dev.device_fd, i, &c->irqs[i]);
		if (ret && ret != -EINVAL) {
			fprintf(stderr, "IRQ_INFO %u: %s\n", i, strerror(-ret));
			return -1;
		}
		c->irq_ok[i] = !ret;
	}
	if (vfio_region_read(&c->dev, VFIO_PCI_CONFIG_REGION_INDEX,
			     PCI_VENDOR_ID, &c->vendor, 2) != 2 ||
	    vfio_region_read(&c->dev, VFIO_PCI_CONFIG_REGION_INDEX,
			     PCI_DEVICE_ID, &c->device, 2) != 2) {
		perror("config read");
		return -1;
	}
	return 0;
}

static void report(struct fuzz_ctx *c, struct fuzz_thread *th, double secs)
{
	unsigned long long ops[OP_COUNT] = { 0 }, errs[256] = { 0 };
	unsigned long long total = 0, sigbus = 0;
	unsigned int i, j;

	for (i = 0; i < c->nthreads; i++) {
		for (j = 0; j < OP_COUNT; j++)
			ops[j] += th[i].ops[j];
		for (j = 0; j < 256; j++)
			errs[j] += th[i].errnos[j];
		sigbus += th[i].sigbus;
	}
	for (j = 0; j < OP_COUNT; j++) {
		total += ops[j];
		printf("#   %-14s %llu\n", op_names[j], ops[j]);
	}
	printf("# results: ok %llu", errs[0]);
	for (j = 1; j < 256; j++)
		if (errs[j])
			printf(", %s %llu", strerrorname_np(j) ?: "?", errs[j]);
	printf(", SIGBUS %llu\n", sigbus);
	printf("# %llu operations in %.1f s: %.0f ops/s (seed %llu, %u threads)\n",
	       total, secs, total / secs, (unsigned long long)c->seed,
	       c->nthreads);
}

static unsigned long env_num(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : def;
}

static void skip_ops(const char *list)
{
	char *copy = strdup(list), *save = NULL, *name;
	unsigned int i;

	for (name = strtok_r(copy, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < OP_COUNT; i++)
			if (!strcmp(name, op_names[i]))
				break;
		if (i == OP_COUNT) {
			fprintf(stderr, "unknown operation '%s'\n", name);
			exit(2);
		}
		op_weight[i] = 0;
		printf("# skipping %s\n", name);
	}
	free(copy);
}

/* INDEX:OFFSET:LENGTH[,...] into c->no_write; a bad list ends the run. */
static void parse_no_write(struct fuzz_ctx *c, const char *list)
{
	char *copy = strdup(list), *save = NULL, *item, *end;
	struct no_write *nw;

	for (item = strtok_r(copy, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		if (c->nr_no_write == MAX_NO_WRITE) {
			fprintf(stderr, "at most %d --no-write ranges\n",
				MAX_NO_WRITE);
			exit(2);
		}
		nw = &c->no_write[c->nr_no_write];
		nw->index = strtoul(item, &end, 0);
		if (*end != ':')
			goto bad;
		nw->off = strtoull(end + 1, &end, 0);
		if (*end != ':')
			goto bad;
		nw->len = strtoull(end + 1, &end, 0);
		if (*end || !nw->len)
			goto bad;
		printf("# no writes to region %u bytes %#llx-%#llx\n", nw->index,
		       (unsigned long long)nw->off,
		       (unsigned long long)(nw->off + nw->len - 1));
		c->nr_no_write++;
	}
	free(copy);
	return;
bad:
	fprintf(stderr, "--no-write wants INDEX:OFFSET:LENGTH, not '%s'\n",
		item);
	exit(2);
}

static void parse_args(struct fuzz_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 'S' },
		{ "dma", no_argument, NULL, 'd' },
		{ "skip", required_argument, NULL, 'k' },
		{ "no-write", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	c->seconds = env_num("VFIO_FUZZ_SECONDS", 20);
	c->nthreads = env_num("VFIO_FUZZ_THREADS", 4);
	c->seed = env_num("VFIO_FUZZ_SEED", (unsigned long)time(NULL) ^
			  ((unsigned long)getpid() << 16));
	if (getenv("VFIO_FUZZ_SKIP") && *getenv("VFIO_FUZZ_SKIP"))
		skip_ops(getenv("VFIO_FUZZ_SKIP"));
	if (getenv("VFIO_FUZZ_NO_WRITE") && *getenv("VFIO_FUZZ_NO_WRITE"))
		parse_no_write(c, getenv("VFIO_FUZZ_NO_WRITE"));
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			c->seconds = strtoul(optarg, NULL, 0);
			break;
		case 't':
			c->nthreads = strtoul(optarg, NULL, 0);
			break;
		case 'S':
			c->seed = strtoull(optarg, NULL, 0);
			break;
		case 'd':
			c->allow_dma = true;
			break;
		case 'k':
			skip_ops(optarg);
			break;
		case 'w':
			parse_no_write(c, optarg);
			break;
		default:
			fprintf(stderr, "usage: %s %s\n", argv[0],
				"[--seconds N] [--threads N] [--seed N] [--dma] [--skip OPS] [--no-write I:OFF:LEN,...]");
			exit(2);
		}
	}
	if (c->nthreads < 1)
		c->nthreads = 1;
	if (c->nthreads > MAX_THREADS)
		c->nthreads = MAX_THREADS;
}

static void close_pools(struct fuzz_thread *th, unsigned int n)
{
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < POOL_SIZE; j++)
			if (th[i].pool[j] >= 0)
				close(th[i].pool[j]);
		free(th[i].buf);
	}
}

int main(int argc, char **argv)
{
	static struct fuzz_ctx ctx;
	static struct fuzz_thread th[MAX_THREADS];
	char err[VFIO_UTIL_ERRLEN];
	struct timespec t0, t1;
	unsigned int i, j, failures = 0;
	const char *bdf = vfio_selftests_bdf();
	double secs;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(&ctx, argc, argv);
	if (!bdf) {
		printf("# SKIP: %s is not set\n", VFIO_SELFTESTS_BDF_ENV);
		return KSFT_SKIP;
	}
	if (vfio_pci_dev_open(&ctx.dev, bdf, err, sizeof(err))) {
		printf("not ok 1 open %s: %s\n", bdf, err);
		return 1;
	}
	if (load_layout(&ctx))
		return 1;
	if (ctx.vendor == EDU_VENDOR && ctx.device == EDU_DEVICE)
		ctx.allow_dma = true;
	vfio_sigbus_catch();

	printf("# fuzzing %s (%04x:%04x, %u regions, %u irq indexes)",
	       bdf, ctx.vendor, ctx.device, ctx.num_regions, ctx.num_irqs);
	printf(" for %u s with %u threads, seed %llu%s\n",
	       ctx.seconds, ctx.nthreads, (unsigned long long)ctx.seed,
	       ctx.allow_dma ? ", bus mastering allowed" : "");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < ctx.nthreads; i++) {
		th[i].ctx = &ctx;
		th[i].index = i;
		th[i].rng = ctx.seed * 0x100000001b3ULL + i;
		for (j = 0; j < POOL_SIZE; j++)
			th[i].pool[j] = -1;
		th[i].buf = calloc(1, IOBUF_SIZE);
		if (!th[i].buf ||
		    pthread_create(&th[i].tid, NULL, fuzz_thread_fn, &th[i])) {
			fprintf(stderr, "cannot start thread %u\n", i);
			atomic_store(&ctx.stop, true);
			ctx.nthreads = i;
			break;
		}
	}
	sleep(ctx.seconds);
	atomic_store(&ctx.stop, true);
	for (i = 0; i < ctx.nthreads; i++) {
		pthread_join(th[i].tid, NULL);
		failures += th[i].failures;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	report(&ctx, th, secs);

	/* Everything the threads set up goes away with the last close. */
	vfio_pci_dev_close(&ctx.dev);
	close_pools(th, ctx.nthreads);

	printf("%s 1 fuzz %s: %u failed checks\n", failures ? "not ok" : "ok",
	       bdf, failures);
	if (vfio_pci_sanity_check(bdf, err, sizeof(err))) {
		printf("not ok 2 %s works after fuzzing: %s\n", bdf, err);
		return 1;
	}
	printf("# sanity: %s\n", err);
	printf("ok 2 %s works after fuzzing\n", bdf);
	return failures ? 1 : 0;
}
