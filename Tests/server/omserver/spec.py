"""Validation of requests (and responses) against OpenAI's API description.

The description is ``shared/openai-openapi/openapi.yaml`` beside the
repository.  openapi-core 0.23 needs it adjusted before use (see the README
next to the file): the self-check is turned off, every ``discriminator`` is
removed (their implicit mappings name schemas that do not exist) and the
``type`` of properties declared ``format: binary`` is dropped so multipart
uploads validate.  In addition, the 3.0-style ``nullable: true`` that the
3.1 description still uses is rewritten as an explicit null alternative, so
the nulls its authors allow are not reported as violations.  Paths are validated as ``/v1/...`` against the host
``https://api.openai.com``.
"""

import json
import os
import sys

API_HOST = "https://api.openai.com"
SPEC_PARTS = ("shared", "openai-openapi", "openapi.yaml")
ENV_VAR = "OM_OPENAPI_SPEC"


def repo_root():
    """The repository root: three levels above this file (Tests/server/omserver)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", ".."))


def find_spec_path():
    """Return (path or None, explanation)."""
    env = os.environ.get(ENV_VAR)
    if env:
        if os.path.isfile(env):
            return os.path.abspath(env), f"{ENV_VAR}={env}"
        return None, f"{ENV_VAR}={env} does not exist"
    root = repo_root()
    candidates = [os.path.join(root, "..", *SPEC_PARTS),
                  os.path.join("/work", *SPEC_PARTS)]
    d = root
    while True:
        candidates.append(os.path.join(d, *SPEC_PARTS))
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    for c in candidates:
        if os.path.isfile(c):
            return os.path.normpath(os.path.abspath(c)), "found"
    return None, "no shared/openai-openapi/openapi.yaml near " + root


_KEEP_OUTSIDE = ("description", "title", "default", "example", "examples", "deprecated",
                 "x-oaiTypeLabel", "x-oaiMeta", "x-stainless-const", "readOnly", "writeOnly")


def _make_nullable(n):
    """Rewrite OpenAPI 3.0 ``nullable: true`` in the 3.1 way, in place.

    The description is OpenAPI 3.1, which dropped ``nullable``, yet it still
    marks some fields so (e.g. ``suffix`` of a fine-tuning job, ``usage`` of
    a stream chunk).  openapi-core 0.23 ignores the keyword, which would
    reject the nulls the authors allow.
    """
    del n["nullable"]
    t = n.get("type")
    if isinstance(t, str) and "$ref" not in n and not any(k in n for k in ("allOf", "anyOf", "oneOf")):
        n["type"] = [t, "null"]
        if isinstance(n.get("enum"), list) and None not in n["enum"]:
            n["enum"] = n["enum"] + [None]
        return
    if isinstance(t, list):
        if "null" not in t:
            t.append("null")
        if isinstance(n.get("enum"), list) and None not in n["enum"]:
            n["enum"] = n["enum"] + [None]
        if "$ref" not in n and not any(k in n for k in ("allOf", "anyOf", "oneOf")):
            return
    inner = {k: n.pop(k) for k in list(n) if k not in _KEEP_OUTSIDE}
    n["anyOf"] = [inner, {"type": "null"}]


def _walk(roots):
    """Every dict under ``roots`` once (iteratively)."""
    stack = list(roots)
    seen = set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, dict):
            yield n
            stack.extend(v for v in n.values() if isinstance(v, (dict, list)))
        elif isinstance(n, list):
            stack.extend(v for v in n if isinstance(v, (dict, list)))


def _adjust(spec):
    """Prepare the description for openapi-core, in place.

    Strips ``discriminator`` and drops ``type`` beside ``format: binary``
    everywhere; turns ``nullable: true`` into an explicit null alternative in
    body schemas (not in parameters, whose deserialization in openapi-core
    needs a single ``type``).
    """
    for n in _walk([spec]):
        n.pop("discriminator", None)
        if n.get("format") == "binary" and "type" in n:
            del n["type"]
    comps = spec.get("components", {})
    roots = [comps.get("schemas"), comps.get("requestBodies"), comps.get("responses")]
    for item in (spec.get("paths") or {}).values():
        for op in item.values():
            if isinstance(op, dict):
                roots += [op.get("requestBody"), op.get("responses")]
    for n in list(_walk([r for r in roots if r])):
        if n.get("nullable") is True:
            _make_nullable(n)


def load_spec_dict(path):
    import yaml
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, "rb") as f:
        spec = yaml.load(f, Loader=loader)
    _adjust(spec)
    return spec


class _Request:
    """The request protocol openapi-core expects."""

    def __init__(self, method, path, query, headers, content_type, body):
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict
        self.host_url = API_HOST
        self.path = path
        self.method = method.lower()
        self.body = body
        self.content_type = content_type or ""
        if isinstance(query, dict):
            query = list(query.items())
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(query or [])),
            header=Headers(list((headers or {}).items())),
            cookie=ImmutableMultiDict(),
            path={},
        )


class _Response:
    def __init__(self, status, content_type, body, headers=None):
        from werkzeug.datastructures import Headers
        self.status_code = status
        self.content_type = content_type
        self.data = body
        self.headers = Headers(list((headers or {}).items()))


def _clip(text, n=300):
    text = str(text)
    return text if len(text) <= n else text[:n] + "..."


def _closest(err, depth=0):
    """Among the failures of a oneOf/anyOf, the branch that came nearest."""
    branches = {}
    for sub in err.context:
        key = sub.relative_schema_path[0] if sub.relative_schema_path else None
        branches.setdefault(key, []).append(sub)
    # fewest failures first, then the one that got deepest into the value
    best = min(branches.values(),
               key=lambda errs: (len(errs), -max(len(e.absolute_path) for e in errs)))
    sub = max(best, key=lambda e: len(e.absolute_path))
    if sub.context and depth < 4:
        return _closest(sub, depth + 1)
    return sub


def _schema_error_text(err):
    """One jsonschema error as 'location: message', with the closest sub-error."""
    loc = "/".join(str(p) for p in err.absolute_path)
    text = (loc + ": " if loc else "") + _clip(err.message, 200)
    if err.context:
        best = _closest(err)
        bloc = "/".join(str(p) for p in best.absolute_path)
        text += f" (closest: {bloc + ': ' if bloc else ''}{_clip(best.message, 200)})"
    return text


def describe_error(exc):
    """A readable, bounded one-line description of an openapi-core error."""
    chain = []
    e = exc
    while e is not None and len(chain) < 6:
        chain.append(e)
        e = e.__cause__ or e.__context__
    head = type(exc).__name__
    for e in chain:
        schema_errors = getattr(e, "schema_errors", None)
        if schema_errors:
            return head + ": " + "; ".join(_schema_error_text(se) for se in schema_errors[:5])
    first = _clip(str(exc), 200)
    last = _clip(str(chain[-1]), 200)
    text = f"{head}: {first}" if first else head
    if len(chain) > 1 and last and last not in first:
        text += f" ({last})"
    return text


class SpecValidator:
    """Wraps one loaded API description; thread-safe for validation calls."""

    def __init__(self, path):
        from openapi_core import Config, OpenAPI
        self.path = path
        self.spec_dict = load_spec_dict(path)
        self.api = OpenAPI.from_dict(self.spec_dict, config=Config(spec_validator_cls=None))

    def request_errors(self, method, path, query=None, headers=None,
                       content_type=None, body=None):
        """Validate one request; returns a list of readable error strings."""
        req = _Request(method, path, query, headers, content_type, body)
        try:
            self.api.validate_request(req)
        except Exception as exc:  # openapi-core raises many kinds
            return [describe_error(exc)]
        return []

    def response_errors(self, method, path, status, body, content_type="application/json",
                        query=None, request_headers=None, response_headers=None,
                        request_body=None, request_content_type="application/json"):
        """Validate a response given for a request; returns error strings."""
        if request_headers is None:
            request_headers = {"Authorization": "Bearer sk-validate"}
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        req = _Request(method, path, query, request_headers, request_content_type, request_body)
        resp = _Response(status, content_type, body, response_headers)
        try:
            self.api.validate_response(req, resp)
        except Exception as exc:
            return [describe_error(exc)]
        return []


    def schema_errors(self, schema_name, value):
        """Validate a value against one named schema of components/schemas.

        Used for what the request/response validators cannot reach, such as
        the JSON objects inside a server-sent event stream.
        """
        if getattr(self, "_registry", None) is None:
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT202012
            resource = Resource.from_contents(self.spec_dict, default_specification=DRAFT202012)
            self._registry = Registry().with_resource("urn:openai-openapi", resource)
            from openapi_schema_validator import OAS31Validator
            self._validator_cls = OAS31Validator
        schema = {"$ref": f"urn:openai-openapi#/components/schemas/{schema_name}"}
        validator = self._validator_cls(schema, registry=self._registry)
        return [_schema_error_text(e) for e in validator.iter_errors(value)]


def load_validator(log=sys.stderr):
    """Find and load the description; None (with a note on ``log``) when absent."""
    path, why = find_spec_path()
    if path is None:
        print(f"openai test server: API description not found ({why}); "
              "request validation is OFF", file=log, flush=True)
        return None
    try:
        import openapi_core  # noqa: F401
        import yaml  # noqa: F401
    except ImportError as exc:
        raise SystemExit(f"openai test server: {exc}; validating requests needs "
                         "openapi-core==0.23.1 and PyYAML (or run with --no-validate)")
    return SpecValidator(path)
