"""Validate the command line's JSON outputs against the schemas shipped in dicomio/schemas."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from referencing import Registry, Resource

from tests.support.corpus import REPOSITORY

SCHEMAS = REPOSITORY / "dicomio" / "schemas"


def _registry() -> Registry:
    resources = [(path.name, Resource.from_contents(json.loads(path.read_text())))
                 for path in sorted(SCHEMAS.glob("*.schema.json"))]
    return Registry().with_resources(resources)


def check_schema(name: str, document: Any) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``document`` fits ``<name>.schema.json``."""
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, registry=_registry())
    validator.validate(document)
