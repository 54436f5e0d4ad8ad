"""This project's own research on the template: the experiment drivers and the reports
they write (docs/results.md, docs/benchmark.md). They import the template; nothing in
the template imports them, so a fork that wants the template alone deletes this folder
(see the README, "Start your own project").

- :mod:`.paper`: GP against LP across λ, critic-only (the paper's measurement), and the
  page docs/results.md;
- :mod:`.convergence`: GP, LP and weight clipping in full GAN training, run to convergence;
- :mod:`.benchmark`: every regularizer of ``conf/regularizers/`` against an exact W1.

Each keeps its runs as one table (:class:`lightning_wgan.sweep.RunTable`) under
``docs/results/``; the runs' directories (checkpoints, logs) stay on the machine under
``runs/experiments/``.
"""
