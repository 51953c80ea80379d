"""Shared test set-up. Importing ``src`` first sets ONEDNN_MAX_CPU_ISA before MindSpore loads."""

import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import src  # noqa: E402,F401  (sets the oneDNN ISA variable)

SHARED_DIR = os.path.join(os.path.dirname(REPO_ROOT), "shared")
