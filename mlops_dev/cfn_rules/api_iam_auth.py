from __future__ import annotations

from typing import Any

from cfnlint.rules import CloudFormationLintRule, RuleMatch

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "x-amazon-apigateway-any-method"}


class ApiIamAuth(CloudFormationLintRule):
    """Every API method requires IAM (SigV4) authorisation."""

    id = "E9004"
    shortdesc = "API methods use IAM authorisation"
    description = (
        "Every AWS::ApiGateway::Method has AuthorizationType AWS_IAM, and every operation in a "
        "RestApi Body (as SAM generates it) requires a SigV4 security scheme."
    )
    tags = ["mlops", "apigateway", "iam"]

    def match(self, cfn: Any) -> list[RuleMatch]:
        found = []
        for name, resource in cfn.get_resources(["AWS::ApiGateway::Method"]).items():
            props = resource.get("Properties", {})
            if props.get("HttpMethod") != "OPTIONS" and props.get("AuthorizationType") != "AWS_IAM":
                found.append(RuleMatch(["Resources", name, "Properties"], f"method {name} is not IAM-authorised"))
        for name, resource in cfn.get_resources(["AWS::ApiGateway::RestApi"]).items():
            body = resource.get("Properties", {}).get("Body")
            if not isinstance(body, dict):
                continue
            schemes = body.get("securityDefinitions", {}) or body.get("components", {}).get("securitySchemes", {})
            sigv4 = {
                k
                for k, v in schemes.items()
                if isinstance(v, dict) and v.get("x-amazon-apigateway-authtype") == "awsSigv4"
            }
            for path, operations in (body.get("paths") or {}).items():
                for method, operation in (operations or {}).items():
                    if method.lower() not in HTTP_METHODS or method.lower() == "options":
                        continue
                    used = {k for requirement in operation.get("security", []) or [] for k in requirement}
                    if not used & sigv4:
                        found.append(
                            RuleMatch(
                                ["Resources", name, "Properties", "Body", "paths", path, method],
                                f"{method.upper()} {path} on {name} is not IAM-authorised",
                            )
                        )
        return found
