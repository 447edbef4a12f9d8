#!/usr/bin/env python3
"""arcface_torch's train_v2.py loop on the CPU, one or more gloo ranks: the PyTorch side of
`docs/bench/learning_parity.py`.

Everything that decides what is learned is arcface_torch's own code, imported from the folder given with
--arcface-torch: get_model, CombinedMarginLoss, PartialFC_V2, PolynomialLRWarmup, setup_seed, worker_init_fn,
DistributedSampler, AverageMeter and CallBackLogging (so the loss lines are averaged and spaced exactly as
train_v2.py logs them). The loop body is train_v2.py's (fp16 off): DDP over a gloo world of --world-size ranks
(one process each, started here as torchrun would) with fp16_compress_hook (which rounds every backbone gradient to
float16, as ActorFace's grad_allreduce_fp16 = true does),
one SGD over two parameter groups (backbone, Partial FC) with momentum 0.9 and weight decay, clip_grad_norm_(backbone,
5), lr_scheduler.step() every iteration, and torch.save(backbone.module.state_dict()) by rank 0 at the end. As in
train_v2.py, --batch-size is per rank (the global batch is batch size x world size), the schedule counts global
batches, every rank seeds with the same --seed, Partial FC shards the classes over the ranks, and rank 0's loss is
the one logged.

What differs from train_v2.py, and why:
  * arcface_torch's dataset.py imports mxnet and torchvision, which Debian's PyTorch 1.13 lacks. The ImageFolder is
    read here with PIL and the same transform (RandomHorizontalFlip: torch.rand(1) < 0.5; ToTensor; Normalize 0.5/0.5),
    the same class order (sorted folder names) and arcface_torch's DistributedSampler and worker seeding.
  * Partial FC calls .cuda(); on the CPU torch.Tensor.cuda is made the identity (as tools/step_parity.py does), and
    the sampler's sync_random_seed (with two or more ranks) broadcasts its seed through a CPU tensor, not a CUDA one.
  * utils_callbacks.py imports eval.verification (mxnet) and tensorboard only for CallBackVerification and the
    SummaryWriter, neither used here: both imports are stubbed so that CallBackLogging itself is arcface_torch's.

  python3 docs/bench/arcface_torch_loop.py --arcface-torch DIR --train IMAGEFOLDER --output OUT --seed 2048 \
      --network mbf --margin 1.0 0.0 0.4 --embedding-size 512 --batch-size 64 --lr 0.1 --epochs 3 --warmup-epochs 1 \
      [--world-size 2 --sample-rate 0.5]

writes OUT/training.log (train_v2.py's lines) and OUT/backbone.pth (the backbone state_dict, readable by
`actorface eval --network mbf --weights OUT/backbone.pth`).
"""
import argparse
import logging
import os
import socket
import sys
import types
from functools import partial

import numpy as np
import torch
from PIL import Image

EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


class FolderDataset(torch.utils.data.Dataset):
    """torchvision's ImageFolder with arcface_torch's ImageFolder transform, on PIL alone."""

    def __init__(self, root):
        self.classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
        self.samples = []
        for label, name in enumerate(self.classes):
            folder = os.path.join(root, name)
            files = sorted(f for f in os.listdir(folder) if f.lower().endswith(EXTENSIONS))
            if not files:
                sys.exit(f"{folder}: class folder holds no images")
            self.samples += [(os.path.join(folder, f), label) for f in files]

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, label = self.samples[index]
        with Image.open(path) as image:
            image = image.convert("RGB")
        if torch.rand(1) < 0.5:  # transforms.RandomHorizontalFlip(p=0.5)
            image = image.transpose(Image.FLIP_LEFT_RIGHT)
        x = torch.from_numpy(np.asarray(image, dtype=np.float32).copy()).permute(2, 0, 1).div_(255)  # ToTensor
        return x.sub_(0.5).div_(0.5), label  # Normalize(mean=0.5, std=0.5)


def import_arcface_torch(folder):
    if not os.path.isfile(os.path.join(folder, "partial_fc_v2.py")):
        sys.exit(f"{folder}: not an arcface_torch folder (no partial_fc_v2.py)")
    sys.path.insert(0, folder)
    torch.Tensor.cuda = lambda self, *args, **kwargs: self  # Partial FC hard-codes .cuda()
    # Only CallBackVerification (not used) needs these two; stub them so CallBackLogging imports.
    verification = types.ModuleType("eval.verification")
    package = types.ModuleType("eval")
    package.verification = verification
    sys.modules.setdefault("eval", package)
    sys.modules.setdefault("eval.verification", verification)
    tensorboard = types.ModuleType("torch.utils.tensorboard")
    tensorboard.SummaryWriter = None
    sys.modules.setdefault("torch.utils.tensorboard", tensorboard)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arcface-torch", required=True, help="insightface/recognition/arcface_torch")
    p.add_argument("--train", required=True, help="ImageFolder of training identities")
    p.add_argument("--output", required=True)
    p.add_argument("--seed", type=int, default=2048)
    p.add_argument("--network", default="mbf")
    p.add_argument("--margin", type=float, nargs=3, default=[1.0, 0.0, 0.4], metavar=("M1", "M2", "M3"))
    p.add_argument("--embedding-size", type=int, default=512)
    p.add_argument("--sample-rate", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--warmup-epochs", type=int, default=1)
    p.add_argument("--frequent", type=int, default=10)
    p.add_argument("--num-workers", type=int, default=2, help="DataLoader worker processes (train_v2's default 2)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads of each rank")
    p.add_argument("--world-size", type=int, default=1, help="gloo ranks, one process each")
    args = p.parse_args()
    if args.world_size < 1:
        sys.exit(f"--world-size {args.world_size}: must be at least 1")
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(free_port())
    if args.world_size == 1:
        train(0, args)
    else:
        torch.multiprocessing.spawn(train, args=(args,), nprocs=args.world_size, join=True)


def train(rank, args):
    world_size = args.world_size
    torch.set_num_threads(args.threads)
    import_arcface_torch(os.path.abspath(args.arcface_torch))
    from backbones import get_model
    from losses import CombinedMarginLoss
    from lr_scheduler import PolynomialLRWarmup
    from partial_fc_v2 import PartialFC_V2
    from torch import distributed
    from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import fp16_compress_hook
    from utils.utils_callbacks import CallBackLogging
    from utils import utils_distributed_sampler
    from utils.utils_distributed_sampler import DistributedSampler, setup_seed, worker_init_fn
    from utils.utils_logging import AverageMeter, init_logging

    distributed.init_process_group("gloo", rank=rank, world_size=world_size)
    on_cuda = utils_distributed_sampler.sync_random_seed  # broadcasts the sampler seed through a CUDA tensor
    utils_distributed_sampler.sync_random_seed = lambda seed=None, device="cpu": on_cuda(seed, "cpu")
    setup_seed(seed=args.seed, cuda_deterministic=False)
    os.makedirs(args.output, exist_ok=True)
    init_logging(rank, args.output)

    train_set = FolderDataset(args.train)
    sampler = DistributedSampler(train_set, num_replicas=world_size, rank=rank, shuffle=True, seed=args.seed)
    loader = torch.utils.data.DataLoader(
        train_set, batch_size=args.batch_size, sampler=sampler, num_workers=args.num_workers, drop_last=True,
        worker_init_fn=partial(worker_init_fn, num_workers=args.num_workers, rank=rank, seed=args.seed)
        if args.num_workers > 0 else None)

    backbone = get_model(args.network, dropout=0.0, fp16=False, num_features=args.embedding_size)
    backbone = torch.nn.parallel.DistributedDataParallel(
        module=backbone, broadcast_buffers=False, bucket_cap_mb=16, find_unused_parameters=True)
    backbone.register_comm_hook(None, fp16_compress_hook)
    backbone.train()
    backbone._set_static_graph()

    margin_loss = CombinedMarginLoss(64, *args.margin, 0)
    partial_fc = PartialFC_V2(margin_loss, args.embedding_size, len(train_set.classes), args.sample_rate, False)
    partial_fc.train()
    opt = torch.optim.SGD(params=[{"params": backbone.parameters()}, {"params": partial_fc.parameters()}],
                          lr=args.lr, momentum=0.9, weight_decay=args.weight_decay)
    num_image = len(train_set)
    total_batch_size = args.batch_size * world_size
    warmup_step = num_image // total_batch_size * args.warmup_epochs
    total_step = num_image // total_batch_size * args.epochs
    lr_scheduler = PolynomialLRWarmup(optimizer=opt, warmup_iters=warmup_step, total_iters=total_step)
    logging.info(f": classes {len(train_set.classes)}  images {num_image}  warmup_step {warmup_step}  "
                 f"total_step {total_step}  ranks {world_size}  sample_rate {args.sample_rate}  seed {args.seed}  "
                 f"torch {torch.__version__}  threads {torch.get_num_threads()}")

    callback_logging = CallBackLogging(frequent=args.frequent, total_step=total_step, batch_size=total_batch_size,
                                       start_step=0, writer=None)
    loss_am = AverageMeter()
    global_step = 0
    for epoch in range(args.epochs):
        loader.sampler.set_epoch(epoch)
        for img, local_labels in loader:
            global_step += 1
            loss = partial_fc(backbone(img), local_labels)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(backbone.parameters(), 5)
            opt.step()
            opt.zero_grad()
            lr_scheduler.step()
            with torch.no_grad():
                loss_am.update(loss.item(), 1)
                callback_logging(global_step, loss_am, epoch, False, lr_scheduler.get_last_lr()[0], None)
    if rank == 0:
        torch.save(backbone.module.state_dict(), os.path.join(args.output, "backbone.pth"))
        logging.info(f"training finished at global step {global_step}; backbone in {args.output}/backbone.pth")
    distributed.destroy_process_group()


if __name__ == "__main__":
    main()
