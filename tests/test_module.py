"""The training loop: n_critic critic steps per generator step, counted separately."""

import pytorch_lightning as pl
import torch

from lightning_wgan.data import ToyDataModule
from lightning_wgan.module import WGAN
from lightning_wgan.networks import MLPCritic, MLPGenerator
from lightning_wgan.penalties import GradientPenalty, WeightClipping


def tiny_wgan(**kwargs) -> WGAN:
    return WGAN(generator=MLPGenerator(width=16, depth=2), critic=MLPCritic(width=16, depth=2), **kwargs)


def fit(model: WGAN, max_steps: int, **trainer_kwargs) -> pl.Trainer:
    pl.seed_everything(0)
    trainer = pl.Trainer(
        max_steps=max_steps, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, limit_val_batches=0, **trainer_kwargs,
    )
    trainer.fit(model, datamodule=ToyDataModule(batch_size=32, val_size=64))
    return trainer


def test_alternation_and_counters():
    model = tiny_wgan(penalty=GradientPenalty(10.0), n_critic=3)
    seen = []
    model.generator.register_forward_hook(lambda m, i, o: seen.append((model.critic_steps, torch.is_grad_enabled())))
    trainer = fit(model, max_steps=4 * (3 + 1))
    assert (model.critic_steps, model.generator_steps) == (12, 4)
    assert trainer.global_step == 16  # Lightning counts both optimizers' steps
    # The generator is trained (a forward with grad) only after every 3rd critic step.
    assert [step for step, grad in seen if grad] == [3, 6, 9, 12]


def test_each_step_updates_only_its_own_network():
    """Around every optimizer step, the other network's parameters stay bitwise equal."""
    checks = []

    def watched(other):
        def make(params):
            opt = torch.optim.Adam(params, lr=1e-2)
            snapshot = {}
            opt.register_step_pre_hook(lambda *_: snapshot.update(before=params_of(other())))
            opt.register_step_post_hook(lambda *_: checks.append(same(snapshot["before"], params_of(other()))))
            return opt

        return make

    model = tiny_wgan(
        n_critic=2,
        penalty=GradientPenalty(10.0),
        generator_optimizer=watched(lambda: model.critic),
        critic_optimizer=watched(lambda: model.generator),
    )
    g0 = params_of(model.generator)
    fit(model, max_steps=9)  # 6 critic + 3 generator steps
    assert len(checks) == 9 and all(checks)
    assert not same(g0, params_of(model.generator))


def params_of(module):
    return [p.detach().clone() for p in module.parameters()]


def same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_weight_clipping_applied_after_every_critic_step():
    model = tiny_wgan(penalty=WeightClipping(0.02), critic_optimizer=lambda p: torch.optim.SGD(p, lr=1.0))
    fit(model, max_steps=6)
    for p in model.critic.parameters():
        assert p.abs().max() <= torch.tensor(0.02)


def test_counters_survive_a_checkpoint(tmp_path):
    model = tiny_wgan(n_critic=2)
    trainer = fit(model, max_steps=6)
    trainer.save_checkpoint(tmp_path / "c.ckpt")
    nets = {"generator": MLPGenerator(width=16, depth=2), "critic": MLPCritic(width=16, depth=2)}
    restored = WGAN.load_from_checkpoint(tmp_path / "c.ckpt", **nets)
    assert (restored.critic_steps, restored.generator_steps) == (4, 2)
