# make bench as a test of the parts that cannot drift silently: under
# -icount the figures are instruction counts, identical run to run, so the
# bounds below are budgets, not timings. A nested round trip must cost L0
# exactly the two exits the architecture needs (the L2 exit, L1's VMRUN).
use strict;
use warnings;
use Test::More;
use Nestvisor;

my $out = `scripts/bench ${\ build_dir()} 2>&1`;
is($? >> 8, 0, 'make bench ran its guests cleanly') or diag($out);
note($out);
my ($vmmcall) = $out =~ /vmmcall (\d+) tsc\/iter/;
my ($exits) = $out =~ /nested round trip ([\d.]+) L0 exits\/iter/;
my ($ratio) = $out =~ /ratio nestvisor\/bare: ([\d.]+)/;
ok(defined $vmmcall && $vmmcall > 0 && $vmmcall < 400,
	'intercepted VMMCALL within its budget of 400 instructions (' . ($vmmcall // '?') . ')');
is($exits, '2.00', 'nested round trip: 2 L0 exits per reflected L2 exit');
ok(defined $ratio && $ratio > 1 && $ratio < 60,
	'nested round trip within 60x of QEMU bare (' . ($ratio // '?') . 'x)');

done_testing();
