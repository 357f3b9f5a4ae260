"""Content: text becomes a :class:`~.post.Post` (scraped blog pages, Markdown), purely.

One module per step, each imported where it is used (this package re-exports nothing, so
a command that needs one small piece, such as ``classify.clean_display_name`` for a
subscriber's name, does not load the Markdown parser too):

- :mod:`.post`: the :class:`~.post.Post` and its blocks, what every parser makes;
- :mod:`.markdown` and :mod:`.scraped`: the two parsers, Markdown files and scraped pages;
- :mod:`.html_blocks`: HTML as blocks, shared with the feeds' entries
  (:mod:`newsletter.feeds`, which also reads posts from files and URLs);
- :mod:`.assemble` and :mod:`.classify`: lines and units made into blocks, and the text
  cleaning every parser shares;
- :mod:`.slug`: a title as a URL slug.
"""
