"""Channels: which publisher takes which network, read from one YAML file (see channels.example.yaml)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from core.domain import NETWORKS, Post
from core.errors import ConfigError, NotFound
from publishing import timing
from publishing.publishers import http
from publishing.publishers.base import NotSent, OutcomeUnknown, Published, Publisher, Timeouts
from publishing.publishers.outbox import OutboxPublisher

ANY = "*"
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
COMMON = {"name", "kind", "network", "default", "timezone", "country", "timeout", "connect_timeout"}


@dataclass(frozen=True)
class Kind:
    """The fields one kind of channel takes; `secrets` must be ${ENV} references."""

    required: frozenset[str]
    optional: frozenset[str] = frozenset()
    secrets: frozenset[str] = frozenset()
    networks: tuple[str, ...] | None = None  # None: any network (or "*")


KINDS: dict[str, Kind] = {
    "outbox": Kind(frozenset(), frozenset({"folder"})),
    "webhook": Kind(frozenset({"url", "secret"}), secrets=frozenset({"secret"})),
    "mastodon": Kind(frozenset({"base_url", "token"}), frozenset({"visibility"}),
                     frozenset({"token"}), ("mastodon",)),
    "bluesky": Kind(frozenset({"handle", "password"}), frozenset({"base_url", "app_url"}),
                    frozenset({"password"}), ("bluesky",)),
    "linkedin": Kind(frozenset({"token"}), frozenset({"author", "base_url", "app_url", "version"}),
                     frozenset({"token"}), ("linkedin",)),
    "x": Kind(frozenset({"token"}), frozenset({"base_url", "app_url"}), frozenset({"token"}), ("x",)),
}


@dataclass
class Channel:
    """One configured channel: its publisher and what `plume channels` may show about it."""

    publisher: Publisher
    account: str
    default: bool = False
    timezone: str | None = None
    country: str | None = None
    implicit: bool = False
    secrets: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.publisher.name


class Channels:
    """Every channel Plume publishes through; the implicit outbox takes whatever has no channel."""

    def __init__(self, channels: list[Channel], *, outbox: Path, source: Path | None = None):
        self.source = source
        self._channels = {c.name: c for c in channels}
        if "outbox" not in self._channels:
            self._channels["outbox"] = Channel(OutboxPublisher(outbox), account=str(outbox), implicit=True)

    @classmethod
    def load(cls, settings) -> Channels:
        """From PLUME_CHANNELS, else PLUME_HOME/channels.yaml when present, else the outbox alone."""
        path = settings.plume_channels
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"PLUME_CHANNELS points to {path}, which is not a file")
        if path is None and (settings.plume_home / "channels.yaml").is_file():
            path = settings.plume_home / "channels.yaml"
        if path is None:
            return cls([], outbox=settings.outbox)
        return cls.from_file(Path(path), outbox=settings.outbox)

    @classmethod
    def from_file(cls, path: Path, *, outbox: Path, env: Mapping[str, str] | None = None) -> Channels:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigError(f"Cannot read the channels file {path}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"The channels file {path} is not valid YAML: {exc}") from None
        entries = data.get("channels") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise ConfigError(f"The channels file {path} must have a `channels:` list (see channels.example.yaml)")
        env = os.environ if env is None else env
        channels = [_build(entry, index, env=env, outbox=outbox) for index, entry in enumerate(entries, 1)]
        _check_unique(channels)
        return cls(channels, outbox=outbox, source=path)

    def all(self) -> list[Publisher]:
        return [c.publisher for c in self._channels.values()]

    def get(self, name: str) -> Publisher:
        return self._channel(name).publisher

    def for_network(self, network: str) -> Publisher:
        return self._for_network(network).publisher

    def route(self, network: str) -> str:
        """The channel name a new post for `network` is pinned to (the scheduler's `route`)."""
        return self.for_network(network).name

    def channel_for(self, post: Post) -> Publisher:
        """The post's own channel when it has one (chosen before its first send), else its network's."""
        return self.get(post.channel) if post.channel else self.for_network(post.network)

    def audience(self, network: str) -> tuple[str | None, str | None]:
        """The time zone and country of the audience the network's channel reaches, when configured."""
        channel = self._for_network(network)
        return channel.timezone, channel.country

    def describe(self) -> list[dict[str, str]]:
        """Rows for `plume channels`: never a secret (webhook URLs are cut to their host)."""
        rows = []
        for channel in self._channels.values():
            publisher = channel.publisher
            networks = [n for n in NETWORKS if self._for_network(n) is channel]
            note = "implicit: every network without a channel" if channel.implicit else (
                "default" if channel.default else "")
            rows.append({"name": channel.name, "kind": publisher.kind, "network": publisher.network,
                         "serves": ", ".join(networks) or "-", "account": channel.account,
                         "timezone": channel.timezone or "", "country": channel.country or "", "note": note})
        return rows

    def secrets(self) -> list[str]:
        """The resolved tokens, passwords and webhook secrets, for the log redactor."""
        return [secret for channel in self._channels.values() for secret in channel.secrets]

    def test(self, name: str) -> str:
        """Check a channel's credentials without posting; raises NotSent with a friendly message."""
        publisher = self.get(name)
        try:
            who = publisher.check()
        except OutcomeUnknown as silent:  # a check never posts: no answer just means "not verified"
            raise NotSent(str(silent), retryable=False) from silent
        return f"Channel {name} ({publisher.kind}) is ready: it posts as {who}"

    def router(self) -> ChannelRouter:
        return ChannelRouter(self)

    def _channel(self, name: str) -> Channel:
        try:
            return self._channels[name]
        except KeyError:
            raise NotFound(f"No channel named {name!r}; known channels: {', '.join(self._channels)}") from None

    def _for_network(self, network: str) -> Channel:
        configured = [c for c in self._channels.values() if not c.implicit]
        for wanted in (network, ANY):
            matching = [c for c in configured if c.publisher.network == wanted]
            if matching:
                return next((c for c in matching if c.default), matching[0])
        return next(c for c in self._channels.values() if c.name == "outbox")


class ChannelRouter:
    """One publisher for the scheduler: each post goes through its channel (or its network's)."""

    name = "router"
    kind = "router"
    network = ANY

    def __init__(self, channels: Channels):
        self.channels = channels

    def publish(self, post: Post, *, key: str) -> Published:
        try:
            publisher = self.channels.channel_for(post)
        except NotFound as exc:
            raise NotSent(f"{exc}; restore the channel or move the post to another one",
                          retryable=False) from None
        return publisher.publish(post, key=key)

    def lookup(self, post: Post, *, key: str) -> Published | None:
        try:
            publisher = self.channels.channel_for(post)
        except NotFound as exc:
            raise OutcomeUnknown(str(exc)) from None
        return publisher.lookup(post, key=key)

    def check(self) -> str:
        return "; ".join(f"{p.name}: {p.check()}" for p in self.channels.all())


def _build(entry, index: int, *, env: Mapping[str, str], outbox: Path) -> Channel:
    if not isinstance(entry, dict):
        raise ConfigError(f"Channel #{index} must be a mapping like `- name: brand-x`")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ConfigError(f"Channel #{index} needs a `name` (letters, digits, '-', '_', '.'), got {name!r}")
    kind_name = entry.get("kind")
    kind = KINDS.get(kind_name)
    if kind is None:
        raise ConfigError(f"Channel {name}: unknown kind {kind_name!r}; use one of {', '.join(KINDS)}")
    if name == "outbox" and kind_name != "outbox":
        raise ConfigError("The channel name `outbox` is kept for the outbox; choose another name")
    unknown = set(entry) - COMMON - kind.required - kind.optional
    if unknown:
        raise ConfigError(f"Channel {name}: unknown field(s) {', '.join(sorted(unknown))} for kind {kind_name}; "
                          f"it takes {', '.join(sorted(kind.required | kind.optional))}")
    missing = [f for f in sorted(kind.required) if entry.get(f) in (None, "")]
    if missing:
        raise ConfigError(f"Channel {name} ({kind_name}) is missing {', '.join(missing)}")
    for secret in kind.secrets:
        if not ENV_REF.fullmatch(str(entry[secret]).strip()):
            raise ConfigError(f"Channel {name}: `{secret}` must be an environment reference like "
                              f"${{{name.upper().replace('-', '_')}_{secret.upper()}}}, never the secret itself")
    values = {key: _resolve(value, name=name, field=key, env=env) for key, value in entry.items()}
    network = values.get("network") or (kind.networks[0] if kind.networks else ANY)
    allowed = kind.networks or (ANY, *NETWORKS)
    if network not in allowed:
        raise ConfigError(f"Channel {name}: network {network!r} is not one {kind_name} can serve "
                          f"({', '.join(allowed)})")
    timezone, country = values.get("timezone"), values.get("country")
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"Channel {name}: unknown IANA time zone {timezone!r} (try Europe/Paris)") from None
    if country is not None:  # checked as PLUME_COUNTRY is: the holiday calendar must exist
        if not re.fullmatch(r"[A-Za-z]{2}", str(country)):
            raise ConfigError(f"Channel {name}: country must be a two-letter ISO code like FR, got {country!r}")
        try:
            country = timing.check_country(str(country))
        except ConfigError as exc:
            raise ConfigError(f"Channel {name}: {exc}") from None
    timeouts = Timeouts(connect=_seconds(values, "connect_timeout", Timeouts.connect, name),
                        read=_seconds(values, "timeout", Timeouts.read, name))
    env_of = {key: ENV_REF.fullmatch(str(entry[key]).strip()).group(1) for key in kind.secrets}
    publisher, account = BUILDERS[kind_name](name, network, values, timeouts, env_of, outbox)
    return Channel(publisher, account=account, default=bool(values.get("default")), timezone=timezone,
                   country=country,
                   secrets=tuple(values[key] for key in sorted(kind.secrets)))


def _resolve(value, *, name: str, field: str, env: Mapping[str, str]):
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match) -> str:
        found = env.get(match.group(1))
        if not found:
            raise ConfigError(f"Channel {name}: `{field}` needs the environment variable {match.group(1)}, "
                              "which is not set")
        return found

    return ENV_REF.sub(lookup, value)


def _seconds(values: dict, key: str, default: float, name: str) -> float:
    value = values.get(key, default)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1
    if not 0 < seconds <= 300:
        raise ConfigError(f"Channel {name}: `{key}` must be a number of seconds between 0 and 300, got {value!r}")
    return seconds


def _check_unique(channels: list[Channel]) -> None:
    seen: dict[str, Channel] = {}
    for channel in channels:
        if channel.name in seen:
            raise ConfigError(f"Two channels are named {channel.name}; names must be unique")
        seen[channel.name] = channel
    by_network: dict[str, list[Channel]] = {}
    for channel in channels:
        by_network.setdefault(channel.publisher.network, []).append(channel)
    for network, group in by_network.items():
        defaults = [c.name for c in group if c.default]
        if len(group) > 1 and len(defaults) != 1:
            label = "every network" if network == ANY else network
            names = ", ".join(c.name for c in group)
            problem = "several are" if defaults else "none is"
            raise ConfigError(f"Channels {names} all publish to {label} and {problem} marked "
                              "`default: true`; mark exactly one")


def _outbox(name, network, values, timeouts, env_of, outbox):
    folder = Path(values.get("folder") or outbox).expanduser()
    return OutboxPublisher(folder, name=name, network=network), str(folder)


def _webhook(name, network, values, timeouts, env_of, outbox):
    from publishing.publishers.webhook import WebhookPublisher

    return (WebhookPublisher(name=name, url=values["url"], secret=values["secret"], network=network,
                             timeouts=timeouts, secret_env=env_of["secret"]), f"{http.origin(values['url'])}/…")


def _mastodon(name, network, values, timeouts, env_of, outbox):
    from publishing.publishers.mastodon import MastodonPublisher

    return (MastodonPublisher(name=name, base_url=values["base_url"], token=values["token"], timeouts=timeouts,
                              visibility=values.get("visibility", "public"), token_env=env_of["token"]),
            values["base_url"])


def _bluesky(name, network, values, timeouts, env_of, outbox):
    from publishing.publishers.bluesky import BlueskyPublisher

    extra = {k: values[k] for k in ("base_url", "app_url") if values.get(k)}
    publisher = BlueskyPublisher(name=name, handle=values["handle"], password=values["password"],
                                 timeouts=timeouts, password_env=env_of["password"], **extra)
    return publisher, f"@{values['handle']} on {publisher.base_url}"


def _linkedin(name, network, values, timeouts, env_of, outbox):
    from publishing.publishers.linkedin import LinkedInPublisher

    extra = {k: str(values[k]) for k in ("author", "base_url", "app_url", "version") if values.get(k)}
    publisher = LinkedInPublisher(name=name, token=values["token"], timeouts=timeouts,
                                  token_env=env_of["token"], **extra)
    return publisher, f"{values.get('author') or 'the token owner'} via {publisher.base_url}"


def _x(name, network, values, timeouts, env_of, outbox):
    from publishing.publishers.x import XPublisher

    extra = {k: values[k] for k in ("base_url", "app_url") if values.get(k)}
    publisher = XPublisher(name=name, token=values["token"], timeouts=timeouts, token_env=env_of["token"], **extra)
    return publisher, publisher.base_url


# Publisher modules are imported only for the kinds a file uses (atproto is slow to import).
BUILDERS: dict[str, Callable] = {"outbox": _outbox, "webhook": _webhook, "mastodon": _mastodon,
                                 "bluesky": _bluesky, "linkedin": _linkedin, "x": _x}
