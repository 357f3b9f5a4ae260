"""Setting up and checking a production installation: ``newsletter init`` and ``doctor``.

``init`` writes the files a new installation needs (the answers checked in
``questions``, pure text generation in ``files`` and ``records``, written by ``init``);
``doctor`` checks a set-up as receiving mail providers will see it (``doctor`` runs the
checks of ``checkup``, ``relay``, ``dnscheck``, ``webcheck`` and ``feedcheck``), looking
names up through the resolver of ``resolver`` so a test or a split-horizon set-up can name
its own DNS server.
"""
