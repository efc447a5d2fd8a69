# The well-behaved test guests under nestvisor, and the differential run:
# each must give the same TAP results bare on QEMU (QEMU is the hardware)
# as under nestvisor, except tests skipped bare ("# SKIP bare metal" for
# nestvisor-only tests, "# SKIP QEMU deviation" where QEMU breaks the APM).
# The nested_* guests are L1 hypervisors: every one of them is run here,
# except those whose purpose is to end L1 (run by misbehave.t).
use strict;
use warnings;
use Test::More;
use Nestvisor;

my $build = build_dir();

# What a TAP result says, without measured values that may differ between runs.
sub results {
	my ($r, $prefix) = @_;
	my (%res, @lines);
	# nestvisor prints a guest line longer than its console buffer in pieces,
	# each but the last ending in " \": join them back.
	for my $l (@{ $r->{log} }) {
		next unless $l =~ /^\Q$prefix\E(.*)$/;
		my $text = $1;
		if (@lines && $lines[-1] =~ s/ \\$//) {
			$lines[-1] .= $text;
		} else {
			push @lines, $text;
		}
	}
	for (@lines) {
		next unless /^(not )?ok (\d+) - (.*)$/;
		my ($fail, $n, $name) = ($1, $2, $3);
		my $skip = $name =~ s/\s*#\s*SKIP.*$//i;
		$name =~ s/\([^)]*\)//g;
		$name =~ s/0x[0-9a-f]+|\d+//gi;
		$name =~ s/\s+/ /g;
		$res{$n} = { ok => !$fail, skip => $skip, name => $name };
	}
	return \%res;
}

my %ends_l1 = map { $_ => 1 } qw(nested_shutdown_l1 nested_svme_clear);
my @nested = grep { !$ends_l1{$_} } map { m{/(nested_\w+)\.elf$} ? $1 : () }
	glob("$build/guests/nested_*.elf");
for my $g ('l1_basic', 'l1_lapic', sort @nested) {
	my $nested = qemu_run(kernel => "$build/nestvisor.elf", initrd => "$build/guests/$g.elf name=$g",
		timeout => 180);
	expect_status($nested, EXIT_PASS, "$g under nestvisor");
	expect_clean_tap($nested, "$g under nestvisor");
	expect_line($nested, qr/^ok \d+ - $g: exit: status 0; TAP (\d+)\/\1 ok/,
		"$g: nestvisor reports status 0 and clean TAP");

	my $bare = qemu_run(kernel => "$build/guests/$g.elf", timeout => 120);
	expect_status($bare, EXIT_PASS, "$g bare");
	my ($n, $m) = (results($nested, "[$g] "), results($bare, ''));
	is_deeply([sort { $a <=> $b } keys %$n], [sort { $a <=> $b } keys %$m],
		"$g: same numbered tests bare and nested");
	my @diff;
	for my $k (sort { $a <=> $b } keys %$n) {
		my ($x, $y) = ($n->{$k}, $m->{$k} // {});
		push @diff, "$k: nested '$x->{name}' ok=$x->{ok}, bare '" . ($y->{name} // '') . "' ok="
			. ($y->{ok} // 0)
			unless $x->{ok} && $y->{ok} && ($x->{name} eq $y->{name} || $y->{skip});
		push @diff, "$k: skipped under nestvisor" if $x->{skip};
	}
	ok(!@diff, "$g: every test passes both ways with the same name") or diag($_) for @diff;
}

# -cpu max has VGIF and nestvisor keeps L1's GIF in V_GIF; EPYC has none and
# GIF is emulated with STGI/CLGI intercepts. Every guest above also runs on
# EPYC, all in one nestvisor boot, one after another.
{
	my @all = ('l1_basic', 'l1_lapic', sort @nested);
	my $initrd = join(',', map { "$build/guests/$_.elf name=$_" } @all);
	my $r = qemu_run(kernel => "$build/nestvisor.elf", initrd => $initrd, cpu => 'EPYC',
		cpu_required => 1, timeout => 300);
	expect_status($r, EXIT_PASS, 'all guests under nestvisor on EPYC (software GIF)');
	expect_clean_tap($r, 'all guests under nestvisor on EPYC');
}

done_testing();
