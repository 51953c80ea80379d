"""The built-in synthetic layouts, one per dataset. The imports below register them
(``src.datasets.synthetic.layout.SYNTHETIC_LAYOUTS``), in the order ``--layout`` lists them."""

from src.datasets.synthetic.layouts import sysu, regdb, llcm  # noqa: F401,I001  (each registers itself)
