"""Configuration options, declared beside the code that reads them.

A module declares the options it reads as one module-level ``Options`` value::

    RESNET_OPTIONS = Options(
        Option("backbone.depth", 50, "resnet: depth 10, 18, 34 or 50", choices=(10, 18, 34, 50)),
        Option("backbone.base_width", 64, "resnet: stem channels", minimum=1),
    )

and a part ties its options to itself where it registers::

    @BACKBONES.register("resnet", options=RESNET_OPTIONS)

Such options are checked only when their part is selected (``backbone.name: resnet``); options
that no part claims are checked always. Declarations are written with literals only, because
the configuration reads them from the source text (``src.source_index``) instead of importing
the modules, which would load MindSpore. ``default_config.yaml`` lists the same options with
the same defaults and comments, for reading (a test holds the two together).
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Option:
    """One option: its dotted ``key``, its ``default``, a one-line ``comment``, and what it allows.

    ``choices``: the allowed values (None: any of the default's type); ``minimum`` / ``maximum``:
    inclusive bounds (None: unbounded). A list is checked element by element, a mapping (such as
    ``loss.terms``) by its values.
    """

    key: str
    default: object
    comment: str
    choices: tuple = None
    minimum: float = None
    maximum: float = None

    def __post_init__(self):
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))

    def allowed_text(self):
        """What the option allows, for the help page ("one of: a, b", "at least 1", ""), or ""."""
        if self.choices is not None:
            return "one of: " + ", ".join(map(str, self.choices))
        if self.minimum is None and self.maximum is None:
            return ""
        if self.maximum is None:
            return f"at least {self.minimum}"
        if self.minimum is None:
            return f"at most {self.maximum}"
        return f"{self.minimum} to {self.maximum}"

    def _bounds_phrase(self):
        if self.maximum is None:
            return f"at least {self.minimum}"
        if self.minimum is None:
            return f"at most {self.maximum}"
        return f"between {self.minimum} and {self.maximum}"

    def problem(self, value):
        """Why ``value`` is not allowed (a phrase such as "must be one of a, b; got 'c'"), or None."""
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list):
            items = [(None, item) for item in value]
        else:
            items = [(None, value)]
        for name, item in items:
            subject = "" if name is None else f"value of {name!r} "
            if self.choices is not None and item not in self.choices:
                return f"{subject}must be one of {', '.join(map(str, self.choices))}; got {item!r}"
            too_low = self.minimum is not None and item < self.minimum
            too_high = self.maximum is not None and item > self.maximum
            if too_low or too_high:
                return f"{subject}must be {self._bounds_phrase()}; got {item!r}"
        return None


class Options:
    """The options one module declares, by key, in the order written."""

    def __init__(self, *options):
        self._by_key = {}
        for option in options:
            if not isinstance(option, Option):
                raise TypeError(f"Options takes Option values; got {option!r}")
            if option.key in self._by_key:
                raise ValueError(f"option {option.key!r} is declared twice")
            self._by_key[option.key] = option

    def __getitem__(self, key):
        return self._by_key[key]

    def __iter__(self):
        return iter(self._by_key.values())

    def __len__(self):
        return len(self._by_key)

    def __repr__(self):
        return f"Options({', '.join(self._by_key)})"

    def choices(self, key):
        """The allowed values of ``key``, as declared."""
        return self._by_key[key].choices
