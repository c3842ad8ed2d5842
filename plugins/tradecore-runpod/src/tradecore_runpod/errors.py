"""RunPod refusals and failures, each a one-line tradecore error that never contains the API key."""

from __future__ import annotations

from tradecore.api import TradecoreError


class RunpodError(TradecoreError):
    """Something RunPod refused or that went wrong around a pod."""


class AuthError(RunpodError):
    """No API key, or RunPod rejected it."""


class ConfigError(RunpodError):
    """The request cannot succeed as written (unknown GPU, volume in another region, bad body)."""


class CapacityError(RunpodError):
    """No instance of this GPU type is free right now; another candidate may work."""


class InsufficientFundsError(RunpodError):
    """Balance or spend limit stops any launch (HTTP 402 or the pre-flight account check)."""


class BudgetError(RunpodError):
    """tradecore's own budget guard refused the launch or stopped the pod."""


class TransientError(RunpodError):
    """5xx, timeouts, rate limits that outlasted the retries."""


class PodGone(RunpodError):
    """The pod disappeared (404) while we were watching it."""


class AccountUnknown(RunpodError):
    """The balance and spend limit could not be read; the launch goes on with a warning, never silently."""
