"""Jensen-Shannon estimate of I(v; z) for the conventional information bottleneck baseline.

The conventional IB (Table 3 rows 7-9) minimises I(v; z) - I(z; y). I(v; z) is estimated
with a neural critic T(v, z) and the Jensen-Shannon lower bound (Hjelm et al., 2019):
    I_JS = E_joint[-softplus(-T(v, z))] - E_marginal[softplus(T(v, z'))],
where z' is z taken from another row of the batch. For the best critic the bound equals
2 JSD(p(v, z) || p(v) p(z)) - 2 log 2, so its values lie in [-2 log 2, 0]: it orders
dependence rather than measuring I(v; z) in nats. The critic maximises the bound (so that it
estimates the information) while the encoder and bottleneck minimise it (so that z forgets
v). Both happen under one optimiser that minimises the total loss: the estimate
enters the loss with a plus sign, and the critic's parameters receive the negated gradient
(``GradientReversal`` on the critic's input and on its output: the critic sees one
reversal, the encoder two, i.e. none).
"""

from mindspore import nn, ops


class GradientReversal(nn.Cell):
    """Identity in the forward pass; multiplies the incoming gradient by -1 in the backward pass."""

    def construct(self, x):
        return x

    def bprop(self, x, out, dout):
        return (-dout,)


class JensenShannonCritic(nn.Cell):
    """MLP critic T([v; z]) -> (B,) scores: (v_dim + z_dim) -> hidden -> ReLU -> hidden -> ReLU -> 1."""

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

    ``construct(observation, representation)``: v (B, v_dim), z (B, z_dim) -> scalar
    estimate in nats. Negatives pair each v with the z of the previous row (a roll by one
    row): deterministic, graph-friendly, and a sample of the product of marginals as long as
    consecutive rows are different images. The gradient of the returned value reaches v and
    z unchanged and the critic's parameters negated.
    """

    def __init__(self, observation_dim, z_dim, hidden=1024):
        super().__init__()
        self.critic = JensenShannonCritic(observation_dim, z_dim, hidden)
        self.reverse_input = GradientReversal()
        self.reverse_output = GradientReversal()

    def construct(self, observation, representation):
        observation = self.reverse_input(observation)
        representation = self.reverse_input(representation)
        shuffled = ops.concat((representation[-1:], representation[:-1]), axis=0)
        joint_scores = self.reverse_output(self.critic(observation, representation))
        marginal_scores = self.reverse_output(self.critic(observation, shuffled))
        return (-ops.softplus(-joint_scores)).mean() - ops.softplus(marginal_scores).mean()
