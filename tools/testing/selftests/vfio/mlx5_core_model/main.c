// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h): module parameters and the PF
 * driver.
 *
 * The PF is bound through driver_override only:
 *   echo mlx5_core_model > /sys/bus/pci/devices/BDF/driver_override
 *   echo BDF > /sys/bus/pci/drivers_probe
 * It is never reset: QEMU 7.2 drops an nvme PF's VFs on a PF reset.
 */
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "model.h"

unsigned long model_state_size = SZ_1M;
module_param_named(state_size, model_state_size, ulong, 0644);
MODULE_PARM_DESC(state_size,
		 "bytes of simulated state per VF, rounded up to 4 KiB (default 1 MiB; read at VF creation)");

unsigned int model_dirty_interval_ms = 10;
module_param_named(dirty_interval_ms, model_dirty_interval_ms, uint, 0644);
MODULE_PARM_DESC(dirty_interval_ms,
		 "a running VF changes one page of its state this often, 0 never (default 10)");

bool model_multi_load = true;
module_param_named(migration_multi_load, model_multi_load, bool, 0444);
MODULE_PARM_DESC(migration_multi_load,
		 "capability: several LOADs per suspension (default on)");

bool model_tracking = true;
module_param_named(migration_tracking_state, model_tracking, bool, 0444);
MODULE_PARM_DESC(migration_tracking_state,
		 "capability: SAVE while running with dirty tracking, pre-copy (default on)");

bool model_in_chunks;
module_param_named(migration_in_chunks, model_in_chunks, bool, 0444);
MODULE_PARM_DESC(migration_in_chunks,
		 "capability: SAVE in chunks of a bounded size (default off)");

unsigned int model_chunk_size = SZ_256K;
module_param_named(chunk_size, model_chunk_size, uint, 0644);
MODULE_PARM_DESC(chunk_size,
		 "largest chunk QUERY asks for in chunk mode, at least one page's image (default 256 KiB)");

unsigned int model_async_delay_ms;
module_param_named(async_delay_ms, model_async_delay_ms, uint, 0644);
MODULE_PARM_DESC(async_delay_ms,
		 "delay before an async command runs (default 0)");

unsigned int model_cmd_timeout_ms = 2000;
module_param_named(cmd_timeout_ms, model_cmd_timeout_ms, uint, 0644);
MODULE_PARM_DESC(cmd_timeout_ms,
		 "how long an unanswered command takes to time out (default 2000)");

unsigned int model_track_max_ranges = 4;
module_param_named(track_max_ranges, model_track_max_ranges, uint, 0644);
MODULE_PARM_DESC(track_max_ranges,
		 "capability: ranges one page tracker takes, 1-255 (default 4; read when a PF binds)");

bool model_tracking_caps = true;
module_param_named(tracking_caps, model_tracking_caps, bool, 0644);
MODULE_PARM_DESC(tracking_caps,
		 "capability: adv_virtualization, page tracking (default on; read when a PF binds)");

static struct pci_driver model_driver;

/* Returns the model's PF of @vf, or NULL if the PF is not bound to it. */
struct model_pf *model_pf_of_vf(struct pci_dev *vf)
{
	struct model_pf *pf;

	if (!vf->is_virtfn)
		return NULL;
	pf = pci_iov_get_pf_drvdata(vf, &model_driver);
	return IS_ERR(pf) ? NULL : pf;
}

/* Page tracking's limits; the table is there even when not advertised. */
static void model_caps_adv(struct mlx5_hca_cap *adv)
{
	void *c = adv->cur;

	MLX5_SET(adv_virtualization_cap, c, pg_track_log_max_num, 2);
	MLX5_SET(adv_virtualization_cap, c, pg_track_max_num_range,
		 clamp(model_track_max_ranges, 1U, 255U));
	MLX5_SET(adv_virtualization_cap, c, pg_track_log_min_addr_space, 12);
	MLX5_SET(adv_virtualization_cap, c, pg_track_log_max_addr_space, 48);
	MLX5_SET(adv_virtualization_cap, c, pg_track_log_min_msg_size, 12);
	MLX5_SET(adv_virtualization_cap, c, pg_track_log_max_msg_size, 21);
	MLX5_SET(adv_virtualization_cap, c, pg_track_log_min_page_size, 12);
	MLX5_SET(adv_virtualization_cap, c, pg_track_log_max_page_size, 30);
	memcpy(adv->max, adv->cur, sizeof(adv->max));
}

/*
 * The capabilities the variant reads through MLX5_CAP_GEN(),
 * MLX5_CAP_GEN_2() and MLX5_CAP_ADV_VIRTUALIZATION(); everything else
 * stays zero, "not supported".
 */
static int model_caps_init(struct mlx5_core_dev *mdev)
{
	struct mlx5_hca_cap *gen, *gen2, *adv;

	gen = kzalloc(sizeof(*gen), GFP_KERNEL);
	gen2 = kzalloc(sizeof(*gen2), GFP_KERNEL);
	adv = kzalloc(sizeof(*adv), GFP_KERNEL);
	if (!gen || !gen2 || !adv) {
		kfree(gen);
		kfree(gen2);
		kfree(adv);
		return -ENOMEM;
	}
	MLX5_SET(cmd_hca_cap, gen->cur, migration, 1);
	MLX5_SET(cmd_hca_cap, gen->cur, adv_virtualization,
		 model_tracking_caps);
	MLX5_SET(cmd_hca_cap, gen->cur, vhca_id, 0);
	MLX5_SET(cmd_hca_cap_2, gen2->cur, migration_multi_load,
		 model_multi_load);
	MLX5_SET(cmd_hca_cap_2, gen2->cur, migration_tracking_state,
		 model_tracking);
	MLX5_SET(cmd_hca_cap_2, gen2->cur, migration_in_chunks,
		 model_in_chunks);
	memcpy(gen->max, gen->cur, sizeof(gen->max));
	memcpy(gen2->max, gen2->cur, sizeof(gen2->max));
	mdev->caps.hca[MLX5_CAP_GENERAL] = gen;
	mdev->caps.hca[MLX5_CAP_GENERAL_2] = gen2;
	model_caps_adv(adv);
	mdev->caps.hca[MLX5_CAP_ADV_VIRTUALIZATION] = adv;
	return 0;
}

static void model_caps_free(struct mlx5_core_dev *mdev)
{
	kfree(mdev->caps.hca[MLX5_CAP_GENERAL]);
	kfree(mdev->caps.hca[MLX5_CAP_GENERAL_2]);
	kfree(mdev->caps.hca[MLX5_CAP_ADV_VIRTUALIZATION]);
}

static void model_mdev_init(struct model_pf *pf, struct pci_dev *pdev)
{
	struct mlx5_core_dev *mdev = &pf->mdev;

	mdev->pdev = pdev;
	mdev->device = &pdev->dev;
	mdev->coredev_type = MLX5_COREDEV_PF;
	mutex_init(&mdev->intf_state_mutex);
	set_bit(MLX5_INTERFACE_STATE_UP, &mdev->intf_state);
	pf->pdev = pdev;
	refcount_set(&pf->users, 1);
	init_completion(&pf->unused);
	mutex_init(&pf->sriov_lock);
	spin_lock_init(&pf->inject_lock);
	pf->inject.fail_opcode = -1;
	pf->inject.hang_opcode = -1;
	pf->inject.track_fail_after = -1;
	model_res_init(pf);
	model_dma_init(pf);
	model_eq_init(pf);
	model_track_init(pf);
}

static int model_pci_setup(struct pci_dev *pdev)
{
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	pci_set_master(pdev);
	return 0;
}

static int model_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct model_pf *pf;
	int ret;

	/* VFs report the ConnectX VF ID but are never ours to drive. */
	if (pdev->is_virtfn || !pdev->is_physfn)
		return -ENODEV;
	ret = model_pci_setup(pdev);
	if (ret)
		return ret;
	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return -ENOMEM;
	model_mdev_init(pf, pdev);
	ret = model_caps_init(&pf->mdev);
	if (ret)
		goto err_free;
	/* Async commands may sleep (timeouts, the delay parameter). */
	pf->wq = alloc_workqueue("mlx5_model_cmd", WQ_UNBOUND, 0);
	if (!pf->wq) {
		ret = -ENOMEM;
		goto err_caps;
	}
	ret = model_vfs_alloc(pf);
	if (ret)
		goto err_wq;
	pci_set_drvdata(pdev, pf);
	model_debugfs_pf_add(pf);
	pci_info(pdev, "mlx5_core model bound (test only), %d VFs possible\n",
		 pf->total_vfs);
	return 0;

err_wq:
	destroy_workqueue(pf->wq);
err_caps:
	model_caps_free(&pf->mdev);
err_free:
	model_track_destroy(pf);
	model_eq_destroy(pf);
	model_dma_destroy(pf);
	model_res_destroy(pf);
	kfree(pf);
	return ret;
}

static void model_remove(struct pci_dev *pdev)
{
	struct model_pf *pf = pci_get_drvdata(pdev);

	/* No new references; VF removal drops the variant's ones. */
	WRITE_ONCE(pf->going, true);
	model_sriov_configure(pdev, 0);
	if (!refcount_dec_and_test(&pf->users))
		wait_for_completion(&pf->unused);
	/* Its queues' work runs on @wq: they go first. */
	model_track_destroy(pf);
	destroy_workqueue(pf->wq);
	model_debugfs_pf_remove(pf);
	model_vfs_free(pf);
	model_eq_destroy(pf);
	model_dma_destroy(pf);
	model_res_destroy(pf);
	model_caps_free(&pf->mdev);
	mutex_destroy(&pf->mdev.intf_state_mutex);
	kfree(pf);
}

/*
 * Override only: no ID is ever matched on its own, so the model binds the
 * PF a test names and nothing else.  The VFs it creates report
 * 15b3:101e, which this table does not match either.
 */
static const struct pci_device_id model_ids[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, model_ids);

static struct pci_driver model_driver = {
	.name			= MODEL_DRV_NAME,
	.id_table		= model_ids,
	.probe			= model_probe,
	.remove			= model_remove,
	/* sriov_numvfs: VFs come and go only through this. */
	.sriov_configure	= model_sriov_configure,
};

/* Is @pdev bound to the model right now (a PF it drives)? */
bool model_drives(struct pci_dev *pdev)
{
	return READ_ONCE(pdev->dev.driver) == &model_driver.driver;
}

static int __init model_init(void)
{
	int ret;

	if (model_chunk_size < model_image_size(1))
		model_chunk_size = model_image_size(1);
	model_debugfs_init();
	ret = model_bus_notifier_register();
	if (ret)
		goto err_debugfs;
	ret = model_flr_watch_start();
	if (ret)
		goto err_notifier;
	ret = pci_register_driver(&model_driver);
	if (ret)
		goto err_flr;
	return 0;

err_flr:
	model_flr_watch_stop();
err_notifier:
	model_bus_notifier_unregister();
err_debugfs:
	model_debugfs_exit();
	return ret;
}
module_init(model_init);

static void __exit model_exit(void)
{
	pci_unregister_driver(&model_driver);
	model_flr_watch_stop();
	model_bus_notifier_unregister();
	model_debugfs_exit();
}
module_exit(model_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("TEST ONLY: model of mlx5_core's VF migration interface");
