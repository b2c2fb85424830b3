// SPDX-License-Identifier: GPL-2.0-only
/*
 * Measure how fast read() of a BAR region goes: 4 KiB preads at offset 0
 * of region INDEX of the device named by $VFIO_SELFTESTS_BDF, repeated for
 * about SECONDS seconds.  Prints one line, reads per second and MiB/s, for
 * comparing builds of the driver by hand; it asserts nothing, since the
 * figures depend on the machine.
 *
 *	vfio_pci_bar_rate_test INDEX [SECONDS]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vfio_pci_util.h"

#define CHUNK	4096

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char err[VFIO_UTIL_ERRLEN] = "";
	struct vfio_region_info info;
	static char buf[CHUNK];
	struct vfio_pci_dev dev;
	double secs = 3, start, elapsed;
	unsigned long reads = 0;
	const char *bdf;
	unsigned int index;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s INDEX [SECONDS]\n", argv[0]);
		return 2;
	}
	index = strtoul(argv[1], NULL, 0);
	if (argc == 3)
		secs = strtod(argv[2], NULL);
	bdf = vfio_selftests_bdf();
	if (!bdf) {
		fprintf(stderr, "%s is not set\n", VFIO_SELFTESTS_BDF_ENV);
		return 2;
	}
	if (vfio_pci_dev_open(&dev, bdf, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (vfio_region_info(dev.device_fd, index, &info) ||
	    info.size < CHUNK) {
		fprintf(stderr, "%s: region %u smaller than %d bytes\n", bdf,
			index, CHUNK);
		vfio_pci_dev_close(&dev);
		return 1;
	}

	start = now();
	do {
		if (vfio_region_read(&dev, index, 0, buf, CHUNK) != CHUNK) {
			fprintf(stderr, "%s: read: %s\n", bdf, strerror(errno));
			vfio_pci_dev_close(&dev);
			return 1;
		}
		reads++;
		elapsed = now() - start;
	} while (elapsed < secs);

	printf("%s region %u: %lu reads of %d bytes in %.2f s: %.0f reads/s, %.2f MiB/s\n",
	       bdf, index, reads, CHUNK, elapsed, reads / elapsed,
	       reads * (double)CHUNK / elapsed / (1 << 20));
	vfio_pci_dev_close(&dev);
	return 0;
}
