// SPDX-License-Identifier: GPL-2.0-only
/*
 * SR-IOV on devices owned by vfio-pci-core.
 *
 * A user owning a PF can disrupt its VFs (reset, power, SR-IOV control) and
 * often sees what flows through them, so VF users and the PF user must trust
 * each other.  That trust is a shared secret, the VF token: a UUID the PF
 * user sets (VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, or "vf_token=" when opening
 * the PF while no VF is in use) and every VF user must quote when opening a
 * VF ("BDF vf_token=UUID").  While VFs are open, the PF may only be opened
 * by someone who knows the token too.
 *
 * VFs created by vfio_pci_core_sriov_configure() get their driver_override
 * set to the PF's driver from a bus notifier, before any driver can probe
 * them, so no host driver ends up on a VF whose PF belongs to a user.
 *
 * Locking: vfio_pci_sriov_pfs_lock protects the list of PFs with SR-IOV
 * enabled by us (which is how a VF finds its PF's vfio device); each PF's
 * token has its own mutex for the UUID and the count of open VFs; and
 * vdev->sriov_active changes under vdev->memory_lock held for write, since
 * vfio_pci_set_power_state() checks it under that lock.
 */
#include <linux/cleanup.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uuid.h>
#include <linux/vfio_pci_core.h>
#include <kunit/visibility.h>

#include "vfio_pci_priv.h"

/**
 * struct vfio_pci_vf_token - the secret shared by a PF user and VF users
 * @lock: protects @uuid and @users
 * @uuid: the token
 * @users: VFs of this PF currently open through vfio
 */
struct vfio_pci_vf_token {
	struct mutex	lock;		/* protects uuid and users */
	uuid_t		uuid;
	int		users;
};

#define VFIO_PCI_VF_TOKEN_OPT	"vf_token="

static DEFINE_MUTEX(vfio_pci_sriov_pfs_lock);	/* see the comment on top */
static LIST_HEAD(vfio_pci_sriov_pfs);

/*
 * Keep host drivers off our VFs: a VF of this PF gets the PF's driver as
 * its driver_override as soon as it is added, before drivers are matched.
 */
static int vfio_pci_sriov_notifier(struct notifier_block *nb,
				   unsigned long action, void *data)
{
	struct vfio_pci_core_device *vdev =
		container_of(nb, struct vfio_pci_core_device, nb);
	struct pci_dev *pf = vdev->pdev;
	struct pci_dev *vf = to_pci_dev(data);
	const char *name = pf->driver->name;
	struct pci_driver *drv;

	if (!vf->is_virtfn || pci_physfn(vf) != pf)
		return NOTIFY_DONE;

	if (action == BUS_NOTIFY_ADD_DEVICE) {
		if (device_set_driver_override(&vf->dev, name))
			pci_warn(pf, "cannot set driver_override of VF %s\n",
				 pci_name(vf));
		else
			pci_info(pf, "VF %s reserved for %s\n", pci_name(vf),
				 name);
	} else if (action == BUS_NOTIFY_BOUND_DRIVER) {
		drv = to_pci_driver(vf->dev.driver);
		if (drv != pf->driver)
			pci_warn(pf, "VF %s bound to %s while the PF is owned by %s\n",
				 pci_name(vf), drv->name, name);
	}
	return NOTIFY_OK;
}

/* The vfio device of @vf's PF, if SR-IOV was enabled through us. */
static struct vfio_pci_core_device *vfio_pci_sriov_pf_of(struct pci_dev *vf)
{
	struct vfio_pci_core_device *pos, *found = NULL;
	struct pci_dev *pf = pci_physfn(vf);

	scoped_guard(mutex, &vfio_pci_sriov_pfs_lock) {
		list_for_each_entry(pos, &vfio_pci_sriov_pfs, sriov_pfs_item)
			if (pos->pdev == pf)
				found = pos;
	}
	return found;
}

/* A token nobody knows yet: VFs stay closed until the PF user sets one. */
static struct vfio_pci_vf_token *vfio_pci_vf_token_new(void)
{
	struct vfio_pci_vf_token *token = kzalloc(sizeof(*token), GFP_KERNEL);

	if (!token)
		return NULL;
	mutex_init(&token->lock);
	uuid_gen(&token->uuid);
	return token;
}

static void vfio_pci_vf_token_free(struct vfio_pci_vf_token *token)
{
	WARN_ON(token->users);
	mutex_destroy(&token->lock);
	kfree(token);
}

/**
 * vfio_pci_sriov_register - SR-IOV setup of a device being registered
 * @vdev: the device
 *
 * A VF learns whether its PF is a vfio device.  That cannot change while
 * the VF is bound: the PF disables SR-IOV, which removes the VF, before it
 * goes.  A PF gets its VF token and the bus notifier.
 *
 * Return: 0 or a negative errno.
 */
int vfio_pci_sriov_register(struct vfio_pci_core_device *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_pci_vf_token *token;
	int ret;

	INIT_LIST_HEAD(&vdev->sriov_pfs_item);
	vdev->sriov_pf_core_dev = pdev->is_virtfn ?
				  vfio_pci_sriov_pf_of(pdev) : NULL;
	if (!pdev->is_physfn)
		return 0;

	token = vfio_pci_vf_token_new();
	if (!token)
		return -ENOMEM;
	vdev->nb.notifier_call = vfio_pci_sriov_notifier;
	ret = bus_register_notifier(&pci_bus_type, &vdev->nb);
	if (ret) {
		vfio_pci_vf_token_free(token);
		return ret;
	}
	vdev->vf_token = token;
	return 0;
}

/**
 * vfio_pci_sriov_unregister - undo vfio_pci_sriov_register()
 * @vdev: the device, whose SR-IOV is disabled already
 */
void vfio_pci_sriov_unregister(struct vfio_pci_core_device *vdev)
{
	if (!vdev->vf_token)
		return;
	bus_unregister_notifier(&pci_bus_type, &vdev->nb);
	vfio_pci_vf_token_free(vdev->vf_token);
	vdev->vf_token = NULL;
}

/**
 * vfio_pci_vf_token_user_add - count a VF open or close against its PF
 * @vdev: the device; nothing happens unless it is a VF of a vfio PF
 * @delta: +1 at open, -1 at close
 */
void vfio_pci_vf_token_user_add(struct vfio_pci_core_device *vdev, int delta)
{
	struct vfio_pci_core_device *pf = vdev->sriov_pf_core_dev;

	if (!vdev->pdev->is_virtfn || !pf)
		return;
	mutex_lock(&pf->vf_token->lock);
	pf->vf_token->users += delta;
	WARN_ON(pf->vf_token->users < 0);
	mutex_unlock(&pf->vf_token->lock);
}

static bool vfio_pci_vf_token_matches(struct vfio_pci_vf_token *token,
				      const uuid_t *uuid)
{
	bool match;

	mutex_lock(&token->lock);
	match = uuid_equal(uuid, &token->uuid);
	mutex_unlock(&token->lock);
	return match;
}

/* A VF of a vfio PF needs the PF's token; any other VF must not get one. */
static int vfio_pci_check_vf_open(struct vfio_pci_core_device *vdev,
				  const uuid_t *uuid)
{
	struct vfio_pci_core_device *pf = vdev->sriov_pf_core_dev;

	if (!pf) {
		if (!uuid)
			return 0;
		pci_info_ratelimited(vdev->pdev,
				     "VF token given, but the PF is not a vfio device\n");
		return -EINVAL;
	}
	if (!uuid) {
		pci_info_ratelimited(vdev->pdev,
				     "the VF token is required to open this VF\n");
		return -EACCES;
	}
	if (!vfio_pci_vf_token_matches(pf->vf_token, uuid)) {
		pci_info_ratelimited(vdev->pdev, "wrong VF token\n");
		return -EACCES;
	}
	return 0;
}

/*
 * A PF with open VFs needs the token; with none open, a token given here
 * becomes the new token.
 */
static int vfio_pci_check_pf_open(struct vfio_pci_core_device *vdev,
				  const uuid_t *uuid)
{
	struct vfio_pci_vf_token *token = vdev->vf_token;
	int ret = 0;

	mutex_lock(&token->lock);
	if (token->users) {
		if (!uuid || !uuid_equal(uuid, &token->uuid)) {
			pci_info_ratelimited(vdev->pdev,
					     "VFs are in use: the current VF token is required\n");
			ret = -EACCES;
		}
	} else if (uuid) {
		uuid_copy(&token->uuid, uuid);
	}
	mutex_unlock(&token->lock);
	return ret;
}

static int vfio_pci_check_vf_token(struct vfio_pci_core_device *vdev,
				   const uuid_t *uuid)
{
	if (vdev->pdev->is_virtfn)
		return vfio_pci_check_vf_open(vdev, uuid);
	if (vdev->vf_token)
		return vfio_pci_check_pf_open(vdev, uuid);
	if (uuid) {
		pci_info_ratelimited(vdev->pdev,
				     "VF token given, but the device is neither PF nor VF\n");
		return -EINVAL;
	}
	return 0;
}

/**
 * vfio_pci_parse_match_options - parse the options of a match string
 * @opts: what follows the device name: empty, or blank-separated options
 * @uuid: the VF token, if one was given
 *
 * The only option is "vf_token=UUID", at most once, the UUID in its
 * 36-character text form.  Pure parsing: the token is enforced by the
 * caller.  Exposed to the KUnit tests.
 *
 * Return: 1 if a token was given, 0 if not, -EINVAL for anything else.
 */
VISIBLE_IF_KUNIT int vfio_pci_parse_match_options(const char *opts,
						  uuid_t *uuid)
{
	const size_t optlen = strlen(VFIO_PCI_VF_TOKEN_OPT);
	bool have_token = false;

	while (*opts) {
		if (*opts == ' ') {
			opts++;
			continue;
		}
		if (have_token || strncmp(opts, VFIO_PCI_VF_TOKEN_OPT, optlen))
			return -EINVAL;
		opts += optlen;
		if (strnlen(opts, UUID_STRING_LEN) < UUID_STRING_LEN ||
		    uuid_parse(opts, uuid))
			return -EINVAL;
		opts += UUID_STRING_LEN;
		have_token = true;
	}
	return have_token;
}
EXPORT_SYMBOL_IF_KUNIT(vfio_pci_parse_match_options);

/**
 * vfio_pci_match_options - options after the device name in a match string
 * @vdev: the device whose name matched
 * @opts: what follows the name, see vfio_pci_parse_match_options()
 *
 * Besides parsing, this is where the VF token is enforced, since matching
 * is the last step before the vfio core opens the device.
 *
 * Return: 1 to open the device, -EINVAL for bad options, -EACCES for a
 * missing or wrong token.
 */
int vfio_pci_match_options(struct vfio_pci_core_device *vdev, const char *opts)
{
	uuid_t uuid;
	int ret;

	ret = vfio_pci_parse_match_options(opts, &uuid);
	if (ret < 0)
		return ret;
	ret = vfio_pci_check_vf_token(vdev, ret ? &uuid : NULL);
	return ret ? ret : 1;
}

/**
 * vfio_pci_feature_vf_token - VFIO_DEVICE_FEATURE_PCI_VF_TOKEN
 * @vdev: the device
 * @flags: GET/SET/PROBE bits of the request
 * @arg: user pointer to the UUID
 * @argsz: payload size
 *
 * Only a PF has a token.  It can be set but never read back: it may be the
 * secret of the device's previous user.
 *
 * Return: 0 (also for a successful probe) or a negative errno; -ENOTTY
 * when the device is not a PF.
 */
int vfio_pci_feature_vf_token(struct vfio_pci_core_device *vdev, u32 flags,
			      void __user *arg, size_t argsz)
{
	struct vfio_pci_vf_token *token = vdev->vf_token;
	uuid_t uuid;
	int ret;

	ret = token ? vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET,
					 sizeof(uuid)) : -ENOTTY;
	if (ret != 1)
		return ret;
	if (copy_from_user(&uuid, arg, sizeof(uuid)))
		return -EFAULT;

	scoped_guard(mutex, &token->lock)
		uuid_copy(&token->uuid, &uuid);
	return 0;
}

static void vfio_pci_sriov_forget_pf(struct vfio_pci_core_device *vdev)
{
	mutex_lock(&vfio_pci_sriov_pfs_lock);
	list_del_init(&vdev->sriov_pfs_item);
	mutex_unlock(&vfio_pci_sriov_pfs_lock);
}

static void vfio_pci_sriov_set_active(struct vfio_pci_core_device *vdev,
				      bool active)
{
	down_write(&vdev->memory_lock);
	if (active)
		vfio_pci_set_power_state(vdev, PCI_D0);
	vdev->sriov_active = active;
	up_write(&vdev->memory_lock);
}

static int vfio_pci_sriov_enable(struct vfio_pci_core_device *vdev,
				 int nr_virtfn)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	/* Listed first, so that the new VFs find their PF when they probe. */
	mutex_lock(&vfio_pci_sriov_pfs_lock);
	if (!list_empty(&vdev->sriov_pfs_item)) {
		mutex_unlock(&vfio_pci_sriov_pfs_lock);
		return -EBUSY;
	}
	list_add_tail(&vdev->sriov_pfs_item, &vfio_pci_sriov_pfs);
	mutex_unlock(&vfio_pci_sriov_pfs_lock);

	/* VFs only work behind a PF in D0: keep it there while they exist. */
	ret = pm_runtime_resume_and_get(&pdev->dev);
	if (ret)
		goto err_forget;
	vfio_pci_sriov_set_active(vdev, true);

	ret = pci_enable_sriov(pdev, nr_virtfn);
	if (ret)
		goto err_inactive;
	return nr_virtfn;

err_inactive:
	vfio_pci_sriov_set_active(vdev, false);
	pm_runtime_put(&pdev->dev);
err_forget:
	vfio_pci_sriov_forget_pf(vdev);
	return ret;
}

static void vfio_pci_sriov_disable(struct vfio_pci_core_device *vdev)
{
	if (!vdev->sriov_active)
		return;
	/* Removes the VFs; their removal waits for their users to close. */
	pci_disable_sriov(vdev->pdev);
	vfio_pci_sriov_set_active(vdev, false);
	pm_runtime_put(&vdev->pdev->dev);
	vfio_pci_sriov_forget_pf(vdev);
}

/**
 * vfio_pci_core_sriov_configure - enable or disable the VFs of a vfio PF
 * @vdev: the PF
 * @nr_virtfn: how many VFs to create, 0 to remove them
 *
 * For the pci_driver.sriov_configure of drivers built on the core, which
 * decide whether their users may create VFs at all.  Called with the PF's
 * device lock held.  The new VFs are reserved for the PF's driver and can
 * only be opened with the PF's VF token.
 *
 * Return: @nr_virtfn or 0 on success, a negative errno otherwise.
 */
int vfio_pci_core_sriov_configure(struct vfio_pci_core_device *vdev,
				  int nr_virtfn)
{
	device_lock_assert(&vdev->pdev->dev);

	if (!nr_virtfn) {
		vfio_pci_sriov_disable(vdev);
		return 0;
	}
	if (!vdev->vf_token)
		return -ENODEV;
	return vfio_pci_sriov_enable(vdev, nr_virtfn);
}
EXPORT_SYMBOL_GPL(vfio_pci_core_sriov_configure);
