#!/usr/bin/env python3
"""Regenerates the golden files of ../shared/golden from arcface_torch's own modules on PyTorch (CPU).

    python3 tools/make_goldens.py --arcface-torch PATH/TO/insightface/recognition/arcface_torch --out DIR
        [--celeba PATH/TO/celeba-subset-112] [--only r18,vit_t,margin,pfc,lr]

Nothing of arcface_torch is copied here: its folder is put on sys.path and its backbones, losses.py,
partial_fc_v2.py and lr_scheduler.py are imported as they are. Seeds and inputs are the ones the C# tests
assume (see each file's "what"/"notes"). Made with PyTorch 1.13 (Debian python3-torch), where it reproduces
the two .pth files bit for bit; tests/Model.Tests/Goldens/MakeGoldensScriptTests.cs compares every file numerically.

vit_t_forward.json also holds the ViT-T embedding of one CelebA face; that entry needs --celeba (the public
CelebA subset of the reference data) and is left out, with a warning, without it.
"""
import argparse
import json
import os
import sys
import tempfile
import types
import warnings

try:
    import torch
except ImportError:
    print(f"make_goldens.py: PyTorch is not installed for {sys.executable} (Debian: apt-get install python3-torch)", file=sys.stderr)
    sys.exit(2)

FILES = {
    "r18": ["r18_seed0.pth", "r18_state_dict_keys.json", "r18_forward.json"],
    "vit_t": ["vit_t_seed0.pth", "vit_t_forward.json"],
    "margin": ["margin_arcface.json", "margin_cosface.json"],
    "pfc": ["pfc_sr1.json", "pfc_sr05.json"],
    "lr": ["lr_poly_warmup.json"],
}
CELEBA_FACE = "7201/001085.jpg"


def floats(t):
    return t.detach().double().flatten().tolist()


def stats(t, first=8):
    t = t.detach()
    return {"shape": list(t.shape), "sum": t.double().sum().item(), "abs_sum": t.double().abs().sum().item(),
            f"first{first}": t.flatten()[:first].tolist()}


def fixed_input(batch):
    """x[b, c, h, w] = float32((((i*7919 + 104729*b) % 2001) - 1000) / 1000), i = c*112*112 + h*112 + w."""
    i = torch.arange(3 * 112 * 112, dtype=torch.int64)
    rows = [(((i * 7919 + 104729 * b) % 2001) - 1000).double() / 1000 for b in range(batch)]
    return torch.stack(rows).float().view(batch, 3, 112, 112)


def write_json(path, data, indent=None):
    with open(path + ".tmp", "w") as f:
        if indent is None:
            json.dump(data, f, separators=(",", ":"))
        else:
            json.dump(data, f, indent=indent)
    os.replace(path + ".tmp", path)  # never a half-written golden


def save_state_dict(model, path):
    """torch.save names the archive's root folder after the file, so write under the final name in a temp folder."""
    with tempfile.TemporaryDirectory(dir=os.path.dirname(path) or ".") as tmp:
        torch.save(model.state_dict(), os.path.join(tmp, os.path.basename(path)))
        os.replace(os.path.join(tmp, os.path.basename(path)), path)


def install_timm_stand_in():
    """vit.py imports DropPath, to_2tuple and trunc_normal_ from timm. Without timm, a stand-in with PyTorch's own
    trunc_normal_ (the same algorithm and RNG draws as timm's) is used; it reproduces vit_t_seed0.pth bit for bit."""
    try:
        import timm.models.layers  # noqa: F401
        return
    except ImportError:
        print("note: timm is not installed; using a stand-in for timm.models.layers", file=sys.stderr)

    class DropPath(torch.nn.Module):  # stochastic depth; identity in eval mode, which is all the goldens use
        def __init__(self, drop_prob=0.0):
            super().__init__()
            self.drop_prob = drop_prob

        def forward(self, x):
            if self.drop_prob == 0.0 or not self.training:
                return x
            keep = 1 - self.drop_prob
            return x * x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep) / keep

    layers = types.ModuleType("timm.models.layers")
    layers.DropPath = DropPath
    layers.to_2tuple = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    layers.trunc_normal_ = lambda t, mean=0.0, std=1.0, a=-2.0, b=2.0: torch.nn.init.trunc_normal_(t, mean, std, a, b)
    timm, models = types.ModuleType("timm"), types.ModuleType("timm.models")
    timm.models, models.layers = models, layers
    sys.modules.update({"timm": timm, "timm.models": models, "timm.models.layers": layers})


# ---------------------------------------------------------------- IResNet-18

R18_WHAT = "iresnet18(fp16=False, num_features=512)"
R18_STAGES = ["conv1", "bn1", "prelu", "layer1", "layer2", "layer3", "layer4", "bn2", "fc", "features"]
R18_GRADS = ["conv1.weight", "bn1.weight", "prelu.weight", "layer1.0.conv1.weight", "layer4.1.bn3.bias", "bn2.weight",
             "fc.weight", "fc.bias", "features.bias"]
R18_FORWARD_NOTES = [
    "output_eval: model.eval(), torch.no_grad(); row 0 is the batch-0 image (compare per row; eval is per-sample).",
    "Init-time BN running stats are mean 0 / var 1, so eval BN = x/sqrt(1+1e-5)*gamma+beta; conv weights are N(0,0.1) (not Kaiming) so activations grow a lot with depth: compare with RELATIVE tolerance.",
    "eval_stage_stats: sum/abs_sum/first8 (float64) of the outputs of the top-level modules, for locating a divergence.",
    "output_train_mode_batch4: same weights, model.train() on input b=0..3 (BatchNorm uses batch stats, biased var for normalizing; momentum 0.1 running update with unbiased var), dropout p=0.",
    "train_loss = sum(output_train_mode_batch4 * P)/4 with P[b,j] = float32((((b*512+j)*31) % 17 - 8)/8); train_grad_stats = stats of d train_loss / d param for a few params (features.weight is frozen, has no grad). fc.bias and layer4.1.bn3.bias feed a train-mode BatchNorm, so their true gradient is 0 and the stored values (~1e-5 abs_sum) are float noise: compare those with an absolute tolerance.",
]
R18_KEYS_NOTES = [
    "Order = state_dict order (also the order inside r18_seed0.pth).",
    "sum/sum_sq/first4 are float64 checksums of each tensor, to verify a loader.",
    "features.weight (BatchNorm1d) has requires_grad=False (frozen at 1.0) but is in the state_dict.",
    "num_batches_tracked entries are int64 scalars (shape []).",
]


def make_r18(out):
    from backbones.iresnet import iresnet18
    torch.manual_seed(0)
    model = iresnet18(False, fp16=False, num_features=512)
    save_state_dict(model, os.path.join(out, "r18_seed0.pth"))

    entries = [{"key": k, "shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "numel": t.numel(),
                "sum": t.double().sum().item(), "sum_sq": (t.double() ** 2).sum().item(), "first4": floats(t)[:4]}
               for k, t in model.state_dict().items()]
    write_json(os.path.join(out, "r18_state_dict_keys.json"), {
        "what": R18_WHAT + " state_dict after torch.manual_seed(0) + constructor init",
        "num_entries": len(entries),
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "num_trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "entries": entries, "notes": R18_KEYS_NOTES})

    x2 = fixed_input(2)
    stage_stats = {}
    hooks = [getattr(model, name).register_forward_hook(
        lambda _m, _i, y, name=name: stage_stats.__setitem__(name, stats(y))) for name in R18_STAGES]
    model.eval()
    with torch.no_grad():
        output_eval = model(x2)
    for h in hooks:
        h.remove()

    model.train()
    x4 = fixed_input(4)
    output_train = model(x4)
    b, j = torch.meshgrid(torch.arange(4), torch.arange(512), indexing="ij")
    p = ((((b * 512 + j) * 31) % 17 - 8).double() / 8).float()
    loss = (output_train * p).sum() / 4
    loss.backward()
    params = dict(model.named_parameters())
    write_json(os.path.join(out, "r18_forward.json"), {
        "what": R18_WHAT + ", torch.manual_seed(0) init (= r18_seed0.pth), fixed input",
        "input_formula": "x[b, c, h, w] = float32((((i*7919 + 104729*b) % 2001) - 1000) / 1000), i = c*112*112 + h*112 + w (exact integer math, then /1000 in float64, then cast)",
        "input_shape_eval": list(x2.shape), "input_shape_train": list(x4.shape),
        "input_first8": x2.flatten()[:8].tolist(), "input_sum": x2.double().sum().item(),
        "output_eval": output_eval.tolist(),
        "eval_stage_stats": {name: stage_stats[name] for name in R18_STAGES},
        "output_train_mode_batch4": output_train.detach().tolist(),
        "train_loss": loss.item(),
        "train_grad_stats": {name: stats(params[name].grad) for name in R18_GRADS},
        "bn_running_after_train_forward": {
            "running_mean_first8": model.bn1.running_mean[:8].tolist(),
            "running_var_first8": model.bn1.running_var[:8].tolist(),
            "features_running_var_first8": model.features.running_var[:8].tolist()},
        "notes": R18_FORWARD_NOTES})


# ---------------------------------------------------------------- ViT-T

def make_vit_t(out, celeba):
    install_timm_stand_in()
    from backbones import get_model
    torch.manual_seed(0)
    model = get_model("vit_t", num_features=512)
    save_state_dict(model, os.path.join(out, "vit_t_seed0.pth"))
    model.eval()
    with torch.no_grad():
        output = model(fixed_input(2))
        faces = {}
        if celeba:
            import numpy as np
            from PIL import Image
            rgb = np.asarray(Image.open(os.path.join(celeba, CELEBA_FACE)).convert("RGB"))
            face = ((torch.from_numpy(rgb.copy()).permute(2, 0, 1).float() / 255 - 0.5) / 0.5).unsqueeze(0)
            faces[CELEBA_FACE] = model(face)[0].tolist()
        else:
            print("warning: no --celeba; vit_t_forward.json is written without celeba_faces_eval", file=sys.stderr)
    data = {
        "what": "arcface_torch vit_t = VisionTransformer(img_size=112, patch_size=9, num_classes=512, embed_dim=256, depth=12, num_heads=8, drop_path_rate=0.1, norm_layer='ln', mask_ratio=0.1), torch.manual_seed(0) init (= vit_t_seed0.pth), eval mode (no masking, no drop path), fixed input as r18_forward.json",
        "input_shape": [2, 3, 112, 112],
        "state_dict": [{"key": k, "shape": list(t.shape)} for k, t in model.state_dict().items()],
        "output_eval": stats(output), "output_eval_rows": output.tolist()}
    if faces:
        data["celeba_faces_eval"] = faces
        data["celeba_faces_preprocessing"] = "PIL RGB, (x/255-0.5)/0.5, NCHW; paths relative to shared/data/celeba-subset-112"
    write_json(os.path.join(out, "vit_t_forward.json"), data, indent=1)


# ---------------------------------------------------------------- margins, Partial FC (one gloo rank)

MARGIN_NOTES = [
    "cos is the input cosine matrix (8x20); label -1 = row has no positive class here.",
    "modified_logits = s*cos(acos(c)+m2) at target (ArcFace) or s*(c-m3) (CosFace), s*c elsewhere; -1 rows just s*c.",
    "ArcFace: NO easy_margin / theta threshold: a target with acos(c)+m2>pi still gets cos(acos(c)+m2) (row 4, c=-0.95).",
    "ArcFace gradient is STRAIGHT-THROUGH: arccos/cos run in-place under torch.no_grad, so dL/dcos = s*dL/dlogit at every entry incl. the target (no d cos(theta+m)/d cos theta factor). CosFace gradient is the same form (exact).",
    "loss_ce/grad_cos_ce: F.cross_entropy(logits, labels, ignore_index=-1), mean over the 7 valid rows.",
    "loss_dist/grad_cos_dist: DistCrossEntropy of partial_fc_v2.py, 1 rank, labels (N,1): mean over ALL 8 rows of -log(max(p_target, 1e-30)) with p = float32 exp(l-max)/sum. The -1 row contributes -log(1e-30) = 69.0776 and its gradient row is softmax/N (not zero). Valid rows: (softmax-onehot)/N.",
    "CAP: in loss_dist every row whose float32 target probability is < 1e-30 (or underflows to 0) contributes exactly 69.0776 (rows 2,4,5,6 here), so loss_dist != a log-softmax CE; the gradient ignores the cap (always softmax-onehot).",
    "float64: same inputs evaluated in float64 (use for tight formula checks).",
]
MARGIN_LABELS = [3, 0, 19, -1, 7, 7, 12, 5]


def margin_cosines():
    """Uniform(-1, 1) float64 cosines (seed 0) with edge cases at targets: c = 1, -0.95 (theta + m > pi), 0, -1."""
    torch.manual_seed(0)
    cos = torch.rand(8, 20, dtype=torch.float64) * 2 - 1
    for (row, col), value in {(0, 1): 1.0, (1, 0): 1.0, (4, 7): -0.95, (5, 7): 0.0, (6, 12): -1.0}.items():
        cos[row, col] = value
    return cos


def margin_golden(name, s, m2, m3):
    from losses import CombinedMarginLoss
    from partial_fc_v2 import DistCrossEntropy
    margin = CombinedMarginLoss(s, 1.0, m2, m3)
    cos64 = margin_cosines()
    labels = torch.tensor(MARGIN_LABELS)

    def ce(cos):
        leaf = cos.clone().requires_grad_(True)
        logits = margin(leaf.clone(), labels)
        loss = torch.nn.functional.cross_entropy(logits, labels, ignore_index=-1)
        loss.backward()
        return logits.detach().clone(), loss.item(), leaf.grad

    logits, loss_ce, grad_ce = ce(cos64.float())
    logits64, loss_ce64, grad_ce64 = ce(cos64)
    leaf = cos64.float().requires_grad_(True)
    loss_dist = DistCrossEntropy()(margin(leaf.clone(), labels.view(-1, 1)), labels.view(-1, 1))
    loss_dist.backward()
    return {
        "what": f"CombinedMarginLoss({name}) from losses.py", "s": s, "m1": 1.0, "m2": m2, "m3": m3,
        "interclass_filtering_threshold": 0, "labels": MARGIN_LABELS,
        "cos": cos64.float().tolist(), "cos_float64": cos64.tolist(),
        "modified_logits": logits.tolist(), "loss_ce": loss_ce, "grad_cos_ce": grad_ce.tolist(),
        "loss_dist": loss_dist.item(), "grad_cos_dist": leaf.grad.tolist(),
        "float64": {"modified_logits": logits64.tolist(), "loss_ce": loss_ce64, "grad_cos_ce": grad_ce64.tolist()},
        "notes": MARGIN_NOTES}


PFC_LABELS = [0, 7, 7, 13, 21, 34, 49, 42]
PFC_SEED = 2024
PFC_NOTES = {
    1.0: [
        "loss = DistCrossEntropy(CombinedMarginLoss(clamp(linear(normalize(emb), normalize(W)),-1,1), labels)), mean over batch.",
        "grad_weight is d loss / d W (raw, un-normalized weight); grad_embeddings is d loss / d emb (raw).",
        "cos_logits = the clamped cosine matrix before the margin (8x50).",
        "weight_after_1_sgd_step: torch.optim.SGD(lr=0.1, momentum=0.9, weight_decay=5e-4).step() from a fresh optimizer (first step: buf = grad + wd*W; W -= lr*buf).",
    ],
    0.5: [
        "num_sample = int(0.5*50) = 25. Sampling: perm = torch.rand(num_local) (CPU generator, even on GPU), perm[unique positive labels] = 2.0, index = sort(topk(perm, num_sample).indices).",
        "rand_perm_values: the torch.rand(50) values drawn right after torch.manual_seed(seed); sampled_index: the resulting sorted class set (force this set in C#).",
        "remapped_labels = searchsorted(sampled_index, labels): labels become positions inside the sampled set; logits are 8 x 25.",
        "cos_logits = clamped cosines vs the sampled weight rows (8x25), columns in sampled_index order.",
        "grad_weight is the full 50x16 dense tensor; rows not in sampled_index are exactly 0 (but SGD weight decay/momentum still touch ALL rows: see weight_after_1_sgd_step).",
    ],
}


def pfc_golden(sample_rate):
    from losses import CombinedMarginLoss
    from partial_fc_v2 import PartialFC_V2
    margin = CombinedMarginLoss(64.0, 1.0, 0.5, 0.0)
    seen = {}

    def recording_margin(logits, labels):  # the clamped cosines and the (remapped) labels the margin receives
        seen["cos"], seen["labels"] = logits.detach().clone(), labels.detach().view(-1).clone()
        return margin(logits, labels)

    torch.manual_seed(1)
    pfc = PartialFC_V2(recording_margin, embedding_size=16, num_classes=50, sample_rate=sample_rate)
    embeddings = torch.randn(8, 16).requires_grad_(True)
    weight = pfc.weight.detach().clone()
    data = {"num_classes": 50, "embedding_size": 16, "batch": 8, "world_size": 1, "rank": 0,
            "margin": {"type": "CombinedMarginLoss", "s": 64.0, "m1": 1.0, "m2": 0.5, "m3": 0.0},
            "weight": weight.tolist(), "embeddings": embeddings.detach().tolist(), "labels": PFC_LABELS}
    if sample_rate < 1:
        torch.manual_seed(PFC_SEED)
        perm = torch.rand(50)
        torch.manual_seed(PFC_SEED)
    loss = pfc(embeddings, torch.tensor(PFC_LABELS))
    loss.backward()
    data.update({"what": f"PartialFC_V2 sample_rate={sample_rate}, 1 rank gloo", "sample_rate": sample_rate,
                 "loss": loss.item(), "grad_embeddings": embeddings.grad.tolist(), "grad_weight": pfc.weight.grad.tolist(),
                 "cos_logits": seen["cos"].tolist()})
    if sample_rate < 1:
        data.update({"sampled_index": pfc.weight_index.tolist(), "num_sample": pfc.num_sample,
                     "rand_perm_values": perm.tolist(), "remapped_labels": seen["labels"].tolist(), "seed": PFC_SEED})
    torch.optim.SGD([pfc.weight], lr=0.1, momentum=0.9, weight_decay=5e-4).step()
    data.update({"weight_after_1_sgd_step": pfc.weight.detach().tolist(), "notes": PFC_NOTES[sample_rate]})
    return data


def with_one_gloo_rank(action):
    """partial_fc_v2 all-reduces and moves tensors with .cuda(): one gloo rank on the CPU, .cuda() a no-op."""
    from torch import distributed
    cuda = torch.Tensor.cuda
    if not torch.cuda.is_available():
        torch.Tensor.cuda = lambda self, *args, **kwargs: self
    with tempfile.TemporaryDirectory() as tmp:
        distributed.init_process_group("gloo", init_method="file://" + os.path.join(tmp, "store"), rank=0, world_size=1)
        try:
            action()
        finally:
            distributed.destroy_process_group()
            torch.Tensor.cuda = cuda


def make_margin(out):
    def run():
        write_json(os.path.join(out, "margin_arcface.json"), margin_golden("arcface", 64.0, 0.5, 0.0))
        write_json(os.path.join(out, "margin_cosface.json"), margin_golden("cosface", 64.0, 0.0, 0.4))
    with_one_gloo_rank(run)


def make_pfc(out):
    def run():
        write_json(os.path.join(out, "pfc_sr1.json"), pfc_golden(1.0))
        write_json(os.path.join(out, "pfc_sr05.json"), pfc_golden(0.5))
    with_one_gloo_rank(run)


# ---------------------------------------------------------------- LR schedule

LR_NOTES = [
    "Index k = scheduler.last_epoch = number of scheduler.step() calls made; value = get_last_lr()[0] (index 0 = right after construction).",
    "QUIRK: at k=0 lr is the BASE lr 0.1 (constructor's initial step returns group['lr'] because last_epoch==0), not 0. train_v2.py runs its first iteration with lr=0.1, then calls step() -> 0.01 for the 2nd iteration.",
    "Warmup k in 1..10: base*k/10. Decay k in 11..100 is CHAINED: lr_k = lr_{k-1} * ((1-(k-w)/(t-w)) / (1-(k-1-w)/(t-w)))**power (float64 Python math), so values differ from closed_form in the last ulps; lr_100 = 0 and k>100 keeps the last lr (0).",
]


def make_lr(out):
    from lr_scheduler import PolynomialLRWarmup
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = PolynomialLRWarmup(optimizer, warmup_iters=10, total_iters=100, power=2)
    lrs, closed = [scheduler.get_last_lr()[0]], [scheduler._get_closed_form_lr()[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()": no training happens here
        for _ in range(120):
            scheduler.step()
            lrs.append(scheduler.get_last_lr()[0])
            closed.append(scheduler._get_closed_form_lr()[0])
    write_json(os.path.join(out, "lr_poly_warmup.json"), {
        "what": "lr_scheduler.PolynomialLRWarmup(SGD(lr=0.1), warmup_iters=10, total_iters=100, power=2)",
        "base_lr": 0.1, "warmup_iters": 10, "total_iters": 100, "power": 2,
        "lr_by_last_epoch_0_to_30": lrs[:31],
        "lr_later": {str(k): lrs[k] for k in [31, 40, 50, 55, 75, 90, 99, 100, 101, 110, 120]},
        "lr_all_0_to_120": lrs, "closed_form_0_to_120": closed, "notes": LR_NOTES})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arcface-torch", required=True, help="insightface's recognition/arcface_torch folder")
    parser.add_argument("--out", required=True, help="folder to write the golden files to (created)")
    parser.add_argument("--celeba", help="celeba-subset-112 folder, for the ViT-T face embedding in vit_t_forward.json")
    parser.add_argument("--only", default=",".join(FILES), help="comma-separated groups: " + ", ".join(FILES))
    args = parser.parse_args()

    groups = [g for g in args.only.split(",") if g]
    bad = [g for g in groups if g not in FILES]
    if bad:
        parser.error(f"unknown group(s) {', '.join(bad)}; choose from {', '.join(FILES)}")
    for module in ["losses.py", "partial_fc_v2.py", "lr_scheduler.py", "backbones/iresnet.py"]:
        if not os.path.isfile(os.path.join(args.arcface_torch, module)):
            parser.error(f"--arcface-torch {args.arcface_torch}: no {module} there (expected insightface's recognition/arcface_torch)")
    if args.celeba and not os.path.isfile(os.path.join(args.celeba, CELEBA_FACE)):
        parser.error(f"--celeba {args.celeba}: no {CELEBA_FACE} there")
    sys.path.insert(0, os.path.abspath(args.arcface_torch))
    os.makedirs(args.out, exist_ok=True)

    makers = {"r18": make_r18, "vit_t": lambda out: make_vit_t(out, args.celeba),
              "margin": make_margin, "pfc": make_pfc, "lr": make_lr}
    for group in groups:
        makers[group](args.out)
        print(f"{group}: wrote {', '.join(FILES[group])} to {args.out}")
    print(f"PyTorch {torch.__version__}")


if __name__ == "__main__":
    main()
