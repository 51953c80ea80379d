"""Encoders (backbones), information bottlenecks, heads and the three-branch network.

Each backbone is one file that registers itself (``src.models.backbone.BACKBONES``); the
registry finds it in the source, so no list here names it.
"""
