"""Stories: one event told by many outlets, in many languages, over days.

:func:`assign_new` puts every stored article without a story into one (``engine``: the
candidates from the story index, the link scored by ``scoring`` on the signals of
``features``: entities of the ``gazetteer``, amounts and dates of ``numbers``, same-language
words), then queues what the story's readers must still get (``delivery``): an article the
topic scored below its threshold that clusters firmly into a relevant story, and a copy of a
reported article. :mod:`pipelines.alerts` then sends one alert per story and, later, updates.
See docs/stories.md.
"""

from __future__ import annotations

from pipelines.stories.delivery import AssignReport, assign_new
from pipelines.stories.engine import Assigned, Choice, Clusterer, cluster_new

__all__ = ["AssignReport", "Assigned", "Choice", "Clusterer", "assign_new", "cluster_new"]
