"""Serverless data-quality and model-quality monitoring: a plain library, no AWS inside.

- :mod:`.baseline` reads a baseline CSV into statistics and constraints (the fields mirror
  SageMaker Model Monitor's ``statistics.json`` / ``constraints.json`` where they overlap).
- :mod:`.capture` streams SageMaker data-capture JSON Lines and ground truth, counting
  malformed lines instead of failing on them.
- :mod:`.quality` checks one window of captured data against the baseline: missing values,
  type mismatches, unseen categories, and drift (two-sample Kolmogorov-Smirnov on numeric
  features, chi-square on categorical ones, family-wise error held by Bonferroni).
- :mod:`.metrics` computes model-quality metrics from predictions joined with ground truth.

The Lambda of the serverless monitor blueprint and ``mlops drift`` both call these.
"""
