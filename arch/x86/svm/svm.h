/* SVM on this CPU: detection now, enabling with the SVM core. */
#ifndef ARCH_X86_SVM_SVM_H
#define ARCH_X86_SVM_SVM_H

#include "arch/x86/svm/svm_caps.h"

/* Reads CPUID and VM_CR (which may #GP where SVM is absent) into caps. */
void svm_detect(struct svm_caps *caps);
/* Prints revision, ASIDs and every feature bit, present or not. */
void svm_print_caps(const struct svm_caps *caps);

#endif
