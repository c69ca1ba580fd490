"""A check of our own for scripts/fuzz-api.sh (SCHEMATHESIS_HOOKS).

A schema-valid request may be refused with a 400 only where no JSON Schema can say why: a
cursor or feed position this server never handed out, parameters that exclude each other
(two of consistent/at_version/as_of, a cursor with from_version or another direction, wait on
a backward read). Any other 400 code on schema-valid data means the document and the server
read a field differently, which positive_data_acceptance alone (it must allow 400 for the
cases above) would not catch.
"""

import schemathesis

UNSTATABLE = {
    "invalid_cursor",
    "invalid_position",
    "conflicting_parameters",
    "invalid_parameter",
    "invalid_wait",
}


@schemathesis.check
def schema_valid_refused_only_for_what_no_schema_says(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    # The stateful phase fills parameters from earlier responses (links it infers included),
    # not from the schema: its values need not be schema-valid.
    if str(meta.phase.name) == "stateful":
        return None
    try:
        code = response.json().get("error")
    except Exception:
        raise AssertionError("a 400 without the documented JSON error body")
    if code not in UNSTATABLE:
        raise AssertionError(
            f"a schema-valid request was refused with 400 {code}: "
            "the document and the server read it differently"
        )
    return None
