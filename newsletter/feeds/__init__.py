"""Feeds: the blog's RSS/Atom feeds, from the HTTP request to the posts in the queue.

One module per job, each imported where it is used (this package re-exports nothing, so a
command that only imports a file does not load the database):

- :mod:`.fetch`: the HTTP request (conditional GET, bounded decompression, a private
  feed's credentials as Basic auth), the one place the package reads a URL;
- :mod:`.entries`: a feed document's entries as posts, and the entries set aside;
- :mod:`.poll`: ``posts fetch`` and the daemon's watch step, feed by feed; its
  :func:`~.poll.read_feed` is what the doctor's ``feeds`` check calls too;
- :mod:`.queueing`: a feed's items into the post queue, known again at every poll;
- :mod:`.state`: what the polls learned about each feed (the ``feeds`` table), which
  ``status`` reads;
- :mod:`.failing`: a feed failing for a day, recorded as an owner alert;
- :mod:`.sources`: posts imported by hand from files, directories or a feed URL.
"""
