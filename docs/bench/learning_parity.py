#!/usr/bin/env python3
"""Learning parity over whole runs (issue #20 item 2): does `actorface train` learn what arcface_torch learns?

1. Splits an ImageFolder by identity (sorted folder names; every 5th identity, i % 5 == 4, is held out) into
   RUN/train and RUN/heldout, both folders of symlinks to the data (nothing is copied), and builds the held-out
   verification set with `actorface make-bin --images RUN/heldout --pairs P --identity-disjoint`.
2. For every seed, one after the other (never in parallel), trains ActorFace (`actorface train` on RUN/job.conf,
   one rank, ACTORFACE_THREADS) and arcface_torch's loop (docs/bench/arcface_torch_loop.py, the same recipe, torch
   threads the same), each under /usr/bin/time -v (wall time, peak RSS), into RUN/runs/<side>_seed<S>.
3. Scores every backbone.pth with `actorface eval --bin RUN/heldout.bin --network NET --weights ... --json`.
4. Writes RUN/results.json (one record per run), RUN/losses.csv (side, seed, epoch, step, loss, lr: the "Loss" of
   every log line; both sides log arcface_torch's CallBackLogging average, i.e. the mean of the step losses since the
   previous line, the first line covering steps 1 .. 2*frequent) and RUN/summary.md (the tables of docs/accuracy.md).

A run whose record is already in RUN/results.json is not repeated, so the script can be stopped and run again with
more seeds. Both sides get glibc malloc's keep-memory mode (ActorFace sets it itself; the PyTorch process gets
MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_=max, MALLOC_ARENA_MAX=1, as docs/bench/pytorch_peer.py's fair mode).

  dotnet build src/Host -c Release
  python3 docs/bench/learning_parity.py --arcface-torch /path/to/insightface/recognition/arcface_torch \
      --data ../shared/data/celeba-subset-112 --run /tmp/parity --seeds 2048 2049 2050

The issue's recipe is the default (mbf, CosFace (1, 0, 0.4), embedding 512, 3 epochs with 1 warm-up, batch 64,
lr 0.1, one rank, one thread, all training identities). --train-identities K (the first K training identities) and
--epochs / --warmup-epochs shorten it; the summary then says "reduced" and how. --summary-only rewrites the tables
from results.json without training.
"""
import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LOSS_LINE = re.compile(r"Loss ([-0-9.naif]+)\s+LearningRate ([-0-9.e]+)\s+Epoch: (\d+)\s+Global Step: (\d+)")
SIDES = ("actorface", "pytorch")


def split_identities(data, run, train_identities):
    names = sorted(d for d in os.listdir(data) if os.path.isdir(os.path.join(data, d)))
    if len(names) < 10:
        sys.exit(f"--data {data}: expected an ImageFolder with at least 10 identity folders, found {len(names)}")
    heldout = [n for i, n in enumerate(names) if i % 5 == 4]
    train = [n for i, n in enumerate(names) if i % 5 != 4]
    if train_identities:
        train = train[:train_identities]
    for folder, chosen in (("train", train), ("heldout", heldout)):
        root = os.path.join(run, folder)
        if os.path.isdir(root):
            present = sorted(os.listdir(root))
            if present != chosen:
                sys.exit(f"{root} holds another split ({len(present)} identities, this run wants {len(chosen)}): "
                         "use a fresh --run folder")
            continue
        os.makedirs(root)
        for n in chosen:
            os.symlink(os.path.abspath(os.path.join(data, n)), os.path.join(root, n))
    images = sum(len(os.listdir(os.path.join(run, "train", n))) for n in train)
    return train, heldout, images


def timed(cmd, log, env):
    """Runs cmd under /usr/bin/time -v with stdout+stderr to log; returns (exit code, wall s, peak RSS MiB, CPU s)."""
    timing = log + ".time"
    with open(log, "w") as out:
        rc = subprocess.call(["/usr/bin/time", "-v", "-o", timing] + cmd, stdout=out, stderr=subprocess.STDOUT,
                             env=env, cwd=REPO)
    text = open(timing).read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1)
    seconds = 0.0
    for part in wall.split(":"):
        seconds = seconds * 60 + float(part)
    rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return rc, seconds, rss_kib / 1024, cpu_seconds(text)


def cpu_seconds(time_v_output):
    """User + system CPU time of a /usr/bin/time -v report: unlike wall time, not stretched by a busy machine."""
    return sum(float(re.search(rf"{kind} time \(seconds\): (\S+)", time_v_output).group(1))
               for kind in ("User", "System"))


def cpu_of(record):
    if "cpu_s" not in record:  # records written before the column existed: read their time -v report again
        record["cpu_s"] = round(cpu_seconds(open(record["log"] + ".time").read()), 1)
    return record["cpu_s"]


def losses_of(log):
    rows = []
    for line in open(log, errors="replace"):
        m = LOSS_LINE.search(line)
        if m:
            rows.append({"epoch": int(m.group(3)), "step": int(m.group(4)), "loss": float(m.group(1)),
                         "lr": float(m.group(2))})
    return rows


def write_job(run, args, train, images):
    job = os.path.join(run, "job.conf")
    with open(job, "w") as f:
        f.write(f"""# Written by docs/bench/learning_parity.py: issue #20's recipe or a variant; {args.ranks} rank(s), one process.
actorface {{
  network = {args.network}
  margin_list = [{args.margin[0]}, {args.margin[1]}, {args.margin[2]}]
  embedding_size = {args.embedding_size}
  sample_rate = {args.sample_rate}
  batch_size = {args.batch_size}
  lr = {args.lr}
  weight_decay = 5e-4
  num_epoch = {args.epochs}
  warmup_epoch = {args.warmup_epochs}
  frequent = {args.frequent}
  dataset = folder
  rec = "{os.path.join(run, 'train')}"
  num_classes = {len(train)}
  num_image = {images}
  val_targets = []
  num_workers = 2
  checkpoint_every = 0
  cluster {{ workers_per_node = {args.ranks} }}
}}
""")
    return job


def train(side, seed, args, run, job, threads):
    out = os.path.join(run, "runs", f"{side}_seed{seed}")
    env = dict(os.environ)
    if side == "actorface":
        env["ACTORFACE_THREADS"] = str(threads)
        cmd = [args.actorface, "train", "--config", job, "--set", f"seed={seed}", "--output", out, "--overwrite"]
    else:
        env.update(OMP_NUM_THREADS=str(threads), MALLOC_MMAP_MAX_="0",
                   MALLOC_TRIM_THRESHOLD_="18446744073709551615", MALLOC_ARENA_MAX="1")
        cmd = [args.python, os.path.join(HERE, "arcface_torch_loop.py"), "--arcface-torch", args.arcface_torch,
               "--train", os.path.join(run, "train"), "--output", out, "--seed", str(seed),
               "--network", args.network, "--margin", *map(str, args.margin),
               "--embedding-size", str(args.embedding_size), "--batch-size", str(args.batch_size),
               "--lr", str(args.lr), "--epochs", str(args.epochs), "--warmup-epochs", str(args.warmup_epochs),
               "--frequent", str(args.frequent), "--threads", str(threads), "--world-size", str(args.ranks),
               "--sample-rate", str(args.sample_rate)]
    os.makedirs(out, exist_ok=True)
    log = os.path.join(run, "runs", f"{side}_seed{seed}.log")
    print(f"[{time.strftime('%H:%M:%S')}] train {side} seed {seed} -> {out}", flush=True)
    rc, wall, rss, cpu = timed(cmd, log, env)
    weights = os.path.join(out, "backbone.pth")
    if rc != 0 or not os.path.isfile(weights):
        sys.exit(f"{side} seed {seed} failed (exit {rc}); see {log}")
    print(f"[{time.strftime('%H:%M:%S')}] eval {side} seed {seed}", flush=True)
    scored = subprocess.run([args.actorface, "eval", "--bin", os.path.join(run, "heldout.bin"), "--network",
                             args.network, "--weights", weights, "--json"], capture_output=True, text=True, cwd=REPO)
    if scored.returncode != 0:
        sys.exit(f"actorface eval of {weights} failed: {scored.stderr.strip()}")
    start = re.search(r"^\[", scored.stdout, re.M)  # the JSON array (any log line before it is skipped)
    result = json.loads(scored.stdout[start.start():])[0]
    return {"side": side, "seed": seed, "accuracy": result["accuracy_flip"], "fold_std": result["std_flip"],
            "xnorm": result["xnorm"], "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "peak_rss_mib": round(rss),
            "losses": losses_of(log), "log": log}


def mean_std(values):
    if not values:
        return float("nan"), float("nan")
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else float("nan"))


def summarise(run, records, setup):
    with open(os.path.join(run, "losses.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["side", "seed", "epoch", "step", "loss", "lr"])
        for r in records:
            for row in r["losses"]:
                w.writerow([r["side"], r["seed"], row["epoch"], row["step"], row["loss"], row["lr"]])
    lines = [f"Recipe: {setup['recipe']}", "", "| side | seed | held-out accuracy (flip) | ± over the 10 folds | "
             "final logged loss | wall time | CPU time | peak RSS |", "|---|---|---|---|---|---|---|---|"]
    for r in sorted(records, key=lambda r: (r["side"], r["seed"])):
        final = r["losses"][-1]["loss"] if r["losses"] else float("nan")
        lines.append(f"| {r['side']} | {r['seed']} | {100 * r['accuracy']:.2f} % | {100 * r['fold_std']:.2f} | "
                     f"{final:.4f} | {r['wall_s']:.0f} s | {cpu_of(r):.0f} s | {r['peak_rss_mib']} MiB |")
    lines += ["", "| side | seeds | held-out accuracy, mean ± std over seeds | wall time, mean | CPU time, mean | "
              "peak RSS, mean |", "|---|---|---|---|---|---|"]
    stats = {}
    for side in SIDES:
        mine = [r for r in records if r["side"] == side]
        acc = mean_std([100 * r["accuracy"] for r in mine])
        stats[side] = acc
        wall = mean_std([r["wall_s"] for r in mine])[0]
        cpu = mean_std([cpu_of(r) for r in mine])[0]
        rss = mean_std([r["peak_rss_mib"] for r in mine])[0]
        lines.append(f"| {side} | {len(mine)} | {acc[0]:.2f} ± {acc[1]:.2f} % | {wall:.0f} s | {cpu:.0f} s | "
                     f"{rss:.0f} MiB |")
    (ma, sa), (mp, sp) = stats["actorface"], stats["pytorch"]
    tolerance = max([0.5] + [s for s in (sa, sp) if s == s])  # s == s: not NaN (one seed has no std)
    verdict = "met" if abs(ma - mp) <= tolerance else "NOT met"
    lines += ["", f"Difference of means (ActorFace − PyTorch): {ma - mp:+.2f} points; target |difference| ≤ "
              f"max(0.5, larger seed-std) = {tolerance:.2f}: **{verdict}**."]
    steps = sorted({row["step"] for r in records for row in r["losses"]})
    if steps:
        lines += ["", "Logged loss (arcface_torch's CallBackLogging average since the previous line), mean over "
                  "seeds [min … max]:", "", "| step | ActorFace | PyTorch |", "|---|---|---|"]
        for step in steps:
            cells = []
            for side in SIDES:
                vals = [row["loss"] for r in records if r["side"] == side for row in r["losses"] if row["step"] == step]
                cells.append(f"{statistics.mean(vals):.3f} [{min(vals):.3f} … {max(vals):.3f}]" if vals else "–")
            lines.append(f"| {step} | {cells[0]} | {cells[1]} |")
    with open(os.path.join(run, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arcface-torch", required=True, help="insightface/recognition/arcface_torch (read, not copied)")
    p.add_argument("--data", required=True, help="ImageFolder of aligned 112x112 faces, one folder per identity")
    p.add_argument("--run", required=True, help="working folder: split, held-out .bin, runs, results")
    p.add_argument("--seeds", type=int, nargs="+", default=[2048, 2049, 2050])
    p.add_argument("--sides", nargs="+", choices=SIDES, default=list(SIDES))
    p.add_argument("--actorface", default=os.path.join(REPO, "src/Host/bin/Release/net10.0/actorface"))
    p.add_argument("--python", default=sys.executable, help="the Python with PyTorch")
    p.add_argument("--network", default="mbf")
    p.add_argument("--margin", type=float, nargs=3, default=[1.0, 0.0, 0.4], metavar=("M1", "M2", "M3"))
    p.add_argument("--embedding-size", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--warmup-epochs", type=int, default=1)
    p.add_argument("--frequent", type=int, default=10)
    p.add_argument("--threads", type=int, default=1, help="intra-op threads of each rank")
    p.add_argument("--ranks", type=int, default=1,
                   help="ranks of each side: ActorFace's in one process (workers_per_node), PyTorch's gloo processes")
    p.add_argument("--sample-rate", type=float, default=1.0, help="Partial FC sample rate of both sides")
    p.add_argument("--train-identities", type=int, default=0, help="first K training identities only (0 = all)")
    p.add_argument("--pairs", type=int, default=1200, help="held-out verification pairs (multiple of 20)")
    p.add_argument("--summary-only", action="store_true")
    args = p.parse_args()
    if not os.access(args.actorface, os.X_OK):
        sys.exit(f"--actorface {args.actorface}: not an executable (dotnet build src/Host -c Release)")
    args.arcface_torch = os.path.abspath(args.arcface_torch)
    run = os.path.abspath(args.run)
    os.makedirs(os.path.join(run, "runs"), exist_ok=True)

    train_ids, heldout_ids, images = split_identities(os.path.abspath(args.data), run, args.train_identities)
    full = not args.train_identities and args.epochs == 3 and args.warmup_epochs == 1
    recipe = (f"{args.network}, margin {tuple(args.margin)}, embedding {args.embedding_size}, {args.epochs} epochs "
              f"({args.warmup_epochs} warm-up), batch {args.batch_size} per rank, lr {args.lr}, {args.ranks} rank(s), "
              f"Partial FC sample rate {args.sample_rate}, {args.threads} thread(s) per rank; {len(train_ids)} "
              f"training identities ({images} images, {images // (args.batch_size * args.ranks) * args.epochs} "
              f"steps); held-out: {len(heldout_ids)} other identities, "
              f"{args.pairs} identity-disjoint pairs. "
              + ("All training identities, the issue's 3 epochs (1 warm-up)." if full else "**Reduced** from the "
                 "issue's recipe (3 epochs, 1 warm-up, all training identities)."))
    recipe_path = os.path.join(run, "recipe.txt")
    if os.path.isfile(recipe_path) and open(recipe_path).read() != recipe:
        sys.exit(f"{run} holds runs of another recipe ({recipe_path}): use a fresh --run folder")
    with open(recipe_path, "w") as f:
        f.write(recipe)
    results_path = os.path.join(run, "results.json")
    records = json.load(open(results_path)) if os.path.isfile(results_path) else []
    setup = {"recipe": recipe}
    if not args.summary_only:
        heldout_bin = os.path.join(run, "heldout.bin")
        if not os.path.isfile(heldout_bin):
            subprocess.run([args.actorface, "make-bin", "--images", os.path.join(run, "heldout"), "--pairs",
                            str(args.pairs), "--identity-disjoint", "--out", heldout_bin], check=True, cwd=REPO)
        job = write_job(run, args, train_ids, images)
        for seed in args.seeds:
            for side in args.sides:
                if any(r["side"] == side and r["seed"] == seed for r in records):
                    continue
                records.append(train(side, seed, args, run, job, args.threads))
                with open(results_path, "w") as f:
                    json.dump(records, f, indent=1)
                summarise(run, records, setup)
    summarise(run, records, setup)


if __name__ == "__main__":
    main()
