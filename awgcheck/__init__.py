"""awgcheck: drift detection and conformance checks for AmneziaWG meshes."""

__version__ = "0.2.0"
