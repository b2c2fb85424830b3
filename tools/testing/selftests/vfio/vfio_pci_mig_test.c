// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO migration v2 end to end, through the uAPI only: the device
 * feature VFIO_DEVICE_FEATURE_MIGRATION, the state machine of
 * VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE and its data transfer fds, as
 * include/uapi/linux/vfio.h defines them.  Written for mlx5-vfio-pci on
 * the mlx5_core model of harness/tests/81-mlx5-migration.sh, but nothing
 * here knows more of the driver than the stream framing of
 * <linux/mlx5/vfio_pci.h>, which the record tests rely on.
 *
 * Each test is small and selectable (-t NAME), so that a VM script can
 * run them one at a time and change the firmware model between them.
 *
 * Environment:
 *   VFIO_SELFTESTS_BDF     the source device (every test)
 *   VFIO_MIG_TARGET_BDF    the target device (the tests that load a stream)
 *   VFIO_MIG_EXPECT_FLAGS  the migration flags the device must report:
 *                          a comma list of stop_copy, p2p, pre_copy, or
 *                          "none" for a device without migration (the
 *                          feature then fails with ENOTTY); default all
 *                          three
 *   VFIO_MIG_SEGMENTS      how the target's stream is written, a comma
 *                          list: "whole", a size in bytes, "odd" (sizes
 *                          1, 3, 7, ... 65537 in turn) and "page" (small
 *                          writes across every 4 KiB boundary of the
 *                          stream); default "whole,1,odd,page,4097"
 *   VFIO_MIG_HOOK          a command run as "HOOK POINT LABEL" at points
 *                          where a script may look at or change the
 *                          device: source-saved (the source in STOP after
 *                          a complete save), target-loaded (the target in
 *                          STOP after a load), precopy-idle (precopy_end:
 *                          the pre-copy reached its temporary end; the
 *                          hook must change the device's state), fault-arm
 *                          and fault-disarm (around the failing step of
 *                          fault_arc).  It must exit 0.
 *   VFIO_MIG_FAULT_FROM, VFIO_MIG_FAULT_TO, VFIO_MIG_FAULT_ERRNOS,
 *   VFIO_MIG_FAULT_EXPECT_ERROR
 *                          the failing arc of fault_arc, see there
 *
 * "vfio_pci_mig_test hold STATE [BYTES]" is not a test: it moves the
 * source to STATE, reads BYTES of its stream, prints "ready" and waits for
 * a line (or EOF) on stdin, then reports what the data fd and the state
 * machine answer and exits.  The VM script uses it to pull the device
 * from under a migration.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

#define TARGET_ENV	"VFIO_MIG_TARGET_BDF"
#define ALL_FLAGS	(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | \
			 VFIO_MIGRATION_PRE_COPY)
#define STREAM_PAGE	4096
/* Give up on a pre-copy that makes no progress after this many tries. */
#define NO_DATA_TRIES	500
/* Target values past the last state that a request may carry. */
static const uint32_t bad_states[] = {
	VFIO_DEVICE_STATE_NR, VFIO_DEVICE_STATE_NR + 1, 0x7fffffff, 0xffffffff,
};

/*
 * The stream framing of <linux/mlx5/vfio_pci.h> (a kernel header, not
 * usable from here): records, each a little-endian header and
 * record_size bytes of payload.
 */
struct mig_record_header {
	uint64_t record_size;
	uint32_t flags;
	uint32_t tag;
};

static_assert(sizeof(struct mig_record_header) == 16, "no padding");
#define REC_FLAG_OPTIONAL	1u
#define REC_TAG_FW_IMAGE	0u
#define REC_TAG_STOP_COPY_SIZE	1u
/* A tag no driver knows. */
#define REC_TAG_UNKNOWN		0x5a17c0deu

struct mig_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

static int buf_add(struct mig_buf *b, const void *p, size_t n)
{
	uint8_t *d;
	size_t cap;

	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 65536;
		while (cap < b->len + n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static void buf_free(struct mig_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static bool is_saving(uint32_t s)
{
	return s == VFIO_DEVICE_STATE_PRE_COPY ||
	       s == VFIO_DEVICE_STATE_PRE_COPY_P2P ||
	       s == VFIO_DEVICE_STATE_STOP_COPY;
}

/* Is @s a state the device offers, with its migration @flags? */
static bool state_supported(uint64_t flags, uint32_t s)
{
	switch (s) {
	case VFIO_DEVICE_STATE_RUNNING:
		return true;
	case VFIO_DEVICE_STATE_STOP:
	case VFIO_DEVICE_STATE_STOP_COPY:
	case VFIO_DEVICE_STATE_RESUMING:
		return flags & VFIO_MIGRATION_STOP_COPY;
	case VFIO_DEVICE_STATE_RUNNING_P2P:
		return flags & VFIO_MIGRATION_P2P;
	case VFIO_DEVICE_STATE_PRE_COPY:
		return flags & VFIO_MIGRATION_PRE_COPY;
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		return (flags & VFIO_MIGRATION_P2P) &&
		       (flags & VFIO_MIGRATION_PRE_COPY);
	default:
		/* ERROR is never a target, and nothing past the enum is. */
		return false;
	}
}

/*
 * May SET_STATE move from @from to @to?  Any supported state reaches any
 * other through the arcs of the uAPI, combined, except that ERROR is left
 * only by a reset and STOP_COPY -> PRE_COPY(_P2P) "are not permitted".
 */
static bool arc_valid(uint64_t flags, uint32_t from, uint32_t to)
{
	if (from == VFIO_DEVICE_STATE_ERROR || !state_supported(flags, to))
		return false;
	if (from == VFIO_DEVICE_STATE_STOP_COPY &&
	    (to == VFIO_DEVICE_STATE_PRE_COPY ||
	     to == VFIO_DEVICE_STATE_PRE_COPY_P2P))
		return false;
	return true;
}

/*
 * Does a successful @from -> @to start a data transfer session (return a
 * new fd)?  Entering the saving group from outside it does, and entering
 * RESUMING; moving inside the saving group keeps the session's fd.
 */
static bool arc_opens_fd(uint32_t from, uint32_t to)
{
	if (is_saving(to))
		return !is_saving(from);
	return to == VFIO_DEVICE_STATE_RESUMING &&
	       from != VFIO_DEVICE_STATE_RESUMING;
}

static uint64_t expected_flags(bool *none)
{
	const char *v = getenv("VFIO_MIG_EXPECT_FLAGS");
	char *copy, *tok, *save = NULL;
	uint64_t flags = 0;

	*none = false;
	if (!v || !*v)
		return ALL_FLAGS;
	if (!strcmp(v, "none")) {
		*none = true;
		return 0;
	}
	copy = strdup(v);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "stop_copy"))
			flags |= VFIO_MIGRATION_STOP_COPY;
		else if (!strcmp(tok, "p2p"))
			flags |= VFIO_MIGRATION_P2P;
		else if (!strcmp(tok, "pre_copy"))
			flags |= VFIO_MIGRATION_PRE_COPY;
		else
			flags |= 1ull << 63;	/* never reported: fails */
	}
	free(copy);
	return flags;
}

/* Run $VFIO_MIG_HOOK POINT LABEL; 0 when there is none or it succeeded. */
static int run_hook(const char *point, const char *label)
{
	const char *hook = getenv("VFIO_MIG_HOOK");
	char *cmd;
	int rc;

	if (!hook || !*hook)
		return 0;
	if (asprintf(&cmd, "%s %s %s", hook, point, label) < 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	rc = system(cmd);
	free(cmd);
	return rc;
}

static uint32_t state_of(int device_fd)
{
	uint32_t s;

	if (vfio_mig_state_get(device_fd, &s))
		return ~0u;
	return s;
}

/* Request @to; the arc must succeed, with a new fd or without one. */
static int set_ok(struct __test_metadata *_metadata, int device_fd,
		  uint32_t to, bool want_fd)
{
	uint32_t from = state_of(device_fd);
	int dfd, ret;

	ret = vfio_mig_state_set(device_fd, to, &dfd);
	EXPECT_EQ(0, ret) TH_LOG("%s -> %s: %s", vfio_mig_state_name(from),
				 vfio_mig_state_name(to), strerror(-ret));
	if (ret)
		return -1;
	EXPECT_EQ(to, state_of(device_fd));
	if (want_fd) {
		EXPECT_LE(0, dfd) TH_LOG("%s -> %s returned no data fd",
					 vfio_mig_state_name(from),
					 vfio_mig_state_name(to));
	} else {
		EXPECT_EQ(-1, dfd) TH_LOG("%s -> %s returned fd %d",
					  vfio_mig_state_name(from),
					  vfio_mig_state_name(to), dfd);
		if (dfd >= 0)
			close(dfd);
		dfd = -1;
	}
	return dfd;
}

static void reset_running(struct __test_metadata *_metadata, int device_fd)
{
	ASSERT_EQ(0, ioctl(device_fd, VFIO_DEVICE_RESET))
		TH_LOG("VFIO_DEVICE_RESET: %s", strerror(errno));
	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, state_of(device_fd))
		TH_LOG("after reset: %s",
		       vfio_mig_state_name(state_of(device_fd)));
}

static int precopy_info(int dfd, struct vfio_precopy_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return ioctl(dfd, VFIO_MIG_GET_PRECOPY_INFO, info) ? -errno : 0;
}

/*
 * Read the rest of a STOP_COPY stream into @out: read() ends it with 0,
 * never with ENOMSG, and once at the end it stays there and polls
 * readable.
 */
static void read_to_eof(struct __test_metadata *_metadata, int dfd,
			struct mig_buf *out)
{
	struct pollfd pfd = { .fd = dfd, .events = POLLIN };
	static uint8_t chunk[65536];
	ssize_t n;

	for (;;) {
		n = read(dfd, chunk, sizeof(chunk));
		ASSERT_LE(0, n) TH_LOG("read in STOP_COPY at %zu: %s",
				       out->len, strerror(errno));
		if (!n)
			break;
		ASSERT_EQ(0, buf_add(out, chunk, n));
	}
	EXPECT_EQ(0, read(dfd, chunk, 1));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLIN);
}

/*
 * QEMU's order: RUNNING -> PRE_COPY, read while PRECOPY_INFO reports
 * initial bytes, -> PRE_COPY_P2P -> STOP_COPY on the same fd, read to the
 * end, -> STOP.  Returns the bytes read before STOP_COPY in *pre.
 */
static void save_precopy(struct __test_metadata *_metadata, int device_fd,
			 struct mig_buf *out, size_t *pre)
{
	struct vfio_precopy_info info;
	static uint8_t chunk[16384];
	uint64_t last = ~0ull, first = 0, dirty = 0;
	int dfd, tries = 0, ret;
	ssize_t n;

	ASSERT_EQ(VFIO_DEVICE_STATE_RUNNING, state_of(device_fd));
	dfd = set_ok(_metadata, device_fd, VFIO_DEVICE_STATE_PRE_COPY, true);
	ASSERT_LE(0, dfd);
	for (;;) {
		ret = precopy_info(dfd, &info);
		ASSERT_EQ(0, ret) TH_LOG("PRECOPY_INFO in PRE_COPY: %s",
					 strerror(-ret));
		if (last == ~0ull) {
			first = info.initial_bytes;
			EXPECT_NE(0, first) TH_LOG("initial_bytes starts at 0");
		}
		if (info.dirty_bytes > dirty)
			dirty = info.dirty_bytes;
		ASSERT_LE(info.initial_bytes, last)
			TH_LOG("initial_bytes grew from %llu to %llu",
			       (unsigned long long)last,
			       (unsigned long long)info.initial_bytes);
		last = info.initial_bytes;
		if (!info.initial_bytes)
			break;
		n = read(dfd, chunk, sizeof(chunk));
		if (n < 0 && errno == ENOMSG) {
			/* No data right now: wait a little, ask again. */
			ASSERT_GT(NO_DATA_TRIES, ++tries)
				TH_LOG("ENOMSG with %llu initial bytes left",
				       (unsigned long long)last);
			usleep(10000);
			continue;
		}
		ASSERT_LT(0, n) TH_LOG("read in PRE_COPY: %zd (%s)", n,
				       n ? strerror(errno) : "end of file");
		ASSERT_EQ(0, buf_add(out, chunk, n));
	}
	*pre = out->len;
	printf("# pre-copy: initial_bytes %llu at first, dirty_bytes up to %llu, ",
	       (unsigned long long)first, (unsigned long long)dirty);
	printf("%d ENOMSG answers\n", tries);
	/* In PRE_COPY_P2P the info still works; STOP_COPY keeps the fd. */
	ASSERT_GT(0, set_ok(_metadata, device_fd,
			    VFIO_DEVICE_STATE_PRE_COPY_P2P, false));
	EXPECT_EQ(0, precopy_info(dfd, &info));
	ASSERT_GT(0, set_ok(_metadata, device_fd,
			    VFIO_DEVICE_STATE_STOP_COPY, false));
	EXPECT_EQ(-EINVAL, precopy_info(dfd, &info));
	read_to_eof(_metadata, dfd, out);
	ASSERT_GT(0, set_ok(_metadata, device_fd, VFIO_DEVICE_STATE_STOP,
			    false));
	close(dfd);
}

/* From RUNNING or STOP: -> STOP_COPY (new fd), read to the end, -> STOP. */
static void save_stop_copy(struct __test_metadata *_metadata, int device_fd,
			   struct mig_buf *out)
{
	int dfd;

	dfd = set_ok(_metadata, device_fd, VFIO_DEVICE_STATE_STOP_COPY, true);
	ASSERT_LE(0, dfd);
	read_to_eof(_metadata, dfd, out);
	ASSERT_GT(0, set_ok(_metadata, device_fd, VFIO_DEVICE_STATE_STOP,
			    false));
	close(dfd);
}

/*
 * Check the stream's framing: whole records with known tags, at least one
 * firmware image.  Returns the offset of the last record, or -1.
 */
static long check_records(struct __test_metadata *_metadata,
			  const struct mig_buf *s, bool verbose)
{
	struct mig_record_header h;
	size_t off = 0, images = 0;
	long last = -1;
	uint64_t size;

	while (off < s->len) {
		EXPECT_LE(off + sizeof(h), s->len)
			TH_LOG("stream ends inside a header at %zu", off);
		if (off + sizeof(h) > s->len)
			return -1;
		memcpy(&h, s->data + off, sizeof(h));
		size = le64toh(h.record_size);
		EXPECT_LE(size, s->len - off - sizeof(h))
			TH_LOG("record at %zu: %llu bytes, stream ends first",
			       off, (unsigned long long)size);
		if (size > s->len - off - sizeof(h))
			return -1;
		if (verbose)
			printf("#   record at %zu: tag %u flags %#x, %llu bytes\n",
			       off, le32toh(h.tag), le32toh(h.flags),
			       (unsigned long long)size);
		switch (le32toh(h.tag)) {
		case REC_TAG_FW_IMAGE:
			images++;
			break;
		case REC_TAG_STOP_COPY_SIZE:
			EXPECT_EQ(8, size);
			break;
		default:
			EXPECT_TRUE(le32toh(h.flags) & REC_FLAG_OPTIONAL)
				TH_LOG("unknown mandatory tag %u at %zu",
				       le32toh(h.tag), off);
		}
		last = off;
		off += sizeof(h) + size;
	}
	EXPECT_LT(0, images) TH_LOG("no firmware image in the stream");
	return last;
}

/* The next write size of segmentation @seg at stream offset @off. */
static size_t seg_len(const char *seg, size_t off, unsigned int i,
		      size_t left)
{
	static const size_t odd[] = { 1, 3, 7, 13, 31, 509, 4093, 4099,
				      65537 };
	size_t n, in_page;

	if (!strcmp(seg, "whole")) {
		n = left;
	} else if (!strcmp(seg, "odd")) {
		n = odd[i % (ARRAY_SIZE(odd))];
	} else if (!strcmp(seg, "page")) {
		/* Up to 5 bytes short of a boundary, then 10 across it. */
		in_page = off % STREAM_PAGE;
		n = in_page < STREAM_PAGE - 5 ? STREAM_PAGE - 5 - in_page : 10;
	} else {
		n = strtoul(seg, NULL, 0);
		if (!n)
			n = left;
	}
	return n < left ? n : left;
}

/*
 * Write @len bytes of @data to a RESUMING fd as @seg says, from a user
 * buffer that starts 3 bytes short of a page boundary.  Returns 0, or
 * -errno of the first write that failed.
 */
static int write_stream(int dfd, const uint8_t *data, size_t len,
			const char *seg)
{
	size_t off = 0, n, map_len;
	unsigned int i = 0;
	uint8_t *map, *src;
	ssize_t w;
	int ret = 0;

	map_len = (len + 2 * STREAM_PAGE) & ~(size_t)(STREAM_PAGE - 1);
	map = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return -ENOMEM;
	src = map + STREAM_PAGE - 3;
	memcpy(src, data, len);
	while (off < len) {
		n = seg_len(seg, off, i++, len - off);
		w = write(dfd, src + off, n);
		if (w < 0) {
			ret = -errno;
			break;
		}
		if (w == 0 || (size_t)w > n) {
			ret = -EPROTO;	/* not something write() may do */
			break;
		}
		off += w;
	}
	munmap(map, map_len);
	return ret;
}

/*
 * Load @len bytes into @device_fd: -> RESUMING (new fd), write as @seg
 * says, -> STOP; the target-loaded hook sees it there; -> RUNNING.
 */
static void load_ok(struct __test_metadata *_metadata, int device_fd,
		    const uint8_t *data, size_t len, const char *seg,
		    const char *label)
{
	int dfd, ret;

	dfd = set_ok(_metadata, device_fd, VFIO_DEVICE_STATE_RESUMING, true);
	ASSERT_LE(0, dfd);
	ret = write_stream(dfd, data, len, seg);
	ASSERT_EQ(0, ret) TH_LOG("%s: writing %zu bytes (%s): %s", label,
				 len, seg, strerror(-ret));
	ASSERT_GT(0, set_ok(_metadata, device_fd, VFIO_DEVICE_STATE_STOP,
			    false)) TH_LOG("%s: the load failed", label);
	ASSERT_EQ(0, run_hook("target-loaded", label));
	close(dfd);
	ASSERT_GT(0, set_ok(_metadata, device_fd, VFIO_DEVICE_STATE_RUNNING,
			    false));
}

FIXTURE(mig) {
	struct vfio_pci_dev src;
	struct vfio_pci_dev dst;
	bool have_dst;
	uint64_t flags;
};

FIXTURE_SETUP(mig)
{
	const char *target = getenv(TARGET_ENV);
	char err[VFIO_UTIL_ERRLEN];
	struct vfio_device_feature_migration m;

	self->dst.device_fd = -1;
	ASSERT_EQ(0, vfio_pci_dev_open(&self->src, vfio_selftests_bdf(), err,
				       sizeof(err))) TH_LOG("%s", err);
	if (target && *target) {
		ASSERT_EQ(0, vfio_pci_dev_open(&self->dst, target, err,
					       sizeof(err)))
			TH_LOG("target: %s", err);
		self->have_dst = true;
	}
	if (!vfio_device_feature_get(self->src.device_fd,
				     VFIO_DEVICE_FEATURE_MIGRATION, &m,
				     sizeof(m)))
		self->flags = m.flags;
}

FIXTURE_TEARDOWN(mig)
{
	vfio_pci_dev_close(&self->src);
	if (self->have_dst)
		vfio_pci_dev_close(&self->dst);
}

static void need_target(struct __test_metadata *_metadata, bool have)
{
	ASSERT_TRUE(have) TH_LOG("set " TARGET_ENV);
}

/* Migration at all (STOP_COPY), or with every optional state too. */
static void need_migration(struct __test_metadata *_metadata,
			   uint64_t flags)
{
	ASSERT_TRUE(flags & VFIO_MIGRATION_STOP_COPY)
		TH_LOG("migration flags %#llx", (unsigned long long)flags);
}

static void need_all_states(struct __test_metadata *_metadata,
			    uint64_t flags)
{
	ASSERT_EQ(ALL_FLAGS, flags & ALL_FLAGS)
		TH_LOG("migration flags %#llx: this case needs P2P and PRE_COPY",
		       (unsigned long long)flags);
}

/*
 * The migration features as the device reports them: the flags the
 * script expects (or, for a device without migration, ENOTTY from every
 * migration feature), the current state, and a stop-copy size estimate.
 */
TEST_F(mig, probe)
{
	struct vfio_device_feature_mig_data_size size = { 0 };
	struct vfio_device_feature_migration m = { 0 };
	int fd = self->src.device_fd, ret;
	bool none;
	uint64_t want = expected_flags(&none);
	uint32_t s;

	ret = vfio_device_feature_get(fd, VFIO_DEVICE_FEATURE_MIGRATION, &m,
				      sizeof(m));
	if (none) {
		EXPECT_EQ(-ENOTTY, ret);
		EXPECT_EQ(-ENOTTY, vfio_mig_state_get(fd, &s));
		EXPECT_EQ(-ENOTTY,
			  vfio_device_feature_get(fd,
						  VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
						  &size, sizeof(size)));
		printf("# %s: no migration (%s)\n", self->src.bdf,
		       strerror(-ret));
		return;
	}
	ASSERT_EQ(0, ret) TH_LOG("FEATURE_MIGRATION: %s", strerror(-ret));
	printf("# %s: migration flags %#llx\n", self->src.bdf,
	       (unsigned long long)m.flags);
	EXPECT_EQ(want, m.flags);
	/* PROBE answers for GET; the feature cannot be set. */
	EXPECT_EQ(0, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_PROBE |
					 VFIO_DEVICE_FEATURE_GET |
					 VFIO_DEVICE_FEATURE_MIGRATION,
					 NULL, 0));
	EXPECT_EQ(-EINVAL, vfio_device_feature(fd, VFIO_DEVICE_FEATURE_SET |
					       VFIO_DEVICE_FEATURE_MIGRATION,
					       &m, sizeof(m)));
	ASSERT_EQ(0, vfio_mig_state_get(fd, &s));
	EXPECT_EQ(VFIO_DEVICE_STATE_RUNNING, s);
	ret = vfio_device_feature_get(fd, VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
				      &size, sizeof(size));
	ASSERT_EQ(0, ret) TH_LOG("MIG_DATA_SIZE: %s", strerror(-ret));
	printf("# stop-copy size estimate %llu\n",
	       (unsigned long long)size.stop_copy_length);
	EXPECT_LT(0, size.stop_copy_length);
}

/*
 * QEMU's sequence, pre-copy then stop-copy, and the stream loaded into
 * the target once for each write segmentation of VFIO_MIG_SEGMENTS.
 */
TEST_F_TIMEOUT(mig, migrate, 600)
{
	const char *segs = getenv("VFIO_MIG_SEGMENTS");
	struct mig_buf s = { 0 };
	char *copy, *seg, *save = NULL, label[64];
	size_t pre = 0;

	need_all_states(_metadata, self->flags);
	need_target(_metadata, self->have_dst);
	save_precopy(_metadata, self->src.device_fd, &s, &pre);
	printf("# saved %zu bytes: %zu in pre-copy, %zu in stop-copy\n",
	       s.len, pre, s.len - pre);
	check_records(_metadata, &s, true);
	ASSERT_EQ(0, run_hook("source-saved", "precopy"));

	copy = strdup(segs && *segs ? segs : "whole,1,odd,page,4097");
	for (seg = strtok_r(copy, ",", &save); seg;
	     seg = strtok_r(NULL, ",", &save)) {
		snprintf(label, sizeof(label), "precopy-%s", seg);
		load_ok(_metadata, self->dst.device_fd, s.data, s.len, seg,
			label);
		printf("# loaded %zu bytes written as '%s'\n", s.len, seg);
	}
	free(copy);
	ASSERT_GT(0, set_ok(_metadata, self->src.device_fd,
			    VFIO_DEVICE_STATE_RUNNING, false));
	buf_free(&s);
}

/* Without pre-copy: RUNNING -> STOP_COPY directly, then the load. */
TEST_F_TIMEOUT(mig, migrate_stop_copy, 300)
{
	struct mig_buf s = { 0 };

	need_migration(_metadata, self->flags);
	need_target(_metadata, self->have_dst);
	save_stop_copy(_metadata, self->src.device_fd, &s);
	printf("# saved %zu bytes in stop-copy\n", s.len);
	check_records(_metadata, &s, true);
	ASSERT_EQ(0, run_hook("source-saved", "stopcopy"));
	load_ok(_metadata, self->dst.device_fd, s.data, s.len, "whole",
		"stopcopy");
	ASSERT_GT(0, set_ok(_metadata, self->src.device_fd,
			    VFIO_DEVICE_STATE_RUNNING, false));
	buf_free(&s);
}

/*
 * The temporary end of a pre-copy, with the device held still by the
 * script: once initial_bytes and dirty_bytes are both 0, read() fails
 * with ENOMSG.  (The uAPI would let a driver report dirty bytes for an
 * idle device forever; ours must not, as a user waiting for the device
 * to settle would wait for ever.)
 * The precopy-idle hook then changes the device's state: the change
 * shows as dirty_bytes and comes out of the same fd, which polls
 * readable.
 */
TEST_F_TIMEOUT(mig, precopy_end, 300)
{
	struct pollfd pfd = { .events = POLLIN };
	int fd = self->src.device_fd, dfd, tries = 0, rounds = 0;
	struct vfio_precopy_info info;
	static uint8_t chunk[65536];
	size_t total = 0;
	ssize_t n;

	need_all_states(_metadata, self->flags);
	dfd = set_ok(_metadata, fd, VFIO_DEVICE_STATE_PRE_COPY, true);
	ASSERT_LE(0, dfd);
	for (;;) {
		ASSERT_EQ(0, precopy_info(dfd, &info));
		if (!info.initial_bytes && !info.dirty_bytes)
			break;
		/* Past the initial data, a still device should settle. */
		if (!info.initial_bytes && ++rounds > 50)
			break;
		n = read(dfd, chunk, sizeof(chunk));
		if (n < 0 && errno == ENOMSG) {
			ASSERT_GT(NO_DATA_TRIES, ++tries)
				TH_LOG("ENOMSG with %llu+%llu bytes to come",
				       (unsigned long long)info.initial_bytes,
				       (unsigned long long)info.dirty_bytes);
			usleep(10000);
			continue;
		}
		ASSERT_LT(0, n) TH_LOG("read in PRE_COPY: %s",
				       n ? strerror(errno) : "end of file");
		total += n;
	}
	/* A device held still has nothing left to send: ENOMSG. */
	ASSERT_EQ(0, info.dirty_bytes)
		TH_LOG("no temporary end: %d rounds on, %llu dirty bytes (%zu read)",
		       rounds - 1, (unsigned long long)info.dirty_bytes, total);
	printf("# %zu bytes to the temporary end\n", total);
	errno = 0;
	EXPECT_EQ(-1, read(dfd, chunk, sizeof(chunk)));
	EXPECT_EQ(ENOMSG, errno) TH_LOG("read at the end: %s",
					strerror(errno));

	ASSERT_EQ(0, run_hook("precopy-idle", "page"));
	ASSERT_EQ(0, precopy_info(dfd, &info));
	printf("# after the change: initial_bytes %llu, dirty_bytes %llu\n",
	       (unsigned long long)info.initial_bytes,
	       (unsigned long long)info.dirty_bytes);
	EXPECT_EQ(0, info.initial_bytes);
	EXPECT_LT(0, info.dirty_bytes);
	pfd.fd = dfd;
	EXPECT_EQ(1, poll(&pfd, 1, 5000));
	EXPECT_TRUE(pfd.revents & POLLIN);
	n = read(dfd, chunk, sizeof(chunk));
	EXPECT_LT(0, n) TH_LOG("read after the change: %s",
			       n ? strerror(errno) : "end of file");
	ASSERT_GT(0, set_ok(_metadata, fd, VFIO_DEVICE_STATE_RUNNING, false));
	close(dfd);
}

/*
 * Every request from every state: each valid one succeeds, lands in the
 * requested state and returns a data fd exactly when it starts a session;
 * each invalid one fails with EINVAL and leaves the state alone.  A reset
 * between cases, with the cases' fds still open, brings the device back
 * to RUNNING.  (ERROR as a source state is fault_arc's.)
 */
TEST_F_TIMEOUT(mig, state_pairs, 900)
{
	int fd = self->src.device_fd, dfd, dfd2, ret, bad = 0, cases = 0;
	uint32_t to[VFIO_DEVICE_STATE_NR + 4], from, t, now;
	struct mig_buf own = { 0 };
	unsigned int i, nto = 0;
	bool valid, got_fd;

	need_migration(_metadata, self->flags);
	for (t = 0; t < VFIO_DEVICE_STATE_NR; t++)
		to[nto++] = t;
	for (i = 0; i < ARRAY_SIZE(bad_states); i++)
		to[nto++] = bad_states[i];

	/* RESUMING is entered with a complete stream: the device's own. */
	save_stop_copy(_metadata, fd, &own);
	reset_running(_metadata, fd);

	for (from = VFIO_DEVICE_STATE_STOP; from < VFIO_DEVICE_STATE_NR;
	     from++) {
		/* A state the device lacks is only ever a target. */
		if (!state_supported(self->flags, from))
			continue;
		for (i = 0; i < nto; i++) {
			t = to[i];
			dfd = -1;
			if (from != VFIO_DEVICE_STATE_RUNNING) {
				ret = vfio_mig_state_set(fd, from, &dfd);
				ASSERT_EQ(0, ret)
					TH_LOG("running -> %s: %s",
					       vfio_mig_state_name(from),
					       strerror(-ret));
			}
			if (from == VFIO_DEVICE_STATE_RESUMING) {
				ASSERT_EQ(0, write_stream(dfd, own.data,
							  own.len, "whole"));
			}
			valid = arc_valid(self->flags, from, t);
			ret = vfio_mig_state_set(fd, t, &dfd2);
			now = state_of(fd);
			cases++;
			got_fd = dfd2 >= 0;
			if (valid && (ret || now != t ||
				      arc_opens_fd(from, t) != got_fd)) {
				bad++;
				TH_LOG("%s -> %s: %s, now %s, fd %d",
				       vfio_mig_state_name(from),
				       vfio_mig_state_name(t),
				       ret ? strerror(-ret) : "success",
				       vfio_mig_state_name(now), dfd2);
			} else if (!valid && (ret != -EINVAL || now != from ||
					      dfd2 != -1)) {
				bad++;
				TH_LOG("%s -> %s: %s (want EINVAL), now %s",
				       vfio_mig_state_name(from),
				       vfio_mig_state_name(t),
				       ret ? strerror(-ret) : "success",
				       vfio_mig_state_name(now));
			}
			reset_running(_metadata, fd);
			if (dfd >= 0)
				close(dfd);
			if (dfd2 >= 0)
				close(dfd2);
		}
	}
	printf("# %d requests, %d answered against the uAPI\n", cases, bad);
	EXPECT_EQ(0, bad);
	buf_free(&own);
}

/*
 * What the data fds allow: a save fd is not writable and a resume fd not
 * readable; PRECOPY_INFO works in the PRE_COPY states only; poll() says
 * readable while data or the end waits; once the session is over
 * (STOP_COPY -> STOP, PRE_COPY -> RUNNING) its fd reads nothing more.
 */
TEST_F_TIMEOUT(mig, data_fd_rules, 300)
{
	struct pollfd pfd = { .events = POLLIN };
	int fd = self->src.device_fd, dfd, rfd;
	struct vfio_precopy_info info;
	struct mig_buf s = { 0 };
	uint8_t b = 0;
	ssize_t n;

	need_all_states(_metadata, self->flags);
	dfd = set_ok(_metadata, fd, VFIO_DEVICE_STATE_PRE_COPY, true);
	ASSERT_LE(0, dfd);
	errno = 0;
	EXPECT_EQ(-1, write(dfd, &b, 1));
	EXPECT_TRUE(errno == EINVAL || errno == EBADF)
		TH_LOG("write on a save fd: %s", strerror(errno));
	printf("# write on a save fd: %s\n", strerror(errno));
	EXPECT_EQ(0, precopy_info(dfd, &info));
	EXPECT_LT(0, info.initial_bytes);
	pfd.fd = dfd;
	EXPECT_EQ(1, poll(&pfd, 1, 5000));
	EXPECT_TRUE(pfd.revents & POLLIN);
	/* Ending the session: PRE_COPY -> RUNNING. */
	ASSERT_GT(0, set_ok(_metadata, fd, VFIO_DEVICE_STATE_RUNNING, false));
	errno = 0;
	n = read(dfd, &b, 1);
	EXPECT_EQ(-1, n) TH_LOG("read after PRE_COPY -> RUNNING: %zd", n);
	printf("# read on a save fd whose session ended: %s\n",
	       strerror(errno));
	EXPECT_EQ(-EINVAL, precopy_info(dfd, &info));
	close(dfd);

	/* A stop-copy fd: no PRECOPY_INFO; readable, also at the end. */
	dfd = set_ok(_metadata, fd, VFIO_DEVICE_STATE_STOP_COPY, true);
	ASSERT_LE(0, dfd);
	EXPECT_EQ(-EINVAL, precopy_info(dfd, &info));
	pfd.fd = dfd;
	EXPECT_EQ(1, poll(&pfd, 1, 5000));
	EXPECT_TRUE(pfd.revents & POLLIN);
	read_to_eof(_metadata, dfd, &s);
	ASSERT_GT(0, set_ok(_metadata, fd, VFIO_DEVICE_STATE_STOP, false));
	errno = 0;
	n = read(dfd, &b, 1);
	EXPECT_EQ(-1, n) TH_LOG("read after STOP_COPY -> STOP: %zd", n);
	printf("# read on a save fd in STOP: %s\n", strerror(errno));
	close(dfd);

	/* A resume fd: not readable, no PRECOPY_INFO. */
	rfd = set_ok(_metadata, fd, VFIO_DEVICE_STATE_RESUMING, true);
	ASSERT_LE(0, rfd);
	errno = 0;
	EXPECT_EQ(-1, read(rfd, &b, 1));
	EXPECT_TRUE(errno == EINVAL || errno == EBADF)
		TH_LOG("read on a resume fd: %s", strerror(errno));
	printf("# read on a resume fd: %s\n", strerror(errno));
	n = precopy_info(rfd, &info);
	EXPECT_TRUE(n == -EINVAL || n == -ENOTTY)
		TH_LOG("PRECOPY_INFO on a resume fd: %s", strerror(-n));
	ASSERT_EQ(0, write_stream(rfd, s.data, s.len, "whole"));
	ASSERT_GT(0, set_ok(_metadata, fd, VFIO_DEVICE_STATE_STOP, false));
	errno = 0;
	EXPECT_EQ(-1, write(rfd, s.data, 1))
		TH_LOG("write after RESUMING -> STOP went through");
	printf("# write on a resume fd in STOP: %s\n", strerror(errno));
	close(rfd);
	reset_running(_metadata, fd);
	buf_free(&s);
}

/*
 * Closing a data fd in the middle of a save ends nothing else: the device
 * stays in its state, leaves it normally, and saves afresh.
 */
TEST_F_TIMEOUT(mig, close_mid_save, 300)
{
	int fd = self->src.device_fd, dfd;
	struct mig_buf s = { 0 };
	uint8_t chunk[64];

	need_all_states(_metadata, self->flags);
	need_target(_metadata, self->have_dst);
	dfd = set_ok(_metadata, fd, VFIO_DEVICE_STATE_PRE_COPY, true);
	ASSERT_LE(0, dfd);
	EXPECT_LT(0, read(dfd, chunk, sizeof(chunk)));
	close(dfd);
	EXPECT_EQ(VFIO_DEVICE_STATE_PRE_COPY, state_of(fd));
	ASSERT_GT(0, set_ok(_metadata, fd, VFIO_DEVICE_STATE_RUNNING, false));

	dfd = set_ok(_metadata, fd, VFIO_DEVICE_STATE_STOP_COPY, true);
	ASSERT_LE(0, dfd);
	EXPECT_LT(0, read(dfd, chunk, sizeof(chunk)));
	close(dfd);
	EXPECT_EQ(VFIO_DEVICE_STATE_STOP_COPY, state_of(fd));
	ASSERT_GT(0, set_ok(_metadata, fd, VFIO_DEVICE_STATE_STOP, false));

	save_stop_copy(_metadata, fd, &s);
	ASSERT_EQ(0, run_hook("source-saved", "after-close"));
	load_ok(_metadata, self->dst.device_fd, s.data, s.len, "whole",
		"after-close");
	ASSERT_GT(0, set_ok(_metadata, fd, VFIO_DEVICE_STATE_RUNNING, false));
	buf_free(&s);
}

struct reader {
	int fd;
	size_t size;			/* of each read() */
	pthread_barrier_t *start;
	struct mig_buf data;		/* what this thread read, in order */
	size_t *lens;			/* the length of each of its reads */
	size_t nlens;
	int err;
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	uint8_t *chunk = malloc(r->size);
	size_t *l;
	ssize_t n;

	pthread_barrier_wait(r->start);
	while (chunk) {
		n = read(r->fd, chunk, r->size);
		if (n <= 0) {
			r->err = n ? errno : 0;
			break;
		}
		l = realloc(r->lens, (r->nlens + 1) * sizeof(*l));
		if (!l || buf_add(&r->data, chunk, n)) {
			r->err = ENOMEM;
			break;
		}
		r->lens = l;
		r->lens[r->nlens++] = n;
	}
	free(chunk);
	return NULL;
}

/*
 * Is @ref exactly an interleaving of the reads of @a and @b, each
 * thread's reads in their order?  (A dynamic program over how many reads
 * of each came first.)
 */
static bool is_interleaving(const struct mig_buf *ref, const struct reader *a,
			    const struct reader *b)
{
	size_t na = a->nlens, nb = b->nlens, i, j, pos;
	size_t *pa = calloc(na + 1, sizeof(*pa));
	size_t *pb = calloc(nb + 1, sizeof(*pb));
	uint8_t *ok = calloc((na + 1) * (nb + 1), 1);
	bool res = false;

	if (!pa || !pb || !ok)
		goto out;
	if (a->data.len + b->data.len != ref->len)
		goto out;
	for (i = 0; i < na; i++)
		pa[i + 1] = pa[i] + a->lens[i];
	for (j = 0; j < nb; j++)
		pb[j + 1] = pb[j] + b->lens[j];
	ok[0] = 1;
	for (i = 0; i <= na; i++) {
		for (j = 0; j <= nb; j++) {
			if (!ok[i * (nb + 1) + j])
				continue;
			pos = pa[i] + pb[j];
			if (i < na && !memcmp(ref->data + pos,
					      a->data.data + pa[i], a->lens[i]))
				ok[(i + 1) * (nb + 1) + j] = 1;
			if (j < nb && !memcmp(ref->data + pos,
					      b->data.data + pb[j], b->lens[j]))
				ok[i * (nb + 1) + j + 1] = 1;
		}
	}
	res = ok[na * (nb + 1) + nb];
out:
	free(pa);
	free(pb);
	free(ok);
	return res;
}

/*
 * Two threads read one stop-copy fd at once: together they get exactly
 * the bytes a single reader gets from the same stopped device, each byte
 * once and in stream order, and the stream loads.
 */
TEST_F_TIMEOUT(mig, concurrent_readers, 300)
{
	struct reader r[2] = { { .size = 4096 }, { .size = 1531 } };
	int fd = self->src.device_fd, dfd, i;
	struct mig_buf ref = { 0 }, again = { 0 };
	pthread_barrier_t start;
	pthread_t tid[2];

	need_migration(_metadata, self->flags);
	need_target(_metadata, self->have_dst);
	ASSERT_GT(0, set_ok(_metadata, fd, VFIO_DEVICE_STATE_STOP, false));
	save_stop_copy(_metadata, fd, &ref);
	/* The reference only means something if a stopped device repeats. */
	save_stop_copy(_metadata, fd, &again);
	ASSERT_EQ(ref.len, again.len);
	ASSERT_EQ(0, memcmp(ref.data, again.data, ref.len))
		TH_LOG("two saves of the stopped device differ");

	dfd = set_ok(_metadata, fd, VFIO_DEVICE_STATE_STOP_COPY, true);
	ASSERT_LE(0, dfd);
	pthread_barrier_init(&start, NULL, 2);
	for (i = 0; i < 2; i++) {
		r[i].fd = dfd;
		r[i].start = &start;
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, reader_thread,
					    &r[i]));
	}
	for (i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&start);
	printf("# %zu bytes: %zu reads of thread 1 (%zu bytes), %zu of thread 2 (%zu bytes)\n",
	       ref.len, r[0].nlens, r[0].data.len, r[1].nlens,
	       r[1].data.len);
	EXPECT_EQ(0, r[0].err) TH_LOG("thread 1: %s", strerror(r[0].err));
	EXPECT_EQ(0, r[1].err) TH_LOG("thread 2: %s", strerror(r[1].err));
	EXPECT_EQ(ref.len, r[0].data.len + r[1].data.len);
	EXPECT_TRUE(is_interleaving(&ref, &r[0], &r[1]))
		TH_LOG("the reads are not the stream cut in order");
	ASSERT_GT(0, set_ok(_metadata, fd, VFIO_DEVICE_STATE_STOP, false));
	close(dfd);
	ASSERT_EQ(0, run_hook("source-saved", "concurrent"));
	load_ok(_metadata, self->dst.device_fd, ref.data, ref.len, "whole",
		"concurrent");
	ASSERT_GT(0, set_ok(_metadata, fd, VFIO_DEVICE_STATE_RUNNING, false));
	for (i = 0; i < 2; i++) {
		buf_free(&r[i].data);
		free(r[i].lens);
	}
	buf_free(&ref);
	buf_free(&again);
}

/* @s with a record of an unknown tag put before the one at @at. */
static int with_record(struct mig_buf *out, const struct mig_buf *s,
		       size_t at, uint32_t flags)
{
	struct mig_record_header h = {
		.record_size = htole64(100),
		.flags = htole32(flags),
		.tag = htole32(REC_TAG_UNKNOWN),
	};
	uint8_t payload[100];

	memset(payload, 0xa5, sizeof(payload));
	if (buf_add(out, s->data, at) || buf_add(out, &h, sizeof(h)) ||
	    buf_add(out, payload, sizeof(payload)) ||
	    buf_add(out, s->data + at, s->len - at))
		return -1;
	return 0;
}

/* Save the source in stop-copy and give the offset of its last record. */
static long save_for_edit(struct __test_metadata *_metadata,
			  struct vfio_pci_dev *src, struct mig_buf *s)
{
	long last;

	save_stop_copy(_metadata, src->device_fd, s);
	last = check_records(_metadata, s, false);
	if (run_hook("source-saved", "edit"))
		return -1;
	return last;
}

/*
 * Records of a tag the target does not know, flagged optional, are
 * skipped: first in the stream and just before the last record.
 */
TEST_F_TIMEOUT(mig, optional_record, 300)
{
	struct mig_buf s = { 0 }, e1 = { 0 }, e2 = { 0 };
	long last;

	need_migration(_metadata, self->flags);
	need_target(_metadata, self->have_dst);
	last = save_for_edit(_metadata, &self->src, &s);
	ASSERT_LE(0, last);
	ASSERT_EQ(0, with_record(&e1, &s, 0, REC_FLAG_OPTIONAL));
	ASSERT_EQ(0, with_record(&e2, &s, last, REC_FLAG_OPTIONAL));
	load_ok(_metadata, self->dst.device_fd, e1.data, e1.len, "odd",
		"optional-first");
	load_ok(_metadata, self->dst.device_fd, e2.data, e2.len, "page",
		"optional-before-last");
	ASSERT_GT(0, set_ok(_metadata, self->src.device_fd,
			    VFIO_DEVICE_STATE_RUNNING, false));
	buf_free(&s);
	buf_free(&e1);
	buf_free(&e2);
}

/*
 * Write @data to a fresh RESUMING session of @fd and leave RESUMING: the
 * load must fail, either in write() with EINVAL or in the RESUMING ->
 * STOP arc, which then leaves the device in RESUMING or ERROR.  A reset
 * recovers it.
 */
static void load_refused(struct __test_metadata *_metadata, int fd,
			 const uint8_t *data, size_t len, const char *what)
{
	int dfd, dfd2, wret, ret;
	uint32_t now;

	dfd = set_ok(_metadata, fd, VFIO_DEVICE_STATE_RESUMING, true);
	ASSERT_LE(0, dfd);
	wret = write_stream(dfd, data, len, "odd");
	ret = vfio_mig_state_set(fd, VFIO_DEVICE_STATE_STOP, &dfd2);
	now = state_of(fd);
	printf("# %s: write %s, RESUMING -> STOP %s, now %s\n", what,
	       wret ? strerror(-wret) : "accepted",
	       ret ? strerror(-ret) : "succeeded", vfio_mig_state_name(now));
	if (wret) {
		EXPECT_EQ(-EINVAL, wret) TH_LOG("%s: write", what);
	} else {
		EXPECT_NE(0, ret) TH_LOG("%s: loaded", what);
		EXPECT_EQ(-1, dfd2);
	}
	if (ret) {
		EXPECT_TRUE(now == VFIO_DEVICE_STATE_RESUMING ||
			    now == VFIO_DEVICE_STATE_ERROR)
			TH_LOG("%s: failed RESUMING -> STOP left %s", what,
			       vfio_mig_state_name(now));
	}
	close(dfd);
	reset_running(_metadata, fd);
}

/*
 * A record of an unknown tag without the optional flag makes the target
 * refuse the stream, cleanly; the same device loads a good stream after
 * a reset.
 */
TEST_F_TIMEOUT(mig, mandatory_record, 300)
{
	struct mig_buf s = { 0 }, e = { 0 };
	long last;

	need_migration(_metadata, self->flags);
	need_target(_metadata, self->have_dst);
	last = save_for_edit(_metadata, &self->src, &s);
	ASSERT_LE(0, last);
	ASSERT_EQ(0, with_record(&e, &s, last, 0));
	load_refused(_metadata, self->dst.device_fd, e.data, e.len,
		     "unknown mandatory record");
	load_ok(_metadata, self->dst.device_fd, s.data, s.len, "whole",
		"after-mandatory");
	ASSERT_GT(0, set_ok(_metadata, self->src.device_fd,
			    VFIO_DEVICE_STATE_RUNNING, false));
	buf_free(&s);
	buf_free(&e);
}

/*
 * A stream cut short, inside the last record's payload and inside its
 * header, does not load; a reset recovers the target, which then loads
 * the whole stream.
 */
TEST_F_TIMEOUT(mig, truncated, 300)
{
	struct mig_buf s = { 0 };
	struct mig_record_header h;
	long last;

	need_migration(_metadata, self->flags);
	need_target(_metadata, self->have_dst);
	last = save_for_edit(_metadata, &self->src, &s);
	ASSERT_LE(0, last);
	memcpy(&h, s.data + last, sizeof(h));
	ASSERT_LT(1, le64toh(h.record_size));
	load_refused(_metadata, self->dst.device_fd, s.data,
		     last + sizeof(h) + le64toh(h.record_size) / 2,
		     "cut in the last payload");
	load_refused(_metadata, self->dst.device_fd, s.data, last + 7,
		     "cut in the last header");
	load_ok(_metadata, self->dst.device_fd, s.data, s.len, "whole",
		"after-truncated");
	ASSERT_GT(0, set_ok(_metadata, self->src.device_fd,
			    VFIO_DEVICE_STATE_RUNNING, false));
	buf_free(&s);
}

/*
 * VFIO_DEVICE_RESET in the middle of each session: RUNNING again, the
 * session's fd dead (nothing more to read, nothing accepted), and the
 * device saves from scratch after.
 */
TEST_F_TIMEOUT(mig, reset_mid_session, 300)
{
	static const uint32_t states[] = {
		VFIO_DEVICE_STATE_PRE_COPY, VFIO_DEVICE_STATE_PRE_COPY_P2P,
		VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_RESUMING,
	};
	int fd = self->src.device_fd, dfd;
	struct mig_buf own = { 0 }, s = { 0 };
	uint8_t chunk[256];
	unsigned int i;
	ssize_t n;

	need_all_states(_metadata, self->flags);
	save_stop_copy(_metadata, fd, &own);
	reset_running(_metadata, fd);
	for (i = 0; i < ARRAY_SIZE(states); i++) {
		dfd = set_ok(_metadata, fd, states[i], true);
		ASSERT_LE(0, dfd);
		if (states[i] == VFIO_DEVICE_STATE_RESUMING) {
			EXPECT_EQ(0, write_stream(dfd, own.data,
						  own.len / 2, "whole"));
		} else {
			EXPECT_LT(0, read(dfd, chunk, sizeof(chunk)));
		}
		reset_running(_metadata, fd);
		if (states[i] == VFIO_DEVICE_STATE_RESUMING)
			n = write(dfd, own.data + own.len / 2, 1);
		else
			n = read(dfd, chunk, sizeof(chunk));
		EXPECT_GE(0, n) TH_LOG("%s fd after reset: %zd bytes",
				       vfio_mig_state_name(states[i]), n);
		printf("# %s fd after reset: %s\n",
		       vfio_mig_state_name(states[i]),
		       n < 0 ? strerror(errno) : "end of file");
		close(dfd);
	}
	save_stop_copy(_metadata, fd, &s);
	EXPECT_LT(0, s.len);
	reset_running(_metadata, fd);
	buf_free(&own);
	buf_free(&s);
}

static int env_state(const char *var, int dflt)
{
	const char *v = getenv(var);

	return v && *v ? vfio_mig_state_parse(v) : dflt;
}

/* Is errno @e named in the comma list @list (unset: any errno)? */
static bool errno_listed(const char *list, int e)
{
	const char *name = strerrorname_np(e);
	char *copy, *tok, *save = NULL;
	bool found = false;

	if (!list || !*list)
		return true;
	if (!name)
		return false;
	copy = strdup(list);
	for (tok = strtok_r(copy, ",", &save); tok && !found;
	     tok = strtok_r(NULL, ",", &save))
		found = !strcmp(tok, name);
	free(copy);
	return found;
}

/*
 * One arc, made to fail by the firmware model: the device is moved to
 * VFIO_MIG_FAULT_FROM (default running), the fault-arm hook runs, then
 * the arc to VFIO_MIG_FAULT_TO is requested and, for a saving state, its
 * stream read to the end.  From resuming, the hook runs first, then the
 * device saves its own stream (a fault in the image shows at the load),
 * and the stream is written to RESUMING before the arc; a failed write
 * must make the arc fail too.  Some step must fail with an errno of
 * VFIO_MIG_FAULT_ERRNOS (a comma list of names such as EIO,ETIMEDOUT;
 * default any).  With VFIO_MIG_FAULT_EXPECT_ERROR=1 the device must then
 * be in ERROR.  In ERROR every request fails with EINVAL and the state
 * stays; in any case the fault-disarm hook runs, VFIO_DEVICE_RESET brings
 * the device back to RUNNING and it saves again.
 */
TEST_F_TIMEOUT(mig, fault_arc, 600)
{
	const char *errnos = getenv("VFIO_MIG_FAULT_ERRNOS");
	const char *want_error = getenv("VFIO_MIG_FAULT_EXPECT_ERROR");
	int from = env_state("VFIO_MIG_FAULT_FROM", VFIO_DEVICE_STATE_RUNNING);
	int to = env_state("VFIO_MIG_FAULT_TO", -1);
	int fd = self->src.device_fd, dfd = -1, dfd2 = -1, tmp, ret, e = 0;
	struct mig_buf own = { 0 }, s = { 0 };
	const char *step = "nothing";
	static uint8_t chunk[65536];
	uint32_t now, t;
	unsigned int i;
	ssize_t n;

	need_migration(_metadata, self->flags);
	ASSERT_LE(0, from) TH_LOG("bad VFIO_MIG_FAULT_FROM");
	ASSERT_LE(0, to) TH_LOG("set VFIO_MIG_FAULT_TO to a state name");
	if (from == VFIO_DEVICE_STATE_RESUMING) {
		/* Armed before the save: the fault may be in the image. */
		ASSERT_EQ(0, run_hook("fault-arm", vfio_mig_state_name(to)));
		ret = vfio_mig_state_set(fd, VFIO_DEVICE_STATE_STOP_COPY,
					 &dfd);
		ASSERT_EQ(0, ret) TH_LOG("-> stop_copy: %s", strerror(-ret));
		while ((n = read(dfd, chunk, sizeof(chunk))) > 0)
			ASSERT_EQ(0, buf_add(&own, chunk, n));
		if (n < 0) {
			e = errno;
			step = "the save";
		}
		close(dfd);
		dfd = -1;
		reset_running(_metadata, fd);
	}
	if (!e && from != VFIO_DEVICE_STATE_RUNNING) {
		ret = vfio_mig_state_set(fd, from, &dfd);
		ASSERT_EQ(0, ret) TH_LOG("running -> %s: %s",
					 vfio_mig_state_name(from),
					 strerror(-ret));
	}
	if (from != VFIO_DEVICE_STATE_RESUMING)
		ASSERT_EQ(0, run_hook("fault-arm", vfio_mig_state_name(to)));
	if (!e && from == VFIO_DEVICE_STATE_RESUMING) {
		ret = write_stream(dfd, own.data, own.len, "whole");
		if (ret) {
			e = -ret;
			step = "write";
			/* A stream that did not load must not end RESUMING. */
			ret = vfio_mig_state_set(fd, to, &tmp);
			EXPECT_NE(0, ret)
				TH_LOG("-> %s after the failed write",
				       vfio_mig_state_name(to));
		}
	}
	if (!e) {
		ret = vfio_mig_state_set(fd, to, &dfd2);
		if (ret) {
			e = -ret;
			step = "the arc";
		}
	}
	if (!e && is_saving(to)) {
		while ((n = read(dfd2 >= 0 ? dfd2 : dfd, chunk,
				 sizeof(chunk))) > 0)
			;
		if (n < 0) {
			e = errno;
			step = "read";
		}
	}
	now = state_of(fd);
	printf("# %s -> %s: %s failed with %s, now %s\n",
	       vfio_mig_state_name(from), vfio_mig_state_name(to), step,
	       e ? strerrorname_np(e) : "nothing", vfio_mig_state_name(now));
	EXPECT_NE(0, e) TH_LOG("nothing failed");
	EXPECT_TRUE(errno_listed(errnos, e))
		TH_LOG("%s failed with %s, not one of %s", step,
		       strerrorname_np(e), errnos);
	EXPECT_TRUE(!want_error || strcmp(want_error, "1") ||
		    now == VFIO_DEVICE_STATE_ERROR)
		TH_LOG("the device is not in ERROR");
	if (now == VFIO_DEVICE_STATE_ERROR) {
		for (t = 0; t < VFIO_DEVICE_STATE_NR + 2; t++) {
			ret = vfio_mig_state_set(fd, t, &tmp);
			EXPECT_EQ(-EINVAL, ret)
				TH_LOG("error -> %s: %s",
				       vfio_mig_state_name(t),
				       ret ? strerror(-ret) : "success");
			EXPECT_EQ(VFIO_DEVICE_STATE_ERROR, state_of(fd));
		}
		for (i = 0; i < ARRAY_SIZE(bad_states); i++)
			EXPECT_EQ(-EINVAL,
				  vfio_mig_state_set(fd, bad_states[i], &tmp));
	}
	ASSERT_EQ(0, run_hook("fault-disarm", vfio_mig_state_name(to)));
	reset_running(_metadata, fd);
	if (dfd2 >= 0)
		close(dfd2);
	if (dfd >= 0)
		close(dfd);
	save_stop_copy(_metadata, fd, &s);
	EXPECT_LT(0, s.len);
	reset_running(_metadata, fd);
	buf_free(&own);
	buf_free(&s);
}

/* See the header comment: hold the source in a state for a script. */
static int do_hold(const char *bdf, int argc, char **argv)
{
	char err[VFIO_UTIL_ERRLEN], line[64];
	struct vfio_pci_dev dev;
	uint8_t chunk[4096];
	size_t want, got = 0;
	int state, dfd, ret;
	uint32_t now;
	ssize_t n;

	state = argc > 0 ? vfio_mig_state_parse(argv[0]) : -1;
	want = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;
	if (state < 0) {
		fprintf(stderr, "hold: name a state\n");
		return 2;
	}
	if (vfio_pci_dev_open(&dev, bdf, err, sizeof(err))) {
		printf("not ok 1 open: %s\n", err);
		return 1;
	}
	ret = vfio_mig_state_set(dev.device_fd, state, &dfd);
	if (ret) {
		printf("# running -> %s failed: %s\n",
		       vfio_mig_state_name(state), strerrorname_np(-ret));
		/* What a reset that came meanwhile left behind. */
		ret = vfio_mig_state_get(dev.device_fd, &now);
		printf("# state after the failed arc: %s\n",
		       ret ? strerrorname_np(-ret) : vfio_mig_state_name(now));
		vfio_pci_dev_close(&dev);
		return 1;
	}
	while (dfd >= 0 && is_saving(state) && got < want) {
		n = read(dfd, chunk, sizeof(chunk) < want - got ?
			 sizeof(chunk) : want - got);
		if (n <= 0)
			break;
		got += n;
	}
	printf("ready: %s, data fd %d, %zu bytes read\n",
	       vfio_mig_state_name(state), dfd, got);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		line[0] = '\0';

	if (dfd >= 0) {
		if (is_saving(state))
			n = read(dfd, chunk, sizeof(chunk));
		else
			n = write(dfd, chunk, 1);
		printf("# data fd %s: %zd%s%s\n",
		       is_saving(state) ? "read" : "write", n,
		       n < 0 ? " " : "", n < 0 ? strerrorname_np(errno) : "");
	}
	ret = vfio_mig_state_get(dev.device_fd, &now);
	printf("# state: %s\n", ret ? strerrorname_np(-ret) :
	       vfio_mig_state_name(now));
	ret = vfio_mig_state_set(dev.device_fd, VFIO_DEVICE_STATE_RUNNING,
				 &state);
	printf("# -> running: %s\n", ret ? strerrorname_np(-ret) : "ok");
	if (dfd >= 0)
		close(dfd);
	vfio_pci_dev_close(&dev);
	printf("done\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *bdf;

	if (vfio_selftests_hold_mode(argc, argv)) {
		bdf = vfio_selftests_hold_bdf();
		return bdf ? do_hold(bdf, argc - 2, argv + 2) : 2;
	}
	return test_harness_run(argc, argv);
}
