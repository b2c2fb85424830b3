// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h): event queues.
 *
 * The model has no EQ of its own: completion vectors are numbers a CQ
 * names, and asynchronous events go straight to the notifiers registered
 * for their type, in atomic context (bottom halves off, under RCU), as
 * mlx5_core's EQ interrupt handler would call them.
 */
#include <linux/cpumask.h>
#include <linux/rcupdate.h>

#include "model.h"

/* The EQ number of completion vector i, and how many vectors exist. */
#define MODEL_COMP_EQN_BASE	0x10
#define MODEL_COMP_VECS		2

void model_eq_init(struct model_pf *pf)
{
	xa_init_flags(&pf->eq_nbs, XA_FLAGS_ALLOC);
}

void model_eq_destroy(struct model_pf *pf)
{
	xa_destroy(&pf->eq_nbs);
}

int model_eq_nb_register(struct mlx5_core_dev *mdev, struct mlx5_nb *nb)
{
	struct model_pf *pf = model_pf_of(mdev);
	u32 id;

	return xa_alloc(&pf->eq_nbs, &id, nb, xa_limit_32b, GFP_KERNEL);
}

int model_eq_nb_unregister(struct mlx5_core_dev *mdev, struct mlx5_nb *nb)
{
	struct model_pf *pf = model_pf_of(mdev);
	struct mlx5_nb *cur;
	unsigned long id;

	xa_for_each(&pf->eq_nbs, id, cur) {
		if (cur != nb)
			continue;
		xa_erase(&pf->eq_nbs, id);
		/* No call of @nb may still be running when this returns. */
		synchronize_rcu();
		return 0;
	}
	return -ENOENT;
}

unsigned int model_eq_nb_count(struct model_pf *pf)
{
	struct mlx5_nb *nb;
	unsigned long id;
	unsigned int n = 0;

	xa_for_each(&pf->eq_nbs, id, nb)
		n++;
	return n;
}

/* Calls every notifier of @eqe's type with it. */
static void model_eq_raise(struct model_pf *pf, struct mlx5_eqe *eqe)
{
	struct mlx5_nb *nb;
	unsigned long id;

	local_bh_disable();
	rcu_read_lock();
	xa_for_each(&pf->eq_nbs, id, nb)
		if (nb->event_type == eqe->type)
			nb->nb.notifier_call(&nb->nb, eqe->type, eqe);
	rcu_read_unlock();
	local_bh_enable();
}

/* OBJECT_CHANGE for general object @id of type @type. */
void model_eq_object_change(struct model_pf *pf, u16 type, u32 id)
{
	struct mlx5_eqe eqe = {};

	eqe.type = MLX5_EVENT_TYPE_OBJECT_CHANGE;
	eqe.data.obj_change.obj_type = cpu_to_be16(type);
	eqe.data.obj_change.obj_id = cpu_to_be32(id);
	model_eq_raise(pf, &eqe);
}

int model_comp_eqn(struct mlx5_core_dev *mdev, u16 vecidx, int *eqn)
{
	if (vecidx >= MODEL_COMP_VECS)
		return -ENOENT;
	*eqn = MODEL_COMP_EQN_BASE + vecidx;
	return 0;
}

bool model_comp_eqn_valid(u32 eqn)
{
	return eqn >= MODEL_COMP_EQN_BASE &&
	       eqn < MODEL_COMP_EQN_BASE + MODEL_COMP_VECS;
}

int model_comp_cpu(struct mlx5_core_dev *mdev, int vector)
{
	return cpumask_local_spread(vector, dev_to_node(mdev->device));
}
