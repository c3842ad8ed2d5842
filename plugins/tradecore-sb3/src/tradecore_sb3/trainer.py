"""The ``sb3`` trainer: builds vector envs, the SB3 model and callbacks; trains, checkpoints, resumes, saves.

Run-folder outputs: ``model/model.zip`` (final), ``model/best_model.zip`` (best validation return),
each with ``.vecnormalize.pkl`` when observations are normalised, ``checkpoints/`` (``latest.json``
points at the newest; ``tradecore run --resume`` continues from it), ``tensorboard/`` and
``training.csv``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym

from tradecore.api import RunContext, TradecoreError, Trainer, TrainResult, resolve_torch_device
from tradecore_sb3.params import CONTINUOUS_ONLY, LinearSchedule, NetArch, SB3Params
from tradecore_sb3.policy import ActionCodec, SB3Policy, algo_class, load_policy

if TYPE_CHECKING:  # the callbacks import stable-baselines3 (torch): only when training
    from tradecore_sb3.callbacks import TrainingState, ValidationCallback

MODEL_DIR = "model"
ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "elu": "ELU", "leaky_relu": "LeakyReLU"}


class Linear:
    """SB3 schedule: ``progress_remaining`` 1 -> 0 maps ``initial`` -> ``final`` (picklable)."""

    def __init__(self, initial: float, final: float) -> None:
        self.initial, self.final = initial, final

    def __call__(self, progress_remaining: float) -> float:
        return self.final + (self.initial - self.final) * progress_remaining


def schedule(value: float | LinearSchedule | None) -> Any:
    if isinstance(value, LinearSchedule):
        return Linear(value.initial, value.final)
    return value


def setup_torch(threads: int, seed: int) -> None:
    """Same manifest and seed on CPU give the same numbers: fixed thread count, deterministic kernels."""
    import torch
    from stable_baselines3.common.utils import set_random_seed

    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    set_random_seed(seed)


class SB3Trainer(Trainer):
    """The ``sb3`` trainer component."""

    def __init__(self, params: SB3Params) -> None:
        self.params = params

    # -- environments --------------------------------------------------------------------------------
    def codec_for(self, experiment: Any) -> ActionCodec:
        space = experiment.make_env("validation" if "validation" in experiment.splits else "train").action_space
        p = self.params
        mode = "env.actions.mode" if experiment.config.type == "portfolio" else "env.action_mode"
        if p.algo in CONTINUOUS_ONLY and not isinstance(space, gym.spaces.Box):
            raise TradecoreError(
                f"trainer.params.algo: {p.algo} needs continuous actions; set {mode} "
                'to "continuous" or use PPO, A2C, DQN or MaskablePPO'
            )
        if p.algo == "MaskablePPO" and not isinstance(space, (gym.spaces.Dict, gym.spaces.MultiDiscrete)):
            raise TradecoreError(
                f"trainer.params.algo: MaskablePPO needs discrete action heads; set {mode} "
                'to "discrete" or use PPO/SAC/TD3'
            )
        return ActionCodec(space, p.algo)

    def make_train_env(self, experiment: Any, codec: ActionCodec, seed: int) -> Any:
        from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecMonitor

        p = self.params
        if p.vec_env == "batched":
            from tradecore_sb3.vec import GymnasiumVecEnv

            venv: Any = GymnasiumVecEnv(experiment.make_vec_env("train", p.n_envs, seed=seed), codec)
        else:
            factories = [_EnvFactory(experiment, codec) for _ in range(p.n_envs)]
            venv = DummyVecEnv(factories) if p.vec_env == "dummy" else SubprocVecEnv(factories, start_method="spawn")
        return VecMonitor(venv)

    # -- training ------------------------------------------------------------------------------------
    def train(self, experiment: Any, ctx: RunContext, *, resume: bool = False) -> TrainResult:
        from tradecore_sb3.callbacks import TrainingState, save_model_and_stats

        p = self.params
        if ctx.run_dir is None:
            raise TradecoreError("the sb3 trainer needs a run folder (RunContext.run_dir)")
        run_dir = Path(ctx.run_dir)
        seed = p.seed if p.seed is not None else ctx.seed
        setup_torch(p.torch_threads, seed)
        device = resolve_torch_device(p.device, ctx.log)
        codec = self.codec_for(experiment)
        checkpoint = self._checkpoint_to_resume(run_dir) if resume else None
        venv = self.make_train_env(experiment, codec, seed)
        if checkpoint is not None:
            model, venv, state = self._resume_model(run_dir, checkpoint, venv, device)
            ctx.log.info("resuming from %s at %d steps", checkpoint["model"], model.num_timesteps)
        else:
            model, venv = self._new_model(run_dir, venv, seed, device)
            state = TrainingState()
        callbacks, validation = self._callbacks(experiment, codec, run_dir, state, ctx.progress)
        self._learn(model, venv, callbacks, validation, state, run_dir, ctx.log, fresh=checkpoint is None)
        saved = save_model_and_stats(model, run_dir / MODEL_DIR / "model")
        best = (run_dir / MODEL_DIR / "best_model.zip").is_file()
        return TrainResult(
            algo=p.algo,
            timesteps=int(model.num_timesteps),
            evaluated_model="best_model" if best else "model",
            best_validation_return=state.best,
            best_step=state.best_step,
            stopped_early=state.stopped_early,
            resumed=checkpoint is not None,
            seed=seed,
            extra={
                "device": device,
                "n_envs": p.n_envs,
                "vec_env": p.vec_env,
                "model": f"{MODEL_DIR}/{saved['model']}",
            },
        )

    def _checkpoint_to_resume(self, run_dir: Path) -> dict[str, Any]:
        from tradecore_sb3.callbacks import latest_checkpoint

        checkpoint = latest_checkpoint(run_dir)
        if checkpoint is None:
            raise TradecoreError(
                f"{run_dir} has no checkpoint to resume from (checkpoints/latest.json); start a new run instead"
            )
        return checkpoint

    def _resume_model(
        self, run_dir: Path, checkpoint: dict[str, Any], venv: Any, device: str
    ) -> tuple[Any, Any, TrainingState]:
        """The checkpointed model, its observation statistics and training state; returns (model, venv, state)."""
        from stable_baselines3.common.vec_env import VecNormalize

        from tradecore_sb3.callbacks import TrainingState

        ckpt_dir = run_dir / "checkpoints"
        if checkpoint.get("vecnormalize"):
            venv = VecNormalize.load(str(ckpt_dir / checkpoint["vecnormalize"]), venv)
            venv.training = True
        model = algo_class(self.params.algo).load(
            ckpt_dir / checkpoint["model"],
            env=venv,
            device=device,
            custom_objects={"tensorboard_log": self._tensorboard_dir(run_dir)},
        )
        return model, venv, TrainingState(**checkpoint.get("state", {}))

    def _new_model(self, run_dir: Path, venv: Any, seed: int, device: str) -> tuple[Any, Any]:
        """A fresh model on ``venv`` (wrapped in VecNormalize when asked); returns (model, venv)."""
        from stable_baselines3.common.vec_env import VecNormalize

        p = self.params
        if p.vec_normalize.enabled:
            vn = p.vec_normalize
            venv = VecNormalize(
                venv,
                norm_obs=vn.norm_obs,
                norm_reward=vn.norm_reward,
                clip_obs=vn.clip_obs,
                clip_reward=vn.clip_reward,
                gamma=p.gamma if p.gamma is not None else 0.99,
            )
        model = algo_class(p.algo)(
            self.policy_name(venv),
            venv,
            seed=seed,
            device=device,
            verbose=0,
            tensorboard_log=self._tensorboard_dir(run_dir),
            policy_kwargs=self.policy_kwargs(),
            **self.algo_kwargs(),
        )
        return model, venv

    def _tensorboard_dir(self, run_dir: Path) -> str | None:
        return str(run_dir / "tensorboard") if self.params.tensorboard else None

    def _callbacks(
        self, experiment: Any, codec: ActionCodec, run_dir: Path, state: TrainingState, progress: bool
    ) -> tuple[list[Any], ValidationCallback | None]:
        """Progress, validation (with early stopping) and checkpoint callbacks; returns (callbacks, validation)."""
        from tradecore_sb3.callbacks import ProgressCallback, ResumableCheckpoint, ValidationCallback

        p = self.params
        callbacks: list[Any] = [ProgressCallback(p.total_timesteps, state, progress)]
        validation = None
        if p.eval_freq and "validation" in experiment.splits and len(experiment.splits["validation"]) > 1:
            validation = ValidationCallback(
                self._scorer(experiment, codec),
                p.eval_freq,
                run_dir / MODEL_DIR,
                run_dir / "training.csv",
                state,
                p.early_stopping_patience,
            )
            callbacks.append(validation)
        if p.checkpoint_freq:
            callbacks.append(ResumableCheckpoint(p.checkpoint_freq, run_dir, state))
        return callbacks, validation

    def _learn(
        self,
        model: Any,
        venv: Any,
        callbacks: list[Any],
        validation: ValidationCallback | None,
        state: TrainingState,
        run_dir: Path,
        log: logging.Logger,
        *,
        fresh: bool,
    ) -> None:
        """Train up to ``total_timesteps``, then score the final weights; Ctrl-C saves a checkpoint and re-raises."""
        from stable_baselines3.common.callbacks import CallbackList

        from tradecore_sb3.callbacks import InterruptGuard, StopOnInterrupt, save_checkpoint

        remaining = max(0, self.params.total_timesteps - model.num_timesteps)
        guard = InterruptGuard()
        callbacks = [*callbacks, StopOnInterrupt(guard)]
        try:
            if remaining:
                with guard:
                    model.learn(
                        total_timesteps=remaining,
                        callback=CallbackList(callbacks),
                        reset_num_timesteps=fresh,
                        tb_log_name="sb3",
                    )
            if guard.requested:
                raise KeyboardInterrupt  # learn() stopped cleanly at a step: checkpoint below
            if validation is not None and not state.stopped_early and state.best_step != model.num_timesteps:
                validation.init_callback(model)
                validation.evaluate()  # score the final weights too, so "best" covers the whole run
        except KeyboardInterrupt:
            path = save_checkpoint(model, run_dir, state, "interrupted")
            log.warning("training interrupted at %d steps; checkpoint %s", model.num_timesteps, path)
            raise
        finally:
            venv.close()

    def _scorer(self, experiment: Any, codec: ActionCodec) -> Any:
        from tradecore.api import rollout

        algo = self.params.algo

        def score(model: Any) -> float:
            policy = SB3Policy(model, algo, codec, model.get_vec_normalize_env())
            result = rollout(experiment, "validation", policy, record=False)
            return result.total_return

        return score

    # -- SB3 arguments -------------------------------------------------------------------------------
    def policy_name(self, venv: Any) -> str:
        p = self.params
        if p.policy != "auto":
            return p.policy
        dict_obs = isinstance(venv.observation_space, gym.spaces.Dict)
        if p.algo == "RecurrentPPO":
            return "MultiInputLstmPolicy" if dict_obs else "MlpLstmPolicy"
        return "MultiInputPolicy" if dict_obs else "MlpPolicy"

    def policy_kwargs(self) -> dict[str, Any]:
        import torch

        p = self.params
        kwargs: dict[str, Any] = {}
        if isinstance(p.net_arch, NetArch):
            critic = "qf" if p.algo in ("SAC", "TD3") else "vf"
            kwargs["net_arch"] = {"pi": list(p.net_arch.pi), critic: list(p.net_arch.vf)}
        elif p.net_arch is not None:
            kwargs["net_arch"] = list(p.net_arch)
        if p.activation_fn is not None:
            kwargs["activation_fn"] = getattr(torch.nn, ACTIVATIONS[p.activation_fn])
        if p.lstm_hidden_size is not None:
            kwargs["lstm_hidden_size"] = p.lstm_hidden_size
        return kwargs

    def algo_kwargs(self) -> dict[str, Any]:
        p = self.params
        kwargs = p.algo_kwargs()
        if p.learning_rate is not None:
            kwargs["learning_rate"] = schedule(p.learning_rate)
        if p.clip_range is not None:
            kwargs["clip_range"] = schedule(p.clip_range)
        return kwargs

    # -- evaluation ----------------------------------------------------------------------------------
    def load_policy(self, run_dir: Path, experiment: Any, which: str = "best_model") -> SB3Policy:
        """The saved policy of a run (``best_model`` or ``model``), checked against ``experiment``'s env."""
        model_dir = Path(run_dir) / MODEL_DIR
        path = model_dir / f"{which}.zip"
        if not path.is_file():
            path = model_dir / "model.zip"
        env = experiment.make_env(next(iter(experiment.splits)))
        return load_policy(
            path,
            self.params.algo,
            env.observation_space,
            env.action_space,
            path.with_name(path.stem + ".vecnormalize.pkl"),
        )

    def load_policy_file(self, model_path: Path, experiment: Any) -> SB3Policy:
        """A policy from an explicit model file (the caller has established that it is trusted)."""
        env = experiment.make_env(next(iter(experiment.splits)))
        return load_policy(
            Path(model_path),
            self.params.algo,
            env.observation_space,
            env.action_space,
            Path(model_path).with_name(Path(model_path).stem + ".vecnormalize.pkl"),
        )


class _EnvFactory:
    """Picklable env constructor for SB3's Dummy/Subproc vector envs."""

    def __init__(self, experiment: Any, codec: ActionCodec) -> None:
        self.experiment = experiment
        self.codec = codec

    def __call__(self) -> gym.Env:
        import multiprocessing
        import signal

        from tradecore_sb3.vec import CodecActions

        if multiprocessing.parent_process() is not None:
            # a Subproc worker: Ctrl-C goes to the whole process group; the parent stops training and
            # checkpoints, which needs its workers alive
            signal.signal(signal.SIGINT, signal.SIG_IGN)

        return CodecActions(self.experiment.make_env("train"), self.codec)
