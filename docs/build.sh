#!/usr/bin/env bash
# Builds the documentation site into DIR/html (default build/docs): configures CMake for the
# generated headers (version.hpp), runs Doxygen over the public headers into XML, then Sphinx with
# Breathe and MyST. Any warning of either fails the build. Usage: bash docs/build.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build/docs}")
mkdir -p "$out"

# Markdown code fences in the pages are not compiled: every snippet comes from examples/ through
# literalinclude (shell commands and CMake code excepted).
if grep -rn --include='*.md' '^```\(cpp\|c++\)' docs; then
    echo "docs: C++ code fences above; include the code from examples/ instead" >&2
    exit 1
fi

cmake -S . -B "$out/cmake" -DCONCERT_BUILD_TESTS=OFF -DCONCERT_BUILD_EXAMPLES=OFF >/dev/null
version=$(sed -n 's/^#define CONCERT_VERSION_STRING "\(.*\)"/\1/p' "$out/cmake/include/concert/version.hpp")

export CONCERT_SOURCE_DIR=$PWD CONCERT_GENERATED_DIR=$out/cmake/include
export CONCERT_DOXYGEN_DIR=$out/doxygen CONCERT_VERSION=$version
export CONCERT_DOXYGEN_XML=$out/doxygen/xml
rm -rf "$CONCERT_DOXYGEN_DIR"
mkdir -p "$CONCERT_DOXYGEN_DIR"
if ! doxygen docs/Doxyfile || [ -s "$CONCERT_DOXYGEN_DIR/warnings.log" ]; then
    cat "$CONCERT_DOXYGEN_DIR/warnings.log" >&2
    count=$(wc -l <"$CONCERT_DOXYGEN_DIR/warnings.log")
    echo "docs: $count Doxygen warnings (every public name needs a /// comment)" >&2
    exit 1
fi

# -W: warnings are errors; -n: nitpicky, every cross-reference must resolve.
sphinx-build -W --keep-going -n -q -b html docs "$out/html"
echo "docs: $out/html/index.html"
