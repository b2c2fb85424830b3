// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupts: INTx, MSI and MSI-X forwarded to eventfds, plus the ERR and
 * REQ notification eventfds.
 *
 * Locking, outermost first:
 *
 *  vdev->igate (mutex): every change of interrupt configuration.  It owns
 *	vdev->irq_type, the MSI/MSI-X vector contexts in vdev->ctx, the
 *	lifetime of vdev->intx and of its unmask virqfd, and the ERR/REQ
 *	eventfd slots.  Held across request_irq()/free_irq(), so no handler
 *	ever runs for a context that is being built or torn down.  Taken by
 *	SET_IRQS and by teardown at close only.
 *  vdev->memory_lock (rwsem, for write): taken inside igate around MSI-X
 *	vector changes, which write the MSI-X table in BAR memory.
 *  vdev->irqlock (spinlock, irqsave): the INTx mask state, the INTx
 *	trigger pointer and the vdev->intx pointer itself.  vdev->intx is
 *	published and unpublished under it, so code that does not hold igate
 *	(the hard-irq handler, the user's COMMAND.INTX_DISABLE write, the
 *	unmask virqfd) finds either a live INTx context or NULL, never one
 *	being freed.  Innermost: nothing else is taken under it.
 *
 * The config space lock (cfg->lock) and igate are never held together;
 * a config write reaches INTx only through irqlock.
 *
 * How this rules out the known races:
 *  - Masking from outside SET_IRQS vs teardown (CVE-2024-26810): the
 *    config-space, virqfd and runtime PM paths touch INTx only under
 *    irqlock after checking vdev->intx.  Teardown first disables the
 *    unmask virqfd (which waits for its handler and deferred work), then
 *    masks the line and unpublishes vdev->intx under irqlock, and only then
 *    frees the irq and the context.
 *  - Eventfd teardown vs delivery (CVE-2024-26812): the INTx handler is
 *    requested once per enable.  The trigger is read under irqlock inside
 *    an RCU read-side section and signalled after irqlock is dropped, in
 *    the same section; a trigger that is replaced or dropped is put only
 *    after a grace period.
 *    An MSI vector's eventfd is put only after free_irq() has waited for
 *    its handler.  ERR/REQ eventfds are RCU pointers, put after a grace
 *    period.
 *  - INTx enabled before the mask is in place (CVE-2024-27437): INTx is
 *    masked in hardware before its handler is requested: DisINTx is set, or
 *    an exclusive line is requested with IRQF_NO_AUTOEN.  vdev->intx is
 *    published only once the irq is requested, so nothing can unmask a line
 *    that has no handler yet.  The software state (hw_masked) mirrors the
 *    hardware from then on, so the line's disable depth never goes above
 *    one.  Devices whose INTx is not routed report a count of 0 and
 *    SET_IRQS on INTx is refused for them.
 *  - Signalling from an eventfd wakeup: the unmask virqfd handler runs
 *    inside another eventfd's wakeup, where eventfd_signal() is refused; an
 *    interrupt found pending there is delivered from the virqfd's work item
 *    instead.
 *  - Eventfd locks vs irqlock: that wakeup holds the unmask eventfd's lock
 *    when the handler takes irqlock, so no eventfd is ever signalled with
 *    irqlock held: the two eventfds' locks would be ordered against each
 *    other through irqlock, a deadlock when the user passes one eventfd for
 *    both.
 */
#include <linux/eventfd.h>
#include <linux/interrupt.h>
#include <linux/irqbypass.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/vfio_pci_core.h>

#include "vfio_pci_priv.h"

/*
 * struct vfio_pci_intx - state of an enabled INTx
 * @trigger: eventfd signalled on each interrupt, or NULL (under irqlock)
 * @unmask: virqfd that unmasks when its eventfd is signalled (under igate)
 * @masked: the user-visible mask state: set by delivery (automask) or by a
 *	MASK action, cleared by UNMASK (under irqlock)
 * @hw_masked: the device is currently masked by us, through DisINTx or at
 *	the interrupt controller (under irqlock)
 * @suspended: the device is runtime suspended and held masked until it
 *	resumes, whatever the user asks (under irqlock)
 * @name: the name the irq was requested with
 */
struct vfio_pci_intx {
	struct eventfd_ctx	*trigger;
	struct virqfd		*unmask;
	bool			masked;
	bool			hw_masked;
	bool			suspended;
	char			*name;
};

/*
 * struct vfio_pci_vector - one live MSI or MSI-X vector
 * @trigger: eventfd signalled by the vector's handler
 * @producer: irq bypass producer so KVM can post the interrupt directly;
 *	its token is NULL when registration failed
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
 *
 * Safe from any context that may sleep or not; takes no vfio lock.
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

/*
 * ERR and REQ carry one eventfd each.  DATA_NONE with a count signals it
 * (loopback) and with count 0 removes it; both need one to be set.
 */
static int vfio_pci_set_notify(struct vfio_pci_core_device *vdev,
			       struct eventfd_ctx __rcu **slot,
			       struct vfio_irq_set *hdr, void *data)
{
	struct eventfd_ctx *ctx;
	s32 fd;

	switch (hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		if (!rcu_access_pointer(*slot))
			return -EINVAL;
		if (hdr->count)
			vfio_pci_signal_eventfd(slot);
		else
			vfio_pci_replace_eventfd(vdev, slot, NULL);
		return 0;
	case VFIO_IRQ_SET_DATA_BOOL:
		if (!hdr->count)
			return -EINVAL;
		if (*(u8 *)data)
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

static void vfio_pci_intx_hw_mask(struct vfio_pci_core_device *vdev)
{
	if (vdev->pci_2_3)
		vfio_pci_command_update_locked(vdev, PCI_COMMAND_INTX_DISABLE,
					       PCI_COMMAND_INTX_DISABLE);
	else
		disable_irq_nosync(vdev->pdev->irq);
	vdev->intx->hw_masked = true;
}

/*
 * Bring the device's masking in line with what the user asked for: masked
 * while @masked is set or the user's virtual COMMAND.INTX_DISABLE is set,
 * and in any case while the device is suspended.
 *
 * Return: true if unmasking found the device asserting INTx.  It then stays
 * masked and counts as a new, automasked interrupt, which the caller must
 * deliver: signalling here is not allowed from every caller's context.
 */
static bool vfio_pci_intx_sync(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_intx *intx = vdev->intx;
	bool want = intx->masked || intx->suspended ||
		    vfio_pci_intx_disabled_by_user(vdev);

	lockdep_assert_held(&vdev->irqlock);
	if (want == intx->hw_masked)
		return false;

	if (want) {
		vfio_pci_intx_hw_mask(vdev);
		return false;
	}

	if (!vdev->pci_2_3) {
		enable_irq(vdev->pdev->irq);
	} else if (!pci_check_and_unmask_intx(vdev->pdev)) {
		/* Unmasking now would fire straight away. */
		intx->masked = true;
		return true;
	}
	intx->hw_masked = false;
	return false;
}

/*
 * Under irqlock: the eventfd an interrupt goes to, or NULL.  The caller
 * signals it after dropping irqlock, inside the RCU read-side section it
 * took before irqlock (see "Eventfd teardown vs delivery" above).
 */
static struct eventfd_ctx *
vfio_pci_intx_trigger(struct vfio_pci_core_device *vdev)
{
	lockdep_assert_held(&vdev->irqlock);
	return vdev->intx ? vdev->intx->trigger : NULL;
}

static void vfio_pci_intx_fire(struct eventfd_ctx *trigger)
{
	if (trigger)
		eventfd_signal(trigger);
}

static irqreturn_t vfio_pci_intx_handler(int irq, void *dev_id)
{
	struct vfio_pci_core_device *vdev = dev_id;
	struct eventfd_ctx *trigger = NULL;
	struct vfio_pci_intx *intx;
	irqreturn_t ret = IRQ_NONE;
	unsigned long flags;

	rcu_read_lock();
	spin_lock_irqsave(&vdev->irqlock, flags);
	intx = vdev->intx;
	/* NULL: teardown masked the line and is about to free the irq. */
	if (!intx || intx->hw_masked)
		goto out;
	if (vdev->pci_2_3 && !pci_check_and_mask_intx(vdev->pdev))
		goto out;	/* a shared line, and not our device */
	if (!vdev->pci_2_3)
		disable_irq_nosync(irq);	/* exclusive: mask the line */

	intx->masked = true;
	intx->hw_masked = true;
	trigger = vfio_pci_intx_trigger(vdev);
	ret = IRQ_HANDLED;
out:
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	vfio_pci_intx_fire(trigger);
	rcu_read_unlock();
	return ret;
}

/**
 * vfio_pci_intx_reapply_mask - put INTx disable back after a reset
 * @vdev: the device, just reset
 *
 * A reset saves COMMAND before and restores it after.  If our handler
 * masked INTx (set INTx disable) in between, the restore clears the bit
 * again while we count the line as masked, and a level interrupt storms.
 * Process context only unmasks with config access allowed, so never
 * during a reset: only the handler's masking can be lost.
 */
void vfio_pci_intx_reapply_mask(struct vfio_pci_core_device *vdev)
{
	unsigned long flags;

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (vdev->pci_2_3 && vdev->intx && vdev->intx->hw_masked)
		vfio_pci_command_update_locked(vdev, PCI_COMMAND_INTX_DISABLE,
					       PCI_COMMAND_INTX_DISABLE);
	spin_unlock_irqrestore(&vdev->irqlock, flags);
}

/* The reasons for masking INTx that process context changes. */
enum vfio_pci_intx_reason {
	VFIO_PCI_INTX_USER_MASK,	/* MASK/UNMASK actions: intx->masked */
	VFIO_PCI_INTX_SUSPENDED,	/* runtime PM: intx->suspended */
	VFIO_PCI_INTX_COMMAND,		/* the user's COMMAND.INTX_DISABLE */
};

/*
 * Record a change of one reason for masking (@on: it applies now) and
 * bring the device in line, delivering an interrupt that unmasking found
 * pending.  The COMMAND bit lives in the virtual config space, which the
 * caller has already updated: @on is ignored for it.
 */
static void vfio_pci_intx_update(struct vfio_pci_core_device *vdev,
				 enum vfio_pci_intx_reason reason, bool on)
{
	struct eventfd_ctx *trigger = NULL;
	unsigned long flags;

	rcu_read_lock();
	spin_lock_irqsave(&vdev->irqlock, flags);
	if (vdev->intx) {
		if (reason == VFIO_PCI_INTX_USER_MASK)
			vdev->intx->masked = on;
		else if (reason == VFIO_PCI_INTX_SUSPENDED)
			vdev->intx->suspended = on;
		if (vfio_pci_intx_sync(vdev))
			trigger = vfio_pci_intx_trigger(vdev);
	}
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	vfio_pci_intx_fire(trigger);
	rcu_read_unlock();
}

/**
 * vfio_pci_intx_user_mask_changed - the user toggled COMMAND.INTX_DISABLE
 * @vdev: the device
 *
 * Called from config space writes, in process context, with cfg->lock held
 * and igate not held; see the locking rules at the top of this file.
 */
void vfio_pci_intx_user_mask_changed(struct vfio_pci_core_device *vdev)
{
	vfio_pci_intx_update(vdev, VFIO_PCI_INTX_COMMAND, false);
}

/**
 * vfio_pci_intx_set_suspended - hold INTx masked while the device sleeps
 * @vdev: the device
 * @suspended: true from runtime suspend, false from runtime resume
 *
 * Nothing may reach a suspended device from interrupt context or from the
 * user's unmask eventfd, which, unlike an ioctl, does not wake it: a device
 * in D3cold does not answer config cycles, and on a shared line our handler
 * would read its status for every interrupt of the other devices.  So INTx
 * is masked from runtime suspend to resume.  The user's own mask state is
 * left alone; an interrupt found pending on resume is delivered then.
 */
void vfio_pci_intx_set_suspended(struct vfio_pci_core_device *vdev,
				 bool suspended)
{
	vfio_pci_intx_update(vdev, VFIO_PCI_INTX_SUSPENDED, suspended);
}

/*
 * The unmask virqfd's handler, called inside the wakeup of the user's
 * eventfd: unmask, and leave delivery of a pending interrupt to the
 * virqfd's work item (vfio_pci_intx_unmask_deliver) by returning 1.
 */
static int vfio_pci_intx_unmask_handler(void *opaque, void *unused)
{
	struct vfio_pci_core_device *vdev = opaque;
	unsigned long flags;
	bool pending = false;

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (vdev->intx) {
		vdev->intx->masked = false;
		pending = vfio_pci_intx_sync(vdev);
	}
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	return pending;
}

static void vfio_pci_intx_unmask_deliver(void *opaque, void *unused)
{
	struct vfio_pci_core_device *vdev = opaque;
	struct eventfd_ctx *trigger;
	unsigned long flags;

	rcu_read_lock();
	spin_lock_irqsave(&vdev->irqlock, flags);
	trigger = vfio_pci_intx_trigger(vdev);
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	vfio_pci_intx_fire(trigger);
	rcu_read_unlock();
}

/*
 * An exclusive line is masked with disable_irq_nosync().  By default that
 * disable is lazy: the line stays open at the interrupt controller until
 * it fires once more, so a level-triggered line the device keeps asserting
 * is taken again after our handler, and only that second interrupt masks
 * it.  The line is ours alone from request to free, so ask for disables
 * that mask at the controller straight away.  Shared lines (DisINTx
 * masking) are never disabled and keep the default.
 */
static void vfio_pci_intx_unlazy(struct vfio_pci_core_device *vdev, bool on)
{
	if (vdev->pci_2_3)
		return;
	if (on)
		irq_set_status_flags(vdev->pdev->irq, IRQ_DISABLE_UNLAZY);
	else
		irq_clear_status_flags(vdev->pdev->irq, IRQ_DISABLE_UNLAZY);
}

static void vfio_pci_intx_disable(struct vfio_pci_core_device *vdev)
{
	struct vfio_pci_intx *intx = vdev->intx;
	unsigned long flags;

	lockdep_assert_held(&vdev->igate);
	/* Waits for the virqfd's handler and its pending work item. */
	vfio_virqfd_disable(&intx->unmask);

	spin_lock_irqsave(&vdev->irqlock, flags);
	if (!intx->hw_masked)
		vfio_pci_intx_hw_mask(vdev);
	vdev->intx = NULL;
	spin_unlock_irqrestore(&vdev->irqlock, flags);

	free_irq(vdev->pdev->irq, vdev);
	vfio_pci_intx_unlazy(vdev, false);
	if (intx->trigger) {
		synchronize_rcu();	/* signallers outside irqlock */
		eventfd_ctx_put(intx->trigger);
	}
	kfree(intx->name);
	kfree(intx);
	vdev->irq_type = VFIO_PCI_IRQ_NONE;
}

static int vfio_pci_intx_enable(struct vfio_pci_core_device *vdev,
				struct eventfd_ctx *trigger)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_pci_intx *intx;
	unsigned long irqflags;
	unsigned long flags;
	bool pending;
	int ret;

	lockdep_assert_held(&vdev->igate);
	if (vdev->nointx)
		return -ENODEV;
	intx = kzalloc(sizeof(*intx), GFP_KERNEL_ACCOUNT);
	if (!intx)
		return -ENOMEM;
	intx->name = kasprintf(GFP_KERNEL_ACCOUNT, "vfio-intx(%s)",
			       pci_name(pdev));
	if (!intx->name) {
		kfree(intx);
		return -ENOMEM;
	}

	/*
	 * Masked in hardware before the handler exists: DisINTx on a device
	 * that has it, IRQF_NO_AUTOEN (disable depth one) on an exclusive
	 * line.  Until vdev->intx is published below, the handler claims
	 * nothing and a config write unmasks nothing, so the line cannot be
	 * enabled before it is requested.  The sync then unmasks if the user
	 * allows it.
	 */
	intx->hw_masked = true;
	if (vdev->pci_2_3) {
		vfio_pci_command_update(vdev, PCI_COMMAND_INTX_DISABLE,
					PCI_COMMAND_INTX_DISABLE);
		irqflags = IRQF_SHARED;
	} else {
		irqflags = IRQF_NO_AUTOEN;
		vfio_pci_intx_unlazy(vdev, true);
	}
	ret = request_irq(pdev->irq, vfio_pci_intx_handler, irqflags,
			  intx->name, vdev);
	if (ret) {
		vfio_pci_intx_unlazy(vdev, false);
		kfree(intx->name);
		kfree(intx);
		return ret;
	}
	vdev->irq_type = VFIO_PCI_INTX_IRQ_INDEX;

	/* The trigger is ours only once nothing can fail any more. */
	spin_lock_irqsave(&vdev->irqlock, flags);
	vdev->intx = intx;
	intx->trigger = trigger;
	pending = vfio_pci_intx_sync(vdev);
	spin_unlock_irqrestore(&vdev->irqlock, flags);
	/* The trigger is ours: only SET_IRQS, under igate, drops it. */
	if (pending)
		vfio_pci_intx_fire(trigger);
	return 0;
}

/*
 * ACTION_TRIGGER on INTx.  An eventfd (or -1 for none) enables INTx or
 * replaces its eventfd; INTx stays enabled until DATA_NONE with count 0.
 * DATA_NONE/BOOL with a count signal the eventfd for loopback testing and
 * leave the mask state alone.
 */
static int vfio_pci_intx_set_trigger(struct vfio_pci_core_device *vdev,
				     struct vfio_irq_set *hdr, void *data)
{
	u32 type = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	bool is_intx = vdev->irq_type == VFIO_PCI_INTX_IRQ_INDEX;
	struct eventfd_ctx *trigger = NULL, *old;
	unsigned long flags;
	s32 fd;
	int ret;

	if (is_intx && type == VFIO_IRQ_SET_DATA_NONE && !hdr->count) {
		vfio_pci_intx_disable(vdev);
		return 0;
	}
	if ((!is_intx && vdev->irq_type != VFIO_PCI_IRQ_NONE) ||
	    hdr->count != 1)
		return -EINVAL;

	if (type == VFIO_IRQ_SET_DATA_EVENTFD) {
		fd = *(s32 *)data;
		if (fd >= 0) {
			trigger = eventfd_ctx_fdget(fd);
			if (IS_ERR(trigger))
				return PTR_ERR(trigger);
		}
		if (!is_intx) {
			ret = vfio_pci_intx_enable(vdev, trigger);
			if (ret && trigger)
				eventfd_ctx_put(trigger);
			return ret;
		}
		spin_lock_irqsave(&vdev->irqlock, flags);
		old = vdev->intx->trigger;
		vdev->intx->trigger = trigger;
		spin_unlock_irqrestore(&vdev->irqlock, flags);
		if (old) {
			synchronize_rcu();	/* signallers outside irqlock */
			eventfd_ctx_put(old);
		}
		return 0;
	}

	if (!is_intx)
		return -EINVAL;
	if (type == VFIO_IRQ_SET_DATA_BOOL && !*(u8 *)data)
		return 0;
	/* A user who disabled INTx in COMMAND gets no interrupt at all. */
	if (!vfio_pci_intx_disabled_by_user(vdev))
		vfio_pci_intx_fire(vdev->intx->trigger);
	return 0;
}

/* ACTION_MASK and ACTION_UNMASK on INTx. */
static int vfio_pci_intx_set_mask(struct vfio_pci_core_device *vdev,
				  struct vfio_irq_set *hdr, void *data,
				  bool mask)
{
	u32 type = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	s32 fd;

	if (vdev->irq_type != VFIO_PCI_INTX_IRQ_INDEX || hdr->count != 1)
		return -EINVAL;

	if (type == VFIO_IRQ_SET_DATA_EVENTFD) {
		/* Masking through an eventfd is not offered (no flag says so). */
		if (mask)
			return -ENOTTY;
		fd = *(s32 *)data;
		if (fd < 0) {
			vfio_virqfd_disable(&vdev->intx->unmask);
			return 0;
		}
		return vfio_virqfd_enable(vdev, vfio_pci_intx_unmask_handler,
					  vfio_pci_intx_unmask_deliver, NULL,
					  &vdev->intx->unmask, fd);
	}
	if (type == VFIO_IRQ_SET_DATA_BOOL && !*(u8 *)data)
		return 0;
	vfio_pci_intx_update(vdev, VFIO_PCI_INTX_USER_MASK, mask);
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
			vfio_pci_command_update(vdev, PCI_COMMAND_MEMORY,
						PCI_COMMAND_MEMORY);
	}
	return cmd;
}

static void vfio_pci_msix_decode_restore(struct vfio_pci_core_device *vdev,
					 u16 cmd)
{
	if (vdev->pdev->msix_cap && !(cmd & PCI_COMMAND_MEMORY))
		vfio_pci_command_update(vdev, PCI_COMMAND_MEMORY, 0);
	up_write(&vdev->memory_lock);
}

/*
 * Release vector @index's handler and eventfd.  A dynamically allocated
 * MSI-X vector stays allocated until MSI-X is disabled.
 */
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

static int vfio_pci_vector_irq(struct vfio_pci_core_device *vdev,
			       unsigned int index, bool msix)
{
	struct pci_dev *pdev = vdev->pdev;
	struct msi_map map;
	int irq;

	irq = pci_irq_vector(pdev, index);
	if (irq > 0 || !msix || !vdev->has_dyn_msix)
		return irq ? irq : -EINVAL;

	/* Grow MSI-X while it is live; the other vectors are untouched. */
	map = pci_msix_alloc_irq_at(pdev, index, NULL);
	return map.index < 0 ? map.index : map.virq;
}

/*
 * The user can write the MSI-X table through a mapping of its BAR, and the
 * device may lose it in a reset of its own.  The PCI core writes an entry
 * when it allocates the vector; whether request_irq() writes it again
 * depends on the interrupt domain, and a vector allocated without an
 * eventfd is never requested before the user attaches one.  So write the
 * message the core holds for @irq back to the table each time a vector is
 * given an eventfd.  Called with memory decode on.
 */
static void vfio_pci_msix_rewrite(int irq)
{
	struct msi_msg msg;

	get_cached_msi_msg(irq, &msg);
	pci_write_msi_msg(irq, &msg);
}

/*
 * Point vector @index at eventfd @fd.  The old eventfd, if any, is released
 * first; a negative @fd leaves the vector without one.
 */
static int vfio_pci_vector_set(struct vfio_pci_core_device *vdev,
			       unsigned int index, bool msix, s32 fd)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_pci_vector *vec;
	int irq, ret;

	vfio_pci_vector_free(vdev, index);
	if (fd < 0)
		return 0;

	irq = vfio_pci_vector_irq(vdev, index, msix);
	if (irq < 0)
		return irq;
	if (msix)
		vfio_pci_msix_rewrite(irq);

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

	/*
	 * Without KVM there is no consumer and delivery works regardless.
	 * Registration fails when another vector already uses the same
	 * eventfd as its token; a NULL token then keeps unregistration from
	 * removing that other vector's producer.
	 */
	vec->producer.token = vec->trigger;
	vec->producer.irq = irq;
	if (irq_bypass_register_producer(&vec->producer)) {
		pci_info(pdev, "irq bypass producer for %s not registered\n",
			 vec->name);
		vec->producer.token = NULL;
	}

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
	/*
	 * Freeing the vectors cleared DisINTx.  Keep INTx quiet, as it was
	 * while MSI owned the device; a device whose INTx is hidden must never
	 * assert it.
	 */
	if (vdev->pci_2_3 || vdev->nointx)
		vfio_pci_command_update(vdev, PCI_COMMAND_INTX_DISABLE,
					PCI_COMMAND_INTX_DISABLE);
	vdev->irq_type = VFIO_PCI_IRQ_NONE;
}

/*
 * Return: 0 once @nvec vectors are allocated; a negative errno; or, when
 * fewer could be had, that smaller number, with nothing left allocated.
 * The uAPI passes it on so the user can retry with a vector count that
 * works, which QEMU does.
 */
static int vfio_pci_msi_enable(struct vfio_pci_core_device *vdev,
			       unsigned int nvec, bool msix)
{
	unsigned int type = msix ? PCI_IRQ_MSIX : PCI_IRQ_MSI;
	int ret;
	u16 cmd;

	cmd = vfio_pci_msix_decode_on(vdev);
	ret = pci_alloc_irq_vectors(vdev->pdev, 1, nvec, type);
	if (ret > 0 && ret < nvec)
		pci_free_irq_vectors(vdev->pdev);
	vfio_pci_msix_decode_restore(vdev, cmd);
	if (ret < 0)
		return ret;
	if (ret < nvec)
		return ret;
	vdev->irq_type = msix ? VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
	return 0;
}

/*
 * Attach eventfds to vectors start..start+count-1.  On failure every vector
 * of the range is left without an eventfd, whatever it had before.
 */
static int vfio_pci_msi_set_block(struct vfio_pci_core_device *vdev,
				  struct vfio_irq_set *hdr, s32 *fds, bool msix)
{
	unsigned int i;
	int ret = 0;
	u16 cmd;

	cmd = vfio_pci_msix_decode_on(vdev);
	for (i = 0; i < hdr->count; i++) {
		ret = vfio_pci_vector_set(vdev, hdr->start + i, msix, fds[i]);
		if (ret)
			break;
	}
	if (ret) {
		while (i--)
			vfio_pci_vector_free(vdev, hdr->start + i);
	}
	vfio_pci_msix_decode_restore(vdev, cmd);
	return ret;
}

static void vfio_pci_msi_loopback(struct vfio_pci_core_device *vdev,
				  struct vfio_irq_set *hdr, u8 *bools)
{
	struct vfio_pci_vector *vec;
	unsigned int i;

	for (i = 0; i < hdr->count; i++) {
		if (bools && !bools[i])
			continue;
		vec = xa_load(&vdev->ctx, hdr->start + i);
		if (vec)
			eventfd_signal(vec->trigger);
	}
}

static int vfio_pci_msi_set_trigger(struct vfio_pci_core_device *vdev,
				    unsigned int index,
				    struct vfio_irq_set *hdr, void *data)
{
	u32 type = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	bool msix = index == VFIO_PCI_MSIX_IRQ_INDEX;
	bool enabled = vdev->irq_type == index;
	int ret;

	if (enabled && type == VFIO_IRQ_SET_DATA_NONE && !hdr->count) {
		vfio_pci_msi_disable(vdev);
		return 0;
	}
	if (!enabled && vdev->irq_type != VFIO_PCI_IRQ_NONE)
		return -EINVAL;

	if (type == VFIO_IRQ_SET_DATA_EVENTFD) {
		if (enabled)
			return vfio_pci_msi_set_block(vdev, hdr, data, msix);
		ret = vfio_pci_msi_enable(vdev, hdr->start + hdr->count, msix);
		if (ret)
			return ret;
		ret = vfio_pci_msi_set_block(vdev, hdr, data, msix);
		if (ret)
			vfio_pci_msi_disable(vdev);
		return ret;
	}

	if (!enabled)
		return -EINVAL;
	vfio_pci_msi_loopback(vdev, hdr,
			      type == VFIO_IRQ_SET_DATA_BOOL ? data : NULL);
	return 0;
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

static int vfio_pci_set_irqs_locked(struct vfio_pci_core_device *vdev,
				    struct vfio_irq_set *hdr, void *data)
{
	u32 action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	switch (hdr->index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vfio_pci_intx_set_trigger(vdev, hdr, data);
		if (action == VFIO_IRQ_SET_ACTION_MASK ||
		    action == VFIO_IRQ_SET_ACTION_UNMASK)
			return vfio_pci_intx_set_mask(vdev, hdr, data,
					action == VFIO_IRQ_SET_ACTION_MASK);
		break;
	case VFIO_PCI_MSI_IRQ_INDEX:
	case VFIO_PCI_MSIX_IRQ_INDEX:
		/* Vectors are masked through the user's own MSI-X table. */
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vfio_pci_msi_set_trigger(vdev, hdr->index, hdr,
							data);
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER &&
		    pci_is_pcie(vdev->pdev))
			return vfio_pci_set_notify(vdev, &vdev->err_trigger,
						   hdr, data);
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return vfio_pci_set_notify(vdev, &vdev->req_trigger,
						   hdr, data);
		break;
	}
	/* No action, several actions, or one this index does not have. */
	return -ENOTTY;
}

/**
 * vfio_pci_set_irqs - carry out a validated VFIO_DEVICE_SET_IRQS
 * @vdev: the device
 * @hdr: the request; index, start and count are already bounds-checked
 * @data: the request's payload, sized for its data type and count; NULL
 *	when that size is 0
 *
 * Return: 0 or a negative errno; for an MSI/MSI-X enable that could not get
 * every vector asked for, the number of vectors that can be had.
 */
int vfio_pci_set_irqs(struct vfio_pci_core_device *vdev,
		      struct vfio_irq_set *hdr, void *data)
{
	int ret;

	mutex_lock(&vdev->igate);
	ret = vfio_pci_set_irqs_locked(vdev, hdr, data);
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
