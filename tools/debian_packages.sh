#!/usr/bin/env bash
# Install the Debian packages the test suite drives for real, when missing (needs root or sudo):
#   libreoffice-writer-nogui, libreoffice-calc-nogui, poppler-utils, fonts-liberation, fonts-crosextra-carlito
#   (Calibri's metrics): the Word report and the workbook rendered to PDF and PNG;
#   chromium: the dashboard's browser test;
#   postgresql, redis-server: the second pass (tools/postgres_pass.py); docker-compose: the compose file validated;
#   faketime: the rehearsal's simulated clock (tools/rehearse.py).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
for pkg in "$@" libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils fonts-liberation fonts-crosextra-carlito chromium postgresql redis-server docker-compose faketime; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
((${#need[@]})) || exit 0
sudo=""
[[ $(id -u) -eq 0 ]] || sudo="sudo"
echo "Installing Debian packages: ${need[*]}"
$sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
