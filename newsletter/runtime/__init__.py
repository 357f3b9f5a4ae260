"""What runs unattended: the daemon and its jobs (``jobs``, at the slots ``delivery.slots``
computes; ``alerts`` and ``owner_mail``, what the owner must hear), its presence for
``status``, the demo, the servers."""
