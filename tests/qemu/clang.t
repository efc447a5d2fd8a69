# The Clang build (make clang-build, STYLE H19) of nestvisor and of the
# test guests: every well-behaved guest in one nestvisor boot.
use strict;
use warnings;
use Test::More;
use Nestvisor;

my $b = build_dir() . '/clang';
my @guests = grep { !/nested_shutdown_l1|nested_svme_clear|bench/ }
	map { m{/(l1_\w+|nested_\w+)\.elf$} ? $1 : () } glob("$b/guests/*.elf");
ok(@guests >= 10, 'the Clang build has the test guests (' . scalar(@guests) . ')');
my $r = qemu_run(kernel => "$b/nestvisor.elf",
	initrd => join(',', map { "$b/guests/$_.elf name=$_" } sort @guests), timeout => 300);
expect_status($r, EXIT_PASS, 'Clang-built nestvisor runs the Clang-built guests');
expect_clean_tap($r, 'Clang build guest report');

done_testing();
