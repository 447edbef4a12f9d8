"""Plain-PyTorch peer of `actorface gpu-check` check (e): one rank of arcface_torch's train_v2.py step on one GPU
(IResNet + PartialFC_V2 with ArcFace margin, SGD for both groups, fp16 autocast in the backbone with
GradScaler(growth_interval=100), clip_grad_norm 5, fp16_compress_hook rounding of backbone gradients), timed the same
way gpu-check times ActorFace: median step time after warm-up, peak memory reserved by the caching allocator.

  python3 gpu_peer.py --network r50 --classes 1000000 --sample-rate 0.1 --batch 128 --steps 200 [--precision fp16|bf16]

Prints one JSON line: {"samples_per_s": ..., "peak_reserved_bytes": ..., "loss_first": ..., "loss_last": ...}.
"""
import argparse, json, os, statistics, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "bench"))
from pytorch_peer import IResNet  # noqa: E402  (the project's arcface_torch IResNet, copied next to this file in the bundle)

LAYERS = {"r18": [2, 2, 2, 2], "r34": [3, 4, 6, 3], "r50": [3, 4, 14, 3], "r100": [3, 13, 30, 3]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--network", default="r50")
    p.add_argument("--classes", type=int, default=1_000_000)
    p.add_argument("--sample-rate", type=float, default=0.1)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--pool", type=int, default=8, help="distinct batches, cycled (the loss must fall)")
    p.add_argument("--precision", default="fp16", choices=["fp16", "bf16"])
    a = p.parse_args()
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    dev = torch.device("cuda")
    half = torch.float16 if a.precision == "fp16" else torch.bfloat16
    torch.manual_seed(0)
    model = IResNet(LAYERS[a.network]).to(dev).train()
    weight = torch.nn.Parameter(torch.normal(0, 0.01, (a.classes, 512), device=dev))
    opt = torch.optim.SGD([{"params": model.parameters()}, {"params": [weight]}], 0.1, momentum=0.9, weight_decay=5e-4)
    scaler = torch.amp.GradScaler("cuda", growth_interval=100, enabled=a.precision == "fp16")
    gen = torch.Generator().manual_seed(1)
    pool = [(torch.randn(a.batch, 3, 112, 112, generator=gen).pin_memory(),
             torch.randint(0, a.classes, (a.batch,), generator=gen).pin_memory()) for _ in range(a.pool)]
    num_sample = int(a.sample_rate * a.classes)
    times, losses = [], []
    torch.cuda.reset_peak_memory_stats()
    for step in range(a.steps):
        x, y = pool[step % a.pool]
        torch.cuda.synchronize()
        t = time.perf_counter()
        x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
        with torch.autocast("cuda", dtype=half):
            emb = model(x)
        emb = emb.float()
        with torch.no_grad():
            if a.sample_rate < 1:
                positive = torch.unique(y, sorted=True)
                perm = torch.rand(size=[a.classes], device=dev)
                perm[positive] = 2.0
                index = torch.topk(perm, k=num_sample)[1].sort()[0]
                labels = torch.searchsorted(index, y)
            else:
                index, labels = None, y
        w = weight[index] if index is not None else weight
        logits = F.linear(F.normalize(emb), F.normalize(w)).clamp(-1, 1)
        target = logits[torch.arange(a.batch, device=dev), labels].view(-1, 1)
        with torch.no_grad():
            theta = target.arccos()
        logits = logits.scatter(1, labels.view(-1, 1), torch.cos(theta + 0.5) - target.detach() + target) * 64.0
        loss = F.cross_entropy(logits, labels)
        scaler.scale(loss).backward()
        with torch.no_grad():  # DDP fp16_compress_hook with W = 1: backbone gradients rounded to float16
            for q in model.parameters():
                if q.grad is not None:
                    q.grad.copy_(q.grad.half().float())
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad()
        losses.append(loss.item())
        torch.cuda.synchronize()
        if step >= a.warmup:
            times.append(time.perf_counter() - t)
    st = statistics.median(times)
    k = max(1, min(20, len(losses) // 4))
    print(json.dumps({"samples_per_s": a.batch / st, "step_s": st, "peak_reserved_bytes": torch.cuda.max_memory_reserved(),
                      "loss_first": sum(losses[:k]) / k, "loss_last": sum(losses[-k:]) / k,
                      "torch": torch.__version__, "device": torch.cuda.get_device_name()}))


if __name__ == "__main__":
    main()
