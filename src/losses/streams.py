"""The network's training outputs as the loss terms see them: which streams exist, which have z.

A term reads streams by their index in the network's output tuple (``src.models.outputs``);
``StreamLayout`` gives those indices by name and the groupings the terms share (the two
streams of each branch), and refuses a layout that no network produces.
"""

from mindspore import ops

from src.models.outputs import SHARED_STREAMS, SPECIFIC_STREAMS

# The features a term may supervise, as ``loss.cls_on`` and ``loss.metric_on`` name them: the
# observation v and the representation z.
OBSERVATION, REPRESENTATION = "v", "z"


class StreamLayout:
    """Streams of one network and the sizes of what they hold.

    Args:
        stream_names: the network's ``stream_names``, in output order.
        bottleneck_streams: the names among them whose streams carry z.
        num_classes: training identities C (columns of the logits).
        observation_dim, z_dim: sizes of v and of z.
    """

    def __init__(self, stream_names, bottleneck_streams, num_classes, observation_dim, z_dim):
        self.names = tuple(stream_names)
        bottleneck_streams = tuple(bottleneck_streams)
        if not self.names:
            raise ValueError("the objective needs at least one stream")
        known = SHARED_STREAMS + SPECIFIC_STREAMS
        unknown = [name for name in self.names if name not in known]
        if unknown:
            raise ValueError(f"unknown stream names {unknown}; expected some of {known}")
        stray = [name for name in bottleneck_streams if name not in self.names]
        if stray:
            raise ValueError(f"bottleneck streams {stray} are not among the streams {self.names}")
        self.bottleneck_streams = bottleneck_streams
        self.num_classes = num_classes
        self.observation_dim = observation_dim
        self.z_dim = z_dim
        self.branch_pairs = self._branch_pairs()
        for first, second in self.branch_pairs:
            if self.has_z(first) != self.has_z(second):
                raise ValueError(f"streams {self.names[first]!r} and {self.names[second]!r} share a "
                                 "branch, so both or neither must have a bottleneck")

    def _branch_pairs(self):
        """(visible index, infrared index) of each branch present, shared first."""
        pairs = ()
        for visible_name, infrared_name in (SHARED_STREAMS, SPECIFIC_STREAMS):
            present = (visible_name in self.names, infrared_name in self.names)
            if present == (True, True):
                pairs += ((self.index(visible_name), self.index(infrared_name)),)
            elif any(present):
                raise ValueError(f"streams {self.names} hold only one of {visible_name!r} and "
                                 f"{infrared_name!r}; a branch has both")
        return pairs

    def index(self, name):
        """Position of stream ``name`` in the outputs."""
        return self.names.index(name)

    def has_z(self, index):
        """Whether the stream at ``index`` carries z (its branch has a bottleneck)."""
        return self.names[index] in self.bottleneck_streams

    def has_all(self, names):
        """Whether every stream in ``names`` exists."""
        return all(name in self.names for name in names)

    def all_have_z(self, names):
        """Whether every stream in ``names`` exists and carries z."""
        return all(name in self.bottleneck_streams for name in names)

    def z_streams(self):
        """Indices of the streams that carry z, in output order."""
        return tuple(index for index in range(len(self.names)) if self.has_z(index))


def pooled(outputs, group, field):
    """One field of the streams in ``group`` (indices), stacked along the batch axis:
    (B, ...) for one stream, (len(group) * B, ...) for two."""
    if len(group) == 1:
        return outputs[group[0]][field]
    return ops.concat((outputs[group[0]][field], outputs[group[1]][field]))


def paired_labels(labels):
    """(B,) labels -> (2B,): the labels of a branch's two streams stacked as ``pooled`` stacks them."""
    return ops.concat((labels, labels))
