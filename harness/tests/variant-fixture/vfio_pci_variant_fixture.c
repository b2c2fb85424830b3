// SPDX-License-Identifier: GPL-2.0
/*
 * Test fixture for the VM tests, never for real systems: a variant driver
 * put together from nothing but the blocks vfio-pci-core exports, the way a
 * vendor driver is, so the tests can see the core through a driver that is
 * not vfio-pci.
 *
 *   modprobe vfio-pci-core
 *   insmod vfio_pci_variant_fixture.ko [region_pages=N] [incomplete_mig_ops=1]
 *   echo vfio-pci-variant-fixture > /sys/bus/pci/devices/$BDF/driver_override
 *   echo $BDF > /sys/bus/pci/drivers_probe
 *
 * Its ID table matches any device, but only through driver_override.
 *
 * What it adds to the core:
 *   - reset_prepare and reset_done error handlers that count their calls per
 *     device; the counts read as the attributes reset_prepare_count and
 *     reset_done_count of the bound PCI device (0 after probe);
 *   - region_pages=N: every open registers a device-specific region of N
 *     zeroed pages of kernel memory, readable, writable and mmappable, of
 *     type VFIO_REGION_TYPE_PCI_VENDOR_TYPE | FIXTURE_REGION_VENDOR and
 *     subtype FIXTURE_REGION_SUBTYPE.  0 (the default) registers none.  The
 *     value is read at each open.  The memory lives until the last close;
 *   - incomplete_mig_ops=1: probe hands the core migration ops without a
 *     get_data_size callback; mig_no_stop_copy=1: complete migration ops but
 *     migration flags without VFIO_MIGRATION_STOP_COPY;
 *     incomplete_log_ops=1: dirty logging ops without read_and_clear.  The
 *     core must refuse to register the device in each case.
 */
#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>
#include <linux/vmalloc.h>

/*
 * The region's type: the vendor bit plus vendor ID 0xffff, which the PCI SIG
 * never assigns, so no real driver's region can be mistaken for it.
 */
#define FIXTURE_REGION_VENDOR	0xffff
#define FIXTURE_REGION_TYPE	(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | \
				 FIXTURE_REGION_VENDOR)
#define FIXTURE_REGION_SUBTYPE	1

/* Any device, but only when driver_override names this driver. */
static const struct pci_device_id fixture_ids[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID) },
	{ 0, }
};
MODULE_DEVICE_TABLE(pci, fixture_ids);

/* Page offset inside a region, from a VMA's vm_pgoff. */
#define FIXTURE_PGOFF_MASK	((1UL << (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT)) - 1)

static unsigned int region_pages;
module_param(region_pages, uint, 0644);
MODULE_PARM_DESC(region_pages,
		 "pages of the device-specific region registered at each open (default 0: none)");

static bool incomplete_mig_ops;
module_param(incomplete_mig_ops, bool, 0444);
MODULE_PARM_DESC(incomplete_mig_ops,
		 "register devices with migration ops lacking get_data_size");

static bool mig_no_stop_copy;
module_param(mig_no_stop_copy, bool, 0444);
MODULE_PARM_DESC(mig_no_stop_copy,
		 "register devices with migration ops but without VFIO_MIGRATION_STOP_COPY");

static bool incomplete_log_ops;
module_param(incomplete_log_ops, bool, 0444);
MODULE_PARM_DESC(incomplete_log_ops,
		 "register devices with dirty logging ops lacking read_and_clear");

/**
 * struct fixture_device - one device bound to the fixture
 * @core: the core's state; first, as vfio_alloc_device() wants
 * @reset_prepare: calls of the reset_prepare error handler since probe
 * @reset_done: calls of the reset_done error handler since probe
 * @mem: the region's memory while the device is open with a region, or NULL
 * @mem_size: its size in bytes
 *
 * @mem and @mem_size change only in open_device and at last close, both
 * under the vfio device set lock, and are read only while the device is
 * open.
 */
struct fixture_device {
	struct vfio_pci_core_device	core;
	atomic_t			reset_prepare;
	atomic_t			reset_done;
	void				*mem;
	size_t				mem_size;
};

static struct fixture_device *to_fixture(struct vfio_pci_core_device *core)
{
	return container_of(core, struct fixture_device, core);
}

static struct fixture_device *pci_to_fixture(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);

	return core ? to_fixture(core) : NULL;
}

/* ---- The device-specific region ---- */

static ssize_t fixture_region_rw(struct vfio_pci_core_device *core,
				 char __user *buf, size_t count, loff_t *ppos,
				 bool iswrite)
{
	struct fixture_device *fix = to_fixture(core);
	u64 pos = *ppos & VFIO_PCI_OFFSET_MASK;
	unsigned long left;

	if (pos >= fix->mem_size)
		return -EINVAL;
	count = min_t(size_t, count, fix->mem_size - pos);
	if (iswrite)
		left = copy_from_user(fix->mem + pos, buf, count);
	else
		left = copy_to_user(buf, fix->mem + pos, count);
	if (left == count)
		return -EFAULT;
	count -= left;
	*ppos += count;
	return count;
}

/*
 * Whether a private mapping is acceptable is the core's call, not ours:
 * this maps whatever it is asked to, so the tests see what the core lets
 * through.  remap_vmalloc_range() refuses a range beyond the memory.
 */
static int fixture_region_mmap(struct vfio_pci_core_device *core,
			       struct vfio_pci_region *region,
			       struct vm_area_struct *vma)
{
	struct fixture_device *fix = to_fixture(core);

	return remap_vmalloc_range(vma, fix->mem,
				   vma->vm_pgoff & FIXTURE_PGOFF_MASK);
}

static void fixture_region_release(struct vfio_pci_core_device *core,
				   struct vfio_pci_region *region)
{
	struct fixture_device *fix = to_fixture(core);

	vfree(fix->mem);
	fix->mem = NULL;
	fix->mem_size = 0;
}

static const struct vfio_pci_regops fixture_regops = {
	.rw		= fixture_region_rw,
	.mmap		= fixture_region_mmap,
	.release	= fixture_region_release,
};

static int fixture_add_region(struct fixture_device *fix)
{
	unsigned int pages = READ_ONCE(region_pages);
	size_t size = (size_t)pages << PAGE_SHIFT;
	int ret;

	if (!pages)
		return 0;
	/* vmalloc_user(): zeroed, and allowed to be mapped to user space. */
	fix->mem = vmalloc_user(size);
	if (!fix->mem)
		return -ENOMEM;
	fix->mem_size = size;
	ret = vfio_pci_core_register_dev_region(&fix->core, FIXTURE_REGION_TYPE,
						FIXTURE_REGION_SUBTYPE,
						&fixture_regops, size,
						VFIO_REGION_INFO_FLAG_READ |
						VFIO_REGION_INFO_FLAG_WRITE |
						VFIO_REGION_INFO_FLAG_MMAP,
						NULL);
	if (ret) {
		vfree(fix->mem);
		fix->mem = NULL;
		fix->mem_size = 0;
	}
	return ret;
}

/* ---- vfio_device_ops ---- */

static int fixture_open_device(struct vfio_device *vdev)
{
	struct vfio_pci_core_device *core =
		container_of(vdev, struct vfio_pci_core_device, vdev);
	int ret;

	ret = vfio_pci_core_enable(core);
	if (ret)
		return ret;
	ret = fixture_add_region(to_fixture(core));
	if (ret)
		goto err_disable;
	vfio_pci_core_finish_enable(core);
	return 0;

err_disable:
	vfio_pci_core_disable(core);
	return ret;
}

/*
 * Only open_device is ours; the rest is the core's, as in any variant that
 * has nothing to add to the uAPI itself.
 */
static const struct vfio_device_ops fixture_vfio_ops = {
	.name		= "vfio-pci-variant-fixture",
	.open_device	= fixture_open_device,

	.read		= vfio_pci_core_read,
	.write		= vfio_pci_core_write,
	.ioctl		= vfio_pci_core_ioctl,
	.mmap		= vfio_pci_core_mmap,
	.device_feature	= vfio_pci_core_ioctl_feature,

	.close_device	= vfio_pci_core_close_device,
	.match		= vfio_pci_core_match,
	.request	= vfio_pci_core_request,
	.init		= vfio_pci_core_init_dev,
	.release	= vfio_pci_core_release_dev,

	/* Needed whenever the kernel has iommufd. */
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	.bind_iommufd	= vfio_iommufd_physical_bind,
};

/* ---- Migration and dirty logging ops the core must refuse ---- */

/* Never called: the core refuses every device these are offered with. */
static struct file *fixture_mig_set_state(struct vfio_device *vdev,
					  enum vfio_device_mig_state new_state)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static int fixture_mig_get_state(struct vfio_device *vdev,
				 enum vfio_device_mig_state *curr_state)
{
	return -EOPNOTSUPP;
}

static int fixture_mig_get_data_size(struct vfio_device *vdev,
				     unsigned long *stop_copy_length)
{
	return -EOPNOTSUPP;
}

static int fixture_log_start(struct vfio_device *vdev,
			     struct rb_root_cached *ranges, u32 nnodes,
			     u64 *page_size)
{
	return -EOPNOTSUPP;
}

static int fixture_log_stop(struct vfio_device *vdev)
{
	return -EOPNOTSUPP;
}

static const struct vfio_migration_ops fixture_mig_ops_no_size = {
	.migration_set_state	= fixture_mig_set_state,
	.migration_get_state	= fixture_mig_get_state,
};

static const struct vfio_migration_ops fixture_mig_ops = {
	.migration_set_state	 = fixture_mig_set_state,
	.migration_get_state	 = fixture_mig_get_state,
	.migration_get_data_size = fixture_mig_get_data_size,
};

static const struct vfio_log_ops fixture_log_ops_no_read = {
	.log_start	= fixture_log_start,
	.log_stop	= fixture_log_stop,
};

static void fixture_set_bad_ops(struct vfio_device *vdev)
{
	if (incomplete_mig_ops) {
		vdev->mig_ops = &fixture_mig_ops_no_size;
		vdev->migration_flags = VFIO_MIGRATION_STOP_COPY;
	} else if (mig_no_stop_copy) {
		vdev->mig_ops = &fixture_mig_ops;
		vdev->migration_flags = VFIO_MIGRATION_P2P;
	}
	if (incomplete_log_ops)
		vdev->log_ops = &fixture_log_ops_no_read;
}

/* ---- Error handlers ---- */

static void fixture_reset_prepare(struct pci_dev *pdev)
{
	struct fixture_device *fix = pci_to_fixture(pdev);

	if (fix)
		atomic_inc(&fix->reset_prepare);
}

static void fixture_reset_done(struct pci_dev *pdev)
{
	struct fixture_device *fix = pci_to_fixture(pdev);

	if (fix)
		atomic_inc(&fix->reset_done);
}

static const struct pci_error_handlers fixture_err_handlers = {
	.error_detected	= vfio_pci_core_aer_err_detected,
	.reset_prepare	= fixture_reset_prepare,
	.reset_done	= fixture_reset_done,
};

/* ---- sysfs: the reset counters ---- */

static ssize_t reset_prepare_count_show(struct device *dev,
					struct device_attribute *attr,
					char *buf)
{
	struct fixture_device *fix = pci_to_fixture(to_pci_dev(dev));

	return sysfs_emit(buf, "%d\n", fix ? atomic_read(&fix->reset_prepare) : 0);
}
static DEVICE_ATTR_RO(reset_prepare_count);

static ssize_t reset_done_count_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct fixture_device *fix = pci_to_fixture(to_pci_dev(dev));

	return sysfs_emit(buf, "%d\n", fix ? atomic_read(&fix->reset_done) : 0);
}
static DEVICE_ATTR_RO(reset_done_count);

static struct attribute *fixture_attrs[] = {
	&dev_attr_reset_prepare_count.attr,
	&dev_attr_reset_done_count.attr,
	NULL,
};
ATTRIBUTE_GROUPS(fixture);

/* ---- The PCI driver ---- */

static int fixture_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct fixture_device *fix;
	int ret;

	fix = vfio_alloc_device(fixture_device, core.vdev, &pdev->dev,
				&fixture_vfio_ops);
	if (IS_ERR(fix))
		return PTR_ERR(fix);
	fixture_set_bad_ops(&fix->core.vdev);

	dev_set_drvdata(&pdev->dev, &fix->core);
	ret = vfio_pci_core_register_device(&fix->core);
	if (ret) {
		pci_info(pdev, "vfio-pci-variant-fixture: core refused the device: %d\n",
			 ret);
		goto err_put;
	}
	return 0;

err_put:
	dev_set_drvdata(&pdev->dev, NULL);
	vfio_put_device(&fix->core.vdev);
	return ret;
}

static void fixture_remove(struct pci_dev *pdev)
{
	struct fixture_device *fix = pci_to_fixture(pdev);

	/* Blocks until the last user has let go of the device. */
	vfio_pci_core_unregister_device(&fix->core);
	vfio_put_device(&fix->core.vdev);
}

static struct pci_driver fixture_driver = {
	.name			= "vfio-pci-variant-fixture",
	/* The counters appear with the binding and go with it. */
	.dev_groups		= fixture_groups,
	.err_handler		= &fixture_err_handlers,
	.driver.pm		= &vfio_pci_core_pm_ops,
	/* The device's DMA belongs to the vfio user, not to us. */
	.driver_managed_dma	= true,
	.probe			= fixture_probe,
	.remove			= fixture_remove,
	.id_table		= fixture_ids,
};
module_pci_driver(fixture_driver);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only vfio-pci-core variant driver for the VM tests");
