"""The database: schema, migrations, the post queue, subscribers and their state changes.

``database`` opens engines and migrates, ``models`` is the schema, ``post_queue`` decides
what goes out next, ``subscribers`` and ``subscriber_import`` are the admin's list, and
``subscriptions`` holds what a subscriber does to their own subscription from a link.
"""
