"""The brand profile: `brand.yaml` of a brand kit, validated into core.brand.BrandProfile."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import yaml

from core.brand import BrandProfile, Disclosure, EmojiPolicy, HashtagPolicy
from core.domain import LOCALES
from core.errors import ValidationFailed

log = logging.getLogger(__name__)

FILENAMES = ("brand.yaml", "brand.yml")
CASINGS = ("camel", "lower", "any")
# Keys whose values add up when accepted rules are merged over the profile.
_LISTS = ("spellings", "do_not_translate", "default_hashtags", "reviewer_notes")


def load_profile(kit_dir: Path) -> BrandProfile:
    """The profile in `kit_dir/brand.yaml` (or the YAML file given); no file means defaults."""
    kit_dir = Path(kit_dir)
    candidates = [kit_dir] if kit_dir.is_file() else [kit_dir / name for name in FILENAMES]
    path = next((p for p in candidates if p.is_file()), None)
    return parse_profile(_read(path), source=str(path)) if path else BrandProfile()


def with_rules(
    profile: BrandProfile, rules: Iterable[dict[str, Any]], *, strict: bool = False
) -> BrandProfile:
    """The profile with accepted rules (brand.yaml fragments, see core.rules) merged over it.

    Lists and word tables are extended, single values replaced. A rule that would make the
    profile invalid (at most 2 hashtags while 3 are required) raises ValidationFailed with
    `strict` (how a rule is checked before it is accepted); otherwise it is left out and
    logged, so a kit edited since can never stop drafting.
    """
    rules = list(rules)
    if not rules:
        return profile
    data = {k: v for k, v in asdict(profile).items() if v not in ("", [], {})}
    for rule in rules:
        merged = merge_rules(data, rule)
        try:
            _profile(merged)
        except ValidationFailed as exc:
            if strict:
                raise ValidationFailed(f"This rule cannot apply to the brand profile: {exc}.") from None
            log.warning("accepted rule %s left out: %s", rule, exc)
            continue
        data = merged
    return _profile(data)


def check_rule(profile: BrandProfile, accepted: list[dict[str, Any]], rule: dict[str, Any]) -> None:
    """Raise ValidationFailed unless `rule` can join `profile` and the rules already `accepted`
    (the check core.rules.settle runs before accepting)."""
    with_rules(with_rules(profile, accepted), [rule], strict=True)


def merge_rules(base: Any, extra: dict[str, Any]) -> dict[str, Any]:
    """brand.yaml data with a fragment of accepted rules merged over it."""
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
        elif key == "hashtags" and name == "topical":
            merged[name] = {**(merged.get(name) or {})}
            for locale, tags in value.items():
                merged[name][locale] = _union(_as_list(merged[name].get(locale)), _as_list(tags))
        elif key == "hashtags" and name == "equivalents":
            merged[name] = {**(merged.get(name) or {})}
            for locale, pairs in value.items():
                merged[name][locale] = {**(merged[name].get(locale) or {}), **pairs}
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
        profile.call_to_action = _per_locale(data["call_to_action"], "call_to_action", _text)
    if "glossary" in data:
        profile.glossary = _per_locale(data["glossary"], "glossary", _text_map)
    if "do_not_translate" in data:
        profile.do_not_translate = _texts(data["do_not_translate"], "do_not_translate")
    if "default_hashtags" in data:
        if isinstance(data["default_hashtags"], dict):
            # The natural guess for per-locale tags; say where they go instead.
            raise ValidationFailed(
                "default_hashtags must be a list (the tags of every locale); "
                "give a locale its own under hashtags.topical"
            )
        profile.default_hashtags = _tags(data["default_hashtags"], "default_hashtags")
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
    _only(value, ["max", "casing", "required", "forbidden", "topical", "equivalents"], "hashtags")
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
            setattr(policy, name, _tags(value[name], f"hashtags.{name}"))
    if len(policy.required) > policy.max:
        raise ValidationFailed(
            f"hashtags.required lists {len(policy.required)} tags but hashtags.max is {policy.max}"
        )
    if "topical" in value:
        policy.topical = _per_locale(value["topical"], "hashtags.topical", _tags)
    if "equivalents" in value:
        policy.equivalents = _per_locale(
            value["equivalents"], "hashtags.equivalents", lambda v, k: _equivalents(v, k, policy)
        )
    return policy


def _equivalents(value: Any, key: str, policy: HashtagPolicy) -> dict[str, str]:
    # Refused rather than skipped later: each would have the check ask for a change that breaks
    # another rule (the brand's own tag is the same everywhere) or that changes nothing.
    required = {t.casefold() for t in policy.required}
    forbidden = {t.casefold() for t in policy.forbidden}
    pairs = {}
    for name, target in _mapping(value, key).items():
        tag, local = _tag(name, key), _tag(target, f"{key}.{name}")
        if tag.casefold() in required:
            raise ValidationFailed(f"{key}: {tag} is a required tag, the same in every locale")
        if local.casefold() in forbidden:
            raise ValidationFailed(f"{key}: {tag} maps to {local}, which hashtags.forbidden lists")
        if local.casefold() == tag.casefold():
            raise ValidationFailed(f"{key}: {tag} maps to itself; remove the line")
        pairs[tag] = local
    return pairs


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


def _per_locale(value: Any, key: str, parse: Callable[[Any, str], Any]) -> dict[str, Any]:
    """{locale: entry} with each locale checked and each entry parsed (its key names the locale)."""
    return {
        _locale(code, key): parse(entry, f"{key}.{code}")
        for code, entry in _mapping(value, key).items()
    }


def _tags(value: Any, key: str) -> list[str]:
    return [_tag(t, key) for t in _texts(value, key)]


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
