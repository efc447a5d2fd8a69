# A CPU without SVM gets one clear line and a failing status, not a hang.
use strict;
use warnings;
use Test::More;
use Nestvisor;

# QEMU's qemu64 model does advertise SVM (without NPT), so SVM is removed explicitly.
my $r = qemu_run(kernel => build_dir() . '/nestvisor.elf', cpu => 'qemu64,-svm', cpu_required => 1);
expect_status($r, EXIT_UNSUPPORTED, 'qemu64,-svm');
expect_line($r, qr/^nestvisor: SVM not available: CPUID 8000_0001 ECX\.SVM is 0/,
	'names the missing CPUID bit');
ok(!(grep { /^PANIC:/ } @{ $r->{log} }), 'no PANIC');

# SVM present but without nested paging: refused by name too.
for my $cpu ('qemu64', 'EPYC,-npt') {
	$r = qemu_run(kernel => build_dir() . '/nestvisor.elf', cpu => $cpu, cpu_required => 1);
	expect_status($r, EXIT_UNSUPPORTED, "$cpu (SVM without NPT)");
	expect_line($r, qr/^nestvisor: SVM not available: no nested paging/, "$cpu: names missing NPT");
}

done_testing();
