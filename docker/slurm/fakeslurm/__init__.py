"""A fake Slurm (22.05-compatible output) for fwd's tests: one controller, node agents, client commands."""
