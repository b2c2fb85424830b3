// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_core model, TEST-ONLY (see model.h): function level resets of VFs.
 *
 * A real VF's FLR returns its VHCA to running, tracking off, any
 * chunked save dropped.  The model's VFs are QEMU's, which reset
 * themselves without telling anyone, and the PCI core has no hook for a
 * driver that does not own the function.  So a kprobe on pcie_flr(),
 * which every FLR of a PCIe function goes through (pci_reset_function(),
 * vfio-pci-core's resets, sysfs "reset"), notes the reset of a model VF;
 * the VHCA applies it when next used (model_vhca_lock()), before any
 * command can observe the old state.  Only a flag is set in the probe:
 * it runs with preemption off.
 *
 * The VF is safe to look at there: the caller resets it, so it exists,
 * and its PF removes VFs before it unbinds.
 */
#include <linux/kprobes.h>
#include <linux/ptrace.h>

#include "model.h"

#ifdef CONFIG_KPROBES
static int model_flr_seen(struct kprobe *kp, struct pt_regs *regs)
{
	struct pci_dev *pdev;
	struct model_pf *pf;
	int id;

	pdev = (struct pci_dev *)regs_get_kernel_argument(regs, 0);
	if (!pdev || !pdev->is_virtfn || !model_drives(pdev->physfn))
		return 0;
	pf = pci_get_drvdata(pdev->physfn);
	id = pci_iov_vf_id(pdev);
	if (pf && id >= 0 && id < pf->total_vfs)
		atomic_set(&pf->vfs[id].flr_pending, 1);
	return 0;
}

static struct kprobe model_flr_kp = {
	.symbol_name = "pcie_flr",
	.pre_handler = model_flr_seen,
};

int model_flr_watch_start(void)
{
	int ret = register_kprobe(&model_flr_kp);

	if (ret)
		pr_warn("mlx5_core_model: no kprobe on pcie_flr (%d): VF resets are not seen\n",
			ret);
	return 0;
}

void model_flr_watch_stop(void)
{
	if (model_flr_kp.addr)
		unregister_kprobe(&model_flr_kp);
}
#else
int model_flr_watch_start(void)
{
	pr_warn("mlx5_core_model: no CONFIG_KPROBES: VF resets are not seen\n");
	return 0;
}

void model_flr_watch_stop(void)
{
}
#endif
