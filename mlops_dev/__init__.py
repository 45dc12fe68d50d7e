"""Developer tools, never shipped to users: benchmarks, generators and the project's cfn-lint rules.

``bench`` and ``bench_monitor`` are ``make bench``; ``gen_image_uris``, ``gen_model_card_schema``
and ``gen_stage_template`` regenerate checked-in files; ``translate`` turns the SAM template into
plain CloudFormation for linting and local IAM checks; ``package`` zips the Lambda package for
measurement; ``cfn_rules`` holds the custom cfn-lint rules (``cfn-lint --append-rules
mlops_dev/cfn_rules``). They run from a source checkout with the ``dev`` extra and may import
anything; nothing imports them except the tests.
"""
