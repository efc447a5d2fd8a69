# The same demo ISO under UEFI firmware (OVMF): GRUB's x86_64-efi half
# hands over through multiboot2 without boot services, and nestvisor runs
# its guests exactly as under BIOS.
use strict;
use warnings;
use Test::More;
use Nestvisor;

my $ovmf = '/usr/share/ovmf/OVMF.fd';
plan skip_all => "no $ovmf (Debian package ovmf)" unless -r $ovmf;

my $r = qemu_run(iso => build_dir() . '/nestvisor.iso', cpu => 'max', timeout => 300,
	extra => ['-bios', $ovmf]);
expect_status($r, EXIT_PASS, 'demo ISO under UEFI');
expect_clean_tap($r, 'demo ISO under UEFI guest report');
expect_line($r, qr/^boot: multiboot2, loader "GRUB/, 'booted by GRUB through multiboot2');
expect_line($r, qr/^ok \d+ - nested_demo: exit: status 0/, 'the L1 hypervisor passes');

done_testing();
