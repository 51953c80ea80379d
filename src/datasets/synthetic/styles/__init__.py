"""The built-in rendering styles, one per file. The imports below register them
(``src.datasets.synthetic.style.STYLES``), in the order ``--style`` lists them."""

from src.datasets.synthetic.styles import default, alternative, mixed, surveillance  # noqa: F401,I001  (order matters)
