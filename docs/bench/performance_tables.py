"""Regenerates the side-by-side tables of docs/performance.md (issue #18) in one run on an idle machine (~15 min):
ActorFace and PyTorch (docs/bench/pytorch_peer.py) interleaved row by row, so that both see the same machine state.

  dotnet build src/Host -c Release
  /usr/bin/python3 docs/bench/performance_tables.py [--quick] > /tmp/perf-tables.md

Rows: backbones r18 / r50 / mbf, train and infer, fp32 (2 threads, batch 32), r18 train bf16 (ActorFace --dtype bf16
vs torch.autocast bfloat16); the real job: `actorface train` on the CelebA ImageFolder (mbf, batch 64, 1 thread
per rank, one rank and two ranks in one process) against `bench backbone` (same network, batch and threads) and
arcface_torch's loop over the same files (pytorch_peer.py folder). Minor page faults per step are read from
/proc/PID/stat at each Speed line (after 3 warm-up steps); peak RSS is the process's own (ru_maxrss / VmHWM).
PyTorch runs with glibc's keep-memory settings and with jemalloc preloaded as actorface preloads it (where
libjemalloc2 is installed); ActorFace runs as it starts by default (jemalloc where installed) and with
ACTORFACE_MALLOC=glibc.
"""
import json, os, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ACTORFACE = os.path.join(ROOT, "src/Host/bin/Release/net10.0/actorface")
PEER = os.path.join(ROOT, "docs/bench/pytorch_peer.py")
FOLDER = os.path.join(ROOT, "..", "shared", "data", "celeba-subset-112")
KEEP = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": "18446744073709551615"}
JEMALLOC_PATH = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
# The settings `actorface` itself preloads jemalloc with (src/Model/Runtime/MallocStartup.cs).
JEMALLOC = {"LD_PRELOAD": JEMALLOC_PATH, "MALLOC_CONF": "dirty_decay_ms:-1,muzzy_decay_ms:-1,oversize_threshold:0"}
HAVE_JEMALLOC = os.path.exists(JEMALLOC_PATH)
QUICK = "--quick" in sys.argv


def run(cmd, env=None, timeout=900):
    e = dict(os.environ, **(env or {}))
    p = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if p.returncode != 0:
        sys.stderr.write(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout[-2000:]}{p.stderr[-2000:]}\n")
        return None
    return p.stdout


def actorface_backbone(network, mode, batch, dtype="fp32", threads=2, malloc=None):
    steps, warmup = ("2", "1") if QUICK else ("4", "1")
    out = run([ACTORFACE, "bench", "backbone", "--network", network, "--mode", mode, "--batch", str(batch), "--dtype", dtype,
               "--steps", steps, "--warmup", warmup, "--threads", str(threads), "--json"],
              env={"ACTORFACE_MALLOC": malloc} if malloc else None)
    if out is None:
        return None
    row = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
    row = row.get("values", row)
    return float(row["samples_per_s"]), float(row["peak_rss_mib"])


def peer(args, threads=2, malloc=KEEP):
    out = run(["/usr/bin/python3", PEER] + args, env=dict(malloc, ACTORFACE_THREADS=str(threads)))
    if out is None:
        return None
    line = out.strip().splitlines()[-1]
    kv = dict(re.findall(r"(\w+)=([\w.\-]+)", line))
    return kv


def actorface_train(ranks, batch=64, steps=12, warmup=3):
    """The real job; returns (samples/s median after warm-up, minor faults per step median and mean, peak RSS MiB)."""
    out_dir = tempfile.mkdtemp(prefix="af-perf-")
    shutil.rmtree(out_dir)
    cmd = [ACTORFACE, "train", "--config", "hocon/celeba_cpu.conf", "--set", f"batch_size={batch}",
           "--set", f"cluster.workers_per_node={ranks}", "--set", "frequent=1", "--set", f"max_steps={warmup + steps + 1}",
           "--set", "val_targets=[]", "--set", "checkpoint_every=100000", "--set", "save_backbone=false", "--output", out_dir]
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env=dict(os.environ, ACTORFACE_THREADS="1"))
    speeds, faults, prev, peak = [], [], None, 0
    for line in p.stdout:
        m = re.search(r"Speed ([\d.]+) samples/sec.*Global Step: (\d+)", line)
        if not m:
            continue
        stat = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
        minflt = int(stat[7])
        peak = max(peak, int(re.search(r"VmHWM:\s+(\d+)", open(f"/proc/{p.pid}/status").read()).group(1)) // 1024)
        step = int(m.group(2))
        if step > warmup + 1:
            speeds.append(float(m.group(1)))
            faults.append(minflt - prev)
        prev = minflt
    p.wait()
    shutil.rmtree(out_dir, ignore_errors=True)
    if not speeds:
        return None
    return statistics.median(speeds), statistics.median(faults), statistics.mean(faults), peak


def fmt(x, nd=2):
    return "–" if x is None else f"{x:.{nd}f}"


def main():
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = re.search(r"Model name:\s*(.*)", cpu).group(1).strip()
    flags = re.search(r"Flags:\s*(.*)", cpu).group(1).split()
    print(f"Machine: {model}, {os.cpu_count()} cores, bf16: {'avx512_bf16' in flags}, amx: {'amx_bf16' in flags}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("Speed: ActorFace as it starts by default (jemalloc where installed) against PyTorch's faster malloc mode. Peak RSS "
          "(MiB) in each mode: glibc = keep-memory (no mmap, no trim), jemalloc = the settings actorface preloads it with.\n")
    print("| row | PyTorch samples/s (glibc / jemalloc) | ActorFace samples/s (default / glibc) | ratio | peak RSS PyTorch glibc / jemalloc | peak RSS ActorFace default / glibc |")
    print("|---|---|---|---|---|---|")
    rows = [("r18", "infer", "fp32"), ("r18", "train", "fp32"), ("r50", "infer", "fp32"), ("r50", "train", "fp32"),
            ("mbf", "infer", "fp32"), ("mbf", "train", "fp32"), ("r18", "train", "bf16"), ("r18", "infer", "bf16")]
    if QUICK:
        rows = [r for r in rows if r[0] != "r50"]
    for network, mode, dtype in rows:
        py = peer(["backbone", network, mode, "32", dtype])
        pyj = peer(["backbone", network, mode, "32", dtype], malloc=JEMALLOC) if HAVE_JEMALLOC else None
        af = actorface_backbone(network, mode, 32, dtype)
        afg = actorface_backbone(network, mode, 32, dtype, malloc="glibc")
        speeds = [float(p["samples_per_s"]) for p in (py, pyj) if p]
        best = max(speeds) if speeds else None
        ratio = af[0] / best if af and best else None
        sp = lambda p: p["samples_per_s"] if p else "–"
        rss = lambda p: p["peak_rss_mib"] if p else "–"
        print(f"| {network} {mode} {dtype} | {sp(py)} / {sp(pyj)} | {fmt(af and af[0])} / {fmt(afg and afg[0])} | {fmt(ratio)} | "
              f"{rss(py)} / {rss(pyj)} | {int(af[1]) if af else '–'} / {int(afg[1]) if afg else '–'} |", flush=True)

    print("\nThe real job (CelebA ImageFolder, mbf, batch 64 per rank, 1 thread per rank, median after 3 warm-up steps):\n")
    print("| run | samples/s | vs `bench backbone` | minor faults / step (median, mean) | peak RSS MiB |")
    print("|---|---|---|---|---|")
    bench = actorface_backbone("mbf", "train", 64, threads=1)
    print(f"| `bench backbone --network mbf --mode train --batch 64 --threads 1` | {fmt(bench and bench[0])} | 1.00 | – | "
          f"{int(bench[1]) if bench else '–'} |", flush=True)
    for ranks in (1, 2):
        t = actorface_train(ranks)
        rel = t[0] / ranks / bench[0] if t and bench else None  # per-rank throughput vs one backbone on one thread
        print(f"| `actorface train`, {ranks} rank(s) (samples/s summed over ranks) | {fmt(t and t[0])} | "
              f"{fmt(rel)} per rank | {fmt(t and t[1], 0)}, {fmt(t and t[2], 0)} | {t[3] if t else '–'} |", flush=True)
    for name, malloc in (("glibc keep-memory", KEEP), ("jemalloc", JEMALLOC)):
        if malloc is JEMALLOC and not HAVE_JEMALLOC:
            continue
        py = peer(["folder", FOLDER, "mbf", "64", "6" if QUICK else "12"], threads=1, malloc=malloc)
        if py:
            print(f"| arcface_torch loop (pytorch_peer.py folder, 2 loader workers), {name} | {py['samples_per_s']} | – | "
                  f"{py['minor_faults_per_step']} (median) | {py['peak_rss_mib']} (main process) |", flush=True)


if __name__ == "__main__":
    main()
