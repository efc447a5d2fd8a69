# Boots QEMU for the tests in tests/qemu/ and asserts on what the serial
# console printed. One place decodes QEMU's exit codes (SHARED STYLE T8) and
# one place decides what a passing run is (T7: no pass by absence).
package Nestvisor;
use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use Test::More;

our @EXPORT = qw(build_dir qemu_run expect_status expect_clean_tap expect_line
  EXIT_PASS EXIT_FAIL EXIT_PANIC EXIT_UNSUPPORTED);

# kernel/exit_status.h
use constant { EXIT_PASS => 0, EXIT_FAIL => 1, EXIT_PANIC => 2, EXIT_UNSUPPORTED => 3 };

sub build_dir { $ENV{BUILD} // 'build' }

# Where /dev/kvm offers SVM the same test runs on hardware; never required.
sub kvm_with_svm {
	return 0 if ($ENV{NESTVISOR_ACCEL} // '') eq 'tcg';
	return 0 unless -r '/dev/kvm' && -w '/dev/kvm';
	open(my $f, '<', '/proc/cpuinfo') or return 0;
	return scalar grep { /^flags\s*:.*\bsvm\b/ } <$f>;
}

# qemu_run(kernel => ELF | iso => ISO, append => CMDLINE, initrd => "a.elf opts,b.elf",
#          cpu => MODEL, mem => '512M', timeout => SECONDS, extra => [...])
# Returns { log => [lines], status => debug-exit status or undef, code => qemu exit code,
#           timed_out => 0/1, accel => 'tcg'|'kvm' }.
sub qemu_run {
	my %o = (cpu => 'max', mem => '512M', timeout => 60, @_);
	my $dir = tempdir(CLEANUP => 1);
	my $accel = (!$o{cpu_required} && kvm_with_svm()) ? 'kvm' : 'tcg';
	my @cmd = ('qemu-system-x86_64', '-accel', $accel,
		'-cpu', $accel eq 'kvm' ? 'host' : $o{cpu}, '-m', $o{mem},
		'-serial', "file:$dir/serial.log", '-display', 'none', '-no-reboot', '-nodefaults',
		'-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04');
	if ($o{iso}) {
		push @cmd, '-cdrom', $o{iso};
	} else {
		push @cmd, '-kernel', $o{kernel};
		push @cmd, '-append', $o{append} if defined $o{append};
		push @cmd, '-initrd', $o{initrd} if defined $o{initrd};
	}
	push @cmd, @{ $o{extra} // [] };
	my $pid = fork() // die "fork: $!";
	if (!$pid) {
		open(STDOUT, '>', "$dir/qemu.out");
		open(STDERR, '>&', \*STDOUT);
		exec('timeout', '--kill-after=5', $o{timeout}, @cmd) or exit 127;
	}
	waitpid($pid, 0);
	my $code = $? >> 8;
	my @log;
	if (open(my $f, '<', "$dir/serial.log")) {
		local $/;
		my $all = <$f> // '';
		$all =~ s/\e\[[0-9;?]*[A-Za-z]//g;    # GRUB's terminal escapes
		@log = split /\r?\n|\r/, $all;
	}
	my $r = { log => \@log, code => $code, timed_out => $code == 124 || $code == 137,
		accel => $accel, status => undef };
	# isa-debug-exit: QEMU exits with (status << 1) | 1; 0 means nobody wrote the port.
	$r->{status} = $code >> 1 if !$r->{timed_out} && ($code & 1);
	if (open(my $f, '<', "$dir/qemu.out")) {
		local $/;
		$r->{qemu_out} = <$f> // '';
	}
	note("accel: $accel; qemu exit code $code");
	return $r;
}

sub dump_log {
	my ($r) = @_;
	diag("serial: $_") for @{ $r->{log} }[0 .. ($#{ $r->{log} } < 60 ? $#{ $r->{log} } : 60)];
	diag("qemu: $r->{qemu_out}") if $r->{qemu_out};
}

sub expect_status {
	my ($r, $want, $name) = @_;
	my $got = $r->{timed_out} ? 'timeout' : $r->{status} // "none (qemu code $r->{code})";
	ok(!$r->{timed_out} && defined $r->{status} && $r->{status} == $want,
		"$name: exit status $want") or do { diag("got status $got"); dump_log($r) };
}

sub expect_line {
	my ($r, $re, $name) = @_;
	ok((grep { $_ =~ $re } @{ $r->{log} }), $name) or dump_log($r);
}

# The run printed a TAP plan, exactly that many results, none failed, and no PANIC.
sub expect_clean_tap {
	my ($r, $name) = @_;
	my ($plan, @results, @failed);
	for (@{ $r->{log} }) {
		$plan = $1 if /^1\.\.(\d+)\s*$/;
		push @results, $_ if /^(not )?ok \d+/;
		push @failed, $_ if /^not ok \d+/;
	}
	my @panics = grep { /^PANIC:/ } @{ $r->{log} };
	subtest "$name: TAP" => sub {
		ok(!$r->{timed_out}, 'no timeout');
		ok(!@panics, 'no PANIC line') or diag($panics[0]);
		ok(defined $plan, 'plan line present');
		is(scalar @results, $plan // -1, 'as many results as planned');
		ok(!@failed, 'no failures') or diag($_) for @failed;
		note($_) for @results;
	} or dump_log($r);
}

1;
