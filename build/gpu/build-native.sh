#!/usr/bin/env bash
# Step 2 of the GPU bundle, run on the GPU machine inside the folder make-bundle.sh produced (needs CMake, ninja,
# a C++17 compiler, the CUDA toolkit and a CUDA PyTorch; no .NET, no network):
#   ./build-native.sh            (PYTHON=/path/to/python3 to pick the PyTorch install)
# Compiles TorchSharp's LibTorchSharp against that PyTorch's libtorch and writes ./actorface, a launcher that puts
# the PyTorch libtorch first on LD_LIBRARY_PATH. Then: ./actorface gpu-check
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-python3}
prefix=$("$py" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
torch_lib=$("$py" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
abi=$("$py" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
cuda=$("$py" -c 'import torch; print(torch.version.cuda or "")')
echo "PyTorch $("$py" -c 'import torch; print(torch.__version__)') (CUDA ${cuda:-none}) at $torch_lib, C++11 ABI $abi"
if [ -z "$cuda" ]; then
    echo "build-native.sh: this PyTorch has no CUDA; install a CUDA build or set PYTHON" >&2
    exit 2
fi

work="$here/native-build"
rm -rf "$work"
mkdir -p "$work"
cp -r "$here/native-src" "$work/src"
# TorchSharp's release build pins the C++11 ABI and -Werror for its own toolchain: follow this PyTorch's ABI, and
# do not fail on warnings a newer compiler emits for libtorch's headers (edits of the build copy only).
sed -i -e "s/-D_GLIBCXX_USE_CXX11_ABI=1/-D_GLIBCXX_USE_CXX11_ABI=$abi/" -e 's/add_definitions(-Werror)/# &/' "$work/src/CMakeLists.txt"
cmake -S "$work/src" -B "$work/obj" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DLIBTORCH_PATH="$prefix/Torch" -DCMAKE_INSTALL_PREFIX="$work/install"
cmake --build "$work/obj" --target LibTorchSharp -j "$(nproc)"
cp "$work/obj/LibTorchSharp/libLibTorchSharp.so" "$here/app/"

cat > "$here/actorface" <<LAUNCHER
#!/bin/sh
# ActorFace on this machine's PyTorch libtorch ($torch_lib), written by build-native.sh.
here=\$(cd "\$(dirname "\$0")" && pwd)
LD_LIBRARY_PATH="$torch_lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
exec "\$here/app/actorface" "\$@"
LAUNCHER
chmod +x "$here/actorface"
echo "built $here/app/libLibTorchSharp.so; run: $here/actorface gpu-check"
