"""``awgcheck fix``: the edit that brings one node's conf to the source of
truth, as a byte-preserving line patch (:mod:`.plan`, :mod:`.text`), shown
as a unified diff (:mod:`.diff`) and, with ``--apply``, written under the
node's merge lock (:mod:`.apply`). :mod:`.run` ties them together."""
