#!/usr/bin/env python3
"""Derive the rational tanh approximation used by crates/models/src/nn/layers.rs (`fast_tanh`).

tanh(x) = x * P(u) / Q(u), u = x^2 / C^2, |x| clamped to C = 9 (beyond it tanh rounds to
+-1 in float32), P and Q of degree 4 with P(0) = Q(0) = 1 so tanh(x) = x exactly for tiny x.
Coefficients come from a linearised least-squares fit of the relative error, reweighted
(Lawson-style) towards the minimax solution. Evaluated in float64 and rounded once, the result
is within about 1 ulp of float32 tanh, which this script checks on 20 million points. Run:
/work/venv-nn/bin/python bench/nn_tanh_fit.py (numpy only).
"""
import numpy as np

C = 9.0
DEG_P, DEG_Q = 4, 4


def fit(iterations=200):
    x = np.linspace(1e-4, C, 600_000)
    u = (x / C) ** 2
    g = np.tanh(x) / x  # fit g(u) = P(u) / Q(u), relative error
    w = np.ones_like(x)
    for _ in range(iterations):
        # g*Q = P  ->  g - 1 = sum_k>=1 p_k u^k - g * sum_k>=1 q_k u^k  (p_0 = q_0 = 1)
        a = np.hstack([
            np.stack([u ** k for k in range(1, DEG_P + 1)], 1),
            np.stack([-g * u ** k for k in range(1, DEG_Q + 1)], 1),
        ])
        sol, *_ = np.linalg.lstsq(a * (w / g)[:, None], (g - 1) * (w / g), rcond=None)
        p = np.concatenate([[1.0], sol[:DEG_P]])
        q = np.concatenate([[1.0], sol[DEG_P:]])
        err = np.polyval(p[::-1], u) / np.polyval(q[::-1], u) / g - 1
        w = w * np.abs(err) ** 0.5 + 1e-300
        w /= w.max()
    return p, q, np.abs(err).max()


def fast_tanh(xs, p, q):
    """The Rust evaluation: float32 in, float64 Horner, one rounding to float32."""
    x = np.clip(xs.astype(np.float64), -C, C)
    u = x * x * (1.0 / (C * C))
    pp = np.full_like(u, p[-1])
    for c in p[-2::-1]:
        pp = pp * u + c
    qq = np.full_like(u, q[-1])
    for c in q[-2::-1]:
        qq = qq * u + c
    return (x * (pp / qq)).astype(np.float32)


def main():
    p, q, fit_error = fit()
    print(f"fit: max relative error {fit_error:.3e}")
    rng = np.random.default_rng(0)
    xs = np.concatenate([
        np.linspace(-12, 12, 10_000_001, dtype=np.float32),
        (rng.standard_normal(10_000_000) * 3).astype(np.float32),
        np.float32([0.0, -0.0, 1e-30, -1e-30, 1e-8, 9.0, -9.0, 100.0, -100.0]),
    ])
    ours = fast_tanh(xs, p, q)
    exact = np.tanh(xs.astype(np.float64))
    ulps = np.abs(ours - exact) / np.spacing(np.abs(exact.astype(np.float32)))
    print(f"float32 result: max |error| {np.abs(ours - exact).max():.3e}, max {ulps.max():.2f} ulp")
    print("const P: [f64; 5] = [" + ", ".join(repr(float(v)) for v in p) + "];")
    print("const Q: [f64; 5] = [" + ", ".join(repr(float(v)) for v in q) + "];")


if __name__ == "__main__":
    main()
