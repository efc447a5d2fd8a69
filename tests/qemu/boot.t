# The hypervisor boots both ways (multiboot1 via -kernel, multiboot2 via the
# GRUB ISO) and its self-tests pass.
use strict;
use warnings;
use Test::More;
use Nestvisor;

my $b = build_dir();

my $r = qemu_run(kernel => "$b/nestvisor.elf", append => 'selftest', cpu => 'max');
expect_status($r, EXIT_PASS, '-kernel selftest');
expect_clean_tap($r, '-kernel selftest');
expect_line($r, qr/^boot: multiboot1, loader "qemu"/, '-kernel boots through multiboot1');
expect_line($r, qr/^svm: features .*\+NPT.*\+VGIF/, 'banner lists SVM features (-cpu max)');

$r = qemu_run(iso => "$b/selftest.iso", cpu => 'EPYC', timeout => 120);
expect_status($r, EXIT_PASS, 'GRUB ISO selftest');
expect_clean_tap($r, 'GRUB ISO selftest');
expect_line($r, qr/^boot: multiboot2, loader "GRUB/, 'the ISO boots through multiboot2');
expect_line($r, qr/^svm: features .*\+NPT.*-VGIF/, 'EPYC has NPT but no VGIF');

done_testing();
