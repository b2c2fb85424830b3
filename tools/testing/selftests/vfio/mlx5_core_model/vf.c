// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h): the PF's VFs.
 *
 * The VFs of a model-bound PF report the ConnectX VF ID 15b3:101e to the
 * PCI core from the moment they exist, so that mlx5-vfio-pci accepts
 * them; nothing binds them on its own (the model's ID table is override
 * only and refuses VFs, and mlx5-vfio-pci matches through
 * driver_override only).
 */
#include <linux/slab.h>

#include "model.h"

int model_vfs_alloc(struct model_pf *pf)
{
	int i, total = pci_sriov_get_totalvfs(pf->pdev);

	pf->vfs = kcalloc(max(total, 1), sizeof(*pf->vfs), GFP_KERNEL);
	if (!pf->vfs)
		return -ENOMEM;
	pf->total_vfs = total;
	for (i = 0; i < total; i++) {
		struct model_vf *vf = &pf->vfs[i];

		vf->pf = pf;
		vf->id = i;
		vf->vhca_id = i + 1;
		BLOCKING_INIT_NOTIFIER_HEAD(&vf->notifier);
		mutex_init(&vf->lock);
	}
	return 0;
}

void model_vfs_free(struct model_pf *pf)
{
	int i;

	for (i = 0; i < pf->total_vfs; i++)
		mutex_destroy(&pf->vfs[i].lock);
	kfree(pf->vfs);
}

static void model_vfs_disable(struct model_pf *pf)
{
	int i, n = pf->num_vfs;

	/*
	 * As mlx5_core does: users of each VF hear of its removal first,
	 * from here where they may sleep, and its commands fail from then
	 * on; only then do the VFs leave the PCI bus.
	 */
	for (i = 0; i < n; i++)
		blocking_notifier_call_chain(&pf->vfs[i].notifier,
					     MLX5_PF_NOTIFY_DISABLE_VF, NULL);
	for (i = 0; i < n; i++) {
		model_debugfs_vf_remove(&pf->vfs[i]);
		/* What its users left tracking it fails, and says so. */
		model_track_fail_all(pf, pf->vfs[i].vhca_id);
		model_vhca_disable(&pf->vfs[i]);
	}
	pci_disable_sriov(pf->pdev);
	pf->num_vfs = 0;
}

static int model_vfs_enable(struct model_pf *pf, int n)
{
	int i, ret;

	for (i = 0; i < n; i++) {
		ret = model_vhca_enable(&pf->vfs[i]);
		if (ret)
			goto err;
	}
	ret = pci_enable_sriov(pf->pdev, n);
	if (ret)
		goto err;
	pf->num_vfs = n;
	for (i = 0; i < n; i++)
		model_debugfs_vf_add(&pf->vfs[i]);
	return n;

err:
	while (i--)
		model_vhca_disable(&pf->vfs[i]);
	return ret;
}

/* The PF's sriov_configure, and unbind's way to remove the VFs. */
int model_sriov_configure(struct pci_dev *pdev, int num_vfs)
{
	struct model_pf *pf = pci_get_drvdata(pdev);
	int ret = 0;

	mutex_lock(&pf->sriov_lock);
	if (num_vfs == 0) {
		if (pf->num_vfs)
			model_vfs_disable(pf);
	} else if (pf->num_vfs) {
		ret = -EBUSY;
	} else if (num_vfs > pf->total_vfs || READ_ONCE(pf->going)) {
		ret = -EINVAL;
	} else {
		ret = model_vfs_enable(pf, num_vfs);
	}
	mutex_unlock(&pf->sriov_lock);
	return ret;
}

/* A VF of a PF bound to the model right now. */
static bool model_owns_vf(struct pci_dev *pdev)
{
	return pdev->is_virtfn && model_drives(pdev->physfn);
}

/* What the PCI core gave the VF: the PF's vendor, the SR-IOV VF ID. */
static void model_vf_real_id(struct pci_dev *pdev)
{
	struct pci_dev *pf = pdev->physfn;
	int pos = pci_find_ext_capability(pf, PCI_EXT_CAP_ID_SRIOV);
	u16 did;

	if (!pos || pci_read_config_word(pf, pos + PCI_SRIOV_VF_DID, &did))
		return;
	pdev->vendor = pf->vendor;
	pdev->device = did;
}

/*
 * BUS_NOTIFY_ADD_DEVICE comes between the VF's pci_dev being set up and
 * any driver seeing it: the ID changes before anything can match on the
 * real one.  At removal the real ID (the PF's vendor, the VF device ID of
 * its SR-IOV capability) goes back, for whatever reports the device as it
 * leaves.
 */
static int model_bus_event(struct notifier_block *nb, unsigned long action,
			   void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);

	if (!pdev->is_virtfn)
		return NOTIFY_DONE;
	if (action == BUS_NOTIFY_ADD_DEVICE && model_owns_vf(pdev)) {
		pci_info(pdev, "VF %04x:%04x reported as %04x:%04x (mlx5_core model)\n",
			 pdev->vendor, pdev->device, MODEL_VF_VENDOR,
			 MODEL_VF_DEVICE);
		pdev->vendor = MODEL_VF_VENDOR;
		pdev->device = MODEL_VF_DEVICE;
	} else if (action == BUS_NOTIFY_DEL_DEVICE && model_owns_vf(pdev)) {
		model_vf_real_id(pdev);
	}
	return NOTIFY_DONE;
}

static struct notifier_block model_bus_nb = {
	.notifier_call = model_bus_event,
};

int model_bus_notifier_register(void)
{
	return bus_register_notifier(&pci_bus_type, &model_bus_nb);
}

void model_bus_notifier_unregister(void)
{
	bus_unregister_notifier(&pci_bus_type, &model_bus_nb);
}

/*
 * The reference keeps the PF bound: unbinding waits for it, after having
 * removed the VFs (whose drivers drop their references as they go).
 */
struct mlx5_core_dev *model_vf_get_core_dev(struct pci_dev *vf)
{
	struct model_pf *pf = model_pf_of_vf(vf);

	if (!pf || READ_ONCE(pf->going))
		return NULL;
	if (!refcount_inc_not_zero(&pf->users))
		return NULL;
	return &pf->mdev;
}

void model_vf_put_core_dev(struct mlx5_core_dev *mdev)
{
	struct model_pf *pf = model_pf_of(mdev);

	if (refcount_dec_and_test(&pf->users))
		complete(&pf->unused);
}

int model_vf_notifier_register(struct mlx5_core_dev *mdev, int vf_id,
			       struct notifier_block *nb)
{
	struct model_pf *pf = model_pf_of(mdev);

	if (vf_id < 0 || vf_id >= pf->total_vfs)
		return -EINVAL;
	return blocking_notifier_chain_register(&pf->vfs[vf_id].notifier, nb);
}

void model_vf_notifier_unregister(struct mlx5_core_dev *mdev, int vf_id,
				  struct notifier_block *nb)
{
	struct model_pf *pf = model_pf_of(mdev);

	if (vf_id < 0 || vf_id >= pf->total_vfs)
		return;
	blocking_notifier_chain_unregister(&pf->vfs[vf_id].notifier, nb);
}
