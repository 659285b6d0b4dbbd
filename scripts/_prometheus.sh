# Sourced by scripts that run Prometheus: installs Debian's prometheus package (prometheus and
# promtool in /usr/bin) with apt-get when missing (as root), without leaving its service running
# on :9090, and exports PROMETHEUS_BINARY and PROMTOOL_BINARY.
PROMETHEUS_BINARY=$(command -v prometheus || true)
PROMTOOL_BINARY=$(command -v promtool || true)
if [ -z "$PROMETHEUS_BINARY" ] || [ -z "$PROMTOOL_BINARY" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "prometheus is not installed; install it (apt-get install prometheus) and run this again" >&2
    exit 1
  fi
  echo "==> installing prometheus and promtool (apt-get install prometheus), its service not started"
  # policy-rc.d answering 101 tells the package's scripts not to start the service.
  policy_rc_d_added=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy_rc_d_added=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  [ -n "$policy_rc_d_added" ] && rm -f /usr/sbin/policy-rc.d
  # Where a service manager started it anyway, stop it: 9090 stays free and nothing runs behind our back.
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
  if [ -f /run/prometheus.pid ] || pgrep -x -u prometheus prometheus >/dev/null 2>&1; then
    service prometheus stop >/dev/null 2>&1 || true
  fi
  PROMETHEUS_BINARY=$(command -v prometheus)
  PROMTOOL_BINARY=$(command -v promtool)
fi
export PROMETHEUS_BINARY PROMTOOL_BINARY
