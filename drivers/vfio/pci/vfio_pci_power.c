// SPDX-License-Identifier: GPL-2.0-only
/*
 * Power management of devices owned by vfio-pci-core.
 *
 * A bound device is runtime PM managed.  Who holds a usage count on it:
 *   - nobody while it is bound and unopened, so the PCI core lets it idle
 *     in D3hot (unless the device latched disable_idle_d3 at register time,
 *     in which case the reference taken by the PCI core around probe is
 *     simply kept until remove);
 *   - the vfio core around every device ioctl, and vfio_pci_rw() around
 *     a read() or write() of a region that finds low-power mode engaged
 *     (other accesses lean on the open file's count, see
 *     vfio_pci_power_access_begin());
 *   - the open device, from vfio_pci_core_enable() to vfio_pci_core_disable(),
 *     except while the user engaged one of the LOW_POWER features, which hand
 *     that reference back so the device can suspend under an open file;
 *   - a PF while SR-IOV is enabled, since VFs cannot work behind a PF in D3.
 *
 * State of this file (pm_runtime_engaged, pm_wake_eventfd_ctx, pm_save) is
 * protected by vdev->memory_lock held for write; the same lock keeps BAR
 * access and mmap faults out while the power state changes.
 */
#include <linux/eventfd.h>
#include <linux/pci.h>
#include <linux/percpu-rwsem.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

/* D-states are ordered: D0 < D1 < D2 < D3hot < D3cold. */
static int vfio_pci_pm_depth(pci_power_t state)
{
	return (__force int)state;
}

/**
 * vfio_pci_set_power_state - change the power state of a vfio-owned device
 * @vdev: the device; caller holds vdev->memory_lock for write
 * @state: the target state
 *
 * Wraps pci_set_power_state() for devices that lose their configuration on
 * D3hot->D0 (PMCSR NoSoftRst clear): their state is saved on the way down
 * and put back on the way up, so neither the user nor our own saved state
 * sees a device that silently reset.  A PF with VFs enabled stays in D0: its
 * VFs would stop working.  Used by the runtime PM callbacks, the close path
 * and emulated PMCSR writes.
 *
 * Return: 0, -EBUSY for a PF with VFs, or pci_set_power_state()'s error.
 */
int vfio_pci_set_power_state(struct vfio_pci_core_device *vdev,
			     pci_power_t state)
{
	struct pci_dev *pdev = vdev->pdev;
	int cur = vfio_pci_pm_depth(pdev->current_state);
	int new = vfio_pci_pm_depth(state);
	int d3hot = vfio_pci_pm_depth(PCI_D3hot);
	bool going_down, coming_up;
	int ret;

	lockdep_assert_held_write(&vdev->memory_lock);

	if (state != PCI_D0 && vdev->sriov_active)
		return -EBUSY;

	going_down = cur < d3hot && new >= d3hot;
	coming_up = cur >= d3hot && state == PCI_D0;
	if (vdev->needs_pm_restore && going_down)
		pci_save_state(pdev);

	ret = pci_set_power_state(pdev, state);
	if (ret || !vdev->needs_pm_restore)
		return ret;

	/* A quirk may keep the device out of D3: only keep what is needed. */
	if (going_down && vfio_pci_pm_depth(pdev->current_state) >= d3hot) {
		kfree(vdev->pm_save);
		vdev->pm_save = pci_store_saved_state(pdev);
	} else if (coming_up && vdev->pm_save) {
		pci_load_and_free_saved_state(pdev, &vdev->pm_save);
		pci_restore_state(pdev);
	}
	return 0;
}

/*
 * Leave the user-requested low-power mode: take back the usage count the
 * entry gave up and forget the wake-up eventfd.  Harmless when not engaged.
 */
static void vfio_pci_low_power_exit_locked(struct vfio_pci_core_device *vdev)
{
	lockdep_assert_held_write(&vdev->memory_lock);

	if (!vdev->pm_runtime_engaged)
		return;
	WRITE_ONCE(vdev->pm_runtime_engaged, false);
	pm_runtime_get_noresume(&vdev->pdev->dev);
	if (vdev->pm_wake_eventfd_ctx) {
		eventfd_ctx_put(vdev->pm_wake_eventfd_ctx);
		vdev->pm_wake_eventfd_ctx = NULL;
	}
}

/**
 * vfio_pci_core_runtime_suspend - runtime_suspend callback of vfio-pci-core
 * @dev: the PCI device's struct device
 *
 * The PCI core saves config space and chooses the low-power state after this
 * returns; it expects a device in D0.  A user's PMCSR write may have left
 * the device in D3hot, so bring it back first (restoring a NoSoftRst-
 * device's state on the way).  INTx stays masked until the device resumes,
 * see vfio_pci_intx_set_suspended().
 *
 * Return: 0.
 */
int vfio_pci_core_runtime_suspend(struct device *dev)
{
	struct vfio_pci_core_device *vdev = dev_get_drvdata(dev);

	down_write(&vdev->memory_lock);
	vfio_pci_set_power_state(vdev, PCI_D0);
	up_write(&vdev->memory_lock);
	vfio_pci_intx_set_suspended(vdev, true);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_runtime_suspend);

/**
 * vfio_pci_core_runtime_resume - runtime_resume callback of vfio-pci-core
 * @dev: the PCI device's struct device
 *
 * Runs after the PCI core brought the device back to D0: INTx is unmasked
 * again (unless the user masked it) and delivered if pending.  If the user
 * asked to be told about wake-ups (LOW_POWER_ENTRY_WITH_WAKEUP), the
 * low-power mode ends here: the eventfd is signalled and the user's
 * reference taken back, so the device stays up until the user enters low
 * power again.  Without an eventfd the device may suspend again once idle.
 *
 * Return: 0.
 */
int vfio_pci_core_runtime_resume(struct device *dev)
{
	struct vfio_pci_core_device *vdev = dev_get_drvdata(dev);

	vfio_pci_intx_set_suspended(vdev, false);
	down_write(&vdev->memory_lock);
	if (vdev->pm_wake_eventfd_ctx) {
		eventfd_signal(vdev->pm_wake_eventfd_ctx);
		vfio_pci_low_power_exit_locked(vdev);
	}
	up_write(&vdev->memory_lock);
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_pci_core_runtime_resume);

/*
 * Drivers built on the core point their pci_driver.driver.pm here; the
 * vfio core only wakes a device around ioctls when its driver has pm ops.
 */
const struct dev_pm_ops vfio_pci_core_pm_ops = {
	RUNTIME_PM_OPS(vfio_pci_core_runtime_suspend,
		       vfio_pci_core_runtime_resume, NULL)
};
EXPORT_SYMBOL_GPL(vfio_pci_core_pm_ops);

/**
 * vfio_pci_power_register - start runtime PM of a newly bound device
 * @vdev: the device, not yet visible to users
 *
 * Also sets up @vdev->pm_access_sem here rather than at init: register and
 * unregister always pair, where a variant's failing init would skip the
 * release that frees it.
 *
 * Return: 0 or -ENOMEM.
 */
int vfio_pci_power_register(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct device *dev = &pdev->dev;
	u16 pmcsr;
	int ret;

	ret = percpu_init_rwsem(&vdev->pm_access_sem);
	if (ret)
		return ret;

	vdev->needs_pm_restore = false;
	if (pdev->pm_cap) {
		pci_read_config_word(pdev, pdev->pm_cap + PCI_PM_CTRL, &pmcsr);
		vdev->needs_pm_restore = !(pmcsr & PCI_PM_CTRL_NO_SOFT_RESET);
	}

	/*
	 * After boot or a previous driver the PCI core may not know the power
	 * state, and from an unknown state it only allows going to D0.
	 */
	down_write(&vdev->memory_lock);
	vfio_pci_set_power_state(vdev, PCI_D0);
	up_write(&vdev->memory_lock);

	/*
	 * Variant drivers written before the core offered pm ops get them
	 * here, so that their devices are woken around ioctls as well.
	 */
	if (dev->driver && !dev->driver->pm)
		dev->driver->pm = &vfio_pci_core_pm_ops;

	pm_runtime_allow(dev);
	if (!vdev->disable_idle_d3)
		pm_runtime_put(dev);
	return 0;
}

/**
 * vfio_pci_power_unregister - undo vfio_pci_power_register()
 * @vdev: the device, no longer visible to users
 *
 * Leaves the usage count as the PCI core expects it around remove.
 */
void vfio_pci_power_unregister(struct vfio_pci_core_device *vdev)
{
	struct device *dev = &vdev->pdev->dev;

	if (!vdev->disable_idle_d3)
		pm_runtime_get_noresume(dev);
	pm_runtime_forbid(dev);

	kfree(vdev->pm_save);
	vdev->pm_save = NULL;
	percpu_free_rwsem(&vdev->pm_access_sem);
}

/**
 * vfio_pci_power_open - wake the device for its first user
 * @vdev: the device
 *
 * Return: 0 or the error of the runtime resume.
 */
int vfio_pci_power_open(struct vfio_pci_core_device *vdev)
{
	if (vdev->disable_idle_d3)
		return 0;
	return pm_runtime_resume_and_get(&vdev->pdev->dev);
}

/**
 * vfio_pci_power_close_begin - bring the device to D0 for the close path
 * @vdev: the device
 *
 * The last user may leave the device in low-power mode or in a D3hot it
 * wrote to PMCSR; the reset and state restore that follow need D0.
 */
void vfio_pci_power_close_begin(struct vfio_pci_core_device *vdev)
{
	down_write(&vdev->memory_lock);
	vfio_pci_low_power_exit_locked(vdev);
	up_write(&vdev->memory_lock);

	pm_runtime_resume(&vdev->pdev->dev);

	down_write(&vdev->memory_lock);
	vfio_pci_set_power_state(vdev, PCI_D0);
	up_write(&vdev->memory_lock);
}

/**
 * vfio_pci_power_close_end - drop the reference the open took
 * @vdev: the device
 */
void vfio_pci_power_close_end(struct vfio_pci_core_device *vdev)
{
	if (!vdev->disable_idle_d3)
		pm_runtime_put(&vdev->pdev->dev);
}

/**
 * vfio_pci_power_access_begin - keep the device awake for a read() or write()
 * @vdev: the device
 * @woken: set if the access took a usage count of its own
 *
 * The vfio core only wakes devices around ioctls; region access through
 * the file is a wake-up too, so that a user in low-power mode (and, with a
 * wake-up eventfd, the mode ends) still reaches a device in D0.
 *
 * Outside low-power mode the open file's usage count already keeps the
 * device in D0, and taking one more around every access would cost a
 * spinlock round trip on the hottest path there is.  Such an access holds
 * @vdev->pm_access_sem for read instead, a per-CPU count; engaging the
 * mode takes it for write, so it waits for those accesses and they never
 * see the file's count handed back under them.  Only an access that finds
 * the mode engaged resumes the device.
 *
 * Return: 0, or -EIO if the device could not be resumed.
 */
int vfio_pci_power_access_begin(struct vfio_pci_core_device *vdev,
				bool *woken)
{
	int ret;

	percpu_down_read(&vdev->pm_access_sem);
	*woken = READ_ONCE(vdev->pm_runtime_engaged);
	if (!*woken)
		return 0;
	percpu_up_read(&vdev->pm_access_sem);

	ret = pm_runtime_resume_and_get(&vdev->pdev->dev);
	if (ret) {
		pci_info_ratelimited(vdev->pdev,
				     "cannot resume for user access: %d\n", ret);
		return -EIO;
	}
	return 0;
}

/**
 * vfio_pci_power_access_end - let the device idle again after an access
 * @vdev: the device
 * @woken: what vfio_pci_power_access_begin() said
 */
void vfio_pci_power_access_end(struct vfio_pci_core_device *vdev, bool woken)
{
	if (woken)
		pm_runtime_put(&vdev->pdev->dev);
	else
		percpu_up_read(&vdev->pm_access_sem);
}

/*
 * Give up the open file's usage count: the device suspends once the ioctl
 * that got us here drops the vfio core's own reference.  BAR mappings are
 * zapped now; their faults get SIGBUS while the mode is engaged, since a
 * page fault is no place to resume a device.
 */
static int vfio_pci_low_power_enter(struct vfio_pci_core_device *vdev,
				    struct eventfd_ctx *wake)
{
	int ret = 0;

	/* Region accesses relying on the file's count finish first. */
	percpu_down_write(&vdev->pm_access_sem);
	vfio_pci_memory_lock_and_zap(vdev);
	if (vdev->pm_runtime_engaged) {
		ret = -EINVAL;
		goto out_unlock;
	}
	WRITE_ONCE(vdev->pm_runtime_engaged, true);
	vdev->pm_wake_eventfd_ctx = wake;
	pm_runtime_put_noidle(&vdev->pdev->dev);
out_unlock:
	up_write(&vdev->memory_lock);
	percpu_up_write(&vdev->pm_access_sem);
	return ret;
}

/* The eventfd named by a LOW_POWER_ENTRY_WITH_WAKEUP payload. */
static struct eventfd_ctx *vfio_pci_wake_eventfd(void __user *arg)
{
	struct vfio_device_low_power_entry_with_wakeup entry;

	if (copy_from_user(&entry, arg, sizeof(entry)))
		return ERR_PTR(-EFAULT);
	/* A negative number is a bad argument, not a bad file. */
	if (entry.wakeup_eventfd < 0)
		return ERR_PTR(-EINVAL);
	return eventfd_ctx_fdget(entry.wakeup_eventfd);
}

/**
 * vfio_pci_feature_low_power_entry - LOW_POWER_ENTRY[_WITH_WAKEUP]
 * @vdev: the device
 * @flags: GET/SET/PROBE bits of the request
 * @arg: user pointer to the payload
 * @argsz: payload size
 * @wakeup: the _WITH_WAKEUP variant, whose payload names an eventfd
 *
 * Return: 0 (also for a successful probe) or a negative errno; -EINVAL if
 * low-power mode is engaged already.
 */
int vfio_pci_feature_low_power_entry(struct vfio_pci_core_device *vdev,
				     u32 flags, void __user *arg,
				     size_t argsz, bool wakeup)
{
	size_t payload = wakeup ?
		sizeof(struct vfio_device_low_power_entry_with_wakeup) : 0;
	struct eventfd_ctx *wake = NULL;
	int ret;

	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET,
				 payload);
	if (ret != 1)
		return ret;
	if (wakeup) {
		wake = vfio_pci_wake_eventfd(arg);
		if (IS_ERR(wake))
			return PTR_ERR(wake);
	}
	ret = vfio_pci_low_power_enter(vdev, wake);
	if (ret && wake)
		eventfd_ctx_put(wake);
	return ret;
}

/**
 * vfio_pci_feature_low_power_exit - VFIO_DEVICE_FEATURE_LOW_POWER_EXIT
 * @vdev: the device
 * @flags: GET/SET/PROBE bits of the request
 * @argsz: payload size (none is needed)
 *
 * The ioctl itself already woke the device; exiting a mode that is not
 * engaged (or that a wake-up already ended) is not an error.
 *
 * Return: 0 (also for a successful probe) or a negative errno.
 */
int vfio_pci_feature_low_power_exit(struct vfio_pci_core_device *vdev,
				    u32 flags, size_t argsz)
{
	int ret;

	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);
	if (ret != 1)
		return ret;

	down_write(&vdev->memory_lock);
	vfio_pci_low_power_exit_locked(vdev);
	up_write(&vdev->memory_lock);
	return 0;
}
