#!/usr/bin/env bash
# Installs the Debian 12 packages vkmind builds and tests with, when missing.
# Needs root (or sudo) only if something is missing.
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libvulkan-dev mesa-vulkan-drivers vulkan-tools vulkan-validationlayers
  glslc glslang-tools spirv-tools
  catch2 libcli11-dev nlohmann-json3-dev libpcre2-dev libedit-dev libcpp-httplib-dev curl
  libcurl4-openssl-dev
  python3-jinja2  # the chat-template tests compare with jinja2, run by /usr/bin/python3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm run the openai client tests; any install will do (the
# machine may have one that is not Debian's), so only a missing one is added.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
