"""Sample news sites for ``newswatch demo``, the tests and the benches, served on 127.0.0.1.

Nothing here is needed by a pass over real sources: ``localserver`` serves a folder of
files as a site, ``sitegen`` generates a site of any size, and ``demo`` runs a whole pass
against the bundled sites.
"""
