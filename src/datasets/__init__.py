"""Dataset readers, test protocols, synthetic datasets, sampler and input pipeline.

Importing the package registers the built-in datasets and their ranking rules
(``src.datasets.dataset.DATASETS``, ``src.datasets.ranking_rule.RANKING_RULES``), in the order
their names are listed.
"""

from src.datasets import sysu, regdb, llcm  # noqa: F401,I001  (each registers itself)
