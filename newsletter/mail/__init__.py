"""Mail: a post becomes an email. Pure: no database, no network.

``render`` turns a ``Post`` into HTML and text once per edition, ``text`` writes the plain
part, ``tokens`` signs the subscriber links, ``message`` makes RFC 5322 bytes, ``preview``
one reader's message for the preview and the check, ``compose`` splices each reader's copy
from one template (and the DATA form the relay is sent), and ``confirmation``, ``welcome``
and ``owner`` build the mails outside an edition. Rendering, message building and the
reader mails take the configuration section they read, not the whole settings.
"""
