#!/usr/bin/env bash
# Real OGC API clients against the real binary on a loopback port with the
# demo data: OWSLib and GDAL (owslib_gdal.py), QGIS's own OAPIF provider
# headless (qgis_oapif.py). Installs what is missing when run as root
# (apt-get: gdal-bin, qgis, python3-qgis; pip: owslib). Fails on any
# mismatch.
#
#   tests/clients/run.sh [path/to/trygg]     (default target/debug/trygg)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
bin=${1:-$root/target/debug/trygg}
[ -x "$bin" ] || cargo build -q -p trygg-cli
export DEBIAN_FRONTEND=noninteractive

apt_install() {
  apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
}
if [ "$(id -u)" = 0 ]; then
  command -v ogr2ogr >/dev/null 2>&1 || apt_install gdal-bin
  if ! /usr/bin/python3 -c 'import qgis.core' 2>/dev/null; then
    start=$(date +%s)
    apt_install qgis python3-qgis
    echo "installed qgis and python3-qgis in $(( $(date +%s) - start )) s"
  fi
  python3 -c 'import owslib' 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore owslib
fi

. tests/clients/demo-server.sh
start_demo_server "$bin" gis clients

out="$root/test-artifacts/clients"
rm -rf "$out" && mkdir -p "$out"
status=0
echo "== OWSLib and GDAL"
python3 tests/clients/owslib_gdal.py "$url" "$token" "$out" || status=1
echo "== QGIS (OAPIF provider, headless)"
QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR="$work" /usr/bin/python3 tests/clients/qgis_oapif.py "$url" "$token" "$out" 2> >(grep -v -E 'DeprecationWarning|writeAsVectorFormatV2' >&2) || status=1
exit $status
