"""Training engine: builds the parts from the config and runs training."""
