"""``awgcheck inspect``: what awgcheck reads from one artifact, one module
per artifact kind (:mod:`.conf`, :mod:`.compose`)."""
