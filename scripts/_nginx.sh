# Sourced by scripts that run nginx: installs it with apt-get when missing (as root), and
# exports NGINX_BINARY, its path (Debian puts it in /usr/sbin, off a normal user's PATH).
# Not NGINX: nginx reads that variable itself, as the sockets a binary upgrade hands over.
NGINX_BINARY=$(PATH="$PATH:/usr/sbin:/sbin" command -v nginx || true)
if [ -z "$NGINX_BINARY" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "nginx is not installed; install it (apt-get install nginx) and run this again" >&2
    exit 1
  fi
  echo "==> installing nginx (apt-get install nginx)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
  NGINX_BINARY=$(PATH="$PATH:/usr/sbin:/sbin" command -v nginx)
fi
export NGINX_BINARY
