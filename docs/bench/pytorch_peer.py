"""The PyTorch side of `docs/performance.md`: arcface_torch's IResNet and Partial FC v2 step, timed like
`actorface bench backbone` / `bench pfc` on the same machine (Debian 12: apt install python3-torch = 1.13.1).

  python3 docs/bench/pytorch_peer.py backbone r18 infer 32
  python3 docs/bench/pytorch_peer.py pfc 1000000 0.1 128
  python3 docs/bench/pytorch_peer.py backbone mbf train 32            # mbf: arcface_torch's own MobileFaceNet (*)
  python3 docs/bench/pytorch_peer.py backbone r18 train 32 bf16       # torch.autocast("cpu", bfloat16)
  TRACE_MEMORY=1 python3 docs/bench/pytorch_peer.py backbone r18 train 32   # + RSS and heap after each phase
  python3 docs/bench/pytorch_peer.py folder ../shared/data/celeba-subset-112 mbf 64 [steps]   # the real-data loop
  python3 docs/bench/pytorch_peer.py onnx ../shared/data/models/fr_feature.onnx ../shared/data/celeba-1200pairs.bin [THREADS [PAIRS]]

(*) mbf and the folder loop import arcface_torch's backbones, losses.py and partial_fc_v2.py as they are from
ACTORFACE_ARCFACE_TORCH (default /tmp/aft/recognition/arcface_torch); nothing of it is copied here.

glibc malloc is told to keep memory (the fair mode, as the issue asks): run with
MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=18446744073709551615.
"""
import os, resource, statistics, sys, time
import torch
from torch import nn
import torch.nn.functional as F

torch.set_num_threads(2)


class IBasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes, eps=1e-05)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, eps=1e-05)
        self.prelu = nn.PReLU(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes, eps=1e-05)
        self.downsample = downsample

    def forward(self, x):
        y = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return y + (self.downsample(x) if self.downsample is not None else x)


class IResNet(nn.Module):
    def __init__(self, layers, num_features=512):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64, eps=1e-05)
        self.prelu = nn.PReLU(64)
        self.layer1 = self._make(64, layers[0])
        self.layer2 = self._make(128, layers[1])
        self.layer3 = self._make(256, layers[2])
        self.layer4 = self._make(512, layers[3])
        self.bn2 = nn.BatchNorm2d(512, eps=1e-05)
        self.dropout = nn.Dropout(p=0.0)
        self.fc = nn.Linear(512 * 7 * 7, num_features)
        self.features = nn.BatchNorm1d(num_features, eps=1e-05)
        nn.init.constant_(self.features.weight, 1.0)
        self.features.weight.requires_grad = False

    def _make(self, planes, blocks):
        down = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, 2, bias=False), nn.BatchNorm2d(planes, eps=1e-05))
        layers = [IBasicBlock(self.inplanes, planes, 2, down)]
        self.inplanes = planes
        layers += [IBasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.prelu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(torch.flatten(self.bn2(x), 1))
        return self.features(self.fc(x))


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def arcface_torch():
    path = os.environ.get("ACTORFACE_ARCFACE_TORCH", "/tmp/aft/recognition/arcface_torch")
    if not os.path.isfile(os.path.join(path, "backbones", "mobilefacenet.py")):
        sys.exit(f"ACTORFACE_ARCFACE_TORCH={path}: not insightface's recognition/arcface_torch folder")
    if path not in sys.path:
        sys.path.insert(0, path)
    return path


def network_module(network):
    if network == "mbf":
        arcface_torch()
        from backbones import get_model
        return get_model("mbf", num_features=512)
    return IResNet({"r18": [2, 2, 2, 2], "r50": [3, 4, 14, 3]}[network])


class _MallInfo2(__import__("ctypes").Structure):
    _fields_ = [(n, __import__("ctypes").c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


_peak_in_use = [0, None]


def _mallinfo2():
    import ctypes
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    return libc.mallinfo2


def _sample_in_use():
    info = _mallinfo2()
    while True:
        m = info()
        _peak_in_use[0] = max(_peak_in_use[0], m.uordblks + m.hblkhd)
        time.sleep(0.001)


def trace_memory(step, phase):
    """The same line as `actorface bench backbone --trace-memory` (stderr): RSS, glibc's heap size and bytes in use,
    and the most bytes in use since the last line (sampled every millisecond)."""
    if not os.environ.get("TRACE_MEMORY"):
        return
    if _peak_in_use[1] is None:
        import threading
        _peak_in_use[1] = threading.Thread(target=_sample_in_use, daemon=True)
        _peak_in_use[1].start()
    m = _mallinfo2()()
    rss = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    peak, _peak_in_use[0] = _peak_in_use[0], 0
    print(f"memory step={step} phase={phase} rss_mib={rss >> 20} heap_mib={(m.arena + m.hblkhd) >> 20} "
          f"in_use_mib={(m.uordblks + m.hblkhd) >> 20} peak_in_use_mib={peak >> 20}", file=sys.stderr)


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def backbone(network, mode, batch, dtype="fp32", steps=5, warmup=2):
    torch.manual_seed(0)
    model = network_module(network)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == "bf16")
    images = torch.randn(batch, 3, 112, 112)
    sgd = torch.optim.SGD(model.parameters(), 0.1, momentum=0.9, weight_decay=5e-4)
    model.train(mode == "train")
    times = []
    trace_memory(-1, "start")
    for i in range(warmup + steps):
        t = time.perf_counter()
        if mode == "train":
            sgd.zero_grad()
            with autocast:
                out = model(images)
            trace_memory(i, "forward")
            out.float().pow(2).mean().backward()
            trace_memory(i, "backward")
            sgd.step()
            trace_memory(i, "step")
            del out
        else:
            with torch.no_grad(), autocast:
                model(images)
        trace_memory(i, "end")
        if i >= warmup:
            times.append(time.perf_counter() - t)
    s = statistics.median(times)
    print(f"pytorch backbone: network={network} mode={mode} dtype={dtype} batch={batch} torch={torch.__version__} threads={torch.get_num_threads()} "
          f"step_s={s:.4f} samples_per_s={batch / s:.2f} peak_rss_mib={peak_rss_mib()}")


def pfc(classes, sample_rate, batch, steps=5, warmup=2, d=512, s=64.0, m=0.5):
    """One rank of arcface_torch's PartialFC_V2 (sample, normalise, linear, ArcFace margin, softmax CE, backward) and
    the SGD step over the whole class matrix, as train_v2.py's optimizer does."""
    torch.manual_seed(0)
    weight = torch.nn.Parameter(torch.normal(0, 0.01, (classes, d)))
    sgd = torch.optim.SGD([weight], 0.1, momentum=0.9, weight_decay=5e-4)
    num_sample = int(sample_rate * classes)
    times = []
    for i in range(warmup + steps):
        emb = torch.randn(batch, d, requires_grad=True)
        labels = torch.randint(0, classes, (batch,))
        t = time.perf_counter()
        if sample_rate < 1:
            with torch.no_grad():
                positive = torch.unique(labels, sorted=True)
                perm = torch.rand(size=[classes])
                perm[positive] = 2.0
                index = torch.topk(perm, k=num_sample)[1].sort()[0]
                labels = torch.searchsorted(index, labels)
            w = weight[index]
        else:
            w = weight
        logits = F.linear(F.normalize(emb), F.normalize(w)).clamp(-1, 1)
        target = logits[torch.arange(batch), labels].view(-1, 1)
        with torch.no_grad():
            theta = target.arccos()
        logits = logits.scatter(1, labels.view(-1, 1), torch.cos(theta + m) - target.detach() + target) * s
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        sgd.step()
        sgd.zero_grad()
        if i >= warmup:
            times.append(time.perf_counter() - t)
    st = statistics.median(times)
    print(f"pytorch pfc: classes={classes} sample_rate={sample_rate} batch={batch} torch={torch.__version__} "
          f"step_s={st:.4f} samples_per_s={batch / st:.1f} peak_rss_mib={peak_rss_mib()}")


class FolderImages(torch.utils.data.Dataset):
    """arcface_torch's ImageFolder path (dataset.py: RandomHorizontalFlip, ToTensor, Normalize 0.5/0.5), decoded
    with OpenCV because Debian's torch has no torchvision."""

    def __init__(self, root):
        classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
        self.items = [(os.path.join(root, c, f), i) for i, c in enumerate(classes)
                      for f in sorted(os.listdir(os.path.join(root, c)))]
        self.classes = len(classes)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        import cv2
        path, label = self.items[index]
        rgb = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        if torch.rand(1).item() < 0.5:
            rgb = rgb[:, ::-1]
        x = torch.from_numpy(rgb.copy()).permute(2, 0, 1).float().div_(255).sub_(0.5).div_(0.5)
        return x, label


def folder(root, network, batch, steps=12, warmup=3, workers=2):
    """train_v2.py's loop on one rank: DataLoader over an ImageFolder, backbone, CombinedMarginLoss (CosFace
    0.4, the celeba_cpu.conf margins) inside PartialFC_V2 (sample rate 1.0), SGD with momentum; times each step
    from one batch to the next (data wait included) and counts minor page faults per step after warm-up."""
    arcface_torch()
    import torch.distributed as dist
    from losses import CombinedMarginLoss
    from partial_fc_v2 import PartialFC_V2
    if not dist.is_initialized():
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ.setdefault("MASTER_PORT", "29561")
        dist.init_process_group("gloo", rank=0, world_size=1)
    if not torch.cuda.is_available():
        torch.Tensor.cuda = lambda self, *args, **kwargs: self  # partial_fc_v2 hard-codes .cuda()
    torch.manual_seed(0)
    data = FolderImages(root)
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True,
                                         persistent_workers=workers > 0)
    model = network_module(network).train()
    margin = CombinedMarginLoss(64, 1.0, 0.0, 0.4, 0)
    pfc = PartialFC_V2(margin, 512, data.classes, 1.0, False).train()
    sgd = torch.optim.SGD([{"params": model.parameters()}, {"params": pfc.parameters()}], lr=0.1, momentum=0.9,
                          weight_decay=5e-4)
    times, faults, step = [], [], 0
    t, f = time.perf_counter(), minor_faults()
    while step < warmup + steps:
        for images, labels in loader:
            loss = pfc(model(images), labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5)
            sgd.step()
            sgd.zero_grad()
            now, nf = time.perf_counter(), minor_faults()
            if step >= warmup:
                times.append(now - t)
                faults.append(nf - f)
            t, f, step = now, nf, step + 1
            if step >= warmup + steps:
                break
    s = statistics.median(times)
    print(f"pytorch folder: network={network} batch={batch} workers={workers} torch={torch.__version__} "
          f"threads={torch.get_num_threads()} step_s={s:.4f} samples_per_s={batch / s:.2f} "
          f"minor_faults_per_step={statistics.median(faults):.0f} peak_rss_mib={peak_rss_mib()}")
def onnx_opencv(model, bin_path, threads=2, pairs=0):
    """The OpenCV dnn side of `actorface bench onnx-eval`: every face of a verification bin and its mirror through an
    ONNX model one at a time (batch 1, as the graph declares), with the model's own preprocessing ((x - 127) / 128,
    RGB; data/README.md section 4). JPEG decoding happens before the clock starts, as in ActorFace's eval."""
    import pickle
    import cv2
    import numpy as np
    cv2.setNumThreads(threads)
    with open(bin_path, "rb") as f:
        bins, issame = pickle.load(f, encoding="bytes")
    if pairs > 0:  # the first N pairs, as `bench onnx-eval --pairs N`
        bins, issame = bins[:2 * pairs], issame[:pairs]
    faces = [cv2.cvtColor(cv2.imdecode(np.frombuffer(bytes(b), np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for b in bins]
    faces += [np.ascontiguousarray(f[:, ::-1]) for f in faces]
    net = cv2.dnn.readNetFromONNX(model)
    net.setInput(cv2.dnn.blobFromImage(faces[0], 1 / 128.0, (112, 112), (127, 127, 127)))
    net.forward()  # warm-up: the first run plans the graph
    out = np.empty((len(faces), 512), np.float32)
    t, cpu = time.perf_counter(), time.process_time()
    for i, face in enumerate(faces):
        net.setInput(cv2.dnn.blobFromImage(face, 1 / 128.0, (112, 112), (127, 127, 127)))
        out[i] = net.forward().reshape(-1)
    s, cpu = time.perf_counter() - t, time.process_time() - cpu
    n = len(faces) // 2
    emb = out[:n].astype(np.float64) + out[n:]
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    cos = np.sum(emb[0::2] * emb[1::2], axis=1)
    same = np.array(issame, bool)
    print(f"opencv onnx-eval: model={model} bin={bin_path} opencv={cv2.__version__} threads={cv2.getNumThreads()} "
          f"inferences={len(faces)} seconds={s:.2f} inferences_per_s={len(faces) / s:.1f} inferences_per_cpu_s={len(faces) / cpu:.1f} "
          f"mean_cos_same={cos[same].mean():.4f} mean_cos_diff={cos[~same].mean():.4f} peak_rss_mib={peak_rss_mib()}")


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    if os.environ.get("ACTORFACE_THREADS"):
        torch.set_num_threads(int(os.environ["ACTORFACE_THREADS"]))
    if kind == "backbone":
        backbone(args[0], args[1], int(args[2]), *(args[3:4] or ["fp32"]))
    elif kind == "folder":
        folder(args[0], args[1], int(args[2]), *[int(a) for a in args[3:4]])
    elif kind == "onnx":
        onnx_opencv(args[0], args[1], *(int(a) for a in args[2:4]))
    else:
        pfc(int(args[0]), float(args[1]), int(args[2]))
