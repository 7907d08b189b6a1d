# scripts/vm-demo.sh - what `make run` shows inside the VM (POSIX sh, run from /mw
# by scripts/run via scripts/vm-run): load memwatch, show status, the summary
# and the fragmentation view, unload.
insmod module/memwatch.ko || { echo "vm-demo: insmod module/memwatch.ko failed" >&2; exit 1; }
echo "== cat /proc/memwatch/status"
cat /proc/memwatch/status
echo
echo "== memwatch-read"
memwatch-read
rc=$?
echo
echo "== memwatch-read --frag"
memwatch-read --frag || rc=$?
rmmod memwatch || { echo "vm-demo: rmmod memwatch failed" >&2; exit 1; }
exit $rc
