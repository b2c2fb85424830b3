// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h): debugfs.
 *
 * /sys/kernel/debug/mlx5_core_model/<PF BDF>/
 *   inject      read: the faults armed.  Write one line to arm one fault
 *               for the next command of the PF that it matches:
 *                 fail OPCODE STATUS   the command fails with that firmware
 *                                      status (e.g. "fail 0x118 0x4": SAVE
 *                                      gets BAD_SYS_STATE, -EIO)
 *                 hang OPCODE          the command is never answered: it
 *                                      fails with -ETIMEDOUT after
 *                                      cmd_timeout_ms, having done nothing
 *                 corrupt              the next SAVE's image has a byte
 *                                      flipped (LOAD then refuses it)
 *                 truncate             the next SAVE reports an
 *                                      actual_image_size one byte short
 *                 track_fail_after N   the page tracking report running
 *                                      or next sends N messages, then one
 *                                      whose CQE says ERROR
 *                 track_error          not armed but done at once: every
 *                                      tracker of the PF goes to ERROR
 *                                      and raises OBJECT_CHANGE
 *                 clear                disarms everything
 *               The opcodes of "fail" and "hang" include CREATE_CQ,
 *               CREATE_QP, the QP arcs and the general object commands.
 *   resources   read: mkeys, and the page tracking objects the PF's user
 *               holds ("NAME N" lines: cqs, qps, trackers, frag_bufs,
 *               dbs, uars, eq_notifiers); all 0 once a driver let go
 *   vf<N>/migration
 *               read: the VHCA's migration state (running,
 *               initiator_suspended, suspended), tracking on/off, whether
 *               a chunked save is in progress, and command counters
 *   vf<N>/state read: "crc32 0x%08x size N", a digest of the VF's state;
 *               write a page number: that page gets new content (and is
 *               dirty if tracking is armed)
 *   vf<N>/dma_write
 *               write "IOVA LEN [BYTE]" (each strtoull base 0, LEN 1 to
 *               2^32, BYTE 0 to 255): the VF writes those bytes by DMA
 *               (vfdma.c), every tracker of it records the pages in its
 *               ranges; with BYTE the bytes really land, in the memory
 *               the VF's user mapped there.  EINVAL for anything else,
 *               ENODEV if the VF is not enabled, EBUSY if its initiator
 *               is suspended; with BYTE, EPERM if no user owns the VF's
 *               IOMMU domain and EFAULT if a page is not mapped
 *   vf<N>/tracker
 *               read: one line per tracker of the VF, "id N state
 *               TRACKING|REPORTING|ERROR page_shift P ranges R dirty D
 *               reports K" (D pages dirty now, K reports requested)
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "model.h"

static struct dentry *model_dbg_root;

void model_debugfs_init(void)
{
	model_dbg_root = debugfs_create_dir("mlx5_core_model", NULL);
}

void model_debugfs_exit(void)
{
	debugfs_remove(model_dbg_root);
}

static int model_inject_show(struct seq_file *s, void *unused)
{
	struct model_pf *pf = s->private;
	struct model_inject inj;

	spin_lock_bh(&pf->inject_lock);
	inj = pf->inject;
	spin_unlock_bh(&pf->inject_lock);
	if (inj.fail_opcode >= 0)
		seq_printf(s, "fail 0x%x 0x%x\n", inj.fail_opcode,
			   inj.fail_status);
	if (inj.hang_opcode >= 0)
		seq_printf(s, "hang 0x%x\n", inj.hang_opcode);
	if (inj.corrupt_image)
		seq_puts(s, "corrupt\n");
	if (inj.truncate_image)
		seq_puts(s, "truncate\n");
	if (inj.track_fail_after >= 0)
		seq_printf(s, "track_fail_after %d\n", inj.track_fail_after);
	return 0;
}

/* Applies one "inject" line to @inj; false if it is not one. */
static bool model_inject_parse(const char *line, struct model_inject *inj)
{
	unsigned int op, status;
	char word[24];
	int n;

	n = sscanf(line, "%23s %i %i", word, &op, &status);
	if (n == 3 && !strcmp(word, "fail") && op <= 0xffff && status &&
	    status <= 0xff) {
		inj->fail_opcode = op;
		inj->fail_status = status;
	} else if (n == 2 && !strcmp(word, "hang") && op <= 0xffff) {
		inj->hang_opcode = op;
	} else if (n == 1 && !strcmp(word, "corrupt")) {
		inj->corrupt_image = true;
	} else if (n == 1 && !strcmp(word, "truncate")) {
		inj->truncate_image = true;
	} else if (n == 2 && !strcmp(word, "track_fail_after") &&
		   op <= INT_MAX) {
		inj->track_fail_after = op;
	} else if (n == 1 && !strcmp(word, "clear")) {
		*inj = (struct model_inject){ .fail_opcode = -1,
					      .hang_opcode = -1,
					      .track_fail_after = -1 };
	} else {
		return false;
	}
	return true;
}

static ssize_t model_inject_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	struct model_pf *pf = file_inode(file)->i_private;
	struct model_inject inj;
	char line[64];
	bool ok;

	if (len >= sizeof(line))
		return -EINVAL;
	if (copy_from_user(line, ubuf, len))
		return -EFAULT;
	line[len] = '\0';
	if (sysfs_streq(line, "track_error")) {
		model_track_fail_all(pf, 0);
		return len;
	}
	spin_lock_bh(&pf->inject_lock);
	inj = pf->inject;
	ok = model_inject_parse(line, &inj);
	if (ok)
		pf->inject = inj;
	spin_unlock_bh(&pf->inject_lock);
	return ok ? len : -EINVAL;
}

static int model_inject_open(struct inode *inode, struct file *file)
{
	return single_open(file, model_inject_show, inode->i_private);
}

static const struct file_operations model_inject_fops = {
	.owner = THIS_MODULE,
	.open = model_inject_open,
	.read = seq_read,
	.write = model_inject_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int model_resources_show(struct seq_file *s, void *unused)
{
	struct model_pf *pf = s->private;

	seq_printf(s, "mkeys %u\n", model_mkey_count(pf));
	seq_printf(s, "cqs %u\n", model_cq_count(pf));
	seq_printf(s, "qps %u\n", model_qp_count(pf));
	seq_printf(s, "trackers %u\n", model_track_count(pf));
	seq_printf(s, "frag_bufs %d\n", atomic_read(&pf->n_frag_bufs));
	seq_printf(s, "dbs %d\n", atomic_read(&pf->n_dbs));
	seq_printf(s, "uars %u\n", model_uar_count(pf));
	seq_printf(s, "eq_notifiers %u\n", model_eq_nb_count(pf));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(model_resources);

void model_debugfs_pf_add(struct model_pf *pf)
{
	pf->dbg = debugfs_create_dir(pci_name(pf->pdev), model_dbg_root);
	debugfs_create_file("inject", 0600, pf->dbg, pf, &model_inject_fops);
	debugfs_create_file("resources", 0400, pf->dbg, pf,
			    &model_resources_fops);
}

void model_debugfs_pf_remove(struct model_pf *pf)
{
	debugfs_remove(pf->dbg);
}

static const char * const model_counter_names[MODEL_CNT_NUM] = {
	[MODEL_CNT_SUSPEND] = "suspend",
	[MODEL_CNT_RESUME] = "resume",
	[MODEL_CNT_QUERY] = "query",
	[MODEL_CNT_SAVE] = "save",
	[MODEL_CNT_LOAD] = "load",
	[MODEL_CNT_FAILED] = "failed",
	[MODEL_CNT_FLR] = "flr",
};

static int model_migration_show(struct seq_file *s, void *unused)
{
	struct model_vf *vf = s->private;
	int i;

	model_vhca_lock(vf);
	seq_printf(s, "state %s\n", model_mig_state_name(vf->mig_state));
	seq_printf(s, "tracking %s\n", vf->tracking ? "on" : "off");
	seq_printf(s, "chunking %s\n", vf->chunking ? "yes" : "no");
	seq_printf(s, "dirty %u\n",
		   vf->dirty ? bitmap_weight(vf->dirty, vf->npages) : 0);
	for (i = 0; i < MODEL_CNT_NUM; i++)
		seq_printf(s, "%s %llu\n", model_counter_names[i],
			   vf->counters[i]);
	mutex_unlock(&vf->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(model_migration);

static int model_state_show(struct seq_file *s, void *unused)
{
	struct model_vf *vf = s->private;

	model_vhca_lock(vf);
	seq_printf(s, "crc32 0x%08x size %zu\n", model_vhca_digest(vf),
		   vf->size);
	mutex_unlock(&vf->lock);
	return 0;
}

static ssize_t model_state_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	struct model_vf *vf = file_inode(file)->i_private;
	unsigned long page;
	int ret;

	ret = kstrtoul_from_user(ubuf, len, 0, &page);
	if (ret)
		return ret;
	model_vhca_lock(vf);
	if (!vf->enabled || page >= vf->npages)
		ret = -EINVAL;
	else
		model_vhca_dirty_page(vf, page);
	mutex_unlock(&vf->lock);
	return ret ?: len;
}

static int model_state_open(struct inode *inode, struct file *file)
{
	return single_open(file, model_state_show, inode->i_private);
}

static const struct file_operations model_state_fops = {
	.owner = THIS_MODULE,
	.open = model_state_open,
	.read = seq_read,
	.write = model_state_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/*
 * "IOVA LEN [BYTE]": LEN at least 1 and at most 2^32, BYTE 0 to 255;
 * *byte is -1 without it.
 */
static int model_dma_write_parse(const char *line, u64 *iova, u64 *len,
				 int *byte)
{
	char a[24], b[24], c[24];
	int n, fields;
	u8 v;

	fields = sscanf(line, "%23s %23s %n%23s %n", a, b, &n, c, &n);
	if (fields < 2 || line[n])
		return -EINVAL;
	if (kstrtoull(a, 0, iova) || kstrtoull(b, 0, len) || !*len ||
	    *len > BIT_ULL(32) || *iova + *len < *iova)
		return -EINVAL;
	*byte = -1;
	if (fields == 3) {
		if (kstrtou8(c, 0, &v))
			return -EINVAL;
		*byte = v;
	}
	return 0;
}

static ssize_t model_dma_write_write(struct file *file,
				     const char __user *ubuf, size_t len,
				     loff_t *ppos)
{
	struct model_vf *vf = file_inode(file)->i_private;
	char line[80];
	u64 iova, n;
	int byte, ret;

	if (len >= sizeof(line))
		return -EINVAL;
	if (copy_from_user(line, ubuf, len))
		return -EFAULT;
	line[len] = '\0';
	ret = model_dma_write_parse(line, &iova, &n, &byte);
	if (ret)
		return ret;
	ret = model_vf_dma_write(vf, iova, n, byte);
	return ret ?: len;
}

static const struct file_operations model_dma_write_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = model_dma_write_write,
};

static int model_tracker_show(struct seq_file *s, void *unused)
{
	struct model_vf *vf = s->private;

	model_track_show(vf->pf, vf->vhca_id, s);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(model_tracker);

void model_debugfs_vf_add(struct model_vf *vf)
{
	char name[16];

	snprintf(name, sizeof(name), "vf%d", vf->id);
	vf->dbg = debugfs_create_dir(name, vf->pf->dbg);
	debugfs_create_file("migration", 0400, vf->dbg, vf,
			    &model_migration_fops);
	debugfs_create_file("state", 0600, vf->dbg, vf, &model_state_fops);
	debugfs_create_file("dma_write", 0200, vf->dbg, vf,
			    &model_dma_write_fops);
	debugfs_create_file("tracker", 0400, vf->dbg, vf,
			    &model_tracker_fops);
}

void model_debugfs_vf_remove(struct model_vf *vf)
{
	debugfs_remove(vf->dbg);
	vf->dbg = NULL;
}
