"""Imported by the extraction pool's forkserver (pipelines/pool.py), never by newswatch itself.

The language model is loaded there once, before any worker is forked from it: the workers
then share its memory (copy-on-write) instead of each loading its own copy.
"""

from pipelines.extract.metadata import warm_up

warm_up()
