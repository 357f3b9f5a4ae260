"""Returned mail: what comes back to us by mail or webhook after the relay said yes.

The core, one module per job in the order a report flows: ``parse`` reads what came back
(pure), ``match`` ties it to a delivery of ours or to nothing, ``apply`` stores it and acts
on the reader (the one entry every receiver calls:
:func:`~newsletter.returns.apply.process_message` for a message,
:func:`~newsletter.returns.apply.process_event` for a relay's webhook event), ``report``
lists the reports and counts an edition's returns, ``limits`` records an owner alert
when an edition passes the thresholds and holds the next one, ``suspect`` holds the hard
bounces of a domain that refuses too much of one edition, and ``senders`` tells the owner
what to fix when mail is refused on our side.

The two receivers that live here, ``mailbox`` (the IMAP poller) and ``listener`` (the SMTP
listener, which also takes the ``mailto:`` List-Unsubscribe mails), and the ones outside
(``web.webhooks``, ``cli``) only translate what arrives into one call.
"""
