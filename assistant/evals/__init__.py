"""The evaluation suite: batch-evaluate Q&A pairs against the configured pipeline.

`dataset` loads question files, `runner` answers them with `Assistant` and scores
each answer with the pure functions in `metrics`, `report` writes Markdown and
HTML reports, `compare` diffs two runs and `gate` turns thresholds into an exit
code. `cli` wires it to ``assistant eval``. Nothing here knows how retrieval works.
"""
