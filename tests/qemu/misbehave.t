# Misbehaving guests get exactly the end the guest contract gives them, and
# nestvisor and the guests after them are unharmed: one run, in order.
use strict;
use warnings;
use Test::More;
use Nestvisor;

my $build = build_dir();
my @guests = (
	[bad_npf => 'expect=npf', qr/npf: read at guest-physical 0x40000000 outside its RAM/],
	[bad_wild_write => 'expect=npf', qr/npf: write at guest-physical 0x[0-9a-f]+ outside its RAM/],
	[bad_triple_fault => 'expect=shutdown', qr/shutdown: shutdown \(triple fault\)/],
	[bad_spin => 'expect=timeout budget=1500', qr/timeout: ran past its budget of 1500 ms/],
	[bad_hlt => 'expect=halt', qr/halt: HLT with interrupts masked/],
	[bad_io => 'expect=exit', qr/exit: status 0; TAP (\d+)\/\1 ok/],
	[bad_image => 'expect=refused', qr/refused: /],
	[nested_shutdown_l1 => 'expect=shutdown', qr/shutdown: /],
	[nested_svme_clear => 'expect=shutdown', qr/shutdown: L2 cleared EFER\.SVME/],
	[l1_basic => '', qr/exit: status 0; TAP (\d+)\/\1 ok/],
);
my $initrd = join(',', map { "$build/guests/$_->[0].elf name=$_->[0] mem=16M $_->[1]" } @guests);
my $r = qemu_run(kernel => "$build/nestvisor.elf", initrd => $initrd, timeout => 240);
expect_status($r, EXIT_PASS, 'every guest ended as expected');
expect_clean_tap($r, 'nestvisor guest report');
my $i = 0;
for my $g (@guests) {
	$i++;
	expect_line($r, qr/^ok $i - $g->[0]: .*$g->[2]/, "$g->[0]: $g->[1]");
}
expect_line($r, qr/^ok \d+ - every guest page returned/, 'all guest memory returned');

# nestvisor's own budget= applies to every guest; a malformed one refuses them by name.
$r = qemu_run(kernel => "$build/nestvisor.elf", append => 'budget=1200',
	initrd => "$build/guests/bad_spin.elf name=bad_spin expect=timeout");
expect_status($r, EXIT_PASS, 'budget= on nestvisor\'s command line');
expect_line($r, qr/^ok 1 - bad_spin: timeout: ran past its budget of 1200 ms/,
	'the command-line budget is the guest\'s');
$r = qemu_run(kernel => "$build/nestvisor.elf", append => 'budget=0',
	initrd => "$build/guests/l1_basic.elf name=l1_basic");
expect_status($r, EXIT_FAIL, 'budget=0 on nestvisor\'s command line');
expect_line($r, qr/^not ok 1 - l1_basic: refused: budget= must be 1 to 3600000/,
	'a malformed budget refuses the guest by name');

done_testing();
