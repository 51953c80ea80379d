"""Variational distillation (VSD, VCD, VML) for visible-infrared person re-identification."""

import os

# oneDNN picks AVX-512 reference kernels for MindSpore's plain layouts on some processors,
# about 40x slower than its AVX2 kernels (docs/performance.md). It reads this variable when
# MindSpore loads, so it is set here, before any module of this package imports mindspore.
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")
