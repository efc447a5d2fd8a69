# The default boot prints the banner, CPU, SVM features and memory summary
# and ends with status 0.
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

done_testing();
