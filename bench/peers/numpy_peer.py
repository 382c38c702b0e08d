"""The closed-form population gradient as a researcher writes it in numpy:
float64, fully vectorised, angles by arccos of the clipped cosine.

    step(W, V, a, b, eta) -> W - eta * dL/dW

Same model and formulas as libtsrelu (docs/theory.md):
    dL/dw_i = a_i sum_n c_n [ (pi - t_in)/(2 pi) u_n + |u_n| sin t_in /(2 pi) w_i/|w_i| ]
with U = [W; V], c = [a; -b].
"""
import numpy as np


def gradient(W, V, a, b):
    U = np.vstack([W, V])
    c = np.concatenate([a, -b])
    norms = np.linalg.norm(U, axis=1)
    nw = norms[: W.shape[0]]
    cos = np.clip((W @ U.T) / (nw[:, None] * norms[None, :]), -1.0, 1.0)
    theta = np.arccos(cos)
    P = (a[:, None] * c[None, :]) * (np.pi - theta) / (2 * np.pi)
    s = a * ((c * norms)[None, :] * np.sin(theta)).sum(axis=1) / (2 * np.pi)
    return P @ U + (s / nw)[:, None] * W


def loss(W, V, a, b):
    U = np.vstack([W, V])
    c = np.concatenate([a, -b])
    norms = np.linalg.norm(U, axis=1)
    cos = np.clip((U @ U.T) / np.outer(norms, norms), -1.0, 1.0)
    theta = np.arccos(cos)
    g = np.outer(norms, norms) / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * cos)
    return 0.5 * c @ g @ c


def step(W, V, a, b, eta):
    return W - eta * gradient(W, V, a, b)
