"""Designing a study on top of the runner: sizing over group sizes and sweeps over parameter grids."""
