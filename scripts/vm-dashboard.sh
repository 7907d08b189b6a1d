# scripts/vm-dashboard.sh HOSTPORT - inside the VM (scripts/dashboard):
# load memwatch, bring up the forwarded network, run memwatchd on port 7391
# with a recording, and a little workload so the charts move.
insmod /mw/module/memwatch.ko || exit 1
sh /mw/scripts/vm-net.sh || exit 1
memwatchd --db /tmp/dashboard.db --interval 2 --listen 0.0.0.0:7391 &
sleep 2
echo "vm-dashboard: memwatchd is up: open http://127.0.0.1:$1/ on the host"
# mmap/munmap and page allocations every few seconds
while :; do
	stress-ng --vm 1 --vm-bytes 32M --timeout 5 --quiet 2>/dev/null || sleep 5
	sleep 3
done
