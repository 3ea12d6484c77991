"""Studies: a study file (``configs/studies/*.yaml``) run as an Optuna study.

``spec`` reads study files, ``runs`` trains and tests one trial, ``queue`` hands trials to workers
through an Optuna storage, ``report`` writes the markdown report and plots from that storage.
"""
