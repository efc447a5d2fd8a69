# Test guests (tests/guests/): multiboot kernels built on boot/ and tests/lib/.
guests:
.PHONY: guests
