/*
 * guest-abi.h - the contract between lfbvnc's tiny KVM guests and the VMM
 * that runs them (proto/kvm-vm.c).  Included by host C, guest C and guest
 * assembly (crt0.S), so the C parts sit under #ifndef __ASSEMBLER__.
 *
 * The guest is a flat 64-bit binary that runs in long mode at CPL 3 with
 * identity-mapped, user-accessible page tables built by the host.  CPL 3 is
 * not a whim: under this machine's kvm_pvm (shadow paging) only guest user
 * mode runs natively; CPL 0, real mode and 32-bit protected mode fall back
 * to KVM's instruction emulator (~1000x slower), and every 32-bit paging
 * mode triple-faults (docs: research/dirty-tracking.md, section 5).  On
 * VMX/SVM KVM the same guest is an ordinary long-mode guest that happens to
 * run at CPL 3.  OUT and HLT raise #GP at CPL 3, so the guest talks to the
 * host by storing to the doorbell page, which no memory slot backs: the
 * store becomes a KVM_EXIT_MMIO in the VMM.
 *
 * Guest-physical memory map (guest-virtual addresses are identical):
 *
 *   0x00000000  GUEST_NULL_GPA       not mapped: a null dereference faults
 *   0x00001000  GUEST_GDT_GPA        GDT and 64-bit TSS (supervisor only)
 *   0x00002000  GUEST_MAILBOX_GPA    struct guest_mailbox, 16 KiB, user RW
 *   0x00008000  GUEST_PT_GPA         page tables built by the host, not
 *                                    mapped into the guest's address space
 *   0x00100000  GUEST_LOAD_GPA       the flat binary: struct guest_header,
 *                                    text, rodata, data; then bss
 *        ...                         free RAM, then the stack, which grows
 *                                    down from GUEST_STACK_TOP(ram_size)
 *   ram_size                         end of RAM (slot 0), at most GUEST_RAM_MAX
 *   0x0F000000  GUEST_DOORBELL_GPA   doorbell page, no memory behind it
 *   0x10000000  GUEST_VRAM_GPA       VRAM window, GUEST_VRAM_MAX octets,
 *                                    user RW; the host backs the part it
 *                                    uses with a memory slot
 *
 * Doorbell: the guest stores a 64-bit value at GUEST_DOORBELL_GPA + 8 *
 * code.  The vCPU stops; the host handles the code (see GUEST_DB_*); the
 * store completes when the vCPU is resumed.
 *
 * Command channel (host -> guest), through the mailbox:
 *   host:  fills cmd, arg[] and data[], then stores cmd_seq + 1 (release);
 *   guest: guest_wait_cmd() returns when cmd_seq != ack_seq (acquire); it
 *          rings GUEST_DB_WAIT(ack_seq) while there is nothing to do, and
 *          the host keeps the vCPU stopped until a command is posted, so an
 *          idle guest costs no CPU;
 *   guest: runs the command, fills status and ret[], stores ack_seq =
 *          cmd_seq (release), rings GUEST_DB_DONE(ack_seq).
 * A long-running command (e.g. "draw until told to stop") polls `stop',
 * which the host sets without posting a new command.
 *
 * Input events (host -> guest): a single-producer ring in[]; the host
 * writes in[in_head % GUEST_INPUT_RING] then stores in_head + 1 (release);
 * the guest consumes up to in_head and stores in_tail.
 */
#ifndef LFBVNC_GUEST_ABI_H
#define LFBVNC_GUEST_ABI_H

#define GUEST_ABI_VERSION	1
#define GUEST_MAGIC		0x4742464c	/* "LFBG" little-endian */
#define GUEST_MAILBOX_MAGIC	0x584f424d	/* "MBOX" */

#define GUEST_PAGE_SIZE		0x1000

#define GUEST_NULL_GPA		0x00000000
#define GUEST_GDT_GPA		0x00001000
#define GUEST_MAILBOX_GPA	0x00002000
#define GUEST_MAILBOX_SIZE	0x00004000
#define GUEST_PT_GPA		0x00008000
#define GUEST_PT_END		0x00100000
#define GUEST_LOAD_GPA		0x00100000
#define GUEST_RAM_MIN		0x00400000	/* 4 MiB */
#define GUEST_RAM_MAX		0x08000000	/* 128 MiB */
#define GUEST_STACK_MIN		0x00010000	/* below the stack top */
#define GUEST_STACK_TOP(ram)	(ram)
#define GUEST_DOORBELL_GPA	0x0F000000
#define GUEST_VRAM_GPA		0x10000000
/* 64 MiB: room for 3840x2160x4 = 33,177,600 octets with a padded stride. */
#define GUEST_VRAM_MAX		0x04000000

/* Selectors: the host enters the guest directly at CPL 3 with these (the
   Linux x86-64 user selectors; kvm_pvm was verified with 0x33/0x2b). */
#define GUEST_SEL_KCODE		0x10
#define GUEST_SEL_KDATA		0x18
#define GUEST_SEL_UDATA		0x2b
#define GUEST_SEL_UCODE		0x33
#define GUEST_SEL_TSS		0x40

/* Doorbell codes: GUEST_DOORBELL_GPA + 8 * code, 64-bit value. */
#define GUEST_DB_READY		1	/* value: GUEST_ABI_VERSION; about to
					   call guest_main */
#define GUEST_DB_WAIT		2	/* value: the guest's ack_seq; resumes
					   once cmd_seq differs or on stop */
#define GUEST_DB_DONE		3	/* value: the ack_seq just stored */
#define GUEST_DB_EXIT		4	/* value: guest_main's return value;
					   the guest never runs again */
#define GUEST_DB_PANIC		5	/* value: GPA of a NUL-terminated
					   message; the guest is dead */
#define GUEST_DB_PUTS		6	/* value: GPA of a NUL-terminated
					   message for the host's log */
#define GUEST_DB_USER		16	/* first program-defined code */
#define GUEST_DB_NCODES		(GUEST_PAGE_SIZE / 8)

#define GUEST_INPUT_RING	64
#define GUEST_MAILBOX_NARGS	8
#define GUEST_MAILBOX_NRETS	4
#define GUEST_MAILBOX_HDR	0x1000
#define GUEST_MAILBOX_DATA	(GUEST_MAILBOX_SIZE - GUEST_MAILBOX_HDR)

#ifndef __ASSEMBLER__
#include <stdint.h>

/*
 * At GUEST_LOAD_GPA, first in the image (crt0.S emits it).  The host checks
 * magic, abi and load, copies the file, zeroes image_end..bss_end and
 * enters at entry with rsp = GUEST_STACK_TOP(ram_size), rflags = 0x2.
 */
struct guest_header {
	uint32_t	magic;		/* GUEST_MAGIC */
	uint32_t	abi;		/* GUEST_ABI_VERSION */
	uint64_t	entry;		/* GVA of _start */
	uint64_t	load;		/* GUEST_LOAD_GPA, as linked */
	uint64_t	image_end;	/* load + size of the flat file */
	uint64_t	bss_end;	/* end of zero-initialised data */
};

/* Same layout as struct demo_input (providers/demo/render.h). */
struct guest_input {
	uint32_t	type;
	uint32_t	a;
	uint32_t	b;
	uint32_t	c;
};

/* At GUEST_MAILBOX_GPA.  Field ownership: H = host writes, G = guest. */
struct guest_mailbox {
	uint32_t	magic;		/* H: GUEST_MAILBOX_MAGIC */
	uint32_t	abi;		/* H: GUEST_ABI_VERSION */
	uint64_t	ram_size;	/* H: end of RAM = initial rsp */

	uint32_t	cmd_seq;	/* H: bumped to post a command */
	uint32_t	ack_seq;	/* G: = cmd_seq when it is done */
	uint32_t	cmd;		/* H: program-defined command code */
	int32_t		status;		/* G: result of the last command */
	uint32_t	stop;		/* H: nonzero asks a running command
					   to finish early */
	uint32_t	flags;		/* H: program-defined */
	uint64_t	arg[GUEST_MAILBOX_NARGS];	/* H */
	uint64_t	ret[GUEST_MAILBOX_NRETS];	/* G */

	/* The framebuffer the host backed in the VRAM window. */
	uint64_t	vram_gpa;	/* H: GUEST_VRAM_GPA */
	uint64_t	vram_size;	/* H: octets backed */
	uint32_t	width;		/* H: current mode, pixels */
	uint32_t	height;
	uint32_t	stride;		/* H: octets */
	uint32_t	format;		/* H: LFBSHM_FORMAT_* */

	uint32_t	in_head;	/* H: events produced */
	uint32_t	in_tail;	/* G: events consumed */
	struct guest_input in[GUEST_INPUT_RING];	/* H */

	uint8_t		pad[GUEST_MAILBOX_HDR - 176 -
			    GUEST_INPUT_RING * sizeof(struct guest_input)];
	uint8_t		data[GUEST_MAILBOX_DATA];	/* H/G: payload */
};

_Static_assert(__builtin_offsetof(struct guest_mailbox, data) ==
    GUEST_MAILBOX_HDR, "guest_mailbox layout");
_Static_assert(sizeof(struct guest_mailbox) == GUEST_MAILBOX_SIZE,
    "guest_mailbox size");
_Static_assert(sizeof(struct guest_header) == 40, "guest_header layout");
#endif /* !__ASSEMBLER__ */

#endif /* LFBVNC_GUEST_ABI_H */
