// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5-vfio-pci: vfio-pci for NVIDIA ConnectX virtual functions, with
 * live migration of the function's state through the PF's firmware.
 *
 * The driver is vfio-pci-core with four additions: it finds out at init
 * whether the function can migrate (fw.c), it offers the VFIO migration v2
 * states then (mig.c, stream.c) and DMA dirty-page logging where the
 * kernel and firmware can (dirty.c, tracker.c), and it learns about
 * resets so that its view of the migration state follows the device's.  Functions that cannot
 * migrate (the PF is not driven by mlx5_core, the firmware lacks the
 * capability, or they are not VFs) behave exactly as under vfio-pci.
 */
#include <linux/module.h>
#include <linux/pci.h>

#include "mlx5_vfio.h"

static int mlx5vf_init_dev(struct vfio_device *vdev)
{
	struct mlx5vf_device *mvdev = to_mlx5vf(vdev);
	int ret;

	ret = vfio_pci_core_init_dev(vdev);
	if (ret)
		return ret;

	mutex_init(&mvdev->state_lock);
	spin_lock_init(&mvdev->reset_lock);
	mlx5vf_fw_probe(mvdev);
	if (mvdev->migratable) {
		vdev->migration_flags = VFIO_MIGRATION_STOP_COPY |
					VFIO_MIGRATION_P2P;
		if (mvdev->precopy)
			vdev->migration_flags |= VFIO_MIGRATION_PRE_COPY;
		vdev->mig_ops = &mlx5vf_mig_ops;
		vdev->log_ops = mlx5vf_log_ops_for(mvdev);
	}
	return 0;
}

static void mlx5vf_release_dev(struct vfio_device *vdev)
{
	struct mlx5vf_device *mvdev = to_mlx5vf(vdev);

	mutex_destroy(&mvdev->state_lock);
	vfio_pci_core_release_dev(vdev);
}

static int mlx5vf_open_device(struct vfio_device *vdev)
{
	struct mlx5vf_device *mvdev = to_mlx5vf(vdev);
	int ret;

	ret = vfio_pci_core_enable(&mvdev->core);
	if (ret)
		return ret;
	if (mvdev->migratable)
		mvdev->mig_state = VFIO_DEVICE_STATE_RUNNING;
	vfio_pci_core_finish_enable(&mvdev->core);
	return 0;
}

/*
 * vfio core requires the data files to be at their end before we return;
 * DMA logging ends with the user that started it.
 */
static void mlx5vf_close_device(struct vfio_device *vdev)
{
	struct mlx5vf_device *mvdev = to_mlx5vf(vdev);

	if (mvdev->migratable) {
		mutex_lock(&mvdev->state_lock);
		mlx5vf_end_sessions(mvdev);
		mlx5vf_log_end(mvdev);
		mlx5vf_state_unlock(mvdev);
	}
	vfio_pci_core_close_device(vdev);
}

static const struct vfio_device_ops mlx5vf_ops = {
	.name		= "mlx5-vfio-pci",
	.init		= mlx5vf_init_dev,
	.release	= mlx5vf_release_dev,
	.match		= vfio_pci_core_match,
	.request	= vfio_pci_core_request,
	.open_device	= mlx5vf_open_device,
	.close_device	= mlx5vf_close_device,
	.ioctl		= vfio_pci_core_ioctl,
	.device_feature	= vfio_pci_core_ioctl_feature,
	.read		= vfio_pci_core_read,
	.write		= vfio_pci_core_write,
	.mmap		= vfio_pci_core_mmap,
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
};

static int mlx5vf_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct mlx5vf_device *mvdev;
	int ret;

	mvdev = vfio_alloc_device(mlx5vf_device, core.vdev, &pdev->dev,
				  &mlx5vf_ops);
	if (IS_ERR(mvdev))
		return PTR_ERR(mvdev);

	dev_set_drvdata(&pdev->dev, &mvdev->core);
	ret = vfio_pci_core_register_device(&mvdev->core);
	if (ret) {
		dev_set_drvdata(&pdev->dev, NULL);
		mlx5vf_fw_release(mvdev);
		vfio_put_device(&mvdev->core.vdev);
	}
	return ret;
}

/*
 * The PF side is let go once the device has no user, not at the last
 * reference: a data file userspace still holds keeps only the memory.
 */
static void mlx5vf_remove(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);
	struct mlx5vf_device *mvdev = container_of(core, struct mlx5vf_device,
						   core);

	vfio_pci_core_unregister_device(core);
	mlx5vf_fw_release(mvdev);
	vfio_put_device(&core->vdev);
}

/*
 * After any reset of the function (VFIO_DEVICE_RESET, a reset through
 * sysfs, a hot reset of its bus) the firmware has forgotten the migration:
 * follow it back to RUNNING.
 */
static void mlx5vf_pci_reset_done(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);

	mlx5vf_reset_done(container_of(core, struct mlx5vf_device, core));
}

static const struct pci_error_handlers mlx5vf_err_handlers = {
	.reset_done	= mlx5vf_pci_reset_done,
	.error_detected	= vfio_pci_core_aer_err_detected,
};

/* Bound only through driver_override: the aliases are vfio_pci: ones. */
static const struct pci_device_id mlx5vf_pci_table[] = {
	/* ConnectX VFs. */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_MELLANOX, 0x101e) },
	/* BlueField SNAP functions: never migratable. */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_MELLANOX, 0x6001) },
	{ PCI_DEVICE_SUB(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1042,
			 PCI_VENDOR_ID_MELLANOX, PCI_ANY_ID),
	  .override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE },
	{}
};
MODULE_DEVICE_TABLE(pci, mlx5vf_pci_table);

static struct pci_driver mlx5vf_pci_driver = {
	.name			= KBUILD_MODNAME,
	.id_table		= mlx5vf_pci_table,
	.probe			= mlx5vf_probe,
	.remove			= mlx5vf_remove,
	.err_handler		= &mlx5vf_err_handlers,
	.driver_managed_dma	= true,
};
module_pci_driver(mlx5vf_pci_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO PCI driver with live migration for NVIDIA ConnectX virtual functions");
