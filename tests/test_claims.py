"""mc.claim: a checked sentence prints one line with its measurement, or stops the notebook with it."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import mtl_course as mc


def test_a_claim_that_holds_prints_one_line_with_its_measurement(capsys):
    mc.claim("sharing helps at ρ = 1", 3.4 > 1.2, "gain 3.4 (needs > 1.2)")
    assert capsys.readouterr().out == "✔ sharing helps at ρ = 1: gain 3.4 (needs > 1.2)\n"


@pytest.mark.parametrize("holds", [False, np.bool_(False), torch.tensor(False), 0])
def test_a_claim_the_run_contradicts_raises_with_the_measured_value(holds, capsys):
    with pytest.raises(mc.ClaimFailed, match=r"✘ sharing helps at ρ = 1: gain 0\.9 \(needs > 1\.2\)"):
        mc.claim("sharing helps at ρ = 1", holds, "gain 0.9 (needs > 1.2)")
    assert capsys.readouterr().out == ""


def test_claim_failed_is_an_assertion_error_so_nbval_reports_the_cell():
    assert issubclass(mc.ClaimFailed, AssertionError)


@pytest.mark.parametrize("args, words", [(("", True, "x 1"), "text must be the sentence"),
                                         (("a claim", True, 3.4), "measured must say what was measured")])
def test_bad_arguments_are_named(args, words):
    with pytest.raises(TypeError, match=words):
        mc.claim(*args)


@pytest.mark.parametrize("value, shown", [(np.float64(0.38912), "0.389"), (5.771e-05, "0.0000577"),
                                          (1234.5678, "1,235"), (-74.04, "-74.0"), (0.0, "0"), (2, "2.00"),
                                          (2.220446e-16, "2.22×10⁻¹⁶"), (-3.3e-7, "-3.30×10⁻⁷"),
                                          (9.9999e-7, "1.00×10⁻⁶")])
def test_number_prints_sensible_digits(value, shown):
    assert mc.number(value) == shown


def test_number_takes_a_tensor_that_needs_grad_without_a_warning(recwarn):
    import torch
    loss = (torch.tensor(0.38912, requires_grad=True) * 1.0)
    assert mc.number(loss) == "0.389" and not recwarn.list
