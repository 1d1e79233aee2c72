"""Claims: one sentence of a chapter's prose checked against the run that just happened.

A notebook states a result in words ("sharing helps at ρ = 1") and then checks it with the measured number.
`claim` prints that check as one line a reader can follow, ✔ and the measurement, and stops the notebook
with the measured value when the sentence does not hold (nbval, and so `make test`, then fail).
"""
from __future__ import annotations

import math
import numbers


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


class ClaimFailed(AssertionError):
    """A sentence of the prose that the run contradicts; the message gives the measurement."""


def claim(text: str, holds: object, measured: str) -> None:
    """Print "✔ text: measured" if `holds` is true; raise ClaimFailed with the measurement if it is not.

    `measured` says what was measured and what the sentence needs, e.g. "gain 3.4 (needs > 1.2)".
    """
    if not isinstance(text, str) or not text.strip():
        raise TypeError(f"claim: text must be the sentence being checked, got {text!r}.")
    if not isinstance(measured, str):
        raise TypeError(f"claim: measured must say what was measured, as text, got {type(measured).__name__} "
                        f"{measured!r}; e.g. f\"gain {{gain:.1f}} (needs > 1.2)\".")
    if not isinstance(holds, (bool, numbers.Integral)) and not hasattr(holds, "__bool__"):
        raise TypeError(f"claim: holds must be a condition (True or False), got {type(holds).__name__}.")
    if not bool(holds):
        raise ClaimFailed(f"✘ {text}: {measured}")
    print(f"✔ {text}: {measured}")


def number(value: float, digits: int = 3) -> str:
    """A measured number as a reader wants it: `digits` significant digits, no np.float64(...), no 5.771e-05;
    below 10⁻⁶ in powers of ten (2.22×10⁻¹⁶)."""
    value = float(value.detach() if hasattr(value, "detach") else value)   # a tensor, even one that needs grad
    if not math.isfinite(value) or value == 0:
        return str(value) if value else "0"
    exponent = math.floor(math.log10(abs(value)))
    if exponent < -6:                                    # 2.22×10⁻¹⁶, not sixteen zeros
        mantissa, power = f"{value:.{digits - 1}e}".split("e")
        return f"{mantissa}×10{str(int(power)).translate(SUPERSCRIPT)}"
    places = max(digits - 1 - exponent, 0)
    return f"{value:,.{places}f}"
