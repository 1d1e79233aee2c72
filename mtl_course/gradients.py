"""Gradient methods: combine the per-task gradients of the shared parameters into one update.

Each method is a pure function from the T×D matrix of per-task gradients (one row per task,
D = number of shared scalars) to one update direction of length D, so it can be tested on
hand-made matrices. `GradientAggregation` connects such a function to the training loop.

Exact on the shared parameters (T backward passes per step, via `GradientAggregation`): `mgda`,
`pcgrad`, `cagrad`, `imtl_g`. Every method but PCGrad is a weighted sum Σₜ wₜgₜ whose weights depend
only on the inner products gᵢᵀgⱼ, so its `*_weights` function can also run on the gradients w.r.t.
the shared representation (`RepresentationWeighting`, one backward through the trunk): exact for
that representation, an approximation (for MGDA, an upper bound: MGDA-UB) for the parameters.
"""
from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from .models import MultiTaskModel
from .weighting import Strategy


def per_task_gradients(losses: dict[str, Tensor], params: list[Tensor]) -> Tensor:
    """The T×D matrix whose row t is ∇Lₜ with respect to `params`, flattened (one backward per task)."""
    rows = []
    for loss in losses.values():
        grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        rows.append(torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1)
                               for g, p in zip(grads, params)]))
    return torch.stack(rows)


def set_gradient(params: list[Tensor], direction: Tensor) -> None:
    """Write a flat direction of length D into the `.grad` of `params`, in order."""
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = direction[offset:offset + n].view_as(p).clone()
        offset += n
    if offset != direction.numel():
        raise ValueError(f"Direction has {direction.numel()} entries, the parameters {offset}.")


def gradient_sum(grads: Tensor) -> Tensor:
    """Σₜ gₜ: the update of equal loss weighting, written as a gradient method."""
    return grads.sum(dim=0)


class GradientAggregation(Strategy):
    """Per-task gradients of the shared parameters, combined by `aggregate` (T×D matrix → D vector).

    Task-specific parameters (the heads) get the ordinary gradient of their own task's loss.
    """

    def __init__(self, aggregate: Callable[[Tensor], Tensor]):
        super().__init__()
        self.aggregate = aggregate

    def backward(self, losses: dict[str, Tensor], model: MultiTaskModel,
                 features: Tensor | None = None) -> dict[str, float]:
        """Per-task gradients on the shared parameters, the aggregate written into their `.grad`."""
        shared = model.shared_parameters()
        if not shared:  # nothing is shared (e.g. soft sharing): no conflict to resolve, each task its own gradient
            torch.stack(list(losses.values())).sum().backward()
            return {}
        grads = per_task_gradients(losses, shared)
        task_params = model.task_parameters()
        if task_params:  # each head is reached by its own loss only, so the summed loss gives its gradient
            torch.autograd.backward(torch.stack(list(losses.values())).sum(), inputs=task_params)
        set_gradient(shared, self.aggregate(grads))
        return {}


# ---------------------------------------------------------------------------------------------
# Input checks shared by the methods
# ---------------------------------------------------------------------------------------------

def _check_shape(grads: Tensor, method: str) -> None:
    """Refuse anything but a T×D matrix with at least one task and one coordinate."""
    if not isinstance(grads, Tensor) or grads.dim() != 2 or grads.shape[0] < 1 or grads.shape[1] < 1:
        shape = tuple(grads.shape) if isinstance(grads, Tensor) else type(grads).__name__
        raise ValueError(f"{method} needs a T×D matrix of per-task gradients (one row per task), got {shape}.")


def _check_grads(grads: Tensor, method: str) -> None:
    """Refuse anything but a finite T×D matrix with at least one task (scans all T·D entries)."""
    _check_shape(grads, method)
    if not bool(torch.isfinite(grads).all()):
        raise ValueError(f"{method}: the per-task gradients contain NaN or inf.")


def _gram(grads: Tensor, method: str) -> np.ndarray:
    """G Gᵀ in float64 on the CPU, refusing non-finite gradients: the T×T inner products every method below needs.

    The gradients are converted once. A NaN or inf entry makes its row's diagonal entry ‖gₜ‖² NaN or
    inf, so checking the T×T result replaces a scan of the whole T×D matrix.
    """
    _check_shape(grads, method)
    g = (grads.cpu() if grads.device.type == "mps" else grads).double()   # MPS has no float64
    gram = (g @ g.T).cpu().numpy()
    if not np.isfinite(gram).all():
        _check_grads(grads, method)                  # names NaN/inf in the gradients themselves
        raise ValueError(f"{method}: the inner products of the per-task gradients overflow float64 "
                         f"(largest |entry| {float(grads.abs().max()):.3g}); rescale the losses.")
    return gram


def _combine(weights: np.ndarray, grads: Tensor) -> Tensor:
    """Σₜ wₜ gₜ, computed on the gradients' device and in their dtype."""
    return torch.as_tensor(weights, dtype=grads.dtype, device=grads.device) @ grads


def _scale(gram: np.ndarray) -> float:
    """The largest squared gradient norm: tolerances are relative to it, so they do not depend on the losses' scale."""
    return max(float(np.diag(gram).max()), 1e-300)


# ---------------------------------------------------------------------------------------------
# MGDA: the min-norm point in the convex hull of the gradients
# ---------------------------------------------------------------------------------------------

def _affine_min_norm(gram: np.ndarray) -> np.ndarray:
    """The μ with Σμ = 1 (signs free) minimizing ‖Σ μₛ pₛ‖²: the min-norm point of the points' affine hull.

    Its KKT system is solved with the points scaled to unit length (so that gradients of very
    different sizes do not lose the small ones to rounding), by least squares where it is singular.
    """
    n = len(gram)
    scale = 1.0 / np.sqrt(np.maximum(np.diag(gram), 1e-300))
    kkt = np.block([[gram * np.outer(scale, scale), scale[:, None]], [scale[None, :], np.zeros((1, 1))]])
    rhs = np.concatenate([np.zeros(n), [1.0]])
    try:
        solution = np.linalg.solve(kkt, rhs)
    except np.linalg.LinAlgError:
        solution = np.full(n + 1, np.nan)
    if not np.isfinite(solution).all() or np.abs(kkt @ solution - rhs).max() > 1e-9:
        solution = np.linalg.lstsq(kkt, rhs, rcond=None)[0]
    return solution[:n] * scale


def _min_norm_point(gram: np.ndarray, max_iter: int, tol: float) -> tuple[np.ndarray, bool]:
    """Convex weights of the min-norm point x of the hull of points given by their Gram matrix, and whether it converged.

    It stops when every point p has pᵀx ≥ ‖x‖² − tol·‖p‖·‖x‖, or when rounding stops the progress.

    Wolfe's algorithm ("Finding the nearest point in a polytope", Math. Programming 1976): keep a
    corral of points whose affine min-norm point lies inside their hull; add the point most opposed
    to the current x, then drop points until the corral's affine min-norm point is convex again. It
    ends after finitely many steps with the exact point, where Frank–Wolfe only approaches it.
    """
    T = len(gram)
    norms = np.sqrt(np.maximum(np.diag(gram), 1e-300))
    lam = np.zeros(T)
    lam[int(np.argmin(np.diag(gram)))] = 1.0
    xx = float(lam @ gram @ lam)
    for _ in range(max_iter):
        beyond = (xx - gram @ lam) / norms           # (‖x‖² − pᵢᵀx)/‖pᵢ‖: how far x is from pᵢ's side
        j = int(np.argmax(beyond))
        if beyond[j] <= tol * np.sqrt(max(xx, 0.0)) or lam[j] > 0:   # no point lies beyond x: x is the min-norm point
            return lam, True
        support = np.flatnonzero(lam > 0).tolist() + [j]
        new = lam
        for _ in range(len(support)):                # Wolfe's minor cycle: each pass drops a point or ends
            mu = _affine_min_norm(gram[np.ix_(support, support)])
            current = new[support]
            if mu.min() > 0:
                new = np.zeros(T)
                new[support] = mu
                break
            falling = np.flatnonzero(mu <= 0)
            gap = current[falling] - mu[falling]
            ratios = np.divide(current[falling], gap, out=np.zeros(len(falling)), where=gap > 0)
            theta = float(ratios.min())
            current = np.maximum(current + theta * (mu - current), 0.0)
            current[falling[int(np.argmin(ratios))]] = 0.0
            new = np.zeros(T)
            new[support] = current / current.sum()
            support = np.flatnonzero(new > 0).tolist()
        new_xx = float(new @ gram @ new)
        if new_xx >= xx:                             # no progress left above rounding: lam is as good as it gets
            return lam, True
        lam, xx = new, new_xx
    return lam, False


def mgda_weights(grads: Tensor, max_iter: int = 1000, tol: float = 1e-12) -> Tensor:
    """The convex weights α of MGDA's min-norm point min_α ‖Σₜ αₜ gₜ‖² (α ≥ 0, Σα = 1).

    Sener & Koltun, "Multi-Task Learning as Multi-Objective Optimization", NeurIPS 2018, solve it
    by Frank–Wolfe; this uses Wolfe's exact min-norm-point algorithm on the same Gram matrix, so it
    stops at the min-norm point d itself: gₜᵀd ≥ ‖d‖² − tol·‖gₜ‖·‖d‖ for every task (no task's
    loss rises to first order, up to rounding), and d = 0 at a Pareto-stationary point. A warning says when
    `max_iter` corral changes were not enough.
    """
    gram = _gram(grads, "mgda")
    alpha, converged = _min_norm_point(gram, max_iter, tol)
    if not converged:
        warnings.warn(f"mgda: the min-norm point did not converge in max_iter = {max_iter} steps; "
                      "the direction may raise a task's loss.", RuntimeWarning, stacklevel=2)
    return torch.as_tensor(alpha, dtype=grads.dtype, device=grads.device)


def mgda(grads: Tensor) -> Tensor:
    """MGDA's update: the min-norm point of the convex hull of the per-task gradients."""
    return _combine(mgda_weights(grads).cpu().double().numpy(), grads)


# ---------------------------------------------------------------------------------------------
# PCGrad: project each gradient off the gradients it conflicts with
# ---------------------------------------------------------------------------------------------

def pcgrad_projections(grads: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """The T×D matrix of PCGrad's projected gradients gₜ^PC, before they are summed.

    Yu et al., "Gradient Surgery for Multi-Task Learning", NeurIPS 2020: for each task t, visit the
    other tasks in random order; whenever gₜ^PC conflicts with gⱼ (gₜ^PC·gⱼ < 0), remove the
    component along gⱼ: gₜ^PC ← gₜ^PC − (gₜ^PC·gⱼ / ‖gⱼ‖²)·gⱼ. `generator` makes the order reproducible.
    """
    _check_grads(grads, "pcgrad")
    T = grads.shape[0]
    projected = grads.clone()
    for t in range(T):
        for j in torch.randperm(T, generator=generator).tolist():
            if j == t:
                continue
            dot = projected[t] @ grads[j]
            if dot < 0:
                projected[t] -= dot / (grads[j] @ grads[j]) * grads[j]
    return projected


def pcgrad(grads: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """PCGrad's update: the sum of the projected gradients (equal to Σₜ gₜ when no pair conflicts)."""
    return pcgrad_projections(grads, generator).sum(dim=0)


# ---------------------------------------------------------------------------------------------
# CAGrad: the best worst-case improvement within a ball around the mean gradient
# ---------------------------------------------------------------------------------------------

def _frank_wolfe(gradient: Callable[[np.ndarray], np.ndarray],
                 line_search: Callable[[np.ndarray, np.ndarray], float],
                 w: np.ndarray, max_iter: int, tol: float) -> np.ndarray:
    """Minimize a convex function over the simplex by Frank–Wolfe with away steps and exact line search.

    `line_search(x, y)` returns the best γ ∈ [0, 1] on the segment γ·x + (1−γ)·y. Away steps (moving
    mass off the worst vertex in use) make it converge fast when the optimum lies on a face.
    """
    T = len(w)
    for _ in range(max_iter):
        g = gradient(w)
        toward = int(np.argmin(g))
        support = np.flatnonzero(w > 0)
        away = int(support[np.argmax(g[support])])
        fw_gap, away_gap = g @ w - g[toward], g[away] - g @ w
        if max(fw_gap, away_gap) <= tol:
            break
        if fw_gap >= away_gap or w[away] >= 1:
            target = np.eye(T)[toward]
        else:                                      # the far end of the line from vertex `away` through w
            target = (w - w[away] * np.eye(T)[away]) / (1 - w[away])
        gamma = line_search(target, w)
        w = gamma * target + (1 - gamma) * w
        w[w < 1e-15] = 0.0
        w /= w.sum()
    return w


def _nonnegative_least_squares(gram: np.ndarray, h: np.ndarray, max_iter: int, tol: float) -> np.ndarray:
    """argmin over μ ≥ 0 of ½μᵀGμ + hᵀμ, by Lawson & Hanson's active-set method on the Gram matrix."""
    T = len(gram)
    mu, active = np.zeros(T), np.zeros(T, dtype=bool)
    for _ in range(max_iter):
        slope = gram @ mu + h
        candidates = ~active & (slope < -tol)
        if not candidates.any():
            break
        active[int(np.argmin(np.where(candidates, slope, np.inf)))] = True
        while True:
            z = np.zeros(T)
            z[active] = np.linalg.lstsq(gram[np.ix_(active, active)], -h[active], rcond=None)[0]
            if (z[active] > 0).all():
                mu = z
                break
            falling = active & (z <= 0)
            theta = float(np.min(mu[falling] / (mu[falling] - z[falling])))
            mu = mu + theta * (z - mu)
            active &= mu > 1e-14 * max(mu.max(), 1e-300)
            mu[~active] = 0.0
    return mu


def _conflict_free_projection(gram: np.ndarray, max_iter: int, tol: float) -> np.ndarray:
    """Weights w of d = Σₜ wₜgₜ, the point closest to g₀ of the cone {d : gₜᵀd ≥ 0 for every t}.

    Its dual: d = g₀ + Σₜ μₜgₜ with μ ≥ 0 minimizing ‖g₀ + Σₜ μₜgₜ‖², so w = 1/T + μ.
    """
    T = len(gram)
    return np.full(T, 1.0 / T) + _nonnegative_least_squares(gram, gram.mean(axis=1), max_iter, tol)


def _cagrad_segment(aa: float, ab: float, bb: float, a0: float, b0: float, k: float) -> float:
    """argmin over γ ∈ [0, 1] of γ·(a − b)ᵀg₀ + k·‖γ·a + (1−γ)·b‖, all from inner products (exact)."""
    dd = aa - 2 * ab + bb                          # ‖δ‖², δ = a − b
    slope = a0 - b0                                # δᵀg₀: the linear part's slope
    if dd <= 1e-18 * max(aa, bb, 1e-300):
        return 0.0
    if k <= 0:
        return 1.0 if slope < 0 else 0.0
    b_delta = ab - bb                              # bᵀδ
    m = np.sqrt(max(dd * bb - b_delta ** 2, 0.0))  # ‖δ‖·(distance of the line from 0)
    s = -slope / (k * np.sqrt(dd))                 # F′(γ) = 0  ⇔  u / √(u² + m²) = s,  u = γ‖δ‖² + bᵀδ
    if s >= 1:
        return 1.0
    if s <= -1:
        return 0.0
    u = s * m / np.sqrt(1 - s * s)
    return float(np.clip((u - b_delta) / dd, 0.0, 1.0))


def cagrad_weights(grads: Tensor, c: float = 0.5, max_iter: int = 1000, tol: float = 1e-12) -> Tensor:
    """The weights wₜ with CAGrad's update d = Σₜ wₜ gₜ.

    Liu et al., "Conflict-Averse Gradient Descent for Multi-task Learning", NeurIPS 2021: maximize
    the worst task's improvement minₜ gₜᵀd within the ball ‖d − g₀‖ ≤ c‖g₀‖ around the mean gradient
    g₀. Its dual: min over the simplex of F(w) = g_wᵀg₀ + c‖g₀‖·‖g_w‖ (solved by Frank–Wolfe with an
    exact line search), then d = g₀ + c‖g₀‖/‖g_w‖ · g_w: the weights are 1/T + c‖g₀‖/‖g_w‖·w and
    sum to 1 + c‖g₀‖/‖g_w‖ (not 1 + c; ‖g_w‖ ≤ ‖g₀‖ is not guaranteed either). At c = 0 it is g₀.

    Where 0 is in the convex hull of the gradients, g_w = 0 and the formula is undefined; the
    authors' code then returns g₀, which can raise a task's loss although a direction in the ball
    that raises none exists. Here, when such a direction exists, the update is the one closest to
    g₀: the projection of g₀ on the cone {d : gₜᵀd ≥ 0}, which attains the optimum minₜ gₜᵀd = 0.
    """
    gram = _gram(grads, "cagrad")
    if not (c >= 0 and np.isfinite(c)):
        raise ValueError(f"cagrad: the radius c must be a finite number >= 0, got c = {c}.")
    T = len(gram)
    scale = _scale(gram)
    g0_g = gram.mean(axis=1)                       # gₜᵀg₀
    g0_norm = np.sqrt(max(g0_g.mean(), 0.0))
    k = c * g0_norm                                # c‖g₀‖
    hull_min, _ = _min_norm_point(gram, max_iter, tol)
    # 0 is in the hull up to rounding: the min-norm point x = Σλₜgₜ cancels to ‖x‖ ≤ 1e-6·Σλₜ‖gₜ‖
    # (its squared norm, computed from the Gram matrix, is exact only to about 1e-16·(Σλₜ‖gₜ‖)²)
    if k > 0 and hull_min @ gram @ hull_min <= 1e-12 * (hull_min @ np.sqrt(np.diag(gram))) ** 2:
        weights = _conflict_free_projection(gram, max_iter, tol * scale)
        step = weights - 1.0 / T
        if np.sqrt(max(step @ gram @ step, 0.0)) <= k * (1 + 1e-9):   # within the ball: optimal
            return torch.as_tensor(weights, dtype=grads.dtype, device=grads.device)

    def objective(w: np.ndarray) -> float:
        return w @ g0_g + k * np.sqrt(max(w @ gram @ w, 0.0))

    def gradient(w: np.ndarray) -> np.ndarray:
        norm = np.sqrt(max(w @ gram @ w, 0.0))
        return g0_g + (k * (gram @ w) / norm if norm > 0 else 0.0)

    def line_search(x: np.ndarray, y: np.ndarray) -> float:
        return _cagrad_segment(x @ gram @ x, x @ gram @ y, y @ gram @ y, x @ g0_g, y @ g0_g, k)

    w = np.zeros(T)
    w[int(np.argmin([objective(e) for e in np.eye(T)]))] = 1.0   # exact in one step for T = 2
    w = _frank_wolfe(gradient, line_search, w, max_iter, tol * scale)
    norm = np.sqrt(max(w @ gram @ w, 0.0))
    weights = np.full(T, 1.0 / T) + (k / norm * w if norm > 0 else 0.0)
    return torch.as_tensor(weights, dtype=grads.dtype, device=grads.device)


def cagrad(grads: Tensor, c: float = 0.5) -> Tensor:
    """CAGrad's update d = g₀ + c‖g₀‖/‖g_w‖·g_w (c = 0.5 as in the paper's experiments)."""
    return _combine(cagrad_weights(grads, c).cpu().double().numpy(), grads)


# ---------------------------------------------------------------------------------------------
# IMTL-G: the direction whose projections on every task's unit gradient are equal
# ---------------------------------------------------------------------------------------------

def imtl_g_weights(grads: Tensor) -> Tensor:
    """The weights αₜ (Σα = 1) of IMTL-G's update d = Σₜ αₜgₜ, whose projections uₜᵀd on every uₜ = gₜ/‖gₜ‖ are equal.

    Liu et al., "Towards Impartial Multi-task Learning", ICLR 2021, write α₂:T = g₁Uᵀ(DUᵀ)⁻¹ with
    Dₜ = g₁ − gₜ and Uₜ = u₁ − uₜ. The same condition in the unit gradients' cosine matrix C:
    C·β = 1 with βₜ = αₜ‖gₜ‖, then uₜᵀd is equal for every task. Solving that (pseudo-inverse)
    instead of the paper's form keeps α right where DUᵀ is singular: proportional gradients (the
    paper's form can flip d to −g there), a zero gradient (its task is left out, α = 0: it has no
    direction), duplicates. Two differences from the paper, both to keep every task improving:
    where Σ βₜ/‖gₜ‖ < 0, Σα = 1 would make the equal projection negative (every loss rises), so
    α is scaled to Σα = −1 instead; and where no exact solution exists (more tasks than independent
    gradients, 0 in their convex hull) α is the least-squares one, whose projections differ and
    can be negative, or 0 where no task can get a positive projection (two opposite gradients).
    """
    gram = _gram(grads, "imtl_g")
    norms = np.sqrt(np.diag(gram))
    live = norms > 1e-150 * norms.max() if norms.max() > 0 else np.zeros(len(norms), dtype=bool)
    alpha = np.zeros(len(gram))
    if live.any():
        n = norms[live]
        cosine = gram[np.ix_(live, live)] / np.outer(n, n)
        beta = np.linalg.pinv(cosine, rcond=1e-12, hermitian=True) @ np.ones(len(n))
        alpha[live] = beta / n
        total = alpha.sum()
        # no direction has a positive projection on any task (e.g. two opposite gradients): Cβ ≈ 0,
        # or Σα ≈ 0 and Σα = ±1 would blow the update up; then the update is 0
        if np.abs(cosine @ beta).max() <= 1e-8 or abs(total) <= 1e-12 * np.abs(alpha).sum():
            alpha[:] = 0.0
        else:
            alpha /= abs(total)
    return torch.as_tensor(alpha, dtype=grads.dtype, device=grads.device)


def imtl_g(grads: Tensor) -> Tensor:
    """IMTL-G's update Σₜ αₜ gₜ: every task sees the same improvement per unit of its own gradient."""
    return _combine(imtl_g_weights(grads).cpu().double().numpy(), grads)


# ---------------------------------------------------------------------------------------------
# The same weights, computed on the shared representation's gradients
# ---------------------------------------------------------------------------------------------

class RepresentationWeighting(Strategy):
    """Task weights from the gradients of each loss w.r.t. the shared representation z, then one backward of Σₜ wₜLₜ.

    ∇_z Lₜ needs a backward pass through the heads only, so this costs about one ordinary step.
    With `mgda_weights` it is MGDA-UB (Sener & Koltun, 2018), which minimizes an upper bound of the
    parameter-level min-norm objective. `weights` maps the T×(B·K) matrix of representation
    gradients to T weights (`mgda_weights`, `imtl_g_weights`, `cagrad_weights`).
    """

    needs_features = True

    def __init__(self, weights: Callable[[Tensor], Tensor]):
        super().__init__()
        self.weights = weights

    def backward(self, losses: dict[str, Tensor], model: MultiTaskModel,
                 features: Tensor | None = None) -> dict[str, float]:
        """∇_z Lₜ for every task, the weights from them, one backward pass of the weighted sum."""
        if features is None:
            raise ValueError("RepresentationWeighting needs the shared representation: call the model "
                             "with return_features=True (fit does so because needs_features is True).")
        grads = per_task_gradients(losses, [features])
        weights = self.weights(grads).detach()
        if weights.shape != (len(losses),):
            raise ValueError(f"The weights function returned shape {tuple(weights.shape)}, expected ({len(losses)},).")
        total = (weights.to(features.dtype) * torch.stack(list(losses.values()))).sum()
        total.backward()
        return dict(zip(losses, weights.unbind()))
