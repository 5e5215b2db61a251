"""awgcheck: drift detection and conformance checks for AmneziaWG meshes."""

__version__ = "0.1.0"
