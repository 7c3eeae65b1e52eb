"""Pure numba kernels: arrays and scalars in, arrays out. Nothing here reads user input."""
