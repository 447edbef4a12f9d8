#!/usr/bin/env python3
"""Reference for ActorFace's whole-step parity test (tests/Model.Tests/Training/StepParity/StepParityTests.cs).

Runs arcface_torch's own modules (get_model, CombinedMarginLoss, PartialFC_V2, PolynomialLRWarmup) on PyTorch, CPU,
with train_v2.py's optimiser (one SGD over two parameter groups, momentum 0.9), its clip (5, backbone only) and its
order (backward, clip, step, zero_grad, lr_scheduler.step), on inputs the C# test wrote:

  INPUTS/case.json     network, embedding_size, num_classes, margin_list, sample_rate, lr, weight_decay,
                       warmup_steps, total_steps, steps, report_steps
  INPUTS/backbone.pth  the initial backbone state_dict
  INPUTS/data.pth      images [S,B,3,112,112] float32 (batch s is used at steps s, s+S, ...), labels [S,B] int64,
                       centres [C,D] float32, draws [steps,C] float32 (the uniform draws Partial FC samples with)

and writes, for each report step, the loss, the lr and a fingerprint of every backbone state_dict entry, every
momentum buffer and the Partial FC centres (shape, L2 norm, and the values at fixed positions). The C# test runs
the same inputs through RankTrainer and compares.

Each case runs twice. The float64 run is the reference (the exact result of arcface_torch's algorithm on these
inputs, up to 1e-16 rounding) and every fingerprint carries its "noise": how far PyTorch's own float32 run lands from
it. Training a real network from scratch in float32 is chaotic: on these cases PyTorch's float32 gradients of some
layers are 1e-2 away from float64 after one step and whole tensors are far off after ten, so no float32
implementation, PyTorch's included, can be held to 1e-5 of the exact result on those tensors; the test holds ActorFace
(float32) to max(1e-5, 64 x PyTorch float32's own error) per tensor and reports how many met 1e-5 outright.

One world of one rank (gloo on 127.0.0.1). Without DDP's fp16_compress_hook: with one rank it only rounds the
gradients to float16, which would turn 1e-7 differences into float16 ulps; ActorFace's test runs with
GradientCompression.None for the same reason.

Usage (Debian: apt-get install python3-torch; the arcface_torch folder is insightface/recognition/arcface_torch):
  python3 tools/step_parity.py --arcface-torch DIR --inputs INPUTS --out expected.json
The test does both for you: ACTORFACE_ARCFACE_TORCH=DIR ACTORFACE_STEP_PARITY_REGENERATE=1 dotnet test
tests/Model.Tests --filter StepParity
"""
import argparse
import json
import os
import sys

import torch

SAMPLES = 24  # values per tensor in a fingerprint


def sample_positions(numel):
    if numel <= SAMPLES:
        return list(range(numel))
    return [(k * 2654435761 + 12345) % numel for k in range(SAMPLES)]


def fingerprint(t):
    flat = t.detach().reshape(-1).to(torch.float64)
    pos = sample_positions(flat.numel())
    return {
        "shape": list(t.shape),
        "l2": float(flat.norm()),
        "values": [float(flat[i]) for i in pos],
    }


def relative_error(actual, expected):
    """The C# test's metric (Fingerprint.RelativeError): the norm and every sampled value, relative to the expected
    value floored at the tensor's RMS."""
    numel = 1
    for d in expected["shape"]:
        numel *= d
    floor = max(expected["l2"] / max(numel, 1) ** 0.5, 1e-12)
    error = abs(actual["l2"] - expected["l2"]) / max(expected["l2"], 1e-12)
    for a, e in zip(actual["values"], expected["values"]):
        error = max(error, abs(a - e) / max(abs(e), floor))
    return error


def exact_with_noise(single, double):
    """The float64 run is the reference; each of its fingerprints carries its "noise": how far PyTorch's own float32
    run of the same step is from it. The test holds each tensor to max(1e-5, 64 x noise)."""
    for step, report in double["steps"].items():
        approx = single["steps"][step]
        report["loss_float32"] = approx["loss"]
        for name, fp in report["tensors"].items():
            fp["noise"] = relative_error(approx["tensors"][name], fp)
    return double


def rounded(value):
    if isinstance(value, float):
        return float("%.9g" % value)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def import_arcface_torch(folder):
    if not os.path.isfile(os.path.join(folder, "partial_fc_v2.py")):
        sys.exit(f"{folder}: not an arcface_torch folder (no partial_fc_v2.py)")
    sys.path.insert(0, folder)
    # arcface_torch hard-codes .cuda() in Partial FC; on a CPU-only run it must be the identity.
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    from backbones import get_model
    from losses import CombinedMarginLoss
    from lr_scheduler import PolynomialLRWarmup
    from partial_fc_v2 import PartialFC_V2
    return get_model, CombinedMarginLoss, PolynomialLRWarmup, PartialFC_V2


def init_distributed():
    from torch import distributed
    if not distributed.is_initialized():
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", str(29500 + os.getpid() % 1000))
        distributed.init_process_group("gloo", rank=0, world_size=1)


def run_case(modules, inputs, dtype=torch.float32):
    get_model, CombinedMarginLoss, PolynomialLRWarmup, PartialFC_V2 = modules
    with open(os.path.join(inputs, "case.json")) as f:
        case = json.load(f)
    data = torch.load(os.path.join(inputs, "data.pth"))
    torch.set_default_dtype(dtype)  # Partial FC's all-gather buffers follow the default dtype
    torch.set_num_threads(max(1, torch.get_num_threads()))

    backbone = get_model(case["network"], dropout=0.0, fp16=False, num_features=case["embedding_size"])
    backbone.load_state_dict(torch.load(os.path.join(inputs, "backbone.pth")), strict=True)
    backbone.to(dtype).train()

    m1, m2, m3 = case["margin_list"]
    margin = CombinedMarginLoss(64, m1, m2, m3, 0)
    pfc = PartialFC_V2(margin, case["embedding_size"], case["num_classes"], case["sample_rate"], False)
    with torch.no_grad():
        pfc.weight.copy_(data["centres"])
    pfc.to(dtype).train()

    opt = torch.optim.SGD(
        params=[{"params": backbone.parameters()}, {"params": pfc.parameters()}],
        lr=case["lr"], momentum=0.9, weight_decay=case["weight_decay"])
    scheduler = PolynomialLRWarmup(optimizer=opt, warmup_iters=case["warmup_steps"], total_iters=case["total_steps"])

    draws = iter(data["draws"].to(dtype))
    torch.rand = lambda *args, **kwargs: next(draws).clone()  # Partial FC's only random draw

    images, labels = data["images"].to(dtype), data["labels"]
    report = {}
    for step in range(1, case["steps"] + 1):
        b = (step - 1) % images.shape[0]
        lr = opt.param_groups[0]["lr"]
        loss = pfc(backbone(images[b]), labels[b].clone())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(backbone.parameters(), 5)
        opt.step()
        opt.zero_grad()
        scheduler.step()
        if step in case["report_steps"]:
            report[str(step)] = {"loss": float(loss), "lr": lr, "tensors": snapshot(backbone, pfc, opt)}
    return {"case": case, "steps": report}


def snapshot(backbone, pfc, opt):
    tensors = {}
    for key, t in backbone.state_dict().items():
        tensors["backbone." + key] = fingerprint(t)
    for key, p in backbone.named_parameters():
        state = opt.state.get(p, {})
        if "momentum_buffer" in state:
            tensors["momentum.backbone." + key] = fingerprint(state["momentum_buffer"])
    tensors["partial_fc.weight"] = fingerprint(pfc.weight)
    tensors["momentum.partial_fc.weight"] = fingerprint(opt.state[pfc.weight]["momentum_buffer"])
    return tensors


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arcface-torch", required=True, help="insightface/recognition/arcface_torch")
    parser.add_argument("--inputs", required=True, help="folder written by the C# test")
    parser.add_argument("--float64", action="store_true",
                        help="only the float64 run (by default also float32, whose distance is each tensor's noise)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    modules = import_arcface_torch(os.path.abspath(args.arcface_torch))
    init_distributed()
    if args.float64:
        result = run_case(modules, args.inputs, torch.float64)
    else:
        result = exact_with_noise(run_case(modules, args.inputs, torch.float32), run_case(modules, args.inputs, torch.float64))
    result["torch"] = torch.__version__
    result["generator"] = "tools/step_parity.py"
    with open(args.out, "w") as f:
        json.dump(rounded(result), f, separators=(",", ":"))


if __name__ == "__main__":
    main()
