"""Encoders (backbones), information bottlenecks, heads and the three-branch network.

Importing the package registers the built-in backbones (``src.models.backbone.BACKBONES``)
and the allowed values of the model options.
"""

from src.models import network, resnet  # noqa: F401  (register "resnet" and the model choices)
