"""Dataset readers, test protocols, synthetic datasets, sampler and input pipeline.

Each dataset and ranking rule is one file that registers itself
(``src.datasets.dataset.DATASETS``, ``src.datasets.ranking_rule.RANKING_RULES``); the registries
find them in the source, so no list here names them.
"""
