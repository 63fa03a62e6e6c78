"""Schema conformance: every field this project's client asks for, sends, or the simulator serves must exist in
NetApp's model with exactly that wire name and type.

Input (argv[1]): a JSON manifest written by vendor-conformance.test.ts:
  {"requests": [{"method", "template", "query", "bodyFields": {path: jsonType}}],   # the client's calls, at the wire
   "served": {restPath: {path: [jsonType, ...]}}}                                      # every field the simulator serves
Output: one JSON line {"vendor", "checked", "problems": [...]} on stdout; exit 1 when there is any problem.
"""

import json
import sys
from urllib.parse import parse_qsl

import vendor_schema as vendor

# Query parameters that steer the request rather than name a field (ONTAP's own controls).
CONTROLS = {"max_records", "return_records", "return_timeout", "order_by"}


def check_query(cls, schema, label, query, problems):
    checked = 0
    parameters = None
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name.startswith("start."):
            continue  # the server's own continuation token, copied from _links.next, not chosen by the client
        if name in CONTROLS:
            continue
        if name == "fields":
            for entry in (f.strip() for f in value.split(",")):
                if entry in ("", "*", "**"):
                    continue
                checked += 1
                _, problem = vendor.resolve(schema, entry)
                if problem:
                    problems.append(f"{label}: fields={entry}: {problem}")
            continue
        checked += 1
        field, problem = vendor.resolve(schema, name)
        if problem:
            # Not a field: an operation's own parameter the vendor documents for this resource (force=true) is fine.
            parameters = vendor.documented_parameters(cls) if parameters is None else parameters
            if name not in parameters:
                problems.append(f"{label}: filter {name}: {problem}")
            continue
        if not filter_value_fits(field, value):
            problems.append(f"{label}: filter {name}={value!r} does not fit the vendor's type {vendor.json_type_of(field)}")
    return checked


def filter_value_fits(field, value):
    kind = vendor.json_type_of(field)
    if kind == "array":
        kind = vendor.json_type_of(field.inner)
    terms = [t.lstrip("!") for t in value.split("|")]
    if kind == "boolean":
        return all(t in ("true", "false") for t in terms)
    if kind == "number":
        return all(t.lstrip("<>=").replace("..", "").replace(".", "").replace("-", "").isdigit() or "*" in t for t in terms)
    return kind != "object"


def check_body(cls, schema, label, method, body_fields, problems):
    allowed = set(getattr(schema, "postable_fields" if method == "POST" else "patchable_fields", []))
    checked = 0
    for path, json_type in body_fields.items():
        checked += 1
        field, problem = vendor.resolve(schema, path)
        if problem:
            problems.append(f"{label}: body {path}: {problem}")
            continue
        if not vendor.type_matches(field, json_type):
            problems.append(f"{label}: body {path}: sent as {json_type}, the vendor's type is {vendor.json_type_of(field)}")
        parts = path.split(".")
        # Postable: the path, one of its parents (`aggregates` allows `aggregates.uuid`), or an object that holds
        # postable fields (`owner` for `owner.uuid`).
        covered = any(".".join(parts[: i + 1]) in allowed for i in range(len(parts))) or any(
            a.startswith(f"{path}.") for a in allowed
        )
        if method in ("POST", "PATCH") and not covered:
            problems.append(f"{label}: body {path}: not among the vendor's {method.lower()}able fields of {cls.__name__}")
    return checked


def check_served(rest_path, fields, problems):
    cls = vendor.resource_for(rest_path)
    if cls is None:
        problems.append(f"served {rest_path}: no vendor resource serves this path")
        return 0
    schema = vendor.schema_of(cls)
    for path, types in sorted(fields.items()):
        field, problem = vendor.resolve(schema, path)
        if problem:
            problems.append(f"served {rest_path}: {path}: {problem}")
            continue
        for json_type in types:
            if not vendor.type_matches(field, json_type):
                problems.append(f"served {rest_path}: {path}: served as {json_type}, the vendor's type is {vendor.json_type_of(field)}")
    return len(fields)


def main():
    with open(sys.argv[1], encoding="utf-8") as fh:
        manifest = json.load(fh)
    problems = []
    checked = 0
    endpoints = set()
    for call in manifest["requests"]:
        label = f"{call['method']} {call['template']}"
        cls = vendor.resource_for(call["template"])
        if cls is None:
            problems.append(f"{label}: no vendor resource serves this path")
            continue
        endpoints.add(f"{label} -> {cls.__module__}.{cls.__name__}")
        schema = vendor.schema_of(cls)
        checked += check_query(cls, schema, label, call.get("query", ""), problems)
        checked += check_body(cls, schema, label, call["method"], call.get("bodyFields") or {}, problems)
    for rest_path, fields in manifest["served"].items():
        checked += check_served(rest_path, fields, problems)
    print(json.dumps({"vendor": vendor.VERSION, "checked": checked, "endpoints": sorted(endpoints), "problems": sorted(set(problems))}))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
