# The test guests pass bare on QEMU (-cpu max, multiboot1 via -kernel): the
# reference half of the differential run against nestvisor (ARCHITECTURE.md
# "Test protocol"). Tests that only mean something under nestvisor print
# SKIP here, so the plans match.
use strict;
use warnings;
use Test::More;
use Nestvisor;

my $b = build_dir();

for my $guest (qw(l1_basic l1_lapic)) {
	my $r = qemu_run(kernel => "$b/guests/$guest.elf", cpu => 'max');
	expect_status($r, EXIT_PASS, "$guest bare");
	expect_clean_tap($r, "$guest bare");
	ok(!(grep { /^Bail out!/ } @{ $r->{log} }), "$guest bare: no Bail out! line");
}

done_testing();
