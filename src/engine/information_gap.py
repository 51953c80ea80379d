"""An estimate of H(y|z) - H(y|v) during training, for each bottlenecked branch (paper Fig. 7).

The paper's Theorem 1 ties I(v;y) - I(z;y) to H(y|z) - H(y|v), and each conditional entropy
is bounded by the cross-entropy of a classifier reading that variable. The estimate is
therefore CE(z-head) - CE(v-head), in nats, on a fixed probe batch: one visible and one
infrared image of each of ``num_ids`` training identities, chosen once with the run's seed,
resized and normalised as test images (no augmentation), and read in inference mode (BN
moving statistics, z = the Gaussian's mean). The probe images are training images: the
figure shows how far z falls behind v on what the network was taught, as the paper's does.
Plain cross-entropy (no label smoothing), so that it bounds the entropy.
"""

import numpy as np

from src.models import outputs

# The branches that own each stream (the shared branch sees both modalities).
BRANCH_OF_STREAM = {"shared_visible": "shared", "shared_infrared": "shared", "visible": "visible",
                    "infrared": "infrared"}


def cross_entropy(logits, labels):
    """Mean -log softmax(logits)[label] in nats: logits (B, C), labels (B,) ints in [0, C)."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(labels)), np.asarray(labels)].mean())


def probe_records(records, num_ids, seed):
    """(visible records, infrared records) aligned by identity: the first image (by path) of
    each modality of ``num_ids`` identities drawn with ``seed`` (all of them if fewer)."""
    by_label = {}
    for record in sorted(records, key=lambda record: record.path):
        by_label.setdefault(record.label, {}).setdefault(record.modality, record)
    labels = sorted(label for label, found in by_label.items() if len(found) == len(outputs.SPECIFIC_STREAMS))
    chosen = sorted(np.random.default_rng(seed).permutation(labels)[:num_ids].tolist())
    return ([by_label[label]["visible"] for label in chosen], [by_label[label]["infrared"] for label in chosen])


def _numpy(values):
    return values.asnumpy() if hasattr(values, "asnumpy") else np.asarray(values)


def information_gaps(streams, stream_names, labels):
    """{"gap_<branch>", "ce_v_<branch>", "ce_z_<branch>"} in nats for each branch with a bottleneck.

    Args:
        streams: the network's outputs in inference mode (``src.models.outputs``), one tuple
            per stream, fields as numpy arrays or Tensors.
        stream_names: the streams' names, in order.
        labels: (B,) training labels of the probe rows (the same for every stream).
    The shared branch's figures pool its visible and infrared streams.
    """
    logits = {}
    for name, stream in zip(stream_names, streams):
        if len(stream) < outputs.ALL_FIELDS:
            continue
        pair = [_numpy(stream[field]) for field in (outputs.LOGITS, outputs.Z_LOGITS)]
        logits.setdefault(BRANCH_OF_STREAM[name], []).append(pair)
    figures = {}
    for branch, pairs in logits.items():
        branch_labels = np.concatenate([labels] * len(pairs))
        ce_v = cross_entropy(np.concatenate([pair[0] for pair in pairs]), branch_labels)
        ce_z = cross_entropy(np.concatenate([pair[1] for pair in pairs]), branch_labels)
        figures.update({f"ce_v_{branch}": ce_v, f"ce_z_{branch}": ce_z, f"gap_{branch}": ce_z - ce_v})
    return figures


class InformationGapProbe:
    """The fixed probe batch and its estimate: ``probe(network) -> information_gaps(...)`` dict.

    Args:
        visible, infrared: float32 (B, 3, H, W) normalised images, row k of both of the same identity.
        labels: (B,) their training labels.
    """

    def __init__(self, visible, infrared, labels):
        self.visible = np.asarray(visible, dtype=np.float32)
        self.infrared = np.asarray(infrared, dtype=np.float32)
        self.labels = np.asarray(labels, dtype=np.int64)

    def __call__(self, network):
        """The figures for ``network`` (put in inference mode for the probe and back in training mode after)."""
        import mindspore as ms
        network.set_train(False)
        streams = network(ms.Tensor(self.visible), ms.Tensor(self.infrared))
        network.set_train(True)
        return information_gaps(streams, network.stream_names, self.labels)
