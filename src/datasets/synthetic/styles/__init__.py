"""The built-in rendering styles, one per file, each registered with
``src.datasets.synthetic.style.STYLES``."""
