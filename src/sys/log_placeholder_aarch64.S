// The log placeholder for aarch64 Linux: a whole static ELF (header included,
// assembled and cut out with scripts/session_helper.ts). See
// src/sys/log_placeholder.ts for what it does and why.
//
// fd 0: the log pipe (kept open, never read). fd 3: the host channel.
//   prctl(PR_SET_NAME, "svlogd"); block HUP and ALRM
//   loop: sig = rt_sigtimedwait({HUP, ALRM}); write(3, &sig, 1)
//   exit 0 once the write fails (the host is gone); other signals: default
        .set    BASE, 0x400000
        .text
ehdr:   .byte   0x7f, 'E', 'L', 'F', 2, 1, 1, 0     // ELF64, little-endian, v1, SysV
        .quad   0
        .short  2                       // e_type: ET_EXEC
        .short  183                     // e_machine: EM_AARCH64
        .long   1                       // e_version
        .quad   BASE + _start - ehdr    // e_entry
        .quad   phdr - ehdr             // e_phoff
        .quad   0                       // e_shoff
        .long   0                       // e_flags
        .short  64, 56, 1, 0, 0, 0      // e_ehsize, e_phentsize, e_phnum, e_sh*
phdr:   .long   1, 5                    // PT_LOAD, PF_R|PF_X
        .quad   0, BASE, BASE           // p_offset, p_vaddr, p_paddr
        .quad   end - ehdr, end - ehdr  // p_filesz, p_memsz
        .quad   0x1000                  // p_align

_start: mov     x0, #15                 // prctl(PR_SET_NAME, "svlogd")
        adr     x1, name
        mov     x8, #167
        svc     #0
        sub     sp, sp, #16             // [sp]: the signal set; [sp, #8]: the byte sent
        mov     x0, #0x2001             // SIGHUP (1) and SIGALRM (14)
        str     x0, [sp]
        mov     x0, #0                  // rt_sigprocmask(SIG_BLOCK, &set, 0, 8)
        mov     x1, sp
        mov     x2, #0
        mov     x3, #8
        mov     x8, #135
        svc     #0
wait:   mov     x0, sp                  // rt_sigtimedwait(&set, 0, 0, 8)
        mov     x1, #0
        mov     x2, #0
        mov     x3, #8
        mov     x8, #137
        svc     #0
        tbnz    x0, #63, wait           // interrupted: wait again
        strb    w0, [sp, #8]
send:   mov     x0, #3                  // write(3, &signal, 1)
        add     x1, sp, #8
        mov     x2, #1
        mov     x8, #64
        svc     #0
        cmn     x0, #4                  // EINTR: again
        b.eq    send
        cmp     x0, #0
        b.gt    wait
        mov     x0, #0                  // exit_group(0): the host is gone
        mov     x8, #94
        svc     #0
name:   .asciz  "svlogd"
        .balign 4
end:
