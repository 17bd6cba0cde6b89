"""The sliders of the explorers, as data: where each position of a slider is, and what it
reads. The ipywidgets explorer builds its widgets from a :class:`Slider`, and the website
gets the same :class:`Slider`, exported at build time, so that both offer the same values.

A slider's positions are numbered 0, 1, ..., ``count - 1``; :meth:`Slider.value_at` turns a
position into the hyperparameter's value (the page sends positions, Python maps them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Control:
    """One hyperparameter's slider, before it has a starting value: a linear slider, a log
    slider, a slider of whole numbers (``"int"``, ``low`` to ``high``) or a checkbox.

    ``name`` is the constructor's keyword, except ``beta1``/``beta2``, which are packed into
    Adam's ``betas`` tuple. A log slider's ``low``/``high`` are values (``1e-4``, ``10``)
    and its ``step`` is in powers of ten.
    """

    name: str
    description: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01


@dataclass(frozen=True)
class Slider:
    """A slider with its grid fixed: ``kind`` is ``"log"`` (positions are powers of ten,
    ``low + k * step`` in the exponent), ``"linear"`` (``low + k * step``), ``"int"``,
    ``"options"`` (the values listed) or ``"checkbox"`` (False, True).

    The grid passes through the starting ``value``, at position ``start``, which maps to
    ``value`` exactly.
    """

    name: str
    description: str
    kind: str
    value: Any
    start: int
    count: int
    low: float = 0.0
    step: float = 1.0
    readout_format: str = ""
    options: tuple[Any, ...] = field(default_factory=tuple)

    @property
    def high(self) -> float:
        return self.low + (self.count - 1) * self.step

    def value_at(self, position: int) -> Any:
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < self.count:
            raise ValueError(f"{self.name}: position must be a whole number in [0, {self.count - 1}]; got {position!r}")
        if position == self.start:
            return self.value
        if self.kind == "checkbox":
            return position == 1
        if self.kind == "options":
            return self.options[position]
        if self.kind == "int":
            return int(self.low) + position
        if self.kind == "log":
            return 10.0 ** (self.low + position * self.step)
        return self.low + position * self.step

    def readout(self, position: int) -> str:
        value = self.value_at(position)
        if self.kind in ("checkbox", "options", "int"):
            return str(value)
        return format(value, self.readout_format)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Slider:
        """The slider of :meth:`to_dict`'s dict (keys it does not know, such as the page's
        ``readout``, are left out)."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**{**known, "options": tuple(known.get("options", ()))})


def _off_grid(value: float, low: float, step: float) -> bool:
    offset = (value - low) % step
    return min(offset, step - offset) > 1e-9 * step


def slider_for(control: Control, value: Any) -> Slider:
    """The slider of ``control`` starting at ``value``; the range widens to include it (a
    slider would silently clip a value outside its range), and the grid passes through it
    (else a widget snaps 0.4 to 0.398, and the run is not the one asked for)."""
    if control.kind == "checkbox":
        if not isinstance(value, bool):
            raise ValueError(f"{control.name} must be True or False; got {value!r}")
        return Slider(control.name, control.description, "checkbox", value, start=int(value), count=2)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{control.name} must be a finite number; got {value!r}")
    if control.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{control.name} must be a whole number; got {value!r}")
        low, high = min(int(control.low), value), max(int(control.high), value)
        return Slider(control.name, control.description, "int", value, start=value - low, count=high - low + 1,
                      low=float(low))
    if control.kind == "log":
        if not value > 0:
            raise ValueError(f"{control.name} must be positive to be set on a log slider; got {value!r}")
        exponent = math.log10(value)
        below = max(1, math.ceil((exponent - math.log10(control.low)) / control.step - 1e-9))
        above = max(1, math.ceil((math.log10(control.high) - exponent) / control.step - 1e-9))
        return Slider(control.name, control.description, "log", value, start=below, count=below + above + 1,
                      low=exponent - below * control.step, step=control.step, readout_format=".3g")
    if control.kind == "linear":
        # Refine the step (0.001 on a 0.01 grid) up to a thousandth, else start the grid at
        # the value's offset.
        step, low = control.step, control.low
        while _off_grid(value, low, step) and step > control.step / 1000:
            step /= 10
        if _off_grid(value, low, step):
            step = control.step
            low = value if value < low else low + (value - low) % step
        low = min(low, value)
        high = max(control.high, value)
        decimals = max(0, -math.floor(math.log10(step)))
        return Slider(control.name, control.description, "linear", value, start=round((value - low) / step),
                      count=math.floor((high - low) / step + 1e-9) + 1, low=low, step=step,
                      readout_format=f".{decimals}f")
    raise ValueError(f"unknown control kind {control.kind!r} for {control.name}")


def steps_slider(value: int, most: int) -> Slider:
    """The number of steps, 1 to ``max(most, value)``."""
    return Slider("steps", "steps", "int", value, start=value - 1, count=max(most, value), low=1.0)


def options_slider(name: str, description: str, options: Sequence[Any], value: Any) -> Slider:
    options = tuple(options)
    if value not in options:
        raise ValueError(f"{name} must be one of {list(options)}; got {value!r}")
    return Slider(name, description, "options", value, start=options.index(value), count=len(options),
                  options=options)


def hyperparameters(names: Sequence[str], values: Mapping[str, Any], fixed: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor's keyword arguments for the slider values ``values`` (Adam's
    ``beta1``, ``beta2`` packed as ``betas``), then the given hyperparameters without a
    slider, ``fixed``, unchanged."""
    result: dict[str, Any] = {}
    for name in names:
        if name == "beta1":
            result["betas"] = (values["beta1"], values["beta2"])
        elif name != "beta2":
            result[name] = values[name]
    return {**result, **fixed}
