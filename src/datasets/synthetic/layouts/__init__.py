"""The built-in synthetic layouts, one file per dataset, each registered with
``src.datasets.synthetic.layout.SYNTHETIC_LAYOUTS`` under the dataset's name."""
