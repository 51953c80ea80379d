"""Dataset readers, test protocols, synthetic datasets, sampler and input pipeline."""
