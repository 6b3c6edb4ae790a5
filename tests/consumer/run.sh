#!/usr/bin/env bash
# Builds and runs the consumer project in tests/consumer every way a user can get concert-cpp:
#   1. add_subdirectory of the source folder (colliding target names, none of concert-cpp's tests);
#   2. FetchContent from an archive of the source folder (a file URL: no network);
#   3. find_package from an install prefix (a shared build: SONAME, exported symbols), with and
#      without the component tango, and find_package asking for versions or a component the
#      package does not have (tango included, from a build without it), which must fail;
#   4. pkg-config against the same prefix;
#   5. the Debian package made by cpack, installed with apt-get, then removed.
# Where Tango's C++ library is installed, the Tango bridge is built and consumed too.
# Usage: bash tests/consumer/run.sh BUILD_DIR (run as root, or with sudo, for step 5).
set -euo pipefail
cd "$(dirname "$0")/../.."
source_dir=$PWD
out=$(realpath -m "${1:-build/consumer}")
rm -rf "$out"
mkdir -p "$out"
export CXX=${CXX:-g++}

step() { echo; echo "=== consumer: $*"; }

# Tango's C++ library (Debian's libtango-dev): where it is, the consumers get the Tango bridge
# too (asked for as a subproject; built by default in the installed package) and its own test.
with_tango=0
pkg-config --exists tango 2>/dev/null && with_tango=1

# consume NAME TESTS [cmake args...]: configures, builds and tests the consumer; exactly its own
# TESTS tests may be in its ctest.
consume() {
    local name=$1 expected=$2
    shift 2
    cmake -S tests/consumer -B "$out/$name" -DCMAKE_BUILD_TYPE=Release "$@" >"$out/$name.log"
    cmake --build "$out/$name" -j2 >>"$out/$name.log"
    local tests
    tests=$(ctest --test-dir "$out/$name" -N | sed -n 's/^Total Tests: //p')
    if [ "$tests" != "$expected" ]; then
        echo "the consumer's ctest has $tests tests, not its own $expected" >&2
        exit 1
    fi
    ctest --test-dir "$out/$name" --output-on-failure
}

step "add_subdirectory"
consume subdirectory $((2 + with_tango)) -DCONSUMER_MODE=subdirectory -DCONCERT_LOCATION="$source_dir" \
    -DCONCERT_WITH_TANGO="$([ "$with_tango" = 1 ] && echo ON || echo OFF)"
if cmake --build "$out/subdirectory" --target help | grep -E '(async_test|motors)' | grep -q concert_; then
    echo "concert-cpp's own tests or examples are in the consumer's build" >&2
    exit 1
fi

step "FetchContent from an archive of the source folder"
tar -C "$source_dir" --exclude=./build --exclude=./.git -czf "$out/concert-cpp.tar.gz" .
# Not asked for, the Tango bridge is left out of a subproject.
consume fetchcontent 2 -DCONSUMER_MODE=fetchcontent -DCONCERT_LOCATION="$out/concert-cpp.tar.gz"

step "find_package from an install prefix (shared library)"
prefix=$out/prefix
cmake -S . -B "$out/shared" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
    -DCONCERT_BUILD_TESTS=OFF -DCONCERT_BUILD_EXAMPLES=OFF >"$out/shared.log"
cmake --build "$out/shared" -j2 >>"$out/shared.log"
cmake --install "$out/shared" --prefix "$prefix" >>"$out/shared.log"
# check_library NAME DETAIL: the installed shared library NAME has a versioned SONAME and exports,
# of the names matching the pattern DETAIL, only the allowed concert::detail ones.
check_library() {
    local library unexpected
    library=$(find "$prefix" -name "$1.so.*.*.*")
    readelf -d "$library" | grep -q "SONAME.*$1\.so\.[0-9]" || { echo "unversioned SONAME of $1" >&2; exit 1; }
    unexpected=$(nm -DC --defined-only "$library" | grep -E " [A-Za-z] $2" | grep -vE "$allowed_detail" || true)
    if [ -n "$unexpected" ]; then
        echo "$1.so exports detail names no header needs:" >&2
        echo "$unexpected" >&2
        exit 1
    fi
}
# Only the public API, and the concert::detail names that inline header code needs.
allowed_detail=' concert::detail::(await|throw_invalid_future|environment_read|error_handler_slot|parking_slot|forget_queued|pool_identity|wait_in_background|schedule_continuation|current_blocking_hooks|lasting_name|report_task_failure)\b'
check_library libconcert 'concert::detail::'
# The Tango bridge's library exports its public API only, none of concert::tango::detail (its
# inline code calls nothing compiled), and of concert::detail the one-per-process inline variables
# of the core's headers, as any shared object using them does.
if [ "$with_tango" = 1 ]; then
    check_library libconcert_tango 'concert::(tango::)?detail::'
fi
consume find_package $((2 + with_tango)) -DCONSUMER_MODE=find_package -DCMAKE_PREFIX_PATH="$prefix"
if [ "$with_tango" = 1 ]; then
    step "find_package asking for the component tango"
    consume find_package-tango 3 -DCONSUMER_MODE=find_package -DCONCERT_COMPONENTS=tango \
        -DCMAKE_PREFIX_PATH="$prefix"
fi

# refused NAME ARGUMENTS TEXT [PREFIX]: a project calling find_package(concert ARGUMENTS) against
# the install prefix (or PREFIX) fails to configure, saying TEXT.
refused() {
    local name=$1 arguments=$2 text=$3 from=${4:-$prefix}
    mkdir -p "$out/$name"
    printf '%s\n' 'cmake_minimum_required(VERSION 3.20)' 'project(refused LANGUAGES CXX)' \
        "find_package(concert $arguments)" >"$out/$name/CMakeLists.txt"
    if cmake -S "$out/$name" -B "$out/$name/build" -DCMAKE_PREFIX_PATH="$from" \
        >"$out/$name.log" 2>&1; then
        echo "find_package(concert $arguments) succeeded" >&2
        exit 1
    fi
    grep -q "$text" "$out/$name.log"
    echo "find_package(concert $arguments): refused"
}

step "find_package asking for a component the package does not have fails"
refused no-such-component "0.1 CONFIG REQUIRED COMPONENTS no_such_component" \
    'has no component "no_such_component"'

step "find_package asking for the component tango from a package built without it fails"
no_tango_prefix=$prefix
if [ "$with_tango" = 1 ]; then
    no_tango_prefix=$out/prefix-no-tango
    cmake -S . -B "$out/no-tango" -DCMAKE_BUILD_TYPE=Release -DCONCERT_WITH_TANGO=OFF \
        -DCONCERT_BUILD_TESTS=OFF -DCONCERT_BUILD_EXAMPLES=OFF >"$out/no-tango.log"
    cmake --build "$out/no-tango" -j2 >>"$out/no-tango.log"
    cmake --install "$out/no-tango" --prefix "$no_tango_prefix" >>"$out/no-tango.log"
fi
refused tango-not-built "0.1 CONFIG REQUIRED COMPONENTS tango" "built without the Tango bridge" \
    "$no_tango_prefix"

step "find_package with a version the package does not have fails"
for version in 0.2 1.0; do
    refused "too-new-$version" "$version CONFIG REQUIRED" "compatible with requested version"
done

step "pkg-config against the install prefix"
pkg_dir=$(dirname "$(find "$prefix" -name concert.pc)")
lib_dir=$(dirname "$(find "$prefix" -name 'libconcert.so.*.*.*')")
# shellcheck disable=SC2046
"$CXX" -std=c++20 -Wall -Wextra tests/consumer/motors.cpp -o "$out/pc-motors" \
    $(PKG_CONFIG_PATH=$pkg_dir pkg-config --cflags --libs concert)
# shellcheck disable=SC2046
"$CXX" -std=c++20 -Wall -Wextra tests/consumer/async_test.cpp -o "$out/pc-async_test" \
    $(PKG_CONFIG_PATH=$pkg_dir pkg-config --cflags --libs concert-gtest-main)
LD_LIBRARY_PATH=$lib_dir "$out/pc-motors" | grep "x at 10, y at 20; stopped 1"
LD_LIBRARY_PATH=$lib_dir "$out/pc-async_test" --disable-async
if [ "$with_tango" = 1 ]; then
    # shellcheck disable=SC2046
    "$CXX" -std=c++20 -Wall -Wextra tests/consumer/tango_device.cpp -o "$out/pc-tango_device" \
        $(PKG_CONFIG_PATH=$pkg_dir pkg-config --cflags --libs concert-tango)
    LD_LIBRARY_PATH=$lib_dir "$out/pc-tango_device" | grep "^unreachable: API_"
fi

step "the Debian package (cpack -G DEB, apt-get install)"
sudo=()
[ "$(id -u)" -ne 0 ] && sudo=(sudo)
cmake -S . -B "$out/deb" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DCONCERT_BUILD_TESTS=OFF -DCONCERT_BUILD_EXAMPLES=OFF >"$out/deb.log"
cmake --build "$out/deb" -j2 >>"$out/deb.log"
(cd "$out/deb" && cpack -G DEB >>"$out/deb.log")
package=$(find "$out/deb" -maxdepth 1 -name 'libconcert-cpp-dev_*.deb')
dpkg-deb --field "$package" Package Version Depends
dpkg-deb --field "$package" Depends | grep -q libfmt-dev
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$package" >>"$out/deb.log"
# The package comes off again however the consumer fares.
trap 'DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get remove -y -qq libconcert-cpp-dev >>"$out/deb.log"' EXIT
consume deb-consumer $((2 + with_tango)) -DCONSUMER_MODE=find_package
# shellcheck disable=SC2046
"$CXX" -std=c++20 tests/consumer/motors.cpp -o "$out/deb-pc-motors" $(pkg-config --cflags --libs concert)
"$out/deb-pc-motors" | grep "x at 10, y at 20; stopped 1"

echo
echo "=== consumer: every way works"
