"""PyTorch peers, float64, as a researcher writes them:

closed_form_stepper: the population loss in closed form (arccos of the
  clipped cosine), gradient by autograd.
monte_carlo_stepper: the loss on fresh Gaussian samples every step, gradient
  by autograd.

Both return a function W -> W - eta * dL/dW on torch tensors; a = b = 1.
"""
import math

import torch

torch.set_default_dtype(torch.float64)


def to_tensor(x):
    return torch.as_tensor(x, dtype=torch.float64)


def _closed_form_loss(W, V):
    U = torch.cat([W, V])
    c = torch.cat([torch.ones(W.shape[0]), -torch.ones(V.shape[0])])
    n = U.norm(dim=1)
    cos = ((U @ U.T) / torch.outer(n, n)).clamp(-1.0, 1.0)
    theta = torch.arccos(cos)
    g = torch.outer(n, n) / (2 * math.pi) * (torch.sin(theta) + (math.pi - theta) * cos)
    return 0.5 * c @ g @ c


def closed_form_stepper(V, eta):
    V = to_tensor(V)

    def step(W):
        W = W.detach().requires_grad_(True)
        loss = _closed_form_loss(W, V)
        (g,) = torch.autograd.grad(loss, W)
        return (W - eta * g).detach()

    return step


def monte_carlo_stepper(V, eta, samples):
    V = to_tensor(V)

    def step(W):
        W = W.detach().requires_grad_(True)
        x = torch.randn(samples, V.shape[1])
        r = torch.relu(x @ W.T).sum(dim=1) - torch.relu(x @ V.T).sum(dim=1)
        loss = 0.5 * (r * r).mean()
        (g,) = torch.autograd.grad(loss, W)
        return (W - eta * g).detach()

    return step
