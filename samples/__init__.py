"""Sample news sites for ``newswatch demo``, the tests and the benches, served on 127.0.0.1.

Nothing here is needed by a pass over real sources: ``localserver`` serves a folder of
files as a site, ``manifest`` reads the MANIFEST.json that every set of sites shares and
writes the config for served sites, ``sitegen`` generates a site of any size, and ``demo``
runs a whole pass against the bundled sites. See ``samples/README.md``.
"""
