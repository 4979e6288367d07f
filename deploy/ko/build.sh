#!/usr/bin/env bash
# Builds Behalf's container image without Docker, as an OCI image in a
# docker-style tarball (`docker load` / `crane push` / `skopeo copy` read it):
#
#   deploy/ko/build.sh [OUT.tar]        (default: behalf-image.tar)
#
# ko builds ./cmd/behalf (static, CGO_ENABLED=0) for linux/amd64 onto a
# distroless-style base made here from files of this machine: the CA bundle,
# /etc/passwd and /etc/group with the nonroot user 65532, /tmp, and
# /var/lib/behalf owned by 65532. The base goes through an in-memory registry
# on loopback (crane registry serve), since ko reads base images from a
# registry; nothing is pulled from or pushed to the internet. The tools come
# from the Go module proxy: go install of ko and crane, pinned below.
#
# Then it checks the tarball: crane validate, and deploy's TestImageTarball
# (manifest, digests, config, entrypoint; runs the binary's `version`).
# Environment: BEHALF_VERSION (default: git describe, else "dev"),
# KO_VERSION, CRANE_VERSION, TOOLS (a directory to install the tools into).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(realpath -m "${1:-behalf-image.tar}")
KO_VERSION=${KO_VERSION:-v0.19.1}
CRANE_VERSION=${CRANE_VERSION:-v0.22.1}
export BEHALF_VERSION=${BEHALF_VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}

work=$(mktemp -d)
registry_pid=
cleanup() {
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

tools=${TOOLS:-$work/bin}
mkdir -p "$tools"
if [ ! -x "$tools/ko" ] || ! "$tools/ko" version 2>/dev/null | grep -qx "v${KO_VERSION#v}"; then
  GOBIN="$tools" GOFLAGS=-buildvcs=false go install "github.com/google/ko@$KO_VERSION"
fi
if [ ! -x "$tools/crane" ] || ! "$tools/crane" version 2>/dev/null | grep -qx "v${CRANE_VERSION#v}"; then
  GOBIN="$tools" GOFLAGS=-buildvcs=false go install "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION"
fi
ko=$tools/ko crane=$tools/crane

# An in-memory registry on a free loopback port.
for _ in $(seq 1 20); do
  port=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
done
"$crane" registry serve --address "127.0.0.1:$port" >"$work/registry.log" 2>&1 &
registry_pid=$!
up=
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
  kill -0 "$registry_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$up" ] || { echo "build.sh: the local registry did not start on 127.0.0.1:$port" >&2; cat "$work/registry.log" >&2; exit 1; }
registry=127.0.0.1:$port

# The base layer: what a static Go server needs and nothing else (no shell).
ca=/etc/ssl/certs/ca-certificates.crt
[ -s "$ca" ] || { echo "build.sh: $ca is missing (Debian: apt-get install ca-certificates)" >&2; exit 1; }
root=$work/rootfs
mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/var/lib/behalf"
cp "$ca" "$root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf" "$root/etc/ssl/certs/ca-certificates.crt"
chmod 1777 "$root/tmp"
chmod 0700 "$root/var/lib/behalf"
tar --create --file "$work/base.tar" --directory "$root" --sort=name --mtime=@0 \
  --owner=0 --group=0 --numeric-owner etc tmp
tar --append --file "$work/base.tar" --directory "$root" --mtime=@0 \
  --owner=0 --group=0 --numeric-owner --no-recursion var var/lib
tar --append --file "$work/base.tar" --directory "$root" --mtime=@0 \
  --owner=65532 --group=65532 --numeric-owner var/lib/behalf
base=$registry/behalf/base:static
"$crane" append --oci-empty-base --new_layer "$work/base.tar" --new_tag "$base" >/dev/null 2>"$work/crane.log" ||
  { cat "$work/crane.log" >&2; exit 1; }
"$crane" mutate "$base" --set-platform linux/amd64 --user 65532:65532 --workdir / \
  --env PATH=/usr/local/bin:/usr/bin:/bin --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --tag "$base" >/dev/null 2>>"$work/crane.log" || { cat "$work/crane.log" >&2; exit 1; }

# The image: ko on that base, written to a tarball only.
export KO_CONFIG_PATH=deploy/ko KO_DEFAULTBASEIMAGE=$base KO_DOCKER_REPO=behalf SOURCE_DATE_EPOCH=0
"$ko" build ./cmd/behalf --bare --push=false --platform=linux/amd64 --tags "$BEHALF_VERSION" \
  --image-label org.opencontainers.image.title=behalf \
  --image-label "org.opencontainers.image.version=$BEHALF_VERSION" \
  --tarball "$out" >"$work/ko.out" 2>"$work/ko.log" || { cat "$work/ko.log" >&2; exit 1; }

"$crane" validate --tarball "$out"
echo "build.sh: wrote $out ($(du -h "$out" | cut -f1), behalf $BEHALF_VERSION, linux/amd64)"
BEHALF_IMAGE_TARBALL=$out BEHALF_IMAGE_VERSION=$BEHALF_VERSION go test ./deploy/ -run '^TestImageTarball$' -count=1
