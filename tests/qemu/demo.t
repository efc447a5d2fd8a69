# The default boot prints the banner, CPU, SVM features and memory summary
# and ends with status 0; the demo ISO (what `make run` boots) runs its
# guests from GRUB module2 lines and shows the nested demo.
use strict;
use warnings;
use Test::More;
use Nestvisor;

my $r = qemu_run(kernel => build_dir() . '/nestvisor.elf', cpu => 'max');
expect_status($r, EXIT_PASS, 'default boot');
expect_line($r, qr/^nestvisor \S+: AMD SVM microhypervisor/, 'banner');
expect_line($r, qr/^cpu: \S+ family 0x[0-9a-f]+ model 0x[0-9a-f]+/, 'CPU vendor, family, model');
expect_line($r, qr/^svm: revision \d+, \d+ ASIDs/, 'SVM revision and ASIDs');
expect_line($r, qr/^mem: \d+ pages \(\d+ KiB\) free/, 'free pages');
ok(!(grep { /^PANIC:/ } @{ $r->{log} }), 'no PANIC');

$r = qemu_run(iso => build_dir() . '/nestvisor.iso', cpu => 'max', timeout => 240);
expect_status($r, EXIT_PASS, 'demo ISO');
expect_clean_tap($r, 'demo ISO guest report');
expect_line($r, qr/^module: .* "name=nested_demo mem=32M"/, 'guests arrive as multiboot2 modules');
expect_line($r, qr/^nestvisor: nested_demo: VMRUN refused \(C2: .*\): #VMEXIT\(INVALID\), GIF=0/,
	'the refused VMRUN is named with its check');
expect_line($r, qr/^ok \d+ - nested_demo: exit: status 0/, 'the L1 hypervisor passes');
expect_line($r, qr/^guest nested_demo: 2 nested VMRUNs \(1 refused\), 1 L2 exits reflected/,
	'nestvisor counts the demo\'s VMRUNs, the refused one and the reflected exit');
expect_line($r, qr/^ok \d+ - bad_npf: npf: /, 'the guest outside its RAM is stopped');

done_testing();
