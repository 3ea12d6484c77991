"""The commands that use a trained checkpoint without Lightning (``add``, ``evaluate``) and run
studies (``sweep``); ``adder.training.cli`` holds the Lightning ones."""
