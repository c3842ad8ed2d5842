"""Which torch device a trainer's ``device`` param means here (for trainer plugins; torch loads on call)."""

from __future__ import annotations

import logging

from tradecore.errors import TradecoreError


def resolve_torch_device(requested: str, log: logging.Logger) -> str:
    """``"cpu"``, ``"cuda"`` or ``"auto"`` as a torch device name: ``cuda`` without a GPU is a one-line error,
    ``auto`` falls back to the CPU with a warning."""
    import torch

    available = torch.cuda.is_available()
    if requested == "cuda" and not available:
        raise TradecoreError(
            f"trainer.params.device: 'cuda' asked for, but torch {torch.__version__} sees no CUDA GPU on this "
            'machine; use "cpu", or "auto" to fall back to the CPU'
        )
    if requested == "auto":
        if not available:
            log.warning("trainer.params.device 'auto': no CUDA GPU found, training on the CPU")
        return "cuda" if available else "cpu"
    return requested
