"""This project's own research on the template: the experiment drivers and the reports
they write (docs/results.md, docs/benchmark.md). They import the template; nothing in
the template imports them, so a fork that wants the template alone deletes this folder
(see the README, "Start your own project").

GAN training, docs/results.md:

- :mod:`.paper`: GP against LP across λ, critic-only (the paper's measurement), and the
  page docs/results.md;
- :mod:`.convergence`: every regularizer in full GAN training, run to convergence;
- :mod:`.digits`: every regularizer as a GAN on the digits images, by classifier FID;
- :mod:`.crosstable`: critic fidelity on the funnel pairs against generator quality.

The W1 benchmark, docs/benchmark.md (each driver fills its block of that page):

- :mod:`.funnels`: the published funnel pairs under the published protocol;
- :mod:`.family`: every regularizer on them under one protocol, λ chosen on pairs of our own;
- :mod:`.strongest`: the strongest critic we can train, against the best published;
- :mod:`.images`: every regularizer on the digits funnel pair, real images in 256 dimensions;
- :mod:`.benchmark`: every regularizer on the easy tasks (translation, scaling, 1-D).

Each keeps its runs as one table (:class:`lightning_wgan.sweep.RunTable`) under
``docs/results/``; the runs' directories (checkpoints, logs) stay on the machine under
``runs/experiments/``. ``python -m lightning_wgan.experiments`` says where each grid
stands and what continues it.
"""
