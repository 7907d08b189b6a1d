# scripts/vm-net.sh - inside the VM (busybox sh): bring up lo and the
# e1000 interface that scripts/vm-run --hostfwd gives the guest (QEMU user
# network: guest 10.0.2.15/24). Exit 1 if there is no interface.
[ -f /mw/kmods/e1000.ko ] && insmod /mw/kmods/e1000.ko 2>/dev/null
ip link set lo up
i=0
while [ ! -d /sys/class/net/eth0 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -d /sys/class/net/eth0 ] || { echo "vm-net: no eth0 (was vm-run given --hostfwd?)" >&2; exit 1; }
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0 2>/dev/null
exit 0
