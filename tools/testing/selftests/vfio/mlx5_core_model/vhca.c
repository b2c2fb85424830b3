// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h): a VF's VHCA.
 *
 * Its state is a buffer of state_size bytes, different for every VF from
 * the start, in which a running VHCA changes one page every
 * dirty_interval_ms: a migration that loses pages, or copies them from
 * the wrong moment, shows in the digest (debugfs "state").
 *
 * Migration states follow include/linux/mlx5/vfio_pci.h.  A SUSPEND to a
 * stage the VHCA is already at or past, or a RESUME to one it is already
 * at or before, succeeds without effect; the other out-of-order moves
 * (responder before initiator) fail with BAD_SYS_STATE.
 */
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "model.h"

const char *model_mig_state_name(enum model_mig_state state)
{
	switch (state) {
	case MODEL_RUNNING:
		return "running";
	case MODEL_INIT_SUSPENDED:
		return "initiator_suspended";
	case MODEL_SUSPENDED:
		return "suspended";
	}
	return "?";
}

/* Called with vf->lock held. */
static void model_vhca_reset(struct model_vf *vf)
{
	vf->mig_state = MODEL_RUNNING;
	vf->tracking = false;
	vf->loaded = false;
	vf->chunking = false;
	if (vf->dirty)
		bitmap_zero(vf->dirty, vf->npages);
}

/*
 * Every user of the VHCA's state takes the lock through here, so that a
 * reset the FLR probe noted takes effect before anyone looks.
 */
void model_vhca_lock(struct model_vf *vf)
{
	mutex_lock(&vf->lock);
	if (atomic_xchg(&vf->flr_pending, 0) && vf->enabled) {
		model_vhca_reset(vf);
		vf->counters[MODEL_CNT_FLR]++;
	}
}

/* Called with vf->lock held: new content for @page, tracked if armed. */
void model_vhca_dirty_page(struct model_vf *vf, unsigned long page)
{
	u32 *p = (u32 *)(vf->state + page * MODEL_PAGE_SIZE);
	u32 tag = (++vf->seq << 8) ^ vf->vhca_id;
	unsigned int i;

	for (i = 0; i < MODEL_PAGE_SIZE / sizeof(u32); i++)
		p[i] = tag ^ (i * 0x9e3779b9);
	if (vf->tracking)
		__set_bit(page, vf->dirty);
}

static void model_vhca_dirty_work(struct work_struct *work)
{
	struct model_vf *vf = container_of(to_delayed_work(work),
					   struct model_vf, dirty_work);
	unsigned int ms = READ_ONCE(model_dirty_interval_ms);

	model_vhca_lock(vf);
	/* Only a fully running function changes its state. */
	if (vf->enabled && ms && vf->mig_state == MODEL_RUNNING)
		model_vhca_dirty_page(vf, (vf->seq * 7919UL) % vf->npages);
	mutex_unlock(&vf->lock);
	/* Keep polling while disabled: the parameter may change. */
	schedule_delayed_work(&vf->dirty_work, msecs_to_jiffies(ms ?: 100));
}

static void model_vhca_fill(struct model_vf *vf)
{
	u32 *p = (u32 *)vf->state;
	size_t i;

	for (i = 0; i < vf->size / sizeof(u32); i++)
		p[i] = ((u32)vf->vhca_id << 24) ^ (u32)(i * 2654435761UL);
}

int model_vhca_enable(struct model_vf *vf)
{
	size_t size = round_up(max(model_state_size, 1UL), MODEL_PAGE_SIZE);
	unsigned long npages = size >> MODEL_PAGE_SHIFT;
	u8 *state;
	unsigned long *dirty, *pending;

	state = vmalloc(size);
	dirty = bitmap_zalloc(npages, GFP_KERNEL);
	pending = bitmap_zalloc(npages, GFP_KERNEL);
	if (!state || !dirty || !pending) {
		vfree(state);
		bitmap_free(dirty);
		bitmap_free(pending);
		return -ENOMEM;
	}
	mutex_lock(&vf->lock);
	vf->state = state;
	vf->size = size;
	vf->npages = npages;
	vf->dirty = dirty;
	vf->pending = pending;
	model_vhca_fill(vf);
	model_vhca_reset(vf);
	atomic_set(&vf->flr_pending, 0);
	memset(vf->counters, 0, sizeof(vf->counters));
	vf->enabled = true;
	mutex_unlock(&vf->lock);
	INIT_DELAYED_WORK(&vf->dirty_work, model_vhca_dirty_work);
	schedule_delayed_work(&vf->dirty_work, 0);
	return 0;
}

void model_vhca_disable(struct model_vf *vf)
{
	mutex_lock(&vf->lock);
	vf->enabled = false;
	mutex_unlock(&vf->lock);
	cancel_delayed_work_sync(&vf->dirty_work);
	mutex_lock(&vf->lock);
	vfree(vf->state);
	bitmap_free(vf->dirty);
	bitmap_free(vf->pending);
	vf->state = NULL;
	vf->dirty = NULL;
	vf->pending = NULL;
	vf->size = 0;
	vf->npages = 0;
	mutex_unlock(&vf->lock);
}

/* Called with vf->lock held. */
u32 model_vhca_digest(struct model_vf *vf)
{
	return vf->state ? model_crc32(~0, vf->state, vf->size) : 0;
}

/* Called with vf->lock held; returns an MLX5_CMD_STAT_*. */
u8 model_vhca_suspend(struct model_vf *vf, u16 op_mod)
{
	switch (op_mod) {
	case MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_INITIATOR:
		if (vf->mig_state == MODEL_RUNNING)
			vf->mig_state = MODEL_INIT_SUSPENDED;
		return MLX5_CMD_STAT_OK;
	case MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_RESPONDER:
		if (vf->mig_state == MODEL_RUNNING)
			return MLX5_CMD_STAT_BAD_SYS_STATE_ERR;
		if (vf->mig_state == MODEL_INIT_SUSPENDED)
			vf->loaded = false;
		vf->mig_state = MODEL_SUSPENDED;
		return MLX5_CMD_STAT_OK;
	}
	return MLX5_CMD_STAT_BAD_PARAM_ERR;
}

/* Called with vf->lock held; returns an MLX5_CMD_STAT_*. */
u8 model_vhca_resume(struct model_vf *vf, u16 op_mod)
{
	switch (op_mod) {
	case MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_RESPONDER:
		if (vf->mig_state == MODEL_SUSPENDED)
			vf->mig_state = MODEL_INIT_SUSPENDED;
		return MLX5_CMD_STAT_OK;
	case MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_INITIATOR:
		if (vf->mig_state == MODEL_SUSPENDED)
			return MLX5_CMD_STAT_BAD_SYS_STATE_ERR;
		vf->mig_state = MODEL_RUNNING;
		return MLX5_CMD_STAT_OK;
	}
	return MLX5_CMD_STAT_BAD_PARAM_ERR;
}
