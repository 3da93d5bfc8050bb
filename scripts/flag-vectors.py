#!/usr/bin/env python3
"""Writes lib/flags/vectors.json from an independent Python implementation of the flag contract (v2).

The TypeScript modules (lib/flags/documents.ts, json-text.ts, evaluate.ts, loaded-flags.ts) are tested
against this file, so the vectors prove that two implementations in two languages agree on every rule of
docs/flag-contract.md; a PHP or Go reader runs the same file. Regenerate only when the contract itself
changes, lay it out with the repository's formatter and review the diff:
python3 scripts/flag-vectors.py && npx biome format --write lib/flags/vectors.json
"""
import base64
import calendar
import json
import pathlib
import re

MAX_BYTES = 8192
MAX_DEPTH = 8
USER_ID = re.compile(r"[A-Za-z0-9_.@:-]{1,64}")
RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z")
CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f]")
KEYS = {
    "routing": {"mode", "users", "percent", "reason", "override"},
    "cutover": {"completed", "completedAt", "runId"},
    "gateway": {"weight", "reason"},
    "override": {"acceptDataLoss", "reason", "expiresAt"},
}


class Invalid(Exception):
    pass


# --- lexical rules: Python's json module with hooks that refuse what the contract forbids ---


def _no_float(text):
    raise Invalid(f"number {text} is not a plain whole number")


def _no_constant(text):
    raise Invalid(f"{text} is not JSON")


def _unique_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise Invalid("duplicate key")
    return dict(pairs)


def _int(text):
    if text.startswith("-"):
        raise Invalid("signed number")
    if len(text) > 15:
        raise Invalid("too many digits")
    return int(text)


def _scalar_strings(value, depth=0):
    """Every string must be Unicode scalar values (no lone surrogate) other than U+FFFD; nesting at most MAX_DEPTH."""
    if isinstance(value, (dict, list)):
        depth += 1
        if depth > MAX_DEPTH:
            raise Invalid("nested too deep")
        items = list(value.items()) if isinstance(value, dict) else [(None, v) for v in value]
        for k, v in items:
            if k is not None:
                _scalar_strings(k, depth)
            _scalar_strings(v, depth)
    elif isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise Invalid("lone surrogate") from e
        if "\ufffd" in value:
            raise Invalid("U+FFFD (what a decoder puts for bytes that are not UTF-8)")


def load(text):
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise Invalid("too large")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_float=_no_float,
            parse_int=_int,
            parse_constant=_no_constant,
        )
    except (ValueError, RecursionError) as e:
        raise Invalid(str(e)) from e
    _scalar_strings(value)
    if not isinstance(value, dict):
        raise Invalid("not an object")
    return value


# --- field rules ---


def is_int(v, lo, hi):
    return type(v) is int and lo <= v <= hi


def text_ok(v, lo):
    return isinstance(v, str) and lo <= len(v) <= 200 and not CONTROL.search(v)


def time_ok(v):
    if not isinstance(v, str):
        return False
    m = TIME.fullmatch(v)
    if not m:
        return False
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    return y >= 1970 and 1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1] and h <= 23 and mi <= 59 and s <= 59


def parse(kind, text):
    """The document as a dict with defaults applied, or raise Invalid."""
    doc = load(text)
    if set(doc) - KEYS[kind]:
        raise Invalid("unknown key")
    if kind == "routing":
        mode = doc.get("mode")
        users = doc.get("users", [])
        if mode not in ("off", "users", "percent", "all"):
            raise Invalid("mode")
        if not isinstance(users, list) or not all(isinstance(u, str) and USER_ID.fullmatch(u) for u in users):
            raise Invalid("users")
        if len(set(users)) != len(users):
            raise Invalid("duplicate user")
        if mode == "users" and not users:
            raise Invalid("users mode without users")
        if mode == "percent" and "percent" not in doc:
            raise Invalid("percent mode without percent")
        percent = doc.get("percent", 0)
        if not is_int(percent, 0, 100):
            raise Invalid("percent")
        if "reason" in doc and not text_ok(doc["reason"], 1):
            raise Invalid("reason")
        out = {"mode": mode, "users": users, "percent": percent}
        if "override" in doc:
            o = doc["override"]
            if not isinstance(o, dict) or set(o) != {"expiresAt", "acceptDataLoss"}:
                raise Invalid("override keys")
            if not time_ok(o["expiresAt"]) or not text_ok(o["acceptDataLoss"], 10):
                raise Invalid("override fields")
            out["override"] = o
        return out
    if kind == "cutover":
        if doc.get("completed") is False:
            if len(doc) != 1:
                raise Invalid("extra keys when not completed")
            return {"completed": False}
        if doc.get("completed") is not True:
            raise Invalid("completed")
        if not time_ok(doc.get("completedAt")):
            raise Invalid("completedAt")
        if not isinstance(doc.get("runId"), str) or not RUN_ID.fullmatch(doc["runId"]):
            raise Invalid("runId")
        return doc
    if kind == "gateway":
        if not is_int(doc.get("weight"), 0, 100):
            raise Invalid("weight")
        if "reason" in doc and not text_ok(doc["reason"], 1):
            raise Invalid("reason")
        return doc
    if doc.get("acceptDataLoss") is not True or not text_ok(doc.get("reason"), 10) or not time_ok(doc.get("expiresAt")):
        raise Invalid("override")
    return doc


def valid(kind, text):
    try:
        parse(kind, text)
        return True
    except Invalid:
        return False


def valid_bytes(kind, raw):
    """A reader of the raw bytes: they must be UTF-8 (strictly: no overlong form, no encoded surrogate)."""
    try:
        text = raw.decode("utf-8", "strict")
    except UnicodeDecodeError:
        return False
    return valid(kind, text)


# --- evaluation ---


def fnv1a32(text):
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def bucket(service, user):
    return fnv1a32(f"{service}:{user}") % 100


def routes(doc, service, user):
    mode = doc["mode"]
    users = doc.get("users", [])
    if mode == "off":
        return False
    if mode == "all":
        return True
    if mode == "users":
        return user in users
    return user in users or bucket(service, user) < doc["percent"]


def epoch_ms(t):
    """Milliseconds since the epoch: the fraction truncated to its first three digits (the contract's precision)."""
    m = TIME.fullmatch(t)
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    millis = int((m.group(7) or ".")[1:4].ljust(3, "0"))
    return calendar.timegm((y, mo, d, h, mi, s)) * 1000 + millis


def destination(case):
    routing, cutover, override = case["routing"], case["cutover"], case["override"]

    def routed():
        if routing["mode"] == "off":
            return "legacy"
        if routing["mode"] == "all":
            return "service"
        if case["userId"] is None:
            return case["anonymous"]
        return "service" if routes(routing, case["service"], case["userId"]) else "legacy"

    if case["cutoverRecorded"] or (cutover is not None and cutover["completed"]):
        ref = routing.get("override") if routing else None
        if ref and override and ref["expiresAt"] == override["expiresAt"] and epoch_ms(case["now"]) < epoch_ms(override["expiresAt"]):
            return routed()
        return "service"
    if cutover is None and case["phase"] >= 2:
        return "unavailable"
    return routed() if routing else "legacy"


def latch(loads):
    """The cutover a reader holds after a sequence of loads: kept on errors, never un-completed."""
    held = None
    for outcome in loads:
        if outcome["status"] != "ok" or not valid("cutover", outcome["text"]):
            continue
        doc = parse("cutover", outcome["text"])
        if held and held["completed"] and not doc["completed"]:
            continue
        held = doc
    return held


# --- the vectors ---


def sized(n_bytes, pad="a"):
    """A routing document of exactly n_bytes bytes of UTF-8: a long allowlist, then a reason padded with `pad`."""
    width = len(pad.encode("utf-8"))
    for count in range(2000, 0, -1):
        head = '{"mode":"users","users":[' + ",".join(f'"u{i:05d}"' for i in range(count)) + '],"reason":"'
        rest = n_bytes - len(head.encode("utf-8")) - 2
        if rest >= width and rest % width == 0 and rest // width <= 200:
            return head + pad * (rest // width) + '"}'
    raise AssertionError(n_bytes)


def parsing_vectors():
    r = '{"mode":"off","users":[],"percent":0'
    cases = [
        ("routing", '{"mode":"off"}'),
        ("routing", '{"mode":"off","users":[],"percent":0}'),
        ("routing", ' \t\r\n{"mode" : "all"}\n'),
        ("routing", '{"mode":"users","users":["42","alice@example.com","u:1","A.b_C-9"]}'),
        ("routing", '{"mode":"percent","percent":10,"reason":"ramp"}'),
        ("routing", '{"mode":"percent","percent":0}'),
        ("routing", '{"mode":"percent","percent":100}'),
        ("routing", '{"mode":"percent","percent":101}'),
        ("routing", '{"mode":"percent"}'),
        ("routing", '{"mode":"users","users":[]}'),
        ("routing", '{"mode":"users","users":["42","42"]}'),
        ("routing", '{"mode":"users","users":[42]}'),
        ("routing", '{"mode":"users","users":["has space"]}'),
        ("routing", '{"mode":"users","users":["' + "x" * 64 + '"]}'),
        ("routing", '{"mode":"users","users":["' + "x" * 65 + '"]}'),
        ("routing", '{"mode":"ALL"}'),
        ("routing", '{"mode":"off","extra":1}'),
        ("routing", '{"users":["1"]}'),
        # how a number may be written: plain digits only
        ("routing", '{"mode":"percent","percent":10.0}'),
        ("routing", '{"mode":"percent","percent":1e1}'),
        ("routing", '{"mode":"percent","percent":1E1}'),
        ("routing", '{"mode":"percent","percent":-0}'),
        ("routing", '{"mode":"percent","percent":-5}'),
        ("routing", '{"mode":"percent","percent":010}'),
        ("routing", '{"mode":"percent","percent":+10}'),
        ("routing", '{"mode":"percent","percent":"10"}'),
        ("routing", '{"mode":"percent","percent":true}'),
        ("routing", '{"mode":"percent","percent":0000000000000010}'),
        ("routing", '{"mode":"percent","percent":1000000000000000}'),
        # duplicate keys, in the document and nested
        ("routing", '{"mode":"off","mode":"all"}'),
        ("routing", '{"mode":"off","users":[],"users":["1"]}'),
        ("routing", r + ',"override":{"expiresAt":"2026-11-26T18:00:00Z","expiresAt":"2026-11-26T18:00:00Z","acceptDataLoss":"INC-4711, approved"}}'),
        # Unicode: escapes, surrogate pairs and lone surrogates
        ("routing", r + ',"reason":"caf\\u00e9"}'),
        ("routing", r + ',"reason":"\\ud83d\\ude00 ok"}'),
        ("routing", r + ',"reason":"\U0001F600 ok"}'),
        ("routing", r + ',"reason":"\\ud83d"}'),
        ("routing", r + ',"reason":"\\ude00"}'),
        ("routing", r + ',"reason":"\\ud83d\\u0041"}'),
        ("routing", r + ',"reason":"line\\nbreak"}'),
        ("routing", r + ',"reason":"tab\there"}'),
        ("routing", r + ',"reason":"bad \\x escape"}'),
        ("routing", r + ',"reason":""}'),
        # the reason limit counts Unicode code points, not bytes or UTF-16 units
        ("routing", r + ',"reason":"' + "a" * 200 + '"}'),
        ("routing", r + ',"reason":"' + "a" * 201 + '"}'),
        ("routing", r + ',"reason":"' + "\u00e9" * 200 + '"}'),
        ("routing", r + ',"reason":"' + "\U0001F600" * 200 + '"}'),
        ("routing", r + ',"reason":"' + "\U0001F600" * 201 + '"}'),
        # the override reference (key two)
        ("routing", '{"mode":"off","override":{"expiresAt":"2026-11-26T18:00:00Z","acceptDataLoss":"INC-4711, approved by the CTO"}}'),
        ("routing", '{"mode":"off","override":{"expiresAt":"2026-11-26T18:00:00Z","acceptDataLoss":"too short"}}'),
        ("routing", '{"mode":"off","override":{"expiresAt":"2026-11-26T18:00:00Z"}}'),
        ("routing", '{"mode":"off","override":{"expiresAt":"tomorrow","acceptDataLoss":"INC-4711, approved by the CTO"}}'),
        # not a JSON object, or not JSON at all
        ("routing", ""),
        ("routing", "{mode: off}"),
        ("routing", "[]"),
        ("routing", "null"),
        ("routing", '"off"'),
        ("routing", '{"mode":"off"} {}'),
        ("routing", '{"mode":"off",}'),
        ("routing", "\ufeff" + '{"mode":"off"}'),
        ("routing", '{"mode":"off","percent":NaN}'),
        # deep nesting is refused without exhausting a parser's stack
        ("routing", '{"mode":"off","x":' + "[" * 2000 + "]" * 2000 + "}"),
        # the byte limit: 8192 bytes of UTF-8 whatever the tier (writers check their own tier on top)
        ("routing", sized(MAX_BYTES)),
        ("routing", sized(MAX_BYTES + 1)),
        ("routing", sized(MAX_BYTES - 1, "\u00e9")),
        ("routing", sized(MAX_BYTES + 1, "\u00e9")),
        # cutover
        ("cutover", '{"completed":false}'),
        ("cutover", '{"completed":false,"runId":"x"}'),
        ("cutover", '{"completed":"false"}'),
        ("cutover", '{"completed":true}'),
        ("cutover", '{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":"users-cutover-20261126T100000"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-11-26T10:00:00.123Z","runId":"7d9b2e4c-3f0a-4b1e-9c8d-2a6f5e4d3c2b"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-11-26T10:00:00.123456789Z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-11-26T10:00:00.1234567890Z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-11-26 10:00:00Z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-11-26T10:00:00+01:00","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-11-26T10:00:00","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-02-29T10:00:00Z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"2028-02-29T10:00:00Z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"2100-02-29T10:00:00Z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"2000-02-29T10:00:00Z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-04-31T10:00:00Z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-13-01T10:00:00Z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-12-31T24:00:00Z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-12-31T23:59:60Z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"1969-12-31T23:59:59Z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":"arn:aws:states:eu-west-1:123456789012:execution:x:y"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":"run.1"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":""}'),
        ("cutover", '{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":"' + "r" * 80 + '"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":"' + "r" * 81 + '"}'),
        # gateway
        ("gateway", '{"weight":0}'),
        ("gateway", '{"weight":100,"reason":"done"}'),
        ("gateway", '{"weight":101}'),
        ("gateway", '{"weight":50.5}'),
        ("gateway", '{"weight":5e1}'),
        ("gateway", '{}'),
        ("gateway", '{"weight":1,"reason":"' + "b" * 200 + '"}'),
        ("gateway", '{"weight":1,"reason":"' + "b" * 201 + '"}'),
        # null is no value of any field, and a key is compared after unescaping
        ("routing", '{"mode":"off","reason":null}'),
        ("cutover", '{"completed":null}'),
        ("routing", '{"mode":"off","m\\u006fde":"all"}'),
        # DEL and C1 control characters in a reason (raw and escaped)
        ("routing", r + ',"reason":"del \u007f"}'),
        ("routing", r + ',"reason":"del \\u007f"}'),
        ("routing", r + ',"reason":"c1 \u0085"}'),
        ("routing", r + ',"reason":"c1 \\u009f"}'),
        ("routing", r + ',"reason":"latin \u00a0 ok"}'),
        # U+FFFD is refused anywhere (what a decoder puts for bytes that are not UTF-8)
        ("routing", r + ',"reason":"bad \ufffd byte"}'),
        ("routing", r + ',"reason":"bad \\ufffd byte"}'),
        # whitespace: only space, tab, LF and CR
        ("routing", '\u000b{"mode":"off"}'),
        ("routing", '{"mode":"off"}\u000c'),
        ("routing", '\u00a0{"mode":"off"}'),
        ("routing", '{"mode":\u2028"off"}'),
        # an empty user id
        ("routing", '{"mode":"users","users":[""]}'),
        # nesting: at the limit (refused for its unknown key only) and one past it
        ("routing", '{"mode":"off","x":' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"),
        ("routing", '{"mode":"off","x":' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"),
        # times: upper-case T and Z only, years 1970-9999
        ("cutover", '{"completed":true,"completedAt":"2026-11-26t10:00:00z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"2026-11-26T10:00:00z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"0000-01-01T00:00:00Z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"10000-01-01T00:00:00Z","runId":"run_1"}'),
        ("cutover", '{"completed":true,"completedAt":"9999-12-31T23:59:59.999999999Z","runId":"run_1"}'),
        # override (key one)
        ("override", '{"acceptDataLoss":true,"reason":"users DB corrupted, INC-4711","expiresAt":"2026-11-26T18:00:00Z"}'),
        ("override", '{"acceptDataLoss":false,"reason":"users DB corrupted, INC-4711","expiresAt":"2026-11-26T18:00:00Z"}'),
        ("override", '{"acceptDataLoss":true,"reason":"short","expiresAt":"2026-11-26T18:00:00Z"}'),
        ("override", '{"acceptDataLoss":true,"reason":"users DB corrupted, INC-4711"}'),
        ("override", '{"acceptDataLoss":true,"reason":"users DB corrupted, INC-4711","expiresAt":"2026-11-31T18:00:00Z"}'),
    ]
    vectors = [{"kind": kind, "text": text, "valid": valid(kind, text)} for kind, text in cases]
    # Bytes a JSON string cannot carry: the value's raw bytes, in base64 (a reader decodes them first).
    raw = [
        ("routing", '{"mode":"off","reason":"caf\u00e9"}'.encode("utf-8")),
        ("routing", b'{"mode":"off","reason":"caf\xe9"}'),
        ("routing", b'{"mode":"off","reason":"over\xc0\xaflong"}'),
        ("routing", b'{"mode":"off","reason":"cut \xe2\x82"}'),
        ("routing", b'{"mode":"off","reason":"surrogate \xed\xa0\x80"}'),
        ("cutover", b'\xff{"completed":false}'),
    ]
    vectors += [
        {"kind": kind, "textBase64": base64.b64encode(b).decode("ascii"), "valid": valid_bytes(kind, b)}
        for kind, b in raw
    ]
    return vectors


def decision_vectors():
    off = {"mode": "off", "users": ["42"], "percent": 100}
    all_ = {"mode": "all", "users": [], "percent": 0}
    users = {"mode": "users", "users": ["42"], "percent": 0}
    percent = {"mode": "percent", "users": ["1"], "percent": 30}
    done = {"completed": True, "completedAt": "2026-11-26T10:00:00Z", "runId": "users-cutover-20261126T100000"}
    not_done = {"completed": False}
    expires = "2026-11-27T08:00:00Z"
    override = {"acceptDataLoss": True, "reason": "users DB corrupted, INC-4711", "expiresAt": expires}
    ref = {"expiresAt": expires, "acceptDataLoss": "INC-4711, approved by the CTO"}
    other_ref = {"expiresAt": "2026-11-27T09:00:00Z", "acceptDataLoss": "INC-4711, approved by the CTO"}
    before, after = "2026-11-27T07:59:59.999Z", "2026-11-27T08:00:00Z"
    cases = []
    for phase in (1, 2, 3):
        for recorded in (False, True):
            for routing in (None, off, all_, users, percent, dict(off, override=ref), dict(users, override=ref), dict(off, override=other_ref)):
                for cutover in (None, not_done, done):
                    for ov in (None, override):
                        for now in (before, after):
                            for user, anonymous in (("42", "legacy"), ("7", "legacy"), (None, "legacy"), (None, "service")):
                                case = {
                                    "service": "users",
                                    "phase": phase,
                                    "cutoverRecorded": recorded,
                                    "routing": routing,
                                    "cutover": cutover,
                                    "override": ov,
                                    "now": now,
                                    "userId": user,
                                    "anonymous": anonymous,
                                }
                                # Keep the file reviewable: the marker only from phase 2 (the config refuses it
                                # earlier), phase 3 only where it could differ from 2, `now` only with both keys.
                                if recorded and phase == 1:
                                    continue
                                if phase == 3 and (recorded or routing not in (None, users)):
                                    continue
                                if now == after and not (ov and routing and "override" in routing):
                                    continue
                                case["expected"] = destination(case)
                                cases.append(case)
    # The precision of a time: milliseconds, the rest of the fraction truncated. An override that expires
    # at 08:00:00.0009 has expired at 08:00:00.000 in every reader.
    fine = dict(override, expiresAt="2026-11-27T08:00:00.0009Z")
    fine_ref = dict(ref, expiresAt=fine["expiresAt"])
    for now in ("2026-11-27T07:59:59.999Z", "2026-11-27T08:00:00.000Z", "2026-11-27T08:00:00.0001Z"):
        case = {
            "service": "users", "phase": 2, "cutoverRecorded": False, "routing": dict(off, override=fine_ref),
            "cutover": done, "override": fine, "now": now, "userId": "42", "anonymous": "legacy",
        }
        case["expected"] = destination(case)
        cases.append(case)
    # The marker as the monolith's environment gives it (MIGRATION_<NAME>_CUTOVER_RECORDED): the run id, or
    # an empty string when the cutover is not recorded.
    for marker in ("users-cutover-20261126T100000", ""):
        for cutover in (None, not_done):
            case = {
                "service": "users", "phase": 2, "cutoverRecorded": marker, "routing": off, "cutover": cutover,
                "override": None, "now": before, "userId": "42", "anonymous": "legacy",
            }
            case["expected"] = destination(case)
            cases.append(case)
    return cases


def latch_vectors():
    ok = lambda text: {"status": "ok", "text": text}  # noqa: E731
    done = ok('{"completed":true,"completedAt":"2026-11-26T10:00:00Z","runId":"run_1"}')
    not_done = ok('{"completed":false}')
    missing, error, garbage = {"status": "missing"}, {"status": "error"}, ok('{"completed":')
    sequences = [
        [],
        [error],
        [missing],
        [not_done],
        [done],
        [not_done, done],
        [done, not_done],
        [done, missing],
        [done, error],
        [done, garbage],
        [done, not_done, missing, error, garbage],
        [not_done, missing],
        [not_done, garbage],
        [garbage],
        [garbage, done, not_done],
        # a second completed cutover after the first: the newer one is held (still completed)
        [done, ok('{"completed":true,"completedAt":"2026-11-27T10:00:00Z","runId":"run_2"}')],
    ]
    return [{"loads": s, "cutover": latch(s)} for s in sequences]


def dump(out):
    """One vector per line, so that a diff shows which vectors changed."""
    parts = []
    for key, value in out.items():
        if isinstance(value, list):
            items = ",\n".join("  " + json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in value)
            parts.append(f" {json.dumps(key)}: [\n{items}\n ]")
        else:
            parts.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main():
    ids = ["1", "2", "42", "1001", "99999", "alice@example.com", "user-7", "u:123", "A.b_C-9"]
    docs = [
        {"mode": "off", "users": ["42"], "percent": 100},
        {"mode": "all", "users": [], "percent": 0},
        {"mode": "users", "users": ["42", "alice@example.com"], "percent": 0},
        {"mode": "percent", "users": [], "percent": 0},
        {"mode": "percent", "users": [], "percent": 10},
        {"mode": "percent", "users": [], "percent": 50},
        {"mode": "percent", "users": ["1"], "percent": 20},
        {"mode": "percent", "users": [], "percent": 100},
    ]
    cases = [
        {"service": service, "document": doc, "userId": user, "expected": routes(doc, service, user)}
        for service in ["users", "orders"]
        for doc in docs
        for user in ids
    ]
    buckets = [
        {"key": f"{service}:{user}", "fnv1a32": fnv1a32(f"{service}:{user}"), "bucket": bucket(service, user)}
        for service in ["users", "orders"]
        for user in ids + [str(n) for n in range(1000, 1010)]
    ]
    buckets.append({"key": "users:user.ñ", "fnv1a32": fnv1a32("users:user.ñ"), "bucket": bucket("users", "user.ñ")})
    out = {
        "description": "Flag contract v2 test vectors: see docs/flag-contract.md. Generated by scripts/flag-vectors.py.",
        "hash": "FNV-1a 32-bit over the UTF-8 bytes of '<service>:<userId>'; bucket = hash % 100; in when bucket < percent",
        "buckets": buckets,
        "cases": cases,
        "parsing": parsing_vectors(),
        "decisions": decision_vectors(),
        "latch": latch_vectors(),
    }
    path = pathlib.Path(__file__).resolve().parent.parent / "lib" / "flags" / "vectors.json"
    path.write_text(dump(out), encoding="utf-8")
    print(
        f"{len(cases)} routing cases, {len(buckets)} buckets, {len(out['parsing'])} parse vectors, "
        f"{len(out['decisions'])} decisions, {len(out['latch'])} latch sequences -> {path}"
    )


if __name__ == "__main__":
    main()
