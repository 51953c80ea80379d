"""Ranking rules: which gallery images a query's ranking drops, and what its CMC counts.

Each dataset's protocol fixes a rule, and the dataset names it (``ranking_rule``). A rule is
declared next to the dataset that defines it and registered there::

    @RANKING_RULES.register("sysu")
    class SameRoomRule(RankingRule): ...

``src.evaluation.metrics`` applies a rule object (or its registered name) to every ranking.
"""

import numpy as np

from src.registry import Registry, UnknownPartError

RANKING_RULES = Registry("ranking rule")


class RankingRule:
    """Base of the rules; a subclass states what its protocol drops and counts.

    Attributes:
        counts_identities: the CMC counts distinct identities (only the first kept image of
            each identity takes a rank) rather than images.
        needs_cameras: ``keep`` reads camera numbers (queries and gallery must carry them).
    """

    counts_identities = True
    needs_cameras = True

    def keep(self, ranked_pids, ranked_cams, query_pids, query_cams):
        """(c, G) booleans: which positions of each ranked gallery row the query keeps.

        Args:
            ranked_pids: (c, G) gallery identities, each row in that query's rank order.
            ranked_cams: (c, G) gallery cameras in the same order (None when not
                ``needs_cameras``).
            query_pids: (c,) the queries' identities (comparable with ``ranked_pids``).
            query_cams: (c,) the queries' cameras (None when not ``needs_cameras``).
        """
        raise NotImplementedError


class KeepAllRule(RankingRule):
    """Nothing is dropped and the CMC counts images (the plain retrieval ranking)."""

    counts_identities = False
    needs_cameras = False

    def keep(self, ranked_pids, ranked_cams, query_pids, query_cams):
        return np.ones(ranked_pids.shape, dtype=bool)


def ranking_rule(rule):
    """The rule object for ``rule``: a RankingRule (returned as is) or a registered name.

    Raises ValueError for a name no rule registered.
    """
    if isinstance(rule, RankingRule):
        return rule
    try:
        return RANKING_RULES.get(rule)()
    except UnknownPartError as error:
        raise ValueError(str(error)) from None
