"""The fleet as a mesh: which node each ``[Peer]`` entry is, the edges
between nodes and their two ends (:mod:`.model`), and the inventory's
``mesh:`` section that declares the topology (:mod:`.settings`)."""
