"""Running a set of inputs: the options of a run, and the runner that takes one input to its manifest entry.

The command line and the Ray actors call the same runner (:mod:`anonymize.run.item`), with the
same options (:class:`~anonymize.run.options.RunOptions`), so a file gives the same bytes whichever
engine ran it.
"""
