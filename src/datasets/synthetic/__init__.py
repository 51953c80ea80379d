"""Small synthetic visible-infrared re-id datasets in the exact on-disk layouts of the real ones.

They let every part of the pipeline (readers, protocols, training, evaluation) run end to end
without the real data. Two kinds of parts, each with its contract and registry:

* layouts (``layout.py``: ``SYNTHETIC_LAYOUTS``, ``write_synthetic_dataset``): one file per
  dataset in ``layouts/``, registered under the dataset's name; which identities each camera
  sees, the folder tree, file names and split files;
* rendering styles (``style.py``: ``STYLES``): one file per style in ``styles/``; how a person
  looks in a camera of either modality. ``drawing.py`` holds the pixel helpers styles share.

Command line (``tools/synthetic_dataset.py``)::

    python -m tools.synthetic_dataset --layout sysu --out data/synthetic_sysu [--ids 40] [--style alternative]
"""
