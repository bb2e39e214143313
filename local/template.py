"""template.yaml as CloudFormation reads it: short-tag YAML, parameters, conditions, intrinsics.

The resolver evaluates Ref, Fn::GetAtt, Fn::Sub (string and list form), Fn::If, Fn::Not,
Fn::Equals, Fn::And, Fn::Or, Fn::Join, Fn::Select, Fn::Split, Fn::FindInMap, Fn::Base64 and
Condition, with AWS::NoValue removing the key or list item that holds it, like CloudFormation.
References to resources go through a ``lookup`` callback, so a resource is created the first time
anything refers to it (dependency order without a separate graph).
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from local.settings import ACCOUNT_ID, STACK_NAME


class TemplateError(Exception):
    """The template cannot be resolved (unknown reference, bad intrinsic...)."""


# ---------------------------------------------------------------- YAML with CloudFormation tags


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as strings and turns ``!Tag`` into ``{"Fn::Tag": ...}``."""


_CfnLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError(f"{path} is not a CloudFormation template")
    return document


# ---------------------------------------------------------------- parameters


def parse_parameter_overrides(text: str) -> dict[str, str]:
    """``Key=Value Key2="a b"`` or ``ParameterKey=K,ParameterValue=V``, as ``sam deploy`` takes."""
    overrides: dict[str, str] = {}
    for token in shlex.split(text or ""):
        if token.startswith("ParameterKey="):
            fields = dict(part.split("=", 1) for part in token.split(",", 1) if "=" in part)
            overrides[fields["ParameterKey"]] = fields.get("ParameterValue", "")
        elif "=" in token:
            key, value = token.split("=", 1)
            overrides[key] = value
        else:
            raise TemplateError(f"parameter override {token!r} is not Key=Value")
    return overrides


def parameter_values(template: dict[str, Any], *layers: dict[str, str]) -> dict[str, Any]:
    """Each parameter's Default, overridden by each layer in turn (later layers win)."""
    declared: dict[str, Any] = template.get("Parameters") or {}
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        value: Any = None
        for layer in layers:
            if name in layer:
                value = layer[name]
        if value is None:
            if "Default" not in spec:
                raise TemplateError(f"parameter {name} has no Default and no override")
            value = spec["Default"]
        kind = str(spec.get("Type", "String"))
        if kind.startswith("List<") or kind == "CommaDelimitedList":
            value = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
        else:
            value = _scalar_to_string(value)
        values[name] = value
    for layer in layers:
        for name in layer:
            if name not in declared:
                raise TemplateError(f"override for unknown parameter {name}")
    return values


def _scalar_to_string(value: Any) -> str:
    """CloudFormation hands every scalar to its consumers as a string (true/false lower-case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------- resolver


@dataclass
class Physical:
    """What a created resource answers to !Ref and !GetAtt."""

    ref: str
    attrs: dict[str, Any] = field(default_factory=dict)


NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Evaluates intrinsic functions against parameters, pseudo-parameters and resources."""

    def __init__(
        self,
        template: dict[str, Any],
        parameters: dict[str, Any],
        region: str,
        lookup: Callable[[str], Physical],
    ) -> None:
        self.template = template
        self.parameters = parameters
        self.pseudo: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }
        self._lookup = lookup
        self._conditions: dict[str, bool] = {}

    # -- conditions

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            spec = (self.template.get("Conditions") or {}).get(name)
            if spec is None:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(spec))
        return self._conditions[name]

    def broken_rules(self) -> list[str]:
        """The ``AssertDescription`` of every assertion of the template's ``Rules`` that these parameters break (a
        rule whose ``RuleCondition`` holds, or that has none), as CloudFormation checks them before it creates
        anything and refuses the deploy."""
        broken = []
        for name, rule in (self.template.get("Rules") or {}).items():
            if "RuleCondition" in rule and not self.resolve(rule["RuleCondition"]):
                continue
            broken += [str(a.get("AssertDescription") or f"rule {name}") for a in rule.get("Assertions") or []
                       if not self.resolve(a["Assert"])]
        return broken

    def resource_enabled(self, logical_id: str) -> bool:
        resource = self.template["Resources"].get(logical_id) or {}
        return "Condition" not in resource or self.condition(resource["Condition"])

    # -- values

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                [(key, argument)] = value.items()
                handler = self._INTRINSICS.get(key)
                if handler is not None and (key != "Condition" or isinstance(argument, str)):
                    return handler(self, argument)
            resolved = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        return value

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.template["Resources"]:
            return self._lookup(name).ref
        raise TemplateError(f"!Ref to unknown name {name}")

    def get_att(self, name: str, attribute: str) -> Any:
        if name not in self.template["Resources"]:
            raise TemplateError(f"!GetAtt to unknown resource {name}")
        attrs = self._lookup(name).attrs
        if attribute not in attrs:
            raise TemplateError(f"!GetAtt {name}.{attribute}: the local stack does not know this attribute")
        return attrs[attribute]

    # -- intrinsic functions

    def _fn_ref(self, argument: Any) -> Any:
        return self.ref(str(self.resolve(argument)))

    def _fn_get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        name, attribute = (self.resolve(part) for part in argument)
        return self.get_att(str(name), str(attribute))

    def _fn_sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], self.resolve(argument[1] if len(argument) > 1 else {})
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return _scalar_to_string(variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                name, attribute = expression.split(".", 1)
                return _scalar_to_string(self.get_att(name, attribute))
            return _scalar_to_string(self.ref(expression))

        return _SUB_VARIABLE.sub(replace, str(text))

    def _fn_if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _fn_not(self, argument: Any) -> bool:
        return not self._truth(argument[0] if isinstance(argument, list) else argument)

    def _fn_and(self, argument: Any) -> bool:
        return all(self._truth(item) for item in argument)

    def _fn_or(self, argument: Any) -> bool:
        return any(self._truth(item) for item in argument)

    def _fn_equals(self, argument: Any) -> bool:
        left, right = (self.resolve(item) for item in argument)
        return _scalar_to_string(left) == _scalar_to_string(right)

    def _fn_condition(self, argument: Any) -> bool:
        return self.condition(str(argument))

    def _fn_join(self, argument: Any) -> str:
        delimiter, items = argument
        return str(delimiter).join(_scalar_to_string(item) for item in self.resolve(items))

    def _fn_select(self, argument: Any) -> Any:
        index, items = (self.resolve(item) for item in argument)
        return items[int(index)]

    def _fn_split(self, argument: Any) -> list[str]:
        delimiter, text = argument
        return str(self.resolve(text)).split(str(delimiter))

    def _fn_find_in_map(self, argument: Any) -> Any:
        name, first, second = (self.resolve(item) for item in argument)
        return self.template["Mappings"][name][first][second]

    def _fn_base64(self, argument: Any) -> str:
        return base64.b64encode(str(self.resolve(argument)).encode()).decode()

    def _fn_to_json_string(self, argument: Any) -> str:
        return json.dumps(self.resolve(argument), separators=(",", ":"))

    def _fn_get_azs(self, argument: Any) -> list[str]:
        region = self.resolve(argument) or self.pseudo["AWS::Region"]
        return [f"{region}a", f"{region}b", f"{region}c"]

    def _truth(self, value: Any) -> bool:
        resolved = self.resolve(value)
        if isinstance(resolved, str):
            return resolved.lower() == "true"
        return bool(resolved)

    _INTRINSICS: dict[str, Callable[[Resolver, Any], Any]] = {
        "Ref": _fn_ref,
        "Fn::GetAtt": _fn_get_att,
        "Fn::Sub": _fn_sub,
        "Fn::If": _fn_if,
        "Fn::Not": _fn_not,
        "Fn::And": _fn_and,
        "Fn::Or": _fn_or,
        "Fn::Equals": _fn_equals,
        "Condition": _fn_condition,
        "Fn::Join": _fn_join,
        "Fn::Select": _fn_select,
        "Fn::Split": _fn_split,
        "Fn::FindInMap": _fn_find_in_map,
        "Fn::Base64": _fn_base64,
        "Fn::ToJsonString": _fn_to_json_string,
        "Fn::GetAZs": _fn_get_azs,
    }
