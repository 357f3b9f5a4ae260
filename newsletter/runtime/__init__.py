"""The running process: the daemon, its presence for ``status``, the demo, the servers."""
