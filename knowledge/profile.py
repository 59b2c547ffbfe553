"""The brand profile: `brand.yaml` of a brand kit, validated into core.brand.BrandProfile."""

from __future__ import annotations

import difflib
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from core.brand import BrandProfile, Disclosure, EmojiPolicy, HashtagPolicy
from core.domain import LOCALES
from core.errors import ValidationFailed

FILENAMES = ("brand.yaml", "brand.yml")
ACCEPTED = "brand.accepted.yaml"
CASINGS = ("camel", "lower", "any")
# Keys whose values add up when accepted rules are merged over brand.yaml.
_LISTS = ("spellings", "do_not_translate", "default_hashtags", "reviewer_notes")


def load_profile(kit_dir: Path) -> BrandProfile:
    """The profile in `kit_dir/brand.yaml` (or the YAML file given), with the rules accepted
    since in its sibling brand.accepted.yaml merged over it; no file means defaults.

    brand.accepted.yaml is written by `plume rules accept N` (one YAML document per rule, so
    brand.yaml and its comments are never rewritten by a program). Merging extends lists and
    word tables (banned, glossary, required/forbidden hashtags, disclosures by tag) and
    replaces single values (emoji.max, hashtags.max…).
    """
    kit_dir = Path(kit_dir)
    candidates = [kit_dir] if kit_dir.is_file() else [kit_dir / name for name in FILENAMES]
    path = next((p for p in candidates if p.is_file()), None)
    extra = accepted_path(kit_dir)
    text = _read(path) if path else ""
    profile = parse_profile(text, source=str(path)) if path else BrandProfile()
    if not extra.is_file():
        return profile
    merged = (_load_yaml(text, str(path)) if path else None) or {}
    for n, snippet in enumerate(_load_documents(_read(extra), str(extra)), start=1):
        if snippet is None:
            continue
        try:  # each snippet must be valid on its own, so a mistake names its document
            _profile(snippet)
        except ValidationFailed as exc:
            raise ValidationFailed(f"{extra} (document {n}): {exc}") from None
        merged = merge_rules(merged, snippet)
    source = f"{path.name if path else 'defaults'} + {extra}"
    try:
        return _profile(merged)
    except ValidationFailed as exc:
        raise ValidationFailed(f"{source}: {exc}") from None


def accepted_path(kit: Path) -> Path:
    """Where accepted rules go: beside brand.yaml (`acme.yml` → `acme.accepted.yml`)."""
    kit = Path(kit)
    if kit.is_file():
        return kit.with_name(f"{kit.stem}.accepted{kit.suffix}")
    return kit / ACCEPTED


def merge_rules(base: Any, extra: dict[str, Any]) -> dict[str, Any]:
    """brand.yaml data with a snippet of accepted rules merged over it (both already valid)."""
    merged = dict(base) if isinstance(base, dict) else {}
    for key, value in extra.items():
        old = merged.get(key)
        if key == "banned":
            merged[key] = {**_as_map(old), **_as_map(value)}
        elif key in ("glossary", "call_to_action"):
            merged[key] = dict(old or {})
            for name, entry in value.items():
                current = merged[key].get(name)
                both = isinstance(current, dict) and isinstance(entry, dict)
                merged[key][name] = {**current, **entry} if both else entry
        elif key in ("emoji", "hashtags"):
            merged[key] = _merge_policy(key, old, value)
        elif key == "disclosures":
            merged[key] = _merge_disclosures(old or [], value)
        elif key in _LISTS:
            merged[key] = _union(_as_list(old), _as_list(value))
        else:
            merged[key] = value
    return merged


def _merge_policy(key: str, old: Any, new: Any) -> Any:
    def mapping(value: Any) -> dict[str, Any]:
        if isinstance(value, bool):  # `emoji: false`
            return {"allowed": value, "max": EmojiPolicy.max if value else 0}
        return dict(value or {})

    merged = mapping(old)
    for name, value in mapping(new).items():
        if key == "hashtags" and name in ("required", "forbidden"):
            merged[name] = _union(_as_list(merged.get(name)), _as_list(value))
        else:
            merged[name] = value
    return merged


def _merge_disclosures(old: list[Any], new: list[Any]) -> list[Any]:
    merged = [dict(entry) for entry in old]
    for entry in new:
        tag = str(entry.get("tag", "")).lstrip("#").lower()
        same = next((e for e in merged if str(e.get("tag", "")).lstrip("#").lower() == tag), None)
        if same is None:
            merged.append(dict(entry))
        else:
            same["when"] = _union(_as_list(same.get("when")), _as_list(entry.get("when")))
    return merged


def _as_map(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        return dict.fromkeys(value, "")
    return dict(value or {})


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _union(first: list[Any], second: list[Any]) -> list[Any]:
    """Both lists in order, without repeating a value (case-insensitively)."""
    merged, seen = [], set()
    for value in first + second:
        if str(value).lower() not in seen:
            seen.add(str(value).lower())
            merged.append(value)
    return merged


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"{path}: cannot read the brand profile ({exc})") from None


def _load_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _malformed(exc, source) from None


def _load_documents(text: str, source: str) -> list[Any]:
    try:
        return list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise _malformed(exc, source) from None


def _malformed(exc: yaml.YAMLError, source: str) -> ValidationFailed:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return ValidationFailed(f"{source}: malformed YAML{where}: {problem}")


def parse_profile(text: str, *, source: str = "brand.yaml") -> BrandProfile:
    """Parse brand.yaml text; every mistake is a ValidationFailed naming the file and the key."""
    data = _load_yaml(text, source)
    if data is None:
        return BrandProfile()
    try:
        return _profile(data)
    except ValidationFailed as exc:
        raise ValidationFailed(f"{source}: {exc}") from None


def _profile(data: Any) -> BrandProfile:
    data = _mapping(data, "the top level")
    _only(data, [f.name for f in fields(BrandProfile)], "")
    profile = BrandProfile()
    if "name" in data:
        profile.name = _text(data["name"], "name")
    if "voice" in data:
        profile.voice = _text(data["voice"], "voice")
    if "spellings" in data:
        profile.spellings = _texts(data["spellings"], "spellings")
    if "banned" in data:
        profile.banned = _banned(data["banned"])
    if "disclosures" in data:
        profile.disclosures = _disclosures(data["disclosures"])
    if "emoji" in data:
        profile.emoji = _emoji(data["emoji"])
    if "hashtags" in data:
        profile.hashtags = _hashtags(data["hashtags"])
    if "call_to_action" in data:
        profile.call_to_action = {
            _locale(code, "call_to_action"): _text(sentence, f"call_to_action.{code}")
            for code, sentence in _mapping(data["call_to_action"], "call_to_action").items()
        }
    if "glossary" in data:
        profile.glossary = {
            _locale(code, "glossary"): _text_map(terms, f"glossary.{code}")
            for code, terms in _mapping(data["glossary"], "glossary").items()
        }
    if "do_not_translate" in data:
        profile.do_not_translate = _texts(data["do_not_translate"], "do_not_translate")
    if "default_hashtags" in data:
        profile.default_hashtags = [
            _tag(t, "default_hashtags")
            for t in _texts(data["default_hashtags"], "default_hashtags")
        ]
    if "reviewer_notes" in data:
        profile.reviewer_notes = _texts(data["reviewer_notes"], "reviewer_notes")
    return profile


def _banned(value: Any) -> dict[str, str]:
    # A bare list means "flag these words" with nothing to suggest.
    if isinstance(value, list):
        return dict.fromkeys(_texts(value, "banned"), "")
    return _text_map(value, "banned", allow_empty=True)


def _disclosures(value: Any) -> list[Disclosure]:
    if not isinstance(value, list):
        raise ValidationFailed(
            f"disclosures must be a list of {{tag, when}} entries, got {_kind(value)}"
        )
    found = []
    for i, entry in enumerate(value):
        key = f"disclosures[{i}]"
        entry = _mapping(entry, key)
        _only(entry, ["tag", "when"], key)
        if "tag" not in entry:
            raise ValidationFailed(f'{key}.tag is missing (e.g. tag: "#ad")')
        found.append(
            Disclosure(
                tag=_tag(entry["tag"], f"{key}.tag"),
                when=_texts(entry.get("when", []), f"{key}.when"),
            )
        )
    return found


def _emoji(value: Any) -> EmojiPolicy:
    if isinstance(value, bool):  # `emoji: false` is the natural way to ban them
        return EmojiPolicy(allowed=value, max=EmojiPolicy.max if value else 0)
    value = _mapping(value, "emoji")
    _only(value, ["allowed", "max"], "emoji")
    policy = EmojiPolicy()
    if "allowed" in value:
        policy.allowed = _flag(value["allowed"], "emoji.allowed")
    if "max" in value:
        policy.max = _count(value["max"], "emoji.max")
    return policy


def _hashtags(value: Any) -> HashtagPolicy:
    value = _mapping(value, "hashtags")
    _only(value, ["max", "casing", "required", "forbidden"], "hashtags")
    policy = HashtagPolicy()
    if "max" in value:
        policy.max = _count(value["max"], "hashtags.max")
    if "casing" in value:
        casing = _text(value["casing"], "hashtags.casing").lower()
        if casing not in CASINGS:
            raise ValidationFailed(
                f"hashtags.casing must be one of {', '.join(CASINGS)}, got {casing!r}"
            )
        policy.casing = casing
    for name in ("required", "forbidden"):
        if name in value:
            key = f"hashtags.{name}"
            setattr(policy, name, [_tag(t, key) for t in _texts(value[name], key)])
    if len(policy.required) > policy.max:
        raise ValidationFailed(
            f"hashtags.required lists {len(policy.required)} tags but hashtags.max is {policy.max}"
        )
    return policy


def _only(mapping: dict[str, Any], allowed: list[str], where: str) -> None:
    """Refuse unknown keys: a typo must not silently switch a rule off."""
    for key in mapping:
        if key not in allowed:
            near = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else f" (known: {', '.join(allowed)})"
            name = f"{where}.{key}" if where else str(key)
            raise ValidationFailed(f"unknown key {name!r}{hint}")


def _mapping(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationFailed(f"{key} must be a mapping (key: value lines), got {_kind(value)}")
    for name in value:
        if not isinstance(name, str):
            # YAML 1.1 reads yes/no/on/off and numbers as non-strings: say how to fix it.
            raise ValidationFailed(
                f"{key} has the key {name!r}, which is not text; put it in quotes"
            )
    return value


def _text(value: Any, key: str, *, allow_empty: bool = False) -> str:
    if value is None and allow_empty:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValidationFailed(f"{key} must be text, got {_kind(value)}")
    text = str(value).strip()
    if not text and not allow_empty:
        raise ValidationFailed(f"{key} must not be empty")
    return text


def _texts(value: Any, key: str) -> list[str]:
    if isinstance(value, str):
        return [_text(value, key)]
    if not isinstance(value, list):
        raise ValidationFailed(f"{key} must be a list of text, got {_kind(value)}")
    return [_text(item, f"{key}[{i}]") for i, item in enumerate(value)]


def _text_map(value: Any, key: str, *, allow_empty: bool = False) -> dict[str, str]:
    return {
        _text(name, key): _text(target, f"{key}.{name}", allow_empty=allow_empty)
        for name, target in _mapping(value, key).items()
    }


def _tag(value: Any, key: str) -> str:
    tag = _text(value, key)
    if " " in tag:
        raise ValidationFailed(f"{key}: a hashtag cannot contain spaces, got {tag!r}")
    return tag if tag.startswith("#") else f"#{tag}"


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(f"{key} must be true or false, got {_kind(value)}")
    return value


def _count(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationFailed(f"{key} must be a whole number of 0 or more, got {_kind(value)}")
    return value


def _locale(code: Any, key: str) -> str:
    if code not in LOCALES:
        raise ValidationFailed(f"{key} has the locale {code!r}; supported: {', '.join(LOCALES)}")
    return code


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
