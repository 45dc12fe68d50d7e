"""Project conventions for templates as cfn-lint rules, one rule per file.

Run with ``cfn-lint --append-rules mlops_dev/cfn_rules``. cfn-lint applies the SAM transform
first, so the rules see the translated control-plane template, where moto cannot check
bucket policies, API stages, the RestApi body or custom resources.
"""
