#!/usr/bin/env bash
# Host tests of scripts/find-kdir on fake /boot and /usr/src trees: plain
# names mean plain kernels even when an RT kernel of the same version sorts
# later; NAME-rt means the RT flavour; kernels without headers are skipped.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MW_BOOT_DIR=$tmp/boot MW_HEADERS_DIR=$tmp/src
mkdir -p "$MW_BOOT_DIR" "$MW_HEADERS_DIR"
kernel() { # RELEASE [noheaders]
	: >"$MW_BOOT_DIR/vmlinuz-$1"
	[[ ${2:-} == noheaders ]] && return
	mkdir -p "$MW_HEADERS_DIR/linux-headers-$1" && : >"$MW_HEADERS_DIR/linux-headers-$1/Makefile"
}
kernel 6.1.0-56-amd64
kernel 6.1.0-57-amd64
kernel 6.1.0-57-rt-amd64
kernel 6.1.0-58-rt-amd64 noheaders
kernel 6.1.0-57-cloud-amd64
kernel 6.12.117+deb12-amd64
kernel 6.12.117+deb12-rt-amd64
kernel 6.12.120+deb12-cloud-amd64

fk() { scripts/find-kdir "$@" 2>&1; }
t_eq "$(fk --release 6.1)" 6.1.0-57-amd64 "6.1 is the newest plain 6.1, not the RT or cloud one"
t_eq "$(fk --release 6.12)" 6.12.117+deb12-amd64 "6.12 is plain 6.12"
t_eq "$(fk --release 6.1-rt)" 6.1.0-57-rt-amd64 "6.1-rt is the newest RT 6.1 with headers"
t_eq "$(fk --release 6.12-rt)" 6.12.117+deb12-rt-amd64 "6.12-rt is RT 6.12"
t_eq "$(fk 6.1-rt)" "$MW_HEADERS_DIR/linux-headers-6.1.0-57-rt-amd64" "6.1-rt: its headers dir"
t_eq "$(fk --vmlinuz 6.12-rt)" "$MW_BOOT_DIR/vmlinuz-6.12.117+deb12-rt-amd64" "6.12-rt: its image"
t_eq "$(fk --release 6.1.0-56-amd64)" 6.1.0-56-amd64 "a full release is taken as it is"
t_eq "$(fk --release 6.1.0-57-rt-amd64)" 6.1.0-57-rt-amd64 "a full RT release too"
out=$(fk --release 6.2); rc=$?
[[ $rc == 1 && $out == *"no installed kernel matching '6.2'"* ]]
t_check $? "an unknown version is an error naming it" "exit $rc: $out"
out=$(fk --release 6.1-cloud); rc=$?
[[ $rc == 1 ]]
t_check $? "a flavour we do not know is an error" "exit $rc: $out"
rm -rf "$MW_HEADERS_DIR/linux-headers-6.1.0-57-rt-amd64"
out=$(fk --release 6.1-rt); rc=$?
[[ $rc == 1 && $out == *"6.1-rt"*"rt-amd64"* ]]
t_check $? "no RT headers: 6.1-rt is an error, never the plain kernel" "exit $rc: $out"
t_eq "$(fk --release 6.1)" 6.1.0-57-amd64 "... while 6.1 still resolves"
t_done
