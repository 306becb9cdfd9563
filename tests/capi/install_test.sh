#!/usr/bin/env bash
# The C API as a user gets it: `cmake --install` into a scratch prefix, then
# examples/ built against that install with its own CMake project
# (find_package(vkmind)) and with pkg-config (shared and static), each run on
# a committed model; the installed library exports only vkmind_* symbols; and
# the installed `vkmind serve` finds the installed vkmind-serve.
#   install_test.sh BUILD_DIR SOURCE_DIR MODEL
set -euo pipefail
build=$1 src=$2 model=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
prefix=$scratch/prefix

cmake --install "$build" --prefix "$prefix" > "$scratch/install.log"
libdir=$(dirname "$(find "$prefix" -name 'libvkmind.so' | head -1)")
for f in include/vkmind/vkmind.h "${libdir#$prefix/}/libvkmind.a" "${libdir#$prefix/}/pkgconfig/vkmind.pc" \
         "${libdir#$prefix/}/cmake/vkmind/vkmindConfig.cmake" "${libdir#$prefix/}/cmake/vkmind/vkmindConfigVersion.cmake" \
         bin/vkmind bin/vkmind-serve share/doc/vkmind/README.md; do
  [ -e "$prefix/$f" ] || { echo "not installed: $f"; exit 1; }
done
# The installed vkmind runs the installed vkmind-serve: only the server can
# fail to listen (a host that is no address).
if serve_err=$("$prefix/bin/vkmind" serve -m "$model" --host 256.1.1.1 --port 0 2>&1); then
  echo "vkmind serve listened on 256.1.1.1"; exit 1
fi
echo "$serve_err" | grep -q "cannot listen on 256.1.1.1" || { echo "vkmind serve: $serve_err"; exit 1; }
soname=$(objdump -p "$libdir/libvkmind.so" | awk '/SONAME/ {print $2}')
[ "$soname" = "libvkmind.so.0.1" ] || { echo "SONAME is '$soname'"; exit 1; }

# Only the C API leaves the library.
others=$(nm -D --defined-only "$libdir/libvkmind.so" | awk '{print $3}' | grep -v '^vkmind_' || true)
[ -z "$others" ] || { echo "exported besides vkmind_*:"; echo "$others" | head; exit 1; }
nm -D --defined-only "$libdir/libvkmind.so" | grep -q ' vkmind_submit_chat$'

# CMake, find_package(vkmind).
cmake -S "$src/examples" -B "$scratch/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" > "$scratch/cmake.log"
cmake --build "$scratch/cmake-build" > "$scratch/build.log"
# pkg-config, C11 with every warning an error, shared and static.
export PKG_CONFIG_PATH=$libdir/pkgconfig
cc -std=c11 -Wall -Wextra -Werror "$src/examples/chat.c" $(pkg-config --cflags --libs vkmind) -o "$scratch/chat-pc"
cc -std=c11 -Wall -Wextra -Werror "$src/examples/chat.c" $(pkg-config --cflags vkmind) \
   "$libdir/libvkmind.a" $(pkg-config --static --libs-only-l vkmind | sed 's/-lvkmind//') -o "$scratch/chat-static"

input=$'Hello\nAnd again\n'
export LD_LIBRARY_PATH=$libdir
a=$(printf '%s' "$input" | "$scratch/cmake-build/chat" "$model" 12 2>/dev/null)
b=$(printf '%s' "$input" | "$scratch/chat-pc" "$model" 12 2>/dev/null)
c=$(printf '%s' "$input" | env -u LD_LIBRARY_PATH "$scratch/chat-static" "$model" 12 2>/dev/null)
[ -n "$a" ] || { echo "the CMake-built example printed nothing"; exit 1; }
[ "$a" = "$b" ] || { echo "CMake and pkg-config builds differ"; exit 1; }
[ "$a" = "$c" ] || { echo "shared and static builds differ"; exit 1; }
# The second turn found the first in the prefix cache.
printf '%s' "$input" | "$scratch/chat-pc" "$model" 12 2>&1 >/dev/null | tail -1 | grep -vq ' 0 cached' || {
  echo "turn 2 reused nothing"; exit 1; }
# Python's ctypes against the installed library.
/usr/bin/python3 "$src/examples/python/chat.py" "$model" Hello --lib "$libdir/libvkmind.so" -n 8 > /dev/null
echo "install test passed: $prefix (CMake, pkg-config shared and static, Python ctypes)"
