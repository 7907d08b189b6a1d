# suspects-lib.sh - the trend and anomaly library (lib/trend.c, lib/suspects.c)
# on synthetic series with known answers: tests/unit/suspects_test prints TAP.
cd "$(dirname "$0")/../.." || exit 1
make -s -C tests/unit >/dev/null || { echo "not ok 1 - build tests/unit"; echo "1..1"; exit 1; }
exec tests/unit/suspects_test
