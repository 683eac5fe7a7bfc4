/*
 * The Xen test guest's real-mode part: the boot sector SeaBIOS runs at
 * 0x7c00, which loads the rest of the image (INT 13h extended read) to
 * 0x7e00; then the VBE mode switch through the VGA BIOS, and the switch to
 * flat 32-bit protected mode (no paging), where guest.c runs.  Also the
 * 32-bit interrupt entry points.
 *
 * Serial output (port 0xe9, which Xen prints as "(dN) ..." on its console,
 * and COM1) shows progress; see guest.c for the rest of the protocol.
 */
#include "pattern.h"

#define SCRATCH_VBE	0x0600		/* VBE controller info, 512 bytes */
#define SCRATCH_MODE	0x0800		/* VBE mode info, 256 bytes */
#define STACK_TOP	0x7000

	.code16
	.section .boot, "ax"
	.globl _start
_start:
	cli
	ljmp	$0, $1f
1:	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	$STACK_TOP, %sp
	cld
	sti
	movb	%dl, boot_drive
	movw	$msg_boot, %si
	call	rm_puts
	movw	$dap, %si
	movb	$0x42, %ah
	movb	boot_drive, %dl
	int	$0x13
	jc	1f
	jmp	stage2
1:	movw	$msg_disk, %si
	call	rm_puts
rm_halt:
	cli
	hlt
	jmp	rm_halt

/* Print the NUL-terminated string at %si to port 0xe9 and COM1. */
rm_puts:
	lodsb
	testb	%al, %al
	jz	2f
	outb	%al, $0xe9
	movb	%al, %bl
	movw	$0x3fd, %dx
	movw	$1000, %cx
1:	inb	%dx, %al
	testb	$0x20, %al
	jnz	3f
	loop	1b
3:	movb	%bl, %al
	movw	$0x3f8, %dx
	outb	%al, %dx
	jmp	rm_puts
2:	ret

	.p2align 2
dap:	.byte	0x10, 0
	.word	_rest_sectors
	.word	0x7e00, 0
	.quad	1
boot_drive:
	.byte	0
msg_boot:
	.asciz	"LFBGUEST boot sector\n"
msg_disk:
	.asciz	"LFBGUEST FAIL disk read\n"

	.org	XG_CFG_OFF
	.globl	xg_config
xg_config:
	.ascii	"XGCF"
	.byte	XG_WL_IDLE, 0		/* workload, reserved */
	.word	1024, 768		/* width, height */
	.org	0x1fe
	.byte	0x55, 0xaa

/* ------------------------------------------------------------ stage 2 */
	.section .text16, "ax"
stage2:
	movw	$msg_stage2, %si
	call	rm_puts

	/* VBE controller information: the mode list */
	movw	$SCRATCH_VBE, %di
	movl	$0x32454256, (%di)	/* "VBE2" */
	movw	$0x4f00, %ax
	int	$0x10
	cmpw	$0x004f, %ax
	jne	vbe_fail
	movw	SCRATCH_VBE + 14, %si	/* VideoModePtr offset */

next_mode:
	pushw	%si
	movw	SCRATCH_VBE + 16, %ax	/* VideoModePtr segment */
	movw	%ax, %fs
	movw	%fs:(%si), %cx
	cmpw	$0xffff, %cx
	je	vbe_fail_pop
	movw	%cx, xg_vbe_mode
	movw	$SCRATCH_MODE, %di
	movw	$0x4f01, %ax
	int	$0x10
	popw	%si
	addw	$2, %si
	cmpw	$0x004f, %ax
	jne	next_mode
	movw	SCRATCH_MODE + 0, %ax	/* ModeAttributes: supported, LFB */
	andw	$0x0081, %ax
	cmpw	$0x0081, %ax
	jne	next_mode
	movw	SCRATCH_MODE + 0x12, %ax	/* XResolution */
	cmpw	xg_config + 6, %ax
	jne	next_mode
	movw	SCRATCH_MODE + 0x14, %ax	/* YResolution */
	cmpw	xg_config + 8, %ax
	jne	next_mode
	cmpb	$32, SCRATCH_MODE + 0x19	/* BitsPerPixel */
	jne	next_mode
	cmpb	$6, SCRATCH_MODE + 0x1b		/* MemoryModel: direct colour */
	jne	next_mode

	movl	SCRATCH_MODE + 0x28, %eax	/* PhysBasePtr */
	movl	%eax, xg_lfb
	movw	SCRATCH_MODE + 0x10, %ax	/* BytesPerScanLine */
	movw	%ax, xg_pitch
	movw	xg_vbe_mode, %bx
	orw	$0x4000, %bx			/* linear framebuffer */
	movw	$0x4f02, %ax
	int	$0x10
	cmpw	$0x004f, %ax
	jne	vbe_fail

	/* flat 32-bit protected mode */
	cli
	inb	$0x92, %al			/* fast A20 */
	orb	$2, %al
	andb	$0xfe, %al
	outb	%al, $0x92
	lgdtl	gdt_desc
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	ljmpl	$0x08, $pm_entry

vbe_fail_pop:
	popw	%si
vbe_fail:
	movw	$msg_vbe, %si
	call	rm_puts
	jmp	rm_halt

	.p2align 3
gdt:	.quad	0
	.quad	0x00cf9a000000ffff		/* 0x08: code, flat */
	.quad	0x00cf92000000ffff		/* 0x10: data, flat */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt

msg_stage2:
	.asciz	"LFBGUEST stage 2: VBE\n"
msg_vbe:
	.asciz	"LFBGUEST FAIL no VBE mode with a linear framebuffer at the configured WxHx32\n"

	.globl	xg_lfb, xg_pitch, xg_vbe_mode
	.p2align 2
xg_lfb:	.long	0
xg_pitch:
	.word	0
xg_vbe_mode:
	.word	0

/* ------------------------------------------------------------ 32 bits */
	.code32
	.text
pm_entry:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	$STACK_TOP, %esp
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	rep stosb
	call	guest_main
1:	cli
	hlt
	jmp	1b

/* IRQ 0 (PIT), remapped to vector 0x20 */
	.globl	isr_timer
isr_timer:
	pushl	%eax
	incl	xg_ticks
	movb	$0x20, %al
	outb	%al, $0x20
	popl	%eax
	iret

/* the other IRQs of the master / slave PIC: acknowledge, ignore */
	.globl	isr_irq_master, isr_irq_slave
isr_irq_master:
	pushl	%eax
	movb	$0x20, %al
	outb	%al, $0x20
	popl	%eax
	iret
isr_irq_slave:
	pushl	%eax
	movb	$0x20, %al
	outb	%al, $0xa0
	outb	%al, $0x20
	popl	%eax
	iret

/* CPU exceptions: report and stop (guest.c) */
	.macro	EXC n
exc\n:	pushl	$\n
	jmp	exc_common
	.endm
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	EXC	\n
	.endr
exc_common:
	call	guest_exception
1:	cli
	hlt
	jmp	1b

	.section .rodata
	.globl	xg_exc_table
	.p2align 2
xg_exc_table:
	.irp	n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long	exc\n
	.endr

	.section .note.GNU-stack, "", @progbits
