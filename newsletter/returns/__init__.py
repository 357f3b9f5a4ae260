"""Returned mail: the bounces and complaints that come back after the relay said yes.

One module per job, in the order a report flows: ``parse`` reads what came back (pure),
``match`` ties it to a delivery of ours or to nothing, ``apply`` stores it and acts on
the reader (the one entry the doors call: :func:`~newsletter.returns.apply.process_message`
for a message, :func:`~newsletter.returns.apply.process_event` for a relay's webhook
event), ``report`` lists the reports and counts an edition's returns, and ``limits``
records an owner alert when an edition passes the thresholds and holds the next one. The doors
(``inbound``, ``web.webhooks``, ``cli``) only translate what arrives into one call.
"""
