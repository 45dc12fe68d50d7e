"""Local mode: the orchestrator, its control plane and its pipelines on this machine, against an embedded emulator.

``mlops local`` (``server``) starts moto in server mode, creates the control plane's resources
as the SAM template would (``bootstrap``), serves the Chalice app over HTTP with API Gateway's
edge behaviour (``http_edge``), runs each pipeline's CodePipeline stages itself (``executor``,
``codepipeline_api``, ``statemachine``), runs the blueprints' Lambda functions in process or
in the SDK layer's interpreter (``lambdas``, ``lambda_runner``) and checks each component's
calls against its IAM role (``iam``). ``demo`` is ``make demo``; ``process`` starts local mode
as a child process for the demo and the tests.

Installed by the ``local`` extra (moto, cfn-lint), with the blueprints, the control-plane
template and the example bodies as package data (``files``). It may import the orchestrator
(``chalicelib``) and the template reader (``mlops_cfn``); nothing outside it imports it except
``mlops_cli.main`` for ``mlops local`` and ``mlops demo``, and the tests.
"""
