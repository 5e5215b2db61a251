"""The fleet as a mesh (docs/topology.md): the inventory's ``mesh:``
section (:mod:`.settings`), which node each ``[Peer]`` entry is and the
edges with their two ends (:mod:`.model`), the mesh of one run
(:mod:`.fleet`), and its picture for ``awgcheck topology``
(:mod:`.picture`). The checks that judge it are
:mod:`awgcheck.checks.mesh`."""
