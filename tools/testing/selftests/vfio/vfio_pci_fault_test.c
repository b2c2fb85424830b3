// SPDX-License-Identifier: GPL-2.0-only
/*
 * The user side of the fault scenarios in harness/tests/7x-*.sh: a device
 * holder that the scripts hot-unplug, unbind, rmmod or kill under, and a
 * reset-versus-mmap-fault race.
 *
 *   vfio_pci_fault_test hold [--req] [--busy] [--irq]
 *	Open $VFIO_SELFTESTS_BDF, map every mmap-able BAR, print "ready"
 *	and wait.  --req: register a REQ eventfd and release the device (close
 *	everything, print "released on request", exit 0) when the kernel asks
 *	for it back.  --busy: meanwhile keep two threads reading BARs, config
 *	space and device info and touching the mappings, so a kill lands
 *	mid-operation.  --irq: wire eventfds to MSI-X, else MSI, else INTx.
 *	Without --req the holder only lets go when it is killed.
 *
 *   vfio_pci_fault_test reset-race [SECONDS]
 *	Threads fault BAR pages in (and are zapped) while the main thread
 *	issues VFIO_DEVICE_RESET in a loop; then the device must pass the
 *	sanity check.  At least RACE_MIN resets must each zap pages faulted
 *	back in since the one before (the loop runs on for up to SECONDS
 *	more to get them).  A deadlock between the reset and the fault path
 *	shows up as this program never finishing (the script dumps stacks).
 *
 *   vfio_pci_fault_test sanity
 *	Only the sanity check (vfio_pci_sanity.h).
 *
 * Exit status 0 on success, 1 on failure, 2 on usage errors, 4 (kselftest's
 * skip) when the device cannot do what was asked (no reset, no mmap).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
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

#define NUM_BARS	(VFIO_PCI_BAR5_REGION_INDEX + 1)
#define MAP_MAX		(1024 * 1024)	/* map at most this much of a BAR */
#define RACE_THREADS	3
/*
 * Resets that must hit refaulted mappings.  A handful could all fall in
 * moments when no thread was faulting; under TCG even the slowest device
 * here (nvme) does several dozen in ten seconds.
 */
#define RACE_MIN	10

struct holder {
	struct vfio_pci_dev dev;
	void *map[NUM_BARS];
	size_t map_len[NUM_BARS];
	int irq_fd;
	atomic_bool stop;
	atomic_ulong faults;
	atomic_ulong sigbus;
	atomic_ulong ops;
};

static void map_bars(struct holder *h)
{
	struct vfio_region_info r;
	int i;

	for (i = 0; i < NUM_BARS; i++) {
		if (vfio_region_info(h->dev.device_fd, i, &r) ||
		    !(r.flags & VFIO_REGION_INFO_FLAG_MMAP) || r.size < 4096)
			continue;
		h->map_len[i] = r.size < MAP_MAX ? r.size : MAP_MAX;
		h->map[i] = mmap(NULL, h->map_len[i], PROT_READ | PROT_WRITE,
				 MAP_SHARED, h->dev.device_fd, r.offset);
		if (h->map[i] == MAP_FAILED) {
			h->map[i] = NULL;
			h->map_len[i] = 0;
		}
	}
}

/* Read one word from every mapped page, counting SIGBUS as an outcome. */
static void touch_maps(struct holder *h, unsigned int seed)
{
	uint32_t *p;
	size_t off;
	int i;

	for (i = 0; i < NUM_BARS; i++) {
		if (!h->map[i])
			continue;
		off = ((size_t)rand_r(&seed) % h->map_len[i]) & ~(size_t)3;
		p = (uint32_t *)((uint8_t *)h->map[i] + off);
		vfio_sigbus_arm(true);
		if (sigsetjmp(vfio_sigbus_jmp, 1))
			atomic_fetch_add(&h->sigbus, 1);
		else	/* atomic: a real load, every time */
			(void)__atomic_load_n(p, __ATOMIC_RELAXED);
		vfio_sigbus_arm(false);
		atomic_fetch_add(&h->faults, 1);
	}
}

static void unmap_bars(struct holder *h)
{
	int i;

	for (i = 0; i < NUM_BARS; i++)
		if (h->map[i])
			munmap(h->map[i], h->map_len[i]);
	memset(h->map, 0, sizeof(h->map));
}

static void *busy_thread(void *arg)
{
	struct holder *h = arg;
	struct vfio_device_info info;
	unsigned int seed = (unsigned int)(uintptr_t)&info;
	uint8_t buf[64];

	while (!atomic_load(&h->stop)) {
		info.argsz = sizeof(info);
		ioctl(h->dev.device_fd, VFIO_DEVICE_GET_INFO, &info);
		vfio_region_read(&h->dev, VFIO_PCI_CONFIG_REGION_INDEX, 0,
				 buf, sizeof(buf));
		vfio_region_read(&h->dev, VFIO_PCI_BAR0_REGION_INDEX, 0, buf, 4);
		touch_maps(h, seed++);
		atomic_fetch_add(&h->ops, 1);
	}
	return NULL;
}

static int set_eventfd(struct holder *h, uint32_t index, int fd)
{
	struct {
		struct vfio_irq_set set;
		int32_t fd;
	} s = {
		.set = {
			.argsz = sizeof(s),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD |
				 VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = index,
			.count = 1,
		},
		.fd = fd,
	};

	return ioctl(h->dev.device_fd, VFIO_DEVICE_SET_IRQS, &s);
}

static void wire_irq(struct holder *h)
{
	static const uint32_t order[] = { VFIO_PCI_MSIX_IRQ_INDEX,
					  VFIO_PCI_MSI_IRQ_INDEX,
					  VFIO_PCI_INTX_IRQ_INDEX };
	struct vfio_irq_info info;
	unsigned int i;

	h->irq_fd = eventfd(0, EFD_CLOEXEC);
	for (i = 0; i < 3; i++) {
		if (vfio_irq_info(h->dev.device_fd, order[i], &info) ||
		    !info.count)
			continue;
		if (!set_eventfd(h, order[i], h->irq_fd)) {
			printf("# irq index %u wired\n", order[i]);
			return;
		}
	}
	printf("# no IRQ could be wired\n");
}

static int do_hold(const char *bdf, int argc, char **argv)
{
	static struct holder h;
	char err[VFIO_UTIL_ERRLEN];
	bool req = false, busy = false, irq = false;
	pthread_t tid[2];
	struct pollfd pfd;
	uint64_t cnt;
	int i, nthreads = 0;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--req"))
			req = true;
		else if (!strcmp(argv[i], "--busy"))
			busy = true;
		else if (!strcmp(argv[i], "--irq"))
			irq = true;
		else
			return 2;
	}
	if (vfio_pci_dev_open(&h.dev, bdf, err, sizeof(err))) {
		printf("hold: open %s: %s\n", bdf, err);
		return 1;
	}
	vfio_sigbus_catch();
	map_bars(&h);
	touch_maps(&h, 1);
	if (irq)
		wire_irq(&h);
	pfd.fd = -1;
	pfd.events = POLLIN;
	if (req) {
		pfd.fd = eventfd(0, EFD_CLOEXEC);
		if (set_eventfd(&h, VFIO_PCI_REQ_IRQ_INDEX, pfd.fd)) {
			printf("hold: REQ eventfd: %s\n", strerror(errno));
			return 1;
		}
	}
	for (i = 0; busy && i < 2; i++)
		if (!pthread_create(&tid[i], NULL, busy_thread, &h))
			nthreads++;
	printf("ready\n");
	fflush(stdout);

	/* Without --req this only ends by a signal. */
	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	if (read(pfd.fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return 1;
	atomic_store(&h.stop, true);
	for (i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	unmap_bars(&h);
	vfio_pci_dev_close(&h.dev);
	printf("released on request (%lu busy loops, %lu faults, %lu SIGBUS)\n",
	       atomic_load(&h.ops), atomic_load(&h.faults),
	       atomic_load(&h.sigbus));
	return 0;
}

static void *fault_thread(void *arg)
{
	struct holder *h = arg;
	unsigned int seed = (unsigned int)(uintptr_t)&seed;

	while (!atomic_load(&h->stop))
		touch_maps(h, seed++);
	return NULL;
}

static int do_reset_race(const char *bdf, int argc, char **argv)
{
	static struct holder h;
	char err[VFIO_UTIL_ERRLEN];
	unsigned int seconds = argc > 0 ? strtoul(argv[0], NULL, 0) : 10;
	unsigned long resets = 0, failed = 0, raced = 0, seen = 0, now;
	pthread_t tid[RACE_THREADS];
	int i, nthreads = 0, mapped = 0;
	time_t end;

	if (vfio_pci_dev_open(&h.dev, bdf, err, sizeof(err))) {
		printf("not ok 1 open %s: %s\n", bdf, err);
		return 1;
	}
	if (!(h.dev.info.flags & VFIO_DEVICE_FLAGS_RESET)) {
		printf("ok 1 # SKIP %s cannot be reset\n", bdf);
		vfio_pci_dev_close(&h.dev);
		return 4;
	}
	vfio_sigbus_catch();
	map_bars(&h);
	for (i = 0; i < NUM_BARS; i++)
		mapped += !!h.map[i];
	if (!mapped) {
		printf("ok 1 # SKIP %s has no mmap-able BAR\n", bdf);
		vfio_pci_dev_close(&h.dev);
		return 4;
	}
	for (i = 0; i < RACE_THREADS; i++)
		if (!pthread_create(&tid[i], NULL, fault_thread, &h))
			nthreads++;
	end = time(NULL) + seconds;
	/* Past the budget only while too few resets raced, and not for long. */
	while (time(NULL) < end ||
	       (raced < RACE_MIN && time(NULL) < end + (time_t)seconds)) {
		/* Touches since the last reset mean refaulted pages to zap. */
		now = atomic_load(&h.faults);
		if (ioctl(h.dev.device_fd, VFIO_DEVICE_RESET)) {
			failed++;
		} else {
			raced += now != seen;
			seen = now;
		}
		resets++;
	}
	atomic_store(&h.stop, true);
	for (i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	unmap_bars(&h);
	vfio_pci_dev_close(&h.dev);
	printf("# %lu resets (%lu failed, %lu on refaulted pages), ",
	       resets, failed, raced);
	printf("%lu faults, %lu SIGBUS, %d threads\n",
	       atomic_load(&h.faults), atomic_load(&h.sigbus), nthreads);
	/* A busy reset may be refused (EAGAIN); most of them may not. */
	printf("%s 1 at least %d resets went through on refaulted pages\n",
	       raced >= RACE_MIN ? "ok" : "not ok", RACE_MIN);
	if (vfio_pci_sanity_check(bdf, err, sizeof(err))) {
		printf("not ok 2 sanity after the race: %s\n", err);
		return 1;
	}
	printf("ok 2 sanity after the race: %s\n", err);
	return raced >= RACE_MIN ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *bdf = vfio_selftests_bdf();
	char msg[VFIO_UTIL_ERRLEN];
	int rc = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!bdf) {
		printf("# SKIP: %s is not set\n", VFIO_SELFTESTS_BDF_ENV);
		return 4;
	}
	if (argc >= 2 && !strcmp(argv[1], "hold")) {
		rc = do_hold(bdf, argc - 2, argv + 2);
	} else if (argc >= 2 && !strcmp(argv[1], "reset-race")) {
		rc = do_reset_race(bdf, argc - 2, argv + 2);
	} else if (argc == 2 && !strcmp(argv[1], "sanity")) {
		rc = vfio_pci_sanity_check(bdf, msg, sizeof(msg)) ? 1 : 0;
		printf("%s sanity: %s\n", rc ? "not ok" : "ok", msg);
	}
	if (rc == 2)
		fprintf(stderr, "usage: %s hold [--req] [--busy] [--irq] | %s\n",
			argv[0], "reset-race [SECONDS] | sanity");
	return rc;
}
