"""Train a Wasserstein GAN. `python train.py` trains the default (conf/default.yaml).

    python train.py                                   # WGAN-LP on 8gaussians, CPU
    python train.py --config conf/toy/25gaussians_gp.yaml --model.penalty.weight 1
    python train.py --trainer.devices 4               # same, on 4 GPUs
    python train.py --help                            # every option
"""

from lightning_wgan.cli import WGANCLI


def main(args: list[str] | None = None) -> None:
    WGANCLI(args=args)


if __name__ == "__main__":
    main()
