"""Mail coming in: the SMTP listener for ``mailto:`` unsubscribe requests."""
