"""NetApp's published ONTAP REST model, read from its official Python client (PyPI netapp-ontap).

Every resource in netapp_ontap/resources/*.py declares its collection path (`_path`) and a marshmallow schema
whose fields carry the wire name (`data_key`) and the type. This module answers two questions from that
model alone: which vendor resource serves an endpoint of this project, and whether a dotted wire path (or a
whole JSON answer) exists there with that type. Nothing here knows this project's field lists.
"""

import importlib
import inspect
import pkgutil
import re
import sys

from marshmallow import fields as mf

import netapp_ontap
import netapp_ontap.resources
from netapp_ontap.resource import ImpreciseDateTime, Resource, Size

VERSION = netapp_ontap.__version__

_resources_by_path = None


def _resource_classes():
    """Every Resource subclass of netapp_ontap.resources, by its collection path."""
    global _resources_by_path
    if _resources_by_path is None:
        found = {}
        for info in pkgutil.iter_modules(netapp_ontap.resources.__path__):
            module = importlib.import_module(f"netapp_ontap.resources.{info.name}")
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, Resource) and value is not Resource:
                    path = getattr(value, "_path", None)
                    if path and value.__module__ == module.__name__:
                        found.setdefault(path, value)
        _resources_by_path = found
    return _resources_by_path


def resource_for(template):
    """The vendor resource for an endpoint template such as /api/svm/svms/{uuid}: trailing key segments
    ({uuid}, {owner.uuid}/{name}) address one record of the collection they follow. A key inside the path
    (/api/storage/volumes/{volume.uuid}/snapshots) is written the vendor's way ({volume[uuid]}) to look it up."""
    path = re.sub(r"\{([a-z_]+)\.([a-z_]+)\}(?=/)", r"{\1[\2]}", template)
    while True:
        cls = _resource_classes().get(path)
        if cls is not None:
            return cls
        head, _, last = path.rpartition("/")
        if not re.fullmatch(r"\{[^}]+\}", last) or not head:
            return None
        path = head


_PARAMETER_PATTERNS = (
    re.compile(r"^\s*\*\s+`([a-z_]+)`\s+-\s", re.MULTILINE),  # a method's parameter list: * `force` - Bypasses ...
    re.compile(r"`([a-z_]+)` query parameter"),  # prose: ... using the `allow_delete_with_hosts` query parameter
    re.compile(r"[?&]([a-z_]+)=[^\s&\"]*"),  # an example call: GET "/api/snapmirror/relationships/?list_destinations_only=true"
)


def documented_parameters(cls):
    """Query parameters that the vendor documents for a resource's operations (not fields): `force` on a volume
    DELETE, `allow_delete_with_hosts` on a subsystem DELETE, `list_destinations_only` on the relationships GET."""
    source = inspect.getsource(sys.modules[cls.__module__])
    return {name for pattern in _PARAMETER_PATTERNS for name in pattern.findall(source)}


def schema_of(cls):
    return cls._schema()


def _by_wire_name(schema):
    return {(field.data_key or name): field for name, field in schema.fields.items()}


def _inner(field):
    """The element field of a List, repeatedly (lists of lists are flattened, as ONTAP query paths are)."""
    while isinstance(field, mf.List):
        field = field.inner
    return field


def _nested_schema(field):
    field = _inner(field)
    if isinstance(field, mf.Nested):
        return field.schema
    return None


def json_type_of(field):
    """The JSON type a vendor field carries on the wire, or None for free-form fields (any type)."""
    if isinstance(field, mf.List):
        return "array"
    if isinstance(field, mf.Nested):
        return "object"
    if isinstance(field, mf.Boolean):
        return "boolean"
    if isinstance(field, (Size, mf.Integer, mf.Float, mf.Number, mf.Decimal)):
        return "number"
    if isinstance(field, (mf.String, ImpreciseDateTime, mf.DateTime, mf.UUID, mf.Email, mf.Url)):
        return "string"
    return None


def resolve(schema, dotted):
    """The vendor field at a dotted wire path (through arrays), or a message saying where the path leaves the
    vendor's model."""
    parts = dotted.split(".")
    current = schema
    field = None
    for i, part in enumerate(parts):
        if current is None:
            return None, f"'{'.'.join(parts[:i])}' has no sub-fields in the vendor schema"
        fields = _by_wire_name(current)
        field = fields.get(part)
        if field is None:
            where = ".".join(parts[:i]) or "(top level)"
            near = [k for k in fields if k.replace("-", "_") == part.replace("-", "_")]
            hint = f"; the vendor's wire name is '{near[0]}'" if near else ""
            return None, f"unknown field '{part}' under {where} of {type(schema).__name__}{hint}"
        current = _nested_schema(field)
    return field, None


def type_matches(field, json_type):
    """Whether a value of `json_type`, found at a path that ends in `field`, fits the vendor's type. Paths run
    through arrays, so an array field accepts both the array and its elements' type."""
    expected = json_type_of(field)
    if expected is None:
        return True
    if json_type == "null":
        return bool(getattr(field, "allow_none", False))
    if expected == json_type:
        return True
    if isinstance(field, mf.List):
        return type_matches(_inner(field), json_type)
    return False


def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def validate_value(schema, value, where, problems):
    """Checks a whole JSON object against a vendor schema: every key must be a vendor wire name, every value of
    the vendor's type, recursively through nested objects and arrays."""
    if not isinstance(value, dict):
        problems.append(f"{where}: expected an object, got {json_type(value)}")
        return
    fields = _by_wire_name(schema)
    for key, item in value.items():
        path = f"{where}.{key}" if where else key
        field = fields.get(key)
        if field is None:
            problems.append(f"{path}: not a field of the vendor's {type(schema).__name__}")
            continue
        _validate_field(field, item, path, problems)


def _validate_field(field, item, path, problems):
    if item is None:
        if not getattr(field, "allow_none", False):
            problems.append(f"{path}: null where the vendor does not allow it")
        return
    if isinstance(field, mf.List):
        if not isinstance(item, list):
            problems.append(f"{path}: expected an array, got {json_type(item)}")
            return
        for i, element in enumerate(item):
            _validate_field(field.inner, element, f"{path}[{i}]", problems)
        return
    if isinstance(field, mf.Nested):
        validate_value(field.schema, item, path, problems)
        return
    expected = json_type_of(field)
    if expected is not None and expected != json_type(item):
        if isinstance(field, Size) and isinstance(item, str):
            return  # the vendor's Size also reads "10GB"
        problems.append(f"{path}: the vendor's type is {expected}, got {json_type(item)}")
        return
    for check in getattr(field, "validators", []):
        try:
            check(item)
        except Exception as exc:  # marshmallow.ValidationError: a choice outside the vendor's enum, a bad length
            problems.append(f"{path}: {item!r} is refused by the vendor's validation ({exc})")
