"""Jensen-Shannon estimate of I(v; z) for the conventional information bottleneck baseline.

The conventional IB (Table 3 rows 7-9) minimises I(v; z) - I(z; y). I(v; z) is estimated
with a neural critic T(v, z) and the Jensen-Shannon lower bound (Hjelm et al., 2019):
    I_JS = E_joint[-softplus(-T(v, z))] - E_marginal[softplus(T(v, z'))],
where z' is the z of an image of another identity in the batch (``negative_partners``).
For the best critic the bound equals 2 JSD(p(v, z) || p(v) p(z)) - 2 log 2, so its values
lie in [-2 log 2, 0]: it orders dependence rather than measuring I(v; z) in nats. The critic
maximises the bound (so that it estimates the information) while the encoder and bottleneck
minimise it (so that z forgets v). Both happen under one optimiser that minimises the total
loss: the estimate enters the loss with a plus sign, and the critic's parameters receive the
negated gradient (``GradientReversal`` on the critic's input and on its output: the critic
sees one reversal, the encoder two, i.e. none).

With ``observation_grad`` false (``loss.cib_observation_grad``) v enters the critic as a
constant (``ops.stop_gradient``): the encoder then receives the compression gradient only
through z, i.e. through the bottleneck, while the critic's parameters and z get exactly the
gradients they get otherwise.
"""

from mindspore import nn, ops


class GradientReversal(nn.Cell):
    """Identity in the forward pass; multiplies the incoming gradient by -1 in the backward pass."""

    def construct(self, x):
        return x

    def bprop(self, x, out, dout):
        return (-dout,)


def negative_partners(labels):
    """Row index of each row's negative: labels (N,) int -> (N,) of the labels' dtype.

    Row i is paired with the nearest row after it, cyclically, whose label differs, so a
    negative pair never holds two images of one identity. In identity-major batches (and
    in the shared branch's [visible rows; infrared rows] pool) that is the first row of the
    next identity. Fallback: when every row has the same label there is no such row, and
    row i is paired with row i + 1 (mod N), a same-identity negative; a row is never its
    own partner when N > 1. Computed in the graph from an (N, N) cost matrix: the cyclic
    distance to each later row, plus N where the labels agree.
    """
    count = labels.shape[0]
    index = ops.arange(count)
    # (j - i - 1) mod N: 0 for the next row, N - 1 for the row itself.
    distance = ops.floor_mod(index.reshape(1, -1) - index.reshape(-1, 1) - 1, count)
    same_label = ops.equal(labels.reshape(-1, 1), labels.reshape(1, -1)).astype(distance.dtype)
    return ops.argmin(distance + count * same_label, axis=1).astype(labels.dtype)


class JensenShannonCritic(nn.Cell):
    """MLP critic T([v; z]) -> (B,) scores: (v_dim + z_dim) -> hidden -> ReLU -> hidden -> ReLU -> 1.

    Parameters: (v_dim + z_dim) * hidden + hidden (first layer) + hidden^2 + hidden (second)
    + hidden + 1 (output) = hidden^2 + (v_dim + z_dim + 3) * hidden + 1. The paper does not
    give the critic's shape; Table 4 puts its estimator at 35.71M - 29.41M = 6.30M
    parameters for one ResNet-50 branch (v 2048-d, z 256-d). hidden = 1609, the rounded
    positive root of hidden^2 + 2307 hidden + 1 = 6.30M, gives 1609^2 + 2307 * 1609 + 1 =
    6,300,845 parameters (``loss.cib_critic_hidden``'s default).
    """

    def __init__(self, observation_dim, z_dim, hidden):
        super().__init__()
        self.layers = nn.SequentialCell(
            nn.Dense(observation_dim + z_dim, hidden), nn.ReLU(),
            nn.Dense(hidden, hidden), nn.ReLU(),
            nn.Dense(hidden, 1))

    def construct(self, observation, representation):
        return self.layers(ops.concat((observation, representation), axis=1)).squeeze(-1)


class AdversarialMutualInformation(nn.Cell):
    """I_JS(v; z) whose critic ascends it while the inputs' producers descend it.

    ``construct(observation, representation, labels)``: v (B, v_dim), z (B, z_dim) and the
    rows' identity labels (B,) int -> scalar estimate (nats). Negatives pair each v with
    the z of ``negative_partners(labels)``, i.e. of another identity. The gradient of the
    returned value reaches z unchanged, v unchanged (zero when ``observation_grad`` is
    false) and the critic's parameters negated.
    """

    def __init__(self, observation_dim, z_dim, hidden, observation_grad=True):
        super().__init__()
        self.critic = JensenShannonCritic(observation_dim, z_dim, hidden)
        self.reverse_input = GradientReversal()
        self.reverse_output = GradientReversal()
        self.observation_grad = bool(observation_grad)

    def construct(self, observation, representation, labels):
        if not self.observation_grad:
            # In Table 3 rows 7-9 v has no re-id loss, and at initialisation this path carries
            # most of the encoder's compression gradient: it pushes v itself to tell the critic
            # nothing. Cut here, the encoder is compressed only through z (the bottleneck); the
            # critic's parameters and z get the same gradients as with the path kept.
            observation = ops.stop_gradient(observation)
        observation = self.reverse_input(observation)
        representation = self.reverse_input(representation)
        negatives = ops.gather(representation, negative_partners(labels), 0)
        joint_scores = self.reverse_output(self.critic(observation, representation))
        marginal_scores = self.reverse_output(self.critic(observation, negatives))
        return (-ops.softplus(-joint_scores)).mean() - ops.softplus(marginal_scores).mean()
