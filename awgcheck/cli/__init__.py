"""The command line: one module per command, shared options in
:mod:`awgcheck.cli.options`, and the ``awgcheck`` group in
:mod:`awgcheck.cli.main`, which adds each command explicitly."""
