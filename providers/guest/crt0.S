/*
 * crt0.S - entry of lfbvnc's KVM guests.
 *
 * The host (proto/kvm-vm.c) enters _start directly in 64-bit mode at CPL 3
 * with rsp = GUEST_STACK_TOP (16-byte aligned), rflags = 0x2 (DF clear,
 * interrupts off) and bss zeroed, so nothing privileged is set up here:
 * under kvm_pvm anything privileged would run in KVM's emulator.
 */
#include "guest-abi.h"

	/* struct guest_header, first in the image (see guest.ld). */
	.section .guest.header, "a"
	.globl	guest_header
guest_header:
	.long	GUEST_MAGIC
	.long	GUEST_ABI_VERSION
	.quad	_start
	.quad	__guest_load
	.quad	__guest_image_end
	.quad	__guest_bss_end

	.text
	.globl	_start
	.type	_start, @function
_start:
	xorl	%ebp, %ebp
	movq	$GUEST_ABI_VERSION, %rax
	movq	%rax, GUEST_DOORBELL_GPA + 8 * GUEST_DB_READY
	movq	$GUEST_MAILBOX_GPA, %rdi
	call	guest_main
	movslq	%eax, %rax
1:	movq	%rax, GUEST_DOORBELL_GPA + 8 * GUEST_DB_EXIT
	jmp	1b
	.size	_start, . - _start

	.section .note.GNU-stack, "", @progbits
