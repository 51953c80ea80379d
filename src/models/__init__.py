"""ResNet encoders, information bottlenecks, heads and the three-branch network."""
