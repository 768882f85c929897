"""Chat commands: declaration, forgiving parsing, role checks and usage hints.

A command declares its name, who may use it and how many arguments it takes;
its Chinese usage line and description live in ``config/commands.yaml``, so
``帮助`` and the hint for wrong arguments come from one place.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

import yaml

from bot.message import InboundMessage, Reply
from handlers.context import EVERYONE, Context
from handlers.exceptions import UsageError

TEXTS_FILE = Path(__file__).resolve().parent.parent / "config" / "commands.yaml"
_SPACES = re.compile(r"\s+")

CommandFunc = Callable[[list[str], InboundMessage, Context], list[Reply]]


@dataclasses.dataclass(frozen=True)
class Command:
    """A chat command.

    Attributes:
        name: the Chinese command word, e.g. ``进度``.
        func: called with the parsed arguments; returns replies.
        roles: roles allowed to use it (see ``handlers.context``).
        min_args / max_args: argument count; with ``rest`` the last argument
            takes the remaining text, spaces included.
        private_only: refuse in groups (details never appear in a group).
        aliases: other words that mean the same command.
    """

    name: str
    func: CommandFunc
    roles: frozenset[str] = EVERYONE
    min_args: int = 0
    max_args: int = 0
    rest: bool = False
    private_only: bool = False
    aliases: tuple[str, ...] = ()

    def __call__(self, args: list[str], msg: InboundMessage, ctx: Context) -> list[Reply]:
        """Run the command's function (a declared command stays callable like the function it wraps)."""
        return self.func(args, msg, ctx)

    @property
    def usage(self) -> str:
        """Return the Chinese usage line from config."""
        return command_texts().get(self.name, {}).get("usage", self.name)

    @property
    def description(self) -> str:
        """Return the Chinese one-line description from config."""
        return command_texts().get(self.name, {}).get("description", "")


_DECLARED: dict[str, list[Command]] = {}


def command(
    name: str,
    *,
    roles: frozenset[str] = EVERYONE,
    args: int | tuple[int, int] = 0,
    rest: bool = False,
    private: bool = False,
    aliases: tuple[str, ...] = (),
) -> Callable[[CommandFunc], Command]:
    """Declare the function below as the chat command ``name``; its usage text is in ``config/commands.yaml``.

    ``args`` is the exact argument count or ``(min, max)``; with ``rest`` the
    last argument takes the remaining text. ``private`` refuses the command in
    groups. The command joins its module's list (``declared``), in the order
    of definition, which is the order 帮助 lists them in.
    """
    low, high = (args, args) if isinstance(args, int) else args

    def declare(func: CommandFunc) -> Command:
        declared_command = Command(name, func, frozenset(roles), low, high, rest, private, tuple(aliases))
        _DECLARED.setdefault(func.__module__, []).append(declared_command)
        return declared_command

    return declare


def declared(module: str) -> list[Command]:
    """Return the commands declared in a module, in the order of definition."""
    return list(_DECLARED.get(module, ()))


@functools.cache
def command_texts() -> dict[str, dict[str, str]]:
    """Load the usage texts once."""
    return yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8")) or {}


def normalize_command_text(text: str) -> str:
    """Fold full-width characters and collapse whitespace (forgiving input)."""
    text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub(" ", text).strip()


# Full-width ASCII (！…～) and the ideographic space map one-to-one onto ASCII,
# so folding keeps every character's position and the typed text can be recovered.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold_width(text: str) -> str:
    """Fold full-width ASCII characters to half-width, keeping the length."""
    return text.translate(_FOLD)


class CommandTable:
    """The commands the bot knows, matched longest name first."""

    def __init__(self, commands: Iterable[Command] = ()) -> None:
        self._by_word: dict[str, Command] = {}
        self._commands: list[Command] = []
        for command in commands:
            self.add(command)

    def add(self, command: Command) -> None:
        """Register a command under its name and aliases."""
        for word in (command.name, *command.aliases):
            if word in self._by_word:
                raise ValueError(f"command word {word!r} registered twice")
            self._by_word[word] = command
        self._commands.append(command)

    def __iter__(self):
        return iter(self._commands)

    def match(self, text: str) -> tuple[Command, str] | None:
        """Return the command the text starts with and the text after it.

        The command word must be followed by a space, a digit or the end, so
        that ordinary sentences (``通知上说…``) are not taken for commands.
        """
        raw = text.strip()
        folded = fold_width(raw)
        for word in sorted(self._by_word, key=len, reverse=True):
            if not folded.startswith(word):
                continue
            after = folded[len(word) :]
            if after == "" or after[0].isspace() or after[0].isdigit():
                # Arguments keep the person's own punctuation (，。) for free text;
                # split_args folds the words it parses.
                return self._by_word[word], raw[len(word) :].strip()
        return None

    def allowed(self, roles: frozenset[str]) -> list[Command]:
        """Return the commands a person with these roles may use."""
        return [c for c in self._commands if c.roles & roles]


def split_args(command: Command, rest_text: str) -> list[str]:
    """Split the argument text per the command's declaration.

    Raises:
        UsageError: with the command's usage hint when the count is wrong.
    """
    rest_text = rest_text.strip()
    if not rest_text:
        args: list[str] = []
    elif command.rest and command.max_args > 0:
        args = _SPACES.split(rest_text, maxsplit=command.max_args - 1)
        # Parsed words (numbers, names, dates) are folded; the free text stays as typed.
        free = args.pop().strip() if len(args) == command.max_args else None
        args = [normalize_command_text(a) for a in args] + ([free] if free is not None else [])
    else:
        args = [normalize_command_text(a) for a in _SPACES.split(rest_text)]
    if not command.min_args <= len(args) <= command.max_args:
        raise UsageError(command)
    return args
