"""Optional PyTorch reference for bench_train.py's single_branch row: the same ResNet in eager mode.

ResNet-50 (v1.5, last stride 1, written here, no torchvision), global average pooling, BN
neck and a bias-free identity classifier, label-smoothing cross-entropy, Adam; one training
step (forward, loss, backward, update) timed up to reading the loss, median of ``--steps``
after ``--warmup``. The MindSpore single_branch row adds the ranked list loss (a few small
matrix operations on a batch of 8, negligible next to the encoder). Not used by the tests;
needs torch, which the project venv does not have:

    python -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0 "numpy<2"
    /tmp/torchvenv/bin/python benchmarks/bench_torch_reference.py [--batch 8] [--height 256]
        [--width 128] [--steps 5] [--warmup 2] [--num_classes 395] [--infer_batch 32] [--compile]

With ``--infer_batch`` > 0 it also times feature extraction (no gradients, eval mode).
``--compile`` runs the model through ``torch.compile`` (default mode, inductor: its first
call compiles, a minute or more on two cores; the optimizer step stays eager). ``--serve
train`` or ``--serve infer`` serves the training step or the feature extraction (batch
``--infer_batch``) as a paired-timing worker instead (benchmarks/paired.py).
"""

import argparse
import os
import statistics
import sys
import time

try:
    import torch
    from torch import nn
except ImportError:
    torch = None

STAGES = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 1))  # (width, blocks, stride); last stride 1
EXPANSION = 4


def build_reference(num_classes):
    """ResNet-50 last-stride-1 encoder + BN neck + classifier, as the project's Branch."""

    class Bottleneck(nn.Module):
        def __init__(self, in_channels, width, stride):
            super().__init__()
            out_channels = width * EXPANSION
            self.body = nn.Sequential(
                nn.Conv2d(in_channels, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                nn.Conv2d(width, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels))
            self.shortcut = nn.Identity()
            if stride != 1 or in_channels != out_channels:
                self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                                              nn.BatchNorm2d(out_channels))
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x):
            return self.relu(self.body(x) + self.shortcut(x))

    class Reference(nn.Module):
        def __init__(self):
            super().__init__()
            layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                      nn.MaxPool2d(3, 2, 1)]
            channels = 64
            for width, blocks, stride in STAGES:
                for index in range(blocks):
                    layers.append(Bottleneck(channels, width, stride if index == 0 else 1))
                    channels = width * EXPANSION
            self.encoder = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
            self.neck = nn.BatchNorm1d(channels)
            self.neck.bias.requires_grad_(False)
            self.classifier = nn.Linear(channels, num_classes, bias=False)

        def forward(self, images):
            feature = self.encoder(images)
            return feature, self.classifier(self.neck(feature))

    return Reference()


def median_seconds(call, steps, warmup):
    times = []
    for _ in range(warmup + steps):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times[warmup:])


def serve(step):
    """A paired-timing worker (benchmarks/paired.py): ready line, then one timed ``step()`` per request."""
    from paired import READY_MARKER, STEP_MARKER

    print(READY_MARKER, flush=True)
    for line in sys.stdin:
        if line.strip() != "step":
            break
        start = time.perf_counter()
        step()
        print(f"{STEP_MARKER}{time.perf_counter() - start}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--batch", type=int, default=8, help="images per training step")
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--num_classes", type=int, default=395)
    parser.add_argument("--infer_batch", type=int, default=32, help="feature-extraction batch (0: skip)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model (inductor, default mode)")
    parser.add_argument("--serve", choices=("train", "infer"),
                        help="serve the training step or the feature extraction as a paired-timing worker "
                             "(benchmarks/paired.py, bench_versus_torch.py)")
    args = parser.parse_args(argv)
    if torch is None:
        print("bench_torch_reference: PyTorch is not installed in this environment; skipped "
              "(see the docstring for a separate venv).")
        return None

    if args.serve == "infer" and args.infer_batch < 1:
        parser.error("--serve infer needs --infer_batch of at least 1")
    torch.manual_seed(0)
    eager_model = build_reference(args.num_classes)
    model = torch.compile(eager_model) if args.compile else eager_model
    optimizer = torch.optim.Adam([p for p in eager_model.parameters() if p.requires_grad], lr=2.6e-4, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    images = torch.randn(args.batch, 3, args.height, args.width)
    labels = torch.randint(0, args.num_classes, (args.batch,))

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        _, logits = model(images)
        loss = loss_fn(logits, labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    def extract(batch):
        with torch.no_grad():
            return model(batch)[0].numpy()

    if args.serve:
        model.train(args.serve == "train")
        if args.serve == "train":
            serve(train_step)
        else:
            batch = torch.randn(args.infer_batch, 3, args.height, args.width)
            serve(lambda: extract(batch))
        return {}
    model.train()
    mode = "torch.compile" if args.compile else "eager"
    print(f"PyTorch {torch.__version__} {mode}, {torch.get_num_threads()} thread(s), {os.cpu_count()} CPU(s), "
          f"load average {os.getloadavg()[0]:.2f}")
    params = sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6
    train_s = median_seconds(train_step, args.steps, args.warmup)
    print(f"train ResNet-50 last stride 1, batch {args.batch}, {args.height}x{args.width}, {params:.2f}M params: "
          f"{train_s * 1e3:.0f} ms/step, {args.batch / train_s:.2f} images/s")
    result = {"train_ms_per_step": train_s * 1e3, "train_images_per_s": args.batch / train_s}
    if args.infer_batch:
        model.eval()
        batch = torch.randn(args.infer_batch, 3, args.height, args.width)
        infer_s = median_seconds(lambda: extract(batch), args.steps, 1)
        print(f"inference (one encoder), batch {args.infer_batch}: {infer_s * 1e3:.0f} ms/batch, "
              f"{args.infer_batch / infer_s:.2f} images/s")
        result.update(infer_ms_per_batch=infer_s * 1e3, infer_images_per_s=args.infer_batch / infer_s)
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    return result


if __name__ == "__main__":
    sys.exit(0 if main() is not None or torch is None else 1)
