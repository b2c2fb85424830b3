// SPDX-License-Identifier: GPL-2.0-only
/*
 * Resets of devices owned by vfio-pci-core.
 *
 * Single-function resets (VFIO_DEVICE_RESET, an FLR the user starts through
 * the PCI Express or Advanced Features capability, the resets at open and at
 * last close) all go through vfio_pci_reset_function().  It runs the PCI
 * core's reset sequence, so the driver bound to the device (vfio-pci or a
 * variant built on the core) sees reset_prepare() before the reset and
 * reset_done() after it; variants that track device state, migration state
 * for one, rely on that pairing.
 *
 * Resets that reach beyond one function: the slot or bus reset a device set
 * gets once its last user is gone, and the user-requested "hot reset"
 * (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, VFIO_DEVICE_PCI_HOT_RESET).
 *
 * A slot reset hits every function in the slot, a bus reset every function
 * on the bus, both including whatever sits below bridges among them.  That
 * is the "reset domain" of a device.  vfio_pci_assign_dev_set() puts the
 * vfio devices of one reset domain into one vfio device set, whose lock the
 * vfio core already holds around open_device and close_device; the resets
 * here take the same lock, so nobody opens or closes a member meanwhile.
 *
 * A domain is only ever reset when each of its functions is a member of the
 * set, that is bound to a vfio-pci-core driver: any other driver would find
 * its device silently reset under it.  A user may only reset functions it
 * owns, proven by group file descriptors (legacy group/container API) or by
 * having them all in its iommufd context (device cdev API).
 *
 * Every reset starts from D0: a function in D3hot may ignore or refuse a
 * reset (a PM reset is defined from D0 only), and a NoSoftRst- function
 * must get the state it lost in D3hot back before the reset saves it.
 *
 * Every member of a vfio device set whose id is a pci_slot or pci_bus is a
 * vfio_pci_core_device: only vfio_pci_assign_dev_set() uses such ids.
 */
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

/**
 * vfio_pci_reset_function - reset one function with BAR access blocked
 * @vdev: the device
 *
 * Brings the function to D0 and resets it through the PCI core, which calls
 * the bound driver's reset_prepare() and reset_done() around the reset and
 * saves and restores config space across it.  BAR mappings are zapped and
 * memory_lock is held for write throughout, so user accesses wait (or
 * fault) until the function is usable again.
 *
 * The device lock is only tried: an unbind of this device holds it while
 * waiting for the user to close, so blocking on it here could wait for
 * ever.  A function without any reset method is refused before anything
 * is locked or woken.
 *
 * memory_lock is taken before the device lock.  Holding the device lock
 * blocks config space access, and user COMMAND writes access config space
 * with memory_lock held for write: the other order would deadlock against
 * them.
 * Called with the config space lock held for FLRs the user starts there.
 *
 * Return: 0; -ENOTTY if the function cannot be reset on its own; -EAGAIN
 * if the device lock is contended (the caller may retry); or the reset's
 * error.
 */
int vfio_pci_reset_function(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	if (!pdev->reset_methods[0])
		return -ENOTTY;

	vfio_pci_memory_lock_and_zap(vdev);
	ret = vfio_pci_set_power_state(vdev, PCI_D0);
	if (ret)
		pci_dbg(pdev, "not in D0 for reset: %d\n", ret);
	ret = pci_try_reset_function(pdev);
	vfio_pci_intx_reapply_mask(vdev);
	up_write(&vdev->memory_lock);
	return ret;
}

/*
 * A walk over the reset domain of a device: @fn is called with @data for
 * each function; @slot and @ret belong to the walk.
 */
struct vfio_pci_domain_walk {
	int (*fn)(struct pci_dev *pdev, void *data);
	void *data;
	struct pci_slot *slot;	/* the slot being reset, NULL for a bus */
	int ret;		/* what fn returned last */
};

/* Is @pdev in @slot, or below a bridge that is? */
static bool vfio_pci_in_slot(struct pci_dev *pdev, struct pci_slot *slot)
{
	while (pdev->bus != slot->bus) {
		pdev = pdev->bus->self;
		if (!pdev)
			return false;
	}
	return pdev->slot == slot;
}

static int vfio_pci_domain_walk_one(struct pci_dev *pdev, void *data)
{
	struct vfio_pci_domain_walk *walk = data;

	if (walk->slot && !vfio_pci_in_slot(pdev, walk->slot))
		return 0;
	walk->ret = walk->fn(pdev, walk->data);
	return walk->ret;
}

/*
 * Call walk->fn for every function a pci_reset_bus() of @pdev would reset,
 * choosing between slot and bus the way pci_reset_bus() does.  Stops at
 * and returns the first non-zero value fn returns; -ENODEV if @pdev can be
 * reset neither by slot nor by bus.
 */
static int vfio_pci_walk_domain(struct pci_dev *pdev,
				struct vfio_pci_domain_walk *walk)
{
	walk->slot = NULL;
	walk->ret = 0;
	if (!pci_probe_reset_slot(pdev->slot))
		walk->slot = pdev->slot;
	else if (pci_probe_reset_bus(pdev->bus))
		return -ENODEV;

	/* pci_walk_bus() stops at a non-zero return but does not pass it on. */
	pci_walk_bus(pdev->bus, vfio_pci_domain_walk_one, walk);
	return walk->ret;
}

static int vfio_pci_count_one(struct pci_dev *pdev, void *data)
{
	(*(u32 *)data)++;
	return 0;
}

/* How many functions a reset of @pdev's domain hits, in *@count. */
static int vfio_pci_count_domain(struct pci_dev *pdev, u32 *count)
{
	struct vfio_pci_domain_walk walk = {
		.fn = vfio_pci_count_one,
		.data = count,
	};

	*count = 0;
	return vfio_pci_walk_domain(pdev, &walk);
}

static int vfio_pci_check_member(struct pci_dev *pdev, void *data)
{
	struct vfio_device_set *dev_set = data;

	return vfio_find_device_in_devset(dev_set, &pdev->dev) ? 0 : -EBUSY;
}

/*
 * May the reset domain of @vdev be reset: does it exist, and is each of its
 * functions a member of @vdev's device set?  Caller holds the set's lock.
 */
static bool vfio_pci_domain_resettable(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_domain_walk walk = {
		.fn = vfio_pci_check_member,
		.data = vdev->vdev.dev_set,
	};

	lockdep_assert_held(&vdev->vdev.dev_set->lock);
	return !vfio_pci_walk_domain(vdev->pdev, &walk);
}

/* Drop the wake references of the members before @last (NULL: all). */
static void vfio_pci_dev_set_pm_put(struct vfio_device_set *dev_set,
				    struct vfio_pci_core_device *last)
{
	struct vfio_pci_core_device *cur;

	list_for_each_entry(cur, &dev_set->device_list, vdev.dev_set_list) {
		if (cur == last)
			break;
		pm_runtime_put(&cur->pdev->dev);
	}
}

/*
 * Wake every member of the set and keep it awake until the matching
 * vfio_pci_dev_set_pm_put(): unopened members idle in D3hot, where a reset
 * and the state save and restore around it would go wrong.  Must be called
 * before taking any memory_lock, which runtime resume takes itself.
 */
static int vfio_pci_dev_set_pm_get(struct vfio_device_set *dev_set)
{
	struct vfio_pci_core_device *cur;
	int ret;

	list_for_each_entry(cur, &dev_set->device_list, vdev.dev_set_list) {
		ret = pm_runtime_resume_and_get(&cur->pdev->dev);
		if (ret) {
			vfio_pci_dev_set_pm_put(dev_set, cur);
			return ret;
		}
	}
	return 0;
}

/*
 * Reset the reset domain of @vdev while no member of its set can touch
 * BAR memory: each member's memory_lock is held for write and its BAR
 * mappings are zapped, so users fault and wait until the reset is over.
 * The PCI core saves and restores the config space of every function
 * around the reset and calls each bound driver's reset_prepare() and
 * reset_done().  Caller holds the set's lock and has checked that the
 * domain may be reset.
 *
 * The memory_locks are all of one lock class; taking several is safe
 * because only holders of the set's lock ever take more than one.
 */
static int vfio_pci_reset_domain(struct vfio_pci_core_device *vdev)
{
	struct vfio_device_set *dev_set = vdev->vdev.dev_set;
	struct vfio_pci_core_device *cur;
	int ret;

	lockdep_assert_held(&dev_set->lock);

	ret = vfio_pci_dev_set_pm_get(dev_set);
	if (ret)
		return ret;

	list_for_each_entry(cur, &dev_set->device_list, vdev.dev_set_list) {
		down_write_nest_lock(&cur->memory_lock, &dev_set->lock);
		vfio_pci_zap_bar_mmaps(cur);
		/* A user may have left its function in D3hot through PMCSR. */
		vfio_pci_set_power_state(cur, PCI_D0);
	}

	ret = pci_reset_bus(vdev->pdev);

	list_for_each_entry(cur, &dev_set->device_list, vdev.dev_set_list) {
		vfio_pci_intx_reapply_mask(cur);
		up_write(&cur->memory_lock);
	}
	vfio_pci_dev_set_pm_put(dev_set, NULL);
	return ret;
}

/**
 * vfio_pci_dev_set_reset_if_idle - reset a device set after its last user
 * @closing: the device whose close_device is running; the vfio core still
 *	counts it as open
 *
 * A function that could not be reset on its own when its user left is
 * marked needs_reset.  Once no member of its set is open any more, the
 * whole reset domain is reset, provided every function in it belongs to
 * the set.  Failure leaves the marks for the next last close.
 */
void vfio_pci_dev_set_reset_if_idle(struct vfio_pci_core_device *closing)
{
	struct vfio_device_set *dev_set = closing->vdev.dev_set;
	struct vfio_pci_core_device *cur;
	bool needed = false;

	lockdep_assert_held(&dev_set->lock);

	list_for_each_entry(cur, &dev_set->device_list, vdev.dev_set_list) {
		if (cur != closing && cur->vdev.open_count)
			return;
		needed |= cur->needs_reset;
	}
	if (!needed || !vfio_pci_domain_resettable(closing))
		return;

	if (vfio_pci_reset_domain(closing)) {
		pci_dbg(closing->pdev, "reset of the idle device set failed\n");
		return;
	}
	list_for_each_entry(cur, &dev_set->device_list, vdev.dev_set_list)
		cur->needs_reset = false;
}

/* ---- VFIO_DEVICE_GET_PCI_HOT_RESET_INFO ---- */

struct vfio_pci_info_fill {
	struct vfio_pci_dependent_device *devs;
	u32 max;
	u32 count;
	struct vfio_device_set *dev_set;
	struct iommufd_ctx *ictx;	/* the caller's, for cdev users */
	bool by_devid;
	bool all_owned;
};

/* The devid a cdev user sees for @pdev, see the uAPI header. */
static u32 vfio_pci_info_devid(struct vfio_pci_info_fill *fill,
			       struct pci_dev *pdev)
{
	struct vfio_device *vdev;
	int id;

	vdev = vfio_find_device_in_devset(fill->dev_set, &pdev->dev);
	id = vdev && fill->ictx ? vfio_iommufd_get_dev_id(vdev, fill->ictx) :
				  -ENODEV;
	if (id > 0)
		return id;
	if (id == -ENOENT)
		return VFIO_PCI_DEVID_OWNED;
	fill->all_owned = false;
	return VFIO_PCI_DEVID_NOT_OWNED;
}

static int vfio_pci_info_fill_one(struct pci_dev *pdev, void *data)
{
	struct vfio_pci_info_fill *fill = data;
	struct vfio_pci_dependent_device *dep;
	struct iommu_group *group;

	/* A function hot-added since counting: the user must ask again. */
	if (fill->count == fill->max)
		return -EAGAIN;
	dep = &fill->devs[fill->count++];
	dep->segment = pci_domain_nr(pdev->bus);
	dep->bus = pdev->bus->number;
	dep->devfn = pdev->devfn;

	if (fill->by_devid) {
		dep->devid = vfio_pci_info_devid(fill, pdev);
		return 0;
	}
	group = iommu_group_get(&pdev->dev);
	if (!group)
		return -EPERM;
	dep->group_id = iommu_group_id(group);
	iommu_group_put(group);
	return 0;
}

static int vfio_pci_info_fill(struct vfio_pci_core_device *vdev,
			      struct vfio_pci_info_fill *fill)
{
	struct vfio_device_set *dev_set = vdev->vdev.dev_set;
	struct vfio_pci_domain_walk walk = {
		.fn = vfio_pci_info_fill_one,
		.data = fill,
	};
	int ret;

	if (!fill->by_devid)
		return vfio_pci_walk_domain(vdev->pdev, &walk);

	/* Membership and iommufd bindings stay put under the set's lock. */
	mutex_lock(&dev_set->lock);
	fill->dev_set = dev_set;
	fill->ictx = vfio_iommufd_device_ictx(&vdev->vdev);
	fill->all_owned = true;
	ret = vfio_pci_walk_domain(vdev->pdev, &walk);
	mutex_unlock(&dev_set->lock);
	return ret;
}

/**
 * vfio_pci_ioctl_get_pci_hot_reset_info - VFIO_DEVICE_GET_PCI_HOT_RESET_INFO
 * @vdev: the device
 * @arg: user pointer to struct vfio_pci_hot_reset_info
 *
 * Lists every function a hot reset of @vdev would reset.  If the array does
 * not fit in argsz, only the header is written back, with the count needed.
 *
 * Return: 0; -ENOSPC if the array does not fit; -ENODEV if @vdev can be
 * reset by neither slot nor bus; -EPERM for a function without IOMMU
 * group; -EINVAL, -EFAULT, -ENOMEM.
 */
long vfio_pci_ioctl_get_pci_hot_reset_info(struct vfio_pci_core_device *vdev,
					   void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_pci_hot_reset_info, count);
	struct vfio_pci_info_fill fill = {};
	struct vfio_pci_hot_reset_info hdr;
	u32 count;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;

	hdr.flags = 0;
	fill.by_devid = vfio_device_cdev_opened(&vdev->vdev);
	if (fill.by_devid)
		hdr.flags |= VFIO_PCI_HOT_RESET_FLAG_DEV_ID;

	ret = vfio_pci_count_domain(vdev->pdev, &count);
	if (ret)
		return ret;
	if (count > (hdr.argsz - minsz) / sizeof(*fill.devs)) {
		hdr.count = count;
		return copy_to_user(arg, &hdr, minsz) ? -EFAULT : -ENOSPC;
	}

	fill.devs = kcalloc(count, sizeof(*fill.devs), GFP_KERNEL);
	if (!fill.devs)
		return -ENOMEM;
	fill.max = count;
	ret = vfio_pci_info_fill(vdev, &fill);
	if (ret)
		goto out;

	if (fill.by_devid && fill.all_owned)
		hdr.flags |= VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
	hdr.count = fill.count;
	if (copy_to_user(arg, &hdr, minsz) ||
	    copy_to_user(arg + minsz, fill.devs,
			 array_size(fill.count, sizeof(*fill.devs))))
		ret = -EFAULT;
out:
	kfree(fill.devs);
	return ret;
}

/* ---- VFIO_DEVICE_PCI_HOT_RESET ---- */

/* Proof of ownership: group files (legacy API) or an iommufd context. */
struct vfio_pci_owner {
	struct file **files;
	u32 nfiles;
	struct iommufd_ctx *ictx;
};

static bool vfio_pci_owned(struct vfio_pci_core_device *vdev,
			   struct vfio_pci_owner *owner)
{
	int id;
	u32 i;

	if (owner->ictx) {
		/* Bound to the context, or in a group the context owns. */
		id = vfio_iommufd_get_dev_id(&vdev->vdev, owner->ictx);
		return id > 0 || id == -ENOENT;
	}
	for (i = 0; i < owner->nfiles; i++)
		if (vfio_file_has_dev(owner->files[i], &vdev->vdev))
			return true;
	return false;
}

static int vfio_pci_hot_reset_owned(struct vfio_pci_core_device *vdev,
				    struct vfio_pci_owner *owner)
{
	struct vfio_device_set *dev_set = vdev->vdev.dev_set;
	struct vfio_pci_core_device *cur;
	int ret = -EINVAL;

	mutex_lock(&dev_set->lock);
	if (!vfio_pci_domain_resettable(vdev))
		goto out;
	list_for_each_entry(cur, &dev_set->device_list, vdev.dev_set_list)
		if (!vfio_pci_owned(cur, owner))
			goto out;
	ret = vfio_pci_reset_domain(vdev);
out:
	mutex_unlock(&dev_set->lock);
	return ret;
}

/*
 * Take a reference on the file behind each of the user's group fds, so the
 * groups cannot go away during the reset.
 */
static int vfio_pci_get_group_files(const s32 *fds, struct file **files,
				    u32 count)
{
	u32 i;

	for (i = 0; i < count; i++) {
		files[i] = fget(fds[i]);
		if (!files[i])
			return -EBADF;
		if (!vfio_file_is_group(files[i]))
			return -EINVAL;
	}
	return 0;
}

static int vfio_pci_hot_reset_groups(struct vfio_pci_core_device *vdev,
				     struct vfio_pci_hot_reset *hdr,
				     s32 __user *ufds)
{
	struct vfio_pci_owner owner = { .nfiles = hdr->count };
	size_t room = (hdr->argsz - offsetofend(typeof(*hdr), count)) /
		      sizeof(s32);
	u32 affected, i;
	s32 *fds;
	int ret;

	ret = vfio_pci_count_domain(vdev->pdev, &affected);
	if (ret)
		return ret;
	/* One group per affected function at most, all of them in argsz. */
	if (hdr->count > affected || hdr->count > room)
		return -EINVAL;

	fds = memdup_array_user(ufds, hdr->count, sizeof(*fds));
	if (IS_ERR(fds))
		return PTR_ERR(fds);
	owner.files = kcalloc(hdr->count, sizeof(*owner.files), GFP_KERNEL);
	if (!owner.files) {
		ret = -ENOMEM;
		goto out_fds;
	}

	ret = vfio_pci_get_group_files(fds, owner.files, hdr->count);
	if (!ret)
		ret = vfio_pci_hot_reset_owned(vdev, &owner);

	for (i = 0; i < hdr->count && owner.files[i]; i++)
		fput(owner.files[i]);
	kfree(owner.files);
out_fds:
	kfree(fds);
	return ret;
}

/**
 * vfio_pci_ioctl_pci_hot_reset - VFIO_DEVICE_PCI_HOT_RESET
 * @vdev: the device
 * @arg: user pointer to struct vfio_pci_hot_reset and its group fd array
 *
 * Slot or bus reset of everything VFIO_DEVICE_GET_PCI_HOT_RESET_INFO
 * lists.  A group-opened device passes group fds covering every affected
 * function; a cdev-opened one passes none and must hold all of them in its
 * iommufd context.
 *
 * Return: 0; -EINVAL for bad arguments, an affected function that is not
 * bound to vfio-pci-core or not owned, a fd that is not a vfio group;
 * -EBADF for a closed fd; -ENODEV if @vdev has no slot or bus reset;
 * -EAGAIN if a function is locked by its driver core; -EFAULT, -ENOMEM.
 */
long vfio_pci_ioctl_pci_hot_reset(struct vfio_pci_core_device *vdev,
				  void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct vfio_pci_owner owner = {};
	struct vfio_pci_hot_reset hdr;
	bool cdev = vfio_device_cdev_opened(&vdev->vdev);

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.flags)
		return -EINVAL;
	/* Group fds prove ownership for group users only. */
	if (!hdr.count != cdev)
		return -EINVAL;
	if (pci_probe_reset_slot(vdev->pdev->slot) &&
	    pci_probe_reset_bus(vdev->pdev->bus))
		return -ENODEV;

	if (!cdev)
		return vfio_pci_hot_reset_groups(vdev, &hdr, arg + minsz);

	owner.ictx = vfio_iommufd_device_ictx(&vdev->vdev);
	if (!owner.ictx)
		return -EINVAL;
	return vfio_pci_hot_reset_owned(vdev, &owner);
}
