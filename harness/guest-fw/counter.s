/* SPDX-License-Identifier: GPL-2.0 */
/*
 * harness/guest-fw/counter.s - a guest that is nothing but firmware, for
 * tests that run QEMU inside the test VM, where booting a kernel under two
 * layers of TCG would take far too long.  Passed with -bios.
 *
 * It stays in real mode, where the 64 KiB image is visible at 0xf0000
 * (segment 0xf000) and the CPU starts at 0xffff0.  It counts, forever:
 *   - a 32-bit counter at 0000:0500 goes up by one each round;
 *   - each round stores the counter into the first dword of PAGES pages
 *     of RAM from 0x10000 on, so that a live migration always has dirty
 *     pages to send again;
 *   - every 2^REPORT_SHIFT rounds it writes "count XXXXXXXX\n" (the
 *     counter in hex) to I/O port 0xe9, QEMU's isa-debugcon.
 * All its state is in RAM and registers, so a migrated guest carries on
 * from the counter the source had reached, not from zero.
 *
 * Build: harness/guest-fw/build.sh (as, ld, objcopy).
 */

/* Both can be changed with as --defsym NAME=VALUE. */
	.ifndef	PAGES
	.set	PAGES, 64
	.endif
	.ifndef	REPORT_SHIFT
	.set	REPORT_SHIFT, 12
	.endif

	.set	COUNTER, 0x500		/* in segment 0: free low RAM */
	.set	DEBUGCON, 0xe9
	.set	FIRST_PAGE_SEG, 0x1000	/* 0x10000 */

	.code16
	.text
	.globl	start
start:
	cli
	cld
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %ss
	movw	$0x7000, %sp
	/* RAM is zero after a reset, but say what we rely on. */
	movl	$0, COUNTER

round:
	incl	COUNTER
	movl	COUNTER, %eax
	movw	$FIRST_PAGE_SEG, %bx
	movw	$PAGES, %cx
1:	movw	%bx, %es
	movl	%eax, %es:0
	addw	$0x100, %bx		/* next 4 KiB page */
	loop	1b
	testl	$((1 << REPORT_SHIFT) - 1), COUNTER
	jnz	round
	call	report
	jmp	round

/* "count XXXXXXXX\n" for the counter, one byte at a time to DEBUGCON. */
report:
	movw	$DEBUGCON, %dx
	.irp	c, 'c', 'o', 'u', 'n', 't', ' '
	movb	$\c, %al
	outb	%al, %dx
	.endr
	movl	COUNTER, %ebx
	movw	$8, %cx
2:	roll	$4, %ebx		/* most significant nibble first */
	movb	%bl, %al
	andb	$0xf, %al
	addb	$'0', %al
	cmpb	$'9', %al
	jbe	3f
	addb	$('a' - '9' - 1), %al
3:	outb	%al, %dx
	loop	2b
	movb	$'\n', %al
	outb	%al, %dx
	ret

	/* The reset vector: 16 bytes below the top of the image. */
	.org	0xfff0
	ljmp	$0xf000, $start
	.org	0x10000
