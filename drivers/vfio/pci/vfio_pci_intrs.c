// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupts: INTx, MSI and MSI-X forwarded to eventfds, plus the ERR and
 * REQ notification eventfds.
 *
 * Locking, outermost first:
 *
 *  vdev->igate (mutex): every change of interrupt configuration.  It owns
 *	vdev->irq_type, the MSI/MSI-X vector contexts in vdev->ctx, the
 *	lifetime of vdev->intx and the ERR/REQ eventfd slots.  Held across
 *	request_irq()/free_irq(), so no handler ever runs for a context that
 *	is being built or torn down.
 *  cfg->lock (config space, vfio_pci_config.c) may be taken inside igate,
 *	never the other way round.
 *  vdev->irqlock (spinlock, irqsave): the INTx mask state and the INTx
 *	trigger pointer.  The hard-irq handler runs entirely under it, so a
 *	trigger swapped under the lock is never signalled after it is put, and
 *	masking from process context (SET_IRQS, the user's COMMAND.INTX_DISABLE,
 *	an unmask eventfd) cannot interleave with the handler's own masking.
 *
 * The ERR and REQ eventfds are signalled from contexts that cannot take
 * igate (AER callbacks, driver unbind); they are RCU-protected pointers,
 * replaced under igate and released after a grace period.
 */
#include <linux/eventfd.h>
#include <linux/interrupt.h>
#include <linux/irqbypass.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

/*
 * struct vfio_pci_intx - state of an enabled INTx
 * @trigger: eventfd signalled on each interrupt (under irqlock)
 * @unmask: eventfd that unmasks when signalled, or NULL
 * @masked: the user-visible mask state: set by delivery (automask) or by a
 *	MASK action, cleared by UNMASK (under irqlock)
 * @hw_masked: the device is currently masked by us, through DisINTx or at
 *	the interrupt controller (under irqlock)
 * @name: the name the irq was requested with
 */
struct vfio_pci_intx {
	struct eventfd_ctx	*trigger;
	struct virqfd		*unmask;
	bool			masked;
	bool			hw_masked;
	char			*name;
};

/*
 * struct vfio_pci_vector - one live MSI or MSI-X vector
 * @trigger: eventfd signalled by the vector's handler
 * @producer: irq bypass producer so KVM can post the interrupt directly
 * @name: the name the irq was requested with
 * @irq: Linux irq number of the vector
 */
struct vfio_pci_vector {
	struct eventfd_ctx		*trigger;
	struct irq_bypass_producer	producer;
	char				*name;
	int				irq;
};

/* ---- ERR and REQ ---- */

/**
 * vfio_pci_signal_eventfd - signal an ERR/REQ eventfd if one is set
 * @slot: the RCU-protected eventfd pointer
 */
void vfio_pci_signal_eventfd(struct eventfd_ctx __rcu **slot)
{
	struct eventfd_ctx *ctx;

	rcu_read_lock();
	ctx = rcu_dereference(*slot);
	if (ctx)
		eventfd_signal(ctx);
	rcu_read_unlock();
}

static void vfio_pci_replace_eventfd(struct vfio_pci_core_device *vdev,
				     struct eventfd_ctx __rcu **slot,
				     struct eventfd_ctx *ctx)
{
	struct eventfd_ctx *old;

	old = rcu_replace_pointer(*slot, ctx, lockdep_is_held(&vdev->igate));
	if (old) {
		synchronize_rcu();
		eventfd_ctx_put(old);
	}
}

static int vfio_pci_set_notify(struct vfio_pci_core_device *vdev,
			       struct eventfd_ctx __rcu **slot,
			       struct vfio_irq_set *hdr, void *data)
{
	struct eventfd_ctx *ctx;
	s32 fd;

	if (!(hdr->flags & VFIO_IRQ_SET_ACTION_TRIGGER))
		return -EINVAL;

	switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		if (hdr->count)
			vfio_pci_signal_eventfd(slot);
		return 0;
	case VFIO_IRQ_SET_DATA_BOOL:
		if (hdr->count && *(u8 *)data)
			vfio_pci_signal_eventfd(slot);
		return 0;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		if (!hdr->count)
			return -EINVAL;
		fd = *(s32 *)data;
		if (fd == -1) {
			vfio_pci_replace_eventfd(vdev, slot, NULL);
			return 0;
		}
		if (fd < 0)
			return -EINVAL;
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		vfio_pci_replace_eventfd(vdev, slot, ctx);
		return 0;
	}
	return -EINVAL;
}

/* ---- INTx ---- */

/*
 * Bring the device's masking in line with what the user asked for: masked
 * while @masked is set or the user's virtual COMMAND.INTX_DISABLE is set.
 * Called with irqlock held.
 */
static void vfio_pci_intx_sync(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_intx *intx = vdev->intx;
	struct pci_dev *pdev = vdev->pdev;
	bool want = intx->masked || vfio_pci_intx_disabled_by_user(vdev);

	lockdep_assert_held(&vdev->irqlock);
	if (want == intx->hw_masked)
		return;

	if (want) {
		if (vdev->pci_2_3)
			pci_intx(pdev, 0);
		else
			disable_irq_nosync(pdev->irq);
		intx->hw_masked = true;
		return;
	}

	if (vdev->pci_2_3) {
		/*
		 * The device asserted INTx while masked: unmasking now would
		 * fire straight away, so deliver it as a new interrupt and
		 * stay masked instead.
		 */
		if (!pci_check_and_unmask_intx(pdev)) {
			intx->masked = true;
			if (intx->trigger)
				eventfd_signal(intx->trigger);
			return;
		}
	} else {
		enable_irq(pdev->irq);
	}
	intx->hw_masked = false;
}

static irqreturn_t vfio_pci_intx_handler(int irq, void *dev_id)
{
	struct vfio_pci_core_device *vdev = dev_id;
	struct vfio_pci_intx *intx = vdev->intx;
	irqreturn_t ret = IRQ_NONE;
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (!vdev->pci_2_3) {
		/* Exclusive line: it is ours, mask it at the controller. */
		disable_irq_nosync(irq);
		ret = IRQ_HANDLED;
	} else if (!intx->hw_masked && pci_check_and_mask_intx(vdev->pdev)) {
		ret = IRQ_HANDLED;
	}
	if (ret == IRQ_HANDLED) {
		intx->masked = true;
		intx->hw_masked = true;
		if (intx->trigger)
			eventfd_signal(intx->trigger);
	}
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	return ret;
}

static void vfio_pci_intx_set_masked(struct vfio_pci_core_device *vdev,
				     bool masked)
{
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (vdev->intx) {
		vdev->intx->masked = masked;
		vfio_pci_intx_sync(vdev);
	}
	spin_unlock_irqrestore(&vdev->irqlock, flags);
}

/**
 * vfio_pci_intx_user_mask_changed - the user toggled COMMAND.INTX_DISABLE
 * @vdev: the device
 *
 * Called from config space writes, with cfg->lock held and igate not held.
 * vdev->intx is only set and cleared under irqlock, and freed after being
 * cleared, so reading it under irqlock is enough.
 */
void vfio_pci_intx_user_mask_changed(struct vfio_pci_core_device *vdev)
{
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (vdev->intx)
		vfio_pci_intx_sync(vdev);
	spin_unlock_irqrestore(&vdev->irqlock, flags);
}

static int vfio_pci_intx_unmask_handler(void *opaque, void *unused)
{
	vfio_pci_intx_set_masked(opaque, false);
	return 0;
}

static void vfio_pci_intx_disable(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_intx *intx = vdev->intx;
	struct pci_dev *pdev = vdev->pdev;
	unsigned long flags;

	lockdep_assert_held(&vdev->igate);
	vfio_virqfd_disable(&intx->unmask);
	free_irq(pdev->irq, vdev);

	spin_lock_irqsave(&vdev->irqlock, flags);
	/* Leave the line quiet for whoever comes next. */
	if (vdev->pci_2_3)
		pci_intx(pdev, 0);
	vdev->intx = NULL;
	spin_unlock_irqrestore(&vdev->irqlock, flags);

	if (intx->trigger)
		eventfd_ctx_put(intx->trigger);
	kfree(intx->name);
	kfree(intx);
	vdev->irq_type = VFIO_PCI_IRQ_NONE;
}

static int vfio_pci_intx_enable(struct vfio_pci_core_device *vdev,
				struct eventfd_ctx *trigger)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_pci_intx *intx;
	unsigned long flags;
	int ret;

	lockdep_assert_held(&vdev->igate);
	intx = kzalloc(sizeof(*intx), GFP_KERNEL_ACCOUNT);
	if (!intx)
		return -ENOMEM;
	intx->name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-intx(%s)",
			       pci_name(pdev));
	if (!intx->name) {
		kfree(intx);
		return -ENOMEM;
	}
	intx->trigger = trigger;

	/*
	 * Start masked in hardware so nothing fires before the handler can
	 * see vdev->intx; the sync below then unmasks if the user allows it.
	 */
	if (vdev->pci_2_3) {
		pci_intx(pdev, 0);
		intx->hw_masked = true;
	}
	spin_lock_irqsave(&vdev->irqlock, flags);
	vdev->intx = intx;
	spin_unlock_irqrestore(&vdev->irqlock, flags);

	ret = request_irq(pdev->irq, vfio_pci_intx_handler,
			  vdev->pci_2_3 ? IRQF_SHARED : 0, intx->name, vdev);
	if (ret) {
		spin_lock_irqsave(&vdev->irqlock, flags);
		vdev->intx = NULL;
		spin_unlock_irqrestore(&vdev->irqlock, flags);
		kfree(intx->name);
		kfree(intx);
		return ret;
	}

	vdev->irq_type = VFIO_PCI_INTX_IRQ_INDEX;
	spin_lock_irqsave(&vdev->irqlock, flags);
	vfio_pci_intx_sync(vdev);
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	return 0;
}

static int vfio_pci_intx_set_trigger(struct vfio_pci_core_device *vdev,
				     struct vfio_irq_set *hdr, void *data)
{
	struct eventfd_ctx *trigger, *old;
	unsigned long flags;
	s32 fd;
	int ret;

	if (vdev->irq_type != VFIO_PCI_IRQ_NONE &&
	    vdev->irq_type != VFIO_PCI_INTX_IRQ_INDEX)
		return -EINVAL;

	switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		if (!hdr->count) {
			if (vdev->intx)
				vfio_pci_intx_disable(vdev);
			return 0;
		}
		fallthrough;
	case VFIO_IRQ_SET_DATA_BOOL:
		/* A software-triggered interrupt, delivered like a real one. */
		if (!vdev->intx)
			return -EINVAL;
		if (hdr->flags & VFIO_IRQ_SET_DATA_BOOL && !*(u8 *)data)
			return 0;
		spin_lock_irqsave(&vdev->irqlock, flags);
		vdev->intx->masked = true;
		vfio_pci_intx_sync(vdev);
		if (vdev->intx->trigger)
			eventfd_signal(vdev->intx->trigger);
		spin_unlock_irqrestore(&vdev->irqlock, flags);
		return 0;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		break;
	default:
		return -EINVAL;
	}

	fd = *(s32 *)data;
	if (fd == -1) {
		if (vdev->intx)
			vfio_pci_intx_disable(vdev);
		return 0;
	}
	if (fd < 0)
		return -EINVAL;
	trigger = eventfd_ctx_fdget(fd);
	if (IS_ERR(trigger))
		return PTR_ERR(trigger);

	if (!vdev->intx) {
		ret = vfio_pci_intx_enable(vdev, trigger);
		if (ret)
			eventfd_ctx_put(trigger);
		return ret;
	}

	spin_lock_irqsave(&vdev->irqlock, flags);
	old = vdev->intx->trigger;
	vdev->intx->trigger = trigger;
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

static int vfio_pci_intx_set_mask(struct vfio_pci_core_device *vdev,
				  struct vfio_irq_set *hdr, void *data,
				  bool mask)
{
	u32 type = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	s32 fd;

	if (!vdev->intx)
		return -EINVAL;

	if (type == VFIO_IRQ_SET_DATA_EVENTFD) {
		/* Only unmasking can be driven by an eventfd. */
		if (mask)
			return -EINVAL;
		fd = *(s32 *)data;
		if (fd == -1) {
			vfio_virqfd_disable(&vdev->intx->unmask);
			return 0;
		}
		if (fd < 0)
			return -EINVAL;
		return vfio_virqfd_enable(vdev, vfio_pci_intx_unmask_handler,
					  NULL, NULL, &vdev->intx->unmask, fd);
	}
	if (type == VFIO_IRQ_SET_DATA_BOOL && !*(u8 *)data)
		return 0;
	vfio_pci_intx_set_masked(vdev, mask);
	return 0;
}

/* ---- MSI and MSI-X ---- */

static irqreturn_t vfio_pci_vector_handler(int irq, void *arg)
{
	struct eventfd_ctx *trigger = arg;

	eventfd_signal(trigger);
	return IRQ_HANDLED;
}

/*
 * The PCI core writes the MSI-X table in BAR memory; a user who turned off
 * memory decode would make those writes vanish.  Decode is turned on around
 * vector changes, with memory_lock held so the user cannot see it.
 */
static u16 vfio_pci_msix_decode_on(struct vfio_pci_core_device *vdev)
{
	u16 cmd = 0;

	down_write(&vdev->memory_lock);
	if (vdev->pdev->msix_cap) {
		pci_read_config_word(vdev->pdev, PCI_COMMAND, &cmd);
		if (!(cmd & PCI_COMMAND_MEMORY))
			pci_write_config_word(vdev->pdev, PCI_COMMAND,
					      cmd | PCI_COMMAND_MEMORY);
	}
	return cmd;
}

static void vfio_pci_msix_decode_restore(struct vfio_pci_core_device *vdev,
					 u16 cmd)
{
	if (vdev->pdev->msix_cap && !(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(vdev->pdev, PCI_COMMAND, cmd);
	up_write(&vdev->memory_lock);
}

static void vfio_pci_vector_free(struct vfio_pci_core_device *vdev,
				 unsigned long index)
{
	struct vfio_pci_vector *vec = xa_erase(&vdev->ctx, index);

	if (!vec)
		return;
	irq_bypass_unregister_producer(&vec->producer);
	free_irq(vec->irq, vec->trigger);
	eventfd_ctx_put(vec->trigger);
	kfree(vec->name);
	kfree(vec);
}

static int vfio_pci_vector_set(struct vfio_pci_core_device *vdev,
			       unsigned int index, bool msix, s32 fd)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_pci_vector *vec;
	struct msi_map map;
	int irq, ret;

	vfio_pci_vector_free(vdev, index);
	if (fd == -1)
		return 0;
	if (fd < 0)
		return -EINVAL;

	irq = pci_irq_vector(pdev, index);
	if (irq < 0 && msix && vdev->has_dyn_msix) {
		map = pci_msix_alloc_irq_at(pdev, index, NULL);
		irq = map.index == index ? map.virq : -EINVAL;
	}
	if (irq < 0)
		return -EINVAL;

	vec = kzalloc(sizeof(*vec), GFP_KERNEL_ACCOUNT);
	if (!vec)
		return -ENOMEM;
	vec->irq = irq;
	vec->name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-msi%s[%u](%s)",
			      msix ? "x" : "", index, pci_name(pdev));
	if (!vec->name) {
		ret = -ENOMEM;
		goto err_free;
	}
	vec->trigger = eventfd_ctx_fdget(fd);
	if (IS_ERR(vec->trigger)) {
		ret = PTR_ERR(vec->trigger);
		goto err_free_name;
	}
	ret = request_irq(irq, vfio_pci_vector_handler, 0, vec->name,
			  vec->trigger);
	if (ret)
		goto err_put;

	vec->producer.token = vec->trigger;
	vec->producer.irq = irq;
	/* Without KVM there is no consumer; delivery works regardless. */
	if (irq_bypass_register_producer(&vec->producer))
		pci_info(pdev, "irq bypass producer for %s not registered\n",
			 vec->name);

	ret = xa_insert(&vdev->ctx, index, vec, GFP_KERNEL_ACCOUNT);
	if (ret)
		goto err_unregister;
	return 0;

err_unregister:
	irq_bypass_unregister_producer(&vec->producer);
	free_irq(irq, vec->trigger);
err_put:
	eventfd_ctx_put(vec->trigger);
err_free_name:
	kfree(vec->name);
err_free:
	kfree(vec);
	return ret;
}

static void vfio_pci_msi_disable(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_vector *vec;
	unsigned long index;
	u16 cmd;

	lockdep_assert_held(&vdev->igate);
	cmd = vfio_pci_msix_decode_on(vdev);
	xa_for_each(&vdev->ctx, index, vec)
		vfio_pci_vector_free(vdev, index);
	pci_free_irq_vectors(vdev->pdev);
	vfio_pci_msix_decode_restore(vdev, cmd);
	/* Keep INTx quiet, as it was while MSI owned the device. */
	if (vdev->pci_2_3)
		pci_intx(vdev->pdev, 0);
	vdev->irq_type = VFIO_PCI_IRQ_NONE;
}

static int vfio_pci_msi_enable(struct vfio_pci_core_device *vdev,
			       unsigned int nvec, bool msix)
{
	unsigned int type = msix ? PCI_IRQ_MSIX : PCI_IRQ_MSI;
	int ret;
	u16 cmd;

	cmd = vfio_pci_msix_decode_on(vdev);
	ret = pci_alloc_irq_vectors(vdev->pdev, 1, nvec, type);
	vfio_pci_msix_decode_restore(vdev, cmd);
	if (ret < 0)
		return ret;
	if (ret < nvec) {
		/* All or nothing: the user sized its table for nvec. */
		pci_free_irq_vectors(vdev->pdev);
		return -ENOSPC;
	}
	vdev->irq_type = msix ? VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
	return 0;
}

static int vfio_pci_msi_set_trigger(struct vfio_pci_core_device *vdev,
				    unsigned int index,
				    struct vfio_irq_set *hdr, void *data)
{
	bool msix = index == VFIO_PCI_MSIX_IRQ_INDEX;
	struct vfio_pci_vector *vec;
	s32 *fds = data;
	unsigned int i;
	int ret = 0;
	u16 cmd;

	if (vdev->irq_type != VFIO_PCI_IRQ_NONE && vdev->irq_type != index)
		return -EINVAL;

	switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		if (!hdr->count) {
			if (vdev->irq_type == index)
				vfio_pci_msi_disable(vdev);
			return 0;
		}
		fallthrough;
	case VFIO_IRQ_SET_DATA_BOOL:
		if (vdev->irq_type != index)
			return -EINVAL;
		for (i = 0; i < hdr->count; i++) {
			if ((hdr->flags & VFIO_IRQ_SET_DATA_BOOL) &&
			    !((u8 *)data)[i])
				continue;
			vec = xa_load(&vdev->ctx, hdr->start + i);
			if (vec)
				eventfd_signal(vec->trigger);
		}
		return 0;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		break;
	default:
		return -EINVAL;
	}

	if (vdev->irq_type == VFIO_PCI_IRQ_NONE) {
		ret = vfio_pci_msi_enable(vdev, hdr->start + hdr->count, msix);
		if (ret)
			return ret;
	}

	cmd = vfio_pci_msix_decode_on(vdev);
	for (i = 0; i < hdr->count; i++) {
		ret = vfio_pci_vector_set(vdev, hdr->start + i, msix, fds[i]);
		if (ret)
			break;
	}
	if (ret) {
		/* Undo this call's vectors; earlier ones stay live. */
		while (i--)
			vfio_pci_vector_free(vdev, hdr->start + i);
	}
	vfio_pci_msix_decode_restore(vdev, cmd);
	return ret;
}

/* ---- Dispatch ---- */

/**
 * vfio_pci_irq_count - vectors an interrupt index has on this device
 * @vdev: the device
 * @index: VFIO_PCI_*_IRQ_INDEX
 *
 * Return: the count, 0 if the device lacks that kind of interrupt.
 */
int vfio_pci_irq_count(struct vfio_pci_core_device *vdev, unsigned int index)
{
	struct pci_dev *pdev = vdev->pdev;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		return vdev->nointx ? 0 : 1;
	case VFIO_PCI_MSI_IRQ_INDEX:
		return pdev->msi_cap ? vdev->msi_qmax : 0;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		return pdev->msix_cap ? vdev->msix_size / PCI_MSIX_ENTRY_SIZE : 0;
	case VFIO_PCI_ERR_IRQ_INDEX:
		return pci_is_pcie(pdev) ? 1 : 0;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	}
	return 0;
}

/**
 * vfio_pci_set_irqs - carry out a validated VFIO_DEVICE_SET_IRQS
 * @vdev: the device
 * @hdr: the request; index, start and count are already bounds-checked
 * @data: the request's payload, sized for its data type and count
 *
 * Return: 0 or a negative errno.
 */
int vfio_pci_set_irqs(struct vfio_pci_core_device *vdev,
		      struct vfio_irq_set *hdr, void *data)
{
	u32 action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	int ret = -EINVAL;
	bool mask;

	mutex_lock(&vdev->igate);
	switch (hdr->index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		mask = action == VFIO_IRQ_SET_ACTION_MASK;
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			ret = vfio_pci_intx_set_trigger(vdev, hdr, data);
		else if (hdr->count)
			ret = vfio_pci_intx_set_mask(vdev, hdr, data, mask);
		else
			ret = 0;
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		/* Vectors are masked by the user's own MSI-X table copy. */
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			ret = vfio_pci_msi_set_trigger(vdev, hdr->index, hdr,
						       data);
		else
			ret = -ENOTTY;
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
		ret = vfio_pci_set_notify(vdev, &vdev->err_trigger, hdr, data);
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		ret = vfio_pci_set_notify(vdev, &vdev->req_trigger, hdr, data);
		break;
	}
	mutex_unlock(&vdev->igate);
	return ret;
}

/**
 * vfio_pci_irqs_teardown - disable every interrupt the user set up
 * @vdev: the device, being closed
 */
void vfio_pci_irqs_teardown(struct vfio_pci_core_device *vdev)
{
	mutex_lock(&vdev->igate);
	if (vdev->intx)
		vfio_pci_intx_disable(vdev);
	if (vdev->irq_type == VFIO_PCI_MSI_IRQ_INDEX ||
	    vdev->irq_type == VFIO_PCI_MSIX_IRQ_INDEX)
		vfio_pci_msi_disable(vdev);
	vfio_pci_replace_eventfd(vdev, &vdev->err_trigger, NULL);
	vfio_pci_replace_eventfd(vdev, &vdev->req_trigger, NULL);
	mutex_unlock(&vdev->igate);
}
