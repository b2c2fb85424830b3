// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfio-pci-core: device life cycle and the vfio_device_ops entry points.
 *
 * A bound device goes through:
 *   init_dev        -> locks and defaults, once per vfio_device
 *   register_device -> checks, reset group (device set), registration
 *   enable          -> at first open: PCI enable, function reset, saved
 *                      state, config space
 *   finish_enable   -> after the variant's own setup: mmap probing
 *   disable         -> at last close: interrupts off, reset, state restored,
 *                      reset of the whole device set once it is idle
 *                      (vfio_pci_reset.c)
 *   unregister_device, release_dev
 *
 * Open and close are serialised by the vfio core through the device set
 * lock (vdev->vdev.dev_set->lock).
 */
#include <linux/aer.h>
#include <linux/bitfield.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

/* Set by the driver built on the core, see vfio_pci_core_set_params(). */
bool vfio_pci_nointxmask;
bool vfio_pci_disable_vga;
static bool vfio_pci_disable_idle_d3;

/**
 * vfio_pci_core_set_params - module-wide policy of the driver using the core
 * @nointxmask: never mask INTx at the device; use exclusive interrupts
 * @is_disable_vga: do not expose legacy VGA ranges
 * @is_disable_idle_d3: keep idle devices in D0
 *
 * Called from the driver's module init, before any device is bound, and
 * again whenever the driver's parameters change.  Devices are not touched:
 * @nointxmask is looked at when a device is opened, @is_disable_vga and
 * @is_disable_idle_d3 when a device is registered.
 */
void vfio_pci_core_set_params(bool nointxmask, bool is_disable_vga,
			      bool is_disable_idle_d3)
{
	WRITE_ONCE(vfio_pci_nointxmask, nointxmask);
	WRITE_ONCE(vfio_pci_disable_vga, is_disable_vga);
	WRITE_ONCE(vfio_pci_disable_idle_d3, is_disable_idle_d3);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_set_params);

/* ---- Enable and disable ---- */

static void vfio_pci_find_msix(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u32 table;
	u16 flags;

	vdev->msix_bar = 0xff;
	vdev->msix_size = 0;
	vdev->msix_offset = 0;
	vdev->has_dyn_msix = false;
	if (!pdev->msix_cap)
		return;

	pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS, &flags);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &table);
	vdev->msix_bar = table & PCI_MSIX_TABLE_BIR;
	vdev->msix_offset = table & PCI_MSIX_TABLE_OFFSET;
	vdev->msix_size = ((flags & PCI_MSIX_FLAGS_QSIZE) + 1) *
			  PCI_MSIX_ENTRY_SIZE;
	vdev->has_dyn_msix = pci_msix_can_alloc_dyn(pdev);
}

static void vfio_pci_find_msi(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u16 flags;

	vdev->msi_qmax = 0;
	if (!pdev->msi_cap)
		return;
	pci_read_config_word(pdev, pdev->msi_cap + PCI_MSI_FLAGS, &flags);
	vdev->msi_qmax = 1 << FIELD_GET(PCI_MSI_FLAGS_QMASK, flags);
}

/*
 * Functions whose Interrupt Disable bit (PCI 3.0, 6.2.2) masks INTx but
 * whose Interrupt Status bit (6.2.3) never reports it: Intel's X550 and
 * X710/XL710/XXV710/X722 (i40e) Ethernet controllers.  Without the status
 * bit our handler cannot tell their interrupt from another device's on a
 * shared line.  They have MSI and MSI-X, so rather than give them an
 * exclusive line we hide INTx from the user: the pin reads 0, the INTx
 * count is 0 and the device is kept from asserting its line.
 */
struct vfio_pci_id_range {
	u16	first;
	u16	last;
};

static const struct vfio_pci_id_range vfio_pci_intel_intx_status_broken[] = {
	{ 0x1563, 0x1563 },	/* X550 */
	{ 0x1572, 0x1572 },	/* the rest: i40e */
	{ 0x1574, 0x1574 },
	{ 0x1580, 0x1581 },
	{ 0x1583, 0x158b },
	{ 0x37d0, 0x37d2 },
};

static bool vfio_pci_intx_status_broken(struct pci_dev *pdev)
{
	const struct vfio_pci_id_range *r = vfio_pci_intel_intx_status_broken;
	unsigned int i;

	if (pdev->vendor != PCI_VENDOR_ID_INTEL)
		return false;
	for (i = 0; i < ARRAY_SIZE(vfio_pci_intel_intx_status_broken); i++) {
		if (pdev->device >= r[i].first && pdev->device <= r[i].last)
			return true;
	}
	return false;
}

/*
 * INTx is usable only if the platform lets us offer it (CONFIG_VFIO_PCI_INTX,
 * off on s390, which has no INTx), the device has a pin routed to an
 * interrupt and is not one of the above.  nointxmask asks for exclusive
 * lines, which work without the status bit, so it leaves those devices
 * their INTx.
 */
static void vfio_pci_find_intx(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;

	vdev->nointx = !IS_ENABLED(CONFIG_VFIO_PCI_INTX) || !pdev->pin ||
		       !pdev->irq || pdev->irq == IRQ_NOTCONNECTED;
	if (!vdev->nointx && !READ_ONCE(vfio_pci_nointxmask) &&
	    vfio_pci_intx_status_broken(pdev)) {
		pci_info(pdev, "INTx status is unreliable; INTx hidden from the user\n");
		vdev->nointx = true;
		/* Held set for as long as the device is open. */
		vfio_pci_command_update(vdev, PCI_COMMAND_INTX_DISABLE,
					PCI_COMMAND_INTX_DISABLE);
		vdev->pci_2_3 = false;
		return;
	}
	vdev->pci_2_3 = !vdev->nointx && !READ_ONCE(vfio_pci_nointxmask) &&
			pci_intx_mask_supported(pdev);
	/* Nobody may assert a shared line until the user asks for INTx. */
	if (vdev->pci_2_3)
		vfio_pci_command_update(vdev, PCI_COMMAND_INTX_DISABLE,
					PCI_COMMAND_INTX_DISABLE);
}

/**
 * vfio_pci_core_enable - prepare a device for its first user
 * @vdev: the device
 *
 * Enables the PCI device, saves its state for restoration at last close and
 * builds the virtual config space.  Called from open_device with the device
 * set lock held.
 *
 * Return: 0 or a negative errno.
 */
int vfio_pci_core_enable(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	lockdep_assert_held(&vdev->vdev.dev_set->lock);

	ret = vfio_pci_power_open(vdev);
	if (ret)
		return ret;
	/*
	 * The state saved below is what the device goes back to at last
	 * close: it must not have bus mastering on, whatever a previous
	 * driver left behind.
	 */
	pci_clear_master(pdev);
	ret = pci_enable_device(pdev);
	if (ret)
		goto err_power;

	/*
	 * Start the user off with a freshly reset function, if it can be
	 * reset on its own; whether it can is what VFIO_DEVICE_FLAGS_RESET
	 * reports.  A contended device lock fails the open rather than
	 * handing out a device in whatever state it was left in.
	 */
	ret = vfio_pci_reset_function(vdev);
	if (ret == -EAGAIN)
		goto err_disable;
	vdev->reset_works = !ret;

	pci_save_state(pdev);
	vdev->pci_saved_state = pci_store_saved_state(pdev);
	if (!vdev->pci_saved_state)
		pci_dbg(pdev, "could not save state; it will not be restored\n");

	vfio_pci_find_intx(vdev);
	vfio_pci_find_msi(vdev);
	vfio_pci_find_msix(vdev);

	ret = vfio_pci_config_init(vdev);
	if (ret)
		goto err_disable;
	vfio_pci_vf_token_user_add(vdev, 1);
	return 0;

err_disable:
	kfree(vdev->pci_saved_state);
	vdev->pci_saved_state = NULL;
	pci_disable_device(pdev);
err_power:
	vfio_pci_power_close_end(vdev);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_enable);

/**
 * vfio_pci_core_finish_enable - last step of open_device
 * @vdev: the device
 *
 * Decides which BARs may be mmapped (vfio_pci_probe_mmaps()) and whether
 * the ROM BAR holds an image (vfio_pci_rom_probe()), once the variant
 * driver had its say about the device.
 */
void vfio_pci_core_finish_enable(struct vfio_pci_core_device *vdev)
{
	vfio_pci_probe_mmaps(vdev);
	vfio_pci_rom_probe(vdev);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_finish_enable);

/**
 * vfio_pci_core_disable - undo vfio_pci_core_enable() at last close
 * @vdev: the device
 *
 * Tears down whatever the user set up, resets the function if it can be
 * reset on its own, and puts back the state saved at open.
 */
void vfio_pci_core_disable(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;

	lockdep_assert_held(&vdev->vdev.dev_set->lock);

	vfio_pci_power_close_begin(vdev);
	/* They write through the barmaps released below. */
	vfio_pci_ioeventfds_release(vdev);
	vfio_pci_irqs_teardown(vdev);
	vfio_pci_release_dev_regions(vdev);
	vfio_pci_release_barmaps(vdev);
	vfio_pci_release_mmaps(vdev);

	/* Stop DMA before the reset so nothing is in flight across it. */
	pci_clear_master(pdev);
	/* What cannot be reset alone now waits for its set to go idle. */
	vdev->needs_reset = !vdev->reset_works ||
			    vfio_pci_reset_function(vdev);

	if (vdev->pci_saved_state &&
	    !pci_load_and_free_saved_state(pdev, &vdev->pci_saved_state))
		pci_restore_state(pdev);
	kfree(vdev->pci_saved_state);
	vdev->pci_saved_state = NULL;

	vfio_pci_config_free(vdev);
	pci_disable_device(pdev);
	vfio_pci_dev_set_reset_if_idle(vdev);
	vfio_pci_vf_token_user_add(vdev, -1);
	vfio_pci_power_close_end(vdev);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_disable);

/**
 * vfio_pci_core_close_device - vfio_device_ops.close_device
 * @core_vdev: the vfio device
 */
void vfio_pci_core_close_device(struct vfio_device *core_vdev)
{
	vfio_pci_core_disable(to_core_dev(core_vdev));
}
EXPORT_SYMBOL_GPL(vfio_pci_core_close_device);

/* ---- File operations ---- */

static ssize_t vfio_pci_region_rw(struct vfio_pci_core_device *vdev,
				  char __user *buf, size_t count, loff_t *ppos,
				  bool iswrite)
{
	u64 index = VFIO_PCI_OFFSET_TO_INDEX(*ppos);

	if (index >= VFIO_PCI_NUM_REGIONS + vdev->num_regions)
		return -EINVAL;
	index = array_index_nospec(index,
				   VFIO_PCI_NUM_REGIONS + vdev->num_regions);
	if (!count)
		return 0;

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return vfio_pci_config_rw(vdev, buf, count, ppos, iswrite);
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		return vfio_pci_bar_rw(vdev, buf, count, ppos, iswrite);
	case VFIO_PCI_ROM_REGION_INDEX:
		if (iswrite)
			return -EINVAL;
		return vfio_pci_rom_read(vdev, buf, count, ppos);
	case VFIO_PCI_VGA_REGION_INDEX:
		return vfio_pci_vga_rw(vdev, buf, count, ppos, iswrite);
	default:
		return vfio_pci_dev_region_rw(vdev, index, buf, count, ppos,
					      iswrite);
	}
}

/* Region access wakes a device the user let suspend, see vfio_pci_power.c. */
static ssize_t vfio_pci_rw(struct vfio_pci_core_device *vdev,
			   char __user *buf, size_t count, loff_t *ppos,
			   bool iswrite)
{
	bool woken;
	ssize_t ret;

	ret = vfio_pci_power_access_begin(vdev, &woken);
	if (ret)
		return ret;
	ret = vfio_pci_region_rw(vdev, buf, count, ppos, iswrite);
	vfio_pci_power_access_end(vdev, woken);
	return ret;
}

/**
 * vfio_pci_core_read - vfio_device_ops.read
 * @core_vdev: the vfio device
 * @buf: user buffer
 * @count: bytes requested
 * @ppos: file position: region index in the high bits, offset below
 *
 * Return: bytes read or a negative errno.
 */
ssize_t vfio_pci_core_read(struct vfio_device *core_vdev, char __user *buf,
			   size_t count, loff_t *ppos)
{
	return vfio_pci_rw(to_core_dev(core_vdev), buf, count, ppos, false);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_read);

/**
 * vfio_pci_core_write - vfio_device_ops.write
 * @core_vdev: the vfio device
 * @buf: user buffer
 * @count: bytes to write
 * @ppos: file position: region index in the high bits, offset below
 *
 * Return: bytes written or a negative errno.
 */
ssize_t vfio_pci_core_write(struct vfio_device *core_vdev,
			    const char __user *buf, size_t count,
			    loff_t *ppos)
{
	return vfio_pci_rw(to_core_dev(core_vdev), (char __user *)buf, count,
			   ppos, true);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_write);

/**
 * vfio_pci_core_mmap - vfio_device_ops.mmap
 * @core_vdev: the vfio device
 * @vma: the new mapping; vm_pgoff selects region and offset
 *
 * Return: 0 or a negative errno.
 */
int vfio_pci_core_mmap(struct vfio_device *core_vdev,
		       struct vm_area_struct *vma)
{
	struct vfio_pci_core_device *vdev = to_core_dev(core_vdev);
	unsigned long index;

	index = vma->vm_pgoff >> (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT);
	if (index >= VFIO_PCI_NUM_REGIONS + vdev->num_regions)
		return -EINVAL;
	if (vma->vm_end <= vma->vm_start)
		return -EINVAL;
	index = array_index_nospec(index,
				   VFIO_PCI_NUM_REGIONS + vdev->num_regions);

	if (index <= VFIO_PCI_BAR5_REGION_INDEX)
		return vfio_pci_bar_mmap(vdev, vma);
	if (index >= VFIO_PCI_NUM_REGIONS)
		return vfio_pci_dev_region_mmap(vdev, index, vma);
	return -EINVAL;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_mmap);

static long vfio_pci_ioctl_reset(struct vfio_pci_core_device *vdev)
{
	if (!vdev->reset_works)
		return -EINVAL;
	return vfio_pci_reset_function(vdev);
}

/**
 * vfio_pci_core_ioctl - vfio_device_ops.ioctl
 * @core_vdev: the vfio device
 * @cmd: the ioctl
 * @arg: its user argument
 *
 * Return: 0 or a negative errno; -ENOTTY for an unknown ioctl.
 */
long vfio_pci_core_ioctl(struct vfio_device *core_vdev, unsigned int cmd,
			 unsigned long arg)
{
	struct vfio_pci_core_device *vdev = to_core_dev(core_vdev);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vfio_pci_ioctl_get_info(vdev, uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vfio_pci_ioctl_get_region_info(vdev, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vfio_pci_ioctl_get_irq_info(vdev, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return vfio_pci_ioctl_set_irqs(vdev, uarg);
	case VFIO_DEVICE_RESET:
		return vfio_pci_ioctl_reset(vdev);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return vfio_pci_ioctl_get_pci_hot_reset_info(vdev, uarg);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return vfio_pci_ioctl_pci_hot_reset(vdev, uarg);
	case VFIO_DEVICE_IOEVENTFD:
		return vfio_pci_ioctl_ioeventfd(vdev, uarg);
	default:
		return -ENOTTY;
	}
}
EXPORT_SYMBOL_GPL(vfio_pci_core_ioctl);

/**
 * vfio_pci_core_request - the kernel wants the device back
 * @core_vdev: the vfio device
 * @count: how many times it asked already
 *
 * Relays the request to the user's REQ eventfd; without one, the unbind
 * blocks until the user lets go, and the log says why.
 */
void vfio_pci_core_request(struct vfio_device *core_vdev, unsigned int count)
{
	struct vfio_pci_core_device *vdev = to_core_dev(core_vdev);

	if (rcu_access_pointer(vdev->req_trigger)) {
		if (!(count % 10))
			pci_notice_ratelimited(vdev->pdev,
					       "asking the user to release the device (request %u)\n",
					       count);
		vfio_pci_signal_eventfd(&vdev->req_trigger);
	} else if (!count) {
		pci_warn(vdev->pdev,
			 "user has no request eventfd; waiting for it to release the device\n");
	}
}
EXPORT_SYMBOL_GPL(vfio_pci_core_request);

/**
 * vfio_pci_core_match - does a VFIO_GROUP_GET_DEVICE_FD string name us
 * @core_vdev: the vfio device
 * @buf: the string: the device name, optionally followed by options
 *
 * Return: 1 for a match, 0 for another device, -EINVAL for options this
 * device does not take, -EACCES for a missing or wrong VF token.
 */
int vfio_pci_core_match(struct vfio_device *core_vdev, char *buf)
{
	const char *name = pci_name(to_core_dev(core_vdev)->pdev);
	size_t len = strlen(name);

	if (strncmp(buf, name, len))
		return 0;
	if (buf[len] && buf[len] != ' ')
		return 0;
	return vfio_pci_match_options(to_core_dev(core_vdev), buf + len);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_match);

/* ---- Errors ---- */

/**
 * vfio_pci_core_aer_err_detected - AER error_detected callback
 * @pdev: the device
 * @state: the channel state
 *
 * Tells the user through its ERR eventfd; recovery is the user's job.
 *
 * Return: PCI_ERS_RESULT_CAN_RECOVER.
 */
pci_ers_result_t vfio_pci_core_aer_err_detected(struct pci_dev *pdev,
						pci_channel_state_t state)
{
	struct vfio_pci_core_device *vdev = dev_get_drvdata(&pdev->dev);

	vfio_pci_signal_eventfd(&vdev->err_trigger);
	return PCI_ERS_RESULT_CAN_RECOVER;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_aer_err_detected);

const struct pci_error_handlers vfio_pci_core_err_handlers = {
	.error_detected = vfio_pci_core_aer_err_detected,
};
EXPORT_SYMBOL_GPL(vfio_pci_core_err_handlers);

/* ---- Registration ---- */

/**
 * vfio_pci_core_init_dev - vfio_device_ops.init
 * @core_vdev: the vfio device, embedded in a vfio_pci_core_device
 *
 * Return: 0.
 */
int vfio_pci_core_init_dev(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev = to_core_dev(core_vdev);

	vdev->pdev = to_pci_dev(core_vdev->dev);
	vdev->irq_type = VFIO_PCI_IRQ_NONE;
	vdev->msix_bar = 0xff;
	mutex_init(&vdev->igate);
	spin_lock_init(&vdev->irqlock);
	xa_init(&vdev->ctx);
	init_rwsem(&vdev->memory_lock);
	mutex_init(&vdev->rom_lock);
	mutex_init(&vdev->ioeventfds_lock);
	INIT_LIST_HEAD(&vdev->ioeventfds_list);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_init_dev);

/**
 * vfio_pci_core_release_dev - vfio_device_ops.release
 * @core_vdev: the vfio device; the vfio core frees it afterwards
 */
void vfio_pci_core_release_dev(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev = to_core_dev(core_vdev);

	mutex_destroy(&vdev->igate);
	mutex_destroy(&vdev->rom_lock);
	mutex_destroy(&vdev->ioeventfds_lock);
	xa_destroy(&vdev->ctx);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_release_dev);

/*
 * Devices that can only be reset together share a vfio device set: the
 * slot's functions if the slot can be reset, else the whole bus.  A device
 * on a root bus cannot be reset by a bus reset and is a set of its own.
 */
static int vfio_pci_assign_dev_set(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;

	/*
	 * A VF comes and goes with its PF's SR-IOV setting, and a slot or bus
	 * reset would take it away: it is only ever reset on its own (FLR).
	 */
	if (pci_is_root_bus(pdev->bus) || pdev->is_virtfn)
		return vfio_assign_device_set(&vdev->vdev, vdev);
	if (pdev->slot && !pci_probe_reset_slot(pdev->slot))
		return vfio_assign_device_set(&vdev->vdev, pdev->slot);
	return vfio_assign_device_set(&vdev->vdev, pdev->bus);
}

/*
 * The vfio core calls whatever migration and dirty logging callbacks a
 * driver offers without checking for NULL: a variant must offer the whole
 * set or none.  Migration also needs the STOP_COPY flow, the one every
 * migration user relies on.
 */
static int vfio_pci_check_ops(struct vfio_pci_core_device *vdev)
{
	const struct vfio_migration_ops *mig = vdev->vdev.mig_ops;
	const struct vfio_log_ops *log = vdev->vdev.log_ops;
	struct pci_dev *pdev = vdev->pdev;

	if (mig && (!mig->migration_set_state || !mig->migration_get_state ||
		    !mig->migration_get_data_size)) {
		pci_err(pdev, "migration ops lack set_state, get_state or get_data_size\n");
		return -EINVAL;
	}
	if (mig && !(vdev->vdev.migration_flags & VFIO_MIGRATION_STOP_COPY)) {
		pci_err(pdev, "migration ops without VFIO_MIGRATION_STOP_COPY\n");
		return -EINVAL;
	}
	if (log && (!log->log_start || !log->log_stop ||
		    !log->log_read_and_clear)) {
		pci_err(pdev, "dirty logging ops lack start, stop or read_and_clear\n");
		return -EINVAL;
	}
	return 0;
}

/**
 * vfio_pci_core_register_device - make a bound device available to users
 * @vdev: the device, allocated with vfio_alloc_device() and set as the PCI
 *	device's driver data
 *
 * Return: 0 or a negative errno; -EINVAL for devices vfio-pci cannot
 * handle (bridges) and for incomplete migration or dirty logging ops,
 * -EBUSY for a PF whose VFs are enabled.
 */
int vfio_pci_core_register_device(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	/* The error handlers and SR-IOV callbacks find us through drvdata. */
	if (WARN_ON(vdev != dev_get_drvdata(&pdev->dev)))
		return -EINVAL;
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL)
		return -EINVAL;
	ret = vfio_pci_check_ops(vdev);
	if (ret)
		return ret;
	if (pci_num_vf(pdev)) {
		pci_warn(pdev, "cannot take a PF whose VFs are enabled\n");
		return -EBUSY;
	}

	ret = vfio_pci_assign_dev_set(vdev);
	if (ret)
		return ret;

	vdev->reset_works = pdev->reset_methods[0] != 0;
	vdev->disable_idle_d3 = READ_ONCE(vfio_pci_disable_idle_d3);

	vfio_pci_vga_probe(vdev);

	ret = vfio_pci_sriov_register(vdev);
	if (ret)
		return ret;
	ret = vfio_pci_vga_register(vdev);
	if (ret)
		goto err_sriov;
	ret = vfio_pci_power_register(vdev);
	if (ret)
		goto err_vga;
	ret = vfio_register_group_dev(&vdev->vdev);
	if (ret)
		goto err_power;
	return 0;

err_power:
	vfio_pci_power_unregister(vdev);
err_vga:
	vfio_pci_vga_unregister(vdev);
err_sriov:
	vfio_pci_sriov_unregister(vdev);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_register_device);

/**
 * vfio_pci_core_unregister_device - undo vfio_pci_core_register_device()
 * @vdev: the device
 *
 * Blocks until every user has closed the device; users with a REQ eventfd
 * are asked to do so.
 */
void vfio_pci_core_unregister_device(struct vfio_pci_core_device *vdev)
{
	/* VFs go first: their users would otherwise outlive the PF's token. */
	vfio_pci_core_sriov_configure(vdev, 0);
	vfio_unregister_group_dev(&vdev->vdev);
	vfio_pci_power_unregister(vdev);
	vfio_pci_vga_unregister(vdev);
	vfio_pci_sriov_unregister(vdev);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_unregister_device);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("VFIO PCI core: the building blocks of vfio-pci and its variants");
