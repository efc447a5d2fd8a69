/* Exit handlers that live in their own files (one device or concept each). */
#ifndef ARCH_X86_SVM_EXITS_H
#define ARCH_X86_SVM_EXITS_H

#include "arch/x86/svm/vcpu.h"

enum vcpu_action handle_msr(struct vcpu *v);  /* exit_msr.c */
enum vcpu_action handle_ioio(struct vcpu *v); /* exit_io.c */
enum vcpu_action handle_npf(struct vcpu *v);  /* exit_npf.c */
/* IOIO EXITINFO1 with its address-size bits, from the instruction if the CPU left them out. */
uint64_t ioio_info_with_address_size(struct vcpu *v, uint64_t info);

#endif
