#!/bin/sh
# scripts/vm-net.sh - inside the VM: bring up the e1000 NIC that
# `vm-run --hostfwd H:G` adds (QEMU user network, restricted), at 10.0.2.15/24,
# the address QEMU forwards 127.0.0.1:H on the host to. Exit 1 with a reason
# when there is no such NIC (vm-run started without --hostfwd).
if ! grep -q '^e1000 ' /proc/modules; then
	insmod /mw/kmods/e1000.ko || { echo "vm-net: insmod e1000.ko failed" >&2; exit 1; }
fi
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -e /sys/class/net/eth0 ] || { echo "vm-net: no eth0: was vm-run given --hostfwd?" >&2; exit 1; }
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 ||
	{ echo "vm-net: cannot configure eth0" >&2; exit 1; }
