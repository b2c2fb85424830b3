# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# bt_rc is the interface:
# shellcheck disable=SC2034
#
# Checks around tools/vfio-pci-bind and the driver binding it changes,
# shared by 82-mlx5-binding, 92-bind-tool and 93-libvirt-variant.  Source
# it after selftest-lib.sh; the caller sets $tool (the binary) and $sys
# (/sys/bus/pci/devices).  Each check prints why it failed as "# " lines.
#
#   bt ARGS...            run the tool; its exit status in $bt_rc, its
#                         stdout and stderr in $VM_OUT/bt.out and bt.err,
#                         echoed as comments; always succeeds
#   rc_is N ARGS...       the tool exits N
#   err_has RE            the last run's stderr has a line matching RE
#   list_is ARGS... -- LINE...
#                         --list's output, comments dropped, is the LINEs
#                         in that order (the tool's ranking)
#   drv_is BDF DRIVER     BDF is bound to DRIVER ('' for none)
#   override_is BDF VAL   BDF's driver_override is VAL ('' for none)
#   unbound BDF           BDF has no driver

bt() {
	"$tool" "$@" >"$VM_OUT/bt.out" 2>"$VM_OUT/bt.err"
	bt_rc=$?
	echo "# \$ vfio-pci-bind $* -> $bt_rc"
	sed 's/^/#   /' "$VM_OUT/bt.out" "$VM_OUT/bt.err"
	return 0
}

rc_is() {
	local want=$1
	shift
	bt "$@"
	[ "$bt_rc" -eq "$want" ] && return 0
	echo "# exit status $bt_rc, want $want"
	return 1
}

err_has() {
	grep -qE "$1" "$VM_OUT/bt.err" && return 0
	echo "# stderr lacks /$1/"
	return 1
}

list_is() {
	local -a args=()
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	bt --list "${args[@]}"
	[ "$bt_rc" -eq 0 ] || { echo "# exit status $bt_rc"; return 1; }
	if diff <(printf '%s\n' "$@") <(grep -v '^#' "$VM_OUT/bt.out") \
		>"$VM_OUT/list.diff"; then
		return 0
	fi
	sed 's/^/# /' "$VM_OUT/list.diff"
	return 1
}

drv_is() {
	local got
	got=$(driver_of "$1")
	[ "$got" = "$2" ] && return 0
	echo "# $1 is bound to '${got:-nothing}', want '${2:-nothing}'"
	return 1
}

override_is() {
	local got
	read -r got <"$sys/$1/driver_override"
	[ "$got" = "(null)" ] && got=
	[ "$got" = "$2" ] && return 0
	echo "# $1 driver_override '$got', want '$2'"
	return 1
}

unbound() {
	[ -z "$(driver_of "$1")" ] && return 0
	echo "# $1 is bound to $(driver_of "$1")"
	return 1
}
