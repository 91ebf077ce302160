"""Running a set of inputs: what a run is asked (:mod:`~anonymize.run.options`), where its inputs come from
(:mod:`~anonymize.run.sources`), the runner that takes one input to its manifest entry
(:mod:`~anonymize.run.item`), what the run records (:mod:`~anonymize.run.record`), and the engines that
run it here or on Ray (:mod:`~anonymize.run.engines`).

The command line and the Ray actors call the same runner with the same options, so a file gives the
same bytes whichever engine ran it.
"""
