"""Check a Sheets API request against Google's own description of the API: the Sheets v4
discovery document that google-api-python-client ships (`googleapiclient/discovery_cache/
documents/sheets.v4.json`, read from the installed package, never from the network).

`check_request(method, path, query, body)` returns the violations of one HTTP request, each
as "where: what" (empty list: valid):

* the method and path must be one of the document's `resources` methods (`flatPath`, e.g.
  `v4/spreadsheets/{spreadsheetId}:batchUpdate`) with its `httpMethod`;
* every query parameter must be the method's or a global one, with `location: query`, given
  once unless `repeated`, of its type (`true`/`false`, an integer) and in its `enum`;
  `fields` is a field mask of the method's response schema;
* the JSON body is checked recursively against the method's `request` schema: every field
  name exists, types match (string / integer int32 / number / boolean / array / object,
  int64 as a number or a decimal string), `$ref`s followed, enum values valid (and not the
  `…_UNSPECIFIED` default the document says not to use), no null, no field the document
  calls read-only / output only, the protos' oneofs respected (`Request`, `ExtendedValue`,
  `ColorStyle`, `DataFilter` have exactly one kind set, `updateCells` one of `start` /
  `range`, a `DeveloperMetadataLocation` at most one place), and a request's `fields` mask
  names fields of the object it updates (its root is what the document's description says
  is implied) and is not empty.

`check_token_request(method, body)` checks the OAuth token request google-auth makes for a
service account (a JWT-bearer grant, form-encoded): it is google-auth's, and campaignwatch
must leave it as google-auth makes it.
"""
from __future__ import annotations

import base64
import functools
import importlib.util
import json
import re
from pathlib import Path
from urllib.parse import parse_qs

# The protos' `oneof`s, which the discovery document does not mark: exactly one property set,
# exactly one of a group, at most one of a group.
UNIONS = {"Request", "ExtendedValue", "ColorStyle", "DataFilter"}
EXACTLY_ONE = {"UpdateCellsRequest": ("start", "range"),
               "UpdateDimensionPropertiesRequest": ("range", "dataSourceSheetRange")}
AT_MOST_ONE = {"DeveloperMetadataLocation": ("sheetId", "spreadsheet", "dimensionRange")}
READ_ONLY = re.compile(r"This field is read-only|^Output only")
INT32 = (-2**31, 2**31 - 1)


def document_path() -> Path:
    spec = importlib.util.find_spec("googleapiclient")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the Google tests validate every request against the Sheets discovery document that "
                           "google-api-python-client ships: pip install -e '.[test]'")
    return Path(list(spec.submodule_search_locations)[0]) / "discovery_cache" / "documents" / "sheets.v4.json"


@functools.lru_cache(maxsize=1)
def document() -> dict:
    return json.loads(document_path().read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def methods() -> list[tuple[str, re.Pattern, str, dict, int]]:
    """(name, path pattern, HTTP method, method description, literal characters of the template) of
    every method of the document, the most specific template first."""
    out = []

    def walk(resources: dict, prefix: str) -> None:
        for rname, res in resources.items():
            for mname, m in (res.get("methods") or {}).items():
                template = m.get("flatPath") or m["path"]
                pattern, literal = "", 0
                for part in re.split(r"(\{\+?\w+\})", template):
                    if part.startswith("{"):
                        pattern += "([^/]+)"
                    else:
                        pattern += re.escape(part)
                        literal += len(part)
                out.append((prefix + rname + "." + mname, re.compile(pattern), m["httpMethod"], m, literal))
            walk(res.get("resources") or {}, prefix + rname + ".")

    walk(document()["resources"], "")
    out.sort(key=lambda x: -x[4])                  # the most specific template first
    return out


def schema(name: str) -> dict:
    return document()["schemas"][name]


# =========================================================================== one request

def check_request(method: str, path: str, query: dict[str, list[str]], body: bytes) -> list[str]:
    out: list[str] = []
    rel = path.lstrip("/")
    hits = [m for m in methods() if m[1].fullmatch(rel)]
    if not hits:
        return [f"{method} {path}: no such method in the Sheets v4 discovery document"]
    hits = [m for m in hits if m[4] == hits[0][4]]        # `s1:batchUpdate` is not a spreadsheetId
    chosen = next((m for m in hits if m[2] == method.upper()), None)
    if chosen is None:
        return [f"{method} {path}: {hits[0][0]} is {hits[0][2]}, not {method}"]
    name, _, _, desc, _ = chosen
    where = f"{method} {path} ({name})"
    params = dict(document()["parameters"])
    params.update(desc.get("parameters") or {})
    for key, values in query.items():
        spec = params.get(key)
        if spec is None:
            out.append(f"{where}: unknown query parameter {key!r}")
            continue
        if spec.get("location") != "query":
            out.append(f"{where}: {key!r} is a {spec.get('location')} parameter, not a query parameter")
            continue
        if len(values) > 1 and not spec.get("repeated"):
            out.append(f"{where}: query parameter {key!r} given {len(values)} times and is not repeated")
        for v in values:
            problem = _query_value(v, spec)
            if problem:
                out.append(f"{where}: query parameter {key}={v!r}: {problem}")
        if key == "fields" and desc.get("response"):
            for v in values:
                out += [f"{where}: query parameter fields: {p}"
                        for p in check_mask(v, {"$ref": desc["response"]["$ref"]}, response=True)]
    for key, spec in params.items():
        if spec.get("required") and spec.get("location") == "query" and key not in query:
            out.append(f"{where}: required query parameter {key!r} is missing")
    request = desc.get("request")
    if request is None:
        if body.strip():
            out.append(f"{where}: this method takes no request body, got {len(body)} bytes")
        return out
    try:
        doc = json.loads(body.decode("utf-8")) if body.strip() else None
    except (UnicodeDecodeError, ValueError) as err:
        return out + [f"{where}: the body is not JSON: {err}"]
    if not isinstance(doc, dict):
        return out + [f"{where}: the body must be a JSON object ({request['$ref']})"]
    check_value(doc, {"$ref": request["$ref"]}, "", out)
    return [f"{where}: {p}" if not p.startswith(where) else p for p in out]


def _query_value(v: str, spec: dict) -> str | None:
    kind = spec.get("type", "string")
    if kind == "boolean" and v not in ("true", "false"):
        return "expected true or false"
    if kind == "integer" and not re.fullmatch(r"-?\d+", v):
        return "expected an integer"
    if spec.get("enum") and v not in spec["enum"]:
        return f"not one of {', '.join(spec['enum'])}"
    if spec.get("enum") and v.endswith("_UNSPECIFIED"):
        return "the enum's default, which the API says not to use"
    return None


# =========================================================================== JSON bodies

def check_value(value, spec: dict, where: str, out: list[str]) -> None:
    """Append to `out` what in `value` does not fit the discovery schema `spec` (at `where`)."""
    if "$ref" in spec:
        check_object(value, spec["$ref"], where, out)
        return
    at = where or "(body)"
    kind = spec.get("type")
    if value is None:
        out.append(f"{at}: null")
        return
    if kind == "string":
        fmt = spec.get("format")
        if fmt in ("int64", "uint64") and isinstance(value, int) and not isinstance(value, bool):
            return
        if not isinstance(value, str):
            out.append(f"{at}: expected a string, got {_kind(value)} {value!r:.40}")
        elif spec.get("enum") and value not in spec["enum"]:
            out.append(f"{at}: {value!r} is not one of {', '.join(spec['enum'])}")
        elif spec.get("enum") and value.endswith("_UNSPECIFIED"):
            out.append(f"{at}: {value!r} is the enum's default, which the API says not to use")
        elif fmt in ("int64", "uint64") and not re.fullmatch(r"-?\d+", value):
            out.append(f"{at}: expected an integer string, got {value!r:.40}")
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            out.append(f"{at}: expected an integer, got {_kind(value)} {value!r:.40}")
        elif spec.get("format") == "int32" and not INT32[0] <= value <= INT32[1]:
            out.append(f"{at}: {value} does not fit an int32")
    elif kind == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            out.append(f"{at}: expected a number, got {_kind(value)} {value!r:.40}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            out.append(f"{at}: expected true or false, got {_kind(value)} {value!r:.40}")
    elif kind == "array":
        if not isinstance(value, list):
            out.append(f"{at}: expected an array, got {_kind(value)}")
            return
        for i, item in enumerate(value):
            check_value(item, spec.get("items") or {}, f"{where}[{i}]", out)
    elif kind == "object":
        if not isinstance(value, dict):
            out.append(f"{at}: expected an object, got {_kind(value)}")
            return
        if "properties" in spec:
            _check_properties(value, spec, "(inline)", where, out)
        elif "additionalProperties" in spec:
            for k, v in value.items():
                check_value(v, spec["additionalProperties"], f"{where}.{k}" if where else k, out)
    elif kind == "any" or kind is None:
        return
    else:
        out.append(f"{at}: the discovery document's type {kind!r} is not known to this checker")


def check_object(value, name: str, where: str, out: list[str]) -> None:
    sc = schema(name)
    if not isinstance(value, dict):
        out.append(f"{where or '(body)'}: expected an object ({name}), got {_kind(value)} {value!r:.40}")
        return
    _check_properties(value, sc, name, where, out)
    set_keys = [k for k, v in value.items() if v is not None]
    if name in UNIONS and len(set_keys) != 1:
        out.append(f"{where or '(body)'}: a {name} must have exactly one kind set, got "
                   f"{', '.join(set_keys) or 'none'}")
    for groups, least in ((AT_MOST_ONE, 0), (EXACTLY_ONE, 1)):
        if name in groups:
            kinds = [k for k in groups[name] if k in value]
            if not least <= len(kinds) <= 1:
                out.append(f"{where or '(body)'}: a {name} {'has' if least else 'is'} one of "
                           f"{', '.join(groups[name])}, got {', '.join(kinds) or 'none'}")
    props = sc.get("properties") or {}
    mask = props.get("fields")
    if mask is not None and mask.get("format") == "google-fieldmask" and name.endswith("Request"):
        root = mask_root(name)
        if "fields" not in value or not str(value.get("fields") or "").strip():
            if root is not None and re.search(r"At least one field must be specified", mask.get("description", "")):
                out.append(f"{where or '(body)'}.fields: a {name} needs a non-empty fields mask")
        elif root is not None and isinstance(value["fields"], str):
            out += [f"{where}.fields: {p}" for p in check_mask(value["fields"], root)]


def _check_properties(value: dict, sc: dict, name: str, where: str, out: list[str]) -> None:
    props = sc.get("properties") or {}
    for key, v in value.items():
        at = f"{where}.{key}" if where else key
        spec = props.get(key)
        if spec is None:
            out.append(f"{at}: no field {key!r} in {name}")
            continue
        if READ_ONLY.search(spec.get("description", "")):
            out.append(f"{at}: {name}.{key} is read-only")
        check_value(v, spec, at, out)


def _kind(value) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
            dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


# =========================================================================== field masks

def mask_root(request: str) -> dict | None:
    """The schema a request's `fields` mask is relative to, from the document's own description of it."""
    sc = schema(request)
    text = sc["properties"]["fields"].get("description", "")
    m = re.search(r"root [`'\"]?(\w+)[`'\"]? is implied", text) or re.search(r"root is the (\w+)", text) \
        or re.search(r"fields of (\w+) that", text)
    if not m:
        return None
    word = m.group(1)
    prop = (sc.get("properties") or {}).get(word)
    if prop is not None:
        return prop
    prop = next((p for p in (sc.get("properties") or {}).values() if p.get("$ref") == word), None)
    if prop is not None:
        return prop
    return {"$ref": word} if word in document()["schemas"] else None


def parse_mask(text: str) -> list[list[str]]:
    """`a(b,c.d),e` → [["a","b"], ["a","c","d"], ["e"]]."""
    paths: list[list[str]] = []
    pos = 0

    def parse(prefix: list[str], closing: str | None) -> None:
        nonlocal pos
        while True:
            m = re.compile(r"\s*([\w*]+(?:\.[\w*]+)*)\s*").match(text, pos)
            if not m:
                raise ValueError(f"cannot parse the field mask {text!r} at {pos}")
            path = prefix + m.group(1).split(".")
            pos = m.end()
            if pos < len(text) and text[pos] == "(":
                pos += 1
                parse(path, ")")
            else:
                paths.append(path)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            if closing and pos < len(text) and text[pos] == closing:
                pos += 1
                return
            if pos >= len(text) and closing is None:
                return
            raise ValueError(f"cannot parse the field mask {text!r} at {pos}")

    parse([], None)
    return paths


def check_mask(text: str, root: dict, response: bool = False) -> list[str]:
    """What in the field mask `text` does not name a field under the schema `root`."""
    try:
        paths = parse_mask(text)
    except ValueError as err:
        return [str(err)]
    out = []
    for path in paths:
        spec = root
        for i, part in enumerate(path):
            if part == "*":
                if i != len(path) - 1:
                    out.append(f"{'.'.join(path)}: '*' must end a path")
                break
            while spec.get("type") == "array":
                spec = spec.get("items") or {}
            sc = schema(spec["$ref"]) if "$ref" in spec else spec
            props = sc.get("properties")
            if props is None:
                if sc.get("additionalProperties") is not None:
                    spec = sc["additionalProperties"]
                    continue
                out.append(f"{'.'.join(path)}: {'.'.join(path[:i]) or 'the root'} has no fields")
                break
            if part not in props:
                out.append(f"{'.'.join(path)}: no field {part!r} in {spec.get('$ref', 'the object')}")
                break
            spec = props[part]
    return out


# =========================================================================== the token request

TOKEN_FORM = {"grant_type", "assertion"}
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_HEADER = {"alg", "typ", "kid"}
JWT_CLAIMS = {"iss", "aud", "iat", "exp", "scope"}


def check_token_request(method: str, body: bytes) -> list[str]:
    """The service-account token request as google-auth makes it (RFC 7523 JWT-bearer grant)."""
    where = f"{method} token request"
    if method != "POST":
        return [f"{where}: must be a POST"]
    try:
        form = parse_qs(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as err:
        return [f"{where}: the body is not a form: {err}"]
    out = []
    if set(form) != TOKEN_FORM or any(len(v) != 1 for v in form.values()):
        out.append(f"{where}: form fields {sorted(form)}, expected exactly {sorted(TOKEN_FORM)}")
    if form.get("grant_type", [""])[0] != JWT_GRANT:
        out.append(f"{where}: grant_type {form.get('grant_type')!r}")
    try:
        head, claims, sig = form.get("assertion", [""])[0].split(".")
        header, payload = (json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))) for p in (head, claims))
    except ValueError:
        return out + [f"{where}: the assertion is not a signed JWT"]
    if set(header) != JWT_HEADER or header.get("alg") != "RS256" or header.get("typ") != "JWT":
        out.append(f"{where}: JWT header {sorted(header)} alg={header.get('alg')!r}")
    if set(payload) != JWT_CLAIMS:
        out.append(f"{where}: JWT claims {sorted(payload)}, expected {sorted(JWT_CLAIMS)}")
    if not sig:
        out.append(f"{where}: the JWT has no signature")
    return out
