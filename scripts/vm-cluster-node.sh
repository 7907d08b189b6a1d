#!/bin/sh
# scripts/vm-cluster-node.sh PORT - inside the VM (vm-run --hostfwd H:PORT):
# one memwatch host of tests/host/cluster.sh. Loads memwatch.ko, brings up the
# network (vm-net.sh), starts "mysqld" (tasks_hold under that name: 1 parent
# and 3 children with 16 KiB touched each, idle, so its figures hold still)
# and memwatchd-serve on 10.0.2.15:PORT; prints "cluster-node: ready" and
# serves until the VM is killed.
port=${1:-7391}
insmod /mw/module/memwatch.ko || { echo "cluster-node: insmod memwatch.ko failed"; exit 1; }
sh /mw/scripts/vm-net.sh || exit 1
mkdir -p /tmp/hold
cp /mw/tests/progs/tasks_hold /tmp/mysqld || exit 1
/tmp/mysqld 3 /tmp/hold &
i=0
while [ ! -e /tmp/hold/ready ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -e /tmp/hold/ready ] || { echo "cluster-node: mysqld did not start"; exit 1; }
memwatchd-serve --listen "10.0.2.15:$port" --metrics-top 10 &
echo "cluster-node: ready"
wait
