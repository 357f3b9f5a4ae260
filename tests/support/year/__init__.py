"""A year of the newsletter without hands: a seeded plan of weeks (:mod:`.plan`), the real
parts it runs against (:mod:`.world`), a daemon process that can be killed
(:mod:`.child`), the invariants checked after every week (:mod:`.checks`) and the driver
that moves the clock (:mod:`.simulation`). ``tests/runtime/test_year.py`` runs a short
stretch; ``bench/year.py`` the whole year.
"""
