"""Pictures of what a model finds: ranked lists (Pillow), t-SNE and training curves."""
