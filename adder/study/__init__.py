"""Studies: a study file (``configs/studies/*.yaml``) run as an Optuna study.

``spec`` reads study files (typed by ``schema``), ``runs`` trains and tests one trial through
``adder.training.fit`` and ``test``, ``queue`` hands trials to workers through an Optuna storage,
``report`` writes the markdown report and plots from that storage.
"""
