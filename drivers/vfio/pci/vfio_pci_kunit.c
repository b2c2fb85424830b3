// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the pure logic in vfio-pci-core and vfio-pci, the parts
 * that only depend on their input and are clearer to test here than from
 * a VM:
 *
 *   - the options of a device match string ("BDF vf_token=UUID"), which
 *     decide who may open a VF;
 *   - the IGD OpRegion: header decoding and the byte-by-byte view the user
 *     reads, with its rewritten version and RVDA fields.  No Intel graphics
 *     device is needed: the OpRegion is a buffer built by the test.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/unaligned.h>
#include <linux/uuid.h>

#include "vfio_pci_igd.h"
#include "vfio_pci_priv.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

/* ---- match string options ---- */

#define TOKEN		"5c7a3b1e-0d24-4f8a-9e61-2b3c4d5e6f70"
#define TOKEN_UPPER	"5C7A3B1E-0D24-4F8A-9E61-2B3C4D5E6F70"

static const uuid_t token_uuid =
	UUID_INIT(0x5c7a3b1e, 0x0d24, 0x4f8a,
		  0x9e, 0x61, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70);

struct match_case {
	const char *opts;
	int ret;		/* 1: token given, 0: none, else an errno */
};

static const struct match_case match_cases[] = {
	{ "", 0 },
	{ "   ", 0 },
	{ "vf_token=" TOKEN, 1 },
	{ "  vf_token=" TOKEN "  ", 1 },
	{ "vf_token=" TOKEN_UPPER, 1 },
	/* At most one token. */
	{ "vf_token=" TOKEN " vf_token=" TOKEN, -EINVAL },
	/* The UUID is exactly 36 characters, then a space or the end. */
	{ "vf_token=", -EINVAL },
	{ "vf_token=5c7a3b1e-0d24-4f8a-9e61-2b3c4d5e6f7", -EINVAL },
	{ "vf_token=" TOKEN "0", -EINVAL },
	{ "vf_token=" TOKEN "x", -EINVAL },
	{ "vf_token=5c7a3b1e-0d24-4f8a-9e61-2b3c4d5e6fzz", -EINVAL },
	{ "vf_token=5c7a3b1e00d2404f8a09e6102b3c4d5e6f70", -EINVAL },
	/* Only the one option, spelled exactly so. */
	{ "vf_token " TOKEN, -EINVAL },
	{ "VF_TOKEN=" TOKEN, -EINVAL },
	{ "vf_tokens=" TOKEN, -EINVAL },
	{ "foo=bar", -EINVAL },
	{ "vf_token=" TOKEN " foo", -EINVAL },
	{ "\tvf_token=" TOKEN, -EINVAL },
};

static void match_case_desc(const struct match_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "\"%s\"", c->opts);
}

KUNIT_ARRAY_PARAM(match, match_cases, match_case_desc);

static void match_options_test(struct kunit *test)
{
	const struct match_case *c = test->param_value;
	uuid_t uuid = { };

	KUNIT_EXPECT_EQ(test, vfio_pci_parse_match_options(c->opts, &uuid),
			c->ret);
	if (c->ret == 1)
		KUNIT_EXPECT_TRUE(test, uuid_equal(&uuid, &token_uuid));
}

static struct kunit_case match_test_cases[] = {
	KUNIT_CASE_PARAM(match_options_test, match_gen_params),
	{}
};

static struct kunit_suite match_suite = {
	.name = "vfio_pci_match_options",
	.test_cases = match_test_cases,
};

/* ---- IGD OpRegion ---- */

#if IS_ENABLED(CONFIG_VFIO_PCI_IGD)

/* Header layout, as the OpRegion specification puts it. */
#define OPREGION_SIZE		8192
#define OPREGION_OFF_KB		0x10
#define OPREGION_OFF_VERSION	0x16
#define OPREGION_OFF_RVDA	0x3ba
#define OPREGION_OFF_RVDS	0x3c2
#define VBT_SIZE		300

/*
 * An OpRegion with a recognisable pattern everywhere, then the given
 * header fields; @rvda and @rvds are only written for version 2.0 and up.
 */
static u8 *make_opregion(struct kunit *test, u16 version, u64 rvda, u32 rvds)
{
	u8 *buf = kunit_kzalloc(test, OPREGION_SIZE, GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < OPREGION_SIZE; i++)
		buf[i] = i * 7 + 3;
	memcpy(buf, "IntelGraphicsMem", 16);
	put_unaligned_le32(OPREGION_SIZE / 1024, buf + OPREGION_OFF_KB);
	put_unaligned_le16(version, buf + OPREGION_OFF_VERSION);
	if (version >= 0x0200) {
		put_unaligned_le64(rvda, buf + OPREGION_OFF_RVDA);
		put_unaligned_le32(rvds, buf + OPREGION_OFF_RVDS);
	}
	return buf;
}

static void opregion_parse_21_test(struct kunit *test)
{
	struct vfio_pci_igd_opregion_hdr hdr;
	u8 *buf = make_opregion(test, 0x0201, OPREGION_SIZE, VBT_SIZE);

	KUNIT_ASSERT_EQ(test, vfio_pci_igd_parse_opregion(buf, &hdr), 0);
	KUNIT_EXPECT_EQ(test, hdr.version, 0x0201);
	KUNIT_EXPECT_EQ(test, hdr.rvda, OPREGION_SIZE);
	KUNIT_EXPECT_EQ(test, hdr.rvds, VBT_SIZE);
}

static void opregion_parse_20_test(struct kunit *test)
{
	struct vfio_pci_igd_opregion_hdr hdr;
	u8 *buf = make_opregion(test, 0x0200, 0x7ff00000ULL, VBT_SIZE);

	KUNIT_ASSERT_EQ(test, vfio_pci_igd_parse_opregion(buf, &hdr), 0);
	KUNIT_EXPECT_EQ(test, hdr.version, 0x0200);
	KUNIT_EXPECT_EQ(test, hdr.rvda, 0x7ff00000ULL);
	KUNIT_EXPECT_EQ(test, hdr.rvds, VBT_SIZE);
}

/* Before 2.0 the RVDA/RVDS bytes are something else: ignored. */
static void opregion_parse_1x_test(struct kunit *test)
{
	struct vfio_pci_igd_opregion_hdr hdr;
	u8 *buf = make_opregion(test, 0x0100, 0, 0);

	put_unaligned_le64(OPREGION_SIZE, buf + OPREGION_OFF_RVDA);
	put_unaligned_le32(VBT_SIZE, buf + OPREGION_OFF_RVDS);
	KUNIT_ASSERT_EQ(test, vfio_pci_igd_parse_opregion(buf, &hdr), 0);
	KUNIT_EXPECT_EQ(test, hdr.version, 0x0100);
	KUNIT_EXPECT_EQ(test, hdr.rvda, 0);
	KUNIT_EXPECT_EQ(test, hdr.rvds, 0);
}

/* Half a raw VBT description is none. */
static void opregion_parse_half_vbt_test(struct kunit *test)
{
	struct vfio_pci_igd_opregion_hdr hdr;
	u8 *buf;

	buf = make_opregion(test, 0x0201, OPREGION_SIZE, 0);
	KUNIT_ASSERT_EQ(test, vfio_pci_igd_parse_opregion(buf, &hdr), 0);
	KUNIT_EXPECT_EQ(test, hdr.rvda, 0);
	KUNIT_EXPECT_EQ(test, hdr.rvds, 0);

	buf = make_opregion(test, 0x0201, 0, VBT_SIZE);
	KUNIT_ASSERT_EQ(test, vfio_pci_igd_parse_opregion(buf, &hdr), 0);
	KUNIT_EXPECT_EQ(test, hdr.rvda, 0);
	KUNIT_EXPECT_EQ(test, hdr.rvds, 0);
}

static void opregion_parse_bad_test(struct kunit *test)
{
	struct vfio_pci_igd_opregion_hdr hdr;
	u8 *buf;

	buf = make_opregion(test, 0x0201, OPREGION_SIZE, VBT_SIZE);
	buf[0] = 'i';
	KUNIT_EXPECT_EQ(test, vfio_pci_igd_parse_opregion(buf, &hdr), -EINVAL);

	buf = make_opregion(test, 0x0201, OPREGION_SIZE, VBT_SIZE);
	put_unaligned_le32(0, buf + OPREGION_OFF_KB);
	KUNIT_EXPECT_EQ(test, vfio_pci_igd_parse_opregion(buf, &hdr), -EINVAL);
}

/*
 * Read the whole region the way the read path does, chunk by chunk from
 * vfio_pci_igd_source(), checking that no chunk runs past the region.
 */
static void read_user_view(struct kunit *test,
			   const struct vfio_pci_igd_opregion *op, u8 *out)
{
	size_t size = OPREGION_SIZE + op->vbt_size, pos = 0, n;
	const u8 *src;

	while (pos < size) {
		n = vfio_pci_igd_source(op, pos, &src);
		KUNIT_ASSERT_GT(test, n, 0);
		KUNIT_ASSERT_LE(test, pos + n, size);
		memcpy(out + pos, src, n);
		pos += n;
	}
}

/*
 * Build the user view of @buf (and a raw VBT of @vbt_size bytes when not
 * 0) and compare it with what it should be: the OpRegion as is except the
 * version, which reads @version, and the RVDA, which reads @rvda; then the
 * VBT.
 */
static void check_user_view(struct kunit *test, const u8 *buf, u32 vbt_size,
			    u16 version, u64 rvda)
{
	struct vfio_pci_igd_opregion_hdr hdr;
	struct vfio_pci_igd_opregion op = { };
	size_t size = OPREGION_SIZE + vbt_size;
	u8 *want, *got, *vbt = NULL;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, vfio_pci_igd_parse_opregion(buf, &hdr), 0);
	if (vbt_size) {
		vbt = kunit_kmalloc(test, vbt_size, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, vbt);
		for (i = 0; i < vbt_size; i++)
			vbt[i] = 0xa0 ^ i;
	}
	op.opregion = (void *)buf;
	op.vbt = vbt;
	op.vbt_size = vbt_size;
	vfio_pci_igd_user_view(&op, &hdr);

	want = kunit_kmalloc(test, size, GFP_KERNEL);
	got = kunit_kmalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_NOT_NULL(test, got);
	memcpy(want, buf, OPREGION_SIZE);
	put_unaligned_le16(version, want + OPREGION_OFF_VERSION);
	put_unaligned_le64(rvda, want + OPREGION_OFF_RVDA);
	if (vbt_size)
		memcpy(want + OPREGION_SIZE, vbt, vbt_size);

	read_user_view(test, &op, got);
	KUNIT_EXPECT_MEMEQ(test, got, want, size);
}

static void opregion_view_21_test(struct kunit *test)
{
	u8 *buf = make_opregion(test, 0x0201, OPREGION_SIZE, VBT_SIZE);

	check_user_view(test, buf, VBT_SIZE, 0x0201, OPREGION_SIZE);
}

/* 2.0 keeps its VBT at a physical address; the user sees 2.1. */
static void opregion_view_20_test(struct kunit *test)
{
	u8 *buf = make_opregion(test, 0x0200, 0x7ff00000ULL, VBT_SIZE);

	check_user_view(test, buf, VBT_SIZE, 0x0201, OPREGION_SIZE);
}

static void opregion_view_no_vbt_test(struct kunit *test)
{
	u8 *buf = make_opregion(test, 0x0200, 0, 0);

	check_user_view(test, buf, 0, 0x0200, 0);
	buf = make_opregion(test, 0x0100, 0, 0);
	check_user_view(test, buf, 0, 0x0100, 0);
}

/* Chunks end at the rewritten fields, wherever a read starts. */
static void opregion_source_bounds_test(struct kunit *test)
{
	u8 *buf = make_opregion(test, 0x0201, OPREGION_SIZE, VBT_SIZE);
	struct vfio_pci_igd_opregion_hdr hdr;
	struct vfio_pci_igd_opregion op = { };
	u8 vbt[VBT_SIZE] = { };
	const u8 *src;

	KUNIT_ASSERT_EQ(test, vfio_pci_igd_parse_opregion(buf, &hdr), 0);
	op.opregion = buf;
	op.vbt = vbt;
	op.vbt_size = VBT_SIZE;
	vfio_pci_igd_user_view(&op, &hdr);

	KUNIT_EXPECT_EQ(test, vfio_pci_igd_source(&op, 0, &src),
			OPREGION_OFF_VERSION);
	KUNIT_EXPECT_EQ(test, vfio_pci_igd_source(&op, OPREGION_OFF_VERSION + 1,
						  &src), 1);
	KUNIT_EXPECT_PTR_EQ(test, src, (const u8 *)&op.version + 1);
	KUNIT_EXPECT_EQ(test, vfio_pci_igd_source(&op, OPREGION_OFF_RVDA - 1,
						  &src), 1);
	KUNIT_EXPECT_EQ(test, vfio_pci_igd_source(&op, OPREGION_OFF_RVDA + 3,
						  &src), 5);
	KUNIT_EXPECT_EQ(test, vfio_pci_igd_source(&op, OPREGION_OFF_RVDA + 8,
						  &src),
			OPREGION_SIZE - OPREGION_OFF_RVDA - 8);
	KUNIT_EXPECT_EQ(test, vfio_pci_igd_source(&op, OPREGION_SIZE + 10,
						  &src), VBT_SIZE - 10);
	KUNIT_EXPECT_PTR_EQ(test, src, (const u8 *)vbt + 10);
}

static struct kunit_case opregion_test_cases[] = {
	KUNIT_CASE(opregion_parse_21_test),
	KUNIT_CASE(opregion_parse_20_test),
	KUNIT_CASE(opregion_parse_1x_test),
	KUNIT_CASE(opregion_parse_half_vbt_test),
	KUNIT_CASE(opregion_parse_bad_test),
	KUNIT_CASE(opregion_view_21_test),
	KUNIT_CASE(opregion_view_20_test),
	KUNIT_CASE(opregion_view_no_vbt_test),
	KUNIT_CASE(opregion_source_bounds_test),
	{}
};

static struct kunit_suite opregion_suite = {
	.name = "vfio_pci_igd_opregion",
	.test_cases = opregion_test_cases,
};

kunit_test_suites(&match_suite, &opregion_suite);

#else /* !CONFIG_VFIO_PCI_IGD */

kunit_test_suites(&match_suite);

#endif

MODULE_DESCRIPTION("KUnit tests for vfio-pci-core and vfio-pci");
MODULE_LICENSE("GPL");
