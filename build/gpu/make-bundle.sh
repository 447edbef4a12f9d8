#!/usr/bin/env bash
# Step 1 of the GPU bundle, run where the .NET 10 SDK is (this repository's machine):
#   build/gpu/make-bundle.sh --torchsharp-src DIR [--out DIR]
# DIR is a checkout of https://github.com/dotnet/TorchSharp at tag v0.107.0 (only its src/Native is used; it is
# copied into the bundle, never into this repository). Produces a folder (default build/gpu/out/actorface-gpu,
# ignored by git) holding a self-contained linux-x64 publish of actorface WITHOUT libtorch, TorchSharp's native
# source, and build-native.sh. Copy that folder to the GPU machine and run ./build-native.sh there (step 2).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
src=""
out="$here/out/actorface-gpu"
while [ $# -gt 0 ]; do
    case "$1" in
        --torchsharp-src) src=${2:?--torchsharp-src needs a directory}; shift 2 ;;
        --out) out=${2:?--out needs a directory}; shift 2 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "make-bundle.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$src" ]; then
    echo "make-bundle.sh: --torchsharp-src DIR is required (a dotnet/TorchSharp checkout at v0.107.0)" >&2
    exit 2
fi
if [ ! -f "$src/src/Native/LibTorchSharp/CMakeLists.txt" ]; then
    echo "make-bundle.sh: $src/src/Native/LibTorchSharp/CMakeLists.txt not found: is $src a TorchSharp checkout?" >&2
    exit 2
fi
version=$(sed -n 's:.*<MinorVersion>\(.*\)</MinorVersion>.*:\1:p' "$src/build/BranchInfo.props" 2>/dev/null || true)
if [ "$version" != "107" ]; then
    echo "make-bundle.sh: $src is TorchSharp 0.${version:-?}, not 0.107 (the version ActorFace's managed TorchSharp.dll binds to)" >&2
    exit 2
fi

rm -rf "$out"
mkdir -p "$out"
echo "== dotnet publish (self-contained linux-x64, no libtorch package) -> $out/app"
dotnet publish "$repo/src/Host" -c Release -r linux-x64 --self-contained true -p:TorchBackend=none \
    -p:PatchLibTorchSharp=false -o "$out/app" --nologo
# The LibTorchSharp of the TorchSharp package is built against another libtorch: step 2 builds the right one.
rm -f "$out/app/libLibTorchSharp.so"
if ls "$out/app"/libtorch*.so* "$out/app"/libc10*.so* >/dev/null 2>&1; then
    echo "make-bundle.sh: libtorch ended up in the publish folder; the bundle must use the PyTorch install's" >&2
    exit 1
fi
cp "$repo/build/gpu/gpu_peer.py" "$repo/docs/bench/pytorch_peer.py" "$out/app/"
echo "== TorchSharp native source -> $out/native-src"
cp -r "$src/src/Native" "$out/native-src"
cp "$here/build-native.sh" "$here/README.md" "$out/"
chmod +x "$out/build-native.sh"
echo "bundle staged in $out: copy it to the GPU machine and run ./build-native.sh there"
