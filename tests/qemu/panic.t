# An exception in the hypervisor gives one PANIC line naming the vector,
# the registers and a backtrace, and ends the run with the panic status.
use strict;
use warnings;
use Test::More;
use Nestvisor;

my %cases = (
	ud => [qr/#UD invalid opcode \(vector 6\)/, 'undefined opcode'],
	gp => [qr/#GP general protection \(vector 13\) error=0x0 /, 'non-canonical load'],
	pf => [qr/#PF page fault \(vector 14\) .* cr2=0x[0-9a-f]+$/, 'load from the stack guard'],
	de => [qr/#DE divide error \(vector 0\)/, 'divide by zero'],
	bp => [qr/#BP breakpoint \(vector 3\)/, 'int3'],
	stack => [qr/#DF double fault \(vector 8\)/, 'stack overflow into the guard page (IST)'],
);
for my $c (sort keys %cases) {
	my ($re, $what) = @{ $cases{$c} };
	my $r = qemu_run(kernel => build_dir() . '/nestvisor.elf', append => "crash=$c");
	expect_status($r, EXIT_PANIC, "crash=$c");
	my @p = grep { /^PANIC:/ } @{ $r->{log} };
	is(scalar @p, 1, "crash=$c: exactly one PANIC line");
	like($p[0] // '', $re, "crash=$c: $what");
	expect_line($r, qr/^rax=[0-9a-f]{16} rbx=/, "crash=$c: registers");
	expect_line($r, qr/^backtrace:/, "crash=$c: backtrace");
}

done_testing();
