"""The options of one EnergyPlus run, as one value.

`RunOptions` is the single place that names, defaults and checks them;
`simulate`, `SimulationJob`, a study's job index and `idfkit-sim run` all
carry one of these rather than copies of its fields.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args

from idfkit.simulation._arguments import NAME, argument_error
from idfkit.simulation.filenames import OutputSuffix

__all__ = ["OutputSuffix", "RunOptions"]

_SUFFIXES: tuple[str, ...] = get_args(OutputSuffix)


@dataclass(frozen=True)
class RunOptions:
    """How EnergyPlus runs one model. Every value is checked when it is made.

    Args:
        expand_objects: Run ExpandObjects first when the model holds objects
            that need it (`HVACTemplate:*`, `GroundHeatTransfer:*`).
        annual: Force a simulation of the weather file's run period (`-a`).
        design_day: Simulate the design days only (`-D`); not with `annual`.
        output_prefix: The output file prefix (`-p`), a plain file-name part.
        output_suffix: The output naming style (`-s`): `"C"` gives `eplus.sql`,
            `eplusTable.csv`, ...; `"L"` the legacy `eplusout.sql`,
            `eplustbl.csv`, ...; `"D"` `eplus-table.csv`, ...
        readvars: Convert the .eso and .mtr outputs to CSV with ReadVarsESO.
        timeout: Seconds EnergyPlus may run before it is stopped.
        preprocessor_timeout: Seconds each preprocessor (ExpandObjects,
            ReadVarsESO) may run; None means `timeout`.
        extra_args: More EnergyPlus command-line arguments, passed as given.

    Raises:
        ValueError: A value EnergyPlus cannot use, such as a NUL byte, a
            non-positive or non-finite timeout, or `annual` with `design_day`.
        TypeError: A value of the wrong type.
    """

    expand_objects: bool = field(
        default=True, metadata={"help": "run ExpandObjects when the model needs it"}
    )
    annual: bool = field(
        default=False, metadata={"help": "force a run of the weather file's run period (-a)"}
    )
    design_day: bool = field(
        default=False, metadata={"help": "design days only (-D); not with --annual"}
    )
    output_prefix: str = field(default="eplus", metadata={"help": "output file prefix (-p)"})
    output_suffix: OutputSuffix = field(
        default="C", metadata={"help": "output naming style (-s): C, L or D"}
    )
    readvars: bool = field(
        default=False, metadata={"help": "convert .eso/.mtr output to CSV with ReadVarsESO"}
    )
    timeout: float = field(default=3600.0, metadata={"help": "seconds EnergyPlus may run"})
    preprocessor_timeout: float | None = field(
        default=None, metadata={"help": "seconds each preprocessor may run"}
    )
    extra_args: tuple[str, ...] = field(
        default=(), metadata={"help": "another EnergyPlus argument (repeatable)"}
    )

    def __post_init__(self) -> None:
        for name in ("expand_objects", "annual", "design_day", "readvars"):
            if not isinstance(getattr(self, name), bool):
                raise argument_error(
                    TypeError,
                    f"{NAME} must be True or False, not {getattr(self, name)!r}",
                    parameter=name,
                )
        prefix = self.output_prefix
        if (
            not isinstance(prefix, str)
            or not prefix.strip()
            or prefix in (".", "..")
            or any(c in prefix for c in "/\\\x00")
        ):
            raise argument_error(
                ValueError,
                f"{NAME} {prefix!r} must be a plain file-name prefix",
                parameter="output_prefix",
            )
        if self.output_suffix not in _SUFFIXES:
            raise argument_error(
                ValueError,
                f"{NAME} must be one of {', '.join(_SUFFIXES)}, not {self.output_suffix!r}",
                parameter="output_suffix",
            )
        _check_seconds("timeout", self.timeout)
        if self.preprocessor_timeout is not None:
            _check_seconds("preprocessor_timeout", self.preprocessor_timeout)
        object.__setattr__(self, "extra_args", _checked_args(self.extra_args))
        if self.annual and self.design_day:
            raise ValueError(
                "annual and design_day cannot both be set: EnergyPlus runs either the "
                "weather file's run period (annual) or the design days only"
            )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in order (the keywords `simulate` takes for them)."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_mapping(cls, values: Any) -> RunOptions:
        """The options named in `values` (a mapping or an object with those attributes).

        Names that are not options are ignored, so a job or a parsed command
        line can be passed as it is.

        Args:
            values: A mapping, or an object with the options as attributes.
        """
        if isinstance(values, dict):
            found = {k: v for k, v in values.items() if k in cls.names()}
        else:
            found = {k: getattr(values, k) for k in cls.names() if hasattr(values, k)}
        return cls(**found)

    @classmethod
    def help(cls, name: str) -> str:
        """The one-line description of an option.

        Args:
            name: The option's name, e.g. ``"timeout"``.
        """
        return str(next(f for f in fields(cls) if f.name == name).metadata["help"])

    def as_dict(self) -> dict[str, Any]:
        """The options as plain values, for JSON and for keyword arguments."""
        return {name: getattr(self, name) for name in self.names()}

    @property
    def preprocessor_seconds(self) -> float:
        """The time limit of one preprocessor run."""
        return self.timeout if self.preprocessor_timeout is None else self.preprocessor_timeout

    def energyplus_args(self, *, output_dir: Path, weather: Path | None) -> list[str]:
        """The EnergyPlus arguments for these options, before the model path.

        ExpandObjects is never asked of EnergyPlus (`-x`): the run expands the
        model itself, before the folder is marked.

        Args:
            output_dir: The run folder (`-d`), absolute.
            weather: The weather file (`-w`), absolute; None for a run of
                design days without one.
        """
        args = ["-d", str(output_dir), "-p", self.output_prefix, "-s", self.output_suffix]
        if weather is not None:
            args += ["-w", str(weather)]
        if self.annual:
            args.append("-a")
        if self.design_day:
            args.append("-D")
        return [*args, *self.extra_args]


def _check_seconds(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise argument_error(
            TypeError, f"{NAME} must be a number of seconds, not {value!r}", parameter=name
        )
    if not math.isfinite(value) or value <= 0:
        raise argument_error(
            ValueError,
            f"{NAME} must be a positive, finite number of seconds, not {value!r}",
            parameter=name,
        )


def _checked_args(extra_args: Sequence[str] | None) -> tuple[str, ...]:
    if isinstance(extra_args, str | bytes):
        raise TypeError(f"extra_args must be a sequence of strings, not {extra_args!r}")
    checked = tuple(extra_args or ())
    for arg in checked:
        if not isinstance(arg, str):
            raise TypeError(f"extra_args holds {arg!r}, not a string")
        if "\x00" in arg:
            raise argument_error(
                ValueError, f"{NAME} holds {arg!r}, which has a NUL byte", parameter="extra_args"
            )
    return checked
