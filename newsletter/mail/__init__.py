"""Mail: a post becomes an email. Pure: no database, no network.

``render`` turns a ``Post`` into HTML and text once per edition, ``text`` writes the plain
part, ``tokens`` signs the subscriber links, ``message`` makes RFC 5322 bytes, ``dkim``
signs them, ``confirmation`` builds the double opt-in mail and ``checks`` judges a
message the way mail providers will.
"""
